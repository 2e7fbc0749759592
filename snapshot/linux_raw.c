/*
 * linux_raw.c - snapshot_record_raw() on Linux: copies /proc/PID/stat,
 * /proc/PID/status and /proc/PID/smaps, unparsed, each after a "==> NAME <=="
 * line, so a process's address space can be kept as a test fixture with
 * `memdelta snapshot --raw PID` (the fixture scripts under tests/fixtures/
 * split it back into files).  All three files are read before anything is
 * written: an error leaves the output untouched.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snapshot.h"

/* Read /proc/@pid/@name whole into a new buffer (*@buf, *@len). */
static int
slurp(int pid, const char *name, char **buf, size_t *len)
{
	char path[64];
	char *b = NULL, *nb;
	size_t n = 0, cap = 0, got;
	FILE *f = NULL;
	int rc = 0;

	*buf = NULL;
	*len = 0;
	if ((size_t)snprintf(path, sizeof(path), "/proc/%d/%s", pid, name) >= sizeof(path))
		return MD_ERR_INVAL;
	f = fopen(path, "re");
	if (f == NULL)
		return md_status_of_errno(errno);
	for (;;) {
		if (cap - n < 65536) {
			nb = realloc(b, cap * 2 + 65536);
			if (nb == NULL) {
				rc = MD_ERR_NOMEM;
				goto out;
			}
			b = nb;
			cap = cap * 2 + 65536;
		}
		got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = md_status_of_errno(errno);
		goto out;
	}
	*buf = b;
	*len = n;
	b = NULL;
out:
	free(b);
	fclose(f);
	return rc;
}

int
snapshot_record_raw(int pid, FILE *out)
{
	static const char *const names[] = {"stat", "status", "smaps"};
	char *bufs[3] = {NULL, NULL, NULL};
	size_t lens[3] = {0, 0, 0}, i;
	int rc = 0;

	if (pid <= 0)
		return MD_ERR_INVAL;
	for (i = 0; i < 3 && rc == 0; i++)
		rc = slurp(pid, names[i], &bufs[i], &lens[i]);
	/* A process that exited leaves empty files behind an open directory. */
	if (rc == 0 && lens[0] == 0)
		rc = MD_ERR_NOPROC;
	for (i = 0; i < 3 && rc == 0; i++) {
		if (fprintf(out, "==> %s <==\n", names[i]) < 0 ||
		    fwrite(bufs[i], 1, lens[i], out) != lens[i])
			rc = MD_ERR_IO;
	}
	if (rc == 0 && fflush(out) != 0)
		rc = MD_ERR_IO;
	for (i = 0; i < 3; i++)
		free(bufs[i]);
	return rc;
}
