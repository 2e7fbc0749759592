/*
 * snapshot.c - the region model: allocation, string arena, sorting, totals
 * and the names of types, states and protections (see snapshot.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "snapshot/snapshot.h"

/* Strings live in a chain of blocks so pointers stay valid as it grows. */
struct arena_block {
	struct arena_block *next;
	size_t used;
	size_t cap;
	char data[];
};

struct snapshot_arena {
	struct arena_block *head;
};

#define ARENA_BLOCK_SIZE (32u * 1024u)

static const char *const type_names[REGION_TYPE_COUNT] = {
        "image", "mapped",  "shareable",  "heap",     "managed_heap",
        "stack", "private", "page_table", "unusable", "free",
};

static const char *const type_labels[REGION_TYPE_COUNT] = {
        "Image", "Mapped File",  "Shareable",  "Heap",     "Managed Heap",
        "Stack", "Private Data", "Page Table", "Unusable", "Free",
};

static const char *const state_names[STATE_COUNT] = {"commit", "reserve"};

const struct snapshot_flag_name snapshot_flag_names[] = {
        {SNAPSHOT_TRUNCATED, "truncated"},
        {SNAPSHOT_NO_THREAD_SP, "no_thread_sp"},
        {SNAPSHOT_TOTALS_ONLY, "totals_only"},
        {SNAPSHOT_NO_HEAP_LIST, "no_heap_list"},
        {SNAPSHOT_NO_THREAD_STACKS, "no_thread_stacks"},
        {SNAPSHOT_NO_WORKING_SET, "no_working_set"},
};
const size_t snapshot_flag_name_count =
        sizeof(snapshot_flag_names) / sizeof(snapshot_flag_names[0]);

int
snapshot_new(struct snapshot **out)
{
	struct snapshot *s = NULL;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return MD_ERR_NOMEM;
	s->arena = calloc(1, sizeof(*s->arena));
	if (s->arena == NULL) {
		free(s);
		return MD_ERR_NOMEM;
	}
	s->cmdline = "";
	*out = s;
	return 0;
}

void
snapshot_free(struct snapshot *s)
{
	struct arena_block *b, *next;

	if (s == NULL)
		return;
	if (s->arena != NULL) {
		for (b = s->arena->head; b != NULL; b = next) {
			next = b->next;
			free(b);
		}
		free(s->arena);
	}
	free(s->regions);
	free(s);
}

