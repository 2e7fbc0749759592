/*
 * linux_smaps.h - pure parsers and the classifier of the Linux collector.
 *
 * Internal to snapshot/: snapshot/linux.c does the I/O under a /proc root and
 * hands buffers to these functions.  They build and are tested on every
 * platform, from recorded files under tests/fixtures/.
 */
#ifndef MEMDELTA_LINUX_SMAPS_H
#define MEMDELTA_LINUX_SMAPS_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapshot.h"

/* VmFlags of /proc/PID/smaps that the classifier uses (Linux 3.8+). */
enum {
	VMF_AC = 1u << 0, /* "ac": accounted (committed) */
	VMF_GD = 1u << 1, /* "gd": grows down (main stack) */
	VMF_NR = 1u << 2, /* "nr": MAP_NORESERVE */
	VMF_SH = 1u << 3, /* "sh": shared */
	VMF_EX = 1u << 4, /* "ex": executable */
	VMF_WR = 1u << 5, /* "wr": writable */
	VMF_LO = 1u << 6, /* "lo": locked */
};

/* One VMA as /proc/PID/smaps shows it, as much of it as the classifier
 * uses (kept small: the collector holds one per VMA).  Sizes are bytes. */
struct smaps_vma {
	uint64_t start, end, inode;
	const char *path; /* as printed (" (deleted)" kept); "" when anonymous; owned by the
	                     snapshot arena */
	uint64_t rss, pss;
	uint64_t private_resident; /* Private_Clean + Private_Dirty + Private_Hugetlb */
	uint64_t shared_resident;  /* Shared_Clean + Shared_Dirty + Shared_Hugetlb */
	uint64_t swap, locked;
	unsigned dev_major, dev_minor;
	unsigned char perms;    /* PROT_BIT_READ/WRITE/EXEC/SHARED */
	unsigned char deleted;  /* path ended in " (deleted)" */
	unsigned char seen;     /* internal: which keys were present */
	unsigned short vmflags; /* VMF_* */
};

/* What the classifier needs of a VMA besides its region, when the parser
 * writes straight into the snapshot's regions (smaps_parser_init_regions). */
struct smaps_vma_extra {
	uint64_t inode;
	const char *path; /* as in struct smaps_vma */
	unsigned dev_major, dev_minor;
	unsigned short vmflags; /* VMF_* */
};

/* A parser works in one of two modes.  VMA mode (smaps_parser_init) keeps
 * every record in the vmas array, for linux_classify().  Region mode
 * (smaps_parser_init_regions) keeps only the record being read and appends
 * each finished one to the snapshot as a region (type and state not yet
 * decided) plus a struct smaps_vma_extra, for linux_classify_regions(): the
 * collector's mode, which holds one array per VMA instead of two. */
struct smaps_parser {
	struct snapshot *snap;  /* arena for paths; region mode: receives the regions */
	struct smaps_vma *vmas; /* VMA mode */
	size_t n_vmas;          /* records started, the one being read included */
	size_t cap_vmas;
	size_t line;       /* lines consumed so far (1-based line of the last) */
	size_t error_line; /* line of the first error, 0 if none */
	const char *error; /* static description of the first error */
	size_t max_vmas;   /* 0 = no limit; past it smaps_parse_line returns 1 */
	/* Region mode. */
	int to_regions;
	int pending;                    /* cur holds a record not yet appended */
	struct smaps_vma cur;           /* the record being read */
	size_t first_region;            /* snap->regions index of the first record */
	struct smaps_vma_extra *extras; /* one per appended region */
	size_t cap_extras;
	/* Internal. */
	struct smaps_vma *rec; /* the record being read (either mode) */
	unsigned next_key;     /* index of the key expected on the next line */
};

/* Start parsing in VMA mode; paths are copied into @snap's arena. */
void smaps_parser_init(struct smaps_parser *p, struct snapshot *snap, size_t max_vmas);
/* Start parsing in region mode: records are appended to @snap's regions
 * (from its current n_regions on) and their paths copied into its arena. */
void smaps_parser_init_regions(struct smaps_parser *p, struct snapshot *snap, size_t max_vmas);
/* Release the VMA array (VMA mode) or the extras (region mode); regions
 * already appended stay in the snapshot. */
