# web/: libmicrohttpd server, JSON API, the UI embedded at build time.
noinst_LIBRARIES += libmemdelta_web.a
libmemdelta_web_a_SOURCES = %D%/web.h
EXTRA_DIST += %D%/README.md
