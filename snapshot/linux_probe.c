/*
 * linux_probe.c - the cheap probe of a Linux process (snapshot.h,
 * snapshot_probe): the memory totals of /proc/PID/status, which the kernel
 * keeps as counters (size, locked, data, stack, text, libraries, page
 * tables, swap, resident anonymous, file-backed and shared, threads), and,
 * when asked, a 64-bit hash of /proc/PID/maps, which lists every region with
 * its range, protection, offset, device, inode and path but, unlike smaps,
 * makes the kernel walk no page table.  Pages faulted in, reclaimed or
 * swapped, and any region added, removed or resized, change the totals; a
 * region renamed, reprotected or moved changes the hash.  The totals cost
 * about 10 us a process, the hash about 0.2 us a region (500 us for 2,000
 * regions: docs/performance.md), which is why the daemon hashes the map
 * only every map_check_every ticks.  PID/stat is read last, so a process
 * that exited or whose pid was reused during the probe is seen.  Everything
 * is read through fixed buffers on the stack: a probe allocates nothing, so
 * probing a process never changes the prober's own map.  (PROCMAP_QUERY,
 * Linux 6.11+, returns the same ranges in binary, one ioctl per region: 2.5
 * times the CPU of reading the maps text on the machine of
 * docs/performance.md, so it is not used.)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot/linux_smaps.h"
#include "snapshot/snapshot.h"

#define PROBE_CHUNK (32u * 1024u)
#define HASH_SEED   0x6a09e667f3bcc908ull
#define HASH_MUL    0x9fb21c651e98df25ull

/* A streaming 64-bit hash over a byte sequence, independent of how the
 * sequence is cut into reads: bytes are gathered into 8-byte words. */
struct hasher {
	uint64_t h;
	uint64_t word;
	unsigned have; /* bytes in word */
	uint64_t len;
};

static void
hash_mix(struct hasher *x, uint64_t w)
{
	uint64_t h = (x->h ^ w) * HASH_MUL;

	x->h = h ^ (h >> 29);
}

static void
hash_feed(struct hasher *x, const unsigned char *p, size_t n)
{
	x->len += n;
	while (n > 0 && x->have > 0) {
		x->word |= (uint64_t)*p++ << (8 * x->have);
		n--;
		if (++x->have == 8) {
			hash_mix(x, x->word);
			x->word = 0;
			x->have = 0;
		}
	}
	for (; n >= 8; n -= 8, p += 8) {
		uint64_t w = 0;

		for (unsigned i = 0; i < 8; i++)
			w |= (uint64_t)p[i] << (8 * i);
		hash_mix(x, w);
	}
	while (n > 0) {
		x->word |= (uint64_t)*p++ << (8 * x->have++);
		n--;
	}
}

static uint64_t
hash_end(struct hasher *x)
{
	hash_mix(x, x->word ^ ((uint64_t)x->have << 56));
	hash_mix(x, x->len);
	return x->h;
}

static int
open_proc(const char *root, int pid, const char *rel, int *fd)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%d/%s", root, pid, rel);

	*fd = -1;
	if (n < 0 || (size_t)n >= sizeof(path))
		return MD_ERR_INVAL;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	return *fd < 0 ? md_status_of_errno(errno) : 0;
}

/* read(2), again when a signal interrupted it. */
static ssize_t
read_retry(int fd, char *buf, size_t size)
{
	ssize_t got;

	do
		got = read(fd, buf, size);
	while (got < 0 && errno == EINTR);
	return got;
}

