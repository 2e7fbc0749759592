/*
 * sinks.c - delivery of alerts (sinks.h), the part common to every OS.  One
 * worker thread per configured sink takes alerts from a ring buffer guarded
 * by a mutex; sinks_send() only copies the alert into each ring (dropping
 * the oldest when one is full) and signals.  The webhook retries a failed
 * POST after 1 s, 2 s, 4 s, ... (at most 60 s) up to webhook_retries times;
 * a stop cuts the backoff short.  Running the command, the POST itself and
 * the system log are the OS's (sinks_os.h: sinks_posix.c, sinks_windows.c).
 * A retired set (sinks_retire: SIGHUP replaced it) is stopped without
 * waiting and joined by a detached reaper thread; the retired sets still
 * running are listed, so that the daemon's stop can wait for them, bounded,
 * and cut them short (sinks_retired_wait).
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "daemon/sinks.h"
#include "daemon/sinks_os.h"
#include "snapshot/mderr.h"

#define HOOK_BACKOFF_FIRST_MS 1000
#define HOOK_BACKOFF_MAX_MS   60000

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
	atomic_int cut;             /* the daemon stops: kill the command, abandon the POST */
	struct sinks *next_retired; /* on the retired list (retired_mu) */
	int os_ready;               /* sinks_os_init succeeded */
	int os_http, os_syslog;
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

/* Sleep @ms unless the sinks stop first; returns 1 when stopping. */
static int
sleep_unless_stopped(struct sinks *s, int64_t ms)
{
	struct timespec ts;
	int stop;

	sinks_os_deadline(ms, &ts);
	pthread_mutex_lock(&s->mu);
	while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0)
		;
	stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

/* ---- webhook ----------------------------------------------------------------- */

