#!/usr/bin/env python3
"""The tables of BENCHMARKS.md from one benchmark run (standard library only).

Reads criterion's medians under target/criterion (from `cargo bench --bench losses`), the peak
memory it wrote to target/criterion/memory.json, and PyTorch's times from
target/criterion/pytorch.json (tools/bench_pytorch.py), and prints Markdown tables: seconds for
burn-losses, Burn's `burn::nn::loss` and PyTorch CPU, with the ratios ours / Burn and
ours / PyTorch (below 1: we are faster), then peak memory above the inputs.
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")


def median(path):
    estimates = path / "new" / "estimates.json"
    if not estimates.exists():
        return None
    return json.loads(estimates.read_text())["median"]["point_estimate"] / 1e9


pytorch = {}
pytorch_file = root / "pytorch.json"
if pytorch_file.exists():
    data = json.loads(pytorch_file.read_text())
    for row in data["rows"]:
        if row["device"] == "cpu":
            pytorch[(row["loss"], row["shape"])] = row

def fmt(value, digits=4):
    return "-" if value is None else f"{value:.{digits}f}"


def ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


# Criterion writes a group "loss/mode" as the folder "loss_mode".
for mode in ("forward", "forward_backward"):
    rows = []
    for group in sorted(root.glob(f"*_{mode}")):
        loss = group.name[: -len(mode) - 1]
        ours_dir = group / "burn-losses"
        if not ours_dir.is_dir():
            continue
        for shape_dir in sorted(ours_dir.iterdir()):
            shape = shape_dir.name
            ours = median(shape_dir)
            burn = median(group / "burn-nn" / shape)
            torch_row = pytorch.get((loss, shape))
            torch_time = torch_row[mode] if torch_row else None
            rows.append((loss, shape, ours, burn, torch_time))
    if not rows:
        continue
    print(f"\n### {mode.replace('_', ' + ')} (median seconds)\n")
    print("| loss | shape | burn-losses | burn::nn::loss | PyTorch CPU | ours / Burn | ours / PyTorch |")
    print("|---|---|---|---|---|---|---|")
    for loss, shape, ours, burn, torch_time in rows:
        print(f"| {loss} | {shape} | {fmt(ours)} | {fmt(burn)} | {fmt(torch_time)} | "
              f"{ratio(ours, burn)} | {ratio(ours, torch_time)} |")

memory_file = root / "memory.json"
if memory_file.exists():
    print("\n### peak memory above the inputs, forward + backward (MB)\n")
    print("| loss | shape | logits | burn-losses | burn::nn::loss | ours / logits | ours / Burn |")
    print("|---|---|---|---|---|---|---|")
    for row in json.loads(memory_file.read_text()):
        logits = row["logits_bytes"] / 1e6
        ours = row["ours_peak_bytes"] / 1e6
        burn = None if row["burn_peak_bytes"] is None else row["burn_peak_bytes"] / 1e6
        print(f"| {row['loss']} | {row['shape']} | {logits:.1f} | {ours:.1f} | {fmt(burn, 1)} | "
              f"{ours / logits:.2f} | {ratio(ours, burn)} |")
