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
#include <math.h>
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
#include "diff/trend.h"
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
/* Alerts: [0] java instance 1 resolved, [1] java instance 2 firing,
 * [2] pid:42 pending; their instances. */
static int64_t alert_id[3], inst_java[2], inst_other;
#define EVIDENCE_JSON                                                                              \
	"{\"rule\":\"trend\",\"top_regions\":[{\"base\":18446744073699065856,\"grew\":2097152}]}"
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

static int64_t
instance_of(struct store *st, int64_t target, size_t k)
{
	struct store_instance_info *v = NULL;
	size_t n = 0;
	int64_t id;

	SETUP_OK(store_list_instances(st, target, &v, &n));
	if (k >= n) {
		fprintf(stderr, "check_web: setup: no instance %zu\n", k);
		exit(EXIT_FAILURE);
	}
	id = v[k].id;
	free(v);
	return id;
}

static void
add_alert(struct store *st, int64_t *id, int64_t target, int64_t instance, enum alert_state state,
          int64_t started, int64_t fired, int64_t resolved, int64_t baseline, int64_t trigger,
          double slope, const char *summary, const char *evidence)
{
	struct store_alert a;

	memset(&a, 0, sizeof(a));
	a.target_id = target;
	a.instance_id = instance;
	snprintf(a.rule, sizeof(a.rule), "trend");
	snprintf(a.series, sizeof(a.series), "private_committed");
	a.state = state;
	a.started_ms = started;
	a.fired_ms = fired;
	a.resolved_ms = resolved;
	a.updated_ms = resolved ? resolved : fired ? fired : started;
	a.baseline_snapshot_id = baseline;
	a.trigger_snapshot_id = trigger;
	a.slope_bytes_per_h = slope;
	a.pct_per_h = 12.5;
	a.r2 = 0.96875;
	a.mk_p = 0.0001220703125;
	a.value = 0x300000;
	a.summary = (char *)summary;
	a.evidence_json = (char *)evidence;
	SETUP_OK(store_alert_put(st, &a));
	*id = a.id;
}

static void
add_alerts(struct store *st)
{
	inst_java[0] = instance_of(st, target_java, 0);
	inst_java[1] = instance_of(st, target_java, 1);
	inst_other = instance_of(st, target_other, 0);
	add_alert(st, &alert_id[0], target_java, inst_java[0], ALERT_RESOLVED, T0 + 1000, T0 + 2000,
	          T0 + 3000, sid[0], sid[2], 1572864.0, "Private Data +1.50 MiB/h", EVIDENCE_JSON);
	add_alert(st, &alert_id[1], target_java, inst_java[1], ALERT_FIRING, T0 + 11000, T0 + 12000,
	          0, sid[3], sid[4], 2097152.0, "Private Data +2.00 MiB/h since 12:00", "{}");
	add_alert(st, &alert_id[2], target_other, inst_other, ALERT_PENDING, T0 + 1500, 0, 0,
	          sid[5], sid[6], 4096.5, NULL, NULL);
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
	add_alerts(st);
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
	struct web_target_runtime rt = {.target_id = target_java,
	                                .ticks = 42,
	                                .ticks_missed = 1,
	                                .last_cost_ns = 1800000,
	                                .interval_s = 10,
	                                .watching = 1,
	                                .alert_state = -1,
	                                .regions = 3,
	                                .full_reads = 7,
	                                .probe_hits = 35};
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
	ck_assert_ptr_null(cJSON_GetObjectItem(java, "spark"));
	resp_free(&r);
	snapshot_free(s);
	web_stop(w);
}
END_TEST

/* ?spark=N: each target's private committed bytes over its whole history,
 * the same values as its timeline of N points, in the one request the
 * overview makes. */
START_TEST(test_web_start__targets_spark)
{
	struct web *w = start();
	const cJSON *list, *spark, *points;
	static const char *const bad[] = {"0", "501", "x", "-1", "1e2"};
	char path[128];
	struct resp r, tl;
	int k, i;

	for (k = 0; k < 2; k++) {
		int np = k == 0 ? 500 : 2;

		snprintf(path, sizeof(path), "/api/v1/targets?spark=%d", np);
		get(w, path, &r);
		ck_assert_int_eq(r.status, 200);
		list = arr(r.json, "targets");
		ck_assert_int_eq(cJSON_GetArraySize(list), 2);
		for (i = 0; i < 2; i++) {
			const cJSON *t = cJSON_GetArrayItem(list, i);
			int j;

			snprintf(path, sizeof(path),
			         "/api/v1/targets/%" PRId64 "/timeline?points=%d",
			         (int64_t)num(t, "id"), np);
			get(w, path, &tl);
			ck_assert_int_eq(tl.status, 200);
			spark = cJSON_GetObjectItem(t, "spark");
			points = arr(tl.json, "points");
			ck_assert(cJSON_IsArray(spark));
			ck_assert_int_gt(cJSON_GetArraySize(spark), 0);
			ck_assert_int_eq(cJSON_GetArraySize(spark), cJSON_GetArraySize(points));
			for (j = 0; j < cJSON_GetArraySize(spark); j++)
				ck_assert_uint_eq(
				        (uint64_t)cJSON_GetArrayItem(spark, j)->valuedouble,
				        num(cJSON_GetArrayItem(points, j), "private_committed"));
			/* the last point is the latest snapshot's value */
			ck_assert_uint_eq(
			        (uint64_t)cJSON_GetArrayItem(spark, cJSON_GetArraySize(spark) - 1)
			                ->valuedouble,
			        num(t, "private_committed"));
			if (np == 2 && num(t, "id") == target_java) /* 2 buckets, 2 instances */
				ck_assert_int_le(cJSON_GetArraySize(spark), 3);
			if (np == 500 && num(t, "id") == target_java)
				ck_assert_int_eq(cJSON_GetArraySize(spark), 5);
			resp_free(&tl);
		}
		resp_free(&r);
	}
	for (k = 0; k < (int)(sizeof(bad) / sizeof(bad[0])); k++) {
		snprintf(path, sizeof(path), "/api/v1/targets?spark=%s", bad[k]);
		get(w, path, &r);
		ck_assert_msg(r.status == 400, "%s: %d", path, r.status);
		ck_assert_ptr_nonnull(strstr(str(r.json, "error"), "spark"));
		resp_free(&r);
	}
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
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "more")));
	resp_free(&r);

	/* pages: limit, more, and after = the last id of the page before */
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/snapshots?limit=2", target_java);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 200);
	list = arr(r.json, "snapshots");
	ck_assert_int_eq(cJSON_GetArraySize(list), 2);
	ck_assert_int_eq(num(cJSON_GetArrayItem(list, 1), "id"), sid[1]);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "more")));
	resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/snapshots?limit=2&after=%" PRId64,
	         target_java, sid[3]);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 200);
	list = arr(r.json, "snapshots");
	ck_assert_int_eq(cJSON_GetArraySize(list), 1);
	ck_assert_int_eq(num(cJSON_GetArrayItem(list, 0), "id"), sid[4]);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "more")));
	resp_free(&r);
	/* refused: limit out of range or not a number, a cursor of another
	 * target, a cursor that is not an id */
	{
		static const char *const bad[] = {"limit=0", "limit=10001", "limit=ten", "after=-1",
		                                  "after=x"};

		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/snapshots?%s",
			         target_java, bad[k]);
			get(w, path, &r);
			ck_assert_msg(r.status == 400, "%s: status %d", bad[k], r.status);
			resp_free(&r);
		}
	}
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/snapshots?after=%" PRId64,
	         target_other, sid[0]);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 400);
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

