#!/usr/bin/env python3
"""Writes the PyTorch golden fixtures of the margin family (soft margin, multilabel soft margin,
multilabel margin, multi margin) into tests/fixtures/, in the schema of tools/gen_fixtures.py.

Run from the repository root:

    /opt/torchenv/bin/python tools/gen_fixtures_margin.py

Inputs are float32-exact; values and gradients are computed in float64 by torch. `batchmean` is
the sum divided by the size of dimension 0 of the input (PyTorch has no 'batchmean' here).
"""

import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import gen_fixtures as g  # noqa: E402

GENERATOR = "tools/gen_fixtures_margin.py"


def f32(value):
    """A Python float rounded to float32, so torch's float64 option equals ours (f32)."""
    return float(np.float32(value))


def check_unique(cases, fname):
    names = [c["name"] for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, f"duplicate case names in {fname}: {dup}"


# --------------------------------------------------------------------------------------------
# soft_margin_loss
# --------------------------------------------------------------------------------------------


def sm_case(cases, name, inp32, tgt32):
    gg = g.gen("soft_margin", name)
    fn = g.loss_fn(lambda x, t, red: F.soft_margin_loss(x, t, reduction=red))
    # PyTorch: the target is not differentiable (requiring its gradient is an error).
    cases.append(g.run_case(gg, name, "default", {}, inp32, tgt32, fn, target_grad=False))


def gen_soft_margin():
    cases = []
    shapes = {"1d": (5,), "2d": (5, 4), "wide": (3, 10), "3d": (2, 3, 4), "4d": (2, 2, 3, 2),
              "n1": (1, 2)}
    for tag, shape in shapes.items():
        for kind in ("sign", "real"):
            name = f"{tag}_{kind}"
            gg = g.gen("soft_margin", "draw/" + name)
            inp = g.randn(gg, shape, 2.0)
            if kind == "sign":
                tgt = (torch.randint(0, 2, shape, generator=gg) * 2 - 1).to(torch.float32)
            else:  # any real target is accepted, as in PyTorch
                tgt = g.uniform(gg, shape, -2.0, 2.0)
            sm_case(cases, name, inp, tgt)
    # Edges: rows x in {-100, -20, -1, 0, 1, 20, 100} against y in {1, -1, 0, 0.5}. PyTorch's
    # float32 overflows to inf at x = -100, y = 1; its float64 (the reference here) does not.
    xs = torch.tensor([-100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0], dtype=torch.float32)
    ys = torch.tensor([1.0, -1.0, 0.0, 0.5], dtype=torch.float32)
    sm_case(cases, "2d_edges", xs[:, None].expand(7, 4).contiguous(),
            ys[None, :].expand(7, 4).contiguous())
    return cases


# --------------------------------------------------------------------------------------------
# multilabel_soft_margin_loss
# --------------------------------------------------------------------------------------------


def mlsm_case(cases, name, inp32, tgt32, w32):
    gg = g.gen("multilabel_soft_margin", name)
    w64 = None if w32 is None else w32.to(torch.float64)
    fn = g.loss_fn(
        lambda x, t, red: F.multilabel_soft_margin_loss(x, t, weight=w64, reduction=red)
    )
    opts = {"weight": g.weight_list(w32)}
    cases.append(g.run_case(gg, name, "default", opts, inp32, tgt32, fn, target_grad=True))


def gen_multilabel_soft_margin():
    cases = []
    shapes = {"2d": (5, 4), "wide": (3, 10), "n1": (1, 2), "c1": (4, 1)}
    for tag, shape in shapes.items():
        for use_w in (False, True):
            for kind in ("hard", "soft"):
                name = f"{tag}_{'weight' if use_w else 'noweight'}_{kind}"
                gg = g.gen("multilabel_soft_margin", "draw/" + name)
                inp = g.randn(gg, shape, 2.0)
                if kind == "hard":
                    tgt = torch.randint(0, 2, shape, generator=gg).to(torch.float32)
                else:
                    tgt = g.uniform(gg, shape, 0.0, 1.0)
                w = g.draw_weight(gg, shape[-1]) if use_w else None
                mlsm_case(cases, name, inp, tgt, w)
    # Targets outside [0, 1] are not checked by PyTorch (nor by us).
    name = "2d_weight_targets_outside_unit"
    gg = g.gen("multilabel_soft_margin", "draw/" + name)
    mlsm_case(cases, name, g.randn(gg, (5, 4), 2.0), g.uniform(gg, (5, 4), -1.0, 2.0),
              g.draw_weight(gg, 4))
    # A weight of length 1 broadcasts (as in PyTorch), and a zero weight.
    name = "2d_weight_len1"
    gg = g.gen("multilabel_soft_margin", "draw/" + name)
    mlsm_case(cases, name, g.randn(gg, (5, 4), 2.0),
              torch.randint(0, 2, (5, 4), generator=gg).to(torch.float32),
              torch.tensor([1.75], dtype=torch.float32))
    name = "2d_weight_with_zero"
    gg = g.gen("multilabel_soft_margin", "draw/" + name)
    mlsm_case(cases, name, g.randn(gg, (5, 4), 2.0),
              torch.randint(0, 2, (5, 4), generator=gg).to(torch.float32),
              torch.tensor([0.5, 0.0, 2.0, 1.0], dtype=torch.float32))
    # Extreme logits: rows x in {1e4, -1e4, 0, 100, -100, 20, -20} against y in {0, 1, 0.5}.
    xs = torch.tensor([1e4, -1e4, 0.0, 100.0, -100.0, 20.0, -20.0], dtype=torch.float32)
    ys = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float32)
    for use_w in (False, True):
        name = f"2d_extreme_logits_{'weight' if use_w else 'noweight'}"
        gg = g.gen("multilabel_soft_margin", "draw/" + name)
        mlsm_case(cases, name, xs[:, None].expand(7, 3).contiguous(),
                  ys[None, :].expand(7, 3).contiguous(),
                  g.draw_weight(gg, 3) if use_w else None)
    return cases


