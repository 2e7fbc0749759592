# packaging/: systemd unit, Debian packaging, Windows cross-build (later issues).
