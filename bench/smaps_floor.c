/*
 * smaps_floor: the floor for collecting a process's regions on Linux, i.e. what the kernel
 * charges to produce /proc/PID/smaps plus the least parsing that still looks at every
 * record. Each iteration opens /proc/PID/smaps, read()s it through one 64 KiB buffer until
 * end of file, and walks it line by line (memchr): a line whose first byte is a lower-case
 * hex digit is a region header (the kernel prints addresses in lower case, and every field
 * name starts with an upper-case letter), and the value of each "Rss:" line is parsed and
 * summed. The counts are printed, so the compiler cannot drop the work. It repeats this
 * ITERATIONS times in one process and prints the time per iteration; run it with
 * ITERATIONS = 1, one process per read, to compare it with a command-line tool that pays
 * for its own process start.
 *
 * Usage: smaps_floor PID [ITERATIONS]
 * Output: floor pid=P iterations=N records=R rss_kb=K bytes=B ns_median=M ns_min=M ns_mean=M
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FLOOR_BUF_BYTES 65536
#define FLOOR_MAX_ITER  1000000

/* What one pass over smaps found. */
struct floor_count {
	unsigned long records;
	unsigned long long rss_kb;
	unsigned long long bytes;
};

/* Look at one complete line (without its newline). */
static inline void
floor_line(const char *p, size_t len, struct floor_count *count)
{
	unsigned long long v = 0;
	size_t i;
	char c;

	if (len == 0)
		return;
	c = p[0];
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
		count->records++;
		return;
	}
	if (c != 'R' || len < 4 || p[1] != 's' || p[2] != 's' || p[3] != ':')
		return;
	for (i = 4; i < len && p[i] == ' '; i++)
		;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++)
		v = v * 10 + (unsigned long long)(p[i] - '0');
	count->rss_kb += v;
}

/* One pass: open, read to end of file, parse, close. Returns 0 or -1 (errno set). */
static int
floor_pass(const char *path, char *buf, struct floor_count *count)
{
	size_t have = 0;
	ssize_t n;
	int fd, rc = -1;

	memset(count, 0, sizeof(*count));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	for (;;) {
		const char *p, *end, *nl;

		n = read(fd, buf + have, FLOOR_BUF_BYTES - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		count->bytes += (unsigned long long)n;
		p = buf;
		end = buf + have + (size_t)n;
		while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			floor_line(p, (size_t)(nl - p), count);
			p = nl + 1;
		}
		/* Carry the incomplete last line to the front; drop a line longer than buf. */
		have = (size_t)(end - p);
		if (have == FLOOR_BUF_BYTES)
			have = 0;
		else if (have > 0)
			memmove(buf, p, have);
	}
	if (have > 0)
		floor_line(buf, have, count);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static long long
elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
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
	struct floor_count count = {0, 0, 0};
	struct timespec t0, t1;
	long long *ns = NULL, sum = 0;
	char path[64], *buf = NULL, *end;
	long pid, iterations = 1;
	int len, status = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s PID [ITERATIONS]\n", argv[0]);
		goto out;
	}
	errno = 0;
	pid = strtol(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || pid < 1) {
		fprintf(stderr, "%s: bad PID '%s'\n", argv[0], argv[1]);
		goto out;
	}
	if (argc == 3) {
		errno = 0;
		iterations = strtol(argv[2], &end, 10);
		if (errno != 0 || *end != '\0' || iterations < 1 || iterations > FLOOR_MAX_ITER) {
			fprintf(stderr, "%s: ITERATIONS must be 1..%d\n", argv[0], FLOOR_MAX_ITER);
			goto out;
		}
	}
	len = snprintf(path, sizeof(path), "/proc/%ld/smaps", pid);
	if (len < 0 || (size_t)len >= sizeof(path))
		goto out;
	buf = malloc(FLOOR_BUF_BYTES);
	ns = calloc((size_t)iterations, sizeof(*ns));
	if (buf == NULL || ns == NULL) {
		fprintf(stderr, "%s: out of memory\n", argv[0]);
		goto out;
	}
	for (long i = 0; i < iterations; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (floor_pass(path, buf, &count) != 0) {
			fprintf(stderr, "%s: %s: %s\n", argv[0], path, strerror(errno));
			goto out;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns[i] = elapsed_ns(&t0, &t1);
		sum += ns[i];
	}
	qsort(ns, (size_t)iterations, sizeof(*ns), cmp_ll);
	printf("floor pid=%ld iterations=%ld records=%lu rss_kb=%llu bytes=%llu ns_median=%lld "
	       "ns_min=%lld ns_mean=%lld\n",
	       pid, iterations, count.records, count.rss_kb, count.bytes, ns[iterations / 2], ns[0],
	       sum / iterations);
	status = 0;
out:
	free(ns);
	free(buf);
	return status;
}
