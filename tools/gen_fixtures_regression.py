#!/usr/bin/env python3
"""Writes the PyTorch golden fixtures of the regression family (mse, l1, smooth_l1, huber) into
tests/fixtures/, in the schema of tools/gen_fixtures.py.

Run from the repository root:

    /opt/torchenv/bin/python tools/gen_fixtures_regression.py

Inputs are float32-exact; values and gradients (input and target) are computed in float64 by
torch. `batchmean` is the sum divided by the size of dimension 0 of the input.
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import gen_fixtures as g  # noqa: E402

GENERATOR = "tools/gen_fixtures_regression.py"
SHAPES = {"1d": (5,), "2d": (4, 3), "3d": (2, 3, 4)}


def case(cases, loss, name, options, inp32, tgt32, fn):
    gg = g.gen(loss, name)
    cases.append(g.run_case(gg, name, "default", options, inp32, tgt32, g.loss_fn(fn), target_grad=True))


def draws(loss, name, shape, scale):
    gg = g.gen(loss, "draw/" + name)
    return g.randn(gg, shape, scale), g.randn(gg, shape, scale)


def edge_inputs(thresholds):
    """Differences exactly 0, at each threshold, and just inside and outside it."""
    diffs = [0.0]
    for t in thresholds:
        diffs += [t, -t, t * 0.5, -t * 1.5, t + 0.25, -(t + 0.25)]
    diffs = torch.tensor(diffs, dtype=torch.float32)
    target = torch.linspace(-1.0, 1.0, diffs.numel(), dtype=torch.float32)
    return (target + diffs).contiguous(), target


def gen_simple(loss, fn):
    cases = []
    for tag, shape in SHAPES.items():
        inp, tgt = draws(loss, tag, shape, 1.5)
        case(cases, loss, tag, {}, inp, tgt, fn)
    inp, tgt = edge_inputs([0.5, 1.0, 3.0])
    case(cases, loss, "edges", {}, inp, tgt, fn)
    inp = torch.tensor([[1.0, -2.0, 3.0], [0.0, 5.0, -1.0]])
    case(cases, loss, "equal", {}, inp, inp.clone(), fn)
    return cases


def gen_smooth_l1():
    cases = []
    for beta in (0.0, 0.5, 1.0, 5.0):
        fn = lambda x, t, red, beta=beta: F.smooth_l1_loss(x, t, reduction=red, beta=beta)
        for tag, shape in SHAPES.items():
            inp, tgt = draws("smooth_l1", f"{tag}_beta{beta}", shape, 2.0)
            case(cases, "smooth_l1", f"{tag}_beta{beta}", {"beta": beta}, inp, tgt, fn)
        inp, tgt = edge_inputs([beta] if beta > 0 else [1.0])
        case(cases, "smooth_l1", f"edges_beta{beta}", {"beta": beta}, inp, tgt, fn)
    return cases


def gen_huber():
    cases = []
    for delta in (0.5, 1.0, 3.0):
        fn = lambda x, t, red, delta=delta: F.huber_loss(x, t, reduction=red, delta=delta)
        for tag, shape in SHAPES.items():
            inp, tgt = draws("huber", f"{tag}_delta{delta}", shape, 2.0)
            case(cases, "huber", f"{tag}_delta{delta}", {"delta": delta}, inp, tgt, fn)
        inp, tgt = edge_inputs([delta])
        case(cases, "huber", f"edges_delta{delta}", {"delta": delta}, inp, tgt, fn)
    return cases


def main():
    files = {
        "mse": gen_simple("mse", lambda x, t, red: F.mse_loss(x, t, reduction=red)),
        "l1": gen_simple("l1", lambda x, t, red: F.l1_loss(x, t, reduction=red)),
        "smooth_l1": gen_smooth_l1(),
        "huber": gen_huber(),
    }
    for loss, cases in files.items():
        names = [c["name"] for c in cases]
        assert len(names) == len(set(names)), f"duplicate case names in {loss}"
        path = os.path.join(g.OUT_DIR, f"{loss}.json")
        header = {"generator": GENERATOR, "torch_version": torch.__version__, "loss": loss}
        g.write_json(path, header, cases=cases)
        print(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
