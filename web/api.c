/*
 * api.c - the JSON API v1 of docs/api.md and /healthz.  Each endpoint reads
 * through the calling pool thread's read-only store handle, writes its body
 * with the streaming JSON writer of snapshot/json.h (exact 64-bit integers,
 * no tree), or with diff_to_json for diffs and the CLI's CSV renderers for
 * the .csv forms, and hands web.c a status and a body.  Parameters are
 * checked strictly: a malformed one is a 400 naming it, an unknown id a 404.
 * Issue 4 adds the alerts the daemon's alert engine stored (store_list_alerts,
 * store_get_alert) and a target's trend, fitted on request with the
 * detector of diff/trend.h over its newest instance's raw timeline.
 */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "daemon/cli_render.h"
#include "diff/diff.h"
#include "diff/diff_json.h"
#include "diff/trend.h"
#include "snapshot/json.h"
#include "web/web_int.h"

#define TIMELINE_DEFAULT_POINTS 500
#define TIMELINE_MAX_POINTS     5000
#define SPARK_MAX_POINTS        500 /* per target, in /api/v1/targets?spark= */
#define ALERTS_DEFAULT_LIMIT    100
#define ALERTS_MAX_LIMIT        10000
#define SNAPSHOTS_DEFAULT_LIMIT 1000
#define SNAPSHOTS_MAX_LIMIT     10000

#define RAW(o, lit) json_out_raw((o), (lit), sizeof(lit) - 1)

/* ---- parameters -------------------------------------------------------- */

