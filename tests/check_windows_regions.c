/*
 * check_windows_regions.c - the Windows raw record and classifier
 * (snapshot/windows_regions.c) on Linux: the text form written and read back,
 * malformed files refused with their line, the classifier on synthetic
 * VirtualQueryEx sequences (one rule per test) and on region lists recorded
 * under wine64 from winalloc.exe and cmd.exe (tests/fixtures/windows/), whose
 * allocations it must find where winalloc.exe reported them.  Also
 * snapshot_record_raw() on this platform.
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot/windows_regions.h"
#include "tests/testutil.h"

/* Which collector snapshot_record_raw() should be: under wine, /proc/self/smaps
 * is readable too (the wine process's), so the compiler says. */
#ifdef _WIN32
static const int on_windows = 1;
#else
static const int on_windows = 0;
#endif

#define KIB ((uint64_t)1 << 10)
#define MIB ((uint64_t)1 << 20)

/* ---- helpers ------------------------------------------------------------- */

static void
add(struct winraw *raw, uint64_t base, uint64_t alloc, uint32_t alloc_prot, uint64_t size,
    uint32_t state, uint32_t prot, uint32_t type, const char *path)
{
	struct winraw_region r;

	memset(&r, 0, sizeof(r));
	r.base = base;
	r.allocation_base = alloc;
	r.allocation_protect = alloc_prot;
	r.size = size;
	r.state = state;
	r.protect = prot;
	r.type = type;
	ck_assert_int_eq(winraw_add_region(raw, &r, path), 0);
}

static void
add_free(struct winraw *raw, uint64_t base, uint64_t size)
{
	add(raw, base, 0, 0, size, WIN_MEM_FREE, 0, 0, NULL);
}

/* A raw record with every source available and no regions. */
static void
raw_start(struct winraw *raw)
{
	winraw_init(raw);
	raw->pid = 4242;
	raw->start_time = 133485408001234567ull;
	raw->start_time_ms = 1700000000123;
	snprintf(raw->name, sizeof(raw->name), "w3wp.exe");
	raw->heaps_source = WINRAW_AVAILABLE;
	raw->threads_source = WINRAW_AVAILABLE;
	raw->working_set_source = WINRAW_AVAILABLE;
	raw->max_address = 0x7ffffffeffffull;
}

static struct snapshot *
classify(const struct winraw *raw)
{
	struct snapshot *s = NULL;

	ck_assert_int_eq(snapshot_new(&s), 0);
	ck_assert_int_eq(windows_classify(raw, s), 0);
	return s;
}

/* The region of @s starting at @base (fails the test if none). */
static const struct region *
at(const struct snapshot *s, uint64_t base)
{
	size_t i;

	for (i = 0; i < s->n_regions; i++)
		if (s->regions[i].base == base)
			return &s->regions[i];
	ck_abort_msg("no region at 0x%" PRIx64, base);
	return NULL;
}

static int
has_region_at(const struct snapshot *s, uint64_t base)
{
	size_t i;

	for (i = 0; i < s->n_regions; i++)
		if (s->regions[i].base == base)
			return 1;
	return 0;
}

/* A scratch file for writers that take a FILE * (open_memstream is not on
 * every platform the tests run on: wine).  Read it back with captured(). */
static FILE *
capture_open(char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/out", test_scratch_dir());
	f = fopen(path, "w+b");
	ck_assert_msg(f != NULL, "cannot create %s", path);
	return f;
}

/* Close @f and return what was written to @path (free()). */
static char *
captured(FILE *f, const char *path, size_t *len)
{
	char *buf;
	char dir[4096];

	ck_assert_int_eq(fclose(f), 0);
	buf = test_read_file(path, len);
	ck_assert_ptr_nonnull(buf);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	test_rm_rf(dir);
	return buf;
}

static void
load(const char *rel, struct winraw *raw)
{
	struct winraw_error err;
	char *buf;
	size_t len;
	int rc;

	buf = test_read_file(test_fixture(rel), &len);
	ck_assert_msg(buf != NULL, "cannot read fixture %s", rel);
	winraw_init(raw);
	rc = winraw_parse(raw, buf, len, &err);
	ck_assert_msg(rc == 0, "%s: line %zu: %s", rel, err.line, err.what ? err.what : "?");
	free(buf);
}

/* winalloc.exe's report (see tests/win/winalloc.c). */
struct report {
	uint64_t reserve, reserve_size, small, small_size, heap, section, section_size;
	uint64_t filemap, commit[16], commit_size[16];
	unsigned tid[8];
	size_t n_commits, n_tids;
	int pid;
};

static void
load_report(const char *rel, struct report *rep)
{
	char line[256];
	FILE *f = fopen(test_fixture(rel), "r");

	ck_assert_msg(f != NULL, "cannot read %s", rel);
	memset(rep, 0, sizeof(*rep));
	while (fgets(line, sizeof(line), f) != NULL) {
		uint64_t a, b;
		unsigned t;

		if (sscanf(line, "pid %d", &rep->pid) == 1)
			continue;
		if (sscanf(line, "reserve %" SCNx64 " %" SCNu64, &a, &b) == 2) {
			rep->reserve = a;
			rep->reserve_size = b;
		} else if (sscanf(line, "small %" SCNx64 " %" SCNu64, &a, &b) == 2) {
			rep->small = a;
			rep->small_size = b;
		} else if (sscanf(line, "heap %" SCNx64, &a) == 1) {
			rep->heap = a;
		} else if (sscanf(line, "section %" SCNx64 " %" SCNu64, &a, &b) == 2) {
			rep->section = a;
			rep->section_size = b;
		} else if (sscanf(line, "filemap %" SCNx64, &a) == 1) {
			rep->filemap = a;
		} else if (sscanf(line, "thread %u", &t) == 1 && rep->n_tids < 8) {
			rep->tid[rep->n_tids++] = t;
		} else if (sscanf(line, "commit %" SCNx64 " %" SCNu64, &a, &b) == 2 &&
		           rep->n_commits < 16) {
			rep->commit[rep->n_commits] = a;
			rep->commit_size[rep->n_commits++] = b;
		}
	}
	fclose(f);
}

/* ---- windows_prot_bits -------------------------------------------------- */

