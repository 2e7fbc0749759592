/*
 * check_probe.c - snapshot_probe() and snapshot_probe_equal(), the cheap
 * probe the daemon takes every tick before deciding to read smaps.  Two
 * kinds of tests: recorded-style /proc trees written into a mkdtemp()
 * directory (exact maps, status and stat texts, so every field can be pinned
 * down, and the error statuses), and the live test process itself, whose map
 * the tests change with mmap, munmap, mremap, mprotect and page touches; a
 * probe allocates nothing, so probing itself does not move the map.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot.h"
#include "tests/testutil.h"

#define FAKE_PID 4321

static const char maps3[] =
        "55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1048 /usr/bin/app\n"
        "7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n";
/* A status text as Linux 6.x writes it (the lines the probe skips too). */
#define STATUS_HEAD                                                                                \
	"Name:\tmy app\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4321\nNgid:\t0\n"               \
	"Pid:\t4321\nPPid:\t1\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"                \
	"FDSize:\t64\nGroups:\t0 \nNStgid:\t4321\nNSpid:\t4321\nNSpgid:\t4321\nNSsid:\t4321\n"     \
	"Kthread:\t0\nVmPeak:\t    9000 kB\n"
#define STATUS_TAIL                                                                                \
	"CoreDumping:\t0\nTHP_enabled:\t1\nSigQ:\t0/94651\nSigPnd:\t0000000000000000\n"            \
	"Cpus_allowed_list:\t0-1\nvoluntary_ctxt_switches:\t10\n"
static const char status_ok[] =
        STATUS_HEAD "VmSize:\t    8000 kB\nVmLck:\t       4 kB\nVmPin:\t       0 kB\n"
                    "VmHWM:\t    1300 kB\nVmRSS:\t    1200 kB\nRssAnon:\t     800 kB\n"
                    "RssFile:\t     300 kB\nRssShmem:\t     100 kB\nVmData:\t    2000 kB\n"
                    "VmStk:\t     132 kB\nVmExe:\t       8 kB\nVmLib:\t    2100 kB\n"
                    "VmPTE:\t      56 kB\nVmSwap:\t      12 kB\nHugetlbPages:\t       0 kB\n"
                    "Threads:\t3\n" STATUS_TAIL;
/* The same with one value changed: @key's line reads @value. */
static char *
status_with(const char *key, const char *value)
{
	static char buf[4096];
	const char *at = strstr(status_ok, key), *eol;

	ck_assert_ptr_nonnull(at);
	eol = strchr(at, '\n');
	ck_assert_int_lt(snprintf(buf, sizeof(buf), "%.*s%s%s%s", (int)(at - status_ok), status_ok,
	                          key, value, eol),
	                 (int)sizeof(buf));
	return buf;
}
static const char stat_ok[] = "4321 (my app) S 1 4321 4321 0 -1 4194560 100 0 0 0 3 1 0 0 20 0 "
                              "1 0 987654 8192000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 "
                              "0 0 17 0 0 0 0 0 0\n";

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%d/%s", dir, FAKE_PID, name),
	                 (int)sizeof(path));
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* A /proc tree with one process FAKE_PID. */
static const char *
fake_proc(const char *maps, const char *status, const char *stat)
{
	static char root[4096];
	char sub[4200];

	snprintf(root, sizeof(root), "%s", test_scratch_dir());
	snprintf(sub, sizeof(sub), "%s/%d", root, FAKE_PID);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	write_file(root, "maps", maps);
	write_file(root, "status", status);
	write_file(root, "stat", stat);
	return root;
}

static void
fake_done(const char *root)
{
	char sub[4200];

	snprintf(sub, sizeof(sub), "%s/%d", root, FAKE_PID);
	test_rm_rf(sub);
	test_rm_rf(root);
}

/* Probe FAKE_PID under @root, with the structure. */
static int
probe_at(const char *root, struct snapshot_probe *p)
{
	struct snapshot_opts o;

	memset(&o, 0, sizeof(o));
	o.proc_root = root;
	return snapshot_probe(FAKE_PID, &o, SNAPSHOT_PROBE_MAP, p);
}

/* The same, the totals only. */
static int
probe_totals_at(const char *root, struct snapshot_probe *p)
{
	struct snapshot_opts o;

	memset(&o, 0, sizeof(o));
	o.proc_root = root;
	return snapshot_probe(FAKE_PID, &o, 0, p);
}

