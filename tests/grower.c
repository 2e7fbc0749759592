/*
 * grower.c - a helper process for the live tests that grows one kind of
 * memory on command.  It reads one command per line on stdin, carries it
 * out and answers with exactly one line on stdout, "ok [info]" or
 * "err <message>", flushed at once; it prints "ready" once at start-up and
 * exits, removing its scratch files and POSIX shared memory objects, when
 * stdin reaches end of file or on "quit", so a test that dies leaves no
 * orphan behind.  Sizes accept the binary suffixes K, M and G.  Commands:
 *
 *   private N   MAP_PRIVATE|MAP_ANONYMOUS rw, every page written   ok ADDR LEN
 *   heap N      N/256 chunks of 256 bytes (malloc(248)) from the main thread,
 *               in the brk heap                                    ok FIRST LAST
 *   arena N     the same from a second thread that stays alive (glibc
 *               arena: 64 MiB-aligned heap)                        ok HEAPBASE FIRST
 *   threads K   K threads blocked forever in pause(), each with
 *               64 KiB of its stack touched; the reply comes once
 *               all sleep there                                    ok TID...
 *   mapped N    a file of N bytes in $GROWER_DIR (or a mkdtemp dir),
 *               mapped MAP_PRIVATE read-only, every page read      ok ADDR LEN PATH
 *   mappedw N   the same mapped MAP_PRIVATE read-write and every page
 *               written: copy-on-write pages, charged as committed ok ADDR LEN PATH
 *   shm N       MAP_SHARED|MAP_ANONYMOUS rw, every page written    ok ADDR LEN
 *   shmfile N   shm_open + MAP_SHARED rw, every page written       ok ADDR LEN /dev/shm/NAME
 *   reserve N   PROT_NONE MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE  ok ADDR LEN
 *   regions K   K one-page VMAs: one mapping whose pages alternate
 *               rw / r (mprotect), so no two neighbours merge      ok ADDR LEN
 *   free [last|ADDR]  unmap the last mapping made (or the one at ADDR)
 *   noaccess [last|ADDR]  mprotect that mapping PROT_NONE: for a mapping
 *               that is not writable (mapped), the region list changes
 *               and no memory total does                           ok ADDR LEN
 *   pid         ok PID
 *   quit        ok, then exit
 *
 * Addresses are printed as 0x%lx.  Heap and arena chunks, and threads, are
 * never released: that is the point.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A heap chunk: malloc(248) takes exactly 256 bytes of heap on 64-bit glibc
 * (8-byte size header, 16-byte alignment), so N bytes asked are N bytes of
 * heap.  On 32-bit the overhead differs slightly; the tests allow for it. */
#define CHUNK_BYTES 256
#define CHUNK_ASK   248

#define STACK_TOUCH (64 * 1024)

/* glibc's largest M_MMAP_THRESHOLD on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX):
 * small chunks never go to mmap anyway, this keeps any larger one off it. */
#define MMAP_THRESHOLD (32 * 1024 * 1024)

struct mapping {
	void *addr;
	size_t len;
};

static struct mapping *maps;
static size_t n_maps, cap_maps;

/* Files and shared memory objects to remove at exit. */
static char **files;
static size_t n_files;
static char **shm_names;
static size_t n_shm_names;
static char scratch_dir[4096];
static int scratch_own; /* scratch_dir came from mkdtemp: rmdir it at exit */
static unsigned serial;

static long page_size;

/* The arena thread and its one outstanding request. */
static pthread_t arena_thread;
static int arena_started;
static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t arena_cond = PTHREAD_COND_INITIALIZER;
static size_t arena_request;  /* bytes asked; 0 = nothing to do */
static int arena_done;        /* request finished */
static int arena_error;       /* errno of a failed request, 0 when fine */
static uintptr_t arena_first; /* first chunk of the last request */