void smaps_parser_done(struct smaps_parser *p);
/* Region mode: make room for @n records in all, in the snapshot's regions
 * and in the extras.  Returns 0 or MD_ERR_NOMEM. */
int smaps_parser_reserve(struct smaps_parser *p, size_t n);
/* Feed one line (without its '\n').  Returns 0, 1 when max_vmas is reached
 * (the new VMA was not added), MD_ERR_PARSE (error_line, error set) or
 * MD_ERR_NOMEM. */
int smaps_parse_line(struct smaps_parser *p, const char *line, size_t len);
/* Feed every complete line of @buf (@len bytes); *used is set to the length
 * of those lines, or on 1 (max_vmas reached) to the start of the header
 * line that was refused.  The same results as smaps_parse_line() line by
 * line; the lines Linux prints in its fixed layout take a faster path. */
int smaps_parse_chunk(struct smaps_parser *p, const char *buf, size_t len, size_t *used);
/* Check that the last record is complete (region mode: and append it).
 * Returns 0, MD_ERR_PARSE or MD_ERR_NOMEM. */
int smaps_parse_finish(struct smaps_parser *p);
/* End a read that was cut short (max_vmas, time budget): the last record
 * is kept when complete and dropped otherwise.  Returns 0 or MD_ERR_NOMEM. */
int smaps_parse_stop(struct smaps_parser *p);
/* Feed a whole buffer: every line must end in '\n' (a final line without one
 * is a truncated file: MD_ERR_PARSE).  Calls smaps_parse_finish(). */
int smaps_parse_buffer(struct smaps_parser *p, const char *buf, size_t len);

/* The parts of /proc/PID/stat the collector uses. */
struct linux_stat {
	char comm[64];
	char state;          /* 'R', 'S', 'Z', ... */
	unsigned long flags; /* PF_* (field 9) */
	uint64_t start_time; /* clock ticks since boot (field 22) */
};
#define LINUX_PF_KTHREAD 0x00200000ul

/* Parse /proc/PID/stat; fields after the comm are read after the last ')'.
 * Returns 0 or MD_ERR_PARSE. */
int linux_parse_stat(const char *buf, size_t len, struct linux_stat *out);

/* The parts of /proc/PID/status the collector uses (bytes). */
struct linux_status {
	uint64_t vm_pte;
	uint64_t vm_size;
	int have_vm_size; /* kernel threads have no Vm* lines */
};
int linux_parse_status(const char *buf, size_t len, struct linux_status *out);

/* The number of a status-like line's value: blanks, then decimal digits up
 * to UINT64_MAX, from @s to @eol.  Returns 0 with *value and *rest (just
 * after the digits), or MD_ERR_PARSE. */
int linux_status_number(const char *s, const char *eol, uint64_t *value, const char **rest);

/* Parse /proc/PID/task/TID/syscall: "NR a1 .. a6 SP PC", "-1 SP PC" or
 * "running".  Returns 0 and *sp, MD_ERR_NOTFOUND for "running", or
 * MD_ERR_PARSE. */
int linux_parse_syscall_sp(const char *buf, size_t len, uint64_t *sp);

/* Parse the btime line of /proc/stat (boot time, Unix seconds). */
int linux_parse_btime(const char *buf, size_t len, int64_t *btime);

/* A thread's stack pointer, when readable. */
struct linux_thread_sp {
	int tid;
	uint64_t sp;
};

/* Classify @n VMAs (sorted by start) by ARCHITECTURE.md's Linux mapping and
 * append one region per VMA to @s.  @sps are the stack pointers of the
 * process's threads (may be empty); @main_tid is the thread group leader.
 * The regions point to the VMAs' paths, which must live in @s's arena (as
 * smaps_parser_init(p, s, ...) puts them).  Returns 0 or MD_ERR_NOMEM. */
int linux_classify(struct snapshot *s, const struct smaps_vma *v, size_t n,
                   const struct linux_thread_sp *sps, size_t n_sps, int main_tid);
/* The same for the records a region-mode parser appended to @s (after
 * smaps_parse_finish or smaps_parse_stop): their type, state, committed
 * bytes and detail are decided in place.  Returns 0 or MD_ERR_NOMEM. */
int linux_classify_regions(struct snapshot *s, const struct smaps_parser *p,
                           const struct linux_thread_sp *sps, size_t n_sps, int main_tid);

#endif
