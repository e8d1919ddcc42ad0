#!/usr/bin/env bash
# Installs what attnroof needs on Debian 12 (idempotent: only missing packages are installed,
# and `apt-get update` runs only when something is missing). Sourced by run-study.sh and
# run-tests.sh; safe to run on its own.
set -euo pipefail

ATTNROOF_PACKAGES=(cmake ninja-build g++ libeigen3-dev libfmt-dev libcli11-dev catch2
                   nlohmann-json3-dev gnuplot-nox git python3-dev pybind11-dev python3-pytest
                   python3-pandas)

missing=()
for p in "${ATTNROOF_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
