/*
 * sinkcat.c - the command an alert's exec sink runs in the Windows tests
 * (tests/check_sinks.c cross-built, tests/test_wine_service.sh), under wine.
 * Plain Win32 and the C runtime, no memdelta code; built with -municode so
 * that its arguments come from the C runtime's own parse of the command
 * line (wmain), which is what daemon/sinks_cmdline.c has to match.
 *
 * Usage: sinkcat.exe OUT [MODE [ARG...]]
 *   (no MODE)  copy stdin to the file OUT byte for byte, exit 0
 *   N          the same, then exit with status N (a number)
 *   hang       copy stdin to OUT, write this process's id to OUT.pid, then
 *              sleep until killed
 *   hangtree   start "sinkcat OUT.child hang" (stdin from NUL), wait for its
 *              OUT.child.pid, then behave as hang: a tree to kill
 *   argv       do not read stdin; write every ARG to OUT in UTF-8, each
 *              followed by a NUL byte, exit 0
 * OUT is written to OUT.tmp and renamed when complete, so a reader never
 * sees half a file.  Exit status 100 on a usage or I/O error.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static wchar_t *
suffixed(const wchar_t *path, const wchar_t *suffix)
{
	size_t n = wcslen(path) + wcslen(suffix) + 1;
	wchar_t *w = malloc(n * sizeof(*w));

	if (w == NULL)
		exit(100);
	wcscpy(w, path);
	wcscat(w, suffix);
	return w;
}

/* Write @len bytes to @path through @path.tmp and a rename. */
static void
put_file(const wchar_t *path, const char *data, size_t len)
{
	wchar_t *tmp = suffixed(path, L".tmp");
	FILE *f = _wfopen(tmp, L"wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		exit(100);
	if (!MoveFileExW(tmp, path, MOVEFILE_REPLACE_EXISTING))
		exit(100);
	free(tmp);
}

static char *
read_stdin(size_t *len)
{
	HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	DWORD got;

	if (buf == NULL)
		exit(100);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				exit(100);
		}
		if (!ReadFile(in, buf + n, (DWORD)(cap - n), &got, NULL) || got == 0)
			break; /* end of file (ERROR_BROKEN_PIPE from a pipe) */
		n += got;
	}
	*len = n;
	return buf;
}

static void
put_pid(const wchar_t *out)
{
	char text[32];
	wchar_t *pidf = suffixed(out, L".pid");

	snprintf(text, sizeof(text), "%lu\n", (unsigned long)GetCurrentProcessId());
	put_file(pidf, text, strlen(text));
	free(pidf);
}

static void
start_child(const wchar_t *self, const wchar_t *out)
{
	wchar_t *child_out = suffixed(out, L".child");
	wchar_t *pidf = suffixed(child_out, L".pid");
	size_t n = wcslen(self) + wcslen(child_out) + 16;
	wchar_t *cmd = malloc(n * sizeof(*cmd));
	STARTUPINFOW si;
	PROCESS_INFORMATION pi;
	SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
	HANDLE nul =
	        CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, 3, &sa, OPEN_EXISTING, 0, NULL);

	if (cmd == NULL || nul == INVALID_HANDLE_VALUE)
		exit(100);
	/* the test's paths hold no quotes */
	_snwprintf(cmd, n, L"\"%ls\" \"%ls\" hang", self, child_out);
	cmd[n - 1] = L'\0';
	memset(&si, 0, sizeof(si));
	si.cb = sizeof(si);
	si.dwFlags = STARTF_USESTDHANDLES;
	si.hStdInput = si.hStdOutput = si.hStdError = nul;
	if (!CreateProcessW(self, cmd, NULL, NULL, TRUE, CREATE_NO_WINDOW, NULL, NULL, &si, &pi))
		exit(100);
	CloseHandle(pi.hThread);
	CloseHandle(pi.hProcess);
	for (int i = 0; i < 600 && GetFileAttributesW(pidf) == INVALID_FILE_ATTRIBUTES; i++)
		Sleep(50);
	free(cmd);
	free(pidf);
	free(child_out);
}

int
wmain(int argc, wchar_t **argv)
{
	const wchar_t *mode = argc > 2 ? argv[2] : L"";
	size_t len = 0;
	char *data;

	if (argc < 2)
		return 100;
	if (wcscmp(mode, L"argv") == 0) {
		size_t cap = 1, n = 0;

		for (int i = 3; i < argc; i++)
			cap += (size_t)WideCharToMultiByte(CP_UTF8, 0, argv[i], -1, NULL, 0, NULL,
			                                   NULL);
		data = malloc(cap);
		if (data == NULL)
			return 100;
		for (int i = 3; i < argc; i++)
			n += (size_t)WideCharToMultiByte(CP_UTF8, 0, argv[i], -1, data + n,
			                                 (int)(cap - n), NULL,
			                                 NULL); /* with its NUL */
		put_file(argv[1], data, n);
		return 0;
	}
	if (wcscmp(mode, L"hangtree") == 0) {
		static wchar_t self[32768];

		if (GetModuleFileNameW(NULL, self, 32768) == 0)
			return 100;
		start_child(self, argv[1]);
	}
	data = read_stdin(&len);
	put_file(argv[1], data, len);
	if (wcscmp(mode, L"hang") == 0 || wcscmp(mode, L"hangtree") == 0) {
		put_pid(argv[1]);
		for (;;)
			Sleep(INFINITE);
	}
	return mode[0] != L'\0' ? _wtoi(mode) : 0;
}
