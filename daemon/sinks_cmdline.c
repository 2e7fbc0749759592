/*
 * sinks_cmdline.c - argv to a Windows command line (sinks_cmdline.h).  The C
 * runtime's parser, which the quoting here inverts: outside quotes a blank
 * (space or tab) ends an argument; a quote opens or closes a quoted part;
 * 2n backslashes before a quote are n backslashes and the quote is a
 * delimiter, 2n+1 are n backslashes and a literal quote; backslashes not
 * before a quote are literal.  Arguments with a newline or a vertical tab
 * are quoted too: harmless for the runtime, and safe for parsers that split
 * on any white space.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/sinks_cmdline.h"
#include "snapshot/mderr.h"

static int
needs_quotes(const char *a)
{
	return a[0] == '\0' || strpbrk(a, " \t\n\v\"") != NULL;
}

/* Append @a quoted by the argument rules to @p; returns the end.  @p has
 * room for 2 * strlen(a) + 2 bytes (every character doubled at worst, the
 * two quotes). */
static char *
put_quoted(char *p, const char *a)
{
	*p++ = '"';
	for (;;) {
		size_t n = 0;

		while (a[n] == '\\')
			n++;
		if (a[n] == '\0') {
			/* before the closing quote: doubled */
			memset(p, '\\', 2 * n);
			p += 2 * n;
			break;
		}
		if (a[n] == '"') {
			memset(p, '\\', 2 * n + 1);
			p += 2 * n + 1;
		} else {
			memset(p, '\\', n);
			p += n;
		}
		*p++ = a[n];
		a += n + 1;
	}
	*p++ = '"';
	return p;
}

int
sinks_cmdline_build(const char *const argv[], char **out)
{
	size_t cap = 1;
	char *buf, *p;

	*out = NULL;
	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0' || strchr(argv[0], '"') != NULL)
		return MD_ERR_INVAL;
	for (size_t i = 0; argv[i] != NULL; i++) {
		size_t len = strlen(argv[i]);

		if (len > (SIZE_MAX - cap) / 2 - 3)
			return MD_ERR_NOMEM;
		cap += 2 * len + 3; /* doubled, two quotes, a separator */
	}
	buf = malloc(cap);
	if (buf == NULL)
		return MD_ERR_NOMEM;
	p = buf;
	/* argv[0]: the program name ends at the next quote, no escapes. */
	if (strpbrk(argv[0], " \t") != NULL) {
		size_t len = strlen(argv[0]);

		*p++ = '"';
		memcpy(p, argv[0], len);
		p += len;
		*p++ = '"';
	} else {
		size_t len = strlen(argv[0]);

		memcpy(p, argv[0], len);
		p += len;
	}
	for (size_t i = 1; argv[i] != NULL; i++) {
		*p++ = ' ';
		if (needs_quotes(argv[i])) {
			p = put_quoted(p, argv[i]);
		} else {
			size_t len = strlen(argv[i]);

			memcpy(p, argv[i], len);
			p += len;
		}
	}
	*p = '\0';
	*out = buf;
	return 0;
}
