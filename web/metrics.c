/*
 * metrics.c - GET /metrics: memdeltad's figures in the Prometheus text
 * exposition format, version 0.0.4 (docs/api.md lists the metrics), so that
 * an existing Prometheus and Alertmanager watch a fleet of memdeltads.  Per
 * target and region type the committed and resident bytes of its latest
 * stored snapshot (store_list_target_summaries); per target the scheduler's
 * and the alert engine's figures the daemon pushes (web_target_runtime);
 * the daemon's health (web_health).  Each family has its HELP and TYPE lines
 * and its samples together; label values are escaped per the format (\\, \"
 * and \n) and made valid UTF-8, so any target name gives a valid exposition.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/json.h"
#include "web/web_int.h"

#define RAW(o, lit) json_out_raw((o), (lit), sizeof(lit) - 1)

/* Length of the valid UTF-8 sequence at @s (1 to 4), or 0 when invalid. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned c = s[0];
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Append @s escaped for a label value (@help 0) or a HELP text (@help 1):
 * backslash and newline always, the double quote in label values; bytes
 * that are not UTF-8 become U+FFFD. */
static void
put_escaped(struct json_out *o, const char *s, int help)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p) {
		if (*p == '\\') {
			RAW(o, "\\\\");
			p++;
		} else if (*p == '\n') {
			RAW(o, "\\n");
			p++;
		} else if (*p == '"' && !help) {
			RAW(o, "\\\"");
			p++;
		} else if ((n = utf8_len(p)) == 0) {
			RAW(o, "\xef\xbf\xbd");
			p++;
		} else {
			json_out_raw(o, (const char *)p, n);
			p += n;
		}
	}
}

/* "# HELP name text\n# TYPE name type\n". */
static void
family(struct json_out *o, const char *name, const char *type, const char *help)
{
	RAW(o, "# HELP ");
	json_out_raw(o, name, strlen(name));
	RAW(o, " ");
	put_escaped(o, help, 1);
	RAW(o, "\n# TYPE ");
	json_out_raw(o, name, strlen(name));
	RAW(o, " ");
	json_out_raw(o, type, strlen(type));
	RAW(o, "\n");
}

/* One sample's name and labels: name{target="T",KEY="VALUE"} (each label
 * optional), up to the space before the value. */
static void
sample_head(struct json_out *o, const char *name, const char *target, const char *key,
            const char *value)
{
	json_out_raw(o, name, strlen(name));
	if (target != NULL || key != NULL) {
		RAW(o, "{");
		if (target != NULL) {
			RAW(o, "target=\"");
			put_escaped(o, target, 0);
			RAW(o, "\"");
		}
		if (key != NULL) {
			if (target != NULL)
				RAW(o, ",");
			json_out_raw(o, key, strlen(key));
			RAW(o, "=\"");
			put_escaped(o, value, 0);
			RAW(o, "\"");
		}
		RAW(o, "}");
	}
	RAW(o, " ");
}

static void
sample_u64(struct json_out *o, const char *name, const char *target, const char *key,
           const char *value, uint64_t v)
{
	sample_head(o, name, target, key, value);
	json_out_u64(o, v);
	RAW(o, "\n");
}

static void
sample_double(struct json_out *o, const char *name, const char *target, const char *key,
              const char *value, double v)
{
	char buf[40];

	sample_head(o, name, target, key, value);
	if (isnan(v))
		snprintf(buf, sizeof(buf), "NaN");
	else if (isinf(v))
		snprintf(buf, sizeof(buf), "%sInf", v > 0 ? "+" : "-");
	else {
		/* The shortest of 15 or 17 digits that reads back exactly. */
		snprintf(buf, sizeof(buf), "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, sizeof(buf), "%.17g", v);
	}
	json_out_raw(o, buf, strlen(buf));
	RAW(o, "\n");
}

/* A time in Unix ms as exact decimal seconds ("1700000000.123"). */
static void
sample_ms(struct json_out *o, const char *name, const char *target, int64_t ms)
{
	char buf[40];
	uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;

	sample_head(o, name, target, NULL, NULL);
	snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%03u", ms < 0 ? "-" : "", a / 1000,
	         (unsigned)(a % 1000));
	json_out_raw(o, buf, strlen(buf));
	RAW(o, "\n");
}

/* The runtime row of target @id, or NULL. */
static const struct web_target_runtime *
runtime_of(const struct web_target_runtime *rt, size_t n, int64_t id)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (rt[i].target_id == id)
			return &rt[i];
	}
	return NULL;
}

