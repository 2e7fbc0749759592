/*
 * check_snapshot.c - unit tests of the region model (snapshot/snapshot.c:
 * string arena, regions, sorting and overlap detection, cloning, totals,
 * names of types, states and protections) and of its public JSON form
 * (snapshot/json.c: writing, exact 64-bit round trips, and the errors of
 * the parser, with the byte offset or the member at fault).  Every expected
 * value below was worked out by hand from the inputs, not taken from the
 * code under test.
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "snapshot/json.h"
#include "snapshot/snapshot.h"
#include "tests/testutil.h"

#define VSYSCALL_BASE 0xffffffffff600000ull /* 18446744073699065856, > 2^53 */

/* ---- helpers ---------------------------------------------------------- */

static struct snapshot *
new_snapshot(void)
{
	struct snapshot *s = NULL;

	ck_assert_int_eq(snapshot_new(&s), 0);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void
add(struct snapshot *s, const struct region *r)
{
	ck_assert_int_eq(snapshot_add_region(s, r), 0);
}

/* Fail unless @a and @b hold the same snapshot, field by field. */
static void
assert_snapshot_eq(const struct snapshot *a, const struct snapshot *b)
{
	size_t i;

	ck_assert_int_eq(a->pid, b->pid);
	ck_assert_uint_eq(a->start_time, b->start_time);
	ck_assert_int_eq(a->start_time_ms, b->start_time_ms);
	ck_assert_int_eq(a->time_ms, b->time_ms);
	ck_assert_str_eq(a->name, b->name);
	ck_assert_str_eq(a->cmdline, b->cmdline);
	ck_assert_uint_eq(a->flags, b->flags);
	ck_assert_uint_eq(a->page_table_bytes, b->page_table_bytes);
	ck_assert_uint_eq(a->collect_ns, b->collect_ns);
	ck_assert_uint_eq(a->n_regions, b->n_regions);
	for (i = 0; i < a->n_regions; i++) {
		const struct region *ra = &a->regions[i], *rb = &b->regions[i];

		ck_assert_uint_eq(ra->base, rb->base);
		ck_assert_uint_eq(ra->size, rb->size);
		ck_assert_uint_eq(ra->allocation_base, rb->allocation_base);
		ck_assert_int_eq(ra->type, rb->type);
		ck_assert_int_eq(ra->state, rb->state);
		ck_assert_uint_eq(ra->protection, rb->protection);
		ck_assert_uint_eq(ra->committed, rb->committed);
		ck_assert_uint_eq(ra->resident, rb->resident);
		ck_assert_uint_eq(ra->private_resident, rb->private_resident);
		ck_assert_uint_eq(ra->shared_resident, rb->shared_resident);
		ck_assert_uint_eq(ra->pss, rb->pss);
		ck_assert_uint_eq(ra->swap, rb->swap);
		ck_assert_uint_eq(ra->locked, rb->locked);
		ck_assert_str_eq(ra->detail, rb->detail);
	}
}

/* The exact integer of member @name of @obj, which must be one of the raw
 * decimal numbers json.c writes. */
static uint64_t
json_u64(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
	char *end;
	uint64_t v;

	ck_assert_msg(item != NULL, "member %s missing", name);
	ck_assert_msg(cJSON_IsRaw(item), "member %s is not a raw integer", name);
	v = strtoull(item->valuestring, &end, 10);
	ck_assert_msg(*end == '\0' && item->valuestring[0] != '\0', "member %s = \"%s\"", name,
	              item->valuestring);
	return v;
}

static const char *
json_str(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	ck_assert_msg(cJSON_IsString(item), "member %s missing or not a string", name);
	return item->valuestring;
}

/* Parse NUL-terminated @text, expecting MD_ERR_PARSE; return err_what. */
static const char *
parse_fails(const char *text, size_t *offset)
{
	struct snapshot *s = (struct snapshot *)1;
	const char *what = "unset";
	size_t off = 12345;

	ck_assert_int_eq(snapshot_from_json(text, strlen(text), &s, &off, &what), MD_ERR_PARSE);
	ck_assert_ptr_null(s);
	if (offset != NULL)
		*offset = off;
	return what;
}

/* Parse @text, which must describe a well-formed snapshot but for member
 * @what; assert offset 0 and that err_what names @what. */
static void
assert_bad_member(const char *text, const char *what)
{
	size_t off = 99;
	const char *got = parse_fails(text, &off);

	ck_assert_uint_eq(off, 0);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, what);
}

static struct snapshot *
parse_ok(const char *text)
{
	struct snapshot *s = NULL;
	const char *what = NULL;
	size_t off = 0;
	int rc = snapshot_from_json(text, strlen(text), &s, &off, &what);

	ck_assert_msg(rc == 0, "parse failed: rc %d at %zu, member %s", rc, off,
	              what ? what : "(none)");
	ck_assert_ptr_nonnull(s);
	return s;
}

/*
 * A snapshot with known totals.  Nine regions, sorted:
 *   R0 0x400000         +0x1000    image   commit  r--p  alloc 0x400000
 *   R1 0x401000         +0x2000    image   commit  r-xp  alloc 0x400000
 *   R2 0x600000         +0x21000   heap    commit  rw-p  [heap]
 *   R3 0x7f0000000000   +0x1000    private commit  rw-p  alloc 0x7f0000000000
 *   R4 0x7f0000001000   +0x3ff000  private reserve ---p  alloc 0x7f0000000000
 *   R5 0x7f0000400000   +0x21000   stack   commit  rw-p
 *   R6 0x7f0000500000   +0x100000  shareable commit rw-s
 *   R7 0x7f0000600000   +0x10000   mapped  commit  r--p
 *   R8 0xffffffffff600000 +0x1000  unusable commit --xp  ([vsyscall], above
 *                                  user space: not counted in "free")
 * and 8 KiB of page tables.
 */
static struct snapshot *
known_snapshot(void)
{
	struct snapshot *s = new_snapshot();
	struct region r;

	s->page_table_bytes = 8192;
	test_region(&r, 0x400000, 0x1000, REGION_IMAGE, STATE_COMMIT, PROT_BIT_READ, 0, 0x1000,
	            "/usr/bin/app");
	r.shared_resident = 0x1000;
	r.pss = 0x800;
	add(s, &r);
	test_region(&r, 0x401000, 0x2000, REGION_IMAGE, STATE_COMMIT, PROT_BIT_READ | PROT_BIT_EXEC,
	            0, 0x2000, "/usr/bin/app");
	r.allocation_base = 0x400000;
	r.shared_resident = 0x2000;
	r.pss = 0x1000;
	add(s, &r);
	test_region(&r, 0x600000, 0x21000, REGION_HEAP, STATE_COMMIT,
	            PROT_BIT_READ | PROT_BIT_WRITE, 0x21000, 0x10000, "[heap]");
	r.private_resident = 0x10000;
	r.pss = 0x10000;
	r.swap = 0x3000;
	add(s, &r);
	test_region(&r, 0x7f0000000000, 0x1000, REGION_PRIVATE, STATE_COMMIT,
	            PROT_BIT_READ | PROT_BIT_WRITE, 0x1000, 0x1000, NULL);
	r.private_resident = 0x1000;
	r.pss = 0x1000;
	r.locked = 0x1000;
	add(s, &r);
	test_region(&r, 0x7f0000001000, 0x3ff000, REGION_PRIVATE, STATE_RESERVE, 0, 0, 0, NULL);
	r.allocation_base = 0x7f0000000000;
	add(s, &r);
	test_region(&r, 0x7f0000400000, 0x21000, REGION_STACK, STATE_COMMIT,
	            PROT_BIT_READ | PROT_BIT_WRITE, 0x21000, 0x5000, "[stack]");
	r.private_resident = 0x5000;
	r.pss = 0x5000;
	r.swap = 0x1000;
	add(s, &r);
	test_region(&r, 0x7f0000500000, 0x100000, REGION_SHAREABLE, STATE_COMMIT,
	            PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_SHARED, 0, 0x80000, "/dev/shm/ring");
	r.shared_resident = 0x80000;
	r.pss = 0x40000;
	add(s, &r);
	test_region(&r, 0x7f0000600000, 0x10000, REGION_MAPPED, STATE_COMMIT, PROT_BIT_READ, 0,
	            0x4000, "/usr/share/locale/x.mo");
	r.shared_resident = 0x4000;
	r.pss = 0x4000;
	add(s, &r);
	test_region(&r, VSYSCALL_BASE, 0x1000, REGION_UNUSABLE, STATE_COMMIT, PROT_BIT_EXEC, 0, 0,
	            "[vsyscall]");
	add(s, &r);
	return s;
}

