/*
 * linux_smaps.c - pure parsers of /proc/PID/{smaps,stat,status,task/TID/syscall}
 * and /proc/stat, and the classifier that turns VMAs into typed regions by
 * the Linux mapping of ARCHITECTURE.md (documented in docs/linux-mapping.md).
 *
 * No I/O here: snapshot/linux.c reads the files and hands over buffers, so
 * the same code runs on recorded fixtures in the tests.  The parser is fed one
 * line at a time and keeps only the VMA array; it is written for speed (one
 * pass, no scanf) because reading smaps is the daemon's main sampling cost.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/linux_smaps.h"

/* Keys of a record that the parser tracks in smaps_vma.seen. */
enum {
	SEEN_SIZE = 1u << 0,
	SEEN_VMFLAGS = 1u << 1,
};

/* glibc's HEAP_MAX_SIZE on 64-bit: 2 * DEFAULT_MMAP_THRESHOLD_MAX = 64 MiB.
 * Every non-main malloc arena heap is a mapping aligned to this size. */
#define GLIBC_HEAP_MAX ((uint64_t)64 << 20)
/* The largest guard we accept below a thread stack (glibc's default is one
 * page; pthread_attr_setguardsize may raise it). */
#define STACK_GUARD_MAX ((uint64_t)64 << 10)
/* PTHREAD_STACK_MIN on x86-64. */
#define STACK_MIN ((uint64_t)16 << 10)

void
smaps_parser_init(struct smaps_parser *p, struct snapshot *snap, size_t max_vmas)
{
	memset(p, 0, sizeof(*p));
	p->snap = snap;
	p->max_vmas = max_vmas;
}

void
smaps_parser_done(struct smaps_parser *p)
{
	free(p->vmas);
	p->vmas = NULL;
	p->n_vmas = p->cap_vmas = 0;
}

static int
parse_fail(struct smaps_parser *p, const char *why)
{
	if (p->error_line == 0) {
		p->error_line = p->line;
		p->error = why;
	}
	return MD_ERR_PARSE;
}

/* Character classes of the parser: hex digit values plus one (0: not a hex
 * digit) and the characters a smaps key may contain.  (Range designators
 * are a GNU C extension that gcc and clang both accept.) */
static const unsigned char hex_value1[256] = {
        ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
        ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
        ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
        ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};
static const unsigned char key_char[256] = {
        ['A' ... 'Z'] = 1,
        ['a' ... 'z'] = 1,
        ['0' ... '9'] = 1,
        ['_'] = 1,
};

static int
hexval(char c)
{
	return (int)hex_value1[(unsigned char)c] - 1;
}

/* Parse hex digits at *pos up to @end; at least one digit, at most 16. */
static int
scan_hex(const char **pos, const char *end, uint64_t *out)
{
	const char *s = *pos;
	uint64_t v = 0;
	int n = 0, d;

	while (s < end && (d = hexval(*s)) >= 0) {
		if (++n > 16)
			return -1;
		v = (v << 4) | (uint64_t)d;
		s++;
	}
	if (n == 0)
		return -1;
	*pos = s;
	*out = v;
	return 0;
}

static int
scan_dec(const char **pos, const char *end, uint64_t *out)
{
	const char *s = *pos;
	uint64_t v = 0;
	int n = 0;

	while (s < end && *s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
		n++;
	}
	if (n == 0)
		return -1;
	*pos = s;
	*out = v;
	return 0;
}

static const char *
skip_spaces(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* Does the first token look like "hex-hex"?  Key lines never contain '-'
 * before their ':' among hex digits only. */
static int
is_header(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len && hexval(line[i]) >= 0; i++)
		;
	return i > 0 && i < len && line[i] == '-';
}

static int
check_record_complete(struct smaps_parser *p)
{
	const struct smaps_vma *v;

	if (p->n_vmas == 0)
		return 0;
	v = &p->vmas[p->n_vmas - 1];
	if ((v->seen & (SEEN_SIZE | SEEN_VMFLAGS)) != (SEEN_SIZE | SEEN_VMFLAGS))
		return parse_fail(
		        p, "truncated record: no Size: or VmFlags: line before the next header");
	return 0;
}