/* ---- snapshot_probe on written /proc trees ----------------------------- */

START_TEST(test_snapshot_probe__fields_from_files)
{
	/* VmSize VmLck VmPin VmData VmStk VmExe VmLib VmPTE VmSwap RssAnon
	 * RssFile RssShmem, kB */
	static const uint64_t want[12] = {8000, 4, 0, 2000, 132, 8, 2100, 56, 12, 800, 300, 100};
	const char *root = fake_proc(maps3, status_ok, stat_ok);
	struct snapshot_probe p, q;

	ck_assert_int_eq(probe_at(root, &p), 0);
	ck_assert_uint_eq(p.has_map, 1);
	ck_assert_uint_eq(p.regions, 3);
	ck_assert_uint_eq(p.map_bytes, strlen(maps3));
	ck_assert_uint_ne(p.map_hash, 0);
	for (size_t i = 0; i < 12; i++)
		ck_assert_msg(p.totals[i] == want[i], "totals[%zu] = %llu, want %llu", i,
		              (unsigned long long)p.totals[i], (unsigned long long)want[i]);
	ck_assert_uint_eq(p.threads, 3);
	ck_assert_uint_eq(p.start_time, 987654);
	/* The totals only: the same totals, no structure; equal to the full
	 * probe (the structure is compared only when both have it). */
	ck_assert_int_eq(probe_totals_at(root, &q), 0);
	ck_assert_uint_eq(q.has_map, 0);
	ck_assert_uint_eq(q.regions, 0);
	ck_assert_uint_eq(q.map_hash, 0);
	ck_assert_int_eq(memcmp(q.totals, p.totals, sizeof(p.totals)), 0);
	ck_assert_uint_eq(q.start_time, 987654);
	ck_assert_int_eq(snapshot_probe_equal(&p, &q), 1);
	ck_assert_int_eq(snapshot_probe_equal(&q, &p), 1);
	fake_done(root);
}
END_TEST

/* The same text gives the same probe; one character of protection, one
 * page of size, one line more or less each give another hash. */
START_TEST(test_snapshot_probe__hash_follows_the_map_text)
{
	static const char *const variants[] = {
	        /* protection */
	        "55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1048 /usr/bin/app\n"
	        "7f0000000000-7f0000021000 r--p 00000000 00:00 0 \n"
	        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          "
	        "[stack]\n",
	        /* resized by a page */
	        "55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1048 /usr/bin/app\n"
	        "7f0000000000-7f0000022000 rw-p 00000000 00:00 0 \n"
	        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          "
	        "[stack]\n",
	        /* a region removed */
	        "55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1048 /usr/bin/app\n"
	        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          "
	        "[stack]\n",
	        /* a region added */
	        "55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1048 /usr/bin/app\n"
	        "7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
	        "7f0000100000-7f0000101000 rw-p 00000000 00:00 0 \n"
	        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          "
	        "[stack]\n",
	        /* another file at the same place */
	        "55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1049 /usr/bin/apq\n"
	        "7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
	        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          "
	        "[stack]\n",
	};
	const char *root = fake_proc(maps3, status_ok, stat_ok);
	struct snapshot_probe a, b, c;

	ck_assert_int_eq(probe_at(root, &a), 0);
	ck_assert_int_eq(probe_at(root, &b), 0);
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 1);
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		write_file(root, "maps", variants[i]);
		ck_assert_int_eq(probe_at(root, &b), 0);
		ck_assert_msg(b.map_hash != a.map_hash, "variant %zu hashes like the original", i);
		ck_assert_int_eq(snapshot_probe_equal(&a, &b), 0);
		ck_assert_int_eq(memcmp(b.totals, a.totals, sizeof(a.totals)), 0);
		/* unseen by the totals alone: what map_check_every is for */
		ck_assert_int_eq(probe_totals_at(root, &c), 0);
		ck_assert_int_eq(snapshot_probe_equal(&a, &c), 1);
	}
	write_file(root, "maps", maps3);
	ck_assert_int_eq(probe_at(root, &b), 0);
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 1);
	fake_done(root);
}
END_TEST

/* A map far larger than the probe's read buffer: every line counted, every
 * byte hashed (a change in the last line shows). */
