/*
 * check_diff.c - unit tests of diff/: diff_snapshots() on a table of named
 * scenarios (identical, new, freed, brk growth, mprotect split, merge, type
 * change, reserve -> commit, empty sides, invalid input), the exact-sum and
 * per-type invariants on 1,000 random snapshot pairs checked against an
 * independent reference (sort all boundaries, look each piece up), and
 * diff_to_json() printed, parsed back with cJSON and checked member by member.
 */
#include "config.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff.h"
#include "diff/diff_json.h"
#include "tests/testutil.h"

#define P_NONE 0u
#define P_R    PROT_BIT_READ
#define P_RW   (PROT_BIT_READ | PROT_BIT_WRITE)
#define P_RX   (PROT_BIT_READ | PROT_BIT_EXEC)

/* One region of a table case. */
struct rspec {
	uint64_t base;
	uint64_t size;
	enum region_type type;
	enum region_state state;
	unsigned prot;
	uint64_t committed;
	uint64_t resident;
	uint64_t private_resident;
	uint64_t swap;
	const char *detail;
};

/* One expected entry. */
struct espec {
	enum diff_kind kind;
	uint64_t base;
	uint64_t size;
	long before_index;
	long after_index;
	enum region_type type;
	enum region_type before_type;
	int64_t committed_delta;
	int64_t resident_delta;
	int64_t private_delta;
	int64_t swap_delta;
};

struct diff_case {
	const struct rspec *before;
	size_t n_before;
	const struct rspec *after;
	size_t n_after;
	const struct espec *expect;
	size_t n_expect;
};

#define LIST(type, ...)  ((const type[]){__VA_ARGS__})
#define COUNT(type, ...) (sizeof(LIST(type, __VA_ARGS__)) / sizeof(type))
#define BEFORE(...)                                                                                \
	.before = LIST(struct rspec, __VA_ARGS__), .n_before = COUNT(struct rspec, __VA_ARGS__)
#define AFTER(...)                                                                                 \
	.after = LIST(struct rspec, __VA_ARGS__), .n_after = COUNT(struct rspec, __VA_ARGS__)
#define EXPECT(...)                                                                                \
	.expect = LIST(struct espec, __VA_ARGS__), .n_expect = COUNT(struct espec, __VA_ARGS__)

/* ---- helpers ---------------------------------------------------------- */

static struct snapshot *
make_snapshot(const struct rspec *rs, size_t n)
{
	struct snapshot *s = NULL;
	size_t i;

	ck_assert_int_eq(snapshot_new(&s), 0);
	for (i = 0; i < n; i++) {
		struct region r;

		test_region(&r, rs[i].base, rs[i].size, rs[i].type, rs[i].state, rs[i].prot,
		            rs[i].committed, rs[i].resident, rs[i].detail);
		r.private_resident = rs[i].private_resident;
		r.swap = rs[i].swap;
		ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	}
	return s;
}

struct sums {
	uint64_t committed, resident, private_resident, swap;
};

static void
sum_regions(const struct snapshot *s, int type, struct sums *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < s->n_regions; i++) {
		const struct region *r = &s->regions[i];

		if (type >= 0 && (int)r->type != type)
			continue;
		out->committed += r->committed;
		out->resident += r->resident;
		out->private_resident += r->private_resident;
		out->swap += r->swap;
	}
}

/* Check what must hold for every diff: entries sorted and disjoint, each
 * region tiled exactly by its entries, at most 2 * (nb + na) entries, the
 * sum of the entries' deltas equal to the difference of the region totals
 * (overall and per type, with the CHANGED attribution), counts consistent. */
static void
check_invariants(const struct snapshot *b, const struct snapshot *a, const struct diff_result *res,
                 const char *what)
{
	struct diff_totals sum_types;
	uint64_t *b_cover, *a_cover;
	int64_t cd = 0, rd = 0, pd = 0, sd = 0;
	uint64_t new_bytes = 0, freed_bytes = 0, counted = 0;
	size_t i;
	int t, k;

	ck_assert_msg(res->n_entries <= 2 * (b->n_regions + a->n_regions), "%s: %zu entries", what,
	              res->n_entries);
	b_cover = calloc(b->n_regions + 1, sizeof(*b_cover));
	a_cover = calloc(a->n_regions + 1, sizeof(*a_cover));
	ck_assert_ptr_nonnull(b_cover);
	ck_assert_ptr_nonnull(a_cover);
	for (i = 0; i < res->n_entries; i++) {
		const struct diff_entry *e = &res->entries[i];

		ck_assert_msg(e->size > 0, "%s: entry %zu empty", what, i);
		if (i > 0) {
			const struct diff_entry *p = &res->entries[i - 1];

			ck_assert_msg(p->base + p->size <= e->base, "%s: entry %zu overlaps", what,
			              i);
			/* Maximal: two touching entries never share the pair. */
			ck_assert_msg(p->base + p->size < e->base ||
			                      p->before_index != e->before_index ||
			                      p->after_index != e->after_index,
			              "%s: entry %zu not maximal", what, i);
		}
		ck_assert_msg(e->before_index >= 0 || e->after_index >= 0, "%s: entry %zu", what,
		              i);
		if (e->before_index >= 0) {
			const struct region *r = &b->regions[e->before_index];

			ck_assert(e->base >= r->base && e->base + e->size <= r->base + r->size);
			ck_assert_int_eq(e->before_type, r->type);
			b_cover[e->before_index] += e->size;
		}
		if (e->after_index >= 0) {
			const struct region *r = &a->regions[e->after_index];

			ck_assert(e->base >= r->base && e->base + e->size <= r->base + r->size);
			ck_assert_int_eq(e->type, r->type);
			a_cover[e->after_index] += e->size;
		}
		ck_assert_int_eq(e->kind == DIFF_NEW, e->before_index < 0);
		ck_assert_int_eq(e->kind == DIFF_FREED, e->after_index < 0);
		cd = (int64_t)((uint64_t)cd + (uint64_t)e->committed_delta);
		rd = (int64_t)((uint64_t)rd + (uint64_t)e->resident_delta);
		pd = (int64_t)((uint64_t)pd + (uint64_t)e->private_delta);
		sd = (int64_t)((uint64_t)sd + (uint64_t)e->swap_delta);
		if (e->kind == DIFF_NEW)
			new_bytes += e->size;
		if (e->kind == DIFF_FREED)
			freed_bytes += e->size;
	}
	for (i = 0; i < b->n_regions; i++)
		ck_assert_msg(b_cover[i] == b->regions[i].size, "%s: before %zu not tiled", what,
		              i);
	for (i = 0; i < a->n_regions; i++)
		ck_assert_msg(a_cover[i] == a->regions[i].size, "%s: after %zu not tiled", what, i);
	free(b_cover);
	free(a_cover);

	/* Overall: the exact sum. */
	{
		struct sums sb, sa;

		sum_regions(b, -1, &sb);
		sum_regions(a, -1, &sa);
		ck_assert_msg(cd == (int64_t)(sa.committed - sb.committed), "%s: committed sum",
		              what);
		ck_assert_msg(rd == (int64_t)(sa.resident - sb.resident), "%s: resident sum", what);
		ck_assert_msg(pd == (int64_t)(sa.private_resident - sb.private_resident),
		              "%s: private sum", what);
		ck_assert_msg(sd == (int64_t)(sa.swap - sb.swap), "%s: swap sum", what);
		ck_assert(res->all.committed_delta == cd);
		ck_assert(res->all.resident_delta == rd);
		ck_assert(res->all.private_delta == pd);
		ck_assert(res->all.swap_delta == sd);
		ck_assert(res->all.new_bytes == new_bytes);
		ck_assert(res->all.freed_bytes == freed_bytes);
	}
	/* Per type: each type's deltas are its after total minus its before
	 * total, and the types add up to "all". */
	memset(&sum_types, 0, sizeof(sum_types));
	for (t = 0; t < REGION_TYPE_COUNT; t++) {
		const struct diff_totals *tt = &res->by_type[t];
		struct sums sb, sa;

		sum_regions(b, t, &sb);
		sum_regions(a, t, &sa);
		ck_assert_msg(tt->committed_delta == (int64_t)(sa.committed - sb.committed),
		              "%s: type %d committed", what, t);
		ck_assert_msg(tt->resident_delta == (int64_t)(sa.resident - sb.resident),
		              "%s: type %d resident", what, t);
		ck_assert(tt->private_delta ==
		          (int64_t)(sa.private_resident - sb.private_resident));
		ck_assert(tt->swap_delta == (int64_t)(sa.swap - sb.swap));
		sum_types.new_bytes += tt->new_bytes;
		sum_types.freed_bytes += tt->freed_bytes;
		for (k = 0; k < DIFF_KIND_COUNT; k++)
			sum_types.count[k] += tt->count[k];
	}
	ck_assert(sum_types.new_bytes == res->all.new_bytes);
	ck_assert(sum_types.freed_bytes == res->all.freed_bytes);
	for (k = 0; k < DIFF_KIND_COUNT; k++) {
		ck_assert(sum_types.count[k] == res->all.count[k]);
		counted += res->all.count[k];
	}
	ck_assert(counted == res->n_entries);
}

