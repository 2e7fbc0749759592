/*
 * web_static.h - the UI files embedded into the binary at build time
 * (web/embed.sh writes the table into web_static_data.c in the build
 * directory) and their HTTP Content-Type.
 */
#ifndef MEMDELTA_WEB_STATIC_H
#define MEMDELTA_WEB_STATIC_H

#include <stddef.h>

struct web_static_file {
	const char *path; /* URL path: "/index.html", "/dygraph.min.js" */
	const unsigned char *data;
	size_t len;
};

extern const struct web_static_file web_static_files[];
extern const size_t web_static_count;

/* The embedded file served at URL path @path ("/" is "/index.html"), or NULL. */
const struct web_static_file *web_static_find(const char *path);

/* The Content-Type of @path, by its extension (never NULL). */
const char *web_static_content_type(const char *path);

#endif
