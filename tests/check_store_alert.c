/*
 * check_store_alert.c - unit tests of the store's alert API (snapshot/store.c,
 * issue 4): writing and reading alert rows, the filters of the listing, the
 * latest snapshot at a time, the migration of a version 2 database, and the
 * evidence pinning of store_prune: a snapshot an alert names is rebuilt
 * exactly after everything around it was pruned, and pruned once the alert
 * has expired.  Snapshots come from a small deterministic generator whose
 * regions appear, grow, move their counters and go away at every step, so
 * that pruning around a pinned snapshot has versions and counters to carry.
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "snapshot/store.h"
#include "tests/testutil.h"

#define PAGE      4096u
#define MINUTE_MS INT64_C(60000)
#define N_STEPS   40

/* ---- helpers ------------------------------------------------------------ */

struct scratch {
	char dir[4096];
	char db[4200];
};

static void
scratch_init(struct scratch *sc)
{
	int n = snprintf(sc->dir, sizeof(sc->dir), "%s", test_scratch_dir());

	ck_assert(n > 0 && (size_t)n < sizeof(sc->dir));
	n = snprintf(sc->db, sizeof(sc->db), "%s/store.db", sc->dir);
	ck_assert(n > 0 && (size_t)n < sizeof(sc->db));
}

static struct store *
open_rw(const char *path)
{
	struct store *st = NULL;
	int rc = store_open(path, 0, &st);

	ck_assert_msg(rc == 0, "store_open %s: %s (%s)", path, md_strerror(rc), store_errmsg(NULL));
	return st;
}

static int64_t
sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int64_t v;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	ck_assert_msg(sqlite3_step(q) == SQLITE_ROW, "%s: no row", sql);
	v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

static void
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK, "%s: %s", sql,
	              err ? err : "?");
	sqlite3_free(err);
	sqlite3_close(db);
}

static void
add(struct snapshot *s, uint64_t base, uint64_t size, enum region_type type, unsigned prot,
    uint64_t committed, uint64_t resident, const char *detail)
{
	struct region r;

	test_region(&r, base, size, type, STATE_COMMIT, prot, committed, resident, detail);
	r.private_resident = resident / 2;
	r.swap = (resident / PAGE) % 3 * PAGE;
	ck_assert_int_eq(snapshot_add_region(s, &r), 0);
}

/* Snapshot number @step of a process (pid @pid) that keeps changing: the
 * heap grows, one private chunk appears and the oldest goes, counters move,
 * the image changes protection every seventh step.  Taken one minute apart
 * from @t0. */
static struct snapshot *
gen(int pid, int step, int64_t t0)
{
	struct snapshot *s = NULL;
	unsigned rw = PROT_BIT_READ | PROT_BIT_WRITE;
	uint64_t u = (uint64_t)step;
	int j;

	ck_assert_int_eq(snapshot_new(&s), 0);
	s->pid = pid;
	s->start_time = 1000u + (uint64_t)pid;
	s->start_time_ms = 1600000000000;
	s->time_ms = t0 + step * MINUTE_MS;
	s->page_table_bytes = (4 + u % 3) * PAGE;
	snprintf(s->name, sizeof(s->name), "leaky");
	add(s, 0x400000, 0x10000, REGION_IMAGE,
	    PROT_BIT_READ | ((step / 7) % 2 ? PROT_BIT_EXEC : 0), 0, (u % 3) * PAGE,
	    "/usr/bin/leaky");
	add(s, 0x1000000, (16 + u) * PAGE, REGION_HEAP, rw, (16 + u) * PAGE, (8 + u) * PAGE,
	    "[heap]");
	for (j = step > 5 ? step - 5 : 0; j <= step; j++)
		add(s, 0x7f0000000000 + (uint64_t)j * 0x100000, (1 + (uint64_t)j % 4) * PAGE,
		    REGION_PRIVATE, rw, (1 + (uint64_t)j % 4) * PAGE,
		    ((u + (uint64_t)j) % 2) * PAGE, "");
	add(s, 0x7ffc00000000, 0x21000, REGION_STACK, rw, 0x21000, (u % 5 + 1) * PAGE, "[stack]");
	return s;
}

static int64_t
put(struct store *st, int64_t target, struct snapshot *s)
{
	int64_t id = 0;
	int rc = store_put_snapshot(st, target, s, &id);

	ck_assert_msg(rc == 0, "put: %s (%s)", md_strerror(rc), store_errmsg(st));
	return id;
}