/* Parse a decimal integer (optional '-' when @allow_negative); 0 or -1. */
static int
parse_int(const char *s, int allow_negative, int64_t *out)
{
	uint64_t v = 0, limit = INT64_MAX;
	int neg = 0;

	if (s == NULL)
		return -1;
	if (*s == '-' && allow_negative) {
		neg = 1;
		limit = (uint64_t)INT64_MAX + 1;
		s++;
	}
	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (limit - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return 0;
}

/* A positive id; 0 or -1. */
static int
parse_id(const char *s, int64_t *out)
{
	return parse_int(s, 0, out) == 0 && *out > 0 ? 0 : -1;
}

/* Query parameter @name as a positive id (required). */
static int
query_id(const struct web_query *q, const char *name, int64_t *out, struct web_reply *rep)
{
	const char *v = q->get(q->arg, name);

	if (v == NULL)
		return web_reply_error(rep, 400, "missing parameter %s (a snapshot id)", name) ? -2
		                                                                               : -1;
	if (parse_id(v, out) != 0)
		return web_reply_error(rep, 400, "parameter %s must be a positive integer id", name)
		               ? -2
		               : -1;
	return 0;
}

/* Optional positive id parameter @name (0 when absent). */
static int
query_opt_id(const struct web_query *q, const char *name, int64_t *out, struct web_reply *rep)
{
	const char *v = q->get(q->arg, name);

	*out = 0;
	if (v == NULL)
		return 0;
	if (parse_id(v, out) != 0)
		return web_reply_error(rep, 400, "parameter %s must be a positive integer id", name)
		               ? -2
		               : -1;
	return 0;
}

/* Optional query parameter @name, an integer from 1 to @max; *out is left
 * as it is (the default) when absent. */
static int
query_count(const struct web_query *q, const char *name, int64_t max, int64_t *out,
            struct web_reply *rep)
{
	const char *v = q->get(q->arg, name);

	if (v == NULL)
		return 0;
	if (parse_int(v, 0, out) != 0 || *out < 1 || *out > max)
		return web_reply_error(rep, 400,
		                       "parameter %s must be an integer from 1 to %" PRId64, name,
		                       max)
		               ? -2
		               : -1;
	return 0;
}

/* Optional integer query parameter @name (Unix ms), @def when absent. */
static int
query_ms(const struct web_query *q, const char *name, int64_t def, int64_t *out, int *given,
         struct web_reply *rep)
{
	const char *v = q->get(q->arg, name);

	*given = 0;
	*out = def;
	if (v == NULL)
		return 0;
	if (parse_int(v, 1, out) != 0)
		return web_reply_error(rep, 400, "parameter %s must be an integer (Unix ms)", name)
		               ? -2
		               : -1;
	*given = 1;
	return 0;
}

/* The reply for a failed store call. */
static int
store_failed(struct web_reply *rep, struct store *st, int rc, const char *what)
{
	if (rc == MD_ERR_NOTFOUND)
		return web_reply_error(rep, 404, "%s not found", what);
	if (rc == MD_ERR_NOMEM)
		return web_reply_error(rep, 503, "out of memory reading %s", what);
	return web_reply_error(rep, 503, "cannot read %s: %s", what, store_errmsg(st));
}

/* Hand the finished JSON of @o to @rep. */
static int
reply_json(struct web_reply *rep, struct json_out *o)
{
	if (json_out_finish(o) != 0) {
		json_out_done(o);
		return web_reply_error(rep, 500, "out of memory");
	}
	free(rep->body);
	memset(rep, 0, sizeof(*rep));
	rep->status = 200;
	rep->body = o->buf;
	rep->len = o->len;
	rep->content_type = "application/json";
	o->buf = NULL;
	return 0;
}

static void
member_u64(struct json_out *o, const char *sep_name, uint64_t v)
{
	json_out_raw(o, sep_name, strlen(sep_name));
	json_out_u64(o, v);
}

static void
member_i64(struct json_out *o, const char *sep_name, int64_t v)
{
	json_out_raw(o, sep_name, strlen(sep_name));
	json_out_i64(o, v);
}

/* A finite double in the shortest of 15 or 17 significant digits that
 * reads back exactly; null for NaN and infinities (JSON has neither). */
static void
member_double(struct json_out *o, const char *sep_name, double v)
{
	char buf[40];

	json_out_raw(o, sep_name, strlen(sep_name));
	if (!isfinite(v)) {
		RAW(o, "null");
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	json_out_raw(o, buf, strlen(buf));
}

static void
member_bool(struct json_out *o, const char *sep_name, int v)
{
	json_out_raw(o, sep_name, strlen(sep_name));
	if (v)
		RAW(o, "true");
	else
		RAW(o, "false");
}

static const char *
alert_state_word(int state)
{
	switch (state) {
	case ALERT_PENDING:
		return "pending";
	case ALERT_FIRING:
		return "firing";
	case ALERT_RESOLVED:
		return "resolved";
	default:
		return NULL;
	}
}

/* Does target @id exist?  0, or an error reply filled (returns -1/-2). */
static int
target_check(struct store *st, int64_t id, struct web_reply *rep)
{
	struct store_target_info *t = NULL;
	size_t n = 0, i;
	int rc, found = 0;

	rc = store_list_targets(st, &t, &n);
	if (rc != 0)
		return store_failed(rep, st, rc, "targets") ? -2 : -1;
	for (i = 0; i < n; i++)
		found |= t[i].id == id;
	free(t);
	if (!found)
		return web_reply_error(rep, 404, "target %" PRId64 " not found", id) ? -2 : -1;
	return 0;
}

/* ---- /healthz ---------------------------------------------------------- */

static const char *
storage_word(const struct web_health *h)
{
	if (h->storage_ok)
		return "ok";
	if (strstr(h->storage_error, "full") != NULL)
		return "full";
	if (strstr(h->storage_error, "busy") != NULL || strstr(h->storage_error, "lock") != NULL)
		return "busy";
	return "error";
}

static int
api_healthz(struct web *w, struct store *st, struct web_reply *rep)
{
	struct web_health h;
	struct json_out o;
	uint64_t db_bytes = 0;

	web_health_get(w, &h);
	if (st != NULL && store_size_bytes(st, &db_bytes) != 0)
		db_bytes = 0;
	json_out_init(&o, NULL, NULL);
	RAW(&o, "{\"status\":");
	json_out_string(&o, h.storage_ok ? "ok" : "degraded");
	RAW(&o, ",\"storage\":");
	json_out_string(&o, storage_word(&h));
	RAW(&o, ",\"storage_error\":");
	json_out_string(&o, h.storage_ok ? "" : h.storage_error);
	member_u64(&o, ",\"snapshots_written\":", h.snapshots_written);
	member_u64(&o, ",\"snapshots_dropped\":", h.snapshots_dropped);
	member_u64(&o, ",\"ticks_missed\":", h.ticks_missed);
	member_i64(&o, ",\"last_snapshot_ms\":", h.last_snapshot_ms);
	member_i64(&o, ",\"started_ms\":", h.started_ms);
	member_u64(&o, ",\"targets\":", h.targets);
	member_u64(&o, ",\"db_bytes\":", db_bytes);
	RAW(&o, ",\"version\":");
	json_out_string(&o, PACKAGE_VERSION);
	RAW(&o, "}");
	return reply_json(rep, &o);
}

/* ---- /api/v1/targets --------------------------------------------------- */

static void
type_object(struct json_out *o, const struct snapshot_totals *t, int resident)
{
	int i;

	RAW(o, "{");
	for (i = 0; i < REGION_TYPE_COUNT; i++) {
		if (i > 0)
			RAW(o, ",");
		json_out_string(o, region_type_name((enum region_type)i));
		RAW(o, ":");
		json_out_u64(o, resident ? t->by_type[i].resident : t->by_type[i].committed);
	}
	RAW(o, "}");
}

/* ,"spark":[...]: the private committed bytes of @target's whole stored
 * history in at most @points points (a restart inside a bucket adds one),
 * what the target page's timeline shows, for the overview's sparkline. */
static int
spark_member(struct json_out *o, struct store *st, int64_t target, int64_t points)
{
	struct store_timeline_point *p = NULL;
	size_t n = 0, i;
	int rc = store_timeline(st, target, INT64_MIN, INT64_MAX, (size_t)points, &p, &n);

	if (rc != 0)
		return rc;
	RAW(o, ",\"spark\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			RAW(o, ",");
		json_out_u64(o, p[i].private_committed);
	}
	RAW(o, "]");
	free(p);
	return 0;
}

static int
api_targets(struct web *w, struct store *st, const struct web_query *q, struct web_reply *rep)
{
	struct store_target_summary *s = NULL;
	struct web_target_runtime *rt = NULL;
	size_t n = 0, n_rt = 0, i, j;
	int64_t spark = 0;
	struct json_out o;
	int rc;

	json_out_init(&o, NULL, NULL);
	if ((rc = query_count(q, "spark", SPARK_MAX_POINTS, &spark, rep)) != 0) {
		rc = rc == -2 ? MD_ERR_NOMEM : 0;
		goto out;
	}
	rc = store_list_target_summaries(st, &s, &n);
	if (rc != 0) {
		rc = store_failed(rep, st, rc, "targets");
		goto out;
	}
	rc = web_runtime_get(w, &rt, &n_rt);
	if (rc != 0) {
		rc = web_reply_error(rep, 500, "out of memory");
		goto out;
	}
	RAW(&o, "{\"targets\":[");
	for (i = 0; i < n; i++) {
		const struct store_target_summary *t = &s[i];

		member_i64(&o, i ? ",{\"id\":" : "{\"id\":", t->id);
		RAW(&o, ",\"name\":");
		json_out_string(&o, t->name);
		member_i64(&o, ",\"last_snapshot\":", t->last_snapshot_id);
		member_i64(&o, ",\"last_time_ms\":", t->last_time_ms);
		member_i64(&o, ",\"instance\":", t->instance_id);
		member_i64(&o, ",\"pid\":", t->pid);
		member_u64(&o, ",\"instances\":", t->n_instances);
		member_u64(&o, ",\"private_committed\":", t->totals.private_committed);
		member_u64(&o, ",\"private_touched\":", t->totals.private_touched);
		RAW(&o, ",\"committed\":");
		type_object(&o, &t->totals, 0);
		RAW(&o, ",\"resident\":");
		type_object(&o, &t->totals, 1);
		if (spark > 0 && (rc = spark_member(&o, st, t->id, spark)) != 0) {
			rc = store_failed(rep, st, rc, "timeline");
			goto out;
		}
		for (j = 0; j < n_rt && rt[j].target_id != t->id; j++)
			;
		/* rising: an open alert; flat: a trend fitted, no open alert. */
		if (j == n_rt || !rt[j].trend_ok)
			RAW(&o, ",\"trend\":\"none\"");
		else if (rt[j].alert_state == ALERT_PENDING || rt[j].alert_state == ALERT_FIRING)
			RAW(&o, ",\"trend\":\"rising\"");
		else
			RAW(&o, ",\"trend\":\"flat\"");
		if (j < n_rt) {
			const char *aw = alert_state_word(rt[j].alert_state);

			member_u64(&o, ",\"runtime\":{\"interval_s\":", rt[j].interval_s);
			member_u64(&o, ",\"ticks\":", rt[j].ticks);
			member_u64(&o, ",\"ticks_missed\":", rt[j].ticks_missed);
			member_u64(&o, ",\"last_cost_ns\":", rt[j].last_cost_ns);
			member_u64(&o, ",\"full_reads\":", rt[j].full_reads);
			member_u64(&o, ",\"probe_hits\":", rt[j].probe_hits);
			member_bool(&o, ",\"watching\":", rt[j].watching);
			RAW(&o, ",\"trend_slope_bytes_per_h\":");
			if (rt[j].trend_ok)
				member_double(&o, "", rt[j].trend_slope_bytes_per_h);
			else
				RAW(&o, "null");
			RAW(&o, ",\"alert_state\":");
			if (aw != NULL && rt[j].alert_state != ALERT_RESOLVED)
				json_out_string(&o, aw);
			else
				RAW(&o, "null");
			RAW(&o, "}");
		}
		RAW(&o, "}");
	}
	RAW(&o, "]}");
	rc = reply_json(rep, &o);
out:
	json_out_done(&o);
	free(rt);
	free(s);
	return rc;
}

/* ---- /api/v1/targets/{id}/instances ------------------------------------ */

static int
api_instances(struct store *st, int64_t target, struct web_reply *rep)
{
	struct store_instance_info *v = NULL;
	struct json_out o;
	size_t n = 0, i;
	int rc;

	json_out_init(&o, NULL, NULL);
	rc = target_check(st, target, rep);
	if (rc != 0) {
		rc = rc == -2 ? MD_ERR_NOMEM : 0;
		goto out;
	}
	rc = store_list_instances(st, target, &v, &n);
	if (rc != 0) {
		rc = store_failed(rep, st, rc, "instances");
		goto out;
	}
	member_i64(&o, "{\"target\":", target);
	RAW(&o, ",\"instances\":[");
	for (i = 0; i < n; i++) {
		member_i64(&o, i ? ",{\"id\":" : "{\"id\":", v[i].id);
		member_i64(&o, ",\"pid\":", v[i].pid);
		member_u64(&o, ",\"start_time\":", v[i].start_time);
		member_i64(&o, ",\"start_time_ms\":", v[i].start_time_ms);
		RAW(&o, ",\"name\":");
		json_out_string(&o, v[i].name);
		member_i64(&o, ",\"first_time_ms\":", v[i].first_time_ms);
		member_i64(&o, ",\"last_time_ms\":", v[i].last_time_ms);
		member_u64(&o, ",\"snapshots\":", v[i].n_snapshots);
		RAW(&o, "}");
	}
	RAW(&o, "]}");
	rc = reply_json(rep, &o);
out:
	json_out_done(&o);
	free(v);
	return rc;
}

/* ---- /api/v1/targets/{id}/snapshots ------------------------------------ */

static int
api_snapshots(struct store *st, int64_t target, const struct web_query *q, struct web_reply *rep)
{
	struct store_snapshot_info *v = NULL;
	struct json_out o;
	int64_t from, to, after, limit = SNAPSHOTS_DEFAULT_LIMIT;
	size_t n = 0, i;
	int rc, given, more = 0;

	json_out_init(&o, NULL, NULL);
	if ((rc = query_ms(q, "from", INT64_MIN, &from, &given, rep)) != 0 ||
	    (rc = query_ms(q, "to", INT64_MAX, &to, &given, rep)) != 0 ||
	    (rc = query_opt_id(q, "after", &after, rep)) != 0 ||
	    (rc = query_count(q, "limit", SNAPSHOTS_MAX_LIMIT, &limit, rep)) != 0 ||
	    (rc = target_check(st, target, rep)) != 0) {
		rc = rc == -2 ? MD_ERR_NOMEM : 0;
		goto out;
	}
	rc = store_list_snapshots_page(st, target, from, to, after, (size_t)limit, &v, &n, &more);
	if (rc == MD_ERR_NOTFOUND) {
		rc = web_reply_error(
		        rep, 400, "parameter after is not a snapshot of target %" PRId64, target);
		goto out;
	}
	if (rc != 0) {
		rc = store_failed(rep, st, rc, "snapshots");
		goto out;
	}
	member_i64(&o, "{\"target\":", target);
	RAW(&o, ",\"snapshots\":[");
	for (i = 0; i < n; i++) {
		member_i64(&o, i ? ",{\"id\":" : "{\"id\":", v[i].id);
		member_i64(&o, ",\"time_ms\":", v[i].time_ms);
		member_i64(&o, ",\"instance\":", v[i].instance_id);
		member_i64(&o, ",\"pid\":", v[i].pid);
		member_u64(&o, ",\"regions\":", v[i].n_regions);
		RAW(&o, ",\"flags\":");
		json_out_flags(&o, v[i].flags);
		member_u64(&o, ",\"collect_ns\":", v[i].collect_ns);
		RAW(&o, "}");
	}
	if (more)
		RAW(&o, "],\"more\":true}");
	else
		RAW(&o, "],\"more\":false}");
	rc = reply_json(rep, &o);
out:
	json_out_done(&o);
	free(v);
	return rc;
}

/* ---- /api/v1/targets/{id}/timeline ------------------------------------- */

static int
api_timeline(struct store *st, int64_t target, const struct web_query *q, struct web_reply *rep)
{
	static const char *const series[2] = {",\"committed\":[", "],\"resident\":["};
	struct store_instance_info *inst = NULL;
	struct store_timeline_point *p = NULL;
	struct json_out o;
	int64_t from, to, points = TIMELINE_DEFAULT_POINTS, first_ms = 0, last_ms = 0;
	size_t n_inst = 0, n = 0, i;
	int rc, from_given, to_given, t, k, first;

	json_out_init(&o, NULL, NULL);
	if ((rc = query_ms(q, "from", 0, &from, &from_given, rep)) != 0 ||
	    (rc = query_ms(q, "to", 0, &to, &to_given, rep)) != 0 ||
	    (rc = query_count(q, "points", TIMELINE_MAX_POINTS, &points, rep)) != 0) {
		rc = rc == -2 ? MD_ERR_NOMEM : 0;
		goto out;
	}
	if (from_given && to_given && from > to) {
		rc = web_reply_error(rep, 400, "parameter from is after parameter to");
		goto out;
	}
	rc = target_check(st, target, rep);
	if (rc != 0) {
		rc = rc == -2 ? MD_ERR_NOMEM : 0;
		goto out;
	}
	rc = store_list_instances(st, target, &inst, &n_inst);
	if (rc != 0) {
		rc = store_failed(rep, st, rc, "instances");
		goto out;
	}
	/* Without bounds: the whole stored history of the target. */
	for (i = 0; i < n_inst; i++) {
		if (inst[i].first_time_ms != 0 &&
		    (first_ms == 0 || inst[i].first_time_ms < first_ms))
			first_ms = inst[i].first_time_ms;
		if (inst[i].last_time_ms > last_ms)
			last_ms = inst[i].last_time_ms;
	}
	if (!from_given)
		from = first_ms;
	if (!to_given)
		to = last_ms;
	if (from <= to) {
		rc = store_timeline(st, target, from, to, (size_t)points, &p, &n);
		if (rc != 0) {
			rc = store_failed(rep, st, rc, "timeline");
			goto out;
		}
	}

	member_i64(&o, "{\"target\":", target);
	member_i64(&o, ",\"from_ms\":", from);
	member_i64(&o, ",\"to_ms\":", to);
	RAW(&o, ",\"types\":[");
	for (t = 0; t < REGION_TYPE_COUNT; t++) {
		if (t > 0)
			RAW(&o, ",");
		json_out_string(&o, region_type_name((enum region_type)t));
	}
	RAW(&o, "],\"points\":[");
	for (i = 0; i < n; i++) {
		member_i64(&o, i ? ",{\"time_ms\":" : "{\"time_ms\":", p[i].time_ms);
		member_i64(&o, ",\"snapshot\":", p[i].snapshot_id);
		member_i64(&o, ",\"instance\":", p[i].instance_id);
		for (k = 0; k < 2; k++) {
			json_out_raw(&o, series[k], strlen(series[k]));
			for (t = 0; t < REGION_TYPE_COUNT; t++) {
				if (t > 0)
					RAW(&o, ",");
				json_out_u64(&o, k ? p[i].resident[t] : p[i].committed[t]);
			}
		}
		member_u64(&o, "],\"private_committed\":", p[i].private_committed);
		member_u64(&o, ",\"private_touched\":", p[i].private_touched);
		RAW(&o, "}");
	}
	/* Every instance after the target's first whose start lies in range. */
	RAW(&o, "],\"restarts\":[");
	first = 1;
	for (i = 1; i < n_inst; i++) {
		int64_t start =
		        inst[i].start_time_ms ? inst[i].start_time_ms : inst[i].first_time_ms;

		if (start < from || start > to)
			continue;
		member_i64(&o, first ? "{\"time_ms\":" : ",{\"time_ms\":", start);
		member_i64(&o, ",\"instance\":", inst[i].id);
		member_i64(&o, ",\"pid\":", inst[i].pid);
		RAW(&o, "}");
		first = 0;
	}
	RAW(&o, "]}");
	rc = reply_json(rep, &o);
out:
	json_out_done(&o);
	free(p);
	free(inst);
	return rc;
}

/* ---- snapshots and diffs ----------------------------------------------- */

/* The target snapshot @s (id @id) belongs to: the target whose snapshot
 * list at s->time_ms holds @id.  0 when none is found. */
static int
snapshot_target(struct store *st, int64_t id, const struct snapshot *s, int64_t *target)
{
	struct store_target_info *t = NULL;
	struct store_snapshot_info *v = NULL;
	size_t n = 0, nv, i, j;
	int rc;

	*target = 0;
	rc = store_list_targets(st, &t, &n);
	for (i = 0; rc == 0 && i < n && *target == 0; i++) {
		rc = store_list_snapshots(st, t[i].id, s->time_ms, s->time_ms, &v, &nv);
		for (j = 0; rc == 0 && j < nv; j++) {
			if (v[j].id == id)
				*target = t[i].id;
		}
		free(v);
		v = NULL;
	}
	free(t);
	return rc;
}

/* Load snapshot @id; on failure fill @rep (404 names @param). */
static int
load_snapshot(struct store *st, int64_t id, const char *param, struct snapshot **out,
              struct web_reply *rep)
{
	char what[64];
	int rc;

	rc = store_get_snapshot(st, id, out);
	if (rc == 0)
		return 0;
	if (param != NULL)
		snprintf(what, sizeof(what), "snapshot %" PRId64 " (parameter %s)", id, param);
	else
		snprintf(what, sizeof(what), "snapshot %" PRId64, id);
	return store_failed(rep, st, rc, what) ? -2 : -1;
}

/* Render through a FILE * into a malloc'd buffer. */
struct render_job {
	const struct snapshot *a, *b;
	const struct diff_result *d;
	int all;
};

static int
render_job_run(FILE *f, const struct render_job *job)
{
	if (job->d == NULL)
		return render_snapshot_csv(f, job->a);
	return render_diff_csv(f, job->a, job->b, job->d, job->all);
}

#ifdef _WIN32
/* No open_memstream: go through a temporary file. */
static int
render_to_buffer(const struct render_job *job, char **buf, size_t *len)
{
	FILE *f = tmpfile();
	long size;
	int rc = MD_ERR_IO;

	*buf = NULL;
	*len = 0;
	if (f == NULL)
		return MD_ERR_IO;
	if (render_job_run(f, job) != 0 || fflush(f) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	*buf = malloc((size_t)size + 1);
	if (*buf == NULL) {
		rc = MD_ERR_NOMEM;
		goto out;
	}
	if (fread(*buf, 1, (size_t)size, f) != (size_t)size) {
		free(*buf);
		*buf = NULL;
		goto out;
	}
	*len = (size_t)size;
	rc = 0;
out:
	fclose(f);
	return rc;
}
#else
static int
render_to_buffer(const struct render_job *job, char **buf, size_t *len)
{
	FILE *f;
	int rc;

	*buf = NULL;
	*len = 0;
	f = open_memstream(buf, len);
	if (f == NULL)
		return MD_ERR_NOMEM;
	rc = render_job_run(f, job);
	if (fclose(f) != 0 && rc == 0)
		rc = MD_ERR_NOMEM;
	if (rc != 0) {
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
	return rc;
}
#endif

static int
reply_csv(struct web_reply *rep, const struct render_job *job, const char *filename)
{
	char *buf = NULL;
	size_t len = 0;

	if (render_to_buffer(job, &buf, &len) != 0)
		return web_reply_error(rep, 500, "cannot render CSV: out of memory");
	free(rep->body);
	memset(rep, 0, sizeof(*rep));
	rep->status = 200;
	rep->body = buf;
	rep->len = len;
	rep->content_type = "text/csv; charset=utf-8";
	snprintf(rep->disposition, sizeof(rep->disposition), "inline; filename=\"%s\"", filename);
	return 0;
}

static int
api_snapshot(struct store *st, int64_t id, int csv, struct web_reply *rep)
{
	struct snapshot *s = NULL;
	struct json_out o;
	int64_t target = 0;
	size_t head;
	int rc;

	json_out_init(&o, NULL, NULL);
	rc = load_snapshot(st, id, NULL, &s, rep);
	if (rc != 0) {
		rc = rc == -2 ? MD_ERR_NOMEM : 0;
		goto out;
	}
	if (csv) {
		struct render_job job = {s, NULL, NULL, 0};
		char name[64];

		snprintf(name, sizeof(name), "snapshot-%" PRId64 ".csv", id);
		rc = reply_csv(rep, &job, name);
		goto out;
	}
	rc = snapshot_target(st, id, s, &target);
	if (rc != 0) {
		rc = store_failed(rep, st, rc, "the snapshot's target");
		goto out;
	}
	/* {"id":ID,"target":T, then the snapshot object without its '{'. */
	member_i64(&o, "{\"id\":", id);
	member_i64(&o, ",\"target\":", target);
	RAW(&o, ",");
	head = o.len;
	snapshot_json_write(s, &o);
	if (o.status == 0 && o.len > head && o.buf[head] == '{') {
		memmove(o.buf + head, o.buf + head + 1, o.len - head - 1);
		o.len--;
	}
	rc = reply_json(rep, &o);
out:
	json_out_done(&o);
	snapshot_free(s);
	return rc;
}

/* Add "snapshot": @id to object @name of @root. */
static int
mark_snapshot(cJSON *root, const char *name, int64_t id)
{
	cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, name);

	if (!cJSON_IsObject(obj))
		return 0;
	return snapshot_json_add_i64(obj, "snapshot", id);
}

static int
add_totals(cJSON *summary, const char *name, const struct snapshot *s)
{
	struct snapshot_totals t;
	cJSON *tj = NULL;

	snapshot_totals(s, &t);
	if (snapshot_totals_to_json(&t, &tj) != 0)
		return MD_ERR_NOMEM;
	if (!cJSON_AddItemToObject(summary, name, tj)) {
		cJSON_Delete(tj);
		return MD_ERR_NOMEM;
	}
	return 0;
}

static int
api_diff(struct store *st, const struct web_query *q, int csv, struct web_reply *rep)
{
	struct snapshot *a = NULL, *b = NULL;
	struct diff_result d;
	cJSON *root = NULL, *summary;
	int64_t ida, idb;
	const char *v;
	char *text;
	int rc, all = 0;

	memset(&d, 0, sizeof(d));
	if ((rc = query_id(q, "a", &ida, rep)) != 0 || (rc = query_id(q, "b", &idb, rep)) != 0)
		goto fail;
	v = q->get(q->arg, "all");
	if (v != NULL) {
		if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
			all = 1;
		else if (strcmp(v, "0") != 0 && strcmp(v, "false") != 0) {
			rc = web_reply_error(rep, 400, "parameter all must be 0 or 1");
			goto out;
		}
	}
	if ((rc = load_snapshot(st, ida, "a", &a, rep)) != 0 ||
	    (rc = load_snapshot(st, idb, "b", &b, rep)) != 0)
		goto fail;
	rc = diff_snapshots(a, b, &d);
	if (rc != 0) {
		rc = web_reply_error(rep, rc == MD_ERR_NOMEM ? 503 : 500, "cannot diff: %s",
		                     md_strerror(rc));
		goto out;
	}
	if (csv) {
		struct render_job job = {a, b, &d, all};
		char name[80];

		snprintf(name, sizeof(name), "diff-%" PRId64 "-%" PRId64 ".csv", ida, idb);
		rc = reply_csv(rep, &job, name);
		goto out;
	}
	rc = diff_to_json(a, b, &d, all ? DIFF_JSON_INCLUDE_SAME : 0, &root);
	if (rc == 0)
		rc = mark_snapshot(root, "before", ida);
	if (rc == 0)
		rc = mark_snapshot(root, "after", idb);
	if (rc == 0) {
		summary = cJSON_AddObjectToObject(root, "summary");
		rc = summary == NULL ? MD_ERR_NOMEM : add_totals(summary, "before", a);
		if (rc == 0)
			rc = add_totals(summary, "after", b);
	}
	text = rc == 0 ? cJSON_PrintUnformatted(root) : NULL;
	if (text == NULL) {
		rc = web_reply_error(rep, 503, "out of memory");
		goto out;
	}
	free(rep->body);
	memset(rep, 0, sizeof(*rep));
	rep->status = 200;
	rep->body = text;
	rep->len = strlen(text);
	rep->content_type = "application/json";
	rc = 0;
	goto out;
fail:
	rc = rc == -2 ? MD_ERR_NOMEM : 0;
out:
	cJSON_Delete(root);
	diff_result_done(&d);
	snapshot_free(a);
	snapshot_free(b);
	return rc;
}

/* ---- /api/v1/alerts ------------------------------------------------------ */

/* One alert object; @name is its target's name ("" when unknown).  With
 * @evidence the evidence_json is embedded as the object "evidence" (null
 * when absent or not a JSON object). */
static void
alert_object(struct json_out *o, const struct store_alert *a, const char *name, int evidence)
{
	const char *sw = alert_state_word(a->state);

	member_i64(o, "{\"id\":", a->id);
	member_i64(o, ",\"target\":", a->target_id);
	RAW(o, ",\"target_name\":");
	json_out_string(o, name);
	member_i64(o, ",\"instance\":", a->instance_id);
	RAW(o, ",\"rule\":");
	json_out_string(o, a->rule);
	RAW(o, ",\"series\":");
	json_out_string(o, a->series);
	RAW(o, ",\"state\":");
	json_out_string(o, sw != NULL ? sw : "unknown");
	member_i64(o, ",\"started_ms\":", a->started_ms);
	member_i64(o, ",\"fired_ms\":", a->fired_ms);
	member_i64(o, ",\"resolved_ms\":", a->resolved_ms);
	member_i64(o, ",\"updated_ms\":", a->updated_ms);
	member_i64(o, ",\"baseline_snapshot\":", a->baseline_snapshot_id);
	member_i64(o, ",\"trigger_snapshot\":", a->trigger_snapshot_id);
	member_double(o, ",\"slope_bytes_per_h\":", a->slope_bytes_per_h);
	member_double(o, ",\"pct_per_h\":", a->pct_per_h);
	member_double(o, ",\"r2\":", a->r2);
	member_double(o, ",\"mk_p\":", a->mk_p);
	member_u64(o, ",\"value\":", a->value);
	RAW(o, ",\"summary\":");
	json_out_string(o, a->summary != NULL ? a->summary : "");
	if (evidence) {
		cJSON *ev = NULL;

		/* The stored text is embedded as it is (its 64-bit integers stay
		 * exact); it is parsed only to check that it is an object. */
		RAW(o, ",\"evidence\":");
		if (a->evidence_json != NULL)
			ev = cJSON_ParseWithLength(a->evidence_json, strlen(a->evidence_json));
		if (cJSON_IsObject(ev))
			json_out_raw(o, a->evidence_json, strlen(a->evidence_json));
		else
			RAW(o, "null");
		cJSON_Delete(ev);
	}
	RAW(o, "}");
}

/* The name of target @id in @t[0..n), "" when absent. */
static const char *
target_name(const struct store_target_info *t, size_t n, int64_t id)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i].id == id)
			return t[i].name;
	}
	return "";
}