START_TEST(test_snapshot_probe__large_map)
{
	const size_t n = 5000;
	size_t cap = n * 64 + 1, len = 0;
	char *text = malloc(cap);
	const char *root;
	struct snapshot_probe a, b;

	ck_assert_ptr_nonnull(text);
	for (size_t i = 0; i < n; i++) {
		int k = snprintf(text + len, cap - len, "%012zx-%012zx rw-p 00000000 00:00 0 \n",
		                 (size_t)0x10000000 + i * 0x2000, (size_t)0x10001000 + i * 0x2000);

		ck_assert_int_gt(k, 0);
		len += (size_t)k;
	}
	root = fake_proc(text, status_ok, stat_ok);
	ck_assert_int_eq(probe_at(root, &a), 0);
	ck_assert_uint_eq(a.regions, n);
	ck_assert_uint_eq(a.map_bytes, len);
	text[len - 4] = text[len - 4] == '0' ? '1' : '0'; /* last line's inode */
	write_file(root, "maps", text);
	ck_assert_int_eq(probe_at(root, &b), 0);
	ck_assert_uint_eq(b.map_bytes, len);
	ck_assert_uint_ne(a.map_hash, b.map_hash);
	free(text);
	fake_done(root);
}
END_TEST

/* Every total the probe keeps, moved alone, makes the probe differ, with
 * the structure and without it. */
START_TEST(test_snapshot_probe__status_moves)
{
	static const char *const keys[] = {
	        "VmSize:", "VmLck:", "VmPin:",  "VmData:",  "VmStk:",   "VmExe:",
	        "VmLib:",  "VmPTE:", "VmSwap:", "RssAnon:", "RssFile:", "RssShmem:"};
	const char *root = fake_proc(maps3, status_ok, stat_ok);
	struct snapshot_probe a, b;

	ck_assert_int_eq(probe_at(root, &a), 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		write_file(root, "status", status_with(keys[i], "\t    7777 kB"));
		ck_assert_int_eq(probe_at(root, &b), 0);
		ck_assert_uint_eq(b.map_hash, a.map_hash);
		ck_assert_msg(b.totals[i] == 7777, "%s not read into totals[%zu]", keys[i], i);
		ck_assert_msg(!snapshot_probe_equal(&a, &b), "%s moved unseen", keys[i]);
		ck_assert_int_eq(probe_totals_at(root, &b), 0);
		ck_assert_msg(!snapshot_probe_equal(&a, &b), "%s moved unseen (totals only)",
		              keys[i]);
	}
	write_file(root, "status", status_with("Threads:", "\t4"));
	ck_assert_int_eq(probe_totals_at(root, &b), 0);
	ck_assert_uint_eq(b.threads, 4);
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 0);
	/* a line it does not keep moves: still equal */
	write_file(root, "status", status_with("VmHWM:", "\t    9999 kB"));
	ck_assert_int_eq(probe_at(root, &b), 0);
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 1);
	fake_done(root);
}
END_TEST

START_TEST(test_snapshot_probe__errors)
{
	const char *root = fake_proc(maps3, status_with("VmData:", "\t 12x kB"), stat_ok);
	struct snapshot_probe p;

	ck_assert_int_eq(probe_at(root, &p), MD_ERR_PARSE);
	ck_assert_uint_eq(p.regions, 0); /* cleared on error */
	write_file(root, "status", status_with("RssAnon:", "\t    800 MB"));
	ck_assert_int_eq(probe_totals_at(root, &p), MD_ERR_PARSE);
	write_file(root, "status", status_with("Threads:", "\tmany"));
	ck_assert_int_eq(probe_totals_at(root, &p), MD_ERR_PARSE);
	write_file(root, "status", status_with("VmSize:", "\t99999999999999999999999 kB"));
	ck_assert_int_eq(probe_totals_at(root, &p), MD_ERR_PARSE);
	write_file(root, "status", status_ok);
	write_file(root, "stat",
	           "4321 (app) Z 1 4321 4321 0 -1 4194560 100 0 0 0 3 1 0 0 20 0 "
	           "1 0 987654 0 0\n");
	ck_assert_int_eq(probe_at(root, &p), MD_ERR_ZOMBIE);
	/* a kernel thread: PF_KTHREAD, no map and no Vm lines */
	write_file(root, "stat",
	           "4321 (kworker) S 2 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 "
	           "1 0 5 0 0\n");
	write_file(root, "maps", "");
	write_file(root, "status", STATUS_HEAD "Threads:\t1\n" STATUS_TAIL);
	ck_assert_int_eq(probe_at(root, &p), MD_ERR_KTHREAD);
	ck_assert_int_eq(probe_totals_at(root, &p), MD_ERR_KTHREAD);
	/* an address space that went away while it was read: no map, or no
	 * Vm lines in status */
	write_file(root, "stat", stat_ok);
	ck_assert_int_eq(probe_totals_at(root, &p), MD_ERR_NOPROC);
	write_file(root, "status", status_ok);
	ck_assert_int_eq(probe_at(root, &p), MD_ERR_NOPROC);
	ck_assert_int_eq(probe_totals_at(root, &p), 0);
	fake_done(root);
	/* no such process */
	ck_assert_int_eq(snapshot_probe(FAKE_PID, &(struct snapshot_opts){.proc_root = root},
	                                SNAPSHOT_PROBE_MAP, &p),
	                 MD_ERR_NOPROC);
	ck_assert_int_eq(
	        snapshot_probe(FAKE_PID, &(struct snapshot_opts){.proc_root = root}, 0, &p),
	        MD_ERR_NOPROC);
	ck_assert_int_eq(snapshot_probe(0, NULL, 0, &p), MD_ERR_NOPROC);
}
END_TEST

