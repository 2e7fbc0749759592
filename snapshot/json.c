/*
 * json.c - the public JSON form of a snapshot (see json.h and
 * docs/json-format.md): snapshot -> cJSON tree, totals -> cJSON tree, and
 * JSON text -> validated snapshot.  Integers are kept exact over the whole
 * 64-bit range, which cJSON alone does not do: it stores numbers as doubles
 * (exact only up to 2^53) and prints integers from 2^53 up inexactly, some
 * from 10^15 up with an exponent.  So every integer written here is a
 * cJSON_Raw item holding its "%" PRIu64 / PRId64 text, and on input each
 * number is read back from its own text in the input, never from cJSON's
 * double: the [vsyscall] page at 0xffffffffff600000 and a Windows FILETIME
 * start stamp (about 1.3e17) round-trip bit for bit.  Nothing here logs,
 * exits or reads the clock.
 */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/json.h"

/* err_what of snapshot_from_json() when it names one region's member
 * ("regions[3].type"): one buffer per thread, overwritten by that thread's
 * next call.  Every other err_what is a string literal. */
static _Thread_local char json_what_buf[64];

#define N_FLAG_NAMES snapshot_flag_name_count
#define flag_names   snapshot_flag_names

/* Largest integer a double holds exactly, and with all smaller ones. */
#define DOUBLE_EXACT_MAX 9007199254740992.0 /* 2^53 */

/* ---- output ---------------------------------------------------------- */

static int
add_raw(cJSON *obj, const char *name, const char *text)
{
	return cJSON_AddRawToObject(obj, name, text) != NULL ? 0 : MD_ERR_NOMEM;
}

int
snapshot_json_add_u64(cJSON *obj, const char *name, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return add_raw(obj, name, buf);
}

int
snapshot_json_add_i64(cJSON *obj, const char *name, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return add_raw(obj, name, buf);
}

static int
add_string(cJSON *obj, const char *name, const char *v)
{
	return cJSON_AddStringToObject(obj, name, v != NULL ? v : "") != NULL ? 0 : MD_ERR_NOMEM;
}

/* Add one struct region_totals as object member @name of @parent. */
static int
add_region_totals(cJSON *parent, const char *name, const struct region_totals *t)
{
	cJSON *o = cJSON_AddObjectToObject(parent, name);

	if (o == NULL)
		return MD_ERR_NOMEM;
	if (snapshot_json_add_u64(o, "size", t->size) != 0 ||
	    snapshot_json_add_u64(o, "committed", t->committed) != 0 ||
	    snapshot_json_add_u64(o, "reserved", t->reserved) != 0 ||
	    snapshot_json_add_u64(o, "resident", t->resident) != 0 ||
	    snapshot_json_add_u64(o, "private_resident", t->private_resident) != 0 ||
	    snapshot_json_add_u64(o, "shared_resident", t->shared_resident) != 0 ||
	    snapshot_json_add_u64(o, "pss", t->pss) != 0 ||
	    snapshot_json_add_u64(o, "swap", t->swap) != 0 ||
	    snapshot_json_add_u64(o, "locked", t->locked) != 0 ||
	    snapshot_json_add_u64(o, "regions", t->regions) != 0 ||
	    snapshot_json_add_u64(o, "blocks", t->blocks) != 0 ||
	    snapshot_json_add_u64(o, "largest", t->largest) != 0)
		return MD_ERR_NOMEM;
	return 0;
}