static int
api_alerts(struct store *st, const struct web_query *q, struct web_reply *rep)
{
	struct store_alert_filter f;
	struct store_alert *a = NULL;
	struct store_target_info *t = NULL;
	struct json_out o;
	size_t n = 0, n_t = 0, i;
	int64_t limit = ALERTS_DEFAULT_LIMIT;
	int rc, from_given, to_given;
	const char *v;

	json_out_init(&o, NULL, NULL);
	memset(&f, 0, sizeof(f));
	f.state = -1;
	if ((rc = query_opt_id(q, "target", &f.target_id, rep)) != 0 ||
	    (rc = query_opt_id(q, "instance", &f.instance_id, rep)) != 0 ||
	    (rc = query_ms(q, "from", INT64_MIN, &f.from_ms, &from_given, rep)) != 0 ||
	    (rc = query_ms(q, "to", INT64_MAX, &f.to_ms, &to_given, rep)) != 0) {
		rc = rc == -2 ? MD_ERR_NOMEM : 0;
		goto out;
	}
	v = q->get(q->arg, "state");
	if (v != NULL) {
		for (i = 0; i <= ALERT_RESOLVED; i++) {
			if (strcmp(v, alert_state_word((int)i)) == 0)
				f.state = (int)i;
		}
		if (f.state < 0) {
			rc = web_reply_error(rep, 400,
			                     "parameter state must be pending, firing or resolved");
			goto out;
		}
	}
	if ((rc = query_count(q, "limit", ALERTS_MAX_LIMIT, &limit, rep)) != 0) {
		rc = rc == -2 ? MD_ERR_NOMEM : 0;
		goto out;
	}
	f.limit = (size_t)limit;
	if (from_given && to_given && f.from_ms > f.to_ms) {
		rc = web_reply_error(rep, 400, "parameter from is after parameter to");
		goto out;
	}
	if (f.target_id != 0 && (rc = target_check(st, f.target_id, rep)) != 0) {
		rc = rc == -2 ? MD_ERR_NOMEM : 0;
		goto out;
	}
	rc = store_list_targets(st, &t, &n_t);
	if (rc == 0)
		rc = store_list_alerts(st, &f, &a, &n);
	if (rc != 0) {
		rc = store_failed(rep, st, rc, "alerts");
		goto out;
	}
	RAW(&o, "{\"alerts\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			RAW(&o, ",");
		alert_object(&o, &a[i], target_name(t, n_t, a[i].target_id), 0);
	}
	RAW(&o, "]}");
	rc = reply_json(rep, &o);
out:
	json_out_done(&o);
	store_alerts_free(a, n);
	free(t);
	return rc;
}