static void
run_case(const struct diff_case *c)
{
	struct snapshot *b = make_snapshot(c->before, c->n_before);
	struct snapshot *a = make_snapshot(c->after, c->n_after);
	struct diff_result res;
	size_t i;

	ck_assert_int_eq(diff_snapshots(b, a, &res), 0);
	ck_assert_uint_eq(res.n_entries, c->n_expect);
	for (i = 0; i < c->n_expect; i++) {
		const struct espec *x = &c->expect[i];
		const struct diff_entry *e = &res.entries[i];

		ck_assert_msg(e->kind == x->kind, "entry %zu: kind %s, expected %s", i,
		              diff_kind_name(e->kind), diff_kind_name(x->kind));
		ck_assert_msg(e->base == x->base, "entry %zu: base 0x%" PRIx64, i, e->base);
		ck_assert_msg(e->size == x->size, "entry %zu: size 0x%" PRIx64, i, e->size);
		ck_assert_int_eq(e->before_index, x->before_index);
		ck_assert_int_eq(e->after_index, x->after_index);
		ck_assert_int_eq(e->type, x->type);
		ck_assert_int_eq(e->before_type, x->before_type);
		ck_assert_msg(e->committed_delta == x->committed_delta,
		              "entry %zu: committed_delta %" PRId64, i, e->committed_delta);
		ck_assert_msg(e->resident_delta == x->resident_delta,
		              "entry %zu: resident_delta %" PRId64, i, e->resident_delta);
		ck_assert_msg(e->private_delta == x->private_delta,
		              "entry %zu: private_delta %" PRId64, i, e->private_delta);
		ck_assert_msg(e->swap_delta == x->swap_delta, "entry %zu: swap_delta %" PRId64, i,
		              e->swap_delta);
	}
	check_invariants(b, a, &res, "case");
	diff_result_done(&res);
	snapshot_free(b);
	snapshot_free(a);
}

/* ---- diff_snapshots: the table ---------------------------------------- */

#define IMG                                                                                        \
	{                                                                                          \
		0x400000, 0x1000, REGION_IMAGE, STATE_COMMIT, P_RX, 0, 0x1000, 0, 0,               \
		        "/usr/bin/cat"                                                             \
	}
#define HEAP                                                                                       \
	{                                                                                          \
		0x600000, 0x3000, REGION_HEAP, STATE_COMMIT, P_RW, 0x3000, 0x2000, 0x2000, 0x1000, \
		        "[heap]"                                                                   \
	}
#define STK                                                                                        \
	{                                                                                          \
		0x7ffffffde000, 0x21000, REGION_STACK, STATE_COMMIT, P_RW, 0x21000, 0x5000,        \
		        0x5000, 0, "[stack]"                                                       \
	}

static const struct diff_case case_identical = {
        BEFORE(IMG, HEAP, STK),
        AFTER(IMG, HEAP, STK),
        EXPECT({DIFF_SAME, 0x400000, 0x1000, 0, 0, REGION_IMAGE, REGION_IMAGE, 0, 0, 0, 0},
               {DIFF_SAME, 0x600000, 0x3000, 1, 1, REGION_HEAP, REGION_HEAP, 0, 0, 0, 0},
               {DIFF_SAME, 0x7ffffffde000, 0x21000, 2, 2, REGION_STACK, REGION_STACK, 0, 0, 0, 0}),
};

static const struct diff_case case_new_region = {
        BEFORE(IMG),
        AFTER(IMG, {0x500000, 0x4000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0x4000, 0x1000, 0x1000, 0,
                    NULL}),
        EXPECT({DIFF_SAME, 0x400000, 0x1000, 0, 0, REGION_IMAGE, REGION_IMAGE, 0, 0, 0, 0},
               {DIFF_NEW, 0x500000, 0x4000, -1, 1, REGION_PRIVATE, REGION_PRIVATE, 0x4000, 0x1000,
                0x1000, 0}),
};

static const struct diff_case case_freed_region = {
        BEFORE(IMG,
               {0x500000, 0x4000, REGION_MAPPED, STATE_COMMIT, P_R, 0, 0x3000, 0, 0, "/data/f"}),
        AFTER(IMG),
        EXPECT({DIFF_SAME, 0x400000, 0x1000, 0, 0, REGION_IMAGE, REGION_IMAGE, 0, 0, 0, 0},
               {DIFF_FREED, 0x500000, 0x4000, 1, -1, REGION_MAPPED, REGION_MAPPED, 0, -0x3000, 0,
                0}),
};

/* brk moved from 0x602000 to 0x604000: the kernel extended the [heap] VMA.
 * The old range keeps its share of the counters (resident 0x3001 split
 * 0x1800 / 0x1801 by the telescoping rounding), the new range is NEW. */
static const struct diff_case case_heap_brk_grew = {
        BEFORE({0x600000, 0x2000, REGION_HEAP, STATE_COMMIT, P_RW, 0x2000, 0x1000, 0x1000, 0,
                "[heap]"}),
        AFTER({0x600000, 0x4000, REGION_HEAP, STATE_COMMIT, P_RW, 0x4000, 0x3001, 0x3001, 0,
               "[heap]"}),
        EXPECT({DIFF_GREW, 0x600000, 0x2000, 0, 0, REGION_HEAP, REGION_HEAP, 0, 0x800, 0x800, 0},
               {DIFF_NEW, 0x602000, 0x2000, -1, 0, REGION_HEAP, REGION_HEAP, 0x2000, 0x1801, 0x1801,
                0}),
};

/* Same growth, the old range's resident share unchanged: SAME + NEW. */
static const struct diff_case case_heap_brk_same = {
        BEFORE({0x600000, 0x2000, REGION_HEAP, STATE_COMMIT, P_RW, 0x2000, 0x1000, 0x1000, 0,
                "[heap]"}),
        AFTER({0x600000, 0x4000, REGION_HEAP, STATE_COMMIT, P_RW, 0x4000, 0x2000, 0x2000, 0,
               "[heap]"}),
        EXPECT({DIFF_SAME, 0x600000, 0x2000, 0, 0, REGION_HEAP, REGION_HEAP, 0, 0, 0, 0},
               {DIFF_NEW, 0x602000, 0x2000, -1, 0, REGION_HEAP, REGION_HEAP, 0x2000, 0x1000, 0x1000,
                0}),
};

