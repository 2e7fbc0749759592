/*
 * log.c - the programs' log sink: stderr or the system log, syslog or the
 * Windows Event Log (see log.h; os.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "daemon/log.h"
#include "daemon/os.h"

static enum log_sink current_sink = LOG_SINK_STDERR;
static enum log_level current_level = LOG_LEVEL_INFO;
static FILE *log_file;

enum log_sink
log_sink_choose(enum log_sink configured, int named, int stderr_lost)
{
	if (named || !stderr_lost)
		return configured;
	return LOG_SINK_SYSLOG;
}

void
log_init(enum log_sink sink, enum log_level level, const char *ident)
{
	current_sink = sink;
	current_level = level;
	if (sink == LOG_SINK_SYSLOG)
		os_syslog_open(ident);
}

int
log_set_file(const char *path)
{
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
	if (path == NULL || path[0] == '\0')
		return 0;
	log_file = fopen(path, "a");
	return log_file != NULL ? 0 : -1;
}

void
log_write(enum log_level level, const char *func, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char msg[2048], line[2200];
	va_list ap;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (current_sink == LOG_SINK_SYSLOG) {
		snprintf(line, sizeof(line), "%s: %s", func, msg);
		os_syslog_write(level, line);
	} else {
		fprintf(stderr, "%s: %s: %s\n", names[level], func, msg);
	}
	if (log_file != NULL) {
		time_t now = time(NULL);
		struct tm tm;
		char ts[32];

		if (gmtime_r(&now, &tm) == NULL ||
		    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			ts[0] = '\0';
		fprintf(log_file, "%s %s: %s: %s\n", ts, names[level], func, msg);
		fflush(log_file);
	}
}
