/*
 * web_static.c - lookup of the embedded UI files (web_static.h) and the
 * Content-Type of each by its extension.
 */
#include "config.h"

#include <string.h>

#include "web/web_static.h"

const struct web_static_file *
web_static_find(const char *path)
{
	size_t i;

	if (strcmp(path, "/") == 0)
		path = "/index.html";
	for (i = 0; i < web_static_count; i++) {
		if (strcmp(web_static_files[i].path, path) == 0)
			return &web_static_files[i];
	}
	return NULL;
}

const char *
web_static_content_type(const char *path)
{
	static const struct {
		const char *ext;
		const char *type;
	} types[] = {
	        {".html", "text/html; charset=utf-8"},
	        {".js", "text/javascript; charset=utf-8"},
	        {".mjs", "text/javascript; charset=utf-8"},
	        {".css", "text/css; charset=utf-8"},
	        {".json", "application/json"},
	        {".map", "application/json"},
	        {".svg", "image/svg+xml"},
	        {".png", "image/png"},
	        {".ico", "image/x-icon"},
	        {".woff2", "font/woff2"},
	        {".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	if (dot != NULL && strchr(dot, '/') == NULL) {
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			if (strcmp(dot, types[i].ext) == 0)
				return types[i].type;
		}
	}
	return "application/octet-stream";
}