/* mprotect(PROT_READ) on the middle of an rw-p VMA splits it in three. */
static const struct diff_case case_mprotect_split = {
        BEFORE({0x10000, 0x6000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0x6000, 0x6000, 0x6000, 0,
                NULL}),
        AFTER({0x10000, 0x2000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0x2000, 0x2000, 0x2000, 0,
               NULL},
              {0x12000, 0x2000, REGION_PRIVATE, STATE_COMMIT, P_R, 0x2000, 0x2000, 0x2000, 0, NULL},
              {0x14000, 0x2000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0x2000, 0x2000, 0x2000, 0,
               NULL}),
        EXPECT({DIFF_SAME, 0x10000, 0x2000, 0, 0, REGION_PRIVATE, REGION_PRIVATE, 0, 0, 0, 0},
               {DIFF_CHANGED, 0x12000, 0x2000, 0, 1, REGION_PRIVATE, REGION_PRIVATE, 0, 0, 0, 0},
               {DIFF_SAME, 0x14000, 0x2000, 0, 2, REGION_PRIVATE, REGION_PRIVATE, 0, 0, 0, 0}),
};

/* Two adjacent VMAs merged into one: the after counters are spread evenly,
 * so the first half grew and the second shrank; the sum is exact. */
static const struct diff_case case_merge = {
        BEFORE({0x20000, 0x2000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0x2000, 0x1000, 0, 0, NULL},
               {0x22000, 0x2000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0x2000, 0x2000, 0, 0, NULL}),
        AFTER({0x20000, 0x4000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0x4000, 0x3000, 0, 0, NULL}),
        EXPECT({DIFF_GREW, 0x20000, 0x2000, 0, 0, REGION_PRIVATE, REGION_PRIVATE, 0, 0x800, 0, 0},
               {DIFF_SHRANK, 0x22000, 0x2000, 1, 0, REGION_PRIVATE, REGION_PRIVATE, 0, -0x800, 0,
                0}),
};

/* An anonymous region later recognised as an allocator's heap. */
static const struct diff_case case_type_change = {
        BEFORE({0x30000, 0x4000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0x4000, 0x1000, 0x1000, 0,
                NULL}),
        AFTER({0x30000, 0x4000, REGION_HEAP, STATE_COMMIT, P_RW, 0x4000, 0x2000, 0x2000, 0,
               "[anon:libc_malloc]"}),
        EXPECT({DIFF_CHANGED, 0x30000, 0x4000, 0, 0, REGION_HEAP, REGION_PRIVATE, 0, 0x1000, 0x1000,
                0}),
};

/* A glibc arena: rw-p head plus a ---p reserved tail; malloc commits
 * 0x21000 more bytes by mprotect, moving the boundary up. */
#define ARENA 0x7f0000000000ull
static const struct diff_case case_reserve_to_commit = {
        BEFORE({ARENA, 0x21000, REGION_HEAP, STATE_COMMIT, P_RW, 0x21000, 0x21000, 0x21000, 0,
                NULL},
               {ARENA + 0x21000, 0x3df000, REGION_HEAP, STATE_RESERVE, P_NONE, 0, 0, 0, 0, NULL}),
        AFTER({ARENA, 0x42000, REGION_HEAP, STATE_COMMIT, P_RW, 0x42000, 0x42000, 0x42000, 0, NULL},
              {ARENA + 0x42000, 0x3be000, REGION_HEAP, STATE_RESERVE, P_NONE, 0, 0, 0, 0, NULL}),
        EXPECT({DIFF_SAME, ARENA, 0x21000, 0, 0, REGION_HEAP, REGION_HEAP, 0, 0, 0, 0},
               {DIFF_CHANGED, ARENA + 0x21000, 0x21000, 1, 0, REGION_HEAP, REGION_HEAP, 0x21000,
                0x21000, 0x21000, 0},
               {DIFF_SAME, ARENA + 0x42000, 0x3be000, 1, 1, REGION_HEAP, REGION_HEAP, 0, 0, 0, 0}),
};

/* A region unmapped and mapped again 0x1000 higher: FREED, overlap, NEW. */
static const struct diff_case case_moved = {
        BEFORE({0x1000, 0x3000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0x3000, 0x3000, 0, 0x3000,
                NULL}),
        AFTER({0x2000, 0x3000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0x3000, 0x3000, 0, 0x3000,
               NULL}),
        EXPECT({DIFF_FREED, 0x1000, 0x1000, 0, -1, REGION_PRIVATE, REGION_PRIVATE, -0x1000, -0x1000,
                0, -0x1000},
               {DIFF_SAME, 0x2000, 0x2000, 0, 0, REGION_PRIVATE, REGION_PRIVATE, 0, 0, 0, 0},
               {DIFF_NEW, 0x4000, 0x1000, -1, 0, REGION_PRIVATE, REGION_PRIVATE, 0x1000, 0x1000, 0,
                0x1000}),
};

static const struct diff_case case_empty_before = {
        AFTER(IMG, HEAP),
        EXPECT({DIFF_NEW, 0x400000, 0x1000, -1, 0, REGION_IMAGE, REGION_IMAGE, 0, 0x1000, 0, 0},
               {DIFF_NEW, 0x600000, 0x3000, -1, 1, REGION_HEAP, REGION_HEAP, 0x3000, 0x2000, 0x2000,
                0x1000}),
};

static const struct diff_case case_empty_after = {
        BEFORE(IMG, HEAP),
        EXPECT({DIFF_FREED, 0x400000, 0x1000, 0, -1, REGION_IMAGE, REGION_IMAGE, 0, -0x1000, 0, 0},
               {DIFF_FREED, 0x600000, 0x3000, 1, -1, REGION_HEAP, REGION_HEAP, -0x3000, -0x2000,
                -0x2000, -0x1000}),
};

static const struct diff_case case_both_empty = {0};

/* Zero-size regions cover no address and produce no entry. */
static const struct diff_case case_zero_size = {
        BEFORE(IMG, {0x500000, 0, REGION_PRIVATE, STATE_COMMIT, P_RW, 0, 0, 0, 0, NULL}),
        AFTER({0x400000, 0, REGION_PRIVATE, STATE_COMMIT, P_RW, 0, 0, 0, 0, NULL}, IMG),
        EXPECT({DIFF_SAME, 0x400000, 0x1000, 0, 1, REGION_IMAGE, REGION_IMAGE, 0, 0, 0, 0}),
};

