/*
 * check_store.c - unit tests of the SQLite store (snapshot/store.c): exact
 * rebuild of every stored snapshot after a long run of synthetic changes and
 * a reopen midway, instances, atomicity of a failed put, delta encoding
 * (rows only for what changed, counted with SQL), read-only handles, schema
 * versions and migrations, totals equal to snapshot_totals(), listings.
 * Every database lives in a scratch directory from test_scratch_dir().
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "snapshot/store.h"
#include "tests/testutil.h"

#define RW_ROUNDTRIP_SNAPSHOTS 100
#define GEN_MAX_REGIONS        1024
#define PAGE                   4096u

/* ---- helpers ------------------------------------------------------------ */

struct scratch {
	char dir[4096];
	char db[4200];
};

static void
scratch_init(struct scratch *sc)
{
	int n;

	n = snprintf(sc->dir, sizeof(sc->dir), "%s", test_scratch_dir());
	ck_assert(n > 0 && (size_t)n < sizeof(sc->dir));
	n = snprintf(sc->db, sizeof(sc->db), "%s/store.db", sc->dir);
	ck_assert(n > 0 && (size_t)n < sizeof(sc->db));
}

static void
scratch_done(struct scratch *sc)
{
	test_rm_rf(sc->dir);
}

static struct store *
open_rw(const char *path)
{
	struct store *st = NULL;
	int rc = store_open(path, 0, &st);

	ck_assert_msg(rc == 0, "store_open %s: %s (%s)", path, md_strerror(rc), store_errmsg(NULL));
	ck_assert_ptr_nonnull(st);
	return st;
}

/* One integer from @sql on a separate raw connection. */
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

	ck_assert_int_eq(
	        sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
	        SQLITE_OK);
	ck_assert_int_eq(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK, "%s: %s", sql,
	              err ? err : "?");
	sqlite3_free(err);
	sqlite3_close(db);
}

static void
assert_region_eq(const struct region *a, const struct region *b, const char *ctx, size_t i)
{
#define REQ(f)                                                                                     \
	ck_assert_msg(a->f == b->f,                                                                \
	              "%s region %zu (base %#" PRIx64 "): " #f " %" PRIu64 " != %" PRIu64, ctx, i, \
	              a->base, (uint64_t)a->f, (uint64_t)b->f)
	REQ(base);
	REQ(size);
	REQ(allocation_base);
	REQ(type);
	REQ(state);
	REQ(protection);
	REQ(committed);
	REQ(resident);
	REQ(private_resident);
	REQ(shared_resident);
	REQ(pss);
	REQ(swap);
	REQ(locked);
#undef REQ
	ck_assert_ptr_nonnull(b->detail);
	ck_assert_msg(strcmp(a->detail, b->detail) == 0, "%s region %zu: detail '%s' != '%s'", ctx,
	              i, a->detail, b->detail);
}

static void
assert_snapshot_eq(const struct snapshot *a, const struct snapshot *b, const char *ctx)
{
	size_t i;

	ck_assert_msg(a->pid == b->pid, "%s: pid", ctx);
	ck_assert_msg(a->start_time == b->start_time, "%s: start_time", ctx);
	ck_assert_msg(a->start_time_ms == b->start_time_ms, "%s: start_time_ms", ctx);
	ck_assert_msg(a->time_ms == b->time_ms, "%s: time_ms %" PRId64 " != %" PRId64, ctx,
	              a->time_ms, b->time_ms);
	ck_assert_msg(strcmp(a->name, b->name) == 0, "%s: name '%s' != '%s'", ctx, a->name,
	              b->name);
	ck_assert_msg(strcmp(a->cmdline, b->cmdline) == 0, "%s: cmdline '%s' != '%s'", ctx,
	              a->cmdline, b->cmdline);
	ck_assert_msg(a->flags == b->flags, "%s: flags %u != %u", ctx, a->flags, b->flags);
	ck_assert_msg(a->page_table_bytes == b->page_table_bytes, "%s: page_table_bytes", ctx);
	ck_assert_msg(a->collect_ns == b->collect_ns, "%s: collect_ns", ctx);
	ck_assert_msg(a->n_regions == b->n_regions, "%s: %zu regions != %zu", ctx, a->n_regions,
	              b->n_regions);
	for (i = 0; i < a->n_regions; i++)
		assert_region_eq(&a->regions[i], &b->regions[i], ctx, i);
}

