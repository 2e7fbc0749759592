# bench/: reproducible benchmarks (not run by make check); see docs/performance.md.
EXTRA_DIST += %D%/run.sh %D%/README.md
noinst_PROGRAMS += bench/smaps_floor bench/regions_target bench/store_size
noinst_PROGRAMS += bench/store_queries
bench_smaps_floor_SOURCES = %D%/smaps_floor.c
bench_regions_target_SOURCES = %D%/regions_target.c
bench_store_size_SOURCES = %D%/store_size.c
bench_store_size_LDADD = $(MD_LIBS)
bench_store_queries_SOURCES = %D%/store_queries.c
bench_store_queries_LDADD = $(MD_LIBS)
# trend_replay: leak rules on the recorded series of bench/series/ (docs/performance.md).
noinst_PROGRAMS += bench/trend_replay
bench_trend_replay_SOURCES = %D%/trend_replay.c
bench_trend_replay_LDADD = $(MD_LIBS)
EXTRA_DIST += %D%/series
