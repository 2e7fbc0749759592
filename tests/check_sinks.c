/*
 * check_sinks.c - unit tests of the alert sinks (daemon/sinks.c and the OS
 * half behind daemon/sinks_os.h) and of the Windows command-line quoting
 * (daemon/sinks_cmdline.c), which runs everywhere.
 * Linux: the command sink runs real shell scripts: the JSON arrives byte
 * exact, also to a command under a directory whose name holds ; $(x)
 * quotes and a newline, with an argument of two words (argv, never a
 * shell); a non-zero exit counts as failed, a hung command's process group
 * (its own child included) is killed at the timeout, five alerts sent to a
 * hung command never block the sender, a command that does not read its
 * input is no harm, a full queue drops the oldest and counts; the webhook
 * POSTs to tests/hook_receiver (libmicrohttpd on 127.0.0.1): the body byte
 * exact, a 500 retried webhook_retries times with backoff and then failed,
 * a port nobody listens on given up, a stop during the backoff returns at
 * once; a peer that accepts and never answers: each attempt ends at
 * webhook_timeout, then the backoff.  sinks_retire (SIGHUP) returns at once
 * while a command hangs, which is still killed at its own timeout;
 * sinks_retired_wait (the stop) cuts a hung command or a silent POST after
 * its grace.
 * Windows (cross-built, run under wine by tests/test_wine.sh): the command
 * sink runs tests/win/sinkcat.exe ($MD_SINKCAT): the JSON byte exact, exit
 * status 3 failed, a hung tree killed at the timeout through its Job
 * object, and argv round trips through CreateProcessW and the C runtime's
 * parser; the webhook POSTs with WinHTTP to the Linux hook_receiver
 * ($MD_HOOK_URL, $MD_HOOK_DIR), whose first answer is a 500, and to one
 * that always answers 500 ($MD_HOOK_FAIL_URL, $MD_HOOK_FAIL_DIR): the
 * backoff waits 1 s then 2 s, and a stop during it returns at once; a
 * retired hung tree is cut through its Job object.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#endif

#include "daemon/daemon_config.h"
#include "daemon/sinks.h"
#include "daemon/sinks_cmdline.h"
#include "daemon/sinks_os.h"
#include "snapshot/mderr.h"
#include "tests/testutil.h"

/* ---- helpers ------------------------------------------------------------------ */

#ifdef _WIN32
static void
nap(int ms)
{
	Sleep((DWORD)ms);
}
#else
static void
nap(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
#endif

/* Wait at most @max_ms until sink @k has finished @done alerts. */
static void
sinks_wait(struct sinks *s, enum sink_kind k, uint64_t done, int max_ms)
{
	struct sink_stats st;
	int64_t end = sinks_os_now_ms() + max_ms;

	do {
		sinks_stats(s, k, &st);
		if (st.delivered + st.failed >= done)
			return;
		nap(20);
	} while (sinks_os_now_ms() < end);
}

static void
config_exec(struct alert_sinks_config *k, const char *path, unsigned timeout_s, unsigned queue)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->exec_path, sizeof(k->exec_path), "%s", path);
	k->exec_timeout_s = timeout_s;
	k->queue_len = queue;
}

static void
assert_file_is(const char *path, const char *want, size_t want_len)
{
	size_t len = 0;
	char *got = test_read_file(path, &len);

	ck_assert_msg(got != NULL, "%s: not there", path);
	ck_assert_uint_eq(len, want_len);
	ck_assert_msg(memcmp(got, want, len) == 0, "%s: %.*s", path, (int)len, got);
	free(got);
}

/* A JSON alert with what a careless command line or encoding would spoil. */
static const char alert_json[] =
        "{\"target\":{\"name\":\"a; $(touch pwned) 'q' \\\"d\\\" \\\\ % ^ & |\"},"
        "\"x\":\"\xc3\xa9\xe2\x82\xac\",\"n\":1}";

/* ---- sinks_cmdline_build --------------------------------------------------------- */

struct cmdline_case {
	const char *argv[4];
	const char *want;
};

static const struct cmdline_case cmdline_cases[] = {
        {{"C:\\p\\x.exe", NULL}, "C:\\p\\x.exe"},
        {{"C:\\p\\x.exe", "plain", NULL}, "C:\\p\\x.exe plain"},
        {{"C:\\p\\x.exe", "two words", NULL}, "C:\\p\\x.exe \"two words\""},
        {{"C:\\p\\x.exe", "a\tb", NULL}, "C:\\p\\x.exe \"a\tb\""},
        {{"C:\\p\\x.exe", "", "z", NULL}, "C:\\p\\x.exe \"\" z"},
        /* a"b */
        {{"C:\\p\\x.exe", "a\"b", NULL}, "C:\\p\\x.exe \"a\\\"b\""},
        /* a\"b: the backslash before a quote doubled, the quote escaped */
        {{"C:\\p\\x.exe", "a\\\"b", NULL}, "C:\\p\\x.exe \"a\\\\\\\"b\""},
        /* a\\"b */
        {{"C:\\p\\x.exe", "a\\\\\"b", NULL}, "C:\\p\\x.exe \"a\\\\\\\\\\\"b\""},
        /* a lone quote */
        {{"C:\\p\\x.exe", "\"", NULL}, "C:\\p\\x.exe \"\\\"\""},
        /* trailing backslash, bare: backslashes not before a quote are literal */
        {{"C:\\p\\x.exe", "dir\\", NULL}, "C:\\p\\x.exe dir\\"},
        /* trailing backslash in a quoted argument: doubled before the closing quote */
        {{"C:\\p\\x.exe", "C:\\my dir\\", NULL}, "C:\\p\\x.exe \"C:\\my dir\\\\\""},
        {{"C:\\p\\x.exe", "a\\\\b c", NULL}, "C:\\p\\x.exe \"a\\\\b c\""},
        {{"C:\\p\\x.exe", "\\\\server\\share", NULL}, "C:\\p\\x.exe \\\\server\\share"},
        {{"C:\\p\\x.exe", "line\nnext", NULL}, "C:\\p\\x.exe \"line\nnext\""},
        {{"C:\\p\\x.exe", "\xc3\xa9 \xe2\x82\xac", NULL}, "C:\\p\\x.exe \"\xc3\xa9 \xe2\x82\xac\""},
        /* argv[0]: quoted when it holds a blank, never escaped */
        {{"C:\\Program Files\\m d\\x.exe", "a", NULL}, "\"C:\\Program Files\\m d\\x.exe\" a"},
};

