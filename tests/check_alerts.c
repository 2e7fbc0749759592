/*
 * check_alerts.c - unit tests of memdeltad's alert engine (daemon/alerts.c);
 * its sinks are tested by check_sinks.c.  The engine runs on a real SQLite file and
 * is fed synthetic snapshots of a process whose heap, private data or mapped
 * files grow (or saw-tooth, or plateau after warm-up) one snapshot every
 * 10 s, with the detector scaled down (warm-up 60 s, window 20 min, step
 * 10 s, evaluation every 30 s).  Asserted: one alert naming the right type
 * and series, its attribution shares and top region equal to the diff of
 * its baseline and trigger snapshots, the link to that diff, no alert for
 * sawtooth and plateau, touched private memory that grows while committed
 * stays flat (one alert on private_touched) and with it (one alert on
 * private_committed), restarts, the threshold and map-count rules, the
 * runtime figures, a restarted engine picking up its open alert, and the
 * evidence snapshots surviving store_prune.
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "daemon/alerts.h"
#include "daemon/daemon_config.h"
#include "daemon/sinks.h"
#include "diff/diff.h"
#include "snapshot/store.h"
#include "tests/testutil.h"

#define PAGE    4096u
#define STEP_MS INT64_C(10000)
#define T0      INT64_C(1700000000000)
#define MIB     (1024u * 1024u)

/* ---- a synthetic process ------------------------------------------------ */

struct proc {
	int pid;
	uint64_t start_time;
	uint64_t heap, priv, mapped, stack;
	unsigned extra_regions; /* one-page image regions (map count) */
	/* A pool of private data committed up front (pool bytes) of which
	 * pool_used are touched: committed flat while touched grows. */
	uint64_t pool, pool_used;
};

static struct snapshot *
proc_snapshot(const struct proc *p, int64_t time_ms)
{
	struct snapshot *s = NULL;
	struct region r;
	unsigned rw = PROT_BIT_READ | PROT_BIT_WRITE;

	ck_assert_int_eq(snapshot_new(&s), 0);
	s->pid = p->pid;
	s->start_time = p->start_time;
	s->start_time_ms = T0 + (int64_t)p->start_time; /* start_time: ms after T0 */
	s->time_ms = time_ms;
	snprintf(s->name, sizeof(s->name), "leaky");
	test_region(&r, 0x400000, 0x10000, REGION_IMAGE, STATE_COMMIT,
	            PROT_BIT_READ | PROT_BIT_EXEC, 0, 0x8000, "/usr/bin/leaky");
	ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	test_region(&r, 0x1000000, p->heap, REGION_HEAP, STATE_COMMIT, rw, p->heap, p->heap,
	            "[heap]");
	r.private_resident = p->heap;
	ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	for (unsigned i = 0; i < p->extra_regions; i++) {
		test_region(&r, 0x70000000000 + (uint64_t)i * 2 * PAGE, PAGE, REGION_IMAGE,
		            STATE_COMMIT, PROT_BIT_READ, 0, 0, "/usr/lib/libmany.so");
		ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	}
	test_region(&r, 0x7f0000000000, p->priv, REGION_PRIVATE, STATE_COMMIT, rw, p->priv, p->priv,
	            "");
	r.private_resident = p->priv;
	ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	if (p->pool > 0) {
		test_region(&r, 0x7f0800000000, p->pool, REGION_PRIVATE, STATE_COMMIT, rw, p->pool,
		            p->pool_used, "[anon:pool]");
		r.private_resident = p->pool_used;
		ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	}
	if (p->mapped > 0) {
		test_region(&r, 0x7f1000000000, p->mapped, REGION_MAPPED, STATE_COMMIT, rw,
		            p->mapped, p->mapped, "/var/lib/app/cache.bin");
		ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	}
	test_region(&r, 0x7ffc00000000, p->stack, REGION_STACK, STATE_COMMIT, rw, p->stack, 0x5000,
	            "[stack]");
	ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	return s;
}

struct rig {
	char dir[4096];
	char db[4200];
	struct store *st;
	struct alerts *al;
	int64_t target;
	struct alert_params p;
};

