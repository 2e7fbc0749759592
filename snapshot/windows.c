/*
 * windows.c - the Windows collector: snapshot_collect() and
 * snapshot_record_raw() for PLATFORM_WINDOWS.  It does the Win32 side only:
 * opens the process (PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, falling
 * back to PROCESS_QUERY_LIMITED_INFORMATION and GetProcessMemoryInfo totals
 * when denied), walks the address space with VirtualQueryEx, names mapped
 * regions with GetMappedFileNameW, reads the PEB's ProcessHeaps list and each
 * thread's TEB (NT_TIB StackBase/StackLimit), the working set per page with
 * QueryWorkingSetEx in bounded batches, and hands the plain records (struct
 * winraw) to the pure classifier in windows_regions.c.
 *
 * Process handles are kept between calls, keyed by pid, so a daemon that
 * samples every few seconds opens each target once.  An open handle keeps the
 * process object, so its pid cannot be reused while it is cached: a cached
 * handle of a still-running process is the same process, with the creation
 * time recorded when it was opened.  A handle whose process has exited is
 * closed on the next call (any pid), and the next open of that pid is a new
 * process with its own creation time.  The cache is guarded by one lock:
 * collections run one at a time.
 *
 * x64 only: the PEB, RTL_USER_PROCESS_PARAMETERS and TEB offsets below are
 * those of 64-bit Windows (stable since Windows XP x64; checked against
 * Windows 10/11 and wine 8).  A 32-bit (WoW64) target's 32-bit heaps and
 * stacks are not in the 64-bit PEB/TEB and show as Private Data.
 */
#include "config.h"

#include <windows.h>
#include <psapi.h>
#include <tlhelp32.h>

#include <stdlib.h>
#include <string.h>

#include "snapshot/windows_regions.h"

/* Offsets in the 64-bit PEB, RTL_USER_PROCESS_PARAMETERS and TEB. */
#define PEB_PROCESS_PARAMETERS 0x20
#define PEB_NUMBER_OF_HEAPS    0xe8
#define PEB_PROCESS_HEAPS      0xf0
#define PEB_READ_SIZE          0xf8
#define PARAMS_COMMAND_LINE    0x70 /* UNICODE_STRING */
#define TEB_STACK_BASE         0x08 /* NT_TIB.StackBase */
#define TEB_STACK_LIMIT        0x10 /* NT_TIB.StackLimit */

/* More heaps than this in the PEB list is a corrupt read. */
#define MAX_HEAPS 4096
/* QueryWorkingSetEx: pages per call, and pages per snapshot (4 GiB of
 * committed memory at 4 KiB pages); past it the working set is not read
 * (SNAPSHOT_NO_WORKING_SET) rather than stall the daemon. */
#define WS_BATCH  4096
#define WS_BUDGET ((uint64_t)1 << 20)
/* How many regions between two polls of the caller's time budget. */
#define BUDGET_POLL 1024
#define PAGE        4096u
/* Process handles kept between calls. */
#define CACHE_SIZE 64
/* FILETIME of the Unix epoch, in 100 ns units. */
#define FILETIME_UNIX_EPOCH 116444736000000000ull

/* ntdll's process/thread queries, loaded at run time (no import library). */
typedef LONG(NTAPI *nt_query_process_fn)(HANDLE, ULONG, PVOID, ULONG, PULONG);
typedef LONG(NTAPI *nt_query_thread_fn)(HANDLE, ULONG, PVOID, ULONG, PULONG);

struct md_process_basic_information {
	LONG exit_status;
	void *peb;
	ULONG_PTR affinity;
	LONG base_priority;
	ULONG_PTR pid;
	ULONG_PTR parent_pid;
};

struct md_thread_basic_information {
	LONG exit_status;
	void *teb;
	HANDLE client_process, client_thread;
	ULONG_PTR affinity;
	LONG priority, base_priority;
};

struct cached_handle {
	int pid;
	int limited;
	uint64_t creation;
	HANDLE h;
	unsigned long long last_use;
};

static SRWLOCK cache_lock = SRWLOCK_INIT;
static struct cached_handle cache[CACHE_SIZE];
static unsigned long long cache_clock;

static int
win_status(DWORD err)
{
	switch (err) {
	case ERROR_INVALID_PARAMETER:
	case ERROR_PARTIAL_COPY: /* the process went away during a read */
		return MD_ERR_NOPROC;
	case ERROR_ACCESS_DENIED:
		return MD_ERR_PERM;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return MD_ERR_NOMEM;
	default:
		return MD_ERR_IO;
	}
}