/* A status longer than the probe's buffer, with a line longer than it
 * before the totals (a Groups line of tens of thousands of groups, as the
 * kernel writes it for a process with that many): the totals are read. */
START_TEST(test_snapshot_probe__long_status)
{
	const char *vm = strstr(status_ok, "VmSize:");
	size_t cap = 1000000, len;
	char *text = malloc(cap);
	const char *root;
	struct snapshot_probe p;

	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(vm);
	len = (size_t)snprintf(text, cap, "%.*sGroups:\t",
	                       (int)(strstr(status_ok, "Groups:") - status_ok), status_ok);
	for (unsigned g = 0; g < 65536; g++)
		len += (size_t)snprintf(text + len, cap - len, "%u ", 100000 + g);
	ck_assert_uint_lt(len + strlen(vm) + 2, cap);
	len += (size_t)snprintf(text + len, cap - len, "\n%s", vm);
	ck_assert_uint_gt(len, 200000);
	root = fake_proc(maps3, text, stat_ok);
	ck_assert_int_eq(probe_totals_at(root, &p), 0);
	ck_assert_uint_eq(p.totals[0], 8000);
	ck_assert_uint_eq(p.totals[11], 100);
	ck_assert_uint_eq(p.threads, 3);
	/* without the final newline */
	text[len - 1] = '\0';
	write_file(root, "status", text);
	ck_assert_int_eq(probe_totals_at(root, &p), 0);
	ck_assert_uint_eq(p.totals[0], 8000);
	free(text);
	fake_done(root);
}
END_TEST

/* ---- snapshot_probe on this process -------------------------------------- */

static void
probe_self(struct snapshot_probe *p)
{
	ck_assert_int_eq(snapshot_probe((int)getpid(), NULL, SNAPSHOT_PROBE_MAP, p), 0);
}

START_TEST(test_snapshot_probe__live_unchanged)
{
	struct snapshot_probe a, b;

	probe_self(&a); /* the first call may fault in stack pages */
	probe_self(&a);
	probe_self(&b);
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 1);
	ck_assert_uint_gt(a.regions, 5);
	ck_assert_uint_gt(a.totals[9], 0); /* RssAnon */
	ck_assert_uint_ge(a.threads, 1);
}
END_TEST

START_TEST(test_snapshot_probe__live_map_changes)
{
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct snapshot_probe a, b;
	char *m, *m2;

	probe_self(&a);
	probe_self(&a);
	/* added */
	m = mmap(NULL, 16 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	probe_self(&b);
	ck_assert_uint_ne(b.map_hash, a.map_hash);
	ck_assert_uint_eq(b.totals[0], a.totals[0] + 16 * page / 1024); /* VmSize */
	ck_assert_uint_eq(b.totals[3], a.totals[3] + 16 * page / 1024); /* VmData */
	/* protection of the whole region */
	a = b;
	ck_assert_int_eq(mprotect(m, 16 * page, PROT_READ), 0);
	probe_self(&b);
	ck_assert_uint_ne(b.map_hash, a.map_hash);
	ck_assert_uint_eq(b.totals[0], a.totals[0]);
	ck_assert_uint_eq(b.totals[3], a.totals[3] - 16 * page / 1024); /* no longer data */
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 0);
	/* resized: shrunk in place by mremap, then its tail unmapped */
	a = b;
	m2 = mremap(m, 16 * page, 8 * page, 0);
	ck_assert_ptr_eq(m2, m);
	probe_self(&b);
	ck_assert_uint_ne(b.map_hash, a.map_hash);
	ck_assert_uint_eq(b.totals[0], a.totals[0] - 8 * page / 1024);
	a = b;
	ck_assert_int_eq(munmap(m + 7 * page, page), 0);
	probe_self(&b);
	ck_assert_uint_ne(b.map_hash, a.map_hash);
	/* removed */
	a = b;
	ck_assert_int_eq(munmap(m, 7 * page), 0);
	probe_self(&b);
	ck_assert_uint_ne(b.map_hash, a.map_hash);
	ck_assert_uint_eq(b.totals[0], a.totals[0] - 7 * page / 1024);
}
END_TEST

