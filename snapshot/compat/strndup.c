/*
 * strndup.c - strndup(3) for C libraries without it (compat.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "snapshot/compat/compat.h"

char *
strndup(const char *s, size_t n)
{
	size_t len = 0;
	char *d;

	while (len < n && s[len] != '\0')
		len++;
	d = malloc(len + 1);
	if (d == NULL)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}
