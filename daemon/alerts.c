/*
 * alerts.c - the alert engine (alerts.h, docs/alerts.md).
 *
 * State: per target (struct tstate) its live instances (struct inst), each
 * with a buffer of points (one per stored snapshot, trimmed to window +
 * min_window + step before the newest) and its rule slots: the trend rule
 * on the main series (private_committed, or private_touched by
 * configuration), the trend rule on private_touched beside a main series of
 * private_committed (touched memory can grow while committed stays flat: a
 * pool committed up front and filled, never released), the trend rule on the
 * committed bytes of each type outside the leak signal (Image, Mapped File,
 * Shareable, Managed Heap, Unusable: growth there is not in
 * private_committed), the threshold rule and the map-count rule.  A slot
 * holds its detector and its open alert row.
 *
 * A plain leak grows committed and touched memory together: the main slot is
 * evaluated first, and while its alert is open (pending or firing) the
 * touched slot opens none and a pending one of its own is cancelled, so the
 * leak is one alert, on private_committed.
 *
 * A slot's alert row is inserted when it turns pending (or, for the plain
 * rules, straight away as firing), updated at each evaluation while open,
 * and closed as resolved; a pending alert that stops holding before firing
 * is closed as resolved with fired_ms 0.  Only firing and resolving reach
 * the sinks.  On a target's first snapshot the engine reads the recent
 * timeline and the open alerts from the store, so a daemon restart neither
 * forgets a leak nor raises it twice.  An instance not sampled for three
 * times max(eval_interval, its sampling gap) is gone: its alerts resolve
 * (one seen once borrows the widest gap of its target's instances).
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "daemon/alerts.h"
#include "daemon/log.h"
#include "diff/diff.h"
#include "diff/trend.h"
#include "snapshot/json.h"
#include "snapshot/mderr.h"

#define DEFAULT_MAX_MAP_COUNT 65530
#define GONE_FACTOR           3
#define GONE_MIN_MS           INT64_C(30000)
#define GONE_ONE_POINT_MS     INT64_C(3600000) /* its sampling interval is not known yet */

/* Rule slots of an instance. */
enum slot_id {
	SLOT_MAIN = 0, /* trend of private_committed (or private_touched) */
	SLOT_TOUCHED,  /* trend of private_touched beside a main slot on private_committed */
	SLOT_IMAGE,    /* trends of committed bytes of the types outside the signal */
	SLOT_MAPPED,
	SLOT_SHAREABLE,
	SLOT_MANAGED_HEAP,
	SLOT_UNUSABLE,
	SLOT_THRESHOLD,
	SLOT_MAP_COUNT,
	SLOT_COUNT
};

static const enum region_type slot_type[SLOT_THRESHOLD] = {
        [SLOT_MAIN] = REGION_FREE, /* unused for the private series */
        [SLOT_TOUCHED] = REGION_FREE,
        [SLOT_IMAGE] = REGION_IMAGE,
        [SLOT_MAPPED] = REGION_MAPPED,
        [SLOT_SHAREABLE] = REGION_SHAREABLE,
        [SLOT_MANAGED_HEAP] = REGION_MANAGED_HEAP,
        [SLOT_UNUSABLE] = REGION_UNUSABLE,
};

/* The private types, in the order of struct point's touched[]. */
#define N_PRIVATE 3
static const enum region_type private_types[N_PRIVATE] = {REGION_PRIVATE, REGION_HEAP,
                                                          REGION_STACK};

/* A trend slot on one type's committed bytes. */
static int
slot_is_type(enum slot_id k)
{
	return k >= SLOT_IMAGE && k < SLOT_THRESHOLD;
}

struct point {
	int64_t time_ms;
	int64_t snapshot_id; /* 0: a rolled-up point seeded from the store */
	uint64_t private_committed;
	uint64_t private_touched;
	uint64_t committed[REGION_TYPE_COUNT];
	uint64_t touched[N_PRIVATE]; /* private resident + swap of private_types[i] */
	uint64_t regions;
};

struct slot {
	struct trend_detector det;
	struct trend_fit fit;   /* the last one */
	struct store_alert row; /* row.id 0: no open alert */
	uint64_t level;         /* threshold: the level that fired */
};

struct inst {
	int64_t instance_id;
	int pid;
	uint64_t start_time;
	int64_t start_ms; /* process start (Unix ms), else its first point */
	struct point *pts;
	size_t n, cap;
	int64_t last_eval_ms;
	int64_t gap_ms; /* between its last two points */
	struct trend_threshold thr;
	int thr_ready;
	struct slot slot[SLOT_COUNT];
	/* The last evaluation of SLOT_MAIN, published by alerts_runtime (the
	 * fit itself is slot[SLOT_MAIN].fit): 0 when none yet. */
	int64_t main_eval_ms;
	uint64_t main_samples;
	struct trend_params main_params;
	int main_touched; /* its series was private_touched */
};

struct tstate {
	int64_t target_id;
	char name[256];
	struct inst **insts;
	size_t n_insts;
	struct alert_params p; /* as of the last snapshot */
};

struct alerts {
	struct store *st;
	struct sinks *sk;
	int64_t storage_since_ms; /* the storage alert fired then (0: not firing) */
	char storage_error[160];
	uint64_t max_map_count;
	struct tstate **targets;
	size_t n_targets;
};

/* ---- helpers --------------------------------------------------------------- */

static void
slot_names(enum slot_id k, const struct alert_params *p, char rule[16], char series[32])
{
	if (k == SLOT_MAIN) {
		snprintf(rule, 16, "trend");
		snprintf(series, 32, "%s",
		         p->watch_touched ? "private_touched" : "private_committed");
	} else if (k == SLOT_TOUCHED) {
		snprintf(rule, 16, "trend");
		snprintf(series, 32, "private_touched");
	} else if (k < SLOT_THRESHOLD) {
		snprintf(rule, 16, "trend");
		snprintf(series, 32, "committed:%s", region_type_name(slot_type[k]));
	} else if (k == SLOT_THRESHOLD) {
		snprintf(rule, 16, "threshold");
		snprintf(series, 32, "%s",
		         p->watch_touched ? "private_touched" : "private_committed");
	} else {
		snprintf(rule, 16, "map_count");
		snprintf(series, 32, "regions");
	}
}

static uint64_t
point_value(const struct point *pt, enum slot_id k, const struct alert_params *p)
{
	if (k == SLOT_MAIN || k == SLOT_THRESHOLD)
		return p->watch_touched ? pt->private_touched : pt->private_committed;
	if (k == SLOT_TOUCHED)
		return pt->private_touched;
	if (k == SLOT_MAP_COUNT)
		return pt->regions;
	return pt->committed[slot_type[k]];
}

static int
is_private_type(enum region_type t)
{
	return t == REGION_PRIVATE || t == REGION_HEAP || t == REGION_STACK;
}

static const char *
state_name(enum alert_state s)
{
	return s == ALERT_PENDING ? "pending" : s == ALERT_FIRING ? "firing" : "resolved";
}

