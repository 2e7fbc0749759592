/*
 * targets.c - the matching of targets against memdeltad's process list
 * (targets.h): target_matches() and targets_top() are pure.  The list is
 * read per OS: proclist_linux.c (/proc), proclist_windows.c (Toolhelp32).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/targets.h"

void
proc_list_free(struct proc_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->procs[i].cmdline);
	free(l->procs);
	l->procs = NULL;
	l->n = 0;
}

int
target_matches(const struct config_target *t, const struct proc_info *p, int self_pid)
{
	switch (t->kind) {
	case TARGET_PID:
		return t->pid == p->pid;
	case TARGET_NAME:
		if (p->pid == self_pid)
			return 0;
		return strcmp(t->match, p->comm) == 0 || strcmp(t->match, p->argv0_base) == 0 ||
		       strcmp(t->match, p->exe_base) == 0;
	case TARGET_CMDLINE:
		if (p->pid == self_pid || !t->have_re)
			return 0;
		return regexec(&t->re, p->cmdline != NULL ? p->cmdline : "", 0, NULL, 0) == 0;
	}
	return 0;
}

size_t
targets_top(const struct proc_list *l, unsigned top, int self_pid, size_t *idx)
{
	size_t n = 0;

	/* Insertion into a sorted array of at most @top entries. */
	for (size_t i = 0; i < l->n && top > 0; i++) {
		const struct proc_info *p = &l->procs[i];
		size_t j;

		if (!p->readable || p->pid == self_pid)
			continue;
		for (j = n; j > 0; j--) {
			const struct proc_info *q = &l->procs[idx[j - 1]];

			if (q->private_bytes > p->private_bytes ||
			    (q->private_bytes == p->private_bytes && q->pid < p->pid))
				break;
		}
		if (j >= top)
			continue;
		if (n < top)
			n++;
		memmove(&idx[j + 1], &idx[j], (n - 1 - j) * sizeof(*idx));
		idx[j] = i;
	}
	return n;
}
