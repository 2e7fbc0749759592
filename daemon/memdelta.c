/*
 * memdelta.c - the one-shot CLI: `memdelta snapshot`, `diff`, `record`,
 * `list` and `show` (docs/man/memdelta.1).  Like `vmmap -p PID out.csv` or
 * `pmap -XX`, but with memdelta's region model, JSON contract and database.
 *
 * Exit status: 0 success, 1 runtime failure (no such process, permission,
 * database), 2 bad usage or bad input (malformed JSON file, unknown id).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/cli_render.h"
#include "diff/diff.h"
#include "diff/diff_json.h"
#include "snapshot/json.h"
#include "snapshot/store.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };

static const char usage_text[] =
        "usage: memdelta snapshot PID [--format=table|csv|json] [-o FILE] [--db FILE [--target "
        "NAME]]\n"
        "                         [--max-regions N] [--time-budget MS] [--proc-root DIR]\n"
        "       memdelta snapshot --raw PID [-o FILE]\n"
        "       memdelta diff OLD.json NEW.json [--format=table|csv|json] [--no-color] [--all]\n"
        "       memdelta diff --db FILE SNAP_A SNAP_B [--format=table|csv|json] [--no-color] "
        "[--all]\n"
        "       memdelta record PID --interval SECONDS --count N --db FILE [--target NAME]\n"
        "       memdelta list --db FILE [--target NAME]\n"
        "       memdelta show --db FILE SNAP_ID [--format=table|csv|json] [-o FILE]\n"
        "       memdelta --help | --version\n";

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "memdelta: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage_text);
	exit(EXIT_USAGE);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static enum format
parse_format(const char *s)
{
	if (strcmp(s, "table") == 0)
		return FORMAT_TABLE;
	if (strcmp(s, "csv") == 0)
		return FORMAT_CSV;
	if (strcmp(s, "json") == 0)
		return FORMAT_JSON;
	die_usage("unknown format '%s' (table, csv or json)", s);
}

/* The message an operator needs for a failed collection of @pid. */
static void
report_collect_error(int pid, int rc)
{
	switch (rc) {
	case MD_ERR_NOPROC:
		fprintf(stderr, "memdelta: %d: no such process\n", pid);
		break;
	case MD_ERR_PERM:
		fprintf(stderr,
		        "memdelta: cannot read the address space of process %d: permission "
		        "denied.\n"
		        "Reading another user's /proc/PID/smaps needs root or CAP_SYS_PTRACE\n"
		        "(e.g. sudo memdelta ..., or setcap cap_sys_ptrace+ep $(command -v "
		        "memdelta)).\n",
		        pid);
		break;
	case MD_ERR_KTHREAD:
		fprintf(stderr, "memdelta: %d is a kernel thread: it has no user address space\n",
		        pid);
		break;
	case MD_ERR_ZOMBIE:
		fprintf(stderr,
		        "memdelta: %d is a zombie: it has exited (not yet reaped by its parent) "
		        "and "
		        "has no address space\n",
		        pid);
		break;
	default:
		fprintf(stderr, "memdelta: process %d: %s\n", pid, md_strerror(rc));
		break;
	}
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

static FILE *
open_output(const char *path)
{
	FILE *f;

	if (path == NULL || strcmp(path, "-") == 0)
		return stdout;
	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "memdelta: cannot write %s: %s\n", path, strerror(errno));
		exit(EXIT_RUNTIME);
	}
	return f;
}

static int
close_output(FILE *f, const char *path)
{
	int bad = ferror(f);

	if (f != stdout)
		bad |= fclose(f) != 0;
	else
		bad |= fflush(f) != 0;
	if (bad) {
		fprintf(stderr, "memdelta: error writing %s\n", path ? path : "standard output");
		return EXIT_RUNTIME;
	}
	return 0;
}

static int
print_json(FILE *f, cJSON *json)
{
	char *text = cJSON_PrintUnformatted(json);

	if (text == NULL)
		return MD_ERR_NOMEM;
	fputs(text, f);
	fputc('\n', f);
	cJSON_free(text);
	return 0;
}

static int
flush_to_file(void *arg, const char *data, size_t len)
{
	return fwrite(data, 1, len, arg) == len ? 0 : MD_ERR_IO;
}

