/*
 * log.c - the programs' log sink: stderr or syslog (see log.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "daemon/log.h"

static enum log_sink current_sink = LOG_SINK_STDERR;
static enum log_level current_level = LOG_LEVEL_INFO;

void
log_init(enum log_sink sink, enum log_level level, const char *ident)
{
	current_sink = sink;
	current_level = level;
	if (sink == LOG_SINK_SYSLOG)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void
log_write(enum log_level level, const char *func, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	static const int prios[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char msg[2048];
	va_list ap;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (current_sink == LOG_SINK_SYSLOG)
		syslog(prios[level], "%s: %s", func, msg);
	else
		fprintf(stderr, "%s: %s: %s\n", names[level], func, msg);
}
