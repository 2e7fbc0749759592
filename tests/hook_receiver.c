/*
 * hook_receiver.c - a webhook receiver for tests/test_alerts.sh, written with
 * libmicrohttpd.  Usage: hook_receiver OUTDIR [FAIL_FIRST].  It listens on
 * 127.0.0.1 on a free port, prints "port N" on stdout once ready, and for
 * every POST writes the body byte for byte to OUTDIR/hook-K.json (K = 1, 2,
 * ...) together with its Content-Type in OUTDIR/hook-K.type, answering 200;
 * the first FAIL_FIRST requests are answered 500 instead (and counted in
 * OUTDIR/failed), so the sender's retries are seen.  Anything but POST gets
 * 405.  It exits when stdin reaches end of file, so a test that dies leaves
 * no receiver behind.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

struct body {
	char *data;
	size_t len;
};

static const char *outdir;
static unsigned fail_first, n_requests, n_failed;

static int
save(const char *ext, const char *data, size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	if (snprintf(path, sizeof(path), "%s/hook-%u.%s", outdir, n_requests - n_failed, ext) >=
	    (int)sizeof(path))
		return -1;
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static void
count_failed(void)
{
	char path[4096];
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/failed", outdir) >= (int)sizeof(path))
		return;
	f = fopen(path, "w");
	if (f != NULL) {
		fprintf(f, "%u\n", n_failed);
		fclose(f);
	}
}

static enum MHD_Result
answer(struct MHD_Connection *c, unsigned status)
{
	static const char text[] = "ok\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text,
	                                                         MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
        const char *version, const char *upload, size_t *upload_size, void **state)
{
	struct body *b = *state;
	const char *type;

	(void)cls;
	(void)url;
	(void)version;
	if (strcmp(method, "POST") != 0)
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED);
	if (b == NULL) {
		b = calloc(1, sizeof(*b));
		if (b == NULL)
			return MHD_NO;
		*state = b;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		char *nd = realloc(b->data, b->len + *upload_size);

		if (nd == NULL)
			return MHD_NO;
		memcpy(nd + b->len, upload, *upload_size);
		b->data = nd;
		b->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	n_requests++;
	if (n_failed < fail_first) {
		n_failed++;
		count_failed();
		return answer(c, MHD_HTTP_INTERNAL_SERVER_ERROR);
	}
	type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (save("json", b->data != NULL ? b->data : "", b->len) != 0 ||
	    save("type", type != NULL ? type : "", type != NULL ? strlen(type) : 0) != 0)
		return answer(c, MHD_HTTP_INTERNAL_SERVER_ERROR);
	return answer(c, MHD_HTTP_OK);
}

static void
done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode why)
{
	struct body *b = *state;

	(void)cls;
	(void)c;
	(void)why;
	if (b != NULL) {
		free(b->data);
		free(b);
		*state = NULL;
	}
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa;
	char buf[256];

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: hook_receiver OUTDIR [FAIL_FIRST]\n");
		return 2;
	}
	outdir = argv[1];
	fail_first = argc == 3 ? (unsigned)strtoul(argv[2], NULL, 10) : 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL,
	                     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                     MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "hook_receiver: cannot listen on 127.0.0.1\n");
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL) {
		MHD_stop_daemon(d);
		return 1;
	}
	printf("port %u\n", (unsigned)info->port);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	MHD_stop_daemon(d);
	return 0;
}