#define CASE_TEST(scenario)                                                                        \
	START_TEST(test_diff_snapshots__##scenario)                                                \
	{                                                                                          \
		run_case(&case_##scenario);                                                        \
	}                                                                                          \
	END_TEST

CASE_TEST(identical)
CASE_TEST(new_region)
CASE_TEST(freed_region)
CASE_TEST(heap_brk_grew)
CASE_TEST(heap_brk_same)
CASE_TEST(mprotect_split)
CASE_TEST(merge)
CASE_TEST(type_change)
CASE_TEST(reserve_to_commit)
CASE_TEST(moved)
CASE_TEST(empty_before)
CASE_TEST(empty_after)
CASE_TEST(both_empty)
CASE_TEST(zero_size)

START_TEST(test_diff_snapshots__identical_totals_zero)
{
	struct snapshot *b = make_snapshot(case_identical.before, case_identical.n_before);
	struct snapshot *a = make_snapshot(case_identical.after, case_identical.n_after);
	struct diff_result res;
	int t;

	ck_assert_int_eq(diff_snapshots(b, a, &res), 0);
	ck_assert_uint_eq(res.all.count[DIFF_SAME], 3);
	ck_assert_uint_eq(res.all.count[DIFF_NEW] + res.all.count[DIFF_FREED] +
	                          res.all.count[DIFF_GREW] + res.all.count[DIFF_SHRANK] +
	                          res.all.count[DIFF_CHANGED],
	                  0);
	ck_assert(res.all.committed_delta == 0 && res.all.resident_delta == 0);
	ck_assert(res.all.private_delta == 0 && res.all.swap_delta == 0);
	ck_assert(res.all.new_bytes == 0 && res.all.freed_bytes == 0);
	for (t = 0; t < REGION_TYPE_COUNT; t++)
		ck_assert(res.by_type[t].committed_delta == 0 &&
		          res.by_type[t].resident_delta == 0);
	ck_assert_uint_eq(res.by_type[REGION_HEAP].count[DIFF_SAME], 1);
	diff_result_done(&res);
	snapshot_free(b);
	snapshot_free(a);
}
END_TEST

/* A CHANGED type moves the before counters out of the before type and the
 * after counters into the after type; the entry counts under the after type. */
START_TEST(test_diff_snapshots__changed_type_totals)
{
	const struct diff_case *c = &case_type_change;
	struct snapshot *b = make_snapshot(c->before, c->n_before);
	struct snapshot *a = make_snapshot(c->after, c->n_after);
	struct diff_result res;
	const struct diff_totals *heap, *priv;

	ck_assert_int_eq(diff_snapshots(b, a, &res), 0);
	heap = &res.by_type[REGION_HEAP];
	priv = &res.by_type[REGION_PRIVATE];
	ck_assert(priv->committed_delta == -0x4000);
	ck_assert(priv->resident_delta == -0x1000);
	ck_assert(priv->private_delta == -0x1000);
	ck_assert(heap->committed_delta == 0x4000);
	ck_assert(heap->resident_delta == 0x2000);
	ck_assert(heap->private_delta == 0x2000);
	ck_assert_uint_eq(heap->count[DIFF_CHANGED], 1);
	ck_assert_uint_eq(priv->count[DIFF_CHANGED], 0);
	ck_assert(res.all.committed_delta == 0);
	ck_assert(res.all.resident_delta == 0x1000);
	ck_assert_uint_eq(res.all.count[DIFF_CHANGED], 1);
	diff_result_done(&res);
	snapshot_free(b);
	snapshot_free(a);
}
END_TEST

/* NEW counts under the after type, FREED under the before type, with bytes. */
START_TEST(test_diff_snapshots__new_freed_totals)
{
	static const struct rspec before[] = {
	        {0x1000, 0x2000, REGION_MAPPED, STATE_COMMIT, P_R, 0, 0x2000, 0, 0, "/f"},
	};
	static const struct rspec after[] = {
	        {0x8000, 0x5000, REGION_STACK, STATE_COMMIT, P_RW, 0x5000, 0x1000, 0x1000, 0, NULL},
	};
	struct snapshot *b = make_snapshot(before, 1), *a = make_snapshot(after, 1);
	struct diff_result res;

	ck_assert_int_eq(diff_snapshots(b, a, &res), 0);
	ck_assert(res.by_type[REGION_MAPPED].freed_bytes == 0x2000);
	ck_assert_uint_eq(res.by_type[REGION_MAPPED].count[DIFF_FREED], 1);
	ck_assert(res.by_type[REGION_MAPPED].resident_delta == -0x2000);
	ck_assert(res.by_type[REGION_STACK].new_bytes == 0x5000);
	ck_assert_uint_eq(res.by_type[REGION_STACK].count[DIFF_NEW], 1);
	ck_assert(res.by_type[REGION_STACK].committed_delta == 0x5000);
	ck_assert(res.all.new_bytes == 0x5000 && res.all.freed_bytes == 0x2000);
	ck_assert(res.all.resident_delta == -0x1000);
	diff_result_done(&res);
	snapshot_free(b);
	snapshot_free(a);
}
END_TEST

/* ---- diff_snapshots: invalid input ------------------------------------ */

static void
expect_inval(const struct rspec *before, size_t nb, const struct rspec *after, size_t na)
{
	struct snapshot *b = make_snapshot(before, nb), *a = make_snapshot(after, na);
	struct diff_result res;

	memset(&res, 0xab, sizeof(res));
	ck_assert_int_eq(diff_snapshots(b, a, &res), MD_ERR_INVAL);
	/* Cleared on entry, so diff_result_done() is safe. */
	ck_assert_ptr_null(res.entries);
	ck_assert_uint_eq(res.n_entries, 0);
	ck_assert_uint_eq(res.all.count[DIFF_SAME], 0);
	diff_result_done(&res);
	/* The same problem on the other side. */
	memset(&res, 0xab, sizeof(res));
	ck_assert_int_eq(diff_snapshots(a, b, &res), MD_ERR_INVAL);
	ck_assert_ptr_null(res.entries);
	snapshot_free(b);
	snapshot_free(a);
}

START_TEST(test_diff_snapshots__unsorted)
{
	static const struct rspec bad[] = {
	        {0x5000, 0x1000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0, 0, 0, 0, NULL},
	        {0x1000, 0x1000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0, 0, 0, 0, NULL},
	};
	static const struct rspec ok[] = {
	        {0x1000, 0x1000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0, 0, 0, 0, NULL},
	};

	expect_inval(bad, 2, ok, 1);
}
END_TEST

START_TEST(test_diff_snapshots__overlapping)
{
	static const struct rspec bad[] = {
	        {0x1000, 0x2000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0, 0, 0, 0, NULL},
	        {0x2000, 0x1000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0, 0, 0, 0, NULL},
	};

	static const struct rspec by_one[] = {
	        {0x1000, 0x1001, REGION_PRIVATE, STATE_COMMIT, P_RW, 0, 0, 0, 0, NULL},
	        {0x2000, 0x1000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0, 0, 0, 0, NULL},
	};

	expect_inval(bad, 2, NULL, 0);
	expect_inval(by_one, 2, NULL, 0);
}
END_TEST

START_TEST(test_diff_snapshots__duplicate_base)
{
	static const struct rspec bad[] = {
	        {0x1000, 0x1000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0, 0, 0, 0, NULL},
	        {0x1000, 0x1000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0, 0, 0, 0, NULL},
	};

	expect_inval(bad, 2, NULL, 0);
}
END_TEST

START_TEST(test_diff_snapshots__wraps_address_space)
{
	static const struct rspec bad[] = {
	        {UINT64_MAX - 0xfff, 0x2000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0, 0, 0, 0, NULL},
	};

	expect_inval(bad, 1, NULL, 0);
}
END_TEST

START_TEST(test_diff_snapshots__bad_type_or_state)
{
	static const struct rspec bad_type[] = {
	        {0x1000, 0x1000, REGION_TYPE_COUNT, STATE_COMMIT, P_RW, 0, 0, 0, 0, NULL},
	};
	static const struct rspec bad_state[] = {
	        {0x1000, 0x1000, REGION_PRIVATE, STATE_COUNT, P_RW, 0, 0, 0, 0, NULL},
	};

	expect_inval(bad_type, 1, NULL, 0);
	expect_inval(bad_state, 1, NULL, 0);
}
END_TEST

START_TEST(test_diff_snapshots__null_snapshot)
{
	struct snapshot *s = make_snapshot(NULL, 0);
	struct diff_result res;

	memset(&res, 0xab, sizeof(res));
	ck_assert_int_eq(diff_snapshots(NULL, s, &res), MD_ERR_INVAL);
	ck_assert_ptr_null(res.entries);
	ck_assert_int_eq(diff_snapshots(s, NULL, &res), MD_ERR_INVAL);
	ck_assert_int_eq(diff_snapshots(s, s, NULL), MD_ERR_INVAL);
	snapshot_free(s);
}
END_TEST

/* ---- diff_snapshots: random pairs against a reference ----------------- */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static uint64_t
rng_below(uint64_t n)
{
	return n == 0 ? 0 : rng() % n;
}

/* A random counter: anything from 0 to 2^50, odd half of the time. */
static uint64_t
rng_counter(void)
{
	uint64_t v = rng() >> (14 + rng_below(50));

	return rng_below(2) ? v | 1 : v;
}

static void
random_region(struct region *r, uint64_t base, uint64_t size)
{
	static const unsigned prots[] = {P_NONE, P_R, P_RW, P_RX, P_RW | PROT_BIT_SHARED};

	test_region(r, base, size, (enum region_type)rng_below(4) + REGION_HEAP,
	            (enum region_state)rng_below(STATE_COUNT), prots[rng_below(5)], rng_counter(),
	            rng_counter(), NULL);
	r->private_resident = rng_counter();
	r->swap = rng_counter();
}

/* Regions laid out from @start in units of @unit: gaps of 0-3 units (0
 * half of the time), sizes of 1-8 units. */
static struct snapshot *
random_snapshot(uint64_t start, uint64_t unit, size_t n)
{
	struct snapshot *s = make_snapshot(NULL, 0);
	uint64_t pos = start;
	size_t i;

	for (i = 0; i < n; i++) {
		struct region r;

		if (rng_below(2))
			pos += unit * rng_below(4);
		random_region(&r, pos, unit * (1 + rng_below(8)));
		ck_assert_int_eq(snapshot_add_region(s, &r), 0);
		pos += r.size;
	}
	return s;
}

/* An after snapshot made from @b by the kinds of change a process makes:
 * unmap, split (mprotect), grow or shrink at the end, counters moving,
 * attributes changing, new mappings in the gaps. */
static struct snapshot *
mutate_snapshot(const struct snapshot *b, uint64_t unit)
{
	struct snapshot *s = make_snapshot(NULL, 0);
	size_t i;

	for (i = 0; i < b->n_regions; i++) {
		struct region r = b->regions[i];
		uint64_t limit = i + 1 < b->n_regions ? b->regions[i + 1].base : r.base + 64 * unit;
		uint64_t units = r.size / unit;
		struct region r2;

		switch (rng_below(8)) {
		case 0: /* unmapped */
			break;
		case 1: /* split in two, the second part with other attributes */
			if (units > 1) {
				uint64_t k = 1 + rng_below(units - 1);

				r2 = r;
				r.size = k * unit;
				r.committed = rng_counter();
				r2.base = r.base + r.size;
				r2.size -= r.size;
				r2.protection ^= PROT_BIT_WRITE;
				ck_assert_int_eq(snapshot_add_region(s, &r), 0);
				ck_assert_int_eq(snapshot_add_region(s, &r2), 0);
				break;
			}
			/* fall through */
		case 2: /* grown up to the next region */
			r.size = limit - r.base -
			         unit * rng_below((limit - r.base - r.size) / unit + 1);
			r.resident = rng_counter();
			ck_assert_int_eq(snapshot_add_region(s, &r), 0);
			break;
		case 3: /* shrunk */
			r.size = unit * (1 + rng_below(units));
			r.committed = rng_counter();
			ck_assert_int_eq(snapshot_add_region(s, &r), 0);
			break;
		case 4: /* counters moved */
			r.committed = rng_counter();
			r.resident = rng_counter();
			r.private_resident = rng_counter();
			r.swap = rng_counter();
			ck_assert_int_eq(snapshot_add_region(s, &r), 0);
			break;
		case 5: /* type or state changed */
			if (rng_below(2))
				r.type = (enum region_type)rng_below(REGION_FREE);
			else
				r.state = r.state == STATE_COMMIT ? STATE_RESERVE : STATE_COMMIT;
			ck_assert_int_eq(snapshot_add_region(s, &r), 0);
			break;
		default: /* untouched */
			ck_assert_int_eq(snapshot_add_region(s, &r), 0);
			break;
		}
		/* Something new in the gap after the region. */
		if (rng_below(4) == 0) {
			uint64_t from = s->n_regions > 0 ? s->regions[s->n_regions - 1].base +
			                                           s->regions[s->n_regions - 1].size
			                                 : b->regions[i].base;

			if (from < b->regions[i].base + b->regions[i].size)
				from = b->regions[i].base + b->regions[i].size;
			if (limit > from) {
				random_region(&r2, from,
				              unit * (1 + rng_below((limit - from) / unit)));
				ck_assert_int_eq(snapshot_add_region(s, &r2), 0);
			}
		}
	}
	return s;
}

static uint64_t
ref_share(uint64_t x, const struct region *r, uint64_t lo, uint64_t hi)
{
	unsigned __int128 a = (unsigned __int128)x * (hi - r->base) / r->size;
	unsigned __int128 b = (unsigned __int128)x * (lo - r->base) / r->size;

	return (uint64_t)(a - b);
}

/* The region of @s covering [lo, hi), or -1: a binary search. */
static long
ref_find(const struct snapshot *s, uint64_t lo)
{
	size_t l = 0, h = s->n_regions;

	while (l < h) {
		size_t m = l + (h - l) / 2;
		const struct region *r = &s->regions[m];

		if (lo < r->base)
			h = m;
		else if (lo >= r->base + r->size)
			l = m + 1;
		else
			return (long)m;
	}
	return -1;
}

static int
u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return (a > b) - (a < b);
}

/* Compare entry @x with the reference piece [lo, hi) of before region @ib
 * and after region @ia (-1 for none). */
static void
check_piece(const struct snapshot *b, const struct snapshot *a, const struct diff_entry *x, long ib,
            long ia, uint64_t lo, uint64_t hi)
{
	const struct region *rb = ib >= 0 ? &b->regions[ib] : NULL;
	const struct region *ra = ia >= 0 ? &a->regions[ia] : NULL;
	uint64_t bc = 0, ac = 0, br = 0, ar = 0, bp = 0, ap = 0, bs = 0, as = 0;
	enum diff_kind kind;

	ck_assert_msg(x->base == lo && x->size == hi - lo,
	              "piece 0x%" PRIx64 "+0x%" PRIx64 ", reference 0x%" PRIx64 "+0x%" PRIx64,
	              x->base, x->size, lo, hi - lo);
	ck_assert_int_eq(x->before_index, ib);
	ck_assert_int_eq(x->after_index, ia);
	if (rb != NULL) {
		bc = ref_share(rb->committed, rb, lo, hi);
		br = ref_share(rb->resident, rb, lo, hi);
		bp = ref_share(rb->private_resident, rb, lo, hi);
		bs = ref_share(rb->swap, rb, lo, hi);
	}
	if (ra != NULL) {
		ac = ref_share(ra->committed, ra, lo, hi);
		ar = ref_share(ra->resident, ra, lo, hi);
		ap = ref_share(ra->private_resident, ra, lo, hi);
		as = ref_share(ra->swap, ra, lo, hi);
	}
	ck_assert(x->committed_delta == (int64_t)(ac - bc));
	ck_assert(x->resident_delta == (int64_t)(ar - br));
	ck_assert(x->private_delta == (int64_t)(ap - bp));
	ck_assert(x->swap_delta == (int64_t)(as - bs));
	if (rb == NULL)
		kind = DIFF_NEW;
	else if (ra == NULL)
		kind = DIFF_FREED;
	else if (rb->type != ra->type || rb->state != ra->state || rb->protection != ra->protection)
		kind = DIFF_CHANGED;
	else if (ac != bc)
		kind = (int64_t)(ac - bc) > 0 ? DIFF_GREW : DIFF_SHRANK;
	else if (ar != br)
		kind = (int64_t)(ar - br) > 0 ? DIFF_GREW : DIFF_SHRANK;
	else
		kind = DIFF_SAME;
	ck_assert_msg(x->kind == kind, "kind %s, reference %s", diff_kind_name(x->kind),
	              diff_kind_name(kind));
}

/* Reference diff, built differently: sort every boundary, look up the
 * covering regions of each elementary interval by binary search, merge
 * touching intervals with the same pair, and compare with @res entry by
 * entry. */
static void
check_reference(const struct snapshot *b, const struct snapshot *a, const struct diff_result *res)
{
	size_t i, n = 0, e = 0;
	uint64_t *bound = malloc((2 * (b->n_regions + a->n_regions) + 1) * sizeof(*bound));
	long pb = -1, pa = -1;
	uint64_t start = 0, prev_hi = 0;
	int open = 0;

	ck_assert_ptr_nonnull(bound);
	for (i = 0; i < b->n_regions; i++) {
		bound[n++] = b->regions[i].base;
		bound[n++] = b->regions[i].base + b->regions[i].size;
	}
	for (i = 0; i < a->n_regions; i++) {
		bound[n++] = a->regions[i].base;
		bound[n++] = a->regions[i].base + a->regions[i].size;
	}
	qsort(bound, n, sizeof(*bound), u64_cmp);
	for (i = 0; i + 1 < n; i++) {
		uint64_t lo = bound[i], hi = bound[i + 1];
		long ib, ia;

		if (lo == hi)
			continue;
		ib = ref_find(b, lo);
		ia = ref_find(a, lo);
		if (open && (ib != pb || ia != pa || lo != prev_hi)) {
			ck_assert_msg(e < res->n_entries, "fewer entries than the reference");
			check_piece(b, a, &res->entries[e++], pb, pa, start, prev_hi);
			open = 0;
		}
		if (ib < 0 && ia < 0)
			continue;
		if (!open) {
			pb = ib;
			pa = ia;
			start = lo;
			open = 1;
		}
		prev_hi = hi;
	}
	if (open) {
		ck_assert_msg(e < res->n_entries, "fewer entries than the reference");
		check_piece(b, a, &res->entries[e++], pb, pa, start, prev_hi);
	}
	ck_assert_uint_eq(e, res->n_entries);
	free(bound);
}

START_TEST(test_diff_snapshots__random_exact_sums)
{
	uint64_t seed = 0x6d656d64656c7461ull; /* fixed: failures reproduce */
	int pair;

	for (pair = 0; pair < 1000; pair++) {
		uint64_t unit;
		struct snapshot *b, *a;
		struct diff_result res;
		char what[64];

		rng_state = seed + (uint64_t)pair * 0x9E3779B97F4A7C15ull;
		rng();
		/* Units from 4 KiB to 2^40: the products need 128 bits. */
		unit = 1ull << (12 + rng_below(29));
		b = random_snapshot(unit * (1 + rng_below(4)), unit, rng_below(25));
		if (rng_below(4) == 0)
			a = random_snapshot(unit * (1 + rng_below(4)), unit, rng_below(25));
		else
			a = mutate_snapshot(b, unit);
		snprintf(what, sizeof(what), "pair %d", pair);
		ck_assert_int_eq(diff_snapshots(b, a, &res), 0);
		check_invariants(b, a, &res, what);
		check_reference(b, a, &res);
		diff_result_done(&res);
		snapshot_free(b);
		snapshot_free(a);
	}
}
END_TEST

/* ---- diff_result_done, diff_kind_name --------------------------------- */

START_TEST(test_diff_result_done__cleared_and_twice)
{
	struct diff_result res;
	struct snapshot *s = make_snapshot(case_identical.before, case_identical.n_before);

	memset(&res, 0, sizeof(res));
	diff_result_done(&res);
	diff_result_done(NULL);
	ck_assert_int_eq(diff_snapshots(s, s, &res), 0);
	ck_assert_ptr_nonnull(res.entries);
	diff_result_done(&res);
	ck_assert_ptr_null(res.entries);
	ck_assert_uint_eq(res.n_entries, 0);
	ck_assert_uint_eq(res.all.count[DIFF_SAME], 0);
	diff_result_done(&res);
	snapshot_free(s);
}
END_TEST

START_TEST(test_diff_kind_name__all)
{
	ck_assert_str_eq(diff_kind_name(DIFF_SAME), "same");
	ck_assert_str_eq(diff_kind_name(DIFF_NEW), "new");
	ck_assert_str_eq(diff_kind_name(DIFF_FREED), "freed");
	ck_assert_str_eq(diff_kind_name(DIFF_GREW), "grew");
	ck_assert_str_eq(diff_kind_name(DIFF_SHRANK), "shrank");
	ck_assert_str_eq(diff_kind_name(DIFF_CHANGED), "changed");
	ck_assert_str_eq(diff_kind_name(DIFF_KIND_COUNT), "unknown");
	ck_assert_str_eq(diff_kind_name((enum diff_kind) - 1), "unknown");
}
END_TEST

/* ---- diff_to_json ----------------------------------------------------- */

#define LIB 0x7ffff7a00000ull

static const struct rspec json_before[] = {
        {0x400000, 0x1000, REGION_IMAGE, STATE_COMMIT, P_RX, 0, 0x1000, 0, 0, "/usr/bin/leaky"},
        {LIB, 0x2000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0x2000, 0x1000, 0x1000, 0, NULL},
        {LIB + 0x200000, 0x1000, REGION_MAPPED, STATE_COMMIT, P_R, 0, 0x1000, 0, 0,
         "/tmp/data file"},
};
static const struct rspec json_after[] = {
        {0x400000, 0x1000, REGION_IMAGE, STATE_COMMIT, P_RX, 0, 0x1000, 0, 0, "/usr/bin/leaky"},
        {LIB, 0x2000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0x2000, 0x2000, 0x2000, 0x1000, NULL},
        {LIB + 0x400000, 0x3000, REGION_HEAP, STATE_COMMIT, P_RW, 0x3000, 0x2000, 0x2000, 0,
         "[heap]"},
};

struct json_fixture {
	struct snapshot *b, *a;
	struct diff_result res;
};

static void
json_fixture_init(struct json_fixture *f)
{
	f->b = make_snapshot(json_before, 3);
	f->a = make_snapshot(json_after, 3);
	f->b->pid = f->a->pid = 4242;
	f->b->start_time = f->a->start_time = 123456;
	f->a->start_time_ms = 1699999990000;
	f->b->time_ms = 1700000000000;
	f->a->time_ms = 1700000060000;
	snprintf(f->b->name, sizeof(f->b->name), "leaky");
	snprintf(f->a->name, sizeof(f->a->name), "leaky");
	f->a->flags = SNAPSHOT_TRUNCATED;
	ck_assert_int_eq(diff_snapshots(f->b, f->a, &f->res), 0);
}

static void
json_fixture_done(struct json_fixture *f)
{
	diff_result_done(&f->res);
	snapshot_free(f->b);
	snapshot_free(f->a);
}

/* Build, print and parse back, as a consumer of the API sees it. */
static cJSON *
json_round_trip(struct json_fixture *f, unsigned flags)
{
	cJSON *tree = NULL, *parsed;
	char *text;

	ck_assert_int_eq(diff_to_json(f->b, f->a, &f->res, flags, &tree), 0);
	ck_assert_ptr_nonnull(tree);
	text = cJSON_PrintUnformatted(tree);
	ck_assert_ptr_nonnull(text);
	cJSON_Delete(tree);
	parsed = cJSON_Parse(text);
	ck_assert_msg(parsed != NULL, "output does not parse: %s", text);
	free(text);
	return parsed;
}

/* Member @key of @o as a number: a parsed number, or in a tree straight
 * from diff_to_json() a raw item holding decimal text. */
static double
num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsRaw(v))
		return strtod(v->valuestring, NULL);
	ck_assert_msg(cJSON_IsNumber(v), "member %s missing or not a number", key);
	return v->valuedouble;
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	ck_assert_msg(cJSON_IsString(v), "member %s missing or not a string", key);
	return v->valuestring;
}

