/*
 * md_regex.h - POSIX regular expressions (regcomp/regexec/regfree with
 * REG_EXTENDED): the C library's <regex.h> where there is one, else PCRE2's
 * POSIX API (Windows: MinGW has no <regex.h>; packaging/windows/build.sh
 * cross-builds PCRE2 from Debian's source).  PCRE2 reads Perl syntax, a
 * superset of the extended syntax for the patterns targets use.
 */
#ifndef MEMDELTA_MD_REGEX_H
#define MEMDELTA_MD_REGEX_H

#ifdef HAVE_REGEX_H
#include <regex.h>
#else
#include <pcre2posix.h>
#endif

#endif
