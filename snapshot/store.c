/*
 * store.c - SQLite storage of snapshots (see store.h and ARCHITECTURE.md,
 * "Storage").  One database file in WAL mode; the schema version lives in
 * PRAGMA user_version and is brought up to date by the stepwise migrations
 * below, all pending steps in one transaction.  A snapshot is written as the
 * delta against the previous snapshot of the same process instance: region
 * *versions* are opened when a region appears or one of its stable attributes
 * changes and closed when it goes away, the volatile counters get a row only
 * when they moved, and per type x state totals get a small row of their own.
 * The writer keeps, per instance, the open versions with their last counters
 * in memory (loaded from the database when missing) so that a put is one
 * merge-join plus the rows that changed; the cache is replaced only after the
 * transaction commits and dropped on any error.
 *
 * Schema, version 1 (application_id 'mdlt'):
 *
 *   targets(id, name UNIQUE)
 *   instances(id, target_id -> targets, pid, start_time, start_time_ms, name,
 *             cmdline, last_snapshot_id, UNIQUE(target_id, pid, start_time))
 *       last_snapshot_id: the newest snapshot of the instance, the base of
 *       the next delta.
 *   snapshots(id AUTOINCREMENT, instance_id -> instances, time_ms, n_regions,
 *             flags, page_table_bytes, collect_ns, free_bytes,
 *             name, cmdline, start_time_ms)
 *       the last three are NULL unless they differ from the instance row
 *       (a process may rename itself); index (instance_id, time_ms).
 *       Ids only grow, so "version valid at S" compares ids.
 *   strings(id, text UNIQUE)          interned region details
 *   versions(id, instance_id -> instances, base, size, alloc_offset, type,
 *            state, protection, committed, detail_id, first_snapshot,
 *            last_snapshot)
 *       alloc_offset = base - allocation_base (0 on Linux: no bytes);
 *       detail_id NULL for "" ; last_snapshot NULL while the version is open,
 *       else the last snapshot it belongs to.  Valid at S: first_snapshot <=
 *       S <= coalesce(last_snapshot, S).  Index (instance_id, last_snapshot)
 *       serves both "open versions of an instance" and "valid at S".
 *   counters(version_id -> versions, snapshot_id, resident, private_resident,
 *            shared_gap, pss, swap, locked)  WITHOUT ROWID,
 *            PRIMARY KEY (version_id, snapshot_id)
 *       a row on the version's first snapshot and whenever a counter moved;
 *       the counters at S are the row with the greatest snapshot_id <= S
 *       (one index seek).  shared_gap = resident - private_resident -
 *       shared_resident, which is 0 (no bytes) when the OS splits resident
 *       into private and shared.
 *   totals(snapshot_id -> snapshots, type, state, size, committed, resident,
 *          private_resident, shared_resident, pss, swap, locked, regions,
 *          block_gap, type_block_gap, all_block_gap, largest)  WITHOUT ROWID,
 *          PRIMARY KEY (snapshot_id, type, state)
 *       one row per non-empty type x state cell of the regions (the page
 *       table is snapshots.page_table_bytes).  reserved is not stored: it is
 *       size in the RESERVE cells, 0 elsewhere.  Block counts (see
 *       snapshot_totals()) are stored as gaps, 0 when every region is its own
 *       allocation (Linux): blocks = regions - block_gap counts the cell's
 *       blocks; type_block_gap and all_block_gap take away the regions that
 *       start a block in the cell but not in their type, resp. in the whole
 *       process, so by_type and all block counts are sums over cells.
 *
 * Version 2 (retention) adds:
 *
 *   rollup_minute, rollup_hour(target_id, bucket_ms, instance_id, series, n,
 *          committed_sum, committed_min, committed_max, resident_sum,
 *          resident_min, resident_max)  WITHOUT ROWID,
 *          PRIMARY KEY (target_id, bucket_ms, instance_id, series)
 *       the totals of pruned snapshots per minute, then per hour.  series
 *       0..REGION_TYPE_COUNT-1 is a type's by_type committed and resident
 *       (states summed, page table included: what the timeline shows);
 *       series REGION_TYPE_COUNT is the leak signal (private_committed,
 *       private_touched).  Rows by type rather than type x state: the
 *       maximum of a type's total over a bucket, which the timeline draws,
 *       cannot be rebuilt from per-state maxima, and the state split of a
 *       pruned snapshot is shown nowhere.  Values are plain bytes,
 *       saturated at INT64_MAX (sums past it turn approximate).  All series
 *       get a row, zeros included, so n and min stay right when a bucket is
 *       filled by several prune calls.  The key leads with the target: the
 *       timeline reads one index range.
 *   index snapshots_by_instance(instance_id): previous and next snapshot of
 *       an instance in id order; index counters_by_snapshot(snapshot_id):
 *       the counters rows written at a snapshot being pruned.
 *
 * Version 3 (alerts, issue 4) adds:
 *
 *   alerts(id, target_id -> targets, instance_id -> instances, rule, series,
 *          state, started_ms, fired_ms, resolved_ms, updated_ms,
 *          baseline_snapshot_id -> snapshots, trigger_snapshot_id ->
 *          snapshots, slope_bytes_per_h, pct_per_h, r2, mk_p, value, summary,
 *          evidence_json)
 *       one row per alert, written by the daemon's engine; times 0 for "not
 *       yet", snapshot ids NULL for none.  The two snapshots are evidence:
 *       pruning skips them (PINNED_SNAPSHOTS) for as long as the row exists,
 *       and the row goes alert_ms after the alert resolved.  Indexes on both
 *       snapshot columns serve the foreign keys and the pin lookups.
 *
 * Pruning a snapshot S (store_prune) keeps every remaining snapshot exact:
 * with P and N the previous and next remaining snapshots of its instance,
 * versions whose [first_snapshot, last_snapshot] lies inside (P, N) are
 * read by no remaining snapshot and go with their counters; a counters row
 * at S that N reads (its version valid at N, no newer row up to N) moves to
 * N; the others go.  Without N, P becomes the instance's last snapshot and
 * the versions valid at P are open again.  P and N may be snapshots pinned
 * by an alert: a run of pruned snapshots ends at a pinned one, which stays
 * with the versions and counters rows it reads.
 *
 * Byte quantities (sizes, counters, totals) are stored as KiB when they are
 * a multiple of 1 KiB (always, on Linux and Windows), else as -(bytes + 1);
 * values above INT64_MAX that are not KiB multiples are stored as 8-byte
 * big-endian blobs.  Other unsigned 64-bit values are stored as their two's
 * complement bit pattern.  Foreign keys are declared where the child column is
 * indexed (deleting a parent never scans a table); snapshot ids inside
 * versions and counters are plain integers for the same reason.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <sqlite3.h>

#include "snapshot/store.h"

#define STORE_APPLICATION_ID  0x6d646c74 /* "mdlt" */
#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_MAX_CACHES      64
#define TARGET_NAME_MAX       256 /* struct store_target_info.name, NUL included */

/* The two rollup tiers share one shape (see the top of the file). */
#define ROLLUP_TABLE(name)                                                                         \
	"CREATE TABLE " name " (\n"                                                                \
	"  target_id INTEGER NOT NULL,\n"                                                          \
	"  bucket_ms INTEGER NOT NULL,\n"                                                          \
	"  instance_id INTEGER NOT NULL,\n"                                                        \
	"  series INTEGER NOT NULL,\n"                                                             \
	"  n INTEGER NOT NULL,\n"                                                                  \
	"  committed_sum INTEGER NOT NULL,\n"                                                      \
	"  committed_min INTEGER NOT NULL,\n"                                                      \
	"  committed_max INTEGER NOT NULL,\n"                                                      \
	"  resident_sum INTEGER NOT NULL,\n"                                                       \
	"  resident_min INTEGER NOT NULL,\n"                                                       \
	"  resident_max INTEGER NOT NULL,\n"                                                       \
	"  PRIMARY KEY (target_id, bucket_ms, instance_id, series)\n"                              \
	") WITHOUT ROWID;\n"

/* Migration steps: migrations[k] takes the schema from version k to k + 1.
 * Append only; never edit a step that has shipped. */
