/*
 * check_trend.c - unit tests of diff/trend.c: the statistics against values
 * computed by hand on tiny inputs (Theil-Sen of 5 points, Mann-Kendall S and
 * its tie-corrected variance, R^2), the resampling, trailing minimum, warm-up
 * and point-count bound, parameter checking, the detector's lifecycle on
 * hand-made fits, and a table of synthetic series sampled every 10 s and
 * evaluated every 60 s with the default parameters (seeded PRNG, so every
 * event time is exact): steady, slow, noisy leaks fire at known times with
 * the right slope; sawtooth, warm-up then plateau, a one-time step,
 * reservation growth with flat commit and noise fire nothing; a restarted
 * process and two processes of one target fire only where memory leaks.
 * Then the threshold and map-count rules and the attribution by type.
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/trend.h"
#include "snapshot/mderr.h"

#define MIB      1048576.0
#define SEC      INT64_C(1000)
#define MINUTE   (60 * SEC)
#define HOUR     (60 * MINUTE)
#define SAMPLE   (10 * SEC) /* the daemon's default sampling interval */
#define EVAL     MINUTE     /* one evaluation a minute */
#define MAX_EVTS 16

/* Event minutes measured once and pinned (see the tests that use them). */
#define STEP_UNGUARDED_FIRE_MIN 322
#define RESTART_PENDING_MIN     548
#define TWO_PENDING_MIN         85

/* xorshift64* and Box-Muller: a small PRNG whose sequence is the same on
 * every platform, so the series (and the event times) are exact. */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static double
