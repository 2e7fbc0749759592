/*
 * snapshot.h - the region model: one snapshot of one process's address space.
 *
 * A snapshot is the identity of a process (pid + OS start stamp), the time it
 * was taken, a sorted array of non-overlapping regions and their totals.  The
 * per-OS collectors (snapshot/linux.c, snapshot/windows.c) fill it; the store
 * (snapshot/store.h) persists it; diff/ compares two of them.  Nothing here
 * logs, exits or reads the clock: the caller sets snapshot.time_ms.
 *
 * Strings a snapshot points to (region details, command line) live in the
 * snapshot's own arena and are freed with it.
 */
#ifndef MEMDELTA_SNAPSHOT_H
#define MEMDELTA_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot/mderr.h"

/* VMMap's taxonomy.  The order is the display order and is stored in the
 * database as an integer: append only. */
enum region_type {
	REGION_IMAGE = 0,
	REGION_MAPPED,
	REGION_SHAREABLE,
	REGION_HEAP,
	REGION_MANAGED_HEAP,
	REGION_STACK,
	REGION_PRIVATE,
	REGION_PAGE_TABLE,
	REGION_UNUSABLE,
	REGION_FREE,
	REGION_TYPE_COUNT
};

enum region_state { STATE_COMMIT = 0, STATE_RESERVE, STATE_COUNT };

/* Protection bits.  Linux: from the perms column of /proc/PID/maps.
 * Windows: PAGE_* constants mapped to the same bits. */
enum {
	PROT_BIT_READ = 1u << 0,
	PROT_BIT_WRITE = 1u << 1,
	PROT_BIT_EXEC = 1u << 2,
	PROT_BIT_SHARED = 1u << 3, /* 's' (MAP_SHARED) rather than 'p' */
	PROT_BIT_GUARD = 1u << 4,  /* Windows PAGE_GUARD */
	PROT_BIT_COPY = 1u << 5,   /* Windows PAGE_WRITECOPY / EXECUTE_WRITECOPY */
};

/* Formatted protection: "rw-p", plus 'g' for guard and 'c' for copy-on-write
 * when set ("rw-pg").  PROT_STR_MAX includes the terminating NUL. */
#define PROT_STR_MAX 8

/* Snapshot flags. */
enum {
	SNAPSHOT_TRUNCATED = 1u << 0, /* region or time budget hit: regions incomplete */
	SNAPSHOT_NO_THREAD_SP =
	        1u << 1, /* thread stack pointers unreadable: stacks inferred from layout only */
	SNAPSHOT_TOTALS_ONLY =
	        1u << 2, /* no region list could be read, totals only (Windows protected process) */
	SNAPSHOT_NO_HEAP_LIST = 1u << 3,     /* OS heap list unavailable: heaps not identified */
	SNAPSHOT_NO_THREAD_STACKS = 1u << 4, /* Windows: some thread stack ranges (TEBs) unreadable:
	                                        those stacks show as Private Data */
	SNAPSHOT_NO_WORKING_SET =
	        1u << 5, /* Windows: QueryWorkingSetEx not read: resident columns are 0 */
};

/* Names of the SNAPSHOT_* flags as JSON and the API write them, in bit
 * order: "truncated", "no_thread_sp", "totals_only", "no_heap_list",
 * "no_thread_stacks", "no_working_set". */
struct snapshot_flag_name {
	unsigned bit;
	const char *name;
};
extern const struct snapshot_flag_name snapshot_flag_names[];
extern const size_t snapshot_flag_name_count;

struct region {
	uint64_t base;            /* virtual address */
	uint64_t size;            /* bytes */
	uint64_t allocation_base; /* Windows AllocationBase; Linux: = base */
	enum region_type type;
	enum region_state state;
	unsigned protection; /* PROT_BIT_* */
	/* All counters are bytes. */
	uint64_t committed;        /* charged: Linux VmFlags "ac" -> size, else 0 */
	uint64_t resident;         /* Rss / working set */
	uint64_t private_resident; /* Private_Clean + Private_Dirty / private WS */
	uint64_t shared_resident;  /* Shared_Clean + Shared_Dirty / shareable WS */
	uint64_t pss;
	uint64_t swap;
	uint64_t locked;
	/* File path, "[heap]", "thread 1234 ...", "[anon:name]", and for
	 * heuristic labels how they were inferred.  Never NULL ("" for none). */
	const char *detail;
};

