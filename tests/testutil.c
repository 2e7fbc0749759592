/*
 * testutil.c - helpers shared by the Check programs (see testutil.h).
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/compat/compat.h"
#include "tests/testutil.h"

const char *
test_fixture(const char *rel)
{
	static char path[4096];
	const char *root = getenv("MD_FIXTURES");
	int n;

	if (root == NULL || root[0] == '\0')
		root = "tests/fixtures";
	n = snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		fprintf(stderr, "fixture path too long: %s\n", rel);
		abort();
	}
	return path;
}

const char *
test_scratch_dir(void)
{
	static char path[4096];
	const char *tmp = getenv("TMPDIR");
	int n;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	n = snprintf(path, sizeof(path), "%s/memdelta-test-XXXXXX", tmp);
	if (n < 0 || (size_t)n >= sizeof(path) || mkdtemp(path) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return path;
}

/* 1 when @path is a directory (not a link to one, where there are links). */
static int
is_dir(const char *path)
{
	struct stat sb;

#ifdef _WIN32
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
#else
	return lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
#endif
}

void
test_rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (is_dir(path))
			test_rm_rf(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

void
test_skip(const char *why)
{
	printf("SKIP: %s\n", why);
	fflush(stdout);
	exit(TEST_SKIP);
}

void
test_region(struct region *r, uint64_t base, uint64_t size, enum region_type type,
            enum region_state state, unsigned prot, uint64_t committed, uint64_t resident,
            const char *detail)
{
	memset(r, 0, sizeof(*r));
	r->base = base;
	r->allocation_base = base;
	r->size = size;
	r->type = type;
	r->state = state;
	r->protection = prot;
	r->committed = committed;
	r->resident = resident;
	r->detail = detail ? detail : "";
}

char *
test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (cap - n < 65536) {
			char *nb = realloc(buf, cap + 65536 + 1);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}
