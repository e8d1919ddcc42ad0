#!/usr/bin/env bash
# The main job: set up, build Release, run the default study (`attnroof study paper`), which
# writes reports/paper/. Any argument is passed to `attnroof study` (e.g. another study name).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" "$root/build" -DCMAKE_BUILD_TYPE=Release
cd "$root"
if (($#)); then
  ./build/studies/attnroof study "$@"
else
  ./build/studies/attnroof study paper
fi
