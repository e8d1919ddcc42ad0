#!/usr/bin/env bash
# The held-out check of the whole-step model (reports/step/): published decode measurements
# whose setup is stated, each against `attnroof sweep`'s t_step_s at that setup. Writes
# reports/step/heldout.csv. The measured numbers and their sources are in reports/step/README.md;
# nothing here is fitted to them.
#   scripts/step-heldout.sh [path/to/attnroof]
set -euo pipefail
cd "$(dirname "$0")/.."
A=${1:-build/studies/attnroof}
out=reports/step/heldout.csv
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
echo "source,setup,measured,measured_tpot_s,predicted_tpot_s,error,predicted_tokens_per_s_per_gpu,attention_share,ffn_share,step_bound,ffn_calibration" >"$tmp"
# id | setup | measured (as published) | measured TPOT in s | sweep arguments
while IFS='|' read -r id setup measured tpot args; do
  row=$($A sweep $args --format csv -q \
        --columns t_step_s,tokens_per_s_per_gpu,attention_share,ffn_share,step_bound,ffn_calibration | tail -n 1)
  t=${row%%,*}
  err=$(awk -v p="$t" -v m="$tpot" 'BEGIN { printf "%+.1f%%", 100 * (p / m - 1) }')
  echo "$id,\"$setup\",\"$measured\",$tpot,$t,$err,${row#*,}" >>"$tmp"
done <<'ROWS'
nim_c1|Llama-3.3-70B fp8 TP2 2xH100 80G, 5000 in / 500 out, concurrency 1|ITL 18.58 ms|0.01858|--preset llama3_70b --hardware h100_sxm --tp 2 --batch 1 --context 5250 --weight-dtype fp8 --act-dtype fp8
nim_c5|Llama-3.3-70B fp8 TP2 2xH100 80G, 5000 in / 500 out, concurrency 5|ITL 21.83 ms|0.02183|--preset llama3_70b --hardware h100_sxm --tp 2 --batch 5 --context 5250 --weight-dtype fp8 --act-dtype fp8
nim_c25|Llama-3.3-70B fp8 TP2 2xH100 80G, 5000 in / 500 out, concurrency 25|ITL 38.75 ms|0.03875|--preset llama3_70b --hardware h100_sxm --tp 2 --batch 25 --context 5250 --weight-dtype fp8 --act-dtype fp8
nim_c50|Llama-3.3-70B fp8 TP2 2xH100 80G, 5000 in / 500 out, concurrency 50|ITL 59.73 ms|0.05973|--preset llama3_70b --hardware h100_sxm --tp 2 --batch 50 --context 5250 --weight-dtype fp8 --act-dtype fp8
nim_long_c1|Llama-3.3-70B fp8 TP2 2xH100 80G, 500 in / 2000 out, concurrency 1|ITL 18.91 ms|0.01891|--preset llama3_70b --hardware h100_sxm --tp 2 --batch 1 --context 1500 --weight-dtype fp8 --act-dtype fp8
trtllm_h200|Llama-2-70B fp8 TP4 H200, batch 512, 128 in / 2048 out (TensorRT-LLM v0.5.0)|6616 out tok/s|0.07739|--preset llama3_70b --hardware h200_sxm --tp 4 --batch 512 --context 1152 --weight-dtype fp8 --act-dtype fp8
vllm_h200|Llama-3-70B TP4 H200, batch 8, 32 in / 128 out (vLLM latency test)|2077.53 ms per request|0.01623|--preset llama3_70b --hardware h200_sxm --tp 4 --batch 8 --context 96
ROWS
mv "$tmp" "$out"
trap - EXIT
cat "$out"
