/*
 * sinks_windows.c - sinks_os.h on Windows.  The command runs with
 * CreateProcessW: the configured path as the application (UTF-8 to UTF-16,
 * no search, no shell), the command line quoted by sinks_cmdline.c so the C
 * runtime splits it back into the configured argv; its stdin is the client
 * end of a private named pipe that this thread writes with overlapped I/O,
 * so a command that does not read cannot block it past the timeout; stdout
 * and stderr go to NUL; only those handles are inherited.  The process
 * starts suspended and is put in a Job object with KILL_ON_JOB_CLOSE before
 * it runs: a timeout ends the whole tree it started, and so does closing
 * the job once the command exits (what it left running is ended with it).
 * The webhook POSTs with WinHTTP; the syslog sink writes to the Application
 * Event Log (os_syslog_write, source memdeltad).
 */
#include "config.h"

#include <windows.h>
#include <winhttp.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "daemon/os.h"
#include "daemon/sinks_cmdline.h"
#include "daemon/sinks_os.h"
#include "snapshot/mderr.h"

#define PIPE_CHUNK        65536
#define EXEC_CUT_SLICE_MS 100

int
sinks_os_init(int http, int syslog_sink)
{
	(void)http; /* WinHTTP needs no global set-up: a session per POST */
	if (syslog_sink)
		os_syslog_open("memdeltad"); /* a no-op when the log already opened it */
	return 0;
}

void
sinks_os_cleanup(int http, int syslog_sink)
{
	(void)http;
	(void)syslog_sink; /* the event source stays the log's */
}

void
sinks_os_cond_init(pthread_cond_t *cv)
{
	/* winpthreads' pthread_cond_timedwait reads its deadline on the
	 * realtime clock whatever the attribute says. */
	pthread_cond_init(cv, NULL);
}

/* winpthreads' pthread_cond_timedwait turns the deadline into a wait
 * relative to GetSystemTimeAsFileTime (the realtime clock): the deadline is
 * read from the same source, not through clock_gettime, which a static
 * library may replace (Check's MinGW build brings a stub that returns 0). */
void
sinks_os_deadline(int64_t ms, struct timespec *ts)
{
	FILETIME ft;
	ULARGE_INTEGER t;
	uint64_t u;

	GetSystemTimeAsFileTime(&ft);
	t.LowPart = ft.dwLowDateTime;
	t.HighPart = ft.dwHighDateTime;
	/* 100 ns units since 1601 to since 1970, plus @ms */
	u = t.QuadPart - 116444736000000000ull + (uint64_t)ms * 10000u;
	ts->tv_sec = (time_t)(u / 10000000u);
	ts->tv_nsec = (long)(u % 10000000u) * 100;
}

int64_t
sinks_os_now_ms(void)
{
	return (int64_t)GetTickCount64();
}

void
sinks_os_worker_init(void)
{
	/* no SIGPIPE: a broken pipe is an error from WriteFile */
}

/* The UTF-16 copy of UTF-8 @s (malloc'd), NULL when @s is not valid UTF-8
 * or memory is short. */
static wchar_t *
to_wide(const char *s)
{
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
	wchar_t *w;

	if (n <= 0)
		return NULL;
	w = malloc((size_t)n * sizeof(*w));
	if (w != NULL && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
		free(w);
		w = NULL;
	}
	return w;
}

/* The system's text for error @e into @buf (its number when it has none). */
static const char *
win_strerror(DWORD e, char *buf, size_t len)
{
	DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
	                         e, 0, buf, (DWORD)len, NULL);

	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == '.'))
		buf[--n] = '\0';
	if (n == 0)
		snprintf(buf, len, "error %lu", (unsigned long)e);
	return buf;
}

/* ---- exec ------------------------------------------------------------------ */

/* Write @len bytes of @buf to the overlapped pipe @h until @deadline
 * (sinks_os_now_ms).  0, or -1 when the reader went away or time ran out
 * (the write is then cancelled). */
