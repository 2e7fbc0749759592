/*
 * scheduler.c - memdeltad's main loop (scheduler.h).
 *
 * A "target" is a name in the store (a [target NAME] section, --watch-name
 * NAME, "pid:N", or the comm of an automatically chosen process); a "watch"
 * is one live process of a target, identified by (pid, start time), so a
 * target matching two java processes has two watches and the store keeps
 * one instance each.  The process list is re-read every few seconds (every
 * minute for the automatic top N) and whenever a watched process is seen to
 * exit; watches appear and disappear with it.
 *
 * Each watch ticks on its own phase: the first tick at a random offset in
 * its interval, then every interval plus a small random jitter, so that many
 * targets do not sample in step.  A tick that starts a whole interval late
 * counts the slots it skipped as missed.  A tick first takes the cheap probe
 * (snapshot_probe: the memory totals, and every map_check_every ticks the
 * region structure too); when it equals the probe taken with the watch's
 * last full read, fewer than full_read_every ticks ago, the last snapshot is
 * stored again with the new time (the store then writes the snapshot row
 * and its totals only).  Else
 * the tick collects with the target's region cap and time budget, stores
 * the snapshot in one transaction and keeps it for the next ticks.  Every
 * tick reports health.  When no tick is due soon, retention pruning runs in short
 * steps.  Stop and reload requests (os.h) are taken between ticks.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/alerts.h"
#include "daemon/log.h"
#include "daemon/os.h"
#include "daemon/scheduler.h"
#include "daemon/sdnotify.h"
#include "daemon/targets.h"
#include "snapshot/mderr.h"

#define NS_PER_S          1000000000ull
#define NS_PER_MS         1000000ull
#define MAX_JITTER_NS     (500 * NS_PER_MS)
#define RESCAN_MAX_NS     (5 * NS_PER_S)
#define AUTO_RESCAN_NS    ((uint64_t)CONFIG_DEFAULT_AUTO_RESCAN * NS_PER_S)
#define FRESH_LIST_NS     (60 * NS_PER_S)
#define PRUNE_PERIOD_NS   (10 * NS_PER_S)
#define PRUNE_MAX_ROWS    500
#define PRUNE_MIN_IDLE_NS (100 * NS_PER_MS)
/* PRUNE_PERIOD_NS: a retention byte cap is overshot by at most what is
 * written in one period (bench/soak.sh: 60 s let a 4 MiB cap reach 30 MiB
 * under churning targets). */

struct tgt {
	char name[CONFIG_NAME_MAX];
	int64_t target_id;              /* 0 until the store has it */
	const struct config_target *ct; /* NULL for automatic targets */
	unsigned interval_s;
	unsigned budget_ms;
	size_t max_regions;
	unsigned full_read_every;
	unsigned map_check_every;
	uint64_t ticks, missed, last_cost_ns;
	uint64_t full_reads, probe_hits;
	size_t n_watches;
	uint64_t last_regions;
};

struct watch {
	struct tgt *t;
	int pid;
	uint64_t start_time;
	uint64_t base_ns; /* the unjittered slot of the next tick */
	uint64_t next_ns; /* when the next tick runs */
	int perm_logged;
	int trunc_logged;
	int dead; /* exited or replaced: removed at the next rescan */
	int seen; /* scratch for rescans */
	/* The last full read, stored again while the probe matches. */
	struct snapshot *last;
	struct snapshot_probe last_probe;
	unsigned since_full; /* ticks since that read */
	unsigned since_map;  /* ticks since the structure was last compared */
};

struct sched {
	const struct config *cfg;
	struct store *st;
	struct web *w;
	struct tgt **tgts;
	size_t n_tgts;
	struct watch *watches;
	size_t n_watches, cap_watches;
	int self_pid;
	uint64_t rng;
	uint64_t next_rescan_ns;
	uint64_t next_auto_ns;
	struct proc_list last;  /* the list of the last rescan */
	uint64_t next_fresh_ns; /* when the next rescan reads every process afresh */
	uint64_t next_prune_ns;
	int prune_more;
	uint64_t wd_period_ns; /* 0: no watchdog */
	uint64_t next_wd_ns;
	struct web_health health;
	int storage_failing;
	struct alerts *alerts; /* NULL: no alert engine */
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: jitter only, no quality needed. */
static uint64_t
rnd(struct sched *s, uint64_t below)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return below == 0 ? 0 : (s->rng * 2685821657736338717ull) % below;
}