/* Snapshot @id rebuilds exactly as @want. */
static void
assert_rebuilds(struct store *st, int64_t id, const struct snapshot *want, const char *ctx)
{
	struct snapshot *got = NULL;
	size_t i;
	int rc = store_get_snapshot(st, id, &got);

	ck_assert_msg(rc == 0, "%s: get %" PRId64 ": %s", ctx, id, md_strerror(rc));
	ck_assert_msg(got->time_ms == want->time_ms, "%s: time", ctx);
	ck_assert_msg(got->page_table_bytes == want->page_table_bytes, "%s: page table", ctx);
	ck_assert_msg(got->n_regions == want->n_regions, "%s: %zu regions != %zu", ctx,
	              got->n_regions, want->n_regions);
	for (i = 0; i < want->n_regions; i++) {
		const struct region *a = &want->regions[i], *b = &got->regions[i];

		ck_assert_msg(a->base == b->base && a->size == b->size && a->type == b->type &&
		                      a->state == b->state && a->protection == b->protection &&
		                      a->committed == b->committed && a->resident == b->resident &&
		                      a->private_resident == b->private_resident &&
		                      a->swap == b->swap && strcmp(a->detail, b->detail) == 0,
		              "%s: region %zu (%#" PRIx64 ") differs", ctx, i, a->base);
	}
	snapshot_free(got);
}

static void
alert_init(struct store_alert *a, int64_t target, int64_t instance, const char *rule,
           const char *series, enum alert_state state, int64_t started)
{
	memset(a, 0, sizeof(*a));
	a->target_id = target;
	a->instance_id = instance;
	snprintf(a->rule, sizeof(a->rule), "%s", rule);
	snprintf(a->series, sizeof(a->series), "%s", series);
	a->state = state;
	a->started_ms = started;
	a->updated_ms = started;
}

/* The instance of snapshot @snapshot_id of @target. */
static int64_t
instance_of(struct store *st, int64_t target, int64_t snapshot_id)
{
	struct store_snapshot_info *v = NULL;
	int64_t inst = 0;
	size_t n = 0, i;

	ck_assert_int_eq(store_list_snapshots(st, target, INT64_MIN, INT64_MAX, &v, &n), 0);
	for (i = 0; i < n; i++) {
		if (v[i].id == snapshot_id)
			inst = v[i].instance_id;
	}
	free(v);
	ck_assert_msg(inst != 0, "snapshot %" PRId64 " not found", snapshot_id);
	return inst;
}

/* ---- store_alert_put ------------------------------------------------------ */