/* Gaps below the top of user space between the regions of known_snapshot(). */
#define KNOWN_FREE (0x1fd000ull + (0x7f0000000000ull - 0x621000ull) + 0xdf000ull)
#define KNOWN_SIZE                                                                                 \
	(0x1000ull + 0x2000 + 0x21000 + 0x1000 + 0x3ff000 + 0x21000 + 0x100000 + 0x10000 + 0x1000)

/*
 * A snapshot that uses every type, both states, a 5,000-character detail
 * with quotes, backslashes, a newline and UTF-8, 64-bit values above 2^53
 * and every flag.  @detail must hold 5,001 bytes.
 */
static struct snapshot *
rich_snapshot(char *detail)
{
	static const char piece[] = "a\"b\\c\nd\xc3\xa9\xe2\x82\xac/"; /* é € */
	struct snapshot *s = new_snapshot();
	struct region r;
	size_t n = 0;
	int t;

	while (n + sizeof(piece) - 1 <= 5000) {
		memcpy(detail + n, piece, sizeof(piece) - 1);
		n += sizeof(piece) - 1;
	}
	while (n < 5000)
		detail[n++] = 'z';
	detail[n] = '\0';

	s->pid = 2147483647;
	s->start_time = 133485408001234567ull; /* a Windows FILETIME, > 2^53 */
	s->start_time_ms = 1700000000123;
	s->time_ms = 1700000123456;
	snprintf(s->name, sizeof(s->name), "w3wp.exe");
	ck_assert_int_eq(snapshot_set_cmdline(s, "c:\\windows\\w3wp.exe -ap \"Default Pool\""), 0);
	s->flags = SNAPSHOT_TRUNCATED | SNAPSHOT_NO_THREAD_SP | SNAPSHOT_TOTALS_ONLY |
	           SNAPSHOT_NO_HEAP_LIST;
	s->page_table_bytes = 1234567;
	s->collect_ns = 987654321;
	for (t = 0; t < REGION_TYPE_COUNT; t++) {
		test_region(&r, 0x10000ull * (uint64_t)(t + 1), 0x8000, (enum region_type)t,
		            t % 2 ? STATE_RESERVE : STATE_COMMIT, (unsigned)t & 0x3f,
		            (uint64_t)t * 4096, (uint64_t)t * 512, t == 3 ? detail : NULL);
		r.allocation_base = 0x10000;
		r.private_resident = (uint64_t)t + 1;
		r.shared_resident = (uint64_t)t + 2;
		r.pss = (uint64_t)t + 3;
		r.swap = (uint64_t)t + 4;
		r.locked = (uint64_t)t + 5;
		add(s, &r);
	}
	/* Every protection flag, and counters at the ends of the range. */
	test_region(&r, 0x7ffffffff000, 0x1000, REGION_PRIVATE, STATE_COMMIT,
	            PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_EXEC | PROT_BIT_SHARED |
	                    PROT_BIT_GUARD | PROT_BIT_COPY,
	            17179869184ull, UINT64_MAX, "[anon:\xe6\x97\xa5\xe6\x9c\xac]");
	r.pss = 9007199254740993ull; /* 2^53 + 1: not a double */
	add(s, &r);
	test_region(&r, VSYSCALL_BASE, 0x1000, REGION_IMAGE, STATE_COMMIT, PROT_BIT_EXEC, 0, 0,
	            "[vsyscall]");
	add(s, &r);
	return s;
}

/* ---- snapshot_new / snapshot_free -------------------------------------- */

START_TEST(test_snapshot_new__empty)
{
	struct snapshot *s = new_snapshot();

	ck_assert_uint_eq(s->n_regions, 0);
	ck_assert_ptr_nonnull(s->cmdline);
	ck_assert_str_eq(s->cmdline, "");
	ck_assert_int_eq(s->pid, 0);
	ck_assert_uint_eq(s->flags, 0);
	snapshot_free(s);
	snapshot_free(NULL);
}
END_TEST

/* ---- snapshot_strdup --------------------------------------------------- */

START_TEST(test_snapshot_strdup__long_and_many)
{
	struct snapshot *s = new_snapshot();
	const char *small[3000];
	const char *big1, *big2, *empty;
	size_t big_len = 40 * 1024 + 7; /* larger than one 32 KiB arena block */
	char *src = malloc(big_len + 1);
	char buf[32];
	int i;

	ck_assert_ptr_nonnull(src);
	for (i = 0; i < (int)big_len; i++)
		src[i] = (char)('A' + i % 26);
	src[big_len] = '\0';

	for (i = 0; i < 1500; i++) {
		snprintf(buf, sizeof(buf), "s%d", i);
		small[i] = snapshot_strdup(s, buf, strlen(buf));
		ck_assert_ptr_nonnull(small[i]);
	}
	big1 = snapshot_strdup(s, src, big_len);
	for (i = 1500; i < 3000; i++) {
		snprintf(buf, sizeof(buf), "s%d", i);
		small[i] = snapshot_strdup(s, buf, strlen(buf));
		ck_assert_ptr_nonnull(small[i]);
	}
	/* Not NUL-terminated in the source: only @len bytes are copied. */
	big2 = snapshot_strdup(s, src, 33 * 1024);
	empty = snapshot_strdup(s, "xyz", 0);

	ck_assert_ptr_nonnull(big1);
	ck_assert_ptr_nonnull(big2);
	ck_assert_uint_eq(strlen(big1), big_len);
	ck_assert_int_eq(memcmp(big1, src, big_len), 0);
	ck_assert_uint_eq(strlen(big2), 33 * 1024);
	ck_assert_int_eq(memcmp(big2, src, 33 * 1024), 0);
	ck_assert_str_eq(empty, "");
	/* Copies, not aliases; and earlier strings survive later growth. */
	ck_assert_ptr_ne(big1, src);
	for (i = 0; i < 3000; i++) {
		snprintf(buf, sizeof(buf), "s%d", i);
		ck_assert_str_eq(small[i], buf);
	}
	free(src);
	snapshot_free(s);
}
END_TEST

/* ---- snapshot_add_region ----------------------------------------------- */

START_TEST(test_snapshot_add_region__copies_detail_and_grows)
{
	struct snapshot *s = new_snapshot();
	struct region r;
	char detail[64];
	size_t i;

	for (i = 0; i < 1000; i++) {
		snprintf(detail, sizeof(detail), "/lib/lib%zu.so", i);
		test_region(&r, 0x1000 * (i + 1), 0x1000, REGION_IMAGE, STATE_COMMIT, PROT_BIT_READ,
		            0, 0x1000, i % 3 == 0 ? NULL : detail);
		if (i % 3 == 1)
			r.detail = NULL; /* NULL detail -> "" */
		add(s, &r);
		detail[0] = 'X'; /* the snapshot holds its own copy */
	}
	ck_assert_uint_eq(s->n_regions, 1000);
	ck_assert_uint_ge(s->cap_regions, 1000);
	for (i = 0; i < 1000; i++) {
		ck_assert_uint_eq(s->regions[i].base, 0x1000 * (i + 1));
		ck_assert_ptr_nonnull(s->regions[i].detail);
		if (i % 3 == 2) {
			snprintf(detail, sizeof(detail), "/lib/lib%zu.so", i);
			ck_assert_str_eq(s->regions[i].detail, detail);
		} else {
			ck_assert_str_eq(s->regions[i].detail, "");
		}
	}
	snapshot_free(s);
}
END_TEST

/* ---- snapshot_set_cmdline ---------------------------------------------- */

START_TEST(test_snapshot_set_cmdline__copies)
{
	struct snapshot *s = new_snapshot();
	char cmd[] = "/usr/bin/java -Xmx2g -jar app.jar";

	ck_assert_int_eq(snapshot_set_cmdline(s, cmd), 0);
	cmd[0] = 'X';
	ck_assert_str_eq(s->cmdline, "/usr/bin/java -Xmx2g -jar app.jar");
	ck_assert_int_eq(snapshot_set_cmdline(s, ""), 0);
	ck_assert_str_eq(s->cmdline, "");
	snapshot_free(s);
}
END_TEST

/* ---- snapshot_sort ----------------------------------------------------- */