static uint64_t
filetime_u64(FILETIME ft)
{
	return (uint64_t)ft.dwHighDateTime << 32 | ft.dwLowDateTime;
}

static int
still_running(HANDLE h)
{
	DWORD code;

	return GetExitCodeProcess(h, &code) && code == STILL_ACTIVE;
}

/* UTF-16 (@n units, or -1 for NUL-terminated) to a new UTF-8 string. */
static char *
utf8_from_wide(const WCHAR *w, int n)
{
	int len = WideCharToMultiByte(CP_UTF8, 0, w, n, NULL, 0, NULL, NULL);
	char *s;

	if (len <= 0)
		return strdup("");
	s = malloc((size_t)len + 1);
	if (s == NULL)
		return NULL;
	WideCharToMultiByte(CP_UTF8, 0, w, n, s, len, NULL, NULL);
	s[len] = '\0';
	return s;
}

/* Release cached handles of exited processes; call with the lock held. */
static void
cache_sweep(void)
{
	size_t i;

	for (i = 0; i < CACHE_SIZE; i++) {
		if (cache[i].h != NULL && !still_running(cache[i].h)) {
			CloseHandle(cache[i].h);
			memset(&cache[i], 0, sizeof(cache[i]));
		}
	}
}

/* A handle to @pid, from the cache or newly opened (full access, else
 * limited).  The handle stays owned by the cache.  Call with the lock held. */
static int
process_handle(int pid, HANDLE *h, int *limited, uint64_t *creation)
{
	FILETIME c, e, k, u;
	struct cached_handle *slot = &cache[0];
	HANDLE nh;
	size_t i;

	cache_sweep();
	for (i = 0; i < CACHE_SIZE; i++) {
		if (cache[i].h != NULL && cache[i].pid == pid) {
			cache[i].last_use = ++cache_clock;
			*h = cache[i].h;
			*limited = cache[i].limited;
			*creation = cache[i].creation;
			return 0;
		}
	}
	*limited = 0;
	nh = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, (DWORD)pid);
	if (nh == NULL && GetLastError() == ERROR_ACCESS_DENIED) {
		/* Protected processes: totals only. */
		nh = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
		*limited = 1;
	}
	if (nh == NULL)
		return win_status(GetLastError());
	if (!GetProcessTimes(nh, &c, &e, &k, &u) || !still_running(nh)) {
		CloseHandle(nh);
		return MD_ERR_NOPROC;
	}
	for (i = 0; i < CACHE_SIZE; i++) {
		if (cache[i].h == NULL) {
			slot = &cache[i];
			break;
		}
		if (cache[i].last_use < slot->last_use)
			slot = &cache[i];
	}
	if (slot->h != NULL)
		CloseHandle(slot->h);
	slot->pid = pid;
	slot->limited = *limited;
	slot->creation = filetime_u64(c);
	slot->h = nh;
	slot->last_use = ++cache_clock;
	*h = nh;
	*creation = slot->creation;
	return 0;
}

/* Drop @pid's cached handle (after it turned out to be dead or unusable). */
static void
cache_drop(int pid)
{
	size_t i;

	for (i = 0; i < CACHE_SIZE; i++) {
		if (cache[i].h != NULL && cache[i].pid == pid) {
			CloseHandle(cache[i].h);
			memset(&cache[i], 0, sizeof(cache[i]));
		}
	}
}

/* Read exactly @n bytes at @addr of the target.  Returns 0 or -1. */
static int
read_mem(HANDLE h, uint64_t addr, void *buf, size_t n)
{
	SIZE_T got = 0;

	if (addr == 0 || !ReadProcessMemory(h, (LPCVOID)(ULONG_PTR)addr, buf, n, &got))
		return -1;
	return got == n ? 0 : -1;
}

static uint64_t
get_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The image base name, from QueryFullProcessImageNameW (limited access is
 * enough); left empty when unreadable. */
