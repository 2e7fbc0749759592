/*
 * linux_smaps.c - pure parsers of /proc/PID/{smaps,stat,status,task/TID/syscall}
 * and /proc/stat, and the classifier that turns VMAs into typed regions by
 * the Linux mapping of ARCHITECTURE.md (documented in docs/linux-mapping.md).
 *
 * No I/O here: snapshot/linux.c reads the files and hands over buffers, so
 * the same code runs on recorded fixtures in the tests.  The smaps parser is
 * written for speed because reading smaps is the daemon's main sampling cost
 * (docs/performance.md): one pass, no scanf; the lines Linux prints in its
 * fixed layout ("Key:" padded to 16 bytes, an 8-wide number, " kB") are
 * recognised by their first 16 and last 4 bytes without a newline search,
 * the key expected next tried first; and in region mode a record goes
 * straight into the snapshot's region array, with a small side record for
 * the classifier, instead of a per-VMA copy of every field.
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
smaps_parser_init_regions(struct smaps_parser *p, struct snapshot *snap, size_t max_vmas)
{
	smaps_parser_init(p, snap, max_vmas);
	p->to_regions = 1;
	p->first_region = snap != NULL ? snap->n_regions : 0;
}

void
smaps_parser_done(struct smaps_parser *p)
{
	free(p->vmas);
	p->vmas = NULL;
	p->n_vmas = p->cap_vmas = 0;
	free(p->extras);
	p->extras = NULL;
	p->cap_extras = 0;
	p->rec = NULL;
	p->pending = 0;
}

int
smaps_parser_reserve(struct smaps_parser *p, size_t n)
{
	struct smaps_vma_extra *nx;
	int rc;

	if (n > SIZE_MAX / sizeof(*nx) || p->first_region > SIZE_MAX - n)
		return MD_ERR_NOMEM;
	rc = snapshot_reserve(p->snap, p->first_region + n);
	if (rc != 0)
		return rc;
	if (n <= p->cap_extras)
		return 0;
	nx = realloc(p->extras, n * sizeof(*nx));
	if (nx == NULL)
		return MD_ERR_NOMEM;
	p->extras = nx;
	p->cap_extras = n;
	return 0;
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

/* Parse hex digits at *pos up to @end; at least one digit, at most 16. */
static int
scan_hex(const char **pos, const char *end, uint64_t *out)
{
	const char *s = *pos;
	uint64_t v = 0;
	unsigned d;

	while (s < end && (d = hex_value1[(unsigned char)*s]) != 0) {
		v = (v << 4) | (d - 1);
		s++;
	}
	if (s == *pos || s - *pos > 16)
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

/* An 8-byte load at any alignment (memcpy compiles to one mov). */
static uint64_t
load64(const char *s)
{
	uint64_t v;

	memcpy(&v, s, sizeof(v));
	return v;
}

static uint32_t
load32(const char *s)
{
	uint32_t v;

	memcpy(&v, s, sizeof(v));
	return v;
}

/* What a key line means to the parser. */
enum key_kind {
	KEY_UNKNOWN = 0, /* not printed by any kernel we know: validate, skip */
	KEY_IGNORED,     /* a kernel key we do not use */
	KEY_COUNTER,     /* a "N kB" counter we keep */
	KEY_SIZE,
	KEY_VMFLAGS,
};

/* The keys of a smaps record, in the order Linux 6.x prints them (so that
 * the key expected next is nearly always the one on the next line).  text
 * is the key and its colon padded with spaces to 16 bytes: what Linux
 * prints before a value of up to 8 digits ("Rss:" + 12 spaces, then
 * "%8lu kB"). */
struct smaps_key {
	char text[17];
	unsigned char len;  /* of the key, without the colon */
	unsigned char kind; /* enum key_kind */
	unsigned char off;  /* KEY_COUNTER: offset of the counter in struct smaps_vma */
};

#define CTR(field) KEY_COUNTER, offsetof(struct smaps_vma, field)
static const struct smaps_key smaps_keys[] = {
        {"Size:           ", 4, KEY_SIZE, 0},
        {"KernelPageSize: ", 14, KEY_IGNORED, 0},
        {"MMUPageSize:    ", 11, KEY_IGNORED, 0},
        {"Rss:            ", 3, CTR(rss)},
        {"Pss:            ", 3, CTR(pss)},
        {"Pss_Dirty:      ", 9, KEY_IGNORED, 0},
        {"Shared_Clean:   ", 12, CTR(shared_resident)},
        {"Shared_Dirty:   ", 12, CTR(shared_resident)},
        {"Private_Clean:  ", 13, CTR(private_resident)},
        {"Private_Dirty:  ", 13, CTR(private_resident)},
        {"Referenced:     ", 10, KEY_IGNORED, 0},
        {"Anonymous:      ", 9, KEY_IGNORED, 0},
        {"KSM:            ", 3, KEY_IGNORED, 0},
        {"LazyFree:       ", 8, KEY_IGNORED, 0},
        {"AnonHugePages:  ", 13, KEY_IGNORED, 0},
        {"ShmemPmdMapped: ", 14, KEY_IGNORED, 0},
        {"FilePmdMapped:  ", 13, KEY_IGNORED, 0},
        {"Shared_Hugetlb: ", 14, CTR(shared_resident)},
        {"Private_Hugetlb:", 15, CTR(private_resident)},
        {"Swap:           ", 4, CTR(swap)},
        {"SwapPss:        ", 7, KEY_IGNORED, 0},
        {"Locked:         ", 6, CTR(locked)},
        {"THPeligible:    ", 11, KEY_IGNORED, 0},
        {"ProtectionKey:  ", 13, KEY_IGNORED, 0},
        {"VmFlags:        ", 7, KEY_VMFLAGS, 0},
};
#undef CTR
#define N_KEYS      (sizeof(smaps_keys) / sizeof(smaps_keys[0]))
#define VMFLAGS_KEY ((int)N_KEYS - 1)

/* The key whose 16-byte text starts line @s (at least 16 bytes), or -1.
 * The key expected next is tried first. */
static int
key_match(struct smaps_parser *p, const char *s)
{
	uint64_t a = load64(s), b = load64(s + 8);
	unsigned i = p->next_key, j;

	for (j = 0; j < N_KEYS; j++, i++) {
		if (i >= N_KEYS)
			i = 0;
		if (load64(smaps_keys[i].text) == a && load64(smaps_keys[i].text + 8) == b) {
			p->next_key = i + 1;
			return (int)i;
		}
	}
	return -1;
}

/* The key @k of @klen bytes in the table, or -1. */
static int
key_lookup(const char *k, size_t klen)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		if (smaps_keys[i].len == klen && memcmp(smaps_keys[i].text, k, klen) == 0)
			return (int)i;
	return -1;
}