START_TEST(test_windows_prot_bits__every_page_value)
{
	const unsigned R = PROT_BIT_READ, W = PROT_BIT_WRITE, X = PROT_BIT_EXEC;

	ck_assert_uint_eq(windows_prot_bits(0), 0);
	ck_assert_uint_eq(windows_prot_bits(WIN_PAGE_NOACCESS), 0);
	ck_assert_uint_eq(windows_prot_bits(WIN_PAGE_READONLY), R);
	ck_assert_uint_eq(windows_prot_bits(WIN_PAGE_READWRITE), R | W);
	ck_assert_uint_eq(windows_prot_bits(WIN_PAGE_WRITECOPY), R | W | PROT_BIT_COPY);
	ck_assert_uint_eq(windows_prot_bits(WIN_PAGE_EXECUTE), X);
	ck_assert_uint_eq(windows_prot_bits(WIN_PAGE_EXECUTE_READ), R | X);
	ck_assert_uint_eq(windows_prot_bits(WIN_PAGE_EXECUTE_READWRITE), R | W | X);
	ck_assert_uint_eq(windows_prot_bits(WIN_PAGE_EXECUTE_WRITECOPY), R | W | X | PROT_BIT_COPY);
	ck_assert_uint_eq(windows_prot_bits(WIN_PAGE_READWRITE | WIN_PAGE_GUARD),
	                  R | W | PROT_BIT_GUARD);
	ck_assert_uint_eq(windows_prot_bits(WIN_PAGE_READONLY | WIN_PAGE_NOCACHE), R);
	ck_assert_uint_eq(windows_prot_bits(WIN_PAGE_READWRITE | WIN_PAGE_WRITECOMBINE), R | W);
}
END_TEST

/* ---- winraw_write / winraw_parse / winraw_read ---------------------------- */

START_TEST(test_winraw_write__round_trip)
{
	struct winraw raw, back;
	struct winraw_thread t = {77, 0x230000, 0x22c000};
	struct winraw_error err;
	char *buf = NULL, path[4096];
	size_t len = 0;
	FILE *f;

	raw_start(&raw);
	raw.private_usage = 123456789;
	raw.working_set = 98765;
	raw.truncated = 1;
	raw.threads_source = WINRAW_PARTIAL;
	ck_assert_int_eq(winraw_set_cmdline(&raw, "C:\\a b\\w3wp.exe -ap \"100%\"\t-"), 0);
	ck_assert_int_eq(winraw_add_heap(&raw, 0x1d0000), 0);
	ck_assert_int_eq(winraw_add_heap(&raw, 0x7ff10000), 0);
	ck_assert_int_eq(winraw_add_thread(&raw, &t), 0);
	add(&raw, 0x10000, 0x10000, WIN_PAGE_READONLY, 0x2000, WIN_MEM_COMMIT, WIN_PAGE_READONLY,
	    WIN_MEM_MAPPED, "C:\\Program Files\\x%20y\\\xe6\x97\xa5.nls");
	add(&raw, 0x12000, 0x10000, WIN_PAGE_READONLY, 0x1000, WIN_MEM_COMMIT, WIN_PAGE_READONLY,
	    WIN_MEM_MAPPED, "-");
	add_free(&raw, 0x13000, 0xd000);
	add(&raw, 0x20000, 0x20000, WIN_PAGE_READWRITE, 0x1000, WIN_MEM_RESERVE, 0, WIN_MEM_PRIVATE,
	    NULL);
	raw.regions[0].resident = 8192;
	raw.regions[0].private_resident = 4096;
	raw.regions[0].shared_resident = 4096;

	f = capture_open(path, sizeof(path));
	ck_assert_int_eq(winraw_write(&raw, f), 0);
	buf = captured(f, path, &len);
	/* Every field is one word: the spaces of paths are escaped. */
	ck_assert_ptr_nonnull(strstr(buf, "C:\\Program%20Files\\x%2520y\\\xe6\x97\xa5.nls\n"));
	ck_assert_ptr_nonnull(strstr(buf, " %2D\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\nend 4\n"));

	winraw_init(&back);
	ck_assert_int_eq(winraw_parse(&back, buf, len, &err), 0);
	ck_assert_int_eq(back.pid, 4242);
	ck_assert_uint_eq(back.start_time, 133485408001234567ull);
	ck_assert_int_eq(back.start_time_ms, 1700000000123);
	ck_assert_str_eq(back.name, "w3wp.exe");
	ck_assert_str_eq(back.cmdline, raw.cmdline);
	ck_assert_uint_eq(back.private_usage, 123456789);
	ck_assert_uint_eq(back.working_set, 98765);
	ck_assert_uint_eq(back.max_address, 0x7ffffffeffffull);
	ck_assert_int_eq(back.truncated, 1);
	ck_assert_int_eq(back.limited, 0);
	ck_assert_int_eq(back.heaps_source, WINRAW_AVAILABLE);
	ck_assert_int_eq(back.threads_source, WINRAW_PARTIAL);
	ck_assert_uint_eq(back.n_heaps, 2);
	ck_assert_uint_eq(back.heaps[1], 0x7ff10000);
	ck_assert_uint_eq(back.n_threads, 1);
	ck_assert_uint_eq(back.threads[0].tid, 77);
	ck_assert_uint_eq(back.threads[0].stack_base, 0x230000);
	ck_assert_uint_eq(back.threads[0].stack_limit, 0x22c000);
	ck_assert_uint_eq(back.n_regions, 4);
	ck_assert_str_eq(back.regions[0].path, raw.regions[0].path);
	ck_assert_uint_eq(back.regions[0].resident, 8192);
	ck_assert_uint_eq(back.regions[0].private_resident, 4096);
	ck_assert_uint_eq(back.regions[0].shared_resident, 4096);
	ck_assert_str_eq(back.regions[1].path, "-");
	ck_assert_ptr_null(back.regions[2].path);
	ck_assert_ptr_null(back.regions[3].path);
	ck_assert_uint_eq(back.regions[3].state, WIN_MEM_RESERVE);
	ck_assert_uint_eq(back.regions[3].allocation_protect, WIN_PAGE_READWRITE);
	ck_assert_uint_eq(back.regions[2].size, 0xd000);
	winraw_done(&back);
	winraw_done(&raw);
	free(buf);
}
END_TEST

/* Hand-written malformed files (tests/fixtures/windows/malformed/README.md)
 * and the line each must be refused at. */
static const struct {
	const char *file;
	size_t line;
} bad_files[] = {
        {"truncated.winraw", 41},      {"no_newline.winraw", 40},  {"bad_version.winraw", 1},
        {"not_winraw.winraw", 1},      {"overlap.winraw", 40},     {"bad_state.winraw", 40},
        {"unknown_key.winraw", 5},     {"bad_escape.winraw", 20},  {"end_mismatch.winraw", 122},
        {"missing_header.winraw", 18}, {"alloc_above.winraw", 41}, {"late_header.winraw", 122},
        {"short_thread.winraw", 15},
};

