"""Tests of the Python module against the command line it shares its C++ with.

ctest runs each test_ function as a test of its own (python/CMakeLists.txt), with PYTHONPATH
holding the module, ATTNROOF_CLI the attnroof binary of the same build and ATTNROOF_SOURCE_DIR
the source tree (its preset and hardware files).
"""
import csv
import io
import json
import os
import subprocess
import warnings

import pytest

import attnroof

CLI = os.environ["ATTNROOF_CLI"]
SOURCE = os.environ["ATTNROOF_SOURCE_DIR"]


def run_cli(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True, check=False)


def cli_csv(*args):
    """The CLI's CSV output as a dict of columns (values as text)."""
    done = run_cli(*args, "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    return {name: [r[name] for r in rows] for name in rows[0]}


def same_numbers(py_values, cli_values):
    # The CSV holds numbers to 9 significant digits.
    for p, c in zip(py_values, cli_values):
        if isinstance(p, bool):
            assert str(p).lower() == c.lower()
        elif isinstance(p, (int, float)):
            assert p == pytest.approx(float(c), rel=1e-8)
        else:
            assert p == c
    assert len(py_values) == len(cli_values)


def test_kv_llama3_70b():
    kv = attnroof.kv(preset="llama3_70b", tp=[1, 8])
    assert kv["tp"] == [1, 8]
    # 8 KV heads of d_head 128, K and V: 2048 elements per token per layer at TP 1, one head (256) at TP 8.
    assert kv["kv_elems_per_token"] == [2048, 256]
    assert kv["kv_bytes_per_token"] == [4096.0, 512.0]


def test_kv_default_models_match_cli():
    kv = attnroof.kv()
    cli = cli_csv("kv")
    assert list(kv) == list(cli)
    for name in kv:
        same_numbers(kv[name], cli[name])


def test_explain_matches_cli_json():
    point = attnroof.explain(preset="dsv3_mlra4", tp=4, batch=16, context="128k")
    done = run_cli("explain", "--preset", "dsv3_mlra4", "--tp", "4", "--batch", "16", "--context", "128k",
                   "--format", "json")
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)
    for key in ("inputs", "hardware", "ops", "stages", "collectives", "totals", "capacity", "roofline"):
        assert point[key] == cli[key], key  # JSON numbers round-trip exactly
    assert point["inputs"]["ctx_len"] == 131072
    assert point["totals"]["t_layer_s"] > 0


def test_explain_whole_step_with_ep_and_dp_attention():
    # DeepSeek-V3 (MLA) in its native fp8 on 8 H200s, experts over EP 8, attention DP 8.
    args = dict(preset="dsv3_mla", tp=1, dp_attention=8, ep=8, batch=32, context="4k", hardware="h200_sxm")
    point = attnroof.explain(**args)
    done = run_cli("explain", "--preset", "dsv3_mla", "--tp", "1", "--dp-attention", "8", "--ep", "8",
                   "--batch", "32", "--context", "4k", "--hardware", "h200_sxm", "--format", "json")
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)
    assert point["step"] == cli["step"]
    assert point["inputs"]["ep"] == 8 and point["inputs"]["dp_attention"] == 8
    assert point["inputs"]["weight_dtype"] == "fp8_e4m3"  # the preset's native format
    parts = {p["part"]: p for p in point["step"]["parts"]}
    assert parts["moe"]["t_s"] > 0 and parts["attention"]["t_s"] > 0
    assert point["step"]["t_step_s"] == pytest.approx(sum(p["t_s"] for p in point["step"]["parts"]))
    assert point["capacity"]["fits"]


def test_sweep_matches_cli_csv():
    args = dict(preset="llama3_70b,dsv3_mla", tp="1:8:x2", batch=[1, 16], context="4k:32k:x2",
                hardware="h200_sxm")
    sweep = attnroof.sweep(**args)
    assert len(sweep["t_layer_s"]) == 2 * 4 * 2 * 4
    cli = cli_csv("sweep", "--preset", "llama3_70b,dsv3_mla", "--tp", "1:8:x2", "--batch", "1,16",
                  "--context", "4k:32k:x2", "--hardware", "h200_sxm")
    assert list(sweep) == list(cli)
    for name in sweep:
        same_numbers(sweep[name], cli[name])


