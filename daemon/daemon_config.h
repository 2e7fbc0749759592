/*
 * daemon_config.h - memdeltad's configuration: built-in defaults, the INI file
 * (parsed with libinih) and the command-line flags that override it.
 *
 * A configuration is built in three steps: config_init() sets the defaults
 * (the database in the state directory, the UI on 127.0.0.1:7373, a 10 s
 * interval, no targets: watch the top 10), config_load_file() reads an INI
 * file over them, config_apply_flags() applies the flags last.  Every error
 * names the file and line.  docs/configuration.md lists every key.
 */
#ifndef MEMDELTA_DAEMON_CONFIG_H
#define MEMDELTA_DAEMON_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/compat/md_regex.h"
#include "daemon/log.h"
#include "diff/trend.h"
#include "snapshot/store.h"

#define CONFIG_PATH_MAX 4096
#define CONFIG_NAME_MAX 256
#define CONFIG_ERR_MAX  512

/* Defaults. */
#define CONFIG_DEFAULT_INTERVAL_S  10
#define CONFIG_DEFAULT_BUDGET_MS   2000
#define CONFIG_DEFAULT_AUTO_TOP    10
#define CONFIG_DEFAULT_AUTO_RESCAN 60
#define CONFIG_MAX_INTERVAL_S      86400

/* A full read of smaps at least every this many ticks (scheduler.c). */
#define CONFIG_DEFAULT_FULL_READ_EVERY 30
#define CONFIG_DEFAULT_MAP_CHECK_EVERY 6
#define CONFIG_MAX_FULL_READ_EVERY     100000

/* Alert defaults (docs/alerts.md); the detector's are trend_params_defaults(). */
#define CONFIG_DEFAULT_EVAL_INTERVAL_S 60
#define CONFIG_DEFAULT_TOP_REGIONS     10
#define CONFIG_DEFAULT_MAP_FRACTION    0.9
#define CONFIG_DEFAULT_EXEC_TIMEOUT_S  10
#define CONFIG_DEFAULT_HOOK_TIMEOUT_S  5
#define CONFIG_DEFAULT_HOOK_RETRIES    3
#define CONFIG_DEFAULT_SINK_QUEUE      64
#define CONFIG_URL_MAX                 1024
#define CONFIG_EXEC_ARGS_MAX           32

/* Leak detection settings: the [alerts] section, and per target the same
 * keys in its [target NAME] section (config_target_alerts() merges them). */
struct alert_params {
	int enabled;               /* 0: no alert for this target (default 1) */
	struct trend_params trend; /* warmup, window, ... */
	unsigned eval_interval_s;  /* evaluate the trend this often (default 60) */
	int watch_touched;         /* the trend rule watches private_touched, not _committed */
	uint64_t threshold_bytes;  /* threshold rule: first level (0: off) */
	uint64_t every_bytes;      /* then every further this many bytes (0: once) */
	double map_count_fraction; /* map-count rule: fraction of vm.max_map_count (0: off) */
	unsigned top_regions;      /* regions listed in an alert (default 10) */
};

/* Where alerts go besides the log (the [alerts] section only). */
struct alert_sinks_config {
	char exec_path[CONFIG_PATH_MAX];       /* "" : no command */
	char *exec_args[CONFIG_EXEC_ARGS_MAX]; /* argv[1..], owned; n_exec_args used */
	size_t n_exec_args;
	unsigned exec_timeout_s;
	char webhook_url[CONFIG_URL_MAX]; /* "" : no webhook */
	unsigned webhook_timeout_s;
	unsigned webhook_retries;
	int syslog;         /* also send each alert to syslog(3) (journald) */
	unsigned queue_len; /* alerts each sink buffers before dropping the oldest */
};

enum target_kind {
	TARGET_PID = 0, /* one process id */
	TARGET_NAME,    /* executable name: comm, basename of argv[0] or of /proc/PID/exe */
	TARGET_CMDLINE, /* POSIX extended regex over the command line */
};

struct config_target {
	char name[CONFIG_NAME_MAX]; /* the target's name in the store */
	enum target_kind kind;
	int pid;                     /* TARGET_PID */
	char match[CONFIG_NAME_MAX]; /* TARGET_NAME: the name; TARGET_CMDLINE: the regex text */
	regex_t re;                  /* TARGET_CMDLINE, compiled when have_re */
	int have_re;
	unsigned interval_s;        /* 0: the global interval */
	unsigned budget_ms;         /* 0: the global budget */
	size_t max_regions;         /* 0: no limit */
	unsigned line;              /* where the section starts (0 for flags) */
	struct alert_params alerts; /* the alert keys set in the section ... */
	uint64_t alert_keys_set;    /* ... one bit per key (see config_target_alerts) */
	unsigned full_read_every;   /* 0: the global full_read_every */
	unsigned map_check_every;   /* 0: the global map_check_every */
};

