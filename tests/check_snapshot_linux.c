/*
 * check_snapshot_linux.c - the Linux parsers and classifier (snapshot/
 * linux_smaps.c) on hand-written smaps records and on recorded /proc
 * fixtures, and snapshot_collect() pointed at those fixtures as a /proc root.
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/linux_smaps.h"
#include "tests/testutil.h"

/* ---- building smaps text ------------------------------------------------ */

struct text {
	char *buf;
	size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		ck_assert_int_ge(n, 0);
		if ((size_t)n < t->cap - t->len)
			break;
		t->cap = t->cap * 2 + (size_t)n + 1;
		t->buf = realloc(t->buf, t->cap);
		ck_assert_ptr_nonnull(t->buf);
	}
	t->len += (size_t)n;
}

/* One complete smaps record.  @rss_kb is split as private dirty. */
static void
rec(struct text *t, uint64_t start, uint64_t end, const char *perms, uint64_t inode,
    const char *path, uint64_t rss_kb, const char *vmflags)
{
	uint64_t kb = (end - start) / 1024;

	text_add(t, "%" PRIx64 "-%" PRIx64 " %s 00000000 %s %" PRIu64 "      %s\n", start, end,
	         perms, inode ? "08:01" : "00:00", inode, path);
	text_add(t,
	         "Size:           %8" PRIu64 " kB\nKernelPageSize:        4 kB\nMMUPageSize:  "
	         "          4 kB\nRss:            %8" PRIu64 " kB\nPss:            %8" PRIu64
	         " kB\nShared_Clean:          0 kB\nShared_Dirty:          0 kB\nPrivate_Clean:  "
	         "       0 kB\nPrivate_Dirty:  %8" PRIu64 " kB\nReferenced:     %8" PRIu64
	         " kB\nAnonymous:      %8" PRIu64 " kB\nSwap:                  0 kB\nSwapPss:     "
	         "          0 kB\nLocked:                0 kB\nTHPeligible:    0\n",
	         kb, rss_kb, rss_kb, rss_kb, rss_kb, rss_kb);
	text_add(t, "VmFlags:%s%s\n", vmflags[0] ? " " : "", vmflags);
}

struct parsed {
	struct snapshot *snap;
	struct smaps_parser parser;
	int rc;
};

static void
parse_text(struct parsed *p, const char *buf, size_t len)
{
	ck_assert_int_eq(snapshot_new(&p->snap), 0);
	smaps_parser_init(&p->parser, p->snap, 0);
	p->rc = smaps_parse_buffer(&p->parser, buf, len);
}

static void
parsed_done(struct parsed *p)
{
	smaps_parser_done(&p->parser);
	snapshot_free(p->snap);
}

/* Parse and classify @t; returns the snapshot (owned by @p). */
static struct snapshot *
classify_text(struct parsed *p, struct text *t, const struct linux_thread_sp *sps, size_t n_sps)
{
	parse_text(p, t->buf, t->len);
	ck_assert_msg(p->rc == 0, "parse failed at line %zu: %s", p->parser.error_line,
	              p->parser.error ? p->parser.error : "");
	ck_assert_int_eq(linux_classify(p->snap, p->parser.vmas, p->parser.n_vmas, sps, n_sps, 100),
	                 0);
	ck_assert_uint_eq(p->snap->n_regions, p->parser.n_vmas);
	return p->snap;
}

static const struct region *
region_at(const struct snapshot *s, uint64_t base)
{
	size_t i;

	for (i = 0; i < s->n_regions; i++)
		if (s->regions[i].base == base)
			return &s->regions[i];
	ck_abort_msg("no region at 0x%" PRIx64, base);
	return NULL;
}

#define ASSERT_REGION(s, base, type_, state_, committed_)                                          \
	do {                                                                                       \
		const struct region *r_ = region_at((s), (base));                                  \
		ck_assert_msg(r_->type == (type_), "0x%" PRIx64 ": type %s, expected %s",          \
		              (uint64_t)(base), region_type_name(r_->type),                        \
		              region_type_name(type_));                                            \
		ck_assert_msg(r_->state == (state_), "0x%" PRIx64 ": state %s, expected %s",       \
		              (uint64_t)(base), region_state_name(r_->state),                      \
		              region_state_name(state_));                                          \
		ck_assert_uint_eq(r_->committed, (committed_));                                    \
	} while (0)

/* ---- smaps_parse_buffer -------------------------------------------------- */

START_TEST(test_smaps_parse_buffer__fields)
{
	struct text t = {0};
	struct parsed p;
	const struct smaps_vma *v;

	text_add(&t,
	         "7f0000001000-7f0000005000 rw-s 00002000 fd:03 123456                     "
	         "/var/lib/my app/data file.db (deleted)\n"
	         "Size:                 16 kB\nRss:                   8 kB\nPss:           "
	         "        5 kB\nShared_Clean:          4 kB\nShared_Dirty:          0 kB\n"
	         "Private_Clean:         0 kB\nPrivate_Dirty:         4 kB\nSwap:        "
	         "          4 kB\nLocked:                8 kB\nVmFlags: rd wr sh mr mw me ms ac\n");
	parse_text(&p, t.buf, t.len);
	ck_assert_int_eq(p.rc, 0);
	ck_assert_uint_eq(p.parser.n_vmas, 1);
	v = &p.parser.vmas[0];
	ck_assert_uint_eq(v->start, 0x7f0000001000ull);
	ck_assert_uint_eq(v->end, 0x7f0000005000ull);
	ck_assert_uint_eq(v->perms, PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_SHARED);
	ck_assert_uint_eq(v->dev_major, 0xfd);
	ck_assert_uint_eq(v->dev_minor, 3);
	ck_assert_uint_eq(v->inode, 123456);
	ck_assert_str_eq(v->path, "/var/lib/my app/data file.db (deleted)");
	ck_assert_int_eq(v->deleted, 1);
	ck_assert_uint_eq(v->rss, 8192);
	ck_assert_uint_eq(v->pss, 5120);
	ck_assert_uint_eq(v->shared_resident, 4096);
	ck_assert_uint_eq(v->private_resident, 4096);
	ck_assert_uint_eq(v->swap, 4096);
	ck_assert_uint_eq(v->locked, 8192);
	ck_assert_uint_eq(v->vmflags, VMF_AC | VMF_SH | VMF_WR);
	parsed_done(&p);
	free(t.buf);
}
END_TEST