static int
render_snapshot(FILE *f, const struct snapshot *s, enum format fmt)
{
	struct json_out o;
	int rc;

	switch (fmt) {
	case FORMAT_TABLE:
		return render_snapshot_table(f, s);
	case FORMAT_CSV:
		return render_snapshot_csv(f, s);
	case FORMAT_JSON:
		/* Streamed: no tree of 17 nodes per region. */
		json_out_init(&o, flush_to_file, f);
		snapshot_json_write(s, &o);
		json_out_raw(&o, "\n", 1);
		rc = json_out_finish(&o);
		json_out_done(&o);
		return rc;
	}
	return MD_ERR_INVAL;
}

static int
open_store(const char *path, unsigned flags, struct store **st)
{
	int rc = store_open(path, flags, st);

	if (rc != 0)
		fprintf(stderr, "memdelta: cannot open database %s: %s\n", path, md_strerror(rc));
	return rc;
}

/* Store @s under target @target (default: the process name). */
static int
store_one(struct store *st, const char *target, const struct snapshot *s, int64_t *id)
{
	int64_t target_id;
	int rc;

	rc = store_target_ensure(st, target ? target : s->name, &target_id);
	if (rc == 0)
		rc = store_put_snapshot(st, target_id, s, id);
	if (rc != 0)
		fprintf(stderr, "memdelta: cannot store the snapshot: %s (%s)\n", md_strerror(rc),
		        store_errmsg(st));
	return rc;
}

static int
parse_pid(const char *arg)
{
	long pid;

	if (parse_long(arg, 1, INT_MAX, &pid) != 0)
		die_usage("'%s' is not a process id", arg);
	return (int)pid;
}

enum {
	OPT_FORMAT = 1000,
	OPT_DB,
	OPT_TARGET,
	OPT_MAX_REGIONS,
	OPT_TIME_BUDGET,
	OPT_PROC_ROOT,
	OPT_NO_COLOR,
	OPT_ALL,
	OPT_INTERVAL,
	OPT_COUNT,
	OPT_RAW,
};

static const struct option long_opts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"db", required_argument, NULL, OPT_DB},
        {"target", required_argument, NULL, OPT_TARGET},
        {"max-regions", required_argument, NULL, OPT_MAX_REGIONS},
        {"time-budget", required_argument, NULL, OPT_TIME_BUDGET},
        {"proc-root", required_argument, NULL, OPT_PROC_ROOT},
        {"no-color", no_argument, NULL, OPT_NO_COLOR},
        {"all", no_argument, NULL, OPT_ALL},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"count", required_argument, NULL, OPT_COUNT},
        {"raw", no_argument, NULL, OPT_RAW},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

struct cli {
	enum format format;
	const char *output;
	const char *db;
	const char *target;
	long max_regions;
	long time_budget_ms;
	const char *proc_root;
	int no_color;
	int all;
	long interval_s;
	long count;
	int format_set;
	int raw;
};

/* Parse the options of a subcommand; positional arguments stay in argv[optind..]. */
static void
parse_opts(int argc, char **argv, struct cli *c)
{
	int ch;

	memset(c, 0, sizeof(*c));
	c->interval_s = -1;
	c->count = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1) {
		switch (ch) {
		case OPT_FORMAT:
			c->format = parse_format(optarg);
			c->format_set = 1;
			break;
		case 'o':
			c->output = optarg;
			break;
		case OPT_DB:
			c->db = optarg;
			break;
		case OPT_TARGET:
			c->target = optarg;
			break;
		case OPT_MAX_REGIONS:
			if (parse_long(optarg, 1, LONG_MAX, &c->max_regions) != 0)
				die_usage("--max-regions: '%s' is not a positive number", optarg);
			break;
		case OPT_TIME_BUDGET:
			if (parse_long(optarg, 1, 86400000, &c->time_budget_ms) != 0)
				die_usage("--time-budget: '%s' is not a number of milliseconds",
				          optarg);
			break;
		case OPT_PROC_ROOT:
			c->proc_root = optarg;
			break;
		case OPT_NO_COLOR:
			c->no_color = 1;
			break;
		case OPT_ALL:
			c->all = 1;
			break;
		case OPT_INTERVAL:
			if (parse_long(optarg, 0, 86400, &c->interval_s) != 0)
				die_usage("--interval: '%s' is not a number of seconds", optarg);
			break;
		case OPT_COUNT:
			if (parse_long(optarg, 1, 100000000, &c->count) != 0)
				die_usage("--count: '%s' is not a positive number", optarg);
			break;
		case OPT_RAW:
			c->raw = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			fputs(usage_text, stderr);
			exit(EXIT_USAGE);
		}
	}
}

