/*
 * linux.c - the Linux collector: snapshot_collect() reads PID/stat, PID/smaps,
 * PID/status, PID/cmdline, PID/task/TID/syscall and the btime of stat under
 * opts->proc_root, and hands the buffers to the pure parsers and the
 * classifier in linux_smaps.c.
 *
 * Races are expected: the process may exit at any moment.  The identity
 * (start time in stat) is read before and after the address space, and the
 * end of smaps is confirmed on a live address space (confirm_end()); if the
 * process is gone, exec'd or was replaced, nothing is returned (MD_ERR_NOPROC).
 * Reading another user's smaps needs ptrace-read access (root or
 * CAP_SYS_PTRACE); the stack pointers in task/TID/syscall need ptrace-attach
 * access and are optional (SNAPSHOT_NO_THREAD_SP when unreadable).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "snapshot/linux_smaps.h"

#define READ_CHUNK (64u * 1024u)
/* How many VMAs between two polls of the caller's time budget. */
#define BUDGET_POLL 1024
/* A smaps record is a header and at least its Size: and VmFlags: lines:
 * more than this many bytes, so a read of N bytes holds at most N / it. */
#define RECORD_MIN_BYTES 64
/* Room for this many records is made at first: enough that the region
 * array and the extras are allocations of their own, which grow without
 * being copied. */
#define ROOM_MIN 4096
/* Room is faulted in ahead of the parser this many bytes at a time. */
#define PREFAULT_STEP (64u * 1024u)

static int
proc_path(char *buf, size_t size, const char *root, int pid, const char *rel)
{
	int n = snprintf(buf, size, "%s/%d/%s", root, pid, rel);

	return (n < 0 || (size_t)n >= size) ? MD_ERR_INVAL : 0;
}

/* Read a small /proc file whole into @buf (NUL-terminated).  Returns its
 * length or a negative status. */