static int
api_alert(struct store *st, int64_t id, struct web_reply *rep)
{
	struct store_alert *a = NULL;
	struct store_target_info *t = NULL;
	struct json_out o;
	size_t n_t = 0;
	char what[48];
	int rc;

	json_out_init(&o, NULL, NULL);
	rc = store_get_alert(st, id, &a);
	if (rc == 0)
		rc = store_list_targets(st, &t, &n_t);
	if (rc != 0) {
		snprintf(what, sizeof(what), "alert %" PRId64, id);
		rc = store_failed(rep, st, rc, what);
		goto out;
	}
	alert_object(&o, a, target_name(t, n_t, a->target_id), 1);
	rc = reply_json(rep, &o);
out:
	json_out_done(&o);
	store_alerts_free(a, a != NULL ? 1 : 0);
	free(t);
	return rc;
}

/* ---- /api/v1/targets/{id}/trend ---------------------------------------- */

/* The series parameter: "private_committed", "private_touched" or
 * "committed:TYPE".  Sets *kind (0, 1, 2) and *type; -1 when malformed. */
static int
parse_series(const char *v, int *kind, enum region_type *type)
{
	*type = REGION_PRIVATE;
	if (strcmp(v, "private_committed") == 0)
		*kind = 0;
	else if (strcmp(v, "private_touched") == 0)
		*kind = 1;
	else if (strncmp(v, "committed:", 10) == 0 && region_type_from_name(v + 10, type) == 0 &&
	         *type != REGION_FREE)
		*kind = 2;
	else
		return -1;
	return 0;
}

