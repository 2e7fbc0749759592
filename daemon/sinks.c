/*
 * sinks.c - delivery of alerts (sinks.h).  One worker thread per configured
 * sink takes alerts from a ring buffer guarded by a mutex; sinks_send()
 * only copies the alert into each ring (dropping the oldest when one is
 * full) and signals.  The command sink runs the configured program with
 * posix_spawn (execve underneath, no shell, its own process group, default
 * signal mask and dispositions, descriptors 3 and up closed), writes the
 * JSON to its stdin without ever blocking past the timeout, then waits for
 * it until the timeout and kills the group.  The webhook POSTs with libcurl
 * (http and https only, no redirects) and retries a failed POST after 1 s,
 * 2 s, 4 s, ... up to webhook_retries times; a stop cuts the backoff short.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "daemon/log.h"
#include "daemon/sinks.h"
#include "snapshot/mderr.h"

extern char **environ;

#define HOOK_BACKOFF_FIRST_MS 1000
#define HOOK_BACKOFF_MAX_MS   60000
#define EXEC_POLL_MS          10

struct sink_msg {
	char *json;
	char *summary;
	int resolved;
};

struct sink {
	struct sinks *owner;
	enum sink_kind kind;
	pthread_t thread;
	int started;
	struct sink_msg *ring; /* queue_len slots */
	unsigned head, count;
	int busy; /* one message in delivery */
	uint64_t delivered, failed, dropped;
	int drop_logged;
};

struct sinks {
	struct alert_sinks_config k; /* exec_args shared with k_args below */
	char *args[CONFIG_EXEC_ARGS_MAX + 2];
	pthread_mutex_t mu;
	pthread_cond_t cv; /* work queued or stop */
	int stop;
	int curl_ready;
	struct sink sink[SINK_KIND_COUNT];
};

static const char *const sink_names[SINK_KIND_COUNT] = {"exec", "webhook", "syslog"};

static void
msg_free(struct sink_msg *m)
{
	free(m->json);
	free(m->summary);
	memset(m, 0, sizeof(*m));
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep @ms unless the sinks stop first; returns 1 when stopping. */
static int
sleep_unless_stopped(struct sinks *s, int64_t ms)
{
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->mu);
	while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0)
		;
	stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

/* ---- exec ------------------------------------------------------------------ */

/* Write @len bytes of @buf to non-blocking @fd until @deadline (monotonic
 * ms).  0, or -1 when the reader went away or time ran out. */
static int
write_until(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		struct pollfd pf = {fd, POLLOUT, 0};
		int64_t left = deadline - mono_ms();
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
				 * SIGPIPE this thread blocks (see worker) */
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

static int
exec_deliver(struct sinks *s, const struct sink_msg *m)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int p[2] = {-1, -1}, st = 0, rc, ok = 0, fa_init = 0, attr_init = 0, waited = 0;
	int64_t deadline = mono_ms() + (int64_t)s->k.exec_timeout_s * 1000;
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
		rc = posix_spawn(&pid, s->k.exec_path, &fa, &attr, s->args, environ);
	if (rc != 0) {
		pid = -1;
		log_warn("alert command %s: %s", s->k.exec_path, strerror(rc));
		goto out;
	}
	close(p[0]);
	p[0] = -1;
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) != 0 ||
	    write_until(p[1], m->json, strlen(m->json), deadline) != 0 ||
	    write_until(p[1], "\n", 1, deadline) != 0)
		log_debug("alert command %s: it did not read the whole alert", s->k.exec_path);
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
		if (mono_ms() >= deadline)
			break;
		(void)poll(NULL, 0, EXEC_POLL_MS);
	}
	if (!waited) {
		log_warn("alert command %s: no exit after %u s: killed", s->k.exec_path,
		         s->k.exec_timeout_s);
		(void)kill(-pid, SIGKILL);
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		ok = 1;
	} else if (WIFEXITED(st)) {
		log_warn("alert command %s: exit status %d", s->k.exec_path, WEXITSTATUS(st));
	} else {
		log_warn("alert command %s: killed by signal %d", s->k.exec_path,
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

/* One POST: 1 on a 2xx answer. */
static int
hook_post(struct sinks *s, const struct sink_msg *m, char *why, size_t whylen)
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
		rc = curl_easy_setopt(h, CURLOPT_URL, s->k.webhook_url);
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
		rc = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)s->k.webhook_timeout_s * 1000L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, m->json);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(m->json));
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_USERAGENT, "memdeltad/" PACKAGE_VERSION);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
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

static int
hook_deliver(struct sinks *s, const struct sink_msg *m)
{
	int64_t backoff = HOOK_BACKOFF_FIRST_MS;
	char why[256];

	for (unsigned attempt = 0;; attempt++) {
		if (hook_post(s, m, why, sizeof(why)))
			return 1;
		if (attempt >= s->k.webhook_retries) {
			log_warn("webhook %s: %s; gave up after %u attempt(s)", s->k.webhook_url,
			         why, attempt + 1);
			return 0;
		}
		log_debug("webhook %s: %s; again in %lld ms", s->k.webhook_url, why,
		          (long long)backoff);
		if (sleep_unless_stopped(s, backoff))
			return 0;
		backoff = backoff * 2 > HOOK_BACKOFF_MAX_MS ? HOOK_BACKOFF_MAX_MS : backoff * 2;
	}
}

/* ---- syslog ------------------------------------------------------------------ */

static int
syslog_deliver(const struct sink_msg *m)
{
	syslog(LOG_DAEMON | (m->resolved ? LOG_NOTICE : LOG_WARNING), "memdelta alert: %s %s",
	       m->summary, m->json);
	return 1;
}

