/*
 * diff_json.c - the public JSON form of a diff (see diff_json.h), shared by
 * `memdelta diff --format=json` and GET /api/v1/diff.  It only turns an
 * already computed struct diff_result into a cJSON tree; the caller prints
 * it.  The members, exactly (docs/json-format.md is written from this list):
 *
 *   {
 *     "before": IDENTITY,            the older snapshot
 *     "after":  IDENTITY,            the newer snapshot
 *     "totals": {
 *       "all":   TOTALS,             over every entry (SAME ones included)
 *       "types": { NAME: TOTALS, ... }
 *                                    one member per region type, all ten,
 *                                    in display order, named as
 *                                    region_type_name(): "image", "mapped",
 *                                    "shareable", "heap", "managed_heap",
 *                                    "stack", "private", "page_table",
 *                                    "unusable", "free"
 *     },
 *     "entries": [ ENTRY, ... ]      sorted by base; SAME entries only with
 *                                    DIFF_JSON_INCLUDE_SAME
 *   }
 *
 *   IDENTITY:
 *     "pid"            integer
 *     "start_time"     integer, the OS start stamp (Linux: clock ticks since
 *                      boot; Windows: FILETIME; exact, see Numbers)
 *     "start_time_ms"  integer, process start as Unix time in ms; absent
 *                      when unknown (0 in the snapshot)
 *     "name"           string, comm / image base name
 *     "time"           integer, when the snapshot was taken, Unix time in ms
 *                      (snapshot.time_ms)
 *     "truncated"      boolean, the snapshot hit its region or time budget:
 *                      its region list is incomplete, so FREED entries past
 *                      the cut are not real frees
 *     "snapshot"       never written here: a caller that knows the store id
 *                      of the snapshot (the web API) adds it as an integer
 *
 *   TOTALS (struct diff_totals):
 *     "new_bytes"       integer, size of the NEW ranges
 *     "freed_bytes"     integer, size of the FREED ranges
 *     "committed_delta" integer, bytes, after - before (may be negative)
 *     "resident_delta"  integer, bytes
 *     "private_delta"   integer, bytes of private resident
 *     "swap_delta"      integer, bytes
 *     "new", "freed", "grew", "shrank", "changed", "same"
 *                       integers, number of entries of each kind (counted
 *                       whether or not SAME entries are listed)
 *     Per type, a NEW entry counts under its after type and a FREED one
 *     under its before type; when the type changed, the before counters
 *     leave the before type and the after counters arrive in the after
 *     type, and the entry is counted under the after type.  The deltas cover
 *     regions only: page-table bytes (snapshot.page_table_bytes) are not a
 *     region and are not in these totals.
 *
 *   ENTRY (struct diff_entry):
 *     "kind"             "same", "new", "freed", "grew", "shrank", "changed"
 *     "base"             integer, start address of the range
 *     "size"             integer, bytes
 *     "type"             type name of the after region (before for FREED)
 *     "before_type"      type name of the before region (after for NEW)
 *     "committed_delta", "resident_delta", "private_delta", "swap_delta"
 *                        integers, bytes, after - before, for this range
 *                        (a region cut into pieces shares its counters out
 *                        in proportion to length; the deltas of all entries
 *                        add up exactly to the difference of the totals)
 *     "state"            "commit" or "reserve", of the after region (before
 *                        for FREED)
 *     "protection"       e.g. "rw-p", "r-xs", "---pg" (region_prot_format),
 *                        of the after region (before for FREED)
 *     "detail"           string, of the after region (before for FREED);
 *                        "" when the region has none
 *     "before_state", "before_protection", "before_detail"
 *                        the same three of the before region; present only
 *                        when the range is covered in both snapshots (every
 *                        kind but NEW and FREED)
 *
 * In the cJSON tree, member names are constant strings (cJSON_StringIsConst),
 * kind, type and state values are string references and integers are raw
 * items (see below): a caller that edits the tree replaces those items
 * rather than writing into them.
 *
 * Numbers: every integer is written exactly, as plain decimal digits
 * (with a leading '-' for negative deltas), never with a fraction or an
 * exponent, over the whole 64-bit range.  cJSON alone would not do this: it
 * keeps numbers as doubles (exact up to 2^53) and prints large ones with an
 * exponent, yet values above 2^53 do occur: the x86-64 [vsyscall] page at
 * 0xffffffffff600000 is listed in smaps, and a Windows FILETIME start_time
 * is about 1.3e17.  So, as in the snapshot JSON (snapshot_json_add_u64() in
 * snapshot/json.h), each integer is a cJSON_Raw item whose valuestring is
 * its decimal text: a caller reading the tree takes strtoull/strtoll of
 * item->valuestring, not item->valuedouble.  Readers of the printed text
 * whose numbers are doubles (JavaScript) are exact up to 2^53, which covers
 * user-space addresses (below 2^47 on x86-64 with 4-level paging and on
 * 64-bit Windows), byte counts and deltas; "base" of [vsyscall] and a
 * FILETIME start_time are the exceptions.
 */