static uint64_t
interval_ns(const struct tgt *t)
{
	return (uint64_t)t->interval_s * NS_PER_S;
}

static uint64_t
jitter_ns(struct sched *s, const struct tgt *t)
{
	uint64_t max = interval_ns(t) / 10;

	return rnd(s, max < MAX_JITTER_NS ? max : MAX_JITTER_NS);
}

static void
tgt_settings(struct sched *s, struct tgt *t, const struct config_target *ct)
{
	t->ct = ct;
	t->interval_s = ct != NULL && ct->interval_s ? ct->interval_s : s->cfg->interval_s;
	t->budget_ms = ct != NULL && ct->budget_ms ? ct->budget_ms : s->cfg->budget_ms;
	t->max_regions = ct != NULL && ct->max_regions ? ct->max_regions : s->cfg->max_regions;
	t->full_read_every =
	        ct != NULL && ct->full_read_every ? ct->full_read_every : s->cfg->full_read_every;
	t->map_check_every =
	        ct != NULL && ct->map_check_every ? ct->map_check_every : s->cfg->map_check_every;
}

static void
tgt_ensure_id(struct sched *s, struct tgt *t)
{
	int rc;

	if (t->target_id != 0)
		return;
	rc = store_target_ensure(s->st, t->name, &t->target_id);
	if (rc != 0) {
		t->target_id = 0;
		log_error("target '%s': %s (%s)", t->name, md_strerror(rc), store_errmsg(s->st));
	}
}

static struct tgt *
tgt_find(struct sched *s, const char *name)
{
	for (size_t i = 0; i < s->n_tgts; i++)
		if (strcmp(s->tgts[i]->name, name) == 0)
			return s->tgts[i];
	return NULL;
}

static struct tgt *
tgt_add(struct sched *s, const char *name, const struct config_target *ct)
{
	struct tgt **v = realloc(s->tgts, (s->n_tgts + 1) * sizeof(*v));
	struct tgt *t;

	if (v == NULL)
		return NULL;
	s->tgts = v;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	snprintf(t->name, sizeof(t->name), "%s", name);
	tgt_settings(s, t, ct);
	s->tgts[s->n_tgts++] = t;
	tgt_ensure_id(s, t);
	return t;
}

/* Free what watch @w owns. */
static void
watch_forget(struct watch *w)
{
	snapshot_free(w->last);
	w->last = NULL;
}

static void
watch_remove(struct sched *s, size_t i)
{
	watch_forget(&s->watches[i]);
	s->watches[i].t->n_watches--;
	s->watches[i] = s->watches[--s->n_watches];
}

/* Drop the targets no watch uses and that @keep does not want kept. */
static void
tgts_drop_unused_auto(struct sched *s)
{
	size_t j = 0;

	for (size_t i = 0; i < s->n_tgts; i++) {
		if (s->tgts[i]->ct == NULL && s->tgts[i]->n_watches == 0 && s->cfg->n_targets == 0)
			free(s->tgts[i]);
		else
			s->tgts[j++] = s->tgts[i];
	}
	s->n_tgts = j;
}

static struct watch *
watch_find(struct sched *s, const struct tgt *t, int pid, uint64_t start_time)
{
	for (size_t i = 0; i < s->n_watches; i++)
		if (s->watches[i].t == t && s->watches[i].pid == pid &&
		    s->watches[i].start_time == start_time && !s->watches[i].dead)
			return &s->watches[i];
	return NULL;
}