START_TEST(test_winraw_parse__malformed_refused_with_line)
{
	char rel[128];
	struct winraw raw;
	struct winraw_error err;
	char *buf;
	size_t len;

	snprintf(rel, sizeof(rel), "windows/malformed/%s", bad_files[_i].file);
	buf = test_read_file(test_fixture(rel), &len);
	ck_assert_msg(buf != NULL, "cannot read %s", rel);
	winraw_init(&raw);
	ck_assert_int_eq(winraw_parse(&raw, buf, len, &err), MD_ERR_PARSE);
	ck_assert_msg(err.line == bad_files[_i].line, "%s: refused at line %zu (%s), not %zu", rel,
	              err.line, err.what, bad_files[_i].line);
	ck_assert_ptr_nonnull(err.what);
	/* Nothing half-parsed is left behind. */
	ck_assert_uint_eq(raw.n_regions, 0);
	ck_assert_ptr_null(raw.regions);
	winraw_done(&raw);
	free(buf);
}
END_TEST

START_TEST(test_winraw_parse__empty_and_garbage)
{
	struct winraw raw;
	struct winraw_error err;
	static const char two_spaces[] = "memdelta-winraw 1\npid  4\n";
	static const char nul[] = "memdelta-winraw 1\npid 4\0\n";

	winraw_init(&raw);
	ck_assert_int_eq(winraw_parse(&raw, "", 0, &err), MD_ERR_PARSE);
	ck_assert_uint_eq(err.line, 1);
	ck_assert_int_eq(winraw_parse(&raw, two_spaces, sizeof(two_spaces) - 1, &err),
	                 MD_ERR_PARSE);
	ck_assert_uint_eq(err.line, 2);
	ck_assert_int_eq(winraw_parse(&raw, nul, sizeof(nul) - 1, &err), MD_ERR_PARSE);
	ck_assert_uint_eq(err.line, 2);
	winraw_done(&raw);
}
END_TEST

START_TEST(test_winraw_parse__limited_access)
{
	static const char limited[] = "memdelta-winraw 1\npid 4\nstart_time 1\nname "
	                              "MsMpEng.exe\naccess limited\nprivate_usage 5000\n"
	                              "working_set 7000\nheaps unavailable\nthreads "
	                              "unavailable\nworking_set_info unavailable\nend 0\n";
	static const char with_region[] =
	        "memdelta-winraw 1\npid 4\nstart_time 1\nname MsMpEng.exe\naccess limited\nheaps "
	        "unavailable\nthreads unavailable\nworking_set_info unavailable\nregion 0x10000 "
	        "0x10000 0x4 0x1000 0x1000 0x4 0x20000 0 0 0 -\nend 1\n";
	struct winraw raw;
	struct winraw_error err;
	struct snapshot *s;

	winraw_init(&raw);
	ck_assert_int_eq(winraw_parse(&raw, limited, sizeof(limited) - 1, &err), 0);
	ck_assert_int_eq(raw.limited, 1);
	ck_assert_uint_eq(raw.private_usage, 5000);
	ck_assert_str_eq(raw.name, "MsMpEng.exe");
	ck_assert_ptr_null(raw.cmdline);
	s = classify(&raw);
	ck_assert_uint_eq(s->flags, SNAPSHOT_TOTALS_ONLY);
	ck_assert_uint_eq(s->n_regions, 1);
	ck_assert_uint_eq(s->regions[0].committed, 5000);
	ck_assert_uint_eq(s->regions[0].resident, 7000);
	ck_assert_str_eq(s->cmdline, "");
	snapshot_free(s);
	winraw_done(&raw);

	ck_assert_int_eq(winraw_parse(&raw, with_region, sizeof(with_region) - 1, &err),
	                 MD_ERR_PARSE);
	ck_assert_uint_eq(err.line, 9);
	winraw_done(&raw);
}
END_TEST

START_TEST(test_winraw_parse__unusual_but_valid)
{
	struct winraw orig, crlf, lp;
	size_t i;

	load("windows/winalloc-done.winraw", &orig);
	load("windows/malformed/crlf.winraw", &crlf);
	ck_assert_uint_eq(crlf.n_regions, orig.n_regions);
	for (i = 0; i < orig.n_regions; i++) {
		ck_assert_uint_eq(crlf.regions[i].base, orig.regions[i].base);
		ck_assert_uint_eq(crlf.regions[i].size, orig.regions[i].size);
	}
	ck_assert_str_eq(crlf.cmdline, orig.cmdline);

	load("windows/malformed/long_path.winraw", &lp);
	ck_assert_uint_eq(lp.n_regions, orig.n_regions);
	ck_assert_uint_eq(strlen(lp.regions[1].path), 5000);
	ck_assert_int_eq(strncmp(lp.regions[1].path, "C:\\long dir%\\dddddddddd\\", 24), 0);
	winraw_done(&orig);
	winraw_done(&crlf);
	winraw_done(&lp);
}
END_TEST

START_TEST(test_winraw_read__stream)
{
	struct winraw raw;
	struct winraw_error err;
	FILE *f = fopen(test_fixture("windows/cmd.winraw"), "r");

	ck_assert_ptr_nonnull(f);
	winraw_init(&raw);
	ck_assert_int_eq(winraw_read(&raw, f, &err), 0);
	fclose(f);
	ck_assert_str_eq(raw.name, "cmd.exe");
	ck_assert_uint_gt(raw.n_regions, 100);
	ck_assert_int_eq(raw.heaps_source, WINRAW_UNAVAILABLE); /* wine */
	winraw_done(&raw);
	winraw_done(&raw); /* twice is safe */
}
END_TEST

/* ---- windows_classify: synthetic sequences ------------------------------ */