START_TEST(test_smaps_parse_buffer__errors)
{
	static const struct {
		const char *text;
		size_t line;
	} cases[] = {
	        /* key line before any header */
	        {"Size:                  4 kB\n", 1},
	        /* truncated final line */
	        {"00400000-00401000 r--p 00000000 00:00 0 \nSize:                  4 kB\nVmFl", 3},
	        /* a record without VmFlags: followed by the next header */
	        {"00400000-00401000 r--p 00000000 00:00 0 \nSize:                  4 kB\n"
	         "00401000-00402000 r--p 00000000 00:00 0 \nSize:                  4 kB\nVmFlags: "
	         "rd\n",
	         3},
	        /* a record cut at the end of the file (no VmFlags:) */
	        {"00400000-00401000 r--p 00000000 00:00 0 \nSize:                  4 kB\n", 2},
	        /* Size: disagrees with the range */
	        {"00400000-00401000 r--p 00000000 00:00 0 \nSize:                  8 kB\nVmFlags: "
	         "rd\n",
	         2},
	        /* end below start */
	        {"00401000-00400000 r--p 00000000 00:00 0 \nSize:                  4 kB\nVmFlags: "
	         "rd\n",
	         1},
	        /* bad permissions */
	        {"00400000-00401000 rq-p 00000000 00:00 0 \nSize:                  4 kB\nVmFlags: "
	         "rd\n",
	         1},
	        /* value that is not a number */
	        {"00400000-00401000 r--p 00000000 00:00 0 \nSize:                  4 kB\nRss:  x "
	         "kB\n"
	         "VmFlags: rd\n",
	         3},
	        /* neither header nor key */
	        {"00400000-00401000 r--p 00000000 00:00 0 \nthis is not smaps\n", 2},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct parsed p;

		parse_text(&p, cases[i].text, strlen(cases[i].text));
		ck_assert_msg(p.rc == MD_ERR_PARSE, "case %zu: rc %d", i, p.rc);
		ck_assert_msg(p.parser.error_line == cases[i].line,
		              "case %zu: line %zu, expected %zu", i, p.parser.error_line,
		              cases[i].line);
		ck_assert_ptr_nonnull(p.parser.error);
		parsed_done(&p);
	}
}
END_TEST

START_TEST(test_smaps_parse_buffer__tolerated)
{
	/* Unknown keys are skipped, an empty VmFlags: is a record without
	 * flags, and an anonymous record has an empty path. */
	const char *text =
	        "00400000-00402000 rw-p 00000000 00:00 0 \n"
	        "Size:                  8 kB\nFutureKey:    12 kB\nAnotherOne: yes please\n"
	        "Rss:                   4 kB\nVmFlags:\n";
	struct parsed p;

	parse_text(&p, text, strlen(text));
	ck_assert_int_eq(p.rc, 0);
	ck_assert_uint_eq(p.parser.n_vmas, 1);
	ck_assert_uint_eq(p.parser.vmas[0].vmflags, 0);
	ck_assert_uint_eq(p.parser.vmas[0].rss, 4096);
	ck_assert_str_eq(p.parser.vmas[0].path, "");
	ck_assert_int_eq(p.parser.vmas[0].deleted, 0);
	parsed_done(&p);
}
END_TEST