/* "12.0 MiB" */
static void
fmt_bytes(double b, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	double a = fabs(b);

	while (a >= 1024.0 && u < 4) {
		a /= 1024.0;
		b /= 1024.0;
		u++;
	}
	snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
}

static uint64_t
read_max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
	unsigned long long v = 0;

	if (f == NULL)
		return DEFAULT_MAX_MAP_COUNT;
	if (fscanf(f, "%llu", &v) != 1 || v == 0)
		v = DEFAULT_MAX_MAP_COUNT;
	fclose(f);
	return (uint64_t)v;
}

/* ---- the alert JSON ---------------------------------------------------------- */

struct evidence {
	const struct tstate *t;
	const struct inst *in;
	enum slot_id k;
	const struct store_alert *row;
	const struct trend_fit *fit;          /* trend rules, else NULL */
	const struct trend_attribution *attr; /* trend rules, else NULL */
	const struct diff_result *diff;       /* NULL when the snapshots are missing */
	const struct snapshot *before, *after;
	unsigned top;
	uint64_t max_map_count;
	double fraction;
};

static int
add_u64(cJSON *o, const char *name, uint64_t v)
{
	return snapshot_json_add_u64(o, name, v);
}

static int
add_i64(cJSON *o, const char *name, int64_t v)
{
	return snapshot_json_add_i64(o, name, v);
}

/* One region of the trigger snapshot and what the diff says it gained: the
 * diff cuts ranges at every boundary of either snapshot, so a region that
 * grew at its end is a GREW and a NEW range; they are summed here. */
struct grown {
	long after_index;
	int64_t committed_delta, resident_delta;
	int64_t touched_delta; /* private resident + swap */
	int64_t key;           /* what ranks it: committed_delta, or touched_delta */
	int existed;           /* some range of it was there before */
};

static int
grown_cmp(const void *pa, const void *pb)
{
	const struct grown *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key > b->key ? -1 : 1;
	return a->after_index < b->after_index ? -1 : a->after_index > b->after_index;
}

/* Slot @k watches the touched part of private memory (private resident +
 * swap), not committed bytes: its regions and types are ranked by that. */
static int
slot_on_touched(enum slot_id k, const struct alert_params *p)
{
	return k == SLOT_TOUCHED || ((k == SLOT_MAIN || k == SLOT_THRESHOLD) && p->watch_touched);
}

static int
region_watched(enum slot_id k, enum region_type t)
{
	if (k == SLOT_MAIN || k == SLOT_TOUCHED || k == SLOT_THRESHOLD)
		return is_private_type(t);
	if (k == SLOT_MAP_COUNT)
		return 1;
	return t == slot_type[k];
}

/* The top regions of the trigger snapshot by committed growth since the
 * baseline (touched growth for a slot on private_touched; for the
 * map-count rule, new regions count too). */
static int
add_regions(cJSON *o, const struct evidence *e)
{
	struct grown *v = NULL;
	cJSON *arr = cJSON_AddArrayToObject(o, "regions");
	size_t n = 0;
	int rc = 0, touched = slot_on_touched(e->k, &e->t->p);

	if (arr == NULL)
		return MD_ERR_NOMEM;
	if (e->diff == NULL || e->top == 0)
		return 0;
	v = calloc(e->diff->n_entries + 1, sizeof(*v));
	if (v == NULL)
		return MD_ERR_NOMEM;
	for (size_t i = 0; i < e->diff->n_entries; i++) {
		const struct diff_entry *d = &e->diff->entries[i];

		if (d->after_index < 0 || !region_watched(e->k, d->type))
			continue;
		/* entries are sorted by address: a region's ranges are adjacent */
		if (n == 0 || v[n - 1].after_index != d->after_index)
			v[n++].after_index = d->after_index;
		v[n - 1].committed_delta += d->committed_delta;
		v[n - 1].resident_delta += d->resident_delta;
		v[n - 1].touched_delta += d->private_delta + d->swap_delta;
		v[n - 1].existed |= d->before_index >= 0;
	}
	for (size_t i = 0; i < n; i++)
		v[i].key = touched ? v[i].touched_delta : v[i].committed_delta;
	qsort(v, n, sizeof(*v), grown_cmp);
	for (size_t i = 0, shown = 0; i < n && shown < e->top && rc == 0; i++) {
		const struct region *r = &e->after->regions[v[i].after_index];
		cJSON *x;
		char prot[PROT_STR_MAX];

		if (v[i].key <= 0 && !(e->k == SLOT_MAP_COUNT && !v[i].existed))
			continue;
		x = cJSON_CreateObject();
		if (x == NULL || !cJSON_AddItemToArray(arr, x)) {
			cJSON_Delete(x);
			rc = MD_ERR_NOMEM;
			break;
		}
		shown++;
		region_prot_format(r->protection, prot);
		if (add_u64(x, "base", r->base) != 0 || add_u64(x, "size", r->size) != 0 ||
		    cJSON_AddStringToObject(x, "type", region_type_name(r->type)) == NULL ||
		    cJSON_AddStringToObject(x, "kind", v[i].existed ? "grew" : "new") == NULL ||
		    add_u64(x, "committed", r->committed) != 0 ||
		    add_i64(x, "committed_delta", v[i].committed_delta) != 0 ||
		    add_i64(x, "resident_delta", v[i].resident_delta) != 0 ||
		    add_i64(x, "touched_delta", v[i].touched_delta) != 0 ||
		    cJSON_AddStringToObject(x, "protection", prot) == NULL ||
		    cJSON_AddStringToObject(x, "detail", r->detail) == NULL)
			rc = MD_ERR_NOMEM;
	}
	free(v);
	return rc;
}

/* The types behind the growth: the trend attribution's shares, or for the
 * plain rules the shares of the committed growth between the snapshots. */