START_TEST(test_sinks_cmdline_build__quoting)
{
	const struct cmdline_case *c = &cmdline_cases[_i];
	char *got = NULL;

	ck_assert_int_eq(sinks_cmdline_build(c->argv, &got), 0);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, c->want);
	free(got);
}
END_TEST

START_TEST(test_sinks_cmdline_build__refuses_a_quote_in_argv0)
{
	const char *bad[] = {"C:\\a\"b.exe", "x", NULL};
	const char *empty[] = {"", NULL};
	char *got = (char *)"untouched";

	ck_assert_int_eq(sinks_cmdline_build(bad, &got), MD_ERR_INVAL);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(sinks_cmdline_build(empty, &got), MD_ERR_INVAL);
	ck_assert_int_eq(sinks_cmdline_build(NULL, &got), MD_ERR_INVAL);
}
END_TEST

/* ---- sinks_os_deadline ----------------------------------------------------------- */

/* The webhook's backoff: a timed wait on a cond made by sinks_os_cond_init
 * with a deadline from sinks_os_deadline lasts its time, on the clock the
 * OS's threads library really uses. */
START_TEST(test_sinks_os_deadline__timed_wait_lasts)
{
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct timespec ts;
	int64_t t0, took;
	int rc;

	pthread_mutex_init(&mu, NULL);
	sinks_os_cond_init(&cv);
	t0 = sinks_os_now_ms();
	sinks_os_deadline(700, &ts);
	pthread_mutex_lock(&mu);
	while ((rc = pthread_cond_timedwait(&cv, &mu, &ts)) == 0)
		;
	pthread_mutex_unlock(&mu);
	took = sinks_os_now_ms() - t0;
	ck_assert_int_eq(rc, ETIMEDOUT);
	ck_assert_int_ge(took, 650);
	ck_assert_int_lt(took, 10000);
	pthread_cond_destroy(&cv);
	pthread_mutex_destroy(&mu);
}
END_TEST

#ifndef _WIN32
/* ---- Linux: the command sink ------------------------------------------------------- */

static void
write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
}

/* 1 when process @pid is gone: no such process, or a zombie that nobody
 * reaps (a container's init may not). */
static int
process_gone(int pid)
{
	char path[64], *stat;
	int gone;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	stat = test_read_file(path, NULL);
	if (stat == NULL)
		return 1;
	gone = strstr(stat, ") Z ") != NULL;
	free(stat);
	return gone;
}

START_TEST(test_sinks_send__exec_delivered_byte_exact)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	char dir[1024], script[2048], out[2048], want[512];

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(script, sizeof(script), "%s/cat.sh", dir);
	snprintf(out, sizeof(out), "%s/got.json", dir);
	write_script(script, "cat > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"");
	config_exec(&k, script, 10, 4);
	k.exec_args[0] = out;
	k.n_exec_args = 1;
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	sinks_send(s, alert_json, "a summary", 0);
	sinks_wait(s, SINK_EXEC, 1, 15000);
	sinks_stats(s, SINK_EXEC, &st);
	ck_assert_int_eq(st.configured, 1);
	ck_assert_uint_eq(st.delivered, 1);
	ck_assert_uint_eq(st.failed, 0);
	ck_assert_uint_eq(st.queued, 0);
	sinks_free(s);
	snprintf(want, sizeof(want), "%s\n", alert_json);
	assert_file_is(out, want, strlen(want));
	test_rm_rf(dir);
}
END_TEST

START_TEST(test_sinks_send__exec_nonzero_exit_failed)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	char dir[1024], script[2048];

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(script, sizeof(script), "%s/three.sh", dir);
	write_script(script, "cat > /dev/null; exit 3");
	config_exec(&k, script, 10, 4);
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	sinks_send(s, alert_json, "x", 0);
	sinks_send(s, alert_json, "y", 1);
	sinks_wait(s, SINK_EXEC, 2, 15000);
	sinks_stats(s, SINK_EXEC, &st);
	ck_assert_uint_eq(st.failed, 2);
	ck_assert_uint_eq(st.delivered, 0);
	sinks_free(s);
	test_rm_rf(dir);
}
END_TEST

START_TEST(test_sinks_send__exec_timeout_kills_the_process_group)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	char dir[1024], script[2048], pidf[2048];
	char *text;
	int64_t t0, took;
	int pid, i;

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(script, sizeof(script), "%s/tree.sh", dir);
	snprintf(pidf, sizeof(pidf), "%s/child.pid", dir);
	/* the command's own child, in its process group, outlives a kill of
	 * the command alone */
	write_script(script, "sleep 300 & echo $! > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"; wait");
	config_exec(&k, script, 1, 4);
	k.exec_args[0] = pidf;
	k.n_exec_args = 1;
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	t0 = sinks_os_now_ms();
	sinks_send(s, alert_json, "x", 0);
	sinks_wait(s, SINK_EXEC, 1, 30000);
	took = sinks_os_now_ms() - t0;
	sinks_stats(s, SINK_EXEC, &st);
	ck_assert_uint_eq(st.failed, 1);
	ck_assert_uint_eq(st.delivered, 0);
	ck_assert_int_ge(took, 900); /* waited for its timeout of 1 s */
	ck_assert_int_lt(took, 20000);
	sinks_free(s);
	text = test_read_file(pidf, NULL);
	ck_assert_ptr_nonnull(text);
	pid = atoi(text);
	free(text);
	ck_assert_int_gt(pid, 1);
	for (i = 0; i < 250 && !process_gone(pid); i++)
		nap(20);
	ck_assert_msg(process_gone(pid), "the command's child %d still runs", pid);
	test_rm_rf(dir);
}
END_TEST

