/*
 * trend_replay.c - replay recorded memory series through three leak rules and
 * compare their detection delay and false alarms.
 *
 * Every bench/series/NAME.csv (written by bench/series/generate.py; format in
 * bench/series/README.md) is one target's committed private bytes every 10 s
 * for 24 h, split into process instances, with the intervals in which memory
 * leaks.  Each instance is replayed, from its start, through
 *   (a) memdelta's detector (diff/trend.h) with the default parameters,
 *       evaluated every 60 s; an alert is a FIRE event;
 *   (b) a plain deriv rule, as Prometheus `deriv(x[1h]) > 10 MiB/h` or
 *       Coroot's 10 MB/h: the least-squares slope of the raw samples of the
 *       last hour, evaluated every 60 s; an alert is each time the condition
 *       becomes true;
 *   (c) a fixed threshold, ProcDump / DebugDiag style: alert once per
 *       instance when a sample reaches 1.2 x the series' normal peak level
 *       (the `normal_kib` of the file), checked at every sample.
 * An alert inside a leak interval detects that leak (the delay is from the
 * leak's start to the first alert); an alert outside every leak interval is
 * a false alarm.  The output is a markdown table (copied into
 * docs/performance.md) plus the mean cost of one memdelta evaluation.
 * Usage: bench/trend_replay [SERIES_DIR] (default: $MD_SRCDIR/bench/series,
 * else bench/series).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diff/trend.h"
#include "snapshot/mderr.h"

#define MIB        1048576.0
#define EVAL_MS    INT64_C(60000)
#define DERIV_MS   INT64_C(3600000)
#define DERIV_RATE (10 * MIB) /* bytes per hour */
#define THRESH_X   1.2
#define MAX_LEAKS  8
#define MAX_ALERTS 4096
#define MAX_FILES  64

enum rule { RULE_MEMDELTA, RULE_DERIV, RULE_THRESHOLD, RULE_COUNT };

struct series {
	char name[128];
	int64_t leak_start[MAX_LEAKS], leak_end[MAX_LEAKS]; /* ms */
	size_t n_leaks;
	double normal; /* bytes */
	struct trend_point *pts;
	int64_t *inst; /* instance start per point, ms */
	size_t n;
};

struct alerts {
	int64_t t[MAX_ALERTS];
	size_t n;
};

static double fit_seconds;
static size_t fit_count;

static void
alert_add(struct alerts *a, int64_t t)
{
	if (a->n < MAX_ALERTS)
		a->t[a->n++] = t;
}

static void
series_free(struct series *s)
{
	free(s->pts);
	free(s->inst);
	memset(s, 0, sizeof(*s));
}

/* Parse "# leaks: A-B C-D" (seconds) or "none". */
static int
parse_leaks(struct series *s, const char *p)
{
	while (*p == ' ')
		p++;
	if (strncmp(p, "none", 4) == 0)
		return 0;
	while (*p != '\0' && *p != '\n') {
		char *end;
		long long a, b;

		errno = 0;
		a = strtoll(p, &end, 10);
		if (end == p || *end != '-' || errno != 0)
			return MD_ERR_PARSE;
		p = end + 1;
		b = strtoll(p, &end, 10);
		if (end == p || errno != 0 || b <= a || s->n_leaks >= MAX_LEAKS)
			return MD_ERR_PARSE;
		s->leak_start[s->n_leaks] = a * 1000;
		s->leak_end[s->n_leaks] = b * 1000;
		s->n_leaks++;
		p = end;
		while (*p == ' ')
			p++;
	}
	return 0;
}