static int
parse_header(struct smaps_parser *p, const char *line, size_t len)
{
	static const char deleted[] = " (deleted)";
	const char *s = line, *end = line + len, *path;
	struct smaps_vma *v;
	uint64_t maj, min, offset;
	size_t plen;
	int rc;

	rc = check_record_complete(p);
	if (rc != 0)
		return rc;
	if (p->max_vmas != 0 && p->n_vmas >= p->max_vmas)
		return 1;
	if (p->n_vmas == p->cap_vmas) {
		size_t cap = p->cap_vmas ? p->cap_vmas * 2 : 256;
		struct smaps_vma *nv;

		if (cap > SIZE_MAX / sizeof(*nv))
			return MD_ERR_NOMEM;
		nv = realloc(p->vmas, cap * sizeof(*nv));
		if (nv == NULL)
			return MD_ERR_NOMEM;
		p->vmas = nv;
		p->cap_vmas = cap;
	}
	v = &p->vmas[p->n_vmas];
	memset(v, 0, sizeof(*v));
	v->path = "";

	if (scan_hex(&s, end, &v->start) != 0 || s >= end || *s++ != '-' ||
	    scan_hex(&s, end, &v->end) != 0 || v->end <= v->start)
		return parse_fail(p, "bad address range in header line");
	if (end - s < 6 || *s++ != ' ')
		return parse_fail(p, "short header line");
	if ((s[0] != 'r' && s[0] != '-') || (s[1] != 'w' && s[1] != '-') ||
	    (s[2] != 'x' && s[2] != '-') || (s[3] != 's' && s[3] != 'p'))
		return parse_fail(p, "bad permissions in header line");
	v->perms = (unsigned char)((s[0] == 'r' ? PROT_BIT_READ : 0) |
	                           (s[1] == 'w' ? PROT_BIT_WRITE : 0) |
	                           (s[2] == 'x' ? PROT_BIT_EXEC : 0) |
	                           (s[3] == 's' ? PROT_BIT_SHARED : 0));
	s += 4;
	s = skip_spaces(s, end);
	if (scan_hex(&s, end, &offset) != 0)
		return parse_fail(p, "bad offset in header line");
	s = skip_spaces(s, end);
	if (scan_hex(&s, end, &maj) != 0 || s >= end || *s++ != ':' || scan_hex(&s, end, &min) != 0)
		return parse_fail(p, "bad device in header line");
	v->dev_major = (unsigned)maj;
	v->dev_minor = (unsigned)min;
	s = skip_spaces(s, end);
	if (scan_dec(&s, end, &v->inode) != 0)
		return parse_fail(p, "bad inode in header line");
	if (s < end && *s != ' ' && *s != '\t')
		return parse_fail(p, "bad inode in header line");
	/* The path is the rest after the padding; it may contain spaces. */
	path = skip_spaces(s, end);
	plen = (size_t)(end - path);
	if (plen > 0) {
		if (plen >= sizeof(deleted) - 1 &&
		    memcmp(end - (sizeof(deleted) - 1), deleted, sizeof(deleted) - 1) == 0)
			v->deleted = 1;
		v->path = snapshot_strdup(p->snap, path, plen);
		if (v->path == NULL)
			return MD_ERR_NOMEM;
	}
	p->n_vmas++;
	return 0;
}

static unsigned
parse_vmflags(const char *s, const char *end)
{
	unsigned f = 0;

	while (s < end) {
		s = skip_spaces(s, end);
		if (end - s >= 2 && (end - s == 2 || s[2] == ' ')) {
			switch ((s[0] << 8) | s[1]) {
			case ('a' << 8) | 'c':
				f |= VMF_AC;
				break;
			case ('g' << 8) | 'd':
				f |= VMF_GD;
				break;
			case ('n' << 8) | 'r':
				f |= VMF_NR;
				break;
			case ('s' << 8) | 'h':
				f |= VMF_SH;
				break;
			case ('e' << 8) | 'x':
				f |= VMF_EX;
				break;
			case ('w' << 8) | 'r':
				f |= VMF_WR;
				break;
			case ('l' << 8) | 'o':
				f |= VMF_LO;
				break;
			default:
				break;
			}
		}
		while (s < end && *s != ' ')
			s++;
	}
	return f;
}