static void
assert_rt_eq(const struct region_totals *a, const struct region_totals *b, const char *ctx,
             const char *what)
{
#define TEQ(f)                                                                                     \
	ck_assert_msg(a->f == b->f, "%s: %s." #f " %" PRIu64 " != %" PRIu64, ctx, what, a->f, b->f)
	TEQ(size);
	TEQ(committed);
	TEQ(reserved);
	TEQ(resident);
	TEQ(private_resident);
	TEQ(shared_resident);
	TEQ(pss);
	TEQ(swap);
	TEQ(locked);
	TEQ(regions);
	TEQ(blocks);
	TEQ(largest);
#undef TEQ
}

static void
assert_totals_eq(const struct snapshot_totals *a, const struct snapshot_totals *b, const char *ctx)
{
	char what[64];
	int t, s;

	for (t = 0; t < REGION_TYPE_COUNT; t++) {
		for (s = 0; s < STATE_COUNT; s++) {
			snprintf(what, sizeof(what), "cell[%s][%s]", region_type_name(t),
			         region_state_name(s));
			assert_rt_eq(&a->cell[t][s], &b->cell[t][s], ctx, what);
		}
		snprintf(what, sizeof(what), "by_type[%s]", region_type_name(t));
		assert_rt_eq(&a->by_type[t], &b->by_type[t], ctx, what);
	}
	for (s = 0; s < STATE_COUNT; s++) {
		snprintf(what, sizeof(what), "by_state[%s]", region_state_name(s));
		assert_rt_eq(&a->by_state[s], &b->by_state[s], ctx, what);
	}
	assert_rt_eq(&a->all, &b->all, ctx, "all");
	ck_assert_msg(a->free == b->free, "%s: free", ctx);
	ck_assert_msg(a->private_committed == b->private_committed, "%s: private_committed", ctx);
	ck_assert_msg(a->private_touched == b->private_touched, "%s: private_touched", ctx);
	ck_assert(memcmp(a, b, sizeof(*a)) == 0);
}

/* ---- a synthetic process that changes ----------------------------------- */

struct gen {
	struct region r[GEN_MAX_REGIONS];
	size_t n;
	uint64_t rng;
	int step;
	int64_t time_ms;
	unsigned flags;
	uint64_t page_table_bytes;
	char name[64];
	char cmdline[128];
	int64_t start_time_ms;
};

static const char *const details[] = {
        "",
        "",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libssl.so.3",
        "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
        "/opt/app/lib/libapp core.so",
        "[heap]",
        "glibc arena (inferred: 64 MiB aligned, ---p tail)",
        "thread 4711",
        "thread 4712 (inferred from layout)",
        "[anon:jemalloc pg]",
        "/memfd:pool (deleted)",
        "/dev/shm/app.0",
        "/var/lib/app/data.db (deleted)",
        "C:\\Windows\\System32\\ntdll.dll",
        "heap 3 (LFH)",
        "/usr/share/locale/fr/LC_MESSAGES/libc.mo",
        "[stack]",
};

#define N_DETAILS (sizeof(details) / sizeof(details[0]))

static uint64_t
gen_rnd(struct gen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
gen_below(struct gen *g, uint64_t n)
{
	return n > 0 ? gen_rnd(g) % n : 0;
}

/* Counters, mostly page multiples, sometimes odd, sometimes huge (> 2^63,
 * and shared not equal to resident - private). */
static void
gen_counters(struct gen *g, struct region *r)
{
	uint64_t pages = r->size / PAGE;

	r->resident = gen_below(g, pages + 1) * PAGE;
	r->private_resident = gen_below(g, r->resident / PAGE + 1) * PAGE;
	r->shared_resident = r->resident - r->private_resident;
	r->pss = r->private_resident + r->shared_resident / 3;
	r->swap = gen_below(g, 4) == 0 ? gen_below(g, pages + 1) * PAGE : 0;
	r->locked = gen_below(g, 10) == 0 ? r->resident : 0;
	switch (gen_below(g, 12)) {
	case 0:
		r->pss += 1 + gen_below(g, 1023); /* not a KiB multiple */
		break;
	case 1:
		r->shared_resident += PAGE; /* OS without the private/shared split */
		break;
	case 2:
		r->locked = UINT64_MAX - gen_below(g, 3000); /* above INT64_MAX, odd */
		break;
	case 3:
		r->swap = (1ull << 63) + 1024 * gen_below(g, 5); /* above INT64_MAX, KiB */
		break;
	default:
		break;
	}
}

/* Any type but PAGE_TABLE, which is not a region (page_table_bytes). */
static enum region_type
gen_type(struct gen *g)
{
	enum region_type t = (enum region_type)gen_below(g, REGION_TYPE_COUNT - 1);

	return t >= REGION_PAGE_TABLE ? t + 1 : t;
}

static void
gen_region(struct gen *g, struct region *r, uint64_t base, uint64_t pages, int joins_previous,
           uint64_t prev_allocation_base)
{
	memset(r, 0, sizeof(*r));
	r->base = base;
	r->size = pages * PAGE;
	r->allocation_base = joins_previous ? prev_allocation_base : base;
	r->type = gen_type(g);
	r->state = gen_below(g, 4) == 0 ? STATE_RESERVE : STATE_COMMIT;
	r->protection = (unsigned)gen_below(g, 64);
	r->committed = r->state == STATE_COMMIT && gen_below(g, 3) != 0 ? r->size : 0;
	r->detail = details[gen_below(g, N_DETAILS)];
	gen_counters(g, r);
}

static void
gen_init(struct gen *g, uint64_t seed, size_t n)
{
	uint64_t base = 0x10000;
	size_t i;

	memset(g, 0, sizeof(*g));
	g->rng = seed;
	for (i = 0; i < n; i++) {
		int joins = i > 0 && gen_below(g, 5) == 0;
		uint64_t pages = 1 + gen_below(g, 64);

		if (!joins)
			base += PAGE * (3 + gen_below(g, 32));
		gen_region(g, &g->r[i], base, pages, joins,
		           i > 0 ? g->r[i - 1].allocation_base : 0);
		base += pages * PAGE;
		g->n++;
	}
	/* A mapping above 2^63, like [vsyscall]. */
	gen_region(g, &g->r[g->n], 0xffffffffff600000ull, 1, 0, 0);
	g->r[g->n].type = REGION_IMAGE;
	g->n++;
	g->time_ms = 1700000000000;
	g->page_table_bytes = 40960;
	g->start_time_ms = 1690000000000;
	snprintf(g->name, sizeof(g->name), "app");
	snprintf(g->cmdline, sizeof(g->cmdline), "/usr/bin/app --serve");
}

static size_t
gen_pick(struct gen *g)
{
	/* never the last region (the one above 2^63) */
	return (size_t)gen_below(g, g->n - 1);
}

/* Room between region @i and the next one. */
static uint64_t
gen_gap(const struct gen *g, size_t i)
{
	return g->r[i + 1].base - (g->r[i].base + g->r[i].size);
}

static void
gen_step(struct gen *g)
{
	size_t i, k;

	g->step++;
	g->time_ms += 1000 + (int64_t)gen_below(g, 60000);
	if (g->step % 10 == 0)
		return; /* every tenth snapshot: nothing changed */
	g->flags = (unsigned)gen_below(g, 16);
	g->page_table_bytes = gen_below(g, 3) == 0 ? 0 : PAGE * (1 + gen_below(g, 100));
	if (g->step == 31)
		snprintf(g->name, sizeof(g->name), "app-renamed");
	if (g->step == 61)
		snprintf(g->cmdline, sizeof(g->cmdline), "app: worker process");
	if (g->step == 71)
		g->start_time_ms += 1;
	for (k = 0; k < 20; k++) /* counters move */
		gen_counters(g, &g->r[gen_pick(g)]);
	for (k = 0; k < 3; k++) { /* size changes */
		uint64_t gap;

		i = gen_pick(g);
		gap = gen_gap(g, i);
		if (gap >= PAGE && gen_below(g, 2) == 0)
			g->r[i].size += PAGE * (1 + gen_below(g, gap / PAGE));
		else if (g->r[i].size > PAGE)
			g->r[i].size -= PAGE;
		else
			g->r[i].size += gap >= PAGE ? PAGE : 0;
		if (g->r[i].committed != 0)
			g->r[i].committed = g->r[i].size;
	}
	for (k = 0; k < 2; k++) /* protection changes */
		g->r[gen_pick(g)].protection ^= 1u << gen_below(g, 6);
	g->r[gen_pick(g)].type = gen_type(g);
	i = gen_pick(g);
	g->r[i].state = g->r[i].state == STATE_COMMIT ? STATE_RESERVE : STATE_COMMIT;
	for (k = 0; k < 2; k++) /* detail changes */
		g->r[gen_pick(g)].detail = details[gen_below(g, N_DETAILS)];
	i = gen_pick(g);
	g->r[i].allocation_base =
	        g->r[i].allocation_base == g->r[i].base ? g->r[i].base - PAGE : g->r[i].base;
	for (k = 0; k < 2 && g->n + 1 < GEN_MAX_REGIONS; k++) { /* new regions */
		int tries;

		for (tries = 0; tries < 100; tries++) {
			i = gen_pick(g);
			if (gen_gap(g, i) >= 2 * PAGE)
				break;
		}
		if (tries == 100)
			continue;
		memmove(&g->r[i + 2], &g->r[i + 1], (g->n - i - 1) * sizeof(g->r[0]));
		g->n++;
		gen_region(g, &g->r[i + 1], g->r[i].base + g->r[i].size + PAGE,
		           gen_gap(g, i) / PAGE - 1 > 0 ? 1 + gen_below(g, gen_gap(g, i) / PAGE - 1)
		                                        : 1,
		           0, 0);
		/* the size drawn above used the gap before insertion: clip */
		if (g->r[i + 1].base + g->r[i + 1].size > g->r[i + 2].base)
			g->r[i + 1].size = g->r[i + 2].base - g->r[i + 1].base;
		if (g->r[i + 1].committed != 0)
			g->r[i + 1].committed = g->r[i + 1].size;
	}
	for (k = 0; k < 2 && g->n > 2; k++) { /* freed regions */
		i = gen_pick(g);
		memmove(&g->r[i], &g->r[i + 1], (g->n - i - 1) * sizeof(g->r[0]));
		g->n--;
	}
}

static struct snapshot *
gen_snapshot(const struct gen *g, int pid, uint64_t start_time)
{
	struct snapshot *s = NULL;
	size_t i;

	ck_assert_int_eq(snapshot_new(&s), 0);
	s->pid = pid;
	s->start_time = start_time;
	s->start_time_ms = g->start_time_ms;
	s->time_ms = g->time_ms;
	memcpy(s->name, g->name, sizeof(s->name));
	s->flags = g->flags;
	s->page_table_bytes = g->page_table_bytes;
	s->collect_ns = 1000000 + (uint64_t)g->step * 37;
	ck_assert_int_eq(snapshot_set_cmdline(s, g->cmdline), 0);
	for (i = 0; i < g->n; i++)
		ck_assert_int_eq(snapshot_add_region(s, &g->r[i]), 0);
	/* the generator keeps the invariants the store checks */
	for (i = 1; i < s->n_regions; i++)
		ck_assert(s->regions[i - 1].base + s->regions[i - 1].size <= s->regions[i].base);
	return s;
}

static struct snapshot *
small_snapshot(int pid, uint64_t start_time, int64_t time_ms)
{
	struct snapshot *s = NULL;
	struct region r;

	ck_assert_int_eq(snapshot_new(&s), 0);
	s->pid = pid;
	s->start_time = start_time;
	s->time_ms = time_ms;
	snprintf(s->name, sizeof(s->name), "small");
	test_region(&r, 0x400000, 0x1000, REGION_IMAGE, STATE_COMMIT, PROT_BIT_READ | PROT_BIT_EXEC,
	            0, 0x1000, "/usr/bin/small");
	ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	test_region(&r, 0x600000, 0x21000, REGION_HEAP, STATE_COMMIT,
	            PROT_BIT_READ | PROT_BIT_WRITE, 0x21000, 0x8000, "[heap]");
	r.private_resident = 0x8000;
	ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	test_region(&r, 0x7f0000000000, 0x10000, REGION_PRIVATE, STATE_COMMIT,
	            PROT_BIT_READ | PROT_BIT_WRITE, 0x10000, 0x3000, NULL);
	r.private_resident = 0x3000;
	ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	test_region(&r, 0x7ffc00000000, 0x21000, REGION_STACK, STATE_COMMIT,
	            PROT_BIT_READ | PROT_BIT_WRITE, 0x21000, 0x5000, "[stack]");
	ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	return s;
}

static int64_t
put(struct store *st, int64_t target, const struct snapshot *s)
{
	int64_t id = 0;
	int rc = store_put_snapshot(st, target, s, &id);

	ck_assert_msg(rc == 0, "store_put_snapshot: %s (%s)", md_strerror(rc), store_errmsg(st));
	ck_assert(id > 0);
	return id;
}

static void
assert_rebuilds(struct store *st, int64_t id, const struct snapshot *orig, const char *ctx)
{
	struct snapshot *back = NULL;
	int rc = store_get_snapshot(st, id, &back);

	ck_assert_msg(rc == 0, "%s: store_get_snapshot %" PRId64 ": %s (%s)", ctx, id,
	              md_strerror(rc), store_errmsg(st));
	assert_snapshot_eq(orig, back, ctx);
	snapshot_free(back);
}

/* Store RW_ROUNDTRIP_SNAPSHOTS generated snapshots of one process, closing
 * and reopening the store halfway (the writer's cache is then reloaded from
 * disk).  Returns the snapshots and their ids. */
static void
store_run(const char *path, struct snapshot **snaps, int64_t *ids, int64_t *target)
{
	static struct gen g;
	struct store *st = open_rw(path);
	int i;

	gen_init(&g, 7, 300);
	ck_assert_int_eq(store_target_ensure(st, "app", target), 0);
	for (i = 0; i < RW_ROUNDTRIP_SNAPSHOTS; i++) {
		if (i > 0)
			gen_step(&g);
		if (i == RW_ROUNDTRIP_SNAPSHOTS / 2) {
			store_close(st);
			st = open_rw(path);
		}
		snaps[i] = gen_snapshot(&g, 1234, 555555);
		ids[i] = put(st, *target, snaps[i]);
		if (i > 0)
			ck_assert(ids[i] > ids[i - 1]);
	}
	store_close(st);
}

/* ---- store_open ---------------------------------------------------------- */

START_TEST(test_store_open__creates_schema_in_wal_mode)
{
	struct scratch sc;
	struct store *st;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(sql_int(sc.db, "PRAGMA user_version"), 3);
	ck_assert_int_eq(sql_int(sc.db, "PRAGMA application_id"), 0x6d646c74);
	ck_assert_int_eq(sql_int(sc.db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
	                                " AND name IN ('targets', 'instances', 'snapshots',"
	                                " 'strings', 'versions', 'counters', 'totals')"),
	                 7);
	store_close(st);
	/* Reopening an up-to-date database changes nothing. */
	st = open_rw(sc.db);
	ck_assert_int_eq(sql_int(sc.db, "PRAGMA user_version"), 3);
	store_close(st);
	store_close(NULL);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_open__future_user_version_fails)
{
	struct scratch sc;
	struct store *st;
	int64_t target;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "t", &target), 0);
	store_close(st);
	sql_exec(sc.db, "PRAGMA user_version = 99");

	st = (struct store *)&sc; /* must be cleared */
	ck_assert_int_eq(store_open(sc.db, 0, &st), MD_ERR_DB);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(store_errmsg(NULL), "newer") != NULL, "%s", store_errmsg(NULL));
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &st), MD_ERR_DB);
	ck_assert_ptr_null(st);
	/* Nothing was touched: still version 99, the data still there. */
	ck_assert_int_eq(sql_int(sc.db, "PRAGMA user_version"), 99);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM targets"), 1);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_open__readonly_missing_file_fails)
{
	struct scratch sc;
	struct store *st = NULL;
	struct stat sb;
	int rc;

	scratch_init(&sc);
	rc = store_open(sc.db, STORE_READONLY, &st);
	ck_assert_int_eq(rc, MD_ERR_IO);
	ck_assert_ptr_null(st);
	ck_assert_str_ne(store_errmsg(NULL), "no error");
	ck_assert_int_ne(stat(sc.db, &sb), 0); /* not created */
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_open__readonly_older_version_fails_then_migrates)
{
	struct scratch sc;
	struct store *st = NULL;

	scratch_init(&sc);
	/* A database at schema version 0: an empty SQLite file. */
	sql_exec(sc.db, "PRAGMA user_version = 0");
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &st), MD_ERR_DB);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(store_errmsg(NULL), "read-write") != NULL, "%s", store_errmsg(NULL));
	ck_assert_int_eq(sql_int(sc.db, "PRAGMA user_version"), 0);
	/* The writer migrates it; then readers are fine. */
	st = open_rw(sc.db);
	store_close(st);
	ck_assert_int_eq(sql_int(sc.db, "PRAGMA user_version"), 3);
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &st), 0);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_open__not_memdelta_database_fails)
{
	struct scratch sc;
	struct store *st = NULL;

	scratch_init(&sc);
	/* Someone else's database. */
	sql_exec(sc.db, "PRAGMA application_id = 42");
	ck_assert_int_eq(store_open(sc.db, 0, &st), MD_ERR_DB);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &st), MD_ERR_DB);
	/* No application id, no schema version, but tables: not ours either. */
	sql_exec(sc.db, "PRAGMA application_id = 0; CREATE TABLE x (y)");
	ck_assert_int_eq(store_open(sc.db, 0, &st), MD_ERR_DB);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(store_errmsg(NULL), "not a memdelta database") != NULL, "%s",
	              store_errmsg(NULL));
	ck_assert_int_eq(sql_int(sc.db, "PRAGMA user_version"), 0);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM sqlite_schema"), 1);
	ck_assert_int_eq(sql_int(sc.db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 0);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_open__readonly_sees_writer_commits)
{
	struct scratch sc;
	struct store *w, *r = NULL;
	struct snapshot *a, *b;
	struct store_snapshot_info *info = NULL;
	size_t n = 0;
	int64_t target, ida, idb;

	scratch_init(&sc);
	w = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(w, "small", &target), 0);
	a = small_snapshot(10, 100, 1000);
	ida = put(w, target, a);
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &r), 0);
	assert_rebuilds(r, ida, a, "reader, first");

	/* Committed while the reader is open. */
	b = small_snapshot(10, 100, 2000);
	b->regions[1].resident += 0x1000;
	b->regions[1].private_resident += 0x1000;
	idb = put(w, target, b);
	ck_assert_int_eq(store_list_snapshots(r, target, INT64_MIN, INT64_MAX, &info, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(info[1].id, idb);
	assert_rebuilds(r, idb, b, "reader, second");
	/* The reader cannot write. */
	ck_assert_int_ne(store_put_snapshot(r, target, b, NULL), 0);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM snapshots"), 2);

	free(info);
	snapshot_free(a);
	snapshot_free(b);
	store_close(r);
	store_close(w);
	scratch_done(&sc);
}
END_TEST

/* ---- store_put_snapshot -------------------------------------------------- */

START_TEST(test_store_put_snapshot__roundtrip_100)
{
	struct snapshot *snaps[RW_ROUNDTRIP_SNAPSHOTS];
	int64_t ids[RW_ROUNDTRIP_SNAPSHOTS], target;
	struct scratch sc;
	struct store *st;
	char ctx[64];
	int i;

	scratch_init(&sc);
	store_run(sc.db, snaps, ids, &target);
	/* Variety the run must have had for the test to mean anything. */
	ck_assert_int_gt(sql_int(sc.db, "SELECT count(*) FROM versions"
	                                " WHERE last_snapshot IS NOT NULL"),
	                 300);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(DISTINCT type) FROM versions"),
	                 REGION_TYPE_COUNT - 1);
	ck_assert_int_gt(sql_int(sc.db, "SELECT count(*) FROM snapshots WHERE name IS NOT NULL"),
	                 0);
	ck_assert_int_gt(sql_int(sc.db, "SELECT count(*) FROM counters WHERE typeof(locked) ="
	                                " 'blob'"),
	                 0);

	st = open_rw(sc.db);
	for (i = 0; i < RW_ROUNDTRIP_SNAPSHOTS; i++) {
		snprintf(ctx, sizeof(ctx), "snapshot %d", i);
		assert_rebuilds(st, ids[i], snaps[i], ctx);
	}
	store_close(st);
	for (i = 0; i < RW_ROUNDTRIP_SNAPSHOTS; i++)
		snapshot_free(snaps[i]);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_put_snapshot__new_start_time_is_new_instance)
{
	struct store_snapshot_info *info = NULL;
	struct snapshot *a, *b, *c;
	struct scratch sc;
	struct store *st;
	int64_t target, ida, idb, idc;
	size_t n = 0;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	a = small_snapshot(10, 100, 1000);
	b = small_snapshot(10, 200, 2000); /* restarted: same pid, new start */
	b->regions[2].size = 0x20000;
	b->regions[2].committed = 0x20000;
	c = small_snapshot(10, 200, 3000);
	ida = put(st, target, a);
	idb = put(st, target, b);
	idc = put(st, target, c);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM instances"), 2);
	/* The new instance starts with versions of its own. */
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM versions"), 4 + 4 + 1);

	ck_assert_int_eq(store_list_snapshots(st, target, INT64_MIN, INT64_MAX, &info, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(info[0].id, ida);
	ck_assert_int_ne(info[0].instance_id, info[1].instance_id);
	ck_assert_int_eq(info[1].instance_id, info[2].instance_id);
	ck_assert_uint_eq(info[0].start_time, 100);
	ck_assert_uint_eq(info[1].start_time, 200);
	assert_rebuilds(st, ida, a, "old instance");
	assert_rebuilds(st, idb, b, "new instance");
	assert_rebuilds(st, idc, c, "new instance, second");

	free(info);
	snapshot_free(a);
	snapshot_free(b);
	snapshot_free(c);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

#define COUNT_ALL                                                                                  \
	"SELECT (SELECT count(*) FROM snapshots) || '/' || (SELECT count(*) FROM versions) || "    \
	"'/' || (SELECT count(*) FROM counters) || '/' || (SELECT count(*) FROM totals) || "       \
	"'/' || (SELECT count(*) FROM strings) || '/' || (SELECT count(*) FROM versions WHERE "    \
	"last_snapshot IS NULL) || '/' || (SELECT max(last_snapshot_id) FROM instances)"

/* Row counts of every table as one string, to compare before and after. */
static void
counts(const char *path, char *buf, size_t size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, COUNT_ALL, -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	snprintf(buf, size, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
}

START_TEST(test_store_put_snapshot__invalid_rejected_nothing_written)
{
	struct snapshot *a, *bad, *b;
	struct scratch sc;
	struct store *st;
	struct region tmp;
	char before[128], after[128];
	int64_t target, ida, idb, id = 77;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	a = small_snapshot(10, 100, 1000);
	ida = put(st, target, a);
	counts(sc.db, before, sizeof(before));

	/* Unsorted. */
	bad = small_snapshot(10, 100, 2000);
	tmp = bad->regions[0];
	bad->regions[0] = bad->regions[1];
	bad->regions[1] = tmp;
	ck_assert_int_eq(store_put_snapshot(st, target, bad, &id), MD_ERR_INVAL);
	ck_assert_int_eq(id, 0);
	ck_assert_msg(strstr(store_errmsg(st), "unsorted") != NULL, "%s", store_errmsg(st));
	snapshot_free(bad);
	/* Overlapping. */
	bad = small_snapshot(10, 100, 2000);
	bad->regions[1].size = bad->regions[2].base - bad->regions[1].base + 1;
	ck_assert_int_eq(store_put_snapshot(st, target, bad, NULL), MD_ERR_INVAL);
	snapshot_free(bad);
	/* Bad type. */
	bad = small_snapshot(10, 100, 2000);
	bad->regions[3].type = REGION_TYPE_COUNT;
	ck_assert_int_eq(store_put_snapshot(st, target, bad, NULL), MD_ERR_INVAL);
	snapshot_free(bad);
	/* A PAGE_TABLE region: the page table is page_table_bytes. */
	bad = small_snapshot(10, 100, 2000);
	bad->regions[3].type = REGION_PAGE_TABLE;
	ck_assert_int_eq(store_put_snapshot(st, target, bad, NULL), MD_ERR_INVAL);
	snapshot_free(bad);
	/* Unknown target. */
	bad = small_snapshot(10, 100, 2000);
	ck_assert_int_eq(store_put_snapshot(st, target + 1000, bad, NULL), MD_ERR_NOTFOUND);
	snapshot_free(bad);
	counts(sc.db, after, sizeof(after));
	ck_assert_str_eq(before, after);

	/* The next put still deltas against the first: one counter moved. */
	b = small_snapshot(10, 100, 3000);
	b->regions[2].resident += 0x1000;
	b->regions[2].private_resident += 0x1000;
	idb = put(st, target, b);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM versions"), 4);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM counters"), 5);
	assert_rebuilds(st, ida, a, "before the rejected puts");
	assert_rebuilds(st, idb, b, "after the rejected puts");

	snapshot_free(a);
	snapshot_free(b);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_put_snapshot__failure_midway_leaves_nothing)
{
	struct snapshot *a, *b, *c;
	struct scratch sc;
	struct store *st;
	struct region r;
	char before[128], after[128], sql[256];
	int64_t target, ida, idb, idc, id = 77;
	int rc;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	a = small_snapshot(10, 100, 1000);
	ida = put(st, target, a);
	counts(sc.db, before, sizeof(before));

	/* b: a counter moves and a region changes size (rows written and a
	 * version closed before the failure), then a new region with a new
	 * detail string at 0x7777000 makes a trigger abort the insert. */
	b = small_snapshot(10, 100, 2000);
	b->regions[0].resident = 0;
	b->regions[1].size = 0x22000;
	b->regions[1].committed = 0x22000;
	test_region(&r, 0x7777000, 0x3000, REGION_MAPPED, STATE_COMMIT, PROT_BIT_READ, 0, 0x1000,
	            "/tmp/new file");
	ck_assert_int_eq(snapshot_add_region(b, &r), 0);
	ck_assert_int_eq(snapshot_sort(b), 0);
	snprintf(sql, sizeof(sql),
	         "CREATE TRIGGER fail_magic BEFORE INSERT ON versions WHEN NEW.base = %d"
	         " BEGIN SELECT RAISE(ABORT, 'forced'); END",
	         0x7777000);
	sql_exec(sc.db, sql);
	rc = store_put_snapshot(st, target, b, &id);
	ck_assert_int_eq(rc, MD_ERR_DB);
	ck_assert_int_eq(id, 0);
	ck_assert_msg(strstr(store_errmsg(st), "forced") != NULL, "%s", store_errmsg(st));
	counts(sc.db, after, sizeof(after));
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(
	        sql_int(sc.db, "SELECT count(*) FROM strings WHERE text = '/tmp/new file'"), 0);

	/* Once the cause is gone the same put works and deltas against a. */
	sql_exec(sc.db, "DROP TRIGGER fail_magic");
	idb = put(st, target, b);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM versions"), 4 + 2);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM counters"), 4 + 3);
	ck_assert_int_eq(
	        sql_int(sc.db, "SELECT count(*) FROM versions WHERE last_snapshot IS NULL"), 5);
	/* The closed version ends at a, the snapshot before b. */
	ck_assert_int_eq(sql_int(sc.db, "SELECT last_snapshot FROM versions"
	                                " WHERE last_snapshot IS NOT NULL"),
	                 ida);
	/* And the next unchanged put adds no region rows at all. */
	ck_assert_int_eq(snapshot_clone(b, &c), 0);
	c->time_ms = 3000;
	idc = put(st, target, c);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM versions"), 6);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM counters"), 7);
	assert_rebuilds(st, ida, a, "a");
	assert_rebuilds(st, idb, b, "b");
	assert_rebuilds(st, idc, c, "c");

	snapshot_free(a);
	snapshot_free(b);
	snapshot_free(c);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_put_snapshot__unchanged_snapshots_add_no_region_rows)
{
	struct snapshot *s;
	struct scratch sc;
	struct store *st;
	int64_t target, versions, counters, totals, last = 0, prev;
	int i;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	s = small_snapshot(10, 100, 1000);
	s->page_table_bytes = 8192;
	put(st, target, s);
	versions = sql_int(sc.db, "SELECT count(*) FROM versions");
	counters = sql_int(sc.db, "SELECT count(*) FROM counters");
	totals = sql_int(sc.db, "SELECT count(*) FROM totals");
	ck_assert_int_eq(versions, 4);
	ck_assert_int_eq(counters, 4);
	ck_assert_int_eq(totals, 4); /* four non-empty cells */

	for (i = 0; i < 20; i++) {
		if (i == 10) { /* the cache must come back from disk just as well */
			store_close(st);
			st = open_rw(sc.db);
		}
		s->time_ms += 60000;
		last = put(st, target, s);
	}
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM snapshots"), 21);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM versions"), versions);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM counters"), counters);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM totals"), totals * 21);
	assert_rebuilds(st, last, s, "after 20 unchanged");

	/* One counter moves: one counters row, no version. */
	s->regions[3].resident += 0x1000;
	s->time_ms += 60000;
	last = put(st, target, s);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM versions"), versions);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM counters"), counters + 1);
	/* One size changes: a new version (with its counters), the old one
	 * closed at the previous snapshot. */
	s->regions[2].size += 0x1000;
	s->regions[2].committed += 0x1000;
	s->time_ms += 60000;
	prev = last;
	last = put(st, target, s);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM versions"), versions + 1);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM counters"), counters + 2);
	ck_assert_int_eq(sql_int(sc.db, "SELECT max(last_snapshot) FROM versions"), prev);
	assert_rebuilds(st, last, s, "after the changes");

	snapshot_free(s);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_put_snapshot__locked_database_is_busy)
{
	struct snapshot *a, *b;
	struct scratch sc;
	struct store *st;
	sqlite3 *db = NULL;
	char before[128], after[128];
	int64_t target, idb;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	a = small_snapshot(10, 100, 1000);
	put(st, target, a);
	counts(sc.db, before, sizeof(before));
	/* Another connection holds the write lock past the busy timeout. */
	ck_assert_int_eq(sqlite3_open_v2(sc.db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	b = small_snapshot(10, 100, 2000);
	b->regions[1].size += 0x1000;
	ck_assert_int_eq(store_put_snapshot(st, target, b, NULL), MD_ERR_BUSY);
	ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	counts(sc.db, after, sizeof(after));
	ck_assert_str_eq(before, after);
	/* Once the lock is gone the same put goes through. */
	idb = put(st, target, b);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM versions"), 5);
	assert_rebuilds(st, idb, b, "after busy");
	snapshot_free(a);
	snapshot_free(b);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_put_snapshot__empty_snapshot_closes_everything)
{
	struct snapshot *a, *empty;
	struct scratch sc;
	struct store *st;
	int64_t target, ida, ide;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	a = small_snapshot(10, 100, 1000);
	ida = put(st, target, a);
	ck_assert_int_eq(snapshot_new(&empty), 0);
	empty->pid = 10;
	empty->start_time = 100;
	empty->time_ms = 2000;
	snprintf(empty->name, sizeof(empty->name), "small");
	empty->flags = SNAPSHOT_TOTALS_ONLY;
	empty->page_table_bytes = 4096;
	ide = put(st, target, empty);
	ck_assert_int_eq(
	        sql_int(sc.db, "SELECT count(*) FROM versions WHERE last_snapshot IS NULL"), 0);
	assert_rebuilds(st, ida, a, "before");
	assert_rebuilds(st, ide, empty, "empty");
	snapshot_free(a);
	snapshot_free(empty);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

/* ---- store_get_snapshot -------------------------------------------------- */

START_TEST(test_store_get_snapshot__unknown_id_is_notfound)
{
	struct scratch sc;
	struct store *st;
	struct snapshot *s = (struct snapshot *)&sc;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_get_snapshot(st, 42, &s), MD_ERR_NOTFOUND);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(store_errmsg(st), "42") != NULL, "%s", store_errmsg(st));
	store_close(st);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_get_snapshot__identity_changes_within_instance)
{
	struct snapshot *a, *b;
	struct scratch sc;
	struct store *st;
	int64_t target, ida, idb;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	a = small_snapshot(10, 100, 1000);
	a->start_time_ms = 5000;
	ck_assert_int_eq(snapshot_set_cmdline(a, "small --first"), 0);
	b = small_snapshot(10, 100, 2000);
	snprintf(b->name, sizeof(b->name), "renamed-thread-0123456789012345678901234567890123456");
	ck_assert_int_eq(snapshot_set_cmdline(b, "small: rewritten title"), 0);
	b->start_time_ms = 5001;
	b->collect_ns = 123456789;
	b->flags = SNAPSHOT_TRUNCATED | SNAPSHOT_NO_THREAD_SP;
	ida = put(st, target, a);
	idb = put(st, target, b);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM instances"), 1);
	assert_rebuilds(st, ida, a, "a");
	assert_rebuilds(st, idb, b, "b");
	snapshot_free(a);
	snapshot_free(b);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

/* ---- store_get_totals ---------------------------------------------------- */

/* Whether the type and process block counts of @t are plain sums of the
 * cells' (they are not when one allocation spans types or states). */
static int
blocks_are_cell_sums(const struct snapshot_totals *t)
{
	uint64_t all = 0, by_type;
	int ty, sx;

	for (ty = 0; ty < REGION_TYPE_COUNT; ty++) {
		by_type = 0;
		for (sx = 0; sx < STATE_COUNT; sx++)
			by_type += t->cell[ty][sx].blocks;
		if (by_type != t->by_type[ty].blocks)
			return 0;
		all += by_type;
	}
	return all == t->all.blocks;
}

START_TEST(test_store_get_totals__equals_snapshot_totals)
{
	struct snapshot *snaps[RW_ROUNDTRIP_SNAPSHOTS];
	int64_t ids[RW_ROUNDTRIP_SNAPSHOTS], target;
	struct snapshot_totals want, got;
	struct scratch sc;
	struct store *st = NULL;
	char ctx[64];
	int i, blocks_differ = 0, with_page_table = 0;

	scratch_init(&sc);
	store_run(sc.db, snaps, ids, &target);
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &st), 0);
	for (i = 0; i < RW_ROUNDTRIP_SNAPSHOTS; i++) {
		snprintf(ctx, sizeof(ctx), "snapshot %d", i);
		snapshot_totals(snaps[i], &want);
		memset(&got, 0xa5, sizeof(got));
		ck_assert_int_eq(store_get_totals(st, ids[i], &got), 0);
		assert_totals_eq(&want, &got, ctx);
		blocks_differ += !blocks_are_cell_sums(&want);
		with_page_table += snaps[i]->page_table_bytes > 0;
	}
	/* The cases where blocks and the page table are not simple sums. */
	ck_assert_int_gt(blocks_differ, 0);
	ck_assert_int_gt(with_page_table, 0);
	ck_assert_int_lt(with_page_table, RW_ROUNDTRIP_SNAPSHOTS);
	ck_assert_int_eq(store_get_totals(st, ids[RW_ROUNDTRIP_SNAPSHOTS - 1] + 1, &got),
	                 MD_ERR_NOTFOUND);
	ck_assert_uint_eq(got.all.regions, 0);
	store_close(st);
	for (i = 0; i < RW_ROUNDTRIP_SNAPSHOTS; i++)
		snapshot_free(snaps[i]);
	scratch_done(&sc);
}
END_TEST

