#!/usr/bin/env bash
# Install the Debian packages spicefet needs (ngspice, libngspice0-dev) if they are missing.
# Without root (and without sudo) print the exact command and fail.
set -euo pipefail
missing=()
command -v ngspice >/dev/null 2>&1 || missing+=(ngspice)
if ! ldconfig -p 2>/dev/null | grep -q 'libngspice\.so ' && [ ! -e /usr/lib/x86_64-linux-gnu/libngspice.so ] \
   && [ -z "${NGSPICE_LIBRARY_PATH:-}" ]; then
  missing+=(libngspice0-dev)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get update && apt-get install -y ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  echo "installing ${missing[*]} ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  sudo -n apt-get update -qq && sudo -n apt-get install -y -qq "${missing[@]}"
else
  echo "spicefet needs the Debian packages: ${missing[*]}" >&2
  echo "run as root:  $cmd" >&2
  exit 1
fi