static int
write_until(HANDLE h, HANDLE ev, const char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		OVERLAPPED ov;
		DWORD n = 0, chunk = len > PIPE_CHUNK ? PIPE_CHUNK : (DWORD)len;
		int64_t left = deadline - sinks_os_now_ms();

		if (left <= 0)
			return -1;
		memset(&ov, 0, sizeof(ov));
		ov.hEvent = ev;
		ResetEvent(ev);
		if (!WriteFile(h, buf, chunk, NULL, &ov)) {
			if (GetLastError() != ERROR_IO_PENDING)
				return -1; /* ERROR_NO_DATA, ERROR_BROKEN_PIPE: it closed stdin */
			if (WaitForSingleObject(ev, (DWORD)left) != WAIT_OBJECT_0) {
				CancelIo(h);
				(void)GetOverlappedResult(h, &ov, &n, TRUE);
				return -1;
			}
		}
		if (!GetOverlappedResult(h, &ov, &n, FALSE))
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

int
sinks_os_exec(char *const argv[], const char *json, unsigned timeout_s, const atomic_int *cut)
{
	static volatile LONG serial;
	const char *path = argv[0];
	int64_t deadline = sinks_os_now_ms() + (int64_t)timeout_s * 1000;
	char *cmd = NULL, name[96], err[256];
	wchar_t *wpath = NULL, *wcmd = NULL, *wname = NULL;
	HANDLE wr = INVALID_HANDLE_VALUE, rd = INVALID_HANDLE_VALUE, nul = INVALID_HANDLE_VALUE;
	HANDLE job = NULL, ev = NULL, inherit[2];
	PROCESS_INFORMATION pi = {NULL, NULL, 0, 0};
	STARTUPINFOEXW si;
	LPPROC_THREAD_ATTRIBUTE_LIST attrs = NULL;
	SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
	JOBOBJECT_EXTENDED_LIMIT_INFORMATION lim;
	OVERLAPPED ov;
	SIZE_T attr_size = 0;
	DWORD code = 0, w;
	int64_t left;
	int ok = 0, rc, attrs_init = 0, in_job = 0;

	rc = sinks_cmdline_build((const char *const *)argv, &cmd);
	if (rc != 0) {
		log_warn("alert command %s: %s", path, md_strerror(rc));
		goto out;
	}
	snprintf(name, sizeof(name), "\\\\.\\pipe\\memdeltad-sink-%lu-%ld",
	         (unsigned long)GetCurrentProcessId(), (long)InterlockedIncrement(&serial));
	wpath = to_wide(path);
	wcmd = to_wide(cmd);
	wname = to_wide(name);
	if (wpath == NULL || wcmd == NULL || wname == NULL) {
		log_warn("alert command %s: not UTF-8, or out of memory", path);
		goto out;
	}

	/* Our end: overlapped, so that a write can give up at the deadline.
	 * One instance, created first: were another client to connect before
	 * the open below, that open fails and the alert is not sent to it. */
	wr = CreateNamedPipeW(
	        wname, PIPE_ACCESS_OUTBOUND | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
	        PIPE_TYPE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, PIPE_CHUNK, 0, 0, NULL);
	if (wr == INVALID_HANDLE_VALUE) {
		log_warn("alert command %s: pipe: %s", path,
		         win_strerror(GetLastError(), err, sizeof(err)));
		goto out;
	}
	rd = CreateFileW(wname, GENERIC_READ, 0, &sa, OPEN_EXISTING, 0, NULL);
	ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (rd == INVALID_HANDLE_VALUE || ev == NULL) {
		log_warn("alert command %s: pipe: %s", path,
		         win_strerror(GetLastError(), err, sizeof(err)));
		goto out;
	}
	memset(&ov, 0, sizeof(ov));
	ov.hEvent = ev;
	if (!ConnectNamedPipe(wr, &ov) && GetLastError() != ERROR_PIPE_CONNECTED) {
		log_warn("alert command %s: pipe: %s", path,
		         win_strerror(GetLastError(), err, sizeof(err)));
		goto out;
	}
	nul = CreateFileW(L"NUL", GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
	                  OPEN_EXISTING, 0, NULL);
	if (nul == INVALID_HANDLE_VALUE) {
		log_warn("alert command %s: NUL: %s", path,
		         win_strerror(GetLastError(), err, sizeof(err)));
		goto out;
	}

	/* Only the child's three standard handles are inherited, not what
	 * other threads may have made inheritable at the same moment. */
	(void)InitializeProcThreadAttributeList(NULL, 1, 0, &attr_size);
	attrs = malloc(attr_size);
	if (attrs == NULL || !InitializeProcThreadAttributeList(attrs, 1, 0, &attr_size)) {
		log_warn("alert command %s: out of memory", path);
		goto out;
	}
	attrs_init = 1;
	inherit[0] = rd;
	inherit[1] = nul;
	if (!UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherit,
	                               sizeof(inherit), NULL, NULL)) {
		log_warn("alert command %s: %s", path,
		         win_strerror(GetLastError(), err, sizeof(err)));
		goto out;
	}
	job = CreateJobObjectW(NULL, NULL);
	memset(&lim, 0, sizeof(lim));
	lim.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
	if (job == NULL ||
	    !SetInformationJobObject(job, JobObjectExtendedLimitInformation, &lim, sizeof(lim))) {
		log_warn("alert command %s: job object: %s", path,
		         win_strerror(GetLastError(), err, sizeof(err)));
		goto out;
	}
	memset(&si, 0, sizeof(si));
	si.StartupInfo.cb = sizeof(si);
	si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
	si.StartupInfo.hStdInput = rd;
	si.StartupInfo.hStdOutput = nul;
	si.StartupInfo.hStdError = nul;
	si.lpAttributeList = attrs;
	if (!CreateProcessW(wpath, wcmd, NULL, NULL, TRUE,
	                    CREATE_SUSPENDED | CREATE_NO_WINDOW | EXTENDED_STARTUPINFO_PRESENT,
	                    NULL, NULL, &si.StartupInfo, &pi)) {
		pi.hProcess = pi.hThread = NULL;
		log_warn("alert command %s: %s", path,
		         win_strerror(GetLastError(), err, sizeof(err)));
		goto out;
	}
	/* Windows 7 refuses a second job for a process already in one (a
	 * service host's, say): the command then runs, and a timeout ends
	 * the command alone. */
	in_job = AssignProcessToJobObject(job, pi.hProcess) != 0;
	if (!in_job)
		log_debug("alert command %s: not in a job object: %s", path,
		          win_strerror(GetLastError(), err, sizeof(err)));
	ResumeThread(pi.hThread);
	CloseHandle(rd);
	rd = INVALID_HANDLE_VALUE;
	CloseHandle(nul);
	nul = INVALID_HANDLE_VALUE;

	if (write_until(wr, ev, json, strlen(json), deadline) != 0 ||
	    write_until(wr, ev, "\n", 1, deadline) != 0)
		log_debug("alert command %s: it did not read the whole alert", path);
	CloseHandle(wr);
	wr = INVALID_HANDLE_VALUE;

	/* in slices, so that a stop (*cut) is seen within EXEC_CUT_SLICE_MS */
	do {
		left = deadline - sinks_os_now_ms();
		if (left > EXEC_CUT_SLICE_MS)
			left = EXEC_CUT_SLICE_MS;
		w = WaitForSingleObject(pi.hProcess, left > 0 ? (DWORD)left : 0);
	} while (w == WAIT_TIMEOUT && deadline > sinks_os_now_ms() &&
	         (cut == NULL || !atomic_load(cut)));
	if (w != WAIT_OBJECT_0) {
		if (cut != NULL && atomic_load(cut))
			log_warn("alert command %s: still running when memdeltad stops: killed",
			         path);
		else
			log_warn("alert command %s: no exit after %u s: killed", path, timeout_s);
		if (in_job)
			TerminateJobObject(job, 1);
		else
			TerminateProcess(pi.hProcess, 1);
		(void)WaitForSingleObject(pi.hProcess, 10000);
	} else if (!GetExitCodeProcess(pi.hProcess, &code)) {
		log_warn("alert command %s: exit status unknown: %s", path,
		         win_strerror(GetLastError(), err, sizeof(err)));
	} else if (code == 0) {
		ok = 1;
	} else {
		log_warn("alert command %s: exit status %lu", path, (unsigned long)code);
	}
out:
	if (pi.hThread != NULL)
		CloseHandle(pi.hThread);
	if (pi.hProcess != NULL)
		CloseHandle(pi.hProcess);
	if (job != NULL)
		CloseHandle(job); /* KILL_ON_JOB_CLOSE: what the command left running */
	if (attrs_init)
		DeleteProcThreadAttributeList(attrs);
	free(attrs);
	if (wr != INVALID_HANDLE_VALUE)
		CloseHandle(wr);
	if (rd != INVALID_HANDLE_VALUE)
		CloseHandle(rd);
	if (nul != INVALID_HANDLE_VALUE)
		CloseHandle(nul);
	if (ev != NULL)
		CloseHandle(ev);
	free(wname);
	free(wcmd);
	free(wpath);
	free(cmd);
	return ok;
}