/* ---- store_list_snapshots ------------------------------------------------ */

START_TEST(test_store_list_snapshots__range_order_and_fields)
{
	struct store_snapshot_info *info = (struct store_snapshot_info *)&info;
	struct snapshot *s, *other;
	struct scratch sc;
	struct store *st;
	int64_t target, target2, ids[5];
	size_t n = 99;
	int i;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	ck_assert_int_eq(store_target_ensure(st, "other", &target2), 0);
	s = small_snapshot(10, 100, 0);
	other = small_snapshot(11, 100, 0);
	for (i = 0; i < 5; i++) {
		s->time_ms = 1000 * (i + 1);
		s->flags = (unsigned)i;
		s->collect_ns = 10u + (unsigned)i;
		ids[i] = put(st, target, s);
		other->time_ms = 1000 * (i + 1) + 500;
		put(st, target2, other);
	}
	ck_assert_int_eq(store_list_snapshots(st, target, 2000, 4000, &info, &n), 0);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(info[i].id, ids[i + 1]);
		ck_assert_int_eq(info[i].target_id, target);
		ck_assert_int_eq(info[i].time_ms, 1000 * (i + 2));
		ck_assert_int_eq(info[i].pid, 10);
		ck_assert_uint_eq(info[i].start_time, 100);
		ck_assert_uint_eq(info[i].n_regions, 4);
		ck_assert_uint_eq(info[i].flags, (unsigned)i + 1);
		ck_assert_uint_eq(info[i].collect_ns, 11u + (unsigned)i);
	}
	free(info);
	ck_assert_int_eq(store_list_snapshots(st, target, 6000, INT64_MAX, &info, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(info);
	ck_assert_int_eq(store_list_snapshots(st, target2, INT64_MIN, INT64_MAX, &info, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(info[0].pid, 11);
	free(info);
	snapshot_free(s);
	snapshot_free(other);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

/* Pages of the list: in (time, id) order, @limit at a time, each resuming
 * after the last one's id, with ties in time (two instances sampled in the
 * same millisecond) neither lost nor repeated. */
START_TEST(test_store_list_snapshots_page__limit_and_cursor)
{
	struct store_snapshot_info *info;
	struct snapshot *a, *b, *other;
	struct scratch sc;
	struct store *st;
	int64_t target, target2, ids[10], other_id, after = 0;
	size_t n, seen = 0;
	int i, more, pages = 0;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "paged", &target), 0);
	ck_assert_int_eq(store_target_ensure(st, "other", &target2), 0);
	a = small_snapshot(20, 100, 0);
	b = small_snapshot(21, 200, 0);
	other = small_snapshot(22, 300, 0);
	/* two instances, both sampled at the same five times: 10 snapshots,
	 * in list order a1 b1 a2 b2 ... (ids grow in that order) */
	for (i = 0; i < 5; i++) {
		a->time_ms = b->time_ms = 1000 * (i + 1);
		ids[2 * i] = put(st, target, a);
		ids[2 * i + 1] = put(st, target, b);
	}
	other->time_ms = 1500;
	other_id = put(st, target2, other);
	do {
		ck_assert_int_eq(store_list_snapshots_page(st, target, INT64_MIN, INT64_MAX, after,
		                                           3, &info, &n, &more),
		                 0);
		ck_assert_uint_le(n, 3);
		for (size_t k = 0; k < n; k++)
			ck_assert_int_eq(info[k].id, ids[seen + k]);
		seen += n;
		ck_assert_int_eq(more, seen < 10);
		if (n > 0)
			after = info[n - 1].id;
		free(info);
		pages++;
	} while (more && pages < 10);
	ck_assert_uint_eq(seen, 10);
	ck_assert_int_eq(pages, 4); /* 3 + 3 + 3 + 1 */
	/* a page inside a range, after a tie */
	ck_assert_int_eq(
	        store_list_snapshots_page(st, target, 2000, 3000, ids[2], 2, &info, &n, &more), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(info[0].id, ids[3]);
	ck_assert_int_eq(info[1].id, ids[4]);
	ck_assert_int_eq(more, 1);
	free(info);
	/* exactly the rest: no more */
	ck_assert_int_eq(store_list_snapshots_page(st, target, INT64_MIN, INT64_MAX, ids[6], 3,
	                                           &info, &n, &more),
	                 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(more, 0);
	free(info);
	/* 0: no limit */
	ck_assert_int_eq(
	        store_list_snapshots_page(st, target, INT64_MIN, INT64_MAX, 0, 0, &info, &n, &more),
	        0);
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(more, 0);
	free(info);
	/* a cursor that is not one of the target's snapshots */
	info = (struct store_snapshot_info *)&info;
	ck_assert_int_eq(store_list_snapshots_page(st, target, INT64_MIN, INT64_MAX, other_id, 3,
	                                           &info, &n, &more),
	                 MD_ERR_NOTFOUND);
	ck_assert_ptr_null(info);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(store_list_snapshots_page(st, target, INT64_MIN, INT64_MAX, 999999, 3,
	                                           &info, &n, &more),
	                 MD_ERR_NOTFOUND);
	snapshot_free(a);
	snapshot_free(b);
	snapshot_free(other);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

/* ---- store_target_ensure / store_list_targets ---------------------------- */

START_TEST(test_store_target_ensure__same_name_same_id)
{
	struct scratch sc;
	struct store *st, *ro = NULL;
	char longname[300];
	int64_t a, b, c, x = 5;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "java", &a), 0);
	ck_assert_int_eq(store_target_ensure(st, "w3wp.exe", &b), 0);
	ck_assert_int_eq(store_target_ensure(st, "java", &c), 0);
	ck_assert_int_eq(a, c);
	ck_assert_int_ne(a, b);
	ck_assert_int_eq(store_target_ensure(st, "", &x), MD_ERR_INVAL);
	ck_assert_int_eq(x, 0);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(store_target_ensure(st, longname, &x), MD_ERR_INVAL);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM targets"), 2);
	/* A reader finds existing targets and creates none. */
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &ro), 0);
	ck_assert_int_eq(store_target_ensure(ro, "w3wp.exe", &x), 0);
	ck_assert_int_eq(x, b);
	ck_assert_int_eq(store_target_ensure(ro, "nginx", &x), MD_ERR_NOTFOUND);
	store_close(ro);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_list_targets__all_in_id_order)
{
	struct store_target_info *t = NULL;
	struct scratch sc;
	struct store *st;
	int64_t a, b;
	size_t n = 0;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_list_targets(st, &t, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(t);
	ck_assert_int_eq(store_target_ensure(st, "pid:1234", &a), 0);
	ck_assert_int_eq(store_target_ensure(st, "java", &b), 0);
	ck_assert_int_eq(store_list_targets(st, &t, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(t[0].id, a);
	ck_assert_str_eq(t[0].name, "pid:1234");
	ck_assert_int_eq(t[1].id, b);
	ck_assert_str_eq(t[1].name, "java");
	free(t);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

/* ---- store_errmsg -------------------------------------------------------- */

START_TEST(test_store_errmsg__describes_the_last_error)
{
	struct scratch sc;
	struct store *st;
	struct snapshot *s = NULL;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_str_eq(store_errmsg(st), "no error");
	ck_assert_int_eq(store_get_snapshot(st, 9, &s), MD_ERR_NOTFOUND);
	ck_assert_str_eq(store_errmsg(st), "no snapshot 9");
	store_close(st);
	/* Opening a directory as a database fails; the message outlives the
	 * failed handle. */
	ck_assert_int_ne(store_open(sc.dir, 0, &st), 0);
	ck_assert_ptr_null(st);
	ck_assert_str_ne(store_errmsg(NULL), "no error");
	scratch_done(&sc);
}
END_TEST

/* ---- read API: instances, summaries, size ---------------------------------- */

START_TEST(test_store_list_instances__per_target_oldest_first)
{
	struct store_instance_info *in = (struct store_instance_info *)&in;
	struct snapshot *a, *b, *o;
	struct scratch sc;
	struct store *st, *ro = NULL;
	int64_t target, other;
	size_t n = 99;
	int i;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	ck_assert_int_eq(store_target_ensure(st, "other", &other), 0);
	a = small_snapshot(10, 100, 0);
	a->start_time_ms = 777;
	b = small_snapshot(11, 200, 0);
	snprintf(b->name, sizeof(b->name), "restarted");
	o = small_snapshot(12, 300, 500);
	put(st, other, o);
	for (i = 0; i < 3; i++) {
		a->time_ms = 1000 * (i + 1);
		put(st, target, a);
	}
	for (i = 0; i < 2; i++) {
		b->time_ms = 10000 * (i + 1);
		put(st, target, b);
	}
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &ro), 0);
	ck_assert_int_eq(store_list_instances(ro, target, &in, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(in[0].target_id, target);
	ck_assert_int_eq(in[0].pid, 10);
	ck_assert_uint_eq(in[0].start_time, 100);
	ck_assert_int_eq(in[0].start_time_ms, 777);
	ck_assert_str_eq(in[0].name, "small");
	ck_assert_int_eq(in[0].first_time_ms, 1000);
	ck_assert_int_eq(in[0].last_time_ms, 3000);
	ck_assert_uint_eq(in[0].n_snapshots, 3);
	ck_assert_int_eq(in[1].pid, 11);
	ck_assert_str_eq(in[1].name, "restarted");
	ck_assert_int_eq(in[1].first_time_ms, 10000);
	ck_assert_int_eq(in[1].last_time_ms, 20000);
	ck_assert_uint_eq(in[1].n_snapshots, 2);
	ck_assert_int_gt(in[1].id, in[0].id);
	free(in);
	ck_assert_int_eq(store_list_instances(ro, target + 100, &in, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(in);
	store_close(ro);
	snapshot_free(a);
	snapshot_free(b);
	snapshot_free(o);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_list_target_summaries__latest_snapshot_per_target)
{
	struct store_target_summary *sum = (struct store_target_summary *)&sum;
	struct snapshot_totals want;
	struct snapshot *a, *b, *c;
	struct scratch sc;
	struct store *st, *ro = NULL;
	int64_t ta, tb, tc, last_a, last_b;
	size_t n = 99;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "a", &ta), 0);
	ck_assert_int_eq(store_target_ensure(st, "b", &tb), 0);
	ck_assert_int_eq(store_target_ensure(st, "c", &tc), 0);
	a = small_snapshot(10, 100, 1000);
	b = small_snapshot(20, 100, 1500);
	b->page_table_bytes = 8192;
	put(st, ta, a);
	put(st, tb, b);
	a->time_ms = 2000;
	put(st, ta, a);
	/* a restart of a: the new instance holds the latest snapshot */
	c = small_snapshot(11, 300, 3000);
	c->regions[1].committed += 0x1000;
	c->regions[1].size += 0x1000;
	last_a = put(st, ta, c);
	b->time_ms = 2500;
	b->regions[2].resident = 0x5000;
	last_b = put(st, tb, b);
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &ro), 0);
	ck_assert_int_eq(store_list_target_summaries(ro, &sum, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(sum[0].id, ta);
	ck_assert_str_eq(sum[0].name, "a");
	ck_assert_int_eq(sum[0].last_snapshot_id, last_a);
	ck_assert_int_eq(sum[0].last_time_ms, 3000);
	ck_assert_int_eq(sum[0].pid, 11);
	ck_assert_uint_eq(sum[0].n_instances, 2);
	snapshot_totals(c, &want);
	assert_totals_eq(&want, &sum[0].totals, "target a");
	ck_assert_int_eq(sum[1].id, tb);
	ck_assert_int_eq(sum[1].last_snapshot_id, last_b);
	ck_assert_int_eq(sum[1].last_time_ms, 2500);
	ck_assert_int_eq(sum[1].pid, 20);
	ck_assert_uint_eq(sum[1].n_instances, 1);
	snapshot_totals(b, &want);
	assert_totals_eq(&want, &sum[1].totals, "target b");
	ck_assert_int_eq(sum[2].id, tc);
	ck_assert_str_eq(sum[2].name, "c");
	ck_assert_int_eq(sum[2].last_snapshot_id, 0);
	ck_assert_uint_eq(sum[2].n_instances, 0);
	ck_assert_uint_eq(sum[2].totals.all.regions, 0);
	ck_assert_uint_eq(sum[0].instance_id != sum[1].instance_id, 1);
	free(sum);
	store_close(ro);
	snapshot_free(a);
	snapshot_free(b);
	snapshot_free(c);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_size_bytes__page_count_times_page_size)
{
	struct scratch sc;
	struct store *st;
	struct snapshot *s;
	uint64_t before = 0, after = 0;
	int64_t target;
	int i;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_size_bytes(st, &before), 0);
	ck_assert_uint_gt(before, 0);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	s = small_snapshot(10, 100, 0);
	for (i = 0; i < 200; i++) {
		s->time_ms = i;
		s->regions[1].resident = PAGE * (uint64_t)(i % 30);
		put(st, target, s);
	}
	ck_assert_int_eq(store_size_bytes(st, &after), 0);
	ck_assert_uint_gt(after, before);
	ck_assert_uint_eq(after, (uint64_t)sql_int(sc.db, "SELECT page_count * page_size FROM"
	                                                  " pragma_page_count, pragma_page_size"));
	snapshot_free(s);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

/* ---- store_timeline -------------------------------------------------------- */

/* The point must equal store_get_totals of its snapshot. */
static void
assert_point_is_totals(struct store *st, const struct store_timeline_point *p, const char *ctx)
{
	struct snapshot_totals t;
	int ty;

	ck_assert_int_eq(store_get_totals(st, p->snapshot_id, &t), 0);
	for (ty = 0; ty < REGION_TYPE_COUNT; ty++) {
		ck_assert_msg(p->committed[ty] == t.by_type[ty].committed, "%s: committed[%d]", ctx,
		              ty);
		ck_assert_msg(p->resident[ty] == t.by_type[ty].resident, "%s: resident[%d]", ctx,
		              ty);
	}
	ck_assert_msg(p->private_committed == t.private_committed, "%s: private_committed", ctx);
	ck_assert_msg(p->private_touched == t.private_touched, "%s: private_touched", ctx);
}

/* small_snapshot with values that move with @i. */
static void
vary(struct snapshot *s, int i)
{
	s->regions[1].size = 0x21000 + PAGE * (uint64_t)(i % 97);
	s->regions[1].committed = s->regions[1].size;
	s->regions[1].resident = PAGE * (uint64_t)(i % 13);
	s->regions[1].private_resident = s->regions[1].resident;
	s->regions[2].swap = PAGE * (uint64_t)(i % 7);
	s->regions[3].resident = PAGE * (uint64_t)(i % 5);
	s->page_table_bytes = PAGE * (uint64_t)(1 + i % 3);
}

START_TEST(test_store_timeline__1000_snapshots_to_100_points)
{
	struct store_timeline_point *p = NULL;
	struct store_snapshot_info *info = NULL;
	struct scratch sc;
	struct store *st, *ro = NULL;
	struct snapshot *s;
	int64_t target, ids[1000];
	size_t n = 0, n_info = 0, i, k;
	char ctx[64];

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	s = small_snapshot(10, 100, 0);
	for (i = 0; i < 1000; i++) {
		s->time_ms = 5000 + 1000 * (int64_t)i;
		vary(s, (int)i);
		ids[i] = put(st, target, s);
	}
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &ro), 0);
	ck_assert_int_eq(store_list_snapshots(ro, target, INT64_MIN, INT64_MAX, &info, &n_info), 0);
	ck_assert_uint_eq(n_info, 1000);
	/* [5000, 1004999] in 100 buckets of 10 snapshots: the last of each */
	ck_assert_int_eq(store_timeline(ro, target, 5000, 1004999, 100, &p, &n), 0);
	ck_assert_uint_eq(n, 100);
	for (i = 0; i < n; i++) {
		snprintf(ctx, sizeof(ctx), "point %zu", i);
		k = 10 * i + 9;
		ck_assert_int_eq(p[i].snapshot_id, ids[k]);
		ck_assert_int_eq(p[i].time_ms, 5000 + 1000 * (int64_t)k);
		ck_assert_int_eq(p[i].instance_id, info[k].instance_id);
		assert_point_is_totals(ro, &p[i], ctx);
	}
	/* the values are not all alike: a wrong snapshot would show */
	ck_assert_uint_ne(p[0].committed[REGION_HEAP], p[1].committed[REGION_HEAP]);
	ck_assert_uint_ne(p[0].committed[REGION_PAGE_TABLE], p[1].committed[REGION_PAGE_TABLE]);
	free(p);
	/* no bounds: the range of the data, still at most 100 real snapshots */
	ck_assert_int_eq(store_timeline(ro, target, INT64_MIN, INT64_MAX, 100, &p, &n), 0);
	ck_assert_uint_le(n, 100);
	ck_assert_uint_ge(n, 99);
	ck_assert_int_eq(p[n - 1].snapshot_id, ids[999]);
	for (i = 0; i < n; i++) {
		snprintf(ctx, sizeof(ctx), "unbounded point %zu", i);
		assert_point_is_totals(ro, &p[i], ctx);
	}
	free(p);
	/* no limit: every snapshot */
	ck_assert_int_eq(store_timeline(ro, target, INT64_MIN, INT64_MAX, 0, &p, &n), 0);
	ck_assert_uint_eq(n, 1000);
	ck_assert_int_eq(p[500].snapshot_id, ids[500]);
	assert_point_is_totals(ro, &p[500], "all");
	free(p);
	free(info);
	store_close(ro);
	snapshot_free(s);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_timeline__restart_inside_bucket_point_per_instance)
{
	struct store_timeline_point *p = NULL;
	struct scratch sc;
	struct store *st;
	struct snapshot *a, *b;
	int64_t target, last_a = 0, last_b = 0;
	size_t n = 0;
	int i;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	a = small_snapshot(10, 100, 0);
	b = small_snapshot(11, 900, 0);
	for (i = 0; i < 10; i++) {
		a->time_ms = 1000 * i;
		vary(a, i);
		last_a = put(st, target, a);
	}
	for (i = 10; i < 20; i++) {
		b->time_ms = 1000 * i;
		vary(b, i);
		last_b = put(st, target, b);
	}
	ck_assert_int_eq(store_timeline(st, target, 0, 19999, 1, &p, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(p[0].snapshot_id, last_a);
	ck_assert_int_eq(p[0].time_ms, 9000);
	ck_assert_int_eq(p[1].snapshot_id, last_b);
	ck_assert_int_eq(p[1].time_ms, 19000);
	ck_assert_int_ne(p[0].instance_id, p[1].instance_id);
	assert_point_is_totals(st, &p[0], "instance a");
	assert_point_is_totals(st, &p[1], "instance b");
	free(p);
	/* two buckets split at 10000: one point each, no restart inside */
	ck_assert_int_eq(store_timeline(st, target, 0, 19999, 2, &p, &n), 0);
	ck_assert_uint_eq(n, 2);
	free(p);
	/* a restart inside the second of 3 buckets: 4 points */
	ck_assert_int_eq(store_timeline(st, target, 0, 20999, 3, &p, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(p[0].time_ms, 6000);
	ck_assert_int_eq(p[1].time_ms, 9000);
	ck_assert_int_eq(p[2].time_ms, 13000);
	ck_assert_int_eq(p[3].time_ms, 19000);
	free(p);
	snapshot_free(a);
	snapshot_free(b);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_timeline__from_to_bounds_inclusive)
{
	struct store_timeline_point *p = (struct store_timeline_point *)&p;
	struct scratch sc;
	struct store *st;
	struct snapshot *s, *o;
	int64_t target, other;
	size_t n = 99;
	int i;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	ck_assert_int_eq(store_target_ensure(st, "other", &other), 0);
	s = small_snapshot(10, 100, 0);
	o = small_snapshot(12, 100, 0);
	for (i = 1; i <= 10; i++) {
		s->time_ms = 1000 * i;
		vary(s, i);
		put(st, target, s);
		o->time_ms = 1000 * i + 1;
		put(st, other, o);
	}
	ck_assert_int_eq(store_timeline(st, target, 3000, 6000, 0, &p, &n), 0);
	ck_assert_uint_eq(n, 4);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(p[i].time_ms, 3000 + 1000 * i);
		assert_point_is_totals(st, &p[i], "bounded");
	}
	free(p);
	ck_assert_int_eq(store_timeline(st, target, 6000, 3000, 0, &p, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(p);
	ck_assert_int_eq(store_timeline(st, target, 10001, INT64_MAX, 500, &p, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(p);
	snapshot_free(s);
	snapshot_free(o);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

/* ---- retention ------------------------------------------------------------- */

#define PRUNE_N   300
#define DAY_MS    INT64_C(86400000)
#define HOUR_MS_T INT64_C(3600000)
#define MIN_MS_T  INT64_C(60000)

struct prune_run {
	struct snapshot *snaps[PRUNE_N];
	int64_t ids[PRUNE_N];
	int64_t instance[PRUNE_N];
	int64_t target;
	int64_t base;
};

/* PRUNE_N generated snapshots over 10 days, in pairs 20 s apart every 1.6
 * hours (two snapshots in each rolled-up bucket); the process restarts at
 * snapshot 40. */
static void
prune_run_store(const char *path, struct prune_run *pr)
{
	static struct gen g;
	struct store_snapshot_info *info = NULL;
	struct store *st = open_rw(path);
	size_t n = 0;
	int i;

	pr->base = 1700000000000 - 1700000000000 % DAY_MS;
	gen_init(&g, 11, 300);
	ck_assert_int_eq(store_target_ensure(st, "app", &pr->target), 0);
	for (i = 0; i < PRUNE_N; i++) {
		if (i > 0)
			gen_step(&g);
		g.time_ms = pr->base + (i / 2) * 5760000 + (i % 2) * 20000;
		pr->snaps[i] = gen_snapshot(&g, i < 40 ? 1234 : 1300, i < 40 ? 555555 : 666666);
		pr->ids[i] = put(st, pr->target, pr->snaps[i]);
	}
	ck_assert_int_eq(store_list_snapshots(st, pr->target, INT64_MIN, INT64_MAX, &info, &n), 0);
	ck_assert_uint_eq(n, PRUNE_N);
	for (i = 0; i < PRUNE_N; i++) {
		ck_assert_int_eq(info[i].id, pr->ids[i]);
		pr->instance[i] = info[i].instance_id;
	}
	free(info);
	store_close(st);
}

static void
prune_run_free(struct prune_run *pr)
{
	int i;

	for (i = 0; i < PRUNE_N; i++)
		snapshot_free(pr->snaps[i]);
}

/* Prune until nothing is left to do; returns the number of calls. */
static int
prune_all(struct store *st, const struct store_retention *r, int64_t now, size_t max_rows)
{
	int more = 1, calls = 0, rc;

	while (more) {
		rc = store_prune(st, r, now, max_rows, &more);
		ck_assert_msg(rc == 0, "store_prune: %s (%s)", md_strerror(rc), store_errmsg(st));
		ck_assert_int_lt(++calls, 100000);
	}
	return calls;
}

/* Row budgets of store_prune: one snapshot per run, short runs, one call. */
static const size_t prune_budgets[] = {1, 300, 1000000};

struct expect_point {
	int64_t time_ms, instance_id;
	uint64_t c[REGION_TYPE_COUNT + 1], r[REGION_TYPE_COUNT + 1];
	int seen;
};

START_TEST(test_store_prune__ten_days_rebuild_rollups_idempotent)
{
	static struct prune_run pr;
	static struct expect_point exp[PRUNE_N];
	struct store_retention ret;
	struct store_timeline_point *p = NULL;
	struct store_instance_info *in = NULL;
	struct snapshot *gone = NULL;
	struct scratch sc;
	struct store *st;
	size_t n = 0, n_exp = 0, i, k;
	int64_t now, raw_cut, minute_cut, hour_cut, counts[6];
	int calls, more = 1, ty, n_pruned = 0, n_raw = 0;
	char ctx[64];

	scratch_init(&sc);
	prune_run_store(sc.db, &pr);
	store_retention_defaults(&ret);
	ck_assert_int_eq(ret.raw_ms, 7 * DAY_MS);
	ck_assert_int_eq(ret.minute_ms, 90 * DAY_MS);
	ck_assert_int_eq(ret.hour_ms, 2 * 365 * DAY_MS);
	ck_assert_uint_eq(ret.raw_max_bytes + ret.minute_max_bytes + ret.hour_max_bytes, 0);
	ret.minute_ms = 8 * DAY_MS;
	ret.hour_ms = 9 * DAY_MS;
	now = pr.base + 10 * DAY_MS;
	raw_cut = now - ret.raw_ms;
	minute_cut = now - ret.minute_ms;
	hour_cut = now - ret.hour_ms;

	st = open_rw(sc.db);
	calls = prune_all(st, &ret, now, prune_budgets[_i]);
	if (prune_budgets[_i] <= 300)
		ck_assert_int_gt(calls, 3); /* small transactions */

	/* the expected rollups: pairs of snapshots by (bucket, instance) */
	for (i = 0; i < PRUNE_N; i++) {
		struct snapshot_totals t;
		int64_t tm = pr.snaps[i]->time_ms, bucket;

		if (tm >= raw_cut) {
			n_raw++;
			continue;
		}
		n_pruned++;
		if (tm < hour_cut)
			continue; /* hours past retention: gone */
		bucket = tm < minute_cut ? tm - tm % HOUR_MS_T : tm - tm % MIN_MS_T;
		for (k = 0; k < n_exp; k++) {
			if (exp[k].time_ms == bucket && exp[k].instance_id == pr.instance[i])
				break;
		}
		if (k == n_exp) {
			memset(&exp[k], 0, sizeof(exp[k]));
			exp[k].time_ms = bucket;
			exp[k].instance_id = pr.instance[i];
			n_exp++;
		}
		snapshot_totals(pr.snaps[i], &t);
		for (ty = 0; ty <= REGION_TYPE_COUNT; ty++) {
			uint64_t c = ty < REGION_TYPE_COUNT ? t.by_type[ty].committed
			                                    : t.private_committed;
			uint64_t r =
			        ty < REGION_TYPE_COUNT ? t.by_type[ty].resident : t.private_touched;

			c = c > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : c;
			r = r > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : r;
			exp[k].c[ty] = c > exp[k].c[ty] ? c : exp[k].c[ty];
			exp[k].r[ty] = r > exp[k].r[ty] ? r : exp[k].r[ty];
		}
	}
	ck_assert_int_eq(n_pruned, 90);
	ck_assert_int_eq(n_raw, PRUNE_N - 90);
	ck_assert_uint_gt(n_exp, 20);

	/* remaining snapshots rebuild exactly; pruned ones are gone */
	for (i = 0; i < PRUNE_N; i++) {
		snprintf(ctx, sizeof(ctx), "snapshot %zu", i);
		if (pr.snaps[i]->time_ms >= raw_cut) {
			assert_rebuilds(st, pr.ids[i], pr.snaps[i], ctx);
		} else {
			ck_assert_int_eq(store_get_snapshot(st, pr.ids[i], &gone), MD_ERR_NOTFOUND);
			ck_assert_ptr_null(gone);
		}
	}
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM snapshots"), PRUNE_N - 90);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM totals WHERE snapshot_id NOT IN"
	                                " (SELECT id FROM snapshots)"),
	                 0);
	/* no version or counters row is left that no snapshot reads */
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM versions AS v WHERE NOT EXISTS"
	                                " (SELECT 1 FROM snapshots AS s WHERE s.instance_id ="
	                                " v.instance_id AND s.id >= v.first_snapshot AND s.id <="
	                                " coalesce(v.last_snapshot, s.id))"),
	                 0);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM counters WHERE snapshot_id NOT IN"
	                                " (SELECT id FROM snapshots)"),
	                 0);
	/* the first instance is wholly pruned but still listed */
	ck_assert_int_eq(store_list_instances(st, pr.target, &in, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(in[0].n_snapshots, 0);
	ck_assert_uint_eq(in[1].n_snapshots, PRUNE_N - 90);
	free(in);

	/* the timeline: rollup points with the bucket maxima, then raw */
	ck_assert_int_eq(store_timeline(st, pr.target, pr.base, now, 0, &p, &n), 0);
	ck_assert_uint_eq(n, n_exp + (size_t)n_raw);
	for (i = 0; i < n; i++) {
		if (i > 0)
			ck_assert_int_ge(p[i].time_ms, p[i - 1].time_ms);
		if (p[i].snapshot_id != 0) {
			ck_assert_uint_ge(i, n_exp);
			continue;
		}
		for (k = 0; k < n_exp; k++) {
			if (exp[k].time_ms == p[i].time_ms &&
			    exp[k].instance_id == p[i].instance_id)
				break;
		}
		ck_assert_msg(k < n_exp, "unexpected rollup point at %" PRId64, p[i].time_ms);
		ck_assert_int_eq(exp[k].seen++, 0);
		for (ty = 0; ty < REGION_TYPE_COUNT; ty++) {
			ck_assert_uint_eq(p[i].committed[ty], exp[k].c[ty]);
			ck_assert_uint_eq(p[i].resident[ty], exp[k].r[ty]);
		}
		ck_assert_uint_eq(p[i].private_committed, exp[k].c[REGION_TYPE_COUNT]);
		ck_assert_uint_eq(p[i].private_touched, exp[k].r[REGION_TYPE_COUNT]);
	}
	ck_assert_int_gt(sql_int(sc.db, "SELECT count(*) FROM rollup_hour"), 0);
	ck_assert_int_gt(sql_int(sc.db, "SELECT count(*) FROM rollup_minute"), 0);
	ck_assert_int_eq(sql_int(sc.db, "SELECT min(bucket_ms) FROM rollup_hour"),
	                 pr.base + DAY_MS);
	free(p);

	/* a second call does nothing */
	counts[0] = sql_int(sc.db, "SELECT count(*) FROM snapshots");
	counts[1] = sql_int(sc.db, "SELECT count(*) FROM versions");
	counts[2] = sql_int(sc.db, "SELECT count(*) FROM counters");
	counts[3] = sql_int(sc.db, "SELECT sum(n) FROM rollup_minute");
	counts[4] = sql_int(sc.db, "SELECT sum(n) FROM rollup_hour");
	counts[5] = sql_int(sc.db, "SELECT count(*) FROM rollup_minute");
	ck_assert_int_eq(store_prune(st, &ret, now, 300, &more), 0);
	ck_assert_int_eq(more, 0);
	ck_assert_int_eq(counts[0], sql_int(sc.db, "SELECT count(*) FROM snapshots"));
	ck_assert_int_eq(counts[1], sql_int(sc.db, "SELECT count(*) FROM versions"));
	ck_assert_int_eq(counts[2], sql_int(sc.db, "SELECT count(*) FROM counters"));
	ck_assert_int_eq(counts[3], sql_int(sc.db, "SELECT sum(n) FROM rollup_minute"));
	ck_assert_int_eq(counts[4], sql_int(sc.db, "SELECT sum(n) FROM rollup_hour"));
	ck_assert_int_eq(counts[5], sql_int(sc.db, "SELECT count(*) FROM rollup_minute"));

	/* the writer goes on after pruning: the next snapshot deltas correctly */
	pr.snaps[PRUNE_N - 1]->time_ms += 1000;
	pr.snaps[PRUNE_N - 1]->regions[3].resident ^= PAGE;
	k = (size_t)put(st, pr.target, pr.snaps[PRUNE_N - 1]);
	assert_rebuilds(st, (int64_t)k, pr.snaps[PRUNE_N - 1], "after pruning");
	store_close(st);
	st = open_rw(sc.db);
	assert_rebuilds(st, pr.ids[PRUNE_N - 2], pr.snaps[PRUNE_N - 2], "reopened");
	store_close(st);
	prune_run_free(&pr);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_prune__caps_drop_oldest_first)
{
	static struct prune_run pr;
	struct store_retention ret;
	struct store *st, *ro = NULL;
	struct scratch sc;
	uint64_t size = 0;
	int64_t left, used, first_left;
	int i;

	scratch_init(&sc);
	prune_run_store(sc.db, &pr);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_prune(st, &(struct store_retention){0}, 0, 10, &i), 0);
	used = sql_int(sc.db, "SELECT (page_count - freelist_count) * page_size FROM"
	                      " pragma_page_count, pragma_freelist_count, pragma_page_size");
	ck_assert_int_eq(store_size_bytes(st, &size), 0);
	store_retention_defaults(&ret);
	ret.raw_ms = 1000 * DAY_MS; /* time alone would keep everything */
	ret.raw_max_bytes = (uint64_t)used / 2;
	prune_all(st, &ret, pr.base + 10 * DAY_MS, 500);
	left = sql_int(sc.db, "SELECT count(*) FROM snapshots");
	ck_assert_int_lt(left, PRUNE_N * 3 / 4);
	ck_assert_int_gt(left, PRUNE_N / 10);
	/* the oldest went: the remaining ones are the newest */
	first_left = PRUNE_N - left;
	ck_assert_int_eq(sql_int(sc.db, "SELECT min(id) FROM snapshots"), pr.ids[first_left]);
	for (i = (int)first_left; i < PRUNE_N; i += 7)
		assert_rebuilds(st, pr.ids[i], pr.snaps[i], "capped");
	ck_assert_int_gt(sql_int(sc.db, "SELECT count(*) FROM rollup_minute"), 0);

	ck_assert_int_le(sql_int(sc.db, "SELECT (page_count - freelist_count) * page_size FROM"
	                                " pragma_page_count, pragma_freelist_count,"
	                                " pragma_page_size"),
	                 used / 2);

	/* minute cap: everything moves to hours; hour cap: hours go */
	ret.raw_max_bytes = 0;
	ret.minute_max_bytes = 1;
	prune_all(st, &ret, pr.base + 10 * DAY_MS, 500);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM rollup_minute"), 0);
	ck_assert_int_gt(sql_int(sc.db, "SELECT count(*) FROM rollup_hour"), 0);
	ck_assert_int_eq(sql_int(sc.db, "SELECT sum(n) FROM rollup_hour WHERE series = 0"),
	                 first_left);
	ret.hour_max_bytes = 1;
	prune_all(st, &ret, pr.base + 10 * DAY_MS, 500);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM rollup_hour"), 0);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM snapshots"), left);
	/* readers cannot prune */
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &ro), 0);
	ck_assert_int_eq(store_prune(ro, &ret, 0, 10, &i), MD_ERR_INVAL);
	store_close(ro);
	store_close(st);
	prune_run_free(&pr);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_prune__out_of_order_times_keep_the_rest_exact)
{
	static struct gen g;
	static const int64_t times[8] = {1000, 500, 3000, 200, 5000, 700, 6000, 900};
	struct snapshot *snaps[8], *gone = NULL;
	struct store_retention ret;
	struct scratch sc;
	struct store *st;
	int64_t target, ids[8];
	char ctx[32];
	int i;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "app", &target), 0);
	gen_init(&g, 5, 200);
	for (i = 0; i < 8; i++) {
		if (i > 0)
			gen_step(&g);
		g.time_ms = times[i];
		snaps[i] = gen_snapshot(&g, 77, 7777);
		ids[i] = put(st, target, snaps[i]);
	}
	store_retention_defaults(&ret);
	ret.raw_ms = 100;
	/* cut at 1000: every snapshot taken before goes, whatever its id */
	prune_all(st, &ret, 1100, 1);
	for (i = 0; i < 8; i++) {
		snprintf(ctx, sizeof(ctx), "snapshot %d", i);
		if (times[i] < 1000) {
			ck_assert_int_eq(store_get_snapshot(st, ids[i], &gone), MD_ERR_NOTFOUND);
		} else {
			assert_rebuilds(st, ids[i], snaps[i], ctx);
		}
	}
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM snapshots"), 4);
	/* the newest by id (time 900) went: 6000 is the writer's base now */
	ck_assert_int_eq(sql_int(sc.db, "SELECT last_snapshot_id FROM instances"), ids[6]);
	prune_all(st, &ret, 5500, 1);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM snapshots"), 1);
	assert_rebuilds(st, ids[6], snaps[6], "kept 6");
	gen_step(&g);
	g.time_ms = 7000;
	snapshot_free(snaps[0]);
	snaps[0] = gen_snapshot(&g, 77, 7777);
	ids[0] = put(st, target, snaps[0]);
	assert_rebuilds(st, ids[0], snaps[0], "written after");
	assert_rebuilds(st, ids[6], snaps[6], "kept 6 after");
	for (i = 0; i < 8; i++)
		snapshot_free(snaps[i]);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_open__version_1_database_upgrades_in_place)
{
	struct scratch sc;
	struct store *st, *ro = NULL;
	struct snapshot *a, *b;
	struct store_retention ret;
	int64_t target, ida, idb;
	int more = 1;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	a = small_snapshot(10, 100, 1000);
	b = small_snapshot(10, 100, 2000);
	b->regions[2].resident = 0x4000;
	ida = put(st, target, a);
	idb = put(st, target, b);
	store_close(st);
	/* Take the database back to schema version 1 (what 0.1 wrote). */
	sql_exec(sc.db, "DROP TABLE alerts; DROP TABLE rollup_minute; DROP TABLE rollup_hour;"
	                " DROP INDEX snapshots_by_instance; DROP INDEX counters_by_snapshot;"
	                " PRAGMA user_version = 1");
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &ro), MD_ERR_DB);
	st = open_rw(sc.db);
	ck_assert_int_eq(sql_int(sc.db, "PRAGMA user_version"), 3);
	ck_assert_int_eq(sql_int(sc.db, "SELECT count(*) FROM sqlite_schema WHERE name IN"
	                                " ('rollup_minute', 'rollup_hour', 'snapshots_by_instance',"
	                                " 'counters_by_snapshot')"),
	                 4);
	assert_rebuilds(st, ida, a, "upgraded a");
	assert_rebuilds(st, idb, b, "upgraded b");
	store_retention_defaults(&ret);
	ret.raw_ms = 1500;
	ck_assert_int_eq(store_prune(st, &ret, 3000, 100, &more), 0);
	ck_assert_int_eq(more, 0);
	assert_rebuilds(st, idb, b, "pruned");
	ck_assert_int_eq(sql_int(sc.db, "SELECT sum(n) FROM rollup_minute WHERE series = 0"), 1);
	store_close(st);
	snapshot_free(a);
	snapshot_free(b);
	scratch_done(&sc);
}
END_TEST

