/*
 * sinks.h - where memdeltad's alerts go (docs/alerts.md, "Sinks"): the log,
 * always, written by the caller's thread; and, as configured, a command run
 * without a shell (fixed argv, the alert JSON on stdin; execve, or
 * CreateProcessW on Windows), an HTTP webhook (POST of the JSON with libcurl,
 * or WinHTTP; retries with exponential backoff) and syslog(3), which
 * journald also takes (the Application Event Log on Windows).  The per-OS
 * half is sinks_os.h.  Each configured sink has its
 * own worker thread and a bounded queue: when the queue is full the oldest
 * alert is dropped and counted, so a slow or hung sink never delays the
 * sampling loop that calls sinks_send(); nor does replacing the sinks on
 * SIGHUP (sinks_retire stops the old ones in the background).
 */
#ifndef MEMDELTA_SINKS_H
#define MEMDELTA_SINKS_H

#include <stdint.h>

#include "daemon/daemon_config.h"

enum sink_kind {
	SINK_EXEC = 0,
	SINK_WEBHOOK,
	SINK_SYSLOG,
	SINK_KIND_COUNT
};

struct sinks;

/* Start the sinks @k configures (copied; @k may go away).  curl_global_init
 * is called here (POSIX, when a webhook is configured): create sinks from
 * the main thread before other threads use libcurl.  Returns 0 and *out, MD_ERR_NOMEM, or MD_ERR_IO when a worker
 * thread cannot start. */
int sinks_new(const struct alert_sinks_config *k, struct sinks **out);

/* Stop the workers and free, waiting for them.  An alert being delivered
 * finishes (bounded by its sink's timeout, retries are abandoned); queued
 * ones are dropped and logged.  NULL is fine. */
void sinks_free(struct sinks *s);

/* Stop @s without waiting for it: what SIGHUP does to the sinks it
 * replaces, from the sampling thread, which a hung command or a silent
 * webhook must not hold.  Queued alerts are dropped and logged; the alert
 * in delivery finishes in the background, bounded by its sink's timeout as
 * ever (a command past exec_timeout is killed); then a thread of its own
 * frees @s.  @s must not be used after the call.  When that thread cannot
 * start, @s is freed here, waiting (logged).  NULL is fine.  Call it from
 * the thread that calls sinks_new. */
void sinks_retire(struct sinks *s);

/* How long sinks_retired_wait waits once it cut the retired sets short. */
#define SINKS_CUT_WAIT_MS 5000

/* At the daemon's stop, after sinks_retire of the current sinks: wait at
 * most @grace_ms for every retired set to finish its delivery; then cut
 * short what still runs (commands are killed at once, POSIX POSTs
 * abandoned) and wait at most SINKS_CUT_WAIT_MS more.  Returns how many
 * sets were still running at the end (0 normally; their threads end with
 * the process).  Call it from the thread that calls sinks_new: it also
 * does the OS clean-up (curl_global_cleanup) the retired sets owe. */
unsigned sinks_retired_wait(int64_t grace_ms);

/* Log @summary (warning level; info when @resolved) and queue @json for
 * every configured sink.  Never blocks on a sink.  @json and @summary are
 * copied. */
void sinks_send(struct sinks *s, const char *json, const char *summary, int resolved);

struct sink_stats {
	int configured;
	uint64_t delivered; /* the command exited 0 / the hook answered 2xx / syslog written */
	uint64_t failed;    /* given up after the timeout or the retries */
	uint64_t dropped;   /* pushed out of a full queue */
	uint64_t queued;    /* waiting now, the one in delivery included */
};

/* A snapshot of sink @kind's counters. */
void sinks_stats(struct sinks *s, enum sink_kind kind, struct sink_stats *out);

#endif
