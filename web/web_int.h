/*
 * web_int.h - what web.c (server, access checks, dispatch), api.c (the
 * JSON API v1 endpoints of docs/api.md) and metrics.c (GET /metrics) share
 * inside web/.
 */
#ifndef MEMDELTA_WEB_INT_H
#define MEMDELTA_WEB_INT_H

#include <stddef.h>
#include <stdint.h>

#include "diff/trend.h"
#include "snapshot/store.h"
#include "web/web.h"

/* One response being built: a status, a malloc'd body and its type. */
struct web_reply {
	unsigned status;
	char *body; /* malloc'd, handed to libmicrohttpd; NULL: empty */
	size_t len;
	const char *content_type; /* static */
	char disposition[96];     /* Content-Disposition, "" for none */
};

/* Query-string access, so that api.c does not see libmicrohttpd. */
struct web_query {
	const char *(*get)(void *arg, const char *name); /* NULL when absent */
	void *arg;
};

/* Set @rep to status @status and body {"error": MESSAGE}.  Returns 0, or
 * MD_ERR_NOMEM (the caller then answers with a static 500). */
int web_reply_error(struct web_reply *rep, unsigned status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* The leak detection parameters of web_config (or the defaults). */
void web_trend_params_get(const struct web *w, struct trend_params *out);

/* The daemon's figures, copied under the server's mutex. */
void web_health_get(struct web *w, struct web_health *out);
/* A copy of the runtime table (*out malloc'd, free()).  Returns 0 or MD_ERR_NOMEM. */
int web_runtime_get(struct web *w, struct web_target_runtime **out, size_t *n);

/* Serve API path @path (after "/api/v1/") or "/healthz" (@path NULL) on @st.
 * Always fills @rep (an error reply on failure).  Returns 0, or MD_ERR_NOMEM
 * when not even the error reply could be built. */
int api_dispatch(struct web *w, struct store *st, const char *path, const struct web_query *q,
                 struct web_reply *rep);

/* GET /metrics (metrics.c): the Prometheus text exposition of @st's target
 * summaries and the daemon's figures.  Fills @rep like api_dispatch. */
int web_metrics(struct web *w, struct store *st, struct web_reply *rep);

#endif