START_TEST(test_sinks_send__exec_command_not_reading_stdin)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	char dir[1024], script[2048];
	size_t big = 1u << 20; /* more than a pipe holds */
	char *json = malloc(big + 1);

	ck_assert_ptr_nonnull(json);
	memset(json, 'x', big);
	json[0] = '"';
	json[big - 1] = '"';
	json[big] = '\0';
	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(script, sizeof(script), "%s/deaf.sh", dir);
	write_script(script, "exec 0<&-; exit 0");
	config_exec(&k, script, 10, 4);
	/* the test keeps SIGPIPE's default: a stray one would kill it */
	signal(SIGPIPE, SIG_DFL);
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	sinks_send(s, json, "big", 0);
	sinks_send(s, "{}", "small", 0); /* and the sink goes on with the next */
	sinks_wait(s, SINK_EXEC, 2, 15000);
	sinks_stats(s, SINK_EXEC, &st);
	ck_assert_uint_eq(st.delivered, 2); /* it exited 0 */
	ck_assert_uint_eq(st.failed, 0);
	sinks_free(s);
	free(json);
	test_rm_rf(dir);
}
END_TEST

START_TEST(test_sinks_send__exec_argv_never_through_a_shell)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	char dir[1024], sub[2048], script[3072], out[3072], pwned[3072];
	const char *json =
	        "{\"target\":{\"name\":\"a; $(touch pwned) 'q' \\\"d\\\"\\nline2 `id`\"},"
	        "\"x\":\"\xc3\xa9\"}";
	char *got;
	size_t len;

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(sub, sizeof(sub), "%s/; $(x) ' \" \n`id`", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(script, sizeof(script), "%s/hook.sh", sub);
	snprintf(out, sizeof(out), "%s/got.json", sub);
	snprintf(pwned, sizeof(pwned), "%s/pwned", sub);
	write_script(script,
	             "cd \"$(dirname \"$0\")\" && cat > \"$1\" && [ \"$2\" = 'two words' ]");
	config_exec(&k, script, 10, 4);
	k.exec_args[0] = out;
	k.exec_args[1] = "two words";
	k.n_exec_args = 2;
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	sinks_send(s, json, "a summary", 0);
	sinks_wait(s, SINK_EXEC, 1, 10000);
	sinks_stats(s, SINK_EXEC, &st);
	ck_assert_int_eq(st.configured, 1);
	ck_assert_uint_eq(st.delivered, 1);
	ck_assert_uint_eq(st.failed, 0);
	sinks_stats(s, SINK_WEBHOOK, &st);
	ck_assert_int_eq(st.configured, 0);
	sinks_free(s);
	got = test_read_file(out, &len);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(len, strlen(json) + 1);
	ck_assert(memcmp(got, json, strlen(json)) == 0 && got[len - 1] == '\n');
	free(got);
	ck_assert_int_ne(access(pwned, F_OK), 0);
	ck_assert_int_ne(access("pwned", F_OK), 0);
	test_rm_rf(dir);
}
END_TEST

START_TEST(test_sinks_send__sender_never_waits_for_a_hung_command)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	char dir[1024], script[2048], pidf[2048];
	char *pid_text;
	int pid;

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(script, sizeof(script), "%s/hang.sh", dir);
	snprintf(pidf, sizeof(pidf), "%s/pid", dir);
	write_script(script, "echo $$ > \"$1\"; exec sleep 60");
	config_exec(&k, script, 1, 2);
	k.exec_args[0] = pidf;
	k.n_exec_args = 1;
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	/* five alerts at once: the sender never waits; one is in delivery, two
	 * wait, the rest were pushed out */
	for (int i = 0; i < 5; i++)
		sinks_send(s, "{}", "x", 0);
	sinks_stats(s, SINK_EXEC, &st);
	ck_assert_uint_eq(st.delivered + st.failed, 0);
	ck_assert_uint_ge(st.dropped, 2);
	ck_assert_uint_eq(st.dropped + st.queued, 5);
	sinks_wait(s, SINK_EXEC, 1, 10000);
	sinks_stats(s, SINK_EXEC, &st);
	ck_assert_uint_ge(st.failed, 1);
	ck_assert_uint_eq(st.delivered, 0);
	/* the stop waits for the command in delivery, killed at its timeout */
	sinks_free(s);
	pid_text = test_read_file(pidf, NULL);
	ck_assert_ptr_nonnull(pid_text);
	pid = atoi(pid_text);
	free(pid_text);
	ck_assert_int_gt(pid, 1);
	ck_assert_int_ne(kill(pid, 0), 0); /* killed and reaped */
	test_rm_rf(dir);
}
END_TEST

START_TEST(test_sinks_send__webhook_nobody_listening_given_up)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* a port nobody listens on: bound, never listening */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	memset(&k, 0, sizeof(k));
	snprintf(k.webhook_url, sizeof(k.webhook_url), "http://127.0.0.1:%u/hook",
	         (unsigned)ntohs(sa.sin_port));
	k.webhook_timeout_s = 2;
	k.webhook_retries = 1;
	k.queue_len = 4;
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	sinks_send(s, "{\"a\":1}", "x", 0);
	sinks_wait(s, SINK_WEBHOOK, 1, 10000);
	sinks_stats(s, SINK_WEBHOOK, &st);
	ck_assert_uint_eq(st.failed, 1);
	ck_assert_uint_eq(st.delivered, 0);
	sinks_free(s);
	close(fd);
}
END_TEST

