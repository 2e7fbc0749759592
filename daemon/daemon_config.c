/*
 * daemon_config.c - memdeltad's configuration: defaults, the INI file and the flags
 * (daemon_config.h).  libinih splits the file into (section, key, value); a line
 * reader of our own feeds it so that every handler call knows its line
 * number and every section header is seen, even an empty or repeated one.
 * Keys are table-driven: one row per key with its parser.  The first error
 * wins and reads "FILE:LINE: what is wrong".
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "snapshot/compat/compat.h"
#include "snapshot/compat/md_ini.h"

#include "daemon/daemon_config.h"
#include "daemon/os.h"
#include "snapshot/mderr.h"

#define DAY_MS     (86400 * (int64_t)1000)
#define MAX_DAYS   36500
#define MAX_BUDGET 600000

int
config_default_db(const struct config_env *e, char *buf, size_t len)
{
	const char *sd = e->state_directory;
	int n;

	if (len > 0)
		buf[0] = '\0';
	if (e->program_data != NULL && e->program_data[0] != '\0') {
		n = snprintf(buf, len, "%s\\memdelta\\memdelta.db", e->program_data);
	} else if (sd != NULL && sd[0] != '\0') {
		/* systemd may list several directories separated by ':'. */
		size_t first = strcspn(sd, ":");

		n = snprintf(buf, len, "%.*s/memdelta.db", (int)first, sd);
	} else if (e->is_root) {
		n = snprintf(buf, len, "/var/lib/memdelta/memdelta.db");
	} else if (e->xdg_state_home != NULL && e->xdg_state_home[0] == '/') {
		n = snprintf(buf, len, "%s/memdelta/memdelta.db", e->xdg_state_home);
	} else if (e->home != NULL && e->home[0] == '/') {
		n = snprintf(buf, len, "%s/.local/state/memdelta/memdelta.db", e->home);
	} else {
		return MD_ERR_NOTFOUND;
	}
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return MD_ERR_INVAL;
	}
	return 0;
}

void
config_init(struct config *c, const struct config_env *e)
{
	memset(c, 0, sizeof(*c));
	if (e != NULL)
		(void)config_default_db(e, c->db, sizeof(c->db));
	snprintf(c->listen_addr, sizeof(c->listen_addr), "127.0.0.1");
	c->port = 7373; /* WEB_DEFAULT_PORT */
	c->interval_s = CONFIG_DEFAULT_INTERVAL_S;
	c->budget_ms = CONFIG_DEFAULT_BUDGET_MS;
	c->full_read_every = CONFIG_DEFAULT_FULL_READ_EVERY;
	c->map_check_every = CONFIG_DEFAULT_MAP_CHECK_EVERY;
	c->log_sink = LOG_SINK_STDERR;
	c->log_level = LOG_LEVEL_INFO;
	store_retention_defaults(&c->retention);
	c->auto_top = CONFIG_DEFAULT_AUTO_TOP;
	c->alerts.enabled = 1;
	trend_params_defaults(&c->alerts.trend);
	c->alerts.eval_interval_s = CONFIG_DEFAULT_EVAL_INTERVAL_S;
	c->alerts.map_count_fraction = CONFIG_DEFAULT_MAP_FRACTION;
	c->alerts.top_regions = CONFIG_DEFAULT_TOP_REGIONS;
	c->sinks.exec_timeout_s = CONFIG_DEFAULT_EXEC_TIMEOUT_S;
	c->sinks.webhook_timeout_s = CONFIG_DEFAULT_HOOK_TIMEOUT_S;
	c->sinks.webhook_retries = CONFIG_DEFAULT_HOOK_RETRIES;
	c->sinks.queue_len = CONFIG_DEFAULT_SINK_QUEUE;
}

static void
free_exec_args(struct alert_sinks_config *k)
{
	for (size_t i = 0; i < k->n_exec_args; i++)
		free(k->exec_args[i]);
	k->n_exec_args = 0;
}

static void
free_hosts(struct config *c)
{
	for (size_t i = 0; i < c->n_allowed_hosts; i++)
		free(c->allowed_hosts[i]);
	free(c->allowed_hosts);
	c->allowed_hosts = NULL;
	c->n_allowed_hosts = 0;
}

void
config_done(struct config *c)
{
	for (size_t i = 0; i < c->n_targets; i++)
		if (c->targets[i].have_re)
			regfree(&c->targets[i].re);
	free(c->targets);
	free_hosts(c);
	free_exec_args(&c->sinks);
	memset(c, 0, sizeof(*c));
}

int
config_parse_listen(const char *s, char *addr, size_t addrlen, uint16_t *port)
{
	char host[64];
	const char *colon = NULL;
	unsigned char bin[16];
	size_t hlen;
	int have_port = 0;

	if (s == NULL || s[0] == '\0')
		return MD_ERR_PARSE;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL)
			return MD_ERR_PARSE;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return MD_ERR_PARSE;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (close[1] == ':')
			colon = close + 1;
		else if (close[1] != '\0')
			return MD_ERR_PARSE;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL; /* a bare IPv6 address */
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (hlen >= sizeof(host))
			return MD_ERR_PARSE;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
	}
	if (colon != NULL) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(colon + 1, &end, 10);
		if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || v == 0 ||
		    v > 65535)
			return MD_ERR_PARSE;
		have_port = 1;
		*port = (uint16_t)v;
	}
	if (host[0] != '\0') {
		if (inet_pton(AF_INET, host, bin) != 1 && inet_pton(AF_INET6, host, bin) != 1)
			return MD_ERR_PARSE;
		if (strlen(host) >= addrlen)
			return MD_ERR_PARSE;
		memcpy(addr, host, strlen(host) + 1);
	} else if (!have_port) {
		return MD_ERR_PARSE;
	}
	return 0;
}

/* ---- the INI parser ------------------------------------------------------ */

struct parse {
	struct config *c;
	const char *origin;
	FILE *f;
	char *line;
	size_t cap;
	unsigned lineno;
	unsigned section_seq;      /* bumped by the reader at each "[...]" line */
	unsigned section_line;     /* the line of the last "[...]" */
	size_t section_len;        /* the length of its text between '[' and ']' */
	unsigned seen_seq;         /* the section the handler last saw */
	struct config_target *cur; /* the [target] being filled, or NULL */
	int in_main;               /* inside [memdeltad] */
	int in_alerts;             /* inside [alerts] */
	int in_web;                /* inside [web] */
	unsigned alerts_line;      /* where [alerts] starts (0: none) */
	uint64_t keys_set;         /* bit per key of the current section */
	size_t first_target;       /* targets before this index were there already */
	unsigned err_line;         /* 0: no error yet */
	char err[CONFIG_ERR_MAX];
};

static void perr(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
perr(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err_line != 0)
		return;
	p->err_line = p->lineno == 0 ? 1 : p->lineno;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
}