START_TEST(test_windows_classify__identity_and_flags)
{
	struct winraw raw;
	struct snapshot *s;

	raw_start(&raw);
	ck_assert_int_eq(winraw_set_cmdline(&raw, "w3wp.exe -ap x"), 0);
	s = classify(&raw);
	ck_assert_int_eq(s->pid, 4242);
	ck_assert_uint_eq(s->start_time, 133485408001234567ull);
	ck_assert_int_eq(s->start_time_ms, 1700000000123);
	ck_assert_str_eq(s->name, "w3wp.exe");
	ck_assert_str_eq(s->cmdline, "w3wp.exe -ap x");
	ck_assert_uint_eq(s->flags, 0);
	snapshot_free(s);

	raw.heaps_source = WINRAW_UNAVAILABLE;
	s = classify(&raw);
	ck_assert_uint_eq(s->flags, SNAPSHOT_NO_HEAP_LIST);
	snapshot_free(s);
	raw.heaps_source = WINRAW_AVAILABLE;
	raw.threads_source = WINRAW_PARTIAL;
	s = classify(&raw);
	ck_assert_uint_eq(s->flags, SNAPSHOT_NO_THREAD_STACKS);
	snapshot_free(s);
	raw.threads_source = WINRAW_UNAVAILABLE;
	raw.working_set_source = WINRAW_UNAVAILABLE;
	raw.truncated = 1;
	s = classify(&raw);
	ck_assert_uint_eq(s->flags,
	                  SNAPSHOT_NO_THREAD_STACKS | SNAPSHOT_NO_WORKING_SET | SNAPSHOT_TRUNCATED);
	snapshot_free(s);
	winraw_done(&raw);
}
END_TEST

START_TEST(test_windows_classify__image_mapped_shareable)
{
	struct winraw raw;
	struct snapshot *s;
	const struct region *r;
	const char *dll = "C:\\Windows\\System32\\kernel32.dll";

	raw_start(&raw);
	/* An image: header, code, data (copy-on-write), written data, rodata. */
	add(&raw, 0x7ff800000000, 0x7ff800000000, WIN_PAGE_EXECUTE_WRITECOPY, 0x1000,
	    WIN_MEM_COMMIT, WIN_PAGE_READONLY, WIN_MEM_IMAGE, dll);
	add(&raw, 0x7ff800001000, 0x7ff800000000, WIN_PAGE_EXECUTE_WRITECOPY, 0x80000,
	    WIN_MEM_COMMIT, WIN_PAGE_EXECUTE_READ, WIN_MEM_IMAGE, dll);
	add(&raw, 0x7ff800081000, 0x7ff800000000, WIN_PAGE_EXECUTE_WRITECOPY, 0x3000,
	    WIN_MEM_COMMIT, WIN_PAGE_WRITECOPY, WIN_MEM_IMAGE, dll);
	add(&raw, 0x7ff800084000, 0x7ff800000000, WIN_PAGE_EXECUTE_WRITECOPY, 0x1000,
	    WIN_MEM_COMMIT, WIN_PAGE_READWRITE, WIN_MEM_IMAGE, dll);
	add(&raw, 0x7ff800085000, 0x7ff800000000, WIN_PAGE_EXECUTE_WRITECOPY, 0x2b000,
	    WIN_MEM_COMMIT, WIN_PAGE_READONLY, WIN_MEM_IMAGE, dll);
	/* A file view, a copy-on-write file view, a pagefile-backed section
	 * (no file name) and a reserved view. */
	add(&raw, 0x7ff900000000, 0x7ff900000000, WIN_PAGE_READONLY, 0x10000, WIN_MEM_COMMIT,
	    WIN_PAGE_READONLY, WIN_MEM_MAPPED, "C:\\Windows\\System32\\locale.nls");
	add(&raw, 0x7ff900010000, 0x7ff900010000, WIN_PAGE_WRITECOPY, 0x20000, WIN_MEM_COMMIT,
	    WIN_PAGE_WRITECOPY, WIN_MEM_MAPPED, "D:\\data\\cow.bin");
	add(&raw, 0x7ff900030000, 0x7ff900030000, WIN_PAGE_READWRITE, 0x100000, WIN_MEM_COMMIT,
	    WIN_PAGE_READWRITE, WIN_MEM_MAPPED, NULL);
	add(&raw, 0x7ff900130000, 0x7ff900130000, WIN_PAGE_READWRITE, 0x100000, WIN_MEM_RESERVE, 0,
	    WIN_MEM_MAPPED, NULL);
	s = classify(&raw);
	ck_assert_uint_eq(s->n_regions, 9);

	r = at(s, 0x7ff800001000);
	ck_assert_int_eq(r->type, REGION_IMAGE);
	ck_assert_int_eq(r->state, STATE_COMMIT);
	ck_assert_str_eq(r->detail, dll);
	ck_assert_uint_eq(r->allocation_base, 0x7ff800000000);
	ck_assert_uint_eq(r->protection, PROT_BIT_READ | PROT_BIT_EXEC | PROT_BIT_SHARED);
	ck_assert_uint_eq(r->committed, 0); /* shared code: not charged */
	r = at(s, 0x7ff800081000);
	ck_assert_uint_eq(r->committed, 0x3000); /* copy-on-write data: charged */
	ck_assert(r->protection & PROT_BIT_COPY);
	ck_assert_uint_eq(at(s, 0x7ff800084000)->committed, 0x1000); /* written copy */
	ck_assert_uint_eq(at(s, 0x7ff800085000)->committed, 0);

	r = at(s, 0x7ff900000000);
	ck_assert_int_eq(r->type, REGION_MAPPED);
	ck_assert_str_eq(r->detail, "C:\\Windows\\System32\\locale.nls");
	ck_assert_uint_eq(r->committed, 0);
	ck_assert_uint_eq(r->protection, PROT_BIT_READ | PROT_BIT_SHARED);
	r = at(s, 0x7ff900010000);
	ck_assert_int_eq(r->type, REGION_MAPPED);
	ck_assert_uint_eq(r->committed, 0x20000); /* a copy-on-write view is charged */
	ck_assert_uint_eq(r->protection, PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_COPY);
	r = at(s, 0x7ff900030000);
	ck_assert_int_eq(r->type, REGION_SHAREABLE);
	ck_assert_str_eq(r->detail, "");
	ck_assert_uint_eq(r->committed, 0); /* charged to the section */
	ck_assert_uint_eq(r->protection, PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_SHARED);
	r = at(s, 0x7ff900130000);
	ck_assert_int_eq(r->type, REGION_SHAREABLE);
	ck_assert_int_eq(r->state, STATE_RESERVE);
	ck_assert_uint_eq(r->protection, PROT_BIT_SHARED);
	snapshot_free(s);
	winraw_done(&raw);
}
END_TEST

