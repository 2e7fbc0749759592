/*
 * web.c - memdeltad's HTTP server (web.h): libmicrohttpd with an internal
 * thread pool, the access checks every request passes (Host allowlist ->
 * 421, Origin -> 403, GET/HEAD only -> 405, no request body -> 400,
 * repeated or too many query parameters -> 400, access token -> 401 for
 * the API, /healthz and /metrics), the embedded UI files, a deadline on
 * request headers (slowloris), and one read-only store handle per pool
 * thread, opened lazily, so that handlers never wait for the daemon's
 * writer.  The JSON endpoints themselves are in api.c.  Nothing here writes
 * to stderr: libmicrohttpd's messages go to the configured log callback, or
 * nowhere.
 *
 * Requests are answered in libmicrohttpd's second call of the handler, once
 * the request is complete, so that connections stay open between requests
 * (keep-alive); a request refused at its first call (the checks that need
 * only the header) is answered at once and its connection closed.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#define SHUT_RDWR SD_BOTH
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <microhttpd.h>

#include "snapshot/json.h"
#include "web/web_int.h"
#include "web/web_static.h"

#define WEB_DEFAULT_THREADS      2
#define WEB_DEFAULT_CONN_LIMIT   64
#define WEB_DEFAULT_PER_IP_LIMIT 16
#define WEB_DEFAULT_TIMEOUT_S    15
#define WEB_DEFAULT_MEMORY_LIMIT (256u * 1024u)
#define WEB_TOKEN_COOKIE         "memdelta_token"
/* No endpoint takes more than six query parameters; more is an abuse, and
 * the bound keeps the check for repeated names cheap. */
#define WEB_MAX_QUERY_PARAMS 16
/* How often the header deadline is checked. */
#define WEB_WATCH_PERIOD_MS 250

/* One allowed Host: a name ("localhost", "[::1]") and an optional port. */
struct web_host {
	char *name;
	long port; /* -1: any */
};

/* One open connection, for the header deadline: a request's header must
 * arrive in full within timeout_s of the connection opening or of the
 * previous response, else the watchdog shuts the socket down.
 * libmicrohttpd's own timeout only measures inactivity, which a client
 * sending one byte a second never reaches.  Entries live from libmicrohttpd's
 * STARTED to its CLOSED notification, which comes before it closes the
 * socket: under conn_lock, fd is always the connection's own. */
struct web_conn {
	MHD_socket fd;
	int64_t deadline_ms; /* monotonic; 0 while a request is being served */
	int shut;            /* the watchdog shut it down already */
	struct web_conn *prev, *next;
};

/* A pool thread's read-only store handle.  Registered with its server so
 * that web_stop closes it once the threads are gone. */
struct web_reader {
	struct web *w;
	struct store *st;
	struct web_reader *next;
};

struct web {
	struct MHD_Daemon *daemon;
	char *db_path;
	char *token; /* NULL: no token required */
	struct web_host *hosts;
	size_t n_hosts;
	char (*etags)[24]; /* one per embedded file */
	void (*log)(void *arg, const char *msg);
	void *log_arg;
	struct trend_params trend; /* for /trend; constant after web_start */

	pthread_mutex_t lock; /* guards what follows */
	struct web_health health;
	struct web_target_runtime *rt;
	size_t n_rt;
	struct web_reader *readers;

	/* The header deadline (struct web_conn). */
	pthread_mutex_t conn_lock; /* guards what follows */
	pthread_cond_t conn_cv;
	struct web_conn *conns;
	int64_t header_timeout_ms;
	int watch_stop;
	int watch_started;
	pthread_t watch_thread;
};

/* *req_cls of a request whose header passed the first call's checks. */
static char req_accepted;

static _Thread_local struct web_reader *tls_reader;
static _Thread_local int tls_niced;
static _Thread_local char why_buf[256];

static const char body_nomem[] = "{\"error\": \"out of memory\"}";

/* ---- small helpers ----------------------------------------------------- */

static char *
str_dup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

static void web_log(struct web *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
web_log(struct web *w, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (w->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	w->log(w->log_arg, buf);
}

/* libmicrohttpd's error messages, one line each, to the log callback. */
static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct web *w = cls;
	char buf[512];
	size_t n;

	if (w->log == NULL)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	w->log(w->log_arg, buf);
}

/* Compare two strings in time independent of where they differ. */
static int
token_equal(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b), i;
	unsigned char diff = (unsigned char)(alen != blen);

	for (i = 0; i < alen; i++)
		diff |= (unsigned char)(a[i] ^ b[i % (blen ? blen : 1)]);
	return blen > 0 && diff == 0;
}