#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "diff/diff_json.h"

/* Member names are all static strings, added with cJSON_AddItemToObjectCS
 * (cJSON_StringIsConst: no copy); the values that are static names (kinds,
 * types, states) are string references.  A diff of 60,000 regions makes
 * about a million members, and this halves the allocations. */
static int
add_item(cJSON *obj, const char *key, cJSON *item)
{
	if (item == NULL)
		return MD_ERR_NOMEM;
	if (!cJSON_AddItemToObjectCS(obj, key, item)) {
		cJSON_Delete(item);
		return MD_ERR_NOMEM;
	}
	return 0;
}

/* Integers are written exactly, as decimal text in a cJSON_Raw item, the
 * same form as snapshot_json_add_u64() (snapshot/json.h) gives the snapshot
 * JSON; only the member name is not copied here. */
static int
add_u64(cJSON *obj, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return add_item(obj, key, cJSON_CreateRaw(buf));
}

static int
add_i64(cJSON *obj, const char *key, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return add_item(obj, key, cJSON_CreateRaw(buf));
}

/* @v is copied. */
static int
add_string(cJSON *obj, const char *key, const char *v)
{
	return add_item(obj, key, cJSON_CreateString(v != NULL ? v : ""));
}

/* @v is a static string: referenced, not copied. */
static int
add_name(cJSON *obj, const char *key, const char *v)
{
	return add_item(obj, key, cJSON_CreateStringReference(v));
}

static cJSON *
add_object(cJSON *obj, const char *key)
{
	cJSON *o = cJSON_CreateObject();

	return add_item(obj, key, o) == 0 ? o : NULL;
}

/* Add the IDENTITY object of @s as member @key of @parent. */
static int
add_identity(cJSON *parent, const char *key, const struct snapshot *s)
{
	char name[sizeof(s->name) + 1];
	cJSON *o;
	int rc = MD_ERR_NOMEM;

	o = add_object(parent, key);
	if (o == NULL)
		goto out;
	/* name[] need not be NUL-terminated when full. */
	memcpy(name, s->name, sizeof(s->name));
	name[sizeof(s->name)] = '\0';
	if (add_i64(o, "pid", s->pid) != 0 || add_u64(o, "start_time", s->start_time) != 0)
		goto out;
	if (s->start_time_ms != 0 && add_i64(o, "start_time_ms", s->start_time_ms) != 0)
		goto out;
	if (add_string(o, "name", name) != 0 || add_i64(o, "time", s->time_ms) != 0)
		goto out;
	if (add_item(o, "truncated", cJSON_CreateBool((s->flags & SNAPSHOT_TRUNCATED) != 0)) != 0)
		goto out;
	rc = 0;
out:
	return rc;
}

/* Add the TOTALS object @t as member @key of @parent. */
static int
add_totals(cJSON *parent, const char *key, const struct diff_totals *t)
{
	static const enum diff_kind order[] = {DIFF_NEW,    DIFF_FREED,   DIFF_GREW,
	                                       DIFF_SHRANK, DIFF_CHANGED, DIFF_SAME};
	cJSON *o;
	int k;

	o = add_object(parent, key);
	if (o == NULL)
		return MD_ERR_NOMEM;
	if (add_u64(o, "new_bytes", t->new_bytes) != 0 ||
	    add_u64(o, "freed_bytes", t->freed_bytes) != 0 ||
	    add_i64(o, "committed_delta", t->committed_delta) != 0 ||
	    add_i64(o, "resident_delta", t->resident_delta) != 0 ||
	    add_i64(o, "private_delta", t->private_delta) != 0 ||
	    add_i64(o, "swap_delta", t->swap_delta) != 0)
		return MD_ERR_NOMEM;
	/* Counts in a fixed order, independent of the enum's order. */
	for (k = 0; k < (int)(sizeof(order) / sizeof(order[0])); k++) {
		if (add_u64(o, diff_kind_name(order[k]), t->count[order[k]]) != 0)
			return MD_ERR_NOMEM;
	}
	return 0;
}