static void
rig_params(struct alert_params *p)
{
	struct config c;

	config_init(&c, NULL);
	*p = c.alerts;
	config_done(&c);
	p->trend.warmup_ms = 60000;
	p->trend.window_ms = 20 * 60000;
	p->trend.min_span_ms = 5 * 60000;
	p->trend.step_ms = STEP_MS;
	p->trend.min_window_ms = 30000;
	p->trend.fire_after = 3;
	p->trend.resolve_after = 5;
	p->eval_interval_s = 30;
	p->map_count_fraction = 0;
}

static void
rig_open(struct rig *g)
{
	int n = snprintf(g->dir, sizeof(g->dir), "%s", test_scratch_dir());

	ck_assert(n > 0 && (size_t)n < sizeof(g->dir));
	snprintf(g->db, sizeof(g->db), "%s/store.db", g->dir);
	ck_assert_int_eq(store_open(g->db, 0, &g->st), 0);
	ck_assert_int_eq(store_target_ensure(g->st, "leaky", &g->target), 0);
	ck_assert_int_eq(alerts_new(g->st, NULL, &g->al), 0);
	rig_params(&g->p);
}

static void
rig_close(struct rig *g)
{
	alerts_free(g->al);
	store_close(g->st);
	test_rm_rf(g->dir);
}

/* Store a snapshot of @p at @time_ms and feed it to the engine. */
static int64_t
feed(struct rig *g, const struct proc *p, int64_t time_ms)
{
	struct snapshot *s = proc_snapshot(p, time_ms);
	int64_t sid = 0;

	ck_assert_int_eq(store_put_snapshot(g->st, g->target, s, &sid), 0);
	alerts_on_snapshot(g->al, g->target, "leaky", &g->p, sid, s);
	snapshot_free(s);
	return sid;
}

static size_t
list_alerts(struct rig *g, struct store_alert **v)
{
	struct store_alert_filter f = {0, 0, -1, INT64_MIN, INT64_MAX, 0};
	size_t n = 0;

	ck_assert_int_eq(store_list_alerts(g->st, &f, v, &n), 0);
	return n;
}

static cJSON *
evidence(const struct store_alert *a)
{
	cJSON *o;

	ck_assert_ptr_nonnull(a->evidence_json);
	o = cJSON_Parse(a->evidence_json);
	ck_assert_msg(o != NULL, "evidence is not JSON: %s", a->evidence_json);
	return o;
}

static const char *
jstr(const cJSON *o, const char *name)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);

	ck_assert_msg(cJSON_IsString(x), "no string '%s'", name);
	return x->valuestring;
}

static double
jnum(const cJSON *o, const char *name)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);

	ck_assert_msg(cJSON_IsNumber(x), "no number '%s'", name);
	return x->valuedouble;
}

/* The committed bytes of type @t in snapshot @id. */
static uint64_t
committed_of(struct store *st, int64_t id, enum region_type t)
{
	struct snapshot_totals tot;

	ck_assert_int_eq(store_get_totals(st, id, &tot), 0);
	return tot.by_type[t].committed;
}

/* ---- alerts_on_snapshot ---------------------------------------------------- */