static const char *const migrations[] = {
        /* 0 -> 1: the first schema. */
        "CREATE TABLE targets (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  name TEXT NOT NULL UNIQUE\n"
        ");\n"
        "CREATE TABLE instances (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  target_id INTEGER NOT NULL REFERENCES targets(id),\n"
        "  pid INTEGER NOT NULL,\n"
        "  start_time INTEGER NOT NULL,\n"
        "  start_time_ms INTEGER NOT NULL,\n"
        "  name TEXT NOT NULL,\n"
        "  cmdline TEXT NOT NULL,\n"
        "  last_snapshot_id INTEGER,\n"
        "  UNIQUE (target_id, pid, start_time)\n"
        ");\n"
        "CREATE TABLE snapshots (\n"
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "  instance_id INTEGER NOT NULL REFERENCES instances(id),\n"
        "  time_ms INTEGER NOT NULL,\n"
        "  n_regions INTEGER NOT NULL,\n"
        "  flags INTEGER NOT NULL,\n"
        "  page_table_bytes INTEGER NOT NULL,\n"
        "  collect_ns INTEGER NOT NULL,\n"
        "  free_bytes INTEGER NOT NULL,\n"
        "  name TEXT,\n"
        "  cmdline TEXT,\n"
        "  start_time_ms INTEGER\n"
        ");\n"
        "CREATE INDEX snapshots_by_instance_time ON snapshots (instance_id, time_ms);\n"
        "CREATE TABLE strings (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  text TEXT NOT NULL UNIQUE\n"
        ");\n"
        "CREATE TABLE versions (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  instance_id INTEGER NOT NULL REFERENCES instances(id),\n"
        "  base INTEGER NOT NULL,\n"
        "  size INTEGER NOT NULL,\n"
        "  alloc_offset INTEGER NOT NULL,\n"
        "  type INTEGER NOT NULL,\n"
        "  state INTEGER NOT NULL,\n"
        "  protection INTEGER NOT NULL,\n"
        "  committed INTEGER NOT NULL,\n"
        "  detail_id INTEGER,\n"
        "  first_snapshot INTEGER NOT NULL,\n"
        "  last_snapshot INTEGER\n"
        ");\n"
        "CREATE INDEX versions_by_instance_last ON versions (instance_id, last_snapshot);\n"
        "CREATE TABLE counters (\n"
        "  version_id INTEGER NOT NULL REFERENCES versions(id),\n"
        "  snapshot_id INTEGER NOT NULL,\n"
        "  resident INTEGER NOT NULL,\n"
        "  private_resident INTEGER NOT NULL,\n"
        "  shared_gap INTEGER NOT NULL,\n"
        "  pss INTEGER NOT NULL,\n"
        "  swap INTEGER NOT NULL,\n"
        "  locked INTEGER NOT NULL,\n"
        "  PRIMARY KEY (version_id, snapshot_id)\n"
        ") WITHOUT ROWID;\n"
        "CREATE TABLE totals (\n"
        "  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),\n"
        "  type INTEGER NOT NULL,\n"
        "  state INTEGER NOT NULL,\n"
        "  size INTEGER NOT NULL,\n"
        "  committed INTEGER NOT NULL,\n"
        "  resident INTEGER NOT NULL,\n"
        "  private_resident INTEGER NOT NULL,\n"
        "  shared_resident INTEGER NOT NULL,\n"
        "  pss INTEGER NOT NULL,\n"
        "  swap INTEGER NOT NULL,\n"
        "  locked INTEGER NOT NULL,\n"
        "  regions INTEGER NOT NULL,\n"
        "  block_gap INTEGER NOT NULL,\n"
        "  type_block_gap INTEGER NOT NULL,\n"
        "  all_block_gap INTEGER NOT NULL,\n"
        "  largest INTEGER NOT NULL,\n"
        "  PRIMARY KEY (snapshot_id, type, state)\n"
        ") WITHOUT ROWID;\n"
        "PRAGMA application_id = 1835297908;\n",
        /* 1 -> 2: retention.  Rollup tiers and the indexes pruning needs:
         * the snapshots of an instance in id order (previous and next of a
         * pruned snapshot) and the counters rows of one snapshot. */
        "CREATE INDEX snapshots_by_instance ON snapshots (instance_id);\n"
        /* clang-format off */
        "CREATE INDEX counters_by_snapshot ON counters (snapshot_id);\n"
        ROLLUP_TABLE("rollup_minute")
        ROLLUP_TABLE("rollup_hour"),
        /* clang-format on */
        /* 2 -> 3: alerts (issue 4).  The snapshot columns are indexed
         * because they are foreign keys and because store_prune asks, per
         * snapshot, whether an alert pins it. */
        "CREATE TABLE alerts (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  target_id INTEGER NOT NULL REFERENCES targets(id),\n"
        "  instance_id INTEGER NOT NULL REFERENCES instances(id),\n"
        "  rule TEXT NOT NULL,\n"
        "  series TEXT NOT NULL,\n"
        "  state INTEGER NOT NULL,\n"
        "  started_ms INTEGER NOT NULL,\n"
        "  fired_ms INTEGER NOT NULL,\n"
        "  resolved_ms INTEGER NOT NULL,\n"
        "  updated_ms INTEGER NOT NULL,\n"
        "  baseline_snapshot_id INTEGER REFERENCES snapshots(id),\n"
        "  trigger_snapshot_id INTEGER REFERENCES snapshots(id),\n"
        "  slope_bytes_per_h REAL,\n"
        "  pct_per_h REAL,\n"
        "  r2 REAL,\n"
        "  mk_p REAL,\n"
        "  value INTEGER NOT NULL,\n"
        "  summary TEXT,\n"
        "  evidence_json TEXT\n"
        ");\n"
        "CREATE INDEX alerts_by_target ON alerts (target_id, started_ms);\n"
        "CREATE INDEX alerts_by_instance ON alerts (instance_id);\n"
        "CREATE INDEX alerts_by_state ON alerts (state, resolved_ms);\n"
        "CREATE INDEX alerts_by_baseline ON alerts (baseline_snapshot_id);\n"
        "CREATE INDEX alerts_by_trigger ON alerts (trigger_snapshot_id);\n",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum stmt_id {
	STMT_BEGIN = 0,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_TARGET_FIND,
	STMT_TARGET_INSERT,
	STMT_TARGET_LIST,
	STMT_INSTANCE_FIND,
	STMT_INSTANCE_INSERT,
	STMT_INSTANCE_SET_LAST,
	STMT_SNAPSHOT_INSERT,
	STMT_STRING_FIND,
	STMT_STRING_INSERT,
	STMT_VERSION_INSERT,
	STMT_VERSION_CLOSE,
	STMT_COUNTERS_INSERT,
	STMT_TOTALS_INSERT,
	STMT_SNAPSHOT_GET,
	STMT_VERSIONS_AT,
	STMT_TOTALS_GET,
	STMT_SNAPSHOT_LIST,
	STMT_SNAPSHOT_CURSOR,
	STMT_SIZE,
	STMT_INSTANCE_LIST,
	STMT_TARGET_LATEST,
	STMT_TARGET_N_INSTANCES,
	STMT_TIMELINE_RAW,
	STMT_TARGET_RAW_START,
	STMT_MINUTE_START,
	STMT_ROLLUP_MINUTE_READ,
	STMT_ROLLUP_HOUR_READ,
	STMT_PRUNE_OLDEST,
	STMT_SNAPSHOT_COUNT,
	STMT_SNAPSHOT_PREV,
	STMT_SNAPSHOT_NEXT,
	STMT_ROLLUP_MINUTE_ADD,
	STMT_DEAD_COUNTERS_DELETE,
	STMT_DEAD_VERSIONS_DELETE,
	STMT_PRUNE_BATCH,
	STMT_COUNTERS_CARRY,
	STMT_COUNTERS_DELETE_RANGE,
	STMT_TOTALS_DELETE_RANGE,
	STMT_SNAPSHOT_DELETE_RANGE,
	STMT_INSTANCE_SET_PREV,
	STMT_VERSIONS_REOPEN,
	STMT_MINUTE_OLDEST,
	STMT_MINUTE_TO_HOUR,
	STMT_MINUTE_DELETE,
	STMT_MINUTE_COUNT,
	STMT_HOUR_OLDEST,
	STMT_HOUR_DELETE,
	STMT_HOUR_COUNT,
	STMT_ALERT_INSERT,
	STMT_ALERT_UPDATE,
	STMT_ALERT_CHECK_REFS,
	STMT_ALERT_LIST,
	STMT_ALERT_GET,
	STMT_ALERT_EXPIRE,
	STMT_ALERT_UNPIN,
	STMT_SNAPSHOT_AT,
	STMT_COUNT
};

/* The snapshots alerts keep as evidence (store.h): never pruned while the
 * alert row exists.  NULLs are left out so that NOT IN stays true. */
#define PINNED_SNAPSHOTS                                                                           \
	"(SELECT baseline_snapshot_id FROM alerts WHERE baseline_snapshot_id IS NOT NULL"          \
	" UNION ALL SELECT trigger_snapshot_id FROM alerts"                                        \
	" WHERE trigger_snapshot_id IS NOT NULL)"

/* The columns of an alert row, in the order alert_row() reads them. */
#define ALERT_COLUMNS                                                                              \
	"id, target_id, instance_id, rule, series, state, started_ms, fired_ms, resolved_ms,"      \
	" updated_ms, coalesce(baseline_snapshot_id, 0), coalesce(trigger_snapshot_id, 0),"        \
	" slope_bytes_per_h, pct_per_h, r2, mk_p, value, summary, evidence_json"

static const char *const stmt_sql[STMT_COUNT] = {
        [STMT_BEGIN] = "BEGIN IMMEDIATE",
        [STMT_COMMIT] = "COMMIT",
        [STMT_ROLLBACK] = "ROLLBACK",
        [STMT_TARGET_FIND] = "SELECT id FROM targets WHERE name = ?1",
        [STMT_TARGET_INSERT] = "INSERT INTO targets (name) VALUES (?1)",
        [STMT_TARGET_LIST] = "SELECT id, name FROM targets ORDER BY id",
        [STMT_INSTANCE_FIND] = "SELECT id, last_snapshot_id, start_time_ms, name, cmdline"
                               " FROM instances WHERE target_id = ?1 AND pid = ?2"
                               " AND start_time = ?3",
        [STMT_INSTANCE_INSERT] = "INSERT INTO instances (target_id, pid, start_time,"
                                 " start_time_ms, name, cmdline)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        [STMT_INSTANCE_SET_LAST] = "UPDATE instances SET last_snapshot_id = ?2 WHERE id = ?1",
        [STMT_SNAPSHOT_INSERT] = "INSERT INTO snapshots (instance_id, time_ms, n_regions, flags,"
                                 " page_table_bytes, collect_ns, free_bytes, name, cmdline,"
                                 " start_time_ms)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        [STMT_STRING_FIND] = "SELECT id FROM strings WHERE text = ?1",
        [STMT_STRING_INSERT] = "INSERT INTO strings (text) VALUES (?1)",
        [STMT_VERSION_INSERT] = "INSERT INTO versions (instance_id, base, size, alloc_offset,"
                                " type, state, protection, committed, detail_id,"
                                " first_snapshot)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        [STMT_VERSION_CLOSE] = "UPDATE versions SET last_snapshot = ?2 WHERE id = ?1",
        [STMT_COUNTERS_INSERT] = "INSERT INTO counters (version_id, snapshot_id, resident,"
                                 " private_resident, shared_gap, pss, swap, locked)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        [STMT_TOTALS_INSERT] = "INSERT INTO totals (snapshot_id, type, state, size, committed,"
                               " resident, private_resident, shared_resident, pss, swap,"
                               " locked, regions, block_gap, type_block_gap, all_block_gap,"
                               " largest)"
                               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
                               " ?13, ?14, ?15, ?16)",
        [STMT_SNAPSHOT_GET] = "SELECT s.instance_id, i.target_id, s.time_ms, s.n_regions,"
                              " s.flags, s.page_table_bytes, s.collect_ns, s.free_bytes,"
                              " i.pid, i.start_time,"
                              " coalesce(s.start_time_ms, i.start_time_ms),"
                              " coalesce(s.name, i.name), coalesce(s.cmdline, i.cmdline)"
                              " FROM snapshots AS s JOIN instances AS i ON i.id = s.instance_id"
                              " WHERE s.id = ?1",
        /* Versions of instance ?1 valid at snapshot ?2 with their counters
         * at ?2.  Two index ranges (open, closed at or after ?2) rather than
         * an OR the planner cannot use. */
        [STMT_VERSIONS_AT] = "SELECT v.id, v.base, v.size, v.alloc_offset, v.type, v.state,"
                             " v.protection, v.committed, d.text, c.resident,"
                             " c.private_resident, c.shared_gap, c.pss, c.swap, c.locked"
                             " FROM (SELECT * FROM versions WHERE instance_id = ?1"
                             "   AND last_snapshot IS NULL AND first_snapshot <= ?2"
                             "  UNION ALL"
                             "  SELECT * FROM versions WHERE instance_id = ?1"
                             "   AND last_snapshot >= ?2 AND first_snapshot <= ?2) AS v"
                             " LEFT JOIN strings AS d ON d.id = v.detail_id"
                             " JOIN counters AS c ON c.version_id = v.id"
                             "  AND c.snapshot_id = (SELECT k.snapshot_id FROM counters AS k"
                             "   WHERE k.version_id = v.id AND k.snapshot_id <= ?2"
                             "   ORDER BY k.snapshot_id DESC LIMIT 1)",
        [STMT_TOTALS_GET] = "SELECT type, state, size, committed, resident, private_resident,"
                            " shared_resident, pss, swap, locked, regions, block_gap,"
                            " type_block_gap, all_block_gap, largest"
                            " FROM totals WHERE snapshot_id = ?1",
        [STMT_SNAPSHOT_LIST] = "SELECT s.id, i.target_id, s.instance_id, s.time_ms, i.pid,"
                               " i.start_time, s.n_regions, s.flags, s.collect_ns"
                               " FROM instances AS i JOIN snapshots AS s"
                               " ON s.instance_id = i.id"
                               " WHERE i.target_id = ?1 AND s.time_ms BETWEEN ?2 AND ?3"
                               " AND (s.time_ms > ?4 OR (s.time_ms = ?4 AND s.id > ?5))"
                               " ORDER BY s.time_ms, s.id LIMIT ?6",
        /* Where a page of STMT_SNAPSHOT_LIST resumes: the snapshot's time,
         * if it is one of the target's. */
        [STMT_SNAPSHOT_CURSOR] = "SELECT s.time_ms FROM snapshots AS s JOIN instances AS i"
                                 " ON s.instance_id = i.id WHERE s.id = ?1 AND i.target_id = ?2",
        /* Used bytes: free pages of a database that shrank do not count. */
        [STMT_SIZE] = "SELECT (p.page_count - f.freelist_count) * z.page_size,"
                      " p.page_count * z.page_size"
                      " FROM pragma_page_count AS p, pragma_freelist_count AS f,"
                      " pragma_page_size AS z",
        [STMT_INSTANCE_LIST] = "SELECT i.id, i.target_id, i.pid, i.start_time, i.start_time_ms,"
                               " i.name,"
                               " (SELECT min(time_ms) FROM snapshots WHERE instance_id = i.id),"
                               " (SELECT max(time_ms) FROM snapshots WHERE instance_id = i.id),"
                               " (SELECT count(*) FROM snapshots WHERE instance_id = i.id)"
                               " FROM instances AS i WHERE i.target_id = ?1 ORDER BY i.id",
        /* The latest snapshot of a target is the latest of its instances'
         * last snapshots: one row per instance, no scan of snapshots. */
        [STMT_TARGET_LATEST] = "SELECT s.id, s.time_ms, i.id, i.pid"
                               " FROM instances AS i JOIN snapshots AS s"
                               " ON s.id = i.last_snapshot_id"
                               " WHERE i.target_id = ?1"
                               " ORDER BY s.time_ms DESC, s.id DESC LIMIT 1",
        [STMT_TARGET_N_INSTANCES] = "SELECT count(*) FROM instances WHERE target_id = ?1",
        [STMT_TIMELINE_RAW] = "SELECT s.id, s.instance_id, s.time_ms"
                              " FROM instances AS i JOIN snapshots AS s"
                              " ON s.instance_id = i.id"
                              " WHERE i.target_id = ?1 AND s.time_ms BETWEEN ?2 AND ?3"
                              " ORDER BY s.time_ms, s.id",
        /* Snapshots pinned by alerts are left out: they outlive the raw
         * tier, and the rollups around them still serve the timeline. */
        [STMT_TARGET_RAW_START] = "SELECT coalesce(min((SELECT time_ms FROM snapshots"
                                  " WHERE instance_id = i.id AND id NOT IN " PINNED_SNAPSHOTS
                                  " ORDER BY time_ms LIMIT 1)), 9223372036854775807)"
                                  " FROM instances AS i WHERE i.target_id = ?1",
        [STMT_MINUTE_START] = "SELECT coalesce(min(bucket_ms), ?2) FROM rollup_minute"
                              " WHERE target_id = ?1",
        [STMT_ROLLUP_MINUTE_READ] = "SELECT bucket_ms, instance_id, series, committed_max,"
                                    " resident_max FROM rollup_minute"
                                    " WHERE target_id = ?1 AND bucket_ms BETWEEN ?2 AND ?3"
                                    " ORDER BY bucket_ms, instance_id, series",
        [STMT_ROLLUP_HOUR_READ] = "SELECT bucket_ms, instance_id, series, committed_max,"
                                  " resident_max FROM rollup_hour"
                                  " WHERE target_id = ?1 AND bucket_ms BETWEEN ?2 AND ?3"
                                  " ORDER BY bucket_ms, instance_id, series",
        /* The oldest snapshot before ?1 among each instance's oldest: one
         * index seek per instance rather than a scan of every snapshot when
         * nothing is old enough.  Pinned snapshots are skipped (a few rows
         * per alert). */
        [STMT_PRUNE_OLDEST] = "SELECT s.id, s.instance_id, s.time_ms, i.target_id"
                              " FROM instances AS i JOIN snapshots AS s"
                              " ON s.id = (SELECT k.id FROM snapshots AS k"
                              "  WHERE k.instance_id = i.id AND k.id NOT IN " PINNED_SNAPSHOTS
                              "  ORDER BY k.time_ms, k.id LIMIT 1)"
                              " WHERE s.time_ms < ?1 ORDER BY s.id LIMIT 1",
        [STMT_SNAPSHOT_COUNT] = "SELECT count(*) FROM snapshots",
        [STMT_SNAPSHOT_PREV] = "SELECT coalesce(max(id), 0) FROM snapshots"
                               " WHERE instance_id = ?1 AND id < ?2",
        [STMT_SNAPSHOT_NEXT] = "SELECT coalesce(min(id), 0) FROM snapshots"
                               " WHERE instance_id = ?1 AND id > ?2",
        [STMT_ROLLUP_MINUTE_ADD] =
                "INSERT INTO rollup_minute (target_id, bucket_ms, instance_id, series, n, "
                "committed_sum,"
                " committed_min, committed_max, resident_sum, resident_min, resident_max)"
                " VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, ?5, ?6, ?6, ?6)"
                " ON CONFLICT DO UPDATE SET n = n + excluded.n,"
                " committed_sum = committed_sum + excluded.committed_sum,"
                " committed_min = min(committed_min, excluded.committed_min),"
                " committed_max = max(committed_max, excluded.committed_max),"
                " resident_sum = resident_sum + excluded.resident_sum,"
                " resident_min = min(resident_min, excluded.resident_min),"
                " resident_max = max(resident_max, excluded.resident_max)",
        /* Versions of instance ?1 valid at the pruned snapshot ?2 and at no
         * remaining one: closed before the next remaining snapshot ?3 and
         * opened after the previous one ?4; open ones too when ?5 (no next
         * snapshot). */
        [STMT_DEAD_COUNTERS_DELETE] =
                "DELETE FROM counters WHERE version_id IN"
                " (SELECT id FROM versions WHERE instance_id = ?1 AND last_snapshot >= ?2"
                "   AND last_snapshot < ?3 AND first_snapshot > ?4"
                "  UNION ALL"
                "  SELECT id FROM versions WHERE ?5 AND instance_id = ?1"
                "   AND last_snapshot IS NULL AND first_snapshot > ?4)",
        [STMT_DEAD_VERSIONS_DELETE] =
                "DELETE FROM versions WHERE id IN"
                " (SELECT id FROM versions WHERE instance_id = ?1 AND last_snapshot >= ?2"
                "   AND last_snapshot < ?3 AND first_snapshot > ?4"
                "  UNION ALL"
                "  SELECT id FROM versions WHERE ?5 AND instance_id = ?1"
                "   AND last_snapshot IS NULL AND first_snapshot > ?4)",
        /* The snapshots of instance ?1 from ?2 on, in id order, and
         * whether an alert pins them (a run stops there). */
        [STMT_PRUNE_BATCH] = "SELECT id, time_ms, id IN " PINNED_SNAPSHOTS
                             " FROM snapshots WHERE instance_id = ?1"
                             " AND id >= ?2 ORDER BY id LIMIT ?3",
        /* Of the counters rows of instance ?1 written at the pruned
         * snapshots ?2..?3, those the next remaining snapshot ?4 still reads
         * (the newest row of a version valid at ?4, none newer up to ?4) move
         * to ?4. */
        [STMT_COUNTERS_CARRY] = "UPDATE counters SET snapshot_id = ?4"
                                " WHERE snapshot_id BETWEEN ?2 AND ?3"
                                " AND EXISTS (SELECT 1 FROM versions AS v"
                                "  WHERE v.id = counters.version_id AND v.instance_id = ?1"
                                "  AND v.first_snapshot <= ?4"
                                "  AND (v.last_snapshot IS NULL OR v.last_snapshot >= ?4))"
                                " AND NOT EXISTS (SELECT 1 FROM counters AS k"
                                "  WHERE k.version_id = counters.version_id"
                                "  AND k.snapshot_id > counters.snapshot_id"
                                "  AND k.snapshot_id <= ?4)",
        [STMT_COUNTERS_DELETE_RANGE] = "DELETE FROM counters WHERE snapshot_id BETWEEN ?2 AND ?3"
                                       " AND EXISTS (SELECT 1 FROM versions AS v"
                                       "  WHERE v.id = counters.version_id"
                                       "  AND v.instance_id = ?1)",
        [STMT_TOTALS_DELETE_RANGE] = "DELETE FROM totals WHERE snapshot_id IN"
                                     " (SELECT id FROM snapshots WHERE instance_id = ?1"
                                     "  AND id BETWEEN ?2 AND ?3)",
        [STMT_SNAPSHOT_DELETE_RANGE] = "DELETE FROM snapshots WHERE instance_id = ?1"
                                       " AND id BETWEEN ?2 AND ?3",
        [STMT_INSTANCE_SET_PREV] = "UPDATE instances SET last_snapshot_id = nullif(?2, 0)"
                                   " WHERE id = ?1",
        [STMT_VERSIONS_REOPEN] = "UPDATE versions SET last_snapshot = NULL"
                                 " WHERE instance_id = ?1 AND last_snapshot >= ?2",
        [STMT_MINUTE_OLDEST] = "SELECT t.id, (SELECT min(bucket_ms) FROM rollup_minute"
                               " WHERE target_id = t.id) AS m FROM targets AS t"
                               " WHERE m IS NOT NULL ORDER BY m LIMIT 1",
        [STMT_MINUTE_TO_HOUR] =
                "INSERT INTO rollup_hour (target_id, bucket_ms, instance_id, series, n, "
                "committed_sum,"
                " committed_min, committed_max, resident_sum, resident_min, resident_max)"
                " SELECT target_id, ?2, instance_id, series, sum(n),"
                " sum(committed_sum), min(committed_min), max(committed_max),"
                " sum(resident_sum), min(resident_min), max(resident_max)"
                " FROM rollup_minute WHERE target_id = ?1 AND bucket_ms >= ?2"
                " AND bucket_ms < ?3 GROUP BY instance_id, series"
                " ON CONFLICT DO UPDATE SET n = n + excluded.n,"
                " committed_sum = committed_sum + excluded.committed_sum,"
                " committed_min = min(committed_min, excluded.committed_min),"
                " committed_max = max(committed_max, excluded.committed_max),"
                " resident_sum = resident_sum + excluded.resident_sum,"
                " resident_min = min(resident_min, excluded.resident_min),"
                " resident_max = max(resident_max, excluded.resident_max)",
        [STMT_MINUTE_DELETE] = "DELETE FROM rollup_minute WHERE target_id = ?1"
                               " AND bucket_ms >= ?2 AND bucket_ms < ?3",
        [STMT_MINUTE_COUNT] = "SELECT count(*) FROM rollup_minute",
        [STMT_HOUR_OLDEST] = "SELECT t.id, (SELECT min(bucket_ms) FROM rollup_hour"
                             " WHERE target_id = t.id) AS m FROM targets AS t"
                             " WHERE m IS NOT NULL ORDER BY m LIMIT 1",
        [STMT_HOUR_DELETE] = "DELETE FROM rollup_hour WHERE target_id = ?1 AND bucket_ms <= ?2",
        [STMT_HOUR_COUNT] = "SELECT count(*) FROM rollup_hour",
        [STMT_ALERT_INSERT] = "INSERT INTO alerts (target_id, instance_id, rule, series, state,"
                              " started_ms, fired_ms, resolved_ms, updated_ms,"
                              " baseline_snapshot_id, trigger_snapshot_id, slope_bytes_per_h,"
                              " pct_per_h, r2, mk_p, value, summary, evidence_json)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
                              " ?13, ?14, ?15, ?16, ?17, ?18)",
        [STMT_ALERT_UPDATE] = "UPDATE alerts SET target_id = ?1, instance_id = ?2, rule = ?3,"
                              " series = ?4, state = ?5, started_ms = ?6, fired_ms = ?7,"
                              " resolved_ms = ?8, updated_ms = ?9, baseline_snapshot_id = ?10,"
                              " trigger_snapshot_id = ?11, slope_bytes_per_h = ?12,"
                              " pct_per_h = ?13, r2 = ?14, mk_p = ?15, value = ?16,"
                              " summary = ?17, evidence_json = ?18 WHERE id = ?19",
        /* Does instance ?2 belong to target ?1, and snapshots ?3 and ?4
         * (0: none) to an instance of it? */
        [STMT_ALERT_CHECK_REFS] = "SELECT"
                                  " EXISTS (SELECT 1 FROM instances WHERE id = ?2"
                                  "  AND target_id = ?1),"
                                  " ?3 = 0 OR EXISTS (SELECT 1 FROM snapshots AS s"
                                  "  JOIN instances AS i ON i.id = s.instance_id"
                                  "  WHERE s.id = ?3 AND i.target_id = ?1),"
                                  " ?4 = 0 OR EXISTS (SELECT 1 FROM snapshots AS s"
                                  "  JOIN instances AS i ON i.id = s.instance_id"
                                  "  WHERE s.id = ?4 AND i.target_id = ?1)",
        [STMT_ALERT_LIST] = "SELECT " ALERT_COLUMNS " FROM alerts"
                            " WHERE (?1 = 0 OR target_id = ?1) AND (?2 = 0 OR instance_id = ?2)"
                            " AND (?3 < 0 OR state = ?3) AND started_ms <= ?5"
                            " AND (resolved_ms = 0 OR resolved_ms >= ?4)"
                            " ORDER BY started_ms DESC, id DESC LIMIT ?6",
        [STMT_ALERT_GET] = "SELECT " ALERT_COLUMNS " FROM alerts WHERE id = ?1",
        [STMT_ALERT_EXPIRE] = "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts"
                              " WHERE state = 2 AND resolved_ms < ?1 LIMIT ?2)",
        /* Rows written before store_alert_put cleared them: a closed alert
         * that never fired pins nothing. */
        [STMT_ALERT_UNPIN] = "UPDATE alerts SET baseline_snapshot_id = NULL,"
                             " trigger_snapshot_id = NULL WHERE id IN (SELECT id FROM alerts"
                             " WHERE state = 2 AND fired_ms = 0"
                             " AND (baseline_snapshot_id IS NOT NULL"
                             "  OR trigger_snapshot_id IS NOT NULL) LIMIT ?1)",
        /* The latest snapshot at or before ?2 of each instance of target
         * ?1 (one index seek each), then the latest of those. */
        [STMT_SNAPSHOT_AT] = "SELECT s.id FROM instances AS i JOIN snapshots AS s"
                             " ON s.id = (SELECT k.id FROM snapshots AS k"
                             "  WHERE k.instance_id = i.id AND k.time_ms <= ?2"
                             "  ORDER BY k.time_ms DESC, k.id DESC LIMIT 1)"
                             " WHERE i.target_id = ?1"
                             " ORDER BY s.time_ms DESC, s.id DESC LIMIT 1",
};

/* One open version as the writer remembers it: the region as of the
 * instance's last snapshot, counters included. */
struct cached_version {
	int64_t id;
	struct region r; /* r.detail is @detail or "" */
	char *detail;    /* owned copy; NULL for "" */
	int matched;     /* during a put: carried over into the next state */
	int fresh;       /* during a put: @detail allocated by this put */
};

struct instance_cache {
	int64_t instance_id; /* 0: slot unused */
	int64_t target_id;
	int64_t last_snapshot_id; /* the snapshot @v describes */
	struct cached_version *v; /* sorted by base */
	size_t n;
	uint64_t last_used;
};

struct store {
	sqlite3 *db;
	unsigned flags;
	sqlite3_stmt *stmt[STMT_COUNT];
	struct instance_cache caches[STORE_MAX_CACHES];
	uint64_t tick;
	char errmsg[512];
};

/* The message of the last failed store_open() of this thread: there is no
 * handle to hang it on. */
static _Thread_local char open_errmsg[512];

/* Rows of the instance a snapshot belongs to. */
struct instance_row {
	int64_t id;
	int64_t last_snapshot_id; /* 0: no snapshot yet */
	int same_name, same_cmdline, same_start_ms;
};

/* Totals of one type x state cell as stored. */
struct cell_row {
	struct region_totals t;
	uint64_t type_blocks; /* regions of the cell starting a block within their type */
	uint64_t all_blocks;  /* regions of the cell starting a block in the process */
};

/* ---- errors ---------------------------------------------------------- */

static int
status_from_sqlite(sqlite3 *db, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return MD_ERR_DB; /* a result where an error was expected */
	case SQLITE_NOMEM:
		return MD_ERR_NOMEM;
	case SQLITE_FULL:
		return MD_ERR_FULL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return MD_ERR_BUSY;
	case SQLITE_IOERR:
		return MD_ERR_IO;
	case SQLITE_PERM:
	case SQLITE_READONLY:
	case SQLITE_AUTH:
		return MD_ERR_PERM;
	case SQLITE_CANTOPEN:
		if (db != NULL &&
		    (sqlite3_system_errno(db) == EACCES || sqlite3_system_errno(db) == EPERM))
			return MD_ERR_PERM;
		return MD_ERR_IO;
	default:
		return MD_ERR_DB;
	}
}

/* Record SQLite's message for @rc while doing @what; returns the status.
 * A message longer than the buffer is cut, which is harmless. */
static int
store_fail(struct store *st, int rc, const char *what)
{
	const char *msg = st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);

	if ((rc & 0xff) == SQLITE_ROW || rc == SQLITE_DONE)
		msg = "unexpected result";
	(void)snprintf(st->errmsg, sizeof(st->errmsg), "%s: %s", what, msg);
	return status_from_sqlite(st->db, rc);
}

