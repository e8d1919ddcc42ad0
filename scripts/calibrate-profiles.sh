#!/usr/bin/env bash
# calibrate-profiles.sh [BUILD_DIR]: refits the shipped calibration profiles from the committed
# measurements and rewrites their fidelity reports (CPU only, about a minute):
#   reports/calibration/data/h100_measurements.json -> model/data/calibration/h100_sxm.json,
#                                                      reports/calibration/h100/
#   reports/calibration/data/h200_run8_measurements.json and h200_run8_q_tokens_measurements.json
#     (the bulk-copy kernels, MLA and GLA-2 on the seesaw, warpgroup 1 scoring V_R first: q_tokens
#     1, then 2, 4 and 8, each with the tile the launcher picks for it) and h200_torch_sdpa.csv
#     (PyTorch SDPA, scripts/measure-sdpa.py: an external kernel)
#                                                   -> model/data/calibration/h200_sxm.json,
#                                                      reports/calibration/h200/
# each report with the transfer to and from the other GPU. New measurements come from
# `scripts/gpu-run.sh calibrate` on a GPU machine. Rebuild afterwards: the profiles are embedded.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
attnroof=${1:-build}/studies/attnroof
data=reports/calibration/data
"$attnroof" calibrate "$data/h100_measurements.json" -o model/data/calibration/h100_sxm.json \
  --report-dir reports/calibration/h100 --transfer "$data/h200_run8_measurements.json"
"$attnroof" calibrate "$data/h200_run8_measurements.json" "$data/h200_run8_q_tokens_measurements.json" \
  "$data/h200_torch_sdpa.csv" -o model/data/calibration/h200_sxm.json \
  --report-dir reports/calibration/h200 --transfer "$data/h100_measurements.json"