START_TEST(test_smaps_parse_buffer__vmflags_forms)
{
	/* Linux's " xx" per flag, a flag at the very end without a space,
	 * and irregular spacing (a tab is no separator of its own). */
	static const struct {
		const char *flags;
		unsigned want;
	} cases[] = {
	        {"VmFlags: rd wr mr mw me ac sd ", VMF_WR | VMF_AC},
	        {"VmFlags: rd ex mr mw me nr gd lo sh", VMF_EX | VMF_NR | VMF_GD | VMF_LO | VMF_SH},
	        {"VmFlags:  ac\tnr  gd xyz wr", VMF_GD | VMF_WR},
	        {"VmFlags: ac ACwr ex", VMF_AC | VMF_EX},
	        {"VmFlags:", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct text t = {0};
		struct parsed p;

		text_add(&t,
		         "00400000-00401000 rw-p 00000000 00:00 0 \nSize:                  4 "
		         "kB\n%s\n",
		         cases[i].flags);
		parse_text(&p, t.buf, t.len);
		ck_assert_int_eq(p.rc, 0);
		ck_assert_msg(p.parser.vmas[0].vmflags == cases[i].want,
		              "\"%s\": 0x%x, expected 0x%x", cases[i].flags,
		              p.parser.vmas[0].vmflags, cases[i].want);
		parsed_done(&p);
		free(t.buf);
	}
}
END_TEST

START_TEST(test_smaps_parse_line__max_vmas)
{
	struct text t = {0};
	struct snapshot *s;
	struct smaps_parser p;
	size_t i, off = 0, added = 0;
	int rc = 0;

	for (i = 0; i < 5; i++)
		rec(&t, 0x1000000 + i * 0x2000, 0x1001000 + i * 0x2000, "rw-p", 0, "", 4,
		    "rd wr ac");
	ck_assert_int_eq(snapshot_new(&s), 0);
	smaps_parser_init(&p, s, 3);
	while (off < t.len) {
		char *nl = memchr(t.buf + off, '\n', t.len - off);

		rc = smaps_parse_line(&p, t.buf + off, (size_t)(nl - (t.buf + off)));
		if (rc != 0)
			break;
		off = (size_t)(nl - t.buf) + 1;
		added = p.n_vmas;
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_uint_eq(added, 3);
	smaps_parser_done(&p);
	snapshot_free(s);
	free(t.buf);
}
END_TEST

/* ---- small parsers --------------------------------------------------------- */

START_TEST(test_linux_parse_stat__comm_with_parens)
{
	const char *buf = "4242 (my (odd)) name) S 1 4242 4242 0 -1 4194560 120 0 0 0 5 3 0 0 20 0 "
	                  "3 0 987654 12345678 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 "
	                  "1 0 0 0 0 0\n";
	struct linux_stat st;

	ck_assert_int_eq(linux_parse_stat(buf, strlen(buf), &st), 0);
	ck_assert_str_eq(st.comm, "my (odd)) name");
	ck_assert_int_eq(st.state, 'S');
	ck_assert_uint_eq(st.flags, 4194560);
	ck_assert_uint_eq(st.start_time, 987654);
	ck_assert_int_eq(linux_parse_stat("12 (x) S 1 2", 12, &st), MD_ERR_PARSE);
	ck_assert_int_eq(linux_parse_stat("no parens", 9, &st), MD_ERR_PARSE);
}
END_TEST

START_TEST(test_linux_parse_status__vmpte)
{
	const char *user = "Name:\tbash\nVmSize:\t   10000 kB\nVmPTE:\t      52 kB\nThreads:\t1\n";
	const char *kthread = "Name:\tkthreadd\nState:\tS (sleeping)\nThreads:\t1\n";
	struct linux_status st;

	ck_assert_int_eq(linux_parse_status(user, strlen(user), &st), 0);
	ck_assert_uint_eq(st.vm_pte, 52 * 1024);
	ck_assert_uint_eq(st.vm_size, 10000 * 1024);
	ck_assert_int_eq(st.have_vm_size, 1);
	ck_assert_int_eq(linux_parse_status(kthread, strlen(kthread), &st), 0);
	ck_assert_int_eq(st.have_vm_size, 0);
	ck_assert_uint_eq(st.vm_pte, 0);
}
END_TEST

START_TEST(test_linux_parse_syscall_sp__forms)
{
	const char *blocked = "202 0x7f1 0x80 0x0 0x0 0x0 0x0 0x7ffd1234abc0 0x7f12345678\n";
	const char *user = "-1 0x7f00dead0000 0x401000\n";
	uint64_t sp;

	ck_assert_int_eq(linux_parse_syscall_sp(blocked, strlen(blocked), &sp), 0);
	ck_assert_uint_eq(sp, 0x7ffd1234abc0ull);
	ck_assert_int_eq(linux_parse_syscall_sp(user, strlen(user), &sp), 0);
	ck_assert_uint_eq(sp, 0x7f00dead0000ull);
	ck_assert_int_eq(linux_parse_syscall_sp("running\n", 8, &sp), MD_ERR_NOTFOUND);
	ck_assert_int_eq(linux_parse_syscall_sp("1 2\n", 4, &sp), MD_ERR_PARSE);
}
END_TEST

/* Found by tests/fuzz/: an SP field with a bad byte after its first hex
 * digits was refused, but the digits before it were left in *sp. */
START_TEST(test_linux_parse_syscall_sp__fuzz_bad_sp_left_zero)
{
	uint64_t sp = 1;
	size_t len;
	char *buf = test_read_file(test_fixture("fuzz/syscall_bad_sp"), &len);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(linux_parse_syscall_sp(buf, len, &sp), MD_ERR_PARSE);
	ck_assert_uint_eq(sp, 0);
	free(buf);
}
END_TEST

START_TEST(test_linux_parse_btime__line)
{
	const char *buf = "cpu  1 2 3 4\nintr 5\nbtime 1795300000\nprocesses 10\n";
	int64_t bt;

	ck_assert_int_eq(linux_parse_btime(buf, strlen(buf), &bt), 0);
	ck_assert_int_eq(bt, 1795300000);
	ck_assert_int_eq(linux_parse_btime("cpu 1\n", 6, &bt), MD_ERR_NOTFOUND);
}
END_TEST

/* ---- linux_classify -------------------------------------------------------- */

START_TEST(test_linux_classify__mapping_table)
{
	const uint64_t M = 1024 * 1024, K = 1024;
	const uint64_t lib = 0x7f1000000000ull, arena = 0x7f2000000000ull; /* 64 MiB aligned */
	const uint64_t tstack = 0x7f3000001000ull, gstack = 0x7f3000900000ull;
	struct linux_thread_sp sps[] = {{101, tstack + 8 * M - 256}};
	struct text t = {0};
	struct parsed p;
	struct snapshot *s;

	rec(&t, 0x400000, 0x401000, "r--p", 77, "/usr/bin/app", 4, "rd mr mw me");
	rec(&t, 0x401000, 0x402000, "r-xp", 77, "/usr/bin/app", 4, "rd ex mr mw me");
	rec(&t, 0x402000, 0x403000, "rw-p", 77, "/usr/bin/app", 4, "rd wr mr mw me ac");
	rec(&t, 0x403000, 0x405000, "rw-p", 0, "", 8, "rd wr mr mw me ac");           /* .bss */
	rec(&t, 0x1000000, 0x1100000, "rw-p", 0, "[heap]", 512, "rd wr mr mw me ac"); /* brk */
	rec(&t, 0x2000000, 0x2100000, "rw-p", 0, "", 1024, "rd wr mr mw me ac");      /* private */
	rec(&t, 0x3000000, 0x3000000 + 4096 * M, "---p", 0, "", 0, "mr mw me nr");    /* reserve */
	rec(&t, 0x200000000ull, 0x200001000ull, "---p", 0, "", 0, "mr mw me ac");     /* charged */
	rec(&t, lib, lib + 0x1000, "r--p", 88, "/usr/lib/libz.so.1", 4, "rd mr mw me");
	rec(&t, lib + 0x1000, lib + 0x3000, "r-xp", 88, "/usr/lib/libz.so.1", 8, "rd ex mr mw me");
	rec(&t, lib + 0x3000, lib + 0x5000, "---p", 88, "/usr/lib/libz.so.1", 0, "mr mw me");
	rec(&t, lib + 0x10000, lib + 0x20000, "r--p", 99, "/srv/data.bin", 64, "rd mr mw me");
	rec(&t, lib + 0x20000, lib + 0x30000, "rw-s", 5, "/dev/zero (deleted)", 64,
	    "rd wr sh mr mw me ms");
	rec(&t, lib + 0x30000, lib + 0x40000, "rw-s", 6, "/SYSV0000abcd (deleted)", 64,
	    "rd wr sh mr mw me ms");
	rec(&t, lib + 0x40000, lib + 0x50000, "rw-s", 7, "/memfd:jit (deleted)", 64,
	    "rd wr sh mr mw me ms");
	rec(&t, lib + 0x50000, lib + 0x60000, "rw-s", 8, "/dev/shm/ring", 64,
	    "rd wr sh mr mw me ms");
	rec(&t, lib + 0x60000, lib + 0x70000, "rw-s", 9, "/srv/shared.map", 64,
	    "rd wr sh mr mw me ms");
	rec(&t, arena, arena + 132 * K, "rw-p", 0, "", 100, "rd wr mr mw me nr");
	rec(&t, arena + 132 * K, arena + 64 * M, "---p", 0, "", 0, "mr mw me nr");
	rec(&t, arena + 64 * M, arena + 128 * M, "rw-p", 0, "", 100, "rd wr mr mw me nr");
	rec(&t, tstack - 4096, tstack, "---p", 0, "", 0, "mr mw me");
	rec(&t, tstack, tstack + 8 * M, "rw-p", 0, "", 16, "rd wr mr mw me ac");
	rec(&t, gstack - 4096, gstack, "---p", 0, "", 0, "mr mw me");
	rec(&t, gstack, gstack + 256 * K, "rw-p", 0, "", 16, "rd wr mr mw me ac");
	rec(&t, 0x7f4000000000ull, 0x7f4000010000ull, "rw-p", 0, "[anon:libc_malloc]", 16,
	    "rd wr mr mw me ac");
	rec(&t, 0x7f4000010000ull, 0x7f4000020000ull, "rw-p", 0, "[anon:v8 heap]", 16,
	    "rd wr mr mw me ac");
	rec(&t, 0x7f4000020000ull, 0x7f4000030000ull, "rw-p", 0, "[anon:buffers]", 16,
	    "rd wr mr mw me ac");
	rec(&t, 0x7ffd00000000ull, 0x7ffd00021000ull, "rw-p", 0, "[stack]", 16,
	    "rd wr mr mw me gd ac");
	rec(&t, 0x7ffd00100000ull, 0x7ffd00102000ull, "r-xp", 0, "[vdso]", 4, "rd ex mr mw me de");

	s = classify_text(&p, &t, sps, 1);
	ASSERT_REGION(s, 0x400000, REGION_IMAGE, STATE_COMMIT, 0);
	ASSERT_REGION(s, 0x401000, REGION_IMAGE, STATE_COMMIT, 0);
	ASSERT_REGION(s, 0x402000, REGION_IMAGE, STATE_COMMIT, 4096);
	ASSERT_REGION(s, 0x403000, REGION_IMAGE, STATE_COMMIT, 8192);
	ck_assert_ptr_nonnull(strstr(region_at(s, 0x403000)->detail, "/usr/bin/app [.bss]"));
	ASSERT_REGION(s, 0x1000000, REGION_HEAP, STATE_COMMIT, M);
	ASSERT_REGION(s, 0x2000000, REGION_PRIVATE, STATE_COMMIT, M);
	ASSERT_REGION(s, 0x3000000, REGION_PRIVATE, STATE_RESERVE, 0);
	ASSERT_REGION(s, 0x200000000ull, REGION_PRIVATE, STATE_COMMIT, 4096);
	ASSERT_REGION(s, lib, REGION_IMAGE, STATE_COMMIT, 0);
	ASSERT_REGION(s, lib + 0x3000, REGION_IMAGE, STATE_RESERVE, 0);
	ASSERT_REGION(s, lib + 0x10000, REGION_MAPPED, STATE_COMMIT, 0);
	ck_assert_str_eq(region_at(s, lib + 0x10000)->detail, "/srv/data.bin");
	ASSERT_REGION(s, lib + 0x20000, REGION_SHAREABLE, STATE_COMMIT, 0);
	ck_assert_str_eq(region_at(s, lib + 0x20000)->detail,
	                 "/dev/zero (deleted): shared anonymous memory");
	ASSERT_REGION(s, lib + 0x30000, REGION_SHAREABLE, STATE_COMMIT, 0);
	ASSERT_REGION(s, lib + 0x40000, REGION_SHAREABLE, STATE_COMMIT, 0);
	ASSERT_REGION(s, lib + 0x50000, REGION_SHAREABLE, STATE_COMMIT, 0);
	ASSERT_REGION(s, lib + 0x60000, REGION_MAPPED, STATE_COMMIT, 0);
	/* glibc arena: counted committed although mapped MAP_NORESERVE. */
	ASSERT_REGION(s, arena, REGION_HEAP, STATE_COMMIT, 132 * K);
	ASSERT_REGION(s, arena + 132 * K, REGION_HEAP, STATE_RESERVE, 0);
	ASSERT_REGION(s, arena + 64 * M, REGION_HEAP, STATE_COMMIT, 64 * M);
	ASSERT_REGION(s, tstack - 4096, REGION_STACK, STATE_RESERVE, 0);
	ASSERT_REGION(s, tstack, REGION_STACK, STATE_COMMIT, 8 * M);
	ck_assert_ptr_nonnull(strstr(region_at(s, tstack)->detail, "tid 101"));
	ASSERT_REGION(s, gstack - 4096, REGION_STACK, STATE_RESERVE, 0);
	ASSERT_REGION(s, gstack, REGION_STACK, STATE_COMMIT, 256 * K);
	ck_assert_ptr_nonnull(strstr(region_at(s, gstack)->detail, "guard page below"));
	ASSERT_REGION(s, 0x7f4000000000ull, REGION_HEAP, STATE_COMMIT, 64 * K);
	ASSERT_REGION(s, 0x7f4000010000ull, REGION_MANAGED_HEAP, STATE_COMMIT, 64 * K);
	ASSERT_REGION(s, 0x7f4000020000ull, REGION_PRIVATE, STATE_COMMIT, 64 * K);
	ASSERT_REGION(s, 0x7ffd00000000ull, REGION_STACK, STATE_COMMIT, 0x21000);
	ck_assert_ptr_nonnull(strstr(region_at(s, 0x7ffd00000000ull)->detail, "main thread"));
	ASSERT_REGION(s, 0x7ffd00100000ull, REGION_IMAGE, STATE_COMMIT, 0);
	parsed_done(&p);
	free(t.buf);
}
END_TEST

START_TEST(test_linux_classify__not_fooled)
{
	/* An unaligned rw-p region after a big PROT_NONE neighbour is neither
	 * an arena nor a stack; a guard larger than 64 KiB is no stack guard;
	 * an anonymous region after a read-only image segment is no .bss. */
	const uint64_t M = 1024 * 1024;
	struct text t = {0};
	struct parsed p;
	struct snapshot *s;

	rec(&t, 0x10000000, 0x10000000 + 8 * M, "---p", 0, "", 0, "mr mw me nr");
	rec(&t, 0x10000000 + 8 * M, 0x10000000 + 9 * M, "rw-p", 0, "", 4, "rd wr mr mw me ac");
	rec(&t, 0x20000000, 0x20001000, "r--p", 5, "/usr/lib/libro.so", 4, "rd mr mw me");
	rec(&t, 0x20001000, 0x20002000, "r-xp", 5, "/usr/lib/libro.so", 4, "rd ex mr mw me");
	rec(&t, 0x20002000, 0x20003000, "rw-p", 0, "", 4, "rd wr mr mw me ac");
	s = classify_text(&p, &t, NULL, 0);
	ASSERT_REGION(s, 0x10000000, REGION_PRIVATE, STATE_RESERVE, 0);
	ASSERT_REGION(s, 0x10000000 + 8 * M, REGION_PRIVATE, STATE_COMMIT, M);
	ASSERT_REGION(s, 0x20002000, REGION_PRIVATE, STATE_COMMIT, 4096);
	parsed_done(&p);
	free(t.buf);
}
END_TEST

/* ---- fixtures ------------------------------------------------------------- */

/* Parse a malformed fixture file; returns the parser status, and the
 * longest path seen in @longest_path. */
static int
parse_fixture(const char *rel, size_t *error_line, size_t *n_vmas, char *longest_path,
              size_t path_size)
{
	struct parsed p;
	size_t len;
	char *buf = test_read_file(test_fixture(rel), &len);
	int rc;

	if (buf == NULL)
		ck_abort_msg("fixture %s not found (MD_FIXTURES unset?)", rel);
	parse_text(&p, buf, len);
	rc = p.rc;
	*error_line = p.parser.error_line;
	*n_vmas = p.parser.n_vmas;
	if (longest_path != NULL) {
		size_t i, best = 0;

		longest_path[0] = '\0';
		for (i = 0; i < p.parser.n_vmas; i++) {
			if (strlen(p.parser.vmas[i].path) > best) {
				best = strlen(p.parser.vmas[i].path);
				snprintf(longest_path, path_size, "%s", p.parser.vmas[i].path);
			}
		}
	}
	parsed_done(&p);
	free(buf);
	return rc;
}

START_TEST(test_smaps_parse_buffer__malformed_fixtures)
{
	/* Expected values from tests/fixtures/malformed/README.md. */
	static const struct {
		const char *file;
		int rc;
		size_t line; /* error line when rc != 0 */
		size_t n;    /* VMAs when rc == 0 */
		size_t plen; /* longest path, when nonzero */
	} cases[] = {
	        {"malformed/truncated_record.smaps", MD_ERR_PARSE, 55, 0, 0},
	        {"malformed/no_header.smaps", MD_ERR_PARSE, 1, 0, 0},
	        {"malformed/bad_header.smaps", MD_ERR_PARSE, 26, 0, 0},
	        {"malformed/reversed_header.smaps", MD_ERR_PARSE, 26, 0, 0},
	        {"malformed/empty_vmflags.smaps", 0, 0, 3, 0},
	        {"malformed/unknown_keys.smaps", 0, 0, 3, 0},
	        {"malformed/long_path.smaps", 0, 0, 3, 5000},
	        {"malformed/spaces_deleted.smaps", 0, 0, 5, 0},
	};
	char path[8192];
	size_t i, line, n;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = parse_fixture(cases[i].file, &line, &n, path, sizeof(path));
		ck_assert_msg(rc == cases[i].rc, "%s: rc %d", cases[i].file, rc);
		if (rc != 0)
			ck_assert_msg(line == cases[i].line, "%s: error line %zu, expected %zu",
			              cases[i].file, line, cases[i].line);
		else
			ck_assert_msg(n == cases[i].n, "%s: %zu VMAs, expected %zu", cases[i].file,
			              n, cases[i].n);
		if (cases[i].plen)
			ck_assert_uint_eq(strlen(path), cases[i].plen);
	}
}
END_TEST

/* Inputs on which tests/fuzz/ found undefined behaviour
 * (tests/fixtures/fuzz/README.md). */
START_TEST(test_smaps_parse_buffer__fuzz_findings)
{
	struct smaps_parser p;
	struct snapshot *s = NULL;
	char *buf;
	size_t len;

	/* An empty file: no VMA to classify, and no region array yet (the
	 * classifiers computed NULL + 0). */
	buf = test_read_file(test_fixture("fuzz/smaps_empty.smaps"), &len);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(snapshot_new(&s), 0);
	smaps_parser_init(&p, s, 0);
	ck_assert_int_eq(smaps_parse_buffer(&p, buf, len), 0);
	ck_assert_uint_eq(p.n_vmas, 0);
	ck_assert_int_eq(linux_classify(s, p.vmas, p.n_vmas, NULL, 0, 1), 0);
	ck_assert_uint_eq(s->n_regions, 0);
	smaps_parser_done(&p);
	snapshot_free(s);
	ck_assert_int_eq(snapshot_new(&s), 0);
	smaps_parser_init_regions(&p, s, 0);
	ck_assert_int_eq(smaps_parse_buffer(&p, buf, len), 0);
	ck_assert_int_eq(linux_classify_regions(s, &p, NULL, 0, 1), 0);
	ck_assert_uint_eq(s->n_regions, 0);
	smaps_parser_done(&p);
	snapshot_free(s);
	free(buf);

	/* A byte above 0x7f in VmFlags (a negative char was shifted); the
	 * flags after it still count: "ac" makes the region committed. */
	buf = test_read_file(test_fixture("fuzz/smaps_vmflags_high_byte.smaps"), &len);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(snapshot_new(&s), 0);
	smaps_parser_init(&p, s, 0);
	ck_assert_int_eq(smaps_parse_buffer(&p, buf, len), 0);
	ck_assert_uint_eq(p.n_vmas, 1);
	ck_assert_uint_eq(p.vmas[0].vmflags, VMF_AC);
	ck_assert_int_eq(linux_classify(s, p.vmas, p.n_vmas, NULL, 0, 1), 0);
	ck_assert_uint_eq(s->n_regions, 1);
	ck_assert_uint_eq(s->regions[0].size, 64 * 1024);
	ck_assert_uint_eq(s->regions[0].committed, 64 * 1024);
	smaps_parser_done(&p);
	snapshot_free(s);
	free(buf);
}
END_TEST

/* ---- smaps_parse_chunk, smaps_parse_stop, linux_classify_regions ------ */

/* Texts on which the fast and the general paths of the parser must agree:
 * the fixtures, generated records (values of 1 to 9 digits), and lines
 * that only look like Linux's fixed layout. */
static const char *const chunk_fixtures[] = {
        "threads/17298/smaps",
        "malformed/truncated_record.smaps",
        "malformed/no_header.smaps",
        "malformed/bad_header.smaps",
        "malformed/reversed_header.smaps",
        "malformed/empty_vmflags.smaps",
        "malformed/unknown_keys.smaps",
        "malformed/long_path.smaps",
        "malformed/spaces_deleted.smaps",
};

static const char *const chunk_texts[] = {
        /* not fixed layout: short padding, tab, 9 digits, CR, key at 16 */
        "00400000-00402000 rw-p 00000000 00:00 0 \nSize: 8 kB\nRss:\t4 kB\n"
        "Pss:           123456789 kB\nSwap:                  4 kB\r\n"
        "Locked:         12345678 kB\nPrivate_Hugetlb:12345678 kB\nVmFlags: rd wr ac\n",
        /* fixed-layout lines with something wrong in the value field */
        "00400000-00401000 r--p 00000000 00:00 0 \nSize:                  4 kB\n"
        "Rss:              1 2 3 kB\nVmFlags: rd\n",
        "00400000-00401000 r--p 00000000 00:00 0 \nSize:                  4 kB\n"
        "Rss:            \n  4 kB\nVmFlags: rd\n",
        "00400000-00401000 r--p 00000000 00:00 0 \nSize:                  4 kB\n"
        "Rss:            00000x04 kB\nVmFlags: rd\n",
        /* Size: disagreeing in the fixed layout; a key line before a header */
        "00400000-00401000 r--p 00000000 00:00 0 \nSize:                  8 kB\nVmFlags: rd\n",
        "Rss:                   4 kB\n00400000-00401000 r--p 00000000 00:00 0 \n",
        /* keys out of the usual order, an unknown one in the fixed layout */
        "00400000-00401000 rw-p 00000000 00:00 0 \nVmFlags: rd wr ac\nLocked:                4 kB\n"
        "Rss:                   4 kB\nFutureKey12345:        7 kB\nSize:                  4 kB\n",
};

/* Parse @buf in VMA mode line by line (the general path only), or through
 * smaps_parse_chunk() in reads of @chunk bytes as snapshot/linux.c does. */
static int
parse_by_lines(struct parsed *p, const char *buf, size_t len)
{
	size_t off = 0;
	int rc = 0;

	ck_assert_int_eq(snapshot_new(&p->snap), 0);
	smaps_parser_init(&p->parser, p->snap, 0);
	while (off < len && rc == 0) {
		const char *nl = memchr(buf + off, '\n', len - off);

		if (nl == NULL) {
			p->parser.line++;
			p->parser.error_line = p->parser.line;
			return MD_ERR_PARSE;
		}
		rc = smaps_parse_line(&p->parser, buf + off, (size_t)(nl - (buf + off)));
		off = (size_t)(nl - buf) + 1;
	}
	return rc != 0 ? rc : smaps_parse_finish(&p->parser);
}

static int
parse_by_chunks(struct smaps_parser *parser, const char *buf, size_t len, size_t chunk)
{
	char *win = malloc(len + 1);
	size_t off = 0, have = 0, used;
	int rc = 0;

	ck_assert_ptr_nonnull(win);
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;

		memcpy(win + have, buf + off, n);
		off += n;
		have += n;
		rc = smaps_parse_chunk(parser, win, have, &used);
		if (rc != 0)
			break;
		memmove(win, win + used, have - used);
		have -= used;
	}
	if (rc == 0 && have > 0) {
		parser->line++;
		parser->error_line = parser->line;
		rc = MD_ERR_PARSE;
	}
	if (rc == 0)
		rc = smaps_parse_finish(parser);
	free(win);
	return rc;
}