static int
watch_add(struct sched *s, struct tgt *t, const struct proc_info *p, uint64_t now)
{
	struct watch *w;

	if (s->n_watches == s->cap_watches) {
		size_t ncap = s->cap_watches ? s->cap_watches * 2 : 16;
		struct watch *v = realloc(s->watches, ncap * sizeof(*v));

		if (v == NULL)
			return MD_ERR_NOMEM;
		s->watches = v;
		s->cap_watches = ncap;
	}
	w = &s->watches[s->n_watches++];
	memset(w, 0, sizeof(*w));
	w->t = t;
	w->pid = p->pid;
	w->start_time = p->start_time;
	w->seen = 1;
	/* First tick soon, at a random phase within the first interval. */
	w->base_ns = now + rnd(s, interval_ns(t));
	w->next_ns = w->base_ns;
	t->n_watches++;
	log_info("target '%s': watching process %d (%s)", t->name, p->pid, p->comm);
	return 0;
}

/* Re-read the process list and bring the watches in line with it. */
static void
rescan(struct sched *s, uint64_t now, int full_auto)
{
	struct proc_list l;
	size_t *idx = NULL;
	int rc, fresh = full_auto || now >= s->next_fresh_ns;

	/* In between fresh reads, a process already seen costs one read of
	 * its stat (targets.h): a fresh read each minute catches changed
	 * command lines, readability and, in the automatic mode, sizes. */
	rc = proc_list_read(NULL, fresh ? NULL : &s->last, &l);
	if (fresh)
		s->next_fresh_ns = now + FRESH_LIST_NS;
	if (rc != 0) {
		log_error("cannot read the process list: %s", md_strerror(rc));
		return;
	}
	for (size_t i = 0; i < s->n_watches; i++)
		s->watches[i].seen = 0;
	if (s->cfg->n_targets > 0) {
		for (size_t k = 0; k < s->n_tgts; k++) {
			struct tgt *t = s->tgts[k];

			if (t->ct == NULL)
				continue;
			tgt_ensure_id(s, t);
			for (size_t i = 0; i < l.n; i++) {
				struct watch *w;

				if (!target_matches(t->ct, &l.procs[i], s->self_pid))
					continue;
				w = watch_find(s, t, l.procs[i].pid, l.procs[i].start_time);
				if (w != NULL)
					w->seen = 1;
				else if (watch_add(s, t, &l.procs[i], now) != 0)
					goto out;
			}
		}
	} else {
		/* Automatic: the top N readable processes plus memdeltad itself;
		 * the top is re-evaluated every minute, in between only exits
		 * are noticed. */
		size_t n;

		idx = calloc((size_t)s->cfg->auto_top + 1, sizeof(*idx));
		if (idx == NULL)
			goto out;
		n = targets_top(&l, s->cfg->auto_top, s->self_pid, idx);
		for (size_t i = 0; i < l.n; i++)
			if (l.procs[i].pid == s->self_pid)
				idx[n++] = i;
		for (size_t i = 0; i < s->n_watches; i++) {
			struct watch *w = &s->watches[i];

			if (full_auto)
				continue;
			for (size_t j = 0; j < l.n; j++)
				if (l.procs[j].pid == w->pid &&
				    l.procs[j].start_time == w->start_time)
					w->seen = 1;
		}
		for (size_t j = 0; full_auto && j < n; j++) {
			const struct proc_info *p = &l.procs[idx[j]];
			struct tgt *t = tgt_find(s, p->comm);
			struct watch *w;

			if (t == NULL)
				t = tgt_add(s, p->comm, NULL);
			if (t == NULL)
				goto out;
			tgt_ensure_id(s, t);
			w = watch_find(s, t, p->pid, p->start_time);
			if (w != NULL)
				w->seen = 1;
			else if (watch_add(s, t, p, now) != 0)
				goto out;
		}
	}
	for (size_t i = 0; i < s->n_watches;) {
		if (!s->watches[i].seen || s->watches[i].dead) {
			log_info("target '%s': process %d no longer watched", s->watches[i].t->name,
			         s->watches[i].pid);
			watch_remove(s, i);
		} else {
			i++;
		}
	}
	tgts_drop_unused_auto(s);
out:
	free(idx);
	proc_list_free(&s->last);
	s->last = l;
}

struct budget {
	uint64_t deadline_ns;
};

static int
over_budget(void *arg)
{
	const struct budget *b = arg;

	return mono_ns() > b->deadline_ns;
}

