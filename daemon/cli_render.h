/*
 * cli_render.h - text renderings of snapshots and diffs for the memdelta CLI:
 * the VMMap-style table, CSV, and the colored diff.  JSON comes from
 * snapshot/json.h and diff/diff_json.h so every consumer sees one format.
 */
#ifndef MEMDELTA_CLI_RENDER_H
#define MEMDELTA_CLI_RENDER_H

#include <stdio.h>

#include "diff/diff.h"
#include "snapshot/snapshot.h"

/* The type summary (one row per type: size, committed, private, total WS,
 * private WS, shareable WS, shared WS, blocks, largest), the state summary
 * (commit, reserve, free) and the details table.  Returns 0 or MD_ERR_IO. */
int render_snapshot_table(FILE *f, const struct snapshot *s);

/* One header line, one line per region (docs/json-format.md, "CSV"). */
int render_snapshot_csv(FILE *f, const struct snapshot *s);

/* The diff: per-type totals, then the entries (NEW green, FREED red,
 * GREW/SHRANK amber, CHANGED cyan; SAME only when @all).  @color: use ANSI
 * colors.  Returns 0 or MD_ERR_IO. */
int render_diff_table(FILE *f, const struct snapshot *before, const struct snapshot *after,
                      const struct diff_result *d, int color, int all);

/* One header line, one line per entry (SAME only when @all). */
int render_diff_csv(FILE *f, const struct snapshot *before, const struct snapshot *after,
                    const struct diff_result *d, int all);

/* Write @s as a CSV field (quoted per RFC 4180 when needed). */
void render_csv_field(FILE *f, const char *s);

#endif