int
web_reply_error(struct web_reply *rep, unsigned status, const char *fmt, ...)
{
	char msg[300];
	struct json_out o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(rep->body);
	memset(rep, 0, sizeof(*rep));
	json_out_init(&o, NULL, NULL);
	json_out_raw(&o, "{\"error\": ", 10);
	json_out_string(&o, msg);
	json_out_raw(&o, "}", 1);
	if (o.status != 0) {
		json_out_done(&o);
		return MD_ERR_NOMEM;
	}
	rep->status = status;
	rep->body = o.buf;
	rep->len = o.len;
	rep->content_type = "application/json";
	return 0;
}

/* ---- access checks ----------------------------------------------------- */

/* Split Host header @h into its name and port (-1 when none).  Returns 0,
 * or -1 when malformed. */
static int
host_split(const char *h, char *name, size_t size, long *port)
{
	const char *colon = NULL, *p;
	size_t n;

	*port = -1;
	if (h[0] == '[') {
		const char *close = strchr(h, ']');

		if (close == NULL)
			return -1;
		n = (size_t)(close - h) + 1;
		if (close[1] == ':')
			colon = close + 1;
		else if (close[1] != '\0')
			return -1;
	} else {
		colon = strchr(h, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return -1;
		n = colon ? (size_t)(colon - h) : strlen(h);
	}
	if (n == 0 || n >= size)
		return -1;
	memcpy(name, h, n);
	name[n] = '\0';
	if (colon != NULL) {
		long v = 0;

		if (colon[1] == '\0')
			return -1;
		for (p = colon + 1; *p; p++) {
			if (*p < '0' || *p > '9' || v > 65535)
				return -1;
			v = v * 10 + (*p - '0');
		}
		if (v > 65535)
			return -1;
		*port = v;
	}
	return 0;
}

static int
host_allowed(const struct web *w, const char *h)
{
	char name[260];
	long port;
	size_t i;

	if (h == NULL || host_split(h, name, sizeof(name), &port) != 0)
		return 0;
	for (i = 0; i < w->n_hosts; i++) {
		if (strcasecmp(w->hosts[i].name, name) == 0 &&
		    (w->hosts[i].port < 0 || w->hosts[i].port == port))
			return 1;
	}
	return 0;
}

/* The Origin header of a browser's cross-origin request: "null" or
 * SCHEME://HOST[:PORT].  Allowed when absent, or when it is http(s) and its
 * HOST[:PORT] passes the Host allowlist (the loopback names, the listen
 * address, allowed_hosts): a page of any other site gets nothing, whatever
 * its request (the responses carry no CORS header either, so a browser
 * would not hand them to such a page anyway). */
static int
origin_allowed(const struct web *w, const char *origin)
{
	const char *host;

	if (origin == NULL)
		return 1;
	if (strncasecmp(origin, "http://", 7) == 0)
		host = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		host = origin + 8;
	else
		return 0; /* "null" (sandboxed pages, file:) or malformed */
	return host[0] != '\0' && strpbrk(host, "/?#@") == NULL && host_allowed(w, host);
}

/* libmicrohttpd's header iterator for request_framing_error. */
struct framing {
	unsigned content_length; /* Content-Length headers */
	int nonzero_length;      /* one of them is not "0" */
	int transfer_encoding;   /* a Transfer-Encoding header */
};

static enum MHD_Result
framing_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		f->content_length++;
		if (value == NULL || strcmp(value, "0") != 0)
			f->nonzero_length = 1;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->transfer_encoding = 1;
	}
	return MHD_YES;
}

/* NULL when the request has no body, else why it is refused (400).  The
 * API takes no body: a duplicate Content-Length, or Content-Length together
 * with Transfer-Encoding, is what request smuggling through a proxy looks
 * like, and any body is refused before it is read. */
static const char *
request_framing_error(struct MHD_Connection *c)
{
	struct framing f = {0, 0, 0};

	MHD_get_connection_values(c, MHD_HEADER_KIND, framing_header, &f);
	if (f.content_length > 1)
		return "more than one Content-Length header";
	if (f.content_length > 0 && f.transfer_encoding)
		return "both Content-Length and Transfer-Encoding";
	if (f.transfer_encoding || f.nonzero_length)
		return "a request body is not accepted";
	return NULL;
}