/* ---- workers ----------------------------------------------------------------- */

static void *
worker(void *arg)
{
	struct sink *k = arg;
	struct sinks *s = k->owner;
	unsigned cap = s->k.queue_len;
	sigset_t pipe_set;

	/* A command that closes its stdin, a peer that closes the connection:
	 * errors to handle, not a reason to die, whatever the process does
	 * with SIGPIPE. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
	for (;;) {
		struct sink_msg m;
		int ok;

		pthread_mutex_lock(&s->mu);
		while (!s->stop && k->count == 0)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		m = k->ring[k->head];
		memset(&k->ring[k->head], 0, sizeof(m));
		k->head = (k->head + 1) % cap;
		k->count--;
		k->busy = 1;
		pthread_mutex_unlock(&s->mu);

		switch (k->kind) {
		case SINK_EXEC:
			ok = exec_deliver(s, &m);
			break;
		case SINK_WEBHOOK:
			ok = hook_deliver(s, &m);
			break;
		default:
			ok = syslog_deliver(&m);
			break;
		}
		msg_free(&m);
		pthread_mutex_lock(&s->mu);
		k->busy = 0;
		if (ok)
			k->delivered++;
		else
			k->failed++;
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

static int
configured(const struct alert_sinks_config *k, enum sink_kind kind)
{
	switch (kind) {
	case SINK_EXEC:
		return k->exec_path[0] != '\0';
	case SINK_WEBHOOK:
		return k->webhook_url[0] != '\0';
	default:
		return k->syslog;
	}
}

int
sinks_new(const struct alert_sinks_config *k, struct sinks **out)
{
	struct sinks *s;
	int status = 0;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return MD_ERR_NOMEM;
	s->k = *k;
	s->k.n_exec_args = 0; /* the copies below are ours, k's stay k's */
	pthread_mutex_init(&s->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (s->k.queue_len == 0)
		s->k.queue_len = CONFIG_DEFAULT_SINK_QUEUE;
	s->args[0] = s->k.exec_path;
	for (size_t i = 0; i < k->n_exec_args; i++) {
		s->args[i + 1] = strdup(k->exec_args[i]);
		if (s->args[i + 1] == NULL) {
			status = MD_ERR_NOMEM;
			goto out;
		}
		s->k.exec_args[i] = s->args[i + 1];
		s->k.n_exec_args = i + 1;
	}
	s->args[k->n_exec_args + 1] = NULL;
	if (configured(k, SINK_WEBHOOK)) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			status = MD_ERR_NOMEM;
			goto out;
		}
		s->curl_ready = 1;
	}
	for (int i = 0; i < SINK_KIND_COUNT; i++) {
		struct sink *w = &s->sink[i];

		w->owner = s;
		w->kind = (enum sink_kind)i;
		if (!configured(k, w->kind))
			continue;
		w->ring = calloc(s->k.queue_len, sizeof(*w->ring));
		if (w->ring == NULL) {
			status = MD_ERR_NOMEM;
			goto out;
		}
		if (pthread_create(&w->thread, NULL, worker, w) != 0) {
			status = MD_ERR_IO;
			goto out;
		}
		w->started = 1;
	}
out:
	if (status != 0) {
		sinks_free(s);
		return status;
	}
	*out = s;
	return 0;
}

void
sinks_free(struct sinks *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < SINK_KIND_COUNT; i++) {
		struct sink *w = &s->sink[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->count > 0)
			log_warn("alert sink %s: %u alert(s) not delivered at stop", sink_names[i],
			         w->count);
		for (unsigned j = 0; w->ring != NULL && j < s->k.queue_len; j++)
			msg_free(&w->ring[j]);
		free(w->ring);
	}
	for (size_t i = 0; i < s->k.n_exec_args; i++)
		free(s->k.exec_args[i]);
	if (s->curl_ready)
		curl_global_cleanup();
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void
sinks_send(struct sinks *s, const char *json, const char *summary, int resolved)
{
	if (resolved)
		log_info("alert: %s", summary);
	else
		log_warn("alert: %s", summary);
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < SINK_KIND_COUNT; i++) {
		struct sink *w = &s->sink[i];
		struct sink_msg m = {strdup(json), strdup(summary), resolved};
		unsigned cap = s->k.queue_len;

		if (!w->started) {
			msg_free(&m);
			continue;
		}
		if (m.json == NULL || m.summary == NULL) {
			msg_free(&m);
			w->dropped++;
			continue;
		}
		if (w->count == cap) {
			/* full: the oldest goes */
			msg_free(&w->ring[w->head]);
			w->head = (w->head + 1) % cap;
			w->count--;
			w->dropped++;
			if (!w->drop_logged)
				log_warn("alert sink %s is behind: its queue of %u is full, the "
				         "oldest alerts are dropped",
				         sink_names[i], cap);
			w->drop_logged = 1;
		}
		w->ring[(w->head + w->count) % cap] = m;
		w->count++;
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void
sinks_stats(struct sinks *s, enum sink_kind kind, struct sink_stats *out)
{
	struct sink *w;

	memset(out, 0, sizeof(*out));
	if (s == NULL || kind < 0 || kind >= SINK_KIND_COUNT)
		return;
	w = &s->sink[kind];
	pthread_mutex_lock(&s->mu);
	out->configured = w->started;
	out->delivered = w->delivered;
	out->failed = w->failed;
	out->dropped = w->dropped;
	out->queued = w->count + (unsigned)w->busy;
	pthread_mutex_unlock(&s->mu);
}