/* inih's line reader: one line per call, counted; section lines flagged. */
static char *
read_line(char *str, int num, void *arg)
{
	struct parse *p = arg;
	const char *s;
	ssize_t len = getline(&p->line, &p->cap, p->f);

	if (len < 0)
		return NULL;
	p->lineno++;
	s = p->line;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '[' && strchr(s, ']') != NULL) {
		p->section_seq++;
		p->section_line = p->lineno;
		/* inih cuts a long section name to its buffer without a word:
		 * begin_section compares what it got with this */
		p->section_len = (size_t)(strchr(s, ']') - s - 1);
	}
	if (num < 2)
		return NULL;
	if (len > num - 1) {
		perr(p, "line longer than %d characters", num - 2);
		len = num - 2;
		memcpy(str, p->line, (size_t)len);
		str[len++] = '\n';
	} else {
		memcpy(str, p->line, (size_t)len);
	}
	str[len] = '\0';
	return str;
}

static int
parse_uint(const char *v, unsigned long long min, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long x;

	if (v[0] < '0' || v[0] > '9')
		return -1;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < min || x > max)
		return -1;
	*out = x;
	return 0;
}

/* glibc's regcomp() needs memory that doubles with every repetition
 * operator applied on top of another ("a+++", "((a+)+)+"): 50 MB at 16 deep,
 * an out-of-memory kill a little further (found by tests/fuzz/fuzz_config).
 * It also expands every bound into copies of its operand and then keeps, for
 * each position, the set of positions reachable without consuming a
 * character: memory quadratic in the expanded length when the copies can be
 * empty (measured: "a*{4000}" 128 MB, "a*{8000}" 505 MB, ".*x*{21222}" 3.5
 * GB, a second fuzz_config input).  Patterns deeper than REGEX_MAX_NESTING,
 * or longer than REGEX_MAX_POSITIONS once expanded ("a{0,2048}": 35 MB), are
 * refused. */
#define REGEX_MAX_NESTING   4
#define REGEX_MAX_POSITIONS 2048u
#define REGEX_MAX_GROUPS    64

/* How deep repetition operators are applied on top of each other (1 for
 * "a+", 2 for "a+*" or "(a+)+"), and how many positions the pattern has once
 * regcomp has expanded its repetitions: an atom is 1; "*" and "?" keep their
 * operand's count, "+" doubles it, {m,n} multiplies it by n and {m,} by m+1. */
struct rx_cost {
	unsigned depth;
	uint64_t positions;
	int groups_too_deep; /* more than REGEX_MAX_GROUPS nested: not counted */
};

#define RX_SATURATE ((uint64_t)1 << 40)

static uint64_t
rx_add(uint64_t a, uint64_t b)
{
	return a + b > RX_SATURATE ? RX_SATURATE : a + b;
}

static uint64_t
rx_mul(uint64_t a, uint64_t b)
{
	return b != 0 && a > RX_SATURATE / b ? RX_SATURATE : a * b;
}

/* A repetition operator with factor @f on the last atom or group, @last,
 * whose positions are already counted once in @group. */
static void
repeat(struct rx_cost *last, uint64_t f, struct rx_cost *group, unsigned *depth)
{
	uint64_t grown = rx_mul(last->positions, f);

	group->positions = rx_add(group->positions, grown - last->positions);
	last->positions = grown;
	last->depth++;
	if (last->depth > group->depth)
		group->depth = last->depth;
	if (last->depth > *depth)
		*depth = last->depth;
}

/* Another atom of one position in @group. */
static struct rx_cost
rx_atom(struct rx_cost *group)
{
	static const struct rx_cost atom = {0, 1, 0};

	group->positions = rx_add(group->positions, 1);
	return atom;
}

/* The cost of extended regular expression @re.  Escapes and bracket
 * expressions are one position each; the figure only guards memory, so an
 * unbalanced pattern just gets a rough one (regcomp then refuses it). */
static struct rx_cost
regex_cost(const char *re)
{
	static const struct rx_cost none = {0, 0, 0};
	struct rx_cost group[REGEX_MAX_GROUPS + 1], last = none, total = none;
	size_t level = 0;
	unsigned depth = 0;

	group[0] = none;
	for (const char *c = re; *c != '\0'; c++) {
		uint64_t bound = 0;

		switch (*c) {
		case '\\':
			if (c[1] != '\0')
				c++;
			last = rx_atom(&group[level]);
			break;
		case '[':
			/* to the closing ], which may come first ("[]a]", "[^]a]") */
			c++;
			if (*c == '^')
				c++;
			if (*c == ']')
				c++;
			while (*c != '\0' && *c != ']')
				c++;
			if (*c == '\0')
				c--;
			last = rx_atom(&group[level]);
			break;
		case '(':
			if (level == REGEX_MAX_GROUPS) {
				total.groups_too_deep = 1;
				return total;
			}
			group[++level] = none;
			last = none;
			break;
		case ')':
			if (level == 0) {
				last = rx_atom(&group[0]);
				break;
			}
			last = group[level--];
			group[level].positions = rx_add(group[level].positions, last.positions);
			if (last.depth > group[level].depth)
				group[level].depth = last.depth;
			break;
		case '{':
			if (c[1] < '0' || c[1] > '9') {
				last = rx_atom(&group[level]);
				break;
			}
			/* {m}: m copies, {m,n}: n, {m,}: m and a starred one */
			for (; c[1] != '\0' && c[1] != '}'; c++) {
				uint64_t n = 0;

				while (c[1] >= '0' && c[1] <= '9') {
					n = n < UINT32_MAX ? n * 10 + (uint64_t)(c[1] - '0') : n;
					c++;
				}
				if (c[1] == ',' && (c[2] < '0' || c[2] > '9'))
					n++;
				if (n > bound)
					bound = n;
				if (c[1] == '}' || c[1] == '\0')
					break;
			}
			if (c[1] == '}')
				c++;
			repeat(&last, bound > 0 ? bound : 1, &group[level], &depth);
			break;
		case '+':
			repeat(&last, 2, &group[level], &depth);
			break;
		case '*':
		case '?':
			repeat(&last, 1, &group[level], &depth);
			break;
		default:
			last = rx_atom(&group[level]);
			break;
		}
	}
	/* groups left open count as if closed */
	for (size_t i = 0; i <= level; i++)
		total.positions = rx_add(total.positions, group[i].positions);
	total.depth = depth;
	return total;
}

