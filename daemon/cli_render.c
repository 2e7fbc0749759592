/*
 * cli_render.c - the memdelta CLI's table, CSV and colored diff renderings
 * (see cli_render.h).  Sizes in tables are KiB with thousands separators, as
 * VMMap shows them; CSV carries exact bytes.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "daemon/cli_render.h"

#define ANSI_GREEN "\033[32m"
#define ANSI_RED   "\033[31m"
#define ANSI_AMBER "\033[33m"
#define ANSI_CYAN  "\033[36m"
#define ANSI_BOLD  "\033[1m"
#define ANSI_RESET "\033[0m"

/* "1,234,567" for a KiB count (rounded up so a 1-byte region shows 1). */

/* What each snapshot flag means to the reader of the text view (the JSON
 * and CSV views carry the flag names of snapshot_flag_names). */
static const struct {
	unsigned bit;
	const char *note;
} flag_notes[] = {
        {SNAPSHOT_TRUNCATED, "TRUNCATED (region or time budget reached)"},
        {SNAPSHOT_NO_THREAD_SP, "thread stacks inferred from layout only"},
        {SNAPSHOT_TOTALS_ONLY, "TOTALS ONLY (the region list could not be read)"},
        {SNAPSHOT_NO_HEAP_LIST, "heap list unavailable (heaps show as Private Data)"},
        {SNAPSHOT_NO_THREAD_STACKS, "some thread stacks unreadable (they show as Private Data)"},
        {SNAPSHOT_NO_WORKING_SET, "working set not read (resident columns are 0)"},
};