/* Blocked threads report their tid here. */
static sem_t thread_sem;
static pthread_mutex_t thread_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t thread_last_tid;

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
reply_errno(const char *what, int err)
{
	reply("err %s: %s", what, strerror(err));
}

/* Parse "123", "64K", "16M", "4G" (binary multiples).  Returns 0 or -1. */
static int
parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	*out = 0;
	if (s == NULL || *s == '\0' || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1024;
		end++;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		end++;
		break;
	case 'g':
	case 'G':
		mult = 1024ull * 1024 * 1024;
		end++;
		break;
	default:
		return -1;
	}
	if (*end != '\0')
		return -1;
	if (v > UINT64_MAX / mult)
		return -1;
	*out = (uint64_t)v * mult;
	return 0;
}

static int
remember_mapping(void *addr, size_t len)
{
	if (n_maps == cap_maps) {
		size_t ncap = cap_maps ? cap_maps * 2 : 16;
		struct mapping *n = realloc(maps, ncap * sizeof(*n));

		if (n == NULL)
			return -1;
		maps = n;
		cap_maps = ncap;
	}
	maps[n_maps].addr = addr;
	maps[n_maps].len = len;
	n_maps++;
	return 0;
}

static int
remember_name(char ***list, size_t *n, const char *name)
{
	char **nl = realloc(*list, (*n + 1) * sizeof(*nl));
	char *copy = strdup(name);

	if (nl == NULL || copy == NULL) {
		free(copy);
		if (nl != NULL)
			*list = nl;
		return -1;
	}
	nl[*n] = copy;
	*list = nl;
	(*n)++;
	return 0;
}

/* Write to every page of [p, p+len) so each is really backed. */
static void
touch_write(void *p, size_t len)
{
	volatile unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i += (size_t)page_size)
		c[i] = (unsigned char)(i / (size_t)page_size + 1);
}

/* Read every page of [p, p+len). */
static unsigned
touch_read(const void *p, size_t len)
{
	const volatile unsigned char *c = p;
	unsigned sum = 0;
	size_t i;

	for (i = 0; i < len; i += (size_t)page_size)
		sum += c[i];
	return sum;
}

/* mmap, remember and reply; @touch: 0 none, 1 write. */
static void
do_mmap(const char *what, uint64_t n, int prot, int flags, int touch)
{
	void *p;

	if (n == 0 || n > SIZE_MAX) {
		reply("err %s: bad size", what);
		return;
	}
	p = mmap(NULL, (size_t)n, prot, flags, -1, 0);
	if (p == MAP_FAILED) {
		reply_errno(what, errno);
		return;
	}
	if (touch)
		touch_write(p, (size_t)n);
	if (remember_mapping(p, (size_t)n) < 0) {
		munmap(p, (size_t)n);
		reply("err %s: out of memory", what);
		return;
	}
	reply("ok 0x%lx %zu", (unsigned long)(uintptr_t)p, (size_t)n);
}

/* Allocate @n bytes of CHUNK_BYTES chunks; every byte written.  Returns 0
 * or an errno, and the first and last chunk. */
static int
alloc_chunks(uint64_t n, uintptr_t *first, uintptr_t *last)
{
	uint64_t count = n / CHUNK_BYTES, i;

	*first = *last = 0;
	for (i = 0; i < count; i++) {
		unsigned char *c = malloc(CHUNK_ASK);

		if (c == NULL)
			return ENOMEM;
		memset(c, (int)(i & 0x7f) + 1, CHUNK_ASK);
		if (i == 0)
			*first = (uintptr_t)c;
		*last = (uintptr_t)c;
	}
	return 0;
}

static void
do_heap(uint64_t n)
{
	uintptr_t first, last;
	int err;

	if (n < CHUNK_BYTES) {
		reply("err heap: size below %d", CHUNK_BYTES);
		return;
	}
	err = alloc_chunks(n, &first, &last);
	if (err != 0) {
		reply_errno("heap", err);
		return;
	}
	reply("ok 0x%lx 0x%lx", (unsigned long)first, (unsigned long)last);
}

