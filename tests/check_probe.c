/*
 * check_probe.c - snapshot_probe() and snapshot_probe_equal(), the cheap
 * probe the daemon takes every tick before deciding to read smaps.  Two
 * kinds of tests: recorded-style /proc trees written into a mkdtemp()
 * directory (exact maps, statm and stat texts, so every field can be pinned
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
static const char statm_ok[] = "2000 300 100 2 0 500 0\n";
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
fake_proc(const char *maps, const char *statm, const char *stat)
{
	static char root[4096];
	char sub[4200];

	snprintf(root, sizeof(root), "%s", test_scratch_dir());
	snprintf(sub, sizeof(sub), "%s/%d", root, FAKE_PID);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	write_file(root, "maps", maps);
	write_file(root, "statm", statm);
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

static int
probe_at(const char *root, struct snapshot_probe *p)
{
	struct snapshot_opts o;

	memset(&o, 0, sizeof(o));
	o.proc_root = root;
	return snapshot_probe(FAKE_PID, &o, p);
}

/* ---- snapshot_probe on written /proc trees ----------------------------- */

START_TEST(test_snapshot_probe__fields_from_files)
{
	const char *root = fake_proc(maps3, statm_ok, stat_ok);
	struct snapshot_probe p;

	ck_assert_int_eq(probe_at(root, &p), 0);
	ck_assert_uint_eq(p.regions, 3);
	ck_assert_uint_eq(p.map_bytes, strlen(maps3));
	ck_assert_uint_ne(p.map_hash, 0);
	ck_assert_uint_eq(p.vm_pages, 2000);
	ck_assert_uint_eq(p.resident_pages, 300);
	ck_assert_uint_eq(p.shared_pages, 100);
	ck_assert_uint_eq(p.data_pages, 500);
	ck_assert_uint_eq(p.start_time, 987654);
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
	const char *root = fake_proc(maps3, statm_ok, stat_ok);
	struct snapshot_probe a, b;

	ck_assert_int_eq(probe_at(root, &a), 0);
	ck_assert_int_eq(probe_at(root, &b), 0);
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 1);
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		write_file(root, "maps", variants[i]);
		ck_assert_int_eq(probe_at(root, &b), 0);
		ck_assert_msg(b.map_hash != a.map_hash, "variant %zu hashes like the original", i);
		ck_assert_int_eq(snapshot_probe_equal(&a, &b), 0);
		ck_assert_uint_eq(b.resident_pages, a.resident_pages);
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
	root = fake_proc(text, statm_ok, stat_ok);
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

START_TEST(test_snapshot_probe__statm_moves)
{
	const char *root = fake_proc(maps3, statm_ok, stat_ok);
	struct snapshot_probe a, b;

	ck_assert_int_eq(probe_at(root, &a), 0);
	write_file(root, "statm", "2000 301 100 2 0 500 0\n");
	ck_assert_int_eq(probe_at(root, &b), 0);
	ck_assert_uint_eq(b.map_hash, a.map_hash);
	ck_assert_uint_eq(b.resident_pages, 301);
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 0);
	fake_done(root);
}
END_TEST

START_TEST(test_snapshot_probe__errors)
{
	const char *root = fake_proc(maps3, "2000 300 100\n", stat_ok);
	struct snapshot_probe p;

	ck_assert_int_eq(probe_at(root, &p), MD_ERR_PARSE);
	ck_assert_uint_eq(p.regions, 0); /* cleared on error */
	write_file(root, "statm", "2000 3x0 100 2 0 500 0\n");
	ck_assert_int_eq(probe_at(root, &p), MD_ERR_PARSE);
	write_file(root, "statm", statm_ok);
	write_file(root, "stat",
	           "4321 (app) Z 1 4321 4321 0 -1 4194560 100 0 0 0 3 1 0 0 20 0 "
	           "1 0 987654 0 0\n");
	ck_assert_int_eq(probe_at(root, &p), MD_ERR_ZOMBIE);
	/* a kernel thread: PF_KTHREAD, and no map */
	write_file(root, "stat",
	           "4321 (kworker) S 2 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 "
	           "1 0 5 0 0\n");
	write_file(root, "maps", "");
	ck_assert_int_eq(probe_at(root, &p), MD_ERR_KTHREAD);
	/* an address space that went away while it was read */
	write_file(root, "stat", stat_ok);
	ck_assert_int_eq(probe_at(root, &p), MD_ERR_NOPROC);
	fake_done(root);
	/* no such process */
	ck_assert_int_eq(snapshot_probe(FAKE_PID, &(struct snapshot_opts){.proc_root = root}, &p),
	                 MD_ERR_NOPROC);
	ck_assert_int_eq(snapshot_probe(0, NULL, &p), MD_ERR_NOPROC);
}
END_TEST