START_TEST(test_alerts_on_snapshot__heap_leak_one_alert_attributed)
{
	struct rig g;
	struct proc p = {100, 5000, 8 * MIB, 2 * MIB, 0, 0x21000, 0, 0, 0};
	struct store_alert *v = NULL;
	const cJSON *types, *regions, *r0, *trend;
	struct web_target_runtime rt;
	cJSON *o;
	char link[64];
	size_t n;
	int k;

	rig_open(&g);
	/* 40 minutes, 64 KiB of heap every 10 s (22.5 MiB/h) */
	for (k = 0; k < 240; k++) {
		feed(&g, &p, T0 + 5000 + k * STEP_MS);
		p.heap += 64 * 1024;
	}
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].rule, "trend");
	ck_assert_str_eq(v[0].series, "private_committed");
	ck_assert_int_eq(v[0].state, ALERT_FIRING);
	ck_assert_int_gt(v[0].fired_ms, v[0].started_ms);
	/* it fired within 10 minutes of the start (warm-up 1, min span 5) */
	ck_assert_int_lt(v[0].fired_ms, T0 + 10 * 60000);
	ck_assert(fabs(v[0].slope_bytes_per_h - 360.0 * 64 * 1024) < 0.05 * 360 * 64 * 1024);
	ck_assert_int_ne(v[0].baseline_snapshot_id, 0);
	ck_assert_int_gt(v[0].trigger_snapshot_id, v[0].baseline_snapshot_id);

	o = evidence(&v[0]);
	ck_assert_str_eq(jstr(o, "state"), "firing");
	ck_assert_str_eq(jstr(o, "type"), "heap");
	ck_assert_int_eq((int64_t)jnum(o, "id"), v[0].id);
	types = cJSON_GetObjectItemCaseSensitive(o, "types");
	ck_assert_int_ge(cJSON_GetArraySize(types), 1);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(types, 0), "type"), "heap");
	ck_assert(jnum(cJSON_GetArrayItem(types, 0), "share") > 0.99);
	/* the top region is the heap, grown by exactly the difference between
	 * the baseline and the trigger snapshot */
	regions = cJSON_GetObjectItemCaseSensitive(o, "regions");
	ck_assert_int_eq(cJSON_GetArraySize(regions), 1);
	r0 = cJSON_GetArrayItem(regions, 0);
	ck_assert_uint_eq((uint64_t)jnum(r0, "base"), 0x1000000);
	ck_assert_uint_eq((uint64_t)jnum(r0, "size"),
	                  committed_of(g.st, v[0].trigger_snapshot_id, REGION_HEAP));
	ck_assert_str_eq(jstr(r0, "detail"), "[heap]");
	ck_assert_str_eq(jstr(r0, "kind"), "grew");
	ck_assert_uint_eq((uint64_t)jnum(r0, "committed_delta"),
	                  committed_of(g.st, v[0].trigger_snapshot_id, REGION_HEAP) -
	                          committed_of(g.st, v[0].baseline_snapshot_id, REGION_HEAP));
	snprintf(link, sizeof(link), "/#/diff/%" PRId64 "/%" PRId64, v[0].baseline_snapshot_id,
	         v[0].trigger_snapshot_id);
	ck_assert_str_eq(jstr(o, "link"), link);
	trend = cJSON_GetObjectItemCaseSensitive(o, "trend");
	ck_assert(jnum(trend, "r2") > 0.9);
	ck_assert_ptr_nonnull(strstr(jstr(o, "summary"), "Heap grows"));
	ck_assert_ptr_nonnull(strstr(v[0].summary, "Heap grows"));
	cJSON_Delete(o);

	memset(&rt, 0, sizeof(rt));
	alerts_runtime(g.al, g.target, &rt);
	ck_assert_int_eq(rt.alert_state, ALERT_FIRING);
	ck_assert_int_eq(rt.trend_ok, 1);
	ck_assert(fabs(rt.trend_slope_bytes_per_h - 360.0 * 64 * 1024) < 0.05 * 360 * 64 * 1024);
	ck_assert_uint_eq(rt.regions, 4); /* image, heap, private data, stack */
	ck_assert_int_eq(rt.trend_touched, 0);
	/* The engine's own fit, which /trend reports: of this instance, as of
	 * its last evaluation (every 30 s: at most 20 s before the last of the
	 * snapshots 10 s apart), with the target's parameters. */
	ck_assert_int_eq(rt.trend_params_set, 1);
	ck_assert_int_eq(rt.trend_params.window_ms, g.p.trend.window_ms);
	ck_assert_int_eq(rt.trend_fit_params.window_ms, g.p.trend.window_ms);
	ck_assert_int_eq(rt.trend_instance_id, v[0].instance_id);
	ck_assert_int_eq(rt.trend_instance_start_ms, T0 + 5000);
	ck_assert_int_ge(rt.trend_eval_ms, T0 + 5000 + 237 * STEP_MS);
	ck_assert_int_le(rt.trend_eval_ms, T0 + 5000 + 239 * STEP_MS);
	ck_assert_int_eq(rt.trend_fit_touched, 0);
	ck_assert_uint_gt(rt.trend_samples, 100);
	ck_assert_int_eq(rt.trend_fit.ok, 1);
	ck_assert_int_eq(rt.trend_fit.t1_ms, rt.trend_eval_ms);
	ck_assert_double_eq(rt.trend_fit.slope_per_h, rt.trend_slope_bytes_per_h);
	ck_assert_double_gt(rt.trend_fit.level, rt.trend_fit.intercept);
	/* series = private_touched: the runtime says so (/metrics labels with it) */
	g.p.watch_touched = 1;
	feed(&g, &p, T0 + 5000 + 240 * STEP_MS);
	alerts_runtime(g.al, g.target, &rt);
	ck_assert_int_eq(rt.trend_touched, 1);
	memset(&rt, 0, sizeof(rt));
	alerts_runtime(g.al, g.target + 1, &rt); /* unknown target */
	ck_assert_int_eq(rt.alert_state, -1);
	ck_assert_int_eq(rt.trend_ok, 0);
	ck_assert_int_eq(rt.trend_params_set, 0);
	ck_assert_int_eq(rt.trend_instance_id, 0);
	store_alerts_free(v, n);
	rig_close(&g);
}
END_TEST

