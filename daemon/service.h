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

/* 1 when the Windows service controller started this process (its stderr
 * then leads nowhere: memdeltad logs to the Event Log unless log= says
 * otherwise), else 0.  Always 0 on POSIX systems: under systemd stderr is
 * the journal, and the classic detach switches to syslog by itself. */
int service_controlled(void);

#endif