/* ---- damaged databases and the size cap (issue 6) ---------------------- */

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* store_check_file on @path: returns *damaged, asserting a 0 status and that
 * the file's bytes did not change. */
static int
check_file(const char *path, char *why, size_t why_len)
{
	size_t len_before = 0, len_after = 0;
	char *before = test_read_file(path, &len_before), *after;
	int damaged = -1, rc;

	ck_assert_ptr_nonnull(before);
	rc = store_check_file(path, &damaged, why, why_len);
	ck_assert_msg(rc == 0, "store_check_file: %s (%s)", md_strerror(rc), why);
	after = test_read_file(path, &len_after);
	ck_assert_ptr_nonnull(after);
	ck_assert_msg(len_before == len_after && memcmp(before, after, len_before) == 0,
	              "store_check_file changed %s", path);
	free(before);
	free(after);
	return damaged;
}

START_TEST(test_store_check_file__absent_healthy_and_newer_are_not_damaged)
{
	struct scratch sc;
	struct store *st;
	struct snapshot *a;
	char why[256];
	int64_t target;
	int damaged = -1;

	scratch_init(&sc);
	ck_assert_int_eq(store_check_file(sc.db, &damaged, why, sizeof(why)), 0);
	ck_assert_int_eq(damaged, 0);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	a = small_snapshot(10, 100, 1000);
	put(st, target, a);
	store_close(st);
	ck_assert_int_eq(check_file(sc.db, why, sizeof(why)), 0);
	/* A newer memdelta's database: not damage (store_open refuses it). */
	sql_exec(sc.db, "PRAGMA user_version = 99");
	ck_assert_int_eq(check_file(sc.db, why, sizeof(why)), 0);
	/* An empty file is a database yet to be created. */
	write_file(sc.db, "", 0);
	ck_assert_int_eq(check_file(sc.db, why, sizeof(why)), 0);
	snapshot_free(a);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_check_file__damaged_kinds_detected_untouched)
{
	static const char text[] = "memdelta\nis not a text file\n";
	unsigned char junk[8192];
	struct scratch sc;
	struct store *st;
	struct snapshot *a;
	char why[256];
	int64_t target;
	size_t i;
	FILE *f;

	scratch_init(&sc);
	write_file(sc.db, text, sizeof(text) - 1);
	ck_assert_int_eq(check_file(sc.db, why, sizeof(why)), 1);
	ck_assert_msg(strstr(why, "not a database") != NULL, "%s", why);

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 2654435761u >> 13);
	write_file(sc.db, junk, sizeof(junk));
	ck_assert_int_eq(check_file(sc.db, why, sizeof(why)), 1);

	remove(sc.db);
	sql_exec(sc.db, "CREATE TABLE notes (x); INSERT INTO notes VALUES (1)");
	ck_assert_int_eq(check_file(sc.db, why, sizeof(why)), 1);
	ck_assert_msg(strstr(why, "not a memdelta database") != NULL, "%s", why);

	remove(sc.db);
	sql_exec(sc.db, "PRAGMA application_id = 42");
	ck_assert_int_eq(check_file(sc.db, why, sizeof(why)), 1);
	ck_assert_msg(strstr(why, "application_id 42") != NULL, "%s", why);

	/* A schema version without our application id: someone else's too.
	 * Neither the check nor a refused store_open writes into it (no WAL
	 * switch: the header's bytes 18 and 19 stay 1, rollback journal). */
	remove(sc.db);
	sql_exec(sc.db, "CREATE TABLE notes (x); INSERT INTO notes VALUES (1); "
	                "PRAGMA user_version = 2");
	{
		size_t n0 = 0, n1 = 0;
		char *before = test_read_file(sc.db, &n0), *after;
		char wal[4400];

		ck_assert_ptr_nonnull(before);
		ck_assert_int_eq(check_file(sc.db, why, sizeof(why)), 1);
		ck_assert_msg(strstr(why, "schema version 2 but no application id") != NULL, "%s",
		              why);
		st = NULL;
		ck_assert_int_eq(store_open(sc.db, 0, &st), MD_ERR_DB);
		ck_assert_ptr_null(st);
		ck_assert_msg(strstr(store_errmsg(NULL), "no application id") != NULL, "%s",
		              store_errmsg(NULL));
		after = test_read_file(sc.db, &n1);
		ck_assert_ptr_nonnull(after);
		ck_assert(n0 == n1 && n0 > 19 && memcmp(before, after, n0) == 0);
		ck_assert_int_eq(after[18], 1);
		snprintf(wal, sizeof(wal), "%s-wal", sc.db);
		ck_assert_ptr_null(test_read_file(wal, &n1));
		free(before);
		free(after);
	}

	/* A real one with its third page zeroed: quick_check finds it. */
	remove(sc.db);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "small", &target), 0);
	a = small_snapshot(10, 100, 1000);
	put(st, target, a);
	store_close(st); /* the last connection checkpoints into the file */
	f = fopen(sc.db, "r+b");
	ck_assert_ptr_nonnull(f);
	memset(junk, 0, sizeof(junk));
	ck_assert_int_eq(fseek(f, 2 * 4096, SEEK_SET), 0);
	ck_assert_uint_eq(fwrite(junk, 1, 4096, f), 4096);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(check_file(sc.db, why, sizeof(why)), 1);
	ck_assert_str_ne(why, "");
	snapshot_free(a);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_move_aside__moves_db_wal_shm_to_a_free_name)
{
	struct scratch sc;
	char dest[4400], path[4400], *data;
	size_t len = 0;

	scratch_init(&sc);
	write_file(sc.db, "main", 4);
	snprintf(path, sizeof(path), "%s-wal", sc.db);
	write_file(path, "wal", 3);
	snprintf(path, sizeof(path), "%s-shm", sc.db);
	write_file(path, "shm", 3);
	ck_assert_int_eq(store_move_aside(sc.db, "T1", dest, sizeof(dest)), 0);
	snprintf(path, sizeof(path), "%s.corrupt-T1", sc.db);
	ck_assert_str_eq(dest, path);
	data = test_read_file(dest, &len);
	ck_assert_ptr_nonnull(data);
	ck_assert(len == 4 && memcmp(data, "main", 4) == 0);
	free(data);
	snprintf(path, sizeof(path), "%s.corrupt-T1-wal", sc.db);
	data = test_read_file(path, &len);
	ck_assert(data != NULL && len == 3 && memcmp(data, "wal", 3) == 0);
	free(data);
	snprintf(path, sizeof(path), "%s.corrupt-T1-shm", sc.db);
	data = test_read_file(path, &len);
	ck_assert(data != NULL && len == 3 && memcmp(data, "shm", 3) == 0);
	free(data);
	ck_assert_ptr_null(test_read_file(sc.db, &len));
	snprintf(path, sizeof(path), "%s-wal", sc.db);
	ck_assert_ptr_null(test_read_file(path, &len));

	/* The same tag again, no -wal this time: the next free name. */
	write_file(sc.db, "second", 6);
	ck_assert_int_eq(store_move_aside(sc.db, "T1", dest, sizeof(dest)), 0);
	snprintf(path, sizeof(path), "%s.corrupt-T1.1", sc.db);
	ck_assert_str_eq(dest, path);
	data = test_read_file(dest, &len);
	ck_assert(data != NULL && len == 6 && memcmp(data, "second", 6) == 0);
	free(data);
	/* The first one is untouched. */
	snprintf(path, sizeof(path), "%s.corrupt-T1", sc.db);
	data = test_read_file(path, &len);
	ck_assert(data != NULL && len == 4 && memcmp(data, "main", 4) == 0);
	free(data);
	ck_assert_int_eq(store_move_aside(NULL, "T1", dest, sizeof(dest)), MD_ERR_INVAL);
	scratch_done(&sc);
}
END_TEST

