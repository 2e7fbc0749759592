/*
 * churner.c - a short-lived target for the fault tests and the soak
 * (tests/test_target_faults.sh, bench/soak.sh): it holds REGIONS one-page
 * mappings whose protections alternate (so no two neighbours merge and
 * /proc/PID/smaps is long enough that a read of it takes many read()
 * calls), then maps, touches and unmaps one more area in a loop until a
 * random moment within LIFETIME_MS, when it calls _exit(0) wherever it is.
 * A monitor reading it is thus interrupted at any point of its read.
 *
 * Usage: churner LIFETIME_MS [REGIONS [PAUSE_US]]
 * The lifetime is drawn uniformly in [LIFETIME_MS / 10, LIFETIME_MS];
 * REGIONS defaults to 200; PAUSE_US (default 0: none) is slept between two
 * turns of the loop, so that many churners do not hog the CPU.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long life_ms, regions = 200, pause_us = 0;
	uint64_t rng, deadline;
	char *area;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: churner LIFETIME_MS [REGIONS [PAUSE_US]]\n");
		return 2;
	}
	life_ms = strtoul(argv[1], NULL, 10);
	if (argc >= 3)
		regions = strtoul(argv[2], NULL, 10);
	if (argc >= 4)
		pause_us = strtoul(argv[3], NULL, 10);
	if (page <= 0 || life_ms == 0 || regions > 60000) {
		fprintf(stderr, "churner: bad arguments\n");
		return 2;
	}
	rng = mono_ns() ^ ((uint64_t)getpid() << 32);
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	life_ms = life_ms / 10 + (unsigned long)((rng >> 33) % (life_ms - life_ms / 10 + 1));
	deadline = mono_ns() + (uint64_t)life_ms * 1000000ull;

	if (regions > 0) {
		area = mmap(NULL, regions * (size_t)page, PROT_READ | PROT_WRITE,
		            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (area == MAP_FAILED) {
			perror("churner: mmap");
			return 1;
		}
		for (unsigned long i = 0; i < regions; i++) {
			area[i * (size_t)page] = 1;
			if (i % 2 == 1)
				mprotect(area + i * (size_t)page, (size_t)page, PROT_READ);
		}
	}
	/* Map and unmap until the deadline: the region list changes under the
	 * reader, and the exit comes at no particular point. */
	while (mono_ns() < deadline) {
		size_t len = (size_t)page * (1 + (size_t)((rng >> 40) % 16));
		char *p;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			for (size_t off = 0; off < len; off += (size_t)page)
				p[off] = 1;
			munmap(p, len);
		}
		if (pause_us > 0)
			usleep((useconds_t)pause_us);
	}
	_exit(0);
}
