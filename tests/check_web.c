/*
 * check_web.c - tests of web/ (web.h): a real server on 127.0.0.1 with a
 * free port, a real database in a scratch directory filled through the
 * store API (two targets, one restart), and requests over a real TCP socket
 * with the tiny HTTP/1.1 client below.  Bodies are checked against values
 * that come from the data: the region added between two snapshots is the
 * diff's "new" entry, the snapshot JSON is snapshot_json_write of the stored
 * snapshot plus "id" and "target", the timeline has one point per snapshot.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "daemon/cli_render.h"
#include "snapshot/json.h"
#include "snapshot/store.h"
#include "tests/testutil.h"
#include "web/web.h"

#define T0           INT64_C(1700000000000)
#define NEW_BASE     UINT64_C(0x7f0000000000)
#define NEW_SIZE     UINT64_C(0x200000)
#define DYGRAPH_JS   "/usr/share/javascript/dygraphs/dygraph.min.js"
#define TOKEN        "s3cret token/+="
#define TOKEN_COOKIE "s3cret%20token%2F%2B%3D" /* as the UI's encodeURIComponent sets it */

/* The database every test serves, built once in main(). */
static char db_path[600];
static int64_t target_java, target_other;
/* java: s[0..2] instance 1 (pid 100), s[3..4] instance 2 (pid 200);
 * other: s[5..6]. */
static int64_t sid[7];
static const int64_t stime[7] = {T0 + 1000,  T0 + 2000, T0 + 3000, T0 + 11000,
                                 T0 + 12000, T0 + 1500, T0 + 2500};

/* ---- database ---------------------------------------------------------- */

/* Setup runs in main(), outside any test: report and fail there. */
#define SETUP_OK(call)                                                                             \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_ != 0) {                                                                    \
			fprintf(stderr, "check_web: setup: %s: %s\n", #call, md_strerror(rc_));    \
			exit(EXIT_FAILURE);                                                        \
		}                                                                                  \
	} while (0)

static struct snapshot *
make_snapshot(int pid, uint64_t start_time, int64_t start_ms, int64_t time_ms, const char *name,
              int with_new, uint64_t heap_resident)
{
	struct snapshot *s = NULL;
	struct region r;

	SETUP_OK(snapshot_new(&s));
	s->pid = pid;
	s->start_time = start_time;
	s->start_time_ms = start_ms;
	s->time_ms = time_ms;
	snprintf(s->name, sizeof(s->name), "%s", name);
	SETUP_OK(snapshot_set_cmdline(s, "java -jar app.jar"));
	s->page_table_bytes = 8192;
	s->collect_ns = 1234;
	test_region(&r, 0x400000, 0x10000, REGION_IMAGE, STATE_COMMIT,
	            PROT_BIT_READ | PROT_BIT_EXEC, 0, 0x8000, "/usr/bin/java, \"quoted\"");
	SETUP_OK(snapshot_add_region(s, &r));
	test_region(&r, 0x1000000, 0x100000, REGION_HEAP, STATE_COMMIT,
	            PROT_BIT_READ | PROT_BIT_WRITE, 0x100000, heap_resident, "[heap]");
	r.private_resident = heap_resident;
	SETUP_OK(snapshot_add_region(s, &r));
	if (with_new) {
		test_region(&r, NEW_BASE, NEW_SIZE, REGION_PRIVATE, STATE_COMMIT,
		            PROT_BIT_READ | PROT_BIT_WRITE, NEW_SIZE, 0x100000, NULL);
		r.private_resident = 0x100000;
		SETUP_OK(snapshot_add_region(s, &r));
	}
	return s;
}

static void
put(struct store *st, int64_t target, struct snapshot *s, int64_t *id)
{
	SETUP_OK(store_put_snapshot(st, target, s, id));
	snapshot_free(s);
}

static void
build_db(const char *dir)
{
	struct store *st = NULL;

	snprintf(db_path, sizeof(db_path), "%s/memdelta.db", dir);
	SETUP_OK(store_open(db_path, 0, &st));
	SETUP_OK(store_target_ensure(st, "java", &target_java));
	SETUP_OK(store_target_ensure(st, "pid:42", &target_other));
	put(st, target_java, make_snapshot(100, 1000, T0, stime[0], "java", 0, 0x80000), &sid[0]);
	put(st, target_other, make_snapshot(42, 50, T0 - 5000, stime[5], "other", 0, 0x1000),
	    &sid[5]);
	put(st, target_java, make_snapshot(100, 1000, T0, stime[1], "java", 1, 0x80000), &sid[1]);
	put(st, target_other, make_snapshot(42, 50, T0 - 5000, stime[6], "other", 0, 0x2000),
	    &sid[6]);
	put(st, target_java, make_snapshot(100, 1000, T0, stime[2], "java", 1, 0xc0000), &sid[2]);
	/* The restart: a new instance of the same target. */
	put(st, target_java, make_snapshot(200, 9000, T0 + 10000, stime[3], "java", 0, 0x10000),
	    &sid[3]);
	put(st, target_java, make_snapshot(200, 9000, T0 + 10000, stime[4], "java", 1, 0x20000),
	    &sid[4]);
	store_close(st);
}

