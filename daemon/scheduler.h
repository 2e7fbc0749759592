/*
 * scheduler.h - memdeltad's main loop: which processes to sample (targets
 * matched against the process list, or the automatic top N plus memdeltad
 * itself), when (jittered ticks per target, missed ticks counted), with what
 * budget, and the store writes, retention pruning between ticks, health
 * reports to the web server, the systemd watchdog and the stop and reload
 * requests of os.h (SIGTERM/SIGINT or the Windows service's stop control
 * stop after the current transaction, SIGHUP reloads).
 */
#ifndef MEMDELTA_SCHEDULER_H
#define MEMDELTA_SCHEDULER_H

#include "daemon/daemon_config.h"
#include "snapshot/store.h"
#include "web/web.h"

struct sched;
struct alerts;

struct sched_hooks {
	/* Called on SIGHUP.  Returns the configuration to use from now on
	 * (owned by the caller, kept alive until the next successful reload
	 * or sched_free), or NULL to keep the current one. */
	const struct config *(*reload)(void *arg);
	void *arg;
};

/* A scheduler over @c (borrowed), writing to @st (borrowed) and reporting to
 * @w (borrowed, may be NULL).  Returns 0 and *out, or MD_ERR_NOMEM. */
int sched_new(const struct config *c, struct store *st, struct web *w, struct sched **out);
void sched_free(struct sched *s);

/* Feed every stored snapshot to the alert engine @a (borrowed; NULL: none)
 * and take the runtime's trend and alert members from it. */
void sched_set_alerts(struct sched *s, struct alerts *a);

/* Run until a stop is requested.  os_events_init() must have been called
 * before any thread started; the requests are taken with os_event_wait()
 * between ticks, so a snapshot being written always completes.  Sends
 * WATCHDOG=1 at half of $WATCHDOG_USEC and RELOADING=1 / READY=1 around a
 * reload.  Returns 0 after a stop request. */
int sched_run(struct sched *s, const struct sched_hooks *h);

#endif
