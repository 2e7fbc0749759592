/*
 * fuzz_smaps.c - libFuzzer target: the /proc/PID/smaps parser and the Linux
 * classifier (snapshot/linux_smaps.c), on arbitrary bytes taken as a whole
 * smaps file.
 *
 * The parser has a fast path for the kernel's fixed layout and a general
 * one, two modes (VMA and region) and is fed either a whole buffer or the
 * chunks a read() loop hands it; its header promises the same results every
 * way.  So each input is parsed three ways and they must agree:
 *   A. VMA mode, smaps_parse_buffer() on the whole input;
 *   B. region mode, fed in chunks as snapshot/linux.c's read_smaps() does
 *      (the read size and, for some inputs, a max_vmas limit drawn from a
 *      hash of the input), ended by smaps_parse_finish() or, at the limit,
 *      smaps_parse_stop();
 *   C. VMA mode, smaps_parse_line() line by line.
 * Same status, same error line and message, same records.  When the parse
 * succeeds both classifiers run (linux_classify on A, linux_classify_regions
 * on B, with thread stack pointers drawn inside some of the regions) and
 * must give the same regions, each of which must respect the model: a size,
 * a Linux type, committed either 0 or the whole size (the whole size when
 * the kernel charged it), a reserve never accessible nor committed, totals
 * that add up.
 */
#include "config.h"

#include <string.h>

#include "snapshot/linux_smaps.h"
#include "tests/fuzz/fuzz.h"

#define MAX_SPS 4

static void
same_vma(const struct smaps_vma *a, const struct smaps_vma *c)
{
	FUZZ_CHECK(a->start == c->start && a->end == c->end && a->inode == c->inode);
	FUZZ_CHECK(strcmp(a->path, c->path) == 0);
	FUZZ_CHECK(a->rss == c->rss && a->pss == c->pss);
	FUZZ_CHECK(a->private_resident == c->private_resident);
	FUZZ_CHECK(a->shared_resident == c->shared_resident);
	FUZZ_CHECK(a->swap == c->swap && a->locked == c->locked);
	FUZZ_CHECK(a->dev_major == c->dev_major && a->dev_minor == c->dev_minor);
	FUZZ_CHECK(a->perms == c->perms && a->deleted == c->deleted && a->vmflags == c->vmflags);
}

/* Region @r (appended by a region-mode parser, not yet classified) and its
 * extra @x hold what VMA @v holds. */
static void
same_region_vma(const struct region *r, const struct smaps_vma_extra *x, const struct smaps_vma *v)
{
	FUZZ_CHECK(r->base == v->start && r->size == v->end - v->start);
	FUZZ_CHECK(r->protection == v->perms);
	FUZZ_CHECK(r->resident == v->rss && r->pss == v->pss);
	FUZZ_CHECK(r->private_resident == v->private_resident);
	FUZZ_CHECK(r->shared_resident == v->shared_resident);
	FUZZ_CHECK(r->swap == v->swap && r->locked == v->locked);
	FUZZ_CHECK(x->inode == v->inode && strcmp(x->path, v->path) == 0);
	FUZZ_CHECK(x->dev_major == v->dev_major && x->dev_minor == v->dev_minor);
	FUZZ_CHECK(x->vmflags == v->vmflags);
}

/* Errors agree: status, line and message. */
static void
same_error(const struct smaps_parser *a, const struct smaps_parser *b)
{
	FUZZ_CHECK(a->error_line == b->error_line);
	FUZZ_CHECK((a->error == NULL) == (b->error == NULL));
	if (a->error != NULL)
		FUZZ_CHECK(strcmp(a->error, b->error) == 0);
}

