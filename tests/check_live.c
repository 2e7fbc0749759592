/*
 * check_live.c - snapshot_collect() against live processes.  Each test starts
 * the helper tests/grower (a child that grows one kind of memory on command,
 * see tests/grower.c), takes a snapshot, has the helper allocate, takes
 * another, and checks with snapshot_totals() that the growth landed in the
 * right region type and state with the right size, and that the region the
 * helper reports (it prints its addresses) is classified as it should be.
 * The error paths use processes of our own making: a reaped child, a zombie,
 * a child killed before and during the collection; kthreadd is pid 2.
 * The helper is $MD_BUILDDIR/tests/grower (./tests/grower without it).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "snapshot/snapshot.h"
#include "tests/testutil.h"

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

/* Growth outside the type under test: code pages faulting in, the main
 * stack going deeper, stdio.  Far below every size the tests ask for. */
#define QUIET_SLACK (1 * MIB)

/* What is honest for malloc: each time glibc extends the brk heap it asks
 * for the missing part plus M_TOP_PAD (128 KiB by default), in pages.  The
 * free top left before the request (0 .. 132 KiB) is used first and the one
 * left after it is as large, so N bytes of 256-byte chunks (exactly N bytes
 * of heap) grow the heap by N - 136 KiB .. N + 136 KiB; a new arena heap
 * adds its heap_info and malloc_state (a few KiB).  The chunks are written,
 * so private resident moves the same way. */
#define MALLOC_SLACK_BELOW (136 * KIB)
#define MALLOC_SLACK_ABOVE (144 * KIB)

static long page_size;

/* ---- the helper process --------------------------------------------------- */

struct grower {
	pid_t pid;
	FILE *to;
	FILE *from;
	char reply[65536];
};