static int
has(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key) != NULL;
}

/* Every member of @o is one of the NULL-terminated @allowed. */
static void
only_members(const cJSON *o, const char *const *allowed)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, o)
	{
		size_t i;
		int ok = 0;

		for (i = 0; allowed[i] != NULL; i++)
			ok |= strcmp(m->string, allowed[i]) == 0;
		ck_assert_msg(ok, "unexpected member %s", m->string);
	}
}

static const char *const entry_members[] = {"kind",           "base",
                                            "size",           "type",
                                            "before_type",    "committed_delta",
                                            "resident_delta", "private_delta",
                                            "swap_delta",     "state",
                                            "protection",     "detail",
                                            "before_state",   "before_protection",
                                            "before_detail",  NULL};
static const char *const totals_members[] = {"new_bytes",
                                             "freed_bytes",
                                             "committed_delta",
                                             "resident_delta",
                                             "private_delta",
                                             "swap_delta",
                                             "new",
                                             "freed",
                                             "grew",
                                             "shrank",
                                             "changed",
                                             "same",
                                             NULL};

START_TEST(test_diff_to_json__members_and_values)
{
	static const char *const identity_members[] = {
	        "pid", "start_time", "start_time_ms", "name", "time", "truncated", NULL};
	struct json_fixture f;
	cJSON *j, *o, *ent, *e, *types, *t;
	int n;

	json_fixture_init(&f);
	j = json_round_trip(&f, 0);

	o = cJSON_GetObjectItemCaseSensitive(j, "before");
	ck_assert(cJSON_IsObject(o));
	only_members(o, identity_members);
	ck_assert(num(o, "pid") == 4242);
	ck_assert(num(o, "start_time") == 123456);
	ck_assert(!has(o, "start_time_ms")); /* unknown: absent */
	ck_assert(!has(o, "snapshot"));
	ck_assert_str_eq(str(o, "name"), "leaky");
	ck_assert(num(o, "time") == 1700000000000.0);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "truncated")));
	o = cJSON_GetObjectItemCaseSensitive(j, "after");
	ck_assert(cJSON_IsObject(o));
	ck_assert(num(o, "time") == 1700000060000.0);
	ck_assert(num(o, "start_time_ms") == 1699999990000.0);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "truncated")));

	/* totals.all */
	o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "totals"), "all");
	ck_assert(cJSON_IsObject(o));
	only_members(o, totals_members);
	ck_assert(num(o, "new_bytes") == 0x3000);
	ck_assert(num(o, "freed_bytes") == 0x1000);
	ck_assert(num(o, "committed_delta") == 0x3000);
	ck_assert(num(o, "resident_delta") == 0x2000);
	ck_assert(num(o, "private_delta") == 0x3000);
	ck_assert(num(o, "swap_delta") == 0x1000);
	ck_assert(num(o, "new") == 1 && num(o, "freed") == 1 && num(o, "grew") == 1);
	ck_assert(num(o, "shrank") == 0 && num(o, "changed") == 0);
	ck_assert(num(o, "same") == 1); /* counted even when not listed */

	/* totals.types: all ten, in display order */
	types = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "totals"),
	                                         "types");
	ck_assert(cJSON_IsObject(types));
	ck_assert_int_eq(cJSON_GetArraySize(types), REGION_TYPE_COUNT);
	n = 0;
	cJSON_ArrayForEach(t, types)
	{
		ck_assert_str_eq(t->string, region_type_name((enum region_type)n));
		only_members(t, totals_members);
		n++;
	}
	t = cJSON_GetObjectItemCaseSensitive(types, "heap");
	ck_assert(num(t, "new") == 1 && num(t, "new_bytes") == 0x3000);
	ck_assert(num(t, "committed_delta") == 0x3000);
	t = cJSON_GetObjectItemCaseSensitive(types, "mapped");
	ck_assert(num(t, "freed") == 1 && num(t, "freed_bytes") == 0x1000);
	ck_assert(num(t, "resident_delta") == -0x1000);
	t = cJSON_GetObjectItemCaseSensitive(types, "private");
	ck_assert(num(t, "grew") == 1 && num(t, "resident_delta") == 0x1000);
	t = cJSON_GetObjectItemCaseSensitive(types, "image");
	ck_assert(num(t, "same") == 1 && num(t, "resident_delta") == 0);

	/* entries: SAME left out */
	ent = cJSON_GetObjectItemCaseSensitive(j, "entries");
	ck_assert(cJSON_IsArray(ent));
	ck_assert_int_eq(cJSON_GetArraySize(ent), 3);
	cJSON_ArrayForEach(e, ent) only_members(e, entry_members);

	e = cJSON_GetArrayItem(ent, 0);
	ck_assert_str_eq(str(e, "kind"), "grew");
	ck_assert(num(e, "base") == (double)LIB); /* above 2^32, exact */
	ck_assert(num(e, "size") == 0x2000);
	ck_assert_str_eq(str(e, "type"), "private");
	ck_assert_str_eq(str(e, "before_type"), "private");
	ck_assert(num(e, "committed_delta") == 0);
	ck_assert(num(e, "resident_delta") == 0x1000);
	ck_assert(num(e, "private_delta") == 0x1000);
	ck_assert(num(e, "swap_delta") == 0x1000);
	ck_assert_str_eq(str(e, "state"), "commit");
	ck_assert_str_eq(str(e, "protection"), "rw-p");
	ck_assert_str_eq(str(e, "detail"), "");
	ck_assert_str_eq(str(e, "before_state"), "commit");
	ck_assert_str_eq(str(e, "before_protection"), "rw-p");
	ck_assert_str_eq(str(e, "before_detail"), "");

	e = cJSON_GetArrayItem(ent, 1);
	ck_assert_str_eq(str(e, "kind"), "freed");
	ck_assert(num(e, "base") == (double)(LIB + 0x200000));
	ck_assert(num(e, "size") == 0x1000);
	ck_assert_str_eq(str(e, "type"), "mapped");
	ck_assert_str_eq(str(e, "before_type"), "mapped");
	ck_assert(num(e, "resident_delta") == -0x1000);
	ck_assert_str_eq(str(e, "protection"), "r--p");
	ck_assert_str_eq(str(e, "detail"), "/tmp/data file");
	ck_assert(!has(e, "before_protection") && !has(e, "before_state") &&
	          !has(e, "before_detail"));

	e = cJSON_GetArrayItem(ent, 2);
	ck_assert_str_eq(str(e, "kind"), "new");
	ck_assert(num(e, "base") == (double)(LIB + 0x400000));
	ck_assert(num(e, "size") == 0x3000);
	ck_assert_str_eq(str(e, "type"), "heap");
	ck_assert_str_eq(str(e, "before_type"), "heap");
	ck_assert(num(e, "committed_delta") == 0x3000);
	ck_assert(num(e, "resident_delta") == 0x2000);
	ck_assert_str_eq(str(e, "detail"), "[heap]");
	ck_assert(!has(e, "before_protection"));

	cJSON_Delete(j);
	json_fixture_done(&f);
}
END_TEST

