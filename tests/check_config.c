/*
 * check_config.c - unit tests of memdeltad's modules that need no running
 * daemon: the configuration (daemon/daemon_config.c: every key, every kind
 * of error with its line, flags over the file, the state-directory rule),
 * the log sink memdeltad starts with (daemon/log.c's log_sink_choose: a
 * Windows service without log= logs to the Event Log), target matching and
 * the automatic top N on synthetic process lists and on
 * a synthetic /proc tree (daemon/targets.c), and the systemd notify
 * datagram received on a socket of the test's own (daemon/sdnotify.c).
 */
#include "config.h"

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/daemon_config.h"
#include "daemon/sdnotify.h"
#include "daemon/targets.h"
#include "snapshot/mderr.h"
#include "tests/testutil.h"

#define DAY_MS (86400 * (int64_t)1000)

static const struct config_env no_env = {NULL, NULL, "/home/u", 0, NULL};

/* Load @text into a fresh config; returns the status, @err filled. */
static int
load(struct config *c, const char *text, char *err, size_t errlen)
{
	config_init(c, &no_env);
	return config_load_string(c, text, "t.conf", err, errlen);
}

/* Assert that @text fails with an error naming line @line and containing @what. */
static void
assert_bad(const char *text, unsigned line, const char *what)
{
	struct config c;
	char err[CONFIG_ERR_MAX + 64], prefix[32];
	int rc = load(&c, text, err, sizeof(err));

	ck_assert_msg(rc == MD_ERR_PARSE, "accepted: %s", text);
	snprintf(prefix, sizeof(prefix), "t.conf:%u: ", line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "'%s' should start with '%s'", err,
	              prefix);
	ck_assert_msg(strstr(err, what) != NULL, "'%s' should say '%s'", err, what);
	config_done(&c);
}

/* ---- config_default_db ---------------------------------------------------- */