/* Record a message of our own; returns @status. */
static int store_error(struct store *st, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int
store_error(struct store *st, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	return status;
}

/* ---- statements and values ------------------------------------------- */

/* The prepared statement @id of @st, prepared on first use and kept. */
static int
stmt_get(struct store *st, enum stmt_id id, sqlite3_stmt **out)
{
	int rc;

	*out = NULL;
	if (st->stmt[id] == NULL) {
		rc = sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
		                        &st->stmt[id], NULL);
		if (rc != SQLITE_OK) {
			st->stmt[id] = NULL;
			return store_fail(st, rc, "prepare");
		}
	}
	*out = st->stmt[id];
	return 0;
}

/* Make @s ready for its next use.  sqlite3_reset() repeats the error of the
 * last step, which the caller has already handled; clear_bindings cannot
 * fail. */
static void
stmt_release(sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	(void)sqlite3_reset(s);
	(void)sqlite3_clear_bindings(s);
}

/* Step @s expecting no result row, then release it. */
static int
stmt_exec(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	int status = 0;

	if (rc != SQLITE_DONE)
		status = store_fail(st, rc, what);
	stmt_release(s);
	return status;
}

/* Encode a byte quantity (see the top of the file).  Returns the integer to
 * store, or sets *blob (8 bytes, big-endian) and returns 0 for values that
 * fit no integer form. */
static int64_t
bytes_encode(uint64_t v, unsigned char blob[8], int *use_blob)
{
	int i;

	*use_blob = 0;
	if ((v & 1023u) == 0)
		return (int64_t)(v >> 10);
	if (v <= (uint64_t)INT64_MAX)
		return -(int64_t)v - 1;
	for (i = 0; i < 8; i++)
		blob[i] = (unsigned char)(v >> (56 - 8 * i));
	*use_blob = 1;
	return 0;
}

static uint64_t
column_bytes(sqlite3_stmt *s, int col)
{
	const unsigned char *blob;
	uint64_t v = 0;
	int64_t x;
	int i;

	if (sqlite3_column_type(s, col) == SQLITE_BLOB) {
		blob = sqlite3_column_blob(s, col);
		if (blob == NULL || sqlite3_column_bytes(s, col) != 8)
			return 0;
		for (i = 0; i < 8; i++)
			v = (v << 8) | blob[i];
		return v;
	}
	x = sqlite3_column_int64(s, col);
	if (x >= 0)
		return (uint64_t)x << 10;
	return (uint64_t)(-(x + 1));
}

static uint64_t
column_u64(sqlite3_stmt *s, int col)
{
	return (uint64_t)sqlite3_column_int64(s, col);
}

/* Sticky binders: each does nothing once *rc holds an error, so a run of
 * binds is checked once. */
static void
bind_i64(sqlite3_stmt *s, int idx, int64_t v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_int64(s, idx, v);
}

static void
bind_u64(sqlite3_stmt *s, int idx, uint64_t v, int *rc)
{
	bind_i64(s, idx, (int64_t)v, rc);
}

static void
bind_bytes(sqlite3_stmt *s, int idx, uint64_t v, int *rc)
{
	unsigned char blob[8];
	int use_blob;
	int64_t x = bytes_encode(v, blob, &use_blob);

	if (*rc != SQLITE_OK)
		return;
	if (use_blob)
		*rc = sqlite3_bind_blob(s, idx, blob, 8, SQLITE_TRANSIENT);
	else
		*rc = sqlite3_bind_int64(s, idx, x);
}

static void
bind_null(sqlite3_stmt *s, int idx, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_null(s, idx);
}

/* @text stays valid until the statement is released. */
static void
bind_text(sqlite3_stmt *s, int idx, const char *text, size_t len, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_text64(s, idx, text, len, SQLITE_STATIC, SQLITE_UTF8);
}

static int
bind_check(struct store *st, int rc)
{
	if (rc == SQLITE_OK)
		return 0;
	return store_fail(st, rc, "bind");
}

/* Run @s once its binds are done (@rc: their sticky result), expecting no
 * row; a failed bind releases it unrun. */
static int
stmt_bound_exec(struct store *st, sqlite3_stmt *s, int rc, const char *what)
{
	int status = bind_check(st, rc);

	if (status == 0)
		return stmt_exec(st, s, what);
	stmt_release(s);
	return status;
}

/* Prepared statement @id with the integers @v[0..n) bound to ?1..?n; on
 * error nothing is left bound. */
static int
stmt_with_ids(struct store *st, enum stmt_id id, const int64_t *v, int n, sqlite3_stmt **out)
{
	sqlite3_stmt *q = NULL;
	int status, rc = SQLITE_OK, i;

	*out = NULL;
	status = stmt_get(st, id, &q);
	if (status != 0)
		return status;
	for (i = 0; i < n; i++)
		bind_i64(q, i + 1, v[i], &rc);
	status = bind_check(st, rc);
	if (status != 0) {
		stmt_release(q);
		return status;
	}
	*out = q;
	return 0;
}

/* Room for one more element of @size bytes in @v (capacity *cap, @count
 * used): returns @v or its reallocation; on failure @v unchanged and
 * *status MD_ERR_NOMEM. */
static void *
array_grow(struct store *st, void *v, size_t *cap, size_t count, size_t size, int *status)
{
	size_t ncap;
	void *nv;

	*status = 0;
	if (count < *cap)
		return v;
	ncap = *cap ? *cap * 2 : 64;
	nv = ncap <= SIZE_MAX / size ? realloc(v, ncap * size) : NULL;
	if (nv == NULL) {
		*status = store_error(st, MD_ERR_NOMEM, "out of memory");
		return v;
	}
	*cap = ncap;
	return nv;
}

/* Run query @id with the integers @v[0..n) bound and decode every row with
 * @decode into a new array of @size-byte elements, each zeroed first (*out,
 * free(); NULL when there is no row). */
static int
query_list(struct store *st, enum stmt_id id, const char *what, const int64_t *v, int n,
           size_t size, void (*decode)(sqlite3_stmt *q, void *elem), void **out, size_t *count)
{
	unsigned char *a = NULL;
	size_t k = 0, cap = 0;
	sqlite3_stmt *q = NULL;
	int status, rc = SQLITE_OK;

	*out = NULL;
	*count = 0;
	status = stmt_with_ids(st, id, v, n, &q);
	if (status != 0)
		return status;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		a = array_grow(st, a, &cap, k, size, &status);
		if (status != 0)
			break;
		memset(a + k * size, 0, size);
		decode(q, a + k * size);
		k++;
	}
	if (status == 0 && rc != SQLITE_DONE)
		status = store_fail(st, rc, what);
	stmt_release(q);
	if (status != 0) {
		free(a);
		return status;
	}
	*out = a;
	*count = k;
	return 0;
}

/* Run statement @id with the integers @v[0..n) bound to ?1..?n, expecting
 * no row; *changes (when not NULL) gets the rows it changed.  The plumbing
 * every one-shot integer statement shares. */
static int
exec_ids(struct store *st, enum stmt_id id, const char *what, const int64_t *v, int n,
         int64_t *changes)
{
	sqlite3_stmt *q = NULL;
	int status = stmt_with_ids(st, id, v, n, &q);

	if (status == 0)
		status = stmt_exec(st, q, what);
	if (status == 0 && changes != NULL)
		*changes = sqlite3_changes64(st->db);
	return status;
}

/* Run query @id with the integers @v[0..n) bound, reading the first row's
 * integer columns into @out[0..n_out).  *found (when not NULL) says whether
 * there was a row; without @found, no row is MD_ERR_DB.  NULL columns read
 * as 0. */
static int
query_ids(struct store *st, enum stmt_id id, const char *what, const int64_t *v, int n,
          int64_t *out, int n_out, int *found)
{
	sqlite3_stmt *q = NULL;
	int status, rc = SQLITE_OK, i;

	for (i = 0; i < n_out; i++)
		out[i] = 0;
	if (found != NULL)
		*found = 0;
	status = stmt_with_ids(st, id, v, n, &q);
	if (status == 0) {
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			for (i = 0; i < n_out; i++)
				out[i] = sqlite3_column_int64(q, i);
			if (found != NULL)
				*found = 1;
		} else if (rc != SQLITE_DONE || found == NULL) {
			status = store_fail(st, rc, what);
		}
	}
	stmt_release(q);
	return status;
}

static const char *
column_text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t != NULL ? (const char *)t : "";
}

/* ---- opening, schema and migrations ---------------------------------- */

/* Run fixed SQL (pragmas, migration steps): no parameters, no rows. */
static int
exec_sql(struct store *st, const char *sql, const char *what)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_fail(st, rc, what);
	return 0;
}

/* Run a fixed query returning one row with one column: its integer value, or
 * its text into @text (when not NULL). */
static int
query_one(struct store *st, const char *sql, int64_t *value, char *text, size_t text_size)
{
	sqlite3_stmt *s = NULL;
	int status = 0;
	int rc;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		status = store_fail(st, rc, sql);
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		status = store_fail(st, rc, sql);
		goto out;
	}
	if (value != NULL)
		*value = sqlite3_column_int64(s, 0);
	if (text != NULL)
		(void)snprintf(text, text_size, "%s", column_text(s, 0));
out:
	/* finalize repeats the step's error, handled above */
	(void)sqlite3_finalize(s);
	return status;
}

/* Check the application id and that @version is one this code knows. */
static int
schema_check(struct store *st, int64_t version, int64_t app_id)
{
	if (app_id != 0 && app_id != STORE_APPLICATION_ID)
		return store_error(st, MD_ERR_DB,
		                   "not a memdelta database (application_id %" PRId64 ")", app_id);
	/* Migration 0 -> 1 sets the application id in the transaction that
	 * sets version 1: a version without it is someone else's. */
	if (app_id == 0 && version != 0)
		return store_error(st, MD_ERR_DB,
		                   "not a memdelta database (schema version %" PRId64
		                   " but no application id)",
		                   version);
	if (version > SCHEMA_VERSION)
		return store_error(st, MD_ERR_DB,
		                   "database schema version %" PRId64
		                   " is newer than this memdelta knows (%d): upgrade memdelta",
		                   version, SCHEMA_VERSION);
	if (version < 0)
		return store_error(st, MD_ERR_DB, "bad database schema version %" PRId64, version);
	return 0;
}

/* Version 0 must be an empty database: with tables it is someone else's. */
static int
schema_check_empty(struct store *st, int64_t version)
{
	int64_t n_objects = 0;
	int status;

	if (version != 0)
		return 0;
	status = query_one(st, "SELECT count(*) FROM sqlite_schema", &n_objects, NULL, 0);
	if (status == 0 && n_objects != 0)
		status = store_error(st, MD_ERR_DB,
		                     "not a memdelta database (tables but no schema version)");
	return status;
}

