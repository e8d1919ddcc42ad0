#!/usr/bin/env python3
"""step-durations.py DIR: a split step's time, split into its decode kernel, its merge and the rest.

DIR holds what `scripts/gpu-run.sh durations` writes: ncu_SHAPE.csv (Nsight Compute's --csv output
of every decode and merge kernel of bench-kernels --runs 5) and bench_SHAPE/bench_kernels.json
(the same points timed as a step). A decode kernel is matched to its point by its DRAM bytes
(the point's cache), and to the merge that follows it. Prints one line per point."""
import csv
import json
import statistics
import sys
from pathlib import Path


def kernels(path):
    lines = path.read_text().split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith('"ID"'))
    by_id = {}
    for row in csv.DictReader(lines[start:]):
        k = by_id.setdefault(int(row["ID"]), {"name": row["Kernel Name"]})
        k[row["Metric Name"]] = float(row["Metric Value"].replace(",", ""))
    return [by_id[i] for i in sorted(by_id)]


def main(folder):
    print("shape ctx splits | step us (min-max) | decode us (n, SM clock) | merge us | rest us | "
          "step, decode alone: fraction of the read ceiling")
    for ncu in sorted(folder.glob("ncu_*.csv")):
        shape = ncu.stem[len("ncu_"):]
        seq = kernels(ncu)
        pairs = [(a["gpu__time_duration.sum"] / 1e3, b["gpu__time_duration.sum"] / 1e3,
                  a["dram__bytes_read.sum"], a["sm__cycles_elapsed.avg.per_second"] / 1e9)
                 for a, b in zip(seq, seq[1:]) if "merge" not in a["name"] and "merge" in b["name"]]
        bench = json.loads((folder / f"bench_{shape}" / "bench_kernels.json").read_text())
        # The benchmark's own points: the model's KV bytes and the fraction of the read ceiling
        # measured in that run (the decode kernel alone moves the same bytes).
        for pt in sorted(bench["points"], key=lambda pt: pt["ctx"]):
            match = [p for p in pairs if abs(p[2] / pt["kv_bytes"] - 1) < 0.05]
            if not match:
                print(f"{shape} {pt['ctx']}: no profiled kernel with these bytes")
                continue
            decode = statistics.median(p[0] for p in match)
            merge = statistics.median(p[1] for p in match)
            clock = statistics.median(p[3] for p in match)
            step = pt["time_us_graph_median"]
            step_frac = pt["frac_read_ceiling_graph"]
            print(f"{shape} {pt['ctx']} {pt['n_splits']} | {step:.1f} ({pt['time_us_graph_min']:.1f}-"
                  f"{pt['time_us_graph_max']:.1f}) | {decode:.1f} ({len(match)}, {clock:.2f} GHz) | "
                  f"{merge:.1f} | {step - decode - merge:.1f} | {step_frac:.3f}, "
                  f"{step_frac * step / decode:.3f}")
        print(f"  read ceiling {pt['kv_bytes'] / (step * 1e-6) / step_frac / 1e9:.0f} GB/s, "
              f"step SM clock {pt['sm_clock_mhz']:.0f} MHz")

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