/* ---- web_start: /metrics ----------------------------------------------- */

/* Does @body hold the whole line @line? */
static int
has_line(const char *body, const char *line)
{
	size_t n = strlen(line);
	const char *p = body;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == body || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

#define ASSERT_LINE(body, ...)                                                                     \
	do {                                                                                       \
		char line_[400];                                                                   \
		snprintf(line_, sizeof(line_), __VA_ARGS__);                                       \
		ck_assert_msg(has_line((body), line_), "no line '%s' in:\n%s", line_, (body));     \
	} while (0)

/* The exposition's structure: every sample's family was announced by one
 * HELP and one TYPE line just before its first sample, and a family's
 * samples are contiguous. */
static void
assert_exposition(const char *body)
{
	char family[128] = "", name[128];
	const char *p = body, *end;
	int help = 0, type = 0, families = 0;

	ck_assert_msg(body[0] != '\0' && body[strlen(body) - 1] == '\n', "no final newline");
	for (; *p; p = end + 1) {
		end = strchr(p, '\n');
		ck_assert_ptr_nonnull(end);
		if (strncmp(p, "# HELP ", 7) == 0 || strncmp(p, "# TYPE ", 7) == 0) {
			ck_assert_int_eq(sscanf(p + 7, "%127[a-z_]", name), 1);
			if (strcmp(name, family) != 0) {
				ck_assert_msg(strncmp(p, "# HELP ", 7) == 0, "%s: TYPE before HELP",
				              name);
				ck_assert_msg(help == type, "family %s incomplete", family);
				ck_assert_msg(strstr(body, name) == p + 7,
				              "family %s announced twice", name);
				snprintf(family, sizeof(family), "%s", name);
				help = type = 0;
				families++;
			}
			if (p[2] == 'H')
				help++;
			else
				type++;
			continue;
		}
		ck_assert_int_eq(sscanf(p, "%127[a-z_]", name), 1);
		ck_assert_msg(strcmp(name, family) == 0 && help == 1 && type == 1,
		              "sample of %s outside its family (in %s)", name, family);
	}
	ck_assert_int_ge(families, 15);
}

/* Run promtool check metrics on @body: its exit status, or -1 when promtool
 * is not installed (the caller's own assertions still run). */
static int
promtool_check(const char *body, size_t len)
{
	FILE *p;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		fprintf(stderr, "check_web: promtool not installed: exposition not linted\n");
		return -1;
	}
	p = popen("promtool check metrics", "w");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(fwrite(body, 1, len, p), len);
	return pclose(p);
}