START_TEST(test_alerts_on_snapshot__two_types_share_the_growth)
{
	struct rig g;
	struct proc p = {100, 5000, 8 * MIB, 2 * MIB, 0, 0x21000, 0, 0, 0};
	struct store_alert *v = NULL;
	const cJSON *types, *regions;
	double share_heap = -1, share_priv = -1;
	cJSON *o;
	size_t n;

	rig_open(&g);
	/* private data grows three times as fast as the heap */
	for (int k = 0; k < 120; k++) {
		feed(&g, &p, T0 + 5000 + k * STEP_MS);
		p.priv += 192 * 1024;
		p.heap += 64 * 1024;
	}
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 1);
	o = evidence(&v[0]);
	ck_assert_str_eq(jstr(o, "type"), "private");
	types = cJSON_GetObjectItemCaseSensitive(o, "types");
	ck_assert_int_eq(cJSON_GetArraySize(types), 2);
	for (int i = 0; i < 2; i++) {
		const cJSON *x = cJSON_GetArrayItem(types, i);

		if (strcmp(jstr(x, "type"), "heap") == 0)
			share_heap = jnum(x, "share");
		else if (strcmp(jstr(x, "type"), "private") == 0)
			share_priv = jnum(x, "share");
	}
	ck_assert_msg(fabs(share_priv - 0.75) < 0.02 && fabs(share_heap - 0.25) < 0.02,
	              "shares private %.3f heap %.3f", share_priv, share_heap);
	/* both regions listed, the larger growth first */
	regions = cJSON_GetObjectItemCaseSensitive(o, "regions");
	ck_assert_int_eq(cJSON_GetArraySize(regions), 2);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(regions, 0), "type"), "private");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(regions, 1), "type"), "heap");
	ck_assert(jnum(cJSON_GetArrayItem(regions, 0), "committed_delta") ==
	          3 * jnum(cJSON_GetArrayItem(regions, 1), "committed_delta"));
	cJSON_Delete(o);
	store_alerts_free(v, n);
	rig_close(&g);
}
END_TEST

/* The resident + swap bytes of the private types in snapshot @id. */
static uint64_t
touched_of(struct store *st, int64_t id)
{
	struct snapshot_totals tot;

	ck_assert_int_eq(store_get_totals(st, id, &tot), 0);
	return tot.private_touched;
}

/* A pool of 64 MiB committed at start is filled at 64 KiB every 10 s
 * (22.5 MiB/h): committed private bytes stay flat, their touched part grows. */
static size_t
run_pool_fill(struct rig *g, struct store_alert **v)
{
	struct proc p = {100, 5000, 8 * MIB, 2 * MIB, 0, 0x21000, 0, 64 * MIB, 0};

	for (int k = 0; k < 240; k++) {
		feed(g, &p, T0 + 5000 + k * STEP_MS);
		p.pool_used += 64 * 1024;
	}
	return list_alerts(g, v);
}

/* Checks the alert of run_pool_fill: attributed to Private Data, the pool's
 * region first with its touched growth between the two snapshots. */
