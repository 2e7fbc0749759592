/*
 * windows_regions.h - the raw record of a Windows address space and its pure
 * classifier, built and tested on every platform.
 *
 * snapshot/windows.c fills a struct winraw with what the Win32 calls return
 * (one struct winraw_region per VirtualQueryEx region, the PEB heap list, the
 * thread stacks from the TEBs, the GetProcessMemoryInfo totals) and hands it to
 * windows_classify(), which turns it into a struct snapshot by the Windows
 * mapping of ARCHITECTURE.md (the rules and their evidence are in
 * docs/windows-mapping.md).  The same record has a line-oriented text form
 * ("memdelta-winraw 1", written by `memdelta snapshot --raw PID` on Windows)
 * so region lists recorded on Windows or under wine are test fixtures on Linux
 * (tests/fixtures/windows/).  No Win32 header is needed here: the MEM_* and
 * PAGE_* values are copied below under WIN_ names.
 */
#ifndef MEMDELTA_WINDOWS_REGIONS_H
#define MEMDELTA_WINDOWS_REGIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot/snapshot.h"

/* MEMORY_BASIC_INFORMATION.State and .Type values (winnt.h). */
enum {
	WIN_MEM_COMMIT = 0x1000,
	WIN_MEM_RESERVE = 0x2000,
	WIN_MEM_FREE = 0x10000,
	WIN_MEM_PRIVATE = 0x20000,
	WIN_MEM_MAPPED = 0x40000,
	WIN_MEM_IMAGE = 0x1000000,
};

/* PAGE_* protection values (winnt.h): one base value in the low byte plus
 * modifier bits. */
enum {
	WIN_PAGE_NOACCESS = 0x01,
	WIN_PAGE_READONLY = 0x02,
	WIN_PAGE_READWRITE = 0x04,
	WIN_PAGE_WRITECOPY = 0x08,
	WIN_PAGE_EXECUTE = 0x10,
	WIN_PAGE_EXECUTE_READ = 0x20,
	WIN_PAGE_EXECUTE_READWRITE = 0x40,
	WIN_PAGE_EXECUTE_WRITECOPY = 0x80,
	WIN_PAGE_GUARD = 0x100,
	WIN_PAGE_NOCACHE = 0x200,
	WIN_PAGE_WRITECOMBINE = 0x400,
};

/* Windows' allocation granularity (SYSTEM_INFO.dwAllocationGranularity on
 * every x86/x64/ARM64 Windows so far). */
#define WIN_ALLOCATION_GRANULARITY ((uint64_t)64 << 10)

/* One VirtualQueryEx region (MEMORY_BASIC_INFORMATION) plus what the
 * collector learnt about it.  Sizes are bytes. */
struct winraw_region {
	uint64_t base;            /* BaseAddress */
	uint64_t allocation_base; /* AllocationBase (0 for free regions) */
	uint32_t allocation_protect;
	uint64_t size;    /* RegionSize */
	uint32_t state;   /* WIN_MEM_COMMIT, WIN_MEM_RESERVE or WIN_MEM_FREE */
	uint32_t protect; /* PAGE_* (0 for reserved and free regions) */
	uint32_t type;    /* WIN_MEM_PRIVATE, _MAPPED, _IMAGE; 0 for free regions */
	/* From QueryWorkingSetEx, when read (winraw.have_working_set). */
	uint64_t resident;
	uint64_t private_resident;
	uint64_t shared_resident;
	char *path; /* GetMappedFileNameW as UTF-8, drive-letter form where known;
	               NULL when none.  Owned by the struct winraw. */
};

/* A thread's stack as its TEB's NT_TIB shows it: [stack_limit, stack_base)
 * is the committed part; the allocation around it holds the guard page and
 * the reserve. */
struct winraw_thread {
	uint32_t tid;
	uint64_t stack_base;  /* NT_TIB.StackBase: top (exclusive) */
	uint64_t stack_limit; /* NT_TIB.StackLimit: lowest committed address */
};

/* Availability of a source. */
enum winraw_source {
	WINRAW_UNAVAILABLE = 0, /* could not be read at all */
	WINRAW_AVAILABLE,       /* read completely */
	WINRAW_PARTIAL,         /* threads only: some TEBs could not be read */
};