START_TEST(test_windows_classify__heaps_by_allocation_base)
{
	struct winraw raw;
	struct snapshot *s;
	const struct region *r;

	raw_start(&raw);
	ck_assert_int_eq(winraw_add_heap(&raw, 0x500000), 0); /* process heap */
	ck_assert_int_eq(winraw_add_heap(&raw, 0x300000), 0);
	/* Heap 1: committed start, reserved tail. */
	add(&raw, 0x300000, 0x300000, WIN_PAGE_READWRITE, 0x40000, WIN_MEM_COMMIT,
	    WIN_PAGE_READWRITE, WIN_MEM_PRIVATE, NULL);
	add(&raw, 0x340000, 0x300000, WIN_PAGE_READWRITE, 0xc0000, WIN_MEM_RESERVE, 0,
	    WIN_MEM_PRIVATE, NULL);
	/* A private allocation right after it, not in the list. */
	add(&raw, 0x400000, 0x400000, WIN_PAGE_READWRITE, 0x10000, WIN_MEM_COMMIT,
	    WIN_PAGE_READWRITE, WIN_MEM_PRIVATE, NULL);
	add(&raw, 0x500000, 0x500000, WIN_PAGE_READWRITE, 0x20000, WIN_MEM_COMMIT,
	    WIN_PAGE_READWRITE, WIN_MEM_PRIVATE, NULL);
	/* A heap's second segment has another allocation base: not guessed. */
	add(&raw, 0x600000, 0x600000, WIN_PAGE_READWRITE, 0x10000, WIN_MEM_COMMIT,
	    WIN_PAGE_READWRITE, WIN_MEM_PRIVATE, NULL);
	s = classify(&raw);
	ck_assert_uint_eq(s->n_regions, 5);
	r = at(s, 0x300000);
	ck_assert_int_eq(r->type, REGION_HEAP);
	ck_assert_str_eq(r->detail, "heap 1");
	ck_assert_uint_eq(r->committed, 0x40000);
	r = at(s, 0x340000);
	ck_assert_int_eq(r->type, REGION_HEAP);
	ck_assert_int_eq(r->state, STATE_RESERVE);
	ck_assert_str_eq(r->detail, "heap 1");
	ck_assert_uint_eq(r->committed, 0);
	ck_assert_int_eq(at(s, 0x400000)->type, REGION_PRIVATE);
	ck_assert_str_eq(at(s, 0x500000)->detail, "heap 0 (process heap)");
	ck_assert_int_eq(at(s, 0x500000)->type, REGION_HEAP);
	ck_assert_int_eq(at(s, 0x600000)->type, REGION_PRIVATE);
	ck_assert_uint_eq(s->flags, 0);
	snapshot_free(s);

	/* Without the list (wine) the same regions are Private Data, flagged. */
	raw.heaps_source = WINRAW_UNAVAILABLE;
	raw.n_heaps = 0;
	s = classify(&raw);
	ck_assert_int_eq(at(s, 0x300000)->type, REGION_PRIVATE);
	ck_assert_int_eq(at(s, 0x500000)->type, REGION_PRIVATE);
	ck_assert_uint_eq(s->flags, SNAPSHOT_NO_HEAP_LIST);
	snapshot_free(s);
	winraw_done(&raw);
}
END_TEST

START_TEST(test_windows_classify__stack_with_guard_and_reserve)
{
	struct winraw raw;
	struct snapshot *s;
	struct winraw_thread t1 = {77, 0x2000000, 0x1ffc000};
	struct winraw_thread lost = {78, 0x9000000, 0x8ff0000}; /* points into free space */
	struct snapshot_totals tot;
	const struct region *r;

	raw_start(&raw);
	ck_assert_int_eq(winraw_add_thread(&raw, &t1), 0);
	ck_assert_int_eq(winraw_add_thread(&raw, &lost), 0);
	/* A 1 MiB stack allocation: reserve, guard page, 16 KiB committed. */
	add(&raw, 0x1f00000, 0x1f00000, WIN_PAGE_READWRITE, 0xfb000, WIN_MEM_RESERVE, 0,
	    WIN_MEM_PRIVATE, NULL);
	add(&raw, 0x1ffb000, 0x1f00000, WIN_PAGE_READWRITE, 0x1000, WIN_MEM_COMMIT,
	    WIN_PAGE_READWRITE | WIN_PAGE_GUARD, WIN_MEM_PRIVATE, NULL);
	add(&raw, 0x1ffc000, 0x1f00000, WIN_PAGE_READWRITE, 0x4000, WIN_MEM_COMMIT,
	    WIN_PAGE_READWRITE, WIN_MEM_PRIVATE, NULL);
	/* The next allocation is not the stack. */
	add(&raw, 0x2000000, 0x2000000, WIN_PAGE_READWRITE, 0x10000, WIN_MEM_COMMIT,
	    WIN_PAGE_READWRITE, WIN_MEM_PRIVATE, NULL);
	add_free(&raw, 0x2010000, 0x8000000);
	s = classify(&raw);
	ck_assert_uint_eq(s->n_regions, 4);
	r = at(s, 0x1f00000);
	ck_assert_int_eq(r->type, REGION_STACK);
	ck_assert_int_eq(r->state, STATE_RESERVE);
	ck_assert_str_eq(r->detail, "thread 77");
	ck_assert_uint_eq(r->committed, 0);
	r = at(s, 0x1ffb000);
	ck_assert_int_eq(r->type, REGION_STACK);
	ck_assert_uint_eq(r->protection, PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_GUARD);
	ck_assert_uint_eq(r->committed, 0x1000);
	r = at(s, 0x1ffc000);
	ck_assert_int_eq(r->type, REGION_STACK);
	ck_assert_str_eq(r->detail, "thread 77");
	ck_assert_int_eq(at(s, 0x2000000)->type, REGION_PRIVATE);
	snapshot_totals(s, &tot);
	ck_assert_uint_eq(tot.by_type[REGION_STACK].size, 0x100000);
	ck_assert_uint_eq(tot.by_type[REGION_STACK].committed, 0x5000);
	ck_assert_uint_eq(tot.by_type[REGION_STACK].reserved, 0xfb000);
	ck_assert_uint_eq(tot.by_type[REGION_STACK].blocks, 1);
	ck_assert_uint_eq(tot.private_committed, 0x5000 + 0x10000);
	snapshot_free(s);

	/* TEBs unreadable: no stack is guessed, and the snapshot says so. */
	raw.threads_source = WINRAW_UNAVAILABLE;
	raw.n_threads = 0;
	s = classify(&raw);
	ck_assert_int_eq(at(s, 0x1ffc000)->type, REGION_PRIVATE);
	ck_assert_uint_eq(s->flags, SNAPSHOT_NO_THREAD_STACKS);
	snapshot_free(s);
	winraw_done(&raw);
}
END_TEST