static void *
arena_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&arena_lock);
	for (;;) {
		uintptr_t first, last;
		size_t n;

		while (arena_request == 0)
			pthread_cond_wait(&arena_cond, &arena_lock);
		n = arena_request;
		pthread_mutex_unlock(&arena_lock);
		first = last = 0;
		arena_error = alloc_chunks(n, &first, &last);
		pthread_mutex_lock(&arena_lock);
		arena_first = first;
		arena_request = 0;
		arena_done = 1;
		pthread_cond_broadcast(&arena_cond);
	}
	return NULL;
}

static void
do_arena(uint64_t n)
{
	/* glibc's non-main heaps are HEAP_MAX_SIZE-aligned: 2 *
	 * DEFAULT_MMAP_THRESHOLD_MAX = 64 MiB on 64-bit, 1 MiB on 32-bit. */
	uintptr_t heap_align = sizeof(long) == 8 ? (uintptr_t)64 << 20 : (uintptr_t)1 << 20;
	int err;

	if (n < CHUNK_BYTES || n > SIZE_MAX) {
		reply("err arena: bad size");
		return;
	}
	if (!arena_started) {
		err = pthread_create(&arena_thread, NULL, arena_main, NULL);
		if (err != 0) {
			reply_errno("arena: pthread_create", err);
			return;
		}
		arena_started = 1;
	}
	pthread_mutex_lock(&arena_lock);
	arena_done = 0;
	arena_request = (size_t)n;
	pthread_cond_broadcast(&arena_cond);
	while (!arena_done)
		pthread_cond_wait(&arena_cond, &arena_lock);
	err = arena_error;
	pthread_mutex_unlock(&arena_lock);
	if (err != 0) {
		reply_errno("arena", err);
		return;
	}
	reply("ok 0x%lx 0x%lx", (unsigned long)(arena_first & ~(heap_align - 1)),
	      (unsigned long)arena_first);
}

/* Keep the compiler from folding the stack buffer away. */
static void __attribute__((noinline)) touch_stack(void)
{
	volatile unsigned char buf[STACK_TOUCH];
	size_t i;

	for (i = 0; i < sizeof(buf); i += (size_t)page_size)
		buf[i] = 1;
}

static void *
blocked_main(void *arg)
{
	(void)arg;
	touch_stack();
	pthread_mutex_lock(&thread_lock);
	thread_last_tid = gettid();
	pthread_mutex_unlock(&thread_lock);
	/* The main thread reads thread_last_tid after each post, one by one. */
	sem_post(&thread_sem);
	for (;;)
		pause();
	return NULL;
}

/* Wait (up to about 5 s) until thread @tid sleeps, i.e. is parked in
 * pause(): a thread still running has no stack pointer in
 * /proc/PID/task/TID/syscall ("running"), and the tests want one. */
static void
wait_parked(pid_t tid)
{
	char path[64], buf[512];
	int i;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	for (i = 0; i < 5000; i++) {
		struct timespec ts = {0, 1000000};
		const char *p;
		ssize_t n;
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return;
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p != NULL && p[1] == ' ' && p[2] == 'S')
			return;
		nanosleep(&ts, NULL);
	}
}

