/*
 * regions_target: a benchmark target that holds a chosen number of memory regions (VMAs).
 * It maps one anonymous area and flips the protection of every other block between
 * PROT_READ and PROT_READ|PROT_WRITE with mprotect(), so that no two neighbouring VMAs can
 * merge (MADV_DONTFORK keeps the ends of the area from merging with a neighbour), and
 * writes to every writable block so its Rss is not zero. The libraries, stack and heap of
 * the process itself already hold some regions, so the area is sized from a count of
 * /proc/self/maps and corrected until the total is the requested one (or as close as the
 * kernel allows). It then prints "ready PID REGIONS" (REGIONS being the number of lines it
 * counts in its own /proc/self/maps) and waits until stdin reaches end of file or a signal
 * ends it.
 *
 * Usage: regions_target REGIONS [PAGES_PER_REGION]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The largest count accepted: keep below the default vm.max_map_count (65530). */
#define TARGET_MAX_REGIONS 65000

/* Number of lines in /proc/self/maps, i.e. of VMAs; -1 on error. */
static long
count_own_regions(void)
{
	char buf[65536];
	long lines = -1;
	ssize_t n;
	int fd;

	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	lines = 0;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			lines = -1;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	}
out:
	if (fd >= 0)
		close(fd);
	return lines;
}

/*
 * Map `blocks` blocks of `block_bytes` and split them into one VMA per block. Returns the
 * base address or MAP_FAILED (errno set).
 */
static void *
make_area(long blocks, size_t block_bytes)
{
	size_t len = (size_t)blocks * block_bytes;
	unsigned char *base;

	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return MAP_FAILED;
	/*
	 * A VmFlag that no neighbour has (VM_DONTCOPY, "dc") keeps the end blocks from merging
	 * with an adjacent anonymous VMA of the same protection; it does not change how the
	 * blocks are charged or classified. Best effort: the count is checked afterwards.
	 */
	(void)madvise(base, len, MADV_DONTFORK);
	for (long i = 0; i < blocks; i++) {
		unsigned char *block = base + (size_t)i * block_bytes;

		if (i % 2 == 0) {
			/* Writable block: touch every page so it is resident. */
			for (size_t off = 0; off < block_bytes; off += 4096)
				block[off] = (unsigned char)(i + 1);
			continue;
		}
		if (mprotect(block, block_bytes, PROT_READ) != 0) {
			int saved = errno;

			munmap(base, len);
			errno = saved;
			return MAP_FAILED;
		}
	}
	return base;
}

int
main(int argc, char **argv)
{
	long want, pages = 1, baseline, have, blocks;
	size_t page_bytes, block_bytes;
	void *area = MAP_FAILED;
	char *end;
	char line[128];
	int len, status = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s REGIONS [PAGES_PER_REGION]\n", argv[0]);
		goto out;
	}
	errno = 0;
	want = strtol(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || want < 1 || want > TARGET_MAX_REGIONS) {
		fprintf(stderr, "%s: REGIONS must be 1..%d\n", argv[0], TARGET_MAX_REGIONS);
		goto out;
	}
	if (argc == 3) {
		errno = 0;
		pages = strtol(argv[2], &end, 10);
		if (errno != 0 || *end != '\0' || pages < 1 || pages > 4096) {
			fprintf(stderr, "%s: PAGES_PER_REGION must be 1..4096\n", argv[0]);
			goto out;
		}
	}
	page_bytes = (size_t)sysconf(_SC_PAGESIZE);
	block_bytes = page_bytes * (size_t)pages;

	baseline = count_own_regions();
	if (baseline < 0) {
		perror("/proc/self/maps");
		goto out;
	}
	/*
	 * The new area may merge with a neighbouring anonymous VMA at either end, and the
	 * kernel may place it between two existing ones: measure, then correct the block
	 * count a few times until the total is exact.
	 */
	blocks = want - baseline;
	have = baseline;
	for (int attempt = 0; blocks > 0; attempt++) {
		area = make_area(blocks, block_bytes);
		if (area == MAP_FAILED) {
			perror("mmap/mprotect");
			goto out;
		}
		have = count_own_regions();
		if (have < 0) {
			perror("/proc/self/maps");
			goto out;
		}
		if (have == want || attempt == 7)
			break;
		munmap(area, (size_t)blocks * block_bytes);
		area = MAP_FAILED;
		blocks += want - have;
	}
	if (have != want)
		fprintf(stderr, "%s: asked for %ld regions, holding %ld\n", argv[0], want, have);

	len = snprintf(line, sizeof(line), "ready %ld %ld\n", (long)getpid(), have);
	if (len < 0 || (size_t)len >= sizeof(line) ||
	    write(STDOUT_FILENO, line, (size_t)len) != len)
		goto out;

	/* Hold the regions until stdin is closed (or a signal ends the process). */
	for (;;) {
		ssize_t n = read(STDIN_FILENO, line, sizeof(line));

		if (n == 0)
			break;
		if (n < 0 && errno != EINTR)
			break;
	}
	status = 0;
out:
	return status;
}
