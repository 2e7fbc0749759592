/*
 * log.h - the one log sink of the programs (never used by snapshot/ or diff/).
 *
 * log_error/log_warn/log_info/log_debug prefix every line with the level and
 * the calling function.  The sink is stderr (journald picks it up) until
 * log_init() selects the system log: syslog, or the Windows Event Log.
 */
#ifndef MEMDELTA_LOG_H
#define MEMDELTA_LOG_H

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };
enum log_sink { LOG_SINK_STDERR = 0, LOG_SINK_SYSLOG };

/* The sink memdeltad starts with: @configured when the configuration named
 * one (@named: log= was given), else the system log when the process's
 * stderr leads nowhere (@stderr_lost: a Windows service, which the service
 * controller starts without a console), else stderr. */
enum log_sink log_sink_choose(enum log_sink configured, int named, int stderr_lost);
/* Choose the sink and the most verbose level written; @ident names the
 * program in syslog. */
void log_init(enum log_sink sink, enum log_level level, const char *ident);
/* Also append every line written from now on to @path, with a UTC time
 * stamp (NULL or "": stop).  Returns 0, or -1 with errno when @path cannot
 * be opened (the file sink is then off). */
int log_set_file(const char *path);
void log_write(enum log_level level, const char *func, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define log_error(...) log_write(LOG_LEVEL_ERROR, __func__, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_LEVEL_WARN, __func__, __VA_ARGS__)
#define log_info(...)  log_write(LOG_LEVEL_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __func__, __VA_ARGS__)

#endif