START_TEST(test_windows_classify__unusable_slack)
{
	struct winraw raw;
	struct snapshot *s;
	const struct region *r;

	raw_start(&raw);
	/* 12 KiB allocation: 52 KiB of slack to the next 64 KiB boundary. */
	add(&raw, 0x50000, 0x50000, WIN_PAGE_READWRITE, 0x3000, WIN_MEM_COMMIT, WIN_PAGE_READWRITE,
	    WIN_MEM_PRIVATE, NULL);
	add_free(&raw, 0x53000, 0x100000000 - 0x53000);
	/* An allocation ending on a boundary: its free neighbour is usable. */
	add(&raw, 0x100000000, 0x100000000, WIN_PAGE_READWRITE, 0x10000, WIN_MEM_COMMIT,
	    WIN_PAGE_READWRITE, WIN_MEM_PRIVATE, NULL);
	add_free(&raw, 0x100010000, 0x20000);
	/* A mapped view of 0x11000 bytes, then less free space than the slack
	 * (the next allocation starts 0x4000 later). */
	add(&raw, 0x100030000, 0x100030000, WIN_PAGE_READONLY, 0x11000, WIN_MEM_COMMIT,
	    WIN_PAGE_READONLY, WIN_MEM_MAPPED, "C:\\x.nls");
	add_free(&raw, 0x100041000, 0x4000);
	add(&raw, 0x100045000, 0x100045000, WIN_PAGE_READWRITE, 0x1000, WIN_MEM_COMMIT,
	    WIN_PAGE_READWRITE, WIN_MEM_PRIVATE, NULL);
	s = classify(&raw);
	r = at(s, 0x53000);
	ck_assert_int_eq(r->type, REGION_UNUSABLE);
	ck_assert_uint_eq(r->size, 0xd000);
	ck_assert_uint_eq(r->committed, 0);
	ck_assert_int_eq(r->state, STATE_RESERVE);
	ck_assert(!has_region_at(s, 0x100010000));
	r = at(s, 0x100041000);
	ck_assert_int_eq(r->type, REGION_UNUSABLE);
	ck_assert_uint_eq(r->size, 0x4000);
	/* Free space itself is not stored: 4 allocations + 2 slacks. */
	ck_assert_uint_eq(s->n_regions, 6);
	snapshot_free(s);
	winraw_done(&raw);
}
END_TEST

START_TEST(test_windows_classify__totals_only_when_limited)
{
	struct winraw raw;
	struct snapshot *s;
	struct snapshot_totals tot;

	raw_start(&raw);
	raw.limited = 1;
	raw.private_usage = 300 * MIB;
	raw.working_set = 120 * MIB;
	s = classify(&raw);
	ck_assert_uint_eq(s->flags & SNAPSHOT_TOTALS_ONLY, SNAPSHOT_TOTALS_ONLY);
	ck_assert_uint_eq(s->n_regions, 1);
	ck_assert_int_eq(s->regions[0].type, REGION_PRIVATE);
	ck_assert_uint_eq(s->regions[0].committed, 300 * MIB);
	ck_assert_uint_eq(s->regions[0].resident, 120 * MIB);
	snapshot_totals(s, &tot);
	ck_assert_uint_eq(tot.private_committed, 300 * MIB);
	snapshot_free(s);
	winraw_done(&raw);
}
END_TEST

START_TEST(test_windows_classify__overlap_refused)
{
	struct winraw raw;
	struct snapshot *s = NULL;

	raw_start(&raw);
	add(&raw, 0x10000, 0x10000, WIN_PAGE_READWRITE, 0x2000, WIN_MEM_COMMIT, WIN_PAGE_READWRITE,
	    WIN_MEM_PRIVATE, NULL);
	add(&raw, 0x11000, 0x11000, WIN_PAGE_READWRITE, 0x2000, WIN_MEM_COMMIT, WIN_PAGE_READWRITE,
	    WIN_MEM_PRIVATE, NULL);
	ck_assert_int_eq(snapshot_new(&s), 0);
	ck_assert_int_eq(windows_classify(&raw, s), MD_ERR_PARSE);
	snapshot_free(s);
	winraw_done(&raw);
}
END_TEST

/* Found by tests/fuzz/fuzz_windows.c: a region whose end wraps past 2^64
 * passed the order check (its end compares low), and so did an empty one. */
START_TEST(test_windows_classify__empty_and_wrapping_refused)
{
	struct winraw raw;
	struct snapshot *s = NULL;

	/* Wraps, and the next region lies inside it. */
	raw_start(&raw);
	add(&raw, 0xfffffffffff00000ull, 0xfffffffffff00000ull, WIN_PAGE_READWRITE, 0x200000,
	    WIN_MEM_COMMIT, WIN_PAGE_READWRITE, WIN_MEM_PRIVATE, NULL);
	add(&raw, 0xfffffffffff80000ull, 0xfffffffffff80000ull, WIN_PAGE_READWRITE, 0x1000,
	    WIN_MEM_COMMIT, WIN_PAGE_READWRITE, WIN_MEM_PRIVATE, NULL);
	ck_assert_int_eq(snapshot_new(&s), 0);
	ck_assert_int_eq(windows_classify(&raw, s), MD_ERR_PARSE);
	snapshot_free(s);
	winraw_done(&raw);

	/* Wraps, alone. */
	raw_start(&raw);
	add(&raw, 0xffffffffffff0000ull, 0xffffffffffff0000ull, WIN_PAGE_READWRITE, 0x20000,
	    WIN_MEM_COMMIT, WIN_PAGE_READWRITE, WIN_MEM_PRIVATE, NULL);
	ck_assert_int_eq(snapshot_new(&s), 0);
	ck_assert_int_eq(windows_classify(&raw, s), MD_ERR_PARSE);
	snapshot_free(s);
	winraw_done(&raw);

	/* Empty, between two good regions. */
	raw_start(&raw);
	add(&raw, 0x10000, 0x10000, WIN_PAGE_READWRITE, 0x1000, WIN_MEM_COMMIT, WIN_PAGE_READWRITE,
	    WIN_MEM_PRIVATE, NULL);
	add(&raw, 0x11000, 0x10000, WIN_PAGE_READWRITE, 0, WIN_MEM_COMMIT, WIN_PAGE_READWRITE,
	    WIN_MEM_PRIVATE, NULL);
	add(&raw, 0x12000, 0x10000, WIN_PAGE_READWRITE, 0x1000, WIN_MEM_COMMIT, WIN_PAGE_READWRITE,
	    WIN_MEM_PRIVATE, NULL);
	ck_assert_int_eq(snapshot_new(&s), 0);
	ck_assert_int_eq(windows_classify(&raw, s), MD_ERR_PARSE);
	snapshot_free(s);
	winraw_done(&raw);
}
END_TEST