/* Collect @pid with the options of @c; time_ms and collect_ns are set. */
static int
collect(const struct cli *c, int pid, struct snapshot **out)
{
	struct snapshot_opts opts;
	struct budget budget;
	uint64_t t0 = mono_ns();
	int rc;

	memset(&opts, 0, sizeof(opts));
	opts.proc_root = c->proc_root;
	opts.max_regions = (size_t)c->max_regions;
	if (c->time_budget_ms > 0) {
		budget.deadline_ns = t0 + (uint64_t)c->time_budget_ms * 1000000u;
		opts.over_budget = over_budget;
		opts.budget_arg = &budget;
	}
	rc = snapshot_collect(pid, &opts, out);
	if (rc == 0) {
		(*out)->time_ms = now_ms();
		(*out)->collect_ns = mono_ns() - t0;
	}
	return rc;
}

/* `snapshot --raw`: what the collector reads, unclassified, for fixtures.
 * With -o FILE it goes to FILE.part first, renamed over FILE on success, so a
 * failed read leaves an existing FILE as it was. */
static int
record_raw(const struct cli *c, int pid)
{
	char part[4096];
	const char *path = c->output;
	FILE *f;
	int rc, status;

	if (c->db != NULL || c->format_set || c->proc_root != NULL || c->max_regions > 0 ||
	    c->time_budget_ms > 0)
		die_usage("--raw takes only -o FILE");
	if (path != NULL && strcmp(path, "-") != 0) {
		if ((size_t)snprintf(part, sizeof(part), "%s.part", path) >= sizeof(part))
			die_usage("-o: path too long");
		path = part;
	}
	f = open_output(path);
	rc = snapshot_record_raw(pid, f);
	status = close_output(f, path);
	if (rc != 0) {
		report_collect_error(pid, rc);
		if (path == part)
			remove(part);
		return EXIT_RUNTIME;
	}
	if (status == 0 && path == part && rename(part, c->output) != 0) {
		/* Windows' rename() does not replace an existing file. */
		if (remove(c->output) != 0 || rename(part, c->output) != 0) {
			fprintf(stderr, "memdelta: cannot rename %s to %s: %s\n", part, c->output,
			        strerror(errno));
			status = EXIT_RUNTIME;
		}
	}
	return status;
}

static int
cmd_snapshot(int argc, char **argv)
{
	struct snapshot *s = NULL;
	struct store *st = NULL;
	struct cli c;
	FILE *f;
	int pid, rc, status = 0;

	parse_opts(argc, argv, &c);
	if (argc - optind != 1)
		die_usage("snapshot takes one process id");
	pid = parse_pid(argv[optind]);
	if (c.raw)
		return record_raw(&c, pid);
	if (c.db != NULL && open_store(c.db, 0, &st) != 0)
		return EXIT_RUNTIME;
	rc = collect(&c, pid, &s);
	if (rc != 0) {
		report_collect_error(pid, rc);
		store_close(st);
		return EXIT_RUNTIME;
	}
	if (s->flags & SNAPSHOT_TRUNCATED)
		fprintf(stderr,
		        "memdelta: warning: process %d has more regions than the budget "
		        "allows; the snapshot is truncated at %zu regions\n",
		        pid, s->n_regions);
	if (st != NULL && store_one(st, c.target, s, NULL) != 0)
		status = EXIT_RUNTIME;
	f = open_output(c.output);
	rc = render_snapshot(f, s, c.format);
	if (rc != 0) {
		fprintf(stderr, "memdelta: %s\n", md_strerror(rc));
		status = EXIT_RUNTIME;
	}
	if (close_output(f, c.output) != 0)
		status = EXIT_RUNTIME;
	snapshot_free(s);
	store_close(st);
	return status;
}

