/*
 * fmemopen.c - fmemopen(3) for reading, for C libraries without it
 * (compat.h): the bytes go to tmpfile() and the stream is rewound.  Only the
 * tests' configuration strings use it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "snapshot/compat/compat.h"

FILE *
fmemopen(void *buf, size_t size, const char *mode)
{
	FILE *f;

	if (mode[0] != 'r') {
		errno = EINVAL;
		return NULL;
	}
	f = tmpfile();
	if (f == NULL)
		return NULL;
	if ((size > 0 && fwrite(buf, 1, size, f) != size) || fflush(f) != 0) {
		fclose(f);
		errno = EIO;
		return NULL;
	}
	rewind(f);
	return f;
}