static const char *
kib(char *buf, size_t size, uint64_t bytes)
{
	char digits[32];
	uint64_t k = bytes / 1024 + (bytes % 1024 != 0);
	size_t n, i, o = 0;

	n = (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, k);
	for (i = 0; i < n && o + 2 < size; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

/* Signed KiB: "+1,024" / "-8" / "0". */
static const char *
kib_signed(char *buf, size_t size, int64_t bytes)
{
	uint64_t mag = bytes < 0 ? (uint64_t)0 - (uint64_t)bytes : (uint64_t)bytes;

	if (bytes == 0) {
		snprintf(buf, size, "0");
		return buf;
	}
	buf[0] = bytes < 0 ? '-' : '+';
	kib(buf + 1, size - 1, mag);
	return buf;
}

static void
format_time(char *buf, size_t size, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, size, "unknown");
		return;
	}
	strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* Per-type columns VMMap shows that the stored totals do not carry. */
struct type_extra {
	uint64_t private_committed; /* committed bytes of private (not MAP_SHARED) mappings */
	uint64_t shareable_ws;      /* resident bytes of Image, Mapped File and Shareable */
};

static void
type_extras(const struct snapshot *s, struct type_extra ex[REGION_TYPE_COUNT])
{
	size_t i;

	memset(ex, 0, sizeof(*ex) * REGION_TYPE_COUNT);
	for (i = 0; i < s->n_regions; i++) {
		const struct region *r = &s->regions[i];

		if ((unsigned)r->type >= REGION_TYPE_COUNT)
			continue;
		if (!(r->protection & PROT_BIT_SHARED))
			ex[r->type].private_committed += r->committed;
		if (r->type == REGION_IMAGE || r->type == REGION_MAPPED ||
		    r->type == REGION_SHAREABLE)
			ex[r->type].shareable_ws += r->resident;
	}
	/* Page tables: private committed kernel memory of the process. */
	ex[REGION_PAGE_TABLE].private_committed = s->page_table_bytes;
}

static void
summary_row(FILE *f, const char *label, const struct region_totals *t, const struct type_extra *ex)
{
	char a[32], b[32], c[32], d[32], e[32], g[32], h[32], l[32];

	fprintf(f, "%-14s %13s %13s %13s %13s %13s %13s %13s %7" PRIu64 " %13s\n", label,
	        kib(a, sizeof(a), t->size), kib(b, sizeof(b), t->committed),
	        kib(c, sizeof(c), ex->private_committed), kib(d, sizeof(d), t->resident),
	        kib(e, sizeof(e), t->private_resident), kib(g, sizeof(g), ex->shareable_ws),
	        kib(h, sizeof(h), t->shared_resident), t->blocks, kib(l, sizeof(l), t->largest));
}

int
render_snapshot_table(FILE *f, const struct snapshot *s)
{
	struct snapshot_totals t;
	struct type_extra ex[REGION_TYPE_COUNT], ex_all;
	char when[64], started[64], a[32], b[32], c[32], d[32], e[32], prot[PROT_STR_MAX];
	size_t i;
	int ty;

	snapshot_totals(s, &t);
	type_extras(s, ex);
	memset(&ex_all, 0, sizeof(ex_all));
	for (ty = 0; ty < REGION_TYPE_COUNT; ty++) {
		ex_all.private_committed += ex[ty].private_committed;
		ex_all.shareable_ws += ex[ty].shareable_ws;
	}
	format_time(when, sizeof(when), s->time_ms);
	format_time(started, sizeof(started), s->start_time_ms);
	fprintf(f, "Process:   %s (pid %d), started %s\n", s->name, s->pid, started);
	fprintf(f, "Command:   %s\n", s->cmdline);
	fprintf(f, "Snapshot:  %s, %zu regions", when, s->n_regions);
	for (size_t k = 0; k < sizeof(flag_notes) / sizeof(flag_notes[0]); k++)
		if (s->flags & flag_notes[k].bit)
			fprintf(f, ", %s", flag_notes[k].note);
	fputs("\n\n", f);

	fprintf(f, "%-14s %13s %13s %13s %13s %13s %13s %13s %7s %13s\n", "Type (KiB)", "Size",
	        "Committed", "Private", "Total WS", "Private WS", "Shareable WS", "Shared WS",
	        "Blocks", "Largest");
	summary_row(f, "Total", &t.all, &ex_all);
	for (ty = 0; ty < REGION_TYPE_COUNT; ty++) {
		const struct region_totals *rt = &t.by_type[ty];

		if (rt->regions == 0 && rt->committed == 0)
			continue;
		summary_row(f, region_type_label((enum region_type)ty), rt, &ex[ty]);
	}

	fprintf(f, "\n%-14s %13s %9s\n", "State (KiB)", "Size", "Regions");
	fprintf(f, "%-14s %13s %9" PRIu64 "\n", "Committed",
	        kib(a, sizeof(a), t.by_state[STATE_COMMIT].size), t.by_state[STATE_COMMIT].regions);
	fprintf(f, "%-14s %13s %9" PRIu64 "\n", "Reserved",
	        kib(a, sizeof(a), t.by_state[STATE_RESERVE].size),
	        t.by_state[STATE_RESERVE].regions);
	fprintf(f, "%-14s %13s\n", "Free", kib(a, sizeof(a), t.free));
	fprintf(f, "%-14s %13s   %s\n", "Page table", kib(a, sizeof(a), s->page_table_bytes),
	        "(VmPTE, committed kernel memory)");

	fprintf(f, "\n%-18s %-12s %-7s %-5s %13s %13s %13s %13s %10s  %s\n", "Address", "Type",
	        "State", "Prot", "Size", "Committed", "Total WS", "Private WS", "Swap", "Details");
	for (i = 0; i < s->n_regions; i++) {
		const struct region *r = &s->regions[i];
		char addr[24];

		snprintf(addr, sizeof(addr), "%016" PRIx64, r->base);
		region_prot_format(r->protection, prot);
		fprintf(f, "%-18s %-12s %-7s %-5s %13s %13s %13s %13s %10s  %s\n", addr,
		        region_type_label(r->type), region_state_name(r->state), prot,
		        kib(a, sizeof(a), r->size), kib(b, sizeof(b), r->committed),
		        kib(c, sizeof(c), r->resident), kib(d, sizeof(d), r->private_resident),
		        kib(e, sizeof(e), r->swap), r->detail);
	}
	return ferror(f) ? MD_ERR_IO : 0;
}

void
render_csv_field(FILE *f, const char *s)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (p = s; *p; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

/* Append @v in decimal (hex when @hex, with "0x") at @p; returns the end. */
static char *
csv_u64(char *p, uint64_t v, int hex)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[20];
	size_t n = sizeof(tmp);

	if (hex) {
		*p++ = '0';
		*p++ = 'x';
		do {
			tmp[--n] = digits[v & 15];
			v >>= 4;
		} while (v != 0);
	} else {
		do {
			tmp[--n] = digits[v % 10];
			v /= 10;
		} while (v != 0);
	}
	memcpy(p, tmp + n, sizeof(tmp) - n);
	return p + (sizeof(tmp) - n);
}

/* Append @str and a comma at @p; returns the end. */
static char *
csv_name(char *p, const char *str)
{
	size_t n = strlen(str);

	memcpy(p, str, n);
	p[n] = ',';
	return p + n + 1;
}

int
render_snapshot_csv(FILE *f, const struct snapshot *s)
{
	char prot[PROT_STR_MAX];
	/* The columns before detail: 3 x 18 + 10 x 20 bytes of numbers,
	 * names under 16 bytes, 13 commas. */
	char row[512], *p;
	size_t i;

	fputs("base,size,allocation_base,type,state,protection,committed,resident,private,shared,"
	      "pss,swap,locked,detail\n",
	      f);
	for (i = 0; i < s->n_regions; i++) {
		const struct region *r = &s->regions[i];

		/* Formatted by hand, not with fprintf: this is most of what
		 * `memdelta snapshot --format=csv` does (docs/performance.md). */
		p = row;
		p = csv_u64(p, r->base, 1);
		*p++ = ',';
		p = csv_u64(p, r->size, 0);
		*p++ = ',';
		p = csv_u64(p, r->allocation_base, 1);
		*p++ = ',';
		p = csv_name(p, region_type_name(r->type));
		p = csv_name(p, region_state_name(r->state));
		region_prot_format(r->protection, prot);
		p = csv_name(p, prot);
		p = csv_u64(p, r->committed, 0);
		*p++ = ',';
		p = csv_u64(p, r->resident, 0);
		*p++ = ',';
		p = csv_u64(p, r->private_resident, 0);
		*p++ = ',';
		p = csv_u64(p, r->shared_resident, 0);
		*p++ = ',';
		p = csv_u64(p, r->pss, 0);
		*p++ = ',';
		p = csv_u64(p, r->swap, 0);
		*p++ = ',';
		p = csv_u64(p, r->locked, 0);
		*p++ = ',';
		fwrite(row, 1, (size_t)(p - row), f);
		render_csv_field(f, r->detail);
		fputc('\n', f);
	}
	return ferror(f) ? MD_ERR_IO : 0;
}

static const char *
kind_color(enum diff_kind k)
{
	switch (k) {
	case DIFF_NEW:
		return ANSI_GREEN;
	case DIFF_FREED:
		return ANSI_RED;
	case DIFF_GREW:
	case DIFF_SHRANK:
		return ANSI_AMBER;
	case DIFF_CHANGED:
		return ANSI_CYAN;
	default:
		return "";
	}
}

/* The region an entry describes: the after region, or the before one for FREED. */
static const struct region *
entry_region(const struct snapshot *before, const struct snapshot *after,
             const struct diff_entry *e)
{
	if (e->after_index >= 0)
		return &after->regions[e->after_index];
	if (e->before_index >= 0)
		return &before->regions[e->before_index];
	return NULL;
}

int
render_diff_table(FILE *f, const struct snapshot *before, const struct snapshot *after,
                  const struct diff_result *d, int color, int all)
{
	char w1[64], w2[64], a[32], b[32], c[32], e2[32], prot[PROT_STR_MAX];
	const char *on, *off = color ? ANSI_RESET : "";
	size_t i;
	int ty;

	format_time(w1, sizeof(w1), before->time_ms);
	format_time(w2, sizeof(w2), after->time_ms);
	fprintf(f, "Before:  %s (pid %d), %s, %zu regions\n", before->name, before->pid, w1,
	        before->n_regions);
	fprintf(f, "After:   %s (pid %d), %s, %zu regions\n", after->name, after->pid, w2,
	        after->n_regions);
	if (before->pid != after->pid || before->start_time != after->start_time)
		fprintf(f, "Note:    the snapshots are of different process instances\n");

	fprintf(f, "\n%-14s %13s %13s %13s %13s %13s %5s %5s %5s %5s %5s\n", "Type (KiB)", "New",
	        "Freed", "Committed +/-", "Resident +/-", "Private WS +/-", "new", "freed", "grew",
	        "shrnk", "chgd");
	for (ty = -1; ty < REGION_TYPE_COUNT; ty++) {
		const struct diff_totals *t = ty < 0 ? &d->all : &d->by_type[ty];

		if (ty >= 0 && t->new_bytes == 0 && t->freed_bytes == 0 &&
		    t->committed_delta == 0 && t->resident_delta == 0 &&
		    t->count[DIFF_CHANGED] == 0)
			continue;
		fprintf(f,
		        "%-14s %13s %13s %13s %13s %13s %5" PRIu64 " %5" PRIu64 " %5" PRIu64
		        " %5" PRIu64 " %5" PRIu64 "\n",
		        ty < 0 ? "Total" : region_type_label((enum region_type)ty),
		        kib(a, sizeof(a), t->new_bytes), kib(b, sizeof(b), t->freed_bytes),
		        kib_signed(c, sizeof(c), t->committed_delta),
		        kib_signed(e2, sizeof(e2), t->resident_delta),
		        kib_signed(w1, sizeof(w1), t->private_delta), t->count[DIFF_NEW],
		        t->count[DIFF_FREED], t->count[DIFF_GREW], t->count[DIFF_SHRANK],
		        t->count[DIFF_CHANGED]);
	}

	fprintf(f, "\n%-8s %-18s %-12s %-5s %13s %13s %13s  %s\n", "Change", "Address", "Type",
	        "Prot", "Size", "Committed +/-", "Resident +/-", "Details");
	for (i = 0; i < d->n_entries; i++) {
		const struct diff_entry *e = &d->entries[i];
		const struct region *r = entry_region(before, after, e);
		char addr[24], typebuf[64];

		if (e->kind == DIFF_SAME && !all)
			continue;
		on = color ? kind_color(e->kind) : "";
		snprintf(addr, sizeof(addr), "%016" PRIx64, e->base);
		region_prot_format(r ? r->protection : 0, prot);
		if (e->kind == DIFF_CHANGED && e->before_type != e->type)
			snprintf(typebuf, sizeof(typebuf), "%s<-%s", region_type_name(e->type),
			         region_type_name(e->before_type));
		else
			snprintf(typebuf, sizeof(typebuf), "%s", region_type_label(e->type));
		fprintf(f, "%s%-8s %-18s %-12s %-5s %13s %13s %13s  %s%s\n", on,
		        diff_kind_name(e->kind), addr, typebuf, prot, kib(a, sizeof(a), e->size),
		        kib_signed(b, sizeof(b), e->committed_delta),
		        kib_signed(c, sizeof(c), e->resident_delta), r ? r->detail : "",
		        *on ? off : "");
	}
	return ferror(f) ? MD_ERR_IO : 0;
}

int
render_diff_csv(FILE *f, const struct snapshot *before, const struct snapshot *after,
                const struct diff_result *d, int all)
{
	char prot[PROT_STR_MAX];
	size_t i;

	fputs("kind,base,size,type,before_type,protection,committed_delta,resident_delta,"
	      "private_delta,swap_delta,detail\n",
	      f);
	for (i = 0; i < d->n_entries; i++) {
		const struct diff_entry *e = &d->entries[i];
		const struct region *r = entry_region(before, after, e);

		if (e->kind == DIFF_SAME && !all)
			continue;
		region_prot_format(r ? r->protection : 0, prot);
		fprintf(f,
		        "%s,0x%" PRIx64 ",%" PRIu64 ",%s,%s,%s,%" PRId64 ",%" PRId64 ",%" PRId64
		        ",%" PRId64 ",",
		        diff_kind_name(e->kind), e->base, e->size, region_type_name(e->type),
		        region_type_name(e->before_type), prot, e->committed_delta,
		        e->resident_delta, e->private_delta, e->swap_delta);
		render_csv_field(f, r ? r->detail : "");
		fputc('\n', f);
	}
	return ferror(f) ? MD_ERR_IO : 0;
}
