/*
 * http_serve.c - memdeltad's web server alone (web_start, as the daemon
 * starts it: read-only SQLite handles, the default thread pool and limits)
 * on an existing database, with no scheduler writing to it, for
 * bench/http_queries.sh.  It prints "listening PORT" once the server
 * accepts connections and serves until its stdin reaches end of file.
 *
 * Usage: http_serve DBPATH PORT   (on 127.0.0.1)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot/mderr.h"
#include "web/web.h"

int
main(int argc, char **argv)
{
	struct web_config cfg;
	struct web *w = NULL;
	const char *why = NULL;
	char buf[256];
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DBPATH PORT\n", argv[0]);
		return 2;
	}
	if (access(argv[1], R_OK) != 0) {
		fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[1]);
		return 2;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = argv[1];
	cfg.port = (uint16_t)strtoul(argv[2], NULL, 10);
	if (cfg.port == 0) {
		fprintf(stderr, "%s: bad PORT '%s'\n", argv[0], argv[2]);
		return 2;
	}
	rc = web_start(&cfg, &w, &why);
	if (rc != 0) {
		fprintf(stderr, "%s: web_start: %s (%s)\n", argv[0], md_strerror(rc),
		        why != NULL ? why : "");
		return 1;
	}
	printf("listening %u\n", (unsigned)web_port(w));
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	web_stop(w);
	return 0;
}
