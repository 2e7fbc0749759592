/*
 * fuzz_config.c - libFuzzer target: memdeltad's configuration parser
 * (daemon/daemon_config.c) and the two INI readers under it.
 *
 * The input is a configuration file.  It is loaded as the daemon loads one:
 * config_load_string() over the defaults of config_init() (and, when the
 * input holds a NUL byte that a string cannot carry, config_load_file() on
 * a memfd holding all of it).  A load that succeeds must leave a
 * configuration that config_validate() accepts unless (and only if) it
 * listens off loopback without a token, every target with a unique
 * name and the selector of its kind, values in their documented ranges and
 * every string terminated inside its array; a load that fails must say
 * "ORIGIN:LINE: why" with a line of the file.  config_done() must release
 * everything (LeakSanitizer watches).  The first line also goes to
 * config_parse_listen().
 *
 * The same text is then read by libinih (what the Linux daemon uses) and by
 * snapshot/compat/ini.c (the Windows build's reader, renamed
 * md_compat_ini_parse_stream by tests/fuzz/run.sh), through one fgets-like
 * reader: md_ini.h promises inih's contract and syntax, so both must make
 * the same handler calls with the same section, name and value, and return
 * the same line.
 */
#include "config.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ini.h>

#include "daemon/daemon_config.h"
#include "tests/fuzz/fuzz.h"

int md_compat_ini_parse_stream(ini_reader reader, void *stream, ini_handler handler, void *user);

#define MAX_CALLS 4096

/* ---- the configuration ------------------------------------------------- */

static const struct config_env env = {"/var/lib/memdelta", NULL, "/home/fuzz", 0, NULL};

static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void
check_config(const struct config *c)
{
	char err[CONFIG_ERR_MAX] = "";
	int rc = config_validate(c, err, sizeof(err));

	/* What config_validate refuses in a file that parsed: a listen
	 * address off loopback without a token (the database is always
	 * known here: env names a state directory). */
	FUZZ_CHECK(rc == 0 || rc == MD_ERR_INVAL);
	FUZZ_CHECK((rc != 0) ==
	           (!config_listen_is_loopback(c->listen_addr) && c->token[0] == '\0'));
	if (rc != 0)
		FUZZ_CHECK(err[0] != '\0');
	FUZZ_CHECK(terminated(c->db, sizeof(c->db)) && c->db[0] != '\0');
	FUZZ_CHECK(terminated(c->listen_addr, sizeof(c->listen_addr)));
	FUZZ_CHECK(terminated(c->token, sizeof(c->token)));
	FUZZ_CHECK(terminated(c->log_file, sizeof(c->log_file)));
	FUZZ_CHECK(c->interval_s >= 1 && c->interval_s <= CONFIG_MAX_INTERVAL_S);
	FUZZ_CHECK(c->full_read_every >= 1 && c->full_read_every <= CONFIG_MAX_FULL_READ_EVERY);
	FUZZ_CHECK(c->map_check_every >= 1 && c->map_check_every <= CONFIG_MAX_FULL_READ_EVERY);
	for (size_t i = 0; i < c->n_allowed_hosts; i++)
		FUZZ_CHECK(c->allowed_hosts[i] != NULL);
	FUZZ_CHECK(c->sinks.n_exec_args <= CONFIG_EXEC_ARGS_MAX);
	for (size_t i = 0; i < c->sinks.n_exec_args; i++)
		FUZZ_CHECK(c->sinks.exec_args[i] != NULL);
	for (size_t i = 0; i < c->n_targets; i++) {
		const struct config_target *t = &c->targets[i];

		FUZZ_CHECK(terminated(t->name, sizeof(t->name)) && t->name[0] != '\0');
		FUZZ_CHECK(terminated(t->match, sizeof(t->match)));
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(c->targets[j].name, t->name) != 0);
		FUZZ_CHECK(t->interval_s <= CONFIG_MAX_INTERVAL_S);
		switch (t->kind) {
		case TARGET_PID:
			FUZZ_CHECK(t->pid > 0);
			break;
		case TARGET_NAME:
			FUZZ_CHECK(t->match[0] != '\0');
			break;
		case TARGET_CMDLINE:
			FUZZ_CHECK(t->have_re);
			break;
		default:
			FUZZ_CHECK(!"target kind");
		}
	}
}

/* "fuzz.conf:LINE: why", LINE within the text's @lines lines (+1: the
 * end of a file whose last line is unterminated). */