/* The families that come from the latest stored snapshot of each target. */
static void
snapshot_families(struct json_out *o, const struct store_target_summary *s, size_t n)
{
	size_t i;
	int t, k;

	for (k = 0; k < 2; k++) {
		const char *name = k ? "memdelta_resident_bytes" : "memdelta_committed_bytes";

		family(o, name, "gauge",
		       k ? "Resident bytes (working set) of a region type in the target's latest "
		           "snapshot."
		         : "Committed bytes of a region type in the target's latest snapshot.");
		for (i = 0; i < n; i++) {
			if (s[i].last_snapshot_id == 0)
				continue;
			for (t = 0; t < REGION_TYPE_COUNT; t++) {
				const struct region_totals *bt = &s[i].totals.by_type[t];

				if (t == REGION_FREE)
					continue;
				sample_u64(o, name, s[i].name, "type",
				           region_type_name((enum region_type)t),
				           k ? bt->resident : bt->committed);
			}
		}
	}
	family(o, "memdelta_private_committed_bytes", "gauge",
	       "Committed private bytes (Private Data + Heap + Stack), the leak signal, in the "
	       "target's latest snapshot.");
	for (i = 0; i < n; i++) {
		if (s[i].last_snapshot_id != 0)
			sample_u64(o, "memdelta_private_committed_bytes", s[i].name, NULL, NULL,
			           s[i].totals.private_committed);
	}
	family(o, "memdelta_private_touched_bytes", "gauge",
	       "Touched part of the committed private bytes (private resident + swap) in the "
	       "target's latest snapshot.");
	for (i = 0; i < n; i++) {
		if (s[i].last_snapshot_id != 0)
			sample_u64(o, "memdelta_private_touched_bytes", s[i].name, NULL, NULL,
			           s[i].totals.private_touched);
	}
	family(o, "memdelta_regions", "gauge",
	       "Number of memory regions in the target's latest snapshot (compare with "
	       "vm.max_map_count).");
	for (i = 0; i < n; i++) {
		if (s[i].last_snapshot_id != 0)
			sample_u64(o, "memdelta_regions", s[i].name, NULL, NULL,
			           s[i].totals.all.regions);
	}
	family(o, "memdelta_last_snapshot_timestamp_seconds", "gauge",
	       "Time of the target's latest snapshot, Unix seconds.");
	for (i = 0; i < n; i++) {
		if (s[i].last_snapshot_id != 0)
			sample_ms(o, "memdelta_last_snapshot_timestamp_seconds", s[i].name,
			          s[i].last_time_ms);
	}
}

/* The families from the daemon's per-target runtime table (targets it
 * watches now; a runtime row whose target has no name yet is left out). */
static void
runtime_families(struct json_out *o, const struct store_target_summary *s, size_t n,
                 const struct web_target_runtime *rt, size_t n_rt)
{
	static const char *const states[3] = {"none", "pending", "firing"};
	const struct web_target_runtime *r;
	size_t i;
	int k;

	family(o, "memdelta_ticks_total", "counter",
	       "Scheduler ticks of the target since memdeltad started.");
	for (i = 0; i < n; i++) {
		if ((r = runtime_of(rt, n_rt, s[i].id)) != NULL)
			sample_u64(o, "memdelta_ticks_total", s[i].name, NULL, NULL, r->ticks);
	}
	family(o, "memdelta_ticks_missed_total", "counter",
	       "Ticks of the target that were skipped because sampling fell behind.");
	for (i = 0; i < n; i++) {
		if ((r = runtime_of(rt, n_rt, s[i].id)) != NULL)
			sample_u64(o, "memdelta_ticks_missed_total", s[i].name, NULL, NULL,
			           r->ticks_missed);
	}
	family(o, "memdelta_sample_cost_seconds", "gauge",
	       "Cost of the target's last tick (collect and store), seconds.");
	for (i = 0; i < n; i++) {
		if ((r = runtime_of(rt, n_rt, s[i].id)) != NULL)
			sample_double(o, "memdelta_sample_cost_seconds", s[i].name, NULL, NULL,
			              (double)r->last_cost_ns / 1e9);
	}
	family(o, "memdelta_sample_interval_seconds", "gauge",
	       "Sampling interval of the target, seconds.");
	for (i = 0; i < n; i++) {
		if ((r = runtime_of(rt, n_rt, s[i].id)) != NULL)
			sample_u64(o, "memdelta_sample_interval_seconds", s[i].name, NULL, NULL,
			           r->interval_s);
	}
	family(o, "memdelta_watching", "gauge",
	       "1 while a live process matches the target, else 0.");
	for (i = 0; i < n; i++) {
		if ((r = runtime_of(rt, n_rt, s[i].id)) != NULL)
			sample_u64(o, "memdelta_watching", s[i].name, NULL, NULL,
			           r->watching ? 1 : 0);
	}
	family(o, "memdelta_trend_slope_bytes_per_second", "gauge",
	       "Theil-Sen slope of the leak series the alerts watch (label series: "
	       "private_committed, or private_touched) of the target's newest instance, as of "
	       "the alert engine's last evaluation (absent when no trend could be fitted).");
	for (i = 0; i < n; i++) {
		if ((r = runtime_of(rt, n_rt, s[i].id)) != NULL && r->trend_ok)
			sample_double(o, "memdelta_trend_slope_bytes_per_second", s[i].name,
			              "series",
			              r->trend_touched ? "private_touched" : "private_committed",
			              r->trend_slope_bytes_per_h / 3600.0);
	}
	family(o, "memdelta_alert_state", "gauge",
	       "State of the target's most severe open alert: 1 for the current state "
	       "(none, pending or firing), 0 for the others.");
	for (i = 0; i < n; i++) {
		int cur;

		if ((r = runtime_of(rt, n_rt, s[i].id)) == NULL)
			continue;
		cur = r->alert_state == ALERT_FIRING ? 2 : r->alert_state == ALERT_PENDING ? 1 : 0;
		for (k = 0; k < 3; k++)
			sample_u64(o, "memdelta_alert_state", s[i].name, "state", states[k],
			           k == cur);
	}
}

