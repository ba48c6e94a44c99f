#!/usr/bin/env python3
"""Writes the PyTorch golden fixtures of burn-losses into tests/fixtures/.

Run from the repository root with a Python that has torch and numpy:

    /opt/torchenv/bin/python tools/gen_fixtures.py

Every case draws its inputs from its own torch.Generator, seeded from a CRC32 of the file and
case name, so the output is deterministic and adding a case does not change the others.
Inputs are drawn (or derived and then rounded) as float32, so they are exactly representable in
f32; every value and gradient is then computed in float64 with torch.nn.functional and autograd.

JSON conventions (the Rust replay in tests/ depends on them):
  tensor  = {"shape": [...], "data": [row-major values]}
  numbers = Python float repr of float64; non-finite values as the strings "nan", "inf", "-inf";
  integer tensors hold plain JSON ints.
"""

import json
import math
import os
import sys
import warnings
import zlib

import torch
import torch.nn.functional as F

OUT_DIR = os.path.join("tests", "fixtures")
GENERATOR = "tools/gen_fixtures.py"
REDUCTIONS = ("sum", "mean", "none")

torch.set_default_dtype(torch.float32)
warnings.filterwarnings("ignore", message=".*reduction: 'mean' divides the total loss.*")


# --------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------


def num(value):
    """A float64 as a JSON value: a float, or "nan"/"inf"/"-inf"."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def tensor(t):
    t = t.detach().cpu()
    if t.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        data = [int(v) for v in t.reshape(-1).tolist()]
    else:
        data = [num(v) for v in t.to(torch.float64).reshape(-1).tolist()]
    return {"shape": list(t.shape), "data": data}


def weight_list(w):
    return None if w is None else [float(v) for v in w.to(torch.float64).tolist()]


def write_json(path, header, cases=None, body=None):
    """One case per line, so diffs stay readable; allow_nan=False guarantees valid JSON."""
    dump = lambda obj: json.dumps(obj, allow_nan=False, separators=(",", ":"))
    with open(path, "w") as f:
        if cases is None:
            f.write(json.dumps({**header, **body}, allow_nan=False, indent=1))
            f.write("\n")
            return
        head = dump(header)[:-1]  # drop the closing brace
        f.write(head + ',"cases":[\n')
        f.write(",\n".join(dump(c) for c in cases))
        f.write("\n]}\n")


# --------------------------------------------------------------------------------------------
# Random draws (all float32 unless integer)
# --------------------------------------------------------------------------------------------


def gen(loss, name):
    return torch.Generator().manual_seed(zlib.crc32(f"{loss}/{name}".encode()))


def randn(g, shape, scale=1.0):
    return (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(torch.float32)


def uniform(g, shape, lo, hi):
    u = torch.rand(shape, generator=g, dtype=torch.float64)
    return (lo + (hi - lo) * u).to(torch.float32)


def softmax32(z, dim):
    """Softmax computed in float64, rounded to float32 (robust across CPUs)."""
    return torch.softmax(z.double(), dim=dim).to(torch.float32)


def log_softmax32(z, dim):
    return torch.log_softmax(z.double(), dim=dim).to(torch.float32)


# --------------------------------------------------------------------------------------------
# Generic case runner
# --------------------------------------------------------------------------------------------


def run_case(g, name, method, options, inp32, tgt, fn, target_grad):
    """fn(input64, target, reduction) -> loss. tgt is int64 (index) or float32."""
    x64 = inp32.to(torch.float64)
    t_is_float = tgt.is_floating_point()
    t64 = tgt.to(torch.float64) if t_is_float else tgt

    with torch.no_grad():
        none = fn(x64, t64, "none")
    upstream = uniform(g, tuple(none.shape), 0.5, 1.5).to(torch.float64)

    expected = {}
    grads = {}
    for red in REDUCTIONS:
        xi = x64.clone().requires_grad_(True)
        ti = t64.clone().requires_grad_(True) if target_grad else t64
        out = fn(xi, ti, red)
        if red == "none":
            expected["none"] = tensor(out)
            (out * upstream).sum().backward()
        else:
            expected[red] = num(out.item())
            out.backward()
        gx = xi.grad if xi.grad is not None else torch.zeros_like(xi)
        entry = {"input": tensor(gx)}
        if target_grad:
            gt = ti.grad if ti.grad is not None else torch.zeros_like(ti)
            entry["target"] = tensor(gt)
        grads[red] = entry
        if red == "sum":
            with torch.no_grad():
                batchmean = fn(x64, t64, "batchmean") if fn.batchmean_native else out / x64.size(0)
            expected["batchmean"] = num(batchmean.item())

    return {
        "name": name,
        "method": method,
        "options": options,
        "inputs": {"input": tensor(inp32), "target": tensor(tgt)},
        "upstream": tensor(upstream),
        "expected": {k: expected[k] for k in ("none", "sum", "mean", "batchmean")},
        "grads": {k: grads[k] for k in ("sum", "mean", "none")},
    }


def loss_fn(f, batchmean_native=False):
    f.batchmean_native = batchmean_native
    return f


# --------------------------------------------------------------------------------------------
# Class-index helpers (cross_entropy "index", nll)
# --------------------------------------------------------------------------------------------

# name tag -> (input shape, target shape)
INDEX_SHAPES = {
    "2d": ((4, 5), (4,)),
    "k1": ((3, 4, 5), (3, 5)),
    "k2": ((2, 3, 4, 5), (2, 4, 5)),
    "k3": ((2, 3, 2, 3, 2), (2, 2, 3, 2)),
    "n1": ((1, 5), (1,)),
    "c2": ((6, 2), (6,)),
}


def ignore_tag(ii):
    return {None: "none", -100: "m100"}.get(ii, str(ii))


def index_targets(g, tshape, C, ignore):
    """Random class indices; for an ignore index, some (about 1/4, never all) positions hit it."""
    t = torch.randint(0, C, tshape, generator=g, dtype=torch.int64)
    flat = t.view(-1)
    n = flat.numel()
    perm = torch.randperm(n, generator=g)
    if ignore is None:
        pass
    elif 0 <= ignore < C:  # a valid class that is ignored
        if n >= 2:
            if not (flat == ignore).any():
                flat[perm[0]] = ignore
            if (flat == ignore).all():
                flat[perm[1]] = (ignore + 1) % C
        else:
            flat[flat == ignore] = (ignore + 1) % C
    else:  # out-of-range ignore index (-100, 255): overwrite some positions
        k = n // 4 if n >= 4 else (1 if n >= 2 else 0)
        flat[perm[:k]] = ignore
    return t


def draw_weight(g, C, lo=0.2, hi=2.0):
    return uniform(g, (C,), lo, hi)


# --------------------------------------------------------------------------------------------
# cross_entropy
# --------------------------------------------------------------------------------------------


def with_z_loss(ce, z, valid_of, normaliser_of):
    """CE plus PaLM's z-loss z * logsumexp(x)^2 at every valid position, reduced with CE's own
    denominator (burn-losses' `z_loss` option; PyTorch has no z-loss)."""
    if z == 0.0:
        return ce

    def fn(x, t, red):
        valid = valid_of(t).to(x.dtype)
        total = ce(x, t, "none") + z * torch.logsumexp(x, dim=1) ** 2 * valid
        if red == "none":
            return total
        if red == "sum":
            return total.sum()
        return total.sum() / normaliser_of(x, t)

    return loss_fn(fn)


def ce_index_case(cases, name, inp32, tgt, w32, ii, ls, z=0.0):
    g = gen("cross_entropy", name)  # only for the upstream draw; inputs are given
    w64 = None if w32 is None else w32.to(torch.float64)
    ignore = -100 if ii is None else ii
    ce = loss_fn(
        lambda x, t, red: F.cross_entropy(
            x, t, weight=w64, ignore_index=ignore, reduction=red, label_smoothing=ls,
        )
    )
    valid_of = lambda t: t != ignore
    safe = lambda t: torch.where(valid_of(t), t, torch.zeros_like(t))
    normaliser_of = lambda x, t: (
        valid_of(t).sum() if w64 is None else (w64[safe(t)] * valid_of(t)).sum()
    )
    fn = with_z_loss(ce, z, valid_of, normaliser_of)
    opts = {"weight": weight_list(w32), "ignore_index": ii, "label_smoothing": ls, "z_loss": z}
    cases.append(run_case(g, name, "index", opts, inp32, tgt, fn, target_grad=False))


def ce_index_standard(cases, tag, use_w, ii, ls):
    ishape, tshape = INDEX_SHAPES[tag]
    C = ishape[1]
    name = f"index_{tag}_{'weight' if use_w else 'noweight'}_ignore{ignore_tag(ii)}_smooth{ls}"
    g = gen("cross_entropy", "draw/" + name)
    inp = randn(g, ishape, 1.5)
    tgt = index_targets(g, tshape, C, ii)
    w = draw_weight(g, C) if use_w else None
    ce_index_case(cases, name, inp, tgt, w, ii, ls)


def ce_probs_case(cases, name, inp32, tgt32, w32, ls, z=0.0):
    g = gen("cross_entropy", name)
    w64 = None if w32 is None else w32.to(torch.float64)
    ce = loss_fn(
        lambda x, t, red: F.cross_entropy(
            x, t, weight=w64, ignore_index=-100, reduction=red, label_smoothing=ls
        )
    )
    positions = lambda x, t: x.numel() / x.shape[1]
    fn = with_z_loss(ce, z, lambda t: torch.ones(t.shape[:1] + t.shape[2:]), positions)
    opts = {"weight": weight_list(w32), "ignore_index": -100, "label_smoothing": ls, "z_loss": z}
    cases.append(run_case(g, name, "probs", opts, inp32, tgt32, fn, target_grad=True))


def gen_z_loss(cases):
    """burn-losses' z-loss option on top of PyTorch's cross entropy."""
    for tag, use_w, ii, ls, z in [
        ("2d", False, None, 0.0, 1e-4),
        ("2d", True, -100, 0.1, 0.1),
        ("k1", False, 1, 0.0, 0.1),
        ("k2", True, -100, 0.0, 1e-4),
    ]:
        ishape, tshape = INDEX_SHAPES[tag]
        name = f"zloss{z}_index_{tag}_{'weight' if use_w else 'noweight'}_ignore{ignore_tag(ii)}_smooth{ls}"
        g = gen("cross_entropy", "draw/" + name)
        inp = randn(g, ishape, 3.0)
        tgt = index_targets(g, tshape, ishape[1], ii)
        w = draw_weight(g, ishape[1]) if use_w else None
        ce_index_case(cases, name, inp, tgt, w, ii, ls, z)
    for shape, use_w, ls in [((4, 5), False, 0.0), ((3, 4, 5), True, 0.2)]:
        name = f"zloss0.1_probs_{len(shape)}d_{'weight' if use_w else 'noweight'}_smooth{ls}"
        g = gen("cross_entropy", "draw/" + name)
        inp = randn(g, shape, 3.0)
        tgt = softmax32(randn(g, shape), 1)
        w = draw_weight(g, shape[1]) if use_w else None
        ce_probs_case(cases, name, inp, tgt, w, ls, 0.1)


def gen_cross_entropy():
    cases = []
    weights = (False, True)
    ignores = (None, -100, 1)
    smooths = (0.0, 0.1, 1.0)
    # Full product on (4,5) and k=1.
    for tag in ("2d", "k1"):
        for use_w in weights:
            for ii in ignores:
                for ls in smooths:
                    ce_index_standard(cases, tag, use_w, ii, ls)
    # Representative subset elsewhere.
    subset = [
        (False, None, 0.0),
        (True, -100, 0.1),
        (True, 1, 1.0),
        (False, 1, 0.1),
        (True, None, 0.0),
    ]
    for tag in ("k2", "k3", "n1", "c2"):
        for use_w, ii, ls in subset:
            ce_index_standard(cases, tag, use_w, ii, ls)

    # Edge: extreme logits (+-1e4 mixed with normal values), incl. a target sitting on -1e4.
    for use_w, ls in ((False, 0.0), (False, 0.1), (True, 0.0), (True, 0.1)):
        name = f"index_2d_extreme_logits_{'weight' if use_w else 'noweight'}_smooth{ls}"
        g = gen("cross_entropy", "draw/" + name)
        inp = randn(g, (4, 5), 1.0)
        inp[0, 0], inp[0, 3] = 1e4, -1e4
        inp[1, 2] = -1e4
        inp[2, :] = torch.tensor([1e4, -1e4, 1e4, 0.5, -1e4])
        inp[3, 4] = 1e4
        tgt = torch.tensor([3, 2, 0, 1], dtype=torch.int64)  # row 0/1: target at -1e4; row 3: off the max
        w = draw_weight(g, 5) if use_w else None
        ce_index_case(cases, name, inp, tgt, w, None, ls)

    # Edge: every target ignored (mean is NaN in PyTorch; sum 0; gradient zeros).
    for use_w, ls in ((False, 0.0), (True, 0.0), (False, 0.1), (True, 0.1)):
        name = f"index_2d_all_ignored_{'weight' if use_w else 'noweight'}_smooth{ls}"
        g = gen("cross_entropy", "draw/" + name)
        inp = randn(g, (4, 5), 1.5)
        tgt = torch.full((4,), -100, dtype=torch.int64)
        w = draw_weight(g, 5) if use_w else None
        ce_index_case(cases, name, inp, tgt, w, -100, ls)
    name = "index_k1_all_ignored_class1_weight_smooth0.1"
    g = gen("cross_entropy", "draw/" + name)
    ce_index_case(
        cases, name, randn(g, (3, 4, 5), 1.5), torch.full((3, 5), 1, dtype=torch.int64),
        draw_weight(g, 4), 1, 0.1,
    )

    # Edge: -inf logit on a non-target class, no smoothing: finite loss and gradient.
    for use_w in (False, True):
        name = f"index_2d_neginf_nontarget_{'weight' if use_w else 'noweight'}_smooth0.0"
        g = gen("cross_entropy", "draw/" + name)
        inp = randn(g, (4, 5), 1.5)
        tgt = torch.tensor([0, 1, 2, 3], dtype=torch.int64)
        inp[0, 4] = -math.inf
        inp[1, 0] = -math.inf
        inp[1, 3] = -math.inf
        w = draw_weight(g, 5) if use_w else None
        ce_index_case(cases, name, inp, tgt, w, None, 0.0)

    # Edge: ignore_index 255, out of range, with some targets 255.
    for use_w, ls in ((False, 0.0), (True, 0.1)):
        for tag in ("2d", "k1"):
            ishape, tshape = INDEX_SHAPES[tag]
            name = f"index_{tag}_{'weight' if use_w else 'noweight'}_ignore255_smooth{ls}"
            g = gen("cross_entropy", "draw/" + name)
            inp = randn(g, ishape, 1.5)
            tgt = index_targets(g, tshape, ishape[1], 255)
            w = draw_weight(g, ishape[1]) if use_w else None
            ce_index_case(cases, name, inp, tgt, w, 255, ls)

    # Probability targets.
    probs_shapes = {"2d": (4, 5), "k1": (3, 4, 5), "k2": (2, 3, 4, 5)}
    for tag, shape in probs_shapes.items():
        for use_w in weights:
            for ls in (0.0, 0.2):
                name = f"probs_{tag}_{'weight' if use_w else 'noweight'}_smooth{ls}"
                g = gen("cross_entropy", "draw/" + name)
                inp = randn(g, shape, 1.5)
                tgt = softmax32(randn(g, shape, 1.5), dim=1)
                w = draw_weight(g, shape[1]) if use_w else None
                ce_probs_case(cases, name, inp, tgt, w, ls)

    # Exact one-hot probability targets.
    for use_w, ls in ((False, 0.0), (True, 0.2)):
        name = f"probs_2d_onehot_{'weight' if use_w else 'noweight'}_smooth{ls}"
        g = gen("cross_entropy", "draw/" + name)
        inp = randn(g, (4, 5), 1.5)
        idx = torch.randint(0, 5, (4,), generator=g)
        tgt = F.one_hot(idx, 5).to(torch.float32)
        w = draw_weight(g, 5) if use_w else None
        ce_probs_case(cases, name, inp, tgt, w, ls)

    # Zeros in the targets (renormalised rows).
    name = "probs_k1_zeros_in_target_weight_smooth0.0"
    g = gen("cross_entropy", "draw/" + name)
    inp = randn(g, (3, 4, 5), 1.5)
    p = softmax32(randn(g, (3, 4, 5), 1.5), dim=1).double()
    p[:, 0, :2] = 0.0
    p[1, :, 3] = 0.0
    p[1, 2, 3] = 1.0
    p = (p / p.sum(dim=1, keepdim=True)).to(torch.float32)
    ce_probs_case(cases, name, inp, p, draw_weight(g, 4), 0.0)

    # Extreme logits with probability targets.
    for use_w, ls in ((False, 0.0), (True, 0.2)):
        name = f"probs_2d_extreme_logits_{'weight' if use_w else 'noweight'}_smooth{ls}"
        g = gen("cross_entropy", "draw/" + name)
        inp = randn(g, (4, 5), 1.0)
        inp[0, 0], inp[0, 3] = 1e4, -1e4
        inp[1, 2] = -1e4
        inp[2, :] = torch.tensor([1e4, -1e4, 1e4, 0.5, -1e4])
        inp[3, 4] = 1e4
        tgt = softmax32(randn(g, (4, 5), 1.5), dim=1)
        w = draw_weight(g, 5) if use_w else None
        ce_probs_case(cases, name, inp, tgt, w, ls)
    gen_z_loss(cases)
    return cases


# --------------------------------------------------------------------------------------------
# nll_loss
# --------------------------------------------------------------------------------------------


def nll_case(cases, name, inp32, tgt, w32, ii):
    g = gen("nll", name)
    w64 = None if w32 is None else w32.to(torch.float64)
    fn = loss_fn(
        lambda x, t, red: F.nll_loss(
            x, t, weight=w64, ignore_index=-100 if ii is None else ii, reduction=red
        )
    )
    opts = {"weight": weight_list(w32), "ignore_index": ii}
    cases.append(run_case(g, name, "default", opts, inp32, tgt, fn, target_grad=False))


def nll_standard(cases, tag, use_w, ii):
    ishape, tshape = INDEX_SHAPES[tag]
    C = ishape[1]
    name = f"{tag}_{'weight' if use_w else 'noweight'}_ignore{ignore_tag(ii)}"
    g = gen("nll", "draw/" + name)
    inp = log_softmax32(randn(g, ishape, 1.5), dim=1)
    tgt = index_targets(g, tshape, C, ii)
    w = draw_weight(g, C) if use_w else None
    nll_case(cases, name, inp, tgt, w, ii)


def gen_nll():
    cases = []
    for tag in ("2d", "k1"):
        for use_w in (False, True):
            for ii in (None, -100, 1):
                nll_standard(cases, tag, use_w, ii)
    for tag in ("k2", "k3", "n1", "c2"):
        for use_w, ii in ((False, None), (True, -100), (True, 1), (False, 1)):
            nll_standard(cases, tag, use_w, ii)
    # Arbitrary unnormalised input values (NLL checks nothing; mean can be negative).
    for use_w, ii in ((False, None), (True, -100)):
        name = f"2d_unnormalised_{'weight' if use_w else 'noweight'}_ignore{ignore_tag(ii)}"
        g = gen("nll", "draw/" + name)
        inp = randn(g, (6, 4), 3.0)
        tgt = index_targets(g, (6,), 4, ii)
        w = draw_weight(g, 4) if use_w else None
        nll_case(cases, name, inp, tgt, w, ii)
    # All targets ignored.
    for use_w in (False, True):
        name = f"2d_all_ignored_{'weight' if use_w else 'noweight'}"
        g = gen("nll", "draw/" + name)
        inp = log_softmax32(randn(g, (4, 5), 1.5), dim=1)
        nll_case(cases, name, inp, torch.full((4,), -100, dtype=torch.int64),
                 draw_weight(g, 5) if use_w else None, -100)
    name = "k1_all_ignored_class1_weight"
    g = gen("nll", "draw/" + name)
    nll_case(cases, name, log_softmax32(randn(g, (3, 4, 5), 1.5), dim=1),
             torch.full((3, 5), 1, dtype=torch.int64), draw_weight(g, 4), 1)
    # Out-of-range ignore index.
    name = "2d_weight_ignore255"
    g = gen("nll", "draw/" + name)
    nll_case(cases, name, log_softmax32(randn(g, (4, 5), 1.5), dim=1),
             index_targets(g, (4,), 5, 255), draw_weight(g, 5), 255)
    return cases


# --------------------------------------------------------------------------------------------
# binary_cross_entropy
# --------------------------------------------------------------------------------------------

ELEMENTWISE_SHAPES = {"1d": (5,), "2d": (4, 3), "3d": (2, 3, 4)}


def bce_case(cases, name, inp32, tgt32, w32):
    g = gen("bce", name)
    w64 = None if w32 is None else w32.to(torch.float64)
    fn = loss_fn(lambda x, t, red: F.binary_cross_entropy(x, t, weight=w64, reduction=red))
    opts = {"weight": weight_list(w32)}
    cases.append(run_case(g, name, "default", opts, inp32, tgt32, fn, target_grad=True))


def gen_bce():
    cases = []
    for tag, shape in ELEMENTWISE_SHAPES.items():
        for use_w in (False, True):
            for kind in ("hard", "soft"):
                name = f"{tag}_{'weight' if use_w else 'noweight'}_{kind}"
                g = gen("bce", "draw/" + name)
                inp = uniform(g, shape, 0.01, 0.99)
                if kind == "hard":
                    tgt = torch.randint(0, 2, shape, generator=g).to(torch.float32)
                else:
                    tgt = uniform(g, shape, 0.0, 1.0)
                w = draw_weight(g, shape[-1]) if use_w else None
                bce_case(cases, name, inp, tgt, w)
    # Clamp edge: rows x in {0, 1, 1e-10, 1-1e-7} (as f32) against columns y in {0, 1, 0.5}.
    xs = torch.tensor([0.0, 1.0, 1e-10, 1 - 1e-7], dtype=torch.float32)
    ys = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float32)
    inp = xs[:, None].expand(4, 3).contiguous()
    tgt = ys[None, :].expand(4, 3).contiguous()
    for use_w in (False, True):
        name = f"2d_clamp_edges_{'weight' if use_w else 'noweight'}"
        g = gen("bce", "draw/" + name)
        bce_case(cases, name, inp.clone(), tgt.clone(), draw_weight(g, 3) if use_w else None)
    return cases


