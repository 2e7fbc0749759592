/*
 * mderr.h - memdelta's one status space.
 *
 * Every function in snapshot/, diff/, daemon/ and web/ that can fail returns
 * an int: 0 on success, one of the negative MD_ERR_* values below otherwise.
 * md_strerror() turns a status into a short English phrase for log lines and
 * CLI messages.  Callers log once, with context; the libraries never log.
 */
#ifndef MEMDELTA_MDERR_H
#define MEMDELTA_MDERR_H

enum md_status {
	MD_OK = 0,
	MD_ERR_NOMEM = -1,        /* allocation failed */
	MD_ERR_NOPROC = -2,       /* the process does not exist or exited (expected race) */
	MD_ERR_PERM = -3,         /* permission denied (needs root or CAP_SYS_PTRACE) */
	MD_ERR_PARSE = -4,        /* malformed input */
	MD_ERR_IO = -5,           /* read/write error */
	MD_ERR_DB = -6,           /* SQLite error */
	MD_ERR_INVAL = -7,        /* invalid argument */
	MD_ERR_KTHREAD = -8,      /* kernel thread: no user address space */
	MD_ERR_ZOMBIE = -9,       /* zombie: exited, not yet reaped, no address space */
	MD_ERR_NOTFOUND = -10,    /* no such object (snapshot id, target, ...) */
	MD_ERR_UNSUPPORTED = -11, /* not available on this platform */
	MD_ERR_FULL = -12,        /* storage full */
	MD_ERR_BUSY = -13,        /* resource busy (database locked, ...) */
};

/* A static, never-NULL description of status @status. */
const char *md_strerror(int status);

/* The status of a failed read of a process's files (/proc/PID/...) whose
 * errno is @err: ENOENT and ESRCH mean the process is gone, EACCES and
 * EPERM that it may not be read, ENOMEM out of memory; anything else is
 * MD_ERR_IO. */
int md_status_of_errno(int err);

#endif