/* Read one series file; MD_ERR_IO, MD_ERR_PARSE, MD_ERR_NOMEM or 0. */
static int
series_read(const char *path, struct series *s)
{
	FILE *f = NULL;
	char line[512];
	size_t cap = 0;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	f = fopen(path, "r");
	if (f == NULL)
		return MD_ERR_IO;
	while (fgets(line, sizeof(line), f) != NULL) {
		long long t, inst, kib;

		if (line[0] == '#') {
			if (strncmp(line, "# memdelta trend replay series: ", 32) == 0) {
				int w;

				line[strcspn(line, "\n")] = '\0';
				w = snprintf(s->name, sizeof(s->name), "%s", line + 32);
				if (w < 0 || (size_t)w >= sizeof(s->name))
					rc = MD_ERR_PARSE;
			} else if (strncmp(line, "# leaks:", 8) == 0) {
				rc = parse_leaks(s, line + 8);
			} else if (strncmp(line, "# normal_kib:", 13) == 0) {
				s->normal = strtod(line + 13, NULL) * 1024.0;
			}
			if (rc != 0)
				goto out;
			continue;
		}
		if (sscanf(line, "%lld,%lld,%lld", &t, &inst, &kib) != 3) {
			rc = MD_ERR_PARSE;
			goto out;
		}
		if (s->n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			struct trend_point *np = realloc(s->pts, ncap * sizeof(*np));
			int64_t *ni;

			if (np == NULL) {
				rc = MD_ERR_NOMEM;
				goto out;
			}
			s->pts = np;
			ni = realloc(s->inst, ncap * sizeof(*ni));
			if (ni == NULL) {
				rc = MD_ERR_NOMEM;
				goto out;
			}
			s->inst = ni;
			cap = ncap;
		}
		s->pts[s->n].time_ms = t * 1000;
		s->pts[s->n].value = (double)kib * 1024.0;
		s->inst[s->n] = inst * 1000;
		s->n++;
	}
	if (ferror(f))
		rc = MD_ERR_IO;
	else if (s->n == 0 || s->normal <= 0 || s->name[0] == '\0')
		rc = MD_ERR_PARSE;
out:
	fclose(f);
	if (rc != 0)
		series_free(s);
	return rc;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Least-squares slope (bytes/h) of @pts[a..b). */
static double
ls_slope(const struct trend_point *pts, size_t a, size_t b)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0;
	size_t i, m = b - a;

	if (m < 2)
		return 0;
	for (i = a; i < b; i++) {
		mx += (double)(pts[i].time_ms - pts[a].time_ms) / 3.6e6;
		my += pts[i].value;
	}
	mx /= (double)m;
	my /= (double)m;
	for (i = a; i < b; i++) {
		double x = (double)(pts[i].time_ms - pts[a].time_ms) / 3.6e6 - mx;

		sxy += x * (pts[i].value - my);
		sxx += x * x;
	}
	return sxx > 0 ? sxy / sxx : 0;
}

/* Replay the instance @pts[0..n), started at @start, through the three rules. */
static int
replay_instance(const struct series *s, const struct trend_point *pts, size_t n, int64_t start,
                struct alerts out[RULE_COUNT])
{
	struct trend_params p;
	struct trend_detector d;
	struct trend_threshold th;
	int64_t now, end = pts[n - 1].time_ms;
	size_t avail = 0, lo = 0, i;
	int deriv_on = 0, rc;

	trend_params_defaults(&p);
	trend_detector_init(&d);
	trend_threshold_init(&th, (uint64_t)(THRESH_X * s->normal), 0);
	for (i = 0; i < n; i++)
		if (trend_threshold_step(&th, (uint64_t)pts[i].value))
			alert_add(&out[RULE_THRESHOLD], pts[i].time_ms);
	for (now = start + EVAL_MS; now <= end; now += EVAL_MS) {
		struct trend_fit f;
		double t0, slope;

		while (avail < n && pts[avail].time_ms <= now)
			avail++;
		t0 = now_seconds();
		rc = trend_fit_series(pts, avail, start, now, &p, &f);
		fit_seconds += now_seconds() - t0;
		fit_count++;
		if (rc != 0)
			return rc;
		if (trend_detector_step(&d, &f, &p, now) == TREND_EVENT_FIRE)
			alert_add(&out[RULE_MEMDELTA], now);
		while (lo < avail && pts[lo].time_ms <= now - DERIV_MS)
			lo++;
		slope = ls_slope(pts, lo, avail);
		if (slope > DERIV_RATE && !deriv_on)
			alert_add(&out[RULE_DERIV], now);
		deriv_on = slope > DERIV_RATE;
	}
	return 0;
}

static void
fmt_delay(char *buf, size_t len, int64_t ms)
{
	int64_t min = ms / 60000;

	snprintf(buf, len, "%" PRId64 " h %02" PRId64, min / 60, min % 60);
}

/* One table cell.  A series that leaks: per leak the delay of its first
 * alert ("missed" when none), then all alerts and the false ones among them.
 * A series that does not leak: the number of (false) alerts. */