# --------------------------------------------------------------------------------------------
# binary_cross_entropy_with_logits
# --------------------------------------------------------------------------------------------


def bcel_case(cases, name, inp32, tgt32, w32, pw32):
    g = gen("bce_with_logits", name)
    w64 = None if w32 is None else w32.to(torch.float64)
    pw64 = None if pw32 is None else pw32.to(torch.float64)
    fn = loss_fn(
        lambda x, t, red: F.binary_cross_entropy_with_logits(
            x, t, weight=w64, pos_weight=pw64, reduction=red
        )
    )
    opts = {"weight": weight_list(w32), "pos_weight": weight_list(pw32)}
    cases.append(run_case(g, name, "default", opts, inp32, tgt32, fn, target_grad=True))


def gen_bce_with_logits():
    cases = []
    for tag, shape in ELEMENTWISE_SHAPES.items():
        for use_w in (False, True):
            for use_pw in (False, True):
                for kind in ("hard", "soft"):
                    name = (f"{tag}_{'weight' if use_w else 'noweight'}_"
                            f"{'posweight' if use_pw else 'noposweight'}_{kind}")
                    g = gen("bce_with_logits", "draw/" + name)
                    inp = randn(g, shape, 2.0)
                    if kind == "hard":
                        tgt = torch.randint(0, 2, shape, generator=g).to(torch.float32)
                    else:
                        tgt = uniform(g, shape, 0.0, 1.0)
                    w = draw_weight(g, shape[-1], 0.2, 3.0) if use_w else None
                    pw = draw_weight(g, shape[-1], 0.2, 3.0) if use_pw else None
                    bcel_case(cases, name, inp, tgt, w, pw)
    # Edge logits: rows x in {1e4, -1e4, 0, 100, -100, 20, -20} against y in {0, 1, 0.5}.
    xs = torch.tensor([1e4, -1e4, 0.0, 100.0, -100.0, 20.0, -20.0], dtype=torch.float32)
    ys = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float32)
    inp = xs[:, None].expand(7, 3).contiguous()
    tgt = ys[None, :].expand(7, 3).contiguous()
    for use_w, use_pw in ((False, False), (True, False), (False, True), (True, True)):
        name = (f"2d_extreme_logits_{'weight' if use_w else 'noweight'}_"
                f"{'posweight' if use_pw else 'noposweight'}")
        g = gen("bce_with_logits", "draw/" + name)
        w = draw_weight(g, 3, 0.2, 3.0) if use_w else None
        pw = draw_weight(g, 3, 0.2, 3.0) if use_pw else None
        bcel_case(cases, name, inp.clone(), tgt.clone(), w, pw)
    return cases