START_TEST(test_snapshot_sort__orders_and_allows_touching)
{
	struct snapshot *s = new_snapshot();
	static const uint64_t bases[] = {0x5000, 0x1000, VSYSCALL_BASE, 0x3000, 0x2000};
	static const uint64_t sorted[] = {0x1000, 0x2000, 0x3000, 0x5000, VSYSCALL_BASE};
	struct region r;
	char d[16];
	size_t i;

	for (i = 0; i < 5; i++) {
		snprintf(d, sizeof(d), "r%" PRIx64, bases[i]);
		test_region(&r, bases[i], 0x1000, REGION_PRIVATE, STATE_COMMIT, 0, 0, 0, d);
		add(s, &r);
	}
	ck_assert_int_eq(snapshot_sort(s), 0);
	for (i = 0; i < 5; i++) {
		ck_assert_uint_eq(s->regions[i].base, sorted[i]);
		snprintf(d, sizeof(d), "r%" PRIx64, sorted[i]);
		ck_assert_str_eq(s->regions[i].detail, d); /* detail moved with it */
	}
	snapshot_free(s);
}
END_TEST

START_TEST(test_snapshot_sort__rejects_overlap)
{
	struct snapshot *s = new_snapshot();
	struct region r;

	test_region(&r, 0x3000, 0x1000, REGION_PRIVATE, STATE_COMMIT, 0, 0, 0, NULL);
	add(s, &r);
	test_region(&r, 0x1000, 0x2001, REGION_PRIVATE, STATE_COMMIT, 0, 0, 0, NULL);
	add(s, &r); /* 0x1000..0x3001 runs one byte into 0x3000 */
	ck_assert_int_eq(snapshot_sort(s), MD_ERR_PARSE);
	snapshot_free(s);

	s = new_snapshot();
	test_region(&r, 0x1000, 0x1000, REGION_PRIVATE, STATE_COMMIT, 0, 0, 0, NULL);
	add(s, &r);
	add(s, &r); /* the same base twice */
	ck_assert_int_eq(snapshot_sort(s), MD_ERR_PARSE);
	snapshot_free(s);
}
END_TEST

/* ---- snapshot_clone ---------------------------------------------------- */

START_TEST(test_snapshot_clone__equal_and_independent)
{
	char *detail = malloc(5001);
	struct snapshot *s, *c = NULL, *c2 = NULL;
	size_t i;

	ck_assert_ptr_nonnull(detail);
	s = rich_snapshot(detail);
	ck_assert_int_eq(snapshot_clone(s, &c), 0);
	ck_assert_ptr_nonnull(c);
	assert_snapshot_eq(s, c);
	/* Deep: the copy owns its strings and region array. */
	ck_assert_ptr_ne(c->regions, s->regions);
	ck_assert_ptr_ne(c->cmdline, s->cmdline);
	for (i = 0; i < s->n_regions; i++) {
		if (s->regions[i].detail[0] != '\0')
			ck_assert_ptr_ne(c->regions[i].detail, s->regions[i].detail);
	}
	ck_assert_int_eq(snapshot_clone(c, &c2), 0);
	snapshot_free(s);
	assert_snapshot_eq(c, c2);
	ck_assert_str_eq(c->regions[3].detail, detail);
	snapshot_free(c);
	snapshot_free(c2);
	free(detail);
}
END_TEST

/* ---- snapshot_totals --------------------------------------------------- */

START_TEST(test_snapshot_totals__known_snapshot)
{
	struct snapshot *s = known_snapshot();
	struct snapshot_totals t;
	const struct region_totals *x;

	memset(&t, 0xa5, sizeof(t)); /* cleared by the call */
	snapshot_totals(s, &t);

	/* all: regions plus the page tables (committed, resident, private) */
	x = &t.all;
	ck_assert_uint_eq(x->size, KNOWN_SIZE);
	ck_assert_uint_eq(x->committed, 0x21000 + 0x1000 + 0x21000 + 8192);
	ck_assert_uint_eq(x->reserved, 0x3ff000);
	ck_assert_uint_eq(x->resident,
	                  0x1000 + 0x2000 + 0x10000 + 0x1000 + 0x5000 + 0x80000 + 0x4000 + 8192);
	ck_assert_uint_eq(x->private_resident, 0x10000 + 0x1000 + 0x5000 + 8192);
	ck_assert_uint_eq(x->shared_resident, 0x1000 + 0x2000 + 0x80000 + 0x4000);
	ck_assert_uint_eq(x->pss, 0x800 + 0x1000 + 0x10000 + 0x1000 + 0x5000 + 0x40000 + 0x4000);
	ck_assert_uint_eq(x->swap, 0x4000);
	ck_assert_uint_eq(x->locked, 0x1000);
	ck_assert_uint_eq(x->regions, 9);
	ck_assert_uint_eq(x->blocks, 7); /* R0+R1 and R3+R4 share a base */
	ck_assert_uint_eq(x->largest, 0x3ff000);

	/* by type */
	x = &t.by_type[REGION_IMAGE];
	ck_assert_uint_eq(x->size, 0x3000);
	ck_assert_uint_eq(x->regions, 2);
	ck_assert_uint_eq(x->blocks, 1);
	ck_assert_uint_eq(x->largest, 0x2000);
	ck_assert_uint_eq(x->resident, 0x3000);
	ck_assert_uint_eq(x->shared_resident, 0x3000);
	ck_assert_uint_eq(x->pss, 0x1800);
	ck_assert_uint_eq(x->committed, 0);
	x = &t.by_type[REGION_PRIVATE];
	ck_assert_uint_eq(x->size, 0x400000);
	ck_assert_uint_eq(x->committed, 0x1000);
	ck_assert_uint_eq(x->reserved, 0x3ff000);
	ck_assert_uint_eq(x->regions, 2);
	ck_assert_uint_eq(x->blocks, 1);
	ck_assert_uint_eq(x->largest, 0x3ff000);
	ck_assert_uint_eq(x->locked, 0x1000);
	x = &t.by_type[REGION_HEAP];
	ck_assert_uint_eq(x->committed, 0x21000);
	ck_assert_uint_eq(x->swap, 0x3000);
	ck_assert_uint_eq(x->blocks, 1);
	x = &t.by_type[REGION_STACK];
	ck_assert_uint_eq(x->private_resident, 0x5000);
	x = &t.by_type[REGION_SHAREABLE];
	ck_assert_uint_eq(x->pss, 0x40000);
	ck_assert_uint_eq(x->shared_resident, 0x80000);
	x = &t.by_type[REGION_MAPPED];
	ck_assert_uint_eq(x->size, 0x10000);
	x = &t.by_type[REGION_UNUSABLE];
	ck_assert_uint_eq(x->size, 0x1000);
	ck_assert_uint_eq(x->regions, 1);
	ck_assert_uint_eq(t.by_type[REGION_MANAGED_HEAP].regions, 0);
	ck_assert_uint_eq(t.by_type[REGION_FREE].size, 0);
	/* page tables: a row of their own, no regions */
	x = &t.by_type[REGION_PAGE_TABLE];
	ck_assert_uint_eq(x->committed, 8192);
	ck_assert_uint_eq(x->resident, 8192);
	ck_assert_uint_eq(x->private_resident, 8192);
	ck_assert_uint_eq(x->regions, 0);
	ck_assert_uint_eq(x->size, 0);
	ck_assert_uint_eq(t.cell[REGION_PAGE_TABLE][STATE_COMMIT].committed, 8192);
	ck_assert_uint_eq(t.cell[REGION_PAGE_TABLE][STATE_RESERVE].committed, 0);

	/* cells */
	x = &t.cell[REGION_PRIVATE][STATE_COMMIT];
	ck_assert_uint_eq(x->size, 0x1000);
	ck_assert_uint_eq(x->committed, 0x1000);
	ck_assert_uint_eq(x->reserved, 0);
	ck_assert_uint_eq(x->blocks, 1);
	x = &t.cell[REGION_PRIVATE][STATE_RESERVE];
	ck_assert_uint_eq(x->size, 0x3ff000);
	ck_assert_uint_eq(x->reserved, 0x3ff000);
	ck_assert_uint_eq(x->committed, 0);
	ck_assert_uint_eq(x->regions, 1);
	ck_assert_uint_eq(x->blocks, 1);
	ck_assert_uint_eq(t.cell[REGION_IMAGE][STATE_COMMIT].regions, 2);
	ck_assert_uint_eq(t.cell[REGION_IMAGE][STATE_RESERVE].regions, 0);

	/* by state */
	x = &t.by_state[STATE_RESERVE];
	ck_assert_uint_eq(x->size, 0x3ff000);
	ck_assert_uint_eq(x->reserved, 0x3ff000);
	ck_assert_uint_eq(x->regions, 1);
	ck_assert_uint_eq(x->blocks, 1);
	x = &t.by_state[STATE_COMMIT];
	ck_assert_uint_eq(x->size, KNOWN_SIZE - 0x3ff000);
	ck_assert_uint_eq(x->committed, 0x21000 + 0x1000 + 0x21000 + 8192);
	/* page tables count as committed, resident, private: the per-type
	 * rows add up to the state and grand totals */
	{
		uint64_t res = 0, priv = 0;
		int ty;

		for (ty = 0; ty < REGION_TYPE_COUNT; ty++) {
			res += t.by_type[ty].resident;
			priv += t.by_type[ty].private_resident;
		}
		ck_assert_uint_eq(t.all.resident, res);
		ck_assert_uint_eq(t.all.private_resident, priv);
		ck_assert_uint_eq(t.by_state[STATE_COMMIT].resident +
		                          t.by_state[STATE_RESERVE].resident,
		                  res);
	}
	ck_assert_uint_eq(x->regions, 8);
	ck_assert_uint_eq(x->blocks, 7);
	ck_assert_uint_eq(x->reserved, 0);

	/* the gaps below user-space top; [vsyscall] is above it */
	ck_assert_uint_eq(t.free, KNOWN_FREE);
	/* leak signal: PRIVATE + HEAP + STACK */
	ck_assert_uint_eq(t.private_committed, 0x21000 + 0x1000 + 0x21000);
	ck_assert_uint_eq(t.private_touched, (0x10000 + 0x3000) + 0x1000 + (0x5000 + 0x1000));
	snapshot_free(s);
}
END_TEST