START_TEST(test_store_alert_put__insert_update_roundtrip)
{
	struct scratch sc;
	struct store *st;
	struct store_alert a, *got = NULL;
	struct snapshot *s0 = gen(10, 0, 0), *s1 = gen(10, 1, 0);
	int64_t target, id0, id1, inst;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "leaky", &target), 0);
	id0 = put(st, target, s0);
	id1 = put(st, target, s1);
	inst = instance_of(st, target, id0);
	alert_init(&a, target, inst, "trend", "private_committed", ALERT_PENDING, 60000);
	a.baseline_snapshot_id = id0;
	a.slope_bytes_per_h = 12.5 * 1048576;
	a.pct_per_h = 0.75;
	a.r2 = 0.93;
	a.mk_p = 1e-9;
	a.value = UINT64_MAX - 5; /* above INT64_MAX: stored as its bit pattern */
	a.summary = "Heap +12.5 MiB/h";
	a.evidence_json = "{\"rule\":\"trend\",\"name\":\"a; $(x) ' \\\"\"}";
	ck_assert_int_eq(store_alert_put(st, &a), 0);
	ck_assert_int_gt(a.id, 0);

	ck_assert_int_eq(store_get_alert(st, a.id, &got), 0);
	ck_assert_int_eq(got->id, a.id);
	ck_assert_int_eq(got->target_id, target);
	ck_assert_int_eq(got->instance_id, inst);
	ck_assert_str_eq(got->rule, "trend");
	ck_assert_str_eq(got->series, "private_committed");
	ck_assert_int_eq(got->state, ALERT_PENDING);
	ck_assert_int_eq(got->started_ms, 60000);
	ck_assert_int_eq(got->fired_ms, 0);
	ck_assert_int_eq(got->resolved_ms, 0);
	ck_assert_int_eq(got->baseline_snapshot_id, id0);
	ck_assert_int_eq(got->trigger_snapshot_id, 0);
	ck_assert(got->slope_bytes_per_h == 12.5 * 1048576);
	ck_assert(got->pct_per_h == 0.75 && got->r2 == 0.93 && got->mk_p == 1e-9);
	ck_assert(got->value == UINT64_MAX - 5);
	ck_assert_str_eq(got->summary, a.summary);
	ck_assert_str_eq(got->evidence_json, a.evidence_json);
	store_alerts_free(got, 1);

	/* every column is updated, and NULL texts stay NULL */
	a.state = ALERT_FIRING;
	a.fired_ms = 120000;
	a.updated_ms = 120000;
	a.trigger_snapshot_id = id1;
	a.value = 42;
	a.summary = NULL;
	a.evidence_json = NULL;
	snprintf(a.series, sizeof(a.series), "committed:HEAP");
	ck_assert_int_eq(store_alert_put(st, &a), 0);
	ck_assert_int_eq(store_get_alert(st, a.id, &got), 0);
	ck_assert_int_eq(got->state, ALERT_FIRING);
	ck_assert_int_eq(got->fired_ms, 120000);
	ck_assert_int_eq(got->trigger_snapshot_id, id1);
	ck_assert_str_eq(got->series, "committed:HEAP");
	ck_assert(got->value == 42);
	ck_assert_ptr_null(got->summary);
	ck_assert_ptr_null(got->evidence_json);
	store_alerts_free(got, 1);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM alerts"), 1);

	store_close(st);
	snapshot_free(s0);
	snapshot_free(s1);
	test_rm_rf(sc.dir);
}
END_TEST

START_TEST(test_store_alert_put__bad_input_refused_nothing_written)
{
	struct scratch sc;
	struct store *st, *ro = NULL;
	struct store_alert a;
	struct snapshot *s0 = gen(10, 0, 0), *s1 = gen(20, 0, 0);
	int64_t t1, t2, id0, id1, inst1, inst2;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "one", &t1), 0);
	ck_assert_int_eq(store_target_ensure(st, "two", &t2), 0);
	id0 = put(st, t1, s0);
	id1 = put(st, t2, s1);
	inst1 = instance_of(st, t1, id0);
	inst2 = instance_of(st, t2, id1);

	alert_init(&a, t1, inst1, "", "private_committed", ALERT_PENDING, 1);
	ck_assert_int_eq(store_alert_put(st, &a), MD_ERR_INVAL); /* empty rule */
	alert_init(&a, t1, inst1, "trend", "private_committed", (enum alert_state)7, 1);
	ck_assert_int_eq(store_alert_put(st, &a), MD_ERR_INVAL); /* bad state */
	alert_init(&a, 99, inst1, "trend", "private_committed", ALERT_PENDING, 1);
	ck_assert_int_eq(store_alert_put(st, &a), MD_ERR_INVAL); /* unknown target */
	alert_init(&a, t1, inst2, "trend", "private_committed", ALERT_PENDING, 1);
	ck_assert_int_eq(store_alert_put(st, &a), MD_ERR_INVAL); /* another target's instance */
	alert_init(&a, t1, inst1, "trend", "private_committed", ALERT_PENDING, 1);
	a.baseline_snapshot_id = id1; /* another target's snapshot */
	ck_assert_int_eq(store_alert_put(st, &a), MD_ERR_INVAL);
	a.baseline_snapshot_id = 0;
	a.trigger_snapshot_id = 12345; /* no such snapshot */
	ck_assert_int_eq(store_alert_put(st, &a), MD_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(store_errmsg(st), "12345"));
	a.trigger_snapshot_id = 0;
	memset(a.rule, 'x', sizeof(a.rule)); /* not terminated */
	ck_assert_int_eq(store_alert_put(st, &a), MD_ERR_INVAL);
	alert_init(&a, t1, inst1, "trend", "private_committed", ALERT_PENDING, 1);
	a.id = 77; /* update of a row that does not exist */
	ck_assert_int_eq(store_alert_put(st, &a), MD_ERR_NOTFOUND);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM alerts"), 0);

	store_close(st);
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &ro), 0);
	alert_init(&a, t1, inst1, "trend", "private_committed", ALERT_PENDING, 1);
	ck_assert_int_eq(store_alert_put(ro, &a), MD_ERR_INVAL);
	store_close(ro);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM alerts"), 0);
	snapshot_free(s0);
	snapshot_free(s1);
	test_rm_rf(sc.dir);
}
END_TEST

