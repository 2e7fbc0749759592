/*
 * testutil.h - small helpers shared by the Check programs: fixture paths,
 * scratch directories, skipping, building regions.
 */
#ifndef MEMDELTA_TESTUTIL_H
#define MEMDELTA_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapshot.h"

/* Exit status that makes automake count a test as skipped. */
#define TEST_SKIP 77

/* Path of @rel under $MD_FIXTURES (falls back to ./tests/fixtures) in a
 * static buffer overwritten by the next call. */
const char *test_fixture(const char *rel);

/* A fresh directory from mkdtemp() under $TMPDIR (or /tmp); the path is a
 * static buffer valid until the next call.  Aborts the test on failure. */
const char *test_scratch_dir(void);

/* Remove directory @dir and everything in it (links are removed, not followed). */
void test_rm_rf(const char *dir);

/* Print why and exit(TEST_SKIP). */
void test_skip(const char *why) __attribute__((noreturn));

/* Fill @r with a region; detail may be NULL. */
void test_region(struct region *r, uint64_t base, uint64_t size, enum region_type type,
                 enum region_state state, unsigned prot, uint64_t committed, uint64_t resident,
                 const char *detail);

/* Read a whole file into a new NUL-terminated buffer (free()); NULL on error. */
char *test_read_file(const char *path, size_t *len);

#endif