/* Track whether snapshots can be stored.  A failure is logged once when
 * the storage starts failing, and the alert engine raises one storage alert
 * (rule "storage", to the sinks only: the database may be what is full); it
 * resolves at the first snapshot stored again.  Every failed put is a
 * dropped snapshot, counted for /healthz and /metrics. */
static void
storage_state(struct sched *s, int rc)
{
	if (rc == 0) {
		if (s->storage_failing) {
			log_info("storage works again: %llu snapshot(s) dropped in all",
			         (unsigned long long)s->health.snapshots_dropped);
			alerts_storage(s->alerts, 0, NULL, now_ms());
		}
		s->storage_failing = 0;
		s->health.storage_ok = 1;
		s->health.storage_error[0] = '\0';
		return; /* stored() publishes the health with the new count */
	}
	s->health.snapshots_dropped++;
	snprintf(s->health.storage_error, sizeof(s->health.storage_error), "%s: %s",
	         md_strerror(rc), store_errmsg(s->st));
	if (!s->storage_failing) {
		log_error(
		        "cannot store a snapshot: %s (snapshots are dropped until it works again)",
		        s->health.storage_error);
		alerts_storage(s->alerts, 1, s->health.storage_error, now_ms());
	}
	s->storage_failing = 1;
	s->health.storage_ok = 0;
	/* At once, not after the round of ticks: the next put of the round
	 * may wait for the busy timeout again. */
	if (s->w != NULL)
		web_set_health(s->w, &s->health);
}

/* After store_put_snapshot of @snap for target @t returned @rc (the snapshot
 * id @sid): the storage state, health, and the alert engine, which sees every
 * stored snapshot, full reads and probe repeats alike.  The debug line is
 * written only once the snapshot is committed (store_put_snapshot returns 0
 * after COMMIT): tests/test_faults.sh holds the database to it after kill -9. */
static void
stored(struct sched *s, struct tgt *t, int rc, int64_t sid, const struct snapshot *snap)
{
	storage_state(s, rc);
	if (rc != 0)
		return;
	log_debug("target '%s': snapshot %lld committed: pid %d, %zu regions", t->name,
	          (long long)sid, snap->pid, snap->n_regions);
	s->health.snapshots_written++;
	s->health.last_snapshot_ms = snap->time_ms;
	/* at once, not after the loop's other ticks: /healthz never counts
	 * fewer snapshots than the API lists */
	if (s->w != NULL)
		web_set_health(s->w, &s->health);
	t->last_regions = snap->n_regions;
	if (s->alerts != NULL) {
		struct alert_params ap;

		config_target_alerts(s->cfg, t->ct, &ap);
		alerts_on_snapshot(s->alerts, t->target_id, t->name, &ap, sid, snap);
	}
}

/* The cheap path of a tick (ARCHITECTURE.md, "Sampling cost").  Probes the
 * process into *probe (*probe_ok 1 when that worked): the totals every
 * tick, the structure too when map_check_every ticks have passed since it
 * was last compared or a full read is due (a full read keeps its probe as
 * the reference, and the reference must hold the structure).  When the
 * probe equals the one of the watch's last full read and that read is fewer
 * than full_read_every ticks old, stores the last snapshot again with the
 * new time and returns 1.  Returns 0 when a full read is due; its errors
 * (the process exited, ...) are left for the full read to report. */
static int
tick_repeat(struct sched *s, struct watch *w, uint64_t t0, struct snapshot_probe *probe,
            int *probe_ok)
{
	struct tgt *t = w->t;
	int64_t sid = 0;
	int rc, due, map;

	*probe_ok = 0;
	if (t->full_read_every <= 1)
		return 0;
	due = w->last == NULL || w->since_full + 1 >= t->full_read_every;
	map = due || w->since_map + 1 >= t->map_check_every;
	if (snapshot_probe(w->pid, NULL, map ? SNAPSHOT_PROBE_MAP : 0, probe) != 0)
		return 0;
	if (!due && !snapshot_probe_equal(probe, &w->last_probe)) {
		/* The totals moved: a full read, whose reference probe needs
		 * the structure. */
		if (!map && snapshot_probe(w->pid, NULL, SNAPSHOT_PROBE_MAP, probe) != 0)
			return 0;
		due = 1;
	}
	*probe_ok = 1;
	if (due)
		return 0;
	w->last->time_ms = now_ms();
	w->last->collect_ns = mono_ns() - t0;
	rc = store_put_snapshot(s->st, t->target_id, w->last, &sid);
	stored(s, t, rc, sid, w->last);
	w->since_full++;
	w->since_map = map ? 0 : w->since_map + 1;
	t->probe_hits++;
	return 1;
}

