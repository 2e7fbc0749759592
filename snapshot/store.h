/*
 * store.h - SQLite storage of snapshots (ARCHITECTURE.md, "Storage").
 *
 * One database file in WAL mode, schema version in PRAGMA user_version with
 * stepwise migrations.  Regions are stored as versions: a version row is
 * written when a region appears or one of its stable attributes (base, size,
 * allocation base, type, state, protection, committed, detail) changes, and
 * closed when it disappears.  Volatile counters (resident, private and shared
 * resident, pss, swap, locked) are written per snapshot only for versions
 * whose counters changed since that instance's previous snapshot.  Totals by
 * type x state are a small table of their own.  A snapshot and all its rows
 * are one transaction.  Any snapshot is rebuilt exactly by store_get_snapshot.
 *
 * A store opened read-write is the single writer; open any number of
 * STORE_READONLY handles (one per thread) for readers.  A handle is used by
 * one thread at a time.
 */
#ifndef MEMDELTA_STORE_H
#define MEMDELTA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapshot.h"

struct store;

enum {
	STORE_READONLY = 1u << 0,
};

/* Open (and create or migrate, unless read-only) the database at @path.
 * Returns 0 and *out, or MD_ERR_DB / MD_ERR_IO / MD_ERR_PERM / MD_ERR_NOMEM
 * (with *out NULL). */
int store_open(const char *path, unsigned flags, struct store **out);
/* Close; NULL is fine. */
void store_close(struct store *st);
/* The last SQLite error message of @st (static until the next call).  With
 * @st NULL: why the last store_open() of this thread failed. */
const char *store_errmsg(struct store *st);

/* Find or create the target called @name ("pid:1234", "java", ...).
 * Returns 0 and *target_id; MD_ERR_INVAL when @name is empty or longer than
 * 255 bytes; on a read-only store MD_ERR_NOTFOUND when there is none. */
int store_target_ensure(struct store *st, const char *name, int64_t *target_id);

struct store_target_info {
	int64_t id;
	char name[256];
};

/* Every target, ordered by id.  *out is a new array of *n entries (free()).
 * Returns 0, or an error with *out NULL and *n 0. */
int store_list_targets(struct store *st, struct store_target_info **out, size_t *n);

/* Store @s as the next snapshot of @target_id.  The instance is found or
 * created from (pid, start_time).  On success returns 0 and, when
 * @snapshot_id is not NULL, the new snapshot's id.  On any error nothing of
 * the snapshot is stored: MD_ERR_INVAL for a read-only store or regions that
 * are unsorted, overlapping, of an unknown type or state, or of type
 * REGION_PAGE_TABLE (the page table is page_table_bytes); MD_ERR_NOTFOUND for
 * an unknown target; MD_ERR_BUSY when another writer keeps the database
 * locked past the busy timeout (5 s); MD_ERR_FULL, MD_ERR_NOMEM, MD_ERR_IO,
 * MD_ERR_DB. */
int store_put_snapshot(struct store *st, int64_t target_id, const struct snapshot *s,
                       int64_t *snapshot_id);

/* Rebuild snapshot @snapshot_id exactly as it was stored (regions, counters,
 * identity, flags, page table bytes, time).  Returns 0 and *out, or
 * MD_ERR_NOTFOUND. */
int store_get_snapshot(struct store *st, int64_t snapshot_id, struct snapshot **out);

struct store_snapshot_info {
	int64_t id;
	int64_t target_id;
	int64_t instance_id;
	int64_t time_ms;
	int pid;
	uint64_t start_time;
	uint64_t n_regions;
	unsigned flags;
	uint64_t collect_ns;
};

/* Snapshots of @target_id with from_ms <= time_ms <= to_ms (pass INT64_MIN /
 * INT64_MAX for no bound), oldest first.  *out is a new array of *n entries
 * (free()).  Returns 0, or an error with *out NULL and *n 0. */
int store_list_snapshots(struct store *st, int64_t target_id, int64_t from_ms, int64_t to_ms,
                         struct store_snapshot_info **out, size_t *n);

/* Totals of snapshot @snapshot_id as stored (no region rebuild).  The cell,
 * by_type, by_state, all, private_committed and private_touched members are
 * filled; free is filled too (stored with the snapshot). */
int store_get_totals(struct store *st, int64_t snapshot_id, struct snapshot_totals *out);

#endif