/* ---- windows_classify: recordings under wine64 --------------------------- */

START_TEST(test_windows_classify__recorded_winalloc)
{
	struct winraw raw;
	struct report rep;
	struct snapshot *s;
	const struct region *r;
	size_t i, k;

	load("windows/winalloc-done.winraw", &raw);
	load_report("windows/winalloc-done.report", &rep);
	ck_assert_int_eq(raw.pid, rep.pid);
	ck_assert_uint_eq(rep.n_commits, 4);
	ck_assert_uint_eq(rep.n_tids, 3);
	s = classify(&raw);
	ck_assert_int_eq(snapshot_sort(s), 0); /* sorted, non-overlapping */
	ck_assert_str_eq(s->name, "winalloc.exe");
	/* wine fills no PEB heap list and QueryWorkingSetEx fails for another
	 * process: said, not guessed. */
	ck_assert_uint_eq(s->flags, SNAPSHOT_NO_HEAP_LIST | SNAPSHOT_NO_WORKING_SET);

	for (i = 0; i < rep.n_commits; i++) {
		r = at(s, rep.commit[i]);
		ck_assert_int_eq(r->type, REGION_PRIVATE);
		ck_assert_int_eq(r->state, STATE_COMMIT);
		ck_assert_uint_eq(r->size, rep.commit_size[i]);
		ck_assert_uint_eq(r->committed, rep.commit_size[i]);
		ck_assert_uint_eq(r->protection, PROT_BIT_READ | PROT_BIT_WRITE);
	}
	r = at(s, rep.reserve);
	ck_assert_int_eq(r->type, REGION_PRIVATE);
	ck_assert_int_eq(r->state, STATE_RESERVE);
	ck_assert_uint_eq(r->size, rep.reserve_size);
	ck_assert_uint_eq(r->committed, 0);
	r = at(s, rep.small);
	ck_assert_uint_eq(r->committed, rep.small_size);
	r = at(s, rep.small + rep.small_size);
	ck_assert_int_eq(r->type, REGION_UNUSABLE);
	ck_assert_uint_eq(r->size, 64 * KIB - rep.small_size);
	r = at(s, rep.section);
	ck_assert_int_eq(r->type, REGION_SHAREABLE);
	ck_assert_uint_eq(r->size, rep.section_size);
	r = at(s, rep.filemap);
	ck_assert_int_eq(r->type, REGION_MAPPED);
	ck_assert_ptr_nonnull(strstr(r->detail, "winalloc.exe"));
	ck_assert_int_eq(strncmp(r->detail, "Z:\\", 3), 0);      /* "\??\" dropped */
	ck_assert_int_eq(at(s, rep.heap)->type, REGION_PRIVATE); /* no heap list */
	r = at(s, 0x140000000);
	ck_assert_int_eq(r->type, REGION_IMAGE);
	ck_assert_ptr_nonnull(strstr(r->detail, "winalloc.exe"));

	/* Each thread winalloc made has one stack block, with a guard page. */
	for (k = 0; k < rep.n_tids; k++) {
		char want[32];
		uint64_t size = 0;
		int guard = 0;

		snprintf(want, sizeof(want), "thread %u", rep.tid[k]);
		for (i = 0; i < s->n_regions; i++) {
			if (strcmp(s->regions[i].detail, want) != 0)
				continue;
			ck_assert_int_eq(s->regions[i].type, REGION_STACK);
			size += s->regions[i].size;
			guard |= (s->regions[i].protection & PROT_BIT_GUARD) != 0;
		}
		ck_assert_msg(size >= 256 * KIB, "%s: stack of %" PRIu64 " bytes", want, size);
		ck_assert_msg(guard, "%s: no guard page", want);
	}
	snapshot_free(s);
	winraw_done(&raw);
}
END_TEST

/* Private Data committed grows by what winalloc.exe committed between the two
 * recordings (3 steps of 16 MiB), within 10%. */
START_TEST(test_windows_classify__recorded_private_growth)
{
	struct winraw a, b;
	struct report ra, rb;
	struct snapshot *sa, *sb;
	struct snapshot_totals ta, tb;
	uint64_t want = 0, got;
	size_t i;

	load("windows/winalloc-step1.winraw", &a);
	load("windows/winalloc-done.winraw", &b);
	load_report("windows/winalloc-step1.report", &ra);
	load_report("windows/winalloc-done.report", &rb);
	ck_assert_uint_eq(ra.n_commits, 1);
	for (i = ra.n_commits; i < rb.n_commits; i++)
		want += rb.commit_size[i];
	ck_assert_uint_eq(want, 48 * MIB);
	sa = classify(&a);
	sb = classify(&b);
	snapshot_totals(sa, &ta);
	snapshot_totals(sb, &tb);
	got = tb.by_type[REGION_PRIVATE].committed - ta.by_type[REGION_PRIVATE].committed;
	ck_assert_msg(got >= want - want / 10 && got <= want + want / 10,
	              "Private Data committed grew by %" PRIu64 ", winalloc committed %" PRIu64,
	              got, want);
	ck_assert_uint_eq(tb.private_committed - ta.private_committed, got);
	snapshot_free(sa);
	snapshot_free(sb);
	winraw_done(&a);
	winraw_done(&b);
}
END_TEST

START_TEST(test_windows_classify__recorded_cmd)
{
	struct winraw raw;
	struct snapshot *s;
	struct snapshot_totals t;
	size_t i, images = 0;

	load("windows/cmd.winraw", &raw);
	s = classify(&raw);
	ck_assert_str_eq(s->name, "cmd.exe");
	ck_assert_uint_eq(raw.n_threads, 1);
	snapshot_totals(s, &t);
	ck_assert_uint_gt(t.by_type[REGION_STACK].size, 0);
	ck_assert_uint_gt(t.by_type[REGION_UNUSABLE].size, 0);
	for (i = 0; i < s->n_regions; i++) {
		const struct region *r = &s->regions[i];

		ck_assert_int_ne(r->type, REGION_FREE);
		if (r->type == REGION_IMAGE && strstr(r->detail, "cmd.exe") != NULL)
			images++;
		if (r->type == REGION_IMAGE || r->type == REGION_MAPPED)
			ck_assert_msg(r->detail[0] != '\0', "unnamed image at 0x%" PRIx64, r->base);
	}
	ck_assert_uint_gt(images, 2); /* header, code, data ... */
	snapshot_free(s);
	winraw_done(&raw);
}
END_TEST