START_TEST(test_web_start__metrics)
{
	struct web *w = start();
	struct web_target_runtime rt;
	struct web_health h;
	struct snapshot *s = stored(sid[4]), *o = stored(sid[6]);
	struct snapshot_totals t, to;
	struct resp r;
	int i, rc;

	snapshot_totals(s, &t);
	snapshot_totals(o, &to);
	memset(&rt, 0, sizeof(rt));
	rt.target_id = target_java;
	rt.ticks = 42;
	rt.ticks_missed = 3;
	rt.last_cost_ns = 1800000;
	rt.interval_s = 10;
	rt.watching = 1;
	rt.trend_ok = 1;
	rt.trend_slope_bytes_per_h = 7200.0;
	rt.alert_state = ALERT_FIRING;
	rt.regions = 3;
	web_set_targets_runtime(w, &rt, 1);
	memset(&h, 0, sizeof(h));
	h.storage_ok = 0;
	snprintf(h.storage_error, sizeof(h.storage_error), "database or disk is full");
	h.snapshots_written = 1234;
	h.started_ms = T0 + 5;
	h.targets = 1;
	web_set_health(w, &h);

	get(w, "/metrics", &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	ck_assert_str_eq(header(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_str_eq(header(&r, "Cache-Control"), "no-store");
	assert_exposition(r.body);
	/* Per type: exactly the latest snapshot's totals, free left out. */
	for (i = 0; i < REGION_TYPE_COUNT; i++) {
		const char *tn = region_type_name((enum region_type)i);

		if (i == REGION_FREE)
			continue;
		ASSERT_LINE(r.body,
		            "memdelta_committed_bytes{target=\"java\",type=\"%s\"} %" PRIu64, tn,
		            t.by_type[i].committed);
		ASSERT_LINE(r.body, "memdelta_resident_bytes{target=\"java\",type=\"%s\"} %" PRIu64,
		            tn, t.by_type[i].resident);
		ASSERT_LINE(r.body,
		            "memdelta_committed_bytes{target=\"pid:42\",type=\"%s\"} %" PRIu64, tn,
		            to.by_type[i].committed);
	}
	ck_assert_ptr_null(strstr(r.body, "type=\"free\""));
	ASSERT_LINE(r.body, "memdelta_committed_bytes{target=\"java\",type=\"private\"} %" PRIu64,
	            NEW_SIZE);
	ASSERT_LINE(r.body, "memdelta_resident_bytes{target=\"java\",type=\"heap\"} %u", 0x20000);
	ASSERT_LINE(r.body, "memdelta_private_committed_bytes{target=\"java\"} %" PRIu64,
	            UINT64_C(0x100000) + NEW_SIZE);
	ASSERT_LINE(r.body, "memdelta_private_touched_bytes{target=\"java\"} %" PRIu64,
	            t.private_touched);
	ASSERT_LINE(r.body, "memdelta_regions{target=\"java\"} 3");
	ASSERT_LINE(r.body, "memdelta_regions{target=\"pid:42\"} 2");
	ASSERT_LINE(r.body,
	            "memdelta_last_snapshot_timestamp_seconds{target=\"java\"} 1700000012.000");
	/* The daemon's figures: java has a runtime row, pid:42 none. */
	ASSERT_LINE(r.body, "memdelta_ticks_total{target=\"java\"} 42");
	ASSERT_LINE(r.body, "memdelta_ticks_missed_total{target=\"java\"} 3");
	ASSERT_LINE(r.body, "memdelta_sample_cost_seconds{target=\"java\"} 0.0018");
	ASSERT_LINE(r.body, "memdelta_sample_interval_seconds{target=\"java\"} 10");
	ASSERT_LINE(r.body, "memdelta_watching{target=\"java\"} 1");
	ASSERT_LINE(r.body, "memdelta_trend_slope_bytes_per_second{target=\"java\","
	                    "series=\"private_committed\"} 2");
	ASSERT_LINE(r.body, "memdelta_alert_state{target=\"java\",state=\"firing\"} 1");
	ASSERT_LINE(r.body, "memdelta_alert_state{target=\"java\",state=\"pending\"} 0");
	ASSERT_LINE(r.body, "memdelta_alert_state{target=\"java\",state=\"none\"} 0");
	ck_assert_ptr_null(strstr(r.body, "memdelta_ticks_total{target=\"pid:42\"}"));
	ck_assert_ptr_null(strstr(r.body, "memdelta_alert_state{target=\"pid:42\""));
	/* Health. */
	ASSERT_LINE(r.body, "memdelta_storage_ok 0");
	ASSERT_LINE(r.body, "memdelta_snapshots_written_total 1234");
	ASSERT_LINE(r.body, "memdelta_targets 1");
	ASSERT_LINE(r.body, "memdelta_start_time_seconds 1700000000.005");
	ASSERT_LINE(r.body, "memdelta_build_info{version=\"%s\"} 1", PACKAGE_VERSION);
	rc = promtool_check(r.body, r.len);
	ck_assert_msg(rc == -1 || rc == 0, "promtool check metrics failed (%d) on:\n%s", rc,
	              r.body);
	resp_free(&r);

	/* [alerts] series = private_touched: the slope is labelled with it. */
	rt.trend_touched = 1;
	rt.trend_slope_bytes_per_h = 10800.0;
	web_set_targets_runtime(w, &rt, 1);
	get(w, "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	ASSERT_LINE(r.body, "memdelta_trend_slope_bytes_per_second{target=\"java\","
	                    "series=\"private_touched\"} 3");
	ck_assert_ptr_null(strstr(r.body, "series=\"private_committed\""));
	resp_free(&r);
	rt.trend_touched = 0;

	/* No trend fitted, no open alert: no slope sample, state none. */
	rt.trend_ok = 0;
	rt.alert_state = -1;
	web_set_targets_runtime(w, &rt, 1);
	h.storage_ok = 1;
	web_set_health(w, &h);
	get(w, "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(strstr(r.body, "memdelta_trend_slope_bytes_per_second{"));
	ASSERT_LINE(r.body, "memdelta_alert_state{target=\"java\",state=\"none\"} 1");
	ASSERT_LINE(r.body, "memdelta_alert_state{target=\"java\",state=\"firing\"} 0");
	ASSERT_LINE(r.body, "memdelta_storage_ok 1");
	resp_free(&r);
	/* HEAD: the headers alone. */
	request(w, "HEAD", "/metrics", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.len, 0);
	resp_free(&r);
	snapshot_free(s);
	snapshot_free(o);
	web_stop(w);
}
END_TEST

/* A target name with a quote, a backslash, a newline and a byte that is not
 * UTF-8 still gives a valid exposition. */
START_TEST(test_web_start__metrics_escaping)
{
	static const char name[] = "a\"b\\c\nd\xff";
	struct web_config cfg;
	struct store *st = NULL;
	struct web *w;
	struct resp r;
	char dir[512], path[600];
	int64_t tid, id;
	int rc;

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(path, sizeof(path), "%s/odd.db", dir);
	ck_assert_int_eq(store_open(path, 0, &st), 0);
	ck_assert_int_eq(store_target_ensure(st, name, &tid), 0);
	put(st, tid, make_snapshot(7, 70, T0, T0 + 1000, "odd", 1, 0x1000), &id);
	store_close(st);
	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = path;
	w = start_cfg(&cfg);
	get(w, "/metrics", &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	assert_exposition(r.body);
	ASSERT_LINE(r.body, "memdelta_regions{target=\"a\\\"b\\\\c\\nd\xef\xbf\xbd\"} 3");
	rc = promtool_check(r.body, r.len);
	ck_assert_msg(rc == -1 || rc == 0, "promtool check metrics failed (%d) on:\n%s", rc,
	              r.body);
	resp_free(&r);
	web_stop(w);
	test_rm_rf(dir);
}
END_TEST

/* ---- web_start: alerts ------------------------------------------------- */

/* The ids of the alerts of GET @path, in order, into @ids (at most 8). */
static int
alert_ids(struct web *w, const char *path, int64_t ids[8])
{
	const cJSON *list, *it;
	struct resp r;
	int n = 0;

	get(w, path, &r);
	ck_assert_msg(r.status == 200, "%s: %s", path, r.body);
	list = arr(r.json, "alerts");
	cJSON_ArrayForEach(it, list)
	{
		ck_assert_int_lt(n, 8);
		ids[n++] = (int64_t)num(it, "id");
	}
	resp_free(&r);
	return n;
}

START_TEST(test_web_start__alerts)
{
	struct web *w = start();
	const cJSON *list, *a;
	int64_t ids[8];
	char path[200];
	struct resp r;

	get(w, "/api/v1/alerts", &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	ck_assert_str_eq(header(&r, "Content-Type"), "application/json");
	list = arr(r.json, "alerts");
	/* Newest started first. */
	ck_assert_int_eq(cJSON_GetArraySize(list), 3);
	a = cJSON_GetArrayItem(list, 0);
	ck_assert_int_eq(num(a, "id"), alert_id[1]);
	ck_assert_int_eq(num(a, "target"), target_java);
	ck_assert_str_eq(str(a, "target_name"), "java");
	ck_assert_int_eq(num(a, "instance"), inst_java[1]);
	ck_assert_str_eq(str(a, "rule"), "trend");
	ck_assert_str_eq(str(a, "series"), "private_committed");
	ck_assert_str_eq(str(a, "state"), "firing");
	ck_assert_int_eq(num(a, "started_ms"), T0 + 11000);
	ck_assert_int_eq(num(a, "fired_ms"), T0 + 12000);
	ck_assert_int_eq(num(a, "resolved_ms"), 0);
	ck_assert_int_eq(num(a, "updated_ms"), T0 + 12000);
	ck_assert_int_eq(num(a, "baseline_snapshot"), sid[3]);
	ck_assert_int_eq(num(a, "trigger_snapshot"), sid[4]);
	ck_assert_double_eq(num(a, "slope_bytes_per_h"), 2097152.0);
	ck_assert_double_eq(num(a, "pct_per_h"), 12.5);
	ck_assert_double_eq(num(a, "r2"), 0.96875);
	ck_assert_double_eq(num(a, "mk_p"), 0.0001220703125);
	ck_assert_int_eq(num(a, "value"), 0x300000);
	ck_assert_str_eq(str(a, "summary"), "Private Data +2.00 MiB/h since 12:00");
	ck_assert_ptr_null(cJSON_GetObjectItem(a, "evidence")); /* only in /alerts/{id} */
	a = cJSON_GetArrayItem(list, 1);
	ck_assert_int_eq(num(a, "id"), alert_id[2]);
	ck_assert_str_eq(str(a, "target_name"), "pid:42");
	ck_assert_str_eq(str(a, "state"), "pending");
	ck_assert_double_eq(num(a, "slope_bytes_per_h"), 4096.5);
	ck_assert_str_eq(str(a, "summary"), "");
	a = cJSON_GetArrayItem(list, 2);
	ck_assert_int_eq(num(a, "id"), alert_id[0]);
	ck_assert_str_eq(str(a, "state"), "resolved");
	ck_assert_int_eq(num(a, "resolved_ms"), T0 + 3000);
	resp_free(&r);

	/* Filters. */
	ck_assert_int_eq(alert_ids(w, "/api/v1/alerts?state=firing", ids), 1);
	ck_assert_int_eq(ids[0], alert_id[1]);
	ck_assert_int_eq(alert_ids(w, "/api/v1/alerts?state=resolved", ids), 1);
	ck_assert_int_eq(ids[0], alert_id[0]);
	snprintf(path, sizeof(path), "/api/v1/alerts?target=%" PRId64, target_other);
	ck_assert_int_eq(alert_ids(w, path, ids), 1);
	ck_assert_int_eq(ids[0], alert_id[2]);
	snprintf(path, sizeof(path), "/api/v1/alerts?target=%" PRId64 "&instance=%" PRId64,
	         target_java, inst_java[0]);
	ck_assert_int_eq(alert_ids(w, path, ids), 1);
	ck_assert_int_eq(ids[0], alert_id[0]);
	snprintf(path, sizeof(path), "/api/v1/alerts?target=%" PRId64 "&state=pending",
	         target_java);
	ck_assert_int_eq(alert_ids(w, path, ids), 0);
	ck_assert_int_eq(alert_ids(w, "/api/v1/alerts?limit=2", ids), 2);
	ck_assert_int_eq(ids[0], alert_id[1]);
	ck_assert_int_eq(ids[1], alert_id[2]);
	/* Active at some time in [from, to]: the resolved one until it
	 * resolved, the open ones from their start on. */
	snprintf(path, sizeof(path), "/api/v1/alerts?from=%" PRId64 "&to=%" PRId64, T0 + 2500,
	         T0 + 2600);
	ck_assert_int_eq(alert_ids(w, path, ids), 2);
	ck_assert_int_eq(ids[0], alert_id[2]);
	ck_assert_int_eq(ids[1], alert_id[0]);
	snprintf(path, sizeof(path), "/api/v1/alerts?from=%" PRId64, T0 + 5000);
	ck_assert_int_eq(alert_ids(w, path, ids), 2);
	ck_assert_int_eq(ids[0], alert_id[1]);
	snprintf(path, sizeof(path), "/api/v1/alerts?to=%" PRId64, T0 + 1200);
	ck_assert_int_eq(alert_ids(w, path, ids), 1);
	ck_assert_int_eq(ids[0], alert_id[0]);

	/* Bad parameters. */
	assert_error(w, "GET", "/api/v1/alerts?state=open", NULL, 400, "parameter state");
	assert_error(w, "GET", "/api/v1/alerts?state=", NULL, 400, "parameter state");
	assert_error(w, "GET", "/api/v1/alerts?limit=0", NULL, 400, "parameter limit");
	assert_error(w, "GET", "/api/v1/alerts?limit=10001", NULL, 400, "parameter limit");
	assert_error(w, "GET", "/api/v1/alerts?limit=ten", NULL, 400, "parameter limit");
	assert_error(w, "GET", "/api/v1/alerts?target=abc", NULL, 400, "parameter target");
	assert_error(w, "GET", "/api/v1/alerts?target=0", NULL, 400, "parameter target");
	assert_error(w, "GET", "/api/v1/alerts?instance=-3", NULL, 400, "parameter instance");
	assert_error(w, "GET", "/api/v1/alerts?from=x", NULL, 400, "parameter from");
	assert_error(w, "GET", "/api/v1/alerts?from=5&to=1", NULL, 400, "after");
	assert_error(w, "GET", "/api/v1/alerts?target=999", NULL, 404, "target 999");
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__alert)
{
	struct web *w = start();
	const cJSON *ev, *top;
	char path[100];
	struct resp r;

	snprintf(path, sizeof(path), "/api/v1/alerts/%" PRId64, alert_id[0]);
	get(w, path, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	ck_assert_int_eq(num(r.json, "id"), alert_id[0]);
	ck_assert_str_eq(str(r.json, "state"), "resolved");
	ck_assert_int_eq(num(r.json, "baseline_snapshot"), sid[0]);
	ck_assert_int_eq(num(r.json, "trigger_snapshot"), sid[2]);
	ck_assert_str_eq(str(r.json, "summary"), "Private Data +1.50 MiB/h");
	/* The evidence is an object, not a string, and its integers exact. */
	ev = cJSON_GetObjectItemCaseSensitive(r.json, "evidence");
	ck_assert(cJSON_IsObject(ev));
	ck_assert_str_eq(str(ev, "rule"), "trend");
	top = cJSON_GetArrayItem(arr(ev, "top_regions"), 0);
	ck_assert_int_eq(num(top, "grew"), 2097152);
	ck_assert_ptr_nonnull(strstr(r.body, "\"evidence\":" EVIDENCE_JSON "}"));
	resp_free(&r);

	snprintf(path, sizeof(path), "/api/v1/alerts/%" PRId64, alert_id[2]);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.json, "evidence")));
	ck_assert_str_eq(str(r.json, "target_name"), "pid:42");
	resp_free(&r);

	assert_error(w, "GET", "/api/v1/alerts/abc", NULL, 400, "alert id");
	assert_error(w, "GET", "/api/v1/alerts/0", NULL, 400, "alert id");
	assert_error(w, "GET", "/api/v1/alerts/99999", NULL, 404, "alert 99999");
	assert_error(w, "GET", "/api/v1/alerts/1/x", NULL, 404, "no such path");
	web_stop(w);
}
END_TEST

/* ---- web_start: trend ---------------------------------------------------- */

#define MiB       UINT64_C(1048576)
#define MINUTE_MS INT64_C(60000)
#define HOUR_MS   INT64_C(3600000)

/* A database with one target "leaky": a first instance flat for 2 h, then
 * a restart whose private data grows 1 MiB a minute (60 MiB/h) for 3 h,
 * one snapshot a minute.  Returns the second instance's start and sets
 * *last_ms to its last snapshot. */
static int64_t
build_trend_db(const char *path, int64_t *target, int64_t *last_ms)
{
	struct store *st = NULL;
	int64_t start2 = T0 + 2 * HOUR_MS + MINUTE_MS, id, t = 0;
	int k;

	ck_assert_int_eq(store_open(path, 0, &st), 0);
	ck_assert_int_eq(store_target_ensure(st, "leaky", target), 0);
	for (k = 0; k < 120; k++) {
		struct snapshot *s =
		        make_snapshot(10, 100, T0, T0 + k * MINUTE_MS, "leaky", 1, 0x1000);

		put(st, *target, s, &id);
	}
	for (k = 0; k <= 180; k++) {
		struct snapshot *s = make_snapshot(11, 200, start2, t = start2 + k * MINUTE_MS,
		                                   "leaky", 0, 0x1000);
		struct region r;

		test_region(&r, NEW_BASE, 64 * MiB + (uint64_t)k * MiB, REGION_PRIVATE,
		            STATE_COMMIT, PROT_BIT_READ | PROT_BIT_WRITE,
		            64 * MiB + (uint64_t)k * MiB, 0x1000, NULL);
		ck_assert_int_eq(snapshot_add_region(s, &r), 0);
		put(st, *target, s, &id);
	}
	store_close(st);
	*last_ms = t;
	return start2;
}

START_TEST(test_web_start__trend)
{
	struct trend_params tp;
	struct web_config cfg;
	struct web *w;
	const cJSON *line, *p0, *p1, *params;
	struct resp r;
	char dir[512], dbp[600], path[200];
	int64_t tid, start2, last_ms;
	double slope = 60.0 * (double)MiB;

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(dbp, sizeof(dbp), "%s/trend.db", dir);
	start2 = build_trend_db(dbp, &tid, &last_ms);
	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = dbp;
	w = start_cfg(&cfg);

	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/trend", tid);
	get(w, path, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	ck_assert_str_eq(str(r.json, "series"), "private_committed");
	ck_assert_int_eq(num(r.json, "instance_start_ms"), start2);
	ck_assert_int_eq(num(r.json, "now_ms"), last_ms);
	ck_assert_int_eq(num(r.json, "samples"), 181); /* the newest instance only */
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "ok")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "holds")));
	ck_assert_msg(fabs(num(r.json, "slope_bytes_per_h") - slope) < 1.0, "slope %f",
	              num(r.json, "slope_bytes_per_h"));
	ck_assert_double_ge(num(r.json, "r2"), 0.999);
	ck_assert_double_le(num(r.json, "mk_p"), 0.001);
	/* Warm-up (15 min by default) dropped; the fit ends at the last point. */
	ck_assert_int_ge(num(r.json, "t0_ms"), start2 + 15 * MINUTE_MS);
	ck_assert_int_le(num(r.json, "t1_ms"), last_ms);
	ck_assert_int_ge(num(r.json, "t1_ms"), last_ms - MINUTE_MS);
	params = cJSON_GetObjectItem(r.json, "params");
	ck_assert_int_eq(num(params, "window_ms"), 6 * HOUR_MS);
	ck_assert_int_eq(num(params, "warmup_ms"), 15 * MINUTE_MS);
	/* The line: two ends of the fitted line, the slope between them. */
	line = arr(r.json, "line");
	ck_assert_int_eq(cJSON_GetArraySize(line), 2);
	p0 = cJSON_GetArrayItem(line, 0);
	p1 = cJSON_GetArrayItem(line, 1);
	ck_assert_int_eq(num(p0, "time_ms"), num(r.json, "t0_ms"));
	ck_assert_int_eq(num(p1, "time_ms"), num(r.json, "t1_ms"));
	ck_assert_double_eq(num(p0, "value"), num(r.json, "intercept"));
	ck_assert_double_eq(num(p1, "value"), num(r.json, "level"));
	ck_assert_msg(fabs((num(p1, "value") - num(p0, "value")) /
	                           ((num(p1, "time_ms") - num(p0, "time_ms")) / (double)HOUR_MS) -
	                   slope) < 1.0,
	              "line slope");
	/* The line lies on the data's floor: private data at t1 is at most
	 * 64 MiB + 180 MiB plus the heap (1 MiB), and the fit is within the
	 * trailing-minimum window (10 min) of it. */
	ck_assert_double_le(num(p1, "value"), (double)(64 + 180 + 1) * MiB + 1);
	ck_assert_double_ge(num(p1, "value"), (double)(64 + 170 + 1) * MiB - 1);
	resp_free(&r);

	/* A flat series of the same fit. */
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/trend?series=committed:heap",
	         tid);
	get(w, path, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	ck_assert_str_eq(str(r.json, "series"), "committed:heap");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "ok")));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "holds")));
	ck_assert_double_eq(num(r.json, "slope_bytes_per_h"), 0.0);
	ck_assert_double_eq(num(r.json, "level"), (double)0x100000);
	resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/trend?series=private_touched",
	         tid);
	get(w, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "ok")));
	resp_free(&r);

	/* Errors. */
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/trend?series=heap", tid);
	assert_error(w, "GET", path, NULL, 400, "parameter series");
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/trend?series=committed:nope",
	         tid);
	assert_error(w, "GET", path, NULL, 400, "parameter series");
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/trend?series=committed:free",
	         tid);
	assert_error(w, "GET", path, NULL, 400, "parameter series");
	assert_error(w, "GET", "/api/v1/targets/999/trend", NULL, 404, "target 999");
	assert_error(w, "GET", "/api/v1/targets/x/trend", NULL, 400, "target id");
	web_stop(w);

	/* The daemon's parameters: a 1 h window fits the last hour only. */
	trend_params_defaults(&tp);
	tp.window_ms = HOUR_MS;
	tp.min_span_ms = 30 * MINUTE_MS;
	cfg.trend_params = &tp;
	w = start_cfg(&cfg);
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/trend", tid);
	get(w, path, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	ck_assert_int_eq(num(cJSON_GetObjectItem(r.json, "params"), "window_ms"), HOUR_MS);
	ck_assert_int_ge(num(r.json, "t0_ms"), last_ms - HOUR_MS);
	ck_assert_int_le(num(r.json, "samples"), 61);
	ck_assert_msg(fabs(num(r.json, "slope_bytes_per_h") - slope) < 1.0, "slope");
	resp_free(&r);
	web_stop(w);
	/* Parameters trend_params_check refuses: web_start refuses them. */
	tp.step_ms = 0;
	{
		const char *why = NULL;

		cfg.port = free_port();
		ck_assert_int_eq(web_start(&cfg, &w, &why), MD_ERR_INVAL);
		ck_assert_ptr_nonnull(strstr(why, "trend"));
	}
	test_rm_rf(dir);
}
END_TEST

