/*
 * diff.c - the region diff (see diff.h).  Both snapshots' region arrays are
 * swept together by address, as VMMap compares two snapshots: the address
 * space is cut at every region boundary of either side, and each piece
 * between two consecutive boundaries that one side or both cover becomes an
 * entry that names its before region and its after region.  A region cut
 * into pieces hands its counters out in proportion to each piece's length;
 * the rounding telescopes (the share of piece [a,b) is floor(x*(b-base)/size)
 * - floor(x*(a-base)/size)), so the shares of one region add up exactly to
 * its counter and the sum of every entry's delta is exactly the difference of
 * the two snapshots' region totals.  Input that is not sorted, overlaps,
 * wraps past 2^64 or has an out-of-range type or state is MD_ERR_INVAL;
 * zero-size regions cover nothing and are skipped.  Pure: no I/O, no clock,
 * no logging, and one allocation.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "diff/diff.h"

static const char *const kind_names[DIFF_KIND_COUNT] = {
        "same", "new", "freed", "grew", "shrank", "changed",
};

const char *
diff_kind_name(enum diff_kind k)
{
	return (unsigned)k < DIFF_KIND_COUNT ? kind_names[k] : "unknown";
}

/* Check that @s's regions are sorted by base, do not overlap, do not wrap
 * past the top of the address space and carry valid types and states.
 * Zero-size regions are accepted (they cover nothing and are skipped). */
static int
check_regions(const struct snapshot *s)
{
	uint64_t prev_end = 0;
	size_t i;

	if (s->n_regions > 0 && s->regions == NULL)
		return MD_ERR_INVAL;
	for (i = 0; i < s->n_regions; i++) {
		const struct region *r = &s->regions[i];

		if ((unsigned)r->type >= REGION_TYPE_COUNT || (unsigned)r->state >= STATE_COUNT)
			return MD_ERR_INVAL;
		if (r->size > UINT64_MAX - r->base)
			return MD_ERR_INVAL;
		if (i > 0 && r->base < prev_end)
			return MD_ERR_INVAL;
		prev_end = r->base + r->size;
	}
	return 0;
}

/* The share of counter @x of region @r that falls in [a, b), a range inside
 * the region.  Telescoping: the shares of consecutive pieces sum to @x. */
static uint64_t
share(uint64_t x, const struct region *r, uint64_t a, uint64_t b)
{
	unsigned __int128 hi, lo;
	uint64_t p;

	if (a == r->base && b == r->base + r->size)
		return x;
	/* Fast path: both products fit in 64 bits (b - base is the larger). */
	if (!__builtin_mul_overflow(x, b - r->base, &p))
		return p / r->size - x * (a - r->base) / r->size;
	hi = (unsigned __int128)x * (b - r->base) / r->size;
	lo = (unsigned __int128)x * (a - r->base) / r->size;
	return (uint64_t)(hi - lo);
}

/* The counters of one side of a piece (zero when that side is absent). */
struct piece_counters {
	uint64_t committed;
	uint64_t resident;
	uint64_t private_resident;
	uint64_t swap;
};

static void
piece_counters(const struct region *r, uint64_t a, uint64_t b, struct piece_counters *c)
{
	memset(c, 0, sizeof(*c));
	if (r == NULL)
		return;
	c->committed = share(r->committed, r, a, b);
	c->resident = share(r->resident, r, a, b);
	c->private_resident = share(r->private_resident, r, a, b);
	c->swap = share(r->swap, r, a, b);
}

/* after - before as a signed delta.  The unsigned difference wraps modulo
 * 2^64, so sums of deltas stay exact even if a counter were above 2^63. */
static int64_t
delta(uint64_t after, uint64_t before)
{
	return (int64_t)(after - before);
}

static void
totals_add_side(struct diff_totals *t, const struct piece_counters *c, int sign)
{
	/* Unsigned arithmetic so the totals wrap like the deltas instead of
	 * overflowing a signed integer. */
	if (sign > 0) {
		t->committed_delta = (int64_t)((uint64_t)t->committed_delta + c->committed);
		t->resident_delta = (int64_t)((uint64_t)t->resident_delta + c->resident);
		t->private_delta = (int64_t)((uint64_t)t->private_delta + c->private_resident);
		t->swap_delta = (int64_t)((uint64_t)t->swap_delta + c->swap);
	} else {
		t->committed_delta = (int64_t)((uint64_t)t->committed_delta - c->committed);
		t->resident_delta = (int64_t)((uint64_t)t->resident_delta - c->resident);
		t->private_delta = (int64_t)((uint64_t)t->private_delta - c->private_resident);
		t->swap_delta = (int64_t)((uint64_t)t->swap_delta - c->swap);
	}
}

static void
totals_count(struct diff_totals *t, const struct diff_entry *e)
{
	t->count[e->kind]++;
	if (e->kind == DIFF_NEW)
		t->new_bytes += e->size;
	else if (e->kind == DIFF_FREED)
		t->freed_bytes += e->size;
}

