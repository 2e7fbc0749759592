# docs/: documentation and man pages.
dist_man_MANS += %D%/man/memdelta.1 %D%/man/memdeltad.8 %D%/man/memdelta.conf.5
EXTRA_DIST += %D%/memory-model.md %D%/json-format.md %D%/linux-mapping.md %D%/windows-mapping.md \
	%D%/performance.md %D%/configuration.md %D%/api.md %D%/leak-detection.md %D%/alerts.md \
	%D%/platforms.md
EXTRA_DIST += %D%/ui.md
EXTRA_DIST += %D%/reliability.md
# The walkthrough and its screenshots (taken by tests/test_walkthrough.sh).
EXTRA_DIST += %D%/investigating-a-leak.md \
	%D%/img/walkthrough-overview.png %D%/img/walkthrough-alerts.png \
	%D%/img/walkthrough-alert-dumper.png %D%/img/walkthrough-timeline-dumper.png \
	%D%/img/walkthrough-diff-dumper.png %D%/img/walkthrough-diff-dumper-step.png \
	%D%/img/walkthrough-timeline-workers.png %D%/img/walkthrough-diff-workers.png \
	%D%/img/walkthrough-timeline-reserver.png %D%/img/walkthrough-diff-reserver.png \
	%D%/img/walkthrough-snapshot-reserver.png %D%/img/walkthrough-figures.json