START_TEST(test_config_default_db__state_directory_first)
{
	struct config_env e = {"/var/lib/memdelta:/var/lib/other", "/x", "/home/u", 1, NULL};
	char buf[256];

	ck_assert_int_eq(config_default_db(&e, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/var/lib/memdelta/memdelta.db");
	e.state_directory = "/run/sd";
	e.is_root = 0;
	ck_assert_int_eq(config_default_db(&e, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/run/sd/memdelta.db");
}
END_TEST

START_TEST(test_config_default_db__root_then_xdg_then_home)
{
	struct config_env e = {NULL, "/xdg", "/home/u", 1, NULL};
	char buf[256];

	ck_assert_int_eq(config_default_db(&e, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/var/lib/memdelta/memdelta.db");
	e.is_root = 0;
	ck_assert_int_eq(config_default_db(&e, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/xdg/memdelta/memdelta.db");
	e.state_directory = "";        /* empty counts as unset */
	e.xdg_state_home = "relative"; /* the XDG spec ignores relative paths */
	ck_assert_int_eq(config_default_db(&e, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/home/u/.local/state/memdelta/memdelta.db");
	e.xdg_state_home = NULL;
	e.home = NULL;
	ck_assert_int_eq(config_default_db(&e, buf, sizeof(buf)), MD_ERR_NOTFOUND);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_config_default_db__windows_program_data)
{
	/* Windows: %ProgramData%\memdelta, whatever else is set. */
	struct config_env e = {"/run/sd", "/xdg", "/home/u", 1, "C:\\ProgramData"};
	char buf[256];

	ck_assert_int_eq(config_default_db(&e, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "C:\\ProgramData\\memdelta\\memdelta.db");
	e.program_data = "";
	ck_assert_int_eq(config_default_db(&e, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/run/sd/memdelta.db");
}
END_TEST

START_TEST(test_config_default_db__too_small)
{
	struct config_env e = {NULL, "/xdg", NULL, 0, NULL};
	char buf[10];

	ck_assert_int_eq(config_default_db(&e, buf, sizeof(buf)), MD_ERR_INVAL);
	ck_assert_str_eq(buf, "");
}
END_TEST

/* ---- config_init ---------------------------------------------------------- */

START_TEST(test_config_init__defaults)
{
	struct config c;
	struct config_env e = {NULL, NULL, NULL, 0, NULL};

	config_init(&c, &no_env);
	ck_assert_str_eq(c.db, "/home/u/.local/state/memdelta/memdelta.db");
	ck_assert_str_eq(c.listen_addr, "127.0.0.1");
	ck_assert_uint_eq(c.port, 7373);
	ck_assert_uint_eq(c.interval_s, 10);
	ck_assert_uint_eq(c.auto_top, 10);
	ck_assert_uint_eq(c.full_read_every, 30);
	ck_assert_uint_eq(c.map_check_every, 6);
	ck_assert_uint_eq(c.n_targets, 0);
	ck_assert_int_eq(c.log_sink, LOG_SINK_STDERR);
	ck_assert_int_eq(c.log_level, LOG_LEVEL_INFO);
	ck_assert_int_eq(c.retention.raw_ms, 7 * DAY_MS);
	ck_assert_int_eq(c.retention.alert_ms, 90 * DAY_MS);
	{
		struct trend_params tp;

		trend_params_defaults(&tp);
		ck_assert(memcmp(&tp, &c.alerts.trend, sizeof(tp)) == 0);
	}
	ck_assert_int_eq(c.alerts.enabled, 1);
	ck_assert_uint_eq(c.alerts.eval_interval_s, 60);
	ck_assert_uint_eq(c.alerts.top_regions, 10);
	ck_assert(c.alerts.map_count_fraction == 0.9);
	ck_assert_uint_eq(c.alerts.threshold_bytes, 0);
	ck_assert_str_eq(c.sinks.exec_path, "");
	ck_assert_str_eq(c.sinks.webhook_url, "");
	ck_assert_uint_eq(c.sinks.exec_timeout_s, 10);
	ck_assert_uint_eq(c.sinks.webhook_timeout_s, 5);
	ck_assert_uint_eq(c.sinks.webhook_retries, 3);
	ck_assert_uint_eq(c.sinks.queue_len, 64);
	config_done(&c);
	config_init(&c, &e);
	ck_assert_str_eq(c.db, "");
	ck_assert_int_eq(config_validate(&c, NULL, 0), MD_ERR_INVAL);
	config_done(&c);
}
END_TEST

/* ---- config_load_string / config_load_file -------------------------------- */

static const char good[] = "; memdeltad test configuration\n"
                           "[memdeltad]\n"
                           "db = /srv/md.db\n"
                           "listen = 0.0.0.0:8080\n"
                           "token = s3cret\n"
                           "allowed_hosts = mon.example, mon2.example:8080\n"
                           "interval = 30\n"
                           "budget_ms = 250\n"
                           "max_regions = 5000\n"
                           "full_read_every = 12\n"
                           "map_check_every = 3\n"
                           "log = syslog\n"
                           "log_level = debug\n"
                           "retention_raw_days = 3\n"
                           "retention_minute_days = 30\n"
                           "retention_hour_days = 400\n"
                           "retention_raw_max_mb = 100\n"
                           "retention_minute_max_mb = 20\n"
                           "retention_hour_max_mb = 5\n"
                           "auto_top = 3\n"
                           "db_max_mb = 512\n"
                           "\n"
                           "[target web]\n"
                           "name = w3wp.exe\n"
                           "interval = 5\n"
                           "budget_ms = 100\n"
                           "max_regions = 60000\n"
                           "full_read_every = 1\n"
                           "map_check_every = 2\n"
                           "[target  batch jobs ]\n"
                           "cmdline = ^java .*-jar (batch|etl)\\.jar\n"
                           "[target one]\n"
                           "pid = 4242\n";

START_TEST(test_config_load_string__every_key)
{
	struct config c;
	char err[CONFIG_ERR_MAX + 64];

	ck_assert_int_eq(load(&c, good, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(c.db, "/srv/md.db");
	ck_assert_str_eq(c.listen_addr, "0.0.0.0");
	ck_assert_uint_eq(c.port, 8080);
	ck_assert_str_eq(c.token, "s3cret");
	ck_assert_uint_eq(c.n_allowed_hosts, 2);
	ck_assert_str_eq(c.allowed_hosts[0], "mon.example");
	ck_assert_str_eq(c.allowed_hosts[1], "mon2.example:8080");
	ck_assert_uint_eq(c.interval_s, 30);
	ck_assert_uint_eq(c.budget_ms, 250);
	ck_assert_uint_eq(c.max_regions, 5000);
	ck_assert_uint_eq(c.full_read_every, 12);
	ck_assert_uint_eq(c.map_check_every, 3);
	ck_assert_int_eq(c.log_sink, LOG_SINK_SYSLOG);
	ck_assert_int_eq(c.log_level, LOG_LEVEL_DEBUG);
	ck_assert_int_eq(c.retention.raw_ms, 3 * DAY_MS);
	ck_assert_int_eq(c.retention.minute_ms, 30 * DAY_MS);
	ck_assert_int_eq(c.retention.hour_ms, 400 * DAY_MS);
	ck_assert_uint_eq(c.retention.raw_max_bytes, 100u << 20);
	ck_assert_uint_eq(c.retention.minute_max_bytes, 20u << 20);
	ck_assert_uint_eq(c.retention.hour_max_bytes, 5u << 20);
	ck_assert_uint_eq(c.auto_top, 3);
	ck_assert_uint_eq(c.db_max_bytes, 512u << 20);
	ck_assert_uint_eq(c.n_targets, 3);
	ck_assert_str_eq(c.targets[0].name, "web");
	ck_assert_int_eq(c.targets[0].kind, TARGET_NAME);
	ck_assert_str_eq(c.targets[0].match, "w3wp.exe");
	ck_assert_uint_eq(c.targets[0].interval_s, 5);
	ck_assert_uint_eq(c.targets[0].budget_ms, 100);
	ck_assert_uint_eq(c.targets[0].max_regions, 60000);
	ck_assert_uint_eq(c.targets[0].full_read_every, 1);
	ck_assert_uint_eq(c.targets[0].map_check_every, 2);
	ck_assert_str_eq(c.targets[1].name, "batch jobs");
	ck_assert_int_eq(c.targets[1].kind, TARGET_CMDLINE);
	ck_assert_int_eq(c.targets[1].have_re, 1);
	ck_assert_uint_eq(c.targets[1].interval_s, 0); /* inherits */
	ck_assert_uint_eq(c.targets[1].full_read_every, 0);
	ck_assert_uint_eq(c.targets[1].map_check_every, 0);
	ck_assert_str_eq(c.targets[2].name, "one");
	ck_assert_int_eq(c.targets[2].kind, TARGET_PID);
	ck_assert_int_eq(c.targets[2].pid, 4242);
	config_done(&c);
}
END_TEST

START_TEST(test_config_load_string__ipv6_listen_and_empty_file)
{
	struct config c;
	char err[CONFIG_ERR_MAX + 64];

	ck_assert_int_eq(load(&c, "[memdeltad]\nlisten = [::1]:9000\n", err, sizeof(err)), 0);
	ck_assert_str_eq(c.listen_addr, "::1");
	ck_assert_uint_eq(c.port, 9000);
	config_done(&c);
	ck_assert_int_eq(load(&c, "", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.port, 7373);
	ck_assert_int_eq(load(&c, "# only a comment\n\n", err, sizeof(err)), 0);
	config_done(&c);
}
END_TEST

START_TEST(test_config_load_string__errors_name_the_line)
{
	assert_bad("[memdeltad]\ninterval = 10\nfrobnicate = 1\n", 3, "unknown key 'frobnicate'");
	assert_bad("[memdeltad]\n\n\ninterval = ten\n", 4, "interval: 'ten'");
	assert_bad("[memdeltad]\ninterval = 0\n", 2, "from 1 to");
	assert_bad("[memdeltad]\ninterval = 10s\n", 2, "'10s'");
	assert_bad("[memdeltad]\nfull_read_every = 0\n", 2, "full_read_every: '0'");
	assert_bad("[target a]\nname = x\nfull_read_every = often\n", 3, "full_read_every");
	assert_bad("[memdeltad]\nmap_check_every = 0\n", 2, "map_check_every: '0'");
	/* repetition stacked 5 deep: glibc's regcomp would need memory doubling
	 * with each (fuzz_config's out-of-memory input); 4 deep is accepted */
	assert_bad("[target a]\ncmdline = ed+++++y\n", 2, "more than 4 deep");
	assert_bad("[target a]\ncmdline = (((((e)+)+)+)+)+\n", 2, "more than 4 deep");
	assert_bad("[target a]\ncmdline = a{2,3}{2}{2}{2}{2}\n", 2, "more than 4 deep");
	/* more than 2,048 positions once expanded: a{1000}{1000} took 210 MB,
	 * and copies that may be empty grow with the square ("a*{21222}" after
	 * ".*" took 3.5 GB, fuzz_config's second out-of-memory input) */
	assert_bad("[target a]\ncmdline = a{1000}{1000}\n", 2, "more than 2048 positions");
	assert_bad("[target a]\ncmdline = (x{2,300}){300}\n", 2, "more than 2048 positions");
	assert_bad("[target a]\ncmdline = ^java .*-ja\\]2*{21222}\n", 2,
	           "more than 2048 positions");
	assert_bad("[target a]\ncmdline = (a*){255}{255}\n", 2, "more than 2048 positions");
	assert_bad("[target a]\ncmdline = a{0,2049}\n", 2, "more than 2048 positions");
	/* the two lines fuzz_config ran out of memory on, byte for byte (its
	 * inputs, tests/fuzz/corpus/config/regex-*-oom, are replayed by every
	 * fuzzing run; here without one) */
	assert_bad("[target a]\ncmdline =\x08"
	           "ed+++++++++++++++++++++++++++y = \xdf"
	           "e\xbb\xa3N\x9c}[target _er = mdeltad]\n",
	           2, "more than 4 deep");
	assert_bad(
	        "[target a]\ncmdline = ^java .*-jamemdeho22]22222222\xbf\xe3*{21222}[target _er = "
	        "mdeltad]\n",
	        2, "more than 2048 positions");
	assert_bad("[target a]\ncmdline = a{2048,}\n", 2, "more than 2048 positions");
	assert_bad("[target a]\ncmdline = (ab|c)+{1000}\n", 2, "more than 2048 positions");
	assert_bad("[target a]\ncmdline = x*{1024}y*{1024}z\n", 2, "more than 2048 positions");
	{
		/* 65 nested groups are refused, 64 pass */
		char deep[256];
		struct config c;
		char err[CONFIG_ERR_MAX + 64];
		size_t n = (size_t)snprintf(deep, sizeof(deep), "[target a]\ncmdline = ");

		for (int i = 0; i < 65; i++)
			deep[n++] = '(';
		deep[n++] = 'a';
		for (int i = 0; i < 65; i++)
			deep[n++] = ')';
		memcpy(deep + n, "\n", 2);
		assert_bad(deep, 2, "nested more than 64 deep");
		/* one level fewer: drop the first '(' and the last ')' */
		memmove(deep + 21, deep + 22, n - 22);
		memcpy(deep + n - 2, "\n", 2);
		ck_assert_msg(load(&c, deep, err, sizeof(err)) == 0, "%s: %s", deep, err);
		config_done(&c);
	}
	{
		static const char *const fine[] = {
		        "[target a]\ncmdline = ed++++y\n",
		        "[target a]\ncmdline = ((((e)+)+)+)+\n",
		        "[target a]\ncmdline = a{0,2048}\n",
		        "[target a]\ncmdline = a{2047,}\n",
		        "[target a]\ncmdline = x*{1024}y*{1023}z\n",
		        "[target a]\ncmdline = (ab|c){10}d{1000}\n",
		        "[target a]\ncmdline = [+*]+a\\+\\+\\+\\+\\+\\+x*y*z*\n",
		        "[target a]\ncmdline = ^java .*-Xmx[0-9]+[mg] .*\\.jar( |$)\n"};
		struct config c;
		char err[CONFIG_ERR_MAX + 64];

		for (size_t k = 0; k < sizeof(fine) / sizeof(fine[0]); k++) {
			ck_assert_msg(load(&c, fine[k], err, sizeof(err)) == 0, "%s: %s", fine[k],
			              err);
			config_done(&c);
		}
	}
	assert_bad("[target a]\nname = x\n\nmap_check_every = -1\n", 4, "map_check_every");
	assert_bad("[memdeltad]\nthis line is not ini\n", 2, "syntax error");
	assert_bad("[memdeltad\ninterval = 1\n", 1, "syntax error");
	assert_bad("interval = 5\n", 1, "outside a section");
	assert_bad("[memdeltad]\nlog = journal\n", 2, "neither stderr nor syslog");
	assert_bad("[memdeltad]\nlog_level = loud\n", 2, "log_level");
	assert_bad("[memdeltad]\nlisten = localhost:80\n", 2, "listen");
	assert_bad("[memdeltad]\nlisten = 127.0.0.1:70000\n", 2, "listen");
	assert_bad("[memdeltad]\ndb =\n", 2, "db: empty value");
	assert_bad("[memdeltad]\ninterval = 5\ninterval = 6\n", 3, "set twice");
	assert_bad("[memdeltad]\nretention_raw_days = -1\n", 2, "retention_raw_days");
	assert_bad("[server]\nport = 1\n", 1, "unknown section [server]");
	assert_bad("[memdeltad]\npid = 3\n", 2, "unknown key 'pid'");
	assert_bad("[target a]\nname = x\ntoken = y\n", 3, "unknown key 'token'");
	assert_bad("[target a]\nname = x\npid = 3\n", 3, "exactly one of");
	assert_bad("[target a]\ncmdline = ([unclosed\n", 2, "bad regular expression");
	assert_bad("[target a]\npid = 0\n", 2, "pid");
	assert_bad("[memdeltad]\n\n[target a]\ninterval = 5\n", 3, "needs one of pid=");
	assert_bad("[target a]\nname = x\n[target b]\nname = y\n[target a]\nname = z\n", 5,
	           "defined twice (first on line 1)");
	assert_bad("[target ]\nname = x\n", 1, "the name must have");
	/* The first error wins, even when a syntax error follows. */
	assert_bad("[memdeltad]\ninterval = x\nnot ini\n", 2, "interval");
	assert_bad("[memdeltad]\nnot ini\ninterval = x\n", 2, "syntax error");
}
END_TEST

/* ---- the [alerts] section and per-target alert keys ------------------------ */

static const char alerts_conf[] = "[alerts]\n"
                                  "alerts = on\n"
                                  "warmup = 5m\n"
                                  "window = 2h\n"
                                  "min_span = 1800\n"
                                  "step = 30s\n"
                                  "min_window = 5m\n"
                                  "alpha = 0.05\n"
                                  "min_r2 = 0.5\n"
                                  "min_mb_per_h = 2.5\n"
                                  "min_pct_per_h = 0.2\n"
                                  "fire_after = 4\n"
                                  "resolve_after = 10\n"
                                  "resolve_ratio = 0.25\n"
                                  "recent_frac = 0.5\n"
                                  "recent_ratio = 0.6\n"
                                  "eval_interval = 2m\n"
                                  "series = private_touched\n"
                                  "threshold_mb = 1024\n"
                                  "every_mb = 256\n"
                                  "map_count_fraction = 0.75\n"
                                  "top_regions = 5\n"
                                  "retention_days = 30\n"
                                  "exec = /usr/local/bin/page me;now\n"
                                  "exec_args = --to ops \"two words\" \"a \\\"q\\\" b\" $(x)\n"
                                  "exec_timeout = 20s\n"
                                  "webhook = https://hooks.example/memdelta?x=1\n"
                                  "webhook_timeout = 3\n"
                                  "webhook_retries = 5\n"
                                  "syslog = yes\n"
                                  "queue = 8\n"
                                  "[target java]\n"
                                  "name = java\n"
                                  "window = 12h\n"
                                  "threshold_mb = 4096\n"
                                  "alerts = off\n"
                                  "[target plain]\n"
                                  "pid = 7\n";

START_TEST(test_config_load_string__alerts_section_and_target_overrides)
{
	struct config c;
	struct alert_params a, d;
	char err[CONFIG_ERR_MAX + 64];

	ck_assert_int_eq(load(&c, alerts_conf, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(c.alerts.enabled, 1);
	ck_assert_int_eq(c.alerts.trend.warmup_ms, 300000);
	ck_assert_int_eq(c.alerts.trend.window_ms, 7200000);
	ck_assert_int_eq(c.alerts.trend.min_span_ms, 1800000);
	ck_assert_int_eq(c.alerts.trend.step_ms, 30000);
	ck_assert_int_eq(c.alerts.trend.min_window_ms, 300000);
	ck_assert(c.alerts.trend.alpha == 0.05);
	ck_assert(c.alerts.trend.min_r2 == 0.5);
	ck_assert(c.alerts.trend.min_bytes_per_h == 2.5 * 1048576);
	ck_assert(c.alerts.trend.min_pct_per_h == 0.2);
	ck_assert_uint_eq(c.alerts.trend.fire_after, 4);
	ck_assert_uint_eq(c.alerts.trend.resolve_after, 10);
	ck_assert(c.alerts.trend.resolve_ratio == 0.25);
	ck_assert(c.alerts.trend.recent_frac == 0.5);
	ck_assert(c.alerts.trend.recent_ratio == 0.6);
	ck_assert_uint_eq(c.alerts.eval_interval_s, 120);
	ck_assert_int_eq(c.alerts.watch_touched, 1);
	ck_assert_uint_eq(c.alerts.threshold_bytes, 1024ull << 20);
	ck_assert_uint_eq(c.alerts.every_bytes, 256ull << 20);
	ck_assert(c.alerts.map_count_fraction == 0.75);
	ck_assert_uint_eq(c.alerts.top_regions, 5);
	ck_assert_int_eq(c.retention.alert_ms, 30 * DAY_MS);
	/* no shell: ';' stays in the path, words split on blanks and quotes */
	ck_assert_str_eq(c.sinks.exec_path, "/usr/local/bin/page me;now");
	ck_assert_uint_eq(c.sinks.n_exec_args, 5);
	ck_assert_str_eq(c.sinks.exec_args[0], "--to");
	ck_assert_str_eq(c.sinks.exec_args[1], "ops");
	ck_assert_str_eq(c.sinks.exec_args[2], "two words");
	ck_assert_str_eq(c.sinks.exec_args[3], "a \"q\" b");
	ck_assert_str_eq(c.sinks.exec_args[4], "$(x)");
	ck_assert_uint_eq(c.sinks.exec_timeout_s, 20);
	ck_assert_str_eq(c.sinks.webhook_url, "https://hooks.example/memdelta?x=1");
	ck_assert_uint_eq(c.sinks.webhook_timeout_s, 3);
	ck_assert_uint_eq(c.sinks.webhook_retries, 5);
	ck_assert_int_eq(c.sinks.syslog, 1);
	ck_assert_uint_eq(c.sinks.queue_len, 8);

	/* [target java] overrides three keys and inherits the rest */
	ck_assert_uint_eq(c.n_targets, 2);
	config_target_alerts(&c, &c.targets[0], &a);
	ck_assert_int_eq(a.enabled, 0);
	ck_assert_int_eq(a.trend.window_ms, 12 * 3600000);
	ck_assert_uint_eq(a.threshold_bytes, 4096ull << 20);
	ck_assert_int_eq(a.trend.warmup_ms, 300000);
	ck_assert_uint_eq(a.every_bytes, 256ull << 20);
	ck_assert_uint_eq(a.top_regions, 5);
	config_target_alerts(&c, &c.targets[1], &d);
	ck_assert(memcmp(&d, &c.alerts, sizeof(d)) == 0);
	config_target_alerts(&c, NULL, &d); /* an automatic target */
	ck_assert(memcmp(&d, &c.alerts, sizeof(d)) == 0);
	config_done(&c);
}
END_TEST

START_TEST(test_config_load_string__alert_errors_name_the_line)
{
	assert_bad("[alerts]\nwarmup = soon\n", 2, "warmup: 'soon' is not a duration");
	assert_bad("[alerts]\nwindow = 0\n", 2, "window");
	assert_bad("[alerts]\nwindow = 400d\n", 2, "window");
	assert_bad("[alerts]\nstep = -5s\n", 2, "step");
	assert_bad("[alerts]\nalpha = 1\n", 2, "alpha: '1' is not a number in (0, 1)");
	assert_bad("[alerts]\nalpha = 0\n", 2, "alpha");
	assert_bad("[alerts]\nmin_r2 = 1.5\n", 2, "min_r2");
	assert_bad("[alerts]\nmin_mb_per_h = nan\n", 2, "min_mb_per_h");
	assert_bad("[alerts]\nfire_after = 0\n", 2, "fire_after");
	assert_bad("[alerts]\nresolve_ratio = 2\n", 2, "resolve_ratio");
	assert_bad("[alerts]\nrecent_frac = 1\n", 2, "recent_frac");
	assert_bad("[alerts]\nseries = heap\n", 2, "neither private_committed");
	assert_bad("[alerts]\nmap_count_fraction = 1.1\n", 2, "map_count_fraction");
	assert_bad("[alerts]\nalerts = maybe\n", 2, "neither on nor off");
	assert_bad("[alerts]\nexec = page-me\n", 2, "not an absolute path");
	/* CreateProcessW would run a batch file through cmd.exe: refused on
	 * every platform, in any case, with the endings Windows ignores. */
	assert_bad("\n[alerts]\nexec = C:\\tools\\page.bat\n", 3, "is a batch file");
	assert_bad("[alerts]\nexec = C:\\tools\\page.CMD\n", 2, "'C:\\tools\\page.CMD' is a batch");
	assert_bad("[alerts]\nexec = \\\\srv\\share\\Page.Bat\n", 2, "batch file");
	assert_bad("[alerts]\nexec = C:/tools/page.cmd\n", 2, "batch file");
	assert_bad("[alerts]\nexec = C:\\tools\\page.bat. .\n", 2, "batch file");
	assert_bad("[alerts]\nexec = C:\\tools\\page.bat::$DATA\n", 2, "batch file");
	assert_bad("[alerts]\nexec = /usr/local/bin/page.bat\n", 2, "batch file");
	assert_bad("[alerts]\nexec = page.cmd\n", 2, "batch file");
	{
		/* .bat or .cmd elsewhere than at the end of the name is no batch file */
		static const char *const fine[] = {"/opt/x.cmd/page", "/opt/page.bat.sh",
		                                   "/opt/page.cmdline", "/opt/page_bat"};
		struct config c;
		char text[128], err[CONFIG_ERR_MAX + 64];

		for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
			snprintf(text, sizeof(text), "[alerts]\nexec = %s\n", fine[i]);
			ck_assert_msg(load(&c, text, err, sizeof(err)) == 0, "%s: %s", fine[i],
			              err);
			ck_assert_str_eq(c.sinks.exec_path, fine[i]);
			config_done(&c);
		}
	}
	assert_bad("[alerts]\nexec_args = \"unclosed\n", 2, "quote is not closed");
	assert_bad("[alerts]\nwebhook = ftp://x/\n", 2, "not an http:// or https:// URL");
	assert_bad("[alerts]\nwebhook_timeout = 2h\n", 2, "longer than an hour");
	assert_bad("[alerts]\nqueue = 0\n", 2, "queue");
	assert_bad("[alerts]\nwebhook_retries = 99\n", 2, "webhook_retries");
	assert_bad("[alerts]\ninterval = 5\n", 2, "unknown key 'interval' in [alerts]");
	assert_bad("[memdeltad]\nwarmup = 5m\n", 2, "unknown key 'warmup'");
	assert_bad("[target a]\nname = x\nwebhook = http://h/\n", 3, "unknown key 'webhook'");
	assert_bad("[target a]\nname = x\nmin_r2 = -1\n", 3, "min_r2");
	/* consistency is checked per section once it is complete */
	assert_bad("\n[alerts]\nwindow = 1h\nmin_span = 2h\n", 2,
	           "[alerts]: min_span is longer than window");
	assert_bad("[alerts]\nwindow = 1h\n[target a]\nname = x\nstep = 2h\n", 3,
	           "[target a]: step is longer than window");
}
END_TEST

/* libinih cuts section names past 49 bytes without telling; the parser
 * must refuse them rather than watch a target under a shortened name. */
START_TEST(test_config_load_string__long_target_name)
{
	char text[512], name[64];
	struct config c;
	char err[CONFIG_ERR_MAX + 64];

	memset(name, 'n', 42);
	name[42] = '\0';
	snprintf(text, sizeof(text), "[memdeltad]\ninterval = 5\n[target %s]\nname = x\n", name);
	ck_assert_msg(load(&c, text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c.n_targets, 1);
	ck_assert_str_eq(c.targets[0].name, name);
	config_done(&c);
	name[42] = 'n';
	name[43] = '\0';
	snprintf(text, sizeof(text), "[memdeltad]\ninterval = 5\n[target %s]\nname = x\n", name);
	assert_bad(text, 3,
	           "section header longer than 49 bytes ([target NAME] names have at most 42)");
}
END_TEST

START_TEST(test_config_load_string__long_line)
{
	char text[1024];
	char val[400];

	memset(val, 'a', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	snprintf(text, sizeof(text), "[memdeltad]\ntoken = %s\n", val);
	assert_bad(text, 2, "line longer than");
}
END_TEST

START_TEST(test_config_load_file__reads_and_reports_path)
{
	const char *dir = test_scratch_dir();
	char path[4200], err[CONFIG_ERR_MAX + 64];
	struct config c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/md.conf", dir);
	config_init(&c, &no_env);
	ck_assert_int_eq(config_load_file(&c, path, err, sizeof(err)), MD_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err, "md.conf"));
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("[memdeltad]\ninterval = 7\n[target g]\nname = grower\nbogus = 1\n", f);
	fclose(f);
	ck_assert_int_eq(config_load_file(&c, path, err, sizeof(err)), MD_ERR_PARSE);
	ck_assert_ptr_nonnull(strstr(err, "md.conf:5: unknown key 'bogus'"));
	config_done(&c);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("[memdeltad]\ninterval = 7\n[target g]\nname = grower\n", f);
	fclose(f);
	config_init(&c, &no_env);
	ck_assert_int_eq(config_load_file(&c, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.interval_s, 7);
	ck_assert_uint_eq(c.n_targets, 1);
	ck_assert_str_eq(c.targets[0].match, "grower");
	config_done(&c);
	test_rm_rf(dir);
}
END_TEST

/* ---- config_apply_flags --------------------------------------------------- */

START_TEST(test_config_apply_flags__override_the_file)
{
	struct config c;
	struct config_flags f;
	char err[CONFIG_ERR_MAX + 64];
	const int pids[] = {123};
	const char *const names[] = {"java", "web"};

	ck_assert_int_eq(load(&c, good, err, sizeof(err)), 0);
	memset(&f, 0, sizeof(f));
	f.db = "/tmp/x.db";
	f.listen = "127.0.0.2:9999";
	f.interval_s = 2;
	f.watch_pids = pids;
	f.n_watch_pids = 1;
	f.watch_names = names;
	f.n_watch_names = 2;
	ck_assert_int_eq(config_apply_flags(&c, &f, err, sizeof(err)), 0);
	ck_assert_str_eq(c.db, "/tmp/x.db");
	ck_assert_str_eq(c.listen_addr, "127.0.0.2");
	ck_assert_uint_eq(c.port, 9999);
	ck_assert_uint_eq(c.interval_s, 2);
	/* The file's three, then pid:123 and java; "web" already exists. */
	ck_assert_uint_eq(c.n_targets, 5);
	ck_assert_str_eq(c.targets[3].name, "pid:123");
	ck_assert_int_eq(c.targets[3].kind, TARGET_PID);
	ck_assert_int_eq(c.targets[3].pid, 123);
	ck_assert_str_eq(c.targets[4].name, "java");
	ck_assert_int_eq(c.targets[4].kind, TARGET_NAME);
	ck_assert_str_eq(c.targets[0].match, "w3wp.exe");
	config_done(&c);
}
END_TEST

START_TEST(test_config_apply_flags__port_only_and_bad_listen)
{
	struct config c;
	struct config_flags f;
	char err[CONFIG_ERR_MAX + 64];

	config_init(&c, &no_env);
	memset(&f, 0, sizeof(f));
	f.listen = ":8123";
	ck_assert_int_eq(config_apply_flags(&c, &f, err, sizeof(err)), 0);
	ck_assert_str_eq(c.listen_addr, "127.0.0.1");
	ck_assert_uint_eq(c.port, 8123);
	f.listen = "nohost:1";
	ck_assert_int_eq(config_apply_flags(&c, &f, err, sizeof(err)), MD_ERR_PARSE);
	ck_assert_ptr_nonnull(strstr(err, "--listen"));
	config_done(&c);
}
END_TEST

/* ---- config_parse_listen -------------------------------------------------- */

START_TEST(test_config_parse_listen__forms)
{
	char addr[64] = "x";
	uint16_t port = 1;

	ck_assert_int_eq(config_parse_listen("10.0.0.1:80", addr, sizeof(addr), &port), 0);
	ck_assert_str_eq(addr, "10.0.0.1");
	ck_assert_uint_eq(port, 80);
	ck_assert_int_eq(config_parse_listen("::", addr, sizeof(addr), &port), 0);
	ck_assert_str_eq(addr, "::");
	ck_assert_uint_eq(port, 80);
	ck_assert_int_eq(config_parse_listen("[fe80::1]:81", addr, sizeof(addr), &port), 0);
	ck_assert_str_eq(addr, "fe80::1");
	ck_assert_uint_eq(port, 81);
	ck_assert_int_eq(config_parse_listen("1.2.3.4:", addr, sizeof(addr), &port), MD_ERR_PARSE);
	ck_assert_int_eq(config_parse_listen("1.2.3.4:0", addr, sizeof(addr), &port), MD_ERR_PARSE);
	ck_assert_int_eq(config_parse_listen("[::1", addr, sizeof(addr), &port), MD_ERR_PARSE);
	ck_assert_int_eq(config_parse_listen("", addr, sizeof(addr), &port), MD_ERR_PARSE);
	ck_assert_str_eq(addr, "fe80::1");
}
END_TEST

/* ---- target_matches / targets_top ------------------------------------------ */

static struct proc_info
proc(int pid, const char *comm, const char *argv0, const char *exe, char *cmdline, uint64_t priv,
     int readable)
{
	struct proc_info p;

	memset(&p, 0, sizeof(p));
	p.pid = pid;
	snprintf(p.comm, sizeof(p.comm), "%s", comm);
	snprintf(p.argv0_base, sizeof(p.argv0_base), "%s", argv0);
	snprintf(p.exe_base, sizeof(p.exe_base), "%s", exe);
	p.cmdline = cmdline;
	p.private_bytes = priv;
	p.readable = readable;
	return p;
}

START_TEST(test_target_matches__name_cmdline_pid)
{
	struct config c;
	char err[CONFIG_ERR_MAX + 64];
	char cl1[] = "/usr/lib/jvm/bin/java -Xmx1g -jar batch.jar";
	char cl2[] = "java -jar batch.jar";
	char cl3[] = "C:\\windows\\system32\\inetsrv\\w3wp.exe -ap DefaultAppPool";
	char cl4[] = "memdeltad --watch-name java -jar batch.jar";
	struct proc_info p1 = proc(10, "java", "java", "java", cl1, 0, 1);
	struct proc_info p2 = proc(11, "java", "java", "java", cl2, 0, 1);
	/* wine: comm is truncated, argv[0] is a Windows path, exe is wine's loader */
	struct proc_info p3 = proc(4242, "w3wp.exe", "C:\\windows\\system32\\inetsrv\\w3wp.exe",
	                           "wine64-preloader", cl3, 0, 1);
	struct proc_info p4 = proc(99, "memdeltad", "memdeltad", "memdeltad", cl4, 0, 1);
	struct proc_info p5 = proc(12, "a-very-long-pro", "a-very-long-program-name",
	                           "a-very-long-program-name", cl2, 0, 1);

	ck_assert_int_eq(load(&c,
	                      "[target web]\nname = w3wp.exe\n"
	                      "[target batch]\ncmdline = ^java .*-jar (batch|etl)\\.jar$\n"
	                      "[target one]\npid = 4242\n"
	                      "[target java]\nname = java\n"
	                      "[target long]\nname = a-very-long-program-name\n",
	                      err, sizeof(err)),
	                 0);
	ck_assert_int_eq(target_matches(&c.targets[0], &p3, 99), 1);
	ck_assert_int_eq(target_matches(&c.targets[0], &p1, 99), 0);
	/* the regex is anchored at "java": the full path of p1 does not match */
	ck_assert_int_eq(target_matches(&c.targets[1], &p1, 99), 0);
	ck_assert_int_eq(target_matches(&c.targets[1], &p2, 99), 1);
	ck_assert_int_eq(target_matches(&c.targets[2], &p3, 99), 1);
	ck_assert_int_eq(target_matches(&c.targets[2], &p2, 99), 0);
	ck_assert_int_eq(target_matches(&c.targets[3], &p1, 99), 1);
	ck_assert_int_eq(target_matches(&c.targets[3], &p2, 99), 1);
	ck_assert_int_eq(target_matches(&c.targets[3], &p3, 99), 0);
	/* long names match on argv[0] although comm is cut at 15 */
	ck_assert_int_eq(target_matches(&c.targets[4], &p5, 99), 1);
	/* memdeltad's own command line names its targets: never a match */
	ck_assert_int_eq(target_matches(&c.targets[1], &p4, 99), 0);
	p4.pid = 98;
	ck_assert_int_eq(target_matches(&c.targets[1], &p4, 99), 0); /* not anchored at java */
	config_done(&c);
}
END_TEST

START_TEST(test_targets_top__ranks_readable_without_self)
{
	char e[] = "";
	struct proc_info procs[] = {
	        proc(1, "init", "init", "init", e, 50, 0), proc(2, "a", "a", "a", e, 300, 1),
	        proc(3, "b", "b", "b", e, 100, 1),         proc(4, "self", "s", "s", e, 900, 1),
	        proc(5, "c", "c", "c", e, 300, 1),         proc(6, "d", "d", "d", e, 400, 1),
	        proc(7, "big", "big", "big", e, 10000, 0),
	};
	struct proc_list l = {procs, sizeof(procs) / sizeof(procs[0])};
	size_t idx[8];
	size_t n;

	n = targets_top(&l, 3, 4, idx);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(procs[idx[0]].pid, 6);
	ck_assert_int_eq(procs[idx[1]].pid, 2); /* tie at 300: lower pid first */
	ck_assert_int_eq(procs[idx[2]].pid, 5);
	n = targets_top(&l, 8, 4, idx);
	ck_assert_uint_eq(n, 4); /* 1 and 7 unreadable, 4 is self */
	ck_assert_int_eq(procs[idx[3]].pid, 3);
	ck_assert_uint_eq(targets_top(&l, 0, 4, idx), 0);
}
END_TEST

/* ---- proc_list_read -------------------------------------------------------- */

static void
write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
fake_proc(const char *root, int pid, const char *comm, unsigned long flags, const char *vmdata,
          const char *cmdline, size_t cmdlen, int smaps)
{
	char dir[4200], buf[1024];
	int n;

	snprintf(dir, sizeof(dir), "%s/%d", root, pid);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	n = snprintf(buf, sizeof(buf),
	             "%d (%s) S 1 1 1 0 -1 %lu 0 0 0 0 0 0 0 0 20 0 1 0 %d 1000 100\n", pid, comm,
	             flags, 5000 + pid);
	write_file(dir, "stat", buf, (size_t)n);
	n = snprintf(buf, sizeof(buf), "Name:\t%s\n%s", comm, vmdata);
	write_file(dir, "status", buf, (size_t)n);
	write_file(dir, "cmdline", cmdline, cmdlen);
	if (smaps)
		write_file(dir, "smaps", "", 0);
}

START_TEST(test_proc_list_read__synthetic_proc)
{
	const char *dir = test_scratch_dir();
	char root[4200], exe[4300];
	struct proc_list l;
	const struct proc_info *a = NULL, *b = NULL;

	snprintf(root, sizeof(root), "%s", dir);
	fake_proc(root, 100, "java", 0, "VmData:\t  2048 kB\nVmStk:\t 132 kB\n",
	          "/usr/bin/java\0-jar\0app.jar\0", 27, 1);
	fake_proc(root, 200, "w3wp.exe", 0, "VmData:\t 10 kB\nVmStk:\t 2 kB\n",
	          "C:/w/w3wp.exe\0-ap\0", 18, 0);
	fake_proc(root, 300, "kworker/0:1", 0x00200000ul, "", "", 0, 1);
	fake_proc(root, 400, "noVm", 0, "", "x\0", 2, 1); /* no VmData: skipped */
	snprintf(exe, sizeof(exe), "%s/200/exe", root);
	ck_assert_int_eq(symlink("/opt/wine/bin/wine64-preloader (deleted)", exe), 0);
	write_file(root, "self", "", 0); /* not a pid */

	ck_assert_int_eq(proc_list_read(root, NULL, &l), 0);
	ck_assert_uint_eq(l.n, 2);
	for (size_t i = 0; i < l.n; i++) {
		if (l.procs[i].pid == 100)
			a = &l.procs[i];
		if (l.procs[i].pid == 200)
			b = &l.procs[i];
	}
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(a->comm, "java");
	ck_assert_str_eq(a->argv0_base, "java");
	ck_assert_str_eq(a->cmdline, "/usr/bin/java -jar app.jar");
	ck_assert_uint_eq(a->private_bytes, (2048 + 132) * 1024u);
	ck_assert_uint_eq(a->start_time, 5100);
	ck_assert_int_eq(a->readable, 1);
	ck_assert_str_eq(b->argv0_base, "w3wp.exe");
	ck_assert_str_eq(b->exe_base, "wine64-preloader");
	ck_assert_str_eq(b->cmdline, "C:/w/w3wp.exe -ap");
	ck_assert_int_eq(b->readable, 0);
	proc_list_free(&l);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_int_eq(proc_list_read("/nonexistent-proc-root", NULL, &l), MD_ERR_IO);
	test_rm_rf(root);
}
END_TEST

/* With the previous list, a process with the same pid, start time and comm
 * is taken over from it (only its stat read); a new start time or comm
 * (an exec) reads it afresh. */
START_TEST(test_proc_list_read__reuses_previous_list)
{
	const char *dir = test_scratch_dir();
	char root[4200], sub[4300];
	struct proc_list l0, l1, l2;

	snprintf(root, sizeof(root), "%s", dir);
	fake_proc(root, 300, "sh", 0, "VmData:\t 100 kB\n", "/bin/sh\0", 8, 1);
	fake_proc(root, 20, "java", 0, "VmData:\t 2048 kB\n", "java\0-jar\0a.jar\0", 16, 1);
	ck_assert_int_eq(proc_list_read(root, NULL, &l0), 0);
	ck_assert_uint_eq(l0.n, 2);
	ck_assert_int_eq(l0.procs[0].pid, 20); /* sorted by pid */
	ck_assert_int_eq(l0.procs[1].pid, 300);

	/* 20 changes its command line and size but not its stat; 300 execs */
	snprintf(sub, sizeof(sub), "%s/20", root);
	write_file(sub, "cmdline", "java\0-jar\0b.jar\0", 16);
	write_file(sub, "status", "Name:\tjava\nVmData:\t 4096 kB\n", 28);
	snprintf(sub, sizeof(sub), "%s/300", root);
	write_file(sub, "stat",
	           "300 (python3) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5300 1000 100\n", 68);
	write_file(sub, "cmdline", "python3\0x.py\0", 13);
	ck_assert_int_eq(proc_list_read(root, &l0, &l1), 0);
	ck_assert_uint_eq(l1.n, 2);
	ck_assert_str_eq(l1.procs[0].cmdline, "java -jar a.jar");
	ck_assert_uint_eq(l1.procs[0].private_bytes, 2048 * 1024u);
	ck_assert_str_eq(l1.procs[1].comm, "python3");
	ck_assert_str_eq(l1.procs[1].cmdline, "python3 x.py");
	ck_assert_str_eq(l1.procs[1].argv0_base, "python3");

	/* read afresh, 20 shows its new state */
	ck_assert_int_eq(proc_list_read(root, NULL, &l2), 0);
	ck_assert_str_eq(l2.procs[0].cmdline, "java -jar b.jar");
	ck_assert_uint_eq(l2.procs[0].private_bytes, 4096 * 1024u);
	proc_list_free(&l0);
	proc_list_free(&l1);
	proc_list_free(&l2);
	test_rm_rf(root);
}
END_TEST

/* ---- sd_notify_send / sd_watchdog_usec ------------------------------------- */

static int
bind_dgram(const char *name, int abstract)
{
	struct sockaddr_un sa;
	struct timeval tv = {2, 0};
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path + abstract, sizeof(sa.sun_path) - 1, "%s", name);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + strlen(name) +
	                  !abstract);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, len), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

START_TEST(test_sd_notify_send__path_and_abstract)
{
	const char *dir = test_scratch_dir();
	char path[200], abs[64], env[80], buf[64];
	ssize_t n;
	int fd;

	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(sd_notify_send("READY=1"), 0);
	snprintf(path, sizeof(path), "%s/notify", dir);
	if (strlen(path) >= 100)
		test_skip("scratch path too long for a unix socket");
	fd = bind_dgram(path, 0);
	setenv("NOTIFY_SOCKET", path, 1);
	ck_assert_int_eq(sd_notify_send("READY=1"), 1);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_eq(n, 7);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "READY=1");
	close(fd);

	snprintf(abs, sizeof(abs), "memdelta-test-%d", (int)getpid());
	fd = bind_dgram(abs, 1);
	snprintf(env, sizeof(env), "@%s", abs);
	setenv("NOTIFY_SOCKET", env, 1);
	ck_assert_int_eq(sd_notify_send("WATCHDOG=1"), 1);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_eq(n, 10);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "WATCHDOG=1");
	close(fd);

	setenv("NOTIFY_SOCKET", "relative", 1);
	ck_assert_int_eq(sd_notify_send("READY=1"), MD_ERR_INVAL);
	unsetenv("NOTIFY_SOCKET");
	test_rm_rf(dir);
}
END_TEST

START_TEST(test_sd_watchdog_usec__pid_check)
{
	char pid[32];

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	ck_assert_uint_eq(sd_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	ck_assert_uint_eq(sd_watchdog_usec(), 30000000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	ck_assert_uint_eq(sd_watchdog_usec(), 30000000);
	setenv("WATCHDOG_PID", "1", 1);
	ck_assert_uint_eq(sd_watchdog_usec(), 0);
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "x", 1);
	ck_assert_uint_eq(sd_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
}
END_TEST

START_TEST(test_config_load_string__web_section)
{
	struct config c;
	char err[CONFIG_ERR_MAX + 64];

	ck_assert_int_eq(load(&c, "[memdeltad]\ninterval = 5\n", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.web_threads, 0); /* 0: web.h's defaults */
	ck_assert_uint_eq(c.web_per_ip_limit, 0);
	ck_assert_uint_eq(c.web_timeout_s, 0);
	config_done(&c);
	ck_assert_int_eq(load(&c,
	                      "[web]\nthreads = 4\nconnection_limit = 200\nper_ip_limit = 3\n"
	                      "timeout = 2m\n",
	                      err, sizeof(err)),
	                 0);
	ck_assert_uint_eq(c.web_threads, 4);
	ck_assert_uint_eq(c.web_connection_limit, 200);
	ck_assert_uint_eq(c.web_per_ip_limit, 3);
	ck_assert_uint_eq(c.web_timeout_s, 120);
	config_done(&c);
	assert_bad("[web]\nper_ip_limit = 0\n", 2, "per_ip_limit: '0'");
	assert_bad("[web]\nthreads = 65\n", 2, "threads");
	assert_bad("[web]\ntimeout = 2h\n", 2, "longer than an hour");
	assert_bad("[web]\ntimeout = 0\n", 2, "timeout");
	assert_bad("[web]\ninterval = 5\n", 2, "unknown key 'interval' in [web]");
	assert_bad("[memdeltad]\nper_ip_limit = 5\n", 2, "unknown key 'per_ip_limit'");
	assert_bad("[web]\ntimeout = 5\ntimeout = 6\n", 3, "set twice");
}
END_TEST

START_TEST(test_config_validate__non_loopback_needs_token)
{
	static const char *const loop[] = {"127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"};
	static const char *const open[] = {"0.0.0.0", "192.0.2.7", "::", "::ffff:10.0.0.1",
	                                   "fe80::1"};
	struct config c;
	char err[CONFIG_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(loop) / sizeof(loop[0]); i++) {
		config_init(&c, NULL);
		snprintf(c.db, sizeof(c.db), "/x.db");
		snprintf(c.listen_addr, sizeof(c.listen_addr), "%s", loop[i]);
		ck_assert_int_eq(config_listen_is_loopback(loop[i]), 1);
		ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
		config_done(&c);
	}
	for (i = 0; i < sizeof(open) / sizeof(open[0]); i++) {
		config_init(&c, NULL);
		snprintf(c.db, sizeof(c.db), "/x.db");
		snprintf(c.listen_addr, sizeof(c.listen_addr), "%s", open[i]);
		ck_assert_int_eq(config_listen_is_loopback(open[i]), 0);
		ck_assert_int_eq(config_validate(&c, err, sizeof(err)), MD_ERR_INVAL);
		ck_assert_msg(strstr(err, "listen") != NULL && strstr(err, "token") != NULL, "%s",
		              err);
		snprintf(c.token, sizeof(c.token), "t0ken");
		ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
		config_done(&c);
	}
}
END_TEST

/* ---- log_sink_choose -------------------------------------------------------- */

/* The sink memdeltad starts with, from a configuration text and whether the
 * Windows service controller started it. */
static enum log_sink
sink_for(const char *text, int service)
{
	struct config c;
	char err[CONFIG_ERR_MAX + 64];
	enum log_sink k;

	ck_assert_int_eq(load(&c, text, err, sizeof(err)), 0);
	k = log_sink_choose(c.log_sink, c.log_sink_set, service);
	config_done(&c);
	return k;
}

START_TEST(test_log_sink_choose__service_defaults_to_system_log)
{
	const char *file_only = "[memdeltad]\nlog_file = /var/log/md.log\n";

	/* No log=: a service (stderr leads nowhere) logs to the system log,
	 * a console or systemd (journald reads stderr) to stderr. */
	ck_assert_int_eq(sink_for("", 1), LOG_SINK_SYSLOG);
	ck_assert_int_eq(sink_for("", 0), LOG_SINK_STDERR);
	ck_assert_int_eq(sink_for(file_only, 1), LOG_SINK_SYSLOG);
	ck_assert_int_eq(sink_for(file_only, 0), LOG_SINK_STDERR);
	/* An explicit log= is kept as it is, in a service too. */
	ck_assert_int_eq(sink_for("[memdeltad]\nlog = stderr\n", 1), LOG_SINK_STDERR);
	ck_assert_int_eq(sink_for("[memdeltad]\nlog = stderr\n", 0), LOG_SINK_STDERR);
	ck_assert_int_eq(sink_for("[memdeltad]\nlog = syslog\n", 1), LOG_SINK_SYSLOG);
	ck_assert_int_eq(sink_for("[memdeltad]\nlog = syslog\n", 0), LOG_SINK_SYSLOG);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("config_default_db");
	tcase_add_test(tc, test_config_default_db__state_directory_first);
	tcase_add_test(tc, test_config_default_db__root_then_xdg_then_home);
	tcase_add_test(tc, test_config_default_db__too_small);
	tcase_add_test(tc, test_config_default_db__windows_program_data);
	suite_add_tcase(s, tc);
	tc = tcase_create("config_init");
	tcase_add_test(tc, test_config_init__defaults);
	suite_add_tcase(s, tc);
	tc = tcase_create("config_load_string");
	tcase_add_test(tc, test_config_load_string__every_key);
	tcase_add_test(tc, test_config_load_string__ipv6_listen_and_empty_file);
	tcase_add_test(tc, test_config_load_string__errors_name_the_line);
	tcase_add_test(tc, test_config_load_string__long_line);
	tcase_add_test(tc, test_config_load_string__long_target_name);
	tcase_add_test(tc, test_config_load_string__alerts_section_and_target_overrides);
	tcase_add_test(tc, test_config_load_string__alert_errors_name_the_line);
	tcase_add_test(tc, test_config_load_string__web_section);
	suite_add_tcase(s, tc);
	tc = tcase_create("log_sink_choose");
	tcase_add_test(tc, test_log_sink_choose__service_defaults_to_system_log);
	suite_add_tcase(s, tc);
	tc = tcase_create("config_validate");
	tcase_add_test(tc, test_config_validate__non_loopback_needs_token);
	suite_add_tcase(s, tc);
	tc = tcase_create("config_load_file");
	tcase_add_test(tc, test_config_load_file__reads_and_reports_path);
	suite_add_tcase(s, tc);
	tc = tcase_create("config_apply_flags");
	tcase_add_test(tc, test_config_apply_flags__override_the_file);
	tcase_add_test(tc, test_config_apply_flags__port_only_and_bad_listen);
	suite_add_tcase(s, tc);
	tc = tcase_create("config_parse_listen");
	tcase_add_test(tc, test_config_parse_listen__forms);
	suite_add_tcase(s, tc);
	tc = tcase_create("target_matches");
	tcase_add_test(tc, test_target_matches__name_cmdline_pid);
	suite_add_tcase(s, tc);
	tc = tcase_create("targets_top");
	tcase_add_test(tc, test_targets_top__ranks_readable_without_self);
	suite_add_tcase(s, tc);
	tc = tcase_create("proc_list_read");
	tcase_add_test(tc, test_proc_list_read__synthetic_proc);
	tcase_add_test(tc, test_proc_list_read__reuses_previous_list);
	suite_add_tcase(s, tc);
	tc = tcase_create("sd_notify_send");
	tcase_add_test(tc, test_sd_notify_send__path_and_abstract);
	suite_add_tcase(s, tc);
	tc = tcase_create("sd_watchdog_usec");
	tcase_add_test(tc, test_sd_watchdog_usec__pid_check);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
