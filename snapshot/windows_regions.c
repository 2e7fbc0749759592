/*
 * windows_regions.c - the raw record of a Windows address space (what
 * VirtualQueryEx, the PEB, the TEBs and QueryWorkingSetEx return), its text
 * form "memdelta-winraw 1" (writer and strict parser), and the classifier that
 * turns it into typed regions by the Windows mapping of ARCHITECTURE.md; the
 * rules and the evidence each uses are in docs/windows-mapping.md.
 *
 * Pure code: no Win32 call, no clock, no logging, so the classifier builds on
 * Linux and is tested there on region lists recorded under Windows or wine.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/windows_regions.h"

#define WINRAW_MAGIC "memdelta-winraw 1"
/* A line of the text form holds at most one escaped path of at most 32,767
 * UTF-16 units (3 UTF-8 bytes each, 3 bytes per escaped byte): 300 KB. */
#define WINRAW_LINE_MAX ((size_t)1 << 20)

void
winraw_init(struct winraw *raw)
{
	memset(raw, 0, sizeof(*raw));
}

void
winraw_done(struct winraw *raw)
{
	size_t i;

	for (i = 0; i < raw->n_regions; i++)
		free(raw->regions[i].path);
	free(raw->regions);
	free(raw->heaps);
	free(raw->threads);
	free(raw->cmdline);
	winraw_init(raw);
}

/* Make room for one more element of size @elem in *@arr (count @n, capacity
 * *@cap).  Returns 0 or MD_ERR_NOMEM. */
