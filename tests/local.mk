# tests/: Check unit tests, recorded fixtures, live tests with a helper
# process that grows memory on command, CLI tests.
AM_TESTS_ENVIRONMENT = \
	MD_FIXTURES='$(abs_top_srcdir)/tests/fixtures'; export MD_FIXTURES; \
	MD_BUILDDIR='$(abs_top_builddir)'; export MD_BUILDDIR; \
	MD_SRCDIR='$(abs_top_srcdir)'; export MD_SRCDIR;

check_PROGRAMS += tests/grower
tests_grower_SOURCES = %D%/grower.c
tests_grower_LDADD = $(PTHREAD_LIBS) -lrt
# The grower is the process under observation: built without sanitizers, whose
# allocator and shadow mappings would replace the glibc layout it must show.
tests_grower_CFLAGS = -O1 -g -Wall
tests_grower_LDFLAGS =

# The webhook receiver of tests/test_alerts.sh.
check_PROGRAMS += tests/hook_receiver
tests_hook_receiver_SOURCES = %D%/hook_receiver.c
tests_hook_receiver_LDADD = $(MHD_LIBS)

if HAVE_CHECK
TESTS_CFLAGS = $(CHECK_CFLAGS)
TESTS_LDADD = $(MD_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/check_snapshot tests/check_snapshot_linux tests/check_store \
	tests/check_diff tests/check_live tests/check_web tests/check_config
TESTS += tests/check_snapshot tests/check_snapshot_linux tests/check_store \
	tests/check_diff tests/check_live tests/check_web tests/check_config
check_PROGRAMS += tests/check_trend
TESTS += tests/check_trend

check_PROGRAMS += tests/check_store_alert
TESTS += tests/check_store_alert
tests_check_store_alert_SOURCES = %D%/check_store_alert.c %D%/testutil.c %D%/testutil.h
tests_check_store_alert_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS)
tests_check_store_alert_LDADD = $(TESTS_LDADD)

check_PROGRAMS += tests/check_alerts
TESTS += tests/check_alerts
tests_check_alerts_SOURCES = %D%/check_alerts.c %D%/testutil.c %D%/testutil.h
tests_check_alerts_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS) $(INIH_CFLAGS)
tests_check_alerts_LDADD = $(DAEMON_LIBS) $(TESTS_LDADD)

# The alert sinks (Linux: scripts and tests/hook_receiver; the Windows
# build runs it under wine with tests/win/sinkcat.exe: tests/test_wine.sh).
check_PROGRAMS += tests/check_sinks
TESTS += tests/check_sinks
tests_check_sinks_SOURCES = %D%/check_sinks.c %D%/testutil.c %D%/testutil.h
tests_check_sinks_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS) $(INIH_CFLAGS)
tests_check_sinks_LDADD = $(DAEMON_LIBS) $(TESTS_LDADD)

# The Windows classifier on recorded region lists; runs on every platform.
check_PROGRAMS += tests/check_windows_regions
TESTS += tests/check_windows_regions
# snapshot/compat/ini.c (the INI reader of builds without libinih) on every platform.
check_PROGRAMS += tests/check_ini
TESTS += tests/check_ini
tests_check_ini_SOURCES = %D%/check_ini.c snapshot/compat/ini.c
tests_check_ini_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS) $(INIH_CFLAGS)
tests_check_ini_LDADD = $(CHECK_LIBS)

tests_check_windows_regions_SOURCES = %D%/check_windows_regions.c %D%/testutil.c %D%/testutil.h
tests_check_windows_regions_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS)
tests_check_windows_regions_LDADD = $(TESTS_LDADD)

tests_check_snapshot_SOURCES = %D%/check_snapshot.c %D%/testutil.c %D%/testutil.h
tests_check_snapshot_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS)
tests_check_snapshot_LDADD = $(TESTS_LDADD)

tests_check_snapshot_linux_SOURCES = %D%/check_snapshot_linux.c %D%/testutil.c %D%/testutil.h
tests_check_snapshot_linux_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS)
tests_check_snapshot_linux_LDADD = $(TESTS_LDADD)

tests_check_store_SOURCES = %D%/check_store.c %D%/testutil.c %D%/testutil.h
tests_check_store_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS)
tests_check_store_LDADD = $(TESTS_LDADD)

tests_check_diff_SOURCES = %D%/check_diff.c %D%/testutil.c %D%/testutil.h
tests_check_diff_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS)
tests_check_diff_LDADD = $(TESTS_LDADD)

tests_check_trend_SOURCES = %D%/check_trend.c
tests_check_trend_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS)
tests_check_trend_LDADD = $(TESTS_LDADD)

tests_check_live_SOURCES = %D%/check_live.c %D%/testutil.c %D%/testutil.h
tests_check_live_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS)
tests_check_live_LDADD = $(TESTS_LDADD)

tests_check_web_SOURCES = %D%/check_web.c %D%/testutil.c %D%/testutil.h
tests_check_web_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS)
tests_check_web_LDADD = $(WEB_LIBS) $(TESTS_LDADD)

check_PROGRAMS += tests/check_probe
TESTS += tests/check_probe
tests_check_probe_SOURCES = %D%/check_probe.c %D%/testutil.c %D%/testutil.h
tests_check_probe_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS)
tests_check_probe_LDADD = $(TESTS_LDADD)

tests_check_config_SOURCES = %D%/check_config.c %D%/testutil.c %D%/testutil.h
tests_check_config_CFLAGS = $(AM_CFLAGS) $(TESTS_CFLAGS) $(INIH_CFLAGS)
tests_check_config_LDADD = $(DAEMON_LIBS) $(TESTS_LDADD)
endif