# --------------------------------------------------------------------------------------------
# kl_div
# --------------------------------------------------------------------------------------------


def kl_case(cases, name, inp32, tgt32, log_target):
    g = gen("kl_div", name)
    fn = loss_fn(
        lambda x, t, red: F.kl_div(x, t, reduction=red, log_target=log_target),
        batchmean_native=True,
    )
    opts = {"log_target": log_target}
    cases.append(run_case(g, name, "default", opts, inp32, tgt32, fn, target_grad=True))


def gen_kl_div():
    cases = []
    shapes = {"2d": (4, 5), "3d": (2, 3, 4), "1d": (6,)}
    for tag, shape in shapes.items():
        for log_target in (False, True):
            name = f"{tag}_logtarget_{str(log_target).lower()}"
            g = gen("kl_div", "draw/" + name)
            inp = log_softmax32(randn(g, shape, 1.5), dim=-1)
            z = randn(g, shape, 1.5)
            tgt = log_softmax32(z, dim=-1) if log_target else softmax32(z, dim=-1)
            kl_case(cases, name, inp, tgt, log_target)
    # Exact zeros in a probability target: loss term 0, target gradient NaN (log 0 path).
    name = "2d_zeros_in_target_logtarget_false"
    g = gen("kl_div", "draw/" + name)
    inp = log_softmax32(randn(g, (4, 5), 1.5), dim=-1)
    p = softmax32(randn(g, (4, 5), 1.5), dim=-1).double()
    p[0, 1] = 0.0
    p[2, 0] = 0.0
    p[2, 4] = 0.0
    p[3, 3] = 0.0
    p = (p / p.sum(dim=-1, keepdim=True)).to(torch.float32)
    kl_case(cases, name, inp, p, False)
    return cases


