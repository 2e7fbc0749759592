# web/: libmicrohttpd server, JSON API, embedded UI (the daemon issue).
EXTRA_DIST += %D%/README.md