const char *
snapshot_strdup(struct snapshot *s, const char *str, size_t len)
{
	struct arena_block *b = s->arena->head;
	char *p;

	if (len == 0)
		return "";
	if (b == NULL || b->cap - b->used < len + 1) {
		size_t cap = len + 1 > ARENA_BLOCK_SIZE ? len + 1 : ARENA_BLOCK_SIZE;

		b = malloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		/* A block for one big string goes behind the current one so
		 * the current block's free space is not lost. */
		if (cap > ARENA_BLOCK_SIZE && s->arena->head != NULL) {
			b->next = s->arena->head->next;
			s->arena->head->next = b;
		} else {
			b->next = s->arena->head;
			s->arena->head = b;
		}
	}
	p = b->data + b->used;
	memcpy(p, str, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

int
snapshot_reserve(struct snapshot *s, size_t n)
{
	struct region *nr;

	if (n <= s->cap_regions)
		return 0;
	if (n > SIZE_MAX / sizeof(*nr))
		return MD_ERR_NOMEM;
	nr = realloc(s->regions, n * sizeof(*nr));
	if (nr == NULL)
		return MD_ERR_NOMEM;
	s->regions = nr;
	s->cap_regions = n;
	return 0;
}

int
snapshot_add_region(struct snapshot *s, const struct region *r)
{
	struct region *slot;
	int rc;

	if (s->n_regions == s->cap_regions) {
		rc = snapshot_reserve(s, s->cap_regions ? s->cap_regions * 2 : 256);
		if (rc != 0)
			return rc;
	}
	slot = &s->regions[s->n_regions];
	*slot = *r;
	if (r->detail == NULL || r->detail[0] == '\0') {
		slot->detail = "";
	} else {
		slot->detail = snapshot_strdup(s, r->detail, strlen(r->detail));
		if (slot->detail == NULL)
			return MD_ERR_NOMEM;
	}
	s->n_regions++;
	return 0;
}

int
snapshot_set_cmdline(struct snapshot *s, const char *cmdline)
{
	const char *c = snapshot_strdup(s, cmdline, strlen(cmdline));

	if (c == NULL)
		return MD_ERR_NOMEM;
	s->cmdline = c;
	return 0;
}

static int
region_cmp(const void *a, const void *b)
{
	const struct region *ra = a, *rb = b;

	return (ra->base > rb->base) - (ra->base < rb->base);
}

int
snapshot_sort(struct snapshot *s)
{
	size_t i;

	if (s->n_regions < 2)
		return 0;
	qsort(s->regions, s->n_regions, sizeof(*s->regions), region_cmp);
	for (i = 1; i < s->n_regions; i++) {
		const struct region *p = &s->regions[i - 1];

		if (p->base + p->size > s->regions[i].base)
			return MD_ERR_PARSE;
	}
	return 0;
}

int
snapshot_clone(const struct snapshot *s, struct snapshot **out)
{
	struct snapshot *c = NULL;
	size_t i;
	int rc;

	*out = NULL;
	rc = snapshot_new(&c);
	if (rc != 0)
		return rc;
	c->pid = s->pid;
	c->start_time = s->start_time;
	c->start_time_ms = s->start_time_ms;
	c->time_ms = s->time_ms;
	memcpy(c->name, s->name, sizeof(c->name));
	c->flags = s->flags;
	c->page_table_bytes = s->page_table_bytes;
	c->collect_ns = s->collect_ns;
	rc = snapshot_set_cmdline(c, s->cmdline);
	for (i = 0; rc == 0 && i < s->n_regions; i++)
		rc = snapshot_add_region(c, &s->regions[i]);
	if (rc != 0) {
		snapshot_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
region_totals_add(struct region_totals *dst, const struct region_totals *src)
{
	dst->size += src->size;
	dst->committed += src->committed;
	dst->reserved += src->reserved;
	dst->resident += src->resident;
	dst->private_resident += src->private_resident;
	dst->shared_resident += src->shared_resident;
	dst->pss += src->pss;
	dst->swap += src->swap;
	dst->locked += src->locked;
	dst->regions += src->regions;
	dst->blocks += src->blocks;
	if (src->largest > dst->largest)
		dst->largest = src->largest;
}

static void
totals_add_region(struct region_totals *t, const struct region *r, int new_block)
{
	t->size += r->size;
	t->committed += r->committed;
	if (r->state == STATE_RESERVE)
		t->reserved += r->size;
	t->resident += r->resident;
	t->private_resident += r->private_resident;
	t->shared_resident += r->shared_resident;
	t->pss += r->pss;
	t->swap += r->swap;
	t->locked += r->locked;
	t->regions++;
	t->blocks += new_block ? 1 : 0;
	if (r->size > t->largest)
		t->largest = r->size;
}

/* Highest user address taken into account for "free": the 47-bit (4-level
 * paging) user space; mappings above it ([vsyscall]) are ignored. */
#define USER_SPACE_TOP 0x800000000000ull

void
snapshot_totals(const struct snapshot *s, struct snapshot_totals *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < s->n_regions; i++) {
		const struct region *r = &s->regions[i];
		const struct region *p = i > 0 ? &s->regions[i - 1] : NULL;
		/* Sub-regions of one allocation are adjacent in address
		 * order: a block starts where the allocation base changes. */
		int new_block = p == NULL || p->allocation_base != r->allocation_base;
		int new_block_in_type = new_block || p->type != r->type;
		int new_block_in_cell = new_block_in_type || p->state != r->state;

		if ((unsigned)r->type >= REGION_TYPE_COUNT || (unsigned)r->state >= STATE_COUNT)
			continue;
		totals_add_region(&t->cell[r->type][r->state], r, new_block_in_cell);
		totals_add_region(&t->by_type[r->type], r, new_block_in_type);
		totals_add_region(&t->by_state[r->state], r, new_block_in_cell);
		totals_add_region(&t->all, r, new_block);
		if (r->type == REGION_PRIVATE || r->type == REGION_HEAP ||
		    r->type == REGION_STACK) {
			t->private_committed += r->committed;
			t->private_touched += r->private_resident + r->swap;
		}
		if (p != NULL && r->base < USER_SPACE_TOP && r->base > p->base + p->size)
			t->free += r->base - (p->base + p->size);
	}
	if (s->page_table_bytes > 0) {
		struct region_totals *pt = &t->by_type[REGION_PAGE_TABLE];
		struct region_totals *cell = &t->cell[REGION_PAGE_TABLE][STATE_COMMIT];

		/* Page tables are committed, resident, private kernel memory
		 * of the process: they count in the commit state and the
		 * grand total like any committed row. */
		pt->committed = pt->resident = pt->private_resident = s->page_table_bytes;
		*cell = *pt;
		region_totals_add(&t->by_state[STATE_COMMIT], pt);
		region_totals_add(&t->all, pt);
	}
}

const char *
region_type_name(enum region_type t)
{
	return (unsigned)t < REGION_TYPE_COUNT ? type_names[t] : "unknown";
}

const char *
region_type_label(enum region_type t)
{
	return (unsigned)t < REGION_TYPE_COUNT ? type_labels[t] : "Unknown";
}

int
region_type_from_name(const char *name, enum region_type *out)
{
	int i;

	for (i = 0; i < REGION_TYPE_COUNT; i++) {
		if (strcmp(name, type_names[i]) == 0) {
			*out = (enum region_type)i;
			return 0;
		}
	}
	return MD_ERR_PARSE;
}

const char *
region_state_name(enum region_state s)
{
	return (unsigned)s < STATE_COUNT ? state_names[s] : "unknown";
}

int
region_state_from_name(const char *name, enum region_state *out)
{
	int i;

	for (i = 0; i < STATE_COUNT; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum region_state)i;
			return 0;
		}
	}
	return MD_ERR_PARSE;
}

void
region_prot_format(unsigned prot, char buf[PROT_STR_MAX])
{
	size_t n = 0;

	buf[n++] = (prot & PROT_BIT_READ) ? 'r' : '-';
	buf[n++] = (prot & PROT_BIT_WRITE) ? 'w' : '-';
	buf[n++] = (prot & PROT_BIT_EXEC) ? 'x' : '-';
	buf[n++] = (prot & PROT_BIT_SHARED) ? 's' : 'p';
	if (prot & PROT_BIT_GUARD)
		buf[n++] = 'g';
	if (prot & PROT_BIT_COPY)
		buf[n++] = 'c';
	buf[n] = '\0';
}

int
region_prot_parse(const char *str, unsigned *out)
{
	unsigned prot = 0;
	size_t i;

	if (strlen(str) < 4)
		return MD_ERR_PARSE;
	if (str[0] == 'r')
		prot |= PROT_BIT_READ;
	else if (str[0] != '-')
		return MD_ERR_PARSE;
	if (str[1] == 'w')
		prot |= PROT_BIT_WRITE;
	else if (str[1] != '-')
		return MD_ERR_PARSE;
	if (str[2] == 'x')
		prot |= PROT_BIT_EXEC;
	else if (str[2] != '-')
		return MD_ERR_PARSE;
	if (str[3] == 's')
		prot |= PROT_BIT_SHARED;
	else if (str[3] != 'p')
		return MD_ERR_PARSE;
	for (i = 4; str[i] != '\0'; i++) {
		if (str[i] == 'g')
			prot |= PROT_BIT_GUARD;
		else if (str[i] == 'c')
			prot |= PROT_BIT_COPY;
		else
			return MD_ERR_PARSE;
	}
	*out = prot;
	return 0;
}

int
snapshot_probe_equal(const struct snapshot_probe *a, const struct snapshot_probe *b)
{
	if (a->start_time != b->start_time || a->threads != b->threads ||
	    memcmp(a->totals, b->totals, sizeof(a->totals)) != 0)
		return 0;
	if (a->has_map && b->has_map)
		return a->map_hash == b->map_hash && a->map_bytes == b->map_bytes &&
		       a->regions == b->regions;
	return 1;
}
