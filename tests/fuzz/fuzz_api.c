/*
 * fuzz_api.c - libFuzzer target: the JSON API's routing and parameter
 * parsing (web/api.c, api_dispatch and web_metrics) on arbitrary request
 * targets, against a real database.
 *
 * LLVMFuzzerInitialize builds a SQLite database in a scratch directory
 * through the store API (three targets, one of them restarted, 40 snapshots
 * whose heap grows, three alerts), opens it read-only as the server's pool
 * threads do, and starts a real server (web_start on 127.0.0.1, an
 * ephemeral port) for the struct web that the endpoints read their runtime
 * figures from; no HTTP request is made: each input is handed to the code
 * handle_request() calls, as handle_request() would.
 *
 * The input is the request target of a GET line ("/api/v1/diff?a=1&b=2").
 * It is split and decoded as libmicrohttpd does before the handler sees it:
 * the path up to '?' percent-decoded, the query split on '&' into
 * key[=value] pairs, '+' made a space and percent-decoded, a lookup
 * returning the first pair of that key (NULL for a key without '=').  Then
 * "/api/v1/..." goes to api_dispatch(), "/healthz" to api_dispatch() with a
 * NULL path, "/metrics" to web_metrics(), anything else to the lookup of the
 * embedded UI files, web_static_find(), which must find a file only at its
 * own path.
 *
 * Every reply must have a status the API documents (200, 400, 404, 414) and
 * never 500 or 503, which here could only mean a parameter broke a query; a
 * body; a JSON body that parses, an error body that is {"error": "..."}; a
 * snapshot reply naming the snapshot asked for; text bodies without NUL.
 * MD_FUZZ_VERBOSE=1 prints each request's status and the start of its body.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "snapshot/store.h"
#include "tests/fuzz/fuzz.h"
#include "web/web.h"
#include "web/web_int.h"
#include "web/web_static.h"

#define T0          INT64_C(1700000000000)
#define N_SNAPSHOTS 40
#define MAX_ARGS    64

static char scratch[256], db_path[300];
static struct store *reader;
static struct web *server;
static int verbose; /* MD_FUZZ_VERBOSE=1: print each request's status */