/* One tick of watch @w. */
static void
tick(struct sched *s, struct watch *w, uint64_t now)
{
	struct tgt *t = w->t;
	struct snapshot_opts opts;
	struct snapshot *snap = NULL;
	struct snapshot_probe probe;
	struct budget b;
	uint64_t iv = interval_ns(t), t0;
	int64_t sid = 0;
	int rc, probe_ok;

	/* Missed slots: the tick starts at least one whole interval late. */
	if (now >= w->base_ns + iv) {
		uint64_t late = (now - w->base_ns) / iv;

		t->missed += late;
		s->health.ticks_missed += late;
		w->base_ns += late * iv;
		log_debug("target '%s': process %d: %llu tick(s) missed", t->name, w->pid,
		          (unsigned long long)late);
	}
	w->base_ns += iv;
	w->next_ns = w->base_ns + jitter_ns(s, t);

	tgt_ensure_id(s, t);
	if (t->target_id == 0)
		return;
	t0 = mono_ns();
	if (tick_repeat(s, w, t0, &probe, &probe_ok))
		goto out;
	memset(&opts, 0, sizeof(opts));
	opts.max_regions = t->max_regions;
	b.deadline_ns = t0 + (uint64_t)t->budget_ms * NS_PER_MS;
	opts.over_budget = over_budget;
	opts.budget_arg = &b;
	rc = snapshot_collect(w->pid, &opts, &snap);
	if (rc == 0 && snap->start_time != w->start_time) {
		rc = MD_ERR_NOPROC; /* the pid was reused */
		snapshot_free(snap);
		snap = NULL;
	}
	switch (rc) {
	case 0:
		break;
	case MD_ERR_NOPROC:
	case MD_ERR_ZOMBIE:
	case MD_ERR_KTHREAD:
		log_debug("target '%s': process %d exited", t->name, w->pid);
		w->dead = 1;
		s->next_rescan_ns = now; /* look for a successor at once */
		goto out;
	case MD_ERR_PERM:
		if (!w->perm_logged)
			log_warn("target '%s': process %d: %s (run as root or with "
			         "CAP_SYS_PTRACE)",
			         t->name, w->pid, md_strerror(rc));
		w->perm_logged = 1;
		goto out;
	default:
		log_warn("target '%s': process %d: %s", t->name, w->pid, md_strerror(rc));
		goto out;
	}
	snap->time_ms = now_ms();
	snap->collect_ns = mono_ns() - t0;
	if ((snap->flags & SNAPSHOT_TRUNCATED) && !w->trunc_logged) {
		log_warn(
		        "target '%s': process %d: snapshot truncated at %zu regions (budget %u ms, "
		        "max_regions %zu)",
		        t->name, w->pid, snap->n_regions, t->budget_ms, t->max_regions);
		w->trunc_logged = 1;
	}
	t->full_reads++;
	rc = store_put_snapshot(s->st, t->target_id, snap, &sid);
	stored(s, t, rc, sid, snap);
	/* Kept for the next ticks, with the probe taken before the read (a
	 * change during the read then shows as a probe mismatch). */
	snapshot_free(w->last);
	w->last = NULL;
	if (rc == 0 && probe_ok) {
		w->last = snap;
		w->last_probe = probe;
		w->since_full = 0;
		w->since_map = 0;
		snap = NULL;
	}
out:
	t->ticks++;
	t->last_cost_ns = mono_ns() - t0;
	snapshot_free(snap);
}