static void
assert_same_vmas(const struct smaps_vma *a, const struct smaps_vma *b, size_t n, const char *what)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ck_assert_msg(a[i].start == b[i].start && a[i].end == b[i].end &&
		                      a[i].inode == b[i].inode && a[i].rss == b[i].rss &&
		                      a[i].pss == b[i].pss &&
		                      a[i].private_resident == b[i].private_resident &&
		                      a[i].shared_resident == b[i].shared_resident &&
		                      a[i].swap == b[i].swap && a[i].locked == b[i].locked &&
		                      a[i].dev_major == b[i].dev_major &&
		                      a[i].dev_minor == b[i].dev_minor &&
		                      a[i].perms == b[i].perms && a[i].deleted == b[i].deleted &&
		                      a[i].seen == b[i].seen && a[i].vmflags == b[i].vmflags &&
		                      strcmp(a[i].path, b[i].path) == 0,
		              "%s: VMA %zu differs", what, i);
	}
}

static void
assert_chunked_like_lines(const char *buf, size_t len, const char *what)
{
	static const size_t chunks[] = {1, 7, 27, 28, 29, 4096, SIZE_MAX};
	struct parsed want;
	int want_rc = parse_by_lines(&want, buf, len);
	size_t c;

	for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct parsed got;
		int rc;

		ck_assert_int_eq(snapshot_new(&got.snap), 0);
		smaps_parser_init(&got.parser, got.snap, 0);
		rc = parse_by_chunks(&got.parser, buf, len, chunks[c]);
		ck_assert_msg(rc == want_rc, "%s, reads of %zu: rc %d, line by line %d", what,
		              chunks[c], rc, want_rc);
		ck_assert_msg(got.parser.error_line == want.parser.error_line,
		              "%s, reads of %zu: error line %zu, line by line %zu", what, chunks[c],
		              got.parser.error_line, want.parser.error_line);
		ck_assert_uint_eq(got.parser.line, want.parser.line);
		ck_assert_uint_eq(got.parser.n_vmas, want.parser.n_vmas);
		if (rc == 0)
			assert_same_vmas(got.parser.vmas, want.parser.vmas, want.parser.n_vmas,
			                 what);
		parsed_done(&got);
	}
	parsed_done(&want);
}

