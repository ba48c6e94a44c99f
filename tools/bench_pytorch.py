#!/usr/bin/env python3
"""PyTorch at the shapes and losses of `cargo bench --bench losses`, for the ratio tables.

    /path/to/torchenv/bin/python tools/bench_pytorch.py            # CPU (and CUDA if present)
    BENCH_SHAPES=8192x1000 BENCH_LOSSES=cross_entropy ... (as the Rust bench)

Times forward and forward + backward (median of repeated runs after a warm-up) in float32, and
writes target/criterion/pytorch.json, which tools/bench_ratios.py reads. Threads: PyTorch's
default (all cores), as a user would run it.
"""
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F

SHAPES = [(65536, 10), (8192, 1000), (4096, 32000), (1024, 128256), (8, 21, 128, 128)]


def wanted(variable, name):
    value = os.environ.get(variable)
    return value is None or name in value.split(",")


def shape_id(shape):
    return "x".join(str(d) for d in shape)


def cases(shape, device):
    g = torch.Generator(device="cpu").manual_seed(0)
    n, c = shape[0], shape[1]
    logits = (torch.randn(shape, generator=g) * 2.0).to(device)
    index_shape = (n,) + tuple(shape[2:])
    targets = torch.randint(0, c, index_shape, generator=g).to(device)
    binary = torch.randint(0, 2, shape, generator=g).float().to(device)
    kl_targets = torch.softmax(torch.rand(shape, generator=g), dim=1).to(device)
    yield "cross_entropy", logits, lambda x: F.cross_entropy(x, targets)
    yield "cross_entropy_smoothing", logits, lambda x: F.cross_entropy(x, targets, label_smoothing=0.1)
    yield "cross_entropy_ignored", logits, lambda x: F.cross_entropy(x, targets, ignore_index=0)
    log_probs = torch.log_softmax(logits, dim=1)
    yield "nll", log_probs, lambda x: F.nll_loss(x, targets)
    yield "bce_with_logits", logits, lambda x: F.binary_cross_entropy_with_logits(x, binary)
    yield "kl_div", log_probs, lambda x: F.kl_div(x, kl_targets, reduction="batchmean")
    regression_targets = torch.rand(shape, generator=g).to(device)
    yield "mse", logits, lambda x: F.mse_loss(x, regression_targets)


def median_seconds(step, device, repeats):
    step()  # warm-up
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(device):
    rows = []
    for shape in SHAPES:
        if not wanted("BENCH_SHAPES", shape_id(shape)):
            continue
        for name, base, loss in cases(shape, device):
            if not wanted("BENCH_LOSSES", name):
                continue

            def forward():
                with torch.no_grad():
                    loss(base).item()

            def forward_backward():
                x = base.detach().requires_grad_(True)
                loss(x).backward()
                x.grad.sum().item() if device == "cuda" else None

            repeats = 20 if base.numel() < 50_000_000 else 5
            row = {
                "device": device,
                "loss": name,
                "shape": shape_id(shape),
                "forward": median_seconds(forward, device, repeats),
                "forward_backward": median_seconds(forward_backward, device, repeats),
            }
            print(f"{device} {name} {row['shape']}: forward {row['forward']:.4f} s, "
                  f"forward+backward {row['forward_backward']:.4f} s", flush=True)
            rows.append(row)
    return rows


def main():
    rows = run("cpu")
    if torch.cuda.is_available():
        rows += run("cuda")
    os.makedirs("target/criterion", exist_ok=True)
    with open("target/criterion/pytorch.json", "w") as f:
        json.dump({"torch_version": torch.__version__, "threads": torch.get_num_threads(),
                   "rows": rows}, f, indent=1)
    print(f"wrote target/criterion/pytorch.json (torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