static enum diff_kind
classify(const struct region *b, const struct region *a, const struct diff_entry *e)
{
	if (b == NULL)
		return DIFF_NEW;
	if (a == NULL)
		return DIFF_FREED;
	if (a->type != b->type || a->state != b->state || a->protection != b->protection)
		return DIFF_CHANGED;
	if (e->committed_delta > 0)
		return DIFF_GREW;
	if (e->committed_delta < 0)
		return DIFF_SHRANK;
	if (e->resident_delta > 0)
		return DIFF_GREW;
	if (e->resident_delta < 0)
		return DIFF_SHRANK;
	return DIFF_SAME;
}

/* Record the piece [lo, hi) covered by before region @bi and/or after region
 * @ai (-1 for none) as entry @e and add it to the totals of @res. */
static void
emit(const struct snapshot *before, const struct snapshot *after, long bi, long ai, uint64_t lo,
     uint64_t hi, struct diff_entry *e, struct diff_result *res)
{
	const struct region *b = bi >= 0 ? &before->regions[bi] : NULL;
	const struct region *a = ai >= 0 ? &after->regions[ai] : NULL;
	struct piece_counters bc, ac;
	struct diff_totals *bt, *at;

	piece_counters(b, lo, hi, &bc);
	piece_counters(a, lo, hi, &ac);
	memset(e, 0, sizeof(*e));
	e->base = lo;
	e->size = hi - lo;
	e->before_index = bi;
	e->after_index = ai;
	e->type = a != NULL ? a->type : b->type;
	e->before_type = b != NULL ? b->type : a->type;
	e->committed_delta = delta(ac.committed, bc.committed);
	e->resident_delta = delta(ac.resident, bc.resident);
	e->private_delta = delta(ac.private_resident, bc.private_resident);
	e->swap_delta = delta(ac.swap, bc.swap);
	e->kind = classify(b, a, e);

	/* The before side's counters leave the before type, the after
	 * side's arrive in the after type; the entry counts once, under its
	 * (after, or for FREED before) type. */
	bt = &res->by_type[e->before_type];
	at = &res->by_type[e->type];
	totals_add_side(bt, &bc, -1);
	totals_add_side(at, &ac, +1);
	totals_add_side(&res->all, &bc, -1);
	totals_add_side(&res->all, &ac, +1);
	totals_count(at, e);
	totals_count(&res->all, e);
}

int
diff_snapshots(const struct snapshot *before, const struct snapshot *after, struct diff_result *out)
{
	struct diff_result res;
	size_t nb, na, i = 0, j = 0, cap, limit, n = 0;
	uint64_t pos = 0;
	int rc;

	if (out == NULL)
		return MD_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	memset(&res, 0, sizeof(res));
	if (before == NULL || after == NULL) {
		rc = MD_ERR_INVAL;
		goto out;
	}
	rc = check_regions(before);
	if (rc == 0)
		rc = check_regions(after);
	if (rc != 0)
		goto out;

	nb = before->n_regions;
	na = after->n_regions;
	/* Every entry ends at a distinct region boundary (a base or an end)
	 * of one side: at most 2 * (nb + na) of them. */
	limit = (SIZE_MAX / sizeof(*res.entries) - 1) / 2;
	if (na > limit || nb > limit - na) {
		rc = MD_ERR_NOMEM;
		goto out;
	}
	cap = 2 * (nb + na) + 1;
	if (nb + na > 0) {
		res.entries = malloc(cap * sizeof(*res.entries));
		if (res.entries == NULL) {
			rc = MD_ERR_NOMEM;
			goto out;
		}
	}

	for (;;) {
		const struct region *b, *a;
		int in_b, in_a;
		uint64_t end;

		/* Zero-size regions cover no address: skip them. */
		while (i < nb && before->regions[i].size == 0)
			i++;
		while (j < na && after->regions[j].size == 0)
			j++;
		b = i < nb ? &before->regions[i] : NULL;
		a = j < na ? &after->regions[j] : NULL;
		if (b == NULL && a == NULL)
			break;
		/* Invariant: pos never lies past the end of b or a. */
		in_b = b != NULL && b->base <= pos;
		in_a = a != NULL && a->base <= pos;
		if (!in_b && !in_a) {
			/* A gap in both: jump to the next base. */
			if (b != NULL && (a == NULL || b->base <= a->base))
				pos = b->base;
			else
				pos = a->base;
			continue;
		}
		/* The piece ends at the nearest boundary ahead of pos. */
		end = UINT64_MAX;
		if (b != NULL)
			end = in_b ? b->base + b->size : b->base;
		if (a != NULL) {
			uint64_t ae = in_a ? a->base + a->size : a->base;

			if (ae < end)
				end = ae;
		}
		emit(before, after, in_b ? (long)i : -1, in_a ? (long)j : -1, pos, end,
		     &res.entries[n], &res);
		n++;
		pos = end;
		if (in_b && pos == b->base + b->size)
			i++;
		if (in_a && pos == a->base + a->size)
			j++;
	}
	res.n_entries = n;
	*out = res;
	res.entries = NULL;
	rc = 0;
out:
	free(res.entries);
	return rc;
}

void
diff_result_done(struct diff_result *r)
{
	if (r == NULL)
		return;
	free(r->entries);
	memset(r, 0, sizeof(*r));
}
