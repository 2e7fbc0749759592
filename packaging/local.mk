# packaging/: systemd unit, Debian packaging, Windows cross-build (later issues).
EXTRA_DIST += %D%/windows/build.sh
