/*
 * json_write.c - streaming JSON output of snapshots (see json.h): the text
 * cJSON_PrintUnformatted() would print for snapshot_to_json(), produced
 * without building the tree.  Strings are escaped exactly as cJSON escapes
 * them (\" \\ \b \f \n \r \t, other control bytes as \u00xx, everything else
 * byte for byte) and integers are written exact over 64 bits, so both forms
 * are byte-identical (tests/check_snapshot.c holds them to it).  A region is
 * most of the output, so it is written through a cursor into room reserved
 * once for all its fixed-size parts, with integers formatted in place.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "snapshot/json.h"

#define JSON_OUT_FLUSH_CAP (32u * 1024u)

void
json_out_init(struct json_out *o, int (*flush)(void *arg, const char *data, size_t len),
              void *flush_arg)
{
	memset(o, 0, sizeof(*o));
	o->flush = flush;
	o->flush_arg = flush_arg;
}

static void
out_flush(struct json_out *o)
{
	int rc;

	if (o->flush == NULL || o->len == 0 || o->status != 0)
		return;
	rc = o->flush(o->flush_arg, o->buf, o->len);
	if (rc != 0)
		o->status = rc;
	o->len = 0;
}

/* Make room for @need more bytes; returns 0 or sets the status.  With a
 * flush callback the buffer is handed over whenever it would have to grow:
 * it stays at 32 KiB (so never passes 64 KiB) unless one piece is larger.
 * Fresh pages cost a page fault each, dearer than a few more writes. */
static int
out_reserve(struct json_out *o, size_t need)
{
	size_t cap;
	char *nb;

	if (o->status != 0)
		return o->status;
	if (o->cap - o->len >= need)
		return 0;
	if (o->flush != NULL && o->len > 0) {
		out_flush(o);
		if (o->status != 0 || o->cap - o->len >= need)
			return o->status;
	}
	cap = o->cap ? o->cap : (o->flush != NULL ? JSON_OUT_FLUSH_CAP : 16384);
	while (cap - o->len < need) {
		if (cap > SIZE_MAX / 2) {
			o->status = MD_ERR_NOMEM;
			return o->status;
		}
		cap *= 2;
	}
	nb = realloc(o->buf, cap);
	if (nb == NULL) {
		o->status = MD_ERR_NOMEM;
		return o->status;
	}
	o->buf = nb;
	o->cap = cap;
	return 0;
}

int
json_out_finish(struct json_out *o)
{
	out_flush(o);
	return o->status;
}

void
json_out_done(struct json_out *o)
{
	free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
}

void
json_out_raw(struct json_out *o, const char *data, size_t len)
{
	if (o->cap - o->len < len && out_reserve(o, len) != 0)
		return;
	memcpy(o->buf + o->len, data, len);
	o->len += len;
}

#define OUT_LIT(o, lit) json_out_raw((o), (lit), sizeof(lit) - 1)

/* 10^0 .. 10^19. */
static const uint64_t pow10_u64[20] = {
        1ull,
        10ull,
        100ull,
        1000ull,
        10000ull,
        100000ull,
        1000000ull,
        10000000ull,
        100000000ull,
        1000000000ull,
        10000000000ull,
        100000000000ull,
        1000000000000ull,
        10000000000000ull,
        100000000000000ull,
        1000000000000000ull,
        10000000000000000ull,
        100000000000000000ull,
        1000000000000000000ull,
        10000000000000000000ull,
};

/* Decimal digits of @v (1 to 20): log10 from the bit length (1233 / 4096
 * is just under log10(2)), then one comparison. */
static unsigned
dec_digits(uint64_t v)
{
	unsigned t;

	if (v < 10)
		return 1;
	t = (unsigned)(64 - __builtin_clzll(v)) * 1233 >> 12;
	return t + (v >= pow10_u64[t]);
}

/* Write @v in decimal at @p (room for 20 bytes); returns the end. */
static char *
put_u64(char *p, uint64_t v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
	                            "25262728293031323334353637383940414243444546474849"
	                            "50515253545556575859606162636465666768697071727374"
	                            "75767778798081828384858687888990919293949596979899";
	char *end, *q;

	if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	end = p + dec_digits(v);
	q = end;
	/* Four digits per division, then two. */
	while (v >= 10000) {
		unsigned r = (unsigned)(v % 10000);

		v /= 10000;
		q -= 4;
		memcpy(q, pairs + (r / 100) * 2, 2);
		memcpy(q + 2, pairs + (r % 100) * 2, 2);
	}
	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		q -= 2;
		memcpy(q, pairs + d, 2);
	}
	if (v >= 10) {
		memcpy(q - 2, pairs + v * 2, 2);
	} else {
		q[-1] = (char)('0' + v);
	}
	return end;
}

/* Write @v in lower-case hex without leading zeros at @p (room for 16
 * bytes); returns the end. */
