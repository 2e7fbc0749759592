/*
 * md_ini.h - the INI reader: libinih's ini_parse_stream where libinih is
 * available (Debian's libinih-dev), else snapshot/compat/ini.c, our own reader with the
 * same contract and inih's default syntax (used by the Windows build: the
 * libinih source package cannot be fetched on the build machines).
 */
#ifndef MEMDELTA_MD_INI_H
#define MEMDELTA_MD_INI_H

#ifdef HAVE_INIH
#include <ini.h>
#else
/* Like fgets: read at most @num - 1 bytes of one line into @str. */
typedef char *(*ini_reader)(char *str, int num, void *stream);
/* Called per key; returns nonzero on success, 0 to flag the line an error. */
typedef int (*ini_handler)(void *user, const char *section, const char *name, const char *value);

/* Parse the lines @reader gives: "[section]", "name = value" or
 * "name: value", ';' or '#' comments at the start of a line, ';' comments
 * after whitespace, a UTF-8 byte-order mark, continuation lines (indented,
 * after a key) passed as another call with the same name.  Returns 0, the
 * number of the first bad line (a line of none of those forms, or one the
 * handler refused; parsing goes on after it), or -2 when out of memory. */
int ini_parse_stream(ini_reader reader, void *stream, ini_handler handler, void *user);
#endif

#endif
