/*
 * proclist_windows.c - proc_list_read() (targets.h) on Windows: the
 * processes of a Toolhelp32 snapshot; per process its executable name (comm,
 * argv0_base and exe_base alike, "w3wp.exe"), its creation time
 * (GetProcessTimes, the identity snapshot/windows.c records), PrivateUsage
 * (GetProcessMemoryInfo) to rank the automatic top N, whether it opens with
 * PROCESS_QUERY_INFORMATION | PROCESS_VM_READ (what the collector needs), and
 * its command line where readable (NtQueryInformationProcess
 * ProcessCommandLineInformation, Windows 8.1+; else the PEB's
 * ProcessParameters, which is what wine answers), else the executable name.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <psapi.h>
#include <tlhelp32.h>
#include <winternl.h>

#include "snapshot/compat/compat.h"
#include "daemon/targets.h"
#include "snapshot/mderr.h"

#define CMDLINE_INFO_CLASS 60 /* ProcessCommandLineInformation */
#define CMDLINE_MAX        32768

static void
to_utf8(const wchar_t *w, char *buf, size_t len)
{
	if (WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, (int)len, NULL, NULL) == 0)
		buf[0] = '\0';
}

/* @n UTF-16 units at @w as UTF-8 (malloc'd), or NULL. */
static char *
utf16_dup(const wchar_t *w, int n)
{
	int len = WideCharToMultiByte(CP_UTF8, 0, w, n, NULL, 0, NULL, NULL);
	char *out;

	if (len <= 0)
		return NULL;
	out = malloc((size_t)len + 1);
	if (out == NULL)
		return NULL;
	WideCharToMultiByte(CP_UTF8, 0, w, n, out, len, NULL, NULL);
	out[len] = '\0';
	return out;
}

/* The command line from the process's PEB (ProcessParameters->CommandLine,
 * read with ReadProcessMemory): every Windows version, and wine, which does
 * not answer ProcessCommandLineInformation. */
static char *
command_line_peb(HANDLE h)
{
	PROCESS_BASIC_INFORMATION pbi;
	PEB peb;
	RTL_USER_PROCESS_PARAMETERS upp;
	wchar_t *w = NULL;
	char *out = NULL;
	ULONG got = 0;
	SIZE_T n = 0;

	if (NtQueryInformationProcess(h, ProcessBasicInformation, &pbi, sizeof(pbi), &got) != 0 ||
	    pbi.PebBaseAddress == NULL)
		goto out;
	if (!ReadProcessMemory(h, pbi.PebBaseAddress, &peb, sizeof(peb), &n) || n != sizeof(peb) ||
	    peb.ProcessParameters == NULL)
		goto out;
	if (!ReadProcessMemory(h, peb.ProcessParameters, &upp, sizeof(upp), &n) ||
	    n != sizeof(upp) || upp.CommandLine.Buffer == NULL || upp.CommandLine.Length == 0)
		goto out;
	w = malloc(upp.CommandLine.Length);
	if (w == NULL)
		goto out;
	if (!ReadProcessMemory(h, upp.CommandLine.Buffer, w, upp.CommandLine.Length, &n) ||
	    n != upp.CommandLine.Length)
		goto out;
	out = utf16_dup(w, (int)(n / sizeof(wchar_t)));
out:
	free(w);
	return out;
}

/* The command line of @h in UTF-8 (malloc'd), or NULL: the documented
 * ProcessCommandLineInformation (Windows 8.1+) first, else the PEB. */
static char *
command_line(HANDLE h)
{
	ULONG need = 0;
	UNICODE_STRING *us = NULL;
	char *out = NULL;

	us = malloc(sizeof(*us) + CMDLINE_MAX * sizeof(wchar_t));
	if (us == NULL)
		goto out;
	if (NtQueryInformationProcess(h, (PROCESSINFOCLASS)CMDLINE_INFO_CLASS, us,
	                              (ULONG)(sizeof(*us) + CMDLINE_MAX * sizeof(wchar_t)),
	                              &need) == 0 &&
	    us->Buffer != NULL && us->Length > 0)
		out = utf16_dup(us->Buffer, us->Length / 2);
	else
		out = command_line_peb(h);
out:
	free(us);
	return out;
}

/* Fill @pi from @pe; returns 0, 1 to skip the process, or MD_ERR_NOMEM. */
static int
read_one(const PROCESSENTRY32W *pe, struct proc_info *pi)
{
	HANDLE h;
	FILETIME c, e, k, u;
	PROCESS_MEMORY_COUNTERS_EX pmc;

	memset(pi, 0, sizeof(*pi));
	pi->pid = (int)pe->th32ProcessID;
	to_utf8(pe->szExeFile, pi->comm, sizeof(pi->comm));
	to_utf8(pe->szExeFile, pi->argv0_base, sizeof(pi->argv0_base));
	to_utf8(pe->szExeFile, pi->exe_base, sizeof(pi->exe_base));
	h = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, pe->th32ProcessID);
	if (h != NULL)
		pi->readable = 1;
	else
		h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pe->th32ProcessID);
	if (h == NULL)
		return 1; /* exited, or protected beyond the limited query */
	if (GetProcessTimes(h, &c, &e, &k, &u))
		pi->start_time = ((uint64_t)c.dwHighDateTime << 32) | c.dwLowDateTime;
	memset(&pmc, 0, sizeof(pmc));
	if (GetProcessMemoryInfo(h, (PROCESS_MEMORY_COUNTERS *)&pmc, sizeof(pmc)))
		pi->private_bytes = pmc.PrivateUsage;
	pi->cmdline = command_line(h);
	CloseHandle(h);
	if (pi->cmdline == NULL)
		pi->cmdline = strndup(pi->comm, sizeof(pi->comm));
	return pi->cmdline == NULL ? MD_ERR_NOMEM : 0;
}

int
proc_list_read(const char *proc_root, const struct proc_list *prev, struct proc_list *out)
{
	(void)prev; /* one Toolhelp32 snapshot gives everything at once */
	struct proc_list l = {NULL, 0};
	size_t cap = 0;
	PROCESSENTRY32W pe;
	HANDLE snap = INVALID_HANDLE_VALUE;
	int status = 0;

	memset(out, 0, sizeof(*out));
	if (proc_root != NULL)
		return MD_ERR_IO;
	snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
	if (snap == INVALID_HANDLE_VALUE)
		return MD_ERR_IO;
	pe.dwSize = sizeof(pe);
	for (BOOL more = Process32FirstW(snap, &pe); more; more = Process32NextW(snap, &pe)) {
		int rc;

		if (pe.th32ProcessID == 0)
			continue; /* the idle process */
		if (l.n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct proc_info *v = realloc(l.procs, ncap * sizeof(*v));

			if (v == NULL) {
				status = MD_ERR_NOMEM;
				goto out;
			}
			l.procs = v;
			cap = ncap;
		}
		rc = read_one(&pe, &l.procs[l.n]);
		if (rc == MD_ERR_NOMEM) {
			status = rc;
			goto out;
		}
		if (rc == 0)
			l.n++;
	}
	*out = l;
	l.procs = NULL;
	l.n = 0;
out:
	proc_list_free(&l);
	CloseHandle(snap);
	return status;
}