# --------------------------------------------------------------------------------------------
# multilabel_margin_loss
# --------------------------------------------------------------------------------------------


def mlm_case(cases, name, inp32, tgt):
    gg = g.gen("multilabel_margin", name)
    fn = g.loss_fn(lambda x, t, red: F.multilabel_margin_loss(x, t, reduction=red))
    cases.append(g.run_case(gg, name, "default", {}, inp32, tgt, fn, target_grad=False))


def multilabel_targets(gg, n, c, kind):
    """Per row: a target list, a -1 (unless the list fills the row), then junk in [-1, C)."""
    rows = []
    for _ in range(n):
        if kind == "empty":
            length = 0
        elif kind == "full":
            length = c
        else:
            length = int(torch.randint(0, c + 1, (1,), generator=gg))
        if kind == "duplicates":
            listed = torch.randint(0, c, (length,), generator=gg).tolist()
        else:
            listed = torch.randperm(c, generator=gg)[:length].tolist()
        row = listed
        if length < c:
            row = row + [-1] + torch.randint(-1, c, (c - length - 1,), generator=gg).tolist()
        rows.append(row)
    return torch.tensor(rows, dtype=torch.int64)


def gen_multilabel_margin():
    cases = []
    shapes = {"2d": (5, 4), "wide": (3, 10), "n1": (1, 2), "c1": (3, 1), "tall": (8, 6)}
    for tag, (n, c) in shapes.items():
        for kind in ("padded", "duplicates", "empty", "full"):
            name = f"{tag}_{kind}"
            gg = g.gen("multilabel_margin", "draw/" + name)
            inp = g.randn(gg, (n, c), 1.0)
            mlm_case(cases, name, inp, multilabel_targets(gg, n, c, kind))
    # Mixed rows: empty, padded with junk after the -1, duplicates, full.
    name = "2d_mixed_rows"
    gg = g.gen("multilabel_margin", "draw/" + name)
    tgt = torch.tensor([[-1, 3, 0, 2], [2, -1, 3, -1], [1, 1, 3, -1], [3, 0, 2, 1], [0, 0, 0, 0]],
                       dtype=torch.int64)
    mlm_case(cases, name, g.randn(gg, (5, 4), 1.0), tgt)
    # Hinge ties: 1 - x[j] + x[c] == 0 exactly (strict > 0: no gradient there).
    x = torch.tensor([[0.0, 1.0, 0.5, 1.5], [2.0, 1.0, 1.0, -0.25]], dtype=torch.float32)
    tgt = torch.tensor([[1, 3, -1, 0], [0, -1, 1, 2]], dtype=torch.int64)
    mlm_case(cases, "2d_hinge_ties", x, tgt)
    # The reference's golden example: 0.85.
    mlm_case(cases, "golden_0.85", torch.tensor([[0.1, 0.2, 0.4, 0.8]]),
             torch.tensor([[3, 0, -1, 1]], dtype=torch.int64))
    return cases