static void
do_threads(uint64_t k)
{
	pid_t *tids = NULL;
	pthread_attr_t attr;
	uint64_t i;
	int err;

	if (k == 0 || k > 10000) {
		reply("err threads: count must be 1..10000");
		return;
	}
	tids = calloc((size_t)k, sizeof(*tids));
	if (tids == NULL) {
		reply("err threads: out of memory");
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < k; i++) {
		pthread_t t;

		/* One at a time, so each post matches one tid. */
		err = pthread_create(&t, &attr, blocked_main, NULL);
		if (err != 0) {
			reply("err threads: pthread_create: %s (after %" PRIu64 ")", strerror(err),
			      i);
			goto out;
		}
		while (sem_wait(&thread_sem) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&thread_lock);
		tids[i] = thread_last_tid;
		pthread_mutex_unlock(&thread_lock);
	}
	for (i = 0; i < k; i++)
		wait_parked(tids[i]);
	fputs("ok", stdout);
	for (i = 0; i < k; i++)
		printf(" %d", (int)tids[i]);
	putchar('\n');
	fflush(stdout);
out:
	pthread_attr_destroy(&attr);
	free(tids);
}

static int
ensure_scratch(void)
{
	const char *dir = getenv("GROWER_DIR");
	const char *tmp;
	int n;

	if (scratch_dir[0] != '\0')
		return 0;
	if (dir != NULL && dir[0] != '\0') {
		n = snprintf(scratch_dir, sizeof(scratch_dir), "%s", dir);
		if (n < 0 || (size_t)n >= sizeof(scratch_dir)) {
			scratch_dir[0] = '\0';
			errno = ENAMETOOLONG;
			return -1;
		}
		return 0;
	}
	tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	n = snprintf(scratch_dir, sizeof(scratch_dir), "%s/grower-XXXXXX", tmp);
	if (n < 0 || (size_t)n >= sizeof(scratch_dir) || mkdtemp(scratch_dir) == NULL) {
		scratch_dir[0] = '\0';
		if (n >= 0 && (size_t)n >= sizeof(scratch_dir))
			errno = ENAMETOOLONG;
		return -1;
	}
	scratch_own = 1;
	return 0;
}

static void
do_mapped(uint64_t n, int writable)
{
	char path[4200];
	unsigned char block[65536];
	uint64_t done = 0;
	void *p = MAP_FAILED;
	int fd = -1, len;

	if (n == 0 || n > SIZE_MAX) {
		reply("err mapped: bad size");
		goto out;
	}
	if (ensure_scratch() < 0) {
		reply_errno("mapped: scratch directory", errno);
		goto out;
	}
	len = snprintf(path, sizeof(path), "%s/mapped-%d-%u.bin", scratch_dir, (int)getpid(),
	               serial++);
	if (len < 0 || (size_t)len >= sizeof(path)) {
		reply("err mapped: path too long");
		goto out;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		reply_errno("mapped: open", errno);
		goto out;
	}
	if (remember_name(&files, &n_files, path) < 0) {
		unlink(path);
		reply("err mapped: out of memory");
		goto out;
	}
	memset(block, 0x5a, sizeof(block));
	while (done < n) {
		size_t chunk = n - done < sizeof(block) ? (size_t)(n - done) : sizeof(block);
		ssize_t w = write(fd, block, chunk);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			reply_errno("mapped: write", w < 0 ? errno : EIO);
			goto out;
		}
		done += (uint64_t)w;
	}
	p = mmap(NULL, (size_t)n, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_PRIVATE, fd,
	         0);
	if (p == MAP_FAILED) {
		reply_errno("mapped: mmap", errno);
		goto out;
	}
	if (writable)
		memset(p, 0xa5, (size_t)n); /* every page copied on write */
	else
		(void)touch_read(p, (size_t)n);
	if (remember_mapping(p, (size_t)n) < 0) {
		munmap(p, (size_t)n);
		reply("err mapped: out of memory");
		goto out;
	}
	reply("ok 0x%lx %zu %s", (unsigned long)(uintptr_t)p, (size_t)n, path);
out:
	if (fd >= 0)
		close(fd);
}