START_TEST(test_snapshot_totals__empty)
{
	struct snapshot *s = new_snapshot();
	struct snapshot_totals t;

	memset(&t, 0x5a, sizeof(t));
	snapshot_totals(s, &t);
	ck_assert_uint_eq(t.all.regions, 0);
	ck_assert_uint_eq(t.all.size, 0);
	ck_assert_uint_eq(t.all.committed, 0);
	ck_assert_uint_eq(t.free, 0);
	ck_assert_uint_eq(t.by_type[REGION_PAGE_TABLE].committed, 0);
	ck_assert_uint_eq(t.private_committed, 0);
	snapshot_free(s);
}
END_TEST

/* ---- region_totals_add ------------------------------------------------- */

START_TEST(test_region_totals_add__sums_and_max)
{
	struct region_totals a = {10, 20, 30, 40, 50, 60, 70, 80, 90, 3, 2, 500};
	struct region_totals b = {1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 700};

	region_totals_add(&a, &b);
	ck_assert_uint_eq(a.size, 11);
	ck_assert_uint_eq(a.committed, 22);
	ck_assert_uint_eq(a.reserved, 33);
	ck_assert_uint_eq(a.resident, 44);
	ck_assert_uint_eq(a.private_resident, 55);
	ck_assert_uint_eq(a.shared_resident, 66);
	ck_assert_uint_eq(a.pss, 77);
	ck_assert_uint_eq(a.swap, 88);
	ck_assert_uint_eq(a.locked, 99);
	ck_assert_uint_eq(a.regions, 4);
	ck_assert_uint_eq(a.blocks, 3);
	ck_assert_uint_eq(a.largest, 700);
	b.largest = 1;
	region_totals_add(&a, &b);
	ck_assert_uint_eq(a.largest, 700);
}
END_TEST

/* ---- region_type_name / _label / _from_name ---------------------------- */

START_TEST(test_region_type_name__round_trip)
{
	static const char *const names[REGION_TYPE_COUNT] = {
	        "image", "mapped",  "shareable",  "heap",     "managed_heap",
	        "stack", "private", "page_table", "unusable", "free"};
	enum region_type t;
	int i;

	for (i = 0; i < REGION_TYPE_COUNT; i++) {
		ck_assert_str_eq(region_type_name((enum region_type)i), names[i]);
		t = REGION_FREE;
		ck_assert_int_eq(region_type_from_name(names[i], &t), 0);
		ck_assert_int_eq(t, i);
	}
	ck_assert_str_eq(region_type_name(REGION_TYPE_COUNT), "unknown");
	ck_assert_int_eq(region_type_from_name("Heap", &t), MD_ERR_PARSE);
	ck_assert_int_eq(region_type_from_name("", &t), MD_ERR_PARSE);
	ck_assert_int_eq(region_type_from_name("heap ", &t), MD_ERR_PARSE);
	ck_assert_int_eq(region_type_from_name("unknown", &t), MD_ERR_PARSE);
}
END_TEST

START_TEST(test_region_type_label__vmmap_labels)
{
	ck_assert_str_eq(region_type_label(REGION_IMAGE), "Image");
	ck_assert_str_eq(region_type_label(REGION_MAPPED), "Mapped File");
	ck_assert_str_eq(region_type_label(REGION_MANAGED_HEAP), "Managed Heap");
	ck_assert_str_eq(region_type_label(REGION_PRIVATE), "Private Data");
	ck_assert_str_eq(region_type_label(REGION_PAGE_TABLE), "Page Table");
	ck_assert_str_eq(region_type_label(REGION_TYPE_COUNT), "Unknown");
}
END_TEST

/* ---- region_state_name / _from_name ------------------------------------ */

START_TEST(test_region_state_name__round_trip)
{
	enum region_state st = STATE_RESERVE;

	ck_assert_str_eq(region_state_name(STATE_COMMIT), "commit");
	ck_assert_str_eq(region_state_name(STATE_RESERVE), "reserve");
	ck_assert_str_eq(region_state_name(STATE_COUNT), "unknown");
	ck_assert_int_eq(region_state_from_name("commit", &st), 0);
	ck_assert_int_eq(st, STATE_COMMIT);
	ck_assert_int_eq(region_state_from_name("reserve", &st), 0);
	ck_assert_int_eq(st, STATE_RESERVE);
	ck_assert_int_eq(region_state_from_name("free", &st), MD_ERR_PARSE);
	ck_assert_int_eq(region_state_from_name("COMMIT", &st), MD_ERR_PARSE);
}
END_TEST

/* ---- region_prot_format / region_prot_parse ---------------------------- */

START_TEST(test_region_prot_format__examples)
{
	char buf[PROT_STR_MAX];

	region_prot_format(PROT_BIT_READ | PROT_BIT_WRITE, buf);
	ck_assert_str_eq(buf, "rw-p");
	region_prot_format(PROT_BIT_READ | PROT_BIT_EXEC | PROT_BIT_SHARED, buf);
	ck_assert_str_eq(buf, "r-xs");
	region_prot_format(0, buf);
	ck_assert_str_eq(buf, "---p");
	region_prot_format(PROT_BIT_GUARD, buf);
	ck_assert_str_eq(buf, "---pg");
	region_prot_format(PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_COPY, buf);
	ck_assert_str_eq(buf, "rw-pc");
	region_prot_format(0x3f, buf);
	ck_assert_str_eq(buf, "rwxsgc");
}
END_TEST

START_TEST(test_region_prot_parse__all_bits_round_trip)
{
	char buf[PROT_STR_MAX];
	unsigned p, got;

	for (p = 0; p < 64; p++) {
		region_prot_format(p, buf);
		got = 0xdead;
		ck_assert_int_eq(region_prot_parse(buf, &got), 0);
		ck_assert_uint_eq(got, p);
	}
	ck_assert_int_eq(region_prot_parse("r-xp", &got), 0);
	ck_assert_uint_eq(got, PROT_BIT_READ | PROT_BIT_EXEC);
	ck_assert_int_eq(region_prot_parse("---pg", &got), 0);
	ck_assert_uint_eq(got, PROT_BIT_GUARD);
	ck_assert_int_eq(region_prot_parse("rw-pc", &got), 0);
	ck_assert_uint_eq(got, PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_COPY);
}
END_TEST

START_TEST(test_region_prot_parse__rejects)
{
	static const char *const bad[] = {"",      "rw-",   "rw-x",  "wr-p", "rwx-", "RW-P",
	                                  "rw-pz", "rw-p ", "r w-p", "xw-p", "rw-pG"};
	unsigned got = 0x77;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(region_prot_parse(bad[i], &got) == MD_ERR_PARSE, "accepted \"%s\"",
		              bad[i]);
		ck_assert_uint_eq(got, 0x77); /* untouched on error */
	}
}
END_TEST