/* GET /trend of target @tid, parsed into @r (status 200 asserted). */
static void
get_trend(struct web *w, int64_t tid, const char *query, struct resp *r)
{
	char path[200];

	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/trend%s", tid, query);
	get(w, path, r);
	ck_assert_msg(r->status == 200, "%s", r->body);
}

/* With a runtime entry from the daemon, /trend reports the alert engine's
 * own fit (the line the UI draws is the one the engine judged), and fits
 * anything else with the target's own parameters. */
START_TEST(test_web_start__trend_engine_fit)
{
	struct web_config cfg;
	struct web_target_runtime rt;
	struct web *w;
	const cJSON *line;
	struct resp r;
	char dir[512], dbp[600];
	int64_t tid, last_ms, inst2, inst1;

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(dbp, sizeof(dbp), "%s/trend.db", dir);
	(void)build_trend_db(dbp, &tid, &last_ms);
	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = dbp;
	w = start_cfg(&cfg);

	/* No runtime: computed here, with the global parameters. */
	get_trend(w, tid, "", &r);
	ck_assert_str_eq(str(r.json, "source"), "request");
	ck_assert_int_eq(num(cJSON_GetObjectItem(r.json, "params"), "window_ms"), 6 * HOUR_MS);
	inst2 = (int64_t)num(r.json, "instance");
	inst1 = inst2 - 1;
	resp_free(&r);

	/* The target's own parameters (a 1 h window), no evaluation yet:
	 * computed here with them. */
	memset(&rt, 0, sizeof(rt));
	rt.target_id = tid;
	rt.alert_state = -1;
	rt.trend_params_set = 1;
	trend_params_defaults(&rt.trend_params);
	rt.trend_params.window_ms = HOUR_MS;
	rt.trend_params.min_span_ms = 30 * MINUTE_MS;
	web_set_targets_runtime(w, &rt, 1);
	get_trend(w, tid, "", &r);
	ck_assert_str_eq(str(r.json, "source"), "request");
	ck_assert_int_eq(num(cJSON_GetObjectItem(r.json, "params"), "window_ms"), HOUR_MS);
	ck_assert_int_ge(num(r.json, "t0_ms"), last_ms - HOUR_MS);
	ck_assert_int_le(num(r.json, "samples"), 61);
	resp_free(&r);

	/* The engine's fit of the newest instance, published: reported as is
	 * (figures no refit of this data would give). */
	rt.trend_instance_id = inst2;
	rt.trend_instance_start_ms = T0 + 7;
	rt.trend_eval_ms = last_ms - MINUTE_MS;
	rt.trend_samples = 77;
	trend_params_defaults(&rt.trend_fit_params);
	rt.trend_fit_params.window_ms = 2 * HOUR_MS;
	rt.trend_fit.ok = 1;
	rt.trend_fit.n = 42;
	rt.trend_fit.t0_ms = last_ms - 2 * HOUR_MS;
	rt.trend_fit.t1_ms = last_ms - MINUTE_MS;
	rt.trend_fit.slope_per_h = 12345.5;
	rt.trend_fit.intercept = 100000000.0;
	rt.trend_fit.level = 100024691.0;
	rt.trend_fit.start_level = 99999999.0;
	rt.trend_fit.r2 = 0.875;
	rt.trend_fit.mk_p = 0.0025;
	rt.trend_fit.holds = 0;
	rt.trend_ok = 1;
	rt.trend_slope_bytes_per_h = 12345.5;
	web_set_targets_runtime(w, &rt, 1);
	get_trend(w, tid, "", &r);
	ck_assert_str_eq(str(r.json, "source"), "engine");
	ck_assert_str_eq(str(r.json, "series"), "private_committed");
	ck_assert_int_eq(num(r.json, "instance"), inst2);
	ck_assert_int_eq(num(r.json, "instance_start_ms"), T0 + 7);
	ck_assert_int_eq(num(r.json, "now_ms"), last_ms - MINUTE_MS);
	ck_assert_int_eq(num(r.json, "samples"), 77);
	ck_assert_int_eq(num(cJSON_GetObjectItem(r.json, "params"), "window_ms"), 2 * HOUR_MS);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "ok")));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "holds")));
	ck_assert_int_eq(num(r.json, "points"), 42);
	ck_assert_int_eq(num(r.json, "t0_ms"), last_ms - 2 * HOUR_MS);
	ck_assert_int_eq(num(r.json, "t1_ms"), last_ms - MINUTE_MS);
	ck_assert_double_eq(num(r.json, "slope_bytes_per_h"), 12345.5);
	ck_assert_double_eq(num(r.json, "r2"), 0.875);
	ck_assert_double_eq(num(r.json, "mk_p"), 0.0025);
	line = arr(r.json, "line");
	ck_assert_int_eq(cJSON_GetArraySize(line), 2);
	ck_assert_int_eq(num(cJSON_GetArrayItem(line, 0), "time_ms"), last_ms - 2 * HOUR_MS);
	ck_assert_double_eq(num(cJSON_GetArrayItem(line, 0), "value"), 100000000.0);
	ck_assert_int_eq(num(cJSON_GetArrayItem(line, 1), "time_ms"), last_ms - MINUTE_MS);
	ck_assert_double_eq(num(cJSON_GetArrayItem(line, 1), "value"), 100024691.0);
	resp_free(&r);
	get_trend(w, tid, "?series=private_committed", &r);
	ck_assert_str_eq(str(r.json, "source"), "engine");
	resp_free(&r);

	/* Another series: computed here, with the target's parameters. */
	get_trend(w, tid, "?series=committed:heap", &r);
	ck_assert_str_eq(str(r.json, "source"), "request");
	ck_assert_int_eq(num(cJSON_GetObjectItem(r.json, "params"), "window_ms"), HOUR_MS);
	ck_assert_int_eq(num(r.json, "now_ms"), last_ms);
	resp_free(&r);

	/* series = private_touched: that is the default and the engine's. */
	rt.trend_fit_touched = 1;
	rt.trend_touched = 1;
	web_set_targets_runtime(w, &rt, 1);
	get_trend(w, tid, "", &r);
	ck_assert_str_eq(str(r.json, "series"), "private_touched");
	ck_assert_str_eq(str(r.json, "source"), "engine");
	ck_assert_double_eq(num(r.json, "slope_bytes_per_h"), 12345.5);
	resp_free(&r);
	get_trend(w, tid, "?series=private_committed", &r);
	ck_assert_str_eq(str(r.json, "source"), "request");
	resp_free(&r);

	/* A fit of an older instance is not the newest one's: computed here. */
	rt.trend_fit_touched = 0;
	rt.trend_touched = 0;
	rt.trend_instance_id = inst1;
	web_set_targets_runtime(w, &rt, 1);
	get_trend(w, tid, "", &r);
	ck_assert_str_eq(str(r.json, "source"), "request");
	ck_assert_int_eq(num(r.json, "instance"), inst2);
	ck_assert_msg(fabs(num(r.json, "slope_bytes_per_h") - 60.0 * (double)MiB) < 1.0, "slope");
	resp_free(&r);
	web_stop(w);
	test_rm_rf(dir);
}
END_TEST

