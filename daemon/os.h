/*
 * os.h - the small operating-system contract of the programs in daemon/: the
 * stop and reload requests the scheduler waits for (signals on POSIX; the
 * console's Ctrl-C and the service controller on Windows), the system log
 * (syslog; the Windows Event Log), paths and directories, detaching, the
 * process list the targets are matched against (/proc; Toolhelp32) and the
 * environment the default state directory comes from.  One implementation
 * per OS: os_posix.c and os_windows.c, chosen by configure.  Nothing else in
 * daemon/ or web/ calls an OS-specific API.
 */
#ifndef MEMDELTA_OS_H
#define MEMDELTA_OS_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/log.h"

enum os_event { OS_EVENT_TIMEOUT = 0, OS_EVENT_STOP, OS_EVENT_RELOAD };

/* Prepare the stop and reload requests; call once, before any thread starts.
 * POSIX: SIGTERM, SIGINT and SIGHUP are blocked in every thread (taken only
 * by os_event_wait) and SIGPIPE is ignored.  Windows: Ctrl-C, Ctrl-Break and
 * closing the console request a stop.  Returns 0 or MD_ERR_IO. */
int os_events_init(void);

/* Wait at most @timeout_ns for a request and consume it: OS_EVENT_STOP
 * (SIGTERM, SIGINT, Ctrl-C, the service's stop or shutdown control),
 * OS_EVENT_RELOAD (SIGHUP; none on Windows) or OS_EVENT_TIMEOUT. */
enum os_event os_event_wait(uint64_t timeout_ns);

/* 1 when a stop has been requested and not yet taken by os_event_wait. */
int os_stop_pending(void);

/* Request a stop from inside the process (the Windows service control
 * handler); os_event_wait returns OS_EVENT_STOP.  Async-safe. */
void os_stop_request(void);

/* The system log: syslog (facility daemon) on POSIX; the Application Event
 * Log with source @ident on Windows.  os_syslog_write sends one message. */
void os_syslog_open(const char *ident);
void os_syslog_write(enum log_level level, const char *msg);

/* 1 when @path is absolute ("/x"; Windows: "C:\x", "C:/x", "\\server\x"). */
int os_path_is_absolute(const char *path);

/* The absolute form of @path, which must exist, into @buf.  Returns 0,
 * MD_ERR_IO (errno set) or MD_ERR_INVAL when @buf is too small. */
int os_abs_path(const char *path, char *buf, size_t len);

/* Create every missing directory above the file @path (POSIX mode 0750).
 * Returns 0 or -1 with errno set. */
int os_make_parent_dirs(const char *path);

/* 1 when every local user may read @path (POSIX: the "other" read bit; on
 * Windows 0: access is by ACL, set by the installer). */
int os_world_readable(const char *path);

/* The classic daemon detach (POSIX): returns 0 in the grandchild with
 * *ready_fd to hand to os_detach_done once ready; the original process exits
 * 0 then, or 1 when the daemon dies first.  Windows has no detaching (the
 * service controller runs services): returns 0 at once with *ready_fd = -1.
 * -1 with errno on failure. */
int os_detach(int *ready_fd);
/* Point stdin/stdout/stderr at the null device and release the parent. */
void os_detach_done(int ready_fd);

/* This process's id. */
int os_getpid(void);

#endif