/* ---- store_list_alerts ---------------------------------------------------- */

START_TEST(test_store_list_alerts__filters_order_limit)
{
	struct scratch sc;
	struct store *st, *ro = NULL;
	struct store_alert a, *v = NULL;
	struct store_alert_filter f;
	struct snapshot *s0 = gen(10, 0, 0), *s1 = gen(11, 0, 0), *s2 = gen(20, 0, 0);
	int64_t t1, t2, i10, i11, i20, ids[4];
	size_t n = 0;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "one", &t1), 0);
	ck_assert_int_eq(store_target_ensure(st, "two", &t2), 0);
	i10 = instance_of(st, t1, put(st, t1, s0));
	i11 = instance_of(st, t1, put(st, t1, s1));
	i20 = instance_of(st, t2, put(st, t2, s2));
	/* [1000, 5000] resolved, [2000, -) firing, [3000, -) pending, other
	 * target [4000, 4500] resolved */
	alert_init(&a, t1, i10, "trend", "private_committed", ALERT_RESOLVED, 1000);
	a.fired_ms = 1500;
	a.resolved_ms = 5000;
	ck_assert_int_eq(store_alert_put(st, &a), 0);
	ids[0] = a.id;
	alert_init(&a, t1, i11, "threshold", "private_committed", ALERT_FIRING, 2000);
	a.fired_ms = 2000;
	ck_assert_int_eq(store_alert_put(st, &a), 0);
	ids[1] = a.id;
	alert_init(&a, t1, i11, "trend", "committed:HEAP", ALERT_PENDING, 3000);
	ck_assert_int_eq(store_alert_put(st, &a), 0);
	ids[2] = a.id;
	alert_init(&a, t2, i20, "map_count", "regions", ALERT_RESOLVED, 4000);
	a.resolved_ms = 4500;
	ck_assert_int_eq(store_alert_put(st, &a), 0);
	ids[3] = a.id;
	store_close(st);
	/* the web server reads on a read-only handle */
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &ro), 0);

	f = (struct store_alert_filter){0, 0, -1, INT64_MIN, INT64_MAX, 0};
	ck_assert_int_eq(store_list_alerts(ro, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 4); /* newest started first */
	ck_assert_int_eq(v[0].id, ids[3]);
	ck_assert_int_eq(v[1].id, ids[2]);
	ck_assert_int_eq(v[2].id, ids[1]);
	ck_assert_int_eq(v[3].id, ids[0]);
	ck_assert_str_eq(v[0].rule, "map_count");
	store_alerts_free(v, n);

	f.target_id = t1;
	ck_assert_int_eq(store_list_alerts(ro, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 3);
	store_alerts_free(v, n);
	f.instance_id = i11;
	ck_assert_int_eq(store_list_alerts(ro, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	store_alerts_free(v, n);
	f.state = ALERT_FIRING;
	ck_assert_int_eq(store_list_alerts(ro, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].id, ids[1]);
	store_alerts_free(v, n);

	/* active in [5500, 6000]: the two open ones; in [0, 999]: none;
	 * in [4600, 4700]: the resolved one of t1 and the two open ones */
	f = (struct store_alert_filter){0, 0, -1, 5500, 6000, 0};
	ck_assert_int_eq(store_list_alerts(ro, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	store_alerts_free(v, n);
	f.from_ms = 0;
	f.to_ms = 999;
	ck_assert_int_eq(store_list_alerts(ro, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	store_alerts_free(v, n);
	f.from_ms = 4600;
	f.to_ms = 4700;
	ck_assert_int_eq(store_list_alerts(ro, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(v[2].id, ids[0]);
	store_alerts_free(v, n);
	/* bounds are inclusive: resolved at 4500 is active at 4500 */
	f.from_ms = 4500;
	f.to_ms = 4500;
	f.target_id = t2;
	ck_assert_int_eq(store_list_alerts(ro, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	store_alerts_free(v, n);

	f = (struct store_alert_filter){0, 0, -1, INT64_MIN, INT64_MAX, 2};
	ck_assert_int_eq(store_list_alerts(ro, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(v[1].id, ids[2]);
	store_alerts_free(v, n);

	store_close(ro);
	snapshot_free(s0);
	snapshot_free(s1);
	snapshot_free(s2);
	test_rm_rf(sc.dir);
}
END_TEST

/* ---- store_get_alert / store_alerts_free ----------------------------------- */

START_TEST(test_store_get_alert__unknown_is_notfound)
{
	struct scratch sc;
	struct store *st;
	struct store_alert *got = (struct store_alert *)&sc;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_get_alert(st, 1, &got), MD_ERR_NOTFOUND);
	ck_assert_ptr_null(got);
	store_close(st);
	test_rm_rf(sc.dir);
}
END_TEST

START_TEST(test_store_alerts_free__null_is_fine)
{
	store_alerts_free(NULL, 0);
	store_alerts_free(NULL, 3);
}
END_TEST

/* ---- store_snapshot_at --------------------------------------------------- */

START_TEST(test_store_snapshot_at__latest_at_or_before_across_instances)
{
	struct scratch sc;
	struct store *st;
	struct snapshot *s[4];
	int64_t target, other, ids[4], got = -1;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "app", &target), 0);
	ck_assert_int_eq(store_target_ensure(st, "other", &other), 0);
	s[0] = gen(10, 0, 0);      /* 0 */
	s[1] = gen(10, 2, 0);      /* 120000 */
	s[2] = gen(11, 1, 100000); /* 160000, a new instance */
	s[3] = gen(30, 5, 0);      /* another target, 300000 */
	ids[0] = put(st, target, s[0]);
	ids[1] = put(st, target, s[1]);
	ids[2] = put(st, target, s[2]);
	ids[3] = put(st, other, s[3]);
	ck_assert_int_eq(store_snapshot_at(st, target, -1, &got), MD_ERR_NOTFOUND);
	ck_assert_int_eq(got, 0);
	ck_assert_int_eq(store_snapshot_at(st, target, 0, &got), 0);
	ck_assert_int_eq(got, ids[0]);
	ck_assert_int_eq(store_snapshot_at(st, target, 119999, &got), 0);
	ck_assert_int_eq(got, ids[0]);
	ck_assert_int_eq(store_snapshot_at(st, target, 120000, &got), 0);
	ck_assert_int_eq(got, ids[1]);
	ck_assert_int_eq(store_snapshot_at(st, target, 170000, &got), 0);
	ck_assert_int_eq(got, ids[2]);
	ck_assert_int_eq(store_snapshot_at(st, target, INT64_MAX, &got), 0);
	ck_assert_int_eq(got, ids[2]); /* not the other target's later one */
	ck_assert_int_eq(store_snapshot_at(st, other, INT64_MAX, &got), 0);
	ck_assert_int_eq(got, ids[3]);
	ck_assert_int_eq(store_snapshot_at(st, 99, INT64_MAX, &got), MD_ERR_NOTFOUND);
	store_close(st);
	for (int i = 0; i < 4; i++)
		snapshot_free(s[i]);
	test_rm_rf(sc.dir);
}
END_TEST

/* ---- store_prune: evidence pinning ---------------------------------------- */

static void
prune_all(struct store *st, const struct store_retention *r, int64_t now, size_t max_rows)
{
	int more = 1, calls = 0, rc;

	while (more) {
		rc = store_prune(st, r, now, max_rows, &more);
		ck_assert_msg(rc == 0, "store_prune: %s (%s)", md_strerror(rc), store_errmsg(st));
		ck_assert_int_lt(++calls, 100000);
	}
}

static const size_t pin_budgets[] = {1, 40, 1000000};

START_TEST(test_store_prune__pinned_snapshots_kept_exact_then_released)
{
	struct scratch sc;
	struct store *st;
	struct store_alert a, b, *got = NULL;
	struct store_retention ret;
	struct store_timeline_point *tl = NULL;
	struct snapshot *s;
	int64_t target, ids[N_STEPS + 1], inst, now, last_time = (N_STEPS - 1) * MINUTE_MS;
	size_t n = 0, i, n_raw = 0;
	char ctx[64];
	int k;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "leaky", &target), 0);
	for (k = 0; k < N_STEPS; k++) {
		s = gen(10, k, 0);
		ids[k] = put(st, target, s);
		snapshot_free(s);
	}
	inst = instance_of(st, target, ids[0]);
	/* a firing alert pins 10 and 20; a resolved one that fired pins 0 */
	alert_init(&a, target, inst, "trend", "private_committed", ALERT_FIRING, 10 * MINUTE_MS);
	a.baseline_snapshot_id = ids[10];
	a.trigger_snapshot_id = ids[20];
	a.fired_ms = 20 * MINUTE_MS;
	ck_assert_int_eq(store_alert_put(st, &a), 0);
	alert_init(&b, target, inst, "threshold", "private_committed", ALERT_RESOLVED, 0);
	b.trigger_snapshot_id = ids[0];
	b.fired_ms = 2 * MINUTE_MS;
	b.resolved_ms = 5 * MINUTE_MS;
	ck_assert_int_eq(store_alert_put(st, &b), 0);

	/* everything but the newest is past raw retention; the resolved alert
	 * is within alert_ms */
	store_retention_defaults(&ret);
	ret.raw_ms = MINUTE_MS / 2;
	ret.alert_ms = 100 * MINUTE_MS;
	prune_all(st, &ret, last_time + MINUTE_MS / 2, pin_budgets[_i]);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM snapshots"), 4);
	for (k = 0; k < N_STEPS; k++) {
		struct snapshot *gone = NULL;

		snprintf(ctx, sizeof(ctx), "after prune, snapshot %d", k);
		s = gen(10, k, 0);
		if (k == 0 || k == 10 || k == 20 || k == N_STEPS - 1)
			assert_rebuilds(st, ids[k], s, ctx);
		else
			ck_assert_msg(store_get_snapshot(st, ids[k], &gone) == MD_ERR_NOTFOUND,
			              "%s: still there", ctx);
		snapshot_free(s);
	}
	/* the timeline: rollups for the pruned minutes, raw points for the
	 * four kept snapshots, one point per minute */
	ck_assert_int_eq(store_timeline(st, target, INT64_MIN, INT64_MAX, 0, &tl, &n), 0);
	ck_assert_uint_eq(n, N_STEPS);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(tl[i].time_ms, (int64_t)i * MINUTE_MS);
		n_raw += tl[i].snapshot_id != 0;
		s = gen(10, (int)i, 0);
		ck_assert_msg(tl[i].committed[REGION_HEAP] == s->regions[1].committed,
		              "timeline point %zu: heap", i);
		snapshot_free(s);
	}
	ck_assert_uint_eq(n_raw, 4);
	ck_assert_int_eq(tl[10].snapshot_id, ids[10]);
	free(tl);

	/* the writer goes on after the pruning; the pinned ones stay exact */
	s = gen(10, N_STEPS, 0);
	ids[N_STEPS] = put(st, target, s);
	assert_rebuilds(st, ids[N_STEPS], s, "written after");
	snapshot_free(s);
	s = gen(10, 20, 0);
	assert_rebuilds(st, ids[20], s, "pinned 20 after a put");
	snapshot_free(s);

	/* the resolved alert expires: its snapshot goes, the firing one's stay */
	now = 5 * MINUTE_MS + ret.alert_ms + 1;
	ret.raw_ms = now - last_time; /* the raw cut stays at the newest two */
	prune_all(st, &ret, now, pin_budgets[_i]);
	ret.raw_ms = MINUTE_MS / 2;
	ck_assert_int_eq(store_get_alert(st, b.id, &got), MD_ERR_NOTFOUND);
	ck_assert_int_eq(store_get_alert(st, a.id, &got), 0);
	store_alerts_free(got, 1);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM snapshots"), 4);
	ck_assert_int_eq(store_get_snapshot(st, ids[0], &s), MD_ERR_NOTFOUND);

	/* a firing alert never expires, however old */
	prune_all(st, &ret, INT64_C(1) << 50, pin_budgets[_i]);
	ck_assert_int_eq(store_get_alert(st, a.id, &got), 0);
	store_alerts_free(got, 1);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM snapshots"), 2);
	for (k = 10; k <= 20; k += 10) {
		s = gen(10, k, 0);
		assert_rebuilds(st, ids[k], s, "pinned, all else pruned");
		snapshot_free(s);
	}

	/* it resolves, expires, and releases both */
	a.state = ALERT_RESOLVED;
	a.resolved_ms = 50 * MINUTE_MS;
	ck_assert_int_eq(store_alert_put(st, &a), 0);
	prune_all(st, &ret, 50 * MINUTE_MS + ret.alert_ms - 1, pin_budgets[_i]);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM alerts"), 1);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM snapshots"), 2);
	prune_all(st, &ret, 50 * MINUTE_MS + ret.alert_ms + 1, pin_budgets[_i]);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM alerts"), 0);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM snapshots"), 0);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM versions"), 0);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM counters"), 0);
	store_close(st);
	test_rm_rf(sc.dir);
}
END_TEST

START_TEST(test_store_prune__alert_ms_zero_keeps_resolved_alerts)
{
	struct scratch sc;
	struct store *st;
	struct store_alert a;
	struct store_retention ret;
	struct snapshot *s = gen(10, 0, 0);
	int64_t target, id;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "leaky", &target), 0);
	id = put(st, target, s);
	alert_init(&a, target, instance_of(st, target, id), "trend", "private_committed",
	           ALERT_RESOLVED, 0);
	a.fired_ms = 1;
	a.resolved_ms = 1;
	a.baseline_snapshot_id = id;
	ck_assert_int_eq(store_alert_put(st, &a), 0);
	store_retention_defaults(&ret);
	ck_assert_int_eq(ret.alert_ms, INT64_C(90) * 24 * 3600 * 1000);
	ret.alert_ms = 0;
	prune_all(st, &ret, INT64_C(1) << 50, 1000);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM alerts"), 1);
	assert_rebuilds(st, id, s, "pinned forever");
	store_close(st);
	snapshot_free(s);
	test_rm_rf(sc.dir);
}
END_TEST