/* Too little data to fit: ok false, an empty line. */
START_TEST(test_web_start__trend_no_data)
{
	struct web *w = start();
	char path[100];
	struct resp r;

	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/trend", target_java);
	get(w, path, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	/* Two snapshots a second apart: too little to fit. */
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "ok")));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "holds")));
	ck_assert_int_eq(num(r.json, "instance"), inst_java[1]);
	ck_assert_int_eq(num(r.json, "samples"), 2);
	ck_assert_int_eq(cJSON_GetArraySize(arr(r.json, "line")), 0);
	resp_free(&r);
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
	assert_error(w, "GET", "/metrics", NULL, 401, "token");
	request(w, "GET", "/metrics", NULL, "Authorization: Bearer " TOKEN "\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
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
	assert_error(w, "GET", "/api/v1/alerts", NULL, 503, "database");
	assert_error(w, "GET", "/metrics", NULL, 503, "database");
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

/* An error reply to a request with extra header lines @extra. */
static void
assert_error_extra(struct web *w, const char *path, const char *extra, int status, const char *word)
{
	struct resp r;

	request(w, "GET", path, NULL, extra, &r);
	ck_assert_msg(r.status == status, "GET %s with %s: status %d, expected %d (%s)", path,
	              extra, r.status, status, r.body);
	ck_assert_ptr_nonnull(r.json);
	ck_assert_msg(strstr(str(r.json, "error"), word) != NULL, "%s: error '%s' lacks '%s'", path,
	              str(r.json, "error"), word);
	ck_assert_ptr_null(header(&r, "Access-Control-Allow-Origin"));
	resp_free(&r);
}

START_TEST(test_web_start__origin)
{
	static const char *const extra[] = {"memdelta.example"};
	static const char *const paths[] = {"/",        "/index.html",     "/healthz",
	                                    "/metrics", "/api/v1/targets", "/nope"};
	struct web_config cfg;
	struct web *w;
	struct resp r;
	char line[128];
	size_t i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = db_path;
	cfg.allowed_hosts = extra;
	cfg.n_allowed_hosts = 1;
	w = start_cfg(&cfg);
	/* A foreign Origin is refused on every path, before anything else. */
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_error_extra(w, paths[i], "Origin: http://evil.example\r\n", 403,
		                   "evil.example");
		assert_error_extra(w, paths[i], "Origin: null\r\n", 403, "null");
	}
	assert_error_extra(w, "/healthz", "Origin: https://127.0.0.1.evil.example\r\n", 403,
	                   "origin");
	assert_error_extra(w, "/healthz", "Origin: http://evil.example@127.0.0.1\r\n", 403,
	                   "origin");
	assert_error_extra(w, "/healthz", "Origin: http://127.0.0.1/x\r\n", 403, "origin");
	assert_error_extra(w, "/healthz", "Origin: ftp://127.0.0.1\r\n", 403, "origin");
	assert_error_extra(w, "/healthz", "Origin: http://\r\n", 403, "origin");
	/* The daemon's own names, with or without a port, and allowed_hosts. */
	snprintf(line, sizeof(line), "Origin: http://127.0.0.1:%u\r\n", (unsigned)web_port(w));
	request(w, "GET", "/api/v1/targets", NULL, line, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(header(&r, "Access-Control-Allow-Origin"));
	resp_free(&r);
	request(w, "GET", "/healthz", NULL, "Origin: http://localhost\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	request(w, "GET", "/healthz", NULL, "Origin: https://[::1]:7373\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	request(w, "GET", "/healthz", NULL, "Origin: https://MemDelta.Example\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	/* A preflight gets no CORS answer: 405 from the own origin, 403 else. */
	request(w, "OPTIONS", "/api/v1/targets", NULL,
	        "Origin: http://localhost\r\nAccess-Control-Request-Method: GET\r\n", &r);
	ck_assert_int_eq(r.status, 405);
	ck_assert_ptr_null(header(&r, "Access-Control-Allow-Origin"));
	ck_assert_ptr_null(header(&r, "Access-Control-Allow-Methods"));
	resp_free(&r);
	request(w, "OPTIONS", "/api/v1/targets", NULL,
	        "Origin: http://evil.example\r\nAccess-Control-Request-Method: GET\r\n", &r);
	ck_assert_int_eq(r.status, 403);
	ck_assert_ptr_null(header(&r, "Access-Control-Allow-Origin"));
	resp_free(&r);
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__query_rules)
{
	struct web *w = start();
	char path[640], q[512];
	size_t i, n;

	/* A parameter given twice: which one would count?  400, naming it. */
	snprintf(path, sizeof(path), "/api/v1/diff?a=%" PRId64 "&b=%" PRId64 "&a=%" PRId64, sid[0],
	         sid[1], sid[1]);
	assert_error(w, "GET", path, NULL, 400, "parameter a is given more than once");
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/timeline?points=5&points=5",
	         target_java);
	assert_error(w, "GET", path, NULL, 400, "points");
	assert_error(w, "GET", "/api/v1/targets?x&x", NULL, 400, "more than once");
	assert_error(w, "GET", "/healthz?a=1&a=2", NULL, 400, "more than once");
	/* More than 16 parameters. */
	for (i = 0, n = 0; i < 17; i++)
		n += (size_t)snprintf(q + n, sizeof(q) - n, "%sp%zu=1", i ? "&" : "", i);
	snprintf(path, sizeof(path), "/api/v1/targets?%s", q);
	assert_error(w, "GET", path, NULL, 400, "more than 16");
	/* 16 distinct ones are fine (unknown names are ignored). */
	q[strlen(q) - strlen("&p16=1")] = '\0';
	snprintf(path, sizeof(path), "/api/v1/targets?%s", q);
	{
		struct resp r;

		get(w, path, &r);
		ck_assert_int_eq(r.status, 200);
		resp_free(&r);
	}
	/* An escaped NUL or control character is not decoded: the value
	 * is malformed, and a path with one is unknown. */
	snprintf(path, sizeof(path), "/api/v1/diff?a=%" PRId64 "%%00&b=%" PRId64, sid[0], sid[1]);
	assert_error(w, "GET", path, NULL, 400, "parameter a");
	snprintf(path, sizeof(path), "/api/v1/diff?a=%" PRId64 "&b=%" PRId64 "%%0a", sid[0],
	         sid[1]);
	assert_error(w, "GET", path, NULL, 400, "parameter b");
	assert_error(w, "GET", "/index.html%00.png", NULL, 404, "no such path");
	assert_error(w, "GET", "/index.html%00", NULL, 404, "no such path");
	assert_error(w, "GET", "/api/v1/alerts?state=firing%00", NULL, 400, "state");
	/* Numbers: no exponent, no overflow, ids positive, points bounded. */
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/timeline?from=1e30", target_java);
	assert_error(w, "GET", path, NULL, 400, "parameter from");
	snprintf(path, sizeof(path), "/api/v1/targets/%" PRId64 "/snapshots?to=9223372036854775808",
	         target_java);
	assert_error(w, "GET", path, NULL, 400, "parameter to");
	snprintf(path, sizeof(path),
	         "/api/v1/targets/%" PRId64 "/timeline?points=18446744073709551617", target_java);
	assert_error(w, "GET", path, NULL, 400, "points");
	assert_error(w, "GET", "/api/v1/targets/-1/timeline", NULL, 400, "target id");
	assert_error(w, "GET", "/api/v1/targets/99999999999999999999/timeline", NULL, 400,
	             "target id");
	assert_error(w, "GET", "/api/v1/snapshots/-3", NULL, 400, "snapshot id");
	assert_error(w, "GET", "/api/v1/alerts?limit=10001", NULL, 400, "limit");
	assert_error(w, "GET", "/api/v1/alerts?target=-4", NULL, 400, "target");
	/* The widest range is valid. */
	snprintf(path, sizeof(path),
	         "/api/v1/targets/%" PRId64
	         "/timeline?from=-9223372036854775808&to=9223372036854775807&points=5000",
	         target_java);
	{
		struct resp r;

		get(w, path, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_int_eq(cJSON_GetArraySize(arr(r.json, "points")), 5);
		resp_free(&r);
	}
	web_stop(w);
}
END_TEST

/* Read on @fd until the server closes it or @secs pass; returns the bytes
 * read (-1: not closed in time). */
static ssize_t
read_until_closed(int fd, int secs, char *buf, size_t size)
{
	struct timeval tv = {secs, 0};
	size_t len = 0;
	ssize_t got;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		got = read(fd, buf + len, size - 1 - len);
		if (got == 0)
			break;
		if (got < 0)
			return errno == ECONNRESET ? (ssize_t)len : -1;
		len += (size_t)got;
		if (len == size - 1)
			return -1;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

START_TEST(test_web_start__request_framing)
{
	static const char *const reqs[] = {
	        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n"
	        "Content-Length: 2\r\n\r\nab",
	        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n"
	        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	        "1\r\na\r\n0\r\n\r\n",
	        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n\r\nbody",
	};
	static const char *const why[] = {"more than one Content-Length",
	                                  "both Content-Length and Transfer-Encoding",
	                                  "request body", "request body"};
	struct web *w = start();
	char buf[4096];
	size_t i;
	int fd;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		fd = connect_raw(w);
		ck_assert_int_eq(write(fd, reqs[i], strlen(reqs[i])), (ssize_t)strlen(reqs[i]));
		/* Answered and closed at once: no second request on it. */
		ck_assert_int_ge(read_until_closed(fd, 5, buf, sizeof(buf)), 0);
		close(fd);
		ck_assert_msg(strncmp(buf, "HTTP/1.1 400 ", 13) == 0, "request %zu: %.40s", i, buf);
		ck_assert_msg(strstr(buf, why[i]) != NULL, "request %zu: %s", i, buf);
	}
	/* Content-Length: 0 is no body. */
	fd = connect_raw(w);
	{
		static const char ok[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		                         "Content-Length: 0\r\nConnection: close\r\n\r\n";

		ck_assert_int_eq(write(fd, ok, sizeof(ok) - 1), (ssize_t)sizeof(ok) - 1);
	}
	ck_assert_int_ge(read_until_closed(fd, 5, buf, sizeof(buf)), 0);
	close(fd);
	ck_assert_msg(strncmp(buf, "HTTP/1.1 200 ", 13) == 0, "%.40s", buf);
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__keepalive)
{
	static const char two[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
	                          "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	struct web_config cfg;
	struct timespec t0, t1;
	struct web *w;
	char buf[65536];
	const char *p;
	double secs;
	int fd, n200 = 0;
	ssize_t len;

	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = db_path;
	cfg.timeout_s = 1;
	w = start_cfg(&cfg);
	/* Two requests answered on one connection, which then stays open
	 * until the timeout: keep-alive. */
	fd = connect_raw(w);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(write(fd, two, sizeof(two) - 1), (ssize_t)sizeof(two) - 1);
	len = read_until_closed(fd, 10, buf, sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	ck_assert_int_gt(len, 0);
	for (p = buf; (p = strstr(p, "HTTP/1.1 200 ")) != NULL; p++)
		n200++;
	ck_assert_int_eq(n200, 2);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs > 0.8 && secs < 3, "idle keep-alive closed after %.1f s", secs);
	web_stop(w);
}
END_TEST

START_TEST(test_web_start__header_deadline)
{
	struct web_config cfg;
	struct timespec t0, t1;
	struct web *w;
	char buf[4096];
	double secs;
	int fd;

	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = db_path;
	cfg.timeout_s = 1;
	w = start_cfg(&cfg);
	/* A header trickling in, one byte every 300 ms, is cut by the 1 s
	 * deadline although bytes keep coming (libmicrohttpd's idle timeout
	 * alone would never fire). */
	{
		static const char slow[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
		                           "ssssssssssssssssssssssssssssssssssssssss\r\n\r\n";
		struct timeval tv = {0, 300 * 1000};
		size_t i;
		ssize_t got = 1;

		fd = connect_raw(w);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		signal(SIGPIPE, SIG_IGN);
		for (i = 0; i < sizeof(slow) - 1; i++) {
			if (write(fd, slow + i, 1) != 1)
				break;
			got = read(fd, buf, sizeof(buf));
			if (got >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		close(fd);
		secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		ck_assert_msg(i < sizeof(slow) - 1, "the whole slow header went through");
		ck_assert_msg(got <= 0, "the slow header got an answer");
		ck_assert_msg(secs > 0.8 && secs < 3, "slow header cut after %.1f s", secs);
	}
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
	struct web_target_runtime rt[2] = {{.target_id = target_java,
	                                    .ticks = 1,
	                                    .last_cost_ns = 10,
	                                    .interval_s = 5,
	                                    .watching = 1,
	                                    .alert_state = -1,
	                                    .regions = 3,
	                                    .full_reads = 1},
	                                   {.target_id = target_other,
	                                    .ticks = 7,
	                                    .ticks_missed = 2,
	                                    .last_cost_ns = 20,
	                                    .interval_s = 60,
	                                    .alert_state = -1,
	                                    .regions = 2,
	                                    .full_reads = 3,
	                                    .probe_hits = 4}};
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
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(run, "trend_slope_bytes_per_h")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(run, "alert_state")));
	ck_assert_str_eq(str(cJSON_GetArrayItem(list, 1), "trend"), "none");
	resp_free(&r);

	/* A fitted trend: "flat" without an open alert, "rising" with one. */
	rt[0].trend_ok = 1;
	rt[0].trend_slope_bytes_per_h = 1536.25;
	rt[0].alert_state = ALERT_FIRING;
	rt[1].trend_ok = 1;
	rt[1].alert_state = ALERT_RESOLVED;
	web_set_targets_runtime(w, rt, 2);
	get(w, "/api/v1/targets", &r);
	list = arr(r.json, "targets");
	ck_assert_str_eq(str(cJSON_GetArrayItem(list, 0), "trend"), "rising");
	run = cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "runtime");
	ck_assert_double_eq(num(run, "trend_slope_bytes_per_h"), 1536.25);
	ck_assert_str_eq(str(run, "alert_state"), "firing");
	ck_assert_str_eq(str(cJSON_GetArrayItem(list, 1), "trend"), "flat");
	run = cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "runtime");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(run, "alert_state")));
	ck_assert_double_eq(num(run, "trend_slope_bytes_per_h"), 0.0);
	resp_free(&r);
	rt[0].alert_state = ALERT_PENDING;
	web_set_targets_runtime(w, rt, 2);
	get(w, "/api/v1/targets", &r);
	list = arr(r.json, "targets");
	ck_assert_str_eq(str(cJSON_GetArrayItem(list, 0), "trend"), "rising");
	ck_assert_str_eq(
	        str(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "runtime"), "alert_state"),
	        "pending");
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
	tcase_add_test(tc, test_web_start__targets_spark);
	tcase_add_test(tc, test_web_start__instances);
	tcase_add_test(tc, test_web_start__snapshots);
	tcase_add_test(tc, test_web_start__timeline);
	tcase_add_test(tc, test_web_start__snapshot_json);
	tcase_add_test(tc, test_web_start__snapshot_csv);
	tcase_add_test(tc, test_web_start__diff);
	tcase_add_test(tc, test_web_start__healthz);
	tcase_add_test(tc, test_web_start__metrics);
	tcase_add_test(tc, test_web_start__metrics_escaping);
	tcase_add_test(tc, test_web_start__alerts);
	tcase_add_test(tc, test_web_start__alert);
	tcase_add_test(tc, test_web_start__trend);
	tcase_add_test(tc, test_web_start__trend_no_data);
	tcase_add_test(tc, test_web_start__trend_engine_fit);
	tcase_add_test(tc, test_web_start__static);
	tcase_add_test(tc, test_web_start__errors);
	tcase_add_test(tc, test_web_start__hosts);
	tcase_add_test(tc, test_web_start__origin);
	tcase_add_test(tc, test_web_start__query_rules);
	tcase_add_test(tc, test_web_start__request_framing);
	tcase_add_test(tc, test_web_start__keepalive);
	tcase_add_test(tc, test_web_start__header_deadline);
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