static int
grow(void **arr, size_t n, size_t *cap, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	if (ncap > SIZE_MAX / elem)
		return MD_ERR_NOMEM;
	p = realloc(*arr, ncap * elem);
	if (p == NULL)
		return MD_ERR_NOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int
winraw_add_region(struct winraw *raw, const struct winraw_region *r, const char *path)
{
	struct winraw_region *slot;
	char *copy = NULL;

	if (grow((void **)&raw->regions, raw->n_regions, &raw->cap_regions, sizeof(*r)) != 0)
		return MD_ERR_NOMEM;
	if (path != NULL && path[0] != '\0') {
		copy = strdup(path);
		if (copy == NULL)
			return MD_ERR_NOMEM;
	}
	slot = &raw->regions[raw->n_regions++];
	*slot = *r;
	slot->path = copy;
	return 0;
}

int
winraw_add_heap(struct winraw *raw, uint64_t heap)
{
	if (grow((void **)&raw->heaps, raw->n_heaps, &raw->cap_heaps, sizeof(heap)) != 0)
		return MD_ERR_NOMEM;
	raw->heaps[raw->n_heaps++] = heap;
	return 0;
}

int
winraw_add_thread(struct winraw *raw, const struct winraw_thread *t)
{
	if (grow((void **)&raw->threads, raw->n_threads, &raw->cap_threads, sizeof(*t)) != 0)
		return MD_ERR_NOMEM;
	raw->threads[raw->n_threads++] = *t;
	return 0;
}

int
winraw_set_cmdline(struct winraw *raw, const char *cmdline)
{
	char *copy = strdup(cmdline);

	if (copy == NULL)
		return MD_ERR_NOMEM;
	free(raw->cmdline);
	raw->cmdline = copy;
	return 0;
}

/* ---- the text form ---------------------------------------------------- */

static const char *const source_names[] = {"unavailable", "available", "partial"};

/* Write @str escaped: bytes up to ' ', '%' and DEL as %XX; "" as "-" and a
 * lone "-" as "%2D", so every field is one non-empty word. */
static int
put_escaped(FILE *out, const char *str)
{
	const unsigned char *p = (const unsigned char *)(str != NULL ? str : "");

	if (p[0] == '\0')
		return fputc('-', out) == EOF ? MD_ERR_IO : 0;
	if (p[0] == '-' && p[1] == '\0')
		return fputs("%2D", out) == EOF ? MD_ERR_IO : 0;
	for (; *p != '\0'; p++) {
		int rc = (*p <= ' ' || *p == '%' || *p == 0x7f) ? fprintf(out, "%%%02X", *p)
		                                                : fputc(*p, out);
		if (rc < 0)
			return MD_ERR_IO;
	}
	return 0;
}

int
winraw_write(const struct winraw *raw, FILE *out)
{
	size_t i;
	int rc = 0;

	if (fprintf(out,
	            WINRAW_MAGIC "\npid %d\nstart_time %" PRIu64 "\nstart_time_ms %" PRId64
	                         "\nname ",
	            raw->pid, raw->start_time, raw->start_time_ms) < 0)
		return MD_ERR_IO;
	rc = put_escaped(out, raw->name);
	if (rc == 0 && fputs("\ncmdline ", out) == EOF)
		rc = MD_ERR_IO;
	if (rc == 0)
		rc = put_escaped(out, raw->cmdline);
	if (rc != 0)
		return rc;
	if (fprintf(out,
	            "\naccess %s\nprivate_usage %" PRIu64 "\nworking_set %" PRIu64
	            "\nmax_address 0x%" PRIx64 "\ntruncated %s\nheaps %s\n",
	            raw->limited ? "limited" : "full", raw->private_usage, raw->working_set,
	            raw->max_address, raw->truncated ? "yes" : "no",
	            source_names[raw->heaps_source]) < 0)
		return MD_ERR_IO;
	for (i = 0; i < raw->n_heaps; i++)
		if (fprintf(out, "heap 0x%" PRIx64 "\n", raw->heaps[i]) < 0)
			return MD_ERR_IO;
	if (fprintf(out, "threads %s\n", source_names[raw->threads_source]) < 0)
		return MD_ERR_IO;
	for (i = 0; i < raw->n_threads; i++) {
		const struct winraw_thread *t = &raw->threads[i];

		if (fprintf(out, "thread %" PRIu32 " 0x%" PRIx64 " 0x%" PRIx64 "\n", t->tid,
		            t->stack_base, t->stack_limit) < 0)
			return MD_ERR_IO;
	}
	if (fprintf(out, "working_set_info %s\n", source_names[raw->working_set_source]) < 0)
		return MD_ERR_IO;
	for (i = 0; i < raw->n_regions; i++) {
		const struct winraw_region *r = &raw->regions[i];

		if (fprintf(out,
		            "region 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx32 " 0x%" PRIx64
		            " 0x%" PRIx32 " 0x%" PRIx32 " 0x%" PRIx32 " %" PRIu64 " %" PRIu64
		            " %" PRIu64 " ",
		            r->base, r->allocation_base, r->allocation_protect, r->size, r->state,
		            r->protect, r->type, r->resident, r->private_resident,
		            r->shared_resident) < 0)
			return MD_ERR_IO;
		rc = put_escaped(out, r->path);
		if (rc != 0)
			return rc;
		if (fputc('\n', out) == EOF)
			return MD_ERR_IO;
	}
	if (fprintf(out, "end %zu\n", raw->n_regions) < 0)
		return MD_ERR_IO;
	return 0;
}

/* Parser state: the current line split into words (in a scratch copy). */
#define MAX_WORDS 12

struct parse {
	struct winraw *raw;
	struct winraw_error *err;
	size_t line;
	char *words[MAX_WORDS + 1];
	size_t n_words;
	unsigned seen; /* SEEN_* */
	int in_regions;
	int ended;
};

enum {
	SEEN_PID = 1u << 0,
	SEEN_START = 1u << 1,
	SEEN_ACCESS = 1u << 2,
	SEEN_HEAPS = 1u << 3,
	SEEN_THREADS = 1u << 4,
	SEEN_WSINFO = 1u << 5,
	SEEN_NAME = 1u << 6,
	SEEN_REQUIRED = SEEN_PID | SEEN_START | SEEN_ACCESS | SEEN_HEAPS | SEEN_THREADS |
	                SEEN_WSINFO | SEEN_NAME,
};

static int
fail(struct parse *p, const char *what)
{
	if (p->err != NULL) {
		p->err->line = p->line;
		p->err->what = what;
	}
	return MD_ERR_PARSE;
}

/* Split @line in place on single spaces; empty words (two spaces, leading or
 * trailing space) are malformed.  Returns 0 or -1. */
static int
split(struct parse *p, char *line)
{
	char *s = line;

	p->n_words = 0;
	for (;;) {
		char *sp = strchr(s, ' ');

		if (p->n_words == MAX_WORDS + 1 || *s == '\0' || s == sp)
			return -1;
		p->words[p->n_words++] = s;
		if (sp == NULL)
			return 0;
		*sp = '\0';
		s = sp + 1;
	}
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse "0x" followed by 1-16 hex digits.  Returns 0 or -1. */
static int
parse_hex(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n;

	if (s[0] != '0' || s[1] != 'x' || s[2] == '\0')
		return -1;
	for (n = 0, s += 2; *s != '\0'; s++, n++) {
		int d = hex_digit(*s);

		if (d < 0 || n == 16)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

static int
parse_hex32(const char *s, uint32_t *out)
{
	uint64_t v;

	if (parse_hex(s, &v) != 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Parse a decimal number (no sign, no leading zeros except "0").  Returns 0 or -1. */
static int
parse_dec(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Undo put_escaped() in place: "-" -> "".  Returns 0 or -1 (bad escape, raw
 * control byte, or an escaped NUL). */
static int
unescape(char *s)
{
	char *w = s;

	if (strcmp(s, "-") == 0) {
		s[0] = '\0';
		return 0;
	}
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return -1;
		if (*s == '%') {
			int hi = hex_digit(s[1]), lo = hi < 0 ? -1 : hex_digit(s[2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*w++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return 0;
}

static int
parse_source(const char *s, int allow_partial, enum winraw_source *out)
{
	if (strcmp(s, "available") == 0)
		*out = WINRAW_AVAILABLE;
	else if (strcmp(s, "unavailable") == 0)
		*out = WINRAW_UNAVAILABLE;
	else if (allow_partial && strcmp(s, "partial") == 0)
		*out = WINRAW_PARTIAL;
	else
		return -1;
	return 0;
}

static int
parse_region(struct parse *p)
{
	struct winraw *raw = p->raw;
	struct winraw_region r;
	const struct winraw_region *prev =
	        raw->n_regions > 0 ? &raw->regions[raw->n_regions - 1] : NULL;
	char **w = p->words;

	memset(&r, 0, sizeof(r));
	if (p->n_words != 12)
		return fail(p, "a region line has 11 fields");
	if (parse_hex(w[1], &r.base) != 0 || parse_hex(w[2], &r.allocation_base) != 0 ||
	    parse_hex32(w[3], &r.allocation_protect) != 0 || parse_hex(w[4], &r.size) != 0 ||
	    parse_hex32(w[5], &r.state) != 0 || parse_hex32(w[6], &r.protect) != 0 ||
	    parse_hex32(w[7], &r.type) != 0)
		return fail(p, "bad hexadecimal number in a region line");
	if (parse_dec(w[8], &r.resident) != 0 || parse_dec(w[9], &r.private_resident) != 0 ||
	    parse_dec(w[10], &r.shared_resident) != 0)
		return fail(p, "bad working-set byte count in a region line");
	if (unescape(w[11]) != 0)
		return fail(p, "bad escape in a region's path");
	if (r.size == 0 || r.base + r.size < r.base)
		return fail(p, "region size is zero or wraps around");
	if (r.state != WIN_MEM_COMMIT && r.state != WIN_MEM_RESERVE && r.state != WIN_MEM_FREE)
		return fail(p, "unknown region state (MEM_COMMIT, MEM_RESERVE or MEM_FREE)");
	if (r.state == WIN_MEM_FREE ? r.type != 0
	                            : (r.type != WIN_MEM_PRIVATE && r.type != WIN_MEM_MAPPED &&
	                               r.type != WIN_MEM_IMAGE))
		return fail(p,
		            "unknown region type (MEM_PRIVATE, MEM_MAPPED, MEM_IMAGE; 0 if free)");
	if (r.state != WIN_MEM_FREE && (r.allocation_base > r.base || r.allocation_base == 0))
		return fail(p, "allocation base above the region's base");
	if (prev != NULL && r.base < prev->base + prev->size)
		return fail(p, "regions out of address order or overlapping");
	if (r.resident > r.size || r.private_resident + r.shared_resident > r.resident)
		return fail(p, "working-set bytes exceed the region");
	if (winraw_add_region(raw, &r, w[11]) != 0)
		return MD_ERR_NOMEM;
	return 0;
}

static int
parse_header(struct parse *p)
{
	struct winraw *raw = p->raw;
	char **w = p->words;
	const char *key = w[0];
	uint64_t v;

	/* A thread line has exactly 3 values, any other exactly 1: a short
	 * thread line would read w[2] and w[3] left over from an earlier,
	 * freed line (found by tests/fuzz/). */
	if (p->n_words != (strcmp(key, "thread") == 0 ? 4u : 2u))
		return fail(p, "a header line is a key and one value (thread: TID 0xBASE 0xLIMIT)");
	if (strcmp(key, "pid") == 0) {
		if (parse_dec(w[1], &v) != 0 || v == 0 || v > INT32_MAX)
			return fail(p, "bad pid");
		raw->pid = (int)v;
		p->seen |= SEEN_PID;
	} else if (strcmp(key, "start_time") == 0) {
		if (parse_dec(w[1], &raw->start_time) != 0)
			return fail(p, "bad start_time");
		p->seen |= SEEN_START;
	} else if (strcmp(key, "start_time_ms") == 0) {
		if (parse_dec(w[1], &v) != 0 || v > INT64_MAX)
			return fail(p, "bad start_time_ms");
		raw->start_time_ms = (int64_t)v;
	} else if (strcmp(key, "name") == 0) {
		if (unescape(w[1]) != 0 || strlen(w[1]) >= sizeof(raw->name))
			return fail(p, "bad or too long name");
		memcpy(raw->name, w[1], strlen(w[1]) + 1);
		p->seen |= SEEN_NAME;
	} else if (strcmp(key, "cmdline") == 0) {
		if (unescape(w[1]) != 0)
			return fail(p, "bad escape in cmdline");
		if (winraw_set_cmdline(raw, w[1]) != 0)
			return MD_ERR_NOMEM;
	} else if (strcmp(key, "access") == 0) {
		if (strcmp(w[1], "full") != 0 && strcmp(w[1], "limited") != 0)
			return fail(p, "access is full or limited");
		raw->limited = w[1][0] == 'l';
		p->seen |= SEEN_ACCESS;
	} else if (strcmp(key, "private_usage") == 0) {
		if (parse_dec(w[1], &raw->private_usage) != 0)
			return fail(p, "bad private_usage");
	} else if (strcmp(key, "working_set") == 0) {
		if (parse_dec(w[1], &raw->working_set) != 0)
			return fail(p, "bad working_set");
	} else if (strcmp(key, "max_address") == 0) {
		if (parse_hex(w[1], &raw->max_address) != 0)
			return fail(p, "bad max_address");
	} else if (strcmp(key, "truncated") == 0) {
		if (strcmp(w[1], "yes") != 0 && strcmp(w[1], "no") != 0)
			return fail(p, "truncated is yes or no");
		raw->truncated = w[1][0] == 'y';
	} else if (strcmp(key, "heaps") == 0) {
		if (parse_source(w[1], 0, &raw->heaps_source) != 0)
			return fail(p, "heaps is available or unavailable");
		p->seen |= SEEN_HEAPS;
	} else if (strcmp(key, "heap") == 0) {
		if (!(p->seen & SEEN_HEAPS) || raw->heaps_source != WINRAW_AVAILABLE)
			return fail(p, "heap line without \"heaps available\" before it");
		if (parse_hex(w[1], &v) != 0 || v == 0)
			return fail(p, "bad heap address");
		if (winraw_add_heap(raw, v) != 0)
			return MD_ERR_NOMEM;
	} else if (strcmp(key, "threads") == 0) {
		if (parse_source(w[1], 1, &raw->threads_source) != 0)
			return fail(p, "threads is available, partial or unavailable");
		p->seen |= SEEN_THREADS;
	} else if (strcmp(key, "thread") == 0) {
		struct winraw_thread t;

		if (!(p->seen & SEEN_THREADS) || raw->threads_source == WINRAW_UNAVAILABLE)
			return fail(p, "thread line without \"threads available\" before it");
		if (parse_dec(w[1], &v) != 0 || v > UINT32_MAX ||
		    parse_hex(w[2], &t.stack_base) != 0 || parse_hex(w[3], &t.stack_limit) != 0)
			return fail(p, "bad thread line (TID 0xSTACKBASE 0xSTACKLIMIT)");
		if (t.stack_limit >= t.stack_base)
			return fail(p, "thread stack limit not below its base");
		t.tid = (uint32_t)v;
		if (winraw_add_thread(raw, &t) != 0)
			return MD_ERR_NOMEM;
	} else if (strcmp(key, "working_set_info") == 0) {
		if (parse_source(w[1], 0, &raw->working_set_source) != 0)
			return fail(p, "working_set_info is available or unavailable");
		p->seen |= SEEN_WSINFO;
	} else {
		return fail(p, "unknown header key");
	}
	return 0;
}

static int
parse_line(struct parse *p, char *line)
{
	uint64_t v;

	if (p->line == 1)
		return strcmp(line, WINRAW_MAGIC) == 0
		               ? 0
		               : fail(p, strncmp(line, "memdelta-winraw ", 16) == 0
		                                 ? "unsupported memdelta-winraw version"
		                                 : "not a memdelta-winraw file");
	if (p->ended)
		return fail(p, "text after the end line");
	if (split(p, line) != 0)
		return fail(p, "empty field or too many fields");
	if (strcmp(p->words[0], "end") == 0) {
		if (p->n_words != 2 || parse_dec(p->words[1], &v) != 0)
			return fail(p, "bad end line");
		if (v != p->raw->n_regions)
			return fail(p, "end count differs from the number of regions");
		p->ended = 1;
		return 0;
	}
	if (strcmp(p->words[0], "region") == 0) {
		if ((p->seen & SEEN_REQUIRED) != SEEN_REQUIRED)
			return fail(p,
			            "a required header line (pid, start_time, name, access, heaps, "
			            "threads, working_set_info) is missing before the regions");
		if (p->raw->limited)
			return fail(p, "regions in a limited-access record");
		p->in_regions = 1;
		return parse_region(p);
	}
	if (p->in_regions)
		return fail(p, "header line after the regions");
	return parse_header(p);
}

int
winraw_parse(struct winraw *raw, const char *buf, size_t len, struct winraw_error *err)
{
	struct parse p;
	char *line = NULL;
	size_t off = 0;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p.raw = raw;
	p.err = err;
	if (err != NULL) {
		err->line = 0;
		err->what = NULL;
	}
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = (nl != NULL ? (size_t)(nl - buf) : len) - off;

		p.line++;
		if (nl == NULL) {
			rc = fail(&p, "last line has no newline (truncated file)");
			goto out;
		}
		if (n > WINRAW_LINE_MAX || memchr(buf + off, '\0', n) != NULL) {
			rc = fail(&p, n > WINRAW_LINE_MAX ? "line too long" : "NUL byte in a line");
			goto out;
		}
		if (n > 0 && buf[off + n - 1] == '\r')
			n--; /* a file that went through a CRLF conversion */
		free(line);
		line = malloc(n + 1);
		if (line == NULL) {
			rc = MD_ERR_NOMEM;
			goto out;
		}
		memcpy(line, buf + off, n);
		line[n] = '\0';
		rc = parse_line(&p, line);
		if (rc != 0)
			goto out;
		off += n + 1 + (buf[off + n] == '\r');
	}
	if (!p.ended) {
		p.line++;
		rc = fail(&p, p.line == 1 ? "empty file" : "no end line (truncated file)");
	}
out:
	free(line);
	if (rc != 0)
		winraw_done(raw);
	return rc;
}

int
winraw_read(struct winraw *raw, FILE *in, struct winraw_error *err)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, got;
	int rc;

	for (;;) {
		if (cap - len < 65536) {
			if (cap > SIZE_MAX / 2 - 65536) {
				free(buf);
				return MD_ERR_NOMEM;
			}
			nb = realloc(buf, cap * 2 + 65536);
			if (nb == NULL) {
				free(buf);
				return MD_ERR_NOMEM;
			}
			buf = nb;
			cap = cap * 2 + 65536;
		}
		got = fread(buf + len, 1, cap - len, in);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(in)) {
		free(buf);
		return MD_ERR_IO;
	}
	rc = winraw_parse(raw, buf, len, err);
	free(buf);
	return rc;
}

/* ---- the classifier ----------------------------------------------------- */

unsigned
windows_prot_bits(uint32_t protect)
{
	unsigned bits = 0;

	switch (protect & 0xffu) {
	case WIN_PAGE_READONLY:
		bits = PROT_BIT_READ;
		break;
	case WIN_PAGE_READWRITE:
		bits = PROT_BIT_READ | PROT_BIT_WRITE;
		break;
	case WIN_PAGE_WRITECOPY:
		bits = PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_COPY;
		break;
	case WIN_PAGE_EXECUTE:
		bits = PROT_BIT_EXEC;
		break;
	case WIN_PAGE_EXECUTE_READ:
		bits = PROT_BIT_READ | PROT_BIT_EXEC;
		break;
	case WIN_PAGE_EXECUTE_READWRITE:
		bits = PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_EXEC;
		break;
	case WIN_PAGE_EXECUTE_WRITECOPY:
		bits = PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_EXEC | PROT_BIT_COPY;
		break;
	default: /* PAGE_NOACCESS, 0 (reserved), unknown */
		break;
	}
	if (protect & WIN_PAGE_GUARD)
		bits |= PROT_BIT_GUARD;
	return bits;
}

static int
is_write_copy(uint32_t protect)
{
	uint32_t b = protect & 0xffu;

	return b == WIN_PAGE_WRITECOPY || b == WIN_PAGE_EXECUTE_WRITECOPY;
}

static int
is_writable(uint32_t protect)
{
	uint32_t b = protect & 0xffu;

	return b == WIN_PAGE_READWRITE || b == WIN_PAGE_EXECUTE_READWRITE || is_write_copy(protect);
}

/* The committed (charged) bytes of @r: see docs/windows-mapping.md,
 * "Committed".  Private commit is charged whole; an image's writable or
 * copy-on-write pages are charged as private copies; a file view mapped
 * copy-on-write (AllocationProtect PAGE_WRITECOPY) likewise; shared views
 * (pagefile-backed sections included) are charged to the section, not to
 * the process. */
static uint64_t
charged(const struct winraw_region *r)
{
	if (r->state != WIN_MEM_COMMIT)
		return 0;
	switch (r->type) {
	case WIN_MEM_PRIVATE:
		return r->size;
	case WIN_MEM_IMAGE:
		return is_writable(r->protect) ? r->size : 0;
	case WIN_MEM_MAPPED:
		return is_write_copy(r->allocation_protect) ? r->size : 0;
	default:
		return 0;
	}
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* A thread's stack allocation: AllocationBase of the region holding its
 * StackLimit. */
struct stack_alloc {
	uint64_t allocation_base;
	uint32_t tid;
};

static int
stack_alloc_cmp(const void *a, const void *b)
{
	const struct stack_alloc *x = a, *y = b;

	if (x->allocation_base != y->allocation_base)
		return (x->allocation_base > y->allocation_base) -
		       (x->allocation_base < y->allocation_base);
	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* Index of the region of @raw holding @addr, or -1. */
static long
find_region(const struct winraw *raw, uint64_t addr)
{
	size_t lo = 0, hi = raw->n_regions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct winraw_region *r = &raw->regions[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->size)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

static int
classify_totals_only(const struct winraw *raw, struct snapshot *s)
{
	struct region r;

	memset(&r, 0, sizeof(r));
	s->flags |= SNAPSHOT_TOTALS_ONLY;
	if (raw->private_usage == 0 && raw->working_set == 0)
		return 0;
	r.size = raw->private_usage > raw->working_set ? raw->private_usage : raw->working_set;
	r.type = REGION_PRIVATE;
	r.state = STATE_COMMIT;
	r.committed = raw->private_usage;
	r.resident = raw->working_set;
	r.detail = "[process totals: GetProcessMemoryInfo]";
	return snapshot_add_region(s, &r);
}

int
windows_classify(const struct winraw *raw, struct snapshot *s)
{
	uint64_t *heaps = NULL;
	struct stack_alloc *stacks = NULL;
	size_t i, n_stacks = 0;
	char detail[64];
	int rc = MD_ERR_NOMEM;

	s->pid = raw->pid;
	s->start_time = raw->start_time;
	s->start_time_ms = raw->start_time_ms;
	memcpy(s->name, raw->name, sizeof(s->name));
	s->name[sizeof(s->name) - 1] = '\0';
	if (raw->cmdline != NULL && snapshot_set_cmdline(s, raw->cmdline) != 0)
		goto out;
	if (raw->truncated)
		s->flags |= SNAPSHOT_TRUNCATED;
	if (raw->limited) {
		rc = classify_totals_only(raw, s);
		goto out;
	}
	if (raw->heaps_source != WINRAW_AVAILABLE)
		s->flags |= SNAPSHOT_NO_HEAP_LIST;
	if (raw->threads_source != WINRAW_AVAILABLE)
		s->flags |= SNAPSHOT_NO_THREAD_STACKS;
	if (raw->working_set_source != WINRAW_AVAILABLE)
		s->flags |= SNAPSHOT_NO_WORKING_SET;

	/* Empty regions and regions that wrap past 2^64 are refused with the
	 * disordered ones: a wrapped end would let an overlap through the
	 * order check (found by tests/fuzz/). */
	for (i = 0; i < raw->n_regions; i++) {
		const struct winraw_region *w = &raw->regions[i];
		const struct winraw_region *p = i > 0 ? &raw->regions[i - 1] : NULL;

		if (w->size == 0 || w->base + w->size < w->base ||
		    (p != NULL && w->base < p->base + p->size)) {
			rc = MD_ERR_PARSE;
			goto out;
		}
	}
	heaps = malloc((raw->n_heaps ? raw->n_heaps : 1) * sizeof(*heaps));
	stacks = malloc((raw->n_threads ? raw->n_threads : 1) * sizeof(*stacks));
	if (heaps == NULL || stacks == NULL)
		goto out;
	if (raw->n_heaps > 0)
		memcpy(heaps, raw->heaps, raw->n_heaps * sizeof(*heaps));
	qsort(heaps, raw->n_heaps, sizeof(*heaps), u64_cmp);
	for (i = 0; i < raw->n_threads; i++) {
		long k = find_region(raw, raw->threads[i].stack_limit);

		if (k < 0 || raw->regions[k].state == WIN_MEM_FREE ||
		    raw->regions[k].type != WIN_MEM_PRIVATE)
			continue; /* a TEB that points nowhere sensible: no guess */
		stacks[n_stacks].allocation_base = raw->regions[k].allocation_base;
		stacks[n_stacks].tid = raw->threads[i].tid;
		n_stacks++;
	}
	qsort(stacks, n_stacks, sizeof(*stacks), stack_alloc_cmp);
	rc = snapshot_reserve(s, raw->n_regions);
	if (rc != 0)
		goto out;

	for (i = 0; i < raw->n_regions; i++) {
		const struct winraw_region *w = &raw->regions[i];
		struct region r;

		memset(&r, 0, sizeof(r));
		r.detail = "";
		if (w->state == WIN_MEM_FREE) {
			const struct winraw_region *p = i > 0 ? &raw->regions[i - 1] : NULL;
			uint64_t end = (w->base + WIN_ALLOCATION_GRANULARITY - 1) &
			               ~(WIN_ALLOCATION_GRANULARITY - 1);

			/* Slack after an allocation up to the next 64 KiB
			 * boundary: free but unusable for a new allocation. */
			if (p == NULL || p->state == WIN_MEM_FREE || p->base + p->size != w->base ||
			    end == w->base)
				continue;
			r.base = w->base;
			r.allocation_base = w->base;
			r.size = (end - w->base < w->size ? end : w->base + w->size) - w->base;
			r.type = REGION_UNUSABLE;
			r.state = STATE_RESERVE;
			rc = snapshot_add_region(s, &r);
			if (rc != 0)
				goto out;
			continue;
		}
		r.base = w->base;
		r.size = w->size;
		r.allocation_base = w->allocation_base;
		r.state = w->state == WIN_MEM_COMMIT ? STATE_COMMIT : STATE_RESERVE;
		r.protection = w->state == WIN_MEM_COMMIT ? windows_prot_bits(w->protect) : 0;
		r.committed = charged(w);
		r.resident = w->resident;
		r.private_resident = w->private_resident;
		r.shared_resident = w->shared_resident;
		if (w->type == WIN_MEM_IMAGE) {
			r.type = REGION_IMAGE;
			r.detail = w->path;
		} else if (w->type == WIN_MEM_MAPPED) {
			r.type = w->path != NULL ? REGION_MAPPED : REGION_SHAREABLE;
			r.detail = w->path;
		} else {
			struct stack_alloc key = {w->allocation_base, 0};
			const struct stack_alloc *st;
			const uint64_t *h;

			h = bsearch(&w->allocation_base, heaps, raw->n_heaps, sizeof(*heaps),
			            u64_cmp);
			/* The lowest tid among threads sharing an allocation
			 * (none should) names it. */
			st = NULL;
			if (n_stacks > 0) {
				size_t lo = 0, hi = n_stacks;

				while (lo < hi) {
					size_t mid = lo + (hi - lo) / 2;

					if (stack_alloc_cmp(&stacks[mid], &key) < 0)
						lo = mid + 1;
					else
						hi = mid;
				}
				if (lo < n_stacks &&
				    stacks[lo].allocation_base == w->allocation_base)
					st = &stacks[lo];
			}
			if (h != NULL) {
				size_t k;

				for (k = 0; raw->heaps[k] != *h; k++)
					;
				r.type = REGION_HEAP;
				if (k == 0) {
					r.detail = "heap 0 (process heap)";
				} else {
					snprintf(detail, sizeof(detail), "heap %zu", k);
					r.detail = detail;
				}
			} else if (st != NULL) {
				r.type = REGION_STACK;
				snprintf(detail, sizeof(detail), "thread %" PRIu32, st->tid);
				r.detail = detail;
			} else {
				r.type = REGION_PRIVATE;
			}
		}
		if (w->type != WIN_MEM_PRIVATE &&
		    !(w->type == WIN_MEM_MAPPED && is_write_copy(w->allocation_protect)))
			r.protection |= PROT_BIT_SHARED;
		rc = snapshot_add_region(s, &r);
		if (rc != 0)
			goto out;
	}
	rc = 0;
out:
	free(heaps);
	free(stacks);
	return rc;
}
