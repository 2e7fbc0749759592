/*
 * sinks_posix.c - sinks_os.h on POSIX.  The command runs with posix_spawn
 * (execve underneath, no shell, its own process group, default signal mask
 * and dispositions, descriptors 3 and up closed); the JSON goes to its stdin
 * through a non-blocking pipe, never blocking past the timeout; then it is
 * waited for until the timeout (or the daemon's stop: the cut flag) and
 * its group is killed.  The webhook POSTs with libcurl (http and https
 * only, no redirects; a progress callback watches the cut flag).  syslog(3) writes the
 * syslog sink's records.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "daemon/log.h"
#include "daemon/sinks_os.h"
#include "snapshot/mderr.h"

extern char **environ;

#define EXEC_POLL_MS 10

int
sinks_os_init(int http, int syslog_sink)
{
	(void)syslog_sink; /* openlog is the log's (log_init), syslog(3) works without */
	if (http && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return MD_ERR_NOMEM;
	return 0;
}

void
sinks_os_cleanup(int http, int syslog_sink)
{
	(void)syslog_sink;
	if (http)
		curl_global_cleanup();
}

void
sinks_os_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

void
sinks_os_deadline(int64_t ms, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

int64_t
sinks_os_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sinks_os_worker_init(void)
{
	sigset_t pipe_set;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
}

/* ---- exec ------------------------------------------------------------------ */

/* Write @len bytes of @buf to non-blocking @fd until @deadline (monotonic
 * ms).  0, or -1 when the reader went away or time ran out. */
static int
write_until(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		struct pollfd pf = {fd, POLLOUT, 0};
		int64_t left = deadline - sinks_os_now_ms();
		ssize_t n;

		if (left <= 0)
			return -1;
		if (poll(&pf, 1, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
			return -1;
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == EPIPE) {
				/* the command does not read its input: take the
				 * SIGPIPE this thread blocks (sinks_os_worker_init) */
				sigset_t pipe_set;
				struct timespec zero = {0, 0};

				sigemptyset(&pipe_set);
				sigaddset(&pipe_set, SIGPIPE);
				(void)sigtimedwait(&pipe_set, NULL, &zero);
			}
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
sinks_os_exec(char *const argv[], const char *json, unsigned timeout_s, const atomic_int *cut)
{
	const char *path = argv[0];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int p[2] = {-1, -1}, st = 0, rc, ok = 0, fa_init = 0, attr_init = 0, waited = 0,
	    was_cut = 0;
	int64_t deadline = sinks_os_now_ms() + (int64_t)timeout_s * 1000;
	pid_t pid = -1;

	if (pipe2(p, O_CLOEXEC) != 0) {
		log_warn("alert command: pipe: %s", strerror(errno));
		goto out;
	}
	sigemptyset(&none);
	sigfillset(&all);
	rc = posix_spawn_file_actions_init(&fa);
	fa_init = rc == 0;
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (rc == 0)
		rc = posix_spawnattr_init(&attr);
	attr_init = rc == 0;
	/* The daemon blocks SIGTERM/SIGINT/SIGHUP and ignores SIGPIPE: the
	 * command starts with neither, in a process group of its own so
	 * that a timeout kills whatever it started too. */
	if (rc == 0)
		rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
		                                             POSIX_SPAWN_SETSIGDEF |
		                                             POSIX_SPAWN_SETPGROUP);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&attr, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&attr, &all);
	if (rc == 0)
		rc = posix_spawnattr_setpgroup(&attr, 0);
	if (rc == 0)
		rc = posix_spawn(&pid, path, &fa, &attr, argv, environ);
	if (rc != 0) {
		pid = -1;
		log_warn("alert command %s: %s", path, strerror(rc));
		goto out;
	}
	close(p[0]);
	p[0] = -1;
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) != 0 ||
	    write_until(p[1], json, strlen(json), deadline) != 0 ||
	    write_until(p[1], "\n", 1, deadline) != 0)
		log_debug("alert command %s: it did not read the whole alert", path);
	close(p[1]);
	p[1] = -1;
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid) {
			waited = 1;
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
		if (sinks_os_now_ms() >= deadline)
			break;
		if (cut != NULL && atomic_load(cut)) {
			was_cut = 1;
			break;
		}
		(void)poll(NULL, 0, EXEC_POLL_MS);
	}
	if (!waited) {
		if (was_cut)
			log_warn("alert command %s: still running when memdeltad stops: killed",
			         path);
		else
			log_warn("alert command %s: no exit after %u s: killed", path, timeout_s);
		(void)kill(-pid, SIGKILL);
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		ok = 1;
	} else if (WIFEXITED(st)) {
		log_warn("alert command %s: exit status %d", path, WEXITSTATUS(st));
	} else {
		log_warn("alert command %s: killed by signal %d", path,
		         WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	}
out:
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_init)
		posix_spawnattr_destroy(&attr);
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	return ok;
}

/* ---- webhook ----------------------------------------------------------------- */

static size_t
discard_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

/* libcurl calls it about once a second, and at every transfer of data:
 * non-zero abandons the POST (the daemon stops). */
static int
post_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load((const atomic_int *)arg) != 0;
}

int
sinks_os_http_post(const char *url, const char *body, size_t len, unsigned timeout_s,
                   const atomic_int *cut, char *why, size_t whylen)
{
	struct curl_slist *hdr = NULL;
	CURL *h = curl_easy_init();
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	long code = 0;

	why[0] = '\0';
	if (h == NULL) {
		snprintf(why, whylen, "out of memory");
		return 0;
	}
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (hdr != NULL)
		rc = curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string form replaces the bitmask */
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_PROTOCOLS,
		                      (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_s * 1000L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_USERAGENT, "memdeltad/" PACKAGE_VERSION);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
	if (rc == CURLE_OK && cut != NULL) {
		rc = curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, post_progress);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)cut);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
	if (rc == CURLE_OK)
		rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		rc = curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK)
		snprintf(why, whylen, "%s", curl_easy_strerror(rc));
	else if (code < 200 || code > 299)
		snprintf(why, whylen, "HTTP status %ld", code);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return rc == CURLE_OK && code >= 200 && code <= 299;
}

/* ---- syslog ------------------------------------------------------------------ */

void
sinks_os_syslog(int resolved, const char *summary, const char *json)
{
	syslog(LOG_DAEMON | (resolved ? LOG_NOTICE : LOG_WARNING), "memdelta alert: %s %s", summary,
	       json);
}