static char *
put_hex(char *p, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	unsigned n = v == 0 ? 1 : (unsigned)(67 - __builtin_clzll(v)) / 4;
	char *end = p + n;

	do {
		*--end = hex[v & 15];
		v >>= 4;
	} while (v != 0);
	return p + n;
}

void
json_out_u64(struct json_out *o, uint64_t v)
{
	if (o->cap - o->len < 20 && out_reserve(o, 20) != 0)
		return;
	o->len = (size_t)(put_u64(o->buf + o->len, v) - o->buf);
}

void
json_out_i64(struct json_out *o, int64_t v)
{
	if (v < 0) {
		OUT_LIT(o, "-");
		json_out_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		json_out_u64(o, (uint64_t)v);
	}
}

void
json_out_string(struct json_out *o, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	char *p;
	size_t run;

	OUT_LIT(o, "\"");
	for (;;) {
		/* The longest run that needs no escape, then one escape (at
		 * most 6 bytes) or the closing quote. */
		for (run = 0; s[run] >= 0x20 && s[run] != '"' && s[run] != '\\'; run++)
			;
		if (o->cap - o->len < run + 6 && out_reserve(o, run + 6) != 0)
			return;
		p = o->buf + o->len;
		memcpy(p, s, run);
		p += run;
		s += run;
		switch (*s) {
		case '\0':
			*p++ = '"';
			o->len = (size_t)(p - o->buf);
			return;
		case '"':
			memcpy(p, "\\\"", 2);
			break;
		case '\\':
			memcpy(p, "\\\\", 2);
			break;
		case '\b':
			memcpy(p, "\\b", 2);
			break;
		case '\f':
			memcpy(p, "\\f", 2);
			break;
		case '\n':
			memcpy(p, "\\n", 2);
			break;
		case '\r':
			memcpy(p, "\\r", 2);
			break;
		case '\t':
			memcpy(p, "\\t", 2);
			break;
		default: {
			char u[6] = {'\\', 'u', '0', '0', hex[*s >> 4], hex[*s & 15]};

			memcpy(p, u, sizeof(u));
			p += sizeof(u) - 2;
			break;
		}
		}
		p += 2;
		s++;
		o->len = (size_t)(p - o->buf);
	}
}

/* "name":<u64> with the separator before it. */
static void
member_u64(struct json_out *o, const char *sep_name, size_t len, uint64_t v)
{
	json_out_raw(o, sep_name, len);
	json_out_u64(o, v);
}

#define MEMBER_U64(o, lit, v) member_u64((o), (lit), sizeof(lit) - 1, (v))

static void
write_totals_row(struct json_out *o, const struct region_totals *t)
{
	MEMBER_U64(o, "{\"size\":", t->size);
	MEMBER_U64(o, ",\"committed\":", t->committed);
	MEMBER_U64(o, ",\"reserved\":", t->reserved);
	MEMBER_U64(o, ",\"resident\":", t->resident);
	MEMBER_U64(o, ",\"private_resident\":", t->private_resident);
	MEMBER_U64(o, ",\"shared_resident\":", t->shared_resident);
	MEMBER_U64(o, ",\"pss\":", t->pss);
	MEMBER_U64(o, ",\"swap\":", t->swap);
	MEMBER_U64(o, ",\"locked\":", t->locked);
	MEMBER_U64(o, ",\"regions\":", t->regions);
	MEMBER_U64(o, ",\"blocks\":", t->blocks);
	MEMBER_U64(o, ",\"largest\":", t->largest);
	OUT_LIT(o, "}");
}

static void
write_totals(struct json_out *o, const struct snapshot_totals *t)
{
	int i;

	OUT_LIT(o, "{\"types\":{");
	for (i = 0; i < REGION_TYPE_COUNT; i++) {
		if (i > 0)
			OUT_LIT(o, ",");
		json_out_string(o, region_type_name((enum region_type)i));
		OUT_LIT(o, ":");
		write_totals_row(o, &t->by_type[i]);
	}
	OUT_LIT(o, "},\"states\":{");
	for (i = 0; i < STATE_COUNT; i++) {
		if (i > 0)
			OUT_LIT(o, ",");
		json_out_string(o, region_state_name((enum region_state)i));
		OUT_LIT(o, ":");
		write_totals_row(o, &t->by_state[i]);
	}
	OUT_LIT(o, "},\"all\":");
	write_totals_row(o, &t->all);
	MEMBER_U64(o, ",\"free\":", t->free);
	MEMBER_U64(o, ",\"private_committed\":", t->private_committed);
	MEMBER_U64(o, ",\"private_touched\":", t->private_touched);
	OUT_LIT(o, "}");
}

/* Room for everything of a region but its detail: the member names (about
 * 200 bytes), 11 integers of up to 20 digits, 16 hex digits, and the type,
 * state and protection names (under 16 bytes each). */
#define REGION_FIXED_MAX 512