static int
add_types(cJSON *o, const struct evidence *e, const char **dominant)
{
	double share[REGION_TYPE_COUNT] = {0}, slope[REGION_TYPE_COUNT] = {0}, sum = 0;
	int order[REGION_TYPE_COUNT], n = 0, best = -1;
	cJSON *arr = cJSON_AddArrayToObject(o, "types");

	*dominant = NULL;
	if (arr == NULL)
		return MD_ERR_NOMEM;
	if (e->attr != NULL) {
		for (int ty = 0; ty < REGION_TYPE_COUNT; ty++) {
			share[ty] = e->attr->share[ty];
			slope[ty] = e->attr->slope_per_h[ty];
		}
	} else if (e->diff != NULL) {
		int touched = slot_on_touched(e->k, &e->t->p);
		double grew[REGION_TYPE_COUNT];

		for (int ty = 0; ty < REGION_TYPE_COUNT; ty++) {
			const struct diff_totals *d = &e->diff->by_type[ty];

			grew[ty] = touched ? (is_private_type(ty)
			                              ? (double)(d->private_delta + d->swap_delta)
			                              : 0)
			                   : (double)d->committed_delta;
			if (grew[ty] > 0)
				sum += grew[ty];
		}
		for (int ty = 0; ty < REGION_TYPE_COUNT && sum > 0; ty++)
			if (grew[ty] > 0)
				share[ty] = grew[ty] / sum;
	}
	/* A per-type rule is about its type, whatever the others did. */
	if (slot_is_type(e->k))
		best = (int)slot_type[e->k];
	for (int ty = 0; ty < REGION_TYPE_COUNT; ty++)
		if (share[ty] > 0)
			order[n++] = ty;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && share[order[j]] > share[order[j - 1]]; j--) {
			int tmp = order[j];

			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	if (best < 0 && n > 0)
		best = order[0];
	for (int i = 0; i < n; i++) {
		cJSON *x = cJSON_CreateObject();

		if (x == NULL || !cJSON_AddItemToArray(arr, x)) {
			cJSON_Delete(x);
			return MD_ERR_NOMEM;
		}
		if (cJSON_AddStringToObject(x, "type", region_type_name(order[i])) == NULL ||
		    cJSON_AddStringToObject(x, "label", region_type_label(order[i])) == NULL ||
		    cJSON_AddNumberToObject(x, "share", share[order[i]]) == NULL ||
		    (e->attr != NULL &&
		     cJSON_AddNumberToObject(x, "slope_bytes_per_h", slope[order[i]]) == NULL))
			return MD_ERR_NOMEM;
	}
	if (best >= 0)
		*dominant = region_type_name(best);
	return 0;
}

static int
add_time_or_null(cJSON *o, const char *name, int64_t v)
{
	if (v == 0)
		return cJSON_AddNullToObject(o, name) == NULL ? MD_ERR_NOMEM : 0;
	return add_i64(o, name, v);
}

/* The one-line summary of an alert whose dominant type is @dominant. */
static void
summary_text(const struct evidence *e, const char *dominant, char *buf, size_t len)
{
	const struct store_alert *r = e->row;
	const char *label = "Private memory";
	char v[32], s[32];
	enum region_type ty;

	if (dominant != NULL && region_type_from_name(dominant, &ty) == 0)
		label = region_type_label(ty);
	fmt_bytes((double)r->value, v, sizeof(v));
	if (e->k == SLOT_MAP_COUNT) {
		snprintf(buf, len,
		         "%s (pid %d): %" PRIu64 " regions, %.0f%% of vm.max_map_count %" PRIu64,
		         e->t->name, e->in->pid, r->value,
		         e->max_map_count ? 100.0 * (double)r->value / (double)e->max_map_count
		                          : 0.0,
		         e->max_map_count);
	} else if (e->k == SLOT_THRESHOLD) {
		fmt_bytes((double)e->in->slot[SLOT_THRESHOLD].level, s, sizeof(s));
		snprintf(buf, len, "%s (pid %d): %s reached %s (threshold %s), mostly %s",
		         e->t->name, e->in->pid, r->series, v, s, label);
	} else {
		fmt_bytes(r->slope_bytes_per_h, s, sizeof(s));
		snprintf(buf, len,
		         "%s (pid %d): %s grows %s/h (%.2f %%/h, R2 %.2f, p %.1e), %s now %s",
		         e->t->name, e->in->pid, label, s, r->pct_per_h, r->r2, r->mk_p, r->series,
		         v);
	}
}

/* The alert object of docs/api.md and its summary line: *json and
 * *summary (free()), or MD_ERR_NOMEM. */
static int
evidence_build(const struct evidence *e, char **json, char **summary)
{
	const struct store_alert *r = e->row;
	cJSON *o = cJSON_CreateObject(), *x;
	const char *dominant = NULL;
	char link[96], line[512];
	int rc = 0;

	*json = NULL;
	*summary = NULL;
	if (o == NULL)
		return MD_ERR_NOMEM;
	if (add_i64(o, "id", r->id) != 0 || cJSON_AddStringToObject(o, "rule", r->rule) == NULL ||
	    cJSON_AddStringToObject(o, "series", r->series) == NULL ||
	    cJSON_AddStringToObject(o, "state", state_name(r->state)) == NULL)
		rc = MD_ERR_NOMEM;
	x = rc == 0 ? cJSON_AddObjectToObject(o, "target") : NULL;
	if (x == NULL || add_i64(x, "id", e->t->target_id) != 0 ||
	    cJSON_AddStringToObject(x, "name", e->t->name) == NULL)
		rc = MD_ERR_NOMEM;
	x = rc == 0 ? cJSON_AddObjectToObject(o, "instance") : NULL;
	if (x == NULL || add_i64(x, "id", e->in->instance_id) != 0 ||
	    add_i64(x, "pid", e->in->pid) != 0 ||
	    add_u64(x, "start_time", e->in->start_time) != 0 ||
	    add_i64(x, "start_time_ms", e->in->start_ms) != 0)
		rc = MD_ERR_NOMEM;
	if (rc == 0 && (add_i64(o, "started_ms", r->started_ms) != 0 ||
	                add_time_or_null(o, "fired_ms", r->fired_ms) != 0 ||
	                add_time_or_null(o, "resolved_ms", r->resolved_ms) != 0 ||
	                add_i64(o, "updated_ms", r->updated_ms) != 0 ||
	                add_u64(o, "value_bytes", r->value) != 0))
		rc = MD_ERR_NOMEM;
	if (rc == 0 && e->fit != NULL) {
		x = cJSON_AddObjectToObject(o, "trend");
		if (x == NULL ||
		    cJSON_AddNumberToObject(x, "slope_bytes_per_h", r->slope_bytes_per_h) == NULL ||
		    cJSON_AddNumberToObject(x, "pct_per_h", r->pct_per_h) == NULL ||
		    cJSON_AddNumberToObject(x, "r2", r->r2) == NULL ||
		    cJSON_AddNumberToObject(x, "mk_p", r->mk_p) == NULL ||
		    cJSON_AddNumberToObject(x, "mk_z", e->fit->mk_z) == NULL ||
		    add_i64(x, "window_start_ms", e->fit->t0_ms) != 0 ||
		    add_i64(x, "window_end_ms", e->fit->t1_ms) != 0 ||
		    add_u64(x, "points", e->fit->n) != 0 ||
		    cJSON_AddNumberToObject(x, "level_bytes", e->fit->level) == NULL)
			rc = MD_ERR_NOMEM;
	}
	if (rc == 0 && e->k == SLOT_THRESHOLD) {
		x = cJSON_AddObjectToObject(o, "threshold");
		if (x == NULL || add_u64(x, "level_bytes", e->in->slot[SLOT_THRESHOLD].level) != 0)
			rc = MD_ERR_NOMEM;
	}
	if (rc == 0 && e->k == SLOT_MAP_COUNT) {
		x = cJSON_AddObjectToObject(o, "map_count");
		if (x == NULL || add_u64(x, "regions", r->value) != 0 ||
		    add_u64(x, "max_map_count", e->max_map_count) != 0 ||
		    cJSON_AddNumberToObject(x, "fraction", e->fraction) == NULL)
			rc = MD_ERR_NOMEM;
	}
	if (rc == 0)
		rc = add_types(o, e, &dominant);
	if (rc == 0 && (dominant != NULL ? cJSON_AddStringToObject(o, "type", dominant)
	                                 : cJSON_AddNullToObject(o, "type")) == NULL)
		rc = MD_ERR_NOMEM;
	if (rc == 0)
		rc = add_regions(o, e);
	if (rc == 0 && (add_time_or_null(o, "baseline_snapshot_id", r->baseline_snapshot_id) != 0 ||
	                add_time_or_null(o, "trigger_snapshot_id", r->trigger_snapshot_id) != 0))
		rc = MD_ERR_NOMEM;
	if (rc == 0) {
		/* the UI's diff route (web/static/app.js: #/diff/A/B) */
		if (r->baseline_snapshot_id != 0 && r->trigger_snapshot_id != 0) {
			snprintf(link, sizeof(link), "/#/diff/%" PRId64 "/%" PRId64,
			         r->baseline_snapshot_id, r->trigger_snapshot_id);
			if (cJSON_AddStringToObject(o, "link", link) == NULL)
				rc = MD_ERR_NOMEM;
		} else if (cJSON_AddNullToObject(o, "link") == NULL) {
			rc = MD_ERR_NOMEM;
		}
	}
	if (rc == 0) {
		summary_text(e, dominant, line, sizeof(line));
		if (cJSON_AddStringToObject(o, "summary", line) == NULL)
			rc = MD_ERR_NOMEM;
	}
	if (rc == 0) {
		*json = cJSON_PrintUnformatted(o);
		*summary = strdup(line);
		if (*json == NULL || *summary == NULL) {
			free(*json);
			free(*summary);
			*json = NULL;
			*summary = NULL;
			rc = MD_ERR_NOMEM;
		}
	}
	cJSON_Delete(o);
	return rc;
}