START_TEST(test_sinks_send__queue_full_drops_the_oldest)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	char dir[1024], script[2048], log[2048], go[2048], started[2048], json[64];
	FILE *f;
	int i;

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(script, sizeof(script), "%s/slow.sh", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	snprintf(go, sizeof(go), "%s/go", dir);
	snprintf(started, sizeof(started), "%s/started", dir);
	/* the first alert's command waits for "go": the queue fills meanwhile */
	write_script(script, "if [ ! -f \"$3\" ]; then touch \"$3\"; "
	                     "while [ ! -f \"$2\" ]; do sleep 0.05; done; fi; cat >> \"$1\"");
	config_exec(&k, script, 60, 2);
	k.exec_args[0] = log;
	k.exec_args[1] = go;
	k.exec_args[2] = started;
	k.n_exec_args = 3;
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	sinks_send(s, "{\"n\":1}", "1", 0);
	for (i = 0; i < 1000 && access(started, F_OK) != 0; i++)
		nap(20);
	ck_assert_int_eq(access(started, F_OK), 0);
	for (i = 2; i <= 5; i++) {
		snprintf(json, sizeof(json), "{\"n\":%d}", i);
		sinks_send(s, json, json, 0);
	}
	sinks_stats(s, SINK_EXEC, &st);
	ck_assert_uint_eq(st.dropped, 2); /* 2 and 3 pushed out by 4 and 5 */
	ck_assert_uint_eq(st.queued, 3);  /* 1 in delivery, 4 and 5 waiting */
	ck_assert_uint_eq(st.delivered + st.failed, 0);
	f = fopen(go, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	sinks_wait(s, SINK_EXEC, 3, 30000);
	sinks_stats(s, SINK_EXEC, &st);
	ck_assert_uint_eq(st.delivered, 3);
	ck_assert_uint_eq(st.dropped, 2);
	ck_assert_uint_eq(st.queued, 0);
	sinks_free(s);
	assert_file_is(log, "{\"n\":1}\n{\"n\":4}\n{\"n\":5}\n", 24);
	test_rm_rf(dir);
}
END_TEST

/* ---- Linux: the webhook, against tests/hook_receiver ------------------------------- */

struct receiver {
	pid_t pid;
	int in; /* its stdin: closing it stops it */
	unsigned port;
};

/* Start hook_receiver writing into @dir, answering 500 to the first
 * @fail_first requests. */
static void
receiver_start(struct receiver *r, const char *dir, unsigned fail_first)
{
	const char *b = getenv("MD_BUILDDIR");
	char exe[4096], ff[16], line[128];
	int in[2], out[2];
	FILE *f;

	snprintf(exe, sizeof(exe), "%s/tests/hook_receiver", b != NULL ? b : ".");
	if (access(exe, X_OK) != 0)
		ck_abort_msg("%s: not built", exe);
	snprintf(ff, sizeof(ff), "%u", fail_first);
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	r->pid = fork();
	ck_assert_int_ge(r->pid, 0);
	if (r->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execl(exe, exe, dir, ff, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	r->in = in[1];
	r->port = 0;
	f = fdopen(out[0], "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "port %u", &r->port) == 1)
			break;
	fclose(f);
	ck_assert_uint_gt(r->port, 0);
}

static void
receiver_stop(struct receiver *r)
{
	close(r->in);
	while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* The receiver's count of 500 answers. */
static unsigned
receiver_failed(const char *dir)
{
	char path[2048], *text;
	unsigned n;

	snprintf(path, sizeof(path), "%s/failed", dir);
	text = test_read_file(path, NULL);
	if (text == NULL)
		return 0;
	n = (unsigned)strtoul(text, NULL, 10);
	free(text);
	return n;
}

static void
config_hook(struct alert_sinks_config *k, unsigned port, unsigned retries)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->webhook_url, sizeof(k->webhook_url), "http://127.0.0.1:%u/hook?x=1", port);
	k->webhook_timeout_s = 10;
	k->webhook_retries = retries;
	k->queue_len = 4;
}

START_TEST(test_sinks_send__webhook_delivered)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	struct receiver r;
	char dir[1024], path[2048];

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	receiver_start(&r, dir, 0);
	config_hook(&k, r.port, 0);
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	sinks_send(s, alert_json, "x", 0);
	sinks_wait(s, SINK_WEBHOOK, 1, 20000);
	sinks_stats(s, SINK_WEBHOOK, &st);
	ck_assert_int_eq(st.configured, 1);
	ck_assert_uint_eq(st.delivered, 1);
	ck_assert_uint_eq(st.failed, 0);
	sinks_free(s);
	receiver_stop(&r);
	snprintf(path, sizeof(path), "%s/hook-1.json", dir);
	assert_file_is(path, alert_json, strlen(alert_json));
	snprintf(path, sizeof(path), "%s/hook-1.type", dir);
	assert_file_is(path, "application/json", 16);
	ck_assert_uint_eq(receiver_failed(dir), 0);
	test_rm_rf(dir);
}
END_TEST

START_TEST(test_sinks_send__webhook_500_retried_then_failed)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	struct receiver r;
	char dir[1024], path[2048];
	int64_t t0, took;

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	receiver_start(&r, dir, 1000);
	config_hook(&k, r.port, 2);
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	t0 = sinks_os_now_ms();
	sinks_send(s, alert_json, "x", 0);
	sinks_wait(s, SINK_WEBHOOK, 1, 60000);
	took = sinks_os_now_ms() - t0;
	sinks_stats(s, SINK_WEBHOOK, &st);
	ck_assert_uint_eq(st.failed, 1);
	ck_assert_uint_eq(st.delivered, 0);
	ck_assert_uint_eq(receiver_failed(dir), 3); /* the first try and 2 retries */
	ck_assert_int_ge(took, 2900);               /* after 1 s and 2 s of backoff */
	sinks_free(s);
	receiver_stop(&r);
	snprintf(path, sizeof(path), "%s/hook-1.json", dir);
	ck_assert_int_ne(access(path, F_OK), 0);
	test_rm_rf(dir);
}
END_TEST

START_TEST(test_sinks_free__stop_during_backoff_returns_at_once)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct receiver r;
	char dir[1024];
	int64_t t0, took;
	int i;

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	receiver_start(&r, dir, 1000);
	config_hook(&k, r.port, 10);
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	sinks_send(s, alert_json, "x", 0);
	/* the third answer: then a backoff of 4 s */
	for (i = 0; i < 1000 && receiver_failed(dir) < 3; i++)
		nap(20);
	ck_assert_uint_eq(receiver_failed(dir), 3);
	t0 = sinks_os_now_ms();
	sinks_free(s);
	took = sinks_os_now_ms() - t0;
	ck_assert_int_lt(took, 2000);
	ck_assert_uint_eq(receiver_failed(dir), 3); /* no try after the stop */
	receiver_stop(&r);
	test_rm_rf(dir);
}
END_TEST

