/*
 * winalloc.c - the Windows test program the collector watches (under wine in
 * the tests): it makes one allocation of each kind the classifier tells
 * apart, then commits private memory in steps and sleeps until killed or
 * until a stop file appears.  It reports every allocation (address, size) so
 * tests compare what the collector saw with what was made.
 *
 * Build rule needed (win-build's cross rules for the programs in tests/win):
 *   x86_64-w64-mingw32-gcc -O1 -Wall -o tests/win/winalloc.exe tests/win/winalloc.c
 * (only kernel32; no memdelta code).  tests/fixtures/windows/record.sh builds it
 * the same way when it records the fixtures.
 *
 * Usage: winalloc.exe STEP_MB STEPS PERIOD_MS RESERVE_MB [REPORT_FILE [STOP_FILE]]
 *   STEP_MB     MiB committed (VirtualAlloc MEM_COMMIT|MEM_RESERVE, every
 *               page touched) per step
 *   STEPS       number of steps
 *   PERIOD_MS   pause between steps
 *   RESERVE_MB  one reserve-only allocation of this size (MEM_RESERVE)
 *   REPORT_FILE the report ("-" or absent: stdout), rewritten after each step
 *   STOP_FILE   exit when this file exists (polled every 100 ms)
 *
 * The report, one fact a line (addresses in hex, sizes in bytes):
 *   pid PID
 *   reserve ADDR SIZE        the reserve-only allocation
 *   small ADDR SIZE          a 12 KiB commit: 52 KiB of unusable slack after it
 *   heap HANDLE              the HeapCreate heap (1 MiB committed initially)
 *   section ADDR SIZE        a view of a pagefile-backed section (Shareable)
 *   filemap ADDR SIZE        a read-only view of winalloc.exe itself (Mapped File)
 *   thread TID               three extra threads, 256 KiB stack reservation
 *   commit ADDR SIZE         one line per step
 *   steps_done N             the number of steps done so far
 *   done                     after the last step
 */
#include <windows.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB             ((SIZE_T)1 << 20)
#define SMALL_SIZE      ((SIZE_T)12 << 10)
#define SECTION_SIZE    MIB
#define HEAP_INITIAL    MIB
#define THREADS         3
#define THREAD_STACK    ((SIZE_T)256 << 10)
#define MAX_STEPS       1024
#define REPORT_LINE_MAX 128

static HANDLE quit_event;
static char report[(MAX_STEPS + 32) * REPORT_LINE_MAX];
static size_t report_len;

static void
say(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(report + report_len, sizeof(report) - report_len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(report) - report_len)
		report_len += (size_t)n;
}

/* Write the whole report to @path (via a temporary file and a rename, so a
 * reader never sees half of it), or to stdout. */
static void
publish(const char *path)
{
	char tmp[MAX_PATH];
	FILE *f;

	if (path == NULL || strcmp(path, "-") == 0) {
		fwrite(report, 1, report_len, stdout);
		fflush(stdout);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (f == NULL) {
		fprintf(stderr, "winalloc: cannot write %s\n", tmp);
		exit(1);
	}
	fwrite(report, 1, report_len, f);
	fclose(f);
	if (!MoveFileExA(tmp, path, MOVEFILE_REPLACE_EXISTING)) {
		fprintf(stderr, "winalloc: cannot rename %s to %s\n", tmp, path);
		exit(1);
	}
}

static DWORD WINAPI
idle_thread(LPVOID arg)
{
	volatile char buf[16 << 10]; /* commit some of the stack */

	(void)arg;
	memset((char *)buf, 1, sizeof(buf));
	WaitForSingleObject(quit_event, INFINITE);
	return buf[5];
}

static long
arg_long(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "winalloc: %s: '%s' is not a number\n", what, s);
		exit(2);
	}
	return v;
}

static void
touch(char *p, SIZE_T size)
{
	SIZE_T off;

	for (off = 0; off < size; off += 4096)
		p[off] = (char)(off >> 12 | 1);
}