#define KEY_IS(k, klen, lit) ((klen) == sizeof(lit) - 1 && memcmp((k), (lit), sizeof(lit) - 1) == 0)

/* What a key line means to the parser. */
enum key_kind {
	KEY_UNKNOWN = 0, /* not printed by any kernel we know: validate, skip */
	KEY_IGNORED,     /* a kernel key we do not use */
	KEY_COUNTER,     /* a "N kB" counter we keep */
	KEY_SIZE,
	KEY_VMFLAGS,
};

/* Identify key @k of @klen bytes; for KEY_COUNTER, *dst is where it goes.
 * Keys of Linux 6.x smaps; dispatch on length keeps this a few compares. */
static enum key_kind
key_lookup(struct smaps_vma *v, const char *k, size_t klen, uint64_t **dst)
{
	*dst = NULL;
	switch (klen) {
	case 3:
		if (memcmp(k, "Rss", 3) == 0)
			return (*dst = &v->rss), KEY_COUNTER;
		if (memcmp(k, "Pss", 3) == 0)
			return (*dst = &v->pss), KEY_COUNTER;
		if (memcmp(k, "KSM", 3) == 0)
			return KEY_IGNORED;
		break;
	case 4:
		if (memcmp(k, "Size", 4) == 0)
			return KEY_SIZE;
		if (memcmp(k, "Swap", 4) == 0)
			return (*dst = &v->swap), KEY_COUNTER;
		break;
	case 6:
		if (memcmp(k, "Locked", 6) == 0)
			return (*dst = &v->locked), KEY_COUNTER;
		break;
	case 7:
		if (memcmp(k, "VmFlags", 7) == 0)
			return KEY_VMFLAGS;
		if (memcmp(k, "SwapPss", 7) == 0)
			return KEY_IGNORED;
		break;
	case 8:
		if (memcmp(k, "LazyFree", 8) == 0)
			return KEY_IGNORED;
		break;
	case 9:
		if (memcmp(k, "Pss_Dirty", 9) == 0 || memcmp(k, "Anonymous", 9) == 0 ||
		    memcmp(k, "Pss_Anon_", 9) == 0)
			return KEY_IGNORED;
		break;
	case 10:
		if (memcmp(k, "Referenced", 10) == 0 || memcmp(k, "Pss_Shmem_", 10) == 0)
			return KEY_IGNORED;
		break;
	case 11:
		if (memcmp(k, "MMUPageSize", 11) == 0 || memcmp(k, "THPeligible", 11) == 0)
			return KEY_IGNORED;
		break;
	case 12:
		if (memcmp(k, "Shared_Clean", 12) == 0)
			return (*dst = &v->shared_resident), KEY_COUNTER;
		if (memcmp(k, "Shared_Dirty", 12) == 0)
			return (*dst = &v->shared_resident), KEY_COUNTER;
		break;
	case 13:
		if (memcmp(k, "Private_Clean", 13) == 0)
			return (*dst = &v->private_resident), KEY_COUNTER;
		if (memcmp(k, "Private_Dirty", 13) == 0)
			return (*dst = &v->private_resident), KEY_COUNTER;
		if (memcmp(k, "AnonHugePages", 13) == 0 || memcmp(k, "FilePmdMapped", 13) == 0 ||
		    memcmp(k, "ProtectionKey", 13) == 0)
			return KEY_IGNORED;
		break;
	case 14:
		if (memcmp(k, "Shared_Hugetlb", 14) == 0)
			return (*dst = &v->shared_resident), KEY_COUNTER;
		if (memcmp(k, "KernelPageSize", 14) == 0 || memcmp(k, "ShmemPmdMapped", 14) == 0)
			return KEY_IGNORED;
		break;
	case 15:
		if (memcmp(k, "Private_Hugetlb", 15) == 0)
			return (*dst = &v->private_resident), KEY_COUNTER;
		break;
	default:
		break;
	}
	return KEY_UNKNOWN;
}

