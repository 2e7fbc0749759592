/*
 * unsupported.c - snapshot_collect() and snapshot_record_raw() for platforms
 * without a collector: the parsers, the store, the diff and the CLI's offline
 * commands still work.
 */
#include "config.h"

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
