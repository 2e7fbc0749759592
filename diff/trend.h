/*
 * trend.h - leak detection on one series of one process instance
 * (ARCHITECTURE.md, "Leak detection").  Pure: no I/O, no clock, no logging;
 * every time is passed in by the caller.
 *
 * The method, in order:
 *   1. drop the points earlier than instance start + warm-up, and later
 *      than now;
 *   2. keep the points of the trend window (the last window_ms before now);
 *   3. resample to a fixed step (the last value at or before each step) on a
 *      grid that ends at the newest point and starts no earlier than
 *      min_window_ms after the first point past the warm-up;
 *   4. replace each resampled point by the minimum over the trailing
 *      min_window_ms (raw points in (t - min_window_ms, t], reaching back
 *      before the window but never into the warm-up), so allocate-and-free
 *      sawtooth (garbage collectors, caches that are trimmed) reads as its
 *      floor, not as growth;
 *   5. fit a Theil-Sen slope (median of pairwise slopes), test it with
 *      Mann-Kendall (S, its variance with tie correction, Z, two-sided p) and
 *      measure R^2 of the Theil-Sen line;
 *   6. the evaluation "holds" when the slope is positive, p <= alpha,
 *      R^2 >= min_r2, slope >= min_bytes_per_h and slope as a percentage of
 *      the window's starting level >= min_pct_per_h;
 *   7. and the recent part still grows (the guard against a one-time step
 *      and a saturating warm-up): the Theil-Sen slope of the last
 *      recent_frac of the resampled points is >= recent_ratio x the slope.
 * At most TREND_MAX_POINTS resampled points are fitted: when the window
 * holds more steps, the step is widened (so the O(n^2) fit stays bounded).
 * A detector (struct trend_detector) turns evaluations into a state: pending
 * on the first evaluation that holds, firing after fire_after evaluations in
 * a row, resolved after resolve_after evaluations in a row whose slope is
 * below resolve_ratio x the growth floor, max(min_bytes_per_h, min_pct_per_h
 * x start level) (hysteresis).  The caller restarts the detector at every new
 * instance (a process restart).
 *
 * The plain rules operators know are here too: a threshold rule (fire at N
 * bytes, again every further M bytes) and a map-count rule (fire when the
 * region count reaches a fraction of vm.max_map_count).
 */
#ifndef MEMDELTA_TREND_H
#define MEMDELTA_TREND_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapshot.h"

/* The most resampled points one fit uses (see step 3). */
#define TREND_MAX_POINTS 512

/* Parameters; every one is configurable globally and per target
 * (docs/configuration.md).  The defaults suit a production server sampled
 * every 10 s. */
struct trend_params {
	int64_t warmup_ms;      /* ignore this long after the instance starts (default 15 min) */
	int64_t window_ms;      /* trend window: fit the last this long (default 6 h) */
	int64_t min_span_ms;    /* fit only when the usable data spans this long (default 1 h) */
	int64_t step_ms;        /* resampling step (default 60 s) */
	int64_t min_window_ms;  /* trailing-minimum window (default 10 min; 0: off) */
	double alpha;           /* Mann-Kendall two-sided significance (default 0.01) */
	double min_r2;          /* R^2 of the Theil-Sen line (default 0.7) */
	double min_bytes_per_h; /* default 512 KiB/h */
	double min_pct_per_h;   /* default 0.1 %/h of the window's starting level */
	unsigned fire_after;    /* evaluations in a row that hold before firing (default 3) */
	unsigned resolve_after; /* evaluations in a row under the hysteresis (default 30) */
	double resolve_ratio;   /* hysteresis: resolve below ratio x the growth floor (0.5) */
	double recent_frac;     /* step 7: the last this fraction of the points (default 1/3; 0: off) */
	double recent_ratio;    /* step 7: recent slope >= ratio x the slope (default 0.7) */
};

/* Fill @p with the defaults above. */
void trend_params_defaults(struct trend_params *p);

/* MD_ERR_INVAL when a parameter is out of range (negative times, step 0,
 * alpha outside (0, 1), min_r2 outside [0, 1], fire_after or resolve_after
 * 0, resolve_ratio outside [0, 1], recent_frac outside [0, 1), recent_ratio
 * negative, a negative or non-finite growth floor); 0 otherwise. */
int trend_params_check(const struct trend_params *p);

struct trend_point {
	int64_t time_ms;
	double value; /* bytes */
};

