# snapshot/: the region model, per-OS collectors, JSON form, SQLite store.
libmemdelta_a_SOURCES += \
	%D%/mderr.c %D%/mderr.h \
	%D%/snapshot.c %D%/snapshot.h \
	%D%/json.c %D%/json.h %D%/json_write.c \
	%D%/store.c %D%/store.h \
	%D%/linux_smaps.c %D%/linux_smaps.h \
	%D%/windows_regions.c %D%/windows_regions.h

if PLATFORM_LINUX
libmemdelta_a_SOURCES += %D%/linux.c %D%/linux_raw.c %D%/linux_probe.c
endif
if PLATFORM_WINDOWS
libmemdelta_a_SOURCES += %D%/windows.c
endif
if PLATFORM_UNSUPPORTED
libmemdelta_a_SOURCES += %D%/unsupported.c
endif
