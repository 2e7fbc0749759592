/*
 * memdeltad.c - the memdelta daemon: reads the configuration (built-in
 * defaults, an optional INI file given with -c, flags), opens the database,
 * starts the web server, tells systemd it is ready and hands over to the
 * scheduler until SIGTERM.  SIGHUP reloads the configuration file; a bad
 * file is logged with its line and the old configuration stays.  Without -f
 * and outside systemd ($NOTIFY_SOCKET unset) it detaches classically; the
 * parent exits 0 only once the daemon is ready (1 when start-up failed).
 * OS specifics sit behind daemon/os.h; main() is per OS (service.h): on
 * Windows it is the service's entry point too.
 * docs/man/memdeltad.8 is the reference; exit status 0 on a clean stop, 1
 * when it cannot start, 2 for bad usage or a bad configuration.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/alerts.h"
#include "daemon/daemon_config.h"
#include "daemon/log.h"
#include "daemon/os.h"
#include "daemon/scheduler.h"
#include "daemon/sdnotify.h"
#include "daemon/sinks.h"
#include "daemon/service.h"
#include "snapshot/mderr.h"
#include "snapshot/store.h"
#include "web/web.h"

#define EXIT_START 1
#define EXIT_USAGE 2
#define MAX_WATCH  256
/* At the stop, how long the alerts in delivery (in the current sinks and in
 * those SIGHUP replaced) may go on before they are cut short: a command is
 * then killed (docs/alerts.md, "Sinks"). */
#define SINKS_STOP_GRACE_MS 10000
/* how often a database that cannot be opened at start is tried again */
#define DB_RETRY_NS (10ull * 1000000000u)

static const char usage_text[] =
        "usage: memdeltad [-f] [-c FILE] [--check-config] [--db FILE] [--listen ADDR:PORT]\n"
        "                 [--watch-pid PID]... [--watch-name NAME]... [--interval SECONDS]\n"
        "  -f, --foreground    stay in the foreground (implied under systemd)\n"
        "  -c, --config FILE   read FILE (INI, docs/configuration.md)\n"
        "      --check-config  validate the configuration and exit\n"
        "      --db FILE       database (default: in the state directory)\n"
        "      --listen A:P    web UI address (default 127.0.0.1:7373)\n"
        "      --watch-pid PID, --watch-name NAME   targets (repeatable)\n"
        "      --interval S    default sampling interval in seconds (default 10)\n"
        "  -V, --version, -h, --help\n";

struct opts {
	int foreground;
	int check_config;
	struct config_flags flags;
	int pids[MAX_WATCH];
	const char *names[MAX_WATCH];
};

struct daemon_state {
	struct config_env env;
	const struct opts *o;
	struct config slot[2]; /* the current one and the previous one */
	int cur;
	int detached;          /* stderr is /dev/null: log to syslog instead */
	struct sinks *sinks;   /* where alerts go; replaced on reload */
	struct alerts *alerts; /* the alert engine */
};

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("memdeltad: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage_text);
	exit(EXIT_USAGE);
}

