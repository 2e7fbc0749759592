# diff/: pure computations on snapshots.
libmemdelta_a_SOURCES += \
	%D%/diff.c %D%/diff.h \
	%D%/diff_json.c %D%/diff_json.h \
	%D%/trend.c %D%/trend.h