static int
hook_deliver(struct sinks *s, const struct sink_msg *m)
{
	int64_t backoff = HOOK_BACKOFF_FIRST_MS;
	size_t len = strlen(m->json);
	char why[256];

	for (unsigned attempt = 0;; attempt++) {
		if (sinks_os_http_post(s->k.webhook_url, m->json, len, s->k.webhook_timeout_s,
		                       &s->cut, why, sizeof(why)))
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

/* ---- workers ----------------------------------------------------------------- */

static void *
worker(void *arg)
{
	struct sink *k = arg;
	struct sinks *s = k->owner;
	unsigned cap = s->k.queue_len;

	sinks_os_worker_init();
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
			ok = sinks_os_exec(s->args, m.json, s->k.exec_timeout_s, &s->cut);
			break;
		case SINK_WEBHOOK:
			ok = hook_deliver(s, &m);
			break;
		default:
			sinks_os_syslog(m.resolved, m.summary, m.json);
			ok = 1;
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
	sinks_os_cond_init(&s->cv);
	atomic_init(&s->cut, 0);
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
	s->os_http = configured(k, SINK_WEBHOOK);
	s->os_syslog = configured(k, SINK_SYSLOG);
	status = sinks_os_init(s->os_http, s->os_syslog);
	if (status != 0)
		goto out;
	s->os_ready = 1;
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

/* Stop @s and wait for its workers. */
static void
stop_and_join(struct sinks *s)
{
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < SINK_KIND_COUNT; i++)
		if (s->sink[i].started) {
			pthread_join(s->sink[i].thread, NULL);
			s->sink[i].started = 0;
		}
}

/* Free a stopped @s; the OS clean-up only when @os_cleanup (a reaper leaves
 * it to the creating thread). */
static void
free_stopped(struct sinks *s, int os_cleanup)
{
	for (int i = 0; i < SINK_KIND_COUNT; i++) {
		struct sink *w = &s->sink[i];

		if (w->count > 0)
			log_warn("alert sink %s: %u alert(s) not delivered at stop", sink_names[i],
			         w->count);
		for (unsigned j = 0; w->ring != NULL && j < s->k.queue_len; j++)
			msg_free(&w->ring[j]);
		free(w->ring);
	}
	for (size_t i = 0; i < s->k.n_exec_args; i++)
		free(s->k.exec_args[i]);
	if (s->os_ready && os_cleanup)
		sinks_os_cleanup(s->os_http, s->os_syslog);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void
sinks_free(struct sinks *s)
{
	if (s == NULL)
		return;
	stop_and_join(s);
	free_stopped(s, 1);
}

/* ---- retired sets -------------------------------------------------------------- */

/* The retired sets whose reaper has not finished, and the OS clean-ups
 * (sinks_os_cleanup) the finished ones owe: libcurl's global clean-up is
 * not thread-safe everywhere, so the thread that creates the sinks does it
 * (settle_owed). */
static pthread_mutex_t retired_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t retired_cv; /* a reaper finished */
static pthread_once_t retired_once = PTHREAD_ONCE_INIT;
static struct sinks *retired;    /* their workers may still run: sinks_retired_wait cuts them */
static unsigned retired_running; /* reapers not finished */
static unsigned owed_http, owed_syslog;

static void
retired_init(void)
{
	sinks_os_cond_init(&retired_cv);
}

/* Run the OS clean-ups that finished reapers left (retired_mu not held). */
static void
settle_owed(void)
{
	unsigned http, sys;

	pthread_mutex_lock(&retired_mu);
	http = owed_http;
	sys = owed_syslog;
	owed_http = owed_syslog = 0;
	pthread_mutex_unlock(&retired_mu);
	for (; http > 0 || sys > 0; http -= http > 0, sys -= sys > 0)
		sinks_os_cleanup(http > 0, sys > 0);
}

static void *
reaper(void *arg)
{
	struct sinks *s = arg, **pp;
	int http = s->os_ready && s->os_http, sys = s->os_ready && s->os_syslog;

	/* the alert in delivery ends, by its timeout (or the cut) at worst */
	stop_and_join(s);
	pthread_mutex_lock(&retired_mu);
	for (pp = &retired; *pp != NULL; pp = &(*pp)->next_retired)
		if (*pp == s) {
			*pp = s->next_retired;
			break;
		}
	pthread_mutex_unlock(&retired_mu);
	free_stopped(s, 0);
	pthread_mutex_lock(&retired_mu);
	retired_running--;
	owed_http += (unsigned)http;
	owed_syslog += (unsigned)sys;
	pthread_cond_broadcast(&retired_cv);
	pthread_mutex_unlock(&retired_mu);
	return NULL;
}

void
sinks_retire(struct sinks *s)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	pthread_once(&retired_once, retired_init);
	settle_owed();
	if (s == NULL)
		return;
	/* stop now: no queued alert starts from here on */
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	/* listed before the reaper runs: the reaper takes it off */
	pthread_mutex_lock(&retired_mu);
	s->next_retired = retired;
	retired = s;
	retired_running++;
	pthread_mutex_unlock(&retired_mu);
	rc = pthread_attr_init(&attr);
	if (rc == 0) {
		rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (rc == 0)
			rc = pthread_create(&t, &attr, reaper, s);
		pthread_attr_destroy(&attr);
	}
	if (rc != 0) {
		log_warn("alert sinks: no thread to stop the old sinks in the background (%s); "
		         "waiting for them",
		         strerror(rc));
		(void)reaper(s);
		settle_owed();
	}
}

/* Wait on retired_cv (retired_mu held) until every reaper finished or
 * @deadline_ms (sinks_os_now_ms) passes. */
static void
wait_retired_until(int64_t deadline_ms)
{
	while (retired_running > 0) {
		struct timespec ts;
		int64_t left = deadline_ms - sinks_os_now_ms();

		if (left <= 0)
			break;
		sinks_os_deadline(left, &ts);
		(void)pthread_cond_timedwait(&retired_cv, &retired_mu, &ts);
	}
}

unsigned
sinks_retired_wait(int64_t grace_ms)
{
	unsigned left = 0;

	pthread_once(&retired_once, retired_init);
	pthread_mutex_lock(&retired_mu);
	wait_retired_until(sinks_os_now_ms() + grace_ms);
	if (retired_running > 0) {
		/* listed sets are not freed before their reaper takes them off,
		 * which needs retired_mu: safe to touch */
		for (struct sinks *r = retired; r != NULL; r = r->next_retired)
			atomic_store(&r->cut, 1);
		log_warn("alert sinks: %u retired set(s) still delivering after %lld ms: cut short",
		         retired_running, (long long)grace_ms);
		wait_retired_until(sinks_os_now_ms() + SINKS_CUT_WAIT_MS);
		left = retired_running;
		if (left > 0)
			log_error("alert sinks: %u set(s) did not stop within %d ms of the cut; "
			          "leaving them",
			          left, SINKS_CUT_WAIT_MS);
	}
	pthread_mutex_unlock(&retired_mu);
	settle_owed();
	return left;
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