static struct snapshot *
stored(int64_t id)
{
	struct store *st = NULL;
	struct snapshot *s = NULL;

	ck_assert_int_eq(store_open(db_path, STORE_READONLY, &st), 0);
	ck_assert_int_eq(store_get_snapshot(st, id, &s), 0);
	store_close(st);
	return s;
}

/* ---- server and client ------------------------------------------------- */

/* A port that was free a moment ago. */
static uint16_t
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static struct web *
start_cfg(struct web_config *cfg)
{
	struct web *w = NULL;
	const char *why = NULL;
	int attempt, rc = MD_ERR_IO;

	for (attempt = 0; attempt < 5 && rc == MD_ERR_IO; attempt++) {
		cfg->port = free_port();
		rc = web_start(cfg, &w, &why);
	}
	ck_assert_msg(rc == 0, "web_start: %s", why ? why : "?");
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(web_port(w), cfg->port);
	return w;
}

static struct web *
start(void)
{
	struct web_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = db_path;
	return start_cfg(&cfg);
}

struct resp {
	int status;
	char *head; /* status line and headers */
	char *body;
	size_t len;
	cJSON *json; /* the body parsed, when it is JSON */
};

static void
resp_free(struct resp *r)
{
	free(r->head);
	free(r->body);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

/* Send one request (@extra: more header lines, each ending in \r\n) and read
 * the whole response (Connection: close). */
static void
request(struct web *w, const char *method, const char *path, const char *host, const char *extra,
        struct resp *out)
{
	struct sockaddr_in sin;
	char req[2048], *buf = NULL, *sep;
	size_t len = 0, cap = 0;
	ssize_t got;
	int fd, n;

	memset(out, 0, sizeof(*out));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(web_port(w));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n",
	             method, path, host ? host : "127.0.0.1", extra ? extra : "");
	ck_assert(n > 0 && (size_t)n < sizeof(req));
	ck_assert_int_eq(write(fd, req, (size_t)n), n);
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 131072;
			buf = realloc(buf, cap + 1);
			ck_assert_ptr_nonnull(buf);
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		ck_assert_int_ge(got, 0);
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	sep = strstr(buf, "\r\n\r\n");
	ck_assert_msg(sep != NULL, "no end of headers in %s", buf);
	ck_assert_int_eq(sscanf(buf, "HTTP/1.1 %d", &out->status), 1);
	out->head = strndup(buf, (size_t)(sep - buf) + 2);
	out->len = len - (size_t)(sep + 4 - buf);
	out->body = malloc(out->len + 1);
	memcpy(out->body, sep + 4, out->len);
	out->body[out->len] = '\0';
	out->json = cJSON_ParseWithLength(out->body, out->len);
	free(buf);
}

static void
get(struct web *w, const char *path, struct resp *out)
{
	request(w, "GET", path, NULL, NULL, out);
}

/* The value of header @name (static buffer), or NULL. */
static const char *
header(const struct resp *r, const char *name)
{
	static char value[256];
	const char *p = r->head;
	size_t n = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *end;

			while (*v == ' ')
				v++;
			end = strstr(v, "\r\n");
			snprintf(value, sizeof(value), "%.*s", (int)(end - v), v);
			return value;
		}
	}
	return NULL;
}

static double
num(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	ck_assert_msg(cJSON_IsNumber(it), "member %s is not a number", name);
	return it->valuedouble;
}

static const char *
str(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	ck_assert_msg(cJSON_IsString(it), "member %s is not a string", name);
	return it->valuestring;
}

static const cJSON *
arr(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	ck_assert_msg(cJSON_IsArray(it), "member %s is not an array", name);
	return it;
}

/* An error reply: status @status, JSON {"error": "..."} containing @word. */
static void
assert_error(struct web *w, const char *method, const char *path, const char *host, int status,
             const char *word)
{
	struct resp r;

	request(w, method, path, host, NULL, &r);
	ck_assert_msg(r.status == status, "%s %s: status %d, expected %d (%s)", method, path,
	              r.status, status, r.body);
	ck_assert_str_eq(header(&r, "Content-Type"), "application/json");
	ck_assert_ptr_nonnull(r.json);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
	ck_assert_msg(strstr(str(r.json, "error"), word) != NULL, "%s: error '%s' lacks '%s'", path,
	              str(r.json, "error"), word);
	resp_free(&r);
}

static char *
snapshot_csv(const struct snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(render_snapshot_csv(f, s), 0);
	fclose(f);
	return buf;
}

/* ---- web_start: the endpoints ------------------------------------------ */

