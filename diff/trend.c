/*
 * trend.c - leak detection on one series of one process instance (see
 * trend.h).  A fit cuts the series to the usable part (after the warm-up,
 * inside the trend window), resamples it onto a grid of fixed steps that ends
 * at the newest point, replaces every resampled value by the minimum of the
 * raw values in the trailing minimum window, and fits the result: Theil-Sen
 * slope and intercept (medians found with quickselect, O(n^2) for the n(n-1)/2
 * pairwise slopes, n bounded by TREND_MAX_POINTS), the Mann-Kendall test with
 * the tie correction of its variance, R^2 of the Theil-Sen line, and the
 * Theil-Sen slope of the most recent part of the grid.  The detector, the
 * threshold rule and the map-count rule are small state machines on top.
 * Pure: no I/O, no clock, no logging; a fit allocates two buffers and frees
 * them before it returns.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff/trend.h"
#include "snapshot/mderr.h"

#define MS_PER_H 3600000.0

void
trend_params_defaults(struct trend_params *p)
{
	memset(p, 0, sizeof(*p));
	p->warmup_ms = 15 * 60 * 1000;
	p->window_ms = 6 * 3600 * 1000;
	p->min_span_ms = 3600 * 1000;
	p->step_ms = 60 * 1000;
	p->min_window_ms = 10 * 60 * 1000;
	p->alpha = 0.01;
	p->min_r2 = 0.7;
	p->min_bytes_per_h = 512.0 * 1024.0;
	p->min_pct_per_h = 0.1;
	p->fire_after = 3;
	p->resolve_after = 30;
	p->resolve_ratio = 0.5;
	p->recent_frac = 1.0 / 3.0;
	p->recent_ratio = 0.7;
}

int
trend_params_check(const struct trend_params *p)
{
	if (p == NULL)
		return MD_ERR_INVAL;
	if (p->warmup_ms < 0 || p->window_ms <= 0 || p->min_span_ms < 0 || p->step_ms <= 0 ||
	    p->min_window_ms < 0 || p->min_span_ms > p->window_ms)
		return MD_ERR_INVAL;
	if (!(p->alpha > 0.0 && p->alpha < 1.0) || !(p->min_r2 >= 0.0 && p->min_r2 <= 1.0))
		return MD_ERR_INVAL;
	if (!(p->min_bytes_per_h >= 0.0) || !isfinite(p->min_bytes_per_h) ||
	    !(p->min_pct_per_h >= 0.0) || !isfinite(p->min_pct_per_h))
		return MD_ERR_INVAL;
	if (p->fire_after == 0 || p->resolve_after == 0)
		return MD_ERR_INVAL;
	if (!(p->resolve_ratio >= 0.0 && p->resolve_ratio <= 1.0))
		return MD_ERR_INVAL;
	if (!(p->recent_frac >= 0.0 && p->recent_frac < 1.0) || !(p->recent_ratio >= 0.0) ||
	    !isfinite(p->recent_ratio))
		return MD_ERR_INVAL;
	return 0;
}

/* Partition @a[lo..hi] around a pivot and narrow to the side holding @k
 * until a[k] is the k-th smallest and a[0..k) <= a[k] (Hoare quickselect,
 * median-of-three pivot). */
