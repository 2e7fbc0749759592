/*
 * sinks_cmdline.h - the Windows command line of an argv vector.  Windows
 * hands a program one string; the C runtime (MSVCRT, UCRT: the same rules)
 * splits it into argv.  sinks_windows.c builds that string so the command
 * sink's program sees exactly the configured arguments.  Pure string work,
 * built and unit-tested on every platform (tests/check_sinks.c).
 */
#ifndef MEMDELTA_SINKS_CMDLINE_H
#define MEMDELTA_SINKS_CMDLINE_H

/* The command line whose parse by the C runtime gives back @argv (NULL-
 * terminated, argv[0] the program), arguments separated by one space.
 * argv[0] is parsed by its own rule (up to the next quote, no escapes): it
 * is quoted when it holds a blank and may not hold a quote.  Every other
 * argument is left bare when it is not empty and holds no blank or quote;
 * otherwise it is quoted, a quote in it becomes \" and the backslashes just
 * before a quote or before the closing quote are doubled.
 * Returns 0 and a malloc'd *out, MD_ERR_INVAL (a quote in argv[0], or no
 * argv[0]) or MD_ERR_NOMEM; *out is NULL on error. */
int sinks_cmdline_build(const char *const argv[], char **out);

#endif