/* Store value @val (bytes) of key @k in the record being read. */
static int
key_store(struct smaps_parser *p, int k, uint64_t val)
{
	struct smaps_vma *v = p->rec;

	if (smaps_keys[k].kind == KEY_SIZE) {
		if (val != v->end - v->start)
			return parse_fail(p, "Size: does not match the header's address range");
		v->seen |= SEEN_SIZE;
	} else if (smaps_keys[k].kind == KEY_COUNTER) {
		/* private and shared sum three keys each */
		*(uint64_t *)(void *)((char *)v + smaps_keys[k].off) += val;
	}
	return 0;
}

static int
check_record_complete(struct smaps_parser *p)
{
	if (p->n_vmas == 0 || p->rec == NULL)
		return 0;
	if ((p->rec->seen & (SEEN_SIZE | SEEN_VMFLAGS)) != (SEEN_SIZE | SEEN_VMFLAGS))
		return parse_fail(
		        p, "truncated record: no Size: or VmFlags: line before the next header");
	return 0;
}

/* Region mode: append the finished record to the snapshot as a region
 * whose type, state, committed bytes and detail linux_classify_regions()
 * decides, and its struct smaps_vma_extra. */
static void
fill_region(struct region *r, struct smaps_vma_extra *x, const struct smaps_vma *v)
{
	r->base = v->start;
	r->size = v->end - v->start;
	r->allocation_base = v->start;
	r->type = REGION_PRIVATE;
	r->state = STATE_COMMIT;
	r->protection = v->perms;
	r->committed = 0;
	r->resident = v->rss;
	r->private_resident = v->private_resident;
	r->shared_resident = v->shared_resident;
	r->pss = v->pss;
	r->swap = v->swap;
	r->locked = v->locked;
	r->detail = v->path;
	x->inode = v->inode;
	x->path = v->path;
	x->dev_major = v->dev_major;
	x->dev_minor = v->dev_minor;
	x->vmflags = v->vmflags;
}