START_TEST(test_diff_to_json__include_same)
{
	struct json_fixture f;
	cJSON *j, *ent, *e;

	json_fixture_init(&f);
	j = json_round_trip(&f, DIFF_JSON_INCLUDE_SAME);
	ent = cJSON_GetObjectItemCaseSensitive(j, "entries");
	ck_assert_int_eq(cJSON_GetArraySize(ent), 4);
	e = cJSON_GetArrayItem(ent, 0);
	ck_assert_str_eq(str(e, "kind"), "same");
	ck_assert(num(e, "base") == 0x400000);
	ck_assert_str_eq(str(e, "type"), "image");
	ck_assert_str_eq(str(e, "protection"), "r-xp");
	ck_assert_str_eq(str(e, "detail"), "/usr/bin/leaky");
	ck_assert_str_eq(str(e, "before_detail"), "/usr/bin/leaky");
	ck_assert(num(e, "resident_delta") == 0);
	ck_assert_str_eq(str(cJSON_GetArrayItem(ent, 1), "kind"), "grew");
	cJSON_Delete(j);
	json_fixture_done(&f);
}
END_TEST

START_TEST(test_diff_to_json__changed_before_members)
{
	const struct diff_case *c = &case_reserve_to_commit;
	struct json_fixture f;
	cJSON *tree = NULL, *e;

	f.b = make_snapshot(c->before, c->n_before);
	f.a = make_snapshot(c->after, c->n_after);
	ck_assert_int_eq(diff_snapshots(f.b, f.a, &f.res), 0);
	ck_assert_int_eq(diff_to_json(f.b, f.a, &f.res, 0, &tree), 0);
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(tree, "entries"), 0);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tree, "entries")), 1);
	ck_assert_str_eq(str(e, "kind"), "changed");
	ck_assert(num(e, "base") == (double)(ARENA + 0x21000));
	ck_assert(num(e, "committed_delta") == 0x21000);
	ck_assert_str_eq(str(e, "state"), "commit");
	ck_assert_str_eq(str(e, "before_state"), "reserve");
	ck_assert_str_eq(str(e, "protection"), "rw-p");
	ck_assert_str_eq(str(e, "before_protection"), "---p");
	cJSON_Delete(tree);
	json_fixture_done(&f);
}
END_TEST

