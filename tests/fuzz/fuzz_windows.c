/*
 * fuzz_windows.c - libFuzzer target: the Windows region classifier and the
 * "memdelta-winraw 1" text form (snapshot/windows_regions.c), on Linux.
 *
 * An input that starts with "memdelta-winraw" is the text form: it goes to
 * winraw_parse(); what parses must classify, be written back by
 * winraw_write(), parse again and write again to the same bytes, and
 * classify to the same snapshot.  Any other input is decoded (decode()
 * below) into a struct winraw as snapshot/windows.c builds it from
 * VirtualQueryEx: a list of MEMORY_BASIC_INFORMATION-like regions, most of
 * them laid out in address order from small gaps and sizes so that the
 * classifier's rules fire, some with raw 64-bit bases and sizes so that
 * disorder, overlap and wrap-around are tried too; heap handles and thread
 * stack ranges pointing into those regions; any PAGE_* value, state, type.
 *
 * After windows_classify(): a record in address order must classify (and
 * one that is not must be refused with MD_ERR_PARSE), and the snapshot must
 * hold to the model: regions sorted, non-overlapping and non-empty; every
 * non-free region there once with its size, the only additions UNUSABLE
 * slack inside a free region up to the next 64 KiB boundary; committed never
 * above the size and 0 for a reserve, which has no access; a HEAP region's
 * allocation base in the heap list, a STACK region named after one of the
 * threads; the flags saying which source was missing; totals that add up.
 * A decoded record that the text parser also accepts must survive
 * winraw_write() and winraw_parse() unchanged in its classification.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "snapshot/windows_regions.h"
#include "tests/fuzz/fuzz.h"

#define MAX_RECORDS 2048
#define PAGE        ((uint64_t)4096)

struct reader {
	const uint8_t *p;
	size_t n, off;
};

static uint64_t
get(struct reader *r, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)(r->off < r->n ? r->p[r->off++] : 0) << (8 * i);
	return v;
}

/* Decode the binary form into @raw: byte 0 the access and the sources, then
 * records, each an opcode byte and its fields (missing bytes read as 0). */
static void
decode(struct winraw *raw, const uint8_t *data, size_t size)
{
	struct reader rd = {data, size, 0};
	unsigned head = (unsigned)get(&rd, 1);
	uint64_t prev_end = 0, prev_alloc = 0;

	raw->pid = 4242;
	raw->start_time = 133485408001234567ull;
	raw->start_time_ms = 1700000000123;
	snprintf(raw->name, sizeof(raw->name), "fuzz.exe");
	raw->limited = head & 1;
	raw->truncated = (head >> 1) & 1;
	raw->heaps_source = (enum winraw_source)((head >> 2) % 4 % 3);
	raw->threads_source = (enum winraw_source)((head >> 4) % 4 % 3);
	raw->working_set_source = (enum winraw_source)((head >> 6) % 4 % 3);
	raw->max_address = 0x7ffffffeffffull;
	if (raw->limited) {
		raw->private_usage = get(&rd, 4) * PAGE;
		raw->working_set = get(&rd, 4) * PAGE;
		return;
	}
	for (int k = 0; k < MAX_RECORDS && rd.off < rd.n; k++) {
		unsigned op = (unsigned)get(&rd, 1);

		switch (op % 4) {
		case 0:
		case 1: {
			struct winraw_region w;
			unsigned st = (unsigned)get(&rd, 1);
			char path[256];

			memset(&w, 0, sizeof(w));
			w.base = op & 0x80 ? get(&rd, 8) : prev_end + get(&rd, 2) * PAGE;
			w.size = op & 0x40 ? get(&rd, 8) : (get(&rd, 2) + 1) * PAGE;
			if (st & 0x80) {
				w.state = (uint32_t)get(&rd, 4);
				w.type = (uint32_t)get(&rd, 4);
			} else {
				static const uint32_t states[] = {WIN_MEM_COMMIT, WIN_MEM_RESERVE,
				                                  WIN_MEM_FREE, WIN_MEM_COMMIT};
				static const uint32_t types[] = {WIN_MEM_PRIVATE, WIN_MEM_MAPPED,
				                                 WIN_MEM_IMAGE, WIN_MEM_PRIVATE};

				w.state = states[st & 3];
				w.type = w.state == WIN_MEM_FREE ? 0 : types[(st >> 2) & 3];
			}
			if (w.state != WIN_MEM_FREE)
				w.allocation_base =
				        (st & 0x10) && prev_alloc != 0 ? prev_alloc : w.base;
			w.protect = (uint32_t)get(&rd, 2);
			w.allocation_protect = (uint32_t)get(&rd, 1);
			if (w.state == WIN_MEM_RESERVE)
				w.protect = 0;
			w.resident = get(&rd, 1) * PAGE;
			if (w.resident > w.size)
				w.resident = w.size;
			w.private_resident = w.resident / 2;
			w.shared_resident = w.resident - w.private_resident;
			path[0] = '\0';
			if (st & 0x40) {
				size_t len = (size_t)get(&rd, 1);

				for (size_t i = 0; i < len; i++)
					path[i] = (char)get(&rd, 1);
				path[len] = '\0';
			}
			FUZZ_CHECK(winraw_add_region(raw, &w, path) == 0);
			prev_end = w.base + w.size;
			if (w.state != WIN_MEM_FREE)
				prev_alloc = w.allocation_base;
			break;
		}
		case 2: {
			uint64_t heap;

			if ((op & 0x80) || raw->n_regions == 0)
				heap = get(&rd, 8);
			else
				heap = raw->regions[get(&rd, 1) % raw->n_regions].allocation_base;
			FUZZ_CHECK(winraw_add_heap(raw, heap) == 0);
			break;
		}
		default: {
			struct winraw_thread t;

			t.tid = (uint32_t)get(&rd, 2);
			if ((op & 0x80) || raw->n_regions == 0) {
				t.stack_limit = get(&rd, 8);
				t.stack_base = get(&rd, 8);
			} else {
				const struct winraw_region *w =
				        &raw->regions[get(&rd, 1) % raw->n_regions];

				t.stack_base = w->base + w->size;
				t.stack_limit =
				        w->base + get(&rd, 1) * PAGE % (w->size ? w->size : 1);
			}
			FUZZ_CHECK(winraw_add_thread(raw, &t) == 0);
			break;
		}
		}
	}
}