/* A pending alert pins its baseline; once closed without firing (fired_ms
 * 0) it pins nothing, though its row stays for alert_ms.  Rows written by
 * an older memdeltad with their ids still set are unpinned by the prune. */
START_TEST(test_store_prune__closed_never_fired_alert_pins_nothing)
{
	struct scratch sc;
	struct store *st;
	struct store_alert p, l, *got = NULL;
	struct store_retention ret;
	struct snapshot *s;
	int64_t target, ids[6], inst, now = 5 * MINUTE_MS + MINUTE_MS / 2;
	char sql[256];
	int k;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "leaky", &target), 0);
	for (k = 0; k < 6; k++) {
		s = gen(10, k, 0);
		ids[k] = put(st, target, s);
		snapshot_free(s);
	}
	inst = instance_of(st, target, ids[0]);
	alert_init(&p, target, inst, "trend", "private_committed", ALERT_PENDING, MINUTE_MS);
	p.baseline_snapshot_id = ids[1];
	ck_assert_int_eq(store_alert_put(st, &p), 0);
	/* closed before firing: stored without its snapshots, the caller's
	 * copy cleared too */
	alert_init(&l, target, inst, "trend", "committed:heap", ALERT_RESOLVED, 2 * MINUTE_MS);
	l.resolved_ms = 3 * MINUTE_MS;
	l.baseline_snapshot_id = ids[2];
	l.trigger_snapshot_id = ids[3];
	ck_assert_int_eq(store_alert_put(st, &l), 0);
	ck_assert_int_eq(l.baseline_snapshot_id, 0);
	ck_assert_int_eq(l.trigger_snapshot_id, 0);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM alerts WHERE id = %" PRId64
	         " AND baseline_snapshot_id IS NULL AND trigger_snapshot_id IS NULL",
	         l.id);
	ck_assert_int_eq(sql_int(sc.db, sql), 1);
	/* as an older memdeltad left it: the ids still set */
	snprintf(sql, sizeof(sql),
	         "UPDATE alerts SET baseline_snapshot_id = %" PRId64
	         ", trigger_snapshot_id = %" PRId64 " WHERE id = %" PRId64,
	         ids[2], ids[3], l.id);
	sql_exec(sc.db, sql);

	store_retention_defaults(&ret);
	ret.raw_ms = MINUTE_MS / 2; /* all but the newest are past raw retention */
	ret.alert_ms = 100 * MINUTE_MS;
	prune_all(st, &ret, now, pin_budgets[_i]);
	/* the pending alert's baseline stays; 2 and 3 went with the unpin */
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM snapshots"), 2);
	s = gen(10, 1, 0);
	assert_rebuilds(st, ids[1], s, "pending alert's baseline");
	snapshot_free(s);
	ck_assert_int_eq(store_get_snapshot(st, ids[2], &s), MD_ERR_NOTFOUND);
	ck_assert_int_eq(store_get_snapshot(st, ids[3], &s), MD_ERR_NOTFOUND);
	ck_assert_int_eq(store_get_alert(st, l.id, &got), 0);
	ck_assert_int_eq(got->baseline_snapshot_id, 0);
	ck_assert_int_eq(got->trigger_snapshot_id, 0);
	store_alerts_free(got, 1);

	/* the pending alert is cancelled: its baseline goes at the next prune,
	 * its row stays */
	p.state = ALERT_RESOLVED;
	p.resolved_ms = 5 * MINUTE_MS;
	p.updated_ms = p.resolved_ms;
	ck_assert_int_eq(store_alert_put(st, &p), 0);
	ck_assert_int_eq(p.baseline_snapshot_id, 0);
	prune_all(st, &ret, now, pin_budgets[_i]);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM snapshots"), 1);
	ck_assert_int_eq(store_get_snapshot(st, ids[1], &s), MD_ERR_NOTFOUND);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM alerts"), 2);
	s = gen(10, 5, 0);
	assert_rebuilds(st, ids[5], s, "the newest");
	snapshot_free(s);
	store_close(st);
	test_rm_rf(sc.dir);
}
END_TEST