int
snapshot_totals_to_json(const struct snapshot_totals *t, cJSON **out)
{
	cJSON *root = NULL, *types, *states;
	int rc = MD_ERR_NOMEM;
	int i;

	*out = NULL;
	root = cJSON_CreateObject();
	if (root == NULL)
		goto out;
	types = cJSON_AddObjectToObject(root, "types");
	if (types == NULL)
		goto out;
	for (i = 0; i < REGION_TYPE_COUNT; i++) {
		if (add_region_totals(types, region_type_name((enum region_type)i),
		                      &t->by_type[i]) != 0)
			goto out;
	}
	states = cJSON_AddObjectToObject(root, "states");
	if (states == NULL)
		goto out;
	for (i = 0; i < STATE_COUNT; i++) {
		if (add_region_totals(states, region_state_name((enum region_state)i),
		                      &t->by_state[i]) != 0)
			goto out;
	}
	if (add_region_totals(root, "all", &t->all) != 0 ||
	    snapshot_json_add_u64(root, "free", t->free) != 0 ||
	    snapshot_json_add_u64(root, "private_committed", t->private_committed) != 0 ||
	    snapshot_json_add_u64(root, "private_touched", t->private_touched) != 0)
		goto out;
	*out = root;
	root = NULL;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

/* Append the JSON object of region @r to array @arr. */
static int
add_region(cJSON *arr, const struct region *r)
{
	char prot[PROT_STR_MAX];
	char hex[24];
	cJSON *o;

	o = cJSON_CreateObject();
	if (o == NULL)
		return MD_ERR_NOMEM;
	if (!cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return MD_ERR_NOMEM;
	}
	region_prot_format(r->protection, prot);
	snprintf(hex, sizeof(hex), "0x%" PRIx64, r->base);
	if (snapshot_json_add_u64(o, "base", r->base) != 0 || add_string(o, "base_hex", hex) != 0 ||
	    snapshot_json_add_u64(o, "size", r->size) != 0 ||
	    snapshot_json_add_u64(o, "allocation_base", r->allocation_base) != 0 ||
	    add_string(o, "type", region_type_name(r->type)) != 0 ||
	    add_string(o, "state", region_state_name(r->state)) != 0 ||
	    add_string(o, "protection", prot) != 0 ||
	    snapshot_json_add_u64(o, "committed", r->committed) != 0 ||
	    snapshot_json_add_u64(o, "resident", r->resident) != 0 ||
	    snapshot_json_add_u64(o, "private", r->private_resident) != 0 ||
	    snapshot_json_add_u64(o, "shared", r->shared_resident) != 0 ||
	    snapshot_json_add_u64(o, "pss", r->pss) != 0 ||
	    snapshot_json_add_u64(o, "swap", r->swap) != 0 ||
	    snapshot_json_add_u64(o, "locked", r->locked) != 0 ||
	    add_string(o, "detail", r->detail) != 0)
		return MD_ERR_NOMEM;
	return 0;
}

int
snapshot_to_json(const struct snapshot *s, cJSON **out)
{
	struct snapshot_totals totals;
	char name[sizeof(s->name) + 1];
	cJSON *root = NULL, *flags, *regions, *tj = NULL;
	size_t i;
	int rc = MD_ERR_NOMEM;

	*out = NULL;
	/* name[] need not be NUL-terminated when full. */
	memcpy(name, s->name, sizeof(s->name));
	name[sizeof(s->name)] = '\0';

	root = cJSON_CreateObject();
	if (root == NULL)
		goto out;
	if (snapshot_json_add_i64(root, "pid", s->pid) != 0 ||
	    snapshot_json_add_u64(root, "start_time", s->start_time) != 0 ||
	    snapshot_json_add_i64(root, "start_time_ms", s->start_time_ms) != 0 ||
	    add_string(root, "name", name) != 0 || add_string(root, "cmdline", s->cmdline) != 0 ||
	    snapshot_json_add_i64(root, "time", s->time_ms) != 0)
		goto out;
	flags = cJSON_AddArrayToObject(root, "flags");
	if (flags == NULL)
		goto out;
	for (i = 0; i < N_FLAG_NAMES; i++) {
		cJSON *f;

		if (!(s->flags & flag_names[i].bit))
			continue;
		f = cJSON_CreateString(flag_names[i].name);
		if (f == NULL)
			goto out;
		if (!cJSON_AddItemToArray(flags, f)) {
			cJSON_Delete(f);
			goto out;
		}
	}
	if (snapshot_json_add_u64(root, "page_table_bytes", s->page_table_bytes) != 0)
		goto out;
	if (s->collect_ns != 0 && snapshot_json_add_u64(root, "collect_ns", s->collect_ns) != 0)
		goto out;
	regions = cJSON_AddArrayToObject(root, "regions");
	if (regions == NULL)
		goto out;
	for (i = 0; i < s->n_regions; i++) {
		if (add_region(regions, &s->regions[i]) != 0)
			goto out;
	}
	snapshot_totals(s, &totals);
	if (snapshot_totals_to_json(&totals, &tj) != 0)
		goto out;
	if (!cJSON_AddItemToObject(root, "totals", tj))
		goto out;
	tj = NULL;
	*out = root;
	root = NULL;
	rc = 0;
out:
	cJSON_Delete(tj);
	cJSON_Delete(root);
	return rc;
}

/* ---- input ----------------------------------------------------------- */

/*
 * Exact numbers on input.  cJSON has already checked the syntax, and it
 * keeps the members of objects and arrays in document order, so a pre-order
 * walk of the tree meets the number items in the order their literals
 * appear in the text.  number_offsets() walks the tree and a small scanner
 * over the text side by side and overwrites each number item's valuedouble
 * with the byte offset of its literal (exact: the text is far shorter than
 * 2^53 bytes).  The readers below then parse that literal themselves.
 *
 * The scanner agrees with cJSON on what a number literal is in text cJSON
 * accepted: outside strings, a literal starts with '-' or a digit and is
 * the run of characters from "0123456789+-.eE" (cJSON hands that run to
 * strtod and fails unless strtod takes all of it); a string runs to the
 * next '"' not preceded by a backslash escape.
 */

struct json_in {
	const char *text;
	size_t end;       /* where cJSON stopped: the text after it is blank */
	size_t pos;       /* scanner position */
	const char *what; /* the member at fault */
};

static int
is_number_char(char c)
{
	return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E';
}

/* Offset of the next number literal at or after in->pos, which is moved past
 * it; (size_t)-1 when there is none. */
static size_t
next_number(struct json_in *in)
{
	const char *t = in->text;
	size_t p = in->pos, start;

	while (p < in->end) {
		char c = t[p];

		if (c == '"') {
			for (p++; p < in->end && t[p] != '"'; p++) {
				if (t[p] == '\\')
					p++;
			}
			p++;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			start = p;
			while (p < in->end && is_number_char(t[p]))
				p++;
			in->pos = p;
			return start;
		} else {
			p++;
		}
	}
	in->pos = p;
	return (size_t)-1;
}

static int
number_offsets(struct json_in *in, cJSON *item)
{
	int rc;

	for (; item != NULL; item = item->next) {
		if (cJSON_IsNumber(item)) {
			size_t off = next_number(in);

			if (off == (size_t)-1)
				return MD_ERR_PARSE;
			item->valuedouble = (double)off;
		} else if (item->child != NULL) {
			rc = number_offsets(in, item->child);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* Read the number literal of @item as an exact integer: its magnitude into
 * *mag and its sign into *neg.  Plain integers ("123", "-5") are exact over
 * the whole 64-bit range; a literal with a fraction or an exponent ("4096.0",
 * "1e3") is accepted when it is integral and at most 2^53. */
static int
read_integer(const struct json_in *in, const cJSON *item, uint64_t *mag, int *neg)
{
	const char *t;
	size_t off, n = 0, i;
	uint64_t v = 0;
	int digits_only = 1;

	if (!cJSON_IsNumber(item))
		return MD_ERR_PARSE;
	off = (size_t)item->valuedouble;
	t = in->text + off;
	*neg = t[0] == '-';
	while (off + n < in->end && is_number_char(t[n]))
		n++;
	for (i = *neg ? 1 : 0; i < n; i++) {
		unsigned d = (unsigned)(t[i] - '0');

		if (d > 9) {
			digits_only = 0;
			break;
		}
		if (v > (UINT64_MAX - d) / 10)
			return MD_ERR_PARSE;
		v = v * 10 + d;
	}
	if (!digits_only) {
		char buf[64];
		char *endp;
		double d;

		if (n >= sizeof(buf))
			return MD_ERR_PARSE;
		memcpy(buf, t, n);
		buf[n] = '\0';
		d = strtod(buf, &endp);
		if (*endp != '\0' || d != floor(d) || fabs(d) > DOUBLE_EXACT_MAX)
			return MD_ERR_PARSE;
		v = (uint64_t)fabs(d);
	}
	*mag = v;
	return 0;
}

static int
read_u64(const struct json_in *in, const cJSON *item, uint64_t *out)
{
	uint64_t mag;
	int neg, rc;

	rc = read_integer(in, item, &mag, &neg);
	if (rc != 0)
		return rc;
	if (neg && mag != 0)
		return MD_ERR_PARSE;
	*out = mag;
	return 0;
}

static int
read_i64(const struct json_in *in, const cJSON *item, int64_t *out)
{
	uint64_t mag;
	int neg, rc;

	rc = read_integer(in, item, &mag, &neg);
	if (rc != 0)
		return rc;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return MD_ERR_PARSE;
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return MD_ERR_PARSE;
		*out = (int64_t)mag;
	}
	return 0;
}

/* Set in->what to "regions[@i]" or "regions[@i].@member". */
static void
what_region(struct json_in *in, size_t i, const char *member)
{
	if (member != NULL)
		snprintf(json_what_buf, sizeof(json_what_buf), "regions[%zu].%s", i, member);
	else
		snprintf(json_what_buf, sizeof(json_what_buf), "regions[%zu]", i);
	in->what = json_what_buf;
}

/* Optional unsigned member: *out keeps its value when absent. */
static int
get_u64(const struct json_in *in, const cJSON *obj, const char *name, int required, uint64_t *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (item == NULL)
		return required ? MD_ERR_PARSE : 0;
	return read_u64(in, item, out);
}

static int
get_i64(const struct json_in *in, const cJSON *obj, const char *name, int required, int64_t *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (item == NULL)
		return required ? MD_ERR_PARSE : 0;
	return read_i64(in, item, out);
}

/* Optional string member: *out keeps its value when absent. */
static int
get_string(const cJSON *obj, const char *name, int required, const char **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (item == NULL)
		return required ? MD_ERR_PARSE : 0;
	if (!cJSON_IsString(item) || item->valuestring == NULL)
		return MD_ERR_PARSE;
	*out = item->valuestring;
	return 0;
}

/* Fill @r from region object @o, element @i of "regions". */
static int
parse_region(struct json_in *in, const cJSON *o, size_t i, struct region *r)
{
	static const struct {
		const char *name;
		size_t off;
	} counters[] = {
	        {"committed", offsetof(struct region, committed)},
	        {"resident", offsetof(struct region, resident)},
	        {"private", offsetof(struct region, private_resident)},
	        {"shared", offsetof(struct region, shared_resident)},
	        {"pss", offsetof(struct region, pss)},
	        {"swap", offsetof(struct region, swap)},
	        {"locked", offsetof(struct region, locked)},
	};
	const char *str;
	size_t k;

	memset(r, 0, sizeof(*r));
	r->detail = "";
	if (!cJSON_IsObject(o)) {
		what_region(in, i, NULL);
		return MD_ERR_PARSE;
	}
	if (get_u64(in, o, "base", 1, &r->base) != 0) {
		what_region(in, i, "base");
		return MD_ERR_PARSE;
	}
	/* A region is never empty and never wraps past the top of the
	 * address space. */
	if (get_u64(in, o, "size", 1, &r->size) != 0 || r->size == 0 ||
	    r->size > UINT64_MAX - r->base) {
		what_region(in, i, "size");
		return MD_ERR_PARSE;
	}
	r->allocation_base = r->base;
	if (get_u64(in, o, "allocation_base", 0, &r->allocation_base) != 0) {
		what_region(in, i, "allocation_base");
		return MD_ERR_PARSE;
	}
	if (get_string(o, "type", 1, &str) != 0 || region_type_from_name(str, &r->type) != 0) {
		what_region(in, i, "type");
		return MD_ERR_PARSE;
	}
	if (get_string(o, "state", 1, &str) != 0 || region_state_from_name(str, &r->state) != 0) {
		what_region(in, i, "state");
		return MD_ERR_PARSE;
	}
	if (get_string(o, "protection", 1, &str) != 0 ||
	    region_prot_parse(str, &r->protection) != 0) {
		what_region(in, i, "protection");
		return MD_ERR_PARSE;
	}
	for (k = 0; k < sizeof(counters) / sizeof(counters[0]); k++) {
		uint64_t *field = (uint64_t *)(void *)((char *)r + counters[k].off);

		if (get_u64(in, o, counters[k].name, 0, field) != 0) {
			what_region(in, i, counters[k].name);
			return MD_ERR_PARSE;
		}
	}
	if (get_string(o, "detail", 0, &r->detail) != 0) {
		what_region(in, i, "detail");
		return MD_ERR_PARSE;
	}
	return 0;
}

/* Fill @s's identity members from @root. */
static int
parse_identity(struct json_in *in, const cJSON *root, struct snapshot *s)
{
	const cJSON *flags, *f;
	const char *str;
	int64_t pid = 0;
	size_t len;
	int rc;

	if (get_i64(in, root, "pid", 1, &pid) != 0 || pid < 0 || pid > INT_MAX) {
		in->what = "pid";
		return MD_ERR_PARSE;
	}
	s->pid = (int)pid;
	if (get_u64(in, root, "start_time", 0, &s->start_time) != 0) {
		in->what = "start_time";
		return MD_ERR_PARSE;
	}
	if (get_i64(in, root, "start_time_ms", 0, &s->start_time_ms) != 0) {
		in->what = "start_time_ms";
		return MD_ERR_PARSE;
	}
	str = "";
	if (get_string(root, "name", 0, &str) != 0 || (len = strlen(str)) >= sizeof(s->name)) {
		in->what = "name";
		return MD_ERR_PARSE;
	}
	memcpy(s->name, str, len + 1);
	str = "";
	if (get_string(root, "cmdline", 0, &str) != 0) {
		in->what = "cmdline";
		return MD_ERR_PARSE;
	}
	rc = snapshot_set_cmdline(s, str);
	if (rc != 0)
		return rc;
	if (get_i64(in, root, "time", 1, &s->time_ms) != 0) {
		in->what = "time";
		return MD_ERR_PARSE;
	}
	/* Unknown flag names are skipped: a newer memdelta may add flags. */
	flags = cJSON_GetObjectItemCaseSensitive(root, "flags");
	if (flags != NULL && !cJSON_IsArray(flags)) {
		in->what = "flags";
		return MD_ERR_PARSE;
	}
	cJSON_ArrayForEach(f, flags)
	{
		size_t k;

		if (!cJSON_IsString(f) || f->valuestring == NULL) {
			in->what = "flags";
			return MD_ERR_PARSE;
		}
		for (k = 0; k < N_FLAG_NAMES; k++) {
			if (strcmp(f->valuestring, flag_names[k].name) == 0)
				s->flags |= flag_names[k].bit;
		}
	}
	if (get_u64(in, root, "page_table_bytes", 0, &s->page_table_bytes) != 0) {
		in->what = "page_table_bytes";
		return MD_ERR_PARSE;
	}
	if (get_u64(in, root, "collect_ns", 0, &s->collect_ns) != 0) {
		in->what = "collect_ns";
		return MD_ERR_PARSE;
	}
	return 0;
}

/* Fill @s's regions from the "regions" array of @root, sorted, and check
 * that none overlap. */
static int
parse_regions(struct json_in *in, const cJSON *root, struct snapshot *s)
{
	const cJSON *arr, *o;
	struct region r;
	size_t i = 0;
	int in_order = 1;
	int rc;

	arr = cJSON_GetObjectItemCaseSensitive(root, "regions");
	if (!cJSON_IsArray(arr)) {
		in->what = "regions";
		return MD_ERR_PARSE;
	}
	cJSON_ArrayForEach(o, arr)
	{
		rc = parse_region(in, o, i, &r);
		if (rc != 0)
			return rc;
		if (s->n_regions > 0) {
			const struct region *p = &s->regions[s->n_regions - 1];

			/* In address order so far: an overlap is this
			 * region's fault, and can be named. */
			if (in_order && r.base >= p->base && r.base < p->base + p->size) {
				what_region(in, i, NULL);
				return MD_ERR_PARSE;
			}
			if (r.base < p->base)
				in_order = 0;
		}
		rc = snapshot_add_region(s, &r);
		if (rc != 0)
			return rc;
		i++;
	}
	if (!in_order && snapshot_sort(s) != 0) {
		in->what = "regions";
		return MD_ERR_PARSE;
	}
	return 0;
}

int
snapshot_from_json(const char *text, size_t len, struct snapshot **out, size_t *err_offset,
                   const char **err_what)
{
	struct json_in in = {text, 0, 0, NULL};
	struct snapshot *s = NULL;
	const char *parse_end = NULL;
	size_t offset = 0;
	cJSON *root = NULL;
	int rc = MD_ERR_PARSE;

	*out = NULL;
	if (err_offset != NULL)
		*err_offset = 0;
	if (err_what != NULL)
		*err_what = NULL;
	if (text == NULL) {
		if (len != 0) {
			rc = MD_ERR_INVAL;
			goto out;
		}
		text = "";
		in.text = text;
	}

	/* cJSON reports where it stopped, failing or not.  The global
	 * cJSON_GetErrorPtr() is not used: it is shared between threads. */
	root = cJSON_ParseWithLengthOpts(text, len, &parse_end, 0);
	if (parse_end != NULL && parse_end >= text && (size_t)(parse_end - text) <= len)
		offset = (size_t)(parse_end - text);
	if (root == NULL) {
		/* An allocation failure inside cJSON reads as a parse error
		 * too: cJSON does not tell them apart. */
		goto out;
	}
	/* Nothing but blanks may follow the value. */
	in.end = offset;
	while (offset < len && (text[offset] == ' ' || text[offset] == '\t' ||
	                        text[offset] == '\n' || text[offset] == '\r'))
		offset++;
	if (offset < len)
		goto out;
	offset = 0;
	if (!cJSON_IsObject(root)) {
		in.what = "(top level: not an object)";
		goto out;
	}
	if (number_offsets(&in, root->child) != 0) {
		in.what = "(number)";
		goto out;
	}
	rc = snapshot_new(&s);
	if (rc != 0)
		goto out;
	rc = parse_identity(&in, root, s);
	if (rc == 0)
		rc = parse_regions(&in, root, s);
	if (rc != 0)
		goto out;
	/* "totals" is not read: it is recomputed from the regions. */
	*out = s;
	s = NULL;
	rc = 0;
out:
	if (rc == MD_ERR_PARSE) {
		if (err_offset != NULL)
			*err_offset = offset;
		if (err_what != NULL)
			*err_what = in.what;
	}
	snapshot_free(s);
	cJSON_Delete(root);
	return rc;
}