static void
report(struct sched *s)
{
	struct web_target_runtime *rt;
	unsigned watching = 0;

	alerts_expire(s->alerts, now_ms());
	if (s->w == NULL)
		return;
	rt = calloc(s->n_tgts + 1, sizeof(*rt));
	for (size_t i = 0; i < s->n_tgts; i++) {
		const struct tgt *t = s->tgts[i];

		watching += t->n_watches > 0;
		if (rt == NULL)
			continue;
		rt[i].target_id = t->target_id;
		rt[i].ticks = t->ticks;
		rt[i].ticks_missed = t->missed;
		rt[i].last_cost_ns = t->last_cost_ns;
		rt[i].full_reads = t->full_reads;
		rt[i].probe_hits = t->probe_hits;
		rt[i].interval_s = t->interval_s;
		rt[i].watching = t->n_watches > 0;
		rt[i].regions = t->last_regions;
		rt[i].alert_state = -1;
		alerts_runtime(s->alerts, t->target_id, &rt[i]);
	}
	s->health.targets = watching;
	web_set_health(s->w, &s->health);
	if (rt != NULL)
		web_set_targets_runtime(s->w, rt, s->n_tgts);
	free(rt);
}

/* Rebuild the targets for a new configuration, keeping the counters and the
 * watches of the targets that keep their name. */
static int
apply_config(struct sched *s, const struct config *c)
{
	struct tgt **old = s->tgts;
	size_t n_old = s->n_tgts;

	s->cfg = c;
	s->tgts = NULL;
	s->n_tgts = 0;
	for (size_t i = 0; i < c->n_targets; i++) {
		struct tgt *t = NULL;

		for (size_t j = 0; j < n_old; j++)
			if (old[j] != NULL && strcmp(old[j]->name, c->targets[i].name) == 0) {
				t = old[j];
				old[j] = NULL;
				break;
			}
		if (t == NULL) {
			if (tgt_add(s, c->targets[i].name, &c->targets[i]) == NULL)
				return MD_ERR_NOMEM;
			continue;
		}
		{
			struct tgt **v = realloc(s->tgts, (s->n_tgts + 1) * sizeof(*v));

			if (v == NULL) {
				free(t);
				return MD_ERR_NOMEM;
			}
			s->tgts = v;
			s->tgts[s->n_tgts++] = t;
		}
		tgt_settings(s, t, &c->targets[i]);
	}
	/* Automatic targets survive only while no target is configured. */
	for (size_t j = 0; j < n_old; j++) {
		struct tgt **v;

		if (old[j] == NULL)
			continue;
		if (old[j]->ct != NULL || c->n_targets > 0)
			continue;
		v = realloc(s->tgts, (s->n_tgts + 1) * sizeof(*v));
		if (v == NULL)
			return MD_ERR_NOMEM;
		s->tgts = v;
		tgt_settings(s, old[j], NULL);
		s->tgts[s->n_tgts++] = old[j];
		old[j] = NULL;
	}
	/* Watches of targets that went away are dropped. */
	for (size_t i = 0; i < s->n_watches;) {
		int gone = 0;

		for (size_t j = 0; j < n_old; j++)
			if (old[j] != NULL && s->watches[i].t == old[j])
				gone = 1;
		if (gone) {
			watch_forget(&s->watches[i]);
			s->watches[i] = s->watches[--s->n_watches];
			continue;
		}
		i++;
	}
	for (size_t j = 0; j < n_old; j++)
		free(old[j]);
	free(old);
	return 0;
}

int
sched_new(const struct config *c, struct store *st, struct web *w, struct sched **out)
{
	struct sched *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return MD_ERR_NOMEM;
	s->st = st;
	s->w = w;
	s->self_pid = os_getpid();
	s->rng = (uint64_t)now_ms() ^ ((uint64_t)s->self_pid << 32) ^ 0x9e3779b97f4a7c15ull;
	s->health.storage_ok = 1;
	s->health.started_ms = now_ms();
	rc = apply_config(s, c);
	if (rc != 0) {
		sched_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
sched_set_alerts(struct sched *s, struct alerts *a)
{
	s->alerts = a;
}

void
sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_tgts; i++)
		free(s->tgts[i]);
	free(s->tgts);
	for (size_t i = 0; i < s->n_watches; i++)
		watch_forget(&s->watches[i]);
	free(s->watches);
	proc_list_free(&s->last);
	free(s);
}