static void
do_shmfile(uint64_t n)
{
	char name[128];
	void *p;
	int fd = -1;

	if (n == 0 || n > SIZE_MAX) {
		reply("err shmfile: bad size");
		goto out;
	}
	if (snprintf(name, sizeof(name), "/memdelta-grower-%d-%u", (int)getpid(), serial++) >=
	    (int)sizeof(name)) {
		reply("err shmfile: name too long");
		goto out;
	}
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		reply_errno("shmfile: shm_open", errno);
		goto out;
	}
	if (remember_name(&shm_names, &n_shm_names, name) < 0) {
		shm_unlink(name);
		reply("err shmfile: out of memory");
		goto out;
	}
	if (ftruncate(fd, (off_t)n) < 0) {
		reply_errno("shmfile: ftruncate", errno);
		goto out;
	}
	p = mmap(NULL, (size_t)n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		reply_errno("shmfile: mmap", errno);
		goto out;
	}
	touch_write(p, (size_t)n);
	if (remember_mapping(p, (size_t)n) < 0) {
		munmap(p, (size_t)n);
		reply("err shmfile: out of memory");
		goto out;
	}
	reply("ok 0x%lx %zu /dev/shm%s", (unsigned long)(uintptr_t)p, (size_t)n, name);
out:
	if (fd >= 0)
		close(fd);
}

static void
do_regions(uint64_t k)
{
	size_t len, i;
	char *p;

	if (k == 0 || k > 1000000) {
		reply("err regions: count must be 1..1000000");
		return;
	}
	len = (size_t)k * (size_t)page_size;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		reply_errno("regions: mmap", errno);
		return;
	}
	/* Every odd page read-only: K VMAs that cannot merge. */
	for (i = 1; i < (size_t)k; i += 2) {
		if (mprotect(p + i * (size_t)page_size, (size_t)page_size, PROT_READ) < 0) {
			int err = errno;

			munmap(p, len);
			reply("err regions: mprotect page %zu: %s (vm.max_map_count?)", i,
			      strerror(err));
			return;
		}
	}
	if (remember_mapping(p, len) < 0) {
		munmap(p, len);
		reply("err regions: out of memory");
		return;
	}
	reply("ok 0x%lx %zu", (unsigned long)(uintptr_t)p, len);
}

/* The mapping a free or move command names: the last one, or the one at
 * ADDR; replies with the error and returns -1 when there is none. */
static int
find_mapping(const char *cmd, const char *arg, size_t *at)
{
	size_t i;
	unsigned long long addr;
	char *end;

	if (n_maps == 0) {
		reply("err %s: no mapping left", cmd);
		return -1;
	}
	if (arg == NULL || strcmp(arg, "last") == 0 || strcmp(arg, "LAST") == 0) {
		*at = n_maps - 1;
		return 0;
	}
	errno = 0;
	addr = strtoull(arg, &end, 0);
	if (errno != 0 || end == arg || *end != '\0') {
		reply("err %s: expected 'last' or an address", cmd);
		return -1;
	}
	for (i = 0; i < n_maps; i++)
		if ((uintptr_t)maps[i].addr == (uintptr_t)addr)
			break;
	if (i == n_maps) {
		reply("err %s: no mapping at %s", cmd, arg);
		return -1;
	}
	*at = i;
	return 0;
}

static void
do_free(const char *arg)
{
	size_t i;

	if (find_mapping("free", arg, &i) != 0)
		return;
	if (munmap(maps[i].addr, maps[i].len) < 0) {
		reply_errno("free: munmap", errno);
		return;
	}
	reply("ok 0x%lx %zu", (unsigned long)(uintptr_t)maps[i].addr, maps[i].len);
	memmove(&maps[i], &maps[i + 1], (n_maps - i - 1) * sizeof(*maps));
	n_maps--;
}

/* Take every access away from a mapping (its pages stay resident). */
static void
do_noaccess(const char *arg)
{
	size_t i;

	if (find_mapping("noaccess", arg, &i) != 0)
		return;
	if (mprotect(maps[i].addr, maps[i].len, PROT_NONE) != 0) {
		reply_errno("noaccess: mprotect", errno);
		return;
	}
	reply("ok 0x%lx %zu", (unsigned long)(uintptr_t)maps[i].addr, maps[i].len);
}