/* Integers above 2^53 come out exact, as plain digits: the [vsyscall] page
 * and a Windows FILETIME start stamp; negative deltas with a '-'. */
START_TEST(test_diff_to_json__exact_integers)
{
	static const struct rspec regions_b[] = {
	        {0x1000, 0x1000, REGION_PRIVATE, STATE_COMMIT, P_RW, 0x1000, 0x1000, 0, 0, NULL},
	        {0xffffffffff600000ull, 0x1000, REGION_IMAGE, STATE_COMMIT, PROT_BIT_EXEC, 0, 0, 0,
	         0, "[vsyscall]"},
	};
	static const struct rspec regions_a[] = {
	        {0xffffffffff600000ull, 0x1000, REGION_IMAGE, STATE_COMMIT, PROT_BIT_EXEC, 0, 0, 0,
	         0, "[vsyscall]"},
	};
	struct json_fixture f;
	cJSON *tree = NULL, *e;
	char *text;

	f.b = make_snapshot(regions_b, 2);
	f.a = make_snapshot(regions_a, 1);
	f.b->start_time = f.a->start_time = 133000000000000001ull; /* not a double */
	ck_assert_int_eq(diff_snapshots(f.b, f.a, &f.res), 0);
	ck_assert_int_eq(diff_to_json(f.b, f.a, &f.res, DIFF_JSON_INCLUDE_SAME, &tree), 0);
	/* In the tree: raw decimal text, exact. */
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(tree, "entries"), 1);
	ck_assert(cJSON_IsRaw(cJSON_GetObjectItemCaseSensitive(e, "base")));
	ck_assert(strtoull(cJSON_GetObjectItemCaseSensitive(e, "base")->valuestring, NULL, 10) ==
	          0xffffffffff600000ull);
	text = cJSON_PrintUnformatted(tree);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "\"base\":18446744073699065856,") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "\"start_time\":133000000000000001,") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "\"committed_delta\":-4096,") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "\"base\":4096,") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "e+") == NULL, "no exponent: %s", text);
	free(text);
	cJSON_Delete(tree);
	json_fixture_done(&f);
}
END_TEST

