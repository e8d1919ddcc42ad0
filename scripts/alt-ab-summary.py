#!/usr/bin/env python3
"""The paired A/B summary of a `scripts/gpu-run.sh alt-ab` call.

    scripts/alt-ab-summary.py RESULTS_DIR [ALT]

RESULTS_DIR holds the mode's {b1,flashmla,q2}_alt{0,ALT}_ROUND/bench_kernels.csv (the unpacked
results.tgz; the merge-ab mode's side B is ALT "sep"). Per point: the median over rounds of each side's graph time and the median (and
range) of the per-round ratios ALT / defaults, the rounds having run the two in turn; then the
same medians over groups of points. ALT defaults to 4.
"""
import csv
import glob
import os
import re
import statistics
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    root, alt = sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "4"
    times = {}  # (group, shape, batch, ctx, q_tokens) -> alternative -> round -> us
    for path in glob.glob(os.path.join(root, "*_alt*_*", "bench_kernels.csv")):
        m = re.fullmatch(r"(\w+?)_alt([a-z0-9]+)_(\d+)", os.path.basename(os.path.dirname(path)))
        if not m:
            continue
        group, a, rnd = m.group(1), m.group(2), int(m.group(3))
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                key = (group, r["shape"], int(r["batch"]), int(r["ctx"]), int(r["q_tokens"]))
                times.setdefault(key, {}).setdefault(a, {})[rnd] = float(r["time_us_graph"])
    rows = []
    for key in sorted(times):
        t = times[key]
        rounds = sorted(set(t.get("0", {})) & set(t.get(alt, {})))
        if not rounds:
            continue
        ratios = [t[alt][r] / t["0"][r] for r in rounds]
        rows.append((key, ratios))
        print(f"{str(key):45s} alt0 {statistics.median(t['0'].values()):8.1f} "
              f"alt{alt} {statistics.median(t[alt].values()):8.1f}  paired median "
              f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f}, n={len(ratios)})")
    if not rows:
        sys.exit(f"no paired alt0 / alt{alt} records under {root}")

    def summary(name, keep):
        med = [statistics.median(r) for k, r in rows if keep(k)]
        if med:
            print(f"{name:12s} n={len(med):3d} median {statistics.median(med):.3f} "
                  f"range {min(med):.3f}-{max(med):.3f} faster at {sum(v < 1 for v in med)}")

    summary("all", lambda k: True)
    for group in sorted({k[0] for k, _ in rows}):
        summary(group, lambda k, g=group: k[0] == g)
    for shape in sorted({k[1] for k, _ in rows}):
        summary(shape, lambda k, s=shape: k[1] == s)


if __name__ == "__main__":
    main()
