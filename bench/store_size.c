/*
 * store_size.c - how many bytes on disk one stored snapshot costs.
 *
 * Synthesizes a 2,000-region process (images with realistic library paths,
 * mapped files, shared memory, malloc arenas, thread stacks with their
 * guards, anonymous private data), stores 1,000 snapshots of it one minute
 * apart while about 2% of the regions change per snapshot (mostly counters;
 * a few size changes, new regions and freed regions), and reports the
 * database size per snapshot after a TRUNCATE checkpoint (page_count *
 * page_size), next to the cost of the first snapshot, which is a full copy.
 * The last snapshot is rebuilt and compared with the model as a sanity check.
 * Output is one key=value per line; usage: bench/store_size [DBPATH]
 * (default: a new temporary directory, removed afterwards).
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "snapshot/store.h"

#define N_REGIONS    2000
#define N_SNAPSHOTS  1000
#define MAX_REGIONS  (N_REGIONS * 2)
#define PAGE         4096u
#define N_DETAILS    1024
#define DETAIL_MAX   128
#define CHANGES_PER  40 /* 2% of 2,000 */
#define SIZE_CHANGES 2
#define NEW_REGIONS  1
#define FREED        1

struct model {
	struct region r[MAX_REGIONS];
	size_t n;
	char details[N_DETAILS][DETAIL_MAX];
	size_t n_details;
	uint64_t rng;
};

