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
/* One page of that list: the first @limit snapshots (0: all) that come after
 * snapshot @after_id in its order (time, then id; 0: from the start of the
 * range); *more (when not NULL) is 1 when the range holds more after them.
 * @after_id must be a snapshot of @target_id: MD_ERR_NOTFOUND otherwise. */
int store_list_snapshots_page(struct store *st, int64_t target_id, int64_t from_ms, int64_t to_ms,
                              int64_t after_id, size_t limit, struct store_snapshot_info **out,
                              size_t *n, int *more);

/* Totals of snapshot @snapshot_id as stored (no region rebuild).  The cell,
 * by_type, by_state, all, private_committed and private_touched members are
 * filled; free is filled too (stored with the snapshot). */
int store_get_totals(struct store *st, int64_t snapshot_id, struct snapshot_totals *out);

/* ---- read API for the web server (issue 3) -------------------------------
 * All of these work on STORE_READONLY handles and never wait for the writer
 * (WAL readers see the last committed state). */

struct store_instance_info {
	int64_t id;
	int64_t target_id;
	int pid;
	uint64_t start_time;   /* OS start stamp */
	int64_t start_time_ms; /* 0 when unknown */
	char name[64];
	int64_t first_time_ms; /* first and last snapshot of the instance (0 if none) */
	int64_t last_time_ms;
	uint64_t n_snapshots; /* raw snapshots still stored */
};

/* Instances of @target_id, oldest first.  *out is a new array (free()). */
int store_list_instances(struct store *st, int64_t target_id, struct store_instance_info **out,
                         size_t *n);

/* One point of a target's timeline: committed and resident bytes by type. */
struct store_timeline_point {
	int64_t time_ms;
	int64_t snapshot_id; /* a real snapshot at this point (raw tier), 0 for rolled-up tiers */
	int64_t instance_id;
	uint64_t committed[REGION_TYPE_COUNT];
	uint64_t resident[REGION_TYPE_COUNT];
	uint64_t private_committed; /* the leak signal (PRIVATE + HEAP + STACK) */
	uint64_t private_touched;
};

/* The timeline of @target_id between from_ms and to_ms (inclusive), oldest
 * first, at most @max_points points (0: no limit).  Raw snapshots are used
 * where they are still stored, per-minute and then per-hour rollups for older
 * ranges.  Downsampling splits [from, to] into max_points equal buckets and
 * keeps, per bucket and instance, the LAST snapshot of the bucket (a real
 * snapshot, so a point can be opened in the diff view); rolled-up points carry
 * each bucket's maximum.  A bucket never mixes two instances: a restart
 * inside a bucket yields one point per instance, so restart markers survive
 * downsampling (the result may then exceed max_points by the number of
 * restarts).  from_ms INT64_MIN / to_ms INT64_MAX: the buckets span the
 * stored data (rollups included).  The raw points' values are exactly
 * store_get_totals() of their snapshot (by_type committed and resident,
 * private_committed, private_touched).  *out is a new array (free()), also
 * when *n is 0. */
int store_timeline(struct store *st, int64_t target_id, int64_t from_ms, int64_t to_ms,
                   size_t max_points, struct store_timeline_point **out, size_t *n);

/* The overview row of a target: its latest snapshot. */
struct store_target_summary {
	int64_t id;
	char name[256];
	int64_t last_snapshot_id; /* 0 when the target has no snapshot yet */
	int64_t last_time_ms;
	int64_t instance_id;
	int pid;
	uint64_t n_instances;
	struct snapshot_totals totals; /* of the latest snapshot (zero if none) */
};

/* Every target with its latest snapshot's totals, ordered by id. */
int store_list_target_summaries(struct store *st, struct store_target_summary **out, size_t *n);

/* ---- alerts (issue 4) ------------------------------------------------------
 * The daemon's alert engine (daemon/alerts.c) writes alerts; the web server
 * reads them.  An alert's baseline and trigger snapshots are evidence: while
 * the alert row exists, store_prune keeps both snapshots (and whatever their
 * rebuild needs) past the raw retention; unless it was closed without ever
 * firing (store_alert_put).  store_prune deletes alerts that
 * ended (resolved) longer than store_retention.alert_ms ago, which releases
 * their snapshots. */

enum alert_state {
	ALERT_PENDING = 0,
	ALERT_FIRING,
	ALERT_RESOLVED,
};

struct store_alert {
	int64_t id;          /* 0 for a new alert; set by store_alert_put */
	int64_t target_id;
	int64_t instance_id; /* the process instance the alert is about */
	char rule[16];       /* "trend", "threshold" or "map_count" */
	char series[32];     /* "private_committed", "private_touched", "committed:HEAP", ... */
	enum alert_state state;
	int64_t started_ms;  /* became pending */
	int64_t fired_ms;    /* became firing (0: never) */
	int64_t resolved_ms; /* became resolved (0: not yet) */
	int64_t updated_ms;  /* last evaluation that changed the row */
	int64_t baseline_snapshot_id; /* start of the trend window (0: none) */
	int64_t trigger_snapshot_id;  /* the snapshot evaluated when it fired (0: none) */
	double slope_bytes_per_h;
	double pct_per_h;
	double r2;
	double mk_p;
	uint64_t value;      /* the series' level at the last update, bytes */
	char *summary;       /* one line for humans ("Private Data +12.0 MiB/h ..."); owned, may be NULL */
	char *evidence_json; /* the alert as the sinks receive it (docs/api.md); owned, may be NULL */
};