/* Load a snapshot JSON file; exits 2 with the file and offset when malformed. */
static struct snapshot *
load_json_file(const char *path)
{
	struct snapshot *s = NULL;
	const char *what = NULL;
	size_t len = 0, cap = 0, off = 0, got;
	char *buf = NULL;
	FILE *f;
	int rc;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "memdelta: cannot open %s: %s\n", path, strerror(errno));
		exit(EXIT_USAGE);
	}
	do {
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap + 65536);

			if (nb == NULL) {
				fprintf(stderr, "memdelta: %s: out of memory\n", path);
				exit(EXIT_RUNTIME);
			}
			buf = nb;
			cap += 65536;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	if (ferror(f)) {
		fprintf(stderr, "memdelta: cannot read %s: %s\n", path, strerror(errno));
		exit(EXIT_USAGE);
	}
	if (f != stdin)
		fclose(f);
	rc = snapshot_from_json(buf, len, &s, &off, &what);
	free(buf);
	if (rc == MD_ERR_NOMEM) {
		fprintf(stderr, "memdelta: %s: out of memory\n", path);
		exit(EXIT_RUNTIME);
	}
	if (rc != 0) {
		if (what != NULL)
			fprintf(stderr,
			        "memdelta: %s: not a memdelta snapshot: invalid or missing "
			        "member '%s'\n",
			        path, what);
		else
			fprintf(stderr, "memdelta: %s: malformed JSON at byte offset %zu\n", path,
			        off);
		exit(EXIT_USAGE);
	}
	return s;
}

static struct snapshot *
load_stored(struct store *st, const char *arg)
{
	struct snapshot *s = NULL;
	long id;
	int rc;

	if (parse_long(arg, 1, LONG_MAX, &id) != 0)
		die_usage("'%s' is not a snapshot id", arg);
	rc = store_get_snapshot(st, id, &s);
	if (rc == MD_ERR_NOTFOUND) {
		fprintf(stderr, "memdelta: no snapshot %ld in the database\n", id);
		exit(EXIT_USAGE);
	}
	if (rc != 0) {
		fprintf(stderr, "memdelta: cannot read snapshot %ld: %s (%s)\n", id,
		        md_strerror(rc), store_errmsg(st));
		exit(EXIT_RUNTIME);
	}
	return s;
}

static int
cmd_diff(int argc, char **argv)
{
	struct snapshot *a = NULL, *b = NULL;
	struct diff_result d;
	struct store *st = NULL;
	cJSON *json = NULL;
	struct cli c;
	FILE *f;
	int rc, color;

	parse_opts(argc, argv, &c);
	if (argc - optind != 2)
		die_usage("diff takes two snapshots");
	if (c.db != NULL) {
		if (open_store(c.db, STORE_READONLY, &st) != 0)
			return EXIT_RUNTIME;
		a = load_stored(st, argv[optind]);
		b = load_stored(st, argv[optind + 1]);
		store_close(st);
	} else {
		a = load_json_file(argv[optind]);
		b = load_json_file(argv[optind + 1]);
	}
	rc = diff_snapshots(a, b, &d);
	if (rc != 0) {
		fprintf(stderr, "memdelta: diff failed: %s\n", md_strerror(rc));
		snapshot_free(a);
		snapshot_free(b);
		return EXIT_RUNTIME;
	}
	f = open_output(c.output);
	color = !c.no_color && f == stdout && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	switch (c.format) {
	case FORMAT_TABLE:
		rc = render_diff_table(f, a, b, &d, color, c.all);
		break;
	case FORMAT_CSV:
		rc = render_diff_csv(f, a, b, &d, c.all);
		break;
	case FORMAT_JSON:
		rc = diff_to_json(a, b, &d, c.all ? DIFF_JSON_INCLUDE_SAME : 0, &json);
		if (rc == 0)
			rc = print_json(f, json);
		cJSON_Delete(json);
		break;
	}
	if (rc != 0)
		fprintf(stderr, "memdelta: %s\n", md_strerror(rc));
	if (close_output(f, c.output) != 0)
		rc = MD_ERR_IO;
	diff_result_done(&d);
	snapshot_free(a);
	snapshot_free(b);
	return rc == 0 ? 0 : EXIT_RUNTIME;
}

