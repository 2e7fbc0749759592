/*
 * json.h - the public JSON form of a snapshot (docs/json-format.md).
 *
 * This is the contract other tools read: `memdelta snapshot --format=json`,
 * GET /api/v1/snapshots/{id} and the input of `memdelta diff OLD.json
 * NEW.json` all use it.  Top level: pid, start_time, name, time, regions,
 * totals; each region: base, size, type, state, protection, committed,
 * resident, private, detail (plus the further counters).  Byte counts are
 * integers in bytes; addresses are integers too (and "0x..." strings in
 * base_hex for humans).
 */
#ifndef MEMDELTA_SNAPSHOT_JSON_H
#define MEMDELTA_SNAPSHOT_JSON_H

#include <cjson/cJSON.h>

#include "snapshot/snapshot.h"

/* Build the JSON object of @s.  Returns 0 and a new cJSON tree in *out
 * (free with cJSON_Delete), or MD_ERR_NOMEM. */
int snapshot_to_json(const struct snapshot *s, cJSON **out);

/* Build the "totals" object alone (also used by the timeline API). */
int snapshot_totals_to_json(const struct snapshot_totals *t, cJSON **out);

/* Parse @len bytes of JSON text into a new snapshot.  On success returns 0
 * and *out.  On malformed JSON returns MD_ERR_PARSE with *err_offset set to
 * the byte offset where parsing failed; on well-formed JSON that is not a
 * snapshot returns MD_ERR_PARSE with *err_offset = 0 and *err_what naming
 * the missing or invalid member (static string).  err_offset and err_what
 * may be NULL. */
int snapshot_from_json(const char *text, size_t len, struct snapshot **out, size_t *err_offset,
                       const char **err_what);

/* Add member @name = @v to object @obj as an exact decimal integer.  cJSON
 * keeps numbers as doubles and prints integers from 2^53 up inexactly, so
 * every integer in the trees built here is a cJSON_Raw item whose
 * valuestring is its decimal text ("%" PRIu64 / PRId64): read such a member
 * back with strtoull(item->valuestring), not item->valuedouble.  Returns 0
 * or MD_ERR_NOMEM.  (Added for diff/diff_json.c and web/, so that every
 * memdelta JSON document writes integers the same exact way.) */
int snapshot_json_add_u64(cJSON *obj, const char *name, uint64_t v);
int snapshot_json_add_i64(cJSON *obj, const char *name, int64_t v);

/* Streaming output (snapshot/json_write.c): the same bytes as
 * cJSON_PrintUnformatted() of snapshot_to_json(), written straight into a
 * buffer without a tree or an allocation per value - the form the CLI and
 * the web server emit, since a 10,000-region snapshot as a cJSON tree costs
 * 170,000 allocations.  A test pins both forms to identical bytes.
 *
 * The buffer grows as needed; with a @flush callback it is handed over and
 * emptied whenever it passes 64 KiB (and at json_out_finish). */
struct json_out {
	char *buf;
	size_t len;
	size_t cap;
	int (*flush)(void *arg, const char *data, size_t len); /* 0 or MD_ERR_IO */
	void *flush_arg;
	int status; /* first error: MD_ERR_NOMEM or the flush callback's */
};

/* Start an empty output; @flush may be NULL to keep everything in buf. */
void json_out_init(struct json_out *o, int (*flush)(void *arg, const char *data, size_t len),
                   void *flush_arg);
/* Flush what is left; returns o->status. */
int json_out_finish(struct json_out *o);
/* Free the buffer. */
void json_out_done(struct json_out *o);
/* Append @len raw bytes / a string escaped exactly as cJSON does / an integer. */
void json_out_raw(struct json_out *o, const char *data, size_t len);
void json_out_string(struct json_out *o, const char *str);
void json_out_u64(struct json_out *o, uint64_t v);
void json_out_i64(struct json_out *o, int64_t v);
/* The array of the names of the SNAPSHOT_* bits set in @flags: ["truncated"]. */
void json_out_flags(struct json_out *o, unsigned flags);

/* Write the JSON object of @s (no trailing newline).  Returns o->status. */
int snapshot_json_write(const struct snapshot *s, struct json_out *o);

#endif