/* Insert @a (a->id 0: a->id is set) or update the row a->id (every column).
 * The instance must be one of the target's, the snapshots (0: none) of any
 * of its instances.  A resolved alert that never fired (fired_ms 0: a
 * pending one cancelled) is evidence of nothing: it is stored without its
 * snapshots, and a->baseline_snapshot_id and a->trigger_snapshot_id are
 * cleared, so that it pins none.  Returns 0, MD_ERR_INVAL (read-only store, unknown
 * target, instance or snapshot, empty rule, bad state), MD_ERR_NOTFOUND (no
 * row a->id), MD_ERR_BUSY/FULL/IO/DB. */
int store_alert_put(struct store *st, struct store_alert *a);

struct store_alert_filter {
	int64_t target_id;   /* 0: any */
	int64_t instance_id; /* 0: any */
	int state;           /* -1: any, else an enum alert_state */
	int64_t from_ms;     /* alerts active at some time in [from_ms, to_ms] */
	int64_t to_ms;       /* (INT64_MIN / INT64_MAX: no bound) */
	size_t limit;        /* 0: 1000 */
};

/* Alerts matching @f, newest started first.  *out is a new array of *n
 * entries; free it with store_alerts_free. */
int store_list_alerts(struct store *st, const struct store_alert_filter *f,
                      struct store_alert **out, size_t *n);
/* One alert by id: 0 and *out (free with store_alerts_free(*out, 1)) or MD_ERR_NOTFOUND. */
int store_get_alert(struct store *st, int64_t id, struct store_alert **out);
void store_alerts_free(struct store_alert *a, size_t n);

/* The latest snapshot of @target_id (across its instances) at or before
 * @time_ms (INT64_MAX: the latest).  0 and *snapshot_id, or MD_ERR_NOTFOUND. */
int store_snapshot_at(struct store *st, int64_t target_id, int64_t time_ms, int64_t *snapshot_id);

/* ---- retention (the writer only) ------------------------------------------ */

struct store_retention {
	int64_t raw_ms;         /* keep raw snapshots this long (default 7 days) */
	int64_t minute_ms;      /* keep per-minute rollups this long (default 90 days) */
	int64_t hour_ms;        /* keep per-hour rollups this long (default 2 years) */
	uint64_t raw_max_bytes; /* byte cap of each tier (0: none); past it the oldest go first */
	uint64_t minute_max_bytes;
	uint64_t hour_max_bytes;
	int64_t alert_ms;       /* keep alerts this long after they resolve (default 90 days; 0: forever) */
};

/* Fill @r with the defaults above (caps 0). */
void store_retention_defaults(struct store_retention *r);

/* Incremental pruning: delete alerts resolved before now - alert_ms; roll
 * raw snapshots older than now - raw_ms (or past the raw cap), except those
 * an alert pins, up into per-minute totals (sum, min, max, count per type and
 * state, per target and instance), then delete them; roll minute rows older
 * than minute_ms into hours; delete hours past hour_ms.  Does at most about
 * @max_rows rows of work in one short transaction and sets *more when work
 * remains, so the caller interleaves it with sampling.  Every snapshot that
 * remains is still rebuilt exactly by store_get_snapshot (counters and
 * versions still needed by later snapshots are carried forward).  @max_rows
 * 0 means 1,000.  Consecutive snapshots of an instance are pruned as one
 * run, which moves up to one counters row per live region of it: a call may
 * exceed @max_rows by about the region count of the largest target.  Byte
 * caps: raw_max_bytes is checked against the used bytes of the whole file
 * (the raw tier dominates it); the rollup caps count about 64 bytes a row.
 * Returns 0, MD_ERR_INVAL on a read-only store, or a database error (the
 * call's work is then rolled back). */
int store_prune(struct store *st, const struct store_retention *r, int64_t now_ms, size_t max_rows,
                int *more);

/* ---- damaged databases and the size cap (issue 6) -------------------------- */

/* Judge the file at @path without writing to it (a read-only connection):
 * *damaged is 1, and @why (may be NULL) says why, when it is not an SQLite
 * database, is malformed, fails PRAGMA quick_check, or is someone else's
 * (another application_id, or tables but no schema version).  *damaged is 0
 * when the file is absent, empty, or a memdelta database that passes; a
 * newer memdelta's database is not damaged (store_open refuses it).  Returns
 * 0, or MD_ERR_BUSY / MD_ERR_IO / MD_ERR_PERM / MD_ERR_NOMEM / MD_ERR_DB
 * when the file could not be judged (then *damaged is 0, @why says why).
 * quick_check reads the whole file. */
int store_check_file(const char *path, int *damaged, char *why, size_t why_len);

/* Move a damaged database out of the way: rename its "-wal" and "-shm"
 * files (where present), then @path itself, to "@path.corrupt-@tag" plus the
 * same suffixes (".corrupt-@tag.1", ".2", ... when that name is taken), so
 * the moved database still opens with its WAL.  Nothing is written into
 * them.  @dest (may be NULL) receives the new name of @path.  Close every
 * connection to @path first.  Returns 0, MD_ERR_INVAL, or MD_ERR_IO (errno
 * says why; files already renamed stay renamed). */
int store_move_aside(const char *path, const char *tag, char *dest, size_t dest_len);

/* Cap the database file at about @max_bytes (PRAGMA max_page_count; 0: no
 * cap) for this connection; never below the size it has.  A write that
 * would pass the cap fails with MD_ERR_FULL and stores nothing, like a full
 * disk.  Returns 0, MD_ERR_INVAL on a read-only store, or a database error. */
int store_set_max_bytes(struct store *st, uint64_t max_bytes);

/* Bytes the database file uses (page_count * page_size), for /healthz and the caps. */
int store_size_bytes(struct store *st, uint64_t *bytes);

#endif