START_TEST(test_web_start__targets)
{
	struct web *w = start();
	struct web_target_runtime rt = {target_java, 42, 1, 1800000, 10, 1, 7, 35};
	struct snapshot *s = stored(sid[4]);
	struct snapshot_totals t;
	const cJSON *list, *java, *other, *run;
	struct resp r;

	snapshot_totals(s, &t);
	web_set_targets_runtime(w, &rt, 1);
	get(w, "/api/v1/targets", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(header(&r, "Content-Type"), "application/json");
	ck_assert_str_eq(header(&r, "Cache-Control"), "no-store");
	list = arr(r.json, "targets");
	ck_assert_int_eq(cJSON_GetArraySize(list), 2);
	java = cJSON_GetArrayItem(list, 0);
	other = cJSON_GetArrayItem(list, 1);
	ck_assert_int_eq(num(java, "id"), target_java);
	ck_assert_str_eq(str(java, "name"), "java");
	ck_assert_int_eq(num(java, "last_snapshot"), sid[4]);
	ck_assert_int_eq(num(java, "last_time_ms"), stime[4]);
	ck_assert_int_eq(num(java, "pid"), 200);
	ck_assert_int_eq(num(java, "instances"), 2);
	ck_assert_uint_eq(num(java, "private_committed"), t.private_committed);
	ck_assert_uint_eq(num(java, "private_committed"), 0x100000 + NEW_SIZE);
	ck_assert_uint_eq(num(java, "private_touched"), t.private_touched);
	ck_assert_uint_eq(num(cJSON_GetObjectItem(java, "committed"), "private"), NEW_SIZE);
	ck_assert_uint_eq(num(cJSON_GetObjectItem(java, "resident"), "heap"), 0x20000);
	ck_assert_uint_eq(num(cJSON_GetObjectItem(java, "committed"), "page_table"), 8192);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(java, "committed")), 10);
	ck_assert_str_eq(str(java, "trend"), "none");
	run = cJSON_GetObjectItem(java, "runtime");
	ck_assert_ptr_nonnull(run);
	ck_assert_int_eq(num(run, "interval_s"), 10);
	ck_assert_int_eq(num(run, "ticks"), 42);
	ck_assert_int_eq(num(run, "ticks_missed"), 1);
	ck_assert_int_eq(num(run, "last_cost_ns"), 1800000);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(run, "watching")));
	ck_assert_str_eq(str(other, "name"), "pid:42");
	ck_assert_int_eq(num(other, "last_snapshot"), sid[6]);
	ck_assert_ptr_null(cJSON_GetObjectItem(other, "runtime"));
	resp_free(&r);
	snapshot_free(s);
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__instances)
{
	struct web *w = start();
	const cJSON *list, *a, *b;
	char path[128];
	struct resp r;

	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/instances", target_java);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(num(r.json, "target"), target_java);
	list = arr(r.json, "instances");
	ck_assert_int_eq(cJSON_GetArraySize(list), 2);
	a = cJSON_GetArrayItem(list, 0);
	b = cJSON_GetArrayItem(list, 1);
	ck_assert_int_eq(num(a, "pid"), 100);
	ck_assert_int_eq(num(a, "start_time"), 1000);
	ck_assert_int_eq(num(a, "start_time_ms"), T0);
	ck_assert_str_eq(str(a, "name"), "java");
	ck_assert_int_eq(num(a, "first_time_ms"), stime[0]);
	ck_assert_int_eq(num(a, "last_time_ms"), stime[2]);
	ck_assert_int_eq(num(a, "snapshots"), 3);
	ck_assert_int_eq(num(b, "pid"), 200);
	ck_assert_int_eq(num(b, "snapshots"), 2);
	ck_assert_int_eq(num(b, "first_time_ms"), stime[3]);
	ck_assert_int_ne(num(a, "id"), num(b, "id"));
	resp_free(&r);
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__snapshots)
{
	struct web *w = start();
	const cJSON *list, *e;
	char path[160];
	struct resp r;

	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/snapshots", target_java);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 200);
	list = arr(r.json, "snapshots");
	ck_assert_int_eq(cJSON_GetArraySize(list), 5);
	e = cJSON_GetArrayItem(list, 1);
	ck_assert_int_eq(num(e, "id"), sid[1]);
	ck_assert_int_eq(num(e, "time_ms"), stime[1]);
	ck_assert_int_eq(num(e, "pid"), 100);
	ck_assert_int_eq(num(e, "regions"), 3);
	ck_assert_int_eq(num(e, "collect_ns"), 1234);
	ck_assert_int_eq(cJSON_GetArraySize(arr(e, "flags")), 0);
	resp_free(&r);

	/* from and to are inclusive. */
	snprintf(path, sizeof(path),
	         "/api/v1/targets/%" PRId64 "/snapshots?from=%" PRId64 "&to=%" PRId64, target_java,
	         stime[1], stime[3]);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 200);
	list = arr(r.json, "snapshots");
	ck_assert_int_eq(cJSON_GetArraySize(list), 3);
	ck_assert_int_eq(num(cJSON_GetArrayItem(list, 0), "id"), sid[1]);
	ck_assert_int_eq(num(cJSON_GetArrayItem(list, 2), "id"), sid[3]);
	ck_assert_int_eq(num(cJSON_GetArrayItem(list, 2), "pid"), 200);
	resp_free(&r);
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__timeline)
{
	struct web *w = start();
	const cJSON *pts, *p, *restarts, *types;
	char path[200];
	struct resp r;
	int i;

	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/timeline", target_java);
	get(w, path, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	types = arr(r.json, "types");
	ck_assert_int_eq(cJSON_GetArraySize(types), 10);
	ck_assert_str_eq(cJSON_GetArrayItem(types, REGION_PRIVATE)->valuestring, "private");
	pts = arr(r.json, "points");
	ck_assert_int_eq(cJSON_GetArraySize(pts), 5);
	for (i = 0; i < 5; i++) {
		static const int order[5] = {0, 1, 2, 3, 4};

		p = cJSON_GetArrayItem(pts, i);
		ck_assert_int_eq(num(p, "time_ms"), stime[order[i]]);
		ck_assert_int_eq(num(p, "snapshot"), sid[order[i]]);
	}
	p = cJSON_GetArrayItem(pts, 1);
	ck_assert_uint_eq(cJSON_GetArrayItem(arr(p, "committed"), REGION_PRIVATE)->valuedouble,
	                  NEW_SIZE);
	ck_assert_uint_eq(cJSON_GetArrayItem(arr(p, "committed"), REGION_HEAP)->valuedouble,
	                  0x100000);
	ck_assert_uint_eq(cJSON_GetArrayItem(arr(p, "resident"), REGION_HEAP)->valuedouble,
	                  0x80000);
	ck_assert_uint_eq(num(p, "private_committed"), 0x100000 + NEW_SIZE);
	ck_assert_uint_eq(
	        cJSON_GetArrayItem(arr(cJSON_GetArrayItem(pts, 2), "resident"), REGION_HEAP)
	                ->valuedouble,
	        0xc0000);
	ck_assert_int_eq(num(r.json, "from_ms"), stime[0]);
	ck_assert_int_eq(num(r.json, "to_ms"), stime[4]);
	restarts = arr(r.json, "restarts");
	ck_assert_int_eq(cJSON_GetArraySize(restarts), 1);
	ck_assert_int_eq(num(cJSON_GetArrayItem(restarts, 0), "time_ms"), T0 + 10000);
	ck_assert_int_eq(num(cJSON_GetArrayItem(restarts, 0), "pid"), 200);
	ck_assert_int_eq(num(cJSON_GetArrayItem(restarts, 0), "instance"),
	                 num(cJSON_GetArrayItem(pts, 3), "instance"));
	resp_free(&r);

	/* One bucket: the last snapshot of each instance, restarts survive. */
	snprintf(path, sizeof(path),
	         "/api/v1/targets/%" PRId64 "/timeline?from=%" PRId64 "&to=%" PRId64 "&points=1",
	         target_java, stime[0], stime[4]);
	get(w, path, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	pts = arr(r.json, "points");
	ck_assert_int_eq(cJSON_GetArraySize(pts), 2);
	ck_assert_int_eq(num(cJSON_GetArrayItem(pts, 0), "snapshot"), sid[2]);
	ck_assert_int_eq(num(cJSON_GetArrayItem(pts, 1), "snapshot"), sid[4]);
	resp_free(&r);

	/* A range before the restart has no restart marker. */
	snprintf(path, sizeof(path),
	         "/api/v1/targets/%" PRId64 "/timeline?from=%" PRId64 "&to=%" PRId64, target_java,
	         stime[0], stime[2]);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(arr(r.json, "points")), 3);
	ck_assert_int_eq(cJSON_GetArraySize(arr(r.json, "restarts")), 0);
	ck_assert_int_eq(num(r.json, "from_ms"), stime[0]);
	resp_free(&r);
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__snapshot_json)
{
	struct web *w = start();
	struct snapshot *s = stored(sid[1]);
	struct json_out o;
	char path[64], *expect = NULL;
	struct resp r;

	json_out_init(&o, NULL, NULL);
	ck_assert_int_eq(snapshot_json_write(s, &o), 0);
	ck_assert_int_ge(asprintf(&expect, "{\"id\":%" PRId64 ",\"target\":%" PRId64 ",%.*s",
	                          sid[1], target_java, (int)o.len - 1, o.buf + 1),
	                 0);
	snprintf(path, sizeof(path), "/api/v1/snapshots/%" PRId64, sid[1]);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(header(&r, "Content-Type"), "application/json");
	ck_assert_str_eq(r.body, expect);
	ck_assert_int_eq(cJSON_GetArraySize(arr(r.json, "regions")), 3);
	resp_free(&r);
	free(expect);
	json_out_done(&o);
	snapshot_free(s);

	/* A snapshot of the other target names it. */
	snprintf(path, sizeof(path), "/api/v1/snapshots/%" PRId64, sid[6]);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(num(r.json, "target"), target_other);
	ck_assert_int_eq(num(r.json, "pid"), 42);
	resp_free(&r);
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__snapshot_csv)
{
	struct web *w = start();
	struct snapshot *s = stored(sid[2]);
	char path[64], *expect = snapshot_csv(s);
	struct resp r;

	snprintf(path, sizeof(path), "/api/v1/snapshots/%" PRId64 ".csv", sid[2]);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(header(&r, "Content-Type"), "text/csv; charset=utf-8");
	ck_assert_str_eq(r.body, expect);
	ck_assert_ptr_nonnull(strstr(r.body, "\"/usr/bin/java, \"\"quoted\"\"\""));
	resp_free(&r);
	free(expect);
	snapshot_free(s);
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__diff)
{
	struct web *w = start();
	const cJSON *entries, *e, *found = NULL, *summary;
	char path[128];
	struct resp r;
	int i;

	snprintf(path, sizeof(path), "/api/v1/diff?a=%" PRId64 "&b=%" PRId64, sid[0], sid[1]);
	get(w, path, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	ck_assert_int_eq(num(cJSON_GetObjectItem(r.json, "before"), "snapshot"), sid[0]);
	ck_assert_int_eq(num(cJSON_GetObjectItem(r.json, "after"), "snapshot"), sid[1]);
	entries = arr(r.json, "entries");
	for (i = 0; i < cJSON_GetArraySize(entries); i++) {
		e = cJSON_GetArrayItem(entries, i);
		ck_assert_str_ne(str(e, "kind"), "same");
		if (strcmp(str(e, "kind"), "new") == 0)
			found = e;
	}
	ck_assert_int_eq(cJSON_GetArraySize(entries), 1);
	ck_assert_ptr_nonnull(found);
	ck_assert_uint_eq(num(found, "base"), NEW_BASE);
	ck_assert_uint_eq(num(found, "size"), NEW_SIZE);
	ck_assert_str_eq(str(found, "type"), "private");
	summary = cJSON_GetObjectItem(r.json, "summary");
	ck_assert_ptr_nonnull(summary);
	ck_assert_uint_eq(
	        num(cJSON_GetObjectItem(
	                    cJSON_GetObjectItem(cJSON_GetObjectItem(summary, "after"), "types"),
	                    "private"),
	            "committed"),
	        NEW_SIZE);
	ck_assert_uint_eq(
	        num(cJSON_GetObjectItem(
	                    cJSON_GetObjectItem(cJSON_GetObjectItem(summary, "before"), "types"),
	                    "private"),
	            "committed"),
	        0);
	ck_assert_uint_eq(num(cJSON_GetObjectItem(summary, "after"), "private_committed"),
	                  0x100000 + NEW_SIZE);
	resp_free(&r);

	/* all=1 lists the unchanged ranges too. */
	snprintf(path, sizeof(path), "/api/v1/diff?a=%" PRId64 "&b=%" PRId64 "&all=1", sid[0],
	         sid[1]);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(arr(r.json, "entries")), 3);
	resp_free(&r);

	snprintf(path, sizeof(path), "/api/v1/diff.csv?a=%" PRId64 "&b=%" PRId64, sid[0], sid[1]);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(header(&r, "Content-Type"), "text/csv; charset=utf-8");
	ck_assert_str_eq(r.body, "kind,base,size,type,before_type,protection,committed_delta,"
	                         "resident_delta,private_delta,swap_delta,detail\n"
	                         "new,0x7f0000000000,2097152,private,private,rw-p,2097152,1048576,"
	                         "1048576,0,\n");
	resp_free(&r);
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__healthz)
{
	struct web *w = start();
	struct resp r;

	get(w, "/healthz", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(str(r.json, "status"), "ok");
	ck_assert_str_eq(str(r.json, "storage"), "ok");
	ck_assert_str_eq(str(r.json, "version"), PACKAGE_VERSION);
	ck_assert_double_gt(num(r.json, "db_bytes"), 4096);
	resp_free(&r);

	request(w, "HEAD", "/healthz", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.len, 0);
	resp_free(&r);
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__static)
{
	struct web *w = start();
	char path[600], extra[128];
	size_t len = 0;
	char *file = test_read_file(DYGRAPH_JS, &len);
	const char *src = getenv("MD_SRCDIR");
	struct resp r;

	ck_assert_ptr_nonnull(file);
	get(w, "/dygraph.min.js", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(header(&r, "Content-Type"), "text/javascript; charset=utf-8");
	ck_assert_str_eq(header(&r, "Cache-Control"), "no-cache");
	ck_assert_uint_eq(r.len, len);
	ck_assert(memcmp(r.body, file, len) == 0);
	free(file);
	/* Revalidation by ETag. */
	snprintf(extra, sizeof(extra), "If-None-Match: %s\r\n", header(&r, "ETag"));
	resp_free(&r);
	request(w, "GET", "/dygraph.min.js", NULL, extra, &r);
	ck_assert_int_eq(r.status, 304);
	ck_assert_uint_eq(r.len, 0);
	resp_free(&r);

	get(w, "/dygraph.min.css", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(header(&r, "Content-Type"), "text/css; charset=utf-8");
	resp_free(&r);

	snprintf(path, sizeof(path), "%s/web/static/index.html", src ? src : "..");
	file = test_read_file(path, &len);
	if (file == NULL) {
		fprintf(stderr, "check_web: SKIP index.html assertions: %s not found\n", path);
	} else {
		get(w, "/", &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(header(&r, "Content-Type"), "text/html; charset=utf-8");
		ck_assert_uint_eq(r.len, len);
		ck_assert(memcmp(r.body, file, len) == 0);
		resp_free(&r);
		get(w, "/index.html", &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_uint_eq(r.len, len);
		resp_free(&r);
		free(file);
	}
	web_stop(w);
}
END_TEST

/* ---- web_start: errors and access -------------------------------------- */

START_TEST(test_web_start__errors)
{
	struct web *w = start();
	char path[160];

	assert_error(w, "GET", "/api/v1/targets", "evil.example", 421, "evil.example");
	assert_error(w, "GET", "/", "127.0.0.1.evil.example:80", 421, "not allowed");
	assert_error(w, "GET", "/api/v1/diff?a=abc&b=1", NULL, 400, "parameter a");
	assert_error(w, "GET", "/api/v1/diff?a=1&b=-2", NULL, 400, "parameter b");
	assert_error(w, "GET", "/api/v1/diff?a=1", NULL, 400, "parameter b");
	assert_error(w, "GET", "/api/v1/diff?a=1&b=2&all=yes", NULL, 400, "parameter all");
	assert_error(w, "GET", "/api/v1/diff?a=1&b=99999", NULL, 404, "99999");
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/timeline?points=0", target_java);
	assert_error(w, "GET", path, NULL, 400, "points");
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/timeline?points=5001",
	         target_java);
	assert_error(w, "GET", path, NULL, 400, "points");
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/snapshots?from=1x", target_java);
	assert_error(w, "GET", path, NULL, 400, "from");
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/timeline?to=", target_java);
	assert_error(w, "GET", path, NULL, 400, "to");
	assert_error(w, "GET", "/api/v1/targets/0/instances", NULL, 400, "target id");
	assert_error(w, "GET", "/api/v1/targets/999/instances", NULL, 404, "target 999");
	assert_error(w, "GET", "/api/v1/targets/999/timeline", NULL, 404, "target 999");
	assert_error(w, "GET", "/api/v1/snapshots/abc", NULL, 400, "snapshot id");
	assert_error(w, "GET", "/api/v1/snapshots/99999", NULL, 404, "snapshot 99999");
	assert_error(w, "GET", "/api/v1/snapshots/99999.csv", NULL, 404, "snapshot 99999");
	assert_error(w, "GET", "/api/v1/nope", NULL, 404, "/api/v1/nope");
	assert_error(w, "GET", "/nope.html", NULL, 404, "/nope.html");
	assert_error(w, "POST", "/api/v1/targets", NULL, 405, "POST");
	assert_error(w, "DELETE", "/api/v1/snapshots/1", NULL, 405, "DELETE");
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__hosts)
{
	static const char *const extra[] = {"memdelta.example", "box.example:8080"};
	struct web_config cfg;
	struct web *w;
	struct resp r;
	char host[64];

	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = db_path;
	cfg.allowed_hosts = extra;
	cfg.n_allowed_hosts = 2;
	w = start_cfg(&cfg);
	snprintf(host, sizeof(host), "localhost:%u", (unsigned)web_port(w));
	request(w, "GET", "/healthz", host, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	request(w, "GET", "/healthz", "[::1]:7373", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	request(w, "GET", "/healthz", "MemDelta.Example", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	request(w, "GET", "/healthz", "box.example:8080", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	assert_error(w, "GET", "/healthz", "box.example:8081", 421, "box.example");
	assert_error(w, "GET", "/healthz", "localhost:x", 421, "not allowed");
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__token)
{
	struct web_config cfg;
	struct web *w = NULL;
	const char *why = NULL;
	struct resp r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = db_path;
	cfg.listen_addr = "0.0.0.0";
	cfg.port = free_port();
	ck_assert_int_eq(web_start(&cfg, &w, &why), MD_ERR_INVAL);
	ck_assert_ptr_null(w);
	ck_assert_ptr_nonnull(why);
	ck_assert_ptr_nonnull(strstr(why, "token"));
	cfg.token = "";
	ck_assert_int_eq(web_start(&cfg, &w, &why), MD_ERR_INVAL);

	cfg.token = TOKEN;
	w = start_cfg(&cfg);
	assert_error(w, "GET", "/api/v1/targets", NULL, 401, "token");
	assert_error(w, "GET", "/healthz", NULL, 401, "token");
	request(w, "GET", "/api/v1/targets", NULL, "Authorization: Bearer wrong\r\n", &r);
	ck_assert_int_eq(r.status, 401);
	ck_assert_ptr_nonnull(header(&r, "WWW-Authenticate"));
	resp_free(&r);
	request(w, "GET", "/api/v1/targets", NULL, "Authorization: Bearer " TOKEN "\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(arr(r.json, "targets")), 2);
	resp_free(&r);
	request(w, "GET", "/api/v1/targets", NULL,
	        "Cookie: theme=dark; memdelta_token=" TOKEN_COOKIE "\r\n", &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	resp_free(&r);
	request(w, "GET", "/api/v1/targets", NULL, "Cookie: memdelta_token=s3cret\r\n", &r);
	ck_assert_int_eq(r.status, 401);
	resp_free(&r);
	/* The UI itself loads without the token, to ask for it. */
	get(w, "/dygraph.min.js", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	web_stop(w);

	/* A loopback listen needs no token. */
	cfg.listen_addr = "::1";
	cfg.token = NULL;
	cfg.port = free_port();
	ck_assert_int_eq(web_start(&cfg, &w, &why), 0);
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__bad_config)
{
	struct web_config cfg;
	struct web *w = NULL, *w2 = NULL;
	const char *why = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = db_path;
	cfg.listen_addr = "localhost";
	ck_assert_int_eq(web_start(&cfg, &w, &why), MD_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(why, "numeric"));
	cfg.listen_addr = NULL;
	w = start_cfg(&cfg);
	/* The same port again: in use. */
	ck_assert_int_eq(web_start(&cfg, &w2, &why), MD_ERR_IO);
	ck_assert_ptr_null(w2);
	ck_assert_ptr_nonnull(strstr(why, "cannot listen"));
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__no_database)
{
	struct web_config cfg;
	char path[700], dir[512];
	struct web *w;
	struct resp r;

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(path, sizeof(path), "%s/none/missing.db", dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = path;
	w = start_cfg(&cfg);
	assert_error(w, "GET", "/api/v1/targets", NULL, 503, "database");
	get(w, "/healthz", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(num(r.json, "db_bytes"), 0);
	resp_free(&r);
	web_stop(w);
	test_rm_rf(dir);
}
END_TEST

START_TEST(test_web_start__writer_busy)
{
	struct web *w = start();
	sqlite3 *db = NULL;
	struct timespec t0, t1;
	struct resp r;
	double ms;

	/* The writer sits in a write transaction: readers see the last
	 * committed state at once instead of waiting for it. */
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(
	        sqlite3_exec(db, "BEGIN EXCLUSIVE; INSERT INTO targets (name) VALUES ('later');",
	                     NULL, NULL, NULL),
	        SQLITE_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	get(w, "/api/v1/targets", &r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(arr(r.json, "targets")), 2);
	ck_assert_msg(ms < 1000, "the reader waited %.0f ms for the writer", ms);
	resp_free(&r);
	ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	web_stop(w);
}
END_TEST

static int
connect_raw(struct web *w)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(web_port(w));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

START_TEST(test_web_start__limits)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	struct web_config cfg;
	struct timeval tv = {5, 0};
	struct web *w;
	struct resp r;
	char buf[256];
	int a, b;

	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = db_path;
	cfg.per_ip_limit = 1;
	cfg.timeout_s = 1;
	w = start_cfg(&cfg);
	/* One idle connection holds this address's only slot: a second one is
	 * closed without an answer. */
	a = connect_raw(w);
	usleep(200 * 1000);
	b = connect_raw(w);
	setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)!write(b, req, sizeof(req) - 1);
	ck_assert_int_le(read(b, buf, sizeof(buf)), 0);
	close(b);
	/* The idle one is dropped after the 1 s timeout... */
	setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ck_assert_int_eq(read(a, buf, sizeof(buf)), 0);
	close(a);
	usleep(100 * 1000);
	/* ... and then the slot is free again. */
	get(w, "/healthz", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	web_stop(w);
}
END_TEST

/* ---- web_port, web_set_health, web_set_targets_runtime, web_stop ------- */

START_TEST(test_web_port__bound)
{
	struct web *w = start();

	ck_assert_uint_ne(web_port(w), 0);
	ck_assert_uint_eq(web_port(NULL), 0);
	web_stop(w);
}
END_TEST

START_TEST(test_web_set_health__reflected)
{
	struct web *w = start();
	struct web_health h;
	struct resp r;

	memset(&h, 0, sizeof(h));
	h.storage_ok = 0;
	snprintf(h.storage_error, sizeof(h.storage_error), "database or disk is full");
	h.snapshots_written = 1234;
	h.ticks_missed = 5;
	h.last_snapshot_ms = T0 + 99;
	h.started_ms = T0;
	h.targets = 11;
	web_set_health(w, &h);
	get(w, "/healthz", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(str(r.json, "status"), "degraded");
	ck_assert_str_eq(str(r.json, "storage"), "full");
	ck_assert_str_eq(str(r.json, "storage_error"), "database or disk is full");
	ck_assert_int_eq(num(r.json, "snapshots_written"), 1234);
	ck_assert_int_eq(num(r.json, "ticks_missed"), 5);
	ck_assert_int_eq(num(r.json, "last_snapshot_ms"), T0 + 99);
	ck_assert_int_eq(num(r.json, "started_ms"), T0);
	ck_assert_int_eq(num(r.json, "targets"), 11);
	resp_free(&r);

	h.storage_ok = 1;
	web_set_health(w, &h);
	get(w, "/healthz", &r);
	ck_assert_str_eq(str(r.json, "status"), "ok");
	ck_assert_str_eq(str(r.json, "storage_error"), "");
	resp_free(&r);
	web_stop(w);
}
END_TEST

START_TEST(test_web_set_targets_runtime__replaced)
{
	struct web *w = start();
	struct web_target_runtime rt[2] = {{target_java, 1, 0, 10, 5, 1, 1, 0},
	                                   {target_other, 7, 2, 20, 60, 0, 3, 4}};
	const cJSON *list, *run;
	struct resp r;

	web_set_targets_runtime(w, rt, 2);
	rt[1].ticks = 999; /* copied: later changes do not show */
	get(w, "/api/v1/targets", &r);
	list = arr(r.json, "targets");
	run = cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "runtime");
	ck_assert_ptr_nonnull(run);
	ck_assert_int_eq(num(run, "ticks"), 7);
	ck_assert_int_eq(num(run, "interval_s"), 60);
	ck_assert_int_eq(num(run, "full_reads"), 3);
	ck_assert_int_eq(num(run, "probe_hits"), 4);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(run, "watching")));
	resp_free(&r);

	web_set_targets_runtime(w, NULL, 0);
	get(w, "/api/v1/targets", &r);
	list = arr(r.json, "targets");
	ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "runtime"));
	resp_free(&r);
	web_stop(w);
}
END_TEST

START_TEST(test_web_stop__null_and_restart)
{
	struct web *w = start();
	struct web_config cfg;
	struct resp r;

	web_stop(NULL);
	get(w, "/api/v1/targets", &r); /* opens this server's reader handles */
	resp_free(&r);
	web_stop(w);
	/* A second server in the same process serves fresh handles. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = db_path;
	cfg.threads = 4;
	w = start_cfg(&cfg);
	get(w, "/api/v1/targets", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	web_stop(w);
}
END_TEST

static Suite *
web_suite(void)
{
	Suite *s = suite_create("web");
	TCase *tc;

	tc = tcase_create("web_start");
	tcase_add_test(tc, test_web_start__targets);
	tcase_add_test(tc, test_web_start__instances);
	tcase_add_test(tc, test_web_start__snapshots);
	tcase_add_test(tc, test_web_start__timeline);
	tcase_add_test(tc, test_web_start__snapshot_json);
	tcase_add_test(tc, test_web_start__snapshot_csv);
	tcase_add_test(tc, test_web_start__diff);
	tcase_add_test(tc, test_web_start__healthz);
	tcase_add_test(tc, test_web_start__static);
	tcase_add_test(tc, test_web_start__errors);
	tcase_add_test(tc, test_web_start__hosts);
	tcase_add_test(tc, test_web_start__token);
	tcase_add_test(tc, test_web_start__bad_config);
	tcase_add_test(tc, test_web_start__no_database);
	tcase_add_test(tc, test_web_start__limits);
	tcase_add_test(tc, test_web_start__writer_busy);
	suite_add_tcase(s, tc);
	tc = tcase_create("web_port");
	tcase_add_test(tc, test_web_port__bound);
	suite_add_tcase(s, tc);
	tc = tcase_create("web_set_health");
	tcase_add_test(tc, test_web_set_health__reflected);
	suite_add_tcase(s, tc);
	tc = tcase_create("web_set_targets_runtime");
	tcase_add_test(tc, test_web_set_targets_runtime__replaced);
	suite_add_tcase(s, tc);
	tc = tcase_create("web_stop");
	tcase_add_test(tc, test_web_stop__null_and_restart);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	char dir[512];
	int failed;

	if (access(DYGRAPH_JS, R_OK) != 0)
		test_skip("check_web: " DYGRAPH_JS " missing (libjs-dygraphs)");
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	build_db(dir);
	sr = srunner_create(web_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	test_rm_rf(dir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