START_TEST(test_smaps_parse_chunk__same_as_line_by_line)
{
	struct text t = {0};
	size_t i;

	for (i = 0; i < sizeof(chunk_fixtures) / sizeof(chunk_fixtures[0]); i++) {
		size_t len;
		char *buf = test_read_file(test_fixture(chunk_fixtures[i]), &len);

		ck_assert_msg(buf != NULL, "fixture %s not found", chunk_fixtures[i]);
		assert_chunked_like_lines(buf, len, chunk_fixtures[i]);
		free(buf);
	}
	for (i = 0; i < sizeof(chunk_texts) / sizeof(chunk_texts[0]); i++)
		assert_chunked_like_lines(chunk_texts[i], strlen(chunk_texts[i]), chunk_texts[i]);
	/* values of every length from 1 to 9 digits, in the fixed layout */
	for (i = 0; i < 9; i++) {
		static const uint64_t kb[] = {0,     7,       42,       999,      1000,
		                              65535, 1234567, 99999999, 123456789};
		uint64_t pages = kb[i] / 4 + 1;

		rec(&t, 0x1000000 + i * 0x100000000ull,
		    0x1000000 + i * 0x100000000ull + pages * 4096, i % 2 ? "rw-p" : "r--p", 0,
		    i % 3 ? "" : "/some file", kb[i], "rd wr ac");
	}
	assert_chunked_like_lines(t.buf, t.len, "generated records");
	free(t.buf);
}
END_TEST