static int
read_image_name(HANDLE h, struct winraw *raw)
{
	WCHAR image[MAX_PATH * 4];
	DWORD image_len = sizeof(image) / sizeof(image[0]);
	const WCHAR *base = image, *p;
	char *s;

	if (!QueryFullProcessImageNameW(h, 0, image, &image_len))
		return 0;
	for (p = image; *p != 0; p++)
		if (*p == L'\\' || *p == L'/')
			base = p + 1;
	s = utf8_from_wide(base, -1);
	if (s == NULL)
		return MD_ERR_NOMEM;
	snprintf(raw->name, sizeof(raw->name), "%s", s);
	free(s);
	return 0;
}

/* RTL_USER_PROCESS_PARAMETERS.CommandLine of the PEB in @peb; raw->cmdline
 * stays NULL when unreadable. */
static int
read_cmdline(HANDLE h, const unsigned char *peb, struct winraw *raw)
{
	unsigned char us[16]; /* UNICODE_STRING: Length, MaximumLength, Buffer */
	WCHAR *buf = NULL;
	USHORT len;
	int rc = 0;

	if (read_mem(h, get_u64(peb + PEB_PROCESS_PARAMETERS) + PARAMS_COMMAND_LINE, us,
	             sizeof(us)) != 0)
		goto out;
	memcpy(&len, us, sizeof(len));
	if (len == 0)
		goto out;
	buf = malloc(len);
	if (buf == NULL) {
		rc = MD_ERR_NOMEM;
		goto out;
	}
	if (read_mem(h, get_u64(us + 8), buf, len) != 0)
		goto out;
	raw->cmdline = utf8_from_wide(buf, (int)(len / sizeof(WCHAR)));
	if (raw->cmdline == NULL)
		rc = MD_ERR_NOMEM;
out:
	free(buf);
	return rc;
}

/* The heap list of the PEB in @peb: NumberOfHeaps handles (= base
 * addresses) at ProcessHeaps.  wine leaves both 0: unavailable, which is
 * not "no heaps". */
static int
read_heaps(HANDLE h, const unsigned char *peb, struct winraw *raw)
{
	uint64_t list = get_u64(peb + PEB_PROCESS_HEAPS), *heaps = NULL;
	ULONG count, i;
	int rc = 0;

	memcpy(&count, peb + PEB_NUMBER_OF_HEAPS, sizeof(count));
	if (count == 0 || count > MAX_HEAPS || list == 0)
		goto out;
	heaps = malloc(count * sizeof(*heaps));
	if (heaps == NULL) {
		rc = MD_ERR_NOMEM;
		goto out;
	}
	if (read_mem(h, list, heaps, count * sizeof(*heaps)) != 0)
		goto out;
	for (i = 0; i < count && rc == 0; i++)
		if (heaps[i] != 0)
			rc = winraw_add_heap(raw, heaps[i]);
	if (rc == 0)
		raw->heaps_source = WINRAW_AVAILABLE;
out:
	free(heaps);
	return rc;
}

/* Name, command line and heap list.  With limited access only the name. */
static int
read_process_info(HANDLE h, int limited, struct winraw *raw)
{
	static nt_query_process_fn query;
	struct md_process_basic_information pbi;
	unsigned char peb[PEB_READ_SIZE];
	ULONG n;
	int rc;

	raw->heaps_source = WINRAW_UNAVAILABLE;
	rc = read_image_name(h, raw);
	if (rc != 0 || limited)
		return rc;
	if (query == NULL)
		query = (nt_query_process_fn)(void (*)(void))GetProcAddress(
		        GetModuleHandleW(L"ntdll.dll"), "NtQueryInformationProcess");
	if (query == NULL || query(h, 0 /* ProcessBasicInformation */, &pbi, sizeof(pbi), &n) < 0 ||
	    read_mem(h, (uint64_t)(ULONG_PTR)pbi.peb, peb, sizeof(peb)) != 0)
		return 0; /* neither heaps nor command line: both say so */
	rc = read_cmdline(h, peb, raw);
	if (rc == 0)
		rc = read_heaps(h, peb, raw);
	return rc;
}