static void
assert_pool_alert(struct rig *g, const struct store_alert *a)
{
	const cJSON *types, *regions, *r0;
	cJSON *o;

	ck_assert_str_eq(a->rule, "trend");
	ck_assert_str_eq(a->series, "private_touched");
	ck_assert_int_eq(a->state, ALERT_FIRING);
	ck_assert_int_lt(a->fired_ms, T0 + 10 * 60000);
	ck_assert(fabs(a->slope_bytes_per_h - 360.0 * 64 * 1024) < 0.05 * 360 * 64 * 1024);
	ck_assert_int_ne(a->baseline_snapshot_id, 0);
	ck_assert_int_gt(a->trigger_snapshot_id, a->baseline_snapshot_id);
	/* what it watched: committed flat, touched grown */
	ck_assert_uint_eq(committed_of(g->st, a->trigger_snapshot_id, REGION_PRIVATE),
	                  committed_of(g->st, a->baseline_snapshot_id, REGION_PRIVATE));
	ck_assert_uint_gt(touched_of(g->st, a->trigger_snapshot_id),
	                  touched_of(g->st, a->baseline_snapshot_id));
	o = evidence(a);
	ck_assert_str_eq(jstr(o, "series"), "private_touched");
	ck_assert_str_eq(jstr(o, "type"), "private");
	types = cJSON_GetObjectItemCaseSensitive(o, "types");
	ck_assert_int_eq(cJSON_GetArraySize(types), 1);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(types, 0), "type"), "private");
	ck_assert(jnum(cJSON_GetArrayItem(types, 0), "share") > 0.99);
	regions = cJSON_GetObjectItemCaseSensitive(o, "regions");
	ck_assert_int_eq(cJSON_GetArraySize(regions), 1);
	r0 = cJSON_GetArrayItem(regions, 0);
	ck_assert_uint_eq((uint64_t)jnum(r0, "base"), 0x7f0800000000);
	ck_assert_str_eq(jstr(r0, "detail"), "[anon:pool]");
	ck_assert(jnum(r0, "committed_delta") == 0);
	ck_assert_uint_eq((uint64_t)jnum(r0, "touched_delta"),
	                  touched_of(g->st, a->trigger_snapshot_id) -
	                          touched_of(g->st, a->baseline_snapshot_id));
	ck_assert_ptr_nonnull(strstr(jstr(o, "summary"), "Private Data grows"));
	ck_assert_ptr_nonnull(strstr(jstr(o, "summary"), "private_touched now"));
	cJSON_Delete(o);
}

START_TEST(test_alerts_on_snapshot__touched_grows_committed_flat)
{
	struct rig g;
	struct store_alert *v = NULL;
	size_t n;

	rig_open(&g);
	ck_assert_int_eq(g.p.watch_touched, 0);
	n = run_pool_fill(&g, &v);
	ck_assert_uint_eq(n, 1);
	assert_pool_alert(&g, &v[0]);
	store_alerts_free(v, n);
	rig_close(&g);
}
END_TEST

START_TEST(test_alerts_on_snapshot__committed_and_touched_grow_one_alert)
{
	struct rig g;
	struct proc p = {100, 5000, 8 * MIB, 2 * MIB, 0, 0x21000, 0, 0, 0};
	struct store_alert *v = NULL;
	cJSON *o;
	size_t n;

	rig_open(&g);
	/* Private data written as it is committed (tests/grower's "private"):
	 * both series grow at 22.5 MiB/h; touched at a higher rate per cent
	 * (its level is lower), yet the main series wins. */
	for (int k = 0; k < 240; k++) {
		feed(&g, &p, T0 + 5000 + k * STEP_MS);
		p.priv += 64 * 1024;
	}
	ck_assert_uint_gt(touched_of(g.st, feed(&g, &p, T0 + 5000 + 240 * STEP_MS)),
	                  p.priv); /* it did grow: it holds the written pages */
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 1); /* not even a cancelled private_touched row */
	ck_assert_str_eq(v[0].series, "private_committed");
	ck_assert_int_eq(v[0].state, ALERT_FIRING);
	o = evidence(&v[0]);
	ck_assert_str_eq(jstr(o, "type"), "private");
	cJSON_Delete(o);
	store_alerts_free(v, n);
	rig_close(&g);
}
END_TEST

START_TEST(test_alerts_on_snapshot__series_touched_has_no_second_slot)
{
	struct rig g;
	struct store_alert *v = NULL;
	size_t n;

	rig_open(&g);
	g.p.watch_touched = 1;
	n = run_pool_fill(&g, &v);
	/* the main rule watches private_touched: one alert, attributed by the
	 * touched bytes (by committed bytes nothing grew) */
	ck_assert_uint_eq(n, 1);
	assert_pool_alert(&g, &v[0]);
	store_alerts_free(v, n);
	rig_close(&g);
}
END_TEST

