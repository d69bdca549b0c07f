#!/bin/sh
# SPDX-License-Identifier: MIT
# Install what mmsim builds and tests with, from Debian 12's packages.
set -e
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
PKGS="build-essential cmake clang pkg-config liburcu-dev libjemalloc-dev \
libcmocka-dev valgrind"
# Skip apt when everything is there already (quick re-runs).
if dpkg -s $PKGS >/dev/null 2>&1 && command -v clang >/dev/null; then
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq $PKGS >/dev/null
