#!/usr/bin/env bash
# check-layers.sh SOURCE_DIR: every project include points down the layers of
# docs/architecture.md "Layers" (or within its own folder). Prints each include that does not,
# and exits 1 if there is one.
set -euo pipefail
root=${1:?usage: check-layers.sh SOURCE_DIR}
cd "$root"

# folder -> the folders (or single headers) its files may include, besides their own folder.
declare -A allowed=(
  [model]=""
  [kernels/reference]="model/ kernels/decode_params.h"
  [kernels/stress]="model/ kernels/decode_params.h kernels/decode_shapes.h"
  [kernels/cuda_util]=""
  [kernels/cuda]="model/ kernels/decode_params.h kernels/decode_shapes.h kernels/cuda_util/"
  [calibrate]="model/ kernels/cuda_util/"
  [kernels/harness]="model/ kernels/decode_params.h kernels/decode_shapes.h kernels/cuda_util/ kernels/cuda/ kernels/reference/ kernels/stress/ calibrate/"
  [kernels/tp]="model/ kernels/decode_params.h kernels/decode_shapes.h kernels/cuda_util/ kernels/cuda/ kernels/reference/ kernels/harness/"
)

bad=0
for folder in "${!allowed[@]}"; do
  while IFS= read -r -d '' file; do
    while IFS= read -r line; do
      inc=${line#*\"}; inc=${inc%\"*}
      [[ $inc != */* ]] && continue              # a sibling by bare name
      [[ $inc == "$folder"/* ]] && continue       # its own folder
      ok=0
      for a in ${allowed[$folder]}; do
        if [[ $a == */ ]]; then [[ $inc == "$a"* ]] && ok=1; else [[ $inc == "$a" ]] && ok=1; fi
      done
      if (( ! ok )); then echo "layer violation: $file includes \"$inc\""; bad=1; fi
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$file" || true)
  done < <(find "$folder" -maxdepth 2 -type f \( -name '*.h' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh' \) -print0)
done
if (( bad )); then exit 1; fi
echo "layers: every include points down"
