/*
 * targets.h - which processes memdeltad watches: the process list read from
 * /proc (Linux) or a Toolhelp32 snapshot (Windows), and the pure matching of configured targets (by
 * pid, executable name or command-line regex) and of the automatic "top N by committed private
 * memory" choice against such a list.  Reading is split from matching so that the tests give
 * synthetic process lists.
 */
#ifndef MEMDELTA_TARGETS_H
#define MEMDELTA_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/daemon_config.h"

struct proc_info {
	int pid;
	uint64_t start_time;    /* stat field 22; Windows: creation FILETIME */
	char comm[64];          /* /proc/PID/comm (15 characters at most on Linux);
	                           Windows: the executable's name, "w3wp.exe" */
	char argv0_base[256];   /* basename of argv[0] ("" for kernel threads) */
	char exe_base[256];     /* basename of /proc/PID/exe ("" when unreadable) */
	char *cmdline;          /* arguments joined by spaces; never NULL */
	uint64_t private_bytes; /* VmData + VmStk: what is charged privately */
	int readable;           /* its smaps can be opened by us */
};

struct proc_list {
	struct proc_info *procs;
	size_t n;
};

/* Read every process under @proc_root ("/proc" when NULL; Windows: every
 * process of the Toolhelp32 snapshot, @proc_root must be NULL, private_bytes
 * is PrivateUsage, cmdline the command line where the process can be
 * queried, else its executable name).  Processes that exit during the scan
 * are skipped; kernel threads (no VmData) are left out.
 * @prev, when not NULL, is an earlier list of the same root: on Linux a
 * process in it with the same pid, start time and comm (an exec changes
 * the comm) is copied from it and only its stat is read, which makes a
 * rescan about five times cheaper; private_bytes, cmdline and readable are
 * then as old as @prev.  Windows ignores @prev.
 * Returns 0 and *out (free with proc_list_free), or MD_ERR_IO / MD_ERR_NOMEM. */
int proc_list_read(const char *proc_root, const struct proc_list *prev, struct proc_list *out);
void proc_list_free(struct proc_list *l);

/* 1 when process @p is a match of target @t: TARGET_PID: same pid;
 * TARGET_NAME: the name equals comm, the basename of argv[0] or of the
 * executable; TARGET_CMDLINE: the regex matches the command line.  A
 * process never matches a name or regex target when its pid is @self_pid
 * (memdeltad's own command line names its targets). */
int target_matches(const struct config_target *t, const struct proc_info *p, int self_pid);

/* The automatic choice: indexes into @l of at most @top readable processes
 * with the most private_bytes (ties: lower pid first), @self_pid excluded.
 * Writes them to @idx (room for @top) and returns how many. */
size_t targets_top(const struct proc_list *l, unsigned top, int self_pid, size_t *idx);

#endif
