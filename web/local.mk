# web/: libmicrohttpd server, JSON API, the UI embedded at build time.
noinst_LIBRARIES += libmemdelta_web.a
libmemdelta_web_a_SOURCES = %D%/web.h %D%/web_int.h %D%/web.c %D%/api.c %D%/metrics.c \
	%D%/web_static.h %D%/web_static.c \
	daemon/cli_render.c daemon/cli_render.h
nodist_libmemdelta_web_a_SOURCES = %D%/web_static_data.c
EXTRA_DIST += %D%/README.md %D%/embed.sh %D%/static

# The UI: every file under web/static/ plus Debian's dygraphs
# (libjs-dygraphs), embedded by web/embed.sh on the build machine.  The rule
# runs on every build; embed.sh rewrites its output only when a file changed.
DYGRAPHS_DIR = /usr/share/javascript/dygraphs
BUILT_SOURCES = %D%/web_static_data.c
CLEANFILES += %D%/web_static_data.c %D%/web_static_data.c.files
%D%/web_static_data.c: web-embed-always
	$(AM_V_GEN)$(MKDIR_P) %D% && \
	$(SHELL) $(srcdir)/%D%/embed.sh $@ $(srcdir)/%D%/static \
		$(DYGRAPHS_DIR)/dygraph.min.js $(DYGRAPHS_DIR)/dygraph.min.css
web-embed-always:
.PHONY: web-embed-always
