/*
 * os_windows.c - the OS contract of daemon/ (os.h) on Windows: a stop event
 * set by the console's Ctrl-C / Ctrl-Break / close and by the service
 * control handler (service_windows.c), drive-letter and UNC paths, no
 * detaching, and %ProgramData% as the root of the default state directory.
 */
#include "config.h"

#include <direct.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "daemon/daemon_config.h"
#include "daemon/os.h"
#include "snapshot/mderr.h"

#define NS_PER_MS 1000000ull

static HANDLE stop_event;
static volatile LONG stop_requested;

static BOOL WINAPI
console_handler(DWORD type)
{
	switch (type) {
	case CTRL_C_EVENT:
	case CTRL_BREAK_EVENT:
	case CTRL_CLOSE_EVENT:
		os_stop_request();
		return TRUE;
	default:
		return FALSE;
	}
}

int
os_events_init(void)
{
	if (stop_event == NULL)
		stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (stop_event == NULL)
		return MD_ERR_IO;
	if (stop_requested)
		SetEvent(stop_event);
	(void)SetConsoleCtrlHandler(console_handler, TRUE);
	return 0;
}

enum os_event
os_event_wait(uint64_t timeout_ns)
{
	uint64_t ms = (timeout_ns + NS_PER_MS - 1) / NS_PER_MS;

	if (stop_event == NULL)
		return OS_EVENT_TIMEOUT;
	if (ms >= INFINITE)
		ms = INFINITE - 1;
	if (WaitForSingleObject(stop_event, (DWORD)ms) == WAIT_OBJECT_0)
		return OS_EVENT_STOP;
	return OS_EVENT_TIMEOUT;
}

int
os_stop_pending(void)
{
	return stop_requested != 0;
}

void
os_stop_request(void)
{
	InterlockedExchange(&stop_requested, 1);
	if (stop_event != NULL)
		SetEvent(stop_event);
}

static int
is_sep(char c)
{
	return c == '/' || c == '\\';
}

int
os_path_is_absolute(const char *path)
{
	if (is_sep(path[0]) && is_sep(path[1]))
		return 1; /* \\server\share */
	return ((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) &&
	       path[1] == ':' && is_sep(path[2]);
}

int
os_abs_path(const char *path, char *buf, size_t len)
{
	DWORD n;

	if (GetFileAttributesA(path) == INVALID_FILE_ATTRIBUTES) {
		errno = ENOENT;
		return MD_ERR_IO;
	}
	n = GetFullPathNameA(path, (DWORD)len, buf, NULL);
	if (n == 0) {
		errno = EINVAL;
		return MD_ERR_IO;
	}
	if (n >= len)
		return MD_ERR_INVAL;
	return 0;
}

int
os_make_parent_dirs(const char *path)
{
	char dir[MAX_PATH];
	char *p, *last = NULL;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = dir; *p != '\0'; p++)
		if (is_sep(*p))
			last = p;
	if (last == NULL || last == dir)
		return 0;
	*last = '\0';
	/* Skip "C:\" or "\\server\share\": those exist or cannot be made. */
	p = dir;
	if (is_sep(p[0]) && is_sep(p[1])) {
		int seps = 0;

		for (p += 2; *p != '\0' && seps < 2; p++)
			seps += is_sep(*p);
	} else if (p[0] != '\0' && p[1] == ':') {
		p += 2;
	}
	for (; *p != '\0'; p++) {
		char c = *p;

		if (!is_sep(c) || p == dir)
			continue;
		*p = '\0';
		if (p[-1] != ':' && _mkdir(dir) != 0 && errno != EEXIST)
			return -1;
		*p = c;
	}
	if (_mkdir(dir) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

int
os_world_readable(const char *path)
{
	return 0;
}

int
os_detach(int *ready_fd)
{
	*ready_fd = -1;
	return 0;
}

void
os_detach_done(int ready_fd)
{
}

int
os_getpid(void)
{
	return (int)GetCurrentProcessId();
}

void
config_env_from_process(struct config_env *e)
{
	memset(e, 0, sizeof(*e));
	e->program_data = getenv("ProgramData");
}
