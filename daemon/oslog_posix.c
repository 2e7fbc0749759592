/*
 * oslog_posix.c - the system log of os.h on POSIX: syslog, facility daemon.
 * Apart from os_posix.c because the CLI's library (log.c) needs it too.
 */
#include "config.h"

#include <syslog.h>

#include "daemon/os.h"

void
os_syslog_open(const char *ident)
{
	openlog(ident, LOG_PID, LOG_DAEMON);
}

void
os_syslog_write(enum log_level level, const char *msg)
{
	static const int prios[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

	syslog(prios[level], "%s", msg);
}