/* The stored evidence of an alert that resolves: state, resolved_ms,
 * updated_ms and summary changed, the attribution kept.  Replaces
 * row->evidence_json and row->summary. */
static int
evidence_resolve(struct store_alert *r)
{
	cJSON *o = r->evidence_json != NULL ? cJSON_Parse(r->evidence_json) : NULL;
	char line[600], *json = NULL, *sum = NULL;
	int rc = MD_ERR_NOMEM;

	snprintf(line, sizeof(line), "resolved: %s", r->summary != NULL ? r->summary : r->rule);
	if (o == NULL)
		goto out;
	cJSON_DeleteItemFromObject(o, "state");
	cJSON_DeleteItemFromObject(o, "resolved_ms");
	cJSON_DeleteItemFromObject(o, "updated_ms");
	cJSON_DeleteItemFromObject(o, "summary");
	if (cJSON_AddStringToObject(o, "state", "resolved") == NULL ||
	    add_i64(o, "resolved_ms", r->resolved_ms) != 0 ||
	    add_i64(o, "updated_ms", r->updated_ms) != 0 ||
	    cJSON_AddStringToObject(o, "summary", line) == NULL)
		goto out;
	json = cJSON_PrintUnformatted(o);
	sum = strdup(line);
	if (json == NULL || sum == NULL)
		goto out;
	free(r->evidence_json);
	free(r->summary);
	r->evidence_json = json;
	r->summary = sum;
	json = sum = NULL;
	rc = 0;
out:
	free(json);
	free(sum);
	cJSON_Delete(o);
	return rc;
}

/* ---- state ----------------------------------------------------------------- */

static void
row_clear(struct store_alert *r)
{
	free(r->summary);
	free(r->evidence_json);
	memset(r, 0, sizeof(*r));
}

static void
inst_free(struct inst *in)
{
	if (in == NULL)
		return;
	for (int k = 0; k < SLOT_COUNT; k++)
		row_clear(&in->slot[k].row);
	free(in->pts);
	free(in);
}

static void
tstate_free(struct tstate *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_insts; i++)
		inst_free(t->insts[i]);
	free(t->insts);
	free(t);
}

int
alerts_new(struct store *st, struct sinks *sk, struct alerts **out)
{
	struct alerts *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (a == NULL)
		return MD_ERR_NOMEM;
	a->st = st;
	a->sk = sk;
	a->max_map_count = read_max_map_count();
	*out = a;
	return 0;
}

void
alerts_free(struct alerts *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_targets; i++)
		tstate_free(a->targets[i]);
	free(a->targets);
	free(a);
}

void
alerts_set_sinks(struct alerts *a, struct sinks *sk)
{
	a->sk = sk;
}

void
alerts_set_max_map_count(struct alerts *a, uint64_t max_map_count)
{
	a->max_map_count = max_map_count ? max_map_count : DEFAULT_MAX_MAP_COUNT;
}

static struct tstate *
tstate_find(struct alerts *a, int64_t target_id)
{
	for (size_t i = 0; i < a->n_targets; i++)
		if (a->targets[i]->target_id == target_id)
			return a->targets[i];
	return NULL;
}

static struct inst *
inst_by_id(struct tstate *t, int64_t instance_id)
{
	for (size_t i = 0; i < t->n_insts; i++)
		if (t->insts[i]->instance_id == instance_id)
			return t->insts[i];
	return NULL;
}

static struct inst *
inst_add(struct tstate *t, int64_t instance_id, int pid, uint64_t start_time, int64_t start_ms)
{
	struct inst **v = realloc(t->insts, (t->n_insts + 1) * sizeof(*v));
	struct inst *in;

	if (v == NULL)
		return NULL;
	t->insts = v;
	in = calloc(1, sizeof(*in));
	if (in == NULL)
		return NULL;
	in->instance_id = instance_id;
	in->pid = pid;
	in->start_time = start_time;
	in->start_ms = start_ms;
	for (int k = 0; k < SLOT_COUNT; k++)
		trend_detector_init(&in->slot[k].det);
	t->insts[t->n_insts++] = in;
	return in;
}

/* How far back the series must reach. */
static int64_t
keep_ms(const struct alert_params *p)
{
	return p->trend.window_ms + p->trend.min_window_ms + 2 * p->trend.step_ms;
}

static int
inst_push(struct inst *in, const struct point *pt, const struct alert_params *p)
{
	int64_t cut = pt->time_ms - keep_ms(p);
	size_t drop = 0;

	if (in->n > 0 && pt->time_ms <= in->pts[in->n - 1].time_ms)
		return 0; /* not newer: the detector needs increasing times */
	if (in->n > 0)
		in->gap_ms = pt->time_ms - in->pts[in->n - 1].time_ms;
	while (drop < in->n && in->pts[drop].time_ms < cut)
		drop++;
	if (drop > 0) {
		memmove(in->pts, in->pts + drop, (in->n - drop) * sizeof(*in->pts));
		in->n -= drop;
	}
	if (in->n == in->cap) {
		size_t ncap = in->cap ? in->cap * 2 : 64;
		struct point *v = realloc(in->pts, ncap * sizeof(*v));

		if (v == NULL)
			return MD_ERR_NOMEM;
		in->pts = v;
		in->cap = ncap;
	}
	in->pts[in->n++] = *pt;
	return 0;
}

