/*
 * mderr.c - descriptions of memdelta's status codes (see mderr.h).
 */
#include "config.h"

#include <errno.h>

#include "snapshot/mderr.h"

const char *
md_strerror(int status)
{
	switch (status) {
	case MD_OK:
		return "success";
	case MD_ERR_NOMEM:
		return "out of memory";
	case MD_ERR_NOPROC:
		return "no such process";
	case MD_ERR_PERM:
		return "permission denied";
	case MD_ERR_PARSE:
		return "malformed input";
	case MD_ERR_IO:
		return "input/output error";
	case MD_ERR_DB:
		return "database error";
	case MD_ERR_INVAL:
		return "invalid argument";
	case MD_ERR_KTHREAD:
		return "kernel thread (no user address space)";
	case MD_ERR_ZOMBIE:
		return "zombie process (no address space left)";
	case MD_ERR_NOTFOUND:
		return "not found";
	case MD_ERR_UNSUPPORTED:
		return "not supported on this platform";
	case MD_ERR_FULL:
		return "storage full";
	case MD_ERR_BUSY:
		return "resource busy";
	}
	return "unknown error";
}

int
md_status_of_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ESRCH:
		return MD_ERR_NOPROC;
	case EACCES:
	case EPERM:
		return MD_ERR_PERM;
	case ENOMEM:
		return MD_ERR_NOMEM;
	default:
		return MD_ERR_IO;
	}
}
