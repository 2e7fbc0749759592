# packaging/: the systemd unit, the default configuration, Debian packaging
# (packaging/debian, built, installed and tested by packaging/test-deb.sh,
# which .ci/test runs), and the Windows cross-build (packaging/windows).

# The default configuration, installed as $(sysconfdir)/memdelta/memdeltad.conf.
memdeltaconfdir = $(sysconfdir)/memdelta
dist_memdeltaconf_DATA = %D%/memdeltad.conf

# The unit, with the installation directories filled in.
if HAVE_SYSTEMD_UNITDIR
systemdsystemunit_DATA = %D%/systemd/memdeltad.service
endif
CLEANFILES += %D%/systemd/memdeltad.service
%D%/systemd/memdeltad.service: %D%/systemd/memdeltad.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) %D%/systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/%D%/systemd/memdeltad.service.in >$@.tmp && mv $@.tmp $@

EXTRA_DIST += %D%/systemd/memdeltad.service.in %D%/debian %D%/test-deb.sh

# distcheck installs under a scratch prefix: keep the unit inside it.
AM_DISTCHECK_CONFIGURE_FLAGS = --with-systemdsystemunitdir='$${libdir}/systemd/system'

# The Windows cross-build and packages (docs/platforms.md).
EXTRA_DIST += %D%/windows/build.sh %D%/windows/package.sh %D%/windows/memdelta.wxs \
	%D%/windows/memdeltad.conf %D%/windows/README-windows.txt
