/*
 * web.h - memdeltad's HTTP server: the JSON API v1 (docs/api.md), /healthz,
 * /metrics (Prometheus), and the static UI embedded at build time.
 *
 * libmicrohttpd with an internal thread pool.  Handlers read through
 * read-only SQLite handles (one per pool thread, opened lazily) and never
 * wait for the writer.  The API is read-only.  Security: binds 127.0.0.1 by
 * default; every request's Host header must name an allowed host (else 421),
 * and its Origin header, when present, too (else 403; no CORS header is ever
 * sent); a request body, a parameter given twice or more than 16 are a 400;
 * a request header must arrive in full within timeout_s;
 * a non-loopback listen address requires an access token (web_start refuses
 * to start without one), and then every request must carry it
 * ("Authorization: Bearer TOKEN", or the cookie the UI's login sets).
 * Nothing here touches /proc or the Win32 memory API.
 */
#ifndef MEMDELTA_WEB_H
#define MEMDELTA_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "diff/trend.h"

/* The documented default port of the UI. */
#define WEB_DEFAULT_PORT 7373

struct web_config {
	const char *listen_addr; /* numeric IPv4 or IPv6 address; "127.0.0.1" when NULL */
	uint16_t port;           /* 0: WEB_DEFAULT_PORT; tests pass a free ephemeral port */
	const char *db_path;     /* the database the daemon writes */
	const char *token;       /* access token; required when listen_addr is not loopback */
	/* Extra Host names allowed besides localhost, 127.0.0.1, [::1] and the
	 * listen address itself (each may carry ":port"). */
	const char *const *allowed_hosts;
	size_t n_allowed_hosts;
	unsigned threads;          /* pool size; 0: 2 */
	unsigned connection_limit; /* 0: 64 */
	unsigned per_ip_limit;     /* 0: 16 */
	unsigned timeout_s;        /* idle connections, and the deadline of a request's
	                            * header (from the connection's start or the
	                            * previous answer); 0: 15 */
	size_t memory_limit;       /* per connection, bytes; 0: 256 KiB */
	/* Optional sink for libmicrohttpd's errors and for requests that fail
	 * on the database (one line, no newline); web/ never writes to stderr
	 * itself.  Called from the server's threads. */
	void (*log)(void *arg, const char *msg);
	void *log_arg;
	/* The leak detection parameters GET /api/v1/targets/{id}/trend fits
	 * with (copied by web_start); NULL: trend_params_defaults(). */
	const struct trend_params *trend_params;
};

/* What the daemon tells the server about itself, for /healthz and the UI.
 * Copied under a mutex by web_set_health. */
struct web_health {
	int storage_ok;          /* 0 when writes fail (disk full, locked, ...) */
	char storage_error[160]; /* why, when !storage_ok */
	uint64_t snapshots_written;
	uint64_t snapshots_dropped; /* puts that failed (storage full, locked, ...) */
	uint64_t ticks_missed;      /* all targets */
	int64_t last_snapshot_ms;
	int64_t started_ms;
	unsigned targets; /* targets being watched now */
};

/* Per-target scheduler figures shown by /api/v1/targets. */
struct web_target_runtime {
	int64_t target_id;
	uint64_t ticks;
	uint64_t ticks_missed;
	uint64_t last_cost_ns; /* collect + store of the last tick */
	unsigned interval_s;
	int watching; /* 1 while a live process matches the target */
	/* Leak detection (issue 4), filled by the daemon's alert engine for
	 * the target's newest instance and its main series: */
	int trend_ok;                   /* 1 when the last evaluation could fit a trend */
	double trend_slope_bytes_per_h; /* Theil-Sen slope of that fit (0 when !trend_ok) */
	int alert_state;                /* -1: no open alert; else the enum alert_state
	                                 * (store.h) of the target's most severe open alert */
	uint64_t regions;               /* region count of the last snapshot */
	uint64_t full_reads;            /* ticks that read the whole region list (smaps) */
	uint64_t probe_hits; /* ticks whose cheap probe matched: last snapshot stored again */
	int trend_touched;   /* the trend's series is private_touched ([alerts] series =
	                      * private_touched), else private_committed */
	/* The alert engine's own last fit of that series, which
	 * GET /api/v1/targets/{id}/trend reports and the UI draws (a refit
	 * with other parameters or at another time would draw another line): */
	int trend_params_set;                 /* 1: trend_params holds the target's parameters */
	struct trend_params trend_params;     /* the target's effective ones (its [target]
	                                       * keys over [alerts], as of the last snapshot) */
	int64_t trend_instance_id;            /* the fitted instance; 0: no evaluation yet (or
	                                       * alerts = off): the rest of the fit is unset */
	int64_t trend_instance_start_ms;      /* its start (the warm-up counts from there) */
	int64_t trend_eval_ms;                /* the evaluation's "now": its snapshot's time */
	uint64_t trend_samples;               /* points the engine passed to the fit */
	int trend_fit_touched;                /* its series: 1 private_touched, 0 private_committed
	                                       * (differs from trend_touched for one evaluation
	                                       * after a reload switched the series) */
	struct trend_params trend_fit_params; /* the parameters of that evaluation */
	struct trend_fit trend_fit;           /* its result (trend_fit.ok 0: too little data) */
};

struct web;

/* Start the server.  Returns 0 and *out, or MD_ERR_INVAL (bad address, a
 * non-loopback address without a token, trend parameters that
 * trend_params_check refuses: *why says so), MD_ERR_IO (cannot
 * bind: port in use ...), MD_ERR_NOMEM.  @why (may be NULL) receives a static
 * or internal message for the log. */
int web_start(const struct web_config *cfg, struct web **out, const char **why);
/* Stop and free; NULL is fine. */
void web_stop(struct web *w);
/* The port actually bound (useful with an ephemeral port). */
uint16_t web_port(const struct web *w);

void web_set_health(struct web *w, const struct web_health *h);
/* Replace the table of per-target runtime figures (copied). */
void web_set_targets_runtime(struct web *w, const struct web_target_runtime *rt, size_t n);

#endif
