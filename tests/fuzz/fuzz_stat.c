/*
 * fuzz_stat.c - libFuzzer target: the small /proc parsers of
 * snapshot/linux_smaps.c: /proc/PID/stat (linux_parse_stat), /proc/PID/status
 * (linux_parse_status), /proc/PID/task/TID/syscall (linux_parse_syscall_sp)
 * and /proc/stat's btime line (linux_parse_btime).
 *
 * Each input is given to the four parsers as it is; what they return must
 * be one of their documented statuses and what they fill must be consistent
 * with the text (the comm is what lies between the first '(' and the last
 * ')', cut to 63 bytes with control bytes made '?'; the state is the first
 * byte after the last ')' and its blanks; counters from "kB" lines are whole
 * KiB).  Then the input drives a round trip: a stat line in the kernel's
 * format whose comm is the input's first bytes (any byte but NUL: ')', ' '
 * and '\n' included, as prctl(PR_SET_NAME) allows) and whose 52 fields are
 * drawn from a hash of the input, a status file, a syscall line and a
 * /proc/stat are written and parsed back: every value must come back exact.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "snapshot/linux_smaps.h"
#include "tests/fuzz/fuzz.h"

/* The comm linux_parse_stat should report for the text @open..@close
 * (exclusive), into @out (64 bytes). */
static void
expected_comm(const char *open, const char *close, char *out)
{
	size_t n = (size_t)(close - open);

	if (n > 63)
		n = 63;
	memcpy(out, open, n);
	out[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (out[i] == '\0')
			break;
		if ((unsigned char)out[i] < 0x20)
			out[i] = '?';
	}
}

static void
raw_stat(const char *buf, size_t len)
{
	struct linux_stat st;
	const char *open = memchr(buf, '(', len), *close = NULL, *s, *end = buf + len;
	char comm[64];
	int rc;

	for (s = buf; s < end; s++)
		if (*s == ')')
			close = s;
	rc = linux_parse_stat(buf, len, &st);
	FUZZ_CHECK(rc == 0 || rc == MD_ERR_PARSE);
	if (rc != 0)
		return;
	FUZZ_CHECK(open != NULL && close != NULL && open < close);
	FUZZ_CHECK(memchr(st.comm, '\0', sizeof(st.comm)) != NULL);
	expected_comm(open + 1, close, comm);
	FUZZ_CHECK(strcmp(st.comm, comm) == 0);
	for (s = close + 1; s < end && (*s == ' ' || *s == '\t'); s++)
		;
	FUZZ_CHECK(s < end && st.state == *s);
}

static void
raw_others(const char *buf, size_t len)
{
	struct linux_status status;
	uint64_t sp;
	int64_t btime;
	int rc;

	rc = linux_parse_status(buf, len, &status);
	FUZZ_CHECK(rc == 0 || rc == MD_ERR_PARSE);
	if (rc == 0) {
		FUZZ_CHECK(status.vm_size % 1024 == 0 && status.vm_pte % 1024 == 0);
		FUZZ_CHECK(status.have_vm_size || status.vm_size == 0);
	}
	rc = linux_parse_syscall_sp(buf, len, &sp);
	FUZZ_CHECK(rc == 0 || rc == MD_ERR_PARSE || rc == MD_ERR_NOTFOUND);
	if (rc != 0)
		FUZZ_CHECK(sp == 0);
	rc = linux_parse_btime(buf, len, &btime);
	FUZZ_CHECK(rc == 0 || rc == MD_ERR_PARSE || rc == MD_ERR_NOTFOUND);
	FUZZ_CHECK(btime >= 0);
	if (rc != 0)
		FUZZ_CHECK(btime == 0);
}

/* Appends to a growing text. */
struct text {
	char buf[8192];
	size_t len;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	FUZZ_CHECK(n >= 0 && (size_t)n < sizeof(t->buf) - t->len);
	t->len += (size_t)n;
}

/* A number as the kernel may print it in a stat field: small or huge,
 * sometimes negative (priority, nice, tpgid). */
static int64_t
draw_field(uint64_t *h)
{
	uint64_t v = fuzz_next(h);

	switch (v % 4) {
	case 0:
		return (int64_t)(v >> 56);
	case 1:
		return -(int64_t)(v >> 60) - 1;
	case 2:
		return (int64_t)(v >> 1);
	default:
		return v >> 3 & 1 ? INT64_MIN : INT64_MAX;
	}
}