/* ---- Linux: a webhook that accepts and never answers -------------------------------- */

#define SILENT_MAX 16

/* A listener on 127.0.0.1 that accepts every connection, keeps it open and
 * never writes a byte; it notes when each connection arrived. */
struct silent {
	int fd;
	unsigned port;
	pthread_t thread;
	pthread_mutex_t mu;
	int n, conn[SILENT_MAX];
	int64_t at_ms[SILENT_MAX];
};

static void *
silent_accept(void *arg)
{
	struct silent *h = arg;

	for (;;) {
		int c = accept(h->fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			return NULL; /* the listener was shut down */
		}
		pthread_mutex_lock(&h->mu);
		if (h->n < SILENT_MAX) {
			h->conn[h->n] = c;
			h->at_ms[h->n++] = sinks_os_now_ms();
		} else {
			close(c);
		}
		pthread_mutex_unlock(&h->mu);
	}
}

static void
silent_start(struct silent *h)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->mu, NULL);
	h->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(h->fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(h->fd, 16), 0);
	ck_assert_int_eq(getsockname(h->fd, (struct sockaddr *)&sa, &sl), 0);
	h->port = ntohs(sa.sin_port);
	ck_assert_int_eq(pthread_create(&h->thread, NULL, silent_accept, h), 0);
}

static int
silent_count(struct silent *h)
{
	int n;

	pthread_mutex_lock(&h->mu);
	n = h->n;
	pthread_mutex_unlock(&h->mu);
	return n;
}

static void
silent_stop(struct silent *h)
{
	shutdown(h->fd, SHUT_RDWR); /* wakes accept() */
	pthread_join(h->thread, NULL);
	close(h->fd);
	for (int i = 0; i < h->n; i++)
		close(h->conn[i]);
	pthread_mutex_destroy(&h->mu);
}

/* Each attempt ends at webhook_timeout although the peer holds the
 * connection open, then the backoff of 1 s, 2 s: attempts start at about
 * 0, 2 and 5 s, and the alert fails at about 6 s. */
START_TEST(test_sinks_send__webhook_silent_peer_times_out_then_retries)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	struct silent h;
	int64_t t0, took, gap1, gap2;

	silent_start(&h);
	memset(&k, 0, sizeof(k));
	snprintf(k.webhook_url, sizeof(k.webhook_url), "http://127.0.0.1:%u/hook", h.port);
	k.webhook_timeout_s = 1;
	k.webhook_retries = 2;
	k.queue_len = 4;
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	t0 = sinks_os_now_ms();
	sinks_send(s, "{\"a\":1}", "x", 0);
	sinks_wait(s, SINK_WEBHOOK, 1, 60000);
	took = sinks_os_now_ms() - t0;
	sinks_stats(s, SINK_WEBHOOK, &st);
	ck_assert_uint_eq(st.failed, 1);
	ck_assert_uint_eq(st.delivered, 0);
	sinks_free(s);
	ck_assert_int_eq(silent_count(&h), 3); /* the first try and 2 retries */
	gap1 = h.at_ms[1] - h.at_ms[0];        /* 1 s timeout + 1 s backoff */
	gap2 = h.at_ms[2] - h.at_ms[1];        /* 1 s timeout + 2 s backoff */
	ck_assert_msg(gap1 >= 1900 && gap1 < 1900 + 3000, "second try after %lld ms",
	              (long long)gap1);
	ck_assert_msg(gap2 >= 2900 && gap2 < 2900 + 3000, "third try after %lld ms",
	              (long long)gap2);
	/* 3 timeouts of 1 s and 3 s of backoff; with slack for a loaded machine */
	ck_assert_msg(took >= 5900 && took < 5900 + 6000, "failed after %lld ms", (long long)took);
	silent_stop(&h);
}
END_TEST

/* ---- Linux: sinks_retire and sinks_retired_wait ------------------------------------ */

/* Start a command that writes its pid to @pidf and hangs, with @timeout_s;
 * wait until it runs; returns its pid. */