START_TEST(test_alerts_on_snapshot__mapped_growth_names_mapped)
{
	struct rig g;
	struct proc p = {100, 5000, 8 * MIB, 2 * MIB, 4 * MIB, 0x21000, 0, 0, 0};
	struct store_alert *v = NULL;
	cJSON *o;
	size_t n;

	rig_open(&g);
	for (int k = 0; k < 120; k++) {
		feed(&g, &p, T0 + 5000 + k * STEP_MS);
		p.mapped += 128 * 1024;
	}
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].series, "committed:mapped");
	ck_assert_int_eq(v[0].state, ALERT_FIRING);
	o = evidence(&v[0]);
	ck_assert_str_eq(jstr(o, "type"), "mapped");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "regions"), 0),
	                      "detail"),
	                 "/var/lib/app/cache.bin");
	cJSON_Delete(o);
	store_alerts_free(v, n);
	rig_close(&g);
}
END_TEST

START_TEST(test_alerts_on_snapshot__sawtooth_and_plateau_fire_nothing)
{
	struct rig g;
	struct proc saw = {100, 5000, 8 * MIB, 2 * MIB, 0, 0x21000, 0, 0, 0};
	struct proc flat = {200, 7000, 8 * MIB, 2 * MIB, 0, 0x21000, 0, 0, 0};
	struct store_alert *v = NULL;
	int64_t t2;
	size_t n;

	rig_open(&g);
	/* a collector: 8 MiB allocated in six steps, then freed, over and over */
	for (int k = 0; k < 180; k++) {
		saw.priv = 2 * MIB + (uint64_t)(k % 6) * (8 * MIB / 6 / PAGE * PAGE);
		feed(&g, &saw, T0 + 5000 + k * STEP_MS);
	}
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 0);
	store_alerts_free(v, n);
	/* another instance: grows 40 MiB during its warm-up, then flat */
	t2 = T0 + 5000 + 180 * STEP_MS;
	flat.start_time = (uint64_t)(t2 - T0);
	for (int k = 0; k < 150; k++) {
		if (k < 6)
			flat.heap += 8 * MIB;
		feed(&g, &flat, t2 + 1000 + k * STEP_MS);
	}
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 0);
	store_alerts_free(v, n);
	rig_close(&g);
}
END_TEST

START_TEST(test_alerts_on_snapshot__restart_starts_over_and_resolves_the_old)
{
	struct rig g;
	struct proc a = {100, 5000, 8 * MIB, 2 * MIB, 0, 0x21000, 0, 0, 0};
	struct proc b = {101, 0, 8 * MIB, 2 * MIB, 0, 0x21000, 0, 0, 0};
	struct store_alert *v = NULL;
	int64_t t = T0 + 5000;
	size_t n;
	cJSON *o;

	rig_open(&g);
	for (int k = 0; k < 90; k++, t += STEP_MS) {
		feed(&g, &a, t);
		a.priv += 256 * 1024;
	}
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].state, ALERT_FIRING);
	store_alerts_free(v, n);
	/* the process restarts: the new one is flat, the old one's alert ends
	 * once it has been silent for 3 x 30 s */
	/* a process that is gone is not resolved early ... */
	alerts_expire(g.al, t + 60000);
	n = list_alerts(&g, &v);
	ck_assert_int_eq(v[0].state, ALERT_FIRING);
	store_alerts_free(v, n);
	b.start_time = (uint64_t)(t - T0);
	for (int k = 0; k < 90; k++, t += STEP_MS)
		feed(&g, &b, t);
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].state, ALERT_RESOLVED);
	ck_assert_int_ne(v[0].fired_ms, 0);
	ck_assert_int_le(v[0].resolved_ms, T0 + 5000 + 90 * STEP_MS + 3 * 30000 + STEP_MS);
	o = evidence(&v[0]);
	ck_assert_str_eq(jstr(o, "state"), "resolved");
	ck_assert_str_eq(jstr(o, "type"), "private"); /* the attribution is kept */
	cJSON_Delete(o);
	ck_assert_ptr_nonnull(strstr(v[0].summary, "resolved: "));
	store_alerts_free(v, n);
	/* ... and with no snapshot at all, alerts_expire resolves it */
	for (int k = 0; k < 90; k++, t += STEP_MS) {
		feed(&g, &b, t);
		b.heap += 256 * 1024;
	}
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(v[0].state, ALERT_FIRING); /* newest first: b's */
	store_alerts_free(v, n);
	alerts_expire(g.al, t + 3 * 30000 - 2 * STEP_MS);
	n = list_alerts(&g, &v);
	ck_assert_int_eq(v[0].state, ALERT_FIRING);
	store_alerts_free(v, n);
	alerts_expire(g.al, t + 3 * 30000 + STEP_MS);
	n = list_alerts(&g, &v);
	ck_assert_int_eq(v[0].state, ALERT_RESOLVED);
	ck_assert_int_eq(v[0].resolved_ms, t + 3 * 30000 + STEP_MS);
	store_alerts_free(v, n);
	rig_close(&g);
}
END_TEST

