#!/bin/sh
# Installs Debian's Chromium for the real-browser test (handlers/site_browser_test.go)
# when it is missing. Needs root (or sudo) on a Debian/Ubuntu machine.
set -e
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
	exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then
	SUDO=sudo
fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