/* ---- store_open: migration ------------------------------------------------ */

START_TEST(test_store_open__version_2_database_gains_alerts)
{
	struct scratch sc;
	struct store *st, *ro = NULL;
	struct store_alert a;
	struct snapshot *s = gen(10, 3, 0);
	int64_t target, id;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(sql_int(sc.db, "PRAGMA user_version"), 3);
	ck_assert_int_eq(store_target_ensure(st, "leaky", &target), 0);
	id = put(st, target, s);
	store_close(st);
	sql_exec(sc.db, "DROP TABLE alerts; PRAGMA user_version = 2");
	/* readers refuse an old schema; the writer migrates it */
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &ro), MD_ERR_DB);
	st = open_rw(sc.db);
	ck_assert_int_eq(sql_int(sc.db, "PRAGMA user_version"), 3);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM sqlite_schema WHERE tbl_name ="
	                                " 'alerts' AND type = 'index'"),
	                 5);
	assert_rebuilds(st, id, s, "migrated");
	alert_init(&a, target, instance_of(st, target, id), "trend", "private_committed",
	           ALERT_PENDING, 1);
	ck_assert_int_eq(store_alert_put(st, &a), 0);
	store_close(st);
	snapshot_free(s);
	test_rm_rf(sc.dir);
}
END_TEST