/* Thread stacks from the TEBs of the target's threads. */
static int
read_threads(int pid, HANDLE h, struct winraw *raw)
{
	static nt_query_thread_fn query;
	THREADENTRY32 te;
	HANDLE snap;
	size_t seen = 0, read_ok = 0;
	int rc = 0;

	raw->threads_source = WINRAW_UNAVAILABLE;
	if (query == NULL)
		query = (nt_query_thread_fn)(void (*)(void))GetProcAddress(
		        GetModuleHandleW(L"ntdll.dll"), "NtQueryInformationThread");
	if (query == NULL)
		return 0;
	snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
	if (snap == INVALID_HANDLE_VALUE)
		return 0;
	te.dwSize = sizeof(te);
	if (!Thread32First(snap, &te))
		goto out;
	do {
		struct md_thread_basic_information tbi;
		struct winraw_thread t;
		unsigned char tib[24];
		HANDLE th;
		ULONG n;

		if (te.th32OwnerProcessID != (DWORD)pid)
			continue;
		seen++;
		th = OpenThread(THREAD_QUERY_INFORMATION, FALSE, te.th32ThreadID);
		if (th == NULL) /* enough for ThreadBasicInformation since Vista */
			th = OpenThread(THREAD_QUERY_LIMITED_INFORMATION, FALSE, te.th32ThreadID);
		if (th == NULL)
			continue;
		if (query(th, 0 /* ThreadBasicInformation */, &tbi, sizeof(tbi), &n) >= 0 &&
		    read_mem(h, (uint64_t)(ULONG_PTR)tbi.teb, tib, sizeof(tib)) == 0) {
			t.tid = te.th32ThreadID;
			t.stack_base = get_u64(tib + TEB_STACK_BASE);
			t.stack_limit = get_u64(tib + TEB_STACK_LIMIT);
			if (t.stack_limit < t.stack_base) {
				rc = winraw_add_thread(raw, &t);
				read_ok++;
			}
		}
		CloseHandle(th);
	} while (rc == 0 && Thread32Next(snap, &te));
out:
	CloseHandle(snap);
	if (seen > 0 && read_ok == seen)
		raw->threads_source = WINRAW_AVAILABLE;
	else if (read_ok > 0)
		raw->threads_source = WINRAW_PARTIAL;
	return rc;
}

/* Device-path prefixes ("\Device\HarddiskVolume3") of the drive letters. */
struct drive_map {
	WCHAR device[26][MAX_PATH];
	size_t len[26];
};

static void
drive_map_init(struct drive_map *m)
{
	WCHAR name[3] = L"A:";
	int i;

	for (i = 0; i < 26; i++) {
		name[0] = (WCHAR)(L'A' + i);
		m->len[i] = 0;
		if (QueryDosDeviceW(name, m->device[i], MAX_PATH) > 0)
			m->len[i] = wcslen(m->device[i]);
	}
}

/* GetMappedFileNameW at @addr as UTF-8 with a drive letter where one maps
 * the device; NULL in *out when the region has no file. */
static int
mapped_name(HANDLE h, const struct drive_map *m, uint64_t addr, char **out)
{
	WCHAR path[MAX_PATH * 4], fixed[MAX_PATH * 4 + 3];
	const WCHAR *use = path;
	DWORD n;
	int i;

	*out = NULL;
	n = GetMappedFileNameW(h, (LPVOID)(ULONG_PTR)addr, path, sizeof(path) / sizeof(path[0]));
	if (n == 0)
		return 0;
	path[n < sizeof(path) / sizeof(path[0]) ? n : n - 1] = 0;
	/* wine answers with NT paths ("\??\C:\windows\..."): drop the prefix. */
	if (wcsncmp(path, L"\\??\\", 4) == 0 && path[4] != 0 && path[5] == L':') {
		*out = utf8_from_wide(path + 4, -1);
		return *out == NULL ? MD_ERR_NOMEM : 0;
	}
	for (i = 0; i < 26; i++) {
		size_t l = m->len[i];

		if (l > 0 && wcsncmp(path, m->device[i], l) == 0 && path[l] == L'\\') {
			fixed[0] = (WCHAR)(L'A' + i);
			fixed[1] = L':';
			wcsncpy(fixed + 2, path + l, sizeof(fixed) / sizeof(fixed[0]) - 3);
			fixed[sizeof(fixed) / sizeof(fixed[0]) - 1] = 0;
			use = fixed;
			break;
		}
	}
	*out = utf8_from_wide(use, -1);
	return *out == NULL ? MD_ERR_NOMEM : 0;
}

/* Resident, private and shared bytes of the committed regions, from
 * QueryWorkingSetEx in batches of WS_BATCH pages. */