static int
schema_read(struct store *st, int64_t *version, int64_t *app_id)
{
	int status = query_one(st, "PRAGMA user_version", version, NULL, 0);

	if (status == 0)
		status = query_one(st, "PRAGMA application_id", app_id, NULL, 0);
	return status;
}

/* Read the schema version and refuse newer, foreign or someone else's
 * databases (schema_check, schema_check_empty). */
static int
schema_verify(struct store *st, int64_t *version)
{
	int64_t app_id = 0;
	int status = schema_read(st, version, &app_id);

	if (status == 0)
		status = schema_check(st, *version, app_id);
	if (status == 0)
		status = schema_check_empty(st, *version);
	return status;
}

/* Apply the pending migration steps in one transaction. */
static int
migrate(struct store *st)
{
	int64_t version = 0;
	char sql[64];
	int status;
	int n;

	status = exec_sql(st, "BEGIN IMMEDIATE", "begin migration");
	if (status != 0)
		return status;
	/* Read again under the write lock: another writer may have migrated. */
	status = schema_verify(st, &version);
	for (; status == 0 && version < SCHEMA_VERSION; version++) {
		status = exec_sql(st, migrations[version], "migration");
		if (status != 0)
			break;
		n = snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", (int)version + 1);
		if (n < 0 || (size_t)n >= sizeof(sql))
			status = store_error(st, MD_ERR_DB, "migration: pragma too long");
		else
			status = exec_sql(st, sql, "migration");
	}
	if (status == 0)
		status = exec_sql(st, "COMMIT", "commit migration");
	if (status != 0 && !sqlite3_get_autocommit(st->db)) {
		/* The migration's error is the one to report. */
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	}
	return status;
}

static int
open_readwrite(struct store *st)
{
	int64_t version = 0;
	char mode[16];
	int status;

	/* Fail on a newer or foreign schema before changing anything. */
	status = schema_verify(st, &version);
	if (status != 0)
		return status;
	if (sqlite3_db_readonly(st->db, "main") == 1)
		return store_error(st, MD_ERR_PERM, "the database file is not writable");
	status = query_one(st, "PRAGMA journal_mode = WAL", NULL, mode, sizeof(mode));
	if (status != 0)
		return status;
	if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)
		return store_error(st, MD_ERR_DB, "cannot switch the database to WAL mode (%s)",
		                   mode);
	/* NORMAL is durable enough in WAL mode: a power cut may lose the
	 * last snapshots, never consistency. */
	status = exec_sql(st, "PRAGMA synchronous = NORMAL", "synchronous");
	if (status == 0)
		status = exec_sql(st, "PRAGMA foreign_keys = ON", "foreign_keys");
	if (status == 0)
		status = migrate(st);
	return status;
}

static int
open_readonly(struct store *st)
{
	int64_t version = 0, app_id = 0;
	int status;

	status = schema_read(st, &version, &app_id);
	if (status == 0)
		status = schema_check(st, version, app_id);
	if (status != 0)
		return status;
	if (version == 0)
		return store_error(st, MD_ERR_DB,
		                   "not a memdelta database (schema not initialised): open it "
		                   "read-write once");
	if (version < SCHEMA_VERSION)
		return store_error(st, MD_ERR_DB,
		                   "database schema version %" PRId64
		                   " is older than %d: open it read-write once to migrate it",
		                   version, SCHEMA_VERSION);
	return 0;
}

int
store_open(const char *path, unsigned flags, struct store **out)
{
	struct store *st = NULL;
	int oflags, rc, status = 0;

	*out = NULL;
	open_errmsg[0] = '\0';
	if (path == NULL || path[0] == '\0' || (flags & ~(unsigned)STORE_READONLY) != 0) {
		(void)snprintf(open_errmsg, sizeof(open_errmsg), "invalid path or flags");
		return MD_ERR_INVAL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		(void)snprintf(open_errmsg, sizeof(open_errmsg), "out of memory");
		return MD_ERR_NOMEM;
	}
	st->flags = flags;
	oflags = (flags & STORE_READONLY) ? SQLITE_OPEN_READONLY
	                                  : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &st->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		status = store_fail(st, rc, path);
		goto out;
	}
	rc = sqlite3_extended_result_codes(st->db, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK) {
		status = store_fail(st, rc, "configure");
		goto out;
	}
	if (flags & STORE_READONLY)
		status = open_readonly(st);
	else
		status = open_readwrite(st);
out:
	if (status != 0) {
		(void)snprintf(open_errmsg, sizeof(open_errmsg), "%s", st->errmsg);
		store_close(st);
		return status;
	}
	*out = st;
	return 0;
}

/* ---- the writer's cache ---------------------------------------------- */

static void
cache_clear(struct instance_cache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].detail);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static struct instance_cache *
cache_find(struct store *st, int64_t instance_id)
{
	size_t i;

	for (i = 0; i < STORE_MAX_CACHES; i++) {
		if (st->caches[i].instance_id == instance_id)
			return &st->caches[i];
	}
	return NULL;
}

static void
cache_drop(struct store *st, int64_t instance_id)
{
	struct instance_cache *c = cache_find(st, instance_id);

	if (c != NULL)
		cache_clear(c);
}

/* A free slot for a new cache: other instances of @target_id are dropped
 * (a target's old instance has exited), then the least recently used one. */
static struct instance_cache *
cache_slot(struct store *st, int64_t target_id)
{
	struct instance_cache *lru = &st->caches[0];
	size_t i;

	for (i = 0; i < STORE_MAX_CACHES; i++) {
		if (st->caches[i].instance_id != 0 && st->caches[i].target_id == target_id)
			cache_clear(&st->caches[i]);
	}
	for (i = 0; i < STORE_MAX_CACHES; i++) {
		if (st->caches[i].instance_id == 0)
			return &st->caches[i];
		if (st->caches[i].last_used < lru->last_used)
			lru = &st->caches[i];
	}
	cache_clear(lru);
	return lru;
}

static int
cached_cmp(const void *a, const void *b)
{
	const struct cached_version *x = a, *y = b;

	return (x->r.base > y->r.base) - (x->r.base < y->r.base);
}

/* Decode one row of STMT_VERSIONS_AT into @r (detail points into the row). */
static void
version_row(sqlite3_stmt *s, int64_t *id, struct region *r)
{
	memset(r, 0, sizeof(*r));
	*id = sqlite3_column_int64(s, 0);
	r->base = column_u64(s, 1);
	r->size = column_bytes(s, 2);
	r->allocation_base = r->base - column_u64(s, 3);
	r->type = (enum region_type)sqlite3_column_int(s, 4);
	r->state = (enum region_state)sqlite3_column_int(s, 5);
	r->protection = (unsigned)sqlite3_column_int64(s, 6);
	r->committed = column_bytes(s, 7);
	r->detail = column_text(s, 8);
	r->resident = column_bytes(s, 9);
	r->private_resident = column_bytes(s, 10);
	r->shared_resident = r->resident - r->private_resident - column_bytes(s, 11);
	r->pss = column_bytes(s, 12);
	r->swap = column_bytes(s, 13);
	r->locked = column_bytes(s, 14);
}

/* Load the open versions of instance @inst (valid at its last snapshot)
 * into @c. */
static int
cache_load(struct store *st, int64_t target_id, const struct instance_row *inst,
           struct instance_cache *c)
{
	struct cached_version *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s = NULL;
	int status, rc = SQLITE_OK;

	status = stmt_with_ids(st, STMT_VERSIONS_AT,
	                       (const int64_t[]){inst->id, inst->last_snapshot_id}, 2, &s);
	if (status != 0)
		return status;
	while (status == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cached_version *cv;

		v = array_grow(st, v, &cap, n, sizeof(*v), &status);
		if (status != 0)
			break;
		cv = &v[n];
		memset(cv, 0, sizeof(*cv));
		version_row(s, &cv->id, &cv->r);
		if (cv->r.detail[0] != '\0') {
			cv->detail = strdup(cv->r.detail);
			if (cv->detail == NULL) {
				status = store_error(st, MD_ERR_NOMEM, "out of memory");
				break;
			}
		}
		cv->r.detail = cv->detail != NULL ? cv->detail : "";
		n++;
	}
	if (status == 0 && rc != SQLITE_DONE)
		status = store_fail(st, rc, "load open versions");
	stmt_release(s);
	if (status != 0) {
		while (n > 0)
			free(v[--n].detail);
		free(v);
		return status;
	}
	qsort(v, n, sizeof(*v), cached_cmp);
	c->instance_id = inst->id;
	c->target_id = target_id;
	c->last_snapshot_id = inst->last_snapshot_id;
	c->v = v;
	c->n = n;
	return 0;
}

/* The cache of instance @inst, loaded from the database unless the one in
 * memory describes the instance's last snapshot. */
static int
cache_get(struct store *st, int64_t target_id, const struct instance_row *inst,
          struct instance_cache **out)
{
	struct instance_cache *c = cache_find(st, inst->id);
	int status;

	*out = NULL;
	if (c != NULL && c->last_snapshot_id != inst->last_snapshot_id) {
		/* Someone else wrote this instance: start again from disk. */
		cache_clear(c);
		c = NULL;
	}
	if (c == NULL) {
		c = cache_slot(st, target_id);
		if (inst->last_snapshot_id != 0) {
			status = cache_load(st, target_id, inst, c);
			if (status != 0)
				return status;
		} else {
			c->instance_id = inst->id;
			c->target_id = target_id;
		}
	}
	c->last_used = ++st->tick;
	*out = c;
	return 0;
}

/* ---- writing ---------------------------------------------------------- */

/* Regions must be valid and sorted: strictly increasing bases, no overlap,
 * no wrap past the top of the address space, no PAGE_TABLE region (the page
 * table is a process-level number, snapshot.page_table_bytes: see
 * totals_add_page_table()). */
static int
snapshot_check(struct store *st, const struct snapshot *s)
{
	size_t i;

	if (s->n_regions > 0 && s->regions == NULL)
		return store_error(st, MD_ERR_INVAL, "regions missing");
	if (s->n_regions > (uint64_t)INT64_MAX)
		return store_error(st, MD_ERR_INVAL, "too many regions");
	for (i = 0; i < s->n_regions; i++) {
		const struct region *r = &s->regions[i];

		if ((unsigned)r->type >= REGION_TYPE_COUNT || (unsigned)r->state >= STATE_COUNT)
			return store_error(st, MD_ERR_INVAL,
			                   "region %" PRIu64 ": bad type or state", (uint64_t)i);
		if (r->type == REGION_PAGE_TABLE)
			return store_error(st, MD_ERR_INVAL,
			                   "region %" PRIu64 ": the page table is not a region "
			                   "(snapshot.page_table_bytes)",
			                   (uint64_t)i);
		if (r->size > 0 && r->size - 1 > UINT64_MAX - r->base)
			return store_error(st, MD_ERR_INVAL, "region %" PRIu64 ": wraps around",
			                   (uint64_t)i);
		if (i > 0) {
			const struct region *p = &s->regions[i - 1];

			if (r->base <= p->base || r->base - p->base < p->size)
				return store_error(st, MD_ERR_INVAL,
				                   "region %" PRIu64 ": unsorted or overlapping",
				                   (uint64_t)i);
		}
	}
	return 0;
}

/* The per-cell rows of @s: cell sums without the page table (stored apart)
 * and where each region starts a block at type and process level. */
static void
cells_compute(const struct snapshot *s, struct cell_row cells[REGION_TYPE_COUNT][STATE_COUNT],
              uint64_t *free_bytes)
{
	struct snapshot_totals t;
	struct snapshot regions_only = *s;
	size_t i;
	int ty, sx;

	/* A shallow copy without the page table: snapshot_totals() folds it
	 * into the PAGE_TABLE cell, which is stored apart. */
	regions_only.page_table_bytes = 0;
	snapshot_totals(&regions_only, &t);
	*free_bytes = t.free;
	memset(cells, 0, sizeof(struct cell_row) * REGION_TYPE_COUNT * STATE_COUNT);
	for (ty = 0; ty < REGION_TYPE_COUNT; ty++)
		for (sx = 0; sx < STATE_COUNT; sx++)
			cells[ty][sx].t = t.cell[ty][sx];
	for (i = 0; i < s->n_regions; i++) {
		const struct region *r = &s->regions[i];
		const struct region *p = i > 0 ? &s->regions[i - 1] : NULL;
		int new_block = p == NULL || p->allocation_base != r->allocation_base;
		int new_block_in_type = new_block || p->type != r->type;

		cells[r->type][r->state].type_blocks += new_block_in_type ? 1 : 0;
		cells[r->type][r->state].all_blocks += new_block ? 1 : 0;
	}
}

static int
put_totals(struct store *st, int64_t sid, struct cell_row cells[REGION_TYPE_COUNT][STATE_COUNT])
{
	sqlite3_stmt *s = NULL;
	int ty, sx, status = 0;

	for (ty = 0; status == 0 && ty < REGION_TYPE_COUNT; ty++) {
		for (sx = 0; status == 0 && sx < STATE_COUNT; sx++) {
			const struct cell_row *c = &cells[ty][sx];
			int rc = SQLITE_OK;

			if (c->t.regions == 0)
				continue;
			status = stmt_get(st, STMT_TOTALS_INSERT, &s);
			if (status != 0)
				break;
			rc = SQLITE_OK;
			bind_i64(s, 1, sid, &rc);
			bind_i64(s, 2, ty, &rc);
			bind_i64(s, 3, sx, &rc);
			bind_bytes(s, 4, c->t.size, &rc);
			bind_bytes(s, 5, c->t.committed, &rc);
			bind_bytes(s, 6, c->t.resident, &rc);
			bind_bytes(s, 7, c->t.private_resident, &rc);
			bind_bytes(s, 8, c->t.shared_resident, &rc);
			bind_bytes(s, 9, c->t.pss, &rc);
			bind_bytes(s, 10, c->t.swap, &rc);
			bind_bytes(s, 11, c->t.locked, &rc);
			bind_u64(s, 12, c->t.regions, &rc);
			bind_u64(s, 13, c->t.regions - c->t.blocks, &rc);
			bind_u64(s, 14, c->t.blocks - c->type_blocks, &rc);
			bind_u64(s, 15, c->type_blocks - c->all_blocks, &rc);
			bind_bytes(s, 16, c->t.largest, &rc);
			status = stmt_bound_exec(st, s, rc, "insert totals");
		}
	}
	return status;
}

/* Find instance (target, pid, start_time) of @s, or create it. */
static int
instance_resolve(struct store *st, int64_t target_id, const struct snapshot *s,
                 struct instance_row *inst)
{
	sqlite3_stmt *q = NULL;
	size_t name_len = strnlen(s->name, sizeof(s->name));
	const char *cmdline = s->cmdline != NULL ? s->cmdline : "";
	int status, rc = SQLITE_OK;

	memset(inst, 0, sizeof(*inst));
	status = stmt_get(st, STMT_INSTANCE_FIND, &q);
	if (status != 0)
		return status;
	rc = SQLITE_OK;
	bind_i64(q, 1, target_id, &rc);
	bind_i64(q, 2, s->pid, &rc);
	bind_u64(q, 3, s->start_time, &rc);
	status = bind_check(st, rc);
	if (status == 0) {
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			const char *name = column_text(q, 3);

			inst->id = sqlite3_column_int64(q, 0);
			inst->last_snapshot_id = sqlite3_column_int64(q, 1);
			inst->same_start_ms = sqlite3_column_int64(q, 2) == s->start_time_ms;
			inst->same_name =
			        strlen(name) == name_len && memcmp(name, s->name, name_len) == 0;
			inst->same_cmdline = strcmp(column_text(q, 4), cmdline) == 0;
		} else if (rc != SQLITE_DONE) {
			status = store_fail(st, rc, "find instance");
		}
	}
	stmt_release(q);
	if (status != 0 || inst->id != 0)
		return status;

	status = stmt_get(st, STMT_INSTANCE_INSERT, &q);
	if (status != 0)
		return status;
	rc = SQLITE_OK;
	bind_i64(q, 1, target_id, &rc);
	bind_i64(q, 2, s->pid, &rc);
	bind_u64(q, 3, s->start_time, &rc);
	bind_i64(q, 4, s->start_time_ms, &rc);
	bind_text(q, 5, s->name, name_len, &rc);
	bind_text(q, 6, cmdline, strlen(cmdline), &rc);
	status = bind_check(st, rc);
	if (status == 0) {
		rc = sqlite3_step(q);
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			status = store_error(st, MD_ERR_NOTFOUND, "no target %" PRId64, target_id);
		else if (rc != SQLITE_DONE)
			status = store_fail(st, rc, "insert instance");
	}
	stmt_release(q);
	if (status != 0)
		return status;
	inst->id = sqlite3_last_insert_rowid(st->db);
	inst->same_name = inst->same_cmdline = inst->same_start_ms = 1;
	return 0;
}