/* A process seen once (a short-lived one) is gone after as long as its
 * target's other instances allow, not after an hour: its alert resolves and
 * the engine forgets it. */
START_TEST(test_alerts_on_snapshot__seen_once_is_gone_at_the_targets_pace)
{
	struct rig g;
	struct proc a = {100, 5000, 8 * MIB, 1 * MIB, 0, 0x21000, 0, 0, 0};
	struct proc c = {200, 6000, 8 * MIB, 8 * MIB, 0, 0x21000, 0, 0, 0};
	struct store_alert *v = NULL;
	int64_t t = T0 + 5000;
	size_t n;

	rig_open(&g);
	g.p.trend.warmup_ms = 24 * 3600000; /* the trend rule stays quiet */
	g.p.threshold_bytes = 12 * MIB;
	g.p.every_bytes = 2 * MIB;
	feed(&g, &a, t);
	t += STEP_MS;
	feed(&g, &a, t);
	feed(&g, &c, t + 1); /* one snapshot over the threshold, then it exits */
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].state, ALERT_FIRING);
	store_alerts_free(v, n);
	/* a keeps its 10 s pace: c goes once silent for 3 x max(30 s, 10 s) */
	for (int k = 0; k < 12; k++) {
		t += STEP_MS;
		feed(&g, &a, t);
	}
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].state, ALERT_RESOLVED);
	ck_assert_int_le(v[0].resolved_ms, T0 + 5000 + STEP_MS + 3 * 30000 + STEP_MS);
	store_alerts_free(v, n);
	rig_close(&g);
}
END_TEST

START_TEST(test_alerts_on_snapshot__threshold_every_level_and_map_count)
{
	struct rig g;
	struct proc p = {100, 5000, 8 * MIB, 1 * MIB, 0, 0x21000, 40, 0, 0};
	struct store_alert *v = NULL;
	size_t n, n_thr = 0, open_thr = 0, n_map = 0;
	int64_t t = T0 + 5000;

	rig_open(&g);
	g.p.trend.warmup_ms = 24 * 3600000; /* the trend rule stays quiet */
	g.p.threshold_bytes = 12 * MIB;
	g.p.every_bytes = 2 * MIB;
	g.p.map_count_fraction = 0.5;
	alerts_set_max_map_count(g.al, 100);
	/* private_committed: 9.x MiB + 512 KiB a step, 20 steps: 19.x MiB;
	 * regions: 45 .. 64 .. 45 */
	for (int k = 0; k < 40; k++, t += STEP_MS) {
		p.extra_regions = 40 + (unsigned)(k < 20 ? k : 40 - k);
		feed(&g, &p, t);
		if (k < 20)
			p.heap += 512 * 1024;
	}
	n = list_alerts(&g, &v);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].rule, "threshold") == 0) {
			n_thr++;
			open_thr += v[i].state == ALERT_FIRING;
			ck_assert_ptr_nonnull(strstr(v[i].summary, "reached"));
		} else {
			ck_assert_str_eq(v[i].rule, "map_count");
			ck_assert_str_eq(v[i].series, "regions");
			ck_assert_int_eq(v[i].state, ALERT_RESOLVED);
			ck_assert_uint_ge(v[i].value, 50);
			n_map++;
		}
	}
	/* levels 12, 14, 16, 18 MiB: each a new alert, the older resolved */
	ck_assert_uint_eq(n_thr, 4);
	ck_assert_uint_eq(open_thr, 1);
	ck_assert_uint_eq(n_map, 1);
	store_alerts_free(v, n);
	rig_close(&g);
}
END_TEST