static unsigned long
parse_num(const char *opt, const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v == 0 || v > max)
		die_usage("%s: '%s' is not a number from 1 to %lu", opt, s, max);
	return v;
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_CHECK = 256, O_DB, O_LISTEN, O_PID, O_NAME, O_INTERVAL };
	static const struct option longopts[] = {
	        {"foreground", no_argument, NULL, 'f'},
	        {"config", required_argument, NULL, 'c'},
	        {"check-config", no_argument, NULL, O_CHECK},
	        {"db", required_argument, NULL, O_DB},
	        {"listen", required_argument, NULL, O_LISTEN},
	        {"watch-pid", required_argument, NULL, O_PID},
	        {"watch-name", required_argument, NULL, O_NAME},
	        {"interval", required_argument, NULL, O_INTERVAL},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, "fc:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			o->foreground = 1;
			break;
		case 'c':
			o->flags.config_path = optarg;
			break;
		case O_CHECK:
			o->check_config = 1;
			break;
		case O_DB:
			o->flags.db = optarg;
			break;
		case O_LISTEN:
			o->flags.listen = optarg;
			break;
		case O_PID:
			if (o->flags.n_watch_pids == MAX_WATCH)
				die_usage("too many --watch-pid");
			o->pids[o->flags.n_watch_pids++] =
			        (int)parse_num("--watch-pid", optarg, INT_MAX);
			break;
		case O_NAME:
			if (o->flags.n_watch_names == MAX_WATCH)
				die_usage("too many --watch-name");
			if (optarg[0] == '\0' || strlen(optarg) >= CONFIG_NAME_MAX)
				die_usage("--watch-name: a name has 1 to %d bytes",
				          CONFIG_NAME_MAX - 1);
			o->names[o->flags.n_watch_names++] = optarg;
			break;
		case O_INTERVAL:
			o->flags.interval_s =
			        (unsigned)parse_num("--interval", optarg, CONFIG_MAX_INTERVAL_S);
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			puts("memdeltad " PACKAGE_VERSION);
			exit(0);
		default:
			fputs(usage_text, stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	o->flags.watch_pids = o->pids;
	o->flags.watch_names = o->names;
}

/* Build a configuration from scratch: defaults, file, flags. */
static int
build_config(const struct daemon_state *d, struct config *c, char *err, size_t errlen)
{
	int rc;

	config_init(c, &d->env);
	if (d->o->flags.config_path != NULL) {
		rc = config_load_file(c, d->o->flags.config_path, err, errlen);
		if (rc != 0)
			goto fail;
	}
	rc = config_apply_flags(c, &d->o->flags, err, errlen);
	if (rc == 0)
		rc = config_validate(c, err, errlen);
	if (rc == 0)
		return 0;
fail:
	config_done(c);
	return rc;
}

static const struct config *
reload_config(void *arg)
{
	struct daemon_state *d = arg;
	struct config *old = &d->slot[d->cur], *nc = &d->slot[!d->cur];
	char err[CONFIG_ERR_MAX + 64];

	log_info("SIGHUP: reloading %s",
	         d->o->flags.config_path ? d->o->flags.config_path : "(no file: flags only)");
	config_done(nc); /* the one before the current, no longer referenced */
	if (build_config(d, nc, err, sizeof(err)) != 0) {
		log_error("bad configuration, keeping the old one: %s", err);
		return NULL;
	}
	if (strcmp(nc->db, old->db) != 0 || strcmp(nc->listen_addr, old->listen_addr) != 0 ||
	    nc->port != old->port || strcmp(nc->token, old->token) != 0)
		log_warn("db, listen and token changes take effect at the next restart");
	log_init(d->detached ? LOG_SINK_SYSLOG : nc->log_sink, nc->log_level, "memdeltad");
	if (d->alerts != NULL) {
		struct sinks *sk = NULL;
		int rc = sinks_new(&nc->sinks, &sk);

		if (rc == 0) {
			alerts_set_sinks(d->alerts, sk);
			/* not sinks_free: this is the sampling thread, and the old
			 * sinks may be waiting for a hung command or webhook */
			sinks_retire(d->sinks);
			d->sinks = sk;
		} else {
			log_error("alert sinks: %s; keeping the old ones", md_strerror(rc));
		}
	}
	log_info("configuration reloaded: %zu target(s)", nc->n_targets);
	d->cur = !d->cur;
	return nc;
}

/* Judge the database before opening it for writing (issue 6): a corrupt,
 * truncated or foreign file is moved aside with its -wal and -shm, never
 * written into, and a fresh database is created in its place.  Returns 0 to
 * go on (store_open reports what could not be judged), -1 when a damaged
 * file cannot be moved. */
static int
db_check_at_start(const char *db)
{
	char why[512], dest[CONFIG_PATH_MAX + 64], tag[32];
	time_t now = time(NULL);
	struct tm *tm;
	int damaged = 0, rc;

	rc = store_check_file(db, &damaged, why, sizeof(why));
	if (rc != 0) {
		log_warn("cannot check the database %s: %s (%s)", db, md_strerror(rc), why);
		return 0;
	}
	if (!damaged)
		return 0;
	/* Start-up is single-threaded: gmtime's static buffer is safe. */
	tm = gmtime(&now);
	if (tm == NULL || strftime(tag, sizeof(tag), "%Y%m%dT%H%M%SZ", tm) == 0)
		snprintf(tag, sizeof(tag), "%lld", (long long)now);
	rc = store_move_aside(db, tag, dest, sizeof(dest));
	if (rc != 0) {
		log_error("DATABASE DAMAGED: %s: %s; cannot move it aside: %s%s%s; not starting",
		          db, why, md_strerror(rc), rc == MD_ERR_IO ? ": " : "",
		          rc == MD_ERR_IO ? strerror(errno) : "");
		return -1;
	}
	log_error("DATABASE DAMAGED: %s: %s; moved aside to %s (with its -wal and -shm, if any); "
	          "starting with a fresh, empty database",
	          db, why, dest);
	return 0;
}

/* Tell systemd (and, when detaching, the waiting parent) that the daemon is
 * up; @msg is the sd_notify message. */
static void
announce_ready(struct daemon_state *d, int *ready_fd, const char *msg)
{
	const struct config *c = &d->slot[d->cur];

	(void)sd_notify_send(msg);
	if (*ready_fd >= 0) {
		if (c->log_sink == LOG_SINK_STDERR)
			log_init(LOG_SINK_SYSLOG, c->log_level, "memdeltad");
		os_detach_done(*ready_fd);
		*ready_fd = -1;
		d->detached = 1;
	}
}

/* Open the database for writing.  A full disk (SQLite cannot even create
 * the -shm file then), an I/O error or another process's lock is waited
 * out rather than ending the daemon, which a service manager would only
 * restart into the same failure: the web server is already up and its
 * /healthz says why, the wait is logged once, systemd is told READY with a
 * STATUS and kept fed by the watchdog, and a stop request ends the wait.
 * Returns 0 and *out, 1 when stopped while waiting, -1 on an error that
 * waiting cannot cure (logged). */
static int
db_open_at_start(struct daemon_state *d, struct web *w, int *ready_fd, struct store **out)
{
	const struct config *c = &d->slot[d->cur];
	struct web_health h;
	uint64_t wd_ns = sd_watchdog_usec() * 1000 / 2, wait_ns;
	char last[sizeof(h.storage_error)] = "";
	uint64_t waited;
	int rc;

	memset(&h, 0, sizeof(h));
	h.started_ms = (int64_t)time(NULL) * 1000;
	wait_ns = DB_RETRY_NS;
	if (wd_ns != 0 && wd_ns < wait_ns)
		wait_ns = wd_ns;
	for (;;) {
		rc = store_open(c->db, 0, out);
		if (rc == 0)
			break;
		snprintf(h.storage_error, sizeof(h.storage_error), "%s: %s", md_strerror(rc),
		         store_errmsg(NULL));
		if (rc != MD_ERR_FULL && rc != MD_ERR_IO && rc != MD_ERR_BUSY) {
			log_error("cannot open the database %s: %s", c->db, h.storage_error);
			return -1;
		}
		if (strcmp(last, h.storage_error) != 0) {
			log_error("cannot open the database %s: %s; the web server answers, "
			          "sampling waits: trying again every %u s",
			          c->db, h.storage_error, (unsigned)(DB_RETRY_NS / 1000000000u));
			snprintf(last, sizeof(last), "%s", h.storage_error);
			web_set_health(w, &h);
			announce_ready(d, ready_fd, "READY=1\nSTATUS=waiting for the database");
		}
		for (waited = 0; waited < DB_RETRY_NS; waited += wait_ns) {
			if (os_event_wait(wait_ns) == OS_EVENT_STOP) {
				log_info("stop requested while waiting for the database: stopped");
				return 1;
			}
			if (wd_ns != 0)
				(void)sd_notify_send("WATCHDOG=1");
		}
	}
	if (last[0] != '\0')
		log_info("database %s opened: sampling starts", c->db);
	if (c->db_max_bytes != 0) {
		rc = store_set_max_bytes(*out, c->db_max_bytes);
		if (rc != 0)
			log_warn("db_max_mb: %s (%s)", md_strerror(rc), store_errmsg(*out));
	}
	return 0;
}

int
memdeltad_main(int argc, char **argv)
{
	struct daemon_state d;
	struct opts o;
	struct config *c;
	struct store *st = NULL;
	struct web *w = NULL;
	struct sched *s = NULL;
	struct web_config wc;
	struct sched_hooks hooks;
	char err[CONFIG_ERR_MAX + 64], abs_db[CONFIG_PATH_MAX];
	static char config_abs[CONFIG_PATH_MAX];
	const char *why = NULL;
	int rc, status = EXIT_START, ready_fd = -1;
	enum log_sink sink;
	int systemd = getenv("NOTIFY_SOCKET") != NULL;

	parse_args(argc, argv, &o);
	/* The file is read again on SIGHUP, after chdir("/") when detached. */
	if (o.flags.config_path != NULL && !os_path_is_absolute(o.flags.config_path)) {
		if (os_abs_path(o.flags.config_path, config_abs, sizeof(config_abs)) != 0) {
			fprintf(stderr, "memdeltad: %s: %s\n", o.flags.config_path,
			        strerror(errno));
			return EXIT_START;
		}
		o.flags.config_path = config_abs;
	}
	memset(&d, 0, sizeof(d));
	config_env_from_process(&d.env);
	d.o = &o;
	rc = build_config(&d, &d.slot[0], err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "memdeltad: %s\n", err);
		return rc == MD_ERR_IO || rc == MD_ERR_NOMEM ? EXIT_START : EXIT_USAGE;
	}
	c = &d.slot[0];
	if (o.check_config) {
		printf("%s: OK: db %s, listen %s:%u, interval %u s, %zu target(s)%s\n",
		       o.flags.config_path ? o.flags.config_path : "(defaults)", c->db,
		       c->listen_addr, (unsigned)c->port, c->interval_s, c->n_targets,
		       c->n_targets == 0 ? " (automatic: top processes)" : "");
		status = 0;
		goto out;
	}
	/* The database path must survive chdir("/") when detaching. */
	if (!os_path_is_absolute(c->db)) {
		char cwd[CONFIG_PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    snprintf(abs_db, sizeof(abs_db), "%s/%s", cwd, c->db) >= (int)sizeof(abs_db)) {
			fprintf(stderr, "memdeltad: %s: path too long\n", c->db);
			goto out;
		}
		snprintf(c->db, sizeof(c->db), "%s", abs_db);
	}
	sink = log_sink_choose(c->log_sink, c->log_sink_set, service_controlled());
	log_init(sink, c->log_level, "memdeltad");
	if (log_set_file(c->log_file) != 0)
		log_warn("log_file %s: %s", c->log_file, strerror(errno));
	/* A service's stderr leads nowhere: without log= its lines would be
	 * lost.  Said once, so that log_file shows which sink was chosen. */
	if (sink != c->log_sink)
		log_info("running as a service without a log= setting: logging to the system log "
		         "(the Application Event Log, source memdeltad)");
	if (c->token[0] != '\0' && o.flags.config_path != NULL) {
		if (os_world_readable(o.flags.config_path))
			log_warn("%s holds the access token and is readable by every user "
			         "(chmod o-r)",
			         o.flags.config_path);
	}
	if (!o.foreground && !systemd) {
		if (os_detach(&ready_fd) != 0) {
			fprintf(stderr, "memdeltad: cannot detach: %s\n", strerror(errno));
			goto out;
		}
		if (ready_fd >= 0 && chdir("/") != 0)
			goto out;
	}
	/* Stop and reload requests are taken synchronously by the scheduler. */
	if (os_events_init() != 0) {
		log_error("cannot set up the stop and reload requests");
		goto out;
	}

	if (os_make_parent_dirs(c->db) != 0)
		log_warn("cannot create the directory of %s: %s", c->db, strerror(errno));
	/* before the web server: none of its readers may open a damaged file */
	if (db_check_at_start(c->db) != 0)
		goto out;
	memset(&wc, 0, sizeof(wc));
	wc.listen_addr = c->listen_addr;
	wc.port = c->port;
	wc.db_path = c->db;
	wc.token = c->token[0] != '\0' ? c->token : NULL;
	wc.allowed_hosts = (const char *const *)c->allowed_hosts;
	wc.n_allowed_hosts = c->n_allowed_hosts;
	wc.trend_params = &c->alerts.trend;
	wc.threads = c->web_threads;
	wc.connection_limit = c->web_connection_limit;
	wc.per_ip_limit = c->web_per_ip_limit;
	wc.timeout_s = c->web_timeout_s;
	rc = web_start(&wc, &w, &why);
	if (rc != 0) {
		log_error("cannot start the web server on %s:%u: %s%s%s", c->listen_addr,
		          (unsigned)c->port, md_strerror(rc), why ? ": " : "", why ? why : "");
		goto out;
	}
	rc = db_open_at_start(&d, w, &ready_fd, &st);
	if (rc == 1) {
		status = 0; /* stopped while waiting */
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = sched_new(c, st, w, &s);
	if (rc == 0)
		rc = sinks_new(&c->sinks, &d.sinks);
	if (rc == 0)
		rc = alerts_new(st, d.sinks, &d.alerts);
	if (rc != 0) {
		log_error("%s", md_strerror(rc));
		goto out;
	}
	sched_set_alerts(s, d.alerts);
	log_info("memdeltad %s: database %s, UI http://%s%s%s:%u/, %zu target(s)%s",
	         PACKAGE_VERSION, c->db, strchr(c->listen_addr, ':') ? "[" : "", c->listen_addr,
	         strchr(c->listen_addr, ':') ? "]" : "", (unsigned)web_port(w), c->n_targets,
	         c->n_targets == 0 ? ", watching the top processes" : "");
	announce_ready(&d, &ready_fd, "READY=1\nSTATUS=sampling");
	hooks.reload = reload_config;
	hooks.arg = &d;
	rc = sched_run(s, &hooks);
	status = rc == 0 ? 0 : EXIT_START;
	log_info("stopped");
out:
	sched_free(s);
	alerts_free(d.alerts);
	/* the current sinks and the ones SIGHUP replaced stop together */
	sinks_retire(d.sinks);
	(void)sinks_retired_wait(SINKS_STOP_GRACE_MS);
	web_stop(w);
	store_close(st);
	config_done(&d.slot[0]);
	config_done(&d.slot[1]);
	return status;
}
