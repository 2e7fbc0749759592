/*
 * alerts.h - memdeltad's alert engine (docs/alerts.md).  Fed every snapshot
 * the scheduler stored, it keeps per target instance the recent series (the
 * leak signal, committed bytes per type, region count, snapshot ids), runs
 * the detector of diff/trend.h on them every eval_interval, and the plain
 * threshold and map-count rules at every snapshot.  Each rule's alert goes
 * pending -> firing -> resolved in the store (store_alert_put); when one
 * fires it is attributed (the types' shares of the slope, the regions that
 * grew between the baseline and the trigger snapshot, a link to that diff
 * in the UI) and its JSON goes to the sinks.  A new process instance starts
 * with fresh detectors; the alerts of an instance that is gone resolve.
 * Times are the snapshots' times: the engine reads no clock.
 */
#ifndef MEMDELTA_ALERTS_H
#define MEMDELTA_ALERTS_H

#include <stdint.h>

#include "daemon/daemon_config.h"
#include "daemon/sinks.h"
#include "snapshot/store.h"
#include "web/web.h"

struct alerts;

/* An engine writing to @st (the writer, borrowed) and sending to @sk
 * (borrowed, may be NULL: the log only).  vm.max_map_count is read from
 * /proc/sys/vm/max_map_count (65530 when unreadable).  Returns 0 and *out,
 * or MD_ERR_NOMEM. */
int alerts_new(struct store *st, struct sinks *sk, struct alerts **out);
void alerts_free(struct alerts *a);

/* Send to @sk from now on (after a reload replaced the sinks). */
void alerts_set_sinks(struct alerts *a, struct sinks *sk);

/* Override vm.max_map_count (tests). */
void alerts_set_max_map_count(struct alerts *a, uint64_t max_map_count);

/* Snapshot @snapshot_id (@s, as stored) of target @target_id called @name,
 * whose alert settings are @p.  The first snapshot of a target seeds its
 * series and open alerts from the store.  Errors are logged, never fatal. */
void alerts_on_snapshot(struct alerts *a, int64_t target_id, const char *name,
                        const struct alert_params *p, int64_t snapshot_id,
                        const struct snapshot *s);

/* Resolve the alerts of instances not sampled for a while (see
 * docs/alerts.md) as of @now_ms, also when their target has no other
 * process to sample.  The scheduler calls it between ticks. */
void alerts_expire(struct alerts *a, int64_t now_ms);

/* The storage alert (rule "storage"): @failing 1 when snapshots stopped
 * being stored, with the reason @error (the health's storage_error); 0 when
 * they are stored again.  Call it on the transitions only: each call sends
 * one alert to the sinks (log, command, webhook, syslog), firing or
 * resolved; nothing goes to the database, which may be what failed.  A
 * resolution without a firing one before it sends nothing. */
void alerts_storage(struct alerts *a, int failing, const char *error, int64_t now_ms);

/* Fill the leak detection members of @rt (trend_ok, trend_slope_bytes_per_h,
 * trend_touched, alert_state, regions, and the trend_* members of the fit
 * /trend reports: the target's parameters, the last evaluation of the main
 * series with its parameters, time and result) for target @target_id: the
 * newest instance's main series and the target's most severe open alert.
 * An unknown target leaves them empty (trend_params_set and
 * trend_instance_id 0). */
void alerts_runtime(struct alerts *a, int64_t target_id, struct web_target_runtime *rt);

#endif