/* The first stored snapshot of the series at or after @time_ms (0: none). */
static int64_t
snapshot_from(const struct inst *in, int64_t time_ms)
{
	for (size_t i = 0; i < in->n; i++)
		if (in->pts[i].time_ms >= time_ms && in->pts[i].snapshot_id != 0)
			return in->pts[i].snapshot_id;
	return 0;
}

/* ---- writing alerts -------------------------------------------------------- */

static int
row_put(struct alerts *a, struct store_alert *r)
{
	int rc = store_alert_put(a->st, r);

	if (rc != 0)
		log_error("cannot store alert (%s %s): %s (%s)", r->rule, r->series,
		          md_strerror(rc), store_errmsg(a->st));
	return rc;
}

/* Attribution and evidence for slot @k of @in firing at snapshot @sid
 * (@s); fills row->evidence_json and row->summary. */
static int
attribute(struct alerts *a, struct tstate *t, struct inst *in, enum slot_id k,
          const struct snapshot *s, int with_diff)
{
	struct slot *sl = &in->slot[k];
	struct store_alert *r = &sl->row;
	struct trend_attribution attr;
	struct diff_result d;
	struct snapshot *before = NULL;
	struct evidence e;
	int64_t *times = NULL;
	double *vals = NULL;
	const double *series[REGION_TYPE_COUNT];
	int have_attr = 0, have_diff = 0, rc = 0;
	char *json = NULL, *sum = NULL;

	memset(&d, 0, sizeof(d));
	memset(&e, 0, sizeof(e));
	if (k < SLOT_THRESHOLD && sl->fit.ok) {
		int touched = slot_on_touched(k, &t->p);

		times = calloc(in->n + 1, sizeof(*times));
		vals = calloc((in->n + 1) * REGION_TYPE_COUNT, sizeof(*vals));
		if (times == NULL || vals == NULL) {
			rc = MD_ERR_NOMEM;
			goto out;
		}
		/* The types' committed bytes, or for a slot on private_touched
		 * the touched bytes of the private types (the others: none). */
		for (int ty = 0; ty < REGION_TYPE_COUNT; ty++)
			series[ty] =
			        touched && !is_private_type(ty) ? NULL : vals + (size_t)ty * in->n;
		for (size_t i = 0; i < in->n; i++) {
			times[i] = in->pts[i].time_ms;
			for (int ty = 0; ty < REGION_TYPE_COUNT && !touched; ty++)
				vals[(size_t)ty * in->n + i] = (double)in->pts[i].committed[ty];
			for (int j = 0; j < N_PRIVATE && touched; j++)
				vals[(size_t)private_types[j] * in->n + i] =
				        (double)in->pts[i].touched[j];
		}
		rc = trend_attribute(times, series, in->n, in->start_ms, s->time_ms, &t->p.trend,
		                     &attr);
		if (rc != 0)
			log_debug("attribution: %s", md_strerror(rc));
		have_attr = rc == 0;
		rc = 0;
	}
	if (with_diff && r->baseline_snapshot_id != 0) {
		rc = store_get_snapshot(a->st, r->baseline_snapshot_id, &before);
		if (rc == 0)
			rc = diff_snapshots(before, s, &d);
		if (rc != 0)
			log_warn("alert evidence: diff of snapshots %" PRId64 " and %" PRId64
			         ": %s",
			         r->baseline_snapshot_id, r->trigger_snapshot_id, md_strerror(rc));
		have_diff = rc == 0;
		rc = 0;
	}
	e.t = t;
	e.in = in;
	e.k = k;
	e.row = r;
	e.fit = k < SLOT_THRESHOLD ? &sl->fit : NULL;
	e.attr = have_attr ? &attr : NULL;
	e.diff = have_diff ? &d : NULL;
	e.before = before;
	e.after = s;
	e.top = t->p.top_regions;
	e.max_map_count = a->max_map_count;
	e.fraction = t->p.map_count_fraction;
	rc = evidence_build(&e, &json, &sum);
	if (rc == 0) {
		free(r->evidence_json);
		free(r->summary);
		r->evidence_json = json;
		r->summary = sum;
	}
out:
	diff_result_done(&d);
	snapshot_free(before);
	free(times);
	free(vals);
	return rc;
}

static void
row_fill_fit(struct store_alert *r, const struct trend_fit *f, uint64_t value, int64_t now)
{
	r->updated_ms = now;
	r->value = value;
	if (f != NULL && f->ok) {
		r->slope_bytes_per_h = f->slope_per_h;
		r->pct_per_h = f->pct_per_h;
		r->r2 = f->r2;
		r->mk_p = f->mk_p;
	}
}

/* Open slot @k's alert in @state at @now. */
static int
slot_open(struct alerts *a, struct tstate *t, struct inst *in, enum slot_id k,
          enum alert_state state, int64_t now, uint64_t value)
{
	struct store_alert *r = &in->slot[k].row;

	row_clear(r);
	r->target_id = t->target_id;
	r->instance_id = in->instance_id;
	slot_names(k, &t->p, r->rule, r->series);
	r->state = state;
	r->started_ms = now;
	row_fill_fit(r, k < SLOT_THRESHOLD ? &in->slot[k].fit : NULL, value, now);
	return row_put(a, r);
}

/* Fire slot @k (opening it when it was not pending) at snapshot @sid. */
static void
slot_fire(struct alerts *a, struct tstate *t, struct inst *in, enum slot_id k, int64_t sid,
          const struct snapshot *s, uint64_t value, int64_t baseline)
{
	struct store_alert *r = &in->slot[k].row;

	if (r->id == 0 && slot_open(a, t, in, k, ALERT_FIRING, s->time_ms, value) != 0) {
		row_clear(r);
		return;
	}
	r->state = ALERT_FIRING;
	r->fired_ms = s->time_ms;
	r->trigger_snapshot_id = sid;
	r->baseline_snapshot_id = baseline != sid ? baseline : 0;
	row_fill_fit(r, k < SLOT_THRESHOLD ? &in->slot[k].fit : NULL, value, s->time_ms);
	if (attribute(a, t, in, k, s, 1) != 0)
		log_warn("alert %" PRId64 ": out of memory for its evidence", r->id);
	if (row_put(a, r) == 0 && r->evidence_json != NULL)
		sinks_send(a->sk, r->evidence_json, r->summary, 0);
}

/* Close slot @k's alert at @now: resolved (sent to the sinks when it had
 * fired) or, when it never fired, cancelled. */