static int
parse_key(struct smaps_parser *p, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len), *s, *end = line + len;
	struct smaps_vma *v;
	enum key_kind kind;
	uint64_t *dst, val, scale;
	size_t klen;

	if (colon == NULL || colon == line)
		return parse_fail(p, "line is neither a header nor a \"Key: value\" line");
	if (p->n_vmas == 0)
		return parse_fail(p, "\"Key: value\" line before any header line");
	v = &p->vmas[p->n_vmas - 1];
	klen = (size_t)(colon - line);
	kind = key_lookup(v, line, klen, &dst);
	switch (kind) {
	case KEY_IGNORED:
		return 0;
	case KEY_UNKNOWN:
		/* A key is one word ([A-Za-z0-9_]); anything else (a mangled
		 * header line, say) is not smaps.  Valid unknown keys (newer
		 * kernels) are skipped. */
		for (s = line; s < colon; s++)
			if (!key_char[(unsigned char)*s])
				return parse_fail(
				        p, "line is neither a header nor a \"Key: value\" line");
		return 0;
	case KEY_VMFLAGS:
		v->vmflags = (unsigned short)parse_vmflags(colon + 1, end);
		v->seen |= SEEN_VMFLAGS;
		return 0;
	case KEY_SIZE:
	case KEY_COUNTER:
		break;
	}
	/* "Key:   <padding>N kB": the value is right-aligned, so read it
	 * backwards from the unit. */
	if (end - colon < 5 || memcmp(end - 3, " kB", 3) != 0)
		return parse_fail(p, "value does not end in \" kB\"");
	s = end - 3;
	val = 0;
	scale = 1;
	while (s > colon + 1 && s[-1] >= '0' && s[-1] <= '9') {
		if (scale > UINT64_MAX / 10 / 1024)
			return parse_fail(p, "value out of range");
		val += (uint64_t)(s[-1] - '0') * scale;
		scale *= 10;
		s--;
	}
	if (scale == 1)
		return parse_fail(p, "value is not a number");
	/* The kernel pads with spaces: a space before the number is enough
	 * (what lies between the colon and it is padding). */
	if (s != colon + 1 && s[-1] != ' ' && s[-1] != '\t')
		return parse_fail(p, "value is not a number");
	val *= 1024;
	if (kind == KEY_SIZE) {
		if (val != v->end - v->start)
			return parse_fail(p, "Size: does not match the header's address range");
		v->seen |= SEEN_SIZE;
	} else {
		*dst += val; /* private and shared sum three keys each */
	}
	return 0;
}

int
smaps_parse_line(struct smaps_parser *p, const char *line, size_t len)
{
	p->line++;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	/* Keys start with a capital letter; the kernel prints headers in
	 * lowercase hex. */
	if (len > 0 && line[0] >= 'A' && line[0] <= 'Z')
		return parse_key(p, line, len);
	if (is_header(line, len))
		return parse_header(p, line, len);
	return parse_key(p, line, len);
}

int
smaps_parse_finish(struct smaps_parser *p)
{
	return check_record_complete(p);
}

int
smaps_parse_buffer(struct smaps_parser *p, const char *buf, size_t len)
{
	const char *s = buf, *end = buf + len, *nl;
	int rc;

	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL) {
			p->line++;
			return parse_fail(p, "truncated line: the file does not end in a newline");
		}
		rc = smaps_parse_line(p, s, (size_t)(nl - s));
		if (rc != 0)
			return rc;
		s = nl + 1;
	}
	return smaps_parse_finish(p);
}