static int
set_string(struct parse *p, const char *key, const char *v, char *dst, size_t len, int allow_empty)
{
	size_t n = strlen(v);

	if (n == 0 && !allow_empty) {
		perr(p, "%s: empty value", key);
		return -1;
	}
	if (n >= len) {
		perr(p, "%s: value longer than %zu bytes", key, len - 1);
		return -1;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

static int
set_uint(struct parse *p, const char *key, const char *v, unsigned long long min,
         unsigned long long max, unsigned long long *out)
{
	if (parse_uint(v, min, max, out) != 0) {
		perr(p, "%s: '%s' is not a whole number from %llu to %llu", key, v, min, max);
		return -1;
	}
	return 0;
}

static int
add_host(struct config *c, const char *h, size_t n)
{
	char **v = realloc(c->allowed_hosts, (c->n_allowed_hosts + 1) * sizeof(*v));

	if (v == NULL)
		return MD_ERR_NOMEM;
	c->allowed_hosts = v;
	v[c->n_allowed_hosts] = strndup(h, n);
	if (v[c->n_allowed_hosts] == NULL)
		return MD_ERR_NOMEM;
	c->n_allowed_hosts++;
	return 0;
}

enum key_id {
	K_DB = 0,
	K_LISTEN,
	K_TOKEN,
	K_ALLOWED_HOSTS,
	K_INTERVAL,
	K_BUDGET_MS,
	K_MAX_REGIONS,
	K_FULL_READ_EVERY,
	K_MAP_CHECK_EVERY,
	K_LOG,
	K_LOG_LEVEL,
	K_LOG_FILE,
	K_RAW_DAYS,
	K_MINUTE_DAYS,
	K_HOUR_DAYS,
	K_RAW_MAX_MB,
	K_MINUTE_MAX_MB,
	K_HOUR_MAX_MB,
	K_AUTO_TOP,
	K_DB_MAX_MB,
	K_PID,
	K_NAME,
	K_CMDLINE,
	/* [alerts], and per target (struct alert_params) */
	K_A_ENABLED,
	K_A_WARMUP,
	K_A_WINDOW,
	K_A_MIN_SPAN,
	K_A_STEP,
	K_A_MIN_WINDOW,
	K_A_ALPHA,
	K_A_MIN_R2,
	K_A_MIN_MB_H,
	K_A_MIN_PCT_H,
	K_A_FIRE_AFTER,
	K_A_RESOLVE_AFTER,
	K_A_RESOLVE_RATIO,
	K_A_RECENT_FRAC,
	K_A_RECENT_RATIO,
	K_A_EVAL,
	K_A_SERIES,
	K_A_THRESHOLD,
	K_A_EVERY,
	K_A_MAP_FRACTION,
	K_A_TOP,
	/* [alerts] only */
	K_A_RETENTION,
	K_A_EXEC,
	K_A_EXEC_ARGS,
	K_A_EXEC_TIMEOUT,
	K_A_WEBHOOK,
	K_A_HOOK_TIMEOUT,
	K_A_HOOK_RETRIES,
	K_A_SYSLOG,
	K_A_QUEUE,
	/* [web] */
	K_W_THREADS,
	K_W_CONN_LIMIT,
	K_W_PER_IP_LIMIT,
	K_W_TIMEOUT,
	K_COUNT
};

/* struct parse's keys_set has one bit per key. */
_Static_assert(K_COUNT <= 64, "more keys than bits in keys_set");

#define K_A_FIRST K_A_ENABLED
#define K_A_LAST  K_A_TOP /* the last key a target may set */

struct key_def {
	const char *name;
	enum key_id id;
	int in_main;   /* allowed in [memdeltad] */
	int in_target; /* allowed in [target NAME] */
	int in_alerts; /* allowed in [alerts] */
};

/* The keys of [web], and only they, are allowed in [web]. */
#define KEY_IN_WEB(id) ((id) >= K_W_THREADS && (id) <= K_W_TIMEOUT)

static const struct key_def keys[] = {
        {"db", K_DB, 1, 0, 0},
        {"listen", K_LISTEN, 1, 0, 0},
        {"token", K_TOKEN, 1, 0, 0},
        {"allowed_hosts", K_ALLOWED_HOSTS, 1, 0, 0},
        {"interval", K_INTERVAL, 1, 1, 0},
        {"budget_ms", K_BUDGET_MS, 1, 1, 0},
        {"max_regions", K_MAX_REGIONS, 1, 1, 0},
        {"full_read_every", K_FULL_READ_EVERY, 1, 1, 0},
        {"map_check_every", K_MAP_CHECK_EVERY, 1, 1, 0},
        {"log", K_LOG, 1, 0, 0},
        {"log_level", K_LOG_LEVEL, 1, 0, 0},
        {"log_file", K_LOG_FILE, 1, 0, 0},
        {"retention_raw_days", K_RAW_DAYS, 1, 0, 0},
        {"retention_minute_days", K_MINUTE_DAYS, 1, 0, 0},
        {"retention_hour_days", K_HOUR_DAYS, 1, 0, 0},
        {"retention_raw_max_mb", K_RAW_MAX_MB, 1, 0, 0},
        {"retention_minute_max_mb", K_MINUTE_MAX_MB, 1, 0, 0},
        {"retention_hour_max_mb", K_HOUR_MAX_MB, 1, 0, 0},
        {"auto_top", K_AUTO_TOP, 1, 0, 0},
        {"db_max_mb", K_DB_MAX_MB, 1, 0, 0},
        {"pid", K_PID, 0, 1, 0},
        {"name", K_NAME, 0, 1, 0},
        {"cmdline", K_CMDLINE, 0, 1, 0},
        {"alerts", K_A_ENABLED, 0, 1, 1},
        {"warmup", K_A_WARMUP, 0, 1, 1},
        {"window", K_A_WINDOW, 0, 1, 1},
        {"min_span", K_A_MIN_SPAN, 0, 1, 1},
        {"step", K_A_STEP, 0, 1, 1},
        {"min_window", K_A_MIN_WINDOW, 0, 1, 1},
        {"alpha", K_A_ALPHA, 0, 1, 1},
        {"min_r2", K_A_MIN_R2, 0, 1, 1},
        {"min_mb_per_h", K_A_MIN_MB_H, 0, 1, 1},
        {"min_pct_per_h", K_A_MIN_PCT_H, 0, 1, 1},
        {"fire_after", K_A_FIRE_AFTER, 0, 1, 1},
        {"resolve_after", K_A_RESOLVE_AFTER, 0, 1, 1},
        {"resolve_ratio", K_A_RESOLVE_RATIO, 0, 1, 1},
        {"recent_frac", K_A_RECENT_FRAC, 0, 1, 1},
        {"recent_ratio", K_A_RECENT_RATIO, 0, 1, 1},
        {"eval_interval", K_A_EVAL, 0, 1, 1},
        {"series", K_A_SERIES, 0, 1, 1},
        {"threshold_mb", K_A_THRESHOLD, 0, 1, 1},
        {"every_mb", K_A_EVERY, 0, 1, 1},
        {"map_count_fraction", K_A_MAP_FRACTION, 0, 1, 1},
        {"top_regions", K_A_TOP, 0, 1, 1},
        {"retention_days", K_A_RETENTION, 0, 0, 1},
        {"exec", K_A_EXEC, 0, 0, 1},
        {"exec_args", K_A_EXEC_ARGS, 0, 0, 1},
        {"exec_timeout", K_A_EXEC_TIMEOUT, 0, 0, 1},
        {"webhook", K_A_WEBHOOK, 0, 0, 1},
        {"webhook_timeout", K_A_HOOK_TIMEOUT, 0, 0, 1},
        {"webhook_retries", K_A_HOOK_RETRIES, 0, 0, 1},
        {"syslog", K_A_SYSLOG, 0, 0, 1},
        {"queue", K_A_QUEUE, 0, 0, 1},
        {"threads", K_W_THREADS, 0, 0, 0},
        {"connection_limit", K_W_CONN_LIMIT, 0, 0, 0},
        {"per_ip_limit", K_W_PER_IP_LIMIT, 0, 0, 0},
        {"timeout", K_W_TIMEOUT, 0, 0, 0},
};

#define MAX_DURATION_S (INT64_C(366) * 86400)

/* A duration: a whole number with an optional unit s, m, h or d (seconds
 * without one), from @min_s seconds to a year; *ms gets milliseconds. */
static int
set_duration(struct parse *p, const char *key, const char *v, int64_t min_s, int64_t *ms)
{
	unsigned long long x = 0;
	int64_t unit = 1;
	char num[32];
	size_t n = strlen(v);
	int bad;

	if (n > 0 && n < sizeof(num) && strchr("smhd", v[n - 1]) != NULL) {
		unit = v[n - 1] == 's' ? 1 : v[n - 1] == 'm' ? 60 : v[n - 1] == 'h' ? 3600 : 86400;
		n--;
	}
	bad = n == 0 || n >= sizeof(num);
	if (!bad) {
		memcpy(num, v, n);
		num[n] = '\0';
		bad = parse_uint(num, 0, (unsigned long long)MAX_DURATION_S, &x) != 0;
	}
	if (bad || (int64_t)x * unit < min_s || (int64_t)x * unit > MAX_DURATION_S) {
		perr(p,
		     "%s: '%s' is not a duration from %llds to 366d (a number with s, m, h or d)",
		     key, v, (long long)min_s);
		return -1;
	}
	*ms = (int64_t)x * unit * 1000;
	return 0;
}

/* A decimal number in [min, max] (open at the ends flagged @open_min/@open_max). */
static int
set_double(struct parse *p, const char *key, const char *v, double min, double max, int open_min,
           int open_max, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (v[0] == '\0' || *end != '\0' || errno != 0 || x != x || x < min || x > max ||
	    (open_min && x == min) || (open_max && x == max)) {
		perr(p, "%s: '%s' is not a number in %c%g, %g%c", key, v, open_min ? '(' : '[', min,
		     max, open_max ? ')' : ']');
		return -1;
	}
	*out = x;
	return 0;
}

static int
set_bool(struct parse *p, const char *key, const char *v, int *out)
{
	if (strcmp(v, "on") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "off") == 0 || strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	         strcmp(v, "0") == 0)
		*out = 0;
	else {
		perr(p, "%s: '%s' is neither on nor off", key, v);
		return -1;
	}
	return 0;
}

/* An alert key of [alerts] or a [target] section into @a. */
static int
set_alert_key(struct parse *p, enum key_id id, const char *key, const char *v,
              struct alert_params *a)
{
	struct trend_params *t = &a->trend;
	unsigned long long x;
	double d;

	switch (id) {
	case K_A_ENABLED:
		return set_bool(p, key, v, &a->enabled);
	case K_A_WARMUP:
		return set_duration(p, key, v, 0, &t->warmup_ms);
	case K_A_WINDOW:
		return set_duration(p, key, v, 1, &t->window_ms);
	case K_A_MIN_SPAN:
		return set_duration(p, key, v, 0, &t->min_span_ms);
	case K_A_STEP:
		return set_duration(p, key, v, 1, &t->step_ms);
	case K_A_MIN_WINDOW:
		return set_duration(p, key, v, 0, &t->min_window_ms);
	case K_A_ALPHA:
		return set_double(p, key, v, 0, 1, 1, 1, &t->alpha);
	case K_A_MIN_R2:
		return set_double(p, key, v, 0, 1, 0, 0, &t->min_r2);
	case K_A_MIN_MB_H:
		if (set_double(p, key, v, 0, 1e9, 0, 0, &d) != 0)
			return -1;
		t->min_bytes_per_h = d * 1048576.0;
		return 0;
	case K_A_MIN_PCT_H:
		return set_double(p, key, v, 0, 1e6, 0, 0, &t->min_pct_per_h);
	case K_A_FIRE_AFTER:
	case K_A_RESOLVE_AFTER:
		if (set_uint(p, key, v, 1, 100000, &x) != 0)
			return -1;
		if (id == K_A_FIRE_AFTER)
			t->fire_after = (unsigned)x;
		else
			t->resolve_after = (unsigned)x;
		return 0;
	case K_A_RESOLVE_RATIO:
		return set_double(p, key, v, 0, 1, 0, 0, &t->resolve_ratio);
	case K_A_RECENT_FRAC:
		return set_double(p, key, v, 0, 1, 0, 1, &t->recent_frac);
	case K_A_RECENT_RATIO:
		return set_double(p, key, v, 0, 1, 0, 0, &t->recent_ratio);
	case K_A_EVAL: {
		int64_t ms = 0;

		if (set_duration(p, key, v, 1, &ms) != 0)
			return -1;
		a->eval_interval_s = (unsigned)(ms / 1000);
		return 0;
	}
	case K_A_SERIES:
		if (strcmp(v, "private_committed") == 0)
			a->watch_touched = 0;
		else if (strcmp(v, "private_touched") == 0)
			a->watch_touched = 1;
		else {
			perr(p, "series: '%s' is neither private_committed nor private_touched", v);
			return -1;
		}
		return 0;
	case K_A_THRESHOLD:
	case K_A_EVERY:
		if (set_uint(p, key, v, 0, 1ull << 30, &x) != 0)
			return -1;
		if (id == K_A_THRESHOLD)
			a->threshold_bytes = (uint64_t)x << 20;
		else
			a->every_bytes = (uint64_t)x << 20;
		return 0;
	case K_A_MAP_FRACTION:
		return set_double(p, key, v, 0, 1, 0, 0, &a->map_count_fraction);
	case K_A_TOP:
		if (set_uint(p, key, v, 0, 1000, &x) != 0)
			return -1;
		a->top_regions = (unsigned)x;
		return 0;
	default:
		break;
	}
	perr(p, "%s: not an alert setting", key);
	return -1;
}

/* exec_args: words separated by blanks; a word in double quotes may hold
 * blanks, \" and \\.  No other expansion: this is not a shell. */
static int
set_exec_args(struct parse *p, const char *v, struct alert_sinks_config *k)
{
	char word[CONFIG_PATH_MAX];

	free_exec_args(k);
	for (const char *s = v;;) {
		size_t n = 0;
		int quoted = 0;

		s += strspn(s, " \t");
		if (*s == '\0')
			return 0;
		if (*s == '"') {
			quoted = 1;
			s++;
		}
		for (; *s != '\0' && (quoted || (*s != ' ' && *s != '\t')); s++) {
			if (quoted && *s == '"')
				break;
			if (quoted && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
				s++;
			if (n + 1 >= sizeof(word)) {
				perr(p, "exec_args: an argument is too long");
				return -1;
			}
			word[n++] = *s;
		}
		if (quoted && *s != '"') {
			perr(p, "exec_args: a quote is not closed");
			return -1;
		}
		if (quoted)
			s++;
		word[n] = '\0';
		if (k->n_exec_args == CONFIG_EXEC_ARGS_MAX) {
			perr(p, "exec_args: more than %d arguments", CONFIG_EXEC_ARGS_MAX);
			return -1;
		}
		k->exec_args[k->n_exec_args] = strdup(word);
		if (k->exec_args[k->n_exec_args] == NULL) {
			perr(p, "out of memory");
			return -1;
		}
		k->n_exec_args++;
	}
}

/* 1 when @path names a Windows batch file.  CreateProcessW runs a .bat or
 * .cmd file through cmd.exe, which parses the command line (%VAR%, &, |,
 * ^): the exec sink promises no shell, so such a path is refused.  Windows
 * opens "run.bat. ", "run.BAT" and "run.bat::$DATA" as run.bat: the last
 * component is cut at a stream's colon and stripped of trailing dots and
 * blanks before its ending is compared, case ignored.  The rule holds on
 * every platform, so that --check-config gives one verdict for one file
 * wherever it runs (a Linux command is rarely named .bat or .cmd). */
static int
exec_path_is_batch(const char *path)
{
	const char *name = path, *end;

	for (const char *s = path; *s != '\0'; s++)
		if (*s == '/' || *s == '\\')
			name = s + 1;
	end = strchr(name, ':');
	if (end == NULL)
		end = name + strlen(name);
	while (end > name && (end[-1] == '.' || end[-1] == ' '))
		end--;
	return end - name >= 4 &&
	       (strncasecmp(end - 4, ".bat", 4) == 0 || strncasecmp(end - 4, ".cmd", 4) == 0);
}

static int
set_alerts_section_key(struct parse *p, enum key_id id, const char *key, const char *v)
{
	struct config *c = p->c;
	struct alert_sinks_config *k = &c->sinks;
	unsigned long long x;

	if (id >= K_A_FIRST && id <= K_A_LAST)
		return set_alert_key(p, id, key, v, &c->alerts);
	switch (id) {
	case K_A_RETENTION:
		if (set_uint(p, key, v, 0, MAX_DAYS, &x) != 0)
			return -1;
		c->retention.alert_ms = (int64_t)x * DAY_MS;
		return 0;
	case K_A_EXEC:
		/* first: a Windows path is then judged the same on Linux */
		if (exec_path_is_batch(v)) {
			perr(p,
			     "exec: '%s' is a batch file (.bat, .cmd), which Windows runs through "
			     "cmd.exe; name the program itself",
			     v);
			return -1;
		}
		if (!os_path_is_absolute(v)) {
			perr(p, "exec: '%s' is not an absolute path", v);
			return -1;
		}
		return set_string(p, key, v, k->exec_path, sizeof(k->exec_path), 0);
	case K_A_EXEC_ARGS:
		return set_exec_args(p, v, k);
	case K_A_WEBHOOK:
		if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
			perr(p, "webhook: '%s' is not an http:// or https:// URL", v);
			return -1;
		}
		return set_string(p, key, v, k->webhook_url, sizeof(k->webhook_url), 0);
	case K_A_EXEC_TIMEOUT:
	case K_A_HOOK_TIMEOUT: {
		int64_t ms = 0;

		if (set_duration(p, key, v, 1, &ms) != 0)
			return -1;
		if (ms > INT64_C(3600000)) {
			perr(p, "%s: '%s' is longer than an hour", key, v);
			return -1;
		}
		if (id == K_A_EXEC_TIMEOUT)
			k->exec_timeout_s = (unsigned)(ms / 1000);
		else
			k->webhook_timeout_s = (unsigned)(ms / 1000);
		return 0;
	}
	case K_A_HOOK_RETRIES:
		if (set_uint(p, key, v, 0, 20, &x) != 0)
			return -1;
		k->webhook_retries = (unsigned)x;
		return 0;
	case K_A_SYSLOG:
		return set_bool(p, key, v, &k->syslog);
	case K_A_QUEUE:
		if (set_uint(p, key, v, 1, 100000, &x) != 0)
			return -1;
		k->queue_len = (unsigned)x;
		return 0;
	default:
		break;
	}
	perr(p, "%s: not allowed in [alerts]", key);
	return -1;
}

/* Copy the alert setting of key @id from @src to @dst. */
static void
alert_field_copy(struct alert_params *dst, const struct alert_params *src, enum key_id id)
{
	switch (id) {
	case K_A_ENABLED:
		dst->enabled = src->enabled;
		break;
	case K_A_WARMUP:
		dst->trend.warmup_ms = src->trend.warmup_ms;
		break;
	case K_A_WINDOW:
		dst->trend.window_ms = src->trend.window_ms;
		break;
	case K_A_MIN_SPAN:
		dst->trend.min_span_ms = src->trend.min_span_ms;
		break;
	case K_A_STEP:
		dst->trend.step_ms = src->trend.step_ms;
		break;
	case K_A_MIN_WINDOW:
		dst->trend.min_window_ms = src->trend.min_window_ms;
		break;
	case K_A_ALPHA:
		dst->trend.alpha = src->trend.alpha;
		break;
	case K_A_MIN_R2:
		dst->trend.min_r2 = src->trend.min_r2;
		break;
	case K_A_MIN_MB_H:
		dst->trend.min_bytes_per_h = src->trend.min_bytes_per_h;
		break;
	case K_A_MIN_PCT_H:
		dst->trend.min_pct_per_h = src->trend.min_pct_per_h;
		break;
	case K_A_FIRE_AFTER:
		dst->trend.fire_after = src->trend.fire_after;
		break;
	case K_A_RESOLVE_AFTER:
		dst->trend.resolve_after = src->trend.resolve_after;
		break;
	case K_A_RESOLVE_RATIO:
		dst->trend.resolve_ratio = src->trend.resolve_ratio;
		break;
	case K_A_RECENT_FRAC:
		dst->trend.recent_frac = src->trend.recent_frac;
		break;
	case K_A_RECENT_RATIO:
		dst->trend.recent_ratio = src->trend.recent_ratio;
		break;
	case K_A_EVAL:
		dst->eval_interval_s = src->eval_interval_s;
		break;
	case K_A_SERIES:
		dst->watch_touched = src->watch_touched;
		break;
	case K_A_THRESHOLD:
		dst->threshold_bytes = src->threshold_bytes;
		break;
	case K_A_EVERY:
		dst->every_bytes = src->every_bytes;
		break;
	case K_A_MAP_FRACTION:
		dst->map_count_fraction = src->map_count_fraction;
		break;
	case K_A_TOP:
		dst->top_regions = src->top_regions;
		break;
	default:
		break;
	}
}

void
config_target_alerts(const struct config *c, const struct config_target *t,
                     struct alert_params *out)
{
	*out = c->alerts;
	if (t == NULL)
		return;
	for (int id = K_A_FIRST; id <= K_A_LAST; id++)
		if (t->alert_keys_set & (1ull << (id - K_A_FIRST)))
			alert_field_copy(out, &t->alerts, (enum key_id)id);
}

/* What the parameters must satisfy together; NULL when they do. */
static const char *
alert_params_problem(const struct alert_params *a)
{
	const struct trend_params *t = &a->trend;

	if (t->step_ms > t->window_ms)
		return "step is longer than window";
	if (t->min_span_ms > t->window_ms)
		return "min_span is longer than window";
	if (t->min_window_ms > t->window_ms)
		return "min_window is longer than window";
	if (trend_params_check(t) != 0)
		return "the detector refuses these parameters (docs/alerts.md)";
	return NULL;
}

static int
set_main_key(struct parse *p, enum key_id id, const char *key, const char *v)
{
	struct config *c = p->c;
	unsigned long long x;

	switch (id) {
	case K_DB:
		return set_string(p, key, v, c->db, sizeof(c->db), 0);
	case K_LOG_FILE:
		return set_string(p, key, v, c->log_file, sizeof(c->log_file), 0);
	case K_LISTEN:
		if (config_parse_listen(v, c->listen_addr, sizeof(c->listen_addr), &c->port) != 0) {
			perr(p, "listen: '%s' is not ADDR:PORT with a numeric address", v);
			return -1;
		}
		return 0;
	case K_TOKEN:
		return set_string(p, key, v, c->token, sizeof(c->token), 0);
	case K_ALLOWED_HOSTS:
		free_hosts(c);
		for (const char *s = v; *s != '\0';) {
			size_t n;

			s += strspn(s, ", \t");
			n = strcspn(s, ", \t");
			if (n == 0)
				break;
			if (add_host(c, s, n) != 0) {
				perr(p, "out of memory");
				return -1;
			}
			s += n;
		}
		return 0;
	case K_INTERVAL:
		if (set_uint(p, key, v, 1, CONFIG_MAX_INTERVAL_S, &x) != 0)
			return -1;
		c->interval_s = (unsigned)x;
		return 0;
	case K_BUDGET_MS:
		if (set_uint(p, key, v, 1, MAX_BUDGET, &x) != 0)
			return -1;
		c->budget_ms = (unsigned)x;
		return 0;
	case K_MAX_REGIONS:
		if (set_uint(p, key, v, 0, 100000000, &x) != 0)
			return -1;
		c->max_regions = (size_t)x;
		return 0;
	case K_FULL_READ_EVERY:
		if (set_uint(p, key, v, 1, CONFIG_MAX_FULL_READ_EVERY, &x) != 0)
			return -1;
		c->full_read_every = (unsigned)x;
		return 0;
	case K_MAP_CHECK_EVERY:
		if (set_uint(p, key, v, 1, CONFIG_MAX_FULL_READ_EVERY, &x) != 0)
			return -1;
		c->map_check_every = (unsigned)x;
		return 0;
	case K_LOG:
		if (strcmp(v, "stderr") == 0)
			c->log_sink = LOG_SINK_STDERR;
		else if (strcmp(v, "syslog") == 0)
			c->log_sink = LOG_SINK_SYSLOG;
		else {
			perr(p, "log: '%s' is neither stderr nor syslog", v);
			return -1;
		}
		c->log_sink_set = 1;
		return 0;
	case K_LOG_LEVEL:
		if (strcmp(v, "error") == 0)
			c->log_level = LOG_LEVEL_ERROR;
		else if (strcmp(v, "warning") == 0 || strcmp(v, "warn") == 0)
			c->log_level = LOG_LEVEL_WARN;
		else if (strcmp(v, "info") == 0)
			c->log_level = LOG_LEVEL_INFO;
		else if (strcmp(v, "debug") == 0)
			c->log_level = LOG_LEVEL_DEBUG;
		else {
			perr(p, "log_level: '%s' is not error, warning, info or debug", v);
			return -1;
		}
		return 0;
	case K_RAW_DAYS:
	case K_MINUTE_DAYS:
	case K_HOUR_DAYS:
		if (set_uint(p, key, v, 1, MAX_DAYS, &x) != 0)
			return -1;
		if (id == K_RAW_DAYS)
			c->retention.raw_ms = (int64_t)x * DAY_MS;
		else if (id == K_MINUTE_DAYS)
			c->retention.minute_ms = (int64_t)x * DAY_MS;
		else
			c->retention.hour_ms = (int64_t)x * DAY_MS;
		return 0;
	case K_RAW_MAX_MB:
	case K_MINUTE_MAX_MB:
	case K_HOUR_MAX_MB:
		if (set_uint(p, key, v, 0, 1048576 * 16, &x) != 0)
			return -1;
		x *= 1024 * 1024;
		if (id == K_RAW_MAX_MB)
			c->retention.raw_max_bytes = x;
		else if (id == K_MINUTE_MAX_MB)
			c->retention.minute_max_bytes = x;
		else
			c->retention.hour_max_bytes = x;
		return 0;
	case K_DB_MAX_MB:
		if (set_uint(p, key, v, 0, 1048576 * 16, &x) != 0)
			return -1;
		c->db_max_bytes = x * 1024 * 1024;
		return 0;
	case K_AUTO_TOP:
		if (set_uint(p, key, v, 0, 1000, &x) != 0)
			return -1;
		c->auto_top = (unsigned)x;
		return 0;
	default:
		break;
	}
	perr(p, "%s: not allowed in [memdeltad]", key);
	return -1;
}

static int
set_web_key(struct parse *p, enum key_id id, const char *key, const char *v)
{
	struct config *c = p->c;
	unsigned long long x;
	int64_t ms = 0;

	switch (id) {
	case K_W_THREADS:
		if (set_uint(p, key, v, 1, 64, &x) != 0)
			return -1;
		c->web_threads = (unsigned)x;
		return 0;
	case K_W_CONN_LIMIT:
	case K_W_PER_IP_LIMIT:
		if (set_uint(p, key, v, 1, 10000, &x) != 0)
			return -1;
		if (id == K_W_CONN_LIMIT)
			c->web_connection_limit = (unsigned)x;
		else
			c->web_per_ip_limit = (unsigned)x;
		return 0;
	case K_W_TIMEOUT:
		if (set_duration(p, key, v, 1, &ms) != 0)
			return -1;
		if (ms > INT64_C(3600000)) {
			perr(p, "%s: '%s' is longer than an hour", key, v);
			return -1;
		}
		c->web_timeout_s = (unsigned)(ms / 1000);
		return 0;
	default:
		break;
	}
	perr(p, "%s: not allowed in [web]", key);
	return -1;
}

static int
set_target_key(struct parse *p, enum key_id id, const char *key, const char *v)
{
	struct config_target *t = p->cur;
	struct rx_cost cost;
	unsigned long long x;
	int rc;

	switch (id) {
	case K_INTERVAL:
		if (set_uint(p, key, v, 1, CONFIG_MAX_INTERVAL_S, &x) != 0)
			return -1;
		t->interval_s = (unsigned)x;
		return 0;
	case K_BUDGET_MS:
		if (set_uint(p, key, v, 1, MAX_BUDGET, &x) != 0)
			return -1;
		t->budget_ms = (unsigned)x;
		return 0;
	case K_MAX_REGIONS:
		if (set_uint(p, key, v, 0, 100000000, &x) != 0)
			return -1;
		t->max_regions = (size_t)x;
		return 0;
	case K_FULL_READ_EVERY:
		if (set_uint(p, key, v, 1, CONFIG_MAX_FULL_READ_EVERY, &x) != 0)
			return -1;
		t->full_read_every = (unsigned)x;
		return 0;
	case K_MAP_CHECK_EVERY:
		if (set_uint(p, key, v, 1, CONFIG_MAX_FULL_READ_EVERY, &x) != 0)
			return -1;
		t->map_check_every = (unsigned)x;
		return 0;
	case K_PID:
	case K_NAME:
	case K_CMDLINE:
		if (p->keys_set & ((1ull << K_PID) | (1ull << K_NAME) | (1ull << K_CMDLINE)) &
		    ~(1ull << id)) {
			perr(p, "%s: a target has exactly one of pid=, name= or cmdline=", key);
			return -1;
		}
		if (id == K_PID) {
			if (set_uint(p, key, v, 1, INT_MAX, &x) != 0)
				return -1;
			t->kind = TARGET_PID;
			t->pid = (int)x;
			return 0;
		}
		if (set_string(p, key, v, t->match, sizeof(t->match), 0) != 0)
			return -1;
		t->kind = id == K_NAME ? TARGET_NAME : TARGET_CMDLINE;
		if (id == K_NAME)
			return 0;
		cost = regex_cost(v);
		if (cost.groups_too_deep) {
			perr(p, "cmdline: parentheses nested more than %d deep in '%s'",
			     REGEX_MAX_GROUPS, v);
			return -1;
		}
		if (cost.depth > REGEX_MAX_NESTING) {
			perr(p,
			     "cmdline: repetition operators applied on top of each other more than "
			     "%d deep in '%s' (the regular expression library would need memory "
			     "exponential in that depth)",
			     REGEX_MAX_NESTING, v);
			return -1;
		}
		if (cost.positions > REGEX_MAX_POSITIONS) {
			perr(p,
			     "cmdline: '%s' expands to more than %u positions once its repetition "
			     "counts are applied (the regular expression library would need "
			     "memory growing with the square of that)",
			     v, REGEX_MAX_POSITIONS);
			return -1;
		}
		rc = regcomp(&t->re, v, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char why[128];

			regerror(rc, &t->re, why, sizeof(why));
			perr(p, "cmdline: bad regular expression '%s': %s", v, why);
			return -1;
		}
		t->have_re = 1;
		return 0;
	default:
		if (id >= K_A_FIRST && id <= K_A_LAST) {
			if (set_alert_key(p, id, key, v, &t->alerts) != 0)
				return -1;
			t->alert_keys_set |= 1ull << (id - K_A_FIRST);
			return 0;
		}
		break;
	}
	perr(p, "%s: not allowed in a [target] section", key);
	return -1;
}

/* A new section header was read: start it. */
static int
begin_section(struct parse *p, const char *section)
{
	struct config *c = p->c;
	struct config_target *v;
	char name[CONFIG_NAME_MAX];
	const char *s;
	size_t n;

	p->cur = NULL;
	p->in_main = 0;
	p->in_alerts = 0;
	p->in_web = 0;
	p->keys_set = 0;
	if (strlen(section) < p->section_len) {
		/* libinih's section buffer holds 49 bytes ("target " and a
		 * 42-byte name); snapshot/compat/ini.c's is the same */
		perr(p,
		     "section header longer than %zu bytes ([target NAME] names have at most %zu)",
		     strlen(section), strlen(section) > 7 ? strlen(section) - 7 : 0);
		return -1;
	}
	if (strcmp(section, "memdeltad") == 0) {
		p->in_main = 1;
		return 0;
	}
	if (strcmp(section, "alerts") == 0) {
		p->in_alerts = 1;
		p->alerts_line = p->section_line;
		return 0;
	}
	if (strcmp(section, "web") == 0) {
		p->in_web = 1;
		return 0;
	}
	if (strncmp(section, "target", 6) != 0 || (section[6] != ' ' && section[6] != '\t')) {
		perr(p,
		     "unknown section [%s] (expected [memdeltad], [alerts], [web], [target NAME])",
		     section);
		return -1;
	}
	s = section + 6;
	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(name)) {
		perr(p, "[target NAME]: the name must have 1 to %zu bytes", sizeof(name) - 1);
		return -1;
	}
	memcpy(name, s, n);
	name[n] = '\0';
	for (size_t i = 0; i < c->n_targets; i++)
		if (strcmp(c->targets[i].name, name) == 0) {
			perr(p, "[target %s] is defined twice (first on line %u)", name,
			     c->targets[i].line);
			return -1;
		}
	v = realloc(c->targets, (c->n_targets + 1) * sizeof(*v));
	if (v == NULL) {
		perr(p, "out of memory");
		return -1;
	}
	c->targets = v;
	p->cur = &v[c->n_targets++];
	memset(p->cur, 0, sizeof(*p->cur));
	p->cur->kind = TARGET_PID;
	p->cur->pid = 0; /* 0: no selector yet, checked at the end */
	memcpy(p->cur->name, name, n + 1);
	p->cur->line = p->section_line;
	return 0;
}