static void
round_trip_stat(const uint8_t *data, size_t size, uint64_t *h)
{
	static const char states[] = "RSDZTtXxKWPI";
	struct text t = {.len = 0};
	struct linux_stat st;
	char comm[64], want[64];
	size_t n = size < 63 ? size : 63;
	uint64_t flags = fuzz_next(h), start = fuzz_next(h);
	char state = states[fuzz_next(h) % (sizeof(states) - 1)];

	if (fuzz_next(h) % 2)
		flags &= 0xffffffffu; /* the kernel prints an unsigned int */
	if (fuzz_next(h) % 2)
		start >>= fuzz_next(h) % 64;
	memcpy(comm, data, n);
	comm[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (comm[i] == '\0')
			comm[i] = '?'; /* the kernel never prints NUL */
	text_add(&t, "%d (%s) %c", (int)(fuzz_next(h) % 4194304) + 1, comm, state);
	for (int field = 4; field <= 52; field++) {
		if (field == 9)
			text_add(&t, " %" PRIu64, flags);
		else if (field == 22)
			text_add(&t, " %" PRIu64, start);
		else
			text_add(&t, " %" PRId64, draw_field(h));
	}
	text_add(&t, "\n");
	FUZZ_CHECK(linux_parse_stat(t.buf, t.len, &st) == 0);
	expected_comm(comm, comm + n, want);
	FUZZ_CHECK(strcmp(st.comm, want) == 0);
	FUZZ_CHECK(st.state == state);
	FUZZ_CHECK(st.flags == (unsigned long)flags);
	FUZZ_CHECK(st.start_time == start);
}

static void
round_trip_others(uint64_t *h)
{
	struct text t = {.len = 0};
	struct linux_status status;
	uint64_t size_kb = fuzz_next(h) >> (10 + fuzz_next(h) % 54), pte_kb = fuzz_next(h) >> 40;
	uint64_t sp = fuzz_next(h) >> (fuzz_next(h) % 64), got;
	int have_size = (int)(fuzz_next(h) % 4 != 0), have_pte = (int)(fuzz_next(h) % 4 != 0);
	int64_t btime = (int64_t)(fuzz_next(h) >> 1), bt;

	text_add(&t, "Name:\tfuzz\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\n");
	if (have_size)
		text_add(&t, "VmPeak:\t%8" PRIu64 " kB\nVmSize:\t%8" PRIu64 " kB\n", size_kb + 4,
		         size_kb);
	if (have_pte)
		text_add(&t, "VmPTE:\t%8" PRIu64 " kB\n", pte_kb);
	text_add(&t, "Threads:\t1\n");
	FUZZ_CHECK(linux_parse_status(t.buf, t.len, &status) == 0);
	FUZZ_CHECK(status.have_vm_size == have_size);
	FUZZ_CHECK(status.vm_size == (have_size ? size_kb * 1024 : 0));
	FUZZ_CHECK(status.vm_pte == (have_pte ? pte_kb * 1024 : 0));

	t.len = 0;
	switch (fuzz_next(h) % 3) {
	case 0:
		text_add(&t, "running\n");
		FUZZ_CHECK(linux_parse_syscall_sp(t.buf, t.len, &got) == MD_ERR_NOTFOUND);
		break;
	case 1:
		text_add(&t, "-1 0x%" PRIx64 " 0x%" PRIx64 "\n", sp, fuzz_next(h));
		FUZZ_CHECK(linux_parse_syscall_sp(t.buf, t.len, &got) == 0 && got == sp);
		break;
	default:
		text_add(&t, "%u", (unsigned)(fuzz_next(h) % 512));
		for (int i = 0; i < 6; i++)
			text_add(&t, " 0x%" PRIx64, fuzz_next(h));
		text_add(&t, " 0x%" PRIx64 " 0x%" PRIx64 "\n", sp, fuzz_next(h));
		FUZZ_CHECK(linux_parse_syscall_sp(t.buf, t.len, &got) == 0 && got == sp);
		break;
	}

	t.len = 0;
	text_add(&t,
	         "cpu  10 0 20 3000 4 0 1 0 0 0\nintr 12345 0 9\nctxt 777\nbtime %" PRId64
	         "\nprocesses 4242\n",
	         btime);
	FUZZ_CHECK(linux_parse_btime(t.buf, t.len, &bt) == 0 && bt == btime);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = fuzz_hash(data, size);

	raw_stat((const char *)data, size);
	raw_others((const char *)data, size);
	round_trip_stat(data, size, &h);
	round_trip_others(&h);
	return 0;
}
