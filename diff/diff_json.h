/*
 * diff_json.h - the public JSON form of a diff (docs/json-format.md), shared
 * by `memdelta diff --format=json` and GET /api/v1/diff.
 */
#ifndef MEMDELTA_DIFF_JSON_H
#define MEMDELTA_DIFF_JSON_H

#include <cjson/cJSON.h>

#include "diff/diff.h"

enum {
	DIFF_JSON_INCLUDE_SAME = 1u << 0, /* also list SAME entries */
};

/* Build the JSON object of diff @r between @before and @after: "before" and
 * "after" identities (pid, start_time, name, time), "totals" (all and per
 * type), and "entries" (each: kind, base, size, type, before_type,
 * committed_delta, resident_delta, private_delta, swap_delta, protection and
 * detail of the after region, or the before region for FREED).  Returns 0 and
 * *out (cJSON_Delete), or MD_ERR_NOMEM. */
int diff_to_json(const struct snapshot *before, const struct snapshot *after,
                 const struct diff_result *r, unsigned flags, cJSON **out);

#endif