static void
assert_same_regions(const struct snapshot *a, const struct snapshot *b, const char *what)
{
	size_t i;

	ck_assert_uint_eq(a->n_regions, b->n_regions);
	for (i = 0; i < a->n_regions; i++) {
		const struct region *x = &a->regions[i], *y = &b->regions[i];

		ck_assert_msg(x->base == y->base && x->size == y->size &&
		                      x->allocation_base == y->allocation_base &&
		                      x->type == y->type && x->state == y->state &&
		                      x->protection == y->protection &&
		                      x->committed == y->committed && x->resident == y->resident &&
		                      x->private_resident == y->private_resident &&
		                      x->shared_resident == y->shared_resident &&
		                      x->pss == y->pss && x->swap == y->swap &&
		                      x->locked == y->locked && strcmp(x->detail, y->detail) == 0,
		              "%s: region %zu (0x%" PRIx64 ") differs: %s / %s", what, i, x->base,
		              x->detail, y->detail);
	}
}

START_TEST(test_linux_classify_regions__same_as_linux_classify)
{
	struct linux_thread_sp sps[] = {{17299, 0}, {17300, 0}};
	struct text t = {0};
	const char *names[] = {"threads/17298/smaps", "generated"};
	size_t i;

	/* The mapping-table records of test_linux_classify__mapping_table. */
	rec(&t, 0x400000, 0x401000, "r--p", 77, "/usr/bin/app", 4, "rd mr mw me");
	rec(&t, 0x401000, 0x402000, "r-xp", 77, "/usr/bin/app", 4, "rd ex mr mw me");
	rec(&t, 0x402000, 0x403000, "rw-p", 77, "/usr/bin/app", 4, "rd wr mr mw me ac");
	rec(&t, 0x403000, 0x405000, "rw-p", 0, "", 8, "rd wr mr mw me ac");
	rec(&t, 0x1000000, 0x1100000, "rw-p", 0, "[heap]", 512, "rd wr mr mw me ac");
	rec(&t, 0x4000000, 0x4021000, "rw-p", 0, "", 100, "rd wr mr mw me nr");
	rec(&t, 0x4021000, 0x8000000, "---p", 0, "", 0, "mr mw me nr");
	rec(&t, 0x8000000, 0x8001000, "---p", 0, "", 0, "mr mw me");
	rec(&t, 0x8001000, 0x8801000, "rw-p", 0, "", 16, "rd wr mr mw me ac");
	rec(&t, 0x9000000, 0x9001000, "rw-s", 0, "", 4, "rd wr sh mr mw me ms");
	rec(&t, 0x7ffd00000000ull, 0x7ffd00021000ull, "rw-p", 0, "[stack]", 16,
	    "rd wr mr mw me gd ac");
	sps[1].sp = 0x8001000 + 4096;
	for (i = 0; i < 2; i++) {
		struct parsed vma;
		struct smaps_parser rp;
		struct snapshot *s;
		size_t len;
		char *buf = i == 0 ? test_read_file(test_fixture(names[i]), &len) : t.buf;

		if (i == 1)
			len = t.len;
		ck_assert_ptr_nonnull(buf);
		parse_text(&vma, buf, len);
		ck_assert_int_eq(vma.rc, 0);
		ck_assert_int_eq(
		        linux_classify(vma.snap, vma.parser.vmas, vma.parser.n_vmas, sps, 2, 17298),
		        0);
		ck_assert_int_eq(snapshot_new(&s), 0);
		smaps_parser_init_regions(&rp, s, 0);
		ck_assert_int_eq(parse_by_chunks(&rp, buf, len, 4096), 0);
		ck_assert_uint_eq(rp.n_vmas, vma.parser.n_vmas);
		ck_assert_int_eq(linux_classify_regions(s, &rp, sps, 2, 17298), 0);
		assert_same_regions(s, vma.snap, names[i]);
		smaps_parser_done(&rp);
		snapshot_free(s);
		parsed_done(&vma);
		if (i == 0)
			free(buf);
	}
	free(t.buf);
}
END_TEST

