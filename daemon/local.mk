# daemon/: the memdelta CLI (and, later, memdeltad).
libmemdelta_a_SOURCES += \
	%D%/log.c %D%/log.h

bin_PROGRAMS += memdelta
memdelta_SOURCES = %D%/memdelta.c %D%/cli_render.c %D%/cli_render.h
memdelta_LDADD = $(MD_LIBS)