/* Totals over a set of regions. */
struct region_totals {
	uint64_t size;
	uint64_t committed;
	uint64_t reserved; /* size of the regions in STATE_RESERVE */
	uint64_t resident;
	uint64_t private_resident;
	uint64_t shared_resident;
	uint64_t pss;
	uint64_t swap;
	uint64_t locked;
	uint64_t regions; /* number of regions */
	uint64_t blocks;  /* number of distinct allocation bases */
	uint64_t largest; /* size of the largest region */
};

struct snapshot_totals {
	struct region_totals cell[REGION_TYPE_COUNT][STATE_COUNT];
	struct region_totals by_type[REGION_TYPE_COUNT]; /* PAGE_TABLE: committed = resident =
	                                                    page_table_bytes */
	struct region_totals by_state[STATE_COUNT];
	struct region_totals all;
	uint64_t free; /* unmapped address space between the lowest and highest user mapping */
	/* The leak signal: committed bytes of PRIVATE + HEAP + STACK, and their
	 * touched part: private resident + swap of the same types. */
	uint64_t private_committed;
	uint64_t private_touched;
};

struct snapshot_arena; /* opaque string storage */

struct snapshot {
	int pid;
	uint64_t start_time;       /* OS start stamp: Linux clock ticks since boot (stat field 22);
	                              Windows FILETIME */
	int64_t start_time_ms;     /* process start as Unix time in ms; 0 when unknown */
	int64_t time_ms;           /* when taken, Unix time in ms; set by the caller */
	char name[64];             /* Linux comm / Windows image base name */
	const char *cmdline;       /* arguments joined by spaces; never NULL */
	unsigned flags;            /* SNAPSHOT_* */
	uint64_t page_table_bytes; /* Linux VmPTE; 0 when unknown */
	uint64_t collect_ns;       /* cost of the collection, set by the caller; 0 if unknown */
	struct region *regions;    /* sorted by base, non-overlapping */
	size_t n_regions;
	size_t cap_regions;
	struct snapshot_arena *arena;
};

struct snapshot_opts {
	const char *proc_root; /* Linux: "/proc" when NULL */
	size_t max_regions; /* 0 = no limit; past it the snapshot is flagged SNAPSHOT_TRUNCATED */
	/* Optional time budget: polled every 1,024 regions; a nonzero return
	 * stops the read and flags the snapshot SNAPSHOT_TRUNCATED. */
	int (*over_budget)(void *arg);
	void *budget_arg;
	int skip_thread_sp; /* nonzero: do not read /proc/PID/task/TID/syscall */
};

/* Allocate an empty snapshot.  Returns 0 or MD_ERR_NOMEM; *out is NULL on error. */
int snapshot_new(struct snapshot **out);
/* Free @s and everything it owns.  NULL is fine. */
void snapshot_free(struct snapshot *s);

/* Copy @len bytes of @str (need not be NUL-terminated) into @s's arena.
 * Returns the NUL-terminated copy, or NULL when out of memory. */
const char *snapshot_strdup(struct snapshot *s, const char *str, size_t len);

/* Append a copy of @r (its detail copied into the arena; NULL detail -> "").
 * Returns 0 or MD_ERR_NOMEM.  Regions must be appended in address order or
 * sorted afterwards with snapshot_sort(). */
int snapshot_add_region(struct snapshot *s, const struct region *r);
/* Make room for @n regions in all (one allocation when the count is known
 * in advance).  Returns 0 or MD_ERR_NOMEM. */
int snapshot_reserve(struct snapshot *s, size_t n);
/* Set the command line (copied).  Returns 0 or MD_ERR_NOMEM. */
int snapshot_set_cmdline(struct snapshot *s, const char *cmdline);
/* Sort regions by base.  Returns MD_ERR_PARSE if two regions overlap. */
int snapshot_sort(struct snapshot *s);

/* Deep copy of @s.  Returns 0 or MD_ERR_NOMEM. */
int snapshot_clone(const struct snapshot *s, struct snapshot **out);

/* Compute every total of @s into @t (cleared first). */
void snapshot_totals(const struct snapshot *s, struct snapshot_totals *t);
/* dst += src, field by field (largest: max; blocks and regions: sum). */
void region_totals_add(struct region_totals *dst, const struct region_totals *src);

/* Names used in JSON, CSV, the database and the UI: "image", "mapped",
 * "shareable", "heap", "managed_heap", "stack", "private", "page_table",
 * "unusable", "free"; "commit", "reserve". */
