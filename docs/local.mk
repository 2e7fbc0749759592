# docs/: documentation and man pages.
dist_man_MANS += %D%/man/memdelta.1 %D%/man/memdeltad.8
EXTRA_DIST += %D%/json-format.md %D%/linux-mapping.md %D%/performance.md %D%/configuration.md %D%/api.md
EXTRA_DIST += %D%/ui.md