# --------------------------------------------------------------------------------------------
# multi_margin_loss
# --------------------------------------------------------------------------------------------

MARGINS = (1.0, 0.5, 0.0, -3.14, 7.0)


def mm_case(cases, name, inp32, tgt, p, margin, w32):
    gg = g.gen("multi_margin", name)
    margin = f32(margin)
    w64 = None if w32 is None else w32.to(torch.float64)
    fn = g.loss_fn(
        lambda x, t, red: F.multi_margin_loss(x, t, p=p, margin=margin, weight=w64,
                                              reduction=red)
    )
    opts = {"p": p, "margin": margin, "weight": g.weight_list(w32)}
    cases.append(g.run_case(gg, name, "default", opts, inp32, tgt, fn, target_grad=False))


def mm_standard(cases, tag, shape, p, margin, use_w):
    n, c = shape
    name = f"{tag}_p{p}_margin{margin}_{'weight' if use_w else 'noweight'}"
    gg = g.gen("multi_margin", "draw/" + name)
    inp = g.randn(gg, shape, 1.0)
    tgt = torch.randint(0, c, (n,), generator=gg)
    w = g.draw_weight(gg, c) if use_w else None
    mm_case(cases, name, inp, tgt, p, margin, w)


def gen_multi_margin():
    cases = []
    # Full product on (5, 4).
    for p in (1, 2):
        for margin in MARGINS:
            for use_w in (False, True):
                mm_standard(cases, "2d", (5, 4), p, margin, use_w)
    # Every p and margin on (3, 10), N = 1 and C = 2 (weight alternating).
    for tag, shape in (("wide", (3, 10)), ("n1", (1, 4)), ("c2", (6, 2))):
        for p in (1, 2):
            for i, margin in enumerate(MARGINS):
                mm_standard(cases, tag, shape, p, margin, (i + p) % 2 == 0)
    # Hinge ties: margin - x[y] + x[c] == 0 exactly (strict > 0: no gradient there).
    x = torch.tensor([[0.0, 1.0, 0.5, 1.5], [2.0, 1.0, 1.0, -0.25], [0.25, 0.25, 0.25, 0.25]],
                     dtype=torch.float32)
    tgt = torch.tensor([1, 0, 2], dtype=torch.int64)
    for p in (1, 2):
        mm_case(cases, f"2d_hinge_ties_p{p}", x, tgt, p, 1.0, None)
        mm_case(cases, f"2d_hinge_ties_margin0_p{p}_weight", x, tgt, p, 0.0,
                torch.tensor([0.5, 1.5, 2.0, 0.0], dtype=torch.float32))
    # The reference's golden example: 0.325.
    mm_case(cases, "golden_0.325", torch.tensor([[0.1, 0.2, 0.4, 0.8]]),
            torch.tensor([3], dtype=torch.int64), 1, 1.0, None)
    return cases


# --------------------------------------------------------------------------------------------


def main():
    if not os.path.isdir(g.OUT_DIR):
        sys.exit("run from the repository root: tests/fixtures not found")
    header = lambda loss: {"generator": GENERATOR, "torch_version": torch.__version__, "loss": loss}
    files = [
        ("soft_margin", "soft_margin", gen_soft_margin),
        ("multilabel_soft_margin", "multilabel_soft_margin", gen_multilabel_soft_margin),
        ("multilabel_margin", "multilabel_margin", gen_multilabel_margin),
        ("multi_margin", "multi_margin", gen_multi_margin),
    ]
    for fname, loss, make in files:
        cases = make()
        check_unique(cases, fname)
        path = os.path.join(g.OUT_DIR, f"{fname}.json")
        g.write_json(path, header(loss), cases=cases)
        print(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