static int
read_working_set(HANDLE h, struct winraw *raw, const struct snapshot_opts *opts)
{
	PSAPI_WORKING_SET_EX_INFORMATION *ws = NULL;
	uint64_t pages = 0;
	size_t i;
	int rc = 0;

	raw->working_set_source = WINRAW_UNAVAILABLE;
	for (i = 0; i < raw->n_regions; i++)
		if (raw->regions[i].state == WIN_MEM_COMMIT)
			pages += raw->regions[i].size / PAGE;
	if (pages > WS_BUDGET)
		return 0;
	ws = malloc(WS_BATCH * sizeof(*ws));
	if (ws == NULL)
		return MD_ERR_NOMEM;
	for (i = 0; i < raw->n_regions; i++) {
		struct winraw_region *r = &raw->regions[i];
		uint64_t off = 0;

		if (r->state != WIN_MEM_COMMIT)
			continue;
		while (off < r->size) {
			uint64_t left = (r->size - off) / PAGE;
			DWORD k, batch = left < WS_BATCH ? (DWORD)left : WS_BATCH;

			if (batch == 0)
				break;
			for (k = 0; k < batch; k++)
				ws[k].VirtualAddress = (PVOID)(ULONG_PTR)(r->base + off + k * PAGE);
			if (!QueryWorkingSetEx(h, ws, batch * sizeof(*ws)))
				goto out; /* unavailable: clear what was read */
			for (k = 0; k < batch; k++) {
				if (!ws[k].VirtualAttributes.Valid)
					continue;
				r->resident += PAGE;
				if (ws[k].VirtualAttributes.Shared)
					r->shared_resident += PAGE;
				else
					r->private_resident += PAGE;
			}
			off += (uint64_t)batch * PAGE;
		}
		if (opts->over_budget != NULL && (i % 64) == 63 &&
		    opts->over_budget(opts->budget_arg))
			goto out;
	}
	raw->working_set_source = WINRAW_AVAILABLE;
out:
	if (raw->working_set_source != WINRAW_AVAILABLE)
		for (i = 0; i < raw->n_regions; i++)
			raw->regions[i].resident = raw->regions[i].private_resident =
			        raw->regions[i].shared_resident = 0;
	free(ws);
	return rc;
}

/* The VirtualQueryEx walk: 0 to lpMaximumApplicationAddress; it stops on
 * a zero return or an address that does not increase. */
static int
walk(HANDLE h, struct winraw *raw, const struct snapshot_opts *opts)
{
	struct drive_map *drives = NULL;
	MEMORY_BASIC_INFORMATION mbi;
	SYSTEM_INFO si;
	uint64_t addr = 0, last_alloc = 0;
	char *last_path = NULL;
	size_t stored = 0, polled = 0;
	int rc = 0;

	GetSystemInfo(&si);
	raw->max_address = (uint64_t)(ULONG_PTR)si.lpMaximumApplicationAddress;
	drives = malloc(sizeof(*drives));
	if (drives == NULL)
		return MD_ERR_NOMEM;
	drive_map_init(drives);
	while (addr <= raw->max_address) {
		struct winraw_region r;
		uint64_t next;

		if (VirtualQueryEx(h, (LPCVOID)(ULONG_PTR)addr, &mbi, sizeof(mbi)) == 0)
			break;
		memset(&r, 0, sizeof(r));
		r.base = (uint64_t)(ULONG_PTR)mbi.BaseAddress;
		r.size = mbi.RegionSize;
		r.state = mbi.State;
		next = r.base + r.size;
		if (r.size == 0 || next <= addr)
			break;
		if (r.state != WIN_MEM_FREE) {
			r.allocation_base = (uint64_t)(ULONG_PTR)mbi.AllocationBase;
			r.allocation_protect = mbi.AllocationProtect;
			r.type = mbi.Type;
			/* Protect is undefined for reserved regions. */
			r.protect = r.state == WIN_MEM_COMMIT ? mbi.Protect : 0;
		}
		if (opts->max_regions > 0 && r.state != WIN_MEM_FREE &&
		    stored >= opts->max_regions) {
			raw->truncated = 1;
			break;
		}
		if (++polled % BUDGET_POLL == 0 && opts->over_budget != NULL &&
		    opts->over_budget(opts->budget_arg)) {
			raw->truncated = 1;
			break;
		}
		if (r.type == WIN_MEM_IMAGE || r.type == WIN_MEM_MAPPED) {
			/* One name per allocation: sub-regions share it. */
			if (last_path == NULL || r.allocation_base != last_alloc) {
				free(last_path);
				last_path = NULL;
				rc = mapped_name(h, drives, r.base, &last_path);
				if (rc != 0)
					goto out;
				last_alloc = r.allocation_base;
			}
		}
		rc = winraw_add_region(
		        raw, &r,
		        r.type == WIN_MEM_IMAGE || r.type == WIN_MEM_MAPPED ? last_path : NULL);
		if (rc != 0)
			goto out;
		if (r.state != WIN_MEM_FREE)
			stored++;
		addr = next;
	}
out:
	free(last_path);
	free(drives);
	return rc;
}