/* The result of one fit. */
struct trend_fit {
	int ok;                /* 1 when there was enough data to fit (else the rest is 0) */
	size_t n;              /* resampled points used */
	int64_t t0_ms, t1_ms;  /* first and last resampled time */
	double slope_per_h;    /* Theil-Sen slope, bytes per hour */
	double intercept;      /* fitted value at t0_ms */
	double level;          /* fitted value at t1_ms */
	double start_level;    /* the (minimum-filtered) value at t0_ms */
	double pct_per_h;      /* slope_per_h / start_level x 100 (0 when start_level is 0) */
	double r2;             /* of the Theil-Sen line on the resampled points (can be < 0) */
	double mk_s, mk_z, mk_p; /* Mann-Kendall statistic, normal score, two-sided p-value */
	double recent_slope_per_h; /* Theil-Sen slope of the last recent_frac of the points
	                              (at least 3; 0 when recent_frac is 0) */
	int holds;             /* every firing condition holds (steps 6 and 7 above) */
};

/* Fit the points @pts[0..n) of one instance (sorted by time, strictly
 * increasing, finite values) as of @now_ms, the instance having started at
 * @instance_start_ms.  Returns 0 and *out (out->ok 0 when the resampled grid
 * spans less than min_span_ms or has fewer than 3 points), MD_ERR_INVAL for
 * unsorted or non-finite input or bad parameters (*out cleared), MD_ERR_NOMEM.
 * Cost: O(n^2) in the resampled points (at most TREND_MAX_POINTS). */
int trend_fit_series(const struct trend_point *pts, size_t n, int64_t instance_start_ms,
                     int64_t now_ms, const struct trend_params *p, struct trend_fit *out);

enum trend_state {
	TREND_OK = 0,   /* nothing to say */
	TREND_PENDING,  /* holds, not yet fire_after times in a row */
	TREND_FIRING,   /* an alert */
	TREND_RESOLVED, /* was firing, then resolve_after calm evaluations; acts like OK */
};

enum trend_event {
	TREND_EVENT_NONE = 0,
	TREND_EVENT_PENDING,  /* OK/RESOLVED -> PENDING */
	TREND_EVENT_FIRE,     /* PENDING -> FIRING */
	TREND_EVENT_RESOLVE,  /* FIRING -> RESOLVED */
	TREND_EVENT_CANCEL,   /* PENDING -> OK (it stopped holding before firing) */
};

struct trend_detector {
	enum trend_state state;
	unsigned holds_in_row; /* consecutive evaluations that held */
	unsigned calm_in_row;  /* consecutive evaluations under the hysteresis, while firing */
	int64_t pending_since_ms;
	int64_t firing_since_ms;
};

/* Start (or restart, at a new instance) a detector. */
void trend_detector_init(struct trend_detector *d);

/* Feed one evaluation made at @now_ms.  A fit that is not ok counts as not
 * holding (and as calm while firing only when the data is really gone, i.e.
 * never: firing stays firing until resolve_after fits show a calm slope).
 * With fire_after 1 the first evaluation that holds returns FIRE (no
 * PENDING event; pending_since_ms is still set).  Returns the event this
 * evaluation caused. */
enum trend_event trend_detector_step(struct trend_detector *d, const struct trend_fit *f,
                                     const struct trend_params *p, int64_t now_ms);

/* The threshold rule (DebugDiag / ProcDump style): fire when the value
 * first reaches @first bytes, then again at first + every, first + 2 x
 * every, ... (every 0: once).  The state is the next level that fires. */
struct trend_threshold {
	uint64_t first, every;
	uint64_t next; /* next level that fires (UINT64_MAX: no more) */
};
void trend_threshold_init(struct trend_threshold *t, uint64_t first, uint64_t every);
/* Returns 1 when @value reached the next level (and moves it past @value), else 0. */
int trend_threshold_step(struct trend_threshold *t, uint64_t value);

/* The map-count rule: 1 when @regions >= @fraction x @max_map_count
 * (vm.max_map_count, 65530 by default on Linux); 0 when max_map_count is 0
 * or fraction is not positive (the rule is off). */
int trend_map_count_near(uint64_t regions, uint64_t max_map_count, double fraction);

/* Attribution: which region types account for the growth.  @series[t] are
 * the committed bytes of type t over the same times as the alerting series
 * (one array per type, @n points each, times in @times_ms).  Each type's
 * Theil-Sen slope is fitted with the same parameters (warm-up, window,
 * resampling, minima); share[t] = slope[t] / the sum of the positive slopes
 * (0 for a type whose slope is not positive; all 0 when nothing grows or
 * there is too little data to fit).  A NULL series[t] reads as all zero.
 * Fills slope_per_h[] and share[] for every type; returns 0, MD_ERR_INVAL
 * (unsorted times, a non-finite value, bad parameters), MD_ERR_NOMEM. */
struct trend_attribution {
	double slope_per_h[REGION_TYPE_COUNT];
	double share[REGION_TYPE_COUNT];
};
int trend_attribute(const int64_t *times_ms, const double *const series[REGION_TYPE_COUNT],
                    size_t n, int64_t instance_start_ms, int64_t now_ms,
                    const struct trend_params *p, struct trend_attribution *out);

#endif