static int
commit_record(struct smaps_parser *p)
{
	struct snapshot *s = p->snap;
	size_t k;
	int rc;

	if (!p->pending)
		return 0;
	/* smaps is read in many read() calls and the kernel resumes each one
	 * at the end of the last record it gave: a VMA that grew or merged
	 * across that address in between comes again, from its new start,
	 * over records already taken.  The newer record wins: the ones it
	 * overlaps go (the list stays sorted and without overlaps, as the
	 * store requires). */
	while (s->n_regions > p->first_region &&
	       s->regions[s->n_regions - 1].base + s->regions[s->n_regions - 1].size > p->cur.start)
		s->n_regions--;
	k = s->n_regions - p->first_region;
	if (s->n_regions == s->cap_regions || k == p->cap_extras) {
		rc = smaps_parser_reserve(p, k < 128 ? 256 : k * 2);
		if (rc != 0)
			return rc;
	}
	fill_region(&s->regions[s->n_regions], &p->extras[k], &p->cur);
	s->n_regions++;
	p->pending = 0;
	return 0;
}

/* Header line @line; its first @hex_len bytes are the hex digits of the
 * start address @start (its low 64 bits), followed by '-'. */
static int
parse_header(struct smaps_parser *p, const char *line, size_t len, size_t hex_len, uint64_t start)
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
	if (p->to_regions) {
		rc = commit_record(p);
		if (rc != 0)
			return rc;
		v = &p->cur;
	} else {
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
	}
	memset(v, 0, sizeof(*v));
	v->path = "";

	v->start = start;
	s += hex_len + 1;
	if (hex_len > 16 || scan_hex(&s, end, &v->end) != 0 || v->end <= v->start)
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
	p->rec = v;
	p->pending = p->to_regions;
	p->next_key = 0;
	return 0;
}

/* The VMF_* bit of each two-letter flag, by its letters. */
static const unsigned char vmflag_bits[26][26] = {
        ['a' - 'a']['c' - 'a'] = VMF_AC, ['g' - 'a']['d' - 'a'] = VMF_GD,
        ['n' - 'a']['r' - 'a'] = VMF_NR, ['s' - 'a']['h' - 'a'] = VMF_SH,
        ['e' - 'a']['x' - 'a'] = VMF_EX, ['w' - 'a']['r' - 'a'] = VMF_WR,
        ['l' - 'a']['o' - 'a'] = VMF_LO,
};