/* Regions in address order, none empty, none wrapping past 2^64. */
static int
in_order(const struct winraw *raw)
{
	for (size_t i = 0; i < raw->n_regions; i++) {
		const struct winraw_region *w = &raw->regions[i];

		if (w->size == 0 || w->base + w->size < w->base)
			return 0;
		if (i > 0 && w->base < raw->regions[i - 1].base + raw->regions[i - 1].size)
			return 0;
	}
	return 1;
}

static int
is_heap(const struct winraw *raw, uint64_t base)
{
	for (size_t i = 0; i < raw->n_heaps; i++)
		if (raw->heaps[i] == base)
			return 1;
	return 0;
}

static int
is_thread_detail(const struct winraw *raw, const char *detail)
{
	char want[32];

	for (size_t i = 0; i < raw->n_threads; i++) {
		snprintf(want, sizeof(want), "thread %" PRIu32, raw->threads[i].tid);
		if (strcmp(detail, want) == 0)
			return 1;
	}
	return 0;
}

/* The model's rules for @s, classified from @raw (in order). */
static void
check_snapshot(const struct winraw *raw, const struct snapshot *s)
{
	struct snapshot_totals t;
	uint64_t in_size = 0, out_size = 0, all = 0;
	size_t n_nonfree = 0, j = 0;

	FUZZ_CHECK(s->pid == raw->pid && strcmp(s->name, raw->name) == 0);
	FUZZ_CHECK(!!(s->flags & SNAPSHOT_TRUNCATED) == !!raw->truncated);
	if (raw->limited) {
		FUZZ_CHECK(s->flags & SNAPSHOT_TOTALS_ONLY);
		FUZZ_CHECK(s->n_regions <= 1);
		if (s->n_regions == 1)
			FUZZ_CHECK(s->regions[0].committed == raw->private_usage &&
			           s->regions[0].resident == raw->working_set &&
			           s->regions[0].size >= raw->private_usage &&
			           s->regions[0].size >= raw->working_set);
		return;
	}
	FUZZ_CHECK(!!(s->flags & SNAPSHOT_NO_HEAP_LIST) == (raw->heaps_source != WINRAW_AVAILABLE));
	FUZZ_CHECK(!!(s->flags & SNAPSHOT_NO_THREAD_STACKS) ==
	           (raw->threads_source != WINRAW_AVAILABLE));
	FUZZ_CHECK(!!(s->flags & SNAPSHOT_NO_WORKING_SET) ==
	           (raw->working_set_source != WINRAW_AVAILABLE));
	for (size_t i = 0; i < raw->n_regions; i++)
		if (raw->regions[i].state != WIN_MEM_FREE) {
			n_nonfree++;
			in_size += raw->regions[i].size;
		}
	FUZZ_CHECK(s->n_regions >= n_nonfree && s->n_regions <= raw->n_regions);
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct region *r = &s->regions[i];
		const struct winraw_region *w;

		FUZZ_CHECK(r->size > 0 && r->base + r->size > r->base);
		if (i > 0)
			FUZZ_CHECK(r->base >= s->regions[i - 1].base + s->regions[i - 1].size);
		FUZZ_CHECK(r->type < REGION_TYPE_COUNT && r->type != REGION_FREE &&
		           r->type != REGION_PAGE_TABLE);
		FUZZ_CHECK(r->state == STATE_COMMIT || r->state == STATE_RESERVE);
		FUZZ_CHECK(r->committed <= r->size && r->detail != NULL);
		if (r->state == STATE_RESERVE)
			FUZZ_CHECK(r->committed == 0 &&
			           !(r->protection &
			             (PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_EXEC)));
		/* The input region it came from (both lists are in order). */
		while (j < raw->n_regions && raw->regions[j].base + raw->regions[j].size <= r->base)
			j++;
		FUZZ_CHECK(j < raw->n_regions);
		w = &raw->regions[j];
		if (r->type == REGION_UNUSABLE) {
			uint64_t boundary = (w->base | (WIN_ALLOCATION_GRANULARITY - 1)) + 1;

			FUZZ_CHECK(w->state == WIN_MEM_FREE && r->base == w->base);
			FUZZ_CHECK(r->size <= w->size &&
			           (boundary == 0 || r->base + r->size <= boundary));
		} else {
			FUZZ_CHECK(w->state != WIN_MEM_FREE && r->base == w->base &&
			           r->size == w->size);
			FUZZ_CHECK(r->allocation_base == w->allocation_base);
			FUZZ_CHECK((r->state == STATE_COMMIT) == (w->state == WIN_MEM_COMMIT));
			out_size += r->size;
		}
		if (r->type == REGION_HEAP)
			FUZZ_CHECK(is_heap(raw, r->allocation_base));
		if (r->type == REGION_STACK)
			FUZZ_CHECK(is_thread_detail(raw, r->detail));
		all += r->size;
	}
	FUZZ_CHECK(out_size == in_size);
	snapshot_totals(s, &t);
	FUZZ_CHECK(t.all.regions == s->n_regions && t.all.size == all);
}