struct config {
	char db[CONFIG_PATH_MAX];
	char listen_addr[64]; /* numeric address */
	uint16_t port;
	char token[CONFIG_NAME_MAX];
	char **allowed_hosts; /* extra Host names for the web server */
	size_t n_allowed_hosts;
	unsigned interval_s; /* default per-target interval */
	unsigned budget_ms;  /* default per-target time budget */
	size_t max_regions;  /* default per-target region cap (0: none) */
	/* Between two full reads of smaps, a tick whose cheap probe equals the
	 * last full read's stores that snapshot again; a full read happens at
	 * least every full_read_every ticks (1: every tick, no probing).  The
	 * probe reads the totals every tick and the region structure (maps)
	 * every map_check_every ticks (1: every tick). */
	unsigned full_read_every;
	unsigned map_check_every;
	enum log_sink log_sink;
	int log_sink_set; /* log= was given: log_sink_choose() keeps it as it is */
	enum log_level log_level;
	char log_file[CONFIG_PATH_MAX]; /* log_file=: also append every line here ("": no) */
	struct store_retention retention;
	uint64_t db_max_bytes; /* db_max_mb=: cap of the database file (0: none) */
	unsigned auto_top;     /* processes watched when no target is configured */
	struct config_target *targets;
	size_t n_targets;
	struct alert_params alerts; /* [alerts]: every target's unless it sets its own */
	struct alert_sinks_config sinks;
	/* [web]: the HTTP server's limits (0: web.h's default). */
	unsigned web_threads;
	unsigned web_connection_limit;
	unsigned web_per_ip_limit;
	unsigned web_timeout_s; /* idle connections, and a request's header */
};

/* The command-line flags that override the file; a NULL / 0 member is unset. */
struct config_flags {
	const char *config_path;
	const char *db;
	const char *listen; /* ADDR:PORT, [V6]:PORT, ADDR or :PORT */
	unsigned interval_s;
	const int *watch_pids;
	size_t n_watch_pids;
	const char *const *watch_names;
	size_t n_watch_names;
};

/* The inputs of the state-directory rule, so that it can be tested. */
struct config_env {
	const char *state_directory; /* $STATE_DIRECTORY (systemd; may list several, ':') */
	const char *xdg_state_home;  /* $XDG_STATE_HOME */
	const char *home;            /* $HOME */
	int is_root;
	const char *program_data; /* Windows: %ProgramData% (NULL elsewhere) */
};

/* Fill @e from the environment and geteuid() (os_posix.c); on Windows from
 * %ProgramData% alone (os_windows.c). */
void config_env_from_process(struct config_env *e);

/* The default database path: on Windows %ProgramData%\memdelta\memdelta.db;
 * else $STATE_DIRECTORY/memdelta.db (its first entry),
 * else /var/lib/memdelta/memdelta.db as root, else
 * $XDG_STATE_HOME/memdelta/memdelta.db, else ~/.local/state/memdelta/memdelta.db.
 * Returns 0, MD_ERR_NOTFOUND when no rule applies (no HOME), MD_ERR_INVAL
 * when @buf is too small. */
int config_default_db(const struct config_env *e, char *buf, size_t len);

/* Set every default into @c (cleared first); @e gives the database path (the
 * db stays "" when no rule applies).  Pair with config_done(). */
void config_init(struct config *c, const struct config_env *e);
/* Free what @c owns; @c is left zeroed.  Fine on a zeroed struct. */
void config_done(struct config *c);

/* Read the INI file @path over @c.  Returns 0; MD_ERR_IO when it cannot be
 * opened; MD_ERR_PARSE for a syntax error, an unknown section or key, a bad
 * value, a target without or with two of pid=/name=/cmdline=, or a duplicate
 * target: @err (may be NULL) then reads "FILE:LINE: what is wrong".  On error
 * @c may be partly changed: load into a fresh config. */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);

/* Parse the same INI text from a string (tests); @origin names it in errors. */
int config_load_string(struct config *c, const char *text, const char *origin, char *err,
                       size_t errlen);

/* Apply the flags over @c: --db, --listen, --interval; --watch-pid N adds a
 * target "pid:N", --watch-name NAME a target NAME (both after the file's
 * targets; a name already configured is not added twice).  Returns 0 or
 * MD_ERR_PARSE / MD_ERR_NOMEM with @err set. */
int config_apply_flags(struct config *c, const struct config_flags *f, char *err, size_t errlen);

/* Parse "ADDR:PORT", "[V6ADDR]:PORT", "ADDR" (port unchanged) or ":PORT"
 * (address unchanged) into @addr / @port.  Returns 0 or MD_ERR_PARSE. */
int config_parse_listen(const char *s, char *addr, size_t addrlen, uint16_t *port);

/* The alert settings of target @t (NULL: an automatic target): the [alerts]
 * section with the keys @t's section sets over it. */
void config_target_alerts(const struct config *c, const struct config_target *t,
                          struct alert_params *out);

/* 1 when @addr (numeric, as config_parse_listen leaves it) is a loopback
 * address: 127.0.0.0/8, ::1 or ::ffff:127.x.y.z. */
int config_listen_is_loopback(const char *addr);

/* Final checks after flags: a database path is known; a listen address
 * that is not loopback has a token.  Returns 0 or MD_ERR_INVAL with @err
 * set. */
int config_validate(const struct config *c, char *err, size_t errlen);

#endif