static int
start_hung_command(struct sinks **s, const char *dir, const char *pidf, unsigned timeout_s)
{
	struct alert_sinks_config k;
	char script[2048], *text;
	int pid, i;

	snprintf(script, sizeof(script), "%s/hang.sh", dir);
	write_script(script, "echo $$ > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"; exec sleep 3600");
	config_exec(&k, script, timeout_s, 4);
	k.exec_args[0] = (char *)pidf;
	k.n_exec_args = 1;
	ck_assert_int_eq(sinks_new(&k, s), 0);
	sinks_send(*s, "{}", "x", 0);
	sinks_send(*s, "{}", "queued, dropped at the stop", 0);
	for (i = 0; i < 1000 && access(pidf, F_OK) != 0; i++)
		nap(20);
	text = test_read_file(pidf, NULL);
	ck_assert_msg(text != NULL, "the command did not start");
	pid = atoi(text);
	free(text);
	ck_assert_int_gt(pid, 1);
	return pid;
}

/* The SIGHUP path: retiring sinks whose command hangs returns at once; the
 * command still runs, and is killed at its own timeout all the same. */
START_TEST(test_sinks_retire__returns_at_once_command_killed_at_its_timeout)
{
	struct sinks *s = NULL;
	char dir[1024], pidf[2048];
	int64_t t0, took, gone_after = -1;
	int pid;

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(pidf, sizeof(pidf), "%s/pid", dir);
	pid = start_hung_command(&s, dir, pidf, 4);
	t0 = sinks_os_now_ms();
	sinks_retire(s);
	took = sinks_os_now_ms() - t0;
	ck_assert_msg(took < 1000, "sinks_retire took %lld ms", (long long)took);
	ck_assert_msg(!process_gone(pid), "the command was killed at the retire");
	for (int i = 0; i < 1500; i++) {
		if (process_gone(pid)) {
			gone_after = sinks_os_now_ms() - t0;
			break;
		}
		nap(20);
	}
	ck_assert_msg(gone_after >= 0, "the command %d still runs 30 s later", pid);
	/* killed by its timeout of 4 s, counted from its start, before t0 */
	ck_assert_msg(gone_after >= 2000, "killed %lld ms after the retire", (long long)gone_after);
	/* the reaper is done or about to be: nothing to cut */
	t0 = sinks_os_now_ms();
	ck_assert_uint_eq(sinks_retired_wait(20000), 0);
	took = sinks_os_now_ms() - t0;
	ck_assert_msg(took < 5000, "sinks_retired_wait took %lld ms", (long long)took);
	test_rm_rf(dir);
}
END_TEST

/* The daemon's stop: a command far from its timeout is cut after the grace. */
START_TEST(test_sinks_retired_wait__cuts_a_hung_command_after_the_grace)
{
	struct sinks *s = NULL;
	char dir[1024], pidf[2048];
	int64_t t0, took;
	int pid, i;

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(pidf, sizeof(pidf), "%s/pid", dir);
	pid = start_hung_command(&s, dir, pidf, 600);
	sinks_retire(s);
	t0 = sinks_os_now_ms();
	ck_assert_uint_eq(sinks_retired_wait(800), 0);
	took = sinks_os_now_ms() - t0;
	ck_assert_msg(took >= 750, "returned after %lld ms, before the grace", (long long)took);
	ck_assert_msg(took < 800 + SINKS_CUT_WAIT_MS, "returned after %lld ms", (long long)took);
	for (i = 0; i < 250 && !process_gone(pid); i++)
		nap(20);
	ck_assert_msg(process_gone(pid), "the command %d still runs", pid);
	test_rm_rf(dir);
}
END_TEST

/* Two sets retired (two SIGHUPs), one of them hung: the wait returns as
 * soon as both stopped, well before the grace. */
START_TEST(test_sinks_retired_wait__returns_when_all_stopped)
{
	struct alert_sinks_config k;
	struct sinks *a = NULL, *b = NULL;
	char dir[1024], pidf[2048];
	int64_t t0, took;
	int pid;

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(pidf, sizeof(pidf), "%s/pid", dir);
	pid = start_hung_command(&a, dir, pidf, 2);
	config_exec(&k, "/bin/true", 10, 4);
	ck_assert_int_eq(sinks_new(&k, &b), 0);
	sinks_retire(a);
	sinks_retire(b);
	t0 = sinks_os_now_ms();
	ck_assert_uint_eq(sinks_retired_wait(60000), 0);
	took = sinks_os_now_ms() - t0;
	ck_assert_msg(took < 20000, "sinks_retired_wait took %lld ms", (long long)took);
	ck_assert(process_gone(pid));
	/* nothing retired: at once */
	t0 = sinks_os_now_ms();
	ck_assert_uint_eq(sinks_retired_wait(60000), 0);
	ck_assert_int_lt(sinks_os_now_ms() - t0, 1000);
	test_rm_rf(dir);
}
END_TEST

/* A POST to a peer that never answers, with a timeout of an hour: the cut
 * abandons it (libcurl's progress callback). */
START_TEST(test_sinks_retired_wait__cuts_a_silent_webhook)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct silent h;
	int64_t t0, took;
	int i;

	silent_start(&h);
	memset(&k, 0, sizeof(k));
	snprintf(k.webhook_url, sizeof(k.webhook_url), "http://127.0.0.1:%u/hook", h.port);
	k.webhook_timeout_s = 3600;
	k.webhook_retries = 3;
	k.queue_len = 4;
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	sinks_send(s, "{\"a\":1}", "x", 0);
	for (i = 0; i < 1000 && silent_count(&h) < 1; i++)
		nap(20);
	ck_assert_int_eq(silent_count(&h), 1);
	t0 = sinks_os_now_ms();
	sinks_retire(s);
	ck_assert_int_lt(sinks_os_now_ms() - t0, 1000);
	ck_assert_uint_eq(sinks_retired_wait(500), 0);
	took = sinks_os_now_ms() - t0;
	ck_assert_msg(took >= 450 && took < 500 + SINKS_CUT_WAIT_MS, "stopped after %lld ms",
	              (long long)took);
	ck_assert_int_eq(silent_count(&h), 1); /* no retry after the stop */
	silent_stop(&h);
}
END_TEST

#else /* _WIN32 */
/* ---- Windows: the command sink with sinkcat.exe, the webhook with WinHTTP --------- */

static const char *
sinkcat(void)
{
	const char *p = getenv("MD_SINKCAT");

	if (p == NULL || p[0] == '\0')
		ck_abort_msg("MD_SINKCAT: the path of tests/win/sinkcat.exe (tests/test_wine.sh)");
	return p;
}

static int
win_process_gone(const char *pidf)
{
	char *text = test_read_file(pidf, NULL);
	HANDLE h;
	int gone;

	ck_assert_msg(text != NULL, "%s: not written", pidf);
	h = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)strtoul(text, NULL, 10));
	free(text);
	if (h == NULL)
		return 1;
	gone = WaitForSingleObject(h, 5000) == WAIT_OBJECT_0;
	CloseHandle(h);
	return gone;
}

START_TEST(test_sinks_send__win_exec_delivered_byte_exact)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	char dir[1024], out[2048], want[512];

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(out, sizeof(out), "%s\\got with space.json", dir);
	config_exec(&k, sinkcat(), 30, 4);
	k.exec_args[0] = out;
	k.n_exec_args = 1;
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	sinks_send(s, alert_json, "a summary", 0);
	sinks_wait(s, SINK_EXEC, 1, 60000);
	sinks_stats(s, SINK_EXEC, &st);
	ck_assert_uint_eq(st.delivered, 1);
	ck_assert_uint_eq(st.failed, 0);
	sinks_free(s);
	snprintf(want, sizeof(want), "%s\n", alert_json);
	assert_file_is(out, want, strlen(want));
	test_rm_rf(dir);
}
END_TEST