/* ---- snapshot_probe on this process -------------------------------------- */

static void
probe_self(struct snapshot_probe *p)
{
	ck_assert_int_eq(snapshot_probe((int)getpid(), NULL, p), 0);
}

START_TEST(test_snapshot_probe__live_unchanged)
{
	struct snapshot_probe a, b;

	probe_self(&a); /* the first call may fault in stack pages */
	probe_self(&a);
	probe_self(&b);
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 1);
	ck_assert_uint_gt(a.regions, 5);
	ck_assert_uint_gt(a.resident_pages, 0);
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
	ck_assert_uint_eq(b.vm_pages, a.vm_pages + 16);
	/* protection of the whole region */
	a = b;
	ck_assert_int_eq(mprotect(m, 16 * page, PROT_READ), 0);
	probe_self(&b);
	ck_assert_uint_ne(b.map_hash, a.map_hash);
	ck_assert_uint_eq(b.vm_pages, a.vm_pages);
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 0);
	/* resized: shrunk in place by mremap, then its tail unmapped */
	a = b;
	m2 = mremap(m, 16 * page, 8 * page, 0);
	ck_assert_ptr_eq(m2, m);
	probe_self(&b);
	ck_assert_uint_ne(b.map_hash, a.map_hash);
	ck_assert_uint_eq(b.vm_pages, a.vm_pages - 8);
	a = b;
	ck_assert_int_eq(munmap(m + 7 * page, page), 0);
	probe_self(&b);
	ck_assert_uint_ne(b.map_hash, a.map_hash);
	/* removed */
	a = b;
	ck_assert_int_eq(munmap(m, 7 * page), 0);
	probe_self(&b);
	ck_assert_uint_ne(b.map_hash, a.map_hash);
	ck_assert_uint_eq(b.vm_pages, a.vm_pages - 7);
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
	ck_assert_uint_ge(b.resident_pages, a.resident_pages + n - 64);
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 0);
	a = b;
	ck_assert_int_eq(madvise(m, n * page, MADV_DONTNEED), 0);
	probe_self(&b);
	ck_assert_uint_eq(b.map_hash, a.map_hash);
	ck_assert_uint_le(b.resident_pages + n - 64, a.resident_pages);
	ck_assert_int_eq(munmap(m, n * page), 0);
}
END_TEST

/* ---- snapshot_probe_equal -------------------------------------------------- */

START_TEST(test_snapshot_probe_equal__every_member_counts)
{
	struct snapshot_probe a = {1, 2, 3, 4, 5, 6, 7, 8}, b;
	uint64_t *fields[] = {&b.start_time, &b.map_hash,       &b.map_bytes,    &b.regions,
	                      &b.vm_pages,   &b.resident_pages, &b.shared_pages, &b.data_pages};

	b = a;
	ck_assert_int_eq(snapshot_probe_equal(&a, &b), 1);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		b = a;
		(*fields[i])++;
		ck_assert_msg(!snapshot_probe_equal(&a, &b), "member %zu ignored", i);
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
	tcase_add_test(tc, test_snapshot_probe__statm_moves);
	tcase_add_test(tc, test_snapshot_probe__errors);
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