/* ---- snapshot_to_json -------------------------------------------------- */

START_TEST(test_snapshot_to_json__members)
{
	struct snapshot *s = known_snapshot();
	cJSON *j = NULL, *regions, *r, *flags, *totals;
	char *text;

	s->pid = 4242;
	s->start_time = 123456789;
	s->start_time_ms = 1700000000000;
	s->time_ms = 1700000600000;
	snprintf(s->name, sizeof(s->name), "app");
	ck_assert_int_eq(snapshot_set_cmdline(s, "app --serve"), 0);
	s->flags = SNAPSHOT_TRUNCATED | SNAPSHOT_NO_HEAP_LIST;
	ck_assert_int_eq(snapshot_to_json(s, &j), 0);
	ck_assert_ptr_nonnull(j);

	ck_assert_uint_eq(json_u64(j, "pid"), 4242);
	ck_assert_uint_eq(json_u64(j, "start_time"), 123456789);
	ck_assert_uint_eq(json_u64(j, "start_time_ms"), 1700000000000);
	ck_assert_uint_eq(json_u64(j, "time"), 1700000600000);
	ck_assert_uint_eq(json_u64(j, "page_table_bytes"), 8192);
	ck_assert_str_eq(json_str(j, "name"), "app");
	ck_assert_str_eq(json_str(j, "cmdline"), "app --serve");
	/* collect_ns only when known */
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "collect_ns"));
	flags = cJSON_GetObjectItemCaseSensitive(j, "flags");
	ck_assert_int_eq(cJSON_GetArraySize(flags), 2);
	ck_assert_str_eq(cJSON_GetArrayItem(flags, 0)->valuestring, "truncated");
	ck_assert_str_eq(cJSON_GetArrayItem(flags, 1)->valuestring, "no_heap_list");

	regions = cJSON_GetObjectItemCaseSensitive(j, "regions");
	ck_assert_int_eq(cJSON_GetArraySize(regions), 9);
	r = cJSON_GetArrayItem(regions, 1);
	ck_assert_uint_eq(json_u64(r, "base"), 0x401000);
	ck_assert_str_eq(json_str(r, "base_hex"), "0x401000");
	ck_assert_uint_eq(json_u64(r, "size"), 0x2000);
	ck_assert_uint_eq(json_u64(r, "allocation_base"), 0x400000);
	ck_assert_str_eq(json_str(r, "type"), "image");
	ck_assert_str_eq(json_str(r, "state"), "commit");
	ck_assert_str_eq(json_str(r, "protection"), "r-xp");
	ck_assert_uint_eq(json_u64(r, "resident"), 0x2000);
	ck_assert_uint_eq(json_u64(r, "shared"), 0x2000);
	ck_assert_uint_eq(json_u64(r, "private"), 0);
	ck_assert_uint_eq(json_u64(r, "pss"), 0x1000);
	ck_assert_str_eq(json_str(r, "detail"), "/usr/bin/app");
	r = cJSON_GetArrayItem(regions, 2);
	ck_assert_uint_eq(json_u64(r, "committed"), 0x21000);
	ck_assert_uint_eq(json_u64(r, "private"), 0x10000);
	ck_assert_uint_eq(json_u64(r, "swap"), 0x3000);
	ck_assert_uint_eq(json_u64(cJSON_GetArrayItem(regions, 3), "locked"), 0x1000);
	ck_assert_str_eq(json_str(cJSON_GetArrayItem(regions, 4), "state"), "reserve");
	ck_assert_str_eq(json_str(cJSON_GetArrayItem(regions, 4), "detail"), "");
	r = cJSON_GetArrayItem(regions, 8);
	ck_assert_uint_eq(json_u64(r, "base"), VSYSCALL_BASE);
	ck_assert_str_eq(json_str(r, "base_hex"), "0xffffffffff600000");

	totals = cJSON_GetObjectItemCaseSensitive(j, "totals");
	ck_assert_uint_eq(json_u64(totals, "free"), KNOWN_FREE);
	ck_assert_uint_eq(json_u64(totals, "private_committed"), 0x43000);

	/* Printed: plain integers, no exponent, no rounding. */
	text = cJSON_PrintUnformatted(j);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "\"base\":18446744073699065856,"));
	ck_assert_ptr_nonnull(strstr(text, "\"base\":139637976727552,")); /* 0x7f0000000000 */
	ck_assert_ptr_nonnull(strstr(text, "\"time\":1700000600000,"));
	ck_assert_ptr_null(strstr(text, "e+"));
	cJSON_free(text);
	cJSON_Delete(j);

	s->collect_ns = 1500000;
	s->flags = 0;
	ck_assert_int_eq(snapshot_to_json(s, &j), 0);
	ck_assert_uint_eq(json_u64(j, "collect_ns"), 1500000);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "flags")), 0);
	cJSON_Delete(j);
	snapshot_free(s);
}
END_TEST

START_TEST(test_snapshot_to_json__large_integers_print_plain)
{
	static const uint64_t values[] = {0x7ffffffff000ull,   17179869184ull,
	                                  1000000000000000ull, /* cJSON: "1e+15" */
	                                  9007199254740991ull, /* 2^53 - 1 */
	                                  9007199254740993ull, UINT64_MAX};
	static const char *const texts[] = {"140737488351232",  "17179869184",
	                                    "1000000000000000", "9007199254740991",
	                                    "9007199254740993", "18446744073709551615"};
	struct snapshot *s = new_snapshot();
	cJSON *j = NULL;
	char *text, want[64];
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		s->page_table_bytes = values[i];
		ck_assert_int_eq(snapshot_to_json(s, &j), 0);
		text = cJSON_PrintUnformatted(j);
		ck_assert_ptr_nonnull(text);
		snprintf(want, sizeof(want), "\"page_table_bytes\":%s,", texts[i]);
		ck_assert_msg(strstr(text, want) != NULL, "%s not in output", want);
		cJSON_free(text);
		cJSON_Delete(j);
	}
	s->time_ms = INT64_MIN;
	s->start_time_ms = -1;
	ck_assert_int_eq(snapshot_to_json(s, &j), 0);
	text = cJSON_PrintUnformatted(j);
	ck_assert_ptr_nonnull(strstr(text, "\"time\":-9223372036854775808,"));
	ck_assert_ptr_nonnull(strstr(text, "\"start_time_ms\":-1,"));
	cJSON_free(text);
	cJSON_Delete(j);
	snapshot_free(s);
}
END_TEST

/* ---- snapshot_totals_to_json ------------------------------------------- */

START_TEST(test_snapshot_totals_to_json__known_snapshot)
{
	static const char *const members[] = {
	        "size", "committed", "reserved", "resident", "private_resident", "shared_resident",
	        "pss",  "swap",      "locked",   "regions",  "blocks",           "largest"};
	struct snapshot *s = known_snapshot();
	struct snapshot_totals t;
	cJSON *j = NULL, *types, *states, *o;
	size_t i;
	int k;

	snapshot_totals(s, &t);
	ck_assert_int_eq(snapshot_totals_to_json(&t, &j), 0);
	types = cJSON_GetObjectItemCaseSensitive(j, "types");
	ck_assert_int_eq(cJSON_GetArraySize(types), REGION_TYPE_COUNT);
	for (k = 0; k < REGION_TYPE_COUNT; k++) {
		o = cJSON_GetArrayItem(types, k); /* display order */
		ck_assert_str_eq(o->string, region_type_name((enum region_type)k));
		ck_assert_int_eq(cJSON_GetArraySize(o), 12);
		for (i = 0; i < 12; i++)
			(void)json_u64(o, members[i]);
	}
	o = cJSON_GetObjectItemCaseSensitive(types, "page_table");
	ck_assert_uint_eq(json_u64(o, "committed"), 8192);
	ck_assert_uint_eq(json_u64(o, "resident"), 8192);
	ck_assert_uint_eq(json_u64(o, "regions"), 0);
	o = cJSON_GetObjectItemCaseSensitive(types, "private");
	ck_assert_uint_eq(json_u64(o, "size"), 0x400000);
	ck_assert_uint_eq(json_u64(o, "reserved"), 0x3ff000);
	ck_assert_uint_eq(json_u64(o, "blocks"), 1);
	ck_assert_uint_eq(json_u64(o, "largest"), 0x3ff000);
	o = cJSON_GetObjectItemCaseSensitive(types, "image");
	ck_assert_uint_eq(json_u64(o, "pss"), 0x1800);
	ck_assert_uint_eq(json_u64(o, "shared_resident"), 0x3000);

	states = cJSON_GetObjectItemCaseSensitive(j, "states");
	ck_assert_int_eq(cJSON_GetArraySize(states), 2);
	o = cJSON_GetObjectItemCaseSensitive(states, "reserve");
	ck_assert_uint_eq(json_u64(o, "reserved"), 0x3ff000);
	ck_assert_uint_eq(json_u64(o, "regions"), 1);
	o = cJSON_GetObjectItemCaseSensitive(states, "commit");
	ck_assert_uint_eq(json_u64(o, "committed"), 0x43000 + 8192);
	ck_assert_uint_eq(json_u64(o, "regions"), 8);

	o = cJSON_GetObjectItemCaseSensitive(j, "all");
	ck_assert_uint_eq(json_u64(o, "size"), KNOWN_SIZE);
	ck_assert_uint_eq(json_u64(o, "blocks"), 7);
	ck_assert_uint_eq(json_u64(o, "regions"), 9);
	ck_assert_uint_eq(json_u64(o, "swap"), 0x4000);
	ck_assert_uint_eq(json_u64(o, "private_resident"), 0x16000 + 8192);
	ck_assert_uint_eq(json_u64(j, "free"), KNOWN_FREE);
	ck_assert_uint_eq(json_u64(j, "private_committed"), 0x43000);
	ck_assert_uint_eq(json_u64(j, "private_touched"), 0x1a000);
	cJSON_Delete(j);
	snapshot_free(s);
}
END_TEST