static void
cleanup(void)
{
	size_t i;

	for (i = 0; i < n_files; i++) {
		unlink(files[i]);
		free(files[i]);
	}
	free(files);
	files = NULL;
	n_files = 0;
	for (i = 0; i < n_shm_names; i++) {
		shm_unlink(shm_names[i]);
		free(shm_names[i]);
	}
	free(shm_names);
	shm_names = NULL;
	n_shm_names = 0;
	if (scratch_own)
		rmdir(scratch_dir);
	free(maps);
	maps = NULL;
}

/* Cut the next blank-separated word out of *pos (NUL-terminating it in
 * place); NULL when none is left. */
static char *
next_word(char **pos)
{
	char *p = *pos, *w;

	p += strspn(p, " \t\r\n");
	if (*p == '\0') {
		*pos = p;
		return NULL;
	}
	w = p;
	p += strcspn(p, " \t\r\n");
	if (*p != '\0')
		*p++ = '\0';
	*pos = p;
	return w;
}

/* Run one command line; returns 1 on quit. */
static int
run(char *line)
{
	char *pos = line, *cmd, *arg, *extra;
	uint64_t n = 0;

	cmd = next_word(&pos);
	if (cmd == NULL) {
		reply("err empty command");
		return 0;
	}
	arg = next_word(&pos);
	extra = next_word(&pos);
	if (extra != NULL) {
		reply("err %s: too many arguments", cmd);
		return 0;
	}
	if (strcmp(cmd, "quit") == 0) {
		reply("ok");
		return 1;
	}
	if (strcmp(cmd, "pid") == 0) {
		reply("ok %d", (int)getpid());
		return 0;
	}
	if (strcmp(cmd, "free") == 0) {
		do_free(arg);
		return 0;
	}
	if (strcmp(cmd, "noaccess") == 0) {
		do_noaccess(arg);
		return 0;
	}
	if (parse_size(arg, &n) < 0) {
		reply("err %s: expected a size (N, NK, NM, NG)", cmd);
		return 0;
	}
	if (strcmp(cmd, "private") == 0)
		do_mmap("private", n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 1);
	else if (strcmp(cmd, "heap") == 0)
		do_heap(n);
	else if (strcmp(cmd, "arena") == 0)
		do_arena(n);
	else if (strcmp(cmd, "threads") == 0)
		do_threads(n);
	else if (strcmp(cmd, "mapped") == 0)
		do_mapped(n, 0);
	else if (strcmp(cmd, "mappedw") == 0)
		do_mapped(n, 1);
	else if (strcmp(cmd, "shm") == 0)
		do_mmap("shm", n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, 1);
	else if (strcmp(cmd, "shmfile") == 0)
		do_shmfile(n);
	else if (strcmp(cmd, "reserve") == 0)
		do_mmap("reserve", n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, 0);
	else if (strcmp(cmd, "regions") == 0)
		do_regions(n);
	else
		reply("err unknown command %s", cmd);
	return 0;
}

int
main(void)
{
	char line[4096];
	int status = 0;

	/* A reply to a reader that went away must not kill us before cleanup. */
	signal(SIGPIPE, SIG_IGN);
	page_size = sysconf(_SC_PAGESIZE);
	if (page_size <= 0)
		page_size = 4096;
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	if (sem_init(&thread_sem, 0, 0) < 0) {
		perror("grower: sem_init");
		return 1;
	}
	reply("ready");
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (strchr(line, '\n') == NULL && !feof(stdin)) {
			int c;

			while ((c = getchar()) != EOF && c != '\n')
				;
			reply("err line too long");
			continue;
		}
		if (run(line))
			break;
		if (ferror(stdout)) {
			status = 1;
			break;
		}
	}
	cleanup();
	return status;
}