int
linux_parse_stat(const char *buf, size_t len, struct linux_stat *out)
{
	const char *open, *close = NULL, *s, *end = buf + len;
	uint64_t v;
	size_t n, i;
	int field;

	memset(out, 0, sizeof(*out));
	open = memchr(buf, '(', len);
	/* comm may itself contain ')': the fields start after the last one. */
	for (s = buf; s < end; s++)
		if (*s == ')')
			close = s;
	if (open == NULL || close == NULL || close < open)
		return MD_ERR_PARSE;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(out->comm))
		n = sizeof(out->comm) - 1;
	memcpy(out->comm, open + 1, n);
	out->comm[n] = '\0';
	s = close + 1;
	/* Field 3 is the state; count fields from there. */
	for (field = 3; field <= 22; field++) {
		s = skip_spaces(s, end);
		if (s >= end)
			return MD_ERR_PARSE;
		if (field == 3) {
			out->state = *s++;
			continue;
		}
		if (*s == '-')
			s++;
		if (scan_dec(&s, end, &v) != 0)
			return MD_ERR_PARSE;
		if (field == 9)
			out->flags = (unsigned long)v;
		else if (field == 22)
			out->start_time = v;
	}
	for (i = 0; i < sizeof(out->comm) && out->comm[i]; i++)
		if ((unsigned char)out->comm[i] < 0x20)
			out->comm[i] = '?';
	return 0;
}

/* Value of "Key:\t  N kB" at the start of a line in a status-like buffer. */
static int
find_kb(const char *buf, size_t len, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	const char *s = buf, *end = buf + len, *nl;

	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			nl = end;
		if ((size_t)(nl - s) > klen && memcmp(s, key, klen) == 0 && s[klen] == ':') {
			const char *v = skip_spaces(s + klen + 1, nl);
			uint64_t kb;

			if (scan_dec(&v, nl, &kb) != 0 || kb > UINT64_MAX / 1024)
				return MD_ERR_PARSE;
			*out = kb * 1024;
			return 0;
		}
		s = nl + 1;
	}
	return MD_ERR_NOTFOUND;
}

int
linux_parse_status(const char *buf, size_t len, struct linux_status *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = find_kb(buf, len, "VmSize", &out->vm_size);
	if (rc == MD_ERR_PARSE)
		return rc;
	out->have_vm_size = rc == 0;
	rc = find_kb(buf, len, "VmPTE", &out->vm_pte);
	if (rc == MD_ERR_PARSE)
		return rc;
	return 0;
}

int
linux_parse_syscall_sp(const char *buf, size_t len, uint64_t *sp)
{
	const char *s = buf, *end = buf + len, *tok[9];
	int n = 0;

	*sp = 0;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		end = buf + --len;
	if (len >= 7 && memcmp(buf, "running", 7) == 0)
		return MD_ERR_NOTFOUND;
	while (s < end && n < 9) {
		s = skip_spaces(s, end);
		if (s >= end)
			break;
		tok[n++] = s;
		while (s < end && *s != ' ')
			s++;
	}
	if (s != end)
		return MD_ERR_PARSE; /* more than 9 fields */
	/* "NR a1..a6 SP PC" (9 fields) or "-1 SP PC" (3 fields): SP is the
	 * second to last, printed as 0x-prefixed hex. */
	if (n != 9 && n != 3)
		return MD_ERR_PARSE;
	s = tok[n - 2];
	if (end - s < 3 || s[0] != '0' || s[1] != 'x')
		return MD_ERR_PARSE;
	s += 2;
	if (scan_hex(&s, end, sp) != 0 || (s < end && *s != ' '))
		return MD_ERR_PARSE;
	return 0;
}

int
linux_parse_btime(const char *buf, size_t len, int64_t *btime)
{
	const char *s = buf, *end = buf + len, *nl;
	uint64_t v;

	*btime = 0;
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			nl = end;
		if (nl - s > 6 && memcmp(s, "btime ", 6) == 0) {
			const char *p = skip_spaces(s + 6, nl);

			if (scan_dec(&p, nl, &v) != 0 || v > INT64_MAX)
				return MD_ERR_PARSE;
			*btime = (int64_t)v;
			return 0;
		}
		s = nl + 1;
	}
	return MD_ERR_NOTFOUND;
}

/* ---- classification ---------------------------------------------------- */

struct file_id {
	unsigned dev_major, dev_minor;
	uint64_t inode;
};

static int
file_id_cmp(const void *a, const void *b)
{
	const struct file_id *x = a, *y = b;

	if (x->dev_major != y->dev_major)
		return x->dev_major < y->dev_major ? -1 : 1;
	if (x->dev_minor != y->dev_minor)
		return x->dev_minor < y->dev_minor ? -1 : 1;
	return (x->inode > y->inode) - (x->inode < y->inode);
}

