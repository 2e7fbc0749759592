/*
 * probe_cost.c - what snapshot_probe() (snapshot/linux_probe.c), the cheap
 * probe memdeltad takes every tick, costs on a process, to set beside the
 * smaps floor (bench/smaps_floor.c).  It probes PID ITERATIONS times in one
 * process and prints the wall time per probe (median and minimum) and the
 * CPU time per probe (user + system of this process, mean), so that the
 * figure holds on a loaded machine too.
 *
 * Usage: probe_cost PID [ITERATIONS [totals|map]]
 *   ITERATIONS defaults to 100; "totals" (the default) probes the totals
 *   only, as memdeltad does on most ticks; "map" also hashes the region
 *   structure, as it does every map_check_every ticks.
 * Output: probe pid=P what=W iterations=N regions=R map_bytes=B ns_median=M
 *         ns_min=M cpu_ns_mean=C   (regions and map_bytes are 0 for totals)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snapshot/snapshot.h"

#define MAX_ITER 100000

static long long
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	struct snapshot_probe p;
	long long *ns, cpu0, cpu;
	long pid, iter = 100;
	char *end;
	unsigned what = 0;
	int rc = 0;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: %s PID [ITERATIONS [totals|map]]\n", argv[0]);
		return 2;
	}
	pid = strtol(argv[1], &end, 10);
	if (*end != '\0' || pid <= 0) {
		fprintf(stderr, "%s: bad PID '%s'\n", argv[0], argv[1]);
		return 2;
	}
	if (argc == 4) {
		if (strcmp(argv[3], "map") == 0) {
			what = SNAPSHOT_PROBE_MAP;
		} else if (strcmp(argv[3], "totals") != 0) {
			fprintf(stderr, "%s: the third argument is totals or map\n", argv[0]);
			return 2;
		}
	}
	if (argc >= 3) {
		iter = strtol(argv[2], &end, 10);
		if (*end != '\0' || iter < 1 || iter > MAX_ITER) {
			fprintf(stderr, "%s: ITERATIONS must be 1..%d\n", argv[0], MAX_ITER);
			return 2;
		}
	}
	ns = calloc((size_t)iter, sizeof(*ns));
	if (ns == NULL) {
		fprintf(stderr, "%s: out of memory\n", argv[0]);
		return 1;
	}
	cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; rc == 0 && i < iter; i++) {
		long long t = clock_ns(CLOCK_MONOTONIC);

		rc = snapshot_probe((int)pid, NULL, what, &p);
		ns[i] = clock_ns(CLOCK_MONOTONIC) - t;
	}
	cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	if (rc != 0) {
		fprintf(stderr, "%s: probe of %ld: %s\n", argv[0], pid, md_strerror(rc));
		free(ns);
		return 1;
	}
	qsort(ns, (size_t)iter, sizeof(*ns), cmp_ll);
	printf("probe pid=%ld what=%s iterations=%ld regions=%llu map_bytes=%llu ns_median=%lld "
	       "ns_min=%lld cpu_ns_mean=%lld\n",
	       pid, what ? "map" : "totals", iter, (unsigned long long)p.regions,
	       (unsigned long long)p.map_bytes, ns[iter / 2], ns[0], cpu / iter);
	free(ns);
	return 0;
}