START_TEST(test_alerts_on_snapshot__restarted_engine_keeps_its_alert_then_resolves)
{
	struct rig g;
	struct proc p = {100, 5000, 8 * MIB, 2 * MIB, 0, 0x21000, 0, 0, 0};
	struct store_alert *v = NULL;
	int64_t t = T0 + 5000, id;
	size_t n;

	rig_open(&g);
	for (int k = 0; k < 90; k++, t += STEP_MS) {
		feed(&g, &p, t);
		p.heap += 128 * 1024;
	}
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 1);
	id = v[0].id;
	store_alerts_free(v, n);
	/* memdeltad restarts: a new engine reads the series and the open alert */
	alerts_free(g.al);
	ck_assert_int_eq(alerts_new(g.st, NULL, &g.al), 0);
	for (int k = 0; k < 30; k++, t += STEP_MS) {
		feed(&g, &p, t);
		p.heap += 128 * 1024;
	}
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].id, id);
	ck_assert_int_eq(v[0].state, ALERT_FIRING);
	store_alerts_free(v, n);
	/* the leak stops: calm evaluations resolve it */
	for (int k = 0; k < 200; k++, t += STEP_MS)
		feed(&g, &p, t);
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].state, ALERT_RESOLVED);
	store_alerts_free(v, n);
	rig_close(&g);
}
END_TEST

START_TEST(test_alerts_on_snapshot__evidence_survives_pruning)
{
	struct rig g;
	struct proc p = {100, 5000, 8 * MIB, 2 * MIB, 0, 0x21000, 0, 0, 0};
	struct store_alert *v = NULL;
	struct store_retention ret;
	struct snapshot *a = NULL, *b = NULL;
	struct diff_result d;
	int64_t t = T0 + 5000, kept;
	size_t n;
	int more = 1;

	rig_open(&g);
	for (int k = 0; k < 90; k++, t += STEP_MS) {
		feed(&g, &p, t);
		p.heap += 64 * 1024;
	}
	n = list_alerts(&g, &v);
	ck_assert_uint_eq(n, 1);
	store_retention_defaults(&ret);
	ret.raw_ms = 60000;
	while (more)
		ck_assert_int_eq(store_prune(g.st, &ret, t + 3600000, 100, &more), 0);
	/* only the two evidence snapshots are left, and they rebuild */
	ck_assert_int_eq(store_get_snapshot(g.st, v[0].baseline_snapshot_id, &a), 0);
	ck_assert_int_eq(store_get_snapshot(g.st, v[0].trigger_snapshot_id, &b), 0);
	ck_assert_int_eq(diff_snapshots(a, b, &d), 0);
	ck_assert_int_eq(d.by_type[REGION_HEAP].committed_delta,
	                 (int64_t)(b->regions[1].committed - a->regions[1].committed));
	ck_assert_int_gt(d.by_type[REGION_HEAP].committed_delta, 0);
	diff_result_done(&d);
	ck_assert_int_eq(store_snapshot_at(g.st, g.target, INT64_MAX, &kept), 0);
	ck_assert_int_eq(kept, v[0].trigger_snapshot_id);
	snapshot_free(a);
	snapshot_free(b);
	store_alerts_free(v, n);
	rig_close(&g);
}
END_TEST

static Suite *
alerts_suite(void)
{
	Suite *s = suite_create("alerts");
	TCase *tc;

	tc = tcase_create("alerts_on_snapshot");
	tcase_add_test(tc, test_alerts_on_snapshot__heap_leak_one_alert_attributed);
	tcase_add_test(tc, test_alerts_on_snapshot__two_types_share_the_growth);
	tcase_add_test(tc, test_alerts_on_snapshot__touched_grows_committed_flat);
	tcase_add_test(tc, test_alerts_on_snapshot__committed_and_touched_grow_one_alert);
	tcase_add_test(tc, test_alerts_on_snapshot__series_touched_has_no_second_slot);
	tcase_add_test(tc, test_alerts_on_snapshot__mapped_growth_names_mapped);
	tcase_add_test(tc, test_alerts_on_snapshot__sawtooth_and_plateau_fire_nothing);
	tcase_add_test(tc, test_alerts_on_snapshot__restart_starts_over_and_resolves_the_old);
	tcase_add_test(tc, test_alerts_on_snapshot__threshold_every_level_and_map_count);
	tcase_add_test(tc, test_alerts_on_snapshot__seen_once_is_gone_at_the_targets_pace);
	tcase_add_test(tc, test_alerts_on_snapshot__restarted_engine_keeps_its_alert_then_resolves);
	tcase_add_test(tc, test_alerts_on_snapshot__evidence_survives_pruning);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(alerts_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