START_TEST(test_store_set_max_bytes__full_stores_nothing_then_resumes)
{
	static struct gen g;
	struct snapshot *s = NULL;
	struct scratch sc;
	struct store *st, *ro = NULL;
	struct store_snapshot_info *list = NULL;
	char before[128], after[128];
	uint64_t bytes = 0;
	int64_t target, last_id = 0, id;
	size_t n = 0;
	int i, rc = 0;

	scratch_init(&sc);
	st = open_rw(sc.db);
	ck_assert_int_eq(store_target_ensure(st, "big", &target), 0);
	gen_init(&g, 7, 600);
	s = gen_snapshot(&g, 42, 4242);
	last_id = put(st, target, s);
	snapshot_free(s);
	ck_assert_int_eq(store_size_bytes(st, &bytes), 0);
	/* A cap of about 64 KiB more than the file has. */
	ck_assert_int_eq(store_set_max_bytes(st, bytes + 65536), 0);
	for (i = 0; i < 200; i++) {
		gen_step(&g);
		g.time_ms += 1000;
		s = gen_snapshot(&g, 42, 4242);
		counts(sc.db, before, sizeof(before));
		id = 0;
		rc = store_put_snapshot(st, target, s, &id);
		if (rc != 0)
			break;
		last_id = id;
		snapshot_free(s);
		s = NULL;
	}
	ck_assert_msg(rc == MD_ERR_FULL, "put %d: %s (%s)", i, md_strerror(rc), store_errmsg(st));
	ck_assert_int_gt(i, 0); /* some fitted under the cap */
	ck_assert_int_eq(id, 0);
	counts(sc.db, after, sizeof(after));
	ck_assert_str_eq(before, after); /* nothing of the failed snapshot */
	/* Reads keep working, on this handle and on a reader's. */
	ck_assert_int_eq(store_open(sc.db, STORE_READONLY, &ro), 0);
	ck_assert_int_eq(store_list_snapshots(ro, target, INT64_MIN, INT64_MAX, &list, &n), 0);
	ck_assert_uint_eq(n, (size_t)i + 1);
	ck_assert_int_eq(list[n - 1].id, last_id);
	free(list);
	store_close(ro);
	/* Room again: the same snapshot goes in whole. */
	ck_assert_int_eq(store_set_max_bytes(st, 0), 0);
	id = put(st, target, s);
	assert_rebuilds(st, id, s, "after the cap was lifted");
	snapshot_free(s);
	store_close(st);
	scratch_done(&sc);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("store_open");
	tcase_add_test(tc, test_store_open__creates_schema_in_wal_mode);
	tcase_add_test(tc, test_store_open__future_user_version_fails);
	tcase_add_test(tc, test_store_open__readonly_missing_file_fails);
	tcase_add_test(tc, test_store_open__readonly_older_version_fails_then_migrates);
	tcase_add_test(tc, test_store_open__not_memdelta_database_fails);
	tcase_add_test(tc, test_store_open__readonly_sees_writer_commits);
	tcase_add_test(tc, test_store_open__version_1_database_upgrades_in_place);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_put_snapshot");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_store_put_snapshot__roundtrip_100);
	tcase_add_test(tc, test_store_put_snapshot__new_start_time_is_new_instance);
	tcase_add_test(tc, test_store_put_snapshot__invalid_rejected_nothing_written);
	tcase_add_test(tc, test_store_put_snapshot__failure_midway_leaves_nothing);
	tcase_add_test(tc, test_store_put_snapshot__unchanged_snapshots_add_no_region_rows);
	tcase_add_test(tc, test_store_put_snapshot__empty_snapshot_closes_everything);
	tcase_add_test(tc, test_store_put_snapshot__locked_database_is_busy);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_get_snapshot");
	tcase_add_test(tc, test_store_get_snapshot__unknown_id_is_notfound);
	tcase_add_test(tc, test_store_get_snapshot__identity_changes_within_instance);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_get_totals");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_store_get_totals__equals_snapshot_totals);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_list_snapshots");
	tcase_add_test(tc, test_store_list_snapshots__range_order_and_fields);
	tcase_add_test(tc, test_store_list_snapshots_page__limit_and_cursor);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_target_ensure");
	tcase_add_test(tc, test_store_target_ensure__same_name_same_id);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_list_targets");
	tcase_add_test(tc, test_store_list_targets__all_in_id_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_list_instances");
	tcase_add_test(tc, test_store_list_instances__per_target_oldest_first);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_list_target_summaries");
	tcase_add_test(tc, test_store_list_target_summaries__latest_snapshot_per_target);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_size_bytes");
	tcase_add_test(tc, test_store_size_bytes__page_count_times_page_size);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_timeline");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_store_timeline__1000_snapshots_to_100_points);
	tcase_add_test(tc, test_store_timeline__restart_inside_bucket_point_per_instance);
	tcase_add_test(tc, test_store_timeline__from_to_bounds_inclusive);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_prune");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_store_prune__ten_days_rebuild_rollups_idempotent, 0,
	                    (int)(sizeof(prune_budgets) / sizeof(prune_budgets[0])));
	tcase_add_test(tc, test_store_prune__caps_drop_oldest_first);
	tcase_add_test(tc, test_store_prune__out_of_order_times_keep_the_rest_exact);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_check_file");
	tcase_add_test(tc, test_store_check_file__absent_healthy_and_newer_are_not_damaged);
	tcase_add_test(tc, test_store_check_file__damaged_kinds_detected_untouched);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_move_aside");
	tcase_add_test(tc, test_store_move_aside__moves_db_wal_shm_to_a_free_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_set_max_bytes");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_store_set_max_bytes__full_stores_nothing_then_resumes);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_errmsg");
	tcase_add_test(tc, test_store_errmsg__describes_the_last_error);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