/* The query parameters seen so far, for query_error. */
struct query_seen {
	const char *key[WEB_MAX_QUERY_PARAMS];
	size_t key_len[WEB_MAX_QUERY_PARAMS];
	size_t n;
	int too_many;
	const char *repeated; /* the first name given twice */
};

static enum MHD_Result
query_param(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size, const char *value,
            size_t value_size)
{
	struct query_seen *q = cls;
	size_t i;

	(void)kind;
	(void)value;
	(void)value_size;
	for (i = 0; i < q->n; i++) {
		if (q->key_len[i] == key_size && memcmp(q->key[i], key, key_size) == 0) {
			q->repeated = q->key[i];
			return MHD_NO;
		}
	}
	if (q->n == WEB_MAX_QUERY_PARAMS) {
		q->too_many = 1;
		return MHD_NO;
	}
	q->key[q->n] = key;
	q->key_len[q->n] = key_size;
	q->n++;
	return MHD_YES;
}

/* 0 when the query string is acceptable, else a 400 is queued through
 * @msg (at most @size bytes): a parameter named twice ("a=1&a=2": which
 * one would count?) or more than WEB_MAX_QUERY_PARAMS parameters. */
static int
query_error(struct MHD_Connection *c, char *msg, size_t size)
{
	struct query_seen q;

	memset(&q, 0, sizeof(q));
	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, query_param, &q);
	if (q.repeated != NULL) {
		snprintf(msg, size, "parameter %.64s is given more than once", q.repeated);
		return -1;
	}
	if (q.too_many) {
		snprintf(msg, size, "more than %d query parameters", WEB_MAX_QUERY_PARAMS);
		return -1;
	}
	return 0;
}

static int
hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* libmicrohttpd's percent-decoding of the path and of each query name and
 * value, except that an escaped control character (%00 to %1F, %7F) stays
 * as it is written: decoded, %00 would cut the string short
 * ("/index.html%00.png" would serve /index.html, "a=1%00junk" read as
 * a=1), and no path or parameter of the API has a control character.  Such
 * a path is then unknown (404) and such a parameter malformed (400). */
static size_t
unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *r = s, *wr = s;
	int hi, lo;

	(void)cls;
	(void)c;
	while (*r != '\0') {
		if (r[0] == '%' && (hi = hex_value(r[1])) >= 0 && (lo = hex_value(r[2])) >= 0 &&
		    hi * 16 + lo >= 0x20 && hi * 16 + lo != 0x7f) {
			*wr++ = (char)(hi * 16 + lo);
			r += 3;
		} else {
			*wr++ = *r++;
		}
	}
	*wr = '\0';
	return (size_t)(wr - s);
}

/* Percent-decode cookie value @v (the UI stores encodeURIComponent(token))
 * into @buf.  Returns the decoded length; @size or more when it did not fit. */
static size_t
cookie_decode(const char *v, char *buf, size_t size)
{
	size_t n = 0;
	int hi, lo;

	for (; *v; v++) {
		char ch = *v;

		if (ch == '%' && (hi = hex_value(v[1])) >= 0 && (lo = hex_value(v[2])) >= 0) {
			ch = (char)(hi * 16 + lo);
			v += 2;
		}
		if (n + 1 >= size)
			return size;
		buf[n++] = ch;
	}
	buf[n] = '\0';
	return n;
}

/* The token of the request's "Authorization: Bearer" header or cookie. */
static int
token_ok(const struct web *w, struct MHD_Connection *c)
{
	const char *auth, *cookie, *p;

	if (w->token == NULL)
		return 1;
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0) {
		for (p = auth + 7; *p == ' '; p++)
			;
		if (token_equal(p, strlen(p), w->token))
			return 1;
	}
	cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, WEB_TOKEN_COOKIE);
	if (cookie != NULL) {
		char buf[512];
		size_t n = cookie_decode(cookie, buf, sizeof(buf));

		if (n < sizeof(buf) && token_equal(buf, n, w->token))
			return 1;
	}
	return 0;
}

/* ---- thread priority --------------------------------------------------- */

