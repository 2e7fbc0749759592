/*
 * store_queries.c - how fast the web server's queries answer on a day of data.
 *
 * Builds a database holding 24 hours of 10-second snapshots (8,640) of a
 * 2,000-region process in which about 2% of the regions change per snapshot
 * (counters mostly, a few sizes, one new and one freed region), restarted
 * halfway, plus 49 other targets with a few snapshots each.  Then, on a
 * read-only handle as the web server uses, it times (median of repeated
 * runs): store_timeline over the 24 hours with 500 points; store_get_snapshot
 * of two snapshots 12 hours apart plus diff_snapshots of them; and
 * store_list_target_summaries of the 50 targets.  Issue 3 asks for at most
 * 50 ms each.  Output is one name=value per line (times in ms).
 * Usage: bench/store_queries [DBPATH] (default: a new temporary directory,
 * removed afterwards; an existing DBPATH is reused as it is).
 * bench/store_queries --build-only DBPATH builds DBPATH when it does not
 * exist and prints what a client needs to ask for the same queries
 * (app_target=, diff_a=, diff_b= snapshot ids 12 hours apart, from_ms=,
 * to_ms=), then exits: bench/http_queries.sh times them over HTTP.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diff/diff.h"
#include "snapshot/store.h"

#define N_REGIONS     2000
#define MAX_REGIONS   (N_REGIONS + 200)
#define N_SNAPSHOTS   8640 /* 24 h every 10 s */
#define STEP_MS       10000
#define N_OTHERS      49
#define OTHER_SNAPS   5
#define OTHER_REGIONS 200
#define CHANGES       40 /* 2% of 2,000 */
#define RUNS          15
#define PAGE          4096u
#define T0_MS         INT64_C(1795000000000)

struct proc {
	struct region r[MAX_REGIONS];
	size_t n;
	uint64_t rng;
};

static const char *const libs[] = {
        "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libssl.so.3",
        "/usr/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6", "/opt/app/lib/libengine.so",
        "/var/lib/app/index/segment-0001.db",  "/dev/shm/app-pool.0",
};