static int
sp_cmp(const void *a, const void *b)
{
	const struct linux_thread_sp *x = a, *y = b;

	return (x->sp > y->sp) - (x->sp < y->sp);
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int
is_anonymous(const struct smaps_vma *v)
{
	return v->inode == 0 && (v->path[0] == '\0' || v->path[0] == '[');
}

static int
is_plain_anon(const struct smaps_vma *v)
{
	return v->inode == 0 && v->path[0] == '\0';
}

static int
is_accessible(const struct smaps_vma *v)
{
	return (v->perms & (PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_EXEC)) != 0;
}

/* Shared memory objects that VMMap would call Shareable. */
static int
is_shareable_path(const char *path)
{
	return path[0] == '\0' || strcmp(path, "/dev/zero (deleted)") == 0 ||
	       starts_with(path, "/SYSV") || starts_with(path, "/memfd:") ||
	       starts_with(path, "/dev/shm/") || starts_with(path, "[anon_shmem:");
}

/* Type of an "[anon:NAME]" region (PR_SET_VMA_ANON_NAME, Linux 5.17+) from
 * the name an allocator or runtime gave it. */
static enum region_type
anon_name_type(const char *path)
{
	static const char *const heap_names[] = {"libc_malloc", "scudo",  "jemalloc", "tcmalloc",
	                                         "mimalloc",    "malloc", "heap"};
	static const char *const managed_names[] = {"dalvik", "art",    "v8",   "java", "gc",
	                                            "mono",   "dotnet", ".NET", "go"};
	const char *name = path + 6; /* after "[anon:" */
	size_t i;

	for (i = 0; i < sizeof(managed_names) / sizeof(managed_names[0]); i++)
		if (starts_with(name, managed_names[i]))
			return REGION_MANAGED_HEAP;
	for (i = 0; i < sizeof(heap_names) / sizeof(heap_names[0]); i++)
		if (strstr(name, heap_names[i]) != NULL)
			return REGION_HEAP;
	if (strstr(name, "stack") != NULL)
		return REGION_STACK;
	return REGION_PRIVATE;
}

struct verdict {
	enum region_type type;
	const char *detail; /* NULL: the path */
	int committed;      /* count as committed although the kernel did not charge it */
};

/* Thread whose stack pointer lies in [start, end), or -1. */
static int
sp_owner(const struct linux_thread_sp *sps, size_t n, uint64_t start, uint64_t end)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sps[mid].sp < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && sps[lo].sp < end ? sps[lo].tid : -1;
}