/* Lower the calling thread's priority a little, once: the server's threads
 * yield the CPU to the daemon's sampler, so that a burst of requests delays
 * answers rather than snapshots (tests/test_load.sh).  Best effort. */
#ifdef _WIN32
static void
thread_yield_to_sampler(void)
{
	(void)SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_BELOW_NORMAL);
}
#else
static void
thread_yield_to_sampler(void)
{
	/* Linux: the nice value belongs to the thread (NPTL), not the process. */
	(void)!nice(5);
}
#endif

/* ---- header deadline --------------------------------------------------- */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libmicrohttpd's notification of a connection opened or closed. */
static void
conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
            enum MHD_ConnectionNotificationCode toe)
{
	struct web *w = cls;
	struct web_conn *e = *socket_context;
	const union MHD_ConnectionInfo *info;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		e = info != NULL ? calloc(1, sizeof(*e)) : NULL;
		if (e == NULL)
			return; /* no deadline: the inactivity timeout still holds */
		e->fd = info->connect_fd;
		pthread_mutex_lock(&w->conn_lock);
		e->deadline_ms = mono_ms() + w->header_timeout_ms;
		e->next = w->conns;
		if (w->conns != NULL)
			w->conns->prev = e;
		w->conns = e;
		pthread_mutex_unlock(&w->conn_lock);
		*socket_context = e;
		return;
	}
	if (e == NULL)
		return;
	pthread_mutex_lock(&w->conn_lock);
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		w->conns = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	pthread_mutex_unlock(&w->conn_lock);
	free(e);
	*socket_context = NULL;
}

/* Arm (@arm) or disarm the header deadline of @c's connection. */
static void
conn_deadline(struct web *w, struct MHD_Connection *c, int arm)
{
	const union MHD_ConnectionInfo *info;
	struct web_conn *e;

	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	e = info != NULL ? info->socket_context : NULL;
	if (e == NULL)
		return;
	pthread_mutex_lock(&w->conn_lock);
	e->deadline_ms = arm ? mono_ms() + w->header_timeout_ms : 0;
	pthread_mutex_unlock(&w->conn_lock);
}

/* A request is over (answered, or its connection failed): the next one's
 * header is due within the timeout. */
static void
request_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                  enum MHD_RequestTerminationCode toe)
{
	(void)req_cls;
	(void)toe;
	conn_deadline(cls, c, 1);
}

/* The watchdog: shuts down the sockets of connections past their header
 * deadline; libmicrohttpd then sees the connection end and closes it. */
static void *
watch_run(void *arg)
{
	struct web *w = arg;
	struct web_conn *e;
	struct timespec ts;
	int64_t now;

	pthread_mutex_lock(&w->conn_lock);
	while (!w->watch_stop) {
		now = mono_ms();
		for (e = w->conns; e != NULL; e = e->next) {
			if (e->deadline_ms != 0 && now >= e->deadline_ms && !e->shut) {
				(void)shutdown(e->fd, SHUT_RDWR);
				e->shut = 1;
			}
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += WEB_WATCH_PERIOD_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&w->conn_cv, &w->conn_lock, &ts);
	}
	pthread_mutex_unlock(&w->conn_lock);
	return NULL;
}

/* ---- store handles ----------------------------------------------------- */

/* This thread's read-only handle on @w's database, opened on first use.
 * Returns NULL (and *why) when the database cannot be opened; the next
 * request tries again. */
static struct store *
reader_get(struct web *w, const char **why)
{
	struct web_reader *r = tls_reader;
	int rc;

	*why = NULL;
	if (r == NULL || r->w != w) {
		r = calloc(1, sizeof(*r));
		if (r == NULL) {
			*why = "out of memory";
			return NULL;
		}
		r->w = w;
		pthread_mutex_lock(&w->lock);
		r->next = w->readers;
		w->readers = r;
		pthread_mutex_unlock(&w->lock);
		tls_reader = r;
	}
	if (r->st == NULL) {
		rc = store_open(w->db_path, STORE_READONLY, &r->st);
		if (rc != 0) {
			*why = store_errmsg(NULL);
			if (*why == NULL || **why == '\0')
				*why = md_strerror(rc);
			return NULL;
		}
	}
	return r->st;
}

/* ---- responses --------------------------------------------------------- */