#define SETUP(call)                                                                                \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_ != 0) {                                                                    \
			fprintf(stderr, "fuzz_api: setup: %s: %s\n", #call, md_strerror(rc_));     \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

/* ---- the database ------------------------------------------------------- */

static void
add(struct snapshot *s, uint64_t base, uint64_t size, enum region_type type,
    enum region_state state, unsigned prot, const char *detail)
{
	struct region r;

	memset(&r, 0, sizeof(r));
	r.base = base;
	r.size = size;
	r.allocation_base = base;
	r.type = type;
	r.state = state;
	r.protection = prot;
	r.committed = state == STATE_COMMIT ? size : 0;
	r.resident = state == STATE_COMMIT ? size / 2 : 0;
	r.private_resident = type == REGION_IMAGE ? 0 : r.resident;
	r.shared_resident = r.resident - r.private_resident;
	r.detail = detail;
	SETUP(snapshot_add_region(s, &r));
}

/* Snapshot @k of a process whose heap grows by 1 MiB per snapshot. */
static struct snapshot *
make_snapshot(int pid, uint64_t start_time, int64_t time_ms, const char *name, int k)
{
	struct snapshot *s = NULL;
	const unsigned rw = PROT_BIT_READ | PROT_BIT_WRITE;

	SETUP(snapshot_new(&s));
	s->pid = pid;
	s->start_time = start_time;
	s->start_time_ms = T0 - 60000;
	s->time_ms = time_ms;
	snprintf(s->name, sizeof(s->name), "%s", name);
	SETUP(snapshot_set_cmdline(s, "java -Xmx1g -jar \"app.jar\", with, commas"));
	s->page_table_bytes = 65536;
	add(s, 0x400000, 0x10000, REGION_IMAGE, STATE_COMMIT, PROT_BIT_READ | PROT_BIT_EXEC,
	    "/usr/bin/java");
	add(s, 0x410000, 0x4000, REGION_IMAGE, STATE_COMMIT, rw, "/usr/bin/java [.bss]");
	add(s, 0x1000000, 0x100000 * (uint64_t)(k + 1), REGION_HEAP, STATE_COMMIT, rw, "[heap]");
	add(s, 0x7f0000000000, 0x4000000, REGION_HEAP, STATE_RESERVE, 0, "arena tail");
	add(s, 0x7f1000000000, 0x200000, REGION_MAPPED, STATE_COMMIT, PROT_BIT_READ,
	    "/data/file with spaces (deleted)");
	add(s, 0x7f2000000000, 0x100000, REGION_SHAREABLE, STATE_COMMIT, rw | PROT_BIT_SHARED,
	    "/dev/shm/x");
	if (k % 3 == 1)
		add(s, 0x7f3000000000, 0x800000, REGION_PRIVATE, STATE_COMMIT, rw, "");
	add(s, 0x7ffd00000000, 0x1000, REGION_STACK, STATE_RESERVE, 0, "guard page");
	add(s, 0x7ffd00001000, 0x800000, REGION_STACK, STATE_COMMIT, rw, "[stack] main thread");
	return s;
}

static void
put_alert(struct store *st, int64_t target, int64_t instance, enum alert_state state,
          int64_t baseline, int64_t trigger, const char *series)
{
	struct store_alert a;

	memset(&a, 0, sizeof(a));
	a.target_id = target;
	a.instance_id = instance;
	snprintf(a.rule, sizeof(a.rule), "trend");
	snprintf(a.series, sizeof(a.series), "%s", series);
	a.state = state;
	a.started_ms = T0 + 1000;
	a.fired_ms = state != ALERT_PENDING ? T0 + 5000 : 0;
	a.resolved_ms = state == ALERT_RESOLVED ? T0 + 9000 : 0;
	a.updated_ms = T0 + 9000;
	a.baseline_snapshot_id = baseline;
	a.trigger_snapshot_id = trigger;
	a.slope_bytes_per_h = 1048576.0 * 360;
	a.pct_per_h = 12.5;
	a.r2 = 0.99;
	a.mk_p = 1e-6;
	a.value = 0x2000000;
	a.summary = (char *)"Heap +360 MiB/h";
	a.evidence_json = (char *)"{\"rule\":\"trend\",\"top_regions\":[]}";
	SETUP(store_alert_put(st, &a));
}

static void
build_db(void)
{
	struct store *st = NULL;
	struct store_instance_info *inst = NULL;
	size_t n_inst = 0;
	int64_t target[3], ids[N_SNAPSHOTS];

	SETUP(store_open(db_path, 0, &st));
	SETUP(store_target_ensure(st, "java", &target[0]));
	SETUP(store_target_ensure(st, "pid:42", &target[1]));
	SETUP(store_target_ensure(st, "w3wp.exe \"quoted\"", &target[2]));
	for (int k = 0; k < N_SNAPSHOTS; k++) {
		/* java restarts halfway; the others alternate with it. */
		int t = k % 4 == 3 ? 1 : k % 4 == 2 ? 2 : 0;
		int pid = t == 0 ? (k < N_SNAPSHOTS / 2 ? 100 : 200) : 42 + t;
		struct snapshot *s = make_snapshot(pid, (uint64_t)pid * 1000, T0 + k * 10000,
		                                   t == 0 ? "java" : "other", k);

		SETUP(store_put_snapshot(st, target[t], s, &ids[k]));
		snapshot_free(s);
	}
	SETUP(store_list_instances(st, target[0], &inst, &n_inst));
	if (n_inst < 2) {
		fprintf(stderr, "fuzz_api: setup: %zu instances of java\n", n_inst);
		exit(1);
	}
	put_alert(st, target[0], inst[0].id, ALERT_RESOLVED, ids[0], ids[8], "private_committed");
	put_alert(st, target[0], inst[1].id, ALERT_FIRING, ids[N_SNAPSHOTS / 2],
	          ids[N_SNAPSHOTS - 4], "committed:heap");
	free(inst);
	SETUP(store_list_instances(st, target[1], &inst, &n_inst));
	put_alert(st, target[1], inst[0].id, ALERT_PENDING, 0, 0, "private_touched");
	free(inst);
	store_close(st);
}

static void
cleanup(void)
{
	web_stop(server);
	store_close(reader);
	if (scratch[0] != '\0') {
		char path[400];

		for (const char *const *sfx = (const char *const[]){"", "-wal", "-shm", NULL};
		     *sfx != NULL; sfx++) {
			snprintf(path, sizeof(path), "%s%s", db_path, *sfx);
			unlink(path);
		}
		rmdir(scratch);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	struct web_config cfg;
	struct web_health h;
	struct web_target_runtime rt[2];
	const char *why = NULL;

	snprintf(scratch, sizeof(scratch), "%s/memdelta-fuzz-api-XXXXXX",
	         tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(scratch) == NULL) {
		perror("fuzz_api: mkdtemp");
		exit(1);
	}
	atexit(cleanup);
	verbose = getenv("MD_FUZZ_VERBOSE") != NULL;
	snprintf(db_path, sizeof(db_path), "%s/memdelta.db", scratch);
	build_db();
	SETUP(store_open(db_path, STORE_READONLY, &reader));

	memset(&cfg, 0, sizeof(cfg));
	cfg.listen_addr = "127.0.0.1";
	cfg.db_path = db_path;
	cfg.threads = 1;
	{
		/* web_start takes port 0 for the default port (7373): try
		 * free ports from one drawn from the pid instead. */
		int rc = MD_ERR_IO;

		for (unsigned port = 20000 + (unsigned)(getpid() % 20000), tries = 0;
		     rc == MD_ERR_IO && tries < 50; tries++, port = 20000 + (port + 7919) % 40000) {
			cfg.port = (uint16_t)port;
			rc = web_start(&cfg, &server, &why);
		}
		if (rc != 0) {
			fprintf(stderr, "fuzz_api: setup: web_start: %s\n",
			        why ? why : md_strerror(rc));
			exit(1);
		}
	}
	memset(&h, 0, sizeof(h));
	h.storage_ok = 1;
	h.snapshots_written = N_SNAPSHOTS;
	h.started_ms = T0;
	h.last_snapshot_ms = T0 + N_SNAPSHOTS * 10000;
	h.targets = 2;
	web_set_health(server, &h);
	memset(rt, 0, sizeof(rt));
	rt[0].target_id = 1;
	rt[0].ticks = 30;
	rt[0].interval_s = 10;
	rt[0].watching = 1;
	rt[0].trend_ok = 1;
	rt[0].trend_slope_bytes_per_h = 377487360.0;
	rt[0].alert_state = ALERT_FIRING;
	rt[1].target_id = 2;
	rt[1].alert_state = -1;
	web_set_targets_runtime(server, rt, 2);
	return 0;
}

/* ---- the request -------------------------------------------------------- */

struct args {
	char *key[MAX_ARGS], *value[MAX_ARGS];
	size_t n;
};

static int
hex(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/* Percent-decode @s in place ('+' to ' ' first when @plus); a bad escape
 * stays as it is. */
static void
unescape(char *s, int plus)
{
	char *w = s;

	for (; *s != '\0'; s++) {
		if (*s == '%' && hex(s[1]) >= 0 && hex(s[2]) >= 0) {
			*w++ = (char)(hex(s[1]) << 4 | hex(s[2]));
			s += 2;
		} else {
			*w++ = plus && *s == '+' ? ' ' : *s;
		}
	}
	*w = '\0';
}

static const char *
get(void *arg, const char *name)
{
	const struct args *a = arg;

	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->key[i], name) == 0)
			return a->value[i];
	return NULL;
}

static void
split_query(char *q, struct args *a)
{
	a->n = 0;
	while (q != NULL && *q != '\0' && a->n < MAX_ARGS) {
		char *amp = strchr(q, '&'), *eq;

		if (amp != NULL)
			*amp++ = '\0';
		eq = strchr(q, '=');
		if (eq != NULL)
			*eq++ = '\0';
		if (*q != '\0') {
			unescape(q, 1);
			if (eq != NULL)
				unescape(eq, 1);
			a->key[a->n] = q;
			a->value[a->n] = eq;
			a->n++;
		}
		q = amp;
	}
}

static void
check_reply(const struct web_reply *rep, const char *path)
{
	FUZZ_CHECK(rep->status == 200 || rep->status == 400 || rep->status == 404 ||
	           rep->status == 414);
	FUZZ_CHECK(rep->body != NULL && rep->len > 0 && rep->content_type != NULL);
	if (strncmp(rep->content_type, "application/json", 16) == 0) {
		cJSON *root = cJSON_ParseWithLength(rep->body, rep->len);

		FUZZ_CHECK(root != NULL && cJSON_IsObject(root));
		if (rep->status != 200) {
			FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "error")));
		} else if (path != NULL && strncmp(path, "snapshots/", 10) == 0) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");

			FUZZ_CHECK(cJSON_IsNumber(id) &&
			           (int64_t)id->valuedouble == strtoll(path + 10, NULL, 10));
		}
		cJSON_Delete(root);
	} else {
		FUZZ_CHECK(rep->status == 200);
		FUZZ_CHECK(memchr(rep->body, '\0', rep->len) == NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1), *q;
	struct args a;
	struct web_query query;
	struct web_reply rep;
	int rc;

	FUZZ_CHECK(url != NULL);
	memcpy(url, data, size);
	url[size] = '\0';
	q = strchr(url, '?');
	if (q != NULL)
		*q++ = '\0';
	unescape(url, 0);
	split_query(q, &a);
	memset(&query, 0, sizeof(query));
	query.get = get;
	query.arg = &a;
	memset(&rep, 0, sizeof(rep));
	if (strncmp(url, "/api/v1/", 8) == 0) {
		rc = api_dispatch(server, reader, url + 8, &query, &rep);
		FUZZ_CHECK(rc == 0);
		check_reply(&rep, url + 8);
	} else if (strcmp(url, "/healthz") == 0) {
		rc = api_dispatch(server, reader, NULL, &query, &rep);
		FUZZ_CHECK(rc == 0);
		check_reply(&rep, NULL);
	} else if (strcmp(url, "/metrics") == 0) {
		rc = web_metrics(server, reader, &rep);
		FUZZ_CHECK(rc == 0);
		check_reply(&rep, NULL);
	} else {
		/* The UI: only an embedded file's own path finds it. */
		const struct web_static_file *f = web_static_find(url);

		if (f != NULL)
			FUZZ_CHECK(strcmp(f->path, url) == 0 ||
			           (strcmp(url, "/") == 0 && strcmp(f->path, "/index.html") == 0));
		FUZZ_CHECK(web_static_content_type(url) != NULL);
	}
	if (verbose)
		fprintf(stderr, "fuzz_api: %u %.*s <- %s\n", rep.status,
		        rep.len > 120 ? 120 : (int)rep.len, rep.body ? rep.body : "", url);
	free(rep.body);
	free(url);
	return 0;
}
