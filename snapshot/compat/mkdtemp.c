/*
 * mkdtemp.c - mkdtemp(3) for C libraries without it (compat.h): the trailing
 * XXXXXX become letters and digits from the time, the process id and a
 * counter; up to 1,000 names are tried.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#ifdef _WIN32
#include <direct.h>
#include <process.h>
#define make_dir(p) _mkdir(p)
#define get_pid()   _getpid()
#else
#include <sys/stat.h>
#include <unistd.h>
#define make_dir(p) mkdir(p, 0700)
#define get_pid()   getpid()
#endif

#include "snapshot/compat/compat.h"

char *
mkdtemp(char *tmpl)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	static unsigned long counter;
	size_t len = strlen(tmpl);
	char *x;

	if (len < 6 || strcmp(tmpl + len - 6, "XXXXXX") != 0) {
		errno = EINVAL;
		return NULL;
	}
	x = tmpl + len - 6;
	for (int tries = 0; tries < 1000; tries++) {
		unsigned long long v = (unsigned long long)time(NULL) * 2654435761u ^
		                       ((unsigned long long)get_pid() << 20) ^ (++counter * 40503u);

		for (int i = 0; i < 6; i++) {
			x[i] = chars[v % 36];
			v /= 36;
		}
		if (make_dir(tmpl) == 0)
			return tmpl;
		if (errno != EEXIST)
			return NULL;
	}
	errno = EEXIST;
	return NULL;
}
