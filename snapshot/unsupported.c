/*
 * unsupported.c - snapshot_collect() for platforms without a collector: the
 * parsers, the store, the diff and the CLI's offline commands still work.
 */
#include "config.h"

#include "snapshot/snapshot.h"

int
snapshot_collect(int pid, const struct snapshot_opts *opts, struct snapshot **out)
{
	*out = NULL;
	return MD_ERR_UNSUPPORTED;
}
