/*
 * proclist_linux.c - proc_list_read() (targets.h) on Linux: per process under
 * /proc, stat (identity, comm, kernel-thread flag), status (VmData and VmStk:
 * the privately charged memory used to rank the automatic top N), cmdline,
 * the exe link and whether smaps can be opened (the ptrace-read check happens
 * at open).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/targets.h"
#include "snapshot/linux_smaps.h"
#include "snapshot/mderr.h"

#define READ_MAX 65536

/* Read up to READ_MAX - 1 bytes of @path into @buf; returns the length or -1. */
static ssize_t
read_small(const char *path, char *buf, size_t cap)
{
	ssize_t len = 0, n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((size_t)len < cap - 1) {
		n = read(fd, buf + len, cap - 1 - (size_t)len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			len = -1;
			break;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	if (len >= 0)
		buf[len] = '\0';
	return len;
}

static const char *
base_name(const char *s, size_t len, size_t *out_len)
{
	const char *b = s;

	for (size_t i = 0; i < len; i++)
		if (s[i] == '/')
			b = s + i + 1;
	*out_len = len - (size_t)(b - s);
	return b;
}

static uint64_t
status_kb(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	if (p == NULL)
		return 0;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	return strtoull(p, NULL, 10) * 1024u;
}

/* The entry of @prev (sorted by pid, as readdir of /proc gives them) for
 * @pid, or NULL. */
static const struct proc_info *
prev_find(const struct proc_list *prev, int pid)
{
	size_t lo = 0, hi = prev != NULL ? prev->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (prev->procs[mid].pid == pid)
			return &prev->procs[mid];
		if (prev->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Fill @pi for @pid; returns 0, 1 to skip the process, or MD_ERR_NOMEM. */
static int
read_one(const char *root, int pid, const struct proc_list *prev, char *buf, struct proc_info *pi)
{
	const struct proc_info *old;
	char path[4200];
	struct linux_stat st;
	ssize_t len;
	size_t blen;
	const char *b;
	int fd;

	memset(pi, 0, sizeof(*pi));
	pi->pid = pid;
	snprintf(path, sizeof(path), "%s/%d/stat", root, pid);
	len = read_small(path, buf, READ_MAX);
	if (len <= 0 || linux_parse_stat(buf, (size_t)len, &st) != 0)
		return 1;
	if ((st.flags & LINUX_PF_KTHREAD) || st.state == 'Z' || st.state == 'X')
		return 1;
	pi->start_time = st.start_time;
	snprintf(pi->comm, sizeof(pi->comm), "%s", st.comm);
	/* Seen last time as the same process under the same name (an exec
	 * renames it): the rest is taken over, stat alone was read. */
	old = prev_find(prev, pid);
	if (old != NULL && old->start_time == pi->start_time && strcmp(old->comm, pi->comm) == 0) {
		*pi = *old;
		pi->cmdline = strdup(old->cmdline);
		return pi->cmdline == NULL ? MD_ERR_NOMEM : 0;
	}

	snprintf(path, sizeof(path), "%s/%d/status", root, pid);
	len = read_small(path, buf, READ_MAX);
	if (len <= 0 || strstr(buf, "VmData:") == NULL)
		return 1;
	pi->private_bytes = status_kb(buf, "VmData:") + status_kb(buf, "VmStk:");

	snprintf(path, sizeof(path), "%s/%d/cmdline", root, pid);
	len = read_small(path, buf, READ_MAX);
	if (len < 0)
		len = 0;
	b = base_name(buf, strnlen(buf, (size_t)len), &blen);
	if (blen >= sizeof(pi->argv0_base))
		blen = sizeof(pi->argv0_base) - 1;
	memcpy(pi->argv0_base, b, blen);
	pi->argv0_base[blen] = '\0';
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	for (ssize_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	pi->cmdline = strndup(buf, (size_t)len);
	if (pi->cmdline == NULL)
		return MD_ERR_NOMEM;

	snprintf(path, sizeof(path), "%s/%d/exe", root, pid);
	len = readlink(path, buf, READ_MAX - 1);
	if (len > 0) {
		buf[len] = '\0';
		if (len > 10 && strcmp(buf + len - 10, " (deleted)") == 0)
			buf[len -= 10] = '\0';
		b = base_name(buf, (size_t)len, &blen);
		if (blen >= sizeof(pi->exe_base))
			blen = sizeof(pi->exe_base) - 1;
		memcpy(pi->exe_base, b, blen);
		pi->exe_base[blen] = '\0';
	}

	/* The ptrace-read check of smaps is made at open (Linux 2.6.27+). */
	snprintf(path, sizeof(path), "%s/%d/smaps", root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		pi->readable = 1;
		close(fd);
	}
	return 0;
}

static int
pid_cmp(const void *a, const void *b)
{
	const struct proc_info *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

int
proc_list_read(const char *proc_root, const struct proc_list *prev, struct proc_list *out)
{
	const char *root = proc_root != NULL ? proc_root : "/proc";
	struct proc_list l = {NULL, 0};
	size_t cap = 0;
	struct dirent *de;
	char *buf = NULL;
	DIR *d = NULL;
	int status = 0;

	memset(out, 0, sizeof(*out));
	buf = malloc(READ_MAX);
	if (buf == NULL) {
		status = MD_ERR_NOMEM;
		goto out;
	}
	d = opendir(root);
	if (d == NULL) {
		status = MD_ERR_IO;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid;
		int rc;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid > 0x7fffffff)
			continue;
		if (l.n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct proc_info *v = realloc(l.procs, ncap * sizeof(*v));

			if (v == NULL) {
				status = MD_ERR_NOMEM;
				goto out;
			}
			l.procs = v;
			cap = ncap;
		}
		rc = read_one(root, (int)pid, prev, buf, &l.procs[l.n]);
		if (rc == MD_ERR_NOMEM) {
			status = rc;
			goto out;
		}
		if (rc == 0)
			l.n++;
		else
			free(l.procs[l.n].cmdline);
	}
	/* by pid, for the lookups of the next read (prev_find) */
	qsort(l.procs, l.n, sizeof(*l.procs), pid_cmp);
	*out = l;
	l.procs = NULL;
	l.n = 0;
out:
	proc_list_free(&l);
	if (d != NULL)
		closedir(d);
	free(buf);
	return status;
}