static int
put_snapshot_row(struct store *st, const struct instance_row *inst, const struct snapshot *s,
                 uint64_t free_bytes, int64_t *sid)
{
	sqlite3_stmt *q = NULL;
	const char *cmdline = s->cmdline != NULL ? s->cmdline : "";
	int status, rc = SQLITE_OK;

	status = stmt_get(st, STMT_SNAPSHOT_INSERT, &q);
	if (status != 0)
		return status;
	rc = SQLITE_OK;
	bind_i64(q, 1, inst->id, &rc);
	bind_i64(q, 2, s->time_ms, &rc);
	bind_u64(q, 3, s->n_regions, &rc);
	bind_i64(q, 4, s->flags, &rc);
	bind_bytes(q, 5, s->page_table_bytes, &rc);
	bind_u64(q, 6, s->collect_ns, &rc);
	bind_bytes(q, 7, free_bytes, &rc);
	if (inst->same_name)
		bind_null(q, 8, &rc);
	else
		bind_text(q, 8, s->name, strnlen(s->name, sizeof(s->name)), &rc);
	if (inst->same_cmdline)
		bind_null(q, 9, &rc);
	else
		bind_text(q, 9, cmdline, strlen(cmdline), &rc);
	if (inst->same_start_ms)
		bind_null(q, 10, &rc);
	else
		bind_i64(q, 10, s->start_time_ms, &rc);
	status = stmt_bound_exec(st, q, rc, "insert snapshot");
	if (status == 0)
		*sid = sqlite3_last_insert_rowid(st->db);
	return status;
}

/* The id of string @text, inserted when new. */
static int
string_intern(struct store *st, const char *text, int64_t *id)
{
	sqlite3_stmt *q = NULL;
	int status, rc = SQLITE_OK;

	*id = 0;
	status = stmt_get(st, STMT_STRING_FIND, &q);
	if (status != 0)
		return status;
	rc = SQLITE_OK;
	bind_text(q, 1, text, strlen(text), &rc);
	status = bind_check(st, rc);
	if (status == 0) {
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW)
			*id = sqlite3_column_int64(q, 0);
		else if (rc != SQLITE_DONE)
			status = store_fail(st, rc, "find string");
	}
	stmt_release(q);
	if (status != 0 || *id != 0)
		return status;
	status = stmt_get(st, STMT_STRING_INSERT, &q);
	if (status != 0)
		return status;
	rc = SQLITE_OK;
	bind_text(q, 1, text, strlen(text), &rc);
	status = stmt_bound_exec(st, q, rc, "insert string");
	if (status == 0)
		*id = sqlite3_last_insert_rowid(st->db);
	return status;
}

static int
put_counters(struct store *st, int64_t version_id, int64_t sid, const struct region *r)
{
	sqlite3_stmt *q = NULL;
	int status, rc = SQLITE_OK;

	status = stmt_get(st, STMT_COUNTERS_INSERT, &q);
	if (status != 0)
		return status;
	rc = SQLITE_OK;
	bind_i64(q, 1, version_id, &rc);
	bind_i64(q, 2, sid, &rc);
	bind_bytes(q, 3, r->resident, &rc);
	bind_bytes(q, 4, r->private_resident, &rc);
	bind_bytes(q, 5, r->resident - r->private_resident - r->shared_resident, &rc);
	bind_bytes(q, 6, r->pss, &rc);
	bind_bytes(q, 7, r->swap, &rc);
	bind_bytes(q, 8, r->locked, &rc);
	status = stmt_bound_exec(st, q, rc, "insert counters");
	return status;
}

static int
put_version(struct store *st, int64_t instance_id, int64_t sid, const struct region *r,
            int64_t *version_id)
{
	sqlite3_stmt *q = NULL;
	int64_t detail_id = 0;
	int status, rc = SQLITE_OK;

	if (r->detail[0] != '\0') {
		status = string_intern(st, r->detail, &detail_id);
		if (status != 0)
			return status;
	}
	status = stmt_get(st, STMT_VERSION_INSERT, &q);
	if (status != 0)
		return status;
	rc = SQLITE_OK;
	bind_i64(q, 1, instance_id, &rc);
	bind_u64(q, 2, r->base, &rc);
	bind_bytes(q, 3, r->size, &rc);
	bind_u64(q, 4, r->base - r->allocation_base, &rc);
	bind_i64(q, 5, r->type, &rc);
	bind_i64(q, 6, r->state, &rc);
	bind_i64(q, 7, r->protection, &rc);
	bind_bytes(q, 8, r->committed, &rc);
	if (detail_id != 0)
		bind_i64(q, 9, detail_id, &rc);
	else
		bind_null(q, 9, &rc);
	bind_i64(q, 10, sid, &rc);
	status = stmt_bound_exec(st, q, rc, "insert version");
	if (status != 0)
		return status;
	*version_id = sqlite3_last_insert_rowid(st->db);
	return put_counters(st, *version_id, sid, r);
}

static int
close_version(struct store *st, int64_t version_id, int64_t last_snapshot_id)
{
	return exec_ids(st, STMT_VERSION_CLOSE, "close version",
	                (const int64_t[]){version_id, last_snapshot_id}, 2, NULL);
}

static int
same_stable(const struct region *a, const struct region *b)
{
	return a->base == b->base && a->size == b->size &&
	       a->allocation_base == b->allocation_base && a->type == b->type &&
	       a->state == b->state && a->protection == b->protection &&
	       a->committed == b->committed && strcmp(a->detail, b->detail) == 0;
}

static int
same_counters(const struct region *a, const struct region *b)
{
	return a->resident == b->resident && a->private_resident == b->private_resident &&
	       a->shared_resident == b->shared_resident && a->pss == b->pss && a->swap == b->swap &&
	       a->locked == b->locked;
}

/* Merge-join the cached open versions of the instance with the regions of
 * @s (both sorted by base): keep, close or open versions and write the
 * counters that moved.  Fills @next (n_regions entries) with the state to
 * cache once committed. */
static int
put_regions(struct store *st, struct instance_cache *c, int64_t sid, const struct snapshot *s,
            struct cached_version *next)
{
	size_t i = 0, j;
	int status = 0;

	for (j = 0; status == 0 && j < s->n_regions; j++) {
		const struct region *r = &s->regions[j];
		struct cached_version *nv = &next[j];
		struct cached_version *old = NULL;

		while (status == 0 && i < c->n && c->v[i].r.base < r->base)
			status = close_version(st, c->v[i++].id, c->last_snapshot_id);
		if (status != 0)
			break;
		if (i < c->n && c->v[i].r.base == r->base) {
			old = &c->v[i++];
			if (!same_stable(&old->r, r)) {
				status = close_version(st, old->id, c->last_snapshot_id);
				old = NULL;
			}
		}
		if (status != 0)
			break;
		nv->r = *r;
		if (old != NULL) {
			old->matched = 1;
			nv->id = old->id;
			nv->detail = old->detail;
			if (!same_counters(&old->r, r))
				status = put_counters(st, old->id, sid, r);
		} else {
			if (r->detail[0] != '\0') {
				nv->detail = strdup(r->detail);
				if (nv->detail == NULL) {
					status = store_error(st, MD_ERR_NOMEM, "out of memory");
					break;
				}
				nv->fresh = 1;
			}
			status = put_version(st, c->instance_id, sid, r, &nv->id);
		}
		nv->r.detail = nv->detail != NULL ? nv->detail : "";
	}
	while (status == 0 && i < c->n)
		status = close_version(st, c->v[i++].id, c->last_snapshot_id);
	return status;
}

static int
set_instance_last(struct store *st, int64_t instance_id, int64_t sid)
{
	return exec_ids(st, STMT_INSTANCE_SET_LAST, "update instance",
	                (const int64_t[]){instance_id, sid}, 2, NULL);
}

static int
txn_run(struct store *st, enum stmt_id id, const char *what)
{
	sqlite3_stmt *q = NULL;
	int status = stmt_get(st, id, &q);

	if (status == 0)
		status = stmt_exec(st, q, what);
	return status;
}

/* Roll back after an error whose message is already in st->errmsg. */
static void
txn_abort(struct store *st)
{
	char saved[sizeof(st->errmsg)];

	if (sqlite3_get_autocommit(st->db))
		return; /* SQLite already rolled back */
	memcpy(saved, st->errmsg, sizeof(saved));
	if (txn_run(st, STMT_ROLLBACK, "rollback") != 0) {
		char rb[sizeof(st->errmsg)];

		memcpy(rb, st->errmsg, sizeof(rb));
		(void)snprintf(st->errmsg, sizeof(st->errmsg), "%.300s (and %.180s)", saved, rb);
	} else {
		memcpy(st->errmsg, saved, sizeof(saved));
	}
}

int
store_put_snapshot(struct store *st, int64_t target_id, const struct snapshot *s,
                   int64_t *snapshot_id)
{
	struct cell_row cells[REGION_TYPE_COUNT][STATE_COUNT];
	struct cached_version *next = NULL;
	struct instance_cache *c = NULL;
	struct instance_row inst;
	uint64_t free_bytes = 0;
	int64_t sid = 0;
	int status, in_txn = 0;
	size_t i;

	if (snapshot_id != NULL)
		*snapshot_id = 0;
	memset(&inst, 0, sizeof(inst));
	if (st == NULL || s == NULL)
		return MD_ERR_INVAL;
	if (st->flags & STORE_READONLY)
		return store_error(st, MD_ERR_INVAL, "the store is open read-only");
	status = snapshot_check(st, s);
	if (status != 0)
		return status;
	next = calloc(s->n_regions > 0 ? s->n_regions : 1, sizeof(*next));
	if (next == NULL)
		return store_error(st, MD_ERR_NOMEM, "out of memory");
	cells_compute(s, cells, &free_bytes);

	status = txn_run(st, STMT_BEGIN, "begin");
	if (status != 0)
		goto out;
	in_txn = 1;
	status = instance_resolve(st, target_id, s, &inst);
	if (status == 0)
		status = cache_get(st, target_id, &inst, &c);
	if (status == 0)
		status = put_snapshot_row(st, &inst, s, free_bytes, &sid);
	if (status == 0)
		status = put_regions(st, c, sid, s, next);
	if (status == 0)
		status = put_totals(st, sid, cells);
	if (status == 0)
		status = set_instance_last(st, inst.id, sid);
	if (status == 0)
		status = txn_run(st, STMT_COMMIT, "commit");
	if (status != 0)
		goto out;
	in_txn = 0;

	/* Committed: the next state becomes the cache. */
	for (i = 0; i < c->n; i++) {
		if (!c->v[i].matched)
			free(c->v[i].detail);
	}
	free(c->v);
	for (i = 0; i < s->n_regions; i++)
		next[i].fresh = 0;
	c->v = next;
	c->n = s->n_regions;
	c->last_snapshot_id = sid;
	next = NULL;
	if (snapshot_id != NULL)
		*snapshot_id = sid;
out:
	if (status != 0) {
		if (in_txn)
			txn_abort(st);
		if (next != NULL) {
			for (i = 0; i < s->n_regions; i++) {
				if (next[i].fresh)
					free(next[i].detail);
			}
		}
		/* The cache may hold marks of this put: read it again next time. */
		if (inst.id != 0)
			cache_drop(st, inst.id);
	}
	free(next);
	return status;
}

/* ---- reading ---------------------------------------------------------- */

/* Step STMT_SNAPSHOT_GET to the row of @snapshot_id: 0 with the row ready
 * in *out (the caller releases it), else MD_ERR_NOTFOUND or an error. */
static int
snapshot_row(struct store *st, int64_t snapshot_id, sqlite3_stmt **out)
{
	sqlite3_stmt *q = NULL;
	int status, rc;

	*out = NULL;
	status = stmt_with_ids(st, STMT_SNAPSHOT_GET, &snapshot_id, 1, &q);
	if (status != 0)
		return status;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*out = q;
		return 0;
	}
	if (rc == SQLITE_DONE)
		status = store_error(st, MD_ERR_NOTFOUND, "no snapshot %" PRId64, snapshot_id);
	else
		status = store_fail(st, rc, "read snapshot");
	stmt_release(q);
	return status;
}

int
store_get_snapshot(struct store *st, int64_t snapshot_id, struct snapshot **out)
{
	struct snapshot *snap = NULL;
	sqlite3_stmt *q = NULL;
	int64_t instance_id = 0;
	uint64_t n_regions = 0;
	int status, rc = SQLITE_OK;

	*out = NULL;
	if (st == NULL)
		return MD_ERR_INVAL;
	status = snapshot_new(&snap);
	if (status != 0)
		return store_error(st, status, "out of memory");

	status = snapshot_row(st, snapshot_id, &q);
	if (status == 0) {
		{
			const char *name = column_text(q, 11);
			size_t len = strlen(name);

			instance_id = sqlite3_column_int64(q, 0);
			snap->time_ms = sqlite3_column_int64(q, 2);
			n_regions = column_u64(q, 3);
			snap->flags = (unsigned)sqlite3_column_int64(q, 4);
			snap->page_table_bytes = column_bytes(q, 5);
			snap->collect_ns = column_u64(q, 6);
			snap->pid = sqlite3_column_int(q, 8);
			snap->start_time = column_u64(q, 9);
			snap->start_time_ms = sqlite3_column_int64(q, 10);
			if (len >= sizeof(snap->name))
				len = sizeof(snap->name) - 1;
			memcpy(snap->name, name, len);
			snap->name[len] = '\0';
			status = snapshot_set_cmdline(snap, column_text(q, 12));
			if (status != 0)
				status = store_error(st, status, "out of memory");
		}
		stmt_release(q);
	}
	if (status != 0)
		goto out;

	status = stmt_with_ids(st, STMT_VERSIONS_AT, (const int64_t[]){instance_id, snapshot_id}, 2,
	                       &q);
	if (status != 0)
		goto out;
	while (status == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct region r;
		int64_t vid;

		version_row(q, &vid, &r);
		status = snapshot_add_region(snap, &r);
		if (status != 0)
			status = store_error(st, status, "out of memory");
	}
	if (status == 0 && rc != SQLITE_DONE)
		status = store_fail(st, rc, "read regions");
	stmt_release(q);
	if (status != 0)
		goto out;
	if (snap->n_regions != n_regions) {
		status = store_error(st, MD_ERR_DB,
		                     "snapshot %" PRId64 ": %" PRIu64 " regions found, %" PRIu64
		                     " stored",
		                     snapshot_id, (uint64_t)snap->n_regions, n_regions);
		goto out;
	}
	/* Signed storage may have put addresses above 2^63 first. */
	if (snap->n_regions > 1 && snapshot_sort(snap) != 0)
		status = store_error(st, MD_ERR_DB, "snapshot %" PRId64 ": overlapping regions",
		                     snapshot_id);
out:
	if (status != 0) {
		snapshot_free(snap);
		return status;
	}
	*out = snap;
	return 0;
}

/* Add the page table to @t exactly as snapshot_totals() counts it.  With no
 * PAGE_TABLE regions (store_put_snapshot() rejects them) its share is the
 * totals of a snapshot holding nothing but the page table, so ask
 * snapshot_totals() rather than repeat its rule here. */
static void
totals_add_page_table(struct snapshot_totals *t, uint64_t page_table_bytes)
{
	struct snapshot_totals pt;
	struct snapshot only;
	int ty, sx;

	memset(&only, 0, sizeof(only));
	only.cmdline = "";
	only.page_table_bytes = page_table_bytes;
	snapshot_totals(&only, &pt);
	for (ty = 0; ty < REGION_TYPE_COUNT; ty++) {
		for (sx = 0; sx < STATE_COUNT; sx++)
			region_totals_add(&t->cell[ty][sx], &pt.cell[ty][sx]);
		region_totals_add(&t->by_type[ty], &pt.by_type[ty]);
	}
	for (sx = 0; sx < STATE_COUNT; sx++)
		region_totals_add(&t->by_state[sx], &pt.by_state[sx]);
	region_totals_add(&t->all, &pt.all);
	t->free += pt.free;
	t->private_committed += pt.private_committed;
	t->private_touched += pt.private_touched;
}