static const char *
grower_path(void)
{
	static char path[4096];
	const char *dir = getenv("MD_BUILDDIR");
	int n;

	if (dir == NULL || dir[0] == '\0')
		dir = ".";
	n = snprintf(path, sizeof(path), "%s/tests/grower", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return "./tests/grower";
	return path;
}

/* Read one reply line into g->reply (without '\n'). */
static void
grower_read(struct grower *g)
{
	size_t len;

	ck_assert_msg(fgets(g->reply, sizeof(g->reply), g->from) != NULL,
	              "grower %d: no reply (exited?)", (int)g->pid);
	len = strlen(g->reply);
	ck_assert_msg(len > 0 && g->reply[len - 1] == '\n', "grower: reply too long");
	g->reply[len - 1] = '\0';
}

/* Start the helper and wait for "ready".  Its scratch files go to a
 * mkdtemp() directory it makes under $TMPDIR and removes when its stdin
 * closes, which also happens when a failed test's process dies. */
static void
grower_start(struct grower *g)
{
	int to[2] = {-1, -1}, from[2] = {-1, -1};
	const char *path = grower_path();

	memset(g, 0, sizeof(*g));
	ck_assert_msg(access(path, X_OK) == 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(pipe2(to, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(from, O_CLOEXEC), 0);
	fflush(NULL);
	g->pid = fork();
	ck_assert_int_ge(g->pid, 0);
	if (g->pid == 0) {
		/* dup2() clears O_CLOEXEC on 0 and 1 only. */
		if (dup2(to[0], 0) < 0 || dup2(from[1], 1) < 0)
			_exit(127);
		unsetenv("GROWER_DIR");
		execl(path, path, "--live-test", (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	g->to = fdopen(to[1], "w");
	g->from = fdopen(from[0], "r");
	ck_assert_ptr_nonnull(g->to);
	ck_assert_ptr_nonnull(g->from);
	grower_read(g);
	ck_assert_msg(strcmp(g->reply, "ready") == 0, "grower said '%s', not ready", g->reply);
}

/* Send a command; the reply must be "ok ...".  Returns what follows "ok ". */
static const char *grower_cmd(struct grower *g, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static const char *
grower_cmd(struct grower *g, const char *fmt, ...)
{
	char cmd[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_int_ge(fprintf(g->to, "%s\n", cmd), 0);
	ck_assert_int_eq(fflush(g->to), 0);
	grower_read(g);
	ck_assert_msg(strncmp(g->reply, "ok", 2) == 0 &&
	                      (g->reply[2] == '\0' || g->reply[2] == ' '),
	              "grower: '%s' -> '%s'", cmd, g->reply);
	return g->reply[2] == ' ' ? g->reply + 3 : g->reply + 2;
}

/* Close its stdin (it cleans up and exits) and reap it. */
static void
grower_stop(struct grower *g)
{
	int status;

	if (g->to != NULL)
		fclose(g->to);
	g->to = NULL;
	if (g->pid > 0) {
		ck_assert_int_eq(waitpid(g->pid, &status, 0), g->pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		              "grower exit status 0x%x", status);
	}
	g->pid = 0;
	if (g->from != NULL)
		fclose(g->from);
	g->from = NULL;
}

static uint64_t
parse_hex(const char *s, const char **end)
{
	char *e;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &e, 16);
	ck_assert_msg(errno == 0 && e != s, "not an address: '%s'", s);
	if (end != NULL)
		*end = e;
	return (uint64_t)v;
}

/* ---- snapshots -------------------------------------------------------------- */

/* An assertion for per-region loops: ck_assert_*() marks a point (a write
 * to the runner) on every success, which costs more than the collection
 * itself over 60,000 regions; this only reports failures. */
#define REQUIRE(cond, ...)                                                                         \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

/* What every snapshot must satisfy, whatever the process. */
#define AT(msg) "region %zu (0x%" PRIx64 "): " msg, i, r->base

static void
check_regions(const struct snapshot *s)
{
	size_t i;

	ck_assert_ptr_nonnull(s->cmdline);
	for (i = 0; i < s->n_regions; i++) {
		const struct region *r = &s->regions[i];

		REQUIRE(r->detail != NULL, AT("detail NULL"));
		REQUIRE(r->size > 0, AT("size 0"));
		REQUIRE(r->base % (uint64_t)page_size == 0 && r->size % (uint64_t)page_size == 0,
		        AT("not page-aligned"));
		REQUIRE(r->allocation_base == r->base, AT("allocation_base != base"));
		REQUIRE(r->type < REGION_TYPE_COUNT && r->state < STATE_COUNT,
		        AT("bad type or state"));
		REQUIRE(r->committed == 0 || r->committed == r->size,
		        AT("committed neither 0 nor size"));
		REQUIRE(r->resident <= r->size, AT("resident > size"));
		REQUIRE(r->private_resident + r->shared_resident == r->resident,
		        AT("private + shared resident != resident"));
		REQUIRE(r->state != STATE_RESERVE || (r->committed == 0 && r->resident == 0),
		        AT("reserve with committed or resident bytes"));
		REQUIRE(i == 0 || s->regions[i - 1].base + s->regions[i - 1].size <= r->base,
		        AT("overlaps the previous one or is out of order"));
	}
}

#undef AT

static struct snapshot *
collect_opts(int pid, const struct snapshot_opts *opts)
{
	struct snapshot *s = NULL;
	int rc;

	rc = snapshot_collect(pid, opts, &s);
	ck_assert_msg(rc == 0, "snapshot_collect(%d): %s (%d)", pid, md_strerror(rc), rc);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->pid, pid);
	check_regions(s);
	return s;
}

static struct snapshot *
collect(int pid)
{
	return collect_opts(pid, NULL);
}

static const struct region *
find_region(const struct snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n_regions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct region *r = &s->regions[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr >= r->base + r->size)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static const struct region *
find_region_ok(const struct snapshot *s, uint64_t addr)
{
	const struct region *r = find_region(s, addr);

	ck_assert_msg(r != NULL, "no region holds 0x%" PRIx64, addr);
	return r;
}

static void
describe(const char *what, const struct region *r)
{
	char prot[PROT_STR_MAX];

	region_prot_format(r->protection, prot);
	printf("  %s: %" PRIx64 "-%" PRIx64 " %s %s/%s committed %" PRIu64 " KiB resident %" PRIu64
	       " KiB \"%s\"\n",
	       what, r->base, r->base + r->size, prot, region_type_name(r->type),
	       region_state_name(r->state), r->committed / KIB, r->resident / KIB, r->detail);
}

/* Signed difference after - before of two unsigned counters. */
static int64_t
delta(uint64_t before, uint64_t after)
{
	return (int64_t)(after - before);
}

static void
assert_within(const char *what, int64_t got, int64_t lo, int64_t hi)
{
	ck_assert_msg(got >= lo && got <= hi,
	              "%s: %" PRId64 " bytes (%.1f MiB), expected %" PRId64 " .. %" PRId64, what,
	              got, (double)got / (double)MIB, lo, hi);
}

/* got within want +- 10%. */
static void
assert_about(const char *what, int64_t got, uint64_t want)
{
	int64_t w = (int64_t)want;

	assert_within(what, got, w - w / 10, w + w / 10);
}

/* No type outside @mask (1u << type) moved by more than QUIET_SLACK in
 * committed or private resident bytes. */
static void
assert_quiet(const struct snapshot_totals *b, const struct snapshot_totals *a, unsigned mask)
{
	int t;

	for (t = 0; t < REGION_TYPE_COUNT; t++) {
		int64_t dc, dp;

		if (mask & (1u << t))
			continue;
		dc = delta(b->by_type[t].committed, a->by_type[t].committed);
		dp = delta(b->by_type[t].private_resident, a->by_type[t].private_resident);
		ck_assert_msg(dc >= -(int64_t)QUIET_SLACK && dc <= (int64_t)QUIET_SLACK,
		              "%s committed moved by %" PRId64 " bytes", region_type_name(t), dc);
		ck_assert_msg(dp >= -(int64_t)QUIET_SLACK && dp <= (int64_t)QUIET_SLACK,
		              "%s private resident moved by %" PRId64 " bytes", region_type_name(t),
		              dp);
	}
}

static void
print_growth(const char *what, const struct snapshot_totals *b, const struct snapshot_totals *a,
             enum region_type t, enum region_state st)
{
	const struct region_totals *x = &b->cell[t][st], *y = &a->cell[t][st];

	printf("%s: %s/%s size %+" PRId64 " KiB, committed %+" PRId64 " KiB, resident %+" PRId64
	       " KiB, private resident %+" PRId64 " KiB, regions %+" PRId64 "\n",
	       what, region_type_name(t), region_state_name(st), delta(x->size, y->size) / 1024,
	       delta(x->committed, y->committed) / 1024, delta(x->resident, y->resident) / 1024,
	       delta(x->private_resident, y->private_resident) / 1024,
	       delta(x->regions, y->regions));
}

/* The default glibc thread stack size (RLIMIT_STACK, as the helper has it:
 * it inherits our limits). */
static uint64_t
default_stack_size(void)
{
	pthread_attr_t attr;
	size_t size = 0;

	ck_assert_int_eq(pthread_getattr_default_np(&attr), 0);
	ck_assert_int_eq(pthread_attr_getstacksize(&attr, &size), 0);
	pthread_attr_destroy(&attr);
	ck_assert_uint_gt(size, 0);
	return size;
}

/* Does @detail name thread @tid as a whole number? */
static int
detail_names_tid(const char *detail, int tid)
{
	char want[32];
	const char *p = detail;
	size_t n;

	snprintf(want, sizeof(want), "%d", tid);
	n = strlen(want);
	while ((p = strstr(p, want)) != NULL) {
		int left = p == detail || p[-1] < '0' || p[-1] > '9';
		int right = p[n] < '0' || p[n] > '9';

		if (left && right)
			return 1;
		p += n;
	}
	return 0;
}

/* ---- identity ----------------------------------------------------------------- */

/* Field 22 of /proc/PID/stat and VmPTE of /proc/PID/status, read here. */
static uint64_t
proc_start_time(int pid)
{
	char path[64], *buf, *p;
	unsigned long long v = 0;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	buf = test_read_file(path, NULL);
	ck_assert_ptr_nonnull(buf);
	p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	p++;
	/* After ')': field 3 (state) is the first word; field 22 the 20th. */
	for (field = 3; field < 22; field++) {
		p += strspn(p, " ");
		p += strcspn(p, " ");
	}
	ck_assert_int_eq(sscanf(p, " %llu", &v), 1);
	free(buf);
	return (uint64_t)v;
}

static uint64_t
proc_status_kb(int pid, const char *key)
{
	char path[64], *buf, *p;
	unsigned long long v = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	buf = test_read_file(path, NULL);
	ck_assert_ptr_nonnull(buf);
	p = strstr(buf, key);
	ck_assert_msg(p != NULL, "%s: no %s", path, key);
	ck_assert_int_eq(sscanf(p + strlen(key), " %llu kB", &v), 1);
	free(buf);
	return (uint64_t)v * 1024;
}

static int64_t
boot_time_s(void)
{
	char *buf = test_read_file("/proc/stat", NULL), *p;
	long long v = 0;

	ck_assert_ptr_nonnull(buf);
	p = strstr(buf, "\nbtime ");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p, "\nbtime %lld", &v), 1);
	free(buf);
	return v;
}

START_TEST(test_snapshot_collect__identity)
{
	struct grower g;
	struct snapshot *s;
	char want_cmdline[4200];
	int64_t want_ms;
	long hz = sysconf(_SC_CLK_TCK);

	grower_start(&g);
	s = collect(g.pid);
	ck_assert_int_eq(s->pid, g.pid);
	ck_assert_uint_eq(s->start_time, proc_start_time(g.pid));
	ck_assert_str_eq(s->name, "grower");
	snprintf(want_cmdline, sizeof(want_cmdline), "%s --live-test", grower_path());
	ck_assert_str_eq(s->cmdline, want_cmdline);
	ck_assert_uint_eq(s->page_table_bytes, proc_status_kb(g.pid, "VmPTE:"));
	ck_assert_uint_gt(s->page_table_bytes, 0);
	/* Start as Unix time: boot time + start ticks, to the tick. */
	want_ms = boot_time_s() * 1000 + (int64_t)(s->start_time * 1000 / (uint64_t)hz);
	assert_within("start_time_ms", s->start_time_ms, want_ms - 1000, want_ms + 1000);
	ck_assert_int_eq(s->time_ms, 0);
	ck_assert_int_eq(s->collect_ns, 0);
	ck_assert_uint_eq(s->flags & (SNAPSHOT_TRUNCATED | SNAPSHOT_NO_THREAD_SP), 0);
	/* A glibc program has at least its image, [heap] or not, and [stack]. */
	ck_assert_uint_ge(s->n_regions, 10);
	snapshot_free(s);
	grower_stop(&g);
}
END_TEST

/* ---- growth by kind ------------------------------------------------------------ */

START_TEST(test_snapshot_collect__private_data)
{
	const uint64_t n = 64 * MIB;
	struct snapshot_totals tb, ta;
	struct snapshot *b, *a;
	const struct region *r;
	struct grower g;
	uint64_t addr;

	grower_start(&g);
	b = collect(g.pid);
	addr = parse_hex(grower_cmd(&g, "private %" PRIu64, n), NULL);
	a = collect(g.pid);
	snapshot_totals(b, &tb);
	snapshot_totals(a, &ta);
	print_growth("private 64M", &tb, &ta, REGION_PRIVATE, STATE_COMMIT);
	assert_about("private committed",
	             delta(tb.cell[REGION_PRIVATE][STATE_COMMIT].committed,
	                   ta.cell[REGION_PRIVATE][STATE_COMMIT].committed),
	             n);
	assert_about("private private_resident",
	             delta(tb.cell[REGION_PRIVATE][STATE_COMMIT].private_resident,
	                   ta.cell[REGION_PRIVATE][STATE_COMMIT].private_resident),
	             n);
	assert_about("leak signal private_committed",
	             delta(tb.private_committed, ta.private_committed), n);
	assert_about("all committed", delta(tb.all.committed, ta.all.committed), n);
	assert_quiet(&tb, &ta, 1u << REGION_PRIVATE);

	r = find_region_ok(a, addr);
	describe("private", r);
	ck_assert_int_eq(r->type, REGION_PRIVATE);
	ck_assert_int_eq(r->state, STATE_COMMIT);
	ck_assert_uint_eq(r->protection & (PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_SHARED),
	                  PROT_BIT_READ | PROT_BIT_WRITE);
	ck_assert_uint_ge(r->size, n);
	ck_assert_uint_eq(r->committed, r->size);
	ck_assert_uint_ge(r->private_resident, n);
	snapshot_free(b);
	snapshot_free(a);
	grower_stop(&g);
}
END_TEST

START_TEST(test_snapshot_collect__free_region)
{
	const uint64_t n = 32 * MIB;
	struct snapshot_totals tb, ta;
	struct snapshot *b, *a;
	struct grower g;
	uint64_t addr, freed;

	grower_start(&g);
	addr = parse_hex(grower_cmd(&g, "private %" PRIu64, n), NULL);
	b = collect(g.pid);
	ck_assert_ptr_nonnull(find_region(b, addr));
	freed = parse_hex(grower_cmd(&g, "free last"), NULL);
	ck_assert_uint_eq(freed, addr);
	a = collect(g.pid);
	snapshot_totals(b, &tb);
	snapshot_totals(a, &ta);
	print_growth("free 32M", &tb, &ta, REGION_PRIVATE, STATE_COMMIT);
	ck_assert_ptr_null(find_region(a, addr));
	ck_assert_ptr_null(find_region(a, addr + n - 1));
	assert_about("private committed after free",
	             -delta(tb.cell[REGION_PRIVATE][STATE_COMMIT].committed,
	                    ta.cell[REGION_PRIVATE][STATE_COMMIT].committed),
	             n);
	assert_quiet(&tb, &ta, 1u << REGION_PRIVATE);
	snapshot_free(b);
	snapshot_free(a);
	grower_stop(&g);
}
END_TEST

START_TEST(test_snapshot_collect__brk_heap)
{
	const uint64_t n = 32 * MIB;
	struct snapshot_totals tb, ta;
	struct snapshot *b, *a;
	const struct region *r, *r2;
	struct grower g;
	uint64_t first, last;
	const char *rest;

	grower_start(&g);
	b = collect(g.pid);
	first = parse_hex(grower_cmd(&g, "heap %" PRIu64, n), &rest);
	last = parse_hex(rest, NULL);
	a = collect(g.pid);
	snapshot_totals(b, &tb);
	snapshot_totals(a, &ta);
	print_growth("heap 32M", &tb, &ta, REGION_HEAP, STATE_COMMIT);
	/* brk grows by what was asked plus M_TOP_PAD, in pages: not +-10%, tighter. */
	assert_within("heap committed",
	              delta(tb.cell[REGION_HEAP][STATE_COMMIT].committed,
	                    ta.cell[REGION_HEAP][STATE_COMMIT].committed),
	              (int64_t)(n - MALLOC_SLACK_BELOW), (int64_t)(n + MALLOC_SLACK_ABOVE));
	assert_within("heap private resident",
	              delta(tb.cell[REGION_HEAP][STATE_COMMIT].private_resident,
	                    ta.cell[REGION_HEAP][STATE_COMMIT].private_resident),
	              (int64_t)(n - MALLOC_SLACK_BELOW), (int64_t)(n + MALLOC_SLACK_ABOVE));
	assert_within("leak signal private_committed",
	              delta(tb.private_committed, ta.private_committed),
	              (int64_t)(n - MALLOC_SLACK_BELOW), (int64_t)(n + MALLOC_SLACK_ABOVE));
	assert_quiet(&tb, &ta, 1u << REGION_HEAP);

	r = find_region_ok(a, first);
	r2 = find_region_ok(a, last);
	describe("heap", r);
	ck_assert_ptr_eq(r, r2); /* one brk heap */
	ck_assert_int_eq(r->type, REGION_HEAP);
	ck_assert_int_eq(r->state, STATE_COMMIT);
	ck_assert_msg(strstr(r->detail, "[heap]") != NULL, "detail '%s'", r->detail);
	ck_assert_uint_eq(r->committed, r->size);
	ck_assert_uint_ge(r->size, n);
	snapshot_free(b);
	snapshot_free(a);
	grower_stop(&g);
}
END_TEST

START_TEST(test_snapshot_collect__arena_heap)
{
	const uint64_t n = 16 * MIB, heap_max = 64 * MIB;
	struct snapshot_totals tb, ta;
	struct snapshot *b, *a;
	const struct region *r, *tail;
	struct grower g;
	uint64_t heap_base, first;
	const char *rest;

	if (sizeof(long) != 8) {
		printf("arena_heap: skipped, glibc's arena heap size is 64 MiB on 64-bit only\n");
		return;
	}
	grower_start(&g);
	b = collect(g.pid);
	heap_base = parse_hex(grower_cmd(&g, "arena %" PRIu64, n), &rest);
	first = parse_hex(rest, NULL);
	a = collect(g.pid);
	snapshot_totals(b, &tb);
	snapshot_totals(a, &ta);
	print_growth("arena 16M", &tb, &ta, REGION_HEAP, STATE_COMMIT);
	print_growth("arena 16M", &tb, &ta, REGION_HEAP, STATE_RESERVE);
	ck_assert_uint_eq(heap_base % heap_max, 0);

	r = find_region_ok(a, first);
	describe("arena", r);
	ck_assert_int_eq(r->type, REGION_HEAP);
	ck_assert_int_eq(r->state, STATE_COMMIT);
	ck_assert_uint_eq(r->base, heap_base);
	ck_assert_uint_eq(r->protection & (PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_SHARED),
	                  PROT_BIT_READ | PROT_BIT_WRITE);
	ck_assert_msg(strstr(r->detail, "arena") != NULL && strstr(r->detail, "[heap]") == NULL,
	              "arena detail '%s'", r->detail);
	/* glibc commits arena memory with mprotect() on a MAP_NORESERVE
	 * mapping, which the kernel does not charge ("nr", no "ac"); the
	 * collector counts it committed, as VMMap would. */
	ck_assert_uint_eq(r->committed, r->size);
	assert_within("arena rw part", (int64_t)r->size, (int64_t)(n - MALLOC_SLACK_BELOW),
	              (int64_t)(n + MALLOC_SLACK_ABOVE));
	/* Its PROT_NONE tail runs to the 64 MiB boundary. */
	tail = find_region_ok(a, r->base + r->size);
	describe("arena tail", tail);
	ck_assert_uint_eq(tail->base, r->base + r->size);
	ck_assert_uint_eq(tail->base + tail->size, heap_base + heap_max);
	ck_assert_int_eq(tail->type, REGION_HEAP);
	ck_assert_int_eq(tail->state, STATE_RESERVE);
	ck_assert_uint_eq(tail->protection & (PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_EXEC), 0);

	assert_within("heap committed",
	              delta(tb.cell[REGION_HEAP][STATE_COMMIT].committed,
	                    ta.cell[REGION_HEAP][STATE_COMMIT].committed),
	              (int64_t)(n - MALLOC_SLACK_BELOW), (int64_t)(n + MALLOC_SLACK_ABOVE));
	assert_within("heap private resident",
	              delta(tb.cell[REGION_HEAP][STATE_COMMIT].private_resident,
	                    ta.cell[REGION_HEAP][STATE_COMMIT].private_resident),
	              (int64_t)(n - MALLOC_SLACK_BELOW), (int64_t)(n + MALLOC_SLACK_ABOVE));
	ck_assert_int_eq(delta(tb.cell[REGION_HEAP][STATE_RESERVE].size,
	                       ta.cell[REGION_HEAP][STATE_RESERVE].size),
	                 (int64_t)tail->size);
	/* The arena's thread brought its stack: Stack moved too. */
	assert_quiet(&tb, &ta, 1u << REGION_HEAP | 1u << REGION_STACK);
	snapshot_free(b);
	snapshot_free(a);
	grower_stop(&g);
}
END_TEST

static void
check_thread_stacks(int k, int skip_sp)
{
	struct snapshot_opts opts;
	struct snapshot_totals tb, ta;
	struct snapshot *b, *a;
	struct grower g;
	uint64_t stack = default_stack_size();
	int tids[16], n_tids = 0, i;
	const char *p;
	char *end;

	memset(&opts, 0, sizeof(opts));
	opts.skip_thread_sp = skip_sp;
	grower_start(&g);
	b = collect_opts(g.pid, &opts);
	p = grower_cmd(&g, "threads %d", k);
	while (*p != '\0' && n_tids < 16) {
		long t = strtol(p, &end, 10);

		ck_assert_msg(end != p && t > 0, "bad tid list '%s'", g.reply);
		tids[n_tids++] = (int)t;
		p = end;
	}
	ck_assert_int_eq(n_tids, k);
	a = collect_opts(g.pid, &opts);
	if (skip_sp)
		ck_assert_uint_ne(a->flags & SNAPSHOT_NO_THREAD_SP, 0);
	else
		ck_assert_uint_eq(a->flags & SNAPSHOT_NO_THREAD_SP, 0);
	snapshot_totals(b, &tb);
	snapshot_totals(a, &ta);
	print_growth(skip_sp ? "threads (no SP)" : "threads", &tb, &ta, REGION_STACK, STATE_COMMIT);
	printf("  default thread stack size %" PRIu64 " KiB\n", stack / KIB);
	/* Each stack: rw part of stacksize minus the guard page, charged. */
	assert_about("stack committed",
	             delta(tb.cell[REGION_STACK][STATE_COMMIT].committed,
	                   ta.cell[REGION_STACK][STATE_COMMIT].committed),
	             (uint64_t)k * stack);
	ck_assert_int_ge(delta(tb.cell[REGION_STACK][STATE_COMMIT].private_resident,
	                       ta.cell[REGION_STACK][STATE_COMMIT].private_resident),
	                 (int64_t)((uint64_t)k * 64 * KIB));
	ck_assert_int_eq(delta(tb.cell[REGION_STACK][STATE_COMMIT].regions,
	                       ta.cell[REGION_STACK][STATE_COMMIT].regions),
	                 k);
	assert_quiet(&tb, &ta, 1u << REGION_STACK);

	for (i = 0; i < k; i++) {
		const struct region *r = NULL, *guard;
		size_t j;

		if (skip_sp)
			break; /* without stack pointers the detail cannot name a tid */
		for (j = 0; j < a->n_regions; j++)
			if (a->regions[j].type == REGION_STACK &&
			    detail_names_tid(a->regions[j].detail, tids[i]) &&
			    a->regions[j].state == STATE_COMMIT)
				r = &a->regions[j];
		ck_assert_msg(r != NULL, "no stack region names tid %d", tids[i]);
		if (i == 0)
			describe("thread stack", r);
		ck_assert_uint_le(r->size, stack);
		ck_assert_uint_ge(r->size, stack - 16 * (uint64_t)page_size);
		ck_assert_uint_eq(r->committed, r->size);
		ck_assert_uint_ge(r->private_resident, 64 * KIB);
		/* glibc's guard page just below, not accessible, not charged. */
		guard = find_region_ok(a, r->base - 1);
		if (i == 0)
			describe("guard", guard);
		ck_assert_uint_eq(guard->base + guard->size, r->base);
		ck_assert_uint_eq(guard->protection & (PROT_BIT_READ | PROT_BIT_WRITE), 0);
		ck_assert_int_eq(guard->state, STATE_RESERVE);
	}
	snapshot_free(b);
	snapshot_free(a);
	grower_stop(&g);
}

START_TEST(test_snapshot_collect__thread_stacks)
{
	check_thread_stacks(4, 0);
}
END_TEST

START_TEST(test_snapshot_collect__thread_stacks_without_sp)
{
	check_thread_stacks(2, 1);
}
END_TEST

START_TEST(test_snapshot_collect__mapped_file)
{
	const uint64_t n = 8 * MIB;
	struct snapshot_totals tb, ta;
	struct snapshot *b, *a;
	const struct region *r;
	struct grower g;
	uint64_t addr;
	const char *rest, *path;

	grower_start(&g);
	b = collect(g.pid);
	addr = parse_hex(grower_cmd(&g, "mapped %" PRIu64, n), &rest);
	path = strchr(rest + 1, ' ');
	ck_assert_ptr_nonnull(path);
	path++;
	a = collect(g.pid);
	snapshot_totals(b, &tb);
	snapshot_totals(a, &ta);
	print_growth("mapped 8M", &tb, &ta, REGION_MAPPED, STATE_COMMIT);
	assert_about("mapped resident",
	             delta(tb.cell[REGION_MAPPED][STATE_COMMIT].resident,
	                   ta.cell[REGION_MAPPED][STATE_COMMIT].resident),
	             n);
	assert_about("mapped size",
	             delta(tb.cell[REGION_MAPPED][STATE_COMMIT].size,
	                   ta.cell[REGION_MAPPED][STATE_COMMIT].size),
	             n);
	/* A read-only file mapping is not charged: the leak signal is still. */
	assert_within("leak signal private_committed",
	              delta(tb.private_committed, ta.private_committed), -(int64_t)QUIET_SLACK,
	              (int64_t)QUIET_SLACK);
	assert_quiet(&tb, &ta, 1u << REGION_MAPPED);

	r = find_region_ok(a, addr);
	describe("mapped", r);
	ck_assert_int_eq(r->type, REGION_MAPPED);
	ck_assert_int_eq(r->state, STATE_COMMIT);
	ck_assert_uint_eq(r->base, addr);
	ck_assert_uint_eq(r->size, n);
	ck_assert_str_eq(r->detail, path);
	ck_assert_uint_eq(r->protection & (PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_SHARED),
	                  PROT_BIT_READ);
	ck_assert_uint_eq(r->committed, 0);
	ck_assert_uint_ge(r->resident, n - n / 10);
	snapshot_free(b);
	snapshot_free(a);
	grower_stop(&g);
}
END_TEST

static void
check_shareable(const char *cmd, const char *detail_prefix)
{
	const uint64_t n = 8 * MIB;
	struct snapshot_totals tb, ta;
	struct snapshot *b, *a;
	const struct region *r;
	struct grower g;
	uint64_t addr;
	const char *rest;
	char path[256] = "";

	grower_start(&g);
	b = collect(g.pid);
	addr = parse_hex(grower_cmd(&g, "%s %" PRIu64, cmd, n), &rest);
	rest = strchr(rest + 1, ' ');
	if (rest != NULL)
		snprintf(path, sizeof(path), "%s", rest + 1);
	a = collect(g.pid);
	snapshot_totals(b, &tb);
	snapshot_totals(a, &ta);
	print_growth(cmd, &tb, &ta, REGION_SHAREABLE, STATE_COMMIT);
	assert_about("shareable resident",
	             delta(tb.cell[REGION_SHAREABLE][STATE_COMMIT].resident,
	                   ta.cell[REGION_SHAREABLE][STATE_COMMIT].resident),
	             n);
	assert_about("shareable size",
	             delta(tb.cell[REGION_SHAREABLE][STATE_COMMIT].size,
	                   ta.cell[REGION_SHAREABLE][STATE_COMMIT].size),
	             n);
	/* Shared memory is not private: the leak signal does not move. */
	assert_within("leak signal private_committed",
	              delta(tb.private_committed, ta.private_committed), -(int64_t)QUIET_SLACK,
	              (int64_t)QUIET_SLACK);
	assert_within("leak signal private_touched", delta(tb.private_touched, ta.private_touched),
	              -(int64_t)QUIET_SLACK, (int64_t)QUIET_SLACK);
	assert_quiet(&tb, &ta, 1u << REGION_SHAREABLE);

	r = find_region_ok(a, addr);
	describe(cmd, r);
	ck_assert_int_eq(r->type, REGION_SHAREABLE);
	ck_assert_int_eq(r->state, STATE_COMMIT);
	ck_assert_uint_eq(r->base, addr);
	ck_assert_uint_eq(r->size, n);
	ck_assert_uint_ne(r->protection & PROT_BIT_SHARED, 0);
	ck_assert_uint_ge(r->resident, n - n / 10);
	if (detail_prefix != NULL) {
		ck_assert_msg(strncmp(r->detail, detail_prefix, strlen(detail_prefix)) == 0,
		              "detail '%s'", r->detail);
		ck_assert_str_eq(r->detail, path);
	}
	snapshot_free(b);
	snapshot_free(a);
	grower_stop(&g);
}

START_TEST(test_snapshot_collect__shared_anonymous)
{
	check_shareable("shm", NULL);
}
END_TEST

START_TEST(test_snapshot_collect__shm_open)
{
	check_shareable("shmfile", "/dev/shm/memdelta-grower-");
}
END_TEST

START_TEST(test_snapshot_collect__reserve)
{
	const uint64_t n = 4 * GIB;
	struct snapshot_totals tb, ta;
	struct snapshot *b, *a;
	const struct region *r;
	struct grower g;
	uint64_t addr;

	grower_start(&g);
	b = collect(g.pid);
	addr = parse_hex(grower_cmd(&g, "reserve 4G"), NULL);
	a = collect(g.pid);
	snapshot_totals(b, &tb);
	snapshot_totals(a, &ta);
	print_growth("reserve 4G", &tb, &ta, REGION_PRIVATE, STATE_RESERVE);
	ck_assert_int_eq(delta(tb.cell[REGION_PRIVATE][STATE_RESERVE].size,
	                       ta.cell[REGION_PRIVATE][STATE_RESERVE].size),
	                 (int64_t)n);
	ck_assert_int_eq(
	        delta(tb.by_state[STATE_RESERVE].reserved, ta.by_state[STATE_RESERVE].reserved),
	        (int64_t)n);
	ck_assert_int_eq(delta(tb.cell[REGION_PRIVATE][STATE_RESERVE].committed,
	                       ta.cell[REGION_PRIVATE][STATE_RESERVE].committed),
	                 0);
	assert_within("all committed", delta(tb.all.committed, ta.all.committed),
	              -(int64_t)QUIET_SLACK, (int64_t)QUIET_SLACK);
	assert_within("leak signal private_committed",
	              delta(tb.private_committed, ta.private_committed), -(int64_t)QUIET_SLACK,
	              (int64_t)QUIET_SLACK);
	assert_quiet(&tb, &ta, 0);

	r = find_region_ok(a, addr);
	describe("reserve", r);
	ck_assert_int_eq(r->type, REGION_PRIVATE);
	ck_assert_int_eq(r->state, STATE_RESERVE);
	ck_assert_uint_eq(r->base, addr);
	ck_assert_uint_eq(r->size, n);
	ck_assert_uint_eq(r->committed, 0);
	ck_assert_uint_eq(r->resident, 0);
	ck_assert_uint_eq(r->protection, 0);
	snapshot_free(b);
	snapshot_free(a);
	grower_stop(&g);
}
END_TEST

/* ---- many regions and budgets --------------------------------------------------- */

static long
max_map_count(void)
{
	char *buf = test_read_file("/proc/sys/vm/max_map_count", NULL);
	long v = 65530; /* the kernel's default */

	if (buf != NULL) {
		v = strtol(buf, NULL, 10);
		free(buf);
	}
	return v;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_snapshot_collect__60000_regions)
{
	const uint64_t k = 60000;
	struct snapshot *s = NULL;
	struct grower g;
	uint64_t addr, len, i, seen = 0;
	double t0, t1;
	int rc;
	const char *rest;
	size_t j;

	if (max_map_count() < (long)k + 1000) {
		printf("60000_regions: skipped, vm.max_map_count is %ld\n", max_map_count());
		return;
	}
	grower_start(&g);
	addr = parse_hex(grower_cmd(&g, "regions %" PRIu64, k), &rest);
	len = strtoull(rest, NULL, 10);
	ck_assert_uint_eq(len, k * (uint64_t)page_size);
	t0 = now_s();
	rc = snapshot_collect(g.pid, NULL, &s);
	t1 = now_s();
	ck_assert_msg(rc == 0, "snapshot_collect: %s", md_strerror(rc));
	check_regions(s);
	printf("60000_regions: %zu regions collected in %.1f ms (%.2f us per region)\n",
	       s->n_regions, (t1 - t0) * 1e3, (t1 - t0) * 1e6 / (double)s->n_regions);
	ck_assert_uint_ge(s->n_regions, k);
	ck_assert_uint_eq(s->flags & SNAPSHOT_TRUNCATED, 0);
	/* Exactly k one-page regions over the helper's mapping, alternating
	 * rw / r, all Private Data. */
	for (j = 0; j < s->n_regions; j++) {
		const struct region *r = &s->regions[j];
		unsigned want;

		if (r->base < addr || r->base >= addr + len)
			continue;
		i = (r->base - addr) / (uint64_t)page_size;
		want = i % 2 == 0 ? PROT_BIT_READ | PROT_BIT_WRITE : PROT_BIT_READ;
		REQUIRE(i == seen && r->size == (uint64_t)page_size &&
		                (r->protection & (PROT_BIT_READ | PROT_BIT_WRITE)) == want &&
		                r->type == REGION_PRIVATE && r->state == STATE_COMMIT,
		        "page %" PRIu64 " of the helper's mapping: region %zu is %" PRIx64
		        " +%" PRIu64 " prot 0x%x type %d state %d",
		        seen, j, r->base, r->size, r->protection, (int)r->type, (int)r->state);
		seen++;
	}
	ck_assert_uint_eq(seen, k);
	snapshot_free(s);
	grower_stop(&g);
}
END_TEST

START_TEST(test_snapshot_collect__max_regions_truncates)
{
	struct snapshot_opts opts;
	struct snapshot *s;
	struct grower g;

	grower_start(&g);
	grower_cmd(&g, "regions 5000");
	memset(&opts, 0, sizeof(opts));
	opts.max_regions = 1000;
	s = collect_opts(g.pid, &opts);
	printf("max_regions 1000: %zu regions, flags 0x%x\n", s->n_regions, s->flags);
	ck_assert_uint_ne(s->flags & SNAPSHOT_TRUNCATED, 0);
	ck_assert_uint_le(s->n_regions, 1000);
	ck_assert_uint_ge(s->n_regions, 900);
	/* Identity is still whole. */
	ck_assert_str_eq(s->name, "grower");
	ck_assert_uint_eq(s->start_time, proc_start_time(g.pid));
	snapshot_free(s);

	/* A limit above the count does not truncate. */
	opts.max_regions = 100000;
	s = collect_opts(g.pid, &opts);
	ck_assert_uint_eq(s->flags & SNAPSHOT_TRUNCATED, 0);
	ck_assert_uint_ge(s->n_regions, 5000);
	snapshot_free(s);
	grower_stop(&g);
}
END_TEST

struct budget {
	int calls;
	int answer;
	pid_t kill_pid; /* > 0: SIGKILL and reap it at the first call */
};

static int
budget_cb(void *arg)
{
	struct budget *b = arg;

	b->calls++;
	if (b->kill_pid > 0) {
		kill(b->kill_pid, SIGKILL);
		waitpid(b->kill_pid, NULL, 0);
		b->kill_pid = 0;
	}
	return b->answer;
}

START_TEST(test_snapshot_collect__over_budget_truncates)
{
	const size_t k = 8192;
	struct snapshot_opts opts;
	struct budget bud;
	struct snapshot *s;
	struct grower g;

	grower_start(&g);
	grower_cmd(&g, "regions %zu", k);
	memset(&opts, 0, sizeof(opts));
	memset(&bud, 0, sizeof(bud));
	opts.over_budget = budget_cb;
	opts.budget_arg = &bud;

	/* Over budget at once: stopped at the first poll (every 1,024 regions,
	 * give or take one read). */
	bud.answer = 1;
	s = collect_opts(g.pid, &opts);
	printf("over_budget 1: %zu regions after %d call(s), flags 0x%x\n", s->n_regions, bud.calls,
	       s->flags);
	ck_assert_int_eq(bud.calls, 1);
	ck_assert_uint_ne(s->flags & SNAPSHOT_TRUNCATED, 0);
	ck_assert_uint_lt(s->n_regions, 2048);
	snapshot_free(s);

	/* Never over budget: polled all along, nothing cut. */
	bud.answer = 0;
	bud.calls = 0;
	s = collect_opts(g.pid, &opts);
	printf("over_budget 0: %zu regions after %d call(s)\n", s->n_regions, bud.calls);
	ck_assert_uint_eq(s->flags & SNAPSHOT_TRUNCATED, 0);
	ck_assert_uint_ge(s->n_regions, k);
	ck_assert_int_ge(bud.calls, (int)(k / 2048));
	snapshot_free(s);
	grower_stop(&g);
}
END_TEST

/* ---- processes that cannot be read ------------------------------------------------ */

static pid_t
fork_sleeper(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void
assert_collect_fails(int pid, int want)
{
	struct snapshot *s = (struct snapshot *)&s; /* must be cleared */
	int rc;

	rc = snapshot_collect(pid, NULL, &s);
	ck_assert_msg(rc == want, "snapshot_collect(%d) = %d (%s), want %d (%s)", pid, rc,
	              md_strerror(rc), want, md_strerror(want));
	ck_assert_ptr_null(s);
}

START_TEST(test_snapshot_collect__no_such_process)
{
	pid_t pid = fork_sleeper();

	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	assert_collect_fails(pid, MD_ERR_NOPROC);
}
END_TEST

START_TEST(test_snapshot_collect__zombie)
{
	siginfo_t si;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	/* Wait until it has exited, without reaping it. */
	memset(&si, 0, sizeof(si));
	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(si.si_pid, pid);
	assert_collect_fails(pid, MD_ERR_ZOMBIE);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
}
END_TEST

START_TEST(test_snapshot_collect__kernel_thread)
{
	char *buf = test_read_file("/proc/2/stat", NULL), *p;
	unsigned long flags = 0;
	int field;

	if (buf == NULL || strstr(buf, "(kthreadd)") == NULL) {
		printf("kernel_thread: skipped, pid 2 is not kthreadd here (a pid namespace?)\n");
		free(buf);
		return;
	}
	p = strrchr(buf, ')') + 1;
	for (field = 3; field < 9; field++) {
		p += strspn(p, " ");
		p += strcspn(p, " ");
	}
	ck_assert_int_eq(sscanf(p, " %lu", &flags), 1);
	free(buf);
	if (!(flags & 0x00200000ul)) { /* PF_KTHREAD */
		printf("kernel_thread: skipped, pid 2 is not a kernel thread here\n");
		return;
	}
	assert_collect_fails(2, MD_ERR_KTHREAD);
}
END_TEST

START_TEST(test_snapshot_collect__killed_before_collect)
{
	struct snapshot *s;
	pid_t pid = fork_sleeper();

	/* Readable while it lives ... */
	s = collect(pid);
	snapshot_free(s);
	/* ... gone once killed and reaped. */
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	assert_collect_fails(pid, MD_ERR_NOPROC);
}
END_TEST

START_TEST(test_snapshot_collect__killed_during_collect)
{
	const size_t k = 20000;
	struct snapshot_opts opts;
	struct budget bud;
	struct snapshot *s = NULL;
	struct grower g;
	int rc;

	grower_start(&g);
	grower_cmd(&g, "regions %zu", k);
	memset(&opts, 0, sizeof(opts));
	memset(&bud, 0, sizeof(bud));
	/* The budget poll comes in the middle of reading smaps: kill and reap
	 * the helper there, and let the read go on. */
	bud.kill_pid = g.pid;
	opts.over_budget = budget_cb;
	opts.budget_arg = &bud;
	rc = snapshot_collect(g.pid, &opts, &s);
	printf("killed during collect: %s after %d poll(s)%s\n", md_strerror(rc), bud.calls,
	       rc == 0 ? " (read complete before the kill)" : "");
	ck_assert_int_ge(bud.calls, 1);
	if (rc == 0) {
		/* Only acceptable if nothing is missing. */
		ck_assert_ptr_nonnull(s);
		ck_assert_uint_ge(s->n_regions, k);
		ck_assert_uint_eq(s->flags & SNAPSHOT_TRUNCATED, 0);
		snapshot_free(s);
	} else {
		ck_assert_int_eq(rc, MD_ERR_NOPROC);
		ck_assert_ptr_null(s);
	}
	g.pid = 0; /* reaped by the callback */
	grower_stop(&g);
}
END_TEST

static Suite *
live_suite(void)
{
	Suite *s = suite_create("live");
	TCase *tc = tcase_create("snapshot_collect");

	/* 60,000 regions, sanitizers, a loaded machine. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_snapshot_collect__identity);
	tcase_add_test(tc, test_snapshot_collect__private_data);
	tcase_add_test(tc, test_snapshot_collect__free_region);
	tcase_add_test(tc, test_snapshot_collect__brk_heap);
	tcase_add_test(tc, test_snapshot_collect__arena_heap);
	tcase_add_test(tc, test_snapshot_collect__thread_stacks);
	tcase_add_test(tc, test_snapshot_collect__thread_stacks_without_sp);
	tcase_add_test(tc, test_snapshot_collect__mapped_file);
	tcase_add_test(tc, test_snapshot_collect__shared_anonymous);
	tcase_add_test(tc, test_snapshot_collect__shm_open);
	tcase_add_test(tc, test_snapshot_collect__reserve);
	tcase_add_test(tc, test_snapshot_collect__60000_regions);
	tcase_add_test(tc, test_snapshot_collect__max_regions_truncates);
	tcase_add_test(tc, test_snapshot_collect__over_budget_truncates);
	tcase_add_test(tc, test_snapshot_collect__no_such_process);
	tcase_add_test(tc, test_snapshot_collect__zombie);
	tcase_add_test(tc, test_snapshot_collect__kernel_thread);
	tcase_add_test(tc, test_snapshot_collect__killed_before_collect);
	tcase_add_test(tc, test_snapshot_collect__killed_during_collect);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	struct snapshot *self = NULL;
	SRunner *sr;
	int rc, failed;

	page_size = sysconf(_SC_PAGESIZE);
	rc = snapshot_collect((int)getpid(), NULL, &self);
	if (rc == MD_ERR_UNSUPPORTED)
		test_skip("no collector on this platform");
	if (rc == MD_ERR_PERM)
		test_skip("cannot read our own /proc/self/smaps");
	if (rc != 0) {
		printf("snapshot_collect(self) failed: %s\n", md_strerror(rc));
		return 1;
	}
	snapshot_free(self);
	if (access(grower_path(), X_OK) != 0) {
		printf("SKIP: %s not built (make check builds it)\n", grower_path());
		return TEST_SKIP;
	}
	sr = srunner_create(live_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