static uint64_t
rescan_period(const struct sched *s)
{
	uint64_t p = RESCAN_MAX_NS;

	for (size_t i = 0; i < s->n_tgts; i++)
		if (interval_ns(s->tgts[i]) < p)
			p = interval_ns(s->tgts[i]);
	return p;
}

static void
watchdog(struct sched *s, uint64_t now)
{
	if (s->wd_period_ns == 0 || now < s->next_wd_ns)
		return;
	(void)sd_notify_send("WATCHDOG=1");
	s->next_wd_ns = now + s->wd_period_ns;
}

static void
prune_step(struct sched *s, uint64_t now)
{
	int more = 0, rc;

	rc = store_prune(s->st, &s->cfg->retention, now_ms(), PRUNE_MAX_ROWS, &more);
	if (rc != 0 && s->storage_failing) {
		/* Already logged and alerted once by storage_state. */
		log_debug("retention: %s (%s)", md_strerror(rc), store_errmsg(s->st));
		more = 0;
	} else if (rc != 0) {
		log_warn("retention: %s (%s)", md_strerror(rc), store_errmsg(s->st));
		more = 0;
	}
	s->prune_more = more;
	if (!more)
		s->next_prune_ns = now + PRUNE_PERIOD_NS;
}

static void
reload(struct sched *s, const struct sched_hooks *h, uint64_t now)
{
	char msg[64];
	const struct config *c;

	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	         (unsigned long long)(now / 1000));
	(void)sd_notify_send(msg);
	c = h != NULL && h->reload != NULL ? h->reload(h->arg) : NULL;
	if (c != NULL) {
		if (apply_config(s, c) != 0)
			log_error("out of memory applying the new configuration");
		s->next_rescan_ns = now;
		s->next_auto_ns = now;
	}
	(void)sd_notify_send("READY=1");
}

int
sched_run(struct sched *s, const struct sched_hooks *h)
{
	uint64_t wd = sd_watchdog_usec();

	if (wd != 0) {
		s->wd_period_ns = wd * 1000 / 2;
		s->next_wd_ns = 0;
	}
	s->next_rescan_ns = 0;
	s->next_auto_ns = 0;
	s->next_prune_ns = mono_ns() + 5 * NS_PER_S;
	report(s);
	for (;;) {
		uint64_t now = mono_ns(), deadline;
		enum os_event ev;
		int ticked = 0;

		watchdog(s, now);
		if (now >= s->next_rescan_ns) {
			int full = s->cfg->n_targets > 0 || now >= s->next_auto_ns;

			rescan(s, now, full);
			s->next_rescan_ns = now + rescan_period(s);
			if (s->cfg->n_targets == 0 && full)
				s->next_auto_ns = now + AUTO_RESCAN_NS;
			if (s->cfg->n_targets == 0)
				s->next_rescan_ns = now + RESCAN_MAX_NS;
			ticked = 1;
		}
		for (size_t i = 0; i < s->n_watches; i++) {
			if (s->watches[i].dead || s->watches[i].next_ns > mono_ns())
				continue;
			tick(s, &s->watches[i], mono_ns());
			ticked = 1;
			watchdog(s, mono_ns());
			if (os_stop_pending())
				break;
		}
		if (ticked)
			report(s);

		now = mono_ns();
		deadline = s->next_rescan_ns;
		for (size_t i = 0; i < s->n_watches; i++)
			if (!s->watches[i].dead && s->watches[i].next_ns < deadline)
				deadline = s->watches[i].next_ns;
		if (s->wd_period_ns != 0 && s->next_wd_ns < deadline)
			deadline = s->next_wd_ns;
		if ((s->prune_more || now >= s->next_prune_ns) &&
		    deadline > now + PRUNE_MIN_IDLE_NS && !os_stop_pending()) {
			prune_step(s, now);
			deadline = now; /* look at the signals, then loop */
		}
		ev = os_event_wait(deadline > now + 1000 ? deadline - now : 0);
		if (ev == OS_EVENT_STOP) {
			log_info("stop requested: stopping");
			(void)sd_notify_send("STOPPING=1");
			break;
		}
		if (ev == OS_EVENT_RELOAD)
			reload(s, h, mono_ns());
	}
	report(s);
	return 0;
}