int
store_get_totals(struct store *st, int64_t snapshot_id, struct snapshot_totals *out)
{
	struct cell_row cells[REGION_TYPE_COUNT][STATE_COUNT];
	struct snapshot_totals t;
	sqlite3_stmt *q = NULL;
	uint64_t page_table_bytes = 0;
	int status, rc = SQLITE_OK;
	int ty, sx;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return MD_ERR_INVAL;
	memset(&t, 0, sizeof(t));
	memset(cells, 0, sizeof(cells));

	status = snapshot_row(st, snapshot_id, &q);
	if (status != 0)
		return status;
	page_table_bytes = column_bytes(q, 5);
	t.free = column_bytes(q, 7);
	stmt_release(q);

	status = stmt_with_ids(st, STMT_TOTALS_GET, &snapshot_id, 1, &q);
	if (status != 0)
		return status;
	while (status == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t type = sqlite3_column_int64(q, 0), state = sqlite3_column_int64(q, 1);
		struct cell_row *c;

		if (type < 0 || type >= REGION_TYPE_COUNT || state < 0 || state >= STATE_COUNT) {
			status = store_error(st, MD_ERR_DB, "totals: bad cell %" PRId64 "/%" PRId64,
			                     type, state);
			break;
		}
		c = &cells[type][state];
		c->t.size = column_bytes(q, 2);
		c->t.committed = column_bytes(q, 3);
		c->t.reserved = state == STATE_RESERVE ? c->t.size : 0;
		c->t.resident = column_bytes(q, 4);
		c->t.private_resident = column_bytes(q, 5);
		c->t.shared_resident = column_bytes(q, 6);
		c->t.pss = column_bytes(q, 7);
		c->t.swap = column_bytes(q, 8);
		c->t.locked = column_bytes(q, 9);
		c->t.regions = column_u64(q, 10);
		c->t.blocks = c->t.regions - column_u64(q, 11);
		c->type_blocks = c->t.blocks - column_u64(q, 12);
		c->all_blocks = c->type_blocks - column_u64(q, 13);
		c->t.largest = column_bytes(q, 14);
	}
	if (status == 0 && rc != SQLITE_DONE)
		status = store_fail(st, rc, "read totals");
	stmt_release(q);
	if (status != 0)
		return status;

	/* Put the cells together the way snapshot_totals() does. */
	for (ty = 0; ty < REGION_TYPE_COUNT; ty++) {
		for (sx = 0; sx < STATE_COUNT; sx++) {
			const struct cell_row *c = &cells[ty][sx];
			struct region_totals part = c->t;

			t.cell[ty][sx] = c->t;
			region_totals_add(&t.by_state[sx], &c->t);
			part.blocks = c->type_blocks;
			region_totals_add(&t.by_type[ty], &part);
			part.blocks = c->all_blocks;
			region_totals_add(&t.all, &part);
			if (ty == REGION_PRIVATE || ty == REGION_HEAP || ty == REGION_STACK) {
				t.private_committed += c->t.committed;
				t.private_touched += c->t.private_resident + c->t.swap;
			}
		}
	}
	if (page_table_bytes > 0)
		totals_add_page_table(&t, page_table_bytes);
	*out = t;
	return 0;
}

static void
snapshot_info_row(sqlite3_stmt *q, void *elem)
{
	struct store_snapshot_info *e = elem;

	e->id = sqlite3_column_int64(q, 0);
	e->target_id = sqlite3_column_int64(q, 1);
	e->instance_id = sqlite3_column_int64(q, 2);
	e->time_ms = sqlite3_column_int64(q, 3);
	e->pid = sqlite3_column_int(q, 4);
	e->start_time = column_u64(q, 5);
	e->n_regions = column_u64(q, 6);
	e->flags = (unsigned)sqlite3_column_int64(q, 7);
	e->collect_ns = column_u64(q, 8);
}

int
store_list_snapshots_page(struct store *st, int64_t target_id, int64_t from_ms, int64_t to_ms,
                          int64_t after_id, size_t limit, struct store_snapshot_info **out,
                          size_t *n, int *more)
{
	int64_t after_ms = INT64_MIN, rows;
	void *v = NULL;
	int status, found = 0;

	*out = NULL;
	*n = 0;
	if (more != NULL)
		*more = 0;
	if (st == NULL || after_id < 0 || limit > (size_t)INT64_MAX - 1)
		return MD_ERR_INVAL;
	if (after_id > 0) {
		status = query_ids(st, STMT_SNAPSHOT_CURSOR, "find snapshot",
		                   (const int64_t[]){after_id, target_id}, 2, &after_ms, 1, &found);
		if (status != 0)
			return status;
		if (!found)
			return store_error(st, MD_ERR_NOTFOUND,
			                   "snapshot %" PRId64 " is not one of target %" PRId64,
			                   after_id, target_id);
	}
	/* One row more than the page: whether the range goes on. */
	rows = limit == 0 ? -1 : (int64_t)limit + 1;
	status = query_list(st, STMT_SNAPSHOT_LIST, "list snapshots",
	                    (const int64_t[]){target_id, from_ms, to_ms, after_ms, after_id, rows},
	                    6, sizeof(**out), snapshot_info_row, &v, n);
	if (status == 0 && limit > 0 && *n > limit) {
		*n = limit;
		if (more != NULL)
			*more = 1;
	}
	*out = v;
	return status;
}

int
store_list_snapshots(struct store *st, int64_t target_id, int64_t from_ms, int64_t to_ms,
                     struct store_snapshot_info **out, size_t *n)
{
	return store_list_snapshots_page(st, target_id, from_ms, to_ms, 0, 0, out, n, NULL);
}

/* ---- targets ---------------------------------------------------------- */

int
store_target_ensure(struct store *st, const char *name, int64_t *target_id)
{
	sqlite3_stmt *q = NULL;
	int64_t id = 0;
	size_t len;
	int status, rc = SQLITE_OK;

	*target_id = 0;
	if (st == NULL || name == NULL)
		return MD_ERR_INVAL;
	len = strlen(name);
	if (len == 0 || len >= TARGET_NAME_MAX)
		return store_error(st, MD_ERR_INVAL, "target name empty or longer than %d bytes",
		                   TARGET_NAME_MAX - 1);
	status = stmt_get(st, STMT_TARGET_FIND, &q);
	if (status != 0)
		return status;
	rc = SQLITE_OK;
	bind_text(q, 1, name, len, &rc);
	status = bind_check(st, rc);
	if (status == 0) {
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW)
			id = sqlite3_column_int64(q, 0);
		else if (rc != SQLITE_DONE)
			status = store_fail(st, rc, "find target");
	}
	stmt_release(q);
	if (status != 0)
		return status;
	if (id == 0) {
		if (st->flags & STORE_READONLY)
			return store_error(st, MD_ERR_NOTFOUND, "no target called %s", name);
		status = stmt_get(st, STMT_TARGET_INSERT, &q);
		if (status != 0)
			return status;
		rc = SQLITE_OK;
		bind_text(q, 1, name, len, &rc);
		status = stmt_bound_exec(st, q, rc, "insert target");
		if (status != 0)
			return status;
		id = sqlite3_last_insert_rowid(st->db);
	}
	*target_id = id;
	return 0;
}

static void
target_info_row(sqlite3_stmt *q, void *elem)
{
	struct store_target_info *e = elem;

	e->id = sqlite3_column_int64(q, 0);
	/* Names are checked shorter than the field when stored. */
	(void)snprintf(e->name, sizeof(e->name), "%s", column_text(q, 1));
}

int
store_list_targets(struct store *st, struct store_target_info **out, size_t *n)
{
	void *v = NULL;
	int status;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return MD_ERR_INVAL;
	status = query_list(st, STMT_TARGET_LIST, "list targets", NULL, 0, sizeof(**out),
	                    target_info_row, &v, n);
	*out = v;
	return status;
}

/* ---- read API for the web server -------------------------------------- */

static void
instance_info_row(sqlite3_stmt *q, void *elem)
{
	struct store_instance_info *e = elem;

	e->id = sqlite3_column_int64(q, 0);
	e->target_id = sqlite3_column_int64(q, 1);
	e->pid = sqlite3_column_int(q, 2);
	e->start_time = column_u64(q, 3);
	e->start_time_ms = sqlite3_column_int64(q, 4);
	/* the name is a snapshot's name[64]: it fits */
	(void)snprintf(e->name, sizeof(e->name), "%s", column_text(q, 5));
	e->first_time_ms = sqlite3_column_int64(q, 6);
	e->last_time_ms = sqlite3_column_int64(q, 7);
	e->n_snapshots = column_u64(q, 8);
}

int
store_list_instances(struct store *st, int64_t target_id, struct store_instance_info **out,
                     size_t *n)
{
	void *v = NULL;
	int status;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return MD_ERR_INVAL;
	status = query_list(st, STMT_INSTANCE_LIST, "list instances", &target_id, 1, sizeof(**out),
	                    instance_info_row, &v, n);
	*out = v;
	return status;
}

int
store_list_target_summaries(struct store *st, struct store_target_summary **out, size_t *n)
{
	struct store_target_info *targets = NULL;
	struct store_target_summary *v = NULL;
	size_t count = 0, i;
	int status;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return MD_ERR_INVAL;
	status = store_list_targets(st, &targets, &count);
	if (status != 0)
		return status;
	v = calloc(count > 0 ? count : 1, sizeof(*v));
	if (v == NULL) {
		status = store_error(st, MD_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; status == 0 && i < count; i++) {
		struct store_target_summary *e = &v[i];
		int64_t latest[4], n_inst = 0;
		int found = 0;

		e->id = targets[i].id;
		memcpy(e->name, targets[i].name, sizeof(e->name));
		status = query_ids(st, STMT_TARGET_N_INSTANCES, "count instances", &e->id, 1,
		                   &n_inst, 1, NULL);
		if (status == 0)
			status = query_ids(st, STMT_TARGET_LATEST, "latest snapshot", &e->id, 1,
			                   latest, 4, &found);
		if (status != 0 || !found)
			continue;
		e->n_instances = (uint64_t)n_inst;
		e->last_snapshot_id = latest[0];
		e->last_time_ms = latest[1];
		e->instance_id = latest[2];
		e->pid = (int)latest[3];
		status = store_get_totals(st, e->last_snapshot_id, &e->totals);
	}
out:
	free(targets);
	if (status != 0) {
		free(v);
		return status;
	}
	*out = v;
	*n = count;
	return 0;
}

int
store_size_bytes(struct store *st, uint64_t *bytes)
{
	int64_t size[2];
	int status;

	*bytes = 0;
	if (st == NULL)
		return MD_ERR_INVAL;
	status = query_ids(st, STMT_SIZE, "database size", NULL, 0, size, 2, NULL);
	if (status == 0)
		*bytes = (uint64_t)size[1];
	return status;
}

/* ---- timeline ----------------------------------------------------------- */

/* A rollup row holds one series of a bucket: the committed and resident
 * bytes of one type (states summed, the page table included: by_type of
 * snapshot_totals()), or, as series REGION_TYPE_COUNT, the leak signal
 * (private_committed, private_touched). */
#define ROLLUP_SERIES           (REGION_TYPE_COUNT + 1)
#define MINUTE_MS               INT64_C(60000)
#define HOUR_MS                 INT64_C(3600000)
#define ROLLUP_ROW_BYTES        64 /* estimated bytes of one rollup row, b-tree included */
#define PRUNE_DEFAULT_ROWS      1000
#define PRUNE_RUN_MAX           256 /* snapshots pruned in one run */
#define PRUNE_ROWS_PER_SNAPSHOT 32  /* rows a pruned snapshot costs, about */

static void
series_from_totals(const struct snapshot_totals *t, uint64_t c[ROLLUP_SERIES],
                   uint64_t r[ROLLUP_SERIES])
{
	int ty;

	for (ty = 0; ty < REGION_TYPE_COUNT; ty++) {
		c[ty] = t->by_type[ty].committed;
		r[ty] = t->by_type[ty].resident;
	}
	c[REGION_TYPE_COUNT] = t->private_committed;
	r[REGION_TYPE_COUNT] = t->private_touched;
}

/* A candidate point: a raw snapshot (values read when kept) or a rollup
 * bucket of one instance (values = the bucket's maxima). */
struct tl_cand {
	int64_t time_ms;
	int64_t snapshot_id;
	int64_t instance_id;
	int keep;
	uint64_t c[ROLLUP_SERIES];
	uint64_t r[ROLLUP_SERIES];
};

struct tl_cands {
	struct tl_cand *v;
	size_t n, cap;
};

static int
tl_add(struct store *st, struct tl_cands *cs, int64_t time_ms, int64_t snapshot_id,
       int64_t instance_id)
{
	struct tl_cand *c;
	int status;

	cs->v = array_grow(st, cs->v, &cs->cap, cs->n, sizeof(*cs->v), &status);
	if (status != 0)
		return status;
	c = &cs->v[cs->n++];
	memset(c, 0, sizeof(*c));
	c->time_ms = time_ms;
	c->snapshot_id = snapshot_id;
	c->instance_id = instance_id;
	return 0;
}

/* Rollup rows of @target_id with bucket_ms in [from, to], one candidate per
 * (bucket, instance). */
static int
tl_read_rollups(struct store *st, enum stmt_id id, int64_t target_id, int64_t from_ms,
                int64_t to_ms, struct tl_cands *cs)
{
	sqlite3_stmt *q = NULL;
	int status, rc = SQLITE_OK;

	if (to_ms < from_ms)
		return 0;
	status = stmt_get(st, id, &q);
	if (status != 0)
		return status;
	bind_i64(q, 1, target_id, &rc);
	bind_i64(q, 2, from_ms, &rc);
	bind_i64(q, 3, to_ms, &rc);
	status = bind_check(st, rc);
	while (status == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t bucket = sqlite3_column_int64(q, 0), inst = sqlite3_column_int64(q, 1);
		int64_t series = sqlite3_column_int64(q, 2);
		struct tl_cand *c = cs->n > 0 ? &cs->v[cs->n - 1] : NULL;

		if (c == NULL || c->snapshot_id != 0 || c->time_ms != bucket ||
		    c->instance_id != inst) {
			status = tl_add(st, cs, bucket, 0, inst);
			if (status != 0)
				break;
			c = &cs->v[cs->n - 1];
		}
		if (series >= 0 && series < ROLLUP_SERIES) {
			c->c[series] = column_u64(q, 3);
			c->r[series] = column_u64(q, 4);
		}
	}
	if (status == 0 && rc != SQLITE_DONE)
		status = store_fail(st, rc, "read rollups");
	stmt_release(q);
	return status;
}

static int
tl_read_raw(struct store *st, int64_t target_id, int64_t from_ms, int64_t to_ms,
            struct tl_cands *cs)
{
	sqlite3_stmt *q = NULL;
	int status, rc = SQLITE_OK;

	status = stmt_get(st, STMT_TIMELINE_RAW, &q);
	if (status != 0)
		return status;
	bind_i64(q, 1, target_id, &rc);
	bind_i64(q, 2, from_ms, &rc);
	bind_i64(q, 3, to_ms, &rc);
	status = bind_check(st, rc);
	while (status == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW)
		status = tl_add(st, cs, sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 0),
		                sqlite3_column_int64(q, 1));
	if (status == 0 && rc != SQLITE_DONE)
		status = store_fail(st, rc, "read timeline");
	stmt_release(q);
	return status;
}

/* Keep, per bucket of [lo, hi] split in @max_points and per instance, the
 * last candidate; rollup candidates of one bucket and instance merge into
 * the last one by maximum.  Candidates are sorted by time. */
static int
tl_select(struct store *st, struct tl_cands *cs, int64_t lo, int64_t hi, size_t max_points)
{
	struct tl_cand **seen = NULL;
	size_t n_seen = 0, cap = 0, i, k;
	uint64_t span = (uint64_t)hi - (uint64_t)lo + 1, bucket, cur = UINT64_MAX;
	int status = 0, s;

	for (i = cs->n; i-- > 0;) {
		struct tl_cand *c = &cs->v[i];

		if (max_points == 0) {
			c->keep = 1;
			continue;
		}
		bucket = span == 0 ? 0
		                   : (uint64_t)((unsigned __int128)((uint64_t)c->time_ms -
		                                                    (uint64_t)lo) *
		                                max_points / span);
		if (bucket != cur) {
			cur = bucket;
			n_seen = 0;
		}
		for (k = 0; k < n_seen && seen[k]->instance_id != c->instance_id; k++)
			;
		if (k == n_seen) {
			seen = array_grow(st, seen, &cap, n_seen, sizeof(*seen), &status);
			if (status != 0)
				break;
			seen[n_seen++] = c;
			c->keep = 1;
		} else if (c->snapshot_id == 0 && seen[k]->snapshot_id == 0) {
			for (s = 0; s < ROLLUP_SERIES; s++) {
				if (c->c[s] > seen[k]->c[s])
					seen[k]->c[s] = c->c[s];
				if (c->r[s] > seen[k]->r[s])
					seen[k]->r[s] = c->r[s];
			}
		}
	}
	free(seen);
	return status;
}

/* By time; at one time rollups before raw points, then by instance. */
static int
tl_cand_cmp(const void *pa, const void *pb)
{
	const struct tl_cand *a = pa, *b = pb;

	if (a->time_ms != b->time_ms)
		return a->time_ms < b->time_ms ? -1 : 1;
	if ((a->snapshot_id != 0) != (b->snapshot_id != 0))
		return a->snapshot_id != 0 ? 1 : -1;
	if (a->instance_id != b->instance_id)
		return a->instance_id < b->instance_id ? -1 : 1;
	return a->snapshot_id < b->snapshot_id ? -1 : a->snapshot_id > b->snapshot_id;
}