/* Read all of @fd through @buf, hashing it and counting its lines. */
static int
hash_file(int fd, char *buf, size_t size, struct snapshot_probe *out)
{
	struct hasher x = {HASH_SEED, 0, 0, 0};
	uint64_t lines = 0;
	ssize_t got;

	while ((got = read_retry(fd, buf, size)) > 0) {
		hash_feed(&x, (const unsigned char *)buf, (size_t)got);
		for (const char *p = buf, *end = buf + got;
		     (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
			lines++;
	}
	if (got < 0)
		return md_status_of_errno(errno);
	out->map_bytes = x.len;
	out->map_hash = hash_end(&x);
	out->regions = lines;
	return 0;
}

/* Read a small file whole into @buf (NUL-terminated); returns its length or
 * a negative status. */
static long
read_small(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t got;

	while (n < size - 1) {
		got = read_retry(fd, buf + n, size - 1 - n);
		if (got < 0)
			return md_status_of_errno(errno);
		if (got == 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	return (long)n;
}

/* The /proc/PID/status lines the probe keeps, in snapshot_probe.totals
 * order; "Threads:" goes to .threads. */
static const char *const status_keys[] = {
        "VmSize:", "VmLck:", "VmPin:",  "VmData:",  "VmStk:",   "VmExe:",
        "VmLib:",  "VmPTE:", "VmSwap:", "RssAnon:", "RssFile:", "RssShmem:"};
#define N_STATUS_KEYS (sizeof(status_keys) / sizeof(status_keys[0]))
#define VM_SEEN       ((1u << 0) | (1u << 3) | (1u << 9))

/* The value after a status key: blanks, digits, optionally " kB". */
static int
status_value(const char *p, const char *eol, uint64_t *v)
{
	const char *rest;

	if (linux_status_number(p, eol, v, &rest) != 0)
		return MD_ERR_PARSE;
	if (rest != eol && !(eol - rest == 3 && memcmp(rest, " kB", 3) == 0))
		return MD_ERR_PARSE;
	return 0;
}

/* One line of /proc/PID/status, NUL-terminated: a total the probe keeps
 * goes into *out; other lines are skipped; a kept line with a malformed
 * value is MD_ERR_PARSE. */
static int
status_line(const char *p, struct snapshot_probe *out, unsigned *seen)
{
	const char *eol = p + strlen(p);

	if (p[0] == 'T' && strncmp(p, "Threads:", 8) == 0)
		return status_value(p + 8, eol, &out->threads);
	if (p[0] != 'V' && p[0] != 'R')
		return 0;
	for (size_t k = 0; k < N_STATUS_KEYS; k++) {
		size_t n = strlen(status_keys[k]);

		if ((size_t)(eol - p) >= n && memcmp(p, status_keys[k], n) == 0) {
			*seen |= 1u << k;
			return status_value(p + n, eol, &out->totals[k]);
		}
	}
	return 0;
}

/* Read /proc/PID/status from @fd through @buf and parse it line by line, so
 * that a line longer than the buffer (a Groups line of 65,536 groups comes
 * before the Vm lines) costs nothing but its reading.  A process without an
 * address space (a kernel thread, a zombie, one that exited during the
 * read) has no Vm lines: *have_vm is then 0 and the caller decides from
 * PID/stat. */
static int
read_status(int fd, char *buf, size_t size, struct snapshot_probe *out, int *have_vm)
{
	char line[128];
	size_t len = 0;
	unsigned seen = 0;
	int skipping = 0, rc = 0;
	ssize_t got;

	*have_vm = 0;
	while (rc == 0 && (got = read_retry(fd, buf, size)) > 0) {
		for (ssize_t i = 0; i < got && rc == 0; i++) {
			if (buf[i] == '\n') {
				line[len] = '\0';
				if (!skipping)
					rc = status_line(line, out, &seen);
				len = 0;
				skipping = 0;
			} else if (!skipping && len + 1 < sizeof(line)) {
				line[len++] = buf[i];
			} else {
				skipping = 1; /* longer than any line the probe keeps */
			}
		}
	}
	if (rc != 0)
		return rc;
	if (got < 0)
		return md_status_of_errno(errno);
	if (len > 0 && !skipping) {
		line[len] = '\0';
		rc = status_line(line, out, &seen);
	}
	/* VmSize, VmData and RssAnon (status_keys 0, 3 and 9) are in every
	 * kernel since 4.5. */
	*have_vm = (seen & VM_SEEN) == VM_SEEN;
	return rc;
}

int
snapshot_probe(int pid, const struct snapshot_opts *opts, unsigned what, struct snapshot_probe *out)
{
	const char *root = opts != NULL && opts->proc_root != NULL ? opts->proc_root : "/proc";
	struct snapshot_probe p;
	struct linux_stat st;
	char buf[PROBE_CHUNK];
	long len;
	int fd = -1, rc, have_vm = 0;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	if (pid <= 0)
		return MD_ERR_NOPROC;
	if (what & SNAPSHOT_PROBE_MAP) {
		rc = open_proc(root, pid, "maps", &fd);
		if (rc == 0)
			rc = hash_file(fd, buf, sizeof(buf), &p);
		if (fd >= 0)
			close(fd);
		if (rc != 0)
			goto out;
		p.has_map = 1;
	}
	rc = open_proc(root, pid, "status", &fd);
	if (rc != 0)
		goto out;
	rc = read_status(fd, buf, sizeof(buf), &p, &have_vm);
	close(fd);
	if (rc != 0)
		goto out;
	/* Last: the identity, and whether it is a process with a map at all. */
	rc = open_proc(root, pid, "stat", &fd);
	if (rc != 0)
		goto out;
	len = read_small(fd, buf, 2048);
	close(fd);
	rc = len < 0 ? (int)len : linux_parse_stat(buf, (size_t)len, &st);
	if (rc != 0)
		goto out;
	if (st.flags & LINUX_PF_KTHREAD)
		rc = MD_ERR_KTHREAD;
	else if (st.state == 'Z' || st.state == 'X')
		rc = MD_ERR_ZOMBIE;
	else if (!have_vm || (p.has_map && p.regions == 0))
		rc = MD_ERR_NOPROC; /* the address space went away during the read */
	if (rc != 0)
		goto out;
	p.start_time = st.start_time;
	*out = p;
out:
	return rc;
}
