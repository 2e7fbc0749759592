# docs/: documentation and man pages.
dist_man_MANS += %D%/man/memdelta.1 %D%/man/memdeltad.8 %D%/man/memdelta.conf.5
EXTRA_DIST += %D%/memory-model.md %D%/json-format.md %D%/linux-mapping.md %D%/windows-mapping.md \
	%D%/performance.md %D%/configuration.md %D%/api.md %D%/leak-detection.md %D%/alerts.md \
	%D%/platforms.md
EXTRA_DIST += %D%/ui.md
EXTRA_DIST += %D%/reliability.md