int
store_timeline(struct store *st, int64_t target_id, int64_t from_ms, int64_t to_ms,
               size_t max_points, struct store_timeline_point **out, size_t *n)
{
	struct store_timeline_point *v = NULL;
	struct tl_cands cs = {NULL, 0, 0};
	int64_t raw_start = 0, minute_start = 0, lo, hi;
	size_t i, count = 0;
	int status = 0;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return MD_ERR_INVAL;
	if (to_ms < from_ms)
		goto out;
	/* Rollups serve what is older than the finer tier. */
	status = query_ids(st, STMT_TARGET_RAW_START, "timeline", &target_id, 1, &raw_start, 1,
	                   NULL);
	if (status == 0)
		status = query_ids(st, STMT_MINUTE_START, "timeline",
		                   (const int64_t[]){target_id, raw_start}, 2, &minute_start, 1,
		                   NULL);
	if (status == 0)
		status = tl_read_rollups(st, STMT_ROLLUP_HOUR_READ, target_id, from_ms,
		                         minute_start <= to_ms ? minute_start - 1 : to_ms, &cs);
	if (status == 0)
		status = tl_read_rollups(st, STMT_ROLLUP_MINUTE_READ, target_id,
		                         from_ms > minute_start ? from_ms : minute_start,
		                         raw_start <= to_ms ? raw_start - 1 : to_ms, &cs);
	if (status == 0)
		status = tl_read_raw(st, target_id, from_ms, to_ms, &cs);
	if (status != 0)
		goto out;
	if (cs.n == 0)
		goto out;
	/* Snapshots pinned by alerts are raw points among the rollups. */
	qsort(cs.v, cs.n, sizeof(cs.v[0]), tl_cand_cmp);
	lo = from_ms == INT64_MIN ? cs.v[0].time_ms : from_ms;
	hi = to_ms == INT64_MAX ? cs.v[cs.n - 1].time_ms : to_ms;
	status = tl_select(st, &cs, lo, hi, max_points);
	if (status != 0)
		goto out;
	for (i = 0; i < cs.n; i++)
		count += cs.v[i].keep ? 1 : 0;
	v = calloc(count, sizeof(*v));
	if (v == NULL) {
		status = store_error(st, MD_ERR_NOMEM, "out of memory");
		goto out;
	}
	count = 0;
	for (i = 0; status == 0 && i < cs.n; i++) {
		struct tl_cand *c = &cs.v[i];
		struct store_timeline_point *p;
		int ty;

		if (!c->keep)
			continue;
		if (c->snapshot_id != 0) {
			struct snapshot_totals t;

			status = store_get_totals(st, c->snapshot_id, &t);
			if (status != 0)
				break;
			series_from_totals(&t, c->c, c->r);
		}
		p = &v[count++];
		p->time_ms = c->time_ms;
		p->snapshot_id = c->snapshot_id;
		p->instance_id = c->instance_id;
		for (ty = 0; ty < REGION_TYPE_COUNT; ty++) {
			p->committed[ty] = c->c[ty];
			p->resident[ty] = c->r[ty];
		}
		p->private_committed = c->c[REGION_TYPE_COUNT];
		p->private_touched = c->r[REGION_TYPE_COUNT];
	}
out:
	free(cs.v);
	if (status == 0 && v == NULL) {
		count = 0; /* an empty timeline is still an array to free() */
		v = calloc(1, sizeof(*v));
		if (v == NULL)
			status = store_error(st, MD_ERR_NOMEM, "out of memory");
	}
	if (status != 0) {
		free(v);
		return status;
	}
	*out = v;
	*n = count;
	return 0;
}

/* ---- alerts ------------------------------------------------------------- */

static void
bind_double(sqlite3_stmt *s, int idx, double v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = v == v ? sqlite3_bind_double(s, idx, v) : sqlite3_bind_null(s, idx);
}

/* NULL or a text column. */
static void
bind_text_or_null(sqlite3_stmt *s, int idx, const char *text, int *rc)
{
	if (text == NULL)
		bind_null(s, idx, rc);
	else
		bind_text(s, idx, text, strlen(text), rc);
}

/* A snapshot id, 0 meaning none (NULL: no foreign key to satisfy). */
static void
bind_snapshot_ref(sqlite3_stmt *s, int idx, int64_t id, int *rc)
{
	if (id == 0)
		bind_null(s, idx, rc);
	else
		bind_i64(s, idx, id, rc);
}

/* Refuse what the database would take but nobody could read back. */
static int
alert_check(struct store *st, const struct store_alert *a)
{
	int64_t ok[3];
	int status;

	if (memchr(a->rule, '\0', sizeof(a->rule)) == NULL || a->rule[0] == '\0')
		return store_error(st, MD_ERR_INVAL, "alert rule empty or too long");
	if (memchr(a->series, '\0', sizeof(a->series)) == NULL)
		return store_error(st, MD_ERR_INVAL, "alert series too long");
	if (a->state != ALERT_PENDING && a->state != ALERT_FIRING && a->state != ALERT_RESOLVED)
		return store_error(st, MD_ERR_INVAL, "bad alert state %d", (int)a->state);
	if (a->baseline_snapshot_id < 0 || a->trigger_snapshot_id < 0)
		return store_error(st, MD_ERR_INVAL, "bad snapshot id");
	status = query_ids(st, STMT_ALERT_CHECK_REFS, "check alert",
	                   (const int64_t[]){a->target_id, a->instance_id, a->baseline_snapshot_id,
	                                     a->trigger_snapshot_id},
	                   4, ok, 3, NULL);
	if (status != 0)
		return status;
	if (!ok[0])
		return store_error(st, MD_ERR_INVAL,
		                   "alert: no instance %" PRId64 " of target %" PRId64,
		                   a->instance_id, a->target_id);
	if (!ok[1] || !ok[2])
		return store_error(st, MD_ERR_INVAL,
		                   "alert: snapshot %" PRId64 " or %" PRId64
		                   " is not one of target %" PRId64,
		                   a->baseline_snapshot_id, a->trigger_snapshot_id, a->target_id);
	return 0;
}

int
store_alert_put(struct store *st, struct store_alert *a)
{
	sqlite3_stmt *q = NULL;
	int status, rc = SQLITE_OK;

	if (st == NULL || a == NULL || a->id < 0)
		return MD_ERR_INVAL;
	if (st->flags & STORE_READONLY)
		return store_error(st, MD_ERR_INVAL, "the store is open read-only");
	status = alert_check(st, a);
	if (status != 0)
		return status;
	/* A pending alert closed before it fired is evidence of nothing: it
	 * must not keep its snapshots past retention (PINNED_SNAPSHOTS). */
	if (a->state == ALERT_RESOLVED && a->fired_ms == 0)
		a->baseline_snapshot_id = a->trigger_snapshot_id = 0;
	status = stmt_get(st, a->id == 0 ? STMT_ALERT_INSERT : STMT_ALERT_UPDATE, &q);
	if (status != 0)
		return status;
	bind_i64(q, 1, a->target_id, &rc);
	bind_i64(q, 2, a->instance_id, &rc);
	bind_text(q, 3, a->rule, strlen(a->rule), &rc);
	bind_text(q, 4, a->series, strlen(a->series), &rc);
	bind_i64(q, 5, (int64_t)a->state, &rc);
	bind_i64(q, 6, a->started_ms, &rc);
	bind_i64(q, 7, a->fired_ms, &rc);
	bind_i64(q, 8, a->resolved_ms, &rc);
	bind_i64(q, 9, a->updated_ms, &rc);
	bind_snapshot_ref(q, 10, a->baseline_snapshot_id, &rc);
	bind_snapshot_ref(q, 11, a->trigger_snapshot_id, &rc);
	bind_double(q, 12, a->slope_bytes_per_h, &rc);
	bind_double(q, 13, a->pct_per_h, &rc);
	bind_double(q, 14, a->r2, &rc);
	bind_double(q, 15, a->mk_p, &rc);
	bind_u64(q, 16, a->value, &rc);
	bind_text_or_null(q, 17, a->summary, &rc);
	bind_text_or_null(q, 18, a->evidence_json, &rc);
	if (a->id != 0)
		bind_i64(q, 19, a->id, &rc);
	status = stmt_bound_exec(st, q, rc, a->id == 0 ? "insert alert" : "update alert");
	if (status != 0)
		return status;
	if (a->id == 0)
		a->id = sqlite3_last_insert_rowid(st->db);
	else if (sqlite3_changes64(st->db) == 0)
		return store_error(st, MD_ERR_NOTFOUND, "no alert %" PRId64, a->id);
	return 0;
}

/* A copy of text column @col, NULL for NULL; *status MD_ERR_NOMEM when the
 * copy fails. */
static char *
column_strdup(struct store *st, sqlite3_stmt *q, int col, int *status)
{
	const unsigned char *t;
	char *copy;

	if (sqlite3_column_type(q, col) == SQLITE_NULL)
		return NULL;
	t = sqlite3_column_text(q, col);
	copy = strdup(t != NULL ? (const char *)t : "");
	if (copy == NULL)
		*status = store_error(st, MD_ERR_NOMEM, "out of memory");
	return copy;
}

/* Decode the ALERT_COLUMNS row of @q into @a (zeroed first). */
static int
alert_row(struct store *st, sqlite3_stmt *q, struct store_alert *a)
{
	int status = 0;

	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(q, 0);
	a->target_id = sqlite3_column_int64(q, 1);
	a->instance_id = sqlite3_column_int64(q, 2);
	(void)snprintf(a->rule, sizeof(a->rule), "%s", column_text(q, 3));
	(void)snprintf(a->series, sizeof(a->series), "%s", column_text(q, 4));
	a->state = (enum alert_state)sqlite3_column_int(q, 5);
	a->started_ms = sqlite3_column_int64(q, 6);
	a->fired_ms = sqlite3_column_int64(q, 7);
	a->resolved_ms = sqlite3_column_int64(q, 8);
	a->updated_ms = sqlite3_column_int64(q, 9);
	a->baseline_snapshot_id = sqlite3_column_int64(q, 10);
	a->trigger_snapshot_id = sqlite3_column_int64(q, 11);
	a->slope_bytes_per_h = sqlite3_column_double(q, 12);
	a->pct_per_h = sqlite3_column_double(q, 13);
	a->r2 = sqlite3_column_double(q, 14);
	a->mk_p = sqlite3_column_double(q, 15);
	a->value = column_u64(q, 16);
	a->summary = column_strdup(st, q, 17, &status);
	if (status == 0)
		a->evidence_json = column_strdup(st, q, 18, &status);
	if (status != 0) {
		free(a->summary);
		a->summary = NULL;
	}
	return status;
}

/* Run the bound alert query @q, decoding every row into a new array. */
static int
alert_rows(struct store *st, sqlite3_stmt *q, struct store_alert **out, size_t *n)
{
	struct store_alert *v = NULL;
	size_t k = 0, cap = 0;
	int status = 0, rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		v = array_grow(st, v, &cap, k, sizeof(*v), &status);
		if (status == 0)
			status = alert_row(st, q, &v[k]);
		if (status != 0)
			break;
		k++;
	}
	if (status == 0 && rc != SQLITE_DONE)
		status = store_fail(st, rc, "read alerts");
	stmt_release(q);
	if (status != 0) {
		store_alerts_free(v, k);
		return status;
	}
	*out = v;
	*n = k;
	return 0;
}

int
store_list_alerts(struct store *st, const struct store_alert_filter *f, struct store_alert **out,
                  size_t *n)
{
	sqlite3_stmt *q = NULL;
	int64_t limit;
	int status;

	*out = NULL;
	*n = 0;
	if (st == NULL || f == NULL)
		return MD_ERR_INVAL;
	limit = f->limit == 0 ? 1000
	                      : (f->limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)f->limit);
	status = stmt_with_ids(st, STMT_ALERT_LIST,
	                       (const int64_t[]){f->target_id, f->instance_id, f->state, f->from_ms,
	                                         f->to_ms, limit},
	                       6, &q);
	if (status != 0)
		return status;
	return alert_rows(st, q, out, n);
}

int
store_get_alert(struct store *st, int64_t id, struct store_alert **out)
{
	sqlite3_stmt *q = NULL;
	size_t n = 0;
	int status;

	*out = NULL;
	if (st == NULL)
		return MD_ERR_INVAL;
	status = stmt_with_ids(st, STMT_ALERT_GET, &id, 1, &q);
	if (status == 0)
		status = alert_rows(st, q, out, &n);
	if (status == 0 && n == 0) {
		store_alerts_free(*out, 0);
		*out = NULL;
		status = store_error(st, MD_ERR_NOTFOUND, "no alert %" PRId64, id);
	}
	return status;
}

void
store_alerts_free(struct store_alert *a, size_t n)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(a[i].summary);
		free(a[i].evidence_json);
	}
	free(a);
}

int
store_snapshot_at(struct store *st, int64_t target_id, int64_t time_ms, int64_t *snapshot_id)
{
	int status, found = 0;

	*snapshot_id = 0;
	if (st == NULL)
		return MD_ERR_INVAL;
	status = query_ids(st, STMT_SNAPSHOT_AT, "snapshot at",
	                   (const int64_t[]){target_id, time_ms}, 2, snapshot_id, 1, &found);
	if (status == 0 && !found)
		status = store_error(st, MD_ERR_NOTFOUND,
		                     "target %" PRId64 " has no snapshot at or before %" PRId64,
		                     target_id, time_ms);
	return status;
}

/* ---- retention ------------------------------------------------------------ */

void
store_retention_defaults(struct store_retention *r)
{
	memset(r, 0, sizeof(*r));
	r->raw_ms = INT64_C(7) * 24 * HOUR_MS;
	r->minute_ms = INT64_C(90) * 24 * HOUR_MS;
	r->hour_ms = INT64_C(2) * 365 * 24 * HOUR_MS;
	r->alert_ms = INT64_C(90) * 24 * HOUR_MS;
}