static unsigned
parse_vmflags(const char *s, const char *end)
{
	unsigned f = 0;

	/* Linux prints " xx" per flag: step over them three bytes at a time
	 * while that holds; the loop below takes whatever else there is. */
	while (end - s >= 3 && s[0] == ' ' && (unsigned char)(s[1] - 'a') < 26 &&
	       (unsigned char)(s[2] - 'a') < 26 && (end - s == 3 || s[3] == ' ')) {
		f |= vmflag_bits[s[1] - 'a'][s[2] - 'a'];
		s += 3;
	}
	while (s < end) {
		s = skip_spaces(s, end);
		if (end - s >= 2 && (end - s == 2 || s[2] == ' ')) {
			/* As unsigned: a byte above 0x7f is a negative char,
			 * and shifting it is undefined (found by tests/fuzz/). */
			switch (((unsigned char)s[0] << 8) | (unsigned char)s[1]) {
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

static int
parse_key(struct smaps_parser *p, const char *line, size_t len)
{
	const char *colon, *s, *end = line + len;
	uint64_t val, scale;
	int k;

	if (len >= 8 && load64(line) == load64("VmFlags:")) {
		k = VMFLAGS_KEY;
		colon = line + 7;
		p->next_key = 0; /* a header comes next */
	} else if (len >= 16 && (k = key_match(p, line)) >= 0) {
		colon = line + smaps_keys[k].len;
	} else {
		colon = memchr(line, ':', len);
		if (colon == NULL || colon == line)
			return parse_fail(p, "line is neither a header nor a \"Key: value\" line");
		k = key_lookup(line, (size_t)(colon - line));
		if (k >= 0)
			p->next_key = (unsigned)k + 1;
	}
	if (p->n_vmas == 0)
		return parse_fail(p, "\"Key: value\" line before any header line");
	switch (k < 0 ? KEY_UNKNOWN : smaps_keys[k].kind) {
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
		p->rec->vmflags = (unsigned short)parse_vmflags(colon + 1, end);
		p->rec->seen |= SEEN_VMFLAGS;
		return 0;
	default:
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
	return key_store(p, k, val * 1024);
}

int
smaps_parse_line(struct smaps_parser *p, const char *line, size_t len)
{
	uint64_t start;
	unsigned d;
	size_t i;

	p->line++;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	/* Keys start with a capital letter; the kernel prints headers in
	 * lowercase hex. */
	if (len > 0 && line[0] >= 'A' && line[0] <= 'Z')
		return parse_key(p, line, len);
	/* A header starts "hex-hex"; key lines never have a '-' after hex
	 * digits only.  The start address is read on the way. */
	for (i = 0, start = 0; i < len && (d = hex_value1[(unsigned char)line[i]]) != 0; i++)
		start = (start << 4) | (d - 1);
	if (i > 0 && i < len && line[i] == '-')
		return parse_header(p, line, len, i, start);
	return parse_key(p, line, len);
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SMAPS_FIXED_LAYOUT 1
#define ONES               0x0101010101010101ull /* one in every byte */
/* The value of a line in Linux's fixed layout ("Key:" padded to 16 bytes,
 * the number right-aligned in 8, " kB\n"): bytes 16-23 of the line are
 * spaces, then one to eight digits.  Returns 1 and the number, or 0 when
 * the 8 bytes at @s are anything else.  Eight digits at once, as one
 * little-endian word: leading spaces become '0', then neighbouring digits
 * are combined in pairs, pairs in fours, fours into the number. */
static int
fixed_value(const char *s, uint64_t *out)
{
	const uint64_t ones = ONES;
	uint64_t w = load64(s), t = w ^ (ones * ' '), m, z, v;

	/* Mostly seven spaces and one digit. */
	if ((t & 0x00ffffffffffffffull) == 0) {
		unsigned d = (unsigned)(t >> 56) - ('0' ^ ' ');

		if (d > 9)
			return 0;
		*out = d;
		return 1;
	}
	if (t == 0)
		return 0;                       /* spaces only */
	m = ~0ull << (__builtin_ctzll(t) & ~7); /* the bytes from the first non-space on */
	z = (w & m) | (ones * '0' & ~m);
	if ((z & ones * 0xf0) != ones * 0x30 || ((z + ones * 6) & ones * 0xf0) != ones * 0x30)
		return 0; /* not all digits */
	v = z - ones * '0';
	v = v * 10 + (v >> 8); /* bytes 0, 2, 4, 6: two digits each */
	v &= 0x00ff00ff00ff00ffull;
	v = v * 100 + (v >> 16); /* 16-bit lanes 0 and 2: four digits each */
	v &= 0x0000ffff0000ffffull;
	*out = (v & 0xffffffffull) * 10000 + (v >> 32);
	return 1;
}
#else
#define SMAPS_FIXED_LAYOUT 0
#endif

int
smaps_parse_chunk(struct smaps_parser *p, const char *buf, size_t len, size_t *used)
{
	const char *s = buf, *end = buf + len, *nl;
	int rc = 0;
#if SMAPS_FIXED_LAYOUT
	/* The parser's state in locals while on the fast path (stores through
	 * a counter pointer could otherwise alias them). */
	struct smaps_vma *v = p->n_vmas > 0 ? p->rec : NULL;
	size_t line = p->line;
	unsigned next = p->next_key;
#endif

	while (s < end) {
#if SMAPS_FIXED_LAYOUT
		/* Most lines are "Key:<pad to 16>%8lu kB\n", 28 bytes: known by
		 * their first 16 bytes and their last 4, read without looking
		 * for the newline; keys we do not use are skipped on their
		 * first 16 bytes.  Anything else takes the general path. */
		while (v != NULL && end - s >= 28 && s[0] >= 'A' && s[0] <= 'Z') {
			unsigned i = next < N_KEYS ? next : 0;
			const struct smaps_key *key = &smaps_keys[i];
			uint64_t a = load64(s), b = load64(s + 8), val;

			/* The key expected next, else any. */
			if (load64(key->text) == a && load64(key->text + 8) == b) {
				next = i + 1;
			} else {
				int k;

				if (a == load64("VmFlags:"))
					goto general;
				p->next_key = next;
				k = key_match(p, s);
				next = p->next_key;
				if (k < 0)
					goto general;
				key = &smaps_keys[k];
			}
			if (key->kind == KEY_COUNTER || key->kind == KEY_SIZE) {
				if (load32(s + 24) != load32(" kB\n") || !fixed_value(s + 16, &val))
					goto general;
				val *= 1024;
				if (key->kind == KEY_COUNTER) {
					*(uint64_t *)(void *)((char *)v + key->off) += val;
				} else {
					if (val != v->end - v->start)
						goto general; /* reported there */
					v->seen |= SEEN_SIZE;
				}
				line++;
				s += 28;
				continue;
			}
			if (key->kind == KEY_IGNORED) {
				uint64_t x = load64(s + 16) ^ ONES * '\n';

				/* No newline in bytes 16-23 of a " kB\n" line: 28 bytes. */
				if (load32(s + 24) == load32(" kB\n") &&
				    ((x - ONES) & ~x & ONES * 0x80) == 0) {
					line++;
					s += 28;
					continue;
				}
				/* "THPeligible:    %8d\n": 25 bytes. */
				if (s[24] == '\n' && ((x - ONES) & ~x & ONES * 0x80) == 0) {
					line++;
					s += 25;
					continue;
				}
				nl = memchr(s + 16, '\n', (size_t)(end - s - 16));
				if (nl == NULL)
					goto general; /* the line is not all here */
				line++;
				s = nl + 1;
				continue;
			}
		}
	general:
		p->line = line;
		p->next_key = next;
#endif
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			break;
		rc = smaps_parse_line(p, s, (size_t)(nl - s));
		if (rc != 0)
			break;
		s = nl + 1;
#if SMAPS_FIXED_LAYOUT
		v = p->n_vmas > 0 ? p->rec : NULL;
		line = p->line;
		next = p->next_key;
#endif
	}
#if SMAPS_FIXED_LAYOUT
	if (rc == 0) {
		p->line = line;
		p->next_key = next;
	}
#endif
	*used = (size_t)(s - buf);
	return rc;
}

int
smaps_parse_finish(struct smaps_parser *p)
{
	int rc = check_record_complete(p);

	if (rc == 0 && p->to_regions)
		rc = commit_record(p);
	return rc;
}

int
smaps_parse_stop(struct smaps_parser *p)
{
	if (p->n_vmas == 0 || p->rec == NULL)
		return 0;
	if ((p->rec->seen & (SEEN_SIZE | SEEN_VMFLAGS)) == (SEEN_SIZE | SEEN_VMFLAGS))
		return p->to_regions ? commit_record(p) : 0;
	p->n_vmas--; /* drop a record whose lines were not all read */
	p->pending = 0;
	return 0;
}

int
smaps_parse_buffer(struct smaps_parser *p, const char *buf, size_t len)
{
	size_t used;
	int rc;

	rc = smaps_parse_chunk(p, buf, len, &used);
	if (rc != 0)
		return rc;
	if (used < len) {
		p->line++;
		return parse_fail(p, "truncated line: the file does not end in a newline");
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

int
linux_status_number(const char *s, const char *eol, uint64_t *value, const char **rest)
{
	s = skip_spaces(s, eol);
	if (scan_dec(&s, eol, value) != 0)
		return MD_ERR_PARSE;
	*rest = s;
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
			const char *rest;
			uint64_t kb;

			if (linux_status_number(s + klen + 1, nl, &kb, &rest) != 0 ||
			    kb > UINT64_MAX / 1024)
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
	uint64_t v;
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
	/* *sp stays 0 unless the whole field is hex (STYLE.md: outputs are
	 * filled only on success; found by tests/fuzz/). */
	if (scan_hex(&s, end, &v) != 0 || (s < end && *s != ' '))
		return MD_ERR_PARSE;
	*sp = v;
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
is_anonymous(const struct smaps_vma_extra *x)
{
	return x->inode == 0 && (x->path[0] == '\0' || x->path[0] == '[');
}

static int
is_plain_anon(const struct smaps_vma_extra *x)
{
	return x->inode == 0 && x->path[0] == '\0';
}

static int
is_accessible(const struct region *r)
{
	return (r->protection & (PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_EXEC)) != 0;
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

static int set_detail(struct snapshot *s, struct region *r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* r->detail = the formatted text, in @s's arena. */
static int
set_detail(struct snapshot *s, struct region *r, const char *fmt, ...)
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
	r->detail = snapshot_strdup(s, buf, (size_t)n);
	return r->detail == NULL ? MD_ERR_NOMEM : 0;
}

/* First pass: what each VMA is on its own.  Sets r->type, and r->detail to
 * a label, or to NULL when the final pass decides it. */
static int
classify_one(struct snapshot *s, struct region *r, const struct smaps_vma_extra *x,
             const struct file_id *images, size_t n_images, int main_tid)
{
	const char *path = x->path;

	r->detail = NULL;
	if (path[0] == '[') {
		if (strcmp(path, "[heap]") == 0) {
			r->type = REGION_HEAP;
			r->detail = "[heap] (brk)";
		} else if (strcmp(path, "[stack]") == 0) {
			r->type = REGION_STACK;
			return set_detail(s, r, "[stack] main thread, tid %d", main_tid);
		} else if (starts_with(path, "[anon_shmem:")) {
			r->type = REGION_SHAREABLE;
		} else if (starts_with(path, "[anon:")) {
			r->type = anon_name_type(path);
		} else if (starts_with(path, "[vdso]") || starts_with(path, "[vvar") ||
		           starts_with(path, "[vsyscall]")) {
			r->type = REGION_IMAGE; /* the kernel's vDSO image and its data */
		} else {
			r->type = REGION_PRIVATE; /* [uprobes] and future names */
		}
		return 0;
	}
	if ((r->protection & PROT_BIT_SHARED) && is_shareable_path(path)) {
		r->type = REGION_SHAREABLE;
		if (path[0] == '\0')
			r->detail = "[shared anonymous]";
		else if (strcmp(path, "/dev/zero (deleted)") == 0)
			r->detail = "/dev/zero (deleted): shared anonymous memory";
		return 0;
	}
	if (path[0] == '\0' && x->inode == 0) {
		r->type = REGION_PRIVATE;
		return 0;
	}
	/* File-backed: Image when the same file also has an executable
	 * mapping in this process (an ELF object), else Mapped File. */
	{
		struct file_id key = {x->dev_major, x->dev_minor, x->inode};

		r->type = bsearch(&key, images, n_images, sizeof(*images), file_id_cmp) != NULL
		                  ? REGION_IMAGE
		                  : REGION_MAPPED;
	}
	return 0;
}

/* Classify regions @r[0..n) in place, @x[i] being what else is known of
 * @r[i]; their committed bytes are 0 on entry. */
static int
classify(struct snapshot *s, struct region *r, const struct smaps_vma_extra *x, size_t n,
         const struct linux_thread_sp *sps_in, size_t n_sps, int main_tid)
{
	struct file_id *images = NULL;
	struct linux_thread_sp *sps = NULL;
	size_t i, n_images = 0;
	int rc = MD_ERR_NOMEM;

	for (i = 0; i < n; i++)
		if ((r[i].protection & PROT_BIT_EXEC) && !is_anonymous(&x[i]) && x[i].inode != 0)
			n_images++;
	images = malloc((n_images ? n_images : 1) * sizeof(*images));
	sps = malloc((n_sps ? n_sps : 1) * sizeof(*sps));
	if (images == NULL || sps == NULL)
		goto out;
	n_images = 0;
	for (i = 0; i < n; i++) {
		if ((r[i].protection & PROT_BIT_EXEC) && !is_anonymous(&x[i]) && x[i].inode != 0) {
			images[n_images].dev_major = x[i].dev_major;
			images[n_images].dev_minor = x[i].dev_minor;
			images[n_images].inode = x[i].inode;
			n_images++;
		}
	}
	qsort(images, n_images, sizeof(*images), file_id_cmp);
	if (n_sps > 0)
		memcpy(sps, sps_in, n_sps * sizeof(*sps));
	qsort(sps, n_sps, sizeof(*sps), sp_cmp);

	for (i = 0; i < n; i++) {
		rc = classify_one(s, &r[i], &x[i], images, n_images, main_tid);
		if (rc != 0)
			goto out;
	}

	/* Second pass: anonymous private regions judged by their neighbours.
	 * The order of the rules is the order of confidence.  A region the
	 * rules count as committed although the kernel did not charge it is
	 * marked by committed = size until the final pass. */
	for (i = 0; i < n; i++) {
		struct region *cur = &r[i];
		struct region *prev = i > 0 ? &r[i - 1] : NULL;
		struct region *next = i + 1 < n ? &r[i + 1] : NULL;
		uint64_t cur_end = cur->base + cur->size;
		int prev_adjacent_guard, tid;

		if (!is_plain_anon(&x[i]) || (cur->protection & PROT_BIT_SHARED) ||
		    !is_accessible(cur) || cur->type != REGION_PRIVATE)
			continue;
		prev_adjacent_guard =
		        prev != NULL && is_plain_anon(&x[i - 1]) && !is_accessible(prev) &&
		        prev->base + prev->size == cur->base && prev->type == REGION_PRIVATE;

		/* 1. A thread's stack pointer lies inside it. */
		tid = sp_owner(sps, n_sps, cur->base, cur_end);
		if (tid >= 0) {
			cur->type = REGION_STACK;
			rc = set_detail(s, cur, "thread stack, tid %d (stack pointer in range)",
			                tid);
			if (rc != 0)
				goto out;
			if (prev_adjacent_guard && prev->size <= STACK_GUARD_MAX) {
				prev->type = REGION_STACK;
				rc = set_detail(s, prev, "guard page of thread stack, tid %d", tid);
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
		if ((cur->base & (GLIBC_HEAP_MAX - 1)) == 0 && (cur->protection & PROT_BIT_WRITE) &&
		    (x[i].vmflags & VMF_NR)) {
			int has_tail = next != NULL && is_plain_anon(&x[i + 1]) &&
			               !is_accessible(next) && next->base == cur_end;
			int with_tail = has_tail && next->size < GLIBC_HEAP_MAX &&
			                ((next->base + next->size) & (GLIBC_HEAP_MAX - 1)) == 0;

			if (with_tail || (!has_tail && (cur_end & (GLIBC_HEAP_MAX - 1)) == 0)) {
				cur->type = REGION_HEAP;
				cur->detail = "glibc malloc arena (inferred: 64 MiB-aligned "
				              "MAP_NORESERVE rw-p, ending on a 64 MiB boundary "
				              "with its PROT_NONE tail)";
				/* glibc maps arena heaps MAP_NORESERVE and commits
				 * them with mprotect(), which the kernel does not
				 * charge (no "ac"): the allocator has committed
				 * them all the same, as VMMap would show. */
				cur->committed = cur->size;
				if (with_tail) {
					next->type = REGION_HEAP;
					next->detail = "glibc malloc arena, reserved tail";
				}
				continue;
			}
		}
		/* 3. A thread stack without a readable stack pointer: a small
		 * PROT_NONE guard directly below. */
		if (prev_adjacent_guard && prev->size <= STACK_GUARD_MAX &&
		    cur->size >= STACK_MIN && (cur->protection & PROT_BIT_WRITE)) {
			cur->type = REGION_STACK;
			cur->detail = "thread stack (inferred: PROT_NONE guard page below)";
			prev->type = REGION_STACK;
			prev->detail = "guard page of thread stack";
			continue;
		}
		/* 4. .bss of the ELF object whose writable data segment ends
		 * where this region starts. */
		if (prev != NULL && prev->type == REGION_IMAGE &&
		    prev->base + prev->size == cur->base && (prev->protection & PROT_BIT_WRITE) &&
		    x[i - 1].path[0] == '/' && (cur->protection & PROT_BIT_WRITE)) {
			cur->type = REGION_IMAGE;
			rc = set_detail(s, cur,
			                "%s [.bss] (inferred: anonymous, after its data segment)",
			                x[i - 1].path);
			if (rc != 0)
				goto out;
			continue;
		}
	}

	/* Final pass: committed bytes, state and the remaining details. */
	for (i = 0; i < n; i++) {
		struct region *cur = &r[i];

		cur->committed = ((x[i].vmflags & VMF_AC) || cur->committed) ? cur->size : 0;
		/* Reserve: address space held, nothing accessible, nothing charged. */
		cur->state = (is_accessible(cur) || cur->committed) ? STATE_COMMIT : STATE_RESERVE;
		if (cur->detail != NULL)
			continue;
		if (!is_accessible(cur) && x[i].path[0] == '\0')
			cur->detail = cur->committed ? "PROT_NONE, still charged"
			                             : "reserved (PROT_NONE)";
		else
			cur->detail = x[i].path;
	}
	rc = 0;
out:
	free(images);
	free(sps);
	return rc;
}

int
linux_classify_regions(struct snapshot *s, const struct smaps_parser *p,
                       const struct linux_thread_sp *sps, size_t n_sps, int main_tid)
{
	size_t n = s->n_regions - p->first_region;

	/* Nothing to classify (an empty smaps file): s->regions may still be
	 * NULL, and NULL + 0 is undefined behaviour (found by tests/fuzz/). */
	if (n == 0)
		return 0;
	return classify(s, s->regions + p->first_region, p->extras, n, sps, n_sps, main_tid);
}

int
linux_classify(struct snapshot *s, const struct smaps_vma *v, size_t n,
               const struct linux_thread_sp *sps, size_t n_sps, int main_tid)
{
	struct smaps_vma_extra *x = NULL;
	size_t i, first = s->n_regions;
	int rc;

	if (n == 0)
		return 0; /* as in linux_classify_regions */
	x = malloc(n * sizeof(*x));
	if (x == NULL)
		return MD_ERR_NOMEM;
	rc = snapshot_reserve(s, first + n);
	if (rc != 0)
		goto out;
	for (i = 0; i < n; i++)
		fill_region(&s->regions[first + i], &x[i], &v[i]);
	s->n_regions = first + n;
	rc = classify(s, s->regions + first, x, n, sps, n_sps, main_tid);
out:
	free(x);
	return rc;
}