static void
select_kth(double *a, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		double x = a[lo], y = a[mid], z = a[hi], pivot, t;

		pivot = (x < y) ? ((y < z) ? y : (x < z ? z : x)) : ((x < z) ? x : (y < z ? z : y));
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

/* The median of @a[0..n), n >= 1; reorders @a. */
static double
median(double *a, size_t n)
{
	size_t k = n / 2, i;
	double lower;

	select_kth(a, n, k);
	if (n % 2 == 1)
		return a[k];
	lower = a[0];
	for (i = 1; i < k; i++)
		if (a[i] > lower)
			lower = a[i];
	return (lower + a[k]) / 2.0;
}

/* Theil-Sen slope of @y[0..n) at x = i * @dx (n >= 2), using @work (room for
 * n(n-1)/2 values). */
static double
theil_sen(const double *y, size_t n, double dx, double *work)
{
	size_t i, j, m = 0;

	for (i = 0; i + 1 < n; i++)
		for (j = i + 1; j < n; j++)
			work[m++] = (y[j] - y[i]) / ((double)(j - i) * dx);
	return median(work, m);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Mann-Kendall on @y[0..n): S, Z (continuity-corrected) and the two-sided
 * p-value; @work holds n values. */
static void
mann_kendall(const double *y, size_t n, double *work, double *s_out, double *z_out, double *p_out)
{
	double s = 0.0, var, z = 0.0, nn = (double)n;
	size_t i, j;

	for (i = 0; i + 1 < n; i++)
		for (j = i + 1; j < n; j++)
			s += (y[j] > y[i]) - (y[j] < y[i]);
	var = nn * (nn - 1.0) * (2.0 * nn + 5.0);
	memcpy(work, y, n * sizeof(*work));
	qsort(work, n, sizeof(*work), cmp_double);
	for (i = 0; i < n; i = j) {
		double t;

		for (j = i + 1; j < n && work[j] == work[i]; j++)
			;
		t = (double)(j - i);
		var -= t * (t - 1.0) * (2.0 * t + 5.0);
	}
	var /= 18.0;
	if (var > 0.0) {
		if (s > 0.0)
			z = (s - 1.0) / sqrt(var);
		else if (s < 0.0)
			z = (s + 1.0) / sqrt(var);
	}
	*s_out = s;
	*z_out = z;
	*p_out = erfc(fabs(z) / sqrt(2.0));
}

/* The resampled, minimum-filtered grid of one fit. */
struct grid {
	size_t n;
	int64_t t0_ms, step_ms;
	double *y;
};

/* Check that @pts[0..n) are sorted, strictly increasing, with finite values. */
static int
check_points(const struct trend_point *pts, size_t n)
{
	size_t i;

	if (n > 0 && pts == NULL)
		return MD_ERR_INVAL;
	for (i = 0; i < n; i++) {
		if (!isfinite(pts[i].value))
			return MD_ERR_INVAL;
		if (i > 0 && pts[i].time_ms <= pts[i - 1].time_ms)
			return MD_ERR_INVAL;
	}
	return 0;
}

/* Steps 1-4 of trend.h: build @g from @pts (checked by the caller).  g->n is
 * 0 when the usable data spans less than min_span_ms or gives fewer than 3
 * points.  Returns 0 or MD_ERR_NOMEM; g->y is the caller's to free. */
static int
grid_build(const struct trend_point *pts, size_t n, int64_t instance_start_ms, int64_t now_ms,
           const struct trend_params *p, struct grid *g)
{
	int64_t lo, first, span, step, wstart;
	size_t a, b, k, count, hi, win;

	memset(g, 0, sizeof(*g));
	if (__builtin_add_overflow(instance_start_ms, p->warmup_ms, &lo))
		return 0; /* the warm-up never ends */
	for (a = 0; a < n && pts[a].time_ms < lo; a++)
		;
	for (b = a; b < n && pts[b].time_ms <= now_ms; b++)
		;
	if (b - a < 3)
		return 0;
	b--; /* the newest usable point */
	/* The first grid time: inside the window, and late enough that its
	 * trailing minimum window lies wholly after the warm-up (a shorter one
	 * would read higher on noisy data and bias the slope down). */
	if (__builtin_add_overflow(pts[a].time_ms, p->min_window_ms, &first))
		return 0;
	if (!__builtin_sub_overflow(now_ms, p->window_ms, &wstart) && wstart > first)
		first = wstart;
	if (pts[b].time_ms < first)
		return 0;
	span = pts[b].time_ms - first;
	if (span < p->min_span_ms)
		return 0;
	step = p->step_ms;
	if (span / step + 1 > TREND_MAX_POINTS)
		step = (span + TREND_MAX_POINTS - 2) / (TREND_MAX_POINTS - 1);
	count = (size_t)(span / step) + 1;
	if (count < 3)
		return 0;
	g->y = malloc(count * sizeof(*g->y));
	if (g->y == NULL)
		return MD_ERR_NOMEM;
	g->n = count;
	g->step_ms = step;
	g->t0_ms = pts[b].time_ms - (int64_t)(count - 1) * step;
	/* hi: the last point at or before t; win: the first point inside the
	 * trailing minimum window (t - min_window_ms, t].  The minimum may reach
	 * back before the trend window, never into the warm-up. */
	hi = a;
	win = a;
	for (k = 0; k < count; k++) {
		int64_t t = g->t0_ms + (int64_t)k * step;
		double m;
		size_t i;

		while (hi + 1 <= b && pts[hi + 1].time_ms <= t)
			hi++;
		while (win < hi && pts[win].time_ms <= t - p->min_window_ms)
			win++;
		m = pts[hi].value;
		for (i = win; i < hi; i++)
			if (pts[i].value < m)
				m = pts[i].value;
		g->y[k] = m;
	}
	return 0;
}

int
trend_fit_series(const struct trend_point *pts, size_t n, int64_t instance_start_ms, int64_t now_ms,
                 const struct trend_params *p, struct trend_fit *out)
{
	struct grid g = {0};
	double *work = NULL, dx, mean = 0.0, ss_tot = 0.0, ss_res = 0.0, floor_per_h;
	size_t i, recent;
	int rc;

	if (out == NULL)
		return MD_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	rc = trend_params_check(p);
	if (rc == 0)
		rc = check_points(pts, n);
	if (rc == 0)
		rc = grid_build(pts, n, instance_start_ms, now_ms, p, &g);
	if (rc != 0 || g.n == 0)
		goto out;
	work = malloc(g.n * (g.n - 1) / 2 * sizeof(*work));
	if (work == NULL) {
		rc = MD_ERR_NOMEM;
		goto out;
	}
	dx = (double)g.step_ms / MS_PER_H;
	out->ok = 1;
	out->n = g.n;
	out->t0_ms = g.t0_ms;
	out->t1_ms = g.t0_ms + (int64_t)(g.n - 1) * g.step_ms;
	out->slope_per_h = theil_sen(g.y, g.n, dx, work);
	for (i = 0; i < g.n; i++)
		work[i] = g.y[i] - out->slope_per_h * (double)i * dx;
	out->intercept = median(work, g.n);
	out->level = out->intercept + out->slope_per_h * (double)(g.n - 1) * dx;
	out->start_level = g.y[0];
	if (out->start_level > 0.0)
		out->pct_per_h = out->slope_per_h / out->start_level * 100.0;
	for (i = 0; i < g.n; i++)
		mean += g.y[i];
	mean /= (double)g.n;
	for (i = 0; i < g.n; i++) {
		double r = g.y[i] - (out->intercept + out->slope_per_h * (double)i * dx);

		ss_tot += (g.y[i] - mean) * (g.y[i] - mean);
		ss_res += r * r;
	}
	out->r2 = ss_tot > 0.0 ? 1.0 - ss_res / ss_tot : 0.0;
	mann_kendall(g.y, g.n, work, &out->mk_s, &out->mk_z, &out->mk_p);
	if (p->recent_frac > 0.0) {
		recent = (size_t)ceil(p->recent_frac * (double)g.n);
		if (recent < 3)
			recent = 3;
		if (recent > g.n)
			recent = g.n;
		out->recent_slope_per_h = theil_sen(g.y + (g.n - recent), recent, dx, work);
	}
	floor_per_h = p->min_pct_per_h / 100.0 * out->start_level;
	out->holds = out->slope_per_h > 0.0 && out->mk_p <= p->alpha && out->r2 >= p->min_r2 &&
	             out->slope_per_h >= p->min_bytes_per_h && out->slope_per_h >= floor_per_h &&
	             (p->recent_frac <= 0.0 ||
	              out->recent_slope_per_h >= p->recent_ratio * out->slope_per_h);
out:
	free(work);
	free(g.y);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

void
trend_detector_init(struct trend_detector *d)
{
	memset(d, 0, sizeof(*d));
	d->state = TREND_OK;
}

enum trend_event
trend_detector_step(struct trend_detector *d, const struct trend_fit *f,
                    const struct trend_params *p, int64_t now_ms)
{
	int holds = f->ok && f->holds;
	double floor_per_h;

	switch (d->state) {
	case TREND_OK:
	case TREND_RESOLVED:
		if (!holds)
			return TREND_EVENT_NONE;
		d->holds_in_row = 1;
		d->pending_since_ms = now_ms;
		if (d->holds_in_row >= p->fire_after) {
			d->state = TREND_FIRING;
			d->firing_since_ms = now_ms;
			d->calm_in_row = 0;
			return TREND_EVENT_FIRE;
		}
		d->state = TREND_PENDING;
		return TREND_EVENT_PENDING;
	case TREND_PENDING:
		if (!holds) {
			d->state = TREND_OK;
			d->holds_in_row = 0;
			return TREND_EVENT_CANCEL;
		}
		d->holds_in_row++;
		if (d->holds_in_row < p->fire_after)
			return TREND_EVENT_NONE;
		d->state = TREND_FIRING;
		d->firing_since_ms = now_ms;
		d->calm_in_row = 0;
		return TREND_EVENT_FIRE;
	case TREND_FIRING:
		floor_per_h = p->min_pct_per_h / 100.0 * f->start_level;
		if (floor_per_h < p->min_bytes_per_h)
			floor_per_h = p->min_bytes_per_h;
		if (!f->ok || f->slope_per_h >= p->resolve_ratio * floor_per_h) {
			d->calm_in_row = 0;
			return TREND_EVENT_NONE;
		}
		d->calm_in_row++;
		if (d->calm_in_row < p->resolve_after)
			return TREND_EVENT_NONE;
		d->state = TREND_RESOLVED;
		d->holds_in_row = 0;
		d->calm_in_row = 0;
		return TREND_EVENT_RESOLVE;
	}
	return TREND_EVENT_NONE;
}

void
trend_threshold_init(struct trend_threshold *t, uint64_t first, uint64_t every)
{
	t->first = first;
	t->every = every;
	t->next = first;
}

int
trend_threshold_step(struct trend_threshold *t, uint64_t value)
{
	uint64_t jumps;

	if (t->next == UINT64_MAX || value < t->next)
		return 0;
	if (t->every == 0) {
		t->next = UINT64_MAX;
		return 1;
	}
	/* The first level above @value: next + every x (levels passed + 1). */
	jumps = (value - t->next) / t->every + 1;
	if (jumps > (UINT64_MAX - t->next) / t->every)
		t->next = UINT64_MAX;
	else
		t->next += jumps * t->every;
	return 1;
}

int
trend_map_count_near(uint64_t regions, uint64_t max_map_count, double fraction)
{
	if (max_map_count == 0 || !(fraction > 0.0))
		return 0;
	return (double)regions >= fraction * (double)max_map_count;
}

int
trend_attribute(const int64_t *times_ms, const double *const series[REGION_TYPE_COUNT], size_t n,
                int64_t instance_start_ms, int64_t now_ms, const struct trend_params *p,
                struct trend_attribution *out)
{
	struct trend_point *pts = NULL;
	double *work = NULL, sum = 0.0;
	struct grid g = {0};
	size_t i;
	int rc, t;

	if (out == NULL)
		return MD_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	rc = trend_params_check(p);
	if (rc == 0 && n > 0 && (times_ms == NULL || series == NULL))
		rc = MD_ERR_INVAL;
	if (rc != 0 || n == 0)
		goto out;
	pts = malloc(n * sizeof(*pts));
	if (pts == NULL) {
		rc = MD_ERR_NOMEM;
		goto out;
	}
	for (t = 0; t < REGION_TYPE_COUNT; t++) {
		for (i = 0; i < n; i++) {
			pts[i].time_ms = times_ms[i];
			pts[i].value = series[t] != NULL ? series[t][i] : 0.0;
		}
		rc = check_points(pts, n);
		if (rc == 0)
			rc = grid_build(pts, n, instance_start_ms, now_ms, p, &g);
		if (rc != 0)
			goto out;
		if (g.n == 0)
			continue;
		if (work == NULL)
			work = malloc(g.n * (g.n - 1) / 2 * sizeof(*work));
		if (work == NULL) {
			rc = MD_ERR_NOMEM;
			goto out;
		}
		out->slope_per_h[t] = theil_sen(g.y, g.n, (double)g.step_ms / MS_PER_H, work);
		free(g.y);
		g.y = NULL;
	}
	for (t = 0; t < REGION_TYPE_COUNT; t++)
		if (out->slope_per_h[t] > 0.0)
			sum += out->slope_per_h[t];
	for (t = 0; t < REGION_TYPE_COUNT; t++)
		if (out->slope_per_h[t] > 0.0)
			out->share[t] = out->slope_per_h[t] / sum;
out:
	free(g.y);
	free(work);
	free(pts);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}
