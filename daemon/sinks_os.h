/*
 * sinks_os.h - the per-OS half of the alert sinks (sinks.c keeps the queues,
 * the workers, the counters and the webhook's retries): run one command,
 * make one HTTP POST, write one system-log record, and the clock the workers
 * wait on.  One implementation per OS, chosen by configure: sinks_posix.c
 * (posix_spawn, libcurl, syslog) and sinks_windows.c (CreateProcessW in a
 * Job object, WinHTTP, the Application Event Log).  Every function is called
 * from a sink's worker thread except init/cleanup and the cond setup.
 */
#ifndef MEMDELTA_SINKS_OS_H
#define MEMDELTA_SINKS_OS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Once per struct sinks, from the thread that creates it: @http when a
 * webhook is configured (libcurl's global init), @syslog when the syslog
 * sink is (the Windows event source).  Returns 0 or MD_ERR_NOMEM. */
int sinks_os_init(int http, int syslog);
/* Undo sinks_os_init with the same arguments, after the workers stopped. */
void sinks_os_cleanup(int http, int syslog);

/* Initialise @cv on the clock sinks_os_deadline counts in: CLOCK_MONOTONIC
 * on POSIX; the realtime clock on Windows, the only one winpthreads'
 * pthread_cond_timedwait honours. */
void sinks_os_cond_init(pthread_cond_t *cv);
/* The absolute time @ms from now for pthread_cond_timedwait on such a cv. */
void sinks_os_deadline(int64_t ms, struct timespec *ts);
/* Milliseconds of a monotonic clock (deadlines of delivery). */
int64_t sinks_os_now_ms(void);

/* At the start of each worker thread (POSIX: block SIGPIPE, so that a
 * command that closes its stdin or a peer that hangs up is an error to
 * handle, whatever the process does with the signal). */
void sinks_os_worker_init(void);

/* Run @argv[0] (an absolute path) with @argv (NULL-terminated; no shell),
 * @json and a newline on its stdin, its stdout (Windows: and stderr) on the
 * null device.  The input is written without blocking past @timeout_s; when
 * the command has not exited @timeout_s after its start, or as soon as
 * *@cut becomes non-zero (the daemon stops: sinks_retired_wait; NULL: never),
 * it and whatever it started are killed (POSIX: its process group; Windows:
 * its Job object).  Returns 1 when it exited with status 0, else 0 with the
 * reason logged. */
int sinks_os_exec(char *const argv[], const char *json, unsigned timeout_s, const atomic_int *cut);

/* One POST of @body (@len bytes; Content-Type: application/json, User-Agent
 * memdeltad/VERSION) to the http:// or https:// @url, at most @timeout_s
 * (Windows: per phase of the exchange), redirects not followed; POSIX:
 * abandoned as soon as *@cut becomes non-zero (NULL: never; WinHTTP's
 * synchronous calls are bounded by the timeout alone).  Returns 1 on a 2xx
 * answer, else 0 with a reason in @why. */
int sinks_os_http_post(const char *url, const char *body, size_t len, unsigned timeout_s,
                       const atomic_int *cut, char *why, size_t whylen);

/* One record in the system log: syslog(3), facility daemon, priority
 * warning (notice when @resolved); Windows: the Application Event Log,
 * source memdeltad, warning (information when @resolved). */
void sinks_os_syslog(int resolved, const char *summary, const char *json);

#endif
