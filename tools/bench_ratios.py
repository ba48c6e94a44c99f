#!/usr/bin/env python3
"""Prints ours / Burn's time for every benchmark of `cargo bench --bench losses`.

Reads criterion's estimates under target/criterion (standard library only). A ratio below 1
means burn-losses is faster than `burn::nn::loss` in the same run.
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
rows = []
for group in sorted(p for p in root.glob("*/*") if p.is_dir() and p.name != "report"):
    ours_dir = group / "burn-losses"
    peer_dir = group / "burn-nn"
    if not ours_dir.is_dir() or not peer_dir.is_dir():
        continue
    for shape in sorted(p.name for p in ours_dir.iterdir() if (p / "new" / "estimates.json").exists()):
        estimate = lambda d: json.loads((d / shape / "new" / "estimates.json").read_text())["median"]["point_estimate"] / 1e9
        ours, peer = estimate(ours_dir), estimate(peer_dir)
        rows.append((f"{group.parent.name}/{group.name}", shape, ours, peer))
print(f"| benchmark | shape | burn-losses (s) | burn::nn::loss (s) | ours / Burn |")
print("|---|---|---|---|---|")
for name, shape, ours, peer in rows:
    print(f"| {name} | {shape} | {ours:.4f} | {peer:.4f} | {ours / peer:.2f} |")