static int
handle(void *arg, const char *section, const char *key, const char *value)
{
	struct parse *p = arg;
	const struct key_def *k = NULL;

	if (p->err_line != 0)
		return 1; /* report the first error only */
	if (p->seen_seq != p->section_seq) {
		unsigned line = p->lineno;
		int rc;

		/* Errors about the section name the header's line. */
		p->seen_seq = p->section_seq;
		p->lineno = p->section_line;
		rc = begin_section(p, section);
		p->lineno = line;
		if (rc != 0)
			return 0;
	}
	if (p->section_seq == 0) {
		perr(p, "'%s' outside a section (put it under [memdeltad])", key);
		return 0;
	}
	if (p->cur == NULL && !p->in_main && !p->in_alerts && !p->in_web)
		return 0; /* a bad section, already reported */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, key) == 0)
			k = &keys[i];
	if (k == NULL || (p->in_main && !k->in_main) || (p->cur != NULL && !k->in_target) ||
	    (p->in_alerts && !k->in_alerts) || (p->in_web && !KEY_IN_WEB(k->id))) {
		perr(p, "unknown key '%s' in [%s]", key, section);
		return 0;
	}
	if (p->keys_set & (1ull << k->id)) {
		perr(p, "'%s' is set twice in [%s]", key, section);
		return 0;
	}
	p->keys_set |= 1ull << k->id;
	if (p->in_main)
		return set_main_key(p, k->id, key, value) == 0;
	if (p->in_alerts)
		return set_alerts_section_key(p, k->id, key, value) == 0;
	if (p->in_web)
		return set_web_key(p, k->id, key, value) == 0;
	return set_target_key(p, k->id, key, value) == 0;
}

