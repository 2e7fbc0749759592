/*
 * diff.h - pure comparison of two snapshots (ARCHITECTURE.md, "Diff").
 *
 * diff_snapshots() works on address ranges, as VMMap does.  It sweeps both
 * sorted region arrays and cuts the address space at every region boundary
 * of either snapshot; each maximal range with the same (before region, after
 * region) pair becomes one entry:
 *   NEW     covered only in @after (green) - even when the kernel merged the
 *           new range into an existing VMA;
 *   FREED   covered only in @before (red);
 *   CHANGED covered in both, type, state or protection differ;
 *   GREW / SHRANK  covered in both, committed (or, if equal, resident) bytes
 *           moved (amber);
 *   SAME    covered in both, nothing moved.
 * Counters of a region cut into pieces are shared out in proportion to the
 * piece's length with telescoping rounding, so the deltas of all entries add
 * up exactly to the difference of the totals.  No I/O, no clock; memory is
 * one allocation bounded by 2 * (n_before + n_after) + 1 entries.
 */
#ifndef MEMDELTA_DIFF_H
#define MEMDELTA_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapshot.h"

enum diff_kind {
	DIFF_SAME = 0,
	DIFF_NEW,
	DIFF_FREED,
	DIFF_GREW,
	DIFF_SHRANK,
	DIFF_CHANGED,
	DIFF_KIND_COUNT
};

struct diff_entry {
	enum diff_kind kind;
	uint64_t base; /* the address range this entry covers */
	uint64_t size;
	long before_index;            /* index into before->regions, -1 for NEW */
	long after_index;             /* index into after->regions, -1 for FREED */
	enum region_type type;        /* the after type (before type for FREED) */
	enum region_type before_type; /* the before type (after type for NEW) */
	int64_t committed_delta;      /* bytes, after - before, for this range */
	int64_t resident_delta;
	int64_t private_delta; /* private resident */
	int64_t swap_delta;
};

struct diff_totals {
	uint64_t new_bytes;   /* size of NEW ranges */
	uint64_t freed_bytes; /* size of FREED ranges */
	int64_t committed_delta;
	int64_t resident_delta;
	int64_t private_delta;
	int64_t swap_delta;
	uint64_t count[DIFF_KIND_COUNT]; /* entries of each kind */
};

struct diff_result {
	struct diff_entry *entries; /* sorted by base; SAME entries included */
	size_t n_entries;
	/* Per type: NEW counts under the after type, FREED under the before
	 * type, a CHANGED type moves -before to the before type and +after to
	 * the after type. */
	struct diff_totals by_type[REGION_TYPE_COUNT];
	struct diff_totals all;
};

/* Compare @before with @after (both sorted, non-overlapping).  Returns 0 and
 * fills *out (cleared first), or MD_ERR_NOMEM / MD_ERR_INVAL (unsorted or
 * overlapping input).  Release with diff_result_done(). */
int diff_snapshots(const struct snapshot *before, const struct snapshot *after,
                   struct diff_result *out);
/* Free what diff_snapshots() allocated; safe on a cleared or failed result. */
void diff_result_done(struct diff_result *r);

/* "same", "new", "freed", "grew", "shrank", "changed". */
const char *diff_kind_name(enum diff_kind k);

#endif