static Suite *
store_alert_suite(void)
{
	Suite *s = suite_create("store_alert");
	TCase *tc;

	tc = tcase_create("store_alert_put");
	tcase_add_test(tc, test_store_alert_put__insert_update_roundtrip);
	tcase_add_test(tc, test_store_alert_put__bad_input_refused_nothing_written);
	suite_add_tcase(s, tc);
	tc = tcase_create("store_list_alerts");
	tcase_add_test(tc, test_store_list_alerts__filters_order_limit);
	suite_add_tcase(s, tc);
	tc = tcase_create("store_get_alert");
	tcase_add_test(tc, test_store_get_alert__unknown_is_notfound);
	suite_add_tcase(s, tc);
	tc = tcase_create("store_alerts_free");
	tcase_add_test(tc, test_store_alerts_free__null_is_fine);
	suite_add_tcase(s, tc);
	tc = tcase_create("store_snapshot_at");
	tcase_add_test(tc, test_store_snapshot_at__latest_at_or_before_across_instances);
	suite_add_tcase(s, tc);
	tc = tcase_create("store_prune");
	tcase_add_loop_test(tc, test_store_prune__pinned_snapshots_kept_exact_then_released, 0,
	                    (int)(sizeof(pin_budgets) / sizeof(pin_budgets[0])));
	tcase_add_test(tc, test_store_prune__alert_ms_zero_keeps_resolved_alerts);
	tcase_add_loop_test(tc, test_store_prune__closed_never_fired_alert_pins_nothing, 0,
	                    (int)(sizeof(pin_budgets) / sizeof(pin_budgets[0])));
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("store_open");
	tcase_add_test(tc, test_store_open__version_2_database_gains_alerts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_alert_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