static int
cmd_record(int argc, char **argv)
{
	struct store *st = NULL;
	struct timespec next;
	int64_t id, first_id = 0;
	struct cli c;
	long i;
	int pid, rc = 0;

	parse_opts(argc, argv, &c);
	if (argc - optind != 1)
		die_usage("record takes one process id");
	if (c.db == NULL || c.interval_s < 0 || c.count < 0)
		die_usage("record needs --db FILE, --interval SECONDS and --count N");
	pid = parse_pid(argv[optind]);
	if (open_store(c.db, 0, &st) != 0)
		return EXIT_RUNTIME;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < c.count; i++) {
		struct snapshot *s = NULL;

		if (i > 0) {
			next.tv_sec += c.interval_s;
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) ==
			       EINTR)
				;
		}
		rc = collect(&c, pid, &s);
		if (rc != 0) {
			report_collect_error(pid, rc);
			if (i > 0)
				fprintf(stderr, "memdelta: stopped after %ld snapshots\n", i);
			break;
		}
		rc = store_one(st, c.target, s, &id);
		snapshot_free(s);
		if (rc != 0)
			break;
		if (i == 0)
			first_id = id;
	}
	if (i > 0)
		printf("stored %ld snapshots of process %d in %s (ids %" PRId64 "..%" PRId64 ")\n",
		       i, pid, c.db, first_id, id);
	store_close(st);
	return rc == 0 ? 0 : EXIT_RUNTIME;
}

static int
cmd_list(int argc, char **argv)
{
	struct store_snapshot_info *info = NULL;
	struct store_target_info *targets = NULL;
	struct store *st = NULL;
	size_t n_targets = 0, n = 0, t, i;
	struct cli c;
	int rc;

	parse_opts(argc, argv, &c);
	if (c.db == NULL || argc != optind)
		die_usage("list needs --db FILE");
	if (open_store(c.db, STORE_READONLY, &st) != 0)
		return EXIT_RUNTIME;
	rc = store_list_targets(st, &targets, &n_targets);
	printf("%8s %-20s %8s %24s %9s %s\n", "id", "target", "pid", "time (UTC)", "regions",
	       "flags");
	for (t = 0; rc == 0 && t < n_targets; t++) {
		if (c.target != NULL && strcmp(c.target, targets[t].name) != 0)
			continue;
		rc = store_list_snapshots(st, targets[t].id, INT64_MIN, INT64_MAX, &info, &n);
		for (i = 0; rc == 0 && i < n; i++) {
			char when[32];
			time_t secs = (time_t)(info[i].time_ms / 1000);
			struct tm tm;

			gmtime_r(&secs, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			printf("%8" PRId64 " %-20s %8d %24s %9" PRIu64 " %s\n", info[i].id,
			       targets[t].name, info[i].pid, when, info[i].n_regions,
			       (info[i].flags & SNAPSHOT_TRUNCATED) ? "truncated" : "");
		}
		free(info);
		info = NULL;
	}
	if (rc != 0)
		fprintf(stderr, "memdelta: cannot list %s: %s (%s)\n", c.db, md_strerror(rc),
		        store_errmsg(st));
	free(targets);
	store_close(st);
	return rc == 0 ? 0 : EXIT_RUNTIME;
}

static int
cmd_show(int argc, char **argv)
{
	struct snapshot *s;
	struct store *st = NULL;
	struct cli c;
	FILE *f;
	int rc;

	parse_opts(argc, argv, &c);
	if (c.db == NULL || argc - optind != 1)
		die_usage("show needs --db FILE and a snapshot id");
	if (open_store(c.db, STORE_READONLY, &st) != 0)
		return EXIT_RUNTIME;
	s = load_stored(st, argv[optind]);
	store_close(st);
	f = open_output(c.output);
	rc = render_snapshot(f, s, c.format);
	if (close_output(f, c.output) != 0)
		rc = MD_ERR_IO;
	snapshot_free(s);
	return rc == 0 ? 0 : EXIT_RUNTIME;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		die_usage("missing command");
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("memdelta %s\n", PACKAGE_VERSION);
		return 0;
	}
	/* Subcommands parse argv[1..] with argv[1] as their program name. */
	if (strcmp(cmd, "snapshot") == 0)
		return cmd_snapshot(argc - 1, argv + 1);
	if (strcmp(cmd, "diff") == 0)
		return cmd_diff(argc - 1, argv + 1);
	if (strcmp(cmd, "record") == 0)
		return cmd_record(argc - 1, argv + 1);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	die_usage("unknown command '%s'", cmd);
}