static int
check_targets(struct parse *p)
{
	struct alert_params a;
	const char *why;

	why = alert_params_problem(&p->c->alerts);
	if (why != NULL) {
		p->lineno = p->alerts_line;
		perr(p, "[alerts]: %s", why);
		return -1;
	}
	for (size_t i = p->first_target; i < p->c->n_targets; i++) {
		const struct config_target *t = &p->c->targets[i];

		if (t->kind == TARGET_PID && t->pid == 0) {
			p->lineno = t->line;
			perr(p, "[target %s] needs one of pid=, name= or cmdline=", t->name);
			return -1;
		}
		config_target_alerts(p->c, t, &a);
		why = alert_params_problem(&a);
		if (why != NULL) {
			p->lineno = t->line;
			perr(p, "[target %s]: %s", t->name, why);
			return -1;
		}
	}
	return 0;
}

static int
parse_stream(struct config *c, FILE *f, const char *origin, char *err, size_t errlen)
{
	struct parse p;
	int rc, status = 0;

	memset(&p, 0, sizeof(p));
	p.c = c;
	p.origin = origin;
	p.f = f;
	p.first_target = c->n_targets;
	rc = ini_parse_stream(read_line, &p, handle, &p);
	if (rc == -2) {
		status = MD_ERR_NOMEM;
		snprintf(err != NULL ? err : p.err, err != NULL ? errlen : sizeof(p.err),
		         "%s: out of memory", origin);
		goto out;
	}
	if (rc > 0 && (p.err_line == 0 || (unsigned)rc < p.err_line)) {
		/* inih found a line that is neither a section, a comment nor
		 * key=value before any error of ours. */
		p.err_line = (unsigned)rc;
		snprintf(p.err, sizeof(p.err),
		         "syntax error (expected [section], key = value or a comment)");
	}
	if (p.err_line == 0)
		(void)check_targets(&p);
	if (p.err_line != 0) {
		status = MD_ERR_PARSE;
		if (err != NULL)
			snprintf(err, errlen, "%s:%u: %s", origin, p.err_line, p.err);
	}
out:
	free(p.line);
	return status;
}