static int set_detail(struct snapshot *s, struct verdict *vd, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int
set_detail(struct snapshot *s, struct verdict *vd, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return MD_ERR_INVAL;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	vd->detail = snapshot_strdup(s, buf, (size_t)n);
	return vd->detail == NULL ? MD_ERR_NOMEM : 0;
}

/* First pass: what each VMA is on its own. */
static int
classify_one(struct snapshot *s, const struct smaps_vma *v, const struct file_id *images,
             size_t n_images, int main_tid, struct verdict *vd)
{
	vd->detail = NULL;
	if (v->path[0] == '[') {
		if (strcmp(v->path, "[heap]") == 0) {
			vd->type = REGION_HEAP;
			vd->detail = "[heap] (brk)";
		} else if (strcmp(v->path, "[stack]") == 0) {
			vd->type = REGION_STACK;
			return set_detail(s, vd, "[stack] main thread, tid %d", main_tid);
		} else if (starts_with(v->path, "[anon_shmem:")) {
			vd->type = REGION_SHAREABLE;
		} else if (starts_with(v->path, "[anon:")) {
			vd->type = anon_name_type(v->path);
		} else if (starts_with(v->path, "[vdso]") || starts_with(v->path, "[vvar") ||
		           starts_with(v->path, "[vsyscall]")) {
			vd->type = REGION_IMAGE; /* the kernel's vDSO image and its data */
		} else {
			vd->type = REGION_PRIVATE; /* [uprobes] and future names */
		}
		return 0;
	}
	if ((v->perms & PROT_BIT_SHARED) && is_shareable_path(v->path)) {
		vd->type = REGION_SHAREABLE;
		if (v->path[0] == '\0')
			vd->detail = "[shared anonymous]";
		else if (strcmp(v->path, "/dev/zero (deleted)") == 0)
			vd->detail = "/dev/zero (deleted): shared anonymous memory";
		return 0;
	}
	if (v->path[0] == '\0' && v->inode == 0) {
		vd->type = REGION_PRIVATE;
		return 0;
	}
	/* File-backed: Image when the same file also has an executable
	 * mapping in this process (an ELF object), else Mapped File. */
	{
		struct file_id key = {v->dev_major, v->dev_minor, v->inode};

		vd->type = bsearch(&key, images, n_images, sizeof(*images), file_id_cmp) != NULL
		                   ? REGION_IMAGE
		                   : REGION_MAPPED;
	}
	return 0;
}

int
linux_classify(struct snapshot *s, const struct smaps_vma *v, size_t n,
               const struct linux_thread_sp *sps_in, size_t n_sps, int main_tid)
{
	struct file_id *images = NULL;
	struct linux_thread_sp *sps = NULL;
	struct verdict *vd = NULL;
	size_t i, n_images = 0;
	int rc = MD_ERR_NOMEM;

	vd = calloc(n ? n : 1, sizeof(*vd));
	images = malloc((n ? n : 1) * sizeof(*images));
	sps = malloc((n_sps ? n_sps : 1) * sizeof(*sps));
	if (vd == NULL || images == NULL || sps == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if ((v[i].perms & PROT_BIT_EXEC) && !is_anonymous(&v[i]) && v[i].inode != 0) {
			images[n_images].dev_major = v[i].dev_major;
			images[n_images].dev_minor = v[i].dev_minor;
			images[n_images].inode = v[i].inode;
			n_images++;
		}
	}
	qsort(images, n_images, sizeof(*images), file_id_cmp);
	if (n_sps > 0)
		memcpy(sps, sps_in, n_sps * sizeof(*sps));
	qsort(sps, n_sps, sizeof(*sps), sp_cmp);

	for (i = 0; i < n; i++) {
		rc = classify_one(s, &v[i], images, n_images, main_tid, &vd[i]);
		if (rc != 0)
			goto out;
	}

	/* Second pass: anonymous private regions judged by their neighbours.
	 * The order of the rules is the order of confidence. */
	for (i = 0; i < n; i++) {
		const struct smaps_vma *cur = &v[i];
		const struct smaps_vma *prev = i > 0 ? &v[i - 1] : NULL;
		const struct smaps_vma *next = i + 1 < n ? &v[i + 1] : NULL;
		int prev_adjacent_guard, tid;

		if (!is_plain_anon(cur) || (cur->perms & PROT_BIT_SHARED) || !is_accessible(cur) ||
		    vd[i].type != REGION_PRIVATE)
			continue;
		prev_adjacent_guard = prev != NULL && is_plain_anon(prev) && !is_accessible(prev) &&
		                      prev->end == cur->start && vd[i - 1].type == REGION_PRIVATE;

		/* 1. A thread's stack pointer lies inside it. */
		tid = sp_owner(sps, n_sps, cur->start, cur->end);
		if (tid >= 0) {
			vd[i].type = REGION_STACK;
			rc = set_detail(s, &vd[i], "thread stack, tid %d (stack pointer in range)",
			                tid);
			if (rc != 0)
				goto out;
			if (prev_adjacent_guard && prev->end - prev->start <= STACK_GUARD_MAX) {
				vd[i - 1].type = REGION_STACK;
				rc = set_detail(s, &vd[i - 1], "guard page of thread stack, tid %d",
				                tid);
				if (rc != 0)
					goto out;
			}
			continue;
		}
		/* 2. glibc malloc arena heaps: mapped MAP_NORESERVE ("nr") at a
		 * HEAP_MAX-aligned address, each HEAP_MAX long with a PROT_NONE
		 * tail beyond what is in use.  Adjacent heaps of one arena merge
		 * into one VMA, so the rw part may span several: what must
		 * hold is that it ends on a HEAP_MAX boundary, or is followed
		 * by a tail shorter than HEAP_MAX that does (a longer one is a
		 * reservation of someone else's making). */
		if ((cur->start & (GLIBC_HEAP_MAX - 1)) == 0 && (cur->perms & PROT_BIT_WRITE) &&
		    (cur->vmflags & VMF_NR)) {
			int has_tail = next != NULL && is_plain_anon(next) &&
			               !is_accessible(next) && next->start == cur->end;
			int with_tail = has_tail && next->end - next->start < GLIBC_HEAP_MAX &&
			                (next->end & (GLIBC_HEAP_MAX - 1)) == 0;

			if (with_tail || (!has_tail && (cur->end & (GLIBC_HEAP_MAX - 1)) == 0)) {
				vd[i].type = REGION_HEAP;
				vd[i].detail = "glibc malloc arena (inferred: 64 MiB-aligned "
				               "MAP_NORESERVE rw-p, ending on a 64 MiB boundary "
				               "with its PROT_NONE tail)";
				/* glibc maps arena heaps MAP_NORESERVE and commits
				 * them with mprotect(), which the kernel does not
				 * charge (no "ac"): the allocator has committed
				 * them all the same, as VMMap would show. */
				vd[i].committed = 1;
				if (with_tail) {
					vd[i + 1].type = REGION_HEAP;
					vd[i + 1].detail = "glibc malloc arena, reserved tail";
				}
				continue;
			}
		}
		/* 3. A thread stack without a readable stack pointer: a small
		 * PROT_NONE guard directly below. */
		if (prev_adjacent_guard && prev->end - prev->start <= STACK_GUARD_MAX &&
		    cur->end - cur->start >= STACK_MIN && (cur->perms & PROT_BIT_WRITE)) {
			vd[i].type = REGION_STACK;
			vd[i].detail = "thread stack (inferred: PROT_NONE guard page below)";
			vd[i - 1].type = REGION_STACK;
			vd[i - 1].detail = "guard page of thread stack";
			continue;
		}
		/* 4. .bss of the ELF object whose writable data segment ends
		 * where this region starts. */
		if (prev != NULL && vd[i - 1].type == REGION_IMAGE && prev->end == cur->start &&
		    (prev->perms & PROT_BIT_WRITE) && prev->path[0] == '/' &&
		    (cur->perms & PROT_BIT_WRITE)) {
			vd[i].type = REGION_IMAGE;
			rc = set_detail(s, &vd[i],
			                "%s [.bss] (inferred: anonymous, after its data segment)",
			                prev->path);
			if (rc != 0)
				goto out;
			continue;
		}
	}

	rc = snapshot_reserve(s, s->n_regions + n);
	if (rc != 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct region r;

		memset(&r, 0, sizeof(r));
		r.base = v[i].start;
		r.size = v[i].end - v[i].start;
		r.allocation_base = r.base;
		r.type = vd[i].type;
		r.protection = v[i].perms;
		r.committed = ((v[i].vmflags & VMF_AC) || vd[i].committed) ? r.size : 0;
		/* Reserve: address space held, nothing accessible, nothing charged. */
		r.state = (is_accessible(&v[i]) || r.committed) ? STATE_COMMIT : STATE_RESERVE;
		r.resident = v[i].rss;
		r.private_resident = v[i].private_resident;
		r.shared_resident = v[i].shared_resident;
		r.pss = v[i].pss;
		r.swap = v[i].swap;
		r.locked = v[i].locked;
		if (vd[i].detail != NULL)
			r.detail = vd[i].detail;
		else if (!is_accessible(&v[i]) && v[i].path[0] == '\0')
			r.detail =
			        r.committed ? "PROT_NONE, still charged" : "reserved (PROT_NONE)";
		else
			r.detail = v[i].path;
		rc = snapshot_add_region(s, &r);
		if (rc != 0)
			goto out;
	}
	rc = 0;
out:
	free(vd);
	free(images);
	free(sps);
	return rc;
}