static uint64_t
next_random(struct proc *p)
{
	uint64_t z = (p->rng += 0x9e3779b97f4a7c15ull); /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
below(struct proc *p, uint64_t n)
{
	return n > 0 ? next_random(p) % n : 0;
}

/* A process of @n regions: images and files first, then heap, stacks and
 * anonymous data, each a few pages apart. */
static void
proc_init(struct proc *p, uint64_t seed, size_t n)
{
	uint64_t base = 0x400000;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->rng = seed;
	for (i = 0; i < n; i++) {
		struct region *r = &p->r[i];
		uint64_t pages = 1 + below(p, 512);

		r->base = r->allocation_base = base;
		r->size = pages * PAGE;
		r->state = STATE_COMMIT;
		r->protection = PROT_BIT_READ | PROT_BIT_WRITE;
		if (i < n / 5) {
			r->type = i % 8 < 6 ? REGION_IMAGE : REGION_MAPPED;
			r->detail = libs[i % 8];
			r->protection = i % 3 == 0 ? PROT_BIT_READ | PROT_BIT_EXEC : PROT_BIT_READ;
		} else if (i % 50 == 0) {
			r->type = REGION_STACK;
			r->detail = "[stack]";
		} else if (i % 7 == 0) {
			r->type = REGION_HEAP;
			r->detail = "glibc arena (inferred)";
		} else if (i % 11 == 0) {
			r->type = REGION_PRIVATE;
			r->state = STATE_RESERVE;
			r->protection = 0;
			r->detail = "";
		} else {
			r->type = REGION_PRIVATE;
			r->detail = "";
		}
		if (r->state == STATE_COMMIT && (r->protection & PROT_BIT_WRITE))
			r->committed = r->size;
		if (r->state == STATE_COMMIT) {
			r->resident = below(p, pages + 1) * PAGE;
			r->private_resident = r->type == REGION_IMAGE ? 0 : r->resident;
			r->shared_resident = r->resident - r->private_resident;
			r->pss = r->private_resident + r->shared_resident / 4;
		}
		base += r->size + PAGE * (2 + below(p, 16));
	}
	p->n = n;
}

/* A writable private region (not the first fifth: images and files). */
static size_t
pick(struct proc *p)
{
	size_t i;

	do
		i = p->n / 5 + (size_t)below(p, p->n - p->n / 5 - 1);
	while (p->r[i].state != STATE_COMMIT || !(p->r[i].protection & PROT_BIT_WRITE));
	return i;
}

/* About 2% of the regions change: counters, two sizes, and one region
 * freed where a new one appeared, so the process keeps its size. */
static void
proc_step(struct proc *p)
{
	struct region *r;
	uint64_t gap;
	size_t c, i;
	int tries;

	for (c = 0; c < CHANGES - 4; c++) {
		r = &p->r[pick(p)];
		r->resident = below(p, r->size / PAGE + 1) * PAGE;
		r->private_resident = r->pss = r->resident;
	}
	for (c = 0; c < 2; c++) {
		i = pick(p);
		r = &p->r[i];
		gap = p->r[i + 1].base - (r->base + r->size);
		if (gap > 4 * PAGE && below(p, 2) == 0)
			r->size += PAGE;
		else if (r->size > PAGE)
			r->size -= PAGE;
		r->committed = r->size;
		if (r->resident > r->size)
			r->resident = r->private_resident = r->pss = r->size;
	}
	for (tries = 0; tries < 100 && p->n < MAX_REGIONS; tries++) {
		i = pick(p);
		gap = p->r[i + 1].base - (p->r[i].base + p->r[i].size);
		if (gap < 3 * PAGE)
			continue;
		memmove(&p->r[i + 2], &p->r[i + 1], (p->n - i - 1) * sizeof(p->r[0]));
		p->n++;
		r = &p->r[i + 1];
		memset(r, 0, sizeof(*r));
		r->base = r->allocation_base = p->r[i].base + p->r[i].size + PAGE;
		r->size = PAGE;
		r->type = REGION_PRIVATE;
		r->state = STATE_COMMIT;
		r->protection = PROT_BIT_READ | PROT_BIT_WRITE;
		r->committed = r->resident = r->private_resident = r->pss = PAGE;
		r->detail = "";
		i = pick(p);
		memmove(&p->r[i], &p->r[i + 1], (p->n - i - 1) * sizeof(p->r[0]));
		p->n--;
		break;
	}
}

static int
proc_put(struct store *st, int64_t target, const struct proc *p, int pid, int64_t time_ms)
{
	struct snapshot *s = NULL;
	size_t i;
	int rc;

	rc = snapshot_new(&s);
	if (rc != 0)
		return rc;
	s->pid = pid;
	s->start_time = 1000u + (uint64_t)pid;
	s->start_time_ms = T0_MS - 1000;
	s->time_ms = time_ms;
	s->page_table_bytes = 2u << 20;
	(void)snprintf(s->name, sizeof(s->name), "app");
	rc = snapshot_set_cmdline(s, "/opt/app/bin/app --serve");
	for (i = 0; rc == 0 && i < p->n; i++)
		rc = snapshot_add_region(s, &p->r[i]);
	if (rc == 0)
		rc = store_put_snapshot(st, target, s, NULL);
	snapshot_free(s);
	return rc;
}

static int
build(const char *path)
{
	static struct proc p;
	struct store *st = NULL;
	int64_t target;
	char name[32];
	int i, k, rc;

	rc = store_open(path, 0, &st);
	if (rc != 0) {
		fprintf(stderr, "store_open %s: %s\n", path, store_errmsg(NULL));
		return rc;
	}
	rc = store_target_ensure(st, "app", &target);
	proc_init(&p, 1, N_REGIONS);
	for (i = 0; rc == 0 && i < N_SNAPSHOTS; i++) {
		if (i > 0)
			proc_step(&p);
		/* the restart: a new pid halfway */
		rc = proc_put(st, target, &p, i < N_SNAPSHOTS / 2 ? 4242 : 4343,
		              T0_MS + (int64_t)i * STEP_MS);
	}
	for (k = 0; rc == 0 && k < N_OTHERS; k++) {
		(void)snprintf(name, sizeof(name), "other-%02d", k);
		rc = store_target_ensure(st, name, &target);
		proc_init(&p, 100 + (uint64_t)k, OTHER_REGIONS);
		for (i = 0; rc == 0 && i < OTHER_SNAPS; i++) {
			if (i > 0)
				proc_step(&p);
			rc = proc_put(st, target, &p, 5000 + k,
			              T0_MS + (int64_t)(N_SNAPSHOTS - OTHER_SNAPS + i) * STEP_MS);
		}
	}
	if (rc != 0)
		fprintf(stderr, "building: %s (%s)\n", md_strerror(rc), store_errmsg(st));
	store_close(st);
	return rc;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static int
run_timeline(struct store *ro, int64_t target, size_t *points)
{
	struct store_timeline_point *p = NULL;
	int rc = store_timeline(ro, target, T0_MS, T0_MS + (int64_t)N_SNAPSHOTS * STEP_MS, 500, &p,
	                        points);

	free(p);
	return rc;
}

static int
run_diff(struct store *ro, int64_t a, int64_t b, size_t *entries)
{
	struct snapshot *sa = NULL, *sb = NULL;
	struct diff_result d;
	int rc;

	memset(&d, 0, sizeof(d));
	rc = store_get_snapshot(ro, a, &sa);
	if (rc == 0)
		rc = store_get_snapshot(ro, b, &sb);
	if (rc == 0)
		rc = diff_snapshots(sa, sb, &d);
	*entries = d.n_entries;
	diff_result_done(&d);
	snapshot_free(sa);
	snapshot_free(sb);
	return rc;
}

static int
run_summaries(struct store *ro, size_t *n)
{
	struct store_target_summary *s = NULL;
	int rc = store_list_target_summaries(ro, &s, n);

	free(s);
	return rc;
}

/* Retention on the day just built (only then: it deletes): keep 12 hours
 * raw, in transactions of 1,000 rows as the daemon does, and time the calls
 * and the 24-hour timeline then half served from the minute rollups. */
static int
run_prune(const char *path, struct store *ro, int64_t target)
{
	struct store_retention ret;
	struct store *st = NULL;
	double t, worst = 0, total = 0, t_tl[RUNS];
	size_t points = 0;
	int more = 1, calls = 0, rc, i;

	rc = store_open(path, 0, &st);
	if (rc != 0) {
		fprintf(stderr, "store_open: %s\n", store_errmsg(NULL));
		return rc;
	}
	store_retention_defaults(&ret);
	ret.raw_ms = INT64_C(12) * 3600 * 1000;
	while (rc == 0 && more) {
		t = now_ms();
		rc = store_prune(st, &ret, T0_MS + (int64_t)N_SNAPSHOTS * STEP_MS, 1000, &more);
		t = now_ms() - t;
		total += t;
		worst = t > worst ? t : worst;
		calls++;
	}
	if (rc != 0)
		fprintf(stderr, "store_prune: %s (%s)\n", md_strerror(rc), store_errmsg(st));
	store_close(st);
	for (i = 0; rc == 0 && i < RUNS; i++) {
		t = now_ms();
		rc = run_timeline(ro, target, &points);
		t_tl[i] = now_ms() - t;
	}
	if (rc != 0)
		return rc;
	printf("prune_12h_calls=%d\nprune_12h_total_ms=%.1f\nprune_call_max_ms=%.2f\n", calls,
	       total, worst);
	printf("timeline_after_prune_points=%zu\ntimeline_after_prune_ms=%.2f\n", points,
	       median(t_tl, RUNS));
	return 0;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/memdelta-bench-XXXXXX";
	char path[4096];
	struct store_snapshot_info *info = NULL;
	struct store *ro = NULL;
	double t_tl[RUNS], t_diff[RUNS], t_sum[RUNS], t;
	size_t n_info = 0, points = 0, entries = 0, n_targets = 0;
	uint64_t bytes = 0;
	int64_t target = 0;
	struct stat sb;
	int rc = 0, own_dir = 0, built = 0, build_only = 0, i, status = EXIT_FAILURE;

	if (argc > 1 && strcmp(argv[1], "--build-only") == 0) {
		if (argc != 3) {
			fprintf(stderr, "usage: %s --build-only DBPATH\n", argv[0]);
			return EXIT_FAILURE;
		}
		build_only = 1;
		(void)snprintf(path, sizeof(path), "%s", argv[2]);
	} else if (argc > 1) {
		(void)snprintf(path, sizeof(path), "%s", argv[1]);
	} else {
		if (mkdtemp(dir) == NULL) {
			perror("mkdtemp");
			return EXIT_FAILURE;
		}
		own_dir = 1;
		(void)snprintf(path, sizeof(path), "%s/store.db", dir);
	}
	if (stat(path, &sb) != 0) {
		t = now_ms();
		rc = build(path);
		if (rc != 0)
			goto out;
		printf("build_s=%.1f\n", (now_ms() - t) / 1e3);
		built = 1;
	}
	rc = store_open(path, STORE_READONLY, &ro);
	if (rc != 0) {
		fprintf(stderr, "store_open: %s\n", store_errmsg(NULL));
		goto out;
	}
	rc = store_target_ensure(ro, "app", &target);
	if (rc == 0)
		rc = store_list_snapshots(ro, target, INT64_MIN, INT64_MAX, &info, &n_info);
	if (rc == 0 && n_info < N_SNAPSHOTS)
		rc = MD_ERR_NOTFOUND;
	if (rc == 0)
		rc = store_size_bytes(ro, &bytes);
	if (rc != 0)
		goto out;
	printf("snapshots=%zu\ndb_bytes=%" PRIu64 "\n", n_info, bytes);
	if (build_only) {
		printf("app_target=%" PRId64 "\ndiff_a=%" PRId64 "\ndiff_b=%" PRId64
		       "\nfrom_ms=%" PRId64 "\nto_ms=%" PRId64 "\n",
		       target, info[N_SNAPSHOTS / 4].id, info[N_SNAPSHOTS * 3 / 4].id, T0_MS,
		       T0_MS + (int64_t)N_SNAPSHOTS * STEP_MS);
		status = EXIT_SUCCESS;
		goto out;
	}
	for (i = 0; rc == 0 && i < RUNS; i++) {
		t = now_ms();
		rc = run_timeline(ro, target, &points);
		t_tl[i] = now_ms() - t;
		t = now_ms();
		if (rc == 0)
			rc = run_diff(ro, info[N_SNAPSHOTS / 4].id, info[N_SNAPSHOTS * 3 / 4].id,
			              &entries);
		t_diff[i] = now_ms() - t;
		t = now_ms();
		if (rc == 0)
			rc = run_summaries(ro, &n_targets);
		t_sum[i] = now_ms() - t;
	}
	if (rc != 0) {
		fprintf(stderr, "query: %s (%s)\n", md_strerror(rc), store_errmsg(ro));
		goto out;
	}
	printf("timeline_points=%zu\ndiff_entries=%zu\ntargets=%zu\n", points, entries, n_targets);
	printf("timeline_24h_500_ms=%.2f\n", median(t_tl, RUNS));
	printf("get2_diff_12h_ms=%.2f\n", median(t_diff, RUNS));
	printf("target_summaries_50_ms=%.2f\n", median(t_sum, RUNS));
	if (built)
		rc = run_prune(path, ro, target);
	if (rc == 0)
		status = EXIT_SUCCESS;
out:
	if (rc != 0)
		fprintf(stderr, "store_queries: %s\n", md_strerror(rc));
	free(info);
	store_close(ro);
	if (own_dir) {
		char side[4200];
		const char *const suffix[] = {"", "-wal", "-shm"};
		size_t k;

		for (k = 0; k < 3; k++) {
			(void)snprintf(side, sizeof(side), "%s%s", path, suffix[k]);
			(void)unlink(side);
		}
		(void)rmdir(dir);
	}
	return status;
}
