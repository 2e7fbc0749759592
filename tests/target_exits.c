/*
 * target_exits.c - snapshot_collect() against targets that exit mid-read
 * (docs/reliability.md, "Faults: targets").
 *
 * Forks N short-lived children (default 10,000; $MD_EXITS_CHILDREN) that
 * map, touch and unmap memory in a loop and _exit() at a random moment
 * drawn around the measured cost of one collection, and collects each one
 * while it dies.  Every call must end in one of:
 *   0              a complete snapshot: not truncated, its highest region
 *                  is the top of the address space every child inherits
 *                  (the last record of smaps: a read cut short loses it),
 *                  and its region count is within 2 of what a complete read
 *                  gives: the parent's own region count at the fork plus
 *                  the difference measured on a child that does not exit
 *                  (the parent's layout moves as it runs, under ASan most);
 *   MD_ERR_NOPROC  the process exited (or exited during the read);
 *   MD_ERR_ZOMBIE  it had exited before the read began (not yet reaped);
 * never another status, never a crash.  Both a complete snapshot and an
 * exit must be seen, or the race was not exercised.  The counts are
 * printed.  A time cap ($MD_EXITS_MAX_S, default 80 s) ends the loop early
 * on a slow machine; at least 1,000 children must have been done.
 *
 * Exit status: 0 pass, 1 fail, 77 skip (no /proc/self/smaps).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "snapshot/snapshot.h"

#define MIN_CHILDREN 1000

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

/* The child: tell the parent it runs, then map and unmap until @life_ns
 * has passed, and _exit() wherever the loop is. */
static void __attribute__((noreturn)) child(int wfd, uint64_t life_ns)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t end = mono_ns() + life_ns;
	unsigned i = 0;

	(void)!write(wfd, "r", 1);
	while (life_ns == UINT64_MAX || mono_ns() < end) {
		size_t len = (size_t)page * (1 + i++ % 8);
		char *p =
		        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED) {
			p[0] = 1;
			p[len - 1] = 1;
			munmap(p, len);
		}
	}
	_exit(0);
}

/* Fork a child that lives @life_ns (UINT64_MAX: until killed) and return
 * once it runs; -1 on error. */
static pid_t
spawn(uint64_t life_ns)
{
	int fds[2];
	char c;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], life_ns);
	}
	close(fds[1]);
	if (pid > 0 && read(fds[0], &c, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(fds[0]);
	return pid;
}

/* Number of regions (lines) of /proc/self/maps; 0 on error. */
static uint64_t
own_regions(void)
{
	char buf[65536];
	uint64_t lines = 0;
	ssize_t got;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < got; i++)
			lines += buf[i] == '\n';
	close(fd);
	return lines;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static unsigned long
env_ulong(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? strtoul(v, NULL, 10) : def;
}

int
main(void)
{
	unsigned long n = env_ulong("MD_EXITS_CHILDREN", 10000);
	unsigned long max_s = env_ulong("MD_EXITS_MAX_S", 80);
	unsigned long done = 0, n_ok = 0, n_noproc = 0, n_zombie = 0, n_other = 0, n_bad = 0;
	uint64_t costs[21], top_base = 0, ref_regions = 0, cost_ns, t_start, t_end;
	int64_t offset;
	struct snapshot *s = NULL;
	int rc;
	pid_t pid;

	if (access("/proc/self/smaps", R_OK) != 0) {
		printf("SKIP: no /proc/self/smaps\n");
		return 77;
	}
	rng_state ^= mono_ns() ^ ((uint64_t)getpid() << 20);

	/* The reference: a child that lives until killed, read in full. */
	offset = -(int64_t)own_regions();
	pid = spawn(UINT64_MAX);
	if (pid < 0) {
		printf("FAIL: cannot fork: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < 21; i++) {
		uint64_t t0 = mono_ns();

		rc = snapshot_collect(pid, NULL, &s);
		costs[i] = mono_ns() - t0;
		if (rc != 0 || s->n_regions == 0) {
			printf("FAIL: reference read: %s\n", md_strerror(rc));
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return 1;
		}
		top_base = s->regions[s->n_regions - 1].base;
		ref_regions = s->n_regions;
		snapshot_free(s);
		s = NULL;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	offset += (int64_t)ref_regions;
	qsort(costs, 21, sizeof(costs[0]), cmp_u64);
	cost_ns = costs[10];
	printf("reference child: %" PRIu64 " regions, top region at 0x%" PRIx64
	       ", one read %" PRIu64 " us (median of 21); %+" PRId64 " regions from the parent's\n",
	       ref_regions, top_base, cost_ns / 1000, offset);

	t_start = mono_ns();
	for (done = 0; done < n; done++) {
		/* Lifetimes spread over twice the cost of a read: about half the
		 * children exit before or during it, the rest after it. */
		uint64_t life = rnd() % (2 * cost_ns + 1);

		if (mono_ns() - t_start > (uint64_t)max_s * 1000000000ull) {
			printf("time cap of %lu s reached\n", max_s);
			break;
		}
		ref_regions = (uint64_t)((int64_t)own_regions() + offset);
		pid = spawn(life);
		if (pid < 0) {
			printf("FAIL: cannot fork: %s\n", strerror(errno));
			return 1;
		}
		s = (struct snapshot *)&s; /* must be cleared by the call */
		rc = snapshot_collect(pid, NULL, &s);
		switch (rc) {
		case 0: {
			uint64_t nr = s->n_regions;
			uint64_t top = nr > 0 ? s->regions[nr - 1].base : 0;

			n_ok++;
			if (nr == 0 || top != top_base || nr + 2 < ref_regions ||
			    nr > ref_regions + 2 || (s->flags & SNAPSHOT_TRUNCATED)) {
				if (n_bad++ < 10)
					printf("FAIL: child %d: partial snapshot: %" PRIu64
					       " regions (complete: %" PRIu64 "), top 0x%" PRIx64
					       " (complete: 0x%" PRIx64 "), flags 0x%x\n",
					       (int)pid, nr, ref_regions, top, top_base, s->flags);
			}
			snapshot_free(s);
			break;
		}
		case MD_ERR_NOPROC:
		case MD_ERR_ZOMBIE:
			if (s != NULL) {
				printf("FAIL: child %d: %s with a snapshot\n", (int)pid,
				       md_strerror(rc));
				n_bad++;
			}
			if (rc == MD_ERR_NOPROC)
				n_noproc++;
			else
				n_zombie++;
			break;
		default:
			if (n_other++ < 10)
				printf("FAIL: child %d: %s\n", (int)pid, md_strerror(rc));
			break;
		}
		s = NULL;
		if (waitpid(pid, NULL, 0) != pid) {
			printf("FAIL: waitpid(%d): %s\n", (int)pid, strerror(errno));
			return 1;
		}
	}
	t_end = mono_ns();
	printf("%lu children in %.1f s: %lu complete snapshots, %lu exited (%lu NOPROC, %lu "
	       "ZOMBIE), %lu partial, %lu other errors\n",
	       done, (double)(t_end - t_start) / 1e9, n_ok, n_noproc + n_zombie, n_noproc, n_zombie,
	       n_bad, n_other);
	if (n_bad > 0 || n_other > 0)
		return 1;
	if (done < MIN_CHILDREN && done < n) {
		printf("FAIL: only %lu children within %lu s\n", done, max_s);
		return 1;
	}
	if (n_ok == 0 || n_noproc + n_zombie == 0) {
		printf("FAIL: the race was not exercised (no %s)\n",
		       n_ok == 0 ? "complete snapshot" : "exit");
		return 1;
	}
	printf("ok\n");
	return 0;
}