START_TEST(test_smaps_parse_stop__keeps_complete_drops_partial)
{
	struct text t = {0};
	struct smaps_parser p;
	struct snapshot *s;
	size_t used, cut, i;

	for (i = 0; i < 4; i++)
		rec(&t, 0x1000000 + i * 0x2000, 0x1001000 + i * 0x2000, "rw-p", 0, "", 4,
		    "rd wr ac");
	/* Cut inside the third record: two regions. */
	cut = (size_t)(strstr(strstr(strstr(t.buf, "\nRss") + 1, "\nRss") + 1, "\nRss") - t.buf) +
	      1;
	ck_assert_int_eq(snapshot_new(&s), 0);
	smaps_parser_init_regions(&p, s, 0);
	ck_assert_int_eq(smaps_parse_chunk(&p, t.buf, cut, &used), 0);
	ck_assert_uint_eq(used, cut);
	ck_assert_uint_eq(p.n_vmas, 3);
	ck_assert_int_eq(smaps_parse_stop(&p), 0);
	ck_assert_uint_eq(p.n_vmas, 2);
	ck_assert_uint_eq(s->n_regions, 2);
	ck_assert_int_eq(linux_classify_regions(s, &p, NULL, 0, 1), 0);
	ck_assert_uint_eq(s->regions[1].base, 0x1002000);
	ck_assert_uint_eq(s->regions[1].resident, 4096);
	smaps_parser_done(&p);
	snapshot_free(s);

	/* max_vmas: the refused header is where *used stops; the records
	 * before it are complete and kept. */
	ck_assert_int_eq(snapshot_new(&s), 0);
	smaps_parser_init_regions(&p, s, 3);
	ck_assert_int_eq(smaps_parse_chunk(&p, t.buf, t.len, &used), 1);
	ck_assert_int_eq(strncmp(t.buf + used, "1006000-1007000 ", 16), 0);
	ck_assert_int_eq(smaps_parse_stop(&p), 0);
	ck_assert_uint_eq(s->n_regions, 3);
	smaps_parser_done(&p);
	snapshot_free(s);
	free(t.buf);
}
END_TEST

/* A VMA that grew across the point where the kernel resumed a read of smaps
 * comes again from its new start: the newer record replaces those it
 * overlaps, and the region list stays sorted without overlaps. */
START_TEST(test_smaps_parse_chunk__regrown_vma_replaces_overlapped)
{
	struct text t = {0};
	struct smaps_parser p;
	struct snapshot *s;
	size_t used;

	rec(&t, 0x1000000, 0x1001000, "r--p", 0, "", 4, "rd mr");
	rec(&t, 0x1002000, 0x1003000, "rw-p", 0, "", 4, "rd wr ac");
	rec(&t, 0x1004000, 0x1005000, "rw-p", 0, "", 4, "rd wr ac");
	/* the read resumed at 0x1005000; meanwhile 0x1002000-0x1005000 merged */
	rec(&t, 0x1002000, 0x1006000, "rw-p", 0, "", 16, "rd wr ac");
	rec(&t, 0x1008000, 0x1009000, "r--p", 0, "", 4, "rd mr");
	ck_assert_int_eq(snapshot_new(&s), 0);
	smaps_parser_init_regions(&p, s, 0);
	ck_assert_int_eq(smaps_parse_chunk(&p, t.buf, t.len, &used), 0);
	ck_assert_uint_eq(used, t.len);
	ck_assert_int_eq(smaps_parse_finish(&p), 0);
	ck_assert_uint_eq(s->n_regions, 3);
	ck_assert_int_eq(linux_classify_regions(s, &p, NULL, 0, 1), 0);
	ck_assert_uint_eq(s->n_regions, 3);
	ck_assert_uint_eq(s->regions[0].base, 0x1000000);
	ck_assert_uint_eq(s->regions[1].base, 0x1002000);
	ck_assert_uint_eq(s->regions[1].size, 0x4000);
	ck_assert_uint_eq(s->regions[1].resident, 16 * 1024);
	ck_assert_uint_eq(s->regions[2].base, 0x1008000);
	ck_assert_int_eq(snapshot_sort(s), 0);
	smaps_parser_done(&p);
	snapshot_free(s);
	free(t.buf);
}
END_TEST

/* Collect the recorded set @set through snapshot_collect() with the set as
 * /proc root, and check every line of its expected.txt (written at record
 * time from the subject's own addresses). */