static void
cell(const struct series *s, const struct alerts *a, char *buf, size_t len)
{
	size_t i, j, used = 0, fa = 0;
	int w;

	buf[0] = '\0';
	for (i = 0; i < s->n_leaks; i++) {
		char d[32] = "missed";

		for (j = 0; j < a->n; j++)
			if (a->t[j] >= s->leak_start[i] && a->t[j] <= s->leak_end[i]) {
				fmt_delay(d, sizeof(d), a->t[j] - s->leak_start[i]);
				break;
			}
		w = snprintf(buf + used, len - used, "%s%s", i ? " / " : "", d);
		if (w < 0 || (size_t)w >= len - used)
			return;
		used += (size_t)w;
	}
	for (j = 0; j < a->n; j++) {
		int inside = 0;

		for (i = 0; i < s->n_leaks; i++)
			inside |= a->t[j] >= s->leak_start[i] && a->t[j] <= s->leak_end[i];
		fa += !inside;
	}
	if (s->n_leaks == 0)
		snprintf(buf + used, len - used, "%zu", fa);
	else
		snprintf(buf + used, len - used, "; %zu alert%s, %zu false", a->n,
		         a->n == 1 ? "" : "s", fa);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NULL;
	char path[4096], *names[MAX_FILES];
	size_t n_names = 0, i;
	struct dirent *de;
	DIR *dp;
	int rc = 0;

	if (dir == NULL) {
		const char *src = getenv("MD_SRCDIR");

		if (src != NULL && src[0] != '\0') {
			int w = snprintf(path, sizeof(path), "%s/bench/series", src);

			if (w < 0 || (size_t)w >= sizeof(path)) {
				fprintf(stderr, "trend_replay: MD_SRCDIR too long\n");
				return 1;
			}
			dir = path;
		} else {
			dir = "bench/series";
		}
	}
	dp = opendir(dir);
	if (dp == NULL) {
		fprintf(stderr, "trend_replay: cannot open %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(dp)) != NULL && n_names < MAX_FILES) {
		size_t l = strlen(de->d_name);

		if (l > 4 && strcmp(de->d_name + l - 4, ".csv") == 0)
			names[n_names++] = strdup(de->d_name);
	}
	closedir(dp);
	qsort(names, n_names, sizeof(names[0]), cmp_str);
	printf("| series | leaks from (h) | memdelta (defaults) | deriv 1 h > 10 MiB/h | "
	       "threshold 1.2 x normal |\n|---|---|---|---|---|\n");
	for (i = 0; i < n_names; i++) {
		char file[4096], cells[RULE_COUNT][160], leaks[64] = "no leak";
		struct alerts *al = calloc(RULE_COUNT, sizeof(*al));
		struct series s;
		size_t a, b, k;
		int r;

		if (names[i] == NULL || al == NULL) {
			fprintf(stderr, "trend_replay: out of memory\n");
			return 1;
		}
		r = snprintf(file, sizeof(file), "%s/%s", dir, names[i]);
		r = (r < 0 || (size_t)r >= sizeof(file)) ? MD_ERR_INVAL : series_read(file, &s);
		if (r != 0) {
			fprintf(stderr, "trend_replay: %s: %s\n", file, md_strerror(r));
			rc = 1;
			free(al);
			continue;
		}
		for (a = 0; a < s.n; a = b) {
			for (b = a + 1; b < s.n && s.inst[b] == s.inst[a]; b++)
				;
			r = replay_instance(&s, s.pts + a, b - a, s.inst[a], al);
			if (r != 0) {
				fprintf(stderr, "trend_replay: %s: %s\n", file, md_strerror(r));
				rc = 1;
			}
		}
		if (s.n_leaks > 0) {
			size_t used = 0;

			for (k = 0; k < s.n_leaks && used < sizeof(leaks); k++) {
				int w = snprintf(leaks + used, sizeof(leaks) - used, "%s%g",
				                 k ? ", " : "", (double)s.leak_start[k] / 3.6e6);

				if (w < 0)
					break;
				used += (size_t)w;
			}
		}
		for (k = 0; k < RULE_COUNT; k++)
			cell(&s, &al[k], cells[k], sizeof(cells[k]));
		printf("| %s | %s | %s | %s | %s |\n", s.name, leaks, cells[RULE_MEMDELTA],
		       cells[RULE_DERIV], cells[RULE_THRESHOLD]);
		series_free(&s);
		free(al);
		free(names[i]);
	}
	if (fit_count > 0)
		printf("\nmemdelta evaluations: %zu, mean %.0f us each\n", fit_count,
		       fit_seconds / (double)fit_count * 1e6);
	return rc;
}