START_TEST(test_diff_to_json__empty_diff)
{
	struct json_fixture f;
	cJSON *tree = NULL, *ent;

	f.b = make_snapshot(NULL, 0);
	f.a = make_snapshot(NULL, 0);
	ck_assert_int_eq(diff_snapshots(f.b, f.a, &f.res), 0);
	ck_assert_int_eq(diff_to_json(f.b, f.a, &f.res, DIFF_JSON_INCLUDE_SAME, &tree), 0);
	ent = cJSON_GetObjectItemCaseSensitive(tree, "entries");
	ck_assert(cJSON_IsArray(ent));
	ck_assert_int_eq(cJSON_GetArraySize(ent), 0);
	ck_assert(num(cJSON_GetObjectItemCaseSensitive(
	                      cJSON_GetObjectItemCaseSensitive(tree, "totals"), "all"),
	              "new") == 0);
	cJSON_Delete(tree);
	json_fixture_done(&f);
}
END_TEST

START_TEST(test_diff_to_json__mismatched_result)
{
	struct json_fixture f;
	struct snapshot *empty = make_snapshot(NULL, 0);
	cJSON *tree = (cJSON *)&f; /* must be cleared */

	json_fixture_init(&f);
	/* The result refers to regions the given snapshots do not have. */
	ck_assert_int_eq(diff_to_json(empty, empty, &f.res, 0, &tree), MD_ERR_INVAL);
	ck_assert_ptr_null(tree);
	ck_assert_int_eq(diff_to_json(f.b, f.a, NULL, 0, &tree), MD_ERR_INVAL);
	snapshot_free(empty);
	json_fixture_done(&f);
}
END_TEST

/* Out of memory at every allocation in turn: MD_ERR_NOMEM, nothing leaked
 * (the sanitizer build checks), *out NULL. */
static long fail_after;

static void *
failing_malloc(size_t n)
{
	if (fail_after-- <= 0)
		return NULL;
	return malloc(n);
}

START_TEST(test_diff_to_json__out_of_memory)
{
	cJSON_Hooks hooks = {failing_malloc, free};
	struct json_fixture f;
	cJSON *tree;
	long limit;
	int rc = MD_ERR_NOMEM;

	json_fixture_init(&f);
	for (limit = 0; limit < 10000 && rc != 0; limit++) {
		tree = (cJSON *)&f;
		fail_after = limit;
		cJSON_InitHooks(&hooks);
		rc = diff_to_json(f.b, f.a, &f.res, DIFF_JSON_INCLUDE_SAME, &tree);
		cJSON_InitHooks(NULL);
		if (rc != 0) {
			ck_assert_int_eq(rc, MD_ERR_NOMEM);
			ck_assert_ptr_null(tree);
		}
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_gt(limit, 50); /* the failures were really exercised */
	cJSON_Delete(tree);
	json_fixture_done(&f);
}
END_TEST

static Suite *
diff_suite(void)
{
	Suite *s = suite_create("diff");
	TCase *tc;

	tc = tcase_create("diff_snapshots");
	tcase_add_test(tc, test_diff_snapshots__identical);
	tcase_add_test(tc, test_diff_snapshots__identical_totals_zero);
	tcase_add_test(tc, test_diff_snapshots__new_region);
	tcase_add_test(tc, test_diff_snapshots__freed_region);
	tcase_add_test(tc, test_diff_snapshots__heap_brk_grew);
	tcase_add_test(tc, test_diff_snapshots__heap_brk_same);
	tcase_add_test(tc, test_diff_snapshots__mprotect_split);
	tcase_add_test(tc, test_diff_snapshots__merge);
	tcase_add_test(tc, test_diff_snapshots__type_change);
	tcase_add_test(tc, test_diff_snapshots__reserve_to_commit);
	tcase_add_test(tc, test_diff_snapshots__moved);
	tcase_add_test(tc, test_diff_snapshots__empty_before);
	tcase_add_test(tc, test_diff_snapshots__empty_after);
	tcase_add_test(tc, test_diff_snapshots__both_empty);
	tcase_add_test(tc, test_diff_snapshots__zero_size);
	tcase_add_test(tc, test_diff_snapshots__changed_type_totals);
	tcase_add_test(tc, test_diff_snapshots__new_freed_totals);
	tcase_add_test(tc, test_diff_snapshots__unsorted);
	tcase_add_test(tc, test_diff_snapshots__overlapping);
	tcase_add_test(tc, test_diff_snapshots__duplicate_base);
	tcase_add_test(tc, test_diff_snapshots__wraps_address_space);
	tcase_add_test(tc, test_diff_snapshots__bad_type_or_state);
	tcase_add_test(tc, test_diff_snapshots__null_snapshot);
	tcase_add_test(tc, test_diff_snapshots__random_exact_sums);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("diff_result_done");
	tcase_add_test(tc, test_diff_result_done__cleared_and_twice);
	suite_add_tcase(s, tc);

	tc = tcase_create("diff_kind_name");
	tcase_add_test(tc, test_diff_kind_name__all);
	suite_add_tcase(s, tc);

	tc = tcase_create("diff_to_json");
	tcase_add_test(tc, test_diff_to_json__members_and_values);
	tcase_add_test(tc, test_diff_to_json__include_same);
	tcase_add_test(tc, test_diff_to_json__changed_before_members);
	tcase_add_test(tc, test_diff_to_json__exact_integers);
	tcase_add_test(tc, test_diff_to_json__empty_diff);
	tcase_add_test(tc, test_diff_to_json__mismatched_result);
	tcase_add_test(tc, test_diff_to_json__out_of_memory);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(diff_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