START_TEST(test_sinks_send__win_exec_exit_3_failed)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	char dir[1024], out[2048], want[512];

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(out, sizeof(out), "%s\\got.json", dir);
	config_exec(&k, sinkcat(), 30, 4);
	k.exec_args[0] = out;
	k.exec_args[1] = "3";
	k.n_exec_args = 2;
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	sinks_send(s, alert_json, "x", 0);
	sinks_wait(s, SINK_EXEC, 1, 60000);
	sinks_stats(s, SINK_EXEC, &st);
	ck_assert_uint_eq(st.failed, 1);
	ck_assert_uint_eq(st.delivered, 0);
	sinks_free(s);
	snprintf(want, sizeof(want), "%s\n", alert_json); /* it did read it */
	assert_file_is(out, want, strlen(want));
	test_rm_rf(dir);
}
END_TEST

/* A command sink running sinkcat's "hangtree" (a process that starts a
 * child and both hang) with a timeout of @timeout_s; each writes its pid
 * beside h->out. */
struct hangtree {
	char dir[1024], out[2048], pidf[2048], child_pidf[2048];
};

static void
hangtree_config(struct hangtree *h, struct alert_sinks_config *k, unsigned timeout_s)
{
	snprintf(h->dir, sizeof(h->dir), "%s", test_scratch_dir());
	snprintf(h->out, sizeof(h->out), "%s\\hang.json", h->dir);
	snprintf(h->pidf, sizeof(h->pidf), "%s.pid", h->out);
	snprintf(h->child_pidf, sizeof(h->child_pidf), "%s.child.pid", h->out);
	config_exec(k, sinkcat(), timeout_s, 4);
	k->exec_args[0] = h->out;
	k->exec_args[1] = "hangtree";
	k->n_exec_args = 2;
}

START_TEST(test_sinks_send__win_exec_hung_tree_killed_at_timeout)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	struct hangtree h;
	int64_t t0, took;

	hangtree_config(&h, &k, 5);
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	t0 = sinks_os_now_ms();
	sinks_send(s, alert_json, "x", 0);
	sinks_wait(s, SINK_EXEC, 1, 60000);
	took = sinks_os_now_ms() - t0;
	sinks_stats(s, SINK_EXEC, &st);
	ck_assert_uint_eq(st.failed, 1);
	ck_assert_uint_eq(st.delivered, 0);
	ck_assert_int_ge(took, 4900);
	ck_assert_int_lt(took, 40000);
	sinks_free(s);
	ck_assert_msg(win_process_gone(h.pidf), "sinkcat still runs");
	ck_assert_msg(win_process_gone(h.child_pidf), "sinkcat's own child still runs");
	test_rm_rf(h.dir);
}
END_TEST

/* The daemon's stop on Windows: a hung tree far from its timeout (600 s),
 * retired without waiting, is cut after the grace through its Job object. */
START_TEST(test_sinks_retired_wait__win_cuts_a_hung_tree)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct hangtree h;
	char *text = NULL;
	int64_t t0, took;

	hangtree_config(&h, &k, 600);
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	sinks_send(s, alert_json, "x", 0);
	for (int i = 0; i < 3000 && (text = test_read_file(h.pidf, NULL)) == NULL; i++)
		nap(20);
	ck_assert_msg(text != NULL, "sinkcat did not start");
	free(text);
	t0 = sinks_os_now_ms();
	sinks_retire(s);
	ck_assert_int_lt(sinks_os_now_ms() - t0, 1000);
	ck_assert_uint_eq(sinks_retired_wait(1000), 0);
	took = sinks_os_now_ms() - t0;
	ck_assert_int_ge(took, 950);
	ck_assert_int_lt(took, 1000 + SINKS_CUT_WAIT_MS);
	ck_assert_msg(win_process_gone(h.pidf), "sinkcat still runs");
	ck_assert_msg(win_process_gone(h.child_pidf), "sinkcat's own child still runs");
	test_rm_rf(h.dir);
}
END_TEST

/* CreateProcessW + sinks_cmdline_build, parsed back by the C runtime. */
START_TEST(test_sinks_os_exec__win_argv_round_trip)
{
	static const char *const args[] = {
	        "plain",  "two words",    "",      "a\"b", "a\\\"b",   "a\\\\\"b",
	        "dir\\",  "C:\\my dir\\", "\"",    "\t",   "a\\\\b c", "\xc3\xa9 \xe2\x82\xac",
	        "%PATH%", "^&|<>",        "x\\\\",
	};
	size_t n = sizeof(args) / sizeof(args[0]), want_len = 0;
	char dir[1024], out[2048], *want, *p;
	char *argv[3 + sizeof(args) / sizeof(args[0]) + 1];

	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(out, sizeof(out), "%s\\argv.bin", dir);
	argv[0] = (char *)sinkcat();
	argv[1] = out;
	argv[2] = (char *)"argv";
	for (size_t i = 0; i < n; i++) {
		argv[3 + i] = (char *)args[i];
		want_len += strlen(args[i]) + 1;
	}
	argv[3 + n] = NULL;
	ck_assert_int_eq(sinks_os_exec(argv, "{}", 30, NULL), 1);
	want = malloc(want_len);
	ck_assert_ptr_nonnull(want);
	p = want;
	for (size_t i = 0; i < n; i++) {
		memcpy(p, args[i], strlen(args[i]) + 1);
		p += strlen(args[i]) + 1;
	}
	assert_file_is(out, want, want_len);
	free(want);
	test_rm_rf(dir);
}
END_TEST