static void
slot_close(struct alerts *a, struct inst *in, enum slot_id k, int64_t now, const char *why)
{
	struct store_alert *r = &in->slot[k].row;
	int fired = r->state == ALERT_FIRING;

	if (r->id == 0)
		return;
	r->state = ALERT_RESOLVED;
	r->resolved_ms = now;
	r->updated_ms = now;
	if (r->evidence_json != NULL && evidence_resolve(r) != 0)
		log_warn("alert %" PRId64 ": out of memory updating its evidence", r->id);
	if (row_put(a, r) == 0) {
		if (fired && r->evidence_json != NULL)
			sinks_send(a->sk, r->evidence_json, r->summary, 1);
		else
			log_info("alert %" PRId64 " (%s %s, pid %d) ended before firing (%s)",
			         r->id, r->rule, r->series, in->pid, why);
	}
	row_clear(r);
	trend_detector_init(&in->slot[k].det);
}

/* ---- rules ------------------------------------------------------------------- */

static void
eval_trend(struct alerts *a, struct tstate *t, struct inst *in, enum slot_id k, int64_t sid,
           const struct snapshot *s)
{
	struct slot *sl = &in->slot[k];
	struct trend_point *pts = calloc(in->n + 1, sizeof(*pts));
	struct trend_fit fit;
	enum trend_event ev;
	int64_t now = s->time_ms;
	uint64_t value = point_value(&in->pts[in->n - 1], k, &t->p);
	int rc;

	if (pts == NULL) {
		log_warn("target '%s': out of memory", t->name);
		return;
	}
	for (size_t i = 0; i < in->n; i++) {
		pts[i].time_ms = in->pts[i].time_ms;
		pts[i].value = (double)point_value(&in->pts[i], k, &t->p);
	}
	memset(&fit, 0, sizeof(fit));
	rc = trend_fit_series(pts, in->n, in->start_ms, now, &t->p.trend, &fit);
	free(pts);
	if (rc != 0) {
		log_debug("target '%s': trend fit: %s", t->name, md_strerror(rc));
		return;
	}
	sl->fit = fit;
	if (k == SLOT_MAIN) {
		in->main_eval_ms = now;
		in->main_samples = in->n;
		in->main_params = t->p.trend;
		in->main_touched = t->p.watch_touched;
	}
	if (k == SLOT_TOUCHED && in->slot[SLOT_MAIN].row.id != 0 && sl->det.state != TREND_FIRING) {
		/* The committed-private alert is open (pending or firing): the
		 * same growth is not a second alert.  A pending one of this slot
		 * is cancelled; its detector starts over once the main alert
		 * closes.  One that fired before stays (it is out already). */
		if (sl->row.id != 0)
			slot_close(a, in, k, now, "the private_committed alert covers it");
		trend_detector_init(&sl->det);
		return;
	}
	ev = trend_detector_step(&sl->det, &fit, &t->p.trend, now);
	switch (ev) {
	case TREND_EVENT_PENDING:
		if (slot_open(a, t, in, k, ALERT_PENDING, now, value) == 0) {
			sl->row.baseline_snapshot_id = snapshot_from(in, fit.t0_ms);
			if (attribute(a, t, in, k, s, 0) == 0)
				(void)row_put(a, &sl->row);
			log_info("alert %" PRId64 " pending: %s", sl->row.id,
			         sl->row.summary ? sl->row.summary : sl->row.series);
		} else {
			row_clear(&sl->row);
		}
		break;
	case TREND_EVENT_FIRE:
		slot_fire(a, t, in, k, sid, s, value, snapshot_from(in, fit.t0_ms));
		break;
	case TREND_EVENT_RESOLVE:
		slot_close(a, in, k, now, "calm");
		break;
	case TREND_EVENT_CANCEL:
		slot_close(a, in, k, now, "the trend stopped holding");
		break;
	default:
		if (sl->row.id != 0) {
			row_fill_fit(&sl->row, &fit, value, now);
			(void)row_put(a, &sl->row);
		}
		break;
	}
}

static uint64_t
threshold_level(uint64_t first, uint64_t every, uint64_t v)
{
	if (every == 0 || v < first)
		return first;
	return first + (v - first) / every * every;
}

static void
eval_plain(struct alerts *a, struct tstate *t, struct inst *in, int64_t sid,
           const struct snapshot *s)
{
	const struct point *pt = &in->pts[in->n - 1];
	int64_t first_sid = snapshot_from(in, INT64_MIN);
	uint64_t v = point_value(pt, SLOT_THRESHOLD, &t->p);
	struct slot *th = &in->slot[SLOT_THRESHOLD], *mc = &in->slot[SLOT_MAP_COUNT];

	if (t->p.threshold_bytes > 0) {
		if (!in->thr_ready) {
			trend_threshold_init(&in->thr, t->p.threshold_bytes, t->p.every_bytes);
			in->thr_ready = 1;
			if (th->row.id != 0) /* restored: that level has fired already */
				(void)trend_threshold_step(&in->thr, v);
		}
		if (trend_threshold_step(&in->thr, v)) {
			slot_close(a, in, SLOT_THRESHOLD, s->time_ms, "a higher level");
			th->level = threshold_level(t->p.threshold_bytes, t->p.every_bytes, v);
			slot_fire(a, t, in, SLOT_THRESHOLD, sid, s, v, first_sid);
		} else if (th->row.id != 0 && v < t->p.threshold_bytes) {
			slot_close(a, in, SLOT_THRESHOLD, s->time_ms, "below the threshold");
			trend_threshold_init(&in->thr, t->p.threshold_bytes, t->p.every_bytes);
		} else if (th->row.id != 0) {
			th->row.value = v;
		}
	}
	if (t->p.map_count_fraction > 0) {
		int near = trend_map_count_near(pt->regions, a->max_map_count,
		                                t->p.map_count_fraction);

		if (near && mc->row.id == 0)
			slot_fire(a, t, in, SLOT_MAP_COUNT, sid, s, pt->regions, first_sid);
		else if (!near && mc->row.id != 0)
			slot_close(a, in, SLOT_MAP_COUNT, s->time_ms, "fewer regions");
	}
}

/* ---- seeding and instances --------------------------------------------------- */

/* Attach the open alerts of @t stored by an earlier run to their slots;
 * those whose instance or slot is gone resolve at @now. */
static void
seed_alerts(struct alerts *a, struct tstate *t, int64_t now)
{
	struct store_alert_filter f = {t->target_id, 0, -1, INT64_MIN, INT64_MAX, 0};
	struct store_alert *v = NULL;
	size_t n = 0;
	int rc = store_list_alerts(a->st, &f, &v, &n);

	if (rc != 0) {
		log_warn("target '%s': cannot read its alerts: %s", t->name, md_strerror(rc));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct inst *in;
		int placed = 0;

		if (v[i].state == ALERT_RESOLVED)
			continue;
		in = inst_by_id(t, v[i].instance_id);
		for (int k = 0; in != NULL && k < SLOT_COUNT && !placed; k++) {
			char rule[16], series[32];
			struct slot *sl = &in->slot[k];

			slot_names((enum slot_id)k, &t->p, rule, series);
			if (strcmp(rule, v[i].rule) != 0 || strcmp(series, v[i].series) != 0 ||
			    sl->row.id != 0)
				continue;
			sl->row = v[i];
			memset(&v[i], 0, sizeof(v[i]));
			sl->det.state =
			        sl->row.state == ALERT_FIRING ? TREND_FIRING : TREND_PENDING;
			sl->det.holds_in_row =
			        sl->row.state == ALERT_FIRING ? t->p.trend.fire_after : 1;
			sl->det.pending_since_ms = sl->row.started_ms;
			sl->det.firing_since_ms = sl->row.fired_ms;
			if (k == SLOT_THRESHOLD)
				sl->level = threshold_level(t->p.threshold_bytes, t->p.every_bytes,
				                            sl->row.value);
			placed = 1;
		}
		if (!placed) {
			v[i].state = ALERT_RESOLVED;
			v[i].resolved_ms = now;
			v[i].updated_ms = now;
			if (v[i].evidence_json != NULL)
				(void)evidence_resolve(&v[i]);
			(void)row_put(a, &v[i]);
			log_info("alert %" PRId64 " resolved: its process is no longer watched",
			         v[i].id);
		}
	}
	store_alerts_free(v, n);
}