/* ---- snapshot_from_json ------------------------------------------------ */

START_TEST(test_snapshot_from_json__round_trip)
{
	char *detail = malloc(5001);
	struct snapshot *s, *back = NULL, *again = NULL;
	cJSON *j = NULL;
	char *text, *text2;
	size_t off = 1;
	const char *what = "x";

	ck_assert_ptr_nonnull(detail);
	s = rich_snapshot(detail);
	ck_assert_int_eq(snapshot_to_json(s, &j), 0);
	text = cJSON_PrintUnformatted(j);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(snapshot_from_json(text, strlen(text), &back, &off, &what), 0);
	ck_assert_uint_eq(off, 0);
	ck_assert_ptr_null(what);
	assert_snapshot_eq(s, back);
	/* the values a double would have rounded */
	ck_assert_uint_eq(back->start_time, 133485408001234567ull);
	ck_assert_uint_eq(back->regions[11].base, VSYSCALL_BASE);
	ck_assert_uint_eq(back->regions[11].allocation_base, VSYSCALL_BASE);
	ck_assert_uint_eq(back->regions[10].resident, UINT64_MAX);
	ck_assert_uint_eq(back->regions[10].pss, 9007199254740993ull);
	ck_assert_uint_eq(strlen(back->regions[3].detail), 5000);
	ck_assert_str_eq(back->regions[3].detail, detail);

	/* Formatted output parses the same, and a second trip is identical. */
	cJSON_Delete(j);
	ck_assert_int_eq(snapshot_to_json(back, &j), 0);
	text2 = cJSON_PrintUnformatted(j);
	ck_assert_str_eq(text2, text);
	cJSON_free(text2);
	text2 = cJSON_Print(j);
	ck_assert_int_eq(snapshot_from_json(text2, strlen(text2), &again, NULL, NULL), 0);
	assert_snapshot_eq(s, again);
	cJSON_free(text2);
	cJSON_free(text);
	cJSON_Delete(j);
	snapshot_free(s);
	snapshot_free(back);
	snapshot_free(again);
	free(detail);
}
END_TEST

START_TEST(test_snapshot_from_json__many_regions)
{
	struct snapshot *s = new_snapshot(), *back = NULL;
	struct region r;
	cJSON *j = NULL;
	char *text, d[32];
	size_t i;

	s->pid = 1;
	s->time_ms = 1;
	for (i = 0; i < 20000; i++) {
		snprintf(d, sizeof(d), "/lib/x%zu.so", i);
		test_region(&r, 0x7f0000000000ull + 0x2000 * i, 0x1000, (enum region_type)(i % 9),
		            (enum region_state)(i % 2), (unsigned)i % 64, i * 4096, i, d);
		r.swap = i * 7;
		add(s, &r);
	}
	ck_assert_int_eq(snapshot_to_json(s, &j), 0);
	text = cJSON_PrintUnformatted(j);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(snapshot_from_json(text, strlen(text), &back, NULL, NULL), 0);
	assert_snapshot_eq(s, back);
	cJSON_free(text);
	cJSON_Delete(j);
	snapshot_free(s);
	snapshot_free(back);
}
END_TEST

START_TEST(test_snapshot_from_json__defaults_and_leniency)
{
	/* Only pid, time and regions are required; base, size, type, state
	 * and protection per region.  Unknown members and flags are skipped,
	 * "totals" is ignored, numbers may be written "4096.0" or "1e3". */
	const char *text =
	        " \n{\"future\": {\"x\": [1, -2.5e3]}, \"pid\": 7, \"time\": -5,"
	        " \"flags\": [\"truncated\", \"from_the_future\"],"
	        " \"totals\": {\"all\": {\"size\": 1}, \"free\": \"nonsense\"},"
	        " \"regions\": [{\"detail\": \"\\\"12-34\\\\\", \"base\": 8192.0, \"size\": 1e3,"
	        " \"type\": \"heap\", \"state\": \"reserve\", \"protection\": \"---pg\"},"
	        " {\"base\": 4096, \"size\": 4096, \"type\": \"stack\", \"state\": \"commit\","
	        " \"protection\": \"rw-p\", \"allocation_base\": 0, \"resident\": -0}]}\r\n\t";
	struct snapshot *s = parse_ok(text);

	ck_assert_int_eq(s->pid, 7);
	ck_assert_int_eq(s->time_ms, -5);
	ck_assert_uint_eq(s->start_time, 0);
	ck_assert_int_eq(s->start_time_ms, 0);
	ck_assert_str_eq(s->name, "");
	ck_assert_str_eq(s->cmdline, "");
	ck_assert_uint_eq(s->flags, SNAPSHOT_TRUNCATED);
	ck_assert_uint_eq(s->page_table_bytes, 0);
	ck_assert_uint_eq(s->n_regions, 2);
	/* sorted on the way in */
	ck_assert_uint_eq(s->regions[0].base, 4096);
	ck_assert_uint_eq(s->regions[0].allocation_base, 0);
	ck_assert_int_eq(s->regions[0].type, REGION_STACK);
	ck_assert_uint_eq(s->regions[0].resident, 0);
	ck_assert_str_eq(s->regions[0].detail, "");
	ck_assert_uint_eq(s->regions[1].base, 8192);
	ck_assert_uint_eq(s->regions[1].size, 1000);
	ck_assert_uint_eq(s->regions[1].allocation_base, 8192); /* default: base */
	ck_assert_int_eq(s->regions[1].state, STATE_RESERVE);
	ck_assert_uint_eq(s->regions[1].protection, PROT_BIT_GUARD);
	ck_assert_uint_eq(s->regions[1].committed, 0);
	ck_assert_str_eq(s->regions[1].detail, "\"12-34\\");
	snapshot_free(s);
}
END_TEST

START_TEST(test_snapshot_from_json__length_not_nul)
{
	/* Only @len bytes are read: the text need not end in a NUL. */
	const char buf[] = "{\"pid\":3,\"time\":4,\"regions\":[]}GARBAGE";
	struct snapshot *s = NULL;
	size_t off = 7;

	ck_assert_int_eq(snapshot_from_json(buf, strlen(buf) - 7, &s, &off, NULL), 0);
	ck_assert_int_eq(s->pid, 3);
	ck_assert_uint_eq(s->n_regions, 0);
	snapshot_free(s);
	/* ... and with the garbage inside @len it is an error at byte 31. */
	ck_assert_int_eq(snapshot_from_json(buf, strlen(buf), &s, &off, NULL), MD_ERR_PARSE);
	ck_assert_uint_eq(off, 31);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_snapshot_from_json__syntax_error_offsets)
{
	size_t off = 0;
	const char *what;

	/* cJSON stops at the second comma: byte 11. */
	what = parse_fails("{\"pid\": 1,, }", &off);
	ck_assert_uint_eq(off, 11);
	ck_assert_ptr_null(what);
	/* A value cut short: cJSON reports the last byte, 18. */
	what = parse_fails("{\"pid\": 1, \"time\": ", &off);
	ck_assert_uint_eq(off, 18);
	ck_assert_ptr_null(what);
	/* A bad literal: byte 8, where "tru" starts. */
	(void)parse_fails("{\"pid\": tru}", &off);
	ck_assert_uint_eq(off, 8);
	/* Trailing garbage after a complete value: where it starts. */
	(void)parse_fails("{\"pid\": 1}  x", &off);
	ck_assert_uint_eq(off, 12);
	/* Empty text. */
	(void)parse_fails("", &off);
	ck_assert_uint_eq(off, 0);
	ck_assert_int_eq(snapshot_from_json(NULL, 0, &(struct snapshot *){NULL}, &off, NULL),
	                 MD_ERR_PARSE);
}
END_TEST