# Script tests drive the built binaries: the CLI, the daemon, the UI in a browser.
TESTS += tests/test_cli.sh tests/test_daemon.sh tests/test_e2e.sh tests/test_metrics.sh
# tests/lib.sh: the scaffolding the script tests source (not a test itself);
# tests/e2e/browser.mjs: what the browser tests share.
EXTRA_DIST += tests/lib.sh tests/e2e/browser.mjs
TESTS += tests/test_alerts.sh
EXTRA_DIST += tests/test_alerts.sh
# A hung alert command across SIGHUP and SIGTERM: sampling never waits.
TESTS += tests/test_sinks_reload.sh
EXTRA_DIST += tests/test_sinks_reload.sh
# Automatic mode: no target configured, the top processes and itself;
# and memdeltad detaching without -f.
TESTS += tests/test_auto.sh tests/test_detach.sh
EXTRA_DIST += tests/test_auto.sh tests/test_detach.sh
# Storage faults (issue 6): damaged databases and a held write lock; a full
# disk on a tmpfs (skips without the right to mount); 200 kill -9 during
# writes (MD_FAULT_KILLS sets the count).
TESTS += tests/test_faults.sh tests/test_faults_full.sh tests/test_faults_kill.sh
EXTRA_DIST += tests/test_faults.sh tests/test_faults_full.sh tests/test_faults_kill.sh
# The three cases of docs/investigating-a-leak.md in the browser; its
# screenshots go to tests/e2e-artifacts/walkthrough (docs/img has a copy).
TESTS += tests/test_walkthrough.sh
EXTRA_DIST += tests/test_walkthrough.sh tests/e2e/walkthrough.mjs
# Issue 6: bad HTTP input and connection exhaustion (raw sockets, python3,
# strace when it can attach), and wrk against the API while sampling.
TESTS += tests/test_http_abuse.sh tests/test_load.sh
EXTRA_DIST += tests/test_http_abuse.sh tests/http_abuse.py tests/test_load.sh tests/load.lua
EXTRA_DIST += tests/test_cli.sh tests/test_daemon.sh tests/test_e2e.sh tests/test_metrics.sh \
	tests/fixtures \
	tests/e2e/package.json tests/e2e/package-lock.json tests/e2e/e2e.mjs \
	tests/e2e/mock-server.mjs tests/e2e/fake-memdeltad.mjs tests/e2e/screenshots.mjs

# test_e2e.sh keeps playwright-core and its screenshots in the build tree.
distclean-local: distclean-e2e distclean-wine
distclean-e2e:
	-rm -rf tests/e2e-node tests/e2e-walkthrough-node tests/e2e-artifacts
.PHONY: distclean-e2e
# The wine tests cross-build in windows/ (packaging/windows/build.sh).
distclean-wine:
	-rm -rf windows
.PHONY: distclean-wine

# tests/win/: Windows programs for the tests under wine (win-collect writes
# them; built only by a Windows cross-build: packaging/windows/build.sh).
if PLATFORM_WINDOWS
check_PROGRAMS += tests/win/winalloc
tests_win_winalloc_SOURCES = %D%/win/winalloc.c
tests_win_winalloc_CFLAGS = -O1 -Wall
tests_win_winalloc_LDADD =
tests_win_winalloc_LDFLAGS = -static
# The command of the exec sink's Windows tests (wmain: the C runtime's argv).
check_PROGRAMS += tests/win/sinkcat
tests_win_sinkcat_SOURCES = %D%/win/sinkcat.c
tests_win_sinkcat_CFLAGS = -O1 -Wall -municode
tests_win_sinkcat_LDADD =
tests_win_sinkcat_LDFLAGS = -static -municode
endif
EXTRA_DIST += tests/win/winalloc.c tests/win/sinkcat.c

# Under wine: the Windows service end to end, and the Check programs
# cross-built and run as .exe (both skip with 77 where wine cannot run).
TESTS += tests/test_wine.sh tests/test_wine_service.sh
EXTRA_DIST += tests/test_wine.sh tests/test_wine_service.sh

# The Windows zip and MSI (packaging/windows/package.sh): their contents,
# and the MSI installed, run and removed under wine (skips with 77 likewise).
TESTS += tests/test_msi.sh
EXTRA_DIST += tests/test_msi.sh

# Faults: targets (docs/reliability.md).  target_exits collects 10,000
# children that exit mid-read; test_target_faults.sh drives memdeltad with
# churning targets, a recycled pid and a 60,000-region target.  The churner
# is a target, built without sanitizers like the grower.
check_PROGRAMS += tests/churner
tests_churner_SOURCES = %D%/churner.c
tests_churner_CFLAGS = -O1 -g -Wall
tests_churner_LDFLAGS =
if PLATFORM_LINUX
check_PROGRAMS += tests/target_exits
TESTS += tests/target_exits
tests_target_exits_SOURCES = %D%/target_exits.c
tests_target_exits_LDADD = $(MD_LIBS)
endif
TESTS += tests/test_target_faults.sh
EXTRA_DIST += tests/test_target_faults.sh
# tests/fuzz/: libFuzzer targets built with clang by tests/fuzz/run.sh, which
# .ci/test runs once (60 s per target) outside `make check`.
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/fuzz.h tests/fuzz/fuzz_smaps.c \
	tests/fuzz/fuzz_stat.c tests/fuzz/fuzz_windows.c tests/fuzz/fuzz_config.c \
	tests/fuzz/fuzz_api.c tests/fuzz/corpus