def test_preset_and_hardware_files_load_as_builtins():
    preset_file = os.path.join(SOURCE, "model/data/presets/llama3_70b.json")
    hardware_file = os.path.join(SOURCE, "model/data/hardware/h100_sxm.json")
    from_files = attnroof.sweep(preset=preset_file, hardware=hardware_file, tp=8, context="32k", calibration="none")
    builtin = attnroof.sweep(preset="llama3_70b", hardware="h100_sxm", tp=8, context="32k", calibration="none")
    assert from_files["t_layer_s"] == builtin["t_layer_s"]
    assert from_files["kv_bytes_per_token"] == builtin["kv_bytes_per_token"]


def test_variant_with_config_dict():
    config = {"d_model": 4096, "q_heads": 32, "kv_heads": 8, "d_head": 128}
    kv = attnroof.kv(variant="gqa", config=config, tp=[1, 2, 4, 8])
    assert kv["kv_elems_per_token"] == [2048, 1024, 512, 256]
    point = attnroof.explain(variant="gqa", config=config, layers=32, tp=4)
    assert point["totals"]["n_layers"] == 32


@pytest.mark.parametrize("kwargs, cli_args", [
    (dict(preset="no_such_model"), ["--preset", "no_such_model"]),
    (dict(preset="llama3_70b", tp="010x"), ["--preset", "llama3_70b", "--tp", "010x"]),
    (dict(preset="llama3_70b", kv_dtype="fp7"), ["--preset", "llama3_70b", "--kv-dtype", "fp7"]),
    (dict(preset="llama3_70b", hardware="no_such_gpu"), ["--preset", "llama3_70b", "--hardware", "no_such_gpu"]),
    (dict(preset="llama3_70b", tp=3), ["--preset", "llama3_70b", "--tp", "3"]),
    (dict(preset="llama3_70b", contexts="1000,2000", batch=4),
     ["--preset", "llama3_70b", "--contexts", "1000,2000", "--batch", "4"]),
    (dict(preset="llama3_70b", layers=2), ["--preset", "llama3_70b", "--layers", "2"]),
])
def test_errors_raise_value_error_with_the_cli_message(kwargs, cli_args):
    with pytest.raises(ValueError) as raised:
        attnroof.explain(**kwargs)
    done = run_cli("explain", *cli_args)
    assert done.returncode == 2
    assert done.stderr == f"error: explain: {raised.value}\n"


def test_kv_and_sweep_errors_match_cli():
    with pytest.raises(ValueError) as raised:
        attnroof.kv(preset="llama3_70b", kv_dtype="bf16,fp8")
    assert run_cli("kv", "--preset", "llama3_70b", "--kv-dtype", "bf16,fp8").stderr == f"error: kv: {raised.value}\n"
    with pytest.raises(ValueError) as raised:
        attnroof.sweep(preset="llama3_70b", context="4k:1k:x0")
    done = run_cli("sweep", "--preset", "llama3_70b", "--context", "4k:1k:x0")
    assert done.stderr == f"error: sweep: {raised.value}\n"


def test_wrong_python_types_raise_value_error():
    with pytest.raises(ValueError, match="--tp: expected a str, an int or a list of them, got float"):
        attnroof.sweep(preset="llama3_70b", tp=1.5)
    with pytest.raises(ValueError, match="--batch: expected a list of str or int"):
        attnroof.sweep(preset="llama3_70b", batch=[1, None])


def test_skipped_points_warn():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sweep = attnroof.sweep(preset="llama3_70b", tp=[3, 8])
    assert sweep["tp"] == [8]
    assert any("1 of 2 points skipped" in str(w.message) for w in caught)


def test_builtin_lists():
    assert "llama3_70b" in attnroof.presets()
    assert "h200_sxm" in attnroof.hardware()


def test_pandas_takes_the_columns():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(attnroof.sweep(preset="llama3_70b", tp=[1, 8]))
    assert list(frame["tp"]) == [1, 8]