START_TEST(test_snapshot_from_json__missing_members)
{
	assert_bad_member("{\"pid\": 1, \"time\": 2}", "regions");
	assert_bad_member("{\"pid\": 1, \"time\": 2, \"regions\": {}}", "regions");
	assert_bad_member("{\"time\": 2, \"regions\": []}", "pid");
	assert_bad_member("{\"pid\": 1, \"regions\": []}", "time");
	assert_bad_member("[1, 2]", "(top level: not an object)");
	assert_bad_member("{\"pid\": 1, \"time\": 2, \"regions\": [{\"size\": 4096, \"type\": "
	                  "\"heap\", \"state\": \"commit\", \"protection\": \"rw-p\"}]}",
	                  "regions[0].base");
	assert_bad_member("{\"pid\": 1, \"time\": 2, \"regions\": [{\"base\": 4096, \"size\": "
	                  "4096, \"state\": \"commit\", \"protection\": \"rw-p\"}]}",
	                  "regions[0].type");
	assert_bad_member("{\"pid\": 1, \"time\": 2, \"regions\": [7]}", "regions[0]");
}
END_TEST

/* A region object with @member's value replaced by @value. */
static void
assert_bad_region_value(const char *member, const char *value, const char *what)
{
	static const char *const names[] = {"base",  "size",       "allocation_base", "type",
	                                    "state", "protection", "committed",       "detail"};
	static const char *const good[] = {"4096",       "8192",     "4096", "\"heap\"",
	                                   "\"commit\"", "\"rw-p\"", "8192", "\"[heap]\""};
	char text[1024];
	size_t n = 0, k;

	n += (size_t)snprintf(text + n, sizeof(text) - n,
	                      "{\"pid\": 1, \"time\": 2, \"regions\": [{\"base\": 0, \"size\": 1, "
	                      "\"type\": \"image\", \"state\": \"commit\", \"protection\": "
	                      "\"r--p\"}, {");
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\"%s\": %s", k ? ", " : "",
		                      names[k], strcmp(names[k], member) == 0 ? value : good[k]);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "}]}");
	ck_assert_uint_lt(n, sizeof(text));
	assert_bad_member(text, what);
}

START_TEST(test_snapshot_from_json__bad_values)
{
	assert_bad_region_value("type", "\"heep\"", "regions[1].type");
	assert_bad_region_value("type", "3", "regions[1].type");
	assert_bad_region_value("state", "\"free\"", "regions[1].state");
	assert_bad_region_value("protection", "\"rw-x\"", "regions[1].protection");
	assert_bad_region_value("protection", "\"rw-pq\"", "regions[1].protection");
	assert_bad_region_value("base", "\"4096\"", "regions[1].base");
	assert_bad_region_value("base", "4096.5", "regions[1].base");
	assert_bad_region_value("base", "-4096", "regions[1].base");
	assert_bad_region_value("base", "18446744073709551616", "regions[1].base"); /* 2^64 */
	assert_bad_region_value("base", "1e300", "regions[1].base");
	assert_bad_region_value("size", "0", "regions[1].size");
	assert_bad_region_value("size", "18446744073709551615", "regions[1].size"); /* wraps */
	assert_bad_region_value("allocation_base", "null", "regions[1].allocation_base");
	assert_bad_region_value("committed", "true", "regions[1].committed");
	assert_bad_region_value("detail", "42", "regions[1].detail");

	/* Top-level members. */
	assert_bad_member("{\"pid\": -1, \"time\": 2, \"regions\": []}", "pid");
	assert_bad_member("{\"pid\": 2147483648, \"time\": 2, \"regions\": []}", "pid");
	assert_bad_member("{\"pid\": 1, \"time\": 9223372036854775808, \"regions\": []}", "time");
	assert_bad_member("{\"pid\": 1, \"time\": 2, \"start_time\": -1, \"regions\": []}",
	                  "start_time");
	assert_bad_member("{\"pid\": 1, \"time\": 2, \"flags\": \"truncated\", \"regions\": []}",
	                  "flags");
	assert_bad_member("{\"pid\": 1, \"time\": 2, \"flags\": [1], \"regions\": []}", "flags");
	assert_bad_member("{\"pid\": 1, \"time\": 2, \"cmdline\": [], \"regions\": []}", "cmdline");
	assert_bad_member("{\"pid\": 1, \"time\": 2, \"regions\": [], \"name\": "
	                  "\"0123456789012345678901234567890123456789012345678901234567890123\"}",
	                  "name"); /* 64 bytes: one too many */
}
END_TEST

START_TEST(test_snapshot_from_json__limits_accepted)
{
	struct snapshot *s =
	        parse_ok("{\"pid\": 2147483647, \"time\": -9223372036854775808, \"start_time\": "
	                 "18446744073709551615, \"name\": "
	                 "\"012345678901234567890123456789012345678901234567890123456789012\", "
	                 "\"regions\": [{\"base\": 18446744073709547520, \"size\": 4095, \"type\": "
	                 "\"unusable\", \"state\": \"commit\", \"protection\": \"--xp\"}]}");

	ck_assert_int_eq(s->pid, 2147483647);
	ck_assert_int_eq(s->time_ms, INT64_MIN);
	ck_assert_uint_eq(s->start_time, UINT64_MAX);
	ck_assert_uint_eq(strlen(s->name), 63);
	ck_assert_uint_eq(s->regions[0].base, 0xfffffffffffff000ull);
	snapshot_free(s);
}
END_TEST

START_TEST(test_snapshot_from_json__rejects_overlap)
{
	/* In address order: the region that runs into its predecessor is
	 * named. */
	assert_bad_member("{\"pid\": 1, \"time\": 2, \"regions\": ["
	                  "{\"base\": 4096, \"size\": 4096, \"type\": \"heap\", \"state\": "
	                  "\"commit\", \"protection\": \"rw-p\"},"
	                  "{\"base\": 8192, \"size\": 4096, \"type\": \"heap\", \"state\": "
	                  "\"commit\", \"protection\": \"rw-p\"},"
	                  "{\"base\": 12287, \"size\": 1, \"type\": \"heap\", \"state\": "
	                  "\"commit\", \"protection\": \"rw-p\"}]}",
	                  "regions[2]");
	/* Out of order: found after sorting, the array is named. */
	assert_bad_member("{\"pid\": 1, \"time\": 2, \"regions\": ["
	                  "{\"base\": 8192, \"size\": 4096, \"type\": \"heap\", \"state\": "
	                  "\"commit\", \"protection\": \"rw-p\"},"
	                  "{\"base\": 4096, \"size\": 4097, \"type\": \"heap\", \"state\": "
	                  "\"commit\", \"protection\": \"rw-p\"}]}",
	                  "regions");
	/* Touching is fine. */
	snapshot_free(parse_ok("{\"pid\": 1, \"time\": 2, \"regions\": ["
	                       "{\"base\": 8192, \"size\": 4096, \"type\": \"heap\", \"state\": "
	                       "\"commit\", \"protection\": \"rw-p\"},"
	                       "{\"base\": 4096, \"size\": 4096, \"type\": \"heap\", \"state\": "
	                       "\"commit\", \"protection\": \"rw-p\"}]}"));
}
END_TEST

/* ---- main -------------------------------------------------------------- */

/* ---- snapshot_json_write ------------------------------------------------ */

struct sink {
	char *data;
	size_t len;
	int calls;
};

static int
sink_flush(void *arg, const char *data, size_t len)
{
	struct sink *k = arg;

	k->data = realloc(k->data, k->len + len + 1);
	ck_assert_ptr_nonnull(k->data);
	memcpy(k->data + k->len, data, len);
	k->len += len;
	k->data[k->len] = '\0';
	k->calls++;
	return 0;
}

