/*
 * linux_probe.c - the cheap probe of a Linux process (snapshot.h,
 * snapshot_probe): a 64-bit hash of /proc/PID/maps, which lists every region
 * with its range, protection, offset, device, inode and path but, unlike
 * smaps, makes the kernel walk no page table, plus the resident and size
 * totals of /proc/PID/statm, which the kernel keeps as counters.  Any region
 * added, removed, resized, moved, renamed or reprotected changes the hash;
 * pages faulted in or reclaimed change statm.  PID/stat is read last, so a
 * process that exited or whose pid was reused during the probe is seen.
 * Everything is read through fixed buffers on the stack: a probe allocates
 * nothing, so probing a process never changes the prober's own map.
 * (PROCMAP_QUERY, Linux 6.11+, would return the same ranges in binary; the
 * text is cheap enough here and works on every kernel: see
 * docs/performance.md, "The daemon under load".)
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
errno_status(int err)
{
	switch (err) {
	case ENOENT:
	case ESRCH:
		return MD_ERR_NOPROC;
	case EACCES:
	case EPERM:
		return MD_ERR_PERM;
	default:
		return MD_ERR_IO;
	}
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
	return *fd < 0 ? errno_status(errno) : 0;
}

/* Read all of @fd through @buf, hashing it and counting its lines. */
static int
hash_file(int fd, char *buf, size_t size, struct snapshot_probe *out)
{
	struct hasher x = {HASH_SEED, 0, 0, 0};
	uint64_t lines = 0;
	ssize_t got;

	for (;;) {
		got = read(fd, buf, size);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return errno_status(errno);
		if (got == 0)
			break;
		hash_feed(&x, (const unsigned char *)buf, (size_t)got);
		for (const char *p = buf, *end = buf + got;
		     (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
			lines++;
	}
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
		got = read(fd, buf + n, size - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return errno_status(errno);
		if (got == 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	return (long)n;
}

/* statm: "size resident shared text lib data dt", pages. */
static int
parse_statm(const char *buf, struct snapshot_probe *out)
{
	uint64_t v[7];
	char *end;
	const char *p = buf;

	for (int i = 0; i < 7; i++) {
		if (*p < '0' || *p > '9')
			return MD_ERR_PARSE;
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (errno != 0 || (*end != ' ' && *end != '\n' && *end != '\0'))
			return MD_ERR_PARSE;
		p = *end == ' ' ? end + 1 : end;
	}
	if (*p != '\0' && *p != '\n')
		return MD_ERR_PARSE;
	out->vm_pages = v[0];
	out->resident_pages = v[1];
	out->shared_pages = v[2];
	out->data_pages = v[5];
	return 0;
}

int
snapshot_probe(int pid, const struct snapshot_opts *opts, struct snapshot_probe *out)
{
	const char *root = opts != NULL && opts->proc_root != NULL ? opts->proc_root : "/proc";
	struct snapshot_probe p;
	struct linux_stat st;
	char buf[PROBE_CHUNK];
	long len;
	int fd = -1, rc;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	if (pid <= 0)
		return MD_ERR_NOPROC;
	rc = open_proc(root, pid, "maps", &fd);
	if (rc == 0)
		rc = hash_file(fd, buf, sizeof(buf), &p);
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		goto out;
	rc = open_proc(root, pid, "statm", &fd);
	if (rc != 0)
		goto out;
	len = read_small(fd, buf, 256);
	close(fd);
	rc = len < 0 ? (int)len : parse_statm(buf, &p);
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
	else if (p.regions == 0)
		rc = MD_ERR_NOPROC; /* the address space went away during the read */
	if (rc != 0)
		goto out;
	p.start_time = st.start_time;
	*out = p;
out:
	return rc;
}