const char *region_type_name(enum region_type t);
/* VMMap's display label: "Image", "Mapped File", "Shareable", "Heap", ... */
const char *region_type_label(enum region_type t);
/* Parse a type name; returns 0 or MD_ERR_PARSE. */
int region_type_from_name(const char *name, enum region_type *out);
const char *region_state_name(enum region_state s);
int region_state_from_name(const char *name, enum region_state *out);
/* Format @prot into @buf (PROT_STR_MAX bytes): "rw-p", "r-xs", "---pg". */
void region_prot_format(unsigned prot, char buf[PROT_STR_MAX]);
/* Parse the format above; returns 0 or MD_ERR_PARSE. */
int region_prot_parse(const char *str, unsigned *out);

/* Collect a snapshot of process @pid with the platform's collector.
 * Returns 0 and a new snapshot in *out (time_ms and collect_ns left 0 for
 * the caller), or:
 *   MD_ERR_NOPROC   the process does not exist or exited during the read;
 *                   nothing partial is returned
 *   MD_ERR_PERM     the address space is not readable (needs root or
 *                   CAP_SYS_PTRACE on Linux)
 *   MD_ERR_KTHREAD  a kernel thread; MD_ERR_ZOMBIE  a zombie
 *   MD_ERR_PARSE, MD_ERR_IO, MD_ERR_NOMEM, MD_ERR_UNSUPPORTED.
 * @opts may be NULL for defaults. */
int snapshot_collect(int pid, const struct snapshot_opts *opts, struct snapshot **out);

/* Write what the platform's collector reads about process @pid, unclassified,
 * to @out, so it can be kept as a test fixture: on Windows the
 * "memdelta-winraw 1" text form (snapshot/windows_regions.h); on Linux
 * PID/stat, PID/status, PID/cmdline and PID/smaps under /proc, each after a
 * "==> NAME <==" line.  Returns 0, MD_ERR_NOPROC, MD_ERR_PERM, MD_ERR_IO,
 * MD_ERR_NOMEM, or MD_ERR_UNSUPPORTED where there is no collector. */
int snapshot_record_raw(int pid, FILE *out);

/* ---- the cheap probe (ARCHITECTURE.md, "Sampling cost") -------------------
 * What a collector can learn about a process for a small fraction of the
 * cost of snapshot_collect(): its memory totals, and on request a
 * fingerprint of its region structure.  The daemon probes the totals every
 * tick, the structure every map_check_every ticks, and collects in full
 * only when the probe differs from the one taken with the last full
 * snapshot (or every full_read_every ticks).  Equal probes do not prove
 * equal snapshots: counters that move inside regions without moving the
 * totals (pages that move between regions, Pss when another process maps
 * the same pages) are only seen by a full read, and without the structure
 * a mapping replaced by another of the same size that moves no total is
 * seen at the next structure check. */

/* What snapshot_probe reads besides the totals. */
#define SNAPSHOT_PROBE_MAP 1u /* the structure: map_hash, map_bytes, regions */

struct snapshot_probe {
	uint64_t start_time; /* OS start stamp, as snapshot.start_time */
	unsigned has_map;    /* 1: the next three were read (SNAPSHOT_PROBE_MAP) */
	uint64_t map_hash;   /* hash of the region list: Linux /proc/PID/maps text */
	uint64_t map_bytes;  /* length of that text */
	uint64_t regions;    /* number of regions (lines of maps) */
	/* Linux /proc/PID/status, in kB: VmSize, VmLck, VmPin, VmData, VmStk,
	 * VmExe, VmLib, VmPTE, VmSwap, RssAnon, RssFile, RssShmem, in this
	 * order (PROBE_TOTALS names them); and Threads.  The kernel keeps the
	 * resident and swap counts per CPU and folds them in batches, so a
	 * change of fewer than about 64 pages may show late. */
	uint64_t totals[12];
	uint64_t threads;
};

/* Probe process @pid: the totals always, and what @what asks for (0 or
 * SNAPSHOT_PROBE_MAP).  opts->proc_root is honoured; the other options are
 * ignored; @opts may be NULL.  Returns 0 and fills *out (cleared first), or
 * the statuses of snapshot_collect(): MD_ERR_NOPROC, MD_ERR_PERM (reading
 * maps needs the same access as smaps), MD_ERR_KTHREAD, MD_ERR_ZOMBIE,
 * MD_ERR_PARSE, MD_ERR_IO, MD_ERR_UNSUPPORTED.  Allocates nothing. */
int snapshot_probe(int pid, const struct snapshot_opts *opts, unsigned what,
                   struct snapshot_probe *out);
/* 1 when @a and @b have the same identity and totals and, when both hold
 * the structure (has_map), the same structure; else 0. */
int snapshot_probe_equal(const struct snapshot_probe *a, const struct snapshot_probe *b);

#endif
