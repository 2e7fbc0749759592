# daemon/: the memdelta CLI and memdeltad.
libmemdelta_a_SOURCES += \
	%D%/log.c %D%/log.h
if PLATFORM_WINDOWS
libmemdelta_a_SOURCES += %D%/oslog_windows.c
else
libmemdelta_a_SOURCES += %D%/oslog_posix.c
endif

bin_PROGRAMS += memdelta
memdelta_SOURCES = %D%/memdelta.c %D%/cli_render.c %D%/cli_render.h
memdelta_LDADD = $(MD_LIBS)

# memdeltad's modules (config, targets, scheduler, the OS contract), also
# linked by tests/check_config.
noinst_LIBRARIES += libmemdelta_daemon.a
libmemdelta_daemon_a_SOURCES = \
	%D%/daemon_config.c %D%/daemon_config.h \
	%D%/targets.c %D%/targets.h \
	%D%/sdnotify.h %D%/os.h %D%/service.h \
	%D%/scheduler.c %D%/scheduler.h \
	%D%/alerts.c %D%/alerts.h \
	%D%/sinks.c %D%/sinks.h %D%/sinks_os.h \
	%D%/sinks_cmdline.c %D%/sinks_cmdline.h
libmemdelta_daemon_a_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(CURL_CFLAGS)
if !HAVE_INIH
libmemdelta_daemon_a_SOURCES += snapshot/compat/ini.c
endif
# One file per OS behind os.h, targets.h (the process list), sdnotify.h
# (the service manager: systemd, or the Windows service controller) and
# sinks_os.h (the alert sinks' command, POST and system log).
if PLATFORM_WINDOWS
libmemdelta_daemon_a_SOURCES += %D%/os_windows.c %D%/proclist_windows.c %D%/service_windows.c \
	%D%/sinks_windows.c
else
libmemdelta_daemon_a_SOURCES += %D%/os_posix.c %D%/proclist_linux.c %D%/sdnotify.c \
	%D%/sinks_posix.c
endif

sbin_PROGRAMS += memdeltad
memdeltad_SOURCES = %D%/memdeltad.c
if !PLATFORM_WINDOWS
memdeltad_SOURCES += %D%/main_posix.c
endif
memdeltad_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS)
memdeltad_LDADD = $(DAEMON_LIBS)