static double
series_value(const struct store_timeline_point *p, int kind, enum region_type type)
{
	if (kind == 0)
		return (double)p->private_committed;
	if (kind == 1)
		return (double)p->private_touched;
	return (double)p->committed[type];
}

/* The fit /trend reports: the alert engine's own when the daemon published
 * one for this series of the newest instance (what the engine judged, with
 * the target's parameters as of that evaluation), else one computed here
 * with the target's effective parameters (the daemon's [alerts] section as
 * it started when the daemon published none). */
static int
api_trend(struct web *w, struct store *st, int64_t target, const struct web_query *q,
          struct web_reply *rep)
{
	struct store_instance_info *inst = NULL;
	struct store_timeline_point *p = NULL;
	struct trend_point *pts = NULL;
	struct web_target_runtime *rt = NULL;
	const struct web_target_runtime *r = NULL;
	struct trend_params tp;
	struct trend_fit fit;
	struct json_out o;
	const struct store_instance_info *last = NULL;
	const char *series = q->get(q->arg, "series");
	enum region_type type;
	int64_t start_ms = 0, now_ms = 0, from;
	size_t n_inst = 0, n = 0, n_pts = 0, n_rt = 0, i;
	int rc, kind, engine = 0;

	json_out_init(&o, NULL, NULL);
	memset(&fit, 0, sizeof(fit));
	web_trend_params_get(w, &tp);
	if (web_runtime_get(w, &rt, &n_rt) != 0) {
		rc = web_reply_error(rep, 503, "out of memory");
		goto out;
	}
	for (i = 0; i < n_rt && r == NULL; i++) {
		if (rt[i].target_id == target)
			r = &rt[i];
	}
	if (r != NULL && r->trend_params_set)
		tp = r->trend_params;
	/* By default the series the engine watches for this target. */
	if (series == NULL)
		series = r != NULL && (r->trend_instance_id != 0 ? r->trend_fit_touched
		                                                 : r->trend_touched)
		                 ? "private_touched"
		                 : "private_committed";
	if (parse_series(series, &kind, &type) != 0) {
		rc = web_reply_error(rep, 400,
		                     "parameter series must be private_committed, private_touched "
		                     "or committed:TYPE (a region type name)");
		goto out;
	}
	rc = target_check(st, target, rep);
	if (rc != 0) {
		rc = rc == -2 ? MD_ERR_NOMEM : 0;
		goto out;
	}
	rc = store_list_instances(st, target, &inst, &n_inst);
	if (rc != 0) {
		rc = store_failed(rep, st, rc, "instances");
		goto out;
	}
	/* The newest instance that has snapshots, as of its last snapshot. */
	for (i = n_inst; i > 0 && last == NULL; i--) {
		if (inst[i - 1].n_snapshots > 0 && inst[i - 1].last_time_ms != 0)
			last = &inst[i - 1];
	}
	engine = last != NULL && r != NULL && r->trend_instance_id == last->id &&
	         kind == (r->trend_fit_touched ? 1 : 0);
	if (engine) {
		tp = r->trend_fit_params;
		fit = r->trend_fit;
		start_ms = r->trend_instance_start_ms;
		now_ms = r->trend_eval_ms;
		n_pts = (size_t)r->trend_samples;
	} else if (last != NULL) {
		start_ms = last->start_time_ms ? last->start_time_ms : last->first_time_ms;
		now_ms = last->last_time_ms;
		from = now_ms - tp.window_ms > last->first_time_ms ? now_ms - tp.window_ms
		                                                   : last->first_time_ms;
		rc = store_timeline(st, target, from, now_ms, 0, &p, &n);
		if (rc != 0) {
			rc = store_failed(rep, st, rc, "timeline");
			goto out;
		}
		pts = calloc(n ? n : 1, sizeof(*pts));
		if (pts == NULL) {
			rc = web_reply_error(rep, 503, "out of memory");
			goto out;
		}
		/* Raw points of that instance, strictly increasing in time. */
		for (i = 0; i < n; i++) {
			if (p[i].instance_id != last->id || p[i].snapshot_id == 0 ||
			    (n_pts > 0 && p[i].time_ms <= pts[n_pts - 1].time_ms))
				continue;
			pts[n_pts].time_ms = p[i].time_ms;
			pts[n_pts].value = series_value(&p[i], kind, type);
			n_pts++;
		}
		rc = trend_fit_series(pts, n_pts, start_ms, now_ms, &tp, &fit);
		if (rc != 0) {
			rc = web_reply_error(rep, rc == MD_ERR_NOMEM ? 503 : 500,
			                     "cannot fit the trend: %s", md_strerror(rc));
			goto out;
		}
	}
	member_i64(&o, "{\"target\":", target);
	member_i64(&o, ",\"instance\":", last != NULL ? last->id : 0);
	RAW(&o, ",\"series\":");
	json_out_string(&o, series);
	if (engine)
		RAW(&o, ",\"source\":\"engine\"");
	else
		RAW(&o, ",\"source\":\"request\"");
	member_i64(&o, ",\"instance_start_ms\":", start_ms);
	member_i64(&o, ",\"now_ms\":", now_ms);
	member_u64(&o, ",\"samples\":", n_pts);
	member_i64(&o, ",\"params\":{\"warmup_ms\":", tp.warmup_ms);
	member_i64(&o, ",\"window_ms\":", tp.window_ms);
	member_i64(&o, ",\"min_span_ms\":", tp.min_span_ms);
	member_i64(&o, ",\"step_ms\":", tp.step_ms);
	member_i64(&o, ",\"min_window_ms\":", tp.min_window_ms);
	member_double(&o, ",\"alpha\":", tp.alpha);
	member_double(&o, ",\"min_r2\":", tp.min_r2);
	member_double(&o, ",\"min_bytes_per_h\":", tp.min_bytes_per_h);
	member_double(&o, ",\"min_pct_per_h\":", tp.min_pct_per_h);
	member_bool(&o, "},\"ok\":", fit.ok);
	member_u64(&o, ",\"points\":", fit.n);
	member_i64(&o, ",\"t0_ms\":", fit.t0_ms);
	member_i64(&o, ",\"t1_ms\":", fit.t1_ms);
	member_double(&o, ",\"slope_bytes_per_h\":", fit.slope_per_h);
	member_double(&o, ",\"intercept\":", fit.intercept);
	member_double(&o, ",\"level\":", fit.level);
	member_double(&o, ",\"start_level\":", fit.start_level);
	member_double(&o, ",\"pct_per_h\":", fit.pct_per_h);
	member_double(&o, ",\"r2\":", fit.r2);
	member_double(&o, ",\"mk_s\":", fit.mk_s);
	member_double(&o, ",\"mk_z\":", fit.mk_z);
	member_double(&o, ",\"mk_p\":", fit.mk_p);
	member_double(&o, ",\"recent_slope_bytes_per_h\":", fit.recent_slope_per_h);
	member_bool(&o, ",\"holds\":", fit.holds);
	/* The fitted line's two ends, for drawing. */
	RAW(&o, ",\"line\":[");
	if (fit.ok) {
		member_i64(&o, "{\"time_ms\":", fit.t0_ms);
		member_double(&o, ",\"value\":", fit.intercept);
		member_i64(&o, "},{\"time_ms\":", fit.t1_ms);
		member_double(&o, ",\"value\":", fit.level);
		RAW(&o, "}");
	}
	RAW(&o, "]}");
	rc = reply_json(rep, &o);
out:
	json_out_done(&o);
	free(pts);
	free(p);
	free(inst);
	free(rt);
	return rc;
}