int
main(int argc, char **argv)
{
	const char *report_path, *stop_path;
	char self[MAX_PATH];
	long step_mb, steps, period_ms, reserve_mb, i;
	HANDLE heap, section, file, filemap;
	size_t mark;
	char *p;
	void *block;
	int t;

	if (argc < 5 || argc > 7) {
		fprintf(stderr, "usage: winalloc.exe STEP_MB STEPS PERIOD_MS RESERVE_MB "
		                "[REPORT_FILE [STOP_FILE]]\n");
		return 2;
	}
	step_mb = arg_long(argv[1], "STEP_MB");
	steps = arg_long(argv[2], "STEPS");
	period_ms = arg_long(argv[3], "PERIOD_MS");
	reserve_mb = arg_long(argv[4], "RESERVE_MB");
	report_path = argc > 5 ? argv[5] : NULL;
	stop_path = argc > 6 ? argv[6] : NULL;
	if (steps > MAX_STEPS || step_mb > 4096 || reserve_mb > 65536) {
		fprintf(stderr, "winalloc: at most %d steps of 4096 MiB, 65536 MiB reserved\n",
		        MAX_STEPS);
		return 2;
	}
	quit_event = CreateEventA(NULL, TRUE, FALSE, NULL);
	say("pid %lu\n", (unsigned long)GetCurrentProcessId());

	if (reserve_mb > 0) {
		p = VirtualAlloc(NULL, (SIZE_T)reserve_mb * MIB, MEM_RESERVE, PAGE_READWRITE);
		if (p == NULL)
			goto fail;
		say("reserve 0x%llx %llu\n", (unsigned long long)(ULONG_PTR)p,
		    (unsigned long long)((SIZE_T)reserve_mb * MIB));
	}
	p = VirtualAlloc(NULL, SMALL_SIZE, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
	if (p == NULL)
		goto fail;
	touch(p, SMALL_SIZE);
	say("small 0x%llx %llu\n", (unsigned long long)(ULONG_PTR)p,
	    (unsigned long long)SMALL_SIZE);

	heap = HeapCreate(0, HEAP_INITIAL, 0);
	if (heap == NULL)
		goto fail;
	for (i = 0; i < 16; i++) {
		block = HeapAlloc(heap, HEAP_ZERO_MEMORY, 16 << 10);
		if (block == NULL)
			goto fail;
	}
	say("heap 0x%llx\n", (unsigned long long)(ULONG_PTR)heap);

	section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
	                             (DWORD)SECTION_SIZE, NULL);
	p = section != NULL ? MapViewOfFile(section, FILE_MAP_WRITE, 0, 0, SECTION_SIZE) : NULL;
	if (p == NULL)
		goto fail;
	touch(p, SECTION_SIZE);
	say("section 0x%llx %llu\n", (unsigned long long)(ULONG_PTR)p,
	    (unsigned long long)SECTION_SIZE);

	if (GetModuleFileNameA(NULL, self, sizeof(self)) == 0)
		goto fail;
	file = CreateFileA(self, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
	if (file == INVALID_HANDLE_VALUE)
		goto fail;
	filemap = CreateFileMappingA(file, NULL, PAGE_READONLY, 0, 0, NULL);
	p = filemap != NULL ? MapViewOfFile(filemap, FILE_MAP_READ, 0, 0, 0) : NULL;
	if (p == NULL)
		goto fail;
	say("filemap 0x%llx %lu\n", (unsigned long long)(ULONG_PTR)p,
	    (unsigned long)GetFileSize(file, NULL));

	for (t = 0; t < THREADS; t++) {
		DWORD tid;
		HANDLE th = CreateThread(NULL, THREAD_STACK, idle_thread, NULL,
		                         STACK_SIZE_PARAM_IS_A_RESERVATION, &tid);

		if (th == NULL)
			goto fail;
		say("thread %lu\n", (unsigned long)tid);
	}
	mark = report_len;
	say("steps_done 0\n");
	publish(report_path);

	for (i = 1; i <= steps; i++) {
		SIZE_T size = (SIZE_T)step_mb * MIB;

		if (period_ms > 0)
			Sleep((DWORD)period_ms);
		p = VirtualAlloc(NULL, size, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
		if (p == NULL)
			goto fail;
		touch(p, size);
		report_len = mark; /* drop the previous "steps_done" line */
		say("commit 0x%llx %llu\n", (unsigned long long)(ULONG_PTR)p,
		    (unsigned long long)size);
		mark = report_len;
		say("steps_done %ld\n", i);
		publish(report_path);
	}
	say("done\n");
	publish(report_path);

	while (stop_path == NULL || GetFileAttributesA(stop_path) == INVALID_FILE_ATTRIBUTES)
		Sleep(100);
	SetEvent(quit_event);
	return 0;
fail:
	fprintf(stderr, "winalloc: allocation failed: error %lu\n", (unsigned long)GetLastError());
	return 1;
}