/* The streamed text equals cJSON_PrintUnformatted() of the tree, with and
 * without a flush callback. */
static void
assert_same_bytes(const struct snapshot *s, int min_flushes)
{
	struct json_out o;
	struct sink k = {NULL, 0, 0};
	cJSON *tree = NULL;
	char *want;

	ck_assert_int_eq(snapshot_to_json(s, &tree), 0);
	want = cJSON_PrintUnformatted(tree);
	ck_assert_ptr_nonnull(want);

	json_out_init(&o, NULL, NULL);
	ck_assert_int_eq(snapshot_json_write(s, &o), 0);
	ck_assert_int_eq(json_out_finish(&o), 0);
	ck_assert_uint_eq(o.len, strlen(want));
	ck_assert_int_eq(memcmp(o.buf, want, o.len), 0);
	json_out_done(&o);

	json_out_init(&o, sink_flush, &k);
	ck_assert_int_eq(snapshot_json_write(s, &o), 0);
	ck_assert_int_eq(json_out_finish(&o), 0);
	ck_assert_int_ge(k.calls, min_flushes);
	ck_assert_uint_eq(k.len, strlen(want));
	ck_assert_str_eq(k.data, want);
	json_out_done(&o);

	free(k.data);
	cJSON_free(want);
	cJSON_Delete(tree);
}

START_TEST(test_snapshot_json_write__same_bytes_as_tree)
{
	char detail[5001];
	struct snapshot *s;
	struct region r;
	size_t i;

	s = known_snapshot();
	assert_same_bytes(s, 1);
	snapshot_free(s);

	s = rich_snapshot(detail);
	/* every control byte, and bytes >= 0x80 alone */
	{
		char ctl[40];

		for (i = 0; i < 31; i++)
			ctl[i] = (char)(i + 1);
		ctl[31] = (char)0xff;
		ctl[32] = (char)0x80;
		ctl[33] = '\0';
		test_region(&r, 0x7ff000000000ull, 0x1000, REGION_MAPPED, STATE_COMMIT,
		            PROT_BIT_READ, 0, 0, ctl);
		ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	}
	ck_assert_int_eq(snapshot_sort(s), 0);
	assert_same_bytes(s, 1);
	snapshot_free(s);

	/* empty, and big enough to flush several times */
	s = new_snapshot();
	assert_same_bytes(s, 1);
	for (i = 0; i < 3000; i++) {
		test_region(&r, 0x10000000ull + i * 0x2000, 0x1000, (enum region_type)(i % 7),
		            (enum region_state)(i % 2), (unsigned)(i % 64), i * 4096, i * 7,
		            i % 3 ? "/usr/lib/x86_64-linux-gnu/libsomething.so.1" : NULL);
		ck_assert_int_eq(snapshot_add_region(s, &r), 0);
	}
	s->collect_ns = 123456789;
	s->flags = SNAPSHOT_TRUNCATED | SNAPSHOT_NO_HEAP_LIST;
	s->pid = -1; /* negative integers too */
	s->start_time_ms = -5;
	assert_same_bytes(s, 3);
	snapshot_free(s);
}
END_TEST

/* Integers of every length (9, 10, 99, 100, ... 10^19, UINT64_MAX) in every
 * counter, and addresses of every hex length: the writer counts digits
 * itself, so each boundary must print as the tree prints it. */
START_TEST(test_snapshot_json_write__every_digit_count)
{
	struct snapshot *s = new_snapshot();
	struct region r;
	uint64_t v = 1, base;
	int k;

	for (k = 0; k <= 20; k++) {
		uint64_t lo = k == 0 ? 0 : v - 1, hi = k == 20 ? UINT64_MAX : v;

		base = k < 16 ? (uint64_t)1 << (4 * k) : 0x7f0000000000ull + (uint64_t)k * 0x10000;
		test_region(&r, base, 1, (enum region_type)(k % REGION_TYPE_COUNT),
		            (enum region_state)(k % 2), (unsigned)k & 0x3f, lo, hi,
		            k % 2 ? "" : "/x");
		r.allocation_base = lo;
		r.private_resident = hi;
		r.shared_resident = lo;
		r.pss = hi;
		r.swap = lo;
		r.locked = hi;
		ck_assert_int_eq(snapshot_add_region(s, &r), 0);
		if (k < 19)
			v *= 10;
	}
	ck_assert_int_eq(snapshot_sort(s), 0);
	s->page_table_bytes = 9999999999ull;
	assert_same_bytes(s, 1);
	snapshot_free(s);
}
END_TEST

static Suite *
snapshot_suite(void)
{
	Suite *su = suite_create("snapshot");
	TCase *tc;

	tc = tcase_create("snapshot_new");
	tcase_add_test(tc, test_snapshot_new__empty);
	suite_add_tcase(su, tc);

	tc = tcase_create("snapshot_strdup");
	tcase_add_test(tc, test_snapshot_strdup__long_and_many);
	suite_add_tcase(su, tc);

	tc = tcase_create("snapshot_add_region");
	tcase_add_test(tc, test_snapshot_add_region__copies_detail_and_grows);
	suite_add_tcase(su, tc);

	tc = tcase_create("snapshot_set_cmdline");
	tcase_add_test(tc, test_snapshot_set_cmdline__copies);
	suite_add_tcase(su, tc);

	tc = tcase_create("snapshot_sort");
	tcase_add_test(tc, test_snapshot_sort__orders_and_allows_touching);
	tcase_add_test(tc, test_snapshot_sort__rejects_overlap);
	suite_add_tcase(su, tc);

	tc = tcase_create("snapshot_clone");
	tcase_add_test(tc, test_snapshot_clone__equal_and_independent);
	suite_add_tcase(su, tc);

	tc = tcase_create("snapshot_totals");
	tcase_add_test(tc, test_snapshot_totals__known_snapshot);
	tcase_add_test(tc, test_snapshot_totals__empty);
	suite_add_tcase(su, tc);

	tc = tcase_create("region_totals_add");
	tcase_add_test(tc, test_region_totals_add__sums_and_max);
	suite_add_tcase(su, tc);

	tc = tcase_create("region_type_name");
	tcase_add_test(tc, test_region_type_name__round_trip);
	suite_add_tcase(su, tc);

	tc = tcase_create("region_type_label");
	tcase_add_test(tc, test_region_type_label__vmmap_labels);
	suite_add_tcase(su, tc);

	tc = tcase_create("region_state_name");
	tcase_add_test(tc, test_region_state_name__round_trip);
	suite_add_tcase(su, tc);

	tc = tcase_create("region_prot_format");
	tcase_add_test(tc, test_region_prot_format__examples);
	suite_add_tcase(su, tc);

	tc = tcase_create("region_prot_parse");
	tcase_add_test(tc, test_region_prot_parse__all_bits_round_trip);
	tcase_add_test(tc, test_region_prot_parse__rejects);
	suite_add_tcase(su, tc);

	tc = tcase_create("snapshot_to_json");
	tcase_add_test(tc, test_snapshot_to_json__members);
	tcase_add_test(tc, test_snapshot_to_json__large_integers_print_plain);
	suite_add_tcase(su, tc);

	tc = tcase_create("snapshot_json_write");
	tcase_add_test(tc, test_snapshot_json_write__same_bytes_as_tree);
	tcase_add_test(tc, test_snapshot_json_write__every_digit_count);
	suite_add_tcase(su, tc);

	tc = tcase_create("snapshot_totals_to_json");
	tcase_add_test(tc, test_snapshot_totals_to_json__known_snapshot);
	suite_add_tcase(su, tc);

	tc = tcase_create("snapshot_from_json");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_snapshot_from_json__round_trip);
	tcase_add_test(tc, test_snapshot_from_json__many_regions);
	tcase_add_test(tc, test_snapshot_from_json__defaults_and_leniency);
	tcase_add_test(tc, test_snapshot_from_json__length_not_nul);
	tcase_add_test(tc, test_snapshot_from_json__syntax_error_offsets);
	tcase_add_test(tc, test_snapshot_from_json__missing_members);
	tcase_add_test(tc, test_snapshot_from_json__bad_values);
	tcase_add_test(tc, test_snapshot_from_json__limits_accepted);
	tcase_add_test(tc, test_snapshot_from_json__rejects_overlap);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	SRunner *sr = srunner_create(snapshot_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
