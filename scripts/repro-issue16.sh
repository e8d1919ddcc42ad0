#!/usr/bin/env bash
# repro-issue16.sh: the A/B of the stream-ordering race (reports/kernels/h200/issue16/) on the
# device machine: its bench sequence, old binary (89bb3fb) and the fixed one alternating,
# the same seed for both in each round, until the budget runs out (BUDGET s). Summary in
# $OUT/ab16.txt. Needs build-gpu-bin/bench_kernels_old (the standalone bench_kernels built at
# 89bb3fb, copied there by hand) beside the prebuilt binaries (the fixed side is
# `build-gpu-bin/attnroof bench-kernels`, the same options with --out-dir for --out), and .deps,
# both carried.
set -uo pipefail
deps=/tmp/attnroof-deps; mkdir -p $deps; for f in .deps/*.deb; do dpkg -x "$f" $deps; done
export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
s=$OUT/ab16.txt
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee $s
t0=$SECONDS; timeout 120 build-gpu-bin/attnroof_tests_kernels_gpu > $OUT/gpu_tests.log 2>&1; echo "gpu tests exit $? in $((SECONDS-t0)) s" | tee -a $s
end=$((SECONDS + ${BUDGET:-400}))
i=0; fo=0; fn=0
while (( SECONDS < end - 10 )); do
  i=$((i+1)); seed=$((2000 + i))
  for bin in bench_kernels_old bench_kernels; do
    if [[ $bin == bench_kernels ]]; then run=(build-gpu-bin/attnroof bench-kernels --out-dir /tmp/o)
    else run=(build-gpu-bin/$bin --out /tmp/o); fi
    timeout 60 "${run[@]}" --shapes gqa_tp8,mla,gla2_tp2,mlra4_tp4 \
      --batches 1,8,64 --contexts 8192,16384,131072,524288,1048576,2097152 --skip-ceilings --runs 5 \
      --warmup 1 --seed $seed > /tmp/r.log 2>&1
    rc=$?
    pts=$(grep -cE '^(gqa|mla|gla|mlra)' /tmp/r.log)
    echo "round $i seed $seed $bin exit $rc points $pts last: $(grep -E '^(gqa|mla|gla|mlra)' /tmp/r.log | tail -1 | cut -c1-52)" >> $s
    if (( rc != 0 )); then [[ $bin == bench_kernels ]] && { fn=$((fn+1)); cp /tmp/r.log $OUT/fail_new_$i.log; } || fo=$((fo+1)); fi
  done
done
echo "rounds $i: old binary failed $fo, fixed binary failed $fn" | tee -a $s
