/*
 * web.c - memdeltad's HTTP server (web.h): libmicrohttpd with an internal
 * thread pool, the access checks every request passes (Host allowlist ->
 * 421, GET/HEAD only -> 405, access token -> 401 for the API, /healthz and
 * /metrics), the embedded UI files,
 * and one read-only store handle per pool thread, opened lazily, so that
 * handlers never wait for the daemon's writer.  The JSON endpoints
 * themselves are in api.c.  Nothing here writes to stderr: libmicrohttpd's
 * messages go to the configured log callback, or nowhere.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
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

/* One allowed Host: a name ("localhost", "[::1]") and an optional port. */
struct web_host {
	char *name;
	long port; /* -1: any */
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
};

static _Thread_local struct web_reader *tls_reader;
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
	const char *why = NULL, *path = NULL, *host;
	int healthz, metrics, rc;

	memset(&rep, 0, sizeof(rep));
	host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	if (!host_allowed(w, host))
		return send_error(w, c, MHD_HTTP_MISDIRECTED_REQUEST,
		                  "host '%s' is not allowed (allowed_hosts)", host ? host : "");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return send_error(w, c, MHD_HTTP_METHOD_NOT_ALLOWED,
		                  "method %s not allowed: the API is read-only", method);

	healthz = strcmp(url, "/healthz") == 0;
	metrics = strcmp(url, "/metrics") == 0;
	if (strncmp(url, "/api/v1/", 8) == 0)
		path = url + 8;
	else if (!healthz && !metrics) {
		/* The UI itself needs no token: it asks for one on a 401. */
		f = web_static_find(url);
		if (f == NULL)
			return send_error(w, c, MHD_HTTP_NOT_FOUND, "no such path: %s", url);
		return send_static(w, c, f);
	}
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
	free(w);
}

int
web_start(const struct web_config *cfg, struct web **out, const char **why)
{
	const char *addr;
	struct web *w = NULL;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;
	struct MHD_OptionItem ops[12];
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
	if (w->log != NULL) {
		flags |= MHD_USE_ERROR_LOG;
		ops[n_ops++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER,
		                                       (intptr_t)mhd_logger, w};
	}
	ops[n_ops++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

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