/* B: region mode in reads of @chunk bytes, as read_smaps() does. */
static int
parse_chunked(struct smaps_parser *p, const char *data, size_t size, size_t chunk)
{
	char *buf = malloc(size + 1);
	size_t have = 0, off = 0, used;
	int rc = 0, stopped = 0;

	FUZZ_CHECK(buf != NULL);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		memcpy(buf + have, data + off, n);
		off += n;
		have += n;
		rc = smaps_parse_chunk(p, buf, have, &used);
		FUZZ_CHECK(used <= have);
		if (rc == 1) {
			stopped = 1;
			rc = 0;
			break;
		}
		if (rc != 0)
			break;
		/* What is left is one partial line: no newline in it. */
		FUZZ_CHECK(memchr(buf + used, '\n', have - used) == NULL);
		have -= used;
		memmove(buf, buf + used, have);
	}
	if (rc == 0 && !stopped) {
		if (have > 0) {
			p->line++;
			p->error_line = p->line;
			p->error = "truncated line: the file does not end in a newline";
			rc = MD_ERR_PARSE;
		} else {
			rc = smaps_parse_finish(p);
		}
	}
	if (rc == 0 && stopped)
		rc = smaps_parse_stop(p) == 0 ? 1 : MD_ERR_NOMEM;
	free(buf);
	return rc;
}