static enum MHD_Result
queue_response(struct web *w, struct MHD_Connection *c, unsigned status, struct MHD_Response *resp,
               const char *content_type, const char *cache)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	if (content_type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Bearer realm=\"memdelta\"");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	(void)w;
	return ret;
}

/* Send @rep (its body handed to libmicrohttpd) with Cache-Control no-store. */
static enum MHD_Result
send_reply(struct web *w, struct MHD_Connection *c, struct web_reply *rep)
{
	struct MHD_Response *resp;

	if (rep->body == NULL) {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_buffer_with_free_callback(rep->len, rep->body,
		                                                          free);
		if (resp == NULL)
			free(rep->body);
	}
	rep->body = NULL;
	if (resp != NULL && rep->disposition[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
		                        rep->disposition);
	return queue_response(w, c, rep->status, resp, rep->content_type, "no-store");
}

static enum MHD_Result send_error(struct web *w, struct MHD_Connection *c, unsigned status,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result
send_error(struct web *w, struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	struct web_reply rep;
	char msg[300];
	va_list ap;

	memset(&rep, 0, sizeof(rep));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (web_reply_error(&rep, status, "%s", msg) != 0) {
		struct MHD_Response *resp = MHD_create_response_from_buffer(
		        sizeof(body_nomem) - 1, (void *)body_nomem, MHD_RESPMEM_PERSISTENT);

		return queue_response(w, c, MHD_HTTP_INTERNAL_SERVER_ERROR, resp,
		                      "application/json", "no-store");
	}
	return send_reply(w, c, &rep);
}

/* An embedded UI file: revalidated through its ETag on every use
 * ("no-cache"), so an upgraded daemon never runs with a stale app.js. */
static enum MHD_Result
send_static(struct web *w, struct MHD_Connection *c, const struct web_static_file *f)
{
	const char *etag = w->etags[f - web_static_files];
	const char *inm;
	struct MHD_Response *resp;
	unsigned status = MHD_HTTP_OK;

	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL && strstr(inm, etag) != NULL) {
		status = MHD_HTTP_NOT_MODIFIED;
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_buffer(f->len, (void *)f->data,
		                                       MHD_RESPMEM_PERSISTENT);
	}
	if (resp != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	return queue_response(w, c, status, resp, web_static_content_type(f->path), "no-cache");
}

/* ---- requests ---------------------------------------------------------- */

static const char *
query_get(void *arg, const char *name)
{
	return MHD_lookup_connection_value(arg, MHD_GET_ARGUMENT_KIND, name);
}

/* The first call for a request, its header complete: the checks that need
 * nothing else.  Returns 0 (accepted), or the result of the error reply
 * queued (libmicrohttpd then closes the connection). */
static int
request_refused(struct web *w, struct MHD_Connection *c, const char *method, enum MHD_Result *ret)
{
	const char *host, *origin, *why;

	host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN);
	if (!host_allowed(w, host))
		*ret = send_error(w, c, MHD_HTTP_MISDIRECTED_REQUEST,
		                  "host '%.200s' is not allowed (allowed_hosts)", host ? host : "");
	else if (!origin_allowed(w, origin))
		*ret = send_error(w, c, MHD_HTTP_FORBIDDEN,
		                  "origin '%.200s' is not allowed: the API is not shared with "
		                  "other sites",
		                  origin);
	else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	         strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		*ret = send_error(w, c, MHD_HTTP_METHOD_NOT_ALLOWED,
		                  "method %.40s not allowed: the API is read-only", method);
	else if ((why = request_framing_error(c)) != NULL)
		*ret = send_error(w, c, MHD_HTTP_BAD_REQUEST, "%s", why);
	else
		return 0;
	return -1;
}

static enum MHD_Result
handle_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
               const char *version, const char *upload_data, size_t *upload_data_size,
               void **req_cls)
{
	struct web *w = cls;
	const struct web_static_file *f;
	struct web_reply rep;
	struct web_query q;
	struct store *st;
	const char *why = NULL, *path = NULL;
	char msg[128];
	int healthz, metrics, rc;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	if (!tls_niced) {
		tls_niced = 1;
		thread_yield_to_sampler();
	}
	if (*req_cls == NULL) {
		/* The header is in: its deadline no longer applies. */
		conn_deadline(w, c, 0);
		if (request_refused(w, c, method, &ret) != 0)
			return ret;
		*req_cls = &req_accepted;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		/* Not reached: a body is refused at the first call. */
		*upload_data_size = 0;
		return MHD_YES;
	}

	memset(&rep, 0, sizeof(rep));
	healthz = strcmp(url, "/healthz") == 0;
	metrics = strcmp(url, "/metrics") == 0;
	if (strncmp(url, "/api/v1/", 8) == 0)
		path = url + 8;
	else if (!healthz && !metrics) {
		/* The UI itself needs no token: it asks for one on a 401.  Its
		 * files are only the embedded ones, looked up by exact name:
		 * nothing is ever read from the file system. */
		f = web_static_find(url);
		if (f == NULL)
			return send_error(w, c, MHD_HTTP_NOT_FOUND, "no such path: %.200s", url);
		return send_static(w, c, f);
	}
	if (query_error(c, msg, sizeof(msg)) != 0)
		return send_error(w, c, MHD_HTTP_BAD_REQUEST, "%s", msg);
	if (!token_ok(w, c))
		return send_error(w, c, MHD_HTTP_UNAUTHORIZED,
		                  "access token required (Authorization: Bearer TOKEN)");
	st = reader_get(w, &why);
	if (st == NULL && !healthz) {
		web_log(w, "cannot open %s read-only: %s", w->db_path, why);
		return send_error(w, c, MHD_HTTP_SERVICE_UNAVAILABLE,
		                  "cannot open the database: %s", why);
	}
	q.get = query_get;
	q.arg = c;
	rc = metrics ? web_metrics(w, st, &rep) : api_dispatch(w, st, path, &q, &rep);
	if (rc != 0) {
		free(rep.body);
		return send_error(w, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	if (rep.status == MHD_HTTP_SERVICE_UNAVAILABLE)
		web_log(w, "%s: %.*s", url, (int)rep.len, rep.body ? rep.body : "");
	return send_reply(w, c, &rep);
}

/* ---- lifecycle --------------------------------------------------------- */

static int
host_add(struct web *w, const char *spec)
{
	char name[260];
	long port;

	if (host_split(spec, name, sizeof(name), &port) != 0)
		return MD_ERR_INVAL;
	w->hosts[w->n_hosts].name = str_dup(name);
	if (w->hosts[w->n_hosts].name == NULL)
		return MD_ERR_NOMEM;
	w->hosts[w->n_hosts].port = port;
	w->n_hosts++;
	return 0;
}

/* FNV-1a of each embedded file, as its ETag. */
static int
etags_compute(struct web *w)
{
	size_t i, j;

	w->etags = calloc(web_static_count ? web_static_count : 1, sizeof(*w->etags));
	if (w->etags == NULL)
		return MD_ERR_NOMEM;
	for (i = 0; i < web_static_count; i++) {
		uint64_t h = 1469598103934665603ull;

		for (j = 0; j < web_static_files[i].len; j++) {
			h ^= web_static_files[i].data[j];
			h *= 1099511628211ull;
		}
		snprintf(w->etags[i], sizeof(w->etags[i]), "\"%016" PRIx64 "\"", h);
	}
	return 0;
}

static void
web_free(struct web *w)
{
	struct web_reader *r, *next;
	size_t i;

	if (w == NULL)
		return;
	for (r = w->readers; r != NULL; r = next) {
		next = r->next;
		store_close(r->st);
		free(r);
	}
	for (i = 0; i < w->n_hosts; i++)
		free(w->hosts[i].name);
	free(w->hosts);
	free(w->etags);
	free(w->rt);
	free(w->db_path);
	free(w->token);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->conn_lock);
	pthread_cond_destroy(&w->conn_cv);
	free(w);
}

/* Stop the header watchdog (after libmicrohttpd: no connection is left). */
static void
watch_stop(struct web *w)
{
	if (!w->watch_started)
		return;
	pthread_mutex_lock(&w->conn_lock);
	w->watch_stop = 1;
	pthread_cond_signal(&w->conn_cv);
	pthread_mutex_unlock(&w->conn_lock);
	pthread_join(w->watch_thread, NULL);
	w->watch_started = 0;
}

int
web_start(const struct web_config *cfg, struct web **out, const char **why)
{
	const char *addr;
	struct web *w = NULL;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;
	struct MHD_OptionItem ops[16];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
	unsigned threads, n_ops = 0;
	int loopback, rc = MD_ERR_NOMEM;
	uint16_t port;
	size_t i;
	char bracketed[INET6_ADDRSTRLEN + 3];

	*out = NULL;
	why_buf[0] = '\0';
	if (why != NULL)
		*why = NULL;
	if (cfg == NULL || cfg->db_path == NULL) {
		snprintf(why_buf, sizeof(why_buf), "no database path");
		rc = MD_ERR_INVAL;
		goto out;
	}
	addr = cfg->listen_addr ? cfg->listen_addr : "127.0.0.1";
	port = cfg->port ? cfg->port : WEB_DEFAULT_PORT;
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, addr, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		sa = (const struct sockaddr *)&sin;
		loopback = (ntohl(sin.sin_addr.s_addr) >> 24) == 127;
		snprintf(bracketed, sizeof(bracketed), "%s", addr);
	} else if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) == 1) {
		static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0,    0,
		                                           0, 0, 0, 0, 0xff, 0xff};

		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		sa = (const struct sockaddr *)&sin6;
		flags |= MHD_USE_IPv6;
		loopback = IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr) ||
		           (memcmp(sin6.sin6_addr.s6_addr, v4mapped, 12) == 0 &&
		            sin6.sin6_addr.s6_addr[12] == 127);
		snprintf(bracketed, sizeof(bracketed), "[%s]", addr);
	} else {
		snprintf(why_buf, sizeof(why_buf),
		         "listen address '%s' is not a numeric IPv4 or IPv6 address", addr);
		rc = MD_ERR_INVAL;
		goto out;
	}
	if (!loopback && (cfg->token == NULL || cfg->token[0] == '\0')) {
		snprintf(why_buf, sizeof(why_buf),
		         "listening on %s (not a loopback address) requires an access token "
		         "(token =)",
		         addr);
		rc = MD_ERR_INVAL;
		goto out;
	}

	w = calloc(1, sizeof(*w));
	if (w == NULL)
		goto out;
	if (pthread_mutex_init(&w->lock, NULL) != 0) {
		free(w);
		w = NULL;
		goto out;
	}
	if (pthread_mutex_init(&w->conn_lock, NULL) != 0) {
		pthread_mutex_destroy(&w->lock);
		free(w);
		w = NULL;
		goto out;
	}
	if (pthread_cond_init(&w->conn_cv, NULL) != 0) {
		pthread_mutex_destroy(&w->conn_lock);
		pthread_mutex_destroy(&w->lock);
		free(w);
		w = NULL;
		goto out;
	}
	w->health.storage_ok = 1;
	w->log = cfg->log;
	w->log_arg = cfg->log_arg;
	if (cfg->trend_params != NULL) {
		if (trend_params_check(cfg->trend_params) != 0) {
			snprintf(why_buf, sizeof(why_buf), "trend parameters out of range");
			rc = MD_ERR_INVAL;
			goto out;
		}
		w->trend = *cfg->trend_params;
	} else
		trend_params_defaults(&w->trend);
	w->db_path = str_dup(cfg->db_path);
	if (w->db_path == NULL)
		goto out;
	if (cfg->token != NULL && cfg->token[0] != '\0') {
		w->token = str_dup(cfg->token);
		if (w->token == NULL)
			goto out;
	}
	w->hosts = calloc(4 + cfg->n_allowed_hosts, sizeof(*w->hosts));
	if (w->hosts == NULL)
		goto out;
	if ((rc = host_add(w, "localhost")) != 0 || (rc = host_add(w, "127.0.0.1")) != 0 ||
	    (rc = host_add(w, "[::1]")) != 0 || (rc = host_add(w, bracketed)) != 0)
		goto out;
	for (i = 0; i < cfg->n_allowed_hosts; i++) {
		rc = host_add(w, cfg->allowed_hosts[i]);
		if (rc == MD_ERR_INVAL)
			snprintf(why_buf, sizeof(why_buf), "allowed host '%s' is malformed",
			         cfg->allowed_hosts[i]);
		if (rc != 0)
			goto out;
	}
	rc = etags_compute(w);
	if (rc != 0)
		goto out;

	threads = cfg->threads ? cfg->threads : WEB_DEFAULT_THREADS;
	w->header_timeout_ms =
	        1000 * (int64_t)(cfg->timeout_s ? cfg->timeout_s : WEB_DEFAULT_TIMEOUT_S);
	ops[n_ops++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)sa};
	ops[n_ops++] = (struct MHD_OptionItem){
	        MHD_OPTION_CONNECTION_LIMIT,
	        cfg->connection_limit ? cfg->connection_limit : WEB_DEFAULT_CONN_LIMIT, NULL};
	ops[n_ops++] = (struct MHD_OptionItem){
	        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	        cfg->per_ip_limit ? cfg->per_ip_limit : WEB_DEFAULT_PER_IP_LIMIT, NULL};
	ops[n_ops++] = (struct MHD_OptionItem){
	        MHD_OPTION_CONNECTION_TIMEOUT,
	        cfg->timeout_s ? cfg->timeout_s : WEB_DEFAULT_TIMEOUT_S, NULL};
	ops[n_ops++] = (struct MHD_OptionItem){
	        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	        (intptr_t)(cfg->memory_limit ? cfg->memory_limit : WEB_DEFAULT_MEMORY_LIMIT), NULL};
	if (threads > 1)
		ops[n_ops++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
	ops[n_ops++] =
	        (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)conn_notify, w};
	ops[n_ops++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED,
	                                       (intptr_t)request_completed, w};
	ops[n_ops++] = (struct MHD_OptionItem){MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, w};
	if (w->log != NULL) {
		flags |= MHD_USE_ERROR_LOG;
		ops[n_ops++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER,
		                                       (intptr_t)mhd_logger, w};
	}
	ops[n_ops++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

	if (pthread_create(&w->watch_thread, NULL, watch_run, w) != 0) {
		snprintf(why_buf, sizeof(why_buf), "cannot start a thread");
		rc = MD_ERR_NOMEM;
		goto out;
	}
	w->watch_started = 1;
	w->daemon = MHD_start_daemon(flags, port, NULL, NULL, handle_request, w, MHD_OPTION_ARRAY,
	                             ops, MHD_OPTION_END);
	if (w->daemon == NULL) {
		snprintf(why_buf, sizeof(why_buf),
		         "cannot listen on %s port %u (in use, or not an address of this host?)",
		         bracketed, (unsigned)port);
		rc = MD_ERR_IO;
		goto out;
	}
	*out = w;
	w = NULL;
	rc = 0;
out:
	if (w != NULL)
		watch_stop(w);
	web_free(w);
	if (rc != 0 && why != NULL)
		*why = why_buf[0] ? why_buf : md_strerror(rc);
	return rc;
}

