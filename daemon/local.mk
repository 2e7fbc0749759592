# daemon/: the memdelta CLI and memdeltad.
libmemdelta_a_SOURCES += \
	%D%/log.c %D%/log.h

bin_PROGRAMS += memdelta
memdelta_SOURCES = %D%/memdelta.c %D%/cli_render.c %D%/cli_render.h
memdelta_LDADD = $(MD_LIBS)

# memdeltad's modules (config, targets, scheduler), also linked by tests/check_config.
noinst_LIBRARIES += libmemdelta_daemon.a
libmemdelta_daemon_a_SOURCES =
libmemdelta_daemon_a_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS)