static long
read_small(const char *path, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t got;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return md_status_of_errno(errno);
	while (n < size - 1) {
		got = read(fd, buf + n, size - 1 - n);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = md_status_of_errno(errno);
			close(fd);
			return rc;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	return (long)n;
}

static int
read_stat(const char *root, int pid, struct linux_stat *st)
{
	char path[4096], buf[2048];
	long len;
	int rc;

	rc = proc_path(path, sizeof(path), root, pid, "stat");
	if (rc != 0)
		return rc;
	len = read_small(path, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	return linux_parse_stat(buf, (size_t)len, st);
}

/* Room for the records the parser appends, made ahead of it. */
struct room {
	size_t ready;    /* records whose memory is faulted in */
	int no_prefault; /* MADV_POPULATE_WRITE failed: let pages fault */
	size_t page_size;
};

/* Fault in the pages of bytes [from, to) of @base in one call (Linux 5.14+):
 * cheaper than a page fault per page, several times so in a virtual machine
 * (docs/performance.md).  The memory is ours and left as it is.  Returns 0
 * or -1 when the kernel cannot. */
static int
prefault(const struct room *rm, void *base, size_t from, size_t to)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t mask = (uintptr_t)rm->page_size - 1;
	uintptr_t a = ((uintptr_t)base + from) & ~mask;
	uintptr_t b = ((uintptr_t)base + to + mask) & ~mask;

	if (b <= a)
		return 0;
	return madvise((void *)a, (size_t)(b - a), MADV_POPULATE_WRITE) == 0 ? 0 : -1;
#else
	return -1;
#endif
}

/* Before the parser reads @bytes more: room for every record they can hold,
 * and the next PREFAULT_STEP of it faulted in. */
static int
keep_room(struct smaps_parser *p, size_t bytes, struct room *rm)
{
	struct snapshot *s = p->snap;
	size_t need = s->n_regions - p->first_region + 2 + bytes / RECORD_MIN_BYTES;
	size_t upto;
	int rc;

	if (need > p->cap_extras || p->first_region + need > s->cap_regions) {
		size_t want = p->cap_extras * 2;

		if (want < need)
			want = need;
		if (want < ROOM_MIN)
			want = ROOM_MIN;
		rc = smaps_parser_reserve(p, want);
		if (rc != 0)
			return rc;
	}
	if (rm->no_prefault || need <= rm->ready)
		return 0;
	upto = need + PREFAULT_STEP / sizeof(struct region);
	if (upto > p->cap_extras)
		upto = p->cap_extras;
	if (prefault(rm, s->regions, (p->first_region + rm->ready) * sizeof(struct region),
	             (p->first_region + upto) * sizeof(struct region)) != 0 ||
	    prefault(rm, p->extras, rm->ready * sizeof(*p->extras), upto * sizeof(*p->extras)) != 0)
		rm->no_prefault = 1;
	rm->ready = upto;
	return 0;
}

/* Give back the room made ahead of the parser: up to PREFAULT_STEP of it is
 * faulted in, and the daemon keeps snapshots.  (A smaller block for an
 * allocation of its own is the same mapping cut short: nothing copied.) */
static void
shrink_regions(struct snapshot *s)
{
	struct region *nr;

	if (s->n_regions == 0 || s->n_regions == s->cap_regions)
		return;
	nr = realloc(s->regions, s->n_regions * sizeof(*nr));
	if (nr != NULL) {
		s->regions = nr;
		s->cap_regions = s->n_regions;
	}
}

/* Linux ends a read of smaps early, with an ordinary end of file, when the
 * address space it reads goes away: the process exited (its mm is released
 * in do_exit(), well before it turns zombie, so the second look at stat can
 * still see it running) or exec'd (the fd holds the old mm).  What was read
 * then lacks the last regions.  A read from the start of the same fd that
 * still yields data proves the mm outlived the end of file, which was thus
 * the real end (a released mm never comes back).  Costs one smaps record.
 * Returns 0, MD_ERR_NOPROC, or the status of a failed read. */
static int
confirm_end(int fd, char *buf)
{
	ssize_t got;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return md_status_of_errno(errno);
	do
		got = read(fd, buf, 1);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return md_status_of_errno(errno);
	return got == 0 ? MD_ERR_NOPROC : 0;
}

/* Stream PID/smaps through the parser in READ_CHUNK reads (Linux hands
 * out at most a page of smaps per read() call, whatever the buffer). */
static int
read_smaps(const char *root, int pid, const struct snapshot_opts *opts, struct smaps_parser *parser,
           int *truncated)
{
	char path[4096];
	char *buf = NULL;
	size_t have = 0, used, next_poll = BUDGET_POLL;
	struct room room = {0, 0, 4096};
	ssize_t got;
	long page = sysconf(_SC_PAGESIZE);
	int fd = -1, rc;

	*truncated = 0;
	if (page > 0 && (page & (page - 1)) == 0)
		room.page_size = (size_t)page;
	rc = proc_path(path, sizeof(path), root, pid, "smaps");
	if (rc != 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return md_status_of_errno(errno);
	buf = malloc(READ_CHUNK);
	if (buf == NULL) {
		rc = MD_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		got = read(fd, buf + have, READ_CHUNK - have);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = md_status_of_errno(errno);
			goto out;
		}
		if (got == 0)
			break;
		have += (size_t)got;
		rc = keep_room(parser, have, &room);
		if (rc != 0)
			goto out;
		rc = smaps_parse_chunk(parser, buf, have, &used);
		if (rc == 1) {
			*truncated = 1;
			rc = 0;
			goto out;
		}
		if (rc != 0)
			goto out;
		have -= used;
		if (have == READ_CHUNK) {
			rc = MD_ERR_PARSE; /* a 64 KiB line: not smaps */
			goto out;
		}
		if (have > 0)
			memmove(buf, buf + used, have);
		if (opts->over_budget != NULL && parser->n_vmas >= next_poll) {
			next_poll = parser->n_vmas + BUDGET_POLL;
			if (opts->over_budget(opts->budget_arg)) {
				*truncated = 1;
				rc = 0;
				goto out;
			}
		}
	}
	if (have > 0) {
		parser->line++;
		parser->error_line = parser->line;
		parser->error = "truncated line at end of file";
		rc = MD_ERR_PARSE;
		goto out;
	}
	rc = confirm_end(fd, buf);
	if (rc == 0)
		rc = smaps_parse_finish(parser);
out:
	if (rc == 0 && *truncated)
		rc = smaps_parse_stop(parser);
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Stack pointers of every thread, from PID/task/TID/syscall.  Unreadable
 * files (permission, thread exited) are skipped; *denied is set when
 * permission was refused. */
static int
read_thread_sps(const char *root, int pid, struct linux_thread_sp **out, size_t *n_out, int *denied)
{
	struct linux_thread_sp *sps = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	char path[4096], buf[512];
	DIR *d = NULL;
	int rc = 0;

	*out = NULL;
	*n_out = 0;
	*denied = 0;
	rc = proc_path(path, sizeof(path), root, pid, "task");
	if (rc != 0)
		return rc;
	d = opendir(path);
	if (d == NULL) {
		*denied = errno == EACCES || errno == EPERM;
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		char rel[64];
		long len;
		uint64_t sp;
		int tid = atoi(e->d_name);

		if (tid <= 0)
			continue;
		snprintf(rel, sizeof(rel), "task/%d/syscall", tid);
		if (proc_path(path, sizeof(path), root, pid, rel) != 0)
			continue;
		len = read_small(path, buf, sizeof(buf));
		if (len < 0) {
			if (len == MD_ERR_PERM)
				*denied = 1;
			continue;
		}
		if (linux_parse_syscall_sp(buf, (size_t)len, &sp) != 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct linux_thread_sp *ns = realloc(sps, ncap * sizeof(*ns));

			if (ns == NULL) {
				rc = MD_ERR_NOMEM;
				goto out;
			}
			sps = ns;
			cap = ncap;
		}
		sps[n].tid = tid;
		sps[n].sp = sp;
		n++;
	}
out:
	closedir(d);
	if (rc != 0) {
		free(sps);
		return rc;
	}
	*out = sps;
	*n_out = n;
	return 0;
}

static int
read_cmdline(const char *root, int pid, struct snapshot *s)
{
	char path[4096], buf[4096];
	long len, i;
	int rc;

	rc = proc_path(path, sizeof(path), root, pid, "cmdline");
	if (rc != 0)
		return rc;
	len = read_small(path, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	for (i = 0; i < len; i++)
		if (buf[i] == '\0' || buf[i] == '\n')
			buf[i] = ' ';
	buf[len] = '\0';
	return snapshot_set_cmdline(s, buf);
}

static int64_t
boot_time(const char *root)
{
	char path[4096], buf[8192];
	int64_t btime = 0;
	long len;
	int n;

	n = snprintf(path, sizeof(path), "%s/stat", root);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	len = read_small(path, buf, sizeof(buf));
	if (len < 0 || linux_parse_btime(buf, (size_t)len, &btime) != 0)
		return 0;
	return btime;
}

int
snapshot_collect(int pid, const struct snapshot_opts *opts_in, struct snapshot **out)
{
	static const struct snapshot_opts defaults;
	const struct snapshot_opts *opts = opts_in ? opts_in : &defaults;
	const char *root = opts->proc_root ? opts->proc_root : "/proc";
	struct linux_thread_sp *sps = NULL;
	struct linux_stat st, st2;
	struct linux_status status;
	struct smaps_parser parser;
	struct snapshot *s = NULL;
	char path[4096], buf[8192];
	size_t n_sps = 0;
	int64_t btime;
	long len, ticks;
	int rc, truncated = 0, denied = 0;

	*out = NULL;
	smaps_parser_init_regions(&parser, NULL, opts->max_regions);
	if (pid <= 0)
		return MD_ERR_NOPROC;
	rc = read_stat(root, pid, &st);
	if (rc != 0)
		return rc == MD_ERR_PARSE ? MD_ERR_PARSE : (rc == MD_ERR_PERM ? rc : MD_ERR_NOPROC);
	if (st.flags & LINUX_PF_KTHREAD)
		return MD_ERR_KTHREAD;
	if (st.state == 'Z' || st.state == 'X')
		return MD_ERR_ZOMBIE;

	rc = snapshot_new(&s);
	if (rc != 0)
		return rc;
	smaps_parser_init_regions(&parser, s, opts->max_regions);
	rc = read_smaps(root, pid, opts, &parser, &truncated);
	if (rc != 0)
		goto out;

	rc = proc_path(path, sizeof(path), root, pid, "status");
	if (rc != 0)
		goto out;
	len = read_small(path, buf, sizeof(buf));
	if (len < 0) {
		rc = (int)len;
		goto out;
	}
	rc = linux_parse_status(buf, (size_t)len, &status);
	if (rc != 0)
		goto out;
	rc = read_cmdline(root, pid, s);
	if (rc != 0)
		goto out;
	if (!opts->skip_thread_sp) {
		rc = read_thread_sps(root, pid, &sps, &n_sps, &denied);
		if (rc != 0)
			goto out;
	}

	/* Still the same process, and still alive?  Otherwise what was read
	 * may be partial: return nothing. */
	rc = read_stat(root, pid, &st2);
	if (rc != 0 || st2.start_time != st.start_time || st2.state == 'Z' || st2.state == 'X') {
		rc = rc == MD_ERR_PERM ? rc : MD_ERR_NOPROC;
		goto out;
	}
	if (parser.n_vmas == 0 && !status.have_vm_size) {
		rc = MD_ERR_NOPROC; /* the address space went away during the read */
		goto out;
	}

	rc = linux_classify_regions(s, &parser, sps, n_sps, pid);
	if (rc != 0)
		goto out;
	shrink_regions(s);
	s->pid = pid;
	s->start_time = st.start_time;
	ticks = sysconf(_SC_CLK_TCK);
	btime = boot_time(root);
	if (btime > 0 && ticks > 0)
		s->start_time_ms = btime * 1000 + (int64_t)(st.start_time * 1000 / (uint64_t)ticks);
	snprintf(s->name, sizeof(s->name), "%s", st.comm);
	s->page_table_bytes = status.vm_pte;
	if (truncated)
		s->flags |= SNAPSHOT_TRUNCATED;
	if (opts->skip_thread_sp || denied)
		s->flags |= SNAPSHOT_NO_THREAD_SP;
	*out = s;
	s = NULL;
out:
	smaps_parser_done(&parser);
	free(sps);
	snapshot_free(s);
	return rc;
}