static void
check_recorded_set(const char *set, size_t min_lines)
{
	struct snapshot_opts opts;
	struct snapshot *s = NULL;
	char root[4096], *text, *line, *save = NULL;
	size_t checked = 0;
	int pid = 0;

	snprintf(root, sizeof(root), "%s", test_fixture(set));
	snprintf(root + strlen(root), sizeof(root) - strlen(root), "/expected.txt");
	text = test_read_file(root, NULL);
	ck_assert_msg(text != NULL, "%s missing", root);
	snprintf(root, sizeof(root), "%s", test_fixture(set));
	for (line = text; line != NULL && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, "pid\t", 4) == 0)
			pid = atoi(line + 4);
	}
	ck_assert_int_gt(pid, 0);
	memset(&opts, 0, sizeof(opts));
	opts.proc_root = root;
	ck_assert_int_eq(snapshot_collect(pid, &opts, &s), 0);
	ck_assert_int_eq(s->pid, pid);
	ck_assert_uint_gt(s->start_time, 0);
	ck_assert_uint_gt(s->n_regions, 10);

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char range[64], perms[8], type[32], state[16], detail[1024];
		uint64_t start, end;
		enum region_type want_type;
		enum region_state want_state;
		const struct region *r;

		if (line[0] == '#' || strncmp(line, "pid\t", 4) == 0)
			continue;
		ck_assert_msg(sscanf(line, "%63[^\t]\t%7[^\t]\t%31[^\t]\t%15[^\t]\t%1023[^\t]",
		                     range, perms, type, state, detail) == 5,
		              "bad expected line: %s", line);
		ck_assert_int_eq(sscanf(range, "%" SCNx64 "-%" SCNx64, &start, &end), 2);
		ck_assert_int_eq(region_type_from_name(type, &want_type), 0);
		ck_assert_int_eq(region_state_from_name(state, &want_state), 0);
		r = region_at(s, start);
		ck_assert_msg(r->size == end - start, "%s: size %" PRIu64, range, r->size);
		ck_assert_msg(r->type == want_type, "%s %s: type %s, expected %s (detail: %s)", set,
		              range, region_type_name(r->type), type, r->detail);
		ck_assert_msg(r->state == want_state, "%s %s: state %s, expected %s", set, range,
		              region_state_name(r->state), state);
		if (strncmp(detail, "thread ", 7) == 0) {
			char want[1100];

			snprintf(want, sizeof(want), "tid %s", detail + 7);
			ck_assert_msg(strstr(r->detail, want) != NULL, "%s: detail '%s' lacks '%s'",
			              range, r->detail, want);
		} else if (strcmp(detail, "-") != 0) {
			ck_assert_msg(strstr(r->detail, detail) != NULL,
			              "%s: detail '%s' lacks '%s'", range, r->detail, detail);
		}
		checked++;
	}
	ck_assert_uint_ge(checked, min_lines);
	snapshot_free(s);
	free(text);
}

START_TEST(test_snapshot_collect__fixture_threads)
{
	struct snapshot_opts opts;
	struct snapshot *s = NULL;
	struct snapshot_totals t;
	char root[4096];

	check_recorded_set("threads", 15);
	/* Every thread stack was found by its stack pointer, and the glibc
	 * arenas count as committed Heap. */
	snprintf(root, sizeof(root), "%s", test_fixture("threads"));
	memset(&opts, 0, sizeof(opts));
	opts.proc_root = root;
	ck_assert_int_eq(snapshot_collect(17298, &opts, &s), 0);
	snapshot_totals(s, &t);
	ck_assert_uint_eq(s->flags & SNAPSHOT_NO_THREAD_SP, 0);
	ck_assert_uint_gt(t.by_type[REGION_HEAP].committed, 2u << 20);
	ck_assert_uint_gt(t.by_type[REGION_HEAP].reserved, 64u << 20);
	ck_assert_uint_gt(s->page_table_bytes, 0);
	ck_assert_str_eq(s->name, "recsubject");
	ck_assert_int_gt(s->start_time_ms, 1600000000000LL);
	snapshot_free(s);
}
END_TEST

START_TEST(test_snapshot_collect__no_room_kept)
{
	/* The collector makes room ahead of the parser; a snapshot it
	 * returns holds no more than its regions (the daemon keeps them). */
	struct snapshot_opts opts;
	struct snapshot *s = NULL;
	char root[4096];

	snprintf(root, sizeof(root), "%s", test_fixture("threads"));
	memset(&opts, 0, sizeof(opts));
	opts.proc_root = root;
	ck_assert_int_eq(snapshot_collect(17298, &opts, &s), 0);
	ck_assert_uint_gt(s->n_regions, 10);
	ck_assert_uint_eq(s->cap_regions, s->n_regions);
	snapshot_free(s);
}
END_TEST

START_TEST(test_snapshot_collect__fixture_shm_deleted)
{
	check_recorded_set("shm_deleted", 7);
}
END_TEST

START_TEST(test_snapshot_collect__fixture_reserve)
{
	check_recorded_set("reserve", 2);
}
END_TEST

START_TEST(test_snapshot_collect__fixture_missing_pid)
{
	struct snapshot_opts opts;
	struct snapshot *s = (struct snapshot *)&opts;
	char root[4096];

	snprintf(root, sizeof(root), "%s", test_fixture("threads"));
	memset(&opts, 0, sizeof(opts));
	opts.proc_root = root;
	ck_assert_int_eq(snapshot_collect(4242424, &opts, &s), MD_ERR_NOPROC);
	ck_assert_ptr_null(s);
}
END_TEST

static Suite *
linux_suite(void)
{
	Suite *s = suite_create("snapshot_linux");
	TCase *tc;

	tc = tcase_create("smaps_parse_buffer");
	tcase_add_test(tc, test_smaps_parse_buffer__fields);
	tcase_add_test(tc, test_smaps_parse_buffer__errors);
	tcase_add_test(tc, test_smaps_parse_buffer__tolerated);
	tcase_add_test(tc, test_smaps_parse_buffer__malformed_fixtures);
	tcase_add_test(tc, test_smaps_parse_buffer__vmflags_forms);
	tcase_add_test(tc, test_smaps_parse_buffer__fuzz_findings);
	suite_add_tcase(s, tc);
	tc = tcase_create("smaps_parse_line");
	tcase_add_test(tc, test_smaps_parse_line__max_vmas);
	suite_add_tcase(s, tc);
	tc = tcase_create("linux_parse_small");
	tcase_add_test(tc, test_linux_parse_stat__comm_with_parens);
	tcase_add_test(tc, test_linux_parse_status__vmpte);
	tcase_add_test(tc, test_linux_parse_syscall_sp__forms);
	tcase_add_test(tc, test_linux_parse_syscall_sp__fuzz_bad_sp_left_zero);
	tcase_add_test(tc, test_linux_parse_btime__line);
	suite_add_tcase(s, tc);
	tc = tcase_create("smaps_parse_chunk");
	tcase_add_test(tc, test_smaps_parse_chunk__same_as_line_by_line);
	tcase_add_test(tc, test_smaps_parse_chunk__regrown_vma_replaces_overlapped);
	suite_add_tcase(s, tc);
	tc = tcase_create("smaps_parse_stop");
	tcase_add_test(tc, test_smaps_parse_stop__keeps_complete_drops_partial);
	suite_add_tcase(s, tc);
	tc = tcase_create("linux_classify_regions");
	tcase_add_test(tc, test_linux_classify_regions__same_as_linux_classify);
	suite_add_tcase(s, tc);
	tc = tcase_create("linux_classify");
	tcase_add_test(tc, test_linux_classify__mapping_table);
	tcase_add_test(tc, test_linux_classify__not_fooled);
	suite_add_tcase(s, tc);
	tc = tcase_create("snapshot_collect");
	tcase_add_test(tc, test_snapshot_collect__fixture_threads);
	tcase_add_test(tc, test_snapshot_collect__no_room_kept);
	tcase_add_test(tc, test_snapshot_collect__fixture_shm_deleted);
	tcase_add_test(tc, test_snapshot_collect__fixture_reserve);
	tcase_add_test(tc, test_snapshot_collect__fixture_missing_pid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(linux_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