/* C: VMA mode, one smaps_parse_line() per line. */
static int
parse_lines(struct smaps_parser *p, const char *data, size_t size)
{
	const char *s = data, *end = data + size, *nl;
	int rc;

	while ((nl = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		rc = smaps_parse_line(p, s, (size_t)(nl - s));
		FUZZ_CHECK(rc != 1); /* no max_vmas */
		if (rc != 0)
			return rc;
		s = nl + 1;
	}
	if (s < end) {
		p->line++;
		p->error_line = p->line;
		p->error = "truncated line: the file does not end in a newline";
		return MD_ERR_PARSE;
	}
	return smaps_parse_finish(p);
}

/* The model's rules for regions @r[0..n) classified from VMAs @v. */
static void
check_classified(const struct snapshot *s, size_t first, const struct smaps_vma *v, size_t n)
{
	struct snapshot_totals t;
	uint64_t size = 0, committed = 0;

	FUZZ_CHECK(s->n_regions == first + n);
	for (size_t i = 0; i < n; i++) {
		const struct region *r = &s->regions[first + i];
		int accessible =
		        (r->protection & (PROT_BIT_READ | PROT_BIT_WRITE | PROT_BIT_EXEC)) != 0;

		FUZZ_CHECK(r->base == v[i].start && r->size == v[i].end - v[i].start &&
		           r->size > 0);
		FUZZ_CHECK(r->allocation_base == r->base);
		FUZZ_CHECK(r->type == REGION_IMAGE || r->type == REGION_MAPPED ||
		           r->type == REGION_SHAREABLE || r->type == REGION_HEAP ||
		           r->type == REGION_MANAGED_HEAP || r->type == REGION_STACK ||
		           r->type == REGION_PRIVATE);
		FUZZ_CHECK(r->state == STATE_COMMIT || r->state == STATE_RESERVE);
		FUZZ_CHECK(r->committed == 0 || r->committed == r->size);
		if (v[i].vmflags & VMF_AC)
			FUZZ_CHECK(r->committed == r->size);
		if (r->state == STATE_RESERVE)
			FUZZ_CHECK(!accessible && r->committed == 0);
		if (accessible)
			FUZZ_CHECK(r->state == STATE_COMMIT);
		FUZZ_CHECK(r->detail != NULL);
		size += r->size;
		committed += r->committed;
	}
	if (first == 0) {
		snapshot_totals(s, &t);
		FUZZ_CHECK(t.all.regions == n);
		FUZZ_CHECK(t.all.size == size);
		FUZZ_CHECK(t.all.committed == committed);
	}
}

static void
same_classified(const struct snapshot *a, const struct snapshot *b)
{
	FUZZ_CHECK(a->n_regions == b->n_regions);
	for (size_t i = 0; i < a->n_regions; i++) {
		const struct region *x = &a->regions[i], *y = &b->regions[i];

		FUZZ_CHECK(x->base == y->base && x->size == y->size);
		FUZZ_CHECK(x->type == y->type && x->state == y->state);
		FUZZ_CHECK(x->committed == y->committed && x->protection == y->protection);
		FUZZ_CHECK(strcmp(x->detail, y->detail) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct smaps_parser pa, pb, pc;
	struct snapshot *sa = NULL, *sb = NULL, *sc = NULL;
	struct linux_thread_sp sps[MAX_SPS];
	uint64_t h = fuzz_hash(data, size);
	size_t chunk = 1 + (size_t)(fuzz_next(&h) % 4096), max_vmas = 0, n_sps = 0, *keep;
	int ra, rb, rc, overlaps = 0;

	if (fuzz_next(&h) % 4 == 0)
		max_vmas = 1 + (size_t)(fuzz_next(&h) % 8);
	FUZZ_CHECK(snapshot_new(&sa) == 0 && snapshot_new(&sb) == 0 && snapshot_new(&sc) == 0);

	smaps_parser_init(&pa, sa, 0);
	ra = smaps_parse_buffer(&pa, text, size);
	FUZZ_CHECK(ra == 0 || ra == MD_ERR_PARSE);
	FUZZ_CHECK((ra == 0) == (pa.error_line == 0));

	smaps_parser_init(&pc, sc, 0);
	rc = parse_lines(&pc, text, size);
	FUZZ_CHECK(rc == ra);
	same_error(&pa, &pc);
	FUZZ_CHECK(pc.n_vmas == pa.n_vmas);
	if (ra == 0)
		for (size_t i = 0; i < pa.n_vmas; i++)
			same_vma(&pa.vmas[i], &pc.vmas[i]);

	smaps_parser_init_regions(&pb, sb, max_vmas);
	rb = parse_chunked(&pb, text, size, chunk);
	if (max_vmas == 0) {
		FUZZ_CHECK(rb == ra);
		same_error(&pa, &pb);
	}
	if (ra == 0) {
		size_t n = pa.n_vmas, m = 0;

		if (max_vmas != 0 && max_vmas < n) {
			FUZZ_CHECK(rb == 1);
			n = max_vmas;
		} else {
			FUZZ_CHECK(rb == 0);
		}
		/* The region list keeps the newer of overlapping records (a VMA
		 * that grew across a resumed read: commit_record), the record
		 * list keeps them all: the survivors, in order. */
		keep = n > 0 ? malloc(n * sizeof(*keep)) : NULL;
		FUZZ_CHECK(n == 0 || keep != NULL);
		for (size_t i = 0; i < n; i++) {
			while (m > 0 && pa.vmas[keep[m - 1]].end > pa.vmas[i].start)
				m--;
			keep[m++] = i;
		}
		overlaps = m != n;
		FUZZ_CHECK(sb->n_regions == m);
		for (size_t j = 0; j < m; j++)
			same_region_vma(&sb->regions[j], &pb.extras[j], &pa.vmas[keep[j]]);
		free(keep);
	}

	/* The two classifiers agree where both lists hold the same records. */
	if (ra == 0 && max_vmas == 0 && !overlaps) {
		/* Stack pointers of a few threads inside some regions. */
		for (size_t i = 0; i < MAX_SPS && pa.n_vmas > 0; i++) {
			const struct smaps_vma *v = &pa.vmas[fuzz_next(&h) % pa.n_vmas];

			if (fuzz_next(&h) % 2)
				continue;
			sps[n_sps].tid = 100 + (int)i;
			sps[n_sps].sp = v->start + fuzz_next(&h) % (v->end - v->start);
			n_sps++;
		}
		FUZZ_CHECK(linux_classify(sa, pa.vmas, pa.n_vmas, sps, n_sps, 1) == 0);
		check_classified(sa, 0, pa.vmas, pa.n_vmas);
		FUZZ_CHECK(linux_classify_regions(sb, &pb, sps, n_sps, 1) == 0);
		check_classified(sb, 0, pa.vmas, pa.n_vmas);
		same_classified(sa, sb);
	}

	smaps_parser_done(&pa);
	smaps_parser_done(&pb);
	smaps_parser_done(&pc);
	snapshot_free(sa);
	snapshot_free(sb);
	snapshot_free(sc);
	return 0;
}