/* Resident memory moves with the map unchanged: pages written, then given
 * back with MADV_DONTNEED.  4 MiB is far above the kernel's per-CPU batch of
 * the resident counters. */
START_TEST(test_snapshot_probe__live_resident_moves)
{
	const size_t page = (size_t)sysconf(_SC_PAGESIZE), n = (4u << 20) / page;
	struct snapshot_probe a, b;
	char *m;

	m = mmap(NULL, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	probe_self(&a);
	probe_self(&a);
	memset(m, 0x5a, n * page);
	probe_self(&b);
	ck_assert_uint_eq(b.map_hash, a.map_hash);
	ck_assert_uint_ge(b.totals[9], a.totals[9] + (n - 64) * page / 1024); /* RssAnon */
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 0);
	a = b;
	ck_assert_int_eq(madvise(m, n * page, MADV_DONTNEED), 0);
	probe_self(&b);
	ck_assert_uint_eq(b.map_hash, a.map_hash);
	ck_assert_uint_le(b.totals[9] + (n - 64) * page / 1024, a.totals[9]);
	ck_assert_int_eq(munmap(m, n * page), 0);
}
END_TEST

/* ---- snapshot_probe_equal -------------------------------------------------- */

START_TEST(test_snapshot_probe_equal__every_member_counts)
{
	struct snapshot_probe a, b;
	uint64_t *fields[17];
	size_t n = 0;

	memset(&a, 0, sizeof(a));
	a.start_time = 1;
	a.has_map = 1;
	a.map_hash = 2;
	a.map_bytes = 3;
	a.regions = 4;
	for (size_t i = 0; i < 12; i++)
		a.totals[i] = 10 + i;
	a.threads = 5;
	fields[n++] = &b.start_time;
	fields[n++] = &b.map_hash;
	fields[n++] = &b.map_bytes;
	fields[n++] = &b.regions;
	for (size_t i = 0; i < 12; i++)
		fields[n++] = &b.totals[i];
	fields[n++] = &b.threads;
	b = a;
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 1);
	for (size_t i = 0; i < n; i++) {
		b = a;
		(*fields[i])++;
		ck_assert_msg(!snapshot_probe_equal(&a, &b), "member %zu ignored", i);
	}
	/* the structure counts only when both sides hold it */
	for (size_t i = 1; i < 4; i++) {
		b = a;
		(*fields[i])++;
		b.has_map = 0;
		ck_assert_msg(snapshot_probe_equal(&a, &b), "member %zu compared without a map", i);
		ck_assert_msg(snapshot_probe_equal(&b, &a), "member %zu compared without a map", i);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("snapshot_probe");
	TCase *te = tcase_create("snapshot_probe_equal");
	SRunner *r;
	int failed;

	if (access("/proc/self/maps", R_OK) != 0)
		test_skip("no /proc/self/maps: not Linux or /proc not mounted");
	tcase_add_test(tc, test_snapshot_probe__fields_from_files);
	tcase_add_test(tc, test_snapshot_probe__hash_follows_the_map_text);
	tcase_add_test(tc, test_snapshot_probe__large_map);
	tcase_add_test(tc, test_snapshot_probe__status_moves);
	tcase_add_test(tc, test_snapshot_probe__errors);
	tcase_add_test(tc, test_snapshot_probe__long_status);
	tcase_add_test(tc, test_snapshot_probe__live_unchanged);
	tcase_add_test(tc, test_snapshot_probe__live_map_changes);
	tcase_add_test(tc, test_snapshot_probe__live_resident_moves);
	tcase_add_test(te, test_snapshot_probe_equal__every_member_counts);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, te);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