void
web_stop(struct web *w)
{
	if (w == NULL)
		return;
	if (w->daemon != NULL)
		MHD_stop_daemon(w->daemon);
	watch_stop(w);
	web_free(w);
}

uint16_t
web_port(const struct web *w)
{
	const union MHD_DaemonInfo *info;

	if (w == NULL || w->daemon == NULL)
		return 0;
	info = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_BIND_PORT);
	return info ? info->port : 0;
}

void
web_set_health(struct web *w, const struct web_health *h)
{
	pthread_mutex_lock(&w->lock);
	w->health = *h;
	w->health.storage_error[sizeof(w->health.storage_error) - 1] = '\0';
	pthread_mutex_unlock(&w->lock);
}

void
web_trend_params_get(const struct web *w, struct trend_params *out)
{
	*out = w->trend;
}

void
web_health_get(struct web *w, struct web_health *out)
{
	pthread_mutex_lock(&w->lock);
	*out = w->health;
	pthread_mutex_unlock(&w->lock);
}

void
web_set_targets_runtime(struct web *w, const struct web_target_runtime *rt, size_t n)
{
	struct web_target_runtime *copy = NULL;

	if (n > 0) {
		copy = calloc(n, sizeof(*copy));
		if (copy == NULL)
			return; /* keep the previous table */
		memcpy(copy, rt, n * sizeof(*copy));
	}
	pthread_mutex_lock(&w->lock);
	free(w->rt);
	w->rt = copy;
	w->n_rt = n;
	pthread_mutex_unlock(&w->lock);
}

int
web_runtime_get(struct web *w, struct web_target_runtime **out, size_t *n)
{
	int rc = 0;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&w->lock);
	if (w->n_rt > 0) {
		*out = calloc(w->n_rt, sizeof(**out));
		if (*out == NULL)
			rc = MD_ERR_NOMEM;
		else {
			memcpy(*out, w->rt, w->n_rt * sizeof(**out));
			*n = w->n_rt;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return rc;
}