static void
check_error(const char *err, const char *origin, size_t lines)
{
	size_t n = strlen(origin);
	char *end;
	unsigned long line;

	FUZZ_CHECK(strncmp(err, origin, n) == 0 && err[n] == ':');
	line = strtoul(err + n + 1, &end, 10);
	FUZZ_CHECK(end != err + n + 1 && end[0] == ':' && end[1] == ' ' && end[2] != '\0');
	FUZZ_CHECK(line >= 1 && line <= lines + 1);
}

static size_t
count_lines(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n + (len > 0 && s[len - 1] != '\n');
}

static void
load_string(const char *text)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	int rc;

	config_init(&c, &env);
	rc = config_load_string(&c, text, "fuzz.conf", err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == MD_ERR_PARSE);
	if (rc == 0)
		check_config(&c);
	else
		check_error(err, "fuzz.conf", count_lines(text, strlen(text)));
	config_done(&c);
}

static void
load_file(const uint8_t *data, size_t size)
{
	struct config c;
	char err[CONFIG_ERR_MAX], path[64];
	int fd = memfd_create("fuzz.conf", MFD_CLOEXEC), rc;

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	config_init(&c, &env);
	rc = config_load_file(&c, path, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == MD_ERR_PARSE);
	if (rc == 0)
		check_config(&c);
	else
		check_error(err, path, count_lines((const char *)data, size));
	config_done(&c);
	close(fd);
}

static void
listen_line(const char *text)
{
	char line[512], addr[64] = "127.0.0.1";
	size_t n = strcspn(text, "\n");
	uint16_t port = 7373;

	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, text, n);
	line[n] = '\0';
	if (config_parse_listen(line, addr, sizeof(addr), &port) == 0)
		FUZZ_CHECK(terminated(addr, sizeof(addr)) && addr[0] != '\0');
}

/* ---- the two INI readers ------------------------------------------------ */

struct calls {
	char text[MAX_CALLS][3][64]; /* section, name, value: cut to compare */
	size_t n;
	size_t overflow; /* calls beyond MAX_CALLS */
};

static int
record(void *user, const char *section, const char *name, const char *value)
{
	struct calls *c = user;

	if (c->n == MAX_CALLS) {
		c->overflow++;
		return 1;
	}
	snprintf(c->text[c->n][0], sizeof(c->text[0][0]), "%s", section);
	snprintf(c->text[c->n][1], sizeof(c->text[0][1]), "%s", name);
	snprintf(c->text[c->n][2], sizeof(c->text[0][2]), "%s", value);
	c->n++;
	/* The handler refuses a key named "bad", so that its line is reported. */
	return strcmp(name, "bad") != 0;
}

struct lines {
	const char *text;
	size_t pos;
};

/* fgets over a string: at most @num - 1 bytes of one line. */
static char *
read_text(char *str, int num, void *arg)
{
	struct lines *l = arg;
	size_t n = 0;

	if (l->text[l->pos] == '\0')
		return NULL;
	while (l->text[l->pos] != '\0' && n + 1 < (size_t)num) {
		char c = l->text[l->pos++];

		str[n++] = c;
		if (c == '\n')
			break;
	}
	str[n] = '\0';
	return str;
}

static void
compare_readers(const char *text)
{
	static struct calls a, b;
	struct lines la = {text, 0}, lb = {text, 0};
	int ra, rb;

	a.n = b.n = a.overflow = b.overflow = 0;
	ra = ini_parse_stream(read_text, &la, record, &a);
	rb = md_compat_ini_parse_stream(read_text, &lb, record, &b);
	if (ra != rb || a.n != b.n || a.overflow != b.overflow)
		fprintf(stderr, "libinih: %d, %zu calls; compat/ini.c: %d, %zu calls\n", ra, a.n,
		        rb, b.n);
	FUZZ_CHECK(ra == rb);
	FUZZ_CHECK(a.n == b.n && a.overflow == b.overflow);
	for (size_t i = 0; i < a.n; i++)
		for (int k = 0; k < 3; k++) {
			if (strcmp(a.text[i][k], b.text[i][k]) != 0)
				fprintf(stderr, "call %zu, %s: libinih '%s', compat/ini.c '%s'\n",
				        i,
				        k == 0   ? "section"
				        : k == 1 ? "name"
				                 : "value",
				        a.text[i][k], b.text[i][k]);
			FUZZ_CHECK(strcmp(a.text[i][k], b.text[i][k]) == 0);
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	load_string(text);
	if (memchr(data, '\0', size) != NULL)
		load_file(data, size);
	listen_line(text);
	compare_readers(text);
	free(text);
	return 0;
}