static void
same_snapshot(const struct snapshot *a, const struct snapshot *b)
{
	FUZZ_CHECK(a->n_regions == b->n_regions && a->flags == b->flags);
	for (size_t i = 0; i < a->n_regions; i++) {
		const struct region *x = &a->regions[i], *y = &b->regions[i];

		FUZZ_CHECK(x->base == y->base && x->size == y->size &&
		           x->allocation_base == y->allocation_base);
		FUZZ_CHECK(x->type == y->type && x->state == y->state &&
		           x->protection == y->protection);
		FUZZ_CHECK(x->committed == y->committed && x->resident == y->resident);
		FUZZ_CHECK(strcmp(x->detail, y->detail) == 0);
	}
}

/* winraw_write() into a malloc'd buffer. */
static char *
write_text(const struct winraw *raw, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(winraw_write(raw, f) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	return buf;
}

static struct snapshot *
classify(const struct winraw *raw, int *rc)
{
	struct snapshot *s = NULL;

	FUZZ_CHECK(snapshot_new(&s) == 0);
	*rc = windows_classify(raw, s);
	return s;
}

/* A record the text parser accepted: the writer's text parses back to the
 * same record, whose text is the same bytes. */
static void
text_round_trip(const struct winraw *raw, const struct snapshot *s, int must_parse)
{
	struct winraw back;
	struct winraw_error err;
	struct snapshot *s2;
	size_t len1, len2;
	char *t1 = write_text(raw, &len1), *t2;
	int rc;

	winraw_init(&back);
	rc = winraw_parse(&back, t1, len1, &err);
	if (must_parse)
		FUZZ_CHECK(rc == 0);
	if (rc == 0) {
		t2 = write_text(&back, &len2);
		FUZZ_CHECK(len1 == len2 && memcmp(t1, t2, len1) == 0);
		free(t2);
		s2 = classify(&back, &rc);
		FUZZ_CHECK(rc == 0);
		same_snapshot(s, s2);
		snapshot_free(s2);
	}
	winraw_done(&back);
	free(t1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char magic[] = "memdelta-winraw";
	struct winraw raw;
	struct winraw_error err;
	struct snapshot *s;
	int rc, text = size >= sizeof(magic) - 1 && memcmp(data, magic, sizeof(magic) - 1) == 0;

	winraw_init(&raw);
	if (text) {
		rc = winraw_parse(&raw, (const char *)data, size, &err);
		FUZZ_CHECK(rc == 0 || rc == MD_ERR_PARSE);
		if (rc != 0) {
			FUZZ_CHECK(raw.n_regions == 0 && err.line > 0 && err.what != NULL);
			winraw_done(&raw);
			return 0;
		}
		/* What the parser accepts is in order. */
		FUZZ_CHECK(in_order(&raw));
	} else {
		decode(&raw, data, size);
	}
	s = classify(&raw, &rc);
	if (raw.limited || in_order(&raw)) {
		FUZZ_CHECK(rc == 0);
		check_snapshot(&raw, s);
		text_round_trip(&raw, s, text);
	} else {
		FUZZ_CHECK(rc == MD_ERR_PARSE);
	}
	snapshot_free(s);
	winraw_done(&raw);
	return 0;
}