/* Fill @raw for @pid.  The cache lock must be held. */
static int
collect_raw(int pid, const struct snapshot_opts *opts, struct winraw *raw)
{
	PROCESS_MEMORY_COUNTERS_EX pmc;
	uint64_t creation = 0;
	HANDLE h = NULL;
	int limited = 0, rc;

	rc = process_handle(pid, &h, &limited, &creation);
	if (rc != 0)
		return rc;
	raw->pid = pid;
	raw->limited = limited;
	raw->start_time = creation;
	raw->start_time_ms = creation > FILETIME_UNIX_EPOCH
	                             ? (int64_t)((creation - FILETIME_UNIX_EPOCH) / 10000)
	                             : 0;
	memset(&pmc, 0, sizeof(pmc));
	pmc.cb = sizeof(pmc);
	if (GetProcessMemoryInfo(h, (PROCESS_MEMORY_COUNTERS *)&pmc, sizeof(pmc))) {
		raw->private_usage = pmc.PrivateUsage;
		raw->working_set = pmc.WorkingSetSize;
	}
	rc = read_process_info(h, limited, raw);
	if (rc == 0 && !limited)
		rc = read_threads(pid, h, raw);
	if (rc == 0 && !limited)
		rc = walk(h, raw, opts);
	/* For the collector's own process the pseudo-handle: the same on
	 * Windows, and the only one wine's QueryWorkingSetEx accepts. */
	if (rc == 0 && !limited)
		rc = read_working_set((DWORD)pid == GetCurrentProcessId() ? GetCurrentProcess() : h,
		                      raw, opts);
	if (rc == 0 && raw->cmdline == NULL)
		rc = winraw_set_cmdline(raw, raw->name);
	if (rc == 0 && !still_running(h))
		rc = MD_ERR_NOPROC;
	if (rc == 0 && !limited && raw->n_regions == 0)
		rc = win_status(GetLastError());
	if (rc == MD_ERR_NOPROC)
		cache_drop(pid);
	return rc;
}

int
snapshot_collect(int pid, const struct snapshot_opts *opts, struct snapshot **out)
{
	static const struct snapshot_opts defaults;
	struct snapshot *s = NULL;
	struct winraw raw;
	int rc;

	*out = NULL;
	if (pid <= 0)
		return MD_ERR_NOPROC;
	if (opts == NULL)
		opts = &defaults;
	winraw_init(&raw);
	AcquireSRWLockExclusive(&cache_lock);
	rc = collect_raw(pid, opts, &raw);
	ReleaseSRWLockExclusive(&cache_lock);
	if (rc == 0)
		rc = snapshot_new(&s);
	if (rc == 0)
		rc = windows_classify(&raw, s);
	winraw_done(&raw);
	if (rc != 0) {
		snapshot_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int
snapshot_record_raw(int pid, FILE *out)
{
	static const struct snapshot_opts defaults;
	struct winraw raw;
	int rc;

	if (pid <= 0)
		return MD_ERR_NOPROC;
	winraw_init(&raw);
	AcquireSRWLockExclusive(&cache_lock);
	rc = collect_raw(pid, &defaults, &raw);
	ReleaseSRWLockExclusive(&cache_lock);
	if (rc == 0)
		rc = winraw_write(&raw, out);
	if (rc == 0 && fflush(out) != 0)
		rc = MD_ERR_IO;
	winraw_done(&raw);
	return rc;
}

/* No cheap probe on Windows yet (a VirtualQueryEx walk is the structure, and
 * costs what the snapshot's walk costs): the daemon reads every tick. */
int
snapshot_probe(int pid, const struct snapshot_opts *opts, unsigned what, struct snapshot_probe *out)
{
	(void)pid;
	(void)opts;
	(void)what;
	memset(out, 0, sizeof(*out));
	return MD_ERR_UNSUPPORTED;
}