/* The recorder's own process: the one recording whose working set wine
 * read (QueryWorkingSetEx); the per-region counts come through. */
START_TEST(test_windows_classify__recorded_working_set)
{
	struct winraw raw;
	struct snapshot *s;
	struct snapshot_totals t;
	uint64_t raw_resident = 0, raw_private = 0;
	size_t i;

	load("windows/self.winraw", &raw);
	ck_assert_int_eq(raw.working_set_source, WINRAW_AVAILABLE);
	for (i = 0; i < raw.n_regions; i++) {
		raw_resident += raw.regions[i].resident;
		raw_private += raw.regions[i].private_resident;
	}
	s = classify(&raw);
	ck_assert_uint_eq(s->flags & SNAPSHOT_NO_WORKING_SET, 0);
	snapshot_totals(s, &t);
	ck_assert_uint_eq(t.all.resident, raw_resident);
	ck_assert_uint_eq(t.all.private_resident, raw_private);
	ck_assert_uint_eq(t.all.private_resident + t.all.shared_resident, t.all.resident);
	/* Code pages of the images are shared, the touched stack is private. */
	ck_assert_uint_gt(t.by_type[REGION_IMAGE].shared_resident, 0);
	ck_assert_uint_gt(t.by_type[REGION_STACK].private_resident, 0);
	ck_assert_uint_eq(t.by_type[REGION_STACK].shared_resident, 0);
	/* Within 50% of the process's own WorkingSetSize (read moments apart). */
	ck_assert_msg(
	        t.all.resident > raw.working_set / 2 && t.all.resident < raw.working_set * 3 / 2,
	        "resident %" PRIu64 " vs WorkingSetSize %" PRIu64, t.all.resident, raw.working_set);
	snapshot_free(s);
	winraw_done(&raw);
}
END_TEST

/* ---- snapshot_record_raw ------------------------------------------------- */

START_TEST(test_snapshot_record_raw__self)
{
	char *buf, path[4096];
	size_t len;
	FILE *f = capture_open(path, sizeof(path));
	int rc, linux_proc = !on_windows && access("/proc/self/smaps", R_OK) == 0;

	rc = snapshot_record_raw((int)getpid(), f);
	buf = captured(f, path, &len);
	if (rc == MD_ERR_UNSUPPORTED) {
		ck_assert_msg(!linux_proc && !on_windows, "no raw recorder on Linux or Windows");
		ck_assert_uint_eq(len, 0);
	} else if (linux_proc) {
		char want[32];

		ck_assert_int_eq(rc, 0);
		snprintf(want, sizeof(want), "==> stat <==\n%d (", (int)getpid());
		ck_assert_int_eq(strncmp(buf, want, strlen(want)), 0);
		ck_assert_ptr_nonnull(strstr(buf, "\n==> status <==\nName:\t"));
		ck_assert_ptr_nonnull(strstr(buf, "\n==> smaps <==\n"));
		ck_assert_ptr_nonnull(strstr(buf, "VmFlags:"));
	} else {
		/* Windows (or wine): the text form of this very process. */
		ck_assert(on_windows);
		struct winraw raw;
		struct winraw_error err;

		ck_assert_int_eq(rc, 0);
		winraw_init(&raw);
		ck_assert_int_eq(winraw_parse(&raw, buf, len, &err), 0);
		ck_assert_int_eq(raw.pid, (int)getpid());
		ck_assert_uint_gt(raw.n_regions, 10);
		ck_assert_int_eq(raw.working_set_source, WINRAW_AVAILABLE);
		winraw_done(&raw);
	}
	free(buf);
	f = capture_open(path, sizeof(path));
	ck_assert_int_eq(snapshot_record_raw(999999999, f),
	                 rc == MD_ERR_UNSUPPORTED ? MD_ERR_UNSUPPORTED : MD_ERR_NOPROC);
	buf = captured(f, path, &len);
	ck_assert_uint_eq(len, 0); /* nothing written for a missing process */
	free(buf);
}
END_TEST

static Suite *
windows_suite(void)
{
	Suite *s = suite_create("windows_regions");
	TCase *tc;

	tc = tcase_create("windows_prot_bits");
	tcase_add_test(tc, test_windows_prot_bits__every_page_value);
	suite_add_tcase(s, tc);
	tc = tcase_create("winraw_write");
	tcase_add_test(tc, test_winraw_write__round_trip);
	suite_add_tcase(s, tc);
	tc = tcase_create("winraw_parse");
	tcase_add_loop_test(tc, test_winraw_parse__malformed_refused_with_line, 0,
	                    (int)(sizeof(bad_files) / sizeof(bad_files[0])));
	tcase_add_test(tc, test_winraw_parse__empty_and_garbage);
	tcase_add_test(tc, test_winraw_parse__unusual_but_valid);
	tcase_add_test(tc, test_winraw_parse__limited_access);
	suite_add_tcase(s, tc);
	tc = tcase_create("winraw_read");
	tcase_add_test(tc, test_winraw_read__stream);
	suite_add_tcase(s, tc);
	tc = tcase_create("windows_classify");
	tcase_add_test(tc, test_windows_classify__identity_and_flags);
	tcase_add_test(tc, test_windows_classify__image_mapped_shareable);
	tcase_add_test(tc, test_windows_classify__heaps_by_allocation_base);
	tcase_add_test(tc, test_windows_classify__stack_with_guard_and_reserve);
	tcase_add_test(tc, test_windows_classify__unusable_slack);
	tcase_add_test(tc, test_windows_classify__totals_only_when_limited);
	tcase_add_test(tc, test_windows_classify__overlap_refused);
	tcase_add_test(tc, test_windows_classify__empty_and_wrapping_refused);
	tcase_add_test(tc, test_windows_classify__recorded_winalloc);
	tcase_add_test(tc, test_windows_classify__recorded_private_growth);
	tcase_add_test(tc, test_windows_classify__recorded_cmd);
	tcase_add_test(tc, test_windows_classify__recorded_working_set);
	suite_add_tcase(s, tc);
	tc = tcase_create("snapshot_record_raw");
	tcase_add_test(tc, test_snapshot_record_raw__self);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(windows_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
