#!/usr/bin/env python3
"""Measures PyTorch's scaled_dot_product_attention as a GQA decode kernel and writes the
measurement CSV that `attnroof calibrate` and `attnroof fidelity` read (reports/SCHEMA.md,
"Measurement CSV"): an example of bringing another project's kernel to the calibration.

  python3 scripts/measure-sdpa.py --out sdpa.csv --read-ceiling-from DIR/bench_kernels.json

One new token per sequence (q [B, Hq, 1, D]) against a contiguous cache k, v [B, Hkv, L, D] in
bf16, enable_gqa=True. Each point: the call captured once in a CUDA graph, 3 warm-up replays,
then `--runs` replays each after an L2 flush (a read of 4x the L2), CUDA events around each
replay; the median, min and max go to the CSV, with the SM clock read through NVML after the
point. Points whose cache exceeds --max-cache-gb are left out. Runs on the GPU machine (torch).
"""
import argparse
import csv
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# (q_heads, kv_heads, head_dim) per device: the GQA TP8 bench shape, Llama-3-8B at TP1 and TP4,
# Llama-3-70B at TP4 and TP1.
SHAPES = [(8, 1, 128), (32, 8, 128), (8, 2, 128), (16, 2, 128), (64, 8, 128)]


def sm_clock_reader():
    try:
        import pynvml
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())
        return lambda: float(pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_SM))
    except Exception as e:  # clocks are context, never a reason to fail
        print(f"no NVML ({e}): sm_clock_mhz left empty", file=sys.stderr)
        return lambda: 0.0


def time_point(fn, flush, runs):
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(2):
            fn()  # warm-up before capture (workspace allocation, backend choice)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    for _ in range(3):
        graph.replay()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(runs):
        flush()
        start.record()
        graph.replay()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) * 1e-3)
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="the measurement CSV to write")
    ap.add_argument("--read-ceiling-from", default="",
                    help="a bench_kernels.json of the same call: its measured read ceiling goes into every row")
    ap.add_argument("--shapes", default=",".join(f"{hq}:{hkv}:{d}" for hq, hkv, d in SHAPES),
                    help="comma list of q_heads:kv_heads:head_dim (default: the five above; the GQA "
                         "TP8 bench shape alone: 8:1:128)")
    ap.add_argument("--batches", default="1,2,4,8,16,32,64,128")
    ap.add_argument("--contexts", default="1024,4096,16384,65536,262144,1048576")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--max-cache-gb", type=float, default=24)
    ap.add_argument("--max-seconds", type=float, default=240,
                    help="stop starting new points after this long (rows so far are kept)")
    args = ap.parse_args()
    read_ceiling = 0.0
    if args.read_ceiling_from:
        with open(args.read_ceiling_from) as f:
            read_ceiling = json.load(f)["ceilings"]["read_GBps"] * 1e9
    torch.manual_seed(1)
    dev = torch.device("cuda")
    gpu = torch.cuda.get_device_name(dev)
    l2 = torch.cuda.get_device_properties(dev).L2_cache_size
    flush_buf = torch.empty(4 * l2 // 4, dtype=torch.float32, device=dev).uniform_()
    flush = lambda: flush_buf.sum()  # a read sweep: no dirty lines left behind
    clock = sm_clock_reader()
    try:
        shapes = [tuple(int(x) for x in sh.split(":")) for sh in args.shapes.split(",")]
        if any(len(sh) != 3 or min(sh) < 1 or sh[0] % sh[1] != 0 for sh in shapes):
            raise ValueError
    except ValueError:
        ap.error(f"--shapes {args.shapes!r}: want q_heads:kv_heads:head_dim,... with kv_heads dividing q_heads")
    batches = [int(b) for b in args.batches.split(",")]
    contexts = [int(c) for c in args.contexts.split(",")]
    fields = ["kernel", "family", "q_heads", "kv_heads", "d_qk", "d_v", "page_size", "batch", "ctx_len",
              "q_tokens", "kv_dtype", "time_s", "gpu", "time_s_min", "time_s_max", "runs",
              "sm_clock_mhz", "read_ceiling_Bps"]
    out_file = open(args.out, "w", newline="")
    writer = csv.DictWriter(out_file, fieldnames=fields)
    writer.writeheader()
    started = time.monotonic()
    n = 0
    for hq, hkv, d in shapes:
        for b in batches:
            for ctx in contexts:
                cache_bytes = 2 * b * hkv * ctx * d * 2
                if cache_bytes > args.max_cache_gb * 1e9:
                    continue
                if time.monotonic() - started > args.max_seconds:
                    print(f"--max-seconds {args.max_seconds} reached: stopping", flush=True)
                    break
                q = torch.randn(b, hq, 1, d, dtype=torch.bfloat16, device=dev)
                k = torch.randn(b, hkv, ctx, d, dtype=torch.bfloat16, device=dev)
                v = torch.randn(b, hkv, ctx, d, dtype=torch.bfloat16, device=dev)
                out = torch.empty_like(q)

                def call():
                    out.copy_(F.scaled_dot_product_attention(q, k, v, enable_gqa=True))

                med, lo, hi = time_point(call, flush, args.runs)
                writer.writerow(dict(kernel="torch_sdpa", family="separate_kv", q_heads=hq, kv_heads=hkv,
                                 d_qk=d, d_v=d, page_size=0, batch=b, ctx_len=ctx, q_tokens=1,
                                 kv_dtype="bf16", time_s=f"{med:.9g}", gpu=gpu,
                                 time_s_min=f"{lo:.9g}", time_s_max=f"{hi:.9g}", runs=args.runs,
                                 sm_clock_mhz=clock(), read_ceiling_Bps=f"{read_ceiling:.9g}"))
                out_file.flush()
                n += 1
                print(f"sdpa h{hq}/{hkv} d{d} b{b} ctx {ctx}: {med * 1e6:.1f} us", flush=True)
                del q, k, v, out
                torch.cuda.empty_cache()
    out_file.close()
    print(f"wrote {n} rows to {args.out} (torch {torch.__version__}, {gpu}) in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