int
web_metrics(struct web *w, struct store *st, struct web_reply *rep)
{
	struct store_target_summary *s = NULL;
	struct web_target_runtime *rt = NULL;
	struct web_health h;
	struct json_out o;
	uint64_t db_bytes = 0;
	size_t n = 0, n_rt = 0;
	int rc;

	json_out_init(&o, NULL, NULL);
	web_health_get(w, &h);
	if (st == NULL) {
		rc = web_reply_error(rep, 503, "cannot open the database");
		goto out;
	}
	rc = store_list_target_summaries(st, &s, &n);
	if (rc != 0) {
		rc = web_reply_error(rep, 503, "cannot read targets: %s",
		                     rc == MD_ERR_NOMEM ? "out of memory" : store_errmsg(st));
		goto out;
	}
	if (web_runtime_get(w, &rt, &n_rt) != 0 || store_size_bytes(st, &db_bytes) != 0) {
		rc = web_reply_error(rep, 503, "cannot read the daemon's figures");
		goto out;
	}
	family(&o, "memdelta_build_info", "gauge", "memdeltad's version; the value is 1.");
	sample_u64(&o, "memdelta_build_info", NULL, "version", PACKAGE_VERSION, 1);
	family(&o, "memdelta_storage_ok", "gauge",
	       "1 while snapshots are stored, 0 when writes to the database fail (full, locked, "
	       "...).");
	sample_u64(&o, "memdelta_storage_ok", NULL, NULL, NULL, h.storage_ok ? 1 : 0);
	family(&o, "memdelta_snapshots_written_total", "counter",
	       "Snapshots stored since memdeltad started.");
	sample_u64(&o, "memdelta_snapshots_written_total", NULL, NULL, NULL, h.snapshots_written);
	family(&o, "memdelta_snapshots_dropped_total", "counter",
	       "Snapshots taken but not stored because the database write failed (full, locked, "
	       "...).");
	sample_u64(&o, "memdelta_snapshots_dropped_total", NULL, NULL, NULL, h.snapshots_dropped);
	family(&o, "memdelta_targets", "gauge", "Targets memdeltad watches now.");
	sample_u64(&o, "memdelta_targets", NULL, NULL, NULL, h.targets);
	family(&o, "memdelta_database_bytes", "gauge", "Bytes the database file uses.");
	sample_u64(&o, "memdelta_database_bytes", NULL, NULL, NULL, db_bytes);
	family(&o, "memdelta_start_time_seconds", "gauge", "When memdeltad started, Unix seconds.");
	sample_ms(&o, "memdelta_start_time_seconds", NULL, h.started_ms);
	snapshot_families(&o, s, n);
	runtime_families(&o, s, n, rt, n_rt);
	if (json_out_finish(&o) != 0) {
		rc = web_reply_error(rep, 503, "out of memory");
		goto out;
	}
	free(rep->body);
	memset(rep, 0, sizeof(*rep));
	rep->status = 200;
	rep->body = o.buf;
	rep->len = o.len;
	rep->content_type = "text/plain; version=0.0.4; charset=utf-8";
	o.buf = NULL;
	rc = 0;
out:
	json_out_done(&o);
	free(rt);
	free(s);
	return rc;
}
