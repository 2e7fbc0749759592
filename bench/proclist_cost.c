/*
 * proclist_cost.c - what one rescan of the process list costs memdeltad
 * (daemon/proclist_linux.c): a fresh proc_list_read(), which reads stat,
 * status, cmdline, the exe link and opens smaps of every process, set
 * beside a read given the previous list, which reads stat alone for the
 * processes it already knows.  Both are timed alternately in one process,
 * CPU time (user + system) per read, mean over ITERATIONS reads each.
 *
 * Usage: proclist_cost [ITERATIONS]   (default 200)
 * Output: proclist processes=N iterations=I fresh_cpu_us=F reuse_cpu_us=R ratio=F/R
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "daemon/targets.h"

static long long
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
	long long fresh = 0, reuse = 0;
	struct proc_list prev, l;
	size_t n = 0;

	if (iterations < 1 || iterations > 100000) {
		fprintf(stderr, "usage: proclist_cost [ITERATIONS 1..100000]\n");
		return 2;
	}
	if (proc_list_read(NULL, NULL, &prev) != 0) {
		fprintf(stderr, "proclist_cost: cannot read /proc\n");
		return 1;
	}
	for (long i = 0; i < iterations; i++) {
		long long t0 = cpu_ns();

		if (proc_list_read(NULL, NULL, &l) != 0)
			return 1;
		fresh += cpu_ns() - t0;
		n = l.n;
		proc_list_free(&l);
		t0 = cpu_ns();
		if (proc_list_read(NULL, &prev, &l) != 0)
			return 1;
		reuse += cpu_ns() - t0;
		proc_list_free(&prev);
		prev = l;
	}
	proc_list_free(&prev);
	printf("proclist processes=%zu iterations=%ld fresh_cpu_us=%.1f reuse_cpu_us=%.1f "
	       "ratio=%.2f\n",
	       n, iterations, fresh / 1e3 / (double)iterations, reuse / 1e3 / (double)iterations,
	       reuse > 0 ? (double)fresh / (double)reuse : 0.0);
	return 0;
}