int
config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	f = fopen(path, "r" COMPAT_FOPEN_CLOEXEC);
	if (f == NULL) {
		if (err != NULL)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return MD_ERR_IO;
	}
	rc = parse_stream(c, f, path, err, errlen);
	fclose(f);
	return rc;
}

int
config_load_string(struct config *c, const char *text, const char *origin, char *err, size_t errlen)
{
	FILE *f;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text[0] == '\0')
		return 0;
	f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	if (f == NULL) {
		if (err != NULL)
			snprintf(err, errlen, "%s: %s", origin, strerror(errno));
		return MD_ERR_NOMEM;
	}
	rc = parse_stream(c, f, origin, err, errlen);
	fclose(f);
	return rc;
}

static int
add_flag_target(struct config *c, const char *name, enum target_kind kind, int pid,
                const char *match)
{
	struct config_target *v, *t;

	for (size_t i = 0; i < c->n_targets; i++)
		if (strcmp(c->targets[i].name, name) == 0)
			return 0;
	v = realloc(c->targets, (c->n_targets + 1) * sizeof(*v));
	if (v == NULL)
		return MD_ERR_NOMEM;
	c->targets = v;
	t = &v[c->n_targets];
	memset(t, 0, sizeof(*t));
	if (strlen(name) >= sizeof(t->name) || (match != NULL && strlen(match) >= sizeof(t->match)))
		return MD_ERR_PARSE;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->kind = kind;
	t->pid = pid;
	if (match != NULL)
		snprintf(t->match, sizeof(t->match), "%s", match);
	c->n_targets++;
	return 0;
}