static uint64_t
rnd(struct model *m)
{
	/* splitmix64: deterministic across platforms */
	uint64_t z = (m->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
rnd_below(struct model *m, uint64_t n)
{
	return n > 0 ? rnd(m) % n : 0;
}

static const char *detail_add(struct model *m, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static const char *
detail_add(struct model *m, const char *fmt, ...)
{
	va_list ap;
	char *d;
	int n;

	if (m->n_details >= N_DETAILS)
		return "";
	d = m->details[m->n_details++];
	va_start(ap, fmt);
	n = vsnprintf(d, DETAIL_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= DETAIL_MAX)
		d[0] = '\0';
	return d;
}

/* Append a region after the last one, leaving a gap of @gap_pages. */
static struct region *
region_push(struct model *m, uint64_t *cursor, uint64_t pages, enum region_type type,
            enum region_state state, unsigned prot, const char *detail, uint64_t gap_pages)
{
	struct region *r = &m->r[m->n++];
	uint64_t size = pages * PAGE;

	memset(r, 0, sizeof(*r));
	r->base = r->allocation_base = *cursor;
	r->size = size;
	r->type = type;
	r->state = state;
	r->protection = prot;
	r->detail = detail;
	if (state == STATE_COMMIT && (prot & PROT_BIT_WRITE) && !(prot & PROT_BIT_SHARED))
		r->committed = size;
	if (state == STATE_COMMIT && prot != 0) {
		r->resident = rnd_below(m, pages + 1) * PAGE;
		if (type == REGION_IMAGE || type == REGION_MAPPED || type == REGION_SHAREABLE) {
			r->shared_resident = rnd_below(m, r->resident / PAGE + 1) * PAGE;
			r->private_resident = r->resident - r->shared_resident;
			r->pss = r->private_resident + r->shared_resident / 4;
		} else {
			r->private_resident = r->resident;
			r->pss = r->resident;
			if (rnd_below(m, 20) == 0)
				r->swap = rnd_below(m, pages - r->resident / PAGE + 1) * PAGE;
		}
	}
	*cursor += size + gap_pages * PAGE;
	return r;
}

static const char *const syllables[] = {
        "gtk",     "glib",    "ssl",      "crypto",   "z",      "xml2",   "ffi",   "pcre",
        "curl",    "nghttp",  "icu",      "uc",       "sqlite", "gnutls", "idn",   "pixman",
        "cairo",   "pango",   "harfbuzz", "freetype", "png",    "jpeg",   "expat", "dbus",
        "systemd", "selinux", "cap",      "lz",       "zstd",   "bz",     "std",   "gcc_s",
        "m",       "pthread", "dl",       "rt",       "uuid",   "blkid",  "mount", "acl",
};

static void
model_build(struct model *m)
{
	uint64_t cursor = 0x55d0c0a00000ull;
	size_t i, k;
	const char *d;

	memset(m, 0, sizeof(*m));
	m->rng = 42;
	/* The executable and its heap. */
	d = detail_add(m, "/usr/sbin/%s-server%u", "app", 2);
	region_push(m, &cursor, 16, REGION_IMAGE, STATE_COMMIT, PROT_BIT_READ, d, 0);
	region_push(m, &cursor, 300, REGION_IMAGE, STATE_COMMIT, PROT_BIT_READ | PROT_BIT_EXEC, d,
	            0);
	region_push(m, &cursor, 40, REGION_IMAGE, STATE_COMMIT, PROT_BIT_READ, d, 0);
	region_push(m, &cursor, 8, REGION_IMAGE, STATE_COMMIT, PROT_BIT_READ | PROT_BIT_WRITE, d,
	            64);
	region_push(m, &cursor, 33000, REGION_HEAP, STATE_COMMIT, PROT_BIT_READ | PROT_BIT_WRITE,
	            "[heap]", 1u << 20);
	cursor = 0x7f3a00000000ull;
	/* 64 malloc arenas: a committed head and a reserved tail. */
	for (i = 0; i < 64; i++) {
		uint64_t used = 200 + rnd_below(m, 8000);

		region_push(m, &cursor, used, REGION_HEAP, STATE_COMMIT,
		            PROT_BIT_READ | PROT_BIT_WRITE, "glibc arena (inferred)", 0);
		region_push(m, &cursor, 16384 - used, REGION_HEAP, STATE_RESERVE, 0,
		            "glibc arena (inferred)", 16);
	}
	/* 300 thread stacks: one-page guard below each. */
	for (i = 0; i < 300; i++) {
		d = detail_add(m, "%s %u", "thread", 41000 + (unsigned)i);
		region_push(m, &cursor, 1, REGION_STACK, STATE_RESERVE, 0, d, 0);
		region_push(m, &cursor, 2047, REGION_STACK, STATE_COMMIT,
		            PROT_BIT_READ | PROT_BIT_WRITE, d, 2);
	}
	/* Shared memory and mapped files. */
	for (i = 0; i < 40; i++) {
		d = detail_add(m, "/dev/shm/%s-pool.%u", "app", (unsigned)i);
		region_push(m, &cursor, 256 + rnd_below(m, 4096), REGION_SHAREABLE, STATE_COMMIT,
		            PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_SHARED, d, 1);
	}
	for (i = 0; i < 100; i++) {
		d = detail_add(m, "/var/lib/%s/data/segment-%05u.db", "app", (unsigned)i);
		region_push(m, &cursor, 16 + rnd_below(m, 2048), REGION_MAPPED, STATE_COMMIT,
		            PROT_BIT_READ, d, 1);
	}
	/* 80 libraries of five segments each. */
	for (i = 0; i < 80; i++) {
		const char *lib = syllables[i % (sizeof(syllables) / sizeof(syllables[0]))];
		const unsigned prots[5] = {PROT_BIT_READ, PROT_BIT_READ | PROT_BIT_EXEC,
		                           PROT_BIT_READ, PROT_BIT_READ,
		                           PROT_BIT_READ | PROT_BIT_WRITE};
		const uint64_t pages[5] = {8, 64 + rnd_below(m, 400), 30, 4, 2};

		d = detail_add(m, "/usr/lib/x86_64-linux-gnu/lib%s.so.%u", lib,
		               (unsigned)(i / 40 + 1));
		for (k = 0; k < 5; k++)
			region_push(m, &cursor, pages[k], REGION_IMAGE, STATE_COMMIT, prots[k], d,
			            k == 4 ? 8 : 0);
	}
	/* Anonymous private data up to N_REGIONS, some named. */
	for (i = 0; m->n < N_REGIONS; i++) {
		d = "";
		if (i % 10 == 0)
			d = detail_add(m, "[anon:%s %u]", "jemalloc", (unsigned)i);
		region_push(m, &cursor, 1 + rnd_below(m, 2048), REGION_PRIVATE, STATE_COMMIT,
		            PROT_BIT_READ | PROT_BIT_WRITE, d, 4 + rnd_below(m, 64));
	}
}

/* A random region whose counters can move: private, writable, committed. */
static size_t
pick_private(struct model *m)
{
	size_t i;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		i = (size_t)rnd_below(m, m->n);
		if ((m->r[i].protection & PROT_BIT_WRITE) && m->r[i].state == STATE_COMMIT &&
		    (m->r[i].type == REGION_PRIVATE || m->r[i].type == REGION_HEAP ||
		     m->r[i].type == REGION_STACK))
			return i;
	}
	return 0;
}

static void
counters_move(struct model *m, struct region *r)
{
	uint64_t pages = r->size / PAGE, res = r->resident / PAGE;
	int64_t delta = (int64_t)rnd_below(m, 65) - 32;

	if (delta == 0)
		delta = 1;
	if (delta < 0 && (uint64_t)-delta > res)
		res = 0;
	else
		res = (uint64_t)((int64_t)res + delta);
	if (res > pages)
		res = pages;
	if (res * PAGE == r->resident)
		res = res > 0 ? res - 1 : 1;
	r->resident = r->private_resident = r->pss = res * PAGE;
	if (r->swap > r->size - r->resident)
		r->swap = r->size - r->resident;
}

/* Change about CHANGES_PER regions in place. */
static void
model_step(struct model *m)
{
	size_t c, i;

	for (c = 0; c < CHANGES_PER - SIZE_CHANGES - NEW_REGIONS - FREED; c++)
		counters_move(m, &m->r[pick_private(m)]);
	for (c = 0; c < SIZE_CHANGES; c++) {
		struct region *r;
		uint64_t gap, pages;

		i = pick_private(m);
		r = &m->r[i];
		gap = i + 1 < m->n ? m->r[i + 1].base - (r->base + r->size) : 0;
		if (gap >= 2 * PAGE && rnd_below(m, 2) == 0) {
			r->size += (1 + rnd_below(m, gap / PAGE - 1)) * PAGE;
		} else if (r->size > 2 * PAGE) {
			pages = 1 + rnd_below(m, r->size / PAGE - 1);
			r->size = pages * PAGE;
		}
		r->committed = r->size;
		if (r->resident > r->size)
			r->resident = r->private_resident = r->pss = r->size;
		if (r->swap > r->size - r->resident)
			r->swap = r->size - r->resident;
		counters_move(m, r);
	}
	for (c = 0; c < NEW_REGIONS && m->n < MAX_REGIONS; c++) {
		struct region *r;
		uint64_t gap = 0, pages;

		/* A gap of at least three pages: one page away from the
		 * region below, so the kernel would not merge them. */
		for (i = 0; gap < 3 * PAGE;) {
			i = (size_t)rnd_below(m, m->n - 1);
			gap = m->r[i + 1].base - (m->r[i].base + m->r[i].size);
		}
		memmove(&m->r[i + 2], &m->r[i + 1], (m->n - i - 1) * sizeof(m->r[0]));
		m->n++;
		r = &m->r[i + 1];
		pages = 1 + rnd_below(m, gap / PAGE - 2);
		memset(r, 0, sizeof(*r));
		r->base = r->allocation_base = m->r[i].base + m->r[i].size + PAGE;
		r->size = pages * PAGE;
		r->type = REGION_PRIVATE;
		r->state = STATE_COMMIT;
		r->protection = PROT_BIT_READ | PROT_BIT_WRITE;
		r->committed = r->size;
		r->detail = "";
		counters_move(m, r);
	}
	for (c = 0; c < FREED && m->n > 1; c++) {
		do
			i = pick_private(m);
		while (m->r[i].type != REGION_PRIVATE);
		memmove(&m->r[i], &m->r[i + 1], (m->n - i - 1) * sizeof(m->r[0]));
		m->n--;
	}
}

static int
model_snapshot(const struct model *m, int64_t time_ms, struct snapshot **out)
{
	struct snapshot *s = NULL;
	size_t i;
	int rc;

	rc = snapshot_new(&s);
	if (rc != 0)
		return rc;
	s->pid = 4242;
	s->start_time = 987654;
	s->start_time_ms = 1700000000000;
	s->time_ms = time_ms;
	snprintf(s->name, sizeof(s->name), "app-server");
	s->page_table_bytes = 3u << 20;
	rc = snapshot_set_cmdline(s, "/usr/sbin/app-server --config /etc/app/app.conf");
	for (i = 0; rc == 0 && i < m->n; i++)
		rc = snapshot_add_region(s, &m->r[i]);
	if (rc != 0) {
		snapshot_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* Checkpoint the WAL into the main file and return the file's size. */
static int
db_size(sqlite3 *db, int64_t *bytes)
{
	sqlite3_stmt *q = NULL;
	int64_t pages = 0, page_size = 0;
	int rc;

	rc = sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db,
		                        "SELECT page_count * 1, page_size FROM pragma_page_count,"
		                        " pragma_page_size",
		                        -1, &q, NULL);
	if (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
		pages = sqlite3_column_int64(q, 0);
		page_size = sqlite3_column_int64(q, 1);
	} else {
		rc = SQLITE_ERROR;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "store_size: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	*bytes = pages * page_size;
	return 0;
}

/* Bytes per table and index (needs SQLite's dbstat table; silent without). */
static void
table_bytes(sqlite3 *db)
{
	sqlite3_stmt *q = NULL;

	if (sqlite3_prepare_v2(db,
	                       "SELECT name, sum(pgsize), sum(ncell), sum(unused)"
	                       " FROM dbstat GROUP BY name ORDER BY 2 DESC",
	                       -1, &q, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(q) == SQLITE_ROW)
		printf("table_bytes.%s=%lld cells=%lld unused=%lld\n", sqlite3_column_text(q, 0),
		       sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2),
		       sqlite3_column_int64(q, 3));
	sqlite3_finalize(q);
}

static int64_t
count_rows(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
same_snapshot(const struct snapshot *a, const struct snapshot *b)
{
	size_t i;

	if (a->n_regions != b->n_regions || a->time_ms != b->time_ms || a->pid != b->pid)
		return 0;
	for (i = 0; i < a->n_regions; i++) {
		const struct region *x = &a->regions[i], *y = &b->regions[i];

		if (x->base != y->base || x->size != y->size || x->type != y->type ||
		    x->state != y->state || x->protection != y->protection ||
		    x->committed != y->committed || x->resident != y->resident ||
		    x->private_resident != y->private_resident ||
		    x->shared_resident != y->shared_resident || x->pss != y->pss ||
		    x->swap != y->swap || strcmp(x->detail, y->detail) != 0)
			return 0;
	}
	return 1;
}

int
main(int argc, char **argv)
{
	static struct model m;
	char dir[4096] = "", path[4096];
	struct store *st = NULL;
	struct snapshot *s = NULL, *back = NULL, *s0 = NULL, *back0 = NULL;
	sqlite3 *db = NULL;
	int64_t target_id, sid = 0, sid0 = 0, empty = 0, first = 0, final = 0;
	double t0, put_s = 0, get_s, get0_s;
	int i, rc, ret = 1;

	if (argc > 2) {
		fprintf(stderr, "usage: %s [DBPATH]\n", argv[0]);
		return 2;
	}
	if (argc == 2) {
		snprintf(path, sizeof(path), "%s", argv[1]);
		unlink(path);
	} else {
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/store_size-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (mkdtemp(dir) == NULL) {
			perror("mkdtemp");
			return 1;
		}
		snprintf(path, sizeof(path), "%s/store.db", dir);
	}
	model_build(&m);
	rc = store_open(path, 0, &st);
	if (rc == 0)
		rc = store_target_ensure(st, "app-server", &target_id);
	if (rc != 0) {
		fprintf(stderr, "store_size: %s: %s\n", md_strerror(rc), store_errmsg(st));
		goto out;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    db_size(db, &empty) != 0)
		goto out;
	for (i = 0; i < N_SNAPSHOTS; i++) {
		if (i > 0)
			model_step(&m);
		snapshot_free(s);
		s = NULL;
		rc = model_snapshot(&m, 1700000000000 + (int64_t)i * 60000, &s);
		t0 = now_s();
		if (rc == 0)
			rc = store_put_snapshot(st, target_id, s, &sid);
		put_s += now_s() - t0;
		if (rc != 0) {
			fprintf(stderr, "store_size: put %d: %s: %s\n", i, md_strerror(rc),
			        store_errmsg(st));
			goto out;
		}
		if (i == 0) {
			sid0 = sid;
			if (snapshot_clone(s, &s0) != 0 || db_size(db, &first) != 0)
				goto out;
		}
	}
	if (db_size(db, &final) != 0)
		goto out;
	t0 = now_s();
	rc = store_get_snapshot(st, sid, &back);
	get_s = now_s() - t0;
	if (rc != 0 || !same_snapshot(s, back)) {
		fprintf(stderr, "store_size: the last snapshot does not rebuild: %s\n",
		        rc ? store_errmsg(st) : "differs");
		goto out;
	}
	/* The oldest one walks past every version closed since. */
	t0 = now_s();
	rc = store_get_snapshot(st, sid0, &back0);
	get0_s = now_s() - t0;
	if (rc != 0 || !same_snapshot(s0, back0)) {
		fprintf(stderr, "store_size: the first snapshot does not rebuild: %s\n",
		        rc ? store_errmsg(st) : "differs");
		goto out;
	}
	printf("regions=%zu\n", m.n);
	printf("snapshots=%d\n", N_SNAPSHOTS);
	printf("changes_per_snapshot=%d\n", CHANGES_PER);
	printf("empty_db_bytes=%" PRId64 "\n", empty);
	printf("first_snapshot_bytes=%" PRId64 "\n", first - empty);
	printf("db_bytes=%" PRId64 "\n", final);
	printf("store_bytes_per_snapshot=%" PRId64 "\n", (final - empty) / N_SNAPSHOTS);
	printf("store_bytes_per_snapshot_target=2048\n");
	printf("delta_bytes_per_snapshot=%" PRId64 "\n", (final - first) / (N_SNAPSHOTS - 1));
	printf("full_copy_ratio=%.1f\n",
	       (double)(first - empty) / ((double)(final - first) / (N_SNAPSHOTS - 1)));
	printf("rows.versions=%" PRId64 "\n", count_rows(db, "SELECT count(*) FROM versions"));
	printf("rows.counters=%" PRId64 "\n", count_rows(db, "SELECT count(*) FROM counters"));
	printf("rows.totals=%" PRId64 "\n", count_rows(db, "SELECT count(*) FROM totals"));
	printf("put_us_avg=%.0f\n", put_s / N_SNAPSHOTS * 1e6);
	printf("get_last_us=%.0f\n", get_s * 1e6);
	printf("get_first_us=%.0f\n", get0_s * 1e6);
	table_bytes(db);
	ret = 0;
out:
	snapshot_free(s);
	snapshot_free(back);
	snapshot_free(s0);
	snapshot_free(back0);
	sqlite3_close(db);
	store_close(st);
	if (dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/store.db", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/store.db-wal", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/store.db-shm", dir);
		unlink(path);
		rmdir(dir);
	}
	return ret;
}