# --------------------------------------------------------------------------------------------
# seed.json: the notebook values
# --------------------------------------------------------------------------------------------

MULTI_HOT = [
    [0, 1, 1, 0, 0], [0, 1, 1, 0, 0], [0, 1, 1, 0, 0], [1, 0, 0, 0, 1], [0, 1, 0, 1, 0],
    [1, 0, 0, 1, 0], [1, 1, 0, 0, 0], [0, 0, 1, 0, 1], [1, 1, 0, 0, 0], [1, 1, 1, 1, 0],
]


def fmt(t):
    t = t.detach()
    if t.dim() == 0:
        return f"{t.item():.6f}"
    return "[" + ", ".join(f"{v:.4f}" for v in t.reshape(-1).tolist()) + "]"


def gen_seed():
    torch.manual_seed(42)
    x = torch.rand(10, 5)
    torch.manual_seed(42)
    y = torch.randint(0, 5, (10,))
    assert y.tolist() == [2, 2, 1, 4, 1, 0, 0, 4, 0, 3], y.tolist()
    torch.manual_seed(42)
    nd_logits = torch.randn(32, 10, 5)
    nd_targets = torch.randint(0, 10, (32, 5))

    x64 = x.double()
    eps = 0.1
    onehot = F.one_hot(y, 5).double()
    smoothed_a = onehot * (1 - eps) + eps / 5  # 0.92 / 0.02
    smoothed_b = onehot * 0.9 + 0.025  # 0.925 / 0.025
    smoothed_c = onehot * 0.9 + 0.025 * (1 - onehot)  # 0.9 / 0.025: eps/(C-1) on the other classes
    variants = (("onehot*0.9+0.02", smoothed_a), ("onehot*0.9+0.025", smoothed_b),
                ("0.9 true/0.025 rest", smoothed_c))
    mh = torch.tensor(MULTI_HOT, dtype=torch.float64)

    print("seed: values of the issue's notebook (float32 | float64):")
    for dt in (torch.float32, torch.float64):
        xs = x.to(dt)
        tag = str(dt).replace("torch.", "")
        print(f"  [{tag}] CE(x,y) mean={fmt(F.cross_entropy(xs, y))} "
              f"sum={fmt(F.cross_entropy(xs, y, reduction='sum'))}")
        print(f"  [{tag}] CE(x,y) none={fmt(F.cross_entropy(xs, y, reduction='none'))}")
        print(f"  [{tag}] CE(x,y,label_smoothing=0.1) mean={fmt(F.cross_entropy(xs, y, label_smoothing=0.1))} "
              f"sum={fmt(F.cross_entropy(xs, y, label_smoothing=0.1, reduction='sum'))}")
        for label, s in variants + (("multi_hot", mh),):
            s = s.to(dt)
            sig = torch.sigmoid(xs)
            print(f"  [{tag}] {label:19s} CE(probs) mean={fmt(F.cross_entropy(xs, s))} "
                  f"sum={fmt(F.cross_entropy(xs, s, reduction='sum'))} | "
                  f"BCE(sigmoid(x)) mean={fmt(F.binary_cross_entropy(sig, s))} "
                  f"sum={fmt(F.binary_cross_entropy(sig, s, reduction='sum'))} | "
                  f"BCEwL mean={fmt(F.binary_cross_entropy_with_logits(xs, s))} "
                  f"sum={fmt(F.binary_cross_entropy_with_logits(xs, s, reduction='sum'))}")

    # The quoted 1.6231 is CE against the smoothed one-hot; pick the variant matching it.
    ces = [(abs(F.cross_entropy(x, s.float()).item() - 1.6231), label, s) for label, s in variants]
    _, used_label, used = min(ces, key=lambda e: e[0])
    print(f"  smoothed_onehot stored: {used_label} (quoted CE 1.6231, BCE 0.9070 / 45.3489)")

    nd64 = nd_logits.double()
    body = {
        "x": tensor(x),
        "y": tensor(y),
        "nd_logits": tensor(nd_logits),
        "nd_targets": tensor(nd_targets),
        "nd_expected": {
            "none": tensor(F.cross_entropy(nd64, nd_targets, reduction="none")),
            "mean": num(F.cross_entropy(nd64, nd_targets).item()),
            "sum": num(F.cross_entropy(nd64, nd_targets, reduction="sum").item()),
        },
        "smoothed_onehot": tensor(used.to(torch.float32)),
        "multi_hot": tensor(mh.to(torch.float32)),
    }
    # The small cases quote PyTorch on unrounded tensors but print their inputs to 4
    # decimals; record PyTorch on the printed inputs too, so tests can hold us to both.
    ce_logits = torch.tensor([[-0.6722, 0.0933, -0.7828, -0.5380, -0.3814],
                              [-1.0644, -0.0649, 0.6899, -0.5077, -0.4502],
                              [-1.7857, -0.0663, 0.4620, 0.8843, -0.4773]])
    ce_targets = torch.tensor([1, 0, 1])
    bce_logits = torch.tensor([0.2211, 0.8756, 2.4896])
    bcel_logits = torch.tensor([0.5454, 0.9473, -0.5845])
    bcel_targets = torch.tensor([1.0, 0.0, 0.0])
    bce_probs = torch.sigmoid(bce_logits.double())
    body["printed_inputs"] = {
        "cross_entropy": {
            "none": tensor(F.cross_entropy(ce_logits.double(), ce_targets, reduction="none")),
            "mean": num(F.cross_entropy(ce_logits.double(), ce_targets).item()),
        },
        "bce": {
            "none": tensor(F.binary_cross_entropy(bce_probs, torch.zeros(3, dtype=torch.float64), reduction="none")),
            "mean": num(F.binary_cross_entropy(bce_probs, torch.zeros(3, dtype=torch.float64)).item()),
        },
        "bce_with_logits": {
            "none": tensor(F.binary_cross_entropy_with_logits(bcel_logits.double(), bcel_targets.double(), reduction="none")),
            "mean": num(F.binary_cross_entropy_with_logits(bcel_logits.double(), bcel_targets.double()).item()),
        },
    }
    print(f"  nd (32,10,5): CE mean={body['nd_expected']['mean']!r} sum={body['nd_expected']['sum']!r}")
    return body