START_TEST(test_sinks_send__win_webhook_500_then_delivered)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	struct sink_stats st;
	const char *url = getenv("MD_HOOK_URL"), *hdir = getenv("MD_HOOK_DIR");
	char path[2048];

	if (url == NULL || hdir == NULL)
		ck_abort_msg("MD_HOOK_URL and MD_HOOK_DIR: a hook_receiver answering 500 once "
		             "(tests/test_wine.sh)");
	memset(&k, 0, sizeof(k));
	snprintf(k.webhook_url, sizeof(k.webhook_url), "%s", url);
	k.webhook_timeout_s = 10;
	k.webhook_retries = 2;
	k.queue_len = 4;
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	sinks_send(s, alert_json, "x", 0);
	sinks_wait(s, SINK_WEBHOOK, 1, 60000);
	sinks_stats(s, SINK_WEBHOOK, &st);
	ck_assert_uint_eq(st.delivered, 1);
	ck_assert_uint_eq(st.failed, 0);
	sinks_free(s);
	snprintf(path, sizeof(path), "%s\\failed", hdir);
	assert_file_is(path, "1\n", 2);
	snprintf(path, sizeof(path), "%s\\hook-1.json", hdir);
	assert_file_is(path, alert_json, strlen(alert_json));
	snprintf(path, sizeof(path), "%s\\hook-1.type", hdir);
	assert_file_is(path, "application/json", 16);
}
END_TEST

/* The backoff waits on a pthread cond whose clock winpthreads chooses
 * (sinks_os_deadline): with the wrong clock the waits would end at once or
 * never.  1 s and 2 s between the first three answers, then a stop in the
 * 4 s wait returns at once. */
START_TEST(test_sinks_free__win_webhook_backoff_then_stop)
{
	struct alert_sinks_config k;
	struct sinks *s = NULL;
	const char *url = getenv("MD_HOOK_FAIL_URL"), *hdir = getenv("MD_HOOK_FAIL_DIR");
	char path[2048], *text;
	int64_t t0, took;
	unsigned n = 0;

	if (url == NULL || hdir == NULL)
		ck_abort_msg("MD_HOOK_FAIL_URL and MD_HOOK_FAIL_DIR: a hook_receiver answering "
		             "500 always (tests/test_wine.sh)");
	snprintf(path, sizeof(path), "%s\\failed", hdir);
	memset(&k, 0, sizeof(k));
	snprintf(k.webhook_url, sizeof(k.webhook_url), "%s", url);
	k.webhook_timeout_s = 10;
	k.webhook_retries = 10;
	k.queue_len = 4;
	ck_assert_int_eq(sinks_new(&k, &s), 0);
	t0 = sinks_os_now_ms();
	sinks_send(s, alert_json, "x", 0);
	for (int i = 0; i < 3000 && n < 3; i++) {
		nap(20);
		text = test_read_file(path, NULL);
		n = text != NULL ? (unsigned)strtoul(text, NULL, 10) : 0;
		free(text);
	}
	took = sinks_os_now_ms() - t0;
	ck_assert_uint_eq(n, 3);
	ck_assert_int_ge(took, 2900); /* 1 s + 2 s of backoff */
	t0 = sinks_os_now_ms();
	sinks_free(s);
	took = sinks_os_now_ms() - t0;
	ck_assert_int_lt(took, 2000);
	text = test_read_file(path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "3\n"); /* no try after the stop */
	free(text);
}
END_TEST
#endif

static Suite *
sinks_suite(void)
{
	Suite *s = suite_create("sinks");
	TCase *tc;

	tc = tcase_create("sinks_cmdline_build");
	tcase_add_loop_test(tc, test_sinks_cmdline_build__quoting, 0,
	                    (int)(sizeof(cmdline_cases) / sizeof(cmdline_cases[0])));
	tcase_add_test(tc, test_sinks_cmdline_build__refuses_a_quote_in_argv0);
	suite_add_tcase(s, tc);

	tc = tcase_create("sinks_os_deadline");
	tcase_add_test(tc, test_sinks_os_deadline__timed_wait_lasts);
	suite_add_tcase(s, tc);

	tc = tcase_create("sinks_send");
	tcase_set_timeout(tc, 100);
#ifndef _WIN32
	tcase_add_test(tc, test_sinks_send__exec_delivered_byte_exact);
	tcase_add_test(tc, test_sinks_send__exec_nonzero_exit_failed);
	tcase_add_test(tc, test_sinks_send__exec_timeout_kills_the_process_group);
	tcase_add_test(tc, test_sinks_send__exec_command_not_reading_stdin);
	tcase_add_test(tc, test_sinks_send__exec_argv_never_through_a_shell);
	tcase_add_test(tc, test_sinks_send__sender_never_waits_for_a_hung_command);
	tcase_add_test(tc, test_sinks_send__webhook_nobody_listening_given_up);
	tcase_add_test(tc, test_sinks_send__queue_full_drops_the_oldest);
	tcase_add_test(tc, test_sinks_send__webhook_delivered);
	tcase_add_test(tc, test_sinks_send__webhook_500_retried_then_failed);
	tcase_add_test(tc, test_sinks_free__stop_during_backoff_returns_at_once);
	tcase_add_test(tc, test_sinks_send__webhook_silent_peer_times_out_then_retries);
#else
	tcase_add_test(tc, test_sinks_send__win_exec_delivered_byte_exact);
	tcase_add_test(tc, test_sinks_send__win_exec_exit_3_failed);
	tcase_add_test(tc, test_sinks_send__win_exec_hung_tree_killed_at_timeout);
	tcase_add_test(tc, test_sinks_os_exec__win_argv_round_trip);
	tcase_add_test(tc, test_sinks_send__win_webhook_500_then_delivered);
	tcase_add_test(tc, test_sinks_free__win_webhook_backoff_then_stop);
	tcase_add_test(tc, test_sinks_retired_wait__win_cuts_a_hung_tree);
#endif
	suite_add_tcase(s, tc);

#ifndef _WIN32
	tc = tcase_create("sinks_retire");
	tcase_set_timeout(tc, 100);
	tcase_add_test(tc, test_sinks_retire__returns_at_once_command_killed_at_its_timeout);
	tcase_add_test(tc, test_sinks_retired_wait__cuts_a_hung_command_after_the_grace);
	tcase_add_test(tc, test_sinks_retired_wait__returns_when_all_stopped);
	tcase_add_test(tc, test_sinks_retired_wait__cuts_a_silent_webhook);
	suite_add_tcase(s, tc);
#endif
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sinks_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
