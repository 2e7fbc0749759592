/*
 * service.h - how memdeltad's process starts: main() is per OS
 * (main_posix.c; service_windows.c, which also installs, removes and runs
 * the Windows service) and calls memdeltad_main() with the daemon's own
 * arguments.
 */
#ifndef MEMDELTA_SERVICE_H
#define MEMDELTA_SERVICE_H

/* The daemon (memdeltad.c): parse @argv, run until stopped.  Returns the
 * exit status: 0 on a clean stop, 1 when it cannot start, 2 for bad usage
 * or a bad configuration. */
int memdeltad_main(int argc, char **argv);

#endif
