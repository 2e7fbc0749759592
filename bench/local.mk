# bench/: reproducible benchmarks (not run by make check); see docs/performance.md.
EXTRA_DIST += %D%/run.sh %D%/README.md
EXTRA_DIST += %D%/daemon_load.sh %D%/http_queries.sh
noinst_PROGRAMS += bench/smaps_floor bench/regions_target bench/store_size
noinst_PROGRAMS += bench/store_queries bench/http_serve
bench_smaps_floor_SOURCES = %D%/smaps_floor.c
bench_regions_target_SOURCES = %D%/regions_target.c
bench_store_size_SOURCES = %D%/store_size.c
bench_store_size_LDADD = $(MD_LIBS)
bench_store_queries_SOURCES = %D%/store_queries.c
bench_store_queries_LDADD = $(MD_LIBS)
bench_http_serve_SOURCES = %D%/http_serve.c
bench_http_serve_LDADD = $(WEB_LIBS)
if PLATFORM_LINUX
noinst_PROGRAMS += bench/probe_cost
bench_probe_cost_SOURCES = %D%/probe_cost.c
bench_probe_cost_LDADD = $(MD_LIBS)
noinst_PROGRAMS += bench/proclist_cost
bench_proclist_cost_SOURCES = %D%/proclist_cost.c
bench_proclist_cost_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS)
bench_proclist_cost_LDADD = $(DAEMON_LIBS)
endif
# trend_replay: leak rules on the recorded series of bench/series/ (docs/performance.md).
noinst_PROGRAMS += bench/trend_replay
bench_trend_replay_SOURCES = %D%/trend_replay.c
bench_trend_replay_LDADD = $(MD_LIBS)
EXTRA_DIST += %D%/series