rng_uniform(uint64_t *s) /* [0, 1) */
{
	return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static double
rng_gauss(uint64_t *s)
{
	double u = rng_uniform(s), v = rng_uniform(s);

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* One synthetic series kind; the value at @h hours after the instance
 * started (noise drawn from @rng). */
enum gen_kind {
	GEN_LINEAR,    /* base + rate x h + gauss(sigma) */
	GEN_UNIFORM,   /* base + rate x h + uniform(+-sigma) */
	GEN_SAWTOOTH,  /* base + amp x (climb over 5 min, drop), period arg min + gauss(sigma) */
	GEN_SATURATE,  /* base + amp x (1 - exp(-h / (arg min))) + gauss(sigma) */
	GEN_STEP,      /* base + amp once h >= arg hours + gauss(sigma) */
	GEN_LATE_LEAK, /* base + rate x max(0, h - arg) + gauss(sigma) */
};

struct gen {
	enum gen_kind kind;
	double base, rate, sigma, amp, arg; /* bytes, bytes/h, bytes, bytes, see above */
};

static double
gen_value(const struct gen *g, double h, uint64_t *rng)
{
	double phase;

	switch (g->kind) {
	case GEN_LINEAR:
		return g->base + g->rate * h + g->sigma * rng_gauss(rng);
	case GEN_UNIFORM:
		return g->base + g->rate * h + g->sigma * (2.0 * rng_uniform(rng) - 1.0);
	case GEN_SAWTOOTH:
		phase = fmod(h * 60.0, g->arg) / 5.0;
		return g->base + g->amp * (phase > 1.0 ? 1.0 : phase) + g->sigma * rng_gauss(rng);
	case GEN_SATURATE:
		return g->base + g->amp * (1.0 - exp(-h * 60.0 / g->arg)) +
		       g->sigma * rng_gauss(rng);
	case GEN_STEP:
		return g->base + (h >= g->arg ? g->amp : 0.0) + g->sigma * rng_gauss(rng);
	case GEN_LATE_LEAK:
		return g->base + g->rate * (h > g->arg ? h - g->arg : 0.0) +
		       g->sigma * rng_gauss(rng);
	}
	return 0.0;
}

/* Points every SAMPLE from @start_ms to @end_ms inclusive; caller frees. */
static struct trend_point *
gen_series(const struct gen *g, uint64_t seed, int64_t start_ms, int64_t end_ms, size_t *n)
{
	size_t i, count = (size_t)((end_ms - start_ms) / SAMPLE) + 1;
	struct trend_point *pts = malloc(count * sizeof(*pts));
	uint64_t rng = seed * UINT64_C(0x9E3779B97F4A7C15) + 1;

	ck_assert_ptr_nonnull(pts);
	for (i = 0; i < count; i++) {
		pts[i].time_ms = start_ms + (int64_t)i * SAMPLE;
		pts[i].value = gen_value(g, (double)(pts[i].time_ms - start_ms) / HOUR, &rng);
	}
	*n = count;
	return pts;
}

/* An event and the minute (since the series' origin) it happened at. */
struct evt {
	enum trend_event e;
	int64_t minute;
};

struct run {
	struct evt ev[MAX_EVTS];
	size_t n_ev;
	struct trend_fit at_fire; /* the fit of the first FIRE */
	struct trend_fit last;    /* the last fit */
};

/* Feed one instance's @pts through @d every EVAL from @from_ms to @to_ms
 * (only the points at or before each evaluation are passed), appending the
 * events to @r with minutes counted from @origin_ms. */
static void
run_instance(const struct trend_point *pts, size_t n, int64_t instance_start_ms, int64_t from_ms,
             int64_t to_ms, int64_t origin_ms, const struct trend_params *p,
             struct trend_detector *d, struct run *r)
{
	int64_t now;
	size_t avail = 0;

	for (now = from_ms; now <= to_ms; now += EVAL) {
		struct trend_fit f;
		enum trend_event e;

		while (avail < n && pts[avail].time_ms <= now)
			avail++;
		ck_assert_int_eq(trend_fit_series(pts, avail, instance_start_ms, now, p, &f), 0);
		e = trend_detector_step(d, &f, p, now);
		r->last = f;
		if (e == TREND_EVENT_NONE)
			continue;
		if (e == TREND_EVENT_FIRE && r->at_fire.ok == 0)
			r->at_fire = f;
		if (getenv("TREND_PRINT") != NULL)
			printf("  event %d at minute %" PRId64 " slope %.4f MiB/h r2 %.3f p %.3g\n",
			       (int)e, (now - origin_ms) / MINUTE, f.slope_per_h / MIB, f.r2,
			       f.mk_p);
		ck_assert_uint_lt(r->n_ev, MAX_EVTS);
		r->ev[r->n_ev].e = e;
		r->ev[r->n_ev].minute = (now - origin_ms) / MINUTE;
		r->n_ev++;
	}
}

/* One scenario of the table: a series from 0 to @hours, evaluated with the
 * defaults, and the exact events it must cause. */
struct scenario {
	const char *name;
	struct gen g;
	uint64_t seed;
	double hours;
	struct evt want[4];
	size_t n_want;
	double true_slope; /* bytes/h the last fit must be within tol of (0: no check) */
	double tol;        /* relative */
};

static void
run_scenario(const struct scenario *sc, const struct trend_params *p, struct run *r)
{
	struct trend_detector d;
	struct trend_point *pts;
	size_t n;
	int64_t end = (int64_t)(sc->hours * HOUR);

	memset(r, 0, sizeof(*r));
	pts = gen_series(&sc->g, sc->seed, 0, end, &n);
	trend_detector_init(&d);
	if (getenv("TREND_PRINT") != NULL)
		printf("%s\n", sc->name);
	run_instance(pts, n, 0, EVAL, end, 0, p, &d, r);
	free(pts);
}

static void
assert_events(const char *name, const struct run *r, const struct evt *want, size_t n_want)
{
	size_t i;

	ck_assert_msg(r->n_ev == n_want, "%s: %zu events, want %zu", name, r->n_ev, n_want);
	for (i = 0; i < n_want; i++) {
		ck_assert_msg(r->ev[i].e == want[i].e && r->ev[i].minute == want[i].minute,
		              "%s: event %zu is %d at minute %" PRId64 ", want %d at %" PRId64,
		              name, i, (int)r->ev[i].e, r->ev[i].minute, (int)want[i].e,
		              want[i].minute);
	}
}

#define PENDING(m)                                                                                 \
	{                                                                                          \
		TREND_EVENT_PENDING, (m)                                                           \
	}
#define FIRE(m)                                                                                    \
	{                                                                                          \
		TREND_EVENT_FIRE, (m)                                                              \
	}

/* The table.  Minutes are since the instance started; with the defaults the
 * first fit comes at 85 min (15 min warm-up, a 10 min trailing minimum, 1 h
 * of span), so a clear leak is pending at 85 and fires at the third
 * evaluation, 87. */
static const struct scenario scenarios[] = {
        {"steady leak 50 MiB/h on 1 GiB, gauss 2 MiB",
         {GEN_LINEAR, 1024 * MIB, 50 * MIB, 2 * MIB, 0, 0},
         1,
         12,
         {PENDING(85), FIRE(87)},
         2,
         50 * MIB,
         0.02},
        {"slow leak 1 MiB/h on 500 MiB, gauss 1 MiB",
         {GEN_LINEAR, 500 * MIB, 1 * MIB, 1 * MIB, 0, 0},
         2,
         24,
         {PENDING(149), FIRE(151)},
         2,
         1 * MIB,
         0.10}, /* 6 MiB of growth in the window under 1 MiB of noise */
        {"leak 20 MiB/h hidden in +-30 MiB uniform noise on 1 GiB",
         {GEN_UNIFORM, 1024 * MIB, 20 * MIB, 30 * MIB, 0, 0},
         3,
         12,
         {PENDING(85), FIRE(87)},
         2,
         20 * MIB,
         0.02},
        {"sawtooth: climbs 200 MiB in 5 min, drops, over 800 MiB",
         {GEN_SAWTOOTH, 800 * MIB, 0, 2 * MIB, 200 * MIB, 5},
         4,
         24,
         {{0}},
         0,
         0,
         0},
        {"sawtooth with a 7 min period",
         {GEN_SAWTOOTH, 800 * MIB, 0, 2 * MIB, 200 * MIB, 7},
         5,
         24,
         {{0}},
         0,
         0,
         0},
        {"warm-up 200 MiB -> 1 GiB (tau 20 min), then plateau",
         {GEN_SATURATE, 200 * MIB, 0, 2 * MIB, 824 * MIB, 20},
         6,
         24,
         {{0}},
         0,
         0,
         0},
        {"one-time step +200 MiB at 3 h on 600 MiB, gauss 10 MiB",
         {GEN_STEP, 600 * MIB, 0, 10 * MIB, 200 * MIB, 3},
         7,
         24,
         {{0}},
         0,
         0,
         0},
        {"one-time step +200 MiB at 1 h 30 on 600 MiB, gauss 2 MiB",
         {GEN_STEP, 600 * MIB, 0, 2 * MIB, 200 * MIB, 1.5},
         8,
         24,
         {{0}},
         0,
         0,
         0},
        {"noise without trend, gauss 10 MiB on 1 GiB",
         {GEN_LINEAR, 1024 * MIB, 0, 10 * MIB, 0, 0},
         9,
         24,
         {{0}},
         0,
         0,
         0},
        {"noise without trend, +-30 MiB uniform on 1 GiB",
         {GEN_UNIFORM, 1024 * MIB, 0, 30 * MIB, 0, 0},
         10,
         24,
         {{0}},
         0,
         0,
         0},
        {"leak starting at 5 h: 10 MiB/h on 1 GiB, gauss 2 MiB",
         {GEN_LATE_LEAK, 1024 * MIB, 10 * MIB, 2 * MIB, 0, 5},
         11,
         24,
         {PENDING(462), FIRE(464)},
         2,
         10 * MIB,
         0.02},
};

START_TEST(test_trend_detector_step__scenario_table)
{
	struct trend_params p;
	struct run r;
	size_t i;

	trend_params_defaults(&p);
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *sc = &scenarios[i];

		run_scenario(sc, &p, &r);
		if (getenv("TREND_PRINT") != NULL) /* print the events only */
			continue;
		assert_events(sc->name, &r, sc->want, sc->n_want);
		if (sc->true_slope > 0) {
			ck_assert_msg(fabs(r.last.slope_per_h - sc->true_slope) <=
			                      sc->tol * sc->true_slope,
			              "%s: slope %.4f MiB/h, true %.4f", sc->name,
			              r.last.slope_per_h / MIB, sc->true_slope / MIB);
			ck_assert_msg(r.at_fire.mk_p <= p.alpha, "%s: p %g", sc->name,
			              r.at_fire.mk_p);
			ck_assert_msg(r.at_fire.holds, "%s", sc->name);
		}
	}
}
END_TEST

/* Parameters for the tiny hand-computed fits: no warm-up, no minimum, one
 * point per step, no recent-growth guard. */
static void
tiny_params(struct trend_params *p, int64_t step_ms)
{
	trend_params_defaults(p);
	p->warmup_ms = 0;
	p->window_ms = 24 * HOUR;
	p->min_span_ms = 0;
	p->step_ms = step_ms;
	p->min_window_ms = 0;
	p->recent_frac = 0;
	p->min_bytes_per_h = 0;
	p->min_pct_per_h = 0;
}

static void
fill(struct trend_point *pts, const double *v, size_t n, int64_t step_ms)
{
	size_t i;

	for (i = 0; i < n; i++) {
		pts[i].time_ms = (int64_t)i * step_ms;
		pts[i].value = v[i];
	}
}

#define EPS 1e-9

START_TEST(test_trend_fit_series__theil_sen_five_points)
{
	/* Pairwise slopes -1 -1 1/3 1/2 3/4 1 1 4/3 2 3: median (3/4 + 1) / 2;
	 * intercept: median of y - 0.875 i = {1, 2.125, 0.25, 2.375, 0.5} = 1;
	 * S = 8 - 2 = 6, var = 5 x 4 x 15 / 18, Z = 5 / sqrt(var);
	 * R^2 = 1 - 3.96875 / 10. */
	static const double v[] = {1, 3, 2, 5, 4};
	struct trend_point pts[5];
	struct trend_params p;
	struct trend_fit f;

	tiny_params(&p, HOUR);
	fill(pts, v, 5, HOUR);
	ck_assert_int_eq(trend_fit_series(pts, 5, 0, 4 * HOUR, &p, &f), 0);
	ck_assert_int_eq(f.ok, 1);
	ck_assert_uint_eq(f.n, 5);
	ck_assert_int_eq(f.t0_ms, 0);
	ck_assert_int_eq(f.t1_ms, 4 * HOUR);
	ck_assert_double_eq_tol(f.slope_per_h, 0.875, EPS);
	ck_assert_double_eq_tol(f.intercept, 1.0, EPS);
	ck_assert_double_eq_tol(f.level, 4.5, EPS);
	ck_assert_double_eq_tol(f.start_level, 1.0, EPS);
	ck_assert_double_eq_tol(f.pct_per_h, 87.5, EPS);
	ck_assert_double_eq_tol(f.r2, 0.603125, EPS);
	ck_assert_double_eq_tol(f.mk_s, 6.0, EPS);
	ck_assert_double_eq_tol(f.mk_z, 1.224744871391589, 1e-12);
	ck_assert_double_eq_tol(f.mk_p, 0.22067136191984688, 1e-12);
	ck_assert_int_eq(f.holds, 0); /* p = 0.22 > alpha */
	p.alpha = 0.25;
	p.min_r2 = 0.6;
	ck_assert_int_eq(trend_fit_series(pts, 5, 0, 4 * HOUR, &p, &f), 0);
	ck_assert_int_eq(f.holds, 1);
	p.min_r2 = 0.61;
	ck_assert_int_eq(trend_fit_series(pts, 5, 0, 4 * HOUR, &p, &f), 0);
	ck_assert_int_eq(f.holds, 0);
}
END_TEST

START_TEST(test_trend_fit_series__mann_kendall_ties)
{
	/* 1 2 2 3 3 3: S = 5 + 3 + 3 = 11; ties a pair (2) and a triple (3):
	 * var = (6 x 5 x 17 - 2 x 1 x 9 - 3 x 2 x 11) / 18 = 426 / 18;
	 * Z = (11 - 1) / sqrt(var).  Theil-Sen: the 8th of 15 slopes, 0.4;
	 * intercept: median of {1, 1.6, 1.2, 1.8, 1.4, 1} = 1.3. */
	static const double v[] = {1, 2, 2, 3, 3, 3};
	struct trend_point pts[6];
	struct trend_params p;
	struct trend_fit f;

	tiny_params(&p, HOUR);
	fill(pts, v, 6, HOUR);
	ck_assert_int_eq(trend_fit_series(pts, 6, 0, 5 * HOUR, &p, &f), 0);
	ck_assert_double_eq_tol(f.mk_s, 11.0, EPS);
	ck_assert_double_eq_tol(f.mk_z, 10.0 / sqrt(426.0 / 18.0), 1e-12);
	ck_assert_double_eq_tol(f.mk_z, 2.055566129482595, 1e-12);
	ck_assert_double_eq_tol(f.mk_p, 0.039824355364810736, 1e-12);
	ck_assert_double_eq_tol(f.slope_per_h, 0.4, EPS);
	ck_assert_double_eq_tol(f.intercept, 1.3, EPS);
}
END_TEST

START_TEST(test_trend_fit_series__flat_and_falling)
{
	static const double flat[] = {7, 7, 7, 7, 7, 7, 7};
	static const double down[] = {9, 8, 7, 6, 5, 4, 3};
	struct trend_point pts[7];
	struct trend_params p;
	struct trend_fit f;

	tiny_params(&p, MINUTE);
	fill(pts, flat, 7, MINUTE);
	ck_assert_int_eq(trend_fit_series(pts, 7, 0, 6 * MINUTE, &p, &f), 0);
	ck_assert_int_eq(f.ok, 1);
	ck_assert_double_eq(f.slope_per_h, 0.0);
	ck_assert_double_eq(f.r2, 0.0); /* SStot 0 */
	ck_assert_double_eq(f.mk_s, 0.0);
	ck_assert_double_eq(f.mk_z, 0.0);
	ck_assert_double_eq(f.mk_p, 1.0);
	ck_assert_int_eq(f.holds, 0);
	fill(pts, down, 7, MINUTE);
	ck_assert_int_eq(trend_fit_series(pts, 7, 0, 6 * MINUTE, &p, &f), 0);
	ck_assert_double_eq_tol(f.slope_per_h, -60.0, EPS);
	ck_assert_double_eq_tol(f.r2, 1.0, EPS);
	ck_assert_double_eq(f.mk_s, -21.0);
	ck_assert(f.mk_p < 0.01);
	ck_assert_int_eq(f.holds, 0); /* falling */
}
END_TEST

START_TEST(test_trend_fit_series__trailing_minimum)
{
	/* Every other minute a 50-byte spike: the 2-minute trailing minimum
	 * reads 12 12 14 14 16 16 18 18 20 from minute 2 (the first time whose
	 * window lies after the warm-up) to 10; Theil-Sen 1 byte/min; fitted
	 * 12 + i, residuals 0 -1 0 -1 ... so R^2 = 0.9357142857; MK S = 32
	 * with four tied pairs, var = (9 x 8 x 23 - 4 x 18) / 18 = 88. */
	static const double v[] = {10, 50, 12, 50, 14, 50, 16, 50, 18, 50, 20};
	struct trend_point pts[11];
	struct trend_params p;
	struct trend_fit f;

	tiny_params(&p, MINUTE);
	p.min_window_ms = 2 * MINUTE;
	fill(pts, v, 11, MINUTE);
	ck_assert_int_eq(trend_fit_series(pts, 11, 0, 10 * MINUTE, &p, &f), 0);
	ck_assert_uint_eq(f.n, 9);
	ck_assert_int_eq(f.t0_ms, 2 * MINUTE);
	ck_assert_int_eq(f.t1_ms, 10 * MINUTE);
	ck_assert_double_eq_tol(f.start_level, 12.0, EPS);
	ck_assert_double_eq_tol(f.slope_per_h, 60.0, EPS);
	ck_assert_double_eq_tol(f.intercept, 12.0, EPS);
	ck_assert_double_eq_tol(f.r2, 0.9357142857142857, 1e-12);
	ck_assert_double_eq(f.mk_s, 32.0);
	ck_assert_double_eq_tol(f.mk_z, 31.0 / sqrt(88.0), 1e-12);
	/* Without the minimum the spikes ruin the fit. */
	p.min_window_ms = 0;
	ck_assert_int_eq(trend_fit_series(pts, 11, 0, 10 * MINUTE, &p, &f), 0);
	ck_assert_uint_eq(f.n, 11);
	ck_assert_double_eq_tol(f.start_level, 10.0, EPS);
	ck_assert(f.r2 < 0.2);
}
END_TEST

START_TEST(test_trend_fit_series__resamples_irregular_points)
{
	/* Points at 0, 25, 70, 95, 150 s on the line 2 bytes/s, resampled every
	 * 30 s back from the newest point: 150, 120, 90, 60, 30, 0 take the
	 * last value at or before them: 300, 140, 140, 50, 50, 0.  TS of those
	 * six against 0..5 x 30 s. */
	struct trend_point pts[] = {
	        {0, 0}, {25 * SEC, 50}, {70 * SEC, 140}, {95 * SEC, 190}, {150 * SEC, 300}};
	struct trend_params p;
	struct trend_fit f;

	tiny_params(&p, 30 * SEC);
	ck_assert_int_eq(trend_fit_series(pts, 5, 0, 150 * SEC, &p, &f), 0);
	ck_assert_uint_eq(f.n, 6);
	ck_assert_int_eq(f.t0_ms, 0);
	/* Resampled: 0 50 50 140 190 300 (times 0 30 60 90 120 150 s). */
	ck_assert_double_eq_tol(f.start_level, 0.0, EPS);
	ck_assert_double_eq_tol(f.level, f.intercept + f.slope_per_h * 150.0 / 3600.0, 1e-6);
	/* The 15 pairwise slopes in bytes per 30 s: 50 25 46.67 47.5 60 0 45
	 * 46.67 62.5 90 70 83.33 50 80 110; the median (8th) is 50. */
	ck_assert_double_eq_tol(f.slope_per_h, 50.0 * 120.0, 1e-6);
	ck_assert_double_eq_tol(f.pct_per_h, 0.0, EPS); /* start level 0 */
	/* Points after @now are not used. */
	ck_assert_int_eq(trend_fit_series(pts, 5, 0, 100 * SEC, &p, &f), 0);
	ck_assert_int_eq(f.t1_ms, 95 * SEC);
	ck_assert_uint_eq(f.n, 4);
}
END_TEST

START_TEST(test_trend_fit_series__warmup_and_min_span)
{
	/* Defaults, 10 s samples from the instance start at 0: the first usable
	 * point is at 15 min, the first grid time 10 min later, and one hour of
	 * grid is there at 85 min, not before. */
	struct gen g = {GEN_LINEAR, 100 * MIB, 10 * MIB, 0, 0, 0};
	struct trend_params p;
	struct trend_point *pts;
	struct trend_fit f;
	size_t n;

	trend_params_defaults(&p);
	pts = gen_series(&g, 1, 0, 2 * HOUR, &n);
	ck_assert_int_eq(trend_fit_series(pts, n, 0, 85 * MINUTE - SEC, &p, &f), 0);
	ck_assert_int_eq(f.ok, 0);
	ck_assert_double_eq(f.slope_per_h, 0.0);
	ck_assert_int_eq(trend_fit_series(pts, n, 0, 85 * MINUTE, &p, &f), 0);
	ck_assert_int_eq(f.ok, 1);
	ck_assert_uint_eq(f.n, 61);
	ck_assert_int_eq(f.t0_ms, 25 * MINUTE);
	ck_assert_int_eq(f.t1_ms, 85 * MINUTE);
	ck_assert_double_eq_tol(f.slope_per_h, 10 * MIB, 1e-3);
	/* The start level is the trailing minimum at 25 min: the first sample
	 * of (15 min, 25 min], at 15 min 10 s. */
	ck_assert_double_eq_tol(f.start_level, 100 * MIB + 10 * MIB * (15.0 + 1.0 / 6.0) / 60.0,
	                        1e-3);
	ck_assert_int_eq(f.holds, 1);
	/* The same points seen as a process that started 30 min later. */
	ck_assert_int_eq(trend_fit_series(pts, n, 30 * MINUTE, 85 * MINUTE, &p, &f), 0);
	ck_assert_int_eq(f.ok, 0);
	/* Times at the ends of the int64 range do not overflow. */
	p.warmup_ms = INT64_MAX;
	ck_assert_int_eq(trend_fit_series(pts, n, 0, 85 * MINUTE, &p, &f), 0);
	ck_assert_int_eq(f.ok, 0);
	p.warmup_ms = 15 * MINUTE;
	p.window_ms = INT64_MAX;
	ck_assert_int_eq(trend_fit_series(pts, n, 0, 85 * MINUTE, &p, &f), 0);
	ck_assert_int_eq(f.ok, 1);
	ck_assert_uint_eq(f.n, 61);
	p.window_ms = 6 * HOUR;
	/* Two points only. */
	ck_assert_int_eq(trend_fit_series(pts, 2, 0, 85 * MINUTE, &p, &f), 0);
	ck_assert_int_eq(f.ok, 0);
	ck_assert_int_eq(trend_fit_series(NULL, 0, 0, 85 * MINUTE, &p, &f), 0);
	ck_assert_int_eq(f.ok, 0);
	free(pts);
}
END_TEST

START_TEST(test_trend_fit_series__bounded_points)
{
	/* A 24 h window of 10 s samples at a 60 s step would be 1,440 points:
	 * the step widens so at most TREND_MAX_POINTS are fitted; the grid no
	 * longer falls on the samples, and the slope of a line is still right to
	 * 0.01%. */
	struct gen g = {GEN_LINEAR, 1024 * MIB, 7 * MIB, 0, 0, 0};
	struct trend_params p;
	struct trend_point *pts;
	struct trend_fit f;
	size_t n;

	trend_params_defaults(&p);
	p.window_ms = 24 * HOUR;
	pts = gen_series(&g, 1, 0, 30 * HOUR, &n);
	ck_assert_int_eq(trend_fit_series(pts, n, 0, 30 * HOUR, &p, &f), 0);
	ck_assert_int_eq(f.ok, 1);
	ck_assert_uint_le(f.n, TREND_MAX_POINTS);
	ck_assert_uint_ge(f.n, TREND_MAX_POINTS - 1);
	ck_assert_int_eq(f.t1_ms, 30 * HOUR);
	ck_assert_int_ge(f.t0_ms, 6 * HOUR);
	ck_assert_int_eq((f.t1_ms - f.t0_ms) % (int64_t)(f.n - 1), 0);
	ck_assert_double_eq_tol(f.slope_per_h, 7 * MIB, 1e-4 * 7 * MIB);
	ck_assert_double_eq_tol(f.r2, 1.0, 1e-6);
	free(pts);
}
END_TEST

START_TEST(test_trend_fit_series__invalid_input)
{
	struct trend_point pts[] = {{0, 1}, {MINUTE, 2}, {2 * MINUTE, 3}, {3 * MINUTE, 4}};
	struct trend_params p;
	struct trend_fit f;

	tiny_params(&p, MINUTE);
	memset(&f, 0x5a, sizeof(f));
	ck_assert_int_eq(trend_fit_series(pts, 4, 0, HOUR, &p, &f), 0);
	ck_assert_int_eq(f.ok, 1);
	pts[2].time_ms = MINUTE; /* duplicate time */
	memset(&f, 0x5a, sizeof(f));
	ck_assert_int_eq(trend_fit_series(pts, 4, 0, HOUR, &p, &f), MD_ERR_INVAL);
	ck_assert_int_eq(f.ok, 0);
	ck_assert_double_eq(f.slope_per_h, 0.0);
	pts[2].time_ms = 30 * SEC; /* unsorted */
	ck_assert_int_eq(trend_fit_series(pts, 4, 0, HOUR, &p, &f), MD_ERR_INVAL);
	pts[2].time_ms = 2 * MINUTE;
	pts[1].value = NAN;
	ck_assert_int_eq(trend_fit_series(pts, 4, 0, HOUR, &p, &f), MD_ERR_INVAL);
	pts[1].value = INFINITY;
	ck_assert_int_eq(trend_fit_series(pts, 4, 0, HOUR, &p, &f), MD_ERR_INVAL);
	pts[1].value = 2;
	ck_assert_int_eq(trend_fit_series(NULL, 4, 0, HOUR, &p, &f), MD_ERR_INVAL);
	ck_assert_int_eq(trend_fit_series(pts, 4, 0, HOUR, NULL, &f), MD_ERR_INVAL);
	ck_assert_int_eq(trend_fit_series(pts, 4, 0, HOUR, &p, NULL), MD_ERR_INVAL);
	p.step_ms = 0;
	ck_assert_int_eq(trend_fit_series(pts, 4, 0, HOUR, &p, &f), MD_ERR_INVAL);
	ck_assert_int_eq(f.ok, 0);
}
END_TEST

START_TEST(test_trend_fit_series__step_needs_recent_guard)
{
	/* The one-time step of the table, with the recent-growth guard off: the
	 * fit over a window holding the step says "holds" and the detector
	 * fires; with the guard (the table) it never does. */
	const struct scenario *sc = &scenarios[6];
	struct trend_params p;
	struct run r;

	ck_assert(sc->g.kind == GEN_STEP && sc->g.sigma == 10 * MIB);
	trend_params_defaults(&p);
	p.recent_frac = 0;
	run_scenario(sc, &p, &r);
	ck_assert_uint_ge(r.n_ev, 2);
	ck_assert_int_eq(r.ev[0].e, TREND_EVENT_PENDING);
	ck_assert_int_eq(r.ev[1].e, TREND_EVENT_FIRE);
	ck_assert_int_eq(r.ev[1].minute, STEP_UNGUARDED_FIRE_MIN);
	ck_assert(r.at_fire.recent_slope_per_h < 0.7 * r.at_fire.slope_per_h);
}
END_TEST

START_TEST(test_trend_params_defaults__values)
{
	struct trend_params p;

	memset(&p, 0x5a, sizeof(p));
	trend_params_defaults(&p);
	ck_assert_int_eq(p.warmup_ms, 15 * MINUTE);
	ck_assert_int_eq(p.window_ms, 6 * HOUR);
	ck_assert_int_eq(p.min_span_ms, HOUR);
	ck_assert_int_eq(p.step_ms, MINUTE);
	ck_assert_int_eq(p.min_window_ms, 10 * MINUTE);
	ck_assert_double_eq(p.alpha, 0.01);
	ck_assert_double_eq(p.min_r2, 0.7);
	ck_assert_double_eq(p.min_bytes_per_h, 512.0 * 1024.0);
	ck_assert_double_eq(p.min_pct_per_h, 0.1);
	ck_assert_uint_eq(p.fire_after, 3);
	ck_assert_uint_eq(p.resolve_after, 30);
	ck_assert_double_eq(p.resolve_ratio, 0.5);
	ck_assert_double_eq_tol(p.recent_frac, 1.0 / 3.0, 1e-12);
	ck_assert_double_eq(p.recent_ratio, 0.7);
	ck_assert_int_eq(trend_params_check(&p), 0);
}
END_TEST

START_TEST(test_trend_params_check__out_of_range)
{
	struct trend_params p;
	int i;

	for (i = 0; i < 24; i++) {
		trend_params_defaults(&p);
		switch (i) {
		case 0:
			p.warmup_ms = -1;
			break;
		case 1:
			p.window_ms = 0;
			break;
		case 2:
			p.min_span_ms = -1;
			break;
		case 3:
			p.step_ms = 0;
			break;
		case 4:
			p.min_window_ms = -1;
			break;
		case 5:
			p.min_span_ms = p.window_ms + 1;
			break;
		case 6:
			p.alpha = 0;
			break;
		case 7:
			p.alpha = 1;
			break;
		case 8:
			p.alpha = NAN;
			break;
		case 9:
			p.min_r2 = -0.01;
			break;
		case 10:
			p.min_r2 = 1.01;
			break;
		case 11:
			p.min_bytes_per_h = -1;
			break;
		case 12:
			p.min_bytes_per_h = INFINITY;
			break;
		case 13:
			p.min_pct_per_h = -0.1;
			break;
		case 14:
			p.min_pct_per_h = NAN;
			break;
		case 15:
			p.fire_after = 0;
			break;
		case 16:
			p.resolve_after = 0;
			break;
		case 17:
			p.resolve_ratio = -0.1;
			break;
		case 18:
			p.resolve_ratio = 1.1;
			break;
		case 19:
			p.recent_frac = -0.1;
			break;
		case 20:
			p.recent_frac = 1;
			break;
		case 21:
			p.recent_ratio = -1;
			break;
		case 22:
			p.recent_ratio = NAN;
			break;
		case 23:
			p.step_ms = -MINUTE;
			break;
		}
		ck_assert_msg(trend_params_check(&p) == MD_ERR_INVAL, "case %d", i);
	}
	ck_assert_int_eq(trend_params_check(NULL), MD_ERR_INVAL);
}
END_TEST

START_TEST(test_trend_params_check__edges_accepted)
{
	struct trend_params p;

	trend_params_defaults(&p);
	p.warmup_ms = 0;
	p.min_span_ms = p.window_ms;
	p.min_window_ms = 0;
	p.min_r2 = 0;
	p.min_bytes_per_h = 0;
	p.min_pct_per_h = 0;
	p.resolve_ratio = 0;
	p.recent_frac = 0;
	p.recent_ratio = 0;
	p.fire_after = 1;
	p.resolve_after = 1;
	ck_assert_int_eq(trend_params_check(&p), 0);
	p.min_r2 = 1;
	p.resolve_ratio = 1;
	p.alpha = 0.999;
	ck_assert_int_eq(trend_params_check(&p), 0);
}
END_TEST

START_TEST(test_trend_detector_init__clears)
{
	struct trend_detector d;

	memset(&d, 0x5a, sizeof(d));
	trend_detector_init(&d);
	ck_assert_int_eq(d.state, TREND_OK);
	ck_assert_uint_eq(d.holds_in_row, 0);
	ck_assert_uint_eq(d.calm_in_row, 0);
	ck_assert_int_eq(d.pending_since_ms, 0);
	ck_assert_int_eq(d.firing_since_ms, 0);
}
END_TEST

/* A hand-made fit of a 1 GiB series: ok, holding or not, with a slope. */
static struct trend_fit
fit_of(int holds, double slope_mib_h)
{
	struct trend_fit f;

	memset(&f, 0, sizeof(f));
	f.ok = 1;
	f.holds = holds;
	f.start_level = 1024 * MIB;
	f.slope_per_h = slope_mib_h * MIB;
	return f;
}

START_TEST(test_trend_detector_step__pending_then_cancel)
{
	struct trend_params p;
	struct trend_detector d;
	struct trend_fit yes = fit_of(1, 5), no = fit_of(0, 5);

	trend_params_defaults(&p);
	trend_detector_init(&d);
	ck_assert_int_eq(trend_detector_step(&d, &no, &p, 1 * MINUTE), TREND_EVENT_NONE);
	ck_assert_int_eq(trend_detector_step(&d, &yes, &p, 2 * MINUTE), TREND_EVENT_PENDING);
	ck_assert_int_eq(d.state, TREND_PENDING);
	ck_assert_int_eq(d.pending_since_ms, 2 * MINUTE);
	ck_assert_int_eq(trend_detector_step(&d, &yes, &p, 3 * MINUTE), TREND_EVENT_NONE);
	ck_assert_uint_eq(d.holds_in_row, 2);
	ck_assert_int_eq(trend_detector_step(&d, &no, &p, 4 * MINUTE), TREND_EVENT_CANCEL);
	ck_assert_int_eq(d.state, TREND_OK);
	ck_assert_uint_eq(d.holds_in_row, 0);
	/* A fit without enough data never holds, even if its flag says so. */
	yes.ok = 0;
	ck_assert_int_eq(trend_detector_step(&d, &yes, &p, 5 * MINUTE), TREND_EVENT_NONE);
	ck_assert_int_eq(d.state, TREND_OK);
}
END_TEST

START_TEST(test_trend_detector_step__fire_then_resolve_with_hysteresis)
{
	/* Floor max(512 KiB/h, 0.1% of 1 GiB = 1.024 MiB/h): calm below half of
	 * it, 0.512 MiB/h. */
	struct trend_params p;
	struct trend_detector d;
	struct trend_fit yes = fit_of(1, 5), calm = fit_of(0, 0.5), warm = fit_of(0, 0.52);
	int64_t t = 0;
	unsigned i;

	trend_params_defaults(&p);
	trend_detector_init(&d);
	ck_assert_int_eq(trend_detector_step(&d, &yes, &p, t += MINUTE), TREND_EVENT_PENDING);
	ck_assert_int_eq(trend_detector_step(&d, &yes, &p, t += MINUTE), TREND_EVENT_NONE);
	ck_assert_int_eq(trend_detector_step(&d, &yes, &p, t += MINUTE), TREND_EVENT_FIRE);
	ck_assert_int_eq(d.state, TREND_FIRING);
	ck_assert_int_eq(d.pending_since_ms, MINUTE);
	ck_assert_int_eq(d.firing_since_ms, 3 * MINUTE);
	/* 29 calm evaluations, then one just above the hysteresis: the count
	 * starts again. */
	for (i = 0; i < 29; i++)
		ck_assert_int_eq(trend_detector_step(&d, &calm, &p, t += MINUTE), TREND_EVENT_NONE);
	ck_assert_uint_eq(d.calm_in_row, 29);
	ck_assert_int_eq(trend_detector_step(&d, &warm, &p, t += MINUTE), TREND_EVENT_NONE);
	ck_assert_uint_eq(d.calm_in_row, 0);
	/* A fit without data is not calm either. */
	calm.ok = 0;
	ck_assert_int_eq(trend_detector_step(&d, &calm, &p, t += MINUTE), TREND_EVENT_NONE);
	ck_assert_uint_eq(d.calm_in_row, 0);
	calm.ok = 1;
	for (i = 0; i < 29; i++)
		ck_assert_int_eq(trend_detector_step(&d, &calm, &p, t += MINUTE), TREND_EVENT_NONE);
	ck_assert_int_eq(trend_detector_step(&d, &calm, &p, t += MINUTE), TREND_EVENT_RESOLVE);
	ck_assert_int_eq(d.state, TREND_RESOLVED);
	/* Resolved acts like OK: it can go pending and fire again. */
	ck_assert_int_eq(trend_detector_step(&d, &calm, &p, t += MINUTE), TREND_EVENT_NONE);
	ck_assert_int_eq(trend_detector_step(&d, &yes, &p, t += MINUTE), TREND_EVENT_PENDING);
	ck_assert_int_eq(trend_detector_step(&d, &yes, &p, t += MINUTE), TREND_EVENT_NONE);
	ck_assert_int_eq(trend_detector_step(&d, &yes, &p, t += MINUTE), TREND_EVENT_FIRE);
}
END_TEST

START_TEST(test_trend_detector_step__no_flapping_near_threshold)
{
	/* After firing, a slope that wavers around the firing floor (holding one
	 * evaluation, not the next) stays one alert: no resolve, no new fire. */
	struct trend_params p;
	struct trend_detector d;
	struct trend_fit yes = fit_of(1, 1.1), no = fit_of(0, 0.9);
	int64_t t = 0;
	int i, events = 0;

	trend_params_defaults(&p);
	trend_detector_init(&d);
	for (i = 0; i < 3; i++)
		trend_detector_step(&d, &yes, &p, t += MINUTE);
	ck_assert_int_eq(d.state, TREND_FIRING);
	for (i = 0; i < 600; i++)
		events += trend_detector_step(&d, (i % 2) ? &yes : &no, &p, t += MINUTE) !=
		          TREND_EVENT_NONE;
	ck_assert_int_eq(events, 0);
	ck_assert_int_eq(d.state, TREND_FIRING);
	/* Before firing, the same wavering never gets past pending. */
	trend_detector_init(&d);
	for (i = 0; i < 600; i++) {
		enum trend_event e = trend_detector_step(&d, (i % 2) ? &no : &yes, &p, t += MINUTE);

		ck_assert(e != TREND_EVENT_FIRE);
	}
}
END_TEST

START_TEST(test_trend_detector_step__fire_after_one)
{
	struct trend_params p;
	struct trend_detector d;
	struct trend_fit yes = fit_of(1, 5);

	trend_params_defaults(&p);
	p.fire_after = 1;
	trend_detector_init(&d);
	ck_assert_int_eq(trend_detector_step(&d, &yes, &p, MINUTE), TREND_EVENT_FIRE);
	ck_assert_int_eq(d.state, TREND_FIRING);
	ck_assert_int_eq(d.pending_since_ms, MINUTE);
	ck_assert_int_eq(d.firing_since_ms, MINUTE);
}
END_TEST

START_TEST(test_trend_detector_step__restart_new_instance)
{
	/* Instance 1 starts at 0 and leaks 50 MiB/h until it exits at 4 h;
	 * instance 2 starts at 4 h, holds 300 MiB flat for 3 h, then leaks
	 * 30 MiB/h.  The caller restarts the detector at 4 h: warm-up applies
	 * again, nothing fires until the new instance leaks. */
	struct gen g1 = {GEN_LINEAR, 1024 * MIB, 50 * MIB, 2 * MIB, 0, 0};
	struct gen g2 = {GEN_LATE_LEAK, 300 * MIB, 30 * MIB, 2 * MIB, 0, 3};
	struct trend_params p;
	struct trend_detector d;
	struct trend_point *a, *b;
	size_t na, nb;
	struct run r;
	static const struct evt want[] = {PENDING(85), FIRE(87), PENDING(RESTART_PENDING_MIN),
	                                  FIRE(RESTART_PENDING_MIN + 2)};

	memset(&r, 0, sizeof(r));
	trend_params_defaults(&p);
	a = gen_series(&g1, 21, 0, 4 * HOUR - SAMPLE, &na);
	b = gen_series(&g2, 22, 4 * HOUR, 16 * HOUR, &nb);
	trend_detector_init(&d);
	run_instance(a, na, 0, EVAL, 4 * HOUR - MINUTE, 0, &p, &d, &r);
	ck_assert_int_eq(d.state, TREND_FIRING);
	trend_detector_init(&d);
	run_instance(b, nb, 4 * HOUR, 4 * HOUR, 16 * HOUR, 0, &p, &d, &r);
	if (getenv("TREND_PRINT") == NULL)
		assert_events("restart", &r, want, 4);
	ck_assert_int_gt(RESTART_PENDING_MIN, 7 * 60);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_trend_detector_step__two_processes_of_one_target)
{
	/* Two instances of one target live side by side, each with its series
	 * and detector: only the leaking one fires. */
	struct gen leak = {GEN_LINEAR, 1024 * MIB, 10 * MIB, 2 * MIB, 0, 0};
	struct gen flat = {GEN_LINEAR, 1024 * MIB, 0, 2 * MIB, 0, 0};
	struct trend_params p;
	struct trend_detector da, db;
	struct trend_point *a, *b;
	size_t na, nb;
	struct run ra, rb;
	static const struct evt want[] = {PENDING(TWO_PENDING_MIN), FIRE(TWO_PENDING_MIN + 2)};

	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	trend_params_defaults(&p);
	/* The second process starts 20 min after the first. */
	a = gen_series(&leak, 31, 0, 12 * HOUR, &na);
	b = gen_series(&flat, 32, 20 * MINUTE, 12 * HOUR, &nb);
	trend_detector_init(&da);
	trend_detector_init(&db);
	run_instance(a, na, 0, EVAL, 12 * HOUR, 0, &p, &da, &ra);
	run_instance(b, nb, 20 * MINUTE, 20 * MINUTE + EVAL, 12 * HOUR, 0, &p, &db, &rb);
	if (getenv("TREND_PRINT") == NULL) {
		assert_events("two processes, leaking", &ra, want, 2);
		assert_events("two processes, flat", &rb, NULL, 0);
	}
	ck_assert_double_eq_tol(ra.last.slope_per_h, 10 * MIB, 0.02 * 10 * MIB);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_trend_detector_step__reservation_growth_flat_commit)
{
	/* A process reserves 4 GiB over 12 h (address space grows steadily)
	 * while its committed private bytes stay at 300 MiB: the detector
	 * watches the committed series and says nothing; the same detector on
	 * the address-space series would fire, which is why it is not watched. */
	struct gen commit = {GEN_LINEAR, 300 * MIB, 0, 1 * MIB, 0, 0};
	struct gen space = {GEN_LINEAR, 600 * MIB, 4096 * MIB / 12, 1 * MIB, 0, 0};
	struct trend_params p;
	struct trend_detector d;
	struct trend_point *c, *s;
	size_t nc, ns;
	struct run rc, rs;

	memset(&rc, 0, sizeof(rc));
	memset(&rs, 0, sizeof(rs));
	trend_params_defaults(&p);
	c = gen_series(&commit, 41, 0, 12 * HOUR, &nc);
	s = gen_series(&space, 41, 0, 12 * HOUR, &ns);
	trend_detector_init(&d);
	run_instance(c, nc, 0, EVAL, 12 * HOUR, 0, &p, &d, &rc);
	trend_detector_init(&d);
	run_instance(s, ns, 0, EVAL, 12 * HOUR, 0, &p, &d, &rs);
	assert_events("committed, reservation growing", &rc, NULL, 0);
	ck_assert_uint_eq(rs.n_ev, 2);
	ck_assert_int_eq(rs.ev[1].e, TREND_EVENT_FIRE);
	free(c);
	free(s);
}
END_TEST

START_TEST(test_trend_detector_step__noise_many_seeds)
{
	/* White noise around a flat level, 24 h, ten seeds, two noise shapes:
	 * no event at all. */
	struct scenario sc = {
	        "noise", {GEN_LINEAR, 1024 * MIB, 0, 10 * MIB, 0, 0}, 0, 24, {{0}}, 0, 0, 0};
	struct trend_params p;
	struct run r;
	uint64_t seed;

	trend_params_defaults(&p);
	for (seed = 100; seed < 110; seed++) {
		sc.seed = seed;
		sc.g.kind = (seed % 2) ? GEN_UNIFORM : GEN_LINEAR;
		sc.g.sigma = (seed % 2) ? 30 * MIB : 10 * MIB;
		run_scenario(&sc, &p, &r);
		ck_assert_msg(r.n_ev == 0, "seed %" PRIu64 ": %zu events", seed, r.n_ev);
	}
}
END_TEST

START_TEST(test_trend_threshold_step__levels)
{
	struct trend_threshold t;

	trend_threshold_init(&t, 100, 50);
	ck_assert_uint_eq(t.first, 100);
	ck_assert_uint_eq(t.every, 50);
	ck_assert_uint_eq(t.next, 100);
	ck_assert_int_eq(trend_threshold_step(&t, 99), 0);
	ck_assert_int_eq(trend_threshold_step(&t, 100), 1);
	ck_assert_uint_eq(t.next, 150);
	ck_assert_int_eq(trend_threshold_step(&t, 149), 0);
	ck_assert_int_eq(trend_threshold_step(&t, 120), 0);
	/* A jump past several levels fires once and lands above the value. */
	ck_assert_int_eq(trend_threshold_step(&t, 260), 1);
	ck_assert_uint_eq(t.next, 300);
	ck_assert_int_eq(trend_threshold_step(&t, 299), 0);
	ck_assert_int_eq(trend_threshold_step(&t, 300), 1);
	ck_assert_uint_eq(t.next, 350);
}
END_TEST

START_TEST(test_trend_threshold_step__once_and_overflow)
{
	struct trend_threshold t;

	trend_threshold_init(&t, 1000, 0);
	ck_assert_int_eq(trend_threshold_step(&t, 5000), 1);
	ck_assert_uint_eq(t.next, UINT64_MAX);
	ck_assert_int_eq(trend_threshold_step(&t, 10000), 0);
	ck_assert_int_eq(trend_threshold_step(&t, UINT64_MAX), 0);
	trend_threshold_init(&t, UINT64_MAX - 10, 100);
	ck_assert_int_eq(trend_threshold_step(&t, UINT64_MAX - 5), 1);
	ck_assert_uint_eq(t.next, UINT64_MAX);
	ck_assert_int_eq(trend_threshold_step(&t, UINT64_MAX), 0);
	trend_threshold_init(&t, 0, 10);
	ck_assert_int_eq(trend_threshold_step(&t, 0), 1);
	ck_assert_uint_eq(t.next, 10);
}
END_TEST

START_TEST(test_trend_map_count_near__edges)
{
	/* 90% of 65530 is 58977. */
	ck_assert_int_eq(trend_map_count_near(58977, 65530, 0.9), 1);
	ck_assert_int_eq(trend_map_count_near(58976, 65530, 0.9), 0);
	ck_assert_int_eq(trend_map_count_near(70000, 65530, 1.0), 1);
	ck_assert_int_eq(trend_map_count_near(100, 0, 0.9), 0);
	ck_assert_int_eq(trend_map_count_near(100, 65530, 0.0), 0);
	ck_assert_int_eq(trend_map_count_near(100, 65530, NAN), 0);
}
END_TEST

START_TEST(test_trend_attribute__shares)
{
	/* Heap grows 30 MiB/h, private data 10 MiB/h, stacks are flat, a mapped
	 * file shrinks: heap 75%, private 25%. */
	static double heap[8 * 360 + 1], priv[8 * 360 + 1], stack[8 * 360 + 1], mapped[8 * 360 + 1];
	static int64_t times[8 * 360 + 1];
	const double *series[REGION_TYPE_COUNT] = {0};
	struct trend_attribution a;
	struct trend_params p;
	uint64_t rng = 7;
	size_t i, n = 8 * 360 + 1;
	int t;

	for (i = 0; i < n; i++) {
		double h = (double)i / 360.0;

		times[i] = (int64_t)i * SAMPLE;
		heap[i] = 200 * MIB + 30 * MIB * h + MIB * rng_gauss(&rng);
		priv[i] = 100 * MIB + 10 * MIB * h + MIB * rng_gauss(&rng);
		stack[i] = 8 * MIB;
		mapped[i] = 50 * MIB - 2 * MIB * h;
	}
	series[REGION_HEAP] = heap;
	series[REGION_PRIVATE] = priv;
	series[REGION_STACK] = stack;
	series[REGION_MAPPED] = mapped;
	trend_params_defaults(&p);
	ck_assert_int_eq(trend_attribute(times, series, n, 0, 8 * HOUR, &p, &a), 0);
	ck_assert_double_eq_tol(a.slope_per_h[REGION_HEAP], 30 * MIB, 0.02 * 30 * MIB);
	ck_assert_double_eq_tol(a.slope_per_h[REGION_PRIVATE], 10 * MIB, 0.02 * 10 * MIB);
	ck_assert_double_eq(a.slope_per_h[REGION_STACK], 0.0);
	ck_assert_double_eq_tol(a.slope_per_h[REGION_MAPPED], -2 * MIB, 1e-3);
	ck_assert_double_eq_tol(a.share[REGION_HEAP], 0.75, 0.01);
	ck_assert_double_eq_tol(a.share[REGION_PRIVATE], 0.25, 0.01);
	ck_assert_double_eq_tol(a.share[REGION_HEAP] + a.share[REGION_PRIVATE], 1.0, 1e-12);
	for (t = 0; t < REGION_TYPE_COUNT; t++)
		if (t != REGION_HEAP && t != REGION_PRIVATE)
			ck_assert_double_eq(a.share[t], 0.0);
	/* Nothing grows: every share is 0. */
	series[REGION_HEAP] = NULL;
	series[REGION_PRIVATE] = NULL;
	ck_assert_int_eq(trend_attribute(times, series, n, 0, 8 * HOUR, &p, &a), 0);
	for (t = 0; t < REGION_TYPE_COUNT; t++)
		ck_assert_double_eq(a.share[t], 0.0);
	/* Too early to fit: all zero. */
	ck_assert_int_eq(trend_attribute(times, series, n, 0, 30 * MINUTE, &p, &a), 0);
	ck_assert_double_eq(a.slope_per_h[REGION_MAPPED], 0.0);
}
END_TEST

START_TEST(test_trend_attribute__invalid)
{
	int64_t times[3] = {0, SAMPLE, SAMPLE};
	double v[3] = {1, 2, 3};
	const double *series[REGION_TYPE_COUNT] = {0};
	struct trend_attribution a;
	struct trend_params p;

	series[REGION_HEAP] = v;
	trend_params_defaults(&p);
	memset(&a, 0x5a, sizeof(a));
	ck_assert_int_eq(trend_attribute(times, series, 3, 0, HOUR, &p, &a), MD_ERR_INVAL);
	ck_assert_double_eq(a.share[REGION_HEAP], 0.0);
	ck_assert_double_eq(a.slope_per_h[REGION_HEAP], 0.0);
	times[2] = 2 * SAMPLE;
	ck_assert_int_eq(trend_attribute(times, series, 3, 0, HOUR, &p, &a), 0);
	ck_assert_int_eq(trend_attribute(NULL, series, 3, 0, HOUR, &p, &a), MD_ERR_INVAL);
	ck_assert_int_eq(trend_attribute(times, NULL, 3, 0, HOUR, &p, &a), MD_ERR_INVAL);
	ck_assert_int_eq(trend_attribute(times, series, 3, 0, HOUR, NULL, &a), MD_ERR_INVAL);
	ck_assert_int_eq(trend_attribute(times, series, 3, 0, HOUR, &p, NULL), MD_ERR_INVAL);
	v[1] = NAN;
	ck_assert_int_eq(trend_attribute(times, series, 3, 0, HOUR, &p, &a), MD_ERR_INVAL);
}
END_TEST

static Suite *
trend_suite(void)
{
	Suite *s = suite_create("trend");
	TCase *tc;

	tc = tcase_create("trend_params_defaults");
	tcase_add_test(tc, test_trend_params_defaults__values);
	suite_add_tcase(s, tc);

	tc = tcase_create("trend_params_check");
	tcase_add_test(tc, test_trend_params_check__out_of_range);
	tcase_add_test(tc, test_trend_params_check__edges_accepted);
	suite_add_tcase(s, tc);

	tc = tcase_create("trend_fit_series");
	tcase_add_test(tc, test_trend_fit_series__theil_sen_five_points);
	tcase_add_test(tc, test_trend_fit_series__mann_kendall_ties);
	tcase_add_test(tc, test_trend_fit_series__flat_and_falling);
	tcase_add_test(tc, test_trend_fit_series__trailing_minimum);
	tcase_add_test(tc, test_trend_fit_series__resamples_irregular_points);
	tcase_add_test(tc, test_trend_fit_series__warmup_and_min_span);
	tcase_add_test(tc, test_trend_fit_series__bounded_points);
	tcase_add_test(tc, test_trend_fit_series__invalid_input);
	tcase_add_test(tc, test_trend_fit_series__step_needs_recent_guard);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("trend_detector_init");
	tcase_add_test(tc, test_trend_detector_init__clears);
	suite_add_tcase(s, tc);

	tc = tcase_create("trend_detector_step");
	tcase_add_test(tc, test_trend_detector_step__pending_then_cancel);
	tcase_add_test(tc, test_trend_detector_step__fire_then_resolve_with_hysteresis);
	tcase_add_test(tc, test_trend_detector_step__no_flapping_near_threshold);
	tcase_add_test(tc, test_trend_detector_step__fire_after_one);
	tcase_add_test(tc, test_trend_detector_step__scenario_table);
	tcase_add_test(tc, test_trend_detector_step__restart_new_instance);
	tcase_add_test(tc, test_trend_detector_step__two_processes_of_one_target);
	tcase_add_test(tc, test_trend_detector_step__reservation_growth_flat_commit);
	tcase_add_test(tc, test_trend_detector_step__noise_many_seeds);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);

	tc = tcase_create("trend_threshold_step");
	tcase_add_test(tc, test_trend_threshold_step__levels);
	tcase_add_test(tc, test_trend_threshold_step__once_and_overflow);
	suite_add_tcase(s, tc);

	tc = tcase_create("trend_map_count_near");
	tcase_add_test(tc, test_trend_map_count_near__edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("trend_attribute");
	tcase_add_test(tc, test_trend_attribute__shares);
	tcase_add_test(tc, test_trend_attribute__invalid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(trend_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