/* The touched bytes of each private type of a point read back from the
 * store, which keeps private_touched but per type only the resident bytes:
 * private_touched split in proportion to the private types' resident bytes
 * (their resident pages are private but for copy-on-write sharing after a
 * fork; swap is not in them).  Only the attribution of a touched alert uses
 * the split; the series it fires on is private_touched itself. */
static void
touched_split(struct point *pt, const uint64_t resident[REGION_TYPE_COUNT])
{
	double sum = 0;

	for (int j = 0; j < N_PRIVATE; j++)
		sum += (double)resident[private_types[j]];
	for (int j = 0; j < N_PRIVATE; j++)
		pt->touched[j] = sum > 0 ? (uint64_t)((double)pt->private_touched *
		                                      (double)resident[private_types[j]] / sum)
		                         : (j == 0 ? pt->private_touched : 0);
}

/* Load the recent series of @t's instances from the store. */
static void
seed(struct alerts *a, struct tstate *t, int64_t now)
{
	struct store_instance_info *iv = NULL;
	struct store_timeline_point *tl = NULL;
	size_t ni = 0, nt = 0;
	int rc;

	rc = store_list_instances(a->st, t->target_id, &iv, &ni);
	if (rc == 0)
		rc = store_timeline(a->st, t->target_id, now - keep_ms(&t->p), now - 1, 0, &tl,
		                    &nt);
	if (rc != 0) {
		log_warn("target '%s': cannot read its recent history: %s", t->name,
		         md_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < nt; i++) {
		struct inst *in = inst_by_id(t, tl[i].instance_id);
		struct point pt;

		if (in == NULL) {
			for (size_t j = 0; j < ni; j++)
				if (iv[j].id == tl[i].instance_id)
					in = inst_add(t, iv[j].id, iv[j].pid, iv[j].start_time,
					              iv[j].start_time_ms ? iv[j].start_time_ms
					                                  : iv[j].first_time_ms);
			if (in == NULL)
				continue;
		}
		memset(&pt, 0, sizeof(pt));
		pt.time_ms = tl[i].time_ms;
		pt.snapshot_id = tl[i].snapshot_id;
		pt.private_committed = tl[i].private_committed;
		pt.private_touched = tl[i].private_touched;
		memcpy(pt.committed, tl[i].committed, sizeof(pt.committed));
		touched_split(&pt, tl[i].resident);
		if (inst_push(in, &pt, &t->p) != 0)
			break;
	}
	seed_alerts(a, t, now);
out:
	free(iv);
	free(tl);
}

static struct tstate *
tstate_get(struct alerts *a, int64_t target_id, const char *name, const struct alert_params *p,
           int64_t now)
{
	struct tstate *t = tstate_find(a, target_id), **v;

	if (t != NULL)
		return t;
	v = realloc(a->targets, (a->n_targets + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	a->targets = v;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->target_id = target_id;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->p = *p;
	a->targets[a->n_targets++] = t;
	seed(a, t, now);
	return t;
}

/* The instance of snapshot @s, created (id from the store) when new. */
static struct inst *
inst_get(struct alerts *a, struct tstate *t, const struct snapshot *s)
{
	struct store_instance_info *iv = NULL;
	struct inst *in = NULL;
	size_t n = 0;

	for (size_t i = 0; i < t->n_insts; i++)
		if (t->insts[i]->pid == s->pid && t->insts[i]->start_time == s->start_time)
			return t->insts[i];
	if (store_list_instances(a->st, t->target_id, &iv, &n) != 0)
		return NULL;
	for (size_t i = n; i-- > 0 && in == NULL;)
		if (iv[i].pid == s->pid && iv[i].start_time == s->start_time)
			in = inst_add(t, iv[i].id, s->pid, s->start_time,
			              s->start_time_ms ? s->start_time_ms : s->time_ms);
	free(iv);
	if (in != NULL)
		log_debug("target '%s': alert rules start for process %d", t->name, s->pid);
	return in;
}

/* Instances of @t other than @keep that were not sampled for a while. */
static void
drop_gone(struct alerts *a, struct tstate *t, const struct inst *keep, int64_t now)
{
	int64_t eval_ms = (int64_t)t->p.eval_interval_s * 1000;
	int64_t target_gap = 0;

	/* An instance seen once has no sampling gap of its own: it borrows the
	 * widest of its target's other instances.  Only when none has one is
	 * the hour waited (a target of short-lived processes would otherwise
	 * keep every one of them for an hour: tests/test_target_faults.sh,
	 * bench/soak.sh). */
	for (size_t i = 0; i < t->n_insts; i++)
		if (t->insts[i]->gap_ms > target_gap)
			target_gap = t->insts[i]->gap_ms;
	for (size_t i = 0; i < t->n_insts;) {
		struct inst *in = t->insts[i];
		int64_t last = in->n > 0 ? in->pts[in->n - 1].time_ms : INT64_MIN;
		int64_t gap = in->gap_ms != 0 ? in->gap_ms : target_gap;
		int64_t quiet = GONE_FACTOR * (gap > eval_ms ? gap : eval_ms);

		if (gap == 0 && quiet < GONE_ONE_POINT_MS)
			quiet = GONE_ONE_POINT_MS;

		if (in == keep ||
		    (in->n > 0 && now - last <= (quiet > GONE_MIN_MS ? quiet : GONE_MIN_MS))) {
			i++;
			continue;
		}
		for (int k = 0; k < SLOT_COUNT; k++)
			slot_close(a, in, (enum slot_id)k, now, "the process is gone");
		inst_free(in);
		t->insts[i] = t->insts[--t->n_insts];
	}
}

void
alerts_on_snapshot(struct alerts *a, int64_t target_id, const char *name,
                   const struct alert_params *p, int64_t snapshot_id, const struct snapshot *s)
{
	struct snapshot_totals tot;
	struct tstate *t;
	struct inst *in;
	struct point pt;
	int64_t now = s->time_ms;

	if (a == NULL)
		return;
	t = tstate_get(a, target_id, name, p, now);
	if (t == NULL) {
		log_warn("target '%s': out of memory for its alert state", name);
		return;
	}
	t->p = *p;
	snprintf(t->name, sizeof(t->name), "%s", name);
	in = inst_get(a, t, s);
	if (in == NULL) {
		log_warn("target '%s': process %d: no alert state", name, s->pid);
		return;
	}
	snapshot_totals(s, &tot);
	memset(&pt, 0, sizeof(pt));
	pt.time_ms = now;
	pt.snapshot_id = snapshot_id;
	pt.private_committed = tot.private_committed;
	pt.private_touched = tot.private_touched;
	for (int ty = 0; ty < REGION_TYPE_COUNT; ty++)
		pt.committed[ty] = tot.by_type[ty].committed;
	for (int j = 0; j < N_PRIVATE; j++)
		pt.touched[j] = tot.by_type[private_types[j]].private_resident +
		                tot.by_type[private_types[j]].swap;
	pt.regions = s->n_regions;
	if (inst_push(in, &pt, p) != 0) {
		log_warn("target '%s': out of memory for its series", name);
		return;
	}
	drop_gone(a, t, in, now);
	if (!p->enabled) {
		for (int k = 0; k < SLOT_COUNT; k++)
			slot_close(a, in, (enum slot_id)k, now, "alerts switched off");
		return;
	}
	eval_plain(a, t, in, snapshot_id, s);
	if (in->last_eval_ms == 0 || now - in->last_eval_ms >= (int64_t)p->eval_interval_s * 1000) {
		in->last_eval_ms = now;
		/* SLOT_MAIN first: the touched slot looks at its alert. */
		for (int k = SLOT_MAIN; k < SLOT_THRESHOLD; k++) {
			if (k == SLOT_TOUCHED && p->watch_touched) {
				slot_close(a, in, SLOT_TOUCHED, now,
				           "series = private_touched: the main rule watches it");
				continue;
			}
			eval_trend(a, t, in, (enum slot_id)k, snapshot_id, s);
		}
	}
}

void
alerts_expire(struct alerts *a, int64_t now_ms)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_targets; i++)
		drop_gone(a, a->targets[i], NULL, now_ms);
}

/* "full", "busy" or "error", as /healthz says it (docs/api.md). */
static const char *
storage_kind(const char *error)
{
	if (strstr(error, md_strerror(MD_ERR_FULL)) != NULL)
		return "full";
	if (strstr(error, md_strerror(MD_ERR_BUSY)) != NULL)
		return "busy";
	return "error";
}

void
alerts_storage(struct alerts *a, int failing, const char *error, int64_t now_ms)
{
	cJSON *o = NULL;
	char summary[320], *json = NULL;

	if (a == NULL || (!failing && a->storage_since_ms == 0))
		return;
	if (failing) {
		a->storage_since_ms = now_ms;
		snprintf(a->storage_error, sizeof(a->storage_error), "%s",
		         error != NULL ? error : "");
	}
	snprintf(summary, sizeof(summary), "%sstorage %s: snapshots are %s (%s)",
	         failing ? "" : "resolved: ", storage_kind(a->storage_error),
	         failing ? "not stored" : "stored again", a->storage_error);
	o = cJSON_CreateObject();
	if (o == NULL || cJSON_AddStringToObject(o, "rule", "storage") == NULL ||
	    cJSON_AddStringToObject(o, "state", failing ? "firing" : "resolved") == NULL ||
	    cJSON_AddStringToObject(o, "storage", storage_kind(a->storage_error)) == NULL ||
	    cJSON_AddStringToObject(o, "storage_error", a->storage_error) == NULL ||
	    cJSON_AddNumberToObject(o, "fired_ms", (double)a->storage_since_ms) == NULL ||
	    (failing ? cJSON_AddNullToObject(o, "resolved_ms")
	             : cJSON_AddNumberToObject(o, "resolved_ms", (double)now_ms)) == NULL ||
	    cJSON_AddStringToObject(o, "summary", summary) == NULL ||
	    (json = cJSON_PrintUnformatted(o)) == NULL) {
		/* Out of memory: the log line of storage_state still says it. */
		log_error("storage alert: out of memory");
		goto out;
	}
	sinks_send(a->sk, json, summary, !failing);
out:
	if (!failing)
		a->storage_since_ms = 0;
	cJSON_free(json);
	cJSON_Delete(o);
}

void
alerts_runtime(struct alerts *a, int64_t target_id, struct web_target_runtime *rt)
{
	struct tstate *t;
	const struct inst *newest = NULL;
	int state = -1;

	rt->trend_ok = 0;
	rt->trend_slope_bytes_per_h = 0;
	rt->trend_touched = 0;
	rt->alert_state = -1;
	rt->trend_params_set = 0;
	rt->trend_instance_id = 0;
	rt->trend_instance_start_ms = 0;
	rt->trend_eval_ms = 0;
	rt->trend_samples = 0;
	rt->trend_fit_touched = 0;
	memset(&rt->trend_params, 0, sizeof(rt->trend_params));
	memset(&rt->trend_fit_params, 0, sizeof(rt->trend_fit_params));
	memset(&rt->trend_fit, 0, sizeof(rt->trend_fit));
	if (a == NULL || (t = tstate_find(a, target_id)) == NULL)
		return;
	rt->trend_touched = t->p.watch_touched;
	rt->trend_params = t->p.trend;
	rt->trend_params_set = 1;
	for (size_t i = 0; i < t->n_insts; i++) {
		const struct inst *in = t->insts[i];

		if (in->n > 0 && (newest == NULL ||
		                  in->pts[in->n - 1].time_ms > newest->pts[newest->n - 1].time_ms))
			newest = in;
		for (int k = 0; k < SLOT_COUNT; k++) {
			const struct store_alert *r = &in->slot[k].row;

			if (r->id == 0)
				continue;
			if (r->state == ALERT_FIRING || state < 0)
				state = r->state == ALERT_FIRING ? ALERT_FIRING : ALERT_PENDING;
		}
	}
	rt->alert_state = state;
	if (newest != NULL) {
		rt->trend_ok = newest->slot[SLOT_MAIN].fit.ok;
		rt->trend_slope_bytes_per_h =
		        rt->trend_ok ? newest->slot[SLOT_MAIN].fit.slope_per_h : 0;
		rt->regions = newest->pts[newest->n - 1].regions;
		/* The fit the engine judged, for /trend to report and the UI
		 * to draw; none while alerts are off (it would be stale). */
		if (newest->main_eval_ms != 0 && t->p.enabled) {
			rt->trend_instance_id = newest->instance_id;
			rt->trend_instance_start_ms = newest->start_ms;
			rt->trend_eval_ms = newest->main_eval_ms;
			rt->trend_samples = newest->main_samples;
			rt->trend_fit_params = newest->main_params;
			rt->trend_fit_touched = newest->main_touched;
			rt->trend_fit = newest->slot[SLOT_MAIN].fit;
		}
	}
}