/* Copy literal @lit at cursor @p and advance it. */
#define PUT_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) += sizeof(lit) - 1)

/* A name known to need no escaping, between quotes. */
static char *
put_name(char *p, const char *name)
{
	size_t n = strlen(name);

	*p++ = '"';
	memcpy(p, name, n);
	p += n;
	*p++ = '"';
	return p;
}

/* One element of the regions array, with the comma before it unless
 * @first. */
static void
write_region(struct json_out *o, const struct region *r, int first)
{
	char prot[PROT_STR_MAX], *p, *base;
	size_t base_len;

	if (o->cap - o->len < REGION_FIXED_MAX && out_reserve(o, REGION_FIXED_MAX) != 0)
		return;
	p = o->buf + o->len;
	if (!first)
		*p++ = ',';
	PUT_LIT(p, "{\"base\":");
	base = p;
	p = put_u64(p, r->base);
	base_len = (size_t)(p - base);
	PUT_LIT(p, ",\"base_hex\":\"0x");
	p = put_hex(p, r->base);
	PUT_LIT(p, "\",\"size\":");
	p = put_u64(p, r->size);
	PUT_LIT(p, ",\"allocation_base\":");
	if (r->allocation_base == r->base) { /* always so on Linux */
		memcpy(p, base, base_len);
		p += base_len;
	} else {
		p = put_u64(p, r->allocation_base);
	}
	/* The names of types, states and protections are plain ASCII
	 * letters, '_' and '-': nothing to escape. */
	PUT_LIT(p, ",\"type\":");
	p = put_name(p, region_type_name(r->type));
	PUT_LIT(p, ",\"state\":");
	p = put_name(p, region_state_name(r->state));
	region_prot_format(r->protection, prot);
	PUT_LIT(p, ",\"protection\":");
	p = put_name(p, prot);
	PUT_LIT(p, ",\"committed\":");
	p = put_u64(p, r->committed);
	PUT_LIT(p, ",\"resident\":");
	p = put_u64(p, r->resident);
	PUT_LIT(p, ",\"private\":");
	p = put_u64(p, r->private_resident);
	PUT_LIT(p, ",\"shared\":");
	p = put_u64(p, r->shared_resident);
	PUT_LIT(p, ",\"pss\":");
	p = put_u64(p, r->pss);
	PUT_LIT(p, ",\"swap\":");
	p = put_u64(p, r->swap);
	PUT_LIT(p, ",\"locked\":");
	p = put_u64(p, r->locked);
	PUT_LIT(p, ",\"detail\":");
	if (r->detail == NULL || r->detail[0] == '\0') { /* most anonymous regions */
		PUT_LIT(p, "\"\"}");
		o->len = (size_t)(p - o->buf);
		return;
	}
	o->len = (size_t)(p - o->buf);
	json_out_string(o, r->detail);
	OUT_LIT(o, "}");
}

void
json_out_flags(struct json_out *o, unsigned flags)
{
	size_t i;
	int first = 1;

	OUT_LIT(o, "[");
	for (i = 0; i < snapshot_flag_name_count; i++) {
		if (!(flags & snapshot_flag_names[i].bit))
			continue;
		if (!first)
			OUT_LIT(o, ",");
		first = 0;
		json_out_string(o, snapshot_flag_names[i].name);
	}
	OUT_LIT(o, "]");
}

int
snapshot_json_write(const struct snapshot *s, struct json_out *o)
{
	struct snapshot_totals totals;
	char name[sizeof(s->name) + 1];
	size_t i;

	memcpy(name, s->name, sizeof(s->name));
	name[sizeof(s->name)] = '\0';
	OUT_LIT(o, "{\"pid\":");
	json_out_i64(o, s->pid);
	MEMBER_U64(o, ",\"start_time\":", s->start_time);
	OUT_LIT(o, ",\"start_time_ms\":");
	json_out_i64(o, s->start_time_ms);
	OUT_LIT(o, ",\"name\":");
	json_out_string(o, name);
	OUT_LIT(o, ",\"cmdline\":");
	json_out_string(o, s->cmdline != NULL ? s->cmdline : "");
	OUT_LIT(o, ",\"time\":");
	json_out_i64(o, s->time_ms);
	OUT_LIT(o, ",\"flags\":");
	json_out_flags(o, s->flags);
	MEMBER_U64(o, ",\"page_table_bytes\":", s->page_table_bytes);
	if (s->collect_ns != 0)
		MEMBER_U64(o, ",\"collect_ns\":", s->collect_ns);
	OUT_LIT(o, ",\"regions\":[");
	for (i = 0; i < s->n_regions; i++)
		write_region(o, &s->regions[i], i == 0);
	OUT_LIT(o, "],\"totals\":");
	snapshot_totals(s, &totals);
	write_totals(o, &totals);
	OUT_LIT(o, "}");
	return o->status;
}