/* ---- webhook ----------------------------------------------------------------- */

/* WinHTTP's errors (12001-12186) have their text in winhttp.dll, not the
 * system's table: the common ones by name. */
static void
hook_error(const char *what, char *why, size_t whylen)
{
	static const struct {
		DWORD code;
		const char *text;
	} names[] = {
	        {ERROR_WINHTTP_TIMEOUT, "timed out"},
	        {ERROR_WINHTTP_NAME_NOT_RESOLVED, "host name not resolved"},
	        {ERROR_WINHTTP_CANNOT_CONNECT, "cannot connect"},
	        {ERROR_WINHTTP_CONNECTION_ERROR, "connection reset"},
	        {ERROR_WINHTTP_INVALID_URL, "invalid URL"},
	        {ERROR_WINHTTP_UNRECOGNIZED_SCHEME, "not http or https"},
	        {ERROR_WINHTTP_INVALID_SERVER_RESPONSE, "invalid answer"},
	        {ERROR_WINHTTP_SECURE_FAILURE, "TLS failure"},
	};
	DWORD e = GetLastError();
	char err[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == e) {
			snprintf(why, whylen, "%s: %s", what, names[i].text);
			return;
		}
	if (e >= WINHTTP_ERROR_BASE && e <= WINHTTP_ERROR_LAST)
		snprintf(why, whylen, "%s: WinHTTP error %lu", what, (unsigned long)e);
	else
		snprintf(why, whylen, "%s: %s", what, win_strerror(e, err, sizeof(err)));
}