/* Everything the classifier needs about one process. */
struct winraw {
	int pid;
	uint64_t start_time;    /* GetProcessTimes creation time, FILETIME */
	int64_t start_time_ms;  /* the same as Unix ms; 0 when unknown */
	char name[64];          /* image base name, UTF-8 */
	char *cmdline;          /* UTF-8; NULL for none */
	int limited;            /* nonzero: opened with PROCESS_QUERY_LIMITED_INFORMATION only;
	                           no regions, totals only */
	uint64_t private_usage; /* PROCESS_MEMORY_COUNTERS_EX.PrivateUsage */
	uint64_t working_set;   /* .WorkingSetSize */
	uint64_t max_address;   /* SYSTEM_INFO.lpMaximumApplicationAddress */
	int truncated;          /* the walk stopped at opts->max_regions or the budget */
	enum winraw_source heaps_source;       /* PEB.ProcessHeaps */
	enum winraw_source threads_source;     /* TEBs of the Toolhelp32 thread list */
	enum winraw_source working_set_source; /* QueryWorkingSetEx */
	uint64_t *heaps;                       /* heap handles = heap base addresses, PEB order */
	size_t n_heaps, cap_heaps;
	struct winraw_thread *threads;
	size_t n_threads, cap_threads;
	struct winraw_region *regions; /* sorted by base, non-overlapping */
	size_t n_regions, cap_regions;
};

/* Caller-provided storage: clear @raw / release what it owns (safe twice). */
void winraw_init(struct winraw *raw);
void winraw_done(struct winraw *raw);

/* Append a region (its path copied; NULL or "" for none), a heap base or a
 * thread.  Return 0 or MD_ERR_NOMEM.  Regions are appended in address
 * order, as the VirtualQueryEx walk produces them. */
int winraw_add_region(struct winraw *raw, const struct winraw_region *r, const char *path);
int winraw_add_heap(struct winraw *raw, uint64_t heap);
int winraw_add_thread(struct winraw *raw, const struct winraw_thread *t);
/* Set the command line (copied).  Returns 0 or MD_ERR_NOMEM. */
int winraw_set_cmdline(struct winraw *raw, const char *cmdline);

/* Write @raw in the text form "memdelta-winraw 1" (docs/windows-mapping.md
 * describes it).  Returns 0 or MD_ERR_IO. */
int winraw_write(const struct winraw *raw, FILE *out);

/* Where parsing failed: line number (1-based) and a static description. */
struct winraw_error {
	size_t line;
	const char *what;
};

/* Parse the text form from @buf (@len bytes) into @raw, which must be
 * freshly initialised; on error @raw is left empty (winraw_done is still
 * safe) and @err (may be NULL) says where.  Returns 0, MD_ERR_PARSE or
 * MD_ERR_NOMEM. */
int winraw_parse(struct winraw *raw, const char *buf, size_t len, struct winraw_error *err);
/* The same from a stream (read whole).  Returns 0, MD_ERR_PARSE, MD_ERR_IO
 * or MD_ERR_NOMEM. */
int winraw_read(struct winraw *raw, FILE *in, struct winraw_error *err);

/* Classify @raw into @s (a fresh snapshot from snapshot_new()): identity,
 * flags and one region per non-free VirtualQueryEx region, plus UNUSABLE
 * regions for the slack between an allocation's end and the next 64 KiB
 * boundary; free regions are not stored.  A limited @raw (no regions) gives
 * one PRIVATE region at address 0 carrying PrivateUsage and WorkingSetSize,
 * flagged SNAPSHOT_TOTALS_ONLY.  Missing sources set SNAPSHOT_NO_HEAP_LIST,
 * SNAPSHOT_NO_THREAD_STACKS, SNAPSHOT_NO_WORKING_SET.  Returns 0,
 * MD_ERR_NOMEM, or MD_ERR_PARSE when the regions are out of order or
 * overlap, or one is empty or wraps past the end of the address space. */
int windows_classify(const struct winraw *raw, struct snapshot *s);

/* PAGE_* to PROT_BIT_* (READ/WRITE/EXEC, COPY for the write-copy values,
 * GUARD for PAGE_GUARD); SHARED is not set here. */
unsigned windows_prot_bits(uint32_t protect);

#endif
