/*
 * unsupported.c - snapshot_collect(), snapshot_record_raw() and snapshot_probe()
 * for platforms without a collector: the parsers, the store, the diff and the
 * CLI's offline commands still work; the daemon always collects.
 */
#include "config.h"

#include <string.h>

#include "snapshot/snapshot.h"

int
snapshot_collect(int pid, const struct snapshot_opts *opts, struct snapshot **out)
{
	*out = NULL;
	return MD_ERR_UNSUPPORTED;
}

int
snapshot_record_raw(int pid, FILE *out)
{
	(void)pid;
	(void)out;
	return MD_ERR_UNSUPPORTED;
}

int
snapshot_probe(int pid, const struct snapshot_opts *opts, unsigned what, struct snapshot_probe *out)
{
	(void)pid;
	(void)opts;
	(void)what;
	memset(out, 0, sizeof(*out));
	return MD_ERR_UNSUPPORTED;
}
