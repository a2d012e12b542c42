#!/bin/sh
# Installs Exim for the interop tests without replacing Postfix: Debian's exim4 packages
# conflict with postfix, so the daemon binary is unpacked into a private prefix
# (default /opt/mailroom-exim) and only its libraries are installed as packages.
# Usage (as root): tests/install_exim.sh [PREFIX]
set -eu
prefix="${1:-/opt/mailroom-exim}"
if [ -x "$prefix/usr/sbin/exim4" ]; then
    echo "exim already unpacked in $prefix"
    exit 0
fi
work="$(mktemp -d)"
cd "$work"
chmod 777 "$work"
apt-get download exim4-daemon-heavy || { apt-get update && apt-get download exim4-daemon-heavy; }
deb="$(ls exim4-daemon-heavy_*.deb)"
# Its shared-library dependencies, less the exim4 packages and debconf.
deps="$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*//; s/|.*//; s/ //g' \
    | grep -v -e '^exim4' -e '^debconf' -e '^$')"
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $deps
mkdir -p "$prefix"
dpkg -x "$deb" "$prefix"
getent passwd Debian-exim >/dev/null || \
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin Debian-exim
cd /
rm -rf "$work"
"$prefix/usr/sbin/exim4" -bV | head -1
