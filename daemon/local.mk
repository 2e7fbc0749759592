# daemon/: the memdelta CLI and memdeltad.
libmemdelta_a_SOURCES += \
	%D%/log.c %D%/log.h

bin_PROGRAMS += memdelta
memdelta_SOURCES = %D%/memdelta.c %D%/cli_render.c %D%/cli_render.h
memdelta_LDADD = $(MD_LIBS)

# memdeltad's modules (config, targets, scheduler), also linked by tests/check_config.
noinst_LIBRARIES += libmemdelta_daemon.a
libmemdelta_daemon_a_SOURCES = \
	%D%/daemon_config.c %D%/daemon_config.h \
	%D%/targets.c %D%/targets.h \
	%D%/sdnotify.c %D%/sdnotify.h \
	%D%/scheduler.c %D%/scheduler.h \
	%D%/alerts.c %D%/alerts.h \
	%D%/sinks.c %D%/sinks.h
libmemdelta_daemon_a_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(CURL_CFLAGS)

sbin_PROGRAMS += memdeltad
memdeltad_SOURCES = %D%/memdeltad.c
memdeltad_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS)
memdeltad_LDADD = $(DAEMON_LIBS)