/* ---- routing ----------------------------------------------------------- */

/* If @path starts with @prefix followed by an id, parse it into *id and
 * return what follows; NULL otherwise.  *bad is set when the id is malformed. */
static const char *
path_id(const char *path, const char *prefix, int64_t *id, int *bad)
{
	size_t plen = strlen(prefix), n;
	char buf[32];
	const char *rest;

	*bad = 0;
	if (strncmp(path, prefix, plen) != 0)
		return NULL;
	path += plen;
	rest = path + strcspn(path, "/.");
	n = (size_t)(rest - path);
	if (n == 0)
		return NULL;
	if (n >= sizeof(buf) || (memcpy(buf, path, n), buf[n] = '\0', parse_id(buf, id) != 0)) {
		*bad = 1;
		return rest;
	}
	return rest;
}

int
api_dispatch(struct web *w, struct store *st, const char *path, const struct web_query *q,
             struct web_reply *rep)
{
	const char *rest;
	int64_t id = 0;
	int bad;

	memset(rep, 0, sizeof(*rep));
	if (path == NULL)
		return api_healthz(w, st, rep);
	if (strcmp(path, "targets") == 0)
		return api_targets(w, st, q, rep);
	if (strcmp(path, "diff") == 0)
		return api_diff(st, q, 0, rep);
	if (strcmp(path, "diff.csv") == 0)
		return api_diff(st, q, 1, rep);
	if (strcmp(path, "alerts") == 0)
		return api_alerts(st, q, rep);
	rest = path_id(path, "alerts/", &id, &bad);
	if (rest != NULL && *rest == '\0') {
		if (bad)
			return web_reply_error(rep, 400, "alert id must be a positive integer");
		return api_alert(st, id, rep);
	}
	rest = path_id(path, "targets/", &id, &bad);
	if (rest != NULL && (strcmp(rest, "/instances") == 0 || strcmp(rest, "/snapshots") == 0 ||
	                     strcmp(rest, "/timeline") == 0 || strcmp(rest, "/trend") == 0)) {
		if (bad)
			return web_reply_error(rep, 400, "target id must be a positive integer");
		if (strcmp(rest, "/instances") == 0)
			return api_instances(st, id, rep);
		if (strcmp(rest, "/snapshots") == 0)
			return api_snapshots(st, id, q, rep);
		if (strcmp(rest, "/trend") == 0)
			return api_trend(w, st, id, q, rep);
		return api_timeline(st, id, q, rep);
	}
	rest = path_id(path, "snapshots/", &id, &bad);
	if (rest != NULL && (*rest == '\0' || strcmp(rest, ".csv") == 0)) {
		if (bad)
			return web_reply_error(rep, 400, "snapshot id must be a positive integer");
		return api_snapshot(st, id, *rest != '\0', rep);
	}
	return web_reply_error(rep, 404, "no such path: /api/v1/%s", path);
}