int
sinks_os_http_post(const char *url, const char *body, size_t len, unsigned timeout_s,
                   const atomic_int *cut, char *why, size_t whylen)
{
	wchar_t *wurl = NULL, *host = NULL, *path = NULL;
	URL_COMPONENTS uc;
	HINTERNET ses = NULL, con = NULL, req = NULL;
	DWORD status = 0, size = sizeof(status), opt = WINHTTP_DISABLE_REDIRECTS;
	int ms = (int)(timeout_s > 2000000 ? 2000000000 : timeout_s * 1000);
	size_t plen;
	int ok = 0;

	(void)cut; /* synchronous WinHTTP: bounded by the timeouts alone */
	why[0] = '\0';
	wurl = to_wide(url);
	if (wurl == NULL) {
		snprintf(why, whylen, "URL not UTF-8, or out of memory");
		goto out;
	}
	memset(&uc, 0, sizeof(uc));
	uc.dwStructSize = sizeof(uc);
	uc.dwHostNameLength = 1; /* non-zero with a NULL pointer: point into wurl */
	uc.dwUrlPathLength = 1;
	uc.dwExtraInfoLength = 1;
	if (!WinHttpCrackUrl(wurl, 0, 0, &uc)) {
		hook_error("URL", why, whylen);
		goto out;
	}
	if (uc.nScheme != INTERNET_SCHEME_HTTP && uc.nScheme != INTERNET_SCHEME_HTTPS) {
		snprintf(why, whylen, "not an http or https URL");
		goto out;
	}
	host = calloc(uc.dwHostNameLength + 1, sizeof(*host));
	plen = uc.dwUrlPathLength + uc.dwExtraInfoLength; /* the query follows the path */
	path = calloc(plen + 2, sizeof(*path));
	if (host == NULL || path == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	memcpy(host, uc.lpszHostName, uc.dwHostNameLength * sizeof(*host));
	if (uc.dwUrlPathLength == 0) {
		path[0] = L'/';
		if (uc.dwExtraInfoLength > 0)
			memcpy(path + 1, uc.lpszExtraInfo, uc.dwExtraInfoLength * sizeof(*path));
	} else {
		memcpy(path, uc.lpszUrlPath, plen * sizeof(*path));
	}

	ses = WinHttpOpen(L"memdeltad/" PACKAGE_VERSION, WINHTTP_ACCESS_TYPE_DEFAULT_PROXY,
	                  WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
	if (ses == NULL || !WinHttpSetTimeouts(ses, ms, ms, ms, ms)) {
		hook_error("session", why, whylen);
		goto out;
	}
	con = WinHttpConnect(ses, host, uc.nPort, 0);
	if (con == NULL) {
		hook_error("connect", why, whylen);
		goto out;
	}
	req = WinHttpOpenRequest(con, L"POST", path, NULL, WINHTTP_NO_REFERER,
	                         WINHTTP_DEFAULT_ACCEPT_TYPES,
	                         uc.nScheme == INTERNET_SCHEME_HTTPS ? WINHTTP_FLAG_SECURE : 0);
	if (req == NULL ||
	    !WinHttpSetOption(req, WINHTTP_OPTION_DISABLE_FEATURE, &opt, sizeof(opt))) {
		hook_error("request", why, whylen);
		goto out;
	}
	if (!WinHttpSendRequest(req, L"Content-Type: application/json\r\n", (DWORD)-1L,
	                        (LPVOID)body, (DWORD)len, (DWORD)len, 0) ||
	    !WinHttpReceiveResponse(req, NULL)) {
		hook_error("POST", why, whylen);
		goto out;
	}
	if (!WinHttpQueryHeaders(req, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
	                         WINHTTP_HEADER_NAME_BY_INDEX, &status, &size,
	                         WINHTTP_NO_HEADER_INDEX)) {
		hook_error("status", why, whylen);
		goto out;
	}
	ok = status >= 200 && status <= 299;
	if (!ok)
		snprintf(why, whylen, "HTTP status %lu", (unsigned long)status);
out:
	if (req != NULL)
		WinHttpCloseHandle(req);
	if (con != NULL)
		WinHttpCloseHandle(con);
	if (ses != NULL)
		WinHttpCloseHandle(ses);
	free(path);
	free(host);
	free(wurl);
	return ok;
}

/* ---- syslog ------------------------------------------------------------------ */

void
sinks_os_syslog(int resolved, const char *summary, const char *json)
{
	static const char prefix[] = "memdelta alert: ";
	size_t n = sizeof(prefix) + strlen(summary) + 1 + strlen(json);
	char *msg = malloc(n);

	if (msg == NULL) {
		os_syslog_write(resolved ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, summary);
		return;
	}
	snprintf(msg, n, "%s%s %s", prefix, summary, json);
	os_syslog_write(resolved ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, msg);
	free(msg);
}