int
config_apply_flags(struct config *c, const struct config_flags *f, char *err, size_t errlen)
{
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (f->db != NULL) {
		if (f->db[0] == '\0' || strlen(f->db) >= sizeof(c->db)) {
			if (err != NULL)
				snprintf(err, errlen, "--db: bad path");
			return MD_ERR_PARSE;
		}
		snprintf(c->db, sizeof(c->db), "%s", f->db);
	}
	if (f->listen != NULL &&
	    config_parse_listen(f->listen, c->listen_addr, sizeof(c->listen_addr), &c->port) != 0) {
		if (err != NULL)
			snprintf(err, errlen, "--listen: '%s' is not ADDR:PORT", f->listen);
		return MD_ERR_PARSE;
	}
	if (f->interval_s != 0)
		c->interval_s = f->interval_s;
	for (size_t i = 0; i < f->n_watch_pids; i++) {
		char name[32];

		snprintf(name, sizeof(name), "pid:%d", f->watch_pids[i]);
		rc = add_flag_target(c, name, TARGET_PID, f->watch_pids[i], NULL);
		if (rc != 0)
			goto fail;
	}
	for (size_t i = 0; i < f->n_watch_names; i++) {
		const char *n = f->watch_names[i];

		if (n[0] == '\0') {
			rc = MD_ERR_PARSE;
			goto fail;
		}
		rc = add_flag_target(c, n, TARGET_NAME, 0, n);
		if (rc != 0)
			goto fail;
	}
	return 0;
fail:
	if (err != NULL)
		snprintf(err, errlen, "--watch-pid/--watch-name: %s", md_strerror(rc));
	return rc;
}

int
config_listen_is_loopback(const char *addr)
{
	unsigned char b[16];
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char v6loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

	if (inet_pton(AF_INET, addr, b) == 1)
		return b[0] == 127;
	if (inet_pton(AF_INET6, addr, b) == 1)
		return memcmp(b, v6loop, 16) == 0 || (memcmp(b, v4mapped, 12) == 0 && b[12] == 127);
	return 0;
}

int
config_validate(const struct config *c, char *err, size_t errlen)
{
	if (c->db[0] == '\0') {
		if (err != NULL)
			snprintf(err, errlen,
			         "no database path: set db= or --db (no STATE_DIRECTORY, "
			         "XDG_STATE_HOME or HOME)");
		return MD_ERR_INVAL;
	}
	/* web_start refuses it too; said here, --check-config catches it. */
	if (c->token[0] == '\0' && !config_listen_is_loopback(c->listen_addr)) {
		if (err != NULL)
			snprintf(err, errlen,
			         "listen: %s is not a loopback address: set token = (the access "
			         "token of the web UI and API) or listen on 127.0.0.1",
			         c->listen_addr);
		return MD_ERR_INVAL;
	}
	return 0;
}