# --------------------------------------------------------------------------------------------


def main():
    if not os.path.isdir(OUT_DIR):
        if not os.path.isdir("tests"):
            sys.exit("run from the repository root: tests/ not found")
        os.makedirs(OUT_DIR)
    header = lambda loss: {"generator": GENERATOR, "torch_version": torch.__version__, "loss": loss}
    files = [
        ("cross_entropy", "cross_entropy", gen_cross_entropy),
        ("nll", "nll", gen_nll),
        ("bce", "bce", gen_bce),
        ("bce_with_logits", "bce_with_logits", gen_bce_with_logits),
        ("kl_div", "kl_div", gen_kl_div),
    ]
    summary = []
    for fname, loss, make in files:
        cases = make()
        names = [c["name"] for c in cases]
        dup = {n for n in names if names.count(n) > 1}
        assert not dup, f"duplicate case names in {fname}: {dup}"
        path = os.path.join(OUT_DIR, f"{fname}.json")
        write_json(path, header(loss), cases=cases)
        summary.append(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes")
    body = gen_seed()
    path = os.path.join(OUT_DIR, "seed.json")
    write_json(path, {"generator": GENERATOR, "torch_version": torch.__version__}, body=body)
    summary.append(f"{path}: seed notebook, {os.path.getsize(path)} bytes")
    for line in summary:
        print(line)


if __name__ == "__main__":
    main()