/* Add state, protection and detail of @r, as before_* members if @before. */
static int
add_region_attrs(cJSON *o, const struct region *r, int before)
{
	char prot[PROT_STR_MAX];

	region_prot_format(r->protection, prot);
	if (add_name(o, before ? "before_state" : "state", region_state_name(r->state)) != 0 ||
	    add_string(o, before ? "before_protection" : "protection", prot) != 0 ||
	    add_string(o, before ? "before_detail" : "detail", r->detail) != 0)
		return MD_ERR_NOMEM;
	return 0;
}

/* Append the ENTRY object of @e to array @arr. */
static int
add_entry(cJSON *arr, const struct snapshot *before, const struct snapshot *after,
          const struct diff_entry *e)
{
	const struct region *b = NULL, *a = NULL;
	cJSON *o;

	if (e->before_index >= 0)
		b = &before->regions[e->before_index];
	if (e->after_index >= 0)
		a = &after->regions[e->after_index];
	o = cJSON_CreateObject();
	if (o == NULL)
		return MD_ERR_NOMEM;
	if (!cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return MD_ERR_NOMEM;
	}
	if (add_name(o, "kind", diff_kind_name(e->kind)) != 0 || add_u64(o, "base", e->base) != 0 ||
	    add_u64(o, "size", e->size) != 0 ||
	    add_name(o, "type", region_type_name(e->type)) != 0 ||
	    add_name(o, "before_type", region_type_name(e->before_type)) != 0 ||
	    add_i64(o, "committed_delta", e->committed_delta) != 0 ||
	    add_i64(o, "resident_delta", e->resident_delta) != 0 ||
	    add_i64(o, "private_delta", e->private_delta) != 0 ||
	    add_i64(o, "swap_delta", e->swap_delta) != 0)
		return MD_ERR_NOMEM;
	if (add_region_attrs(o, a != NULL ? a : b, 0) != 0)
		return MD_ERR_NOMEM;
	if (a != NULL && b != NULL && add_region_attrs(o, b, 1) != 0)
		return MD_ERR_NOMEM;
	return 0;
}

/* Check that every entry's region indices exist in the snapshots. */
static int
check_indices(const struct snapshot *before, const struct snapshot *after,
              const struct diff_result *r)
{
	size_t i;

	if (r->n_entries > 0 && r->entries == NULL)
		return MD_ERR_INVAL;
	for (i = 0; i < r->n_entries; i++) {
		const struct diff_entry *e = &r->entries[i];

		if (e->before_index < 0 && e->after_index < 0)
			return MD_ERR_INVAL;
		if (e->before_index >= 0 && (size_t)e->before_index >= before->n_regions)
			return MD_ERR_INVAL;
		if (e->after_index >= 0 && (size_t)e->after_index >= after->n_regions)
			return MD_ERR_INVAL;
	}
	return 0;
}

int
diff_to_json(const struct snapshot *before, const struct snapshot *after,
             const struct diff_result *r, unsigned flags, cJSON **out)
{
	cJSON *root = NULL, *totals, *types, *entries;
	size_t i;
	int rc = MD_ERR_NOMEM;
	int t;

	if (out == NULL)
		return MD_ERR_INVAL;
	*out = NULL;
	if (before == NULL || after == NULL || r == NULL) {
		rc = MD_ERR_INVAL;
		goto out;
	}
	rc = check_indices(before, after, r);
	if (rc != 0)
		goto out;
	rc = MD_ERR_NOMEM;

	root = cJSON_CreateObject();
	if (root == NULL)
		goto out;
	if (add_identity(root, "before", before) != 0 || add_identity(root, "after", after) != 0)
		goto out;

	totals = add_object(root, "totals");
	if (totals == NULL || add_totals(totals, "all", &r->all) != 0)
		goto out;
	types = add_object(totals, "types");
	if (types == NULL)
		goto out;
	for (t = 0; t < REGION_TYPE_COUNT; t++) {
		if (add_totals(types, region_type_name((enum region_type)t), &r->by_type[t]) != 0)
			goto out;
	}

	entries = cJSON_CreateArray();
	if (add_item(root, "entries", entries) != 0)
		goto out;
	for (i = 0; i < r->n_entries; i++) {
		const struct diff_entry *e = &r->entries[i];

		if (e->kind == DIFF_SAME && !(flags & DIFF_JSON_INCLUDE_SAME))
			continue;
		if (add_entry(entries, before, after, e) != 0)
			goto out;
	}
	*out = root;
	root = NULL;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}