/* Rollup values are plain integers: saturate at INT64_MAX. */
static int64_t
rollup_value(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static int64_t
floor_to(int64_t t, int64_t step)
{
	int64_t q = t / step;

	if (t % step != 0 && t < 0)
		q--;
	return q * step;
}

/* Roll snapshot @sid (of instance @inst of @target, taken at @time_ms)
 * into its minute. */
static int
rollup_snapshot(struct store *st, int64_t sid, int64_t inst, int64_t target, int64_t time_ms,
                int64_t *rows)
{
	uint64_t c[ROLLUP_SERIES], r[ROLLUP_SERIES];
	struct snapshot_totals t;
	int64_t bucket = floor_to(time_ms, MINUTE_MS);
	int status, k;

	status = store_get_totals(st, sid, &t);
	if (status != 0)
		return status;
	series_from_totals(&t, c, r);
	for (k = 0; status == 0 && k < ROLLUP_SERIES; k++) {
		status = exec_ids(st, STMT_ROLLUP_MINUTE_ADD, "roll up",
		                  (const int64_t[]){target, bucket, inst, k, rollup_value(c[k]),
		                                    rollup_value(r[k])},
		                  6, NULL);
		*rows += 1;
	}
	return status;
}

/* Roll up and delete up to @max_k consecutive snapshots of instance @inst
 * starting at @first, all taken before @cut, keeping every other snapshot of
 * the instance rebuildable (see the top of the file).  A run rather than one
 * snapshot at a time: the counters rows the next remaining snapshot reads
 * (up to one per live region) move once per run.  Sets *n_done. */
static int
prune_run(struct store *st, int64_t first, int64_t inst, int64_t target, int64_t cut, int64_t max_k,
          int64_t *n_done, int64_t *rows)
{
	int64_t ids[PRUNE_RUN_MAX], times[PRUNE_RUN_MAX];
	int64_t prev = 0, next = 0, changes = 0, k = 0, i;
	sqlite3_stmt *q = NULL;
	int status, rc = SQLITE_OK;

	*n_done = 0;
	if (max_k > PRUNE_RUN_MAX)
		max_k = PRUNE_RUN_MAX;
	status = stmt_with_ids(st, STMT_PRUNE_BATCH, (const int64_t[]){inst, first, max_k}, 3, &q);
	if (status != 0)
		return status;
	while (k < max_k && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		times[k] = sqlite3_column_int64(q, 1);
		if (times[k] >= cut || sqlite3_column_int(q, 2) != 0)
			break; /* too new, or evidence of an alert: the run ends */
		ids[k] = sqlite3_column_int64(q, 0);
		k++;
	}
	if (k < max_k && rc != SQLITE_ROW && rc != SQLITE_DONE)
		status = store_fail(st, rc, "pruned snapshots");
	stmt_release(q);
	if (status == 0 && k == 0)
		status = store_error(st, MD_ERR_DB, "snapshot %" PRId64 " vanished", first);
	for (i = 0; status == 0 && i < k; i++)
		status = rollup_snapshot(st, ids[i], inst, target, times[i], rows);
	if (status == 0)
		status = query_ids(st, STMT_SNAPSHOT_PREV, "previous snapshot",
		                   (const int64_t[]){inst, ids[0]}, 2, &prev, 1, NULL);
	if (status == 0)
		status = query_ids(st, STMT_SNAPSHOT_NEXT, "next snapshot",
		                   (const int64_t[]){inst, ids[k - 1]}, 2, &next, 1, NULL);
	if (status != 0)
		return status;
	{
		const int64_t dead[5] = {inst, ids[0], next != 0 ? next : INT64_MAX, prev,
		                         next == 0};
		const int64_t range[4] = {inst, ids[0], ids[k - 1], next};

		status = exec_ids(st, STMT_DEAD_COUNTERS_DELETE, "prune counters", dead, 5,
		                  &changes);
		*rows += changes;
		if (status == 0)
			status = exec_ids(st, STMT_DEAD_VERSIONS_DELETE, "prune versions", dead, 5,
			                  &changes);
		*rows += changes;
		if (status == 0 && next != 0) {
			status = exec_ids(st, STMT_COUNTERS_CARRY, "carry counters", range, 4,
			                  &changes);
			*rows += changes;
		}
		if (status == 0)
			status = exec_ids(st, STMT_COUNTERS_DELETE_RANGE, "prune counters", range,
			                  3, &changes);
		*rows += changes;
		if (status == 0)
			status = exec_ids(st, STMT_TOTALS_DELETE_RANGE, "prune totals", range, 3,
			                  &changes);
		*rows += changes;
		if (status == 0)
			status = exec_ids(st, STMT_SNAPSHOT_DELETE_RANGE, "prune snapshots", range,
			                  3, &changes);
		*rows += changes;
	}
	if (status == 0 && next == 0) {
		/* The instance's newest snapshot went: every version valid at the
		 * previous one is open again, and the writer's cache is stale. */
		cache_drop(st, inst);
		status = exec_ids(st, STMT_INSTANCE_SET_PREV, "update instance",
		                  (const int64_t[]){inst, prev}, 2, NULL);
		if (status == 0 && prev != 0)
			status = exec_ids(st, STMT_VERSIONS_REOPEN, "reopen versions",
			                  (const int64_t[]){inst, prev}, 2, &changes);
		*rows += changes + 1;
	}
	if (status == 0)
		*n_done = k;
	return status;
}

/* How many of the oldest snapshots to drop for the raw tier to fit @cap,
 * estimating a snapshot's share from the used bytes and the count. */
static int
raw_excess(struct store *st, uint64_t cap, int64_t *excess)
{
	int64_t size[2], count = 0;
	int status;

	*excess = 0;
	if (cap == 0)
		return 0;
	status = query_ids(st, STMT_SIZE, "database size", NULL, 0, size, 2, NULL);
	if (status == 0)
		status = query_ids(st, STMT_SNAPSHOT_COUNT, "count snapshots", NULL, 0, &count, 1,
		                   NULL);
	if (status != 0 || count == 0 || size[0] <= 0 || (uint64_t)size[0] <= cap)
		return status;
	*excess = (int64_t)(((unsigned __int128)((uint64_t)size[0] - cap) * (uint64_t)count +
	                     (uint64_t)size[0] - 1) /
	                    (uint64_t)size[0]);
	return 0;
}

static int
prune_raw(struct store *st, const struct store_retention *r, int64_t now_ms, int64_t budget,
          int64_t *rows, int *more)
{
	int64_t cut =
	        r->raw_ms > 0 && now_ms > INT64_MIN + r->raw_ms ? now_ms - r->raw_ms : INT64_MIN;
	int64_t excess = 0, row[4], k, done = 0;
	int status, found = 0;

	status = raw_excess(st, r->raw_max_bytes, &excess);
	/* Freed pages show only after the deletes: the next call checks the
	 * cap again. */
	if (excess > 0)
		*more = 1;
	while (status == 0) {
		if (*rows >= budget) {
			*more = 1;
			break;
		}
		status = query_ids(st, STMT_PRUNE_OLDEST, "oldest snapshot",
		                   (const int64_t[]){excess > 0 ? INT64_MAX : cut}, 1, row, 4,
		                   &found);
		if (status != 0 || !found)
			break;
		/* a run sized to what is left of the budget */
		k = (budget - *rows) / PRUNE_ROWS_PER_SNAPSHOT;
		k = k < 1 ? 1 : k;
		if (excess > 0 && k > excess)
			k = excess;
		status = prune_run(st, row[0], row[1], row[3], excess > 0 ? INT64_MAX : cut, k,
		                   &done, rows);
		excess -= excess > 0 ? done : 0;
	}
	return status;
}

/* Move minute rows older than the cut (or, past the cap, the oldest) into
 * hours, one hour of one target at a time. */
static int
prune_minutes(struct store *st, const struct store_retention *r, int64_t now_ms, int64_t budget,
              int64_t *rows, int *more)
{
	int64_t cut = r->minute_ms > 0 && now_ms > INT64_MIN + r->minute_ms ? now_ms - r->minute_ms
	                                                                    : INT64_MIN;
	int64_t oldest[2], count = 0, h, end, changes = 0;
	int status = 0, found = 0, over;

	while (status == 0) {
		if (*rows >= budget) {
			*more = 1;
			break;
		}
		status = query_ids(st, STMT_MINUTE_OLDEST, "oldest minute", NULL, 0, oldest, 2,
		                   &found);
		if (status != 0 || !found)
			break;
		over = 0;
		if (r->minute_max_bytes > 0) {
			status = query_ids(st, STMT_MINUTE_COUNT, "count minutes", NULL, 0, &count,
			                   1, NULL);
			over = (uint64_t)count * ROLLUP_ROW_BYTES > r->minute_max_bytes;
		}
		if (status != 0 || (oldest[1] >= cut && !over))
			break;
		h = floor_to(oldest[1], HOUR_MS);
		end = over || h + HOUR_MS <= cut ? h + HOUR_MS : cut;
		status = exec_ids(st, STMT_MINUTE_TO_HOUR, "roll up hour",
		                  (const int64_t[]){oldest[0], h, end}, 3, &changes);
		*rows += changes;
		if (status == 0)
			status = exec_ids(st, STMT_MINUTE_DELETE, "prune minutes",
			                  (const int64_t[]){oldest[0], h, end}, 3, &changes);
		*rows += changes;
	}
	return status;
}

static int
prune_hours(struct store *st, const struct store_retention *r, int64_t now_ms, int64_t budget,
            int64_t *rows, int *more)
{
	int64_t cut =
	        r->hour_ms > 0 && now_ms > INT64_MIN + r->hour_ms ? now_ms - r->hour_ms : INT64_MIN;
	int64_t oldest[2], count = 0, changes = 0;
	int status = 0, found = 0, over;

	while (status == 0) {
		if (*rows >= budget) {
			*more = 1;
			break;
		}
		status = query_ids(st, STMT_HOUR_OLDEST, "oldest hour", NULL, 0, oldest, 2, &found);
		if (status != 0 || !found)
			break;
		over = 0;
		if (r->hour_max_bytes > 0) {
			status = query_ids(st, STMT_HOUR_COUNT, "count hours", NULL, 0, &count, 1,
			                   NULL);
			over = (uint64_t)count * ROLLUP_ROW_BYTES > r->hour_max_bytes;
		}
		if (status != 0 || (oldest[1] >= cut && !over))
			break;
		status = exec_ids(st, STMT_HOUR_DELETE, "prune hours", oldest, 2, &changes);
		*rows += changes;
	}
	return status;
}

/* Release the snapshots of closed alerts that never fired (rows written
 * before store_alert_put cleared them), then delete alerts resolved before
 * now - alert_ms (alert_ms 0: keep them). */
static int
prune_alerts(struct store *st, const struct store_retention *r, int64_t now_ms, int64_t budget,
             int64_t *rows, int *more)
{
	int64_t cut, left = budget - *rows, changes = 0;
	int status;

	if (left <= 0) {
		*more = 1;
		return 0;
	}
	status = exec_ids(st, STMT_ALERT_UNPIN, "unpin alerts", (const int64_t[]){left}, 1,
	                  &changes);
	if (status != 0)
		return status;
	*rows += changes;
	left -= changes;
	if (changes > 0 && left <= 0) {
		*more = 1;
		return 0;
	}
	changes = 0;
	if (r->alert_ms <= 0 || now_ms <= INT64_MIN + r->alert_ms)
		return 0;
	cut = now_ms - r->alert_ms;
	status = exec_ids(st, STMT_ALERT_EXPIRE, "expire alerts", (const int64_t[]){cut, left}, 2,
	                  &changes);
	*rows += changes;
	if (status == 0 && changes == left)
		*more = 1;
	return status;
}

int
store_prune(struct store *st, const struct store_retention *r, int64_t now_ms, size_t max_rows,
            int *more)
{
	int64_t rows = 0, budget;
	int status, in_txn = 0;

	*more = 0;
	if (st == NULL || r == NULL)
		return MD_ERR_INVAL;
	if (st->flags & STORE_READONLY)
		return store_error(st, MD_ERR_INVAL, "the store is open read-only");
	budget = max_rows == 0 ? PRUNE_DEFAULT_ROWS
	                       : (max_rows > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max_rows);
	status = txn_run(st, STMT_BEGIN, "begin");
	if (status != 0)
		goto out;
	in_txn = 1;
	/* Alerts first: an expired alert releases its snapshots to this call. */
	status = prune_alerts(st, r, now_ms, budget, &rows, more);
	if (status == 0)
		status = prune_raw(st, r, now_ms, budget, &rows, more);
	if (status == 0)
		status = prune_minutes(st, r, now_ms, budget, &rows, more);
	if (status == 0)
		status = prune_hours(st, r, now_ms, budget, &rows, more);
	if (status == 0)
		status = txn_run(st, STMT_COMMIT, "commit");
	if (status == 0)
		in_txn = 0;
out:
	if (status != 0) {
		*more = 0;
		if (in_txn)
			txn_abort(st);
	}
	return status;
}

/* ---- damaged databases and the size cap (issue 6) -------------------- */

static int
file_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* Classify a failed check: SQLite saying the file is not a database or is
 * malformed is damage (*damaged 1, 0 returned); anything else (locked, I/O,
 * permissions, memory) means the file could not be checked. */
static int
check_failed(struct store *st, int status, int *damaged)
{
	int rc = sqlite3_extended_errcode(st->db) & 0xff;

	if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT || rc == SQLITE_FORMAT) {
		*damaged = 1;
		return 0;
	}
	return status;
}

int
store_check_file(const char *path, int *damaged, char *why, size_t why_len)
{
	struct store *st = NULL;
	sqlite3_stmt *q = NULL;
	int64_t version = 0, app_id = 0;
	int rc, status = 0;

	*damaged = 0;
	if (why != NULL && why_len > 0)
		why[0] = '\0';
	if (path == NULL || path[0] == '\0')
		return MD_ERR_INVAL;
	if (!file_exists(path))
		return 0; /* store_open creates it */
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return MD_ERR_NOMEM;
	st->flags = STORE_READONLY;
	/* Read-only: nothing is ever written into the file being judged (a
	 * read-only connection neither checkpoints nor removes the WAL). */
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_extended_result_codes(st->db, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK) {
		status = store_fail(st, rc, path);
		goto out;
	}
	status = schema_read(st, &version, &app_id);
	if (status != 0) {
		status = check_failed(st, status, damaged);
		goto out;
	}
	/* Someone else's database is not ours to write into; a newer
	 * memdelta's is, and store_open refuses it with its own message. */
	if (app_id != 0 && app_id != STORE_APPLICATION_ID) {
		(void)store_error(st, 0, "not a memdelta database (application_id %" PRId64 ")",
		                  app_id);
		*damaged = 1;
		goto out;
	}
	if (app_id == 0 && version != 0) {
		(void)store_error(st, 0,
		                  "not a memdelta database (schema version %" PRId64
		                  " but no application id)",
		                  version);
		*damaged = 1;
		goto out;
	}
	if (version <= 0) {
		int64_t n_objects = 0;

		status = query_one(st, "SELECT count(*) FROM sqlite_schema", &n_objects, NULL, 0);
		if (status != 0) {
			status = check_failed(st, status, damaged);
			goto out;
		}
		if (version < 0 || n_objects != 0) {
			(void)store_error(st, 0, "not a memdelta database (%s)",
			                  version < 0 ? "negative schema version"
			                              : "tables but no schema version");
			*damaged = 1;
			goto out;
		}
	}
	/* quick_check: every page and b-tree is sound (not the index
	 * contents); one row "ok", else one row per problem. */
	rc = sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *res = column_text(q, 0);

		if (strcmp(res, "ok") != 0) {
			(void)store_error(st, 0, "quick_check: %s", res);
			*damaged = 1;
		}
	} else {
		status = check_failed(st, store_fail(st, rc, "quick_check"), damaged);
	}
out:
	if (why != NULL && why_len > 0 && (*damaged || status != 0))
		(void)snprintf(why, why_len, "%s", st != NULL ? st->errmsg : "out of memory");
	/* finalize repeats the step's error, handled above */
	(void)sqlite3_finalize(q);
	store_close(st);
	return status;
}

/* Rename @from to @to unless @to exists; a missing @from is not an error. */
static int
move_one(const char *from, const char *to)
{
	if (!file_exists(from))
		return 0;
	if (file_exists(to))
		return MD_ERR_INVAL;
	return rename(from, to) == 0 ? 0 : MD_ERR_IO;
}

int
store_move_aside(const char *path, const char *tag, char *dest, size_t dest_len)
{
	static const char *const side[] = {"-wal", "-shm"};
	char base[4096], from[4096 + 8], to[4096 + 8];
	int n, attempt, status = MD_ERR_INVAL;
	size_t i;

	if (dest != NULL && dest_len > 0)
		dest[0] = '\0';
	if (path == NULL || path[0] == '\0' || tag == NULL)
		return MD_ERR_INVAL;
	/* A free base name: PATH.corrupt-TAG, else PATH.corrupt-TAG.1, ... */
	for (attempt = 0; attempt < 100; attempt++) {
		if (attempt == 0)
			n = snprintf(base, sizeof(base), "%s.corrupt-%s", path, tag);
		else
			n = snprintf(base, sizeof(base), "%s.corrupt-%s.%d", path, tag, attempt);
		if (n < 0 || (size_t)n >= sizeof(base))
			return MD_ERR_INVAL;
		if (!file_exists(base)) {
			status = 0;
			break;
		}
	}
	if (status != 0)
		return status;
	/* The WAL and shm first: a fresh database must never find the old
	 * WAL beside it and replay it.  A crash in between leaves the main
	 * file, which the next start checks and moves again. */
	for (i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		(void)snprintf(from, sizeof(from), "%s%s", path, side[i]);
		(void)snprintf(to, sizeof(to), "%s%s", base, side[i]);
		status = move_one(from, to);
		if (status != 0)
			return status;
	}
	status = move_one(path, base);
	if (status == 0 && dest != NULL && dest_len > 0)
		(void)snprintf(dest, dest_len, "%s", base);
	return status;
}

int
store_set_max_bytes(struct store *st, uint64_t max_bytes)
{
	int64_t page_size = 0, pages;
	char sql[64];
	int status;

	if (st == NULL)
		return MD_ERR_INVAL;
	if (st->flags & STORE_READONLY)
		return store_error(st, MD_ERR_INVAL, "the store is open read-only");
	status = query_one(st, "PRAGMA page_size", &page_size, NULL, 0);
	if (status != 0)
		return status;
	if (page_size <= 0)
		return store_error(st, MD_ERR_DB, "bad page size %" PRId64, page_size);
	/* 0: SQLite's own limit (the largest value the pragma takes). */
	pages = max_bytes == 0 ? INT64_C(4294967294) : (int64_t)(max_bytes / (uint64_t)page_size);
	if (pages < 1)
		pages = 1;
	if (pages > INT64_C(4294967294))
		pages = INT64_C(4294967294);
	(void)snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %" PRId64, pages);
	/* The pragma answers with the limit in force: never below the pages
	 * the file already has. */
	return query_one(st, sql, NULL, NULL, 0);
}

/* ---- the rest --------------------------------------------------------- */

const char *
store_errmsg(struct store *st)
{
	if (st == NULL)
		return open_errmsg[0] != '\0' ? open_errmsg : "no error";
	return st->errmsg[0] != '\0' ? st->errmsg : "no error";
}

void
store_close(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < STMT_COUNT; i++) {
		/* finalize repeats the last step's error, handled then */
		(void)sqlite3_finalize(st->stmt[i]);
	}
	for (i = 0; i < STORE_MAX_CACHES; i++)
		cache_clear(&st->caches[i]);
	/* Every statement is finalized: close cannot be busy; there is nobody
	 * left to tell about an I/O error at this point. */
	(void)sqlite3_close_v2(st->db);
	free(st);
}
