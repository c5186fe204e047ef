#!/bin/sh
# Installs Debian's QEMU (qemu-system-x86) for the QEMU peer of `npm run bench`
# (bench/peers/qemu.js) when qemu-system-x86_64 is missing. Idempotent; non-interactive.
set -e
if command -v qemu-system-x86_64 >/dev/null 2>&1; then
  echo "setup-qemu: $(qemu-system-x86_64 --version | head -n 1) already installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-qemu: apt-get is not available; install qemu-system-x86_64 by hand (the QEMU peer is skipped without it)"
  exit 0
fi
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "setup-qemu: not root and no sudo; run as root: apt-get install -y --no-install-recommends qemu-system-x86"
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# Update the package lists only when the package is not known yet.
if ! apt-cache show qemu-system-x86 >/dev/null 2>&1; then
  $SUDO apt-get update -q
fi
$SUDO apt-get install -y -q --no-install-recommends qemu-system-x86
echo "setup-qemu: $(qemu-system-x86_64 --version | head -n 1) installed"
