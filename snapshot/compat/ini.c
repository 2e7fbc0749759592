/*
 * ini.c - an INI reader with libinih's ini_parse_stream contract and its
 * default syntax (md_ini.h), for builds without libinih (Windows).  Written
 * for memdelta: one line at a time into a fixed buffer of 200 bytes (inih's
 * default INI_MAX_LINE), sections, keys, comments, continuation lines.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "snapshot/compat/md_ini.h"

#define LINE_MAX_BYTES 200
#define NAME_MAX_BYTES 50

static char *
skip_space(char *s)
{
	while (*s != '\0' && isspace((unsigned char)*s))
		s++;
	return s;
}

static void
trim_end(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* Copy @src into @dst (room @cap), cut to fit, as inih does with names. */
static void
copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The first of @stop in @s, or the start of a ';' comment that follows
 * whitespace, or the end of @s. */
static char *
find_stop(char *s, const char *stop)
{
	int after_space = 0;

	for (; *s != '\0'; s++) {
		if (stop != NULL && strchr(stop, *s) != NULL)
			break;
		if (after_space && *s == ';')
			break;
		after_space = isspace((unsigned char)*s);
	}
	return s;
}

int
ini_parse_stream(ini_reader reader, void *stream, ini_handler handler, void *user)
{
	char line[LINE_MAX_BYTES];
	char section[NAME_MAX_BYTES] = "";
	char prev_name[NAME_MAX_BYTES] = "";
	int lineno = 0, error = 0;

	while (reader(line, (int)sizeof(line), stream) != NULL) {
		char *start = line, *end;

		lineno++;
		if (lineno == 1 && (unsigned char)start[0] == 0xEF &&
		    (unsigned char)start[1] == 0xBB && (unsigned char)start[2] == 0xBF)
			start += 3;
		trim_end(start);
		{
			char *s = skip_space(start);
			int indented = s > start;

			start = s;
			if (*start == ';' || *start == '#' || *start == '\0')
				continue;
			if (indented && prev_name[0] != '\0') {
				/* A continuation of the previous key's value. */
				end = find_stop(start, NULL);
				*end = '\0';
				trim_end(start);
				if (!handler(user, section, prev_name, start) && error == 0)
					error = lineno;
				continue;
			}
		}
		if (*start == '[') {
			end = find_stop(start + 1, "]");
			if (*end == ']') {
				*end = '\0';
				copy_cut(section, sizeof(section), start + 1);
				prev_name[0] = '\0';
			} else if (error == 0) {
				error = lineno;
			}
			continue;
		}
		end = find_stop(start, "=:");
		if (*end == '=' || *end == ':') {
			char *value;

			*end = '\0';
			trim_end(start);
			value = end + 1;
			end = find_stop(value, NULL);
			*end = '\0';
			value = skip_space(value);
			trim_end(value);
			copy_cut(prev_name, sizeof(prev_name), start);
			if (!handler(user, section, start, value) && error == 0)
				error = lineno;
		} else if (error == 0) {
			error = lineno;
		}
	}
	return error;
}
