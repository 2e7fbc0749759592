/*
 * oslog_windows.c - the system log of os.h on Windows: the Application Event
 * Log, source "memdeltad" (RegisterEventSourceW / ReportEventW), messages
 * converted from UTF-8.  Apart from os_windows.c because the CLI's library
 * (log.c) needs it too.
 */
#include "config.h"

#include <stdlib.h>

#include <windows.h>

#include "daemon/os.h"

static HANDLE event_source;

void
os_syslog_open(const char *ident)
{
	wchar_t w[64];

	if (event_source != NULL)
		return;
	if (MultiByteToWideChar(CP_UTF8, 0, ident, -1, w, (int)(sizeof(w) / sizeof(w[0]))) == 0)
		return;
	event_source = RegisterEventSourceW(NULL, w);
}

/* An event's strings hold at most 31,839 characters: a longer message (an
 * alert's JSON, say) is cut there rather than lost. */
#define EVENT_STRING_MAX 31839

void
os_syslog_write(enum log_level level, const char *msg)
{
	static const WORD types[] = {EVENTLOG_ERROR_TYPE, EVENTLOG_WARNING_TYPE,
	                             EVENTLOG_INFORMATION_TYPE, EVENTLOG_INFORMATION_TYPE};
	LPCWSTR strings[1];
	wchar_t *w;
	int n;

	if (event_source == NULL)
		return;
	n = MultiByteToWideChar(CP_UTF8, 0, msg, -1, NULL, 0);
	if (n <= 0)
		return;
	w = malloc((size_t)n * sizeof(*w));
	if (w == NULL)
		return;
	if (MultiByteToWideChar(CP_UTF8, 0, msg, -1, w, n) == n) {
		if (n > EVENT_STRING_MAX) {
			n = EVENT_STRING_MAX;
			if (IS_HIGH_SURROGATE(w[n - 1]))
				n--; /* not half a character */
			w[n] = L'\0';
		}
		strings[0] = w;
		/* Event id 1 for every message: the text is the whole record
		 * (no message file is registered, so Event Viewer shows the
		 * string as the event's insertion string). */
		(void)ReportEventW(event_source, types[level], 0, 1, NULL, 1, 0, strings, NULL);
	}
	free(w);
}
