/*
 * getline.c - getline(3) for C libraries without it (compat.h).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "snapshot/compat/compat.h"

ssize_t
getline(char **lineptr, size_t *n, FILE *f)
{
	size_t len = 0;
	int c;

	if (lineptr == NULL || n == NULL) {
		errno = EINVAL;
		return -1;
	}
	while ((c = fgetc(f)) != EOF) {
		if (len + 2 > *n || *lineptr == NULL) {
			size_t ncap = *n < 128 ? 128 : *n * 2;
			char *v;

			if (ncap > SIZE_MAX / 2) {
				errno = EOVERFLOW;
				return -1;
			}
			v = realloc(*lineptr, ncap);
			if (v == NULL) {
				errno = ENOMEM;
				return -1;
			}
			*lineptr = v;
			*n = ncap;
		}
		(*lineptr)[len++] = (char)c;
		if (c == '\n')
			break;
	}
	if (len == 0)
		return -1;
	(*lineptr)[len] = '\0';
	return (ssize_t)len;
}
