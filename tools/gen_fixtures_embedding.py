#!/usr/bin/env python3
"""Writes the PyTorch golden fixtures of the embedding and ranking losses into tests/fixtures/.

Run from the repository root with a Python that has torch:

    /opt/torchenv/bin/python tools/gen_fixtures_embedding.py

Same conventions as tools/gen_fixtures.py (whose helpers it reuses): float32-exact inputs, values
and gradients computed in float64, non-finite numbers as strings, one seed per case. These losses
take two or three tensors, so `inputs` holds each under PyTorch's argument name (`input1`,
`input2`, `target`; `input`, `target`; `anchor`, `positive`, `negative`) and each `grads` entry
holds the gradient of every differentiable one of them (targets that PyTorch does not
differentiate, the ±1 labels of the cosine and hinge embedding losses, have none).
`batchmean` is the sum divided by the size of dimension 0 of the first input.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import gen_fixtures as g  # noqa: E402

GENERATOR = "tools/gen_fixtures_embedding.py"
NAN, INF = math.nan, math.inf

# (N, D) of every shape-product; N in {1, 4, 6}, D in {2, 5}.
SHAPES = [(1, 2), (1, 5), (4, 2), (4, 5), (6, 2), (6, 5)]


def f32(value):
    """A Python float that is exactly representable in float32."""
    return float(torch.tensor(value, dtype=torch.float32).item())


def run_case(loss, name, method, options, inputs, differentiable, fn):
    """inputs: ordered dict name -> float32 tensor; fn(dict of float64 tensors, reduction)."""
    gen = g.gen(loss, name)
    first = next(iter(inputs))
    as64 = lambda: {k: v.to(torch.float64) for k, v in inputs.items()}

    with torch.no_grad():
        none = fn(as64(), "none")
    upstream = g.uniform(gen, tuple(none.shape), 0.5, 1.5).to(torch.float64)

    expected, grads = {}, {}
    for red in g.REDUCTIONS:
        xs = as64()
        for k in differentiable:
            xs[k].requires_grad_(True)
        out = fn(xs, red)
        if red == "none":
            expected["none"] = g.tensor(out)
            (out * upstream).sum().backward()
        else:
            expected[red] = g.num(out.item())
            out.backward()
        grads[red] = {
            k: g.tensor(xs[k].grad if xs[k].grad is not None else torch.zeros_like(xs[k]))
            for k in differentiable
        }
        if red == "sum":
            expected["batchmean"] = g.num(out.item() / inputs[first].shape[0])

    return {
        "name": name,
        "method": method,
        "options": options,
        "inputs": {k: g.tensor(v) for k, v in inputs.items()},
        "upstream": g.tensor(upstream),
        "expected": {k: expected[k] for k in ("none", "sum", "mean", "batchmean")},
        "grads": {k: grads[k] for k in ("sum", "mean", "none")},
    }


def signs(gen, shape):
    """Random ±1 labels, float32."""
    return (torch.randint(0, 2, shape, generator=gen) * 2 - 1).to(torch.float32)


# --------------------------------------------------------------------------------------------
# cosine_embedding_loss
# --------------------------------------------------------------------------------------------


def cosine_case(cases, name, x1, x2, y, margin):
    fn = lambda xs, red: F.cosine_embedding_loss(
        xs["input1"], xs["input2"], xs["target"], margin=margin, reduction=red
    )
    inputs = {"input1": x1, "input2": x2, "target": y}
    cases.append(run_case("cosine_embedding", name, "default", {"margin": margin}, inputs,
                          ("input1", "input2"), fn))


def gen_cosine_embedding():
    cases = []
    margins = {"default": 0.0, "0.5": 0.5, "neg0.5": -0.5, "random": None}
    for n, d in SHAPES:
        for tag, margin in margins.items():
            name = f"{n}x{d}_margin_{tag}"
            gen = g.gen("cosine_embedding", "draw/" + name)
            if margin is None:  # OpInfo: margin ~ U(-1, 1)
                margin = f32(g.uniform(gen, (), -1.0, 1.0).item())
            x1 = g.randn(gen, (n, d))
            # Correlated pairs, so both signs of the cosine and both hinge sides occur.
            x2 = (x1.double() * g.uniform(gen, (n, 1), -1.0, 1.0).double()
                  + g.randn(gen, (n, d), 0.7).double()).to(torch.float32)
            cosine_case(cases, name, x1, x2, signs(gen, (n,)), margin)

    # Zero vectors: cos = 0 through the 1e-12 on the squared norms (loss 1 for y = 1, and a
    # gradient of order 1e6 for the zero row), both rows zero, and non-zero rows.
    x1 = torch.tensor([[0, 0, 0], [0, 0, 0], [1, 2, -1], [0, 0, 0], [0.5, -1, 2], [1, 1, 1]],
                      dtype=torch.float32)
    x2 = torch.tensor([[1, -2, 0.5], [1, -2, 0.5], [0, 0, 0], [0, 0, 0], [0.5, -1, 2], [-1, -1, -1]],
                      dtype=torch.float32)
    for margin in (0.0, -0.5):
        for tag, y in (("pos", [1, -1, 1, 1, 1, -1]), ("neg", [-1, 1, -1, -1, -1, 1])):
            cosine_case(cases, f"zero_vectors_{tag}_margin_{margin}", x1, x2,
                        torch.tensor(y, dtype=torch.float32), margin)

    # Hinge tie: orthogonal rows have cos exactly 0 = margin, for y = -1 (gradient 0 there).
    x1 = torch.tensor([[1, 0], [1, 1], [2, -1], [0.5, 3]], dtype=torch.float32)
    x2 = torch.tensor([[0, 3], [1, -1], [1, 2], [-6, 1]], dtype=torch.float32)
    cosine_case(cases, "orthogonal_tie_margin_0", x1, x2,
                torch.tensor([-1, -1, -1, 1], dtype=torch.float32), 0.0)

    # Targets other than ±1: loss 0, still counted in the mean.
    name = "other_targets_margin_0.25"
    gen = g.gen("cosine_embedding", "draw/" + name)
    x1, x2 = g.randn(gen, (6, 5)), g.randn(gen, (6, 5))
    cosine_case(cases, name, x1, x2,
                torch.tensor([1, 0, -1, 0.5, 2, -2], dtype=torch.float32), 0.25)
    return cases


# --------------------------------------------------------------------------------------------
# margin_ranking_loss
# --------------------------------------------------------------------------------------------


def ranking_case(cases, name, x1, x2, y, margin):
    fn = lambda xs, red: F.margin_ranking_loss(
        xs["input1"], xs["input2"], xs["target"], margin=margin, reduction=red
    )
    inputs = {"input1": x1, "input2": x2, "target": y}
    cases.append(run_case("margin_ranking", name, "default", {"margin": margin}, inputs,
                          ("input1", "input2", "target"), fn))


def gen_margin_ranking():
    cases = []
    shapes = {f"{n}x{d}": (n, d) for n, d in SHAPES}
    shapes.update({"1d": (5,), "3d": (2, 3, 4)})
    for tag, shape in shapes.items():
        for margin in (0.0, 0.5, 1.0):
            name = f"{tag}_margin_{margin}"
            gen = g.gen("margin_ranking", "draw/" + name)
            ranking_case(cases, name, g.randn(gen, shape), g.randn(gen, shape),
                         signs(gen, shape), margin)
    name = "4x5_margin_-0.5"
    gen = g.gen("margin_ranking", "draw/" + name)
    ranking_case(cases, name, g.randn(gen, (4, 5)), g.randn(gen, (4, 5)),
                 signs(gen, (4, 5)), -0.5)

    # Real-valued targets scale the difference.
    name = "real_targets_margin_0.3"
    gen = g.gen("margin_ranking", "draw/" + name)
    ranking_case(cases, name, g.randn(gen, (4, 5)), g.randn(gen, (4, 5)),
                 g.uniform(gen, (4, 5), -2.0, 2.0), f32(0.3))

    # Hinge ties: -y (x1 - x2) + margin == 0 exactly (gradient 0), next to active and inactive.
    x1 = torch.tensor([[1.0, 0.5, 2.0], [0.25, -1.0, 3.0]], dtype=torch.float32)
    x2 = torch.tensor([[1.0, 0.0, 1.0], [0.75, -1.5, 0.0]], dtype=torch.float32)
    y = torch.tensor([[1.0, 1.0, -1.0], [-1.0, 1.0, 1.0]], dtype=torch.float32)
    ranking_case(cases, "ties_margin_0.5", x1, x2, y, 0.5)
    ranking_case(cases, "ties_margin_0", x1, x1.clone(), y, 0.0)

    # NaN and infinities propagate (OpInfo reference inputs).
    x1 = torch.tensor([NAN, INF, -INF, 1.0, 0.5, -2.0], dtype=torch.float32)
    x2 = torch.tensor([0.0, 0.0, 0.0, NAN, 1.0, -INF], dtype=torch.float32)
    y = torch.tensor([1.0, 1.0, 1.0, -1.0, -1.0, 1.0], dtype=torch.float32)
    ranking_case(cases, "non_finite_margin_0.5", x1, x2, y, 0.5)
    return cases


# --------------------------------------------------------------------------------------------
# hinge_embedding_loss
# --------------------------------------------------------------------------------------------


def hinge_case(cases, name, x, y, margin):
    fn = lambda xs, red: F.hinge_embedding_loss(xs["input"], xs["target"], margin=margin,
                                                reduction=red)
    cases.append(run_case("hinge_embedding", name, "default", {"margin": margin},
                          {"input": x, "target": y}, ("input",), fn))


def gen_hinge_embedding():
    cases = []
    shapes = {f"{n}x{d}": (n, d) for n, d in SHAPES}
    shapes.update({"1d": (5,), "3d": (2, 3, 4)})
    margins = {"default": 1.0, "0.5": 0.5, "random": None}
    for tag, shape in shapes.items():
        for mtag, margin in margins.items():
            name = f"{tag}_margin_{mtag}"
            gen = g.gen("hinge_embedding", "draw/" + name)
            if margin is None:  # OpInfo: margin ~ U(-9, 9)
                margin = f32(g.uniform(gen, (), -9.0, 9.0).item())
            # Distance-like inputs straddling the margin.
            x = g.uniform(gen, shape, min(margin, 0.0) - 2.0, max(margin, 0.0) + 2.0)
            hinge_case(cases, name, x, signs(gen, shape), margin)
    name = "4x5_margin_-2.5"
    gen = g.gen("hinge_embedding", "draw/" + name)
    hinge_case(cases, name, g.uniform(gen, (4, 5), -5.0, 1.0), signs(gen, (4, 5)), -2.5)

    # Targets other than ±1 take both branches; ties x == margin for y = -1 and other targets.
    x = torch.tensor([[0.3, 1.0, 1.0, 2.0, -0.5], [1.0, 0.3, 1.5, -1.0, 0.0]], dtype=torch.float32)
    y = torch.tensor([[0.0, -1.0, 0.5, 2.0, -3.0], [0.0, 1.0, -1.0, -1.0, -1.0]],
                     dtype=torch.float32)
    hinge_case(cases, "other_targets_and_ties_margin_1", x, y, 1.0)
    hinge_case(cases, "other_targets_margin_0", x, y, 0.0)

    # NaN and infinities propagate.
    x = torch.tensor([NAN, NAN, INF, -INF, INF, -INF, 1.0], dtype=torch.float32)
    y = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 0.0], dtype=torch.float32)
    hinge_case(cases, "non_finite_margin_1", x, y, 1.0)
    return cases


# --------------------------------------------------------------------------------------------
# triplet_margin_loss
# --------------------------------------------------------------------------------------------

TRIPLET = ("anchor", "positive", "negative")


def triplet_case(cases, name, a, p, n, margin, norm, eps, swap):
    fn = lambda xs, red: F.triplet_margin_loss(
        xs["anchor"], xs["positive"], xs["negative"], margin=margin, p=norm, eps=eps, swap=swap,
        reduction=red,
    )
    options = {"margin": margin, "p": g.num(norm), "eps": eps, "swap": swap}
    inputs = {"anchor": a, "positive": p, "negative": n}
    cases.append(run_case("triplet_margin", name, "default", options, inputs, TRIPLET, fn))


def draw_triplet(gen, shape):
    """Positives near the anchor, negatives farther on average: both hinge sides occur."""
    a = g.randn(gen, shape)
    p = (a.double() + g.randn(gen, shape, 0.6).double()).to(torch.float32)
    n = (a.double() + g.randn(gen, shape, 1.0).double()).to(torch.float32)
    return a, p, n


EPS32 = f32(1e-6)


def gen_triplet_margin():
    cases = []
    for n, d in SHAPES:
        for norm in (1.0, 2.0, 3.0):
            for swap in (False, True):
                name = f"{n}x{d}_p{norm}_swap_{str(swap).lower()}"
                gen = g.gen("triplet_margin", "draw/" + name)
                triplet_case(cases, name, *draw_triplet(gen, (n, d)), 1.0, norm, EPS32, swap)
    # OpInfo margins, other norm degrees, other eps.
    variants = [
        ("margin_1e-6", f32(1e-6), 2.0, EPS32, False),
        ("margin_1e-6_swap", f32(1e-6), 2.0, EPS32, True),
        ("margin_10", 10.0, 2.0, EPS32, False),
        ("margin_10_swap", 10.0, 2.0, EPS32, True),
        ("margin_0.3_p1_swap", f32(0.3), 1.0, EPS32, True),
        ("p0.5", 1.0, 0.5, EPS32, False),
        ("p1.5_swap", 1.0, 1.5, EPS32, True),
        ("pinf", 1.0, INF, EPS32, False),
        ("pinf_swap", 1.0, INF, EPS32, True),
        ("eps0", 1.0, 2.0, 0.0, False),
        ("eps0.1_p3_swap", 1.0, 3.0, f32(0.1), True),
    ]
    for tag, margin, norm, eps, swap in variants:
        name = f"4x5_{tag}"
        gen = g.gen("triplet_margin", "draw/" + name)
        triplet_case(cases, name, *draw_triplet(gen, (4, 5)), margin, norm, eps, swap)

    # The reference's golden inputs are not here: their second loss, 2.498e-13, exists only in
    # float64 (float32 rounds it to 0, in PyTorch too, which flips the hinge and the gradient).
    # tests/embedding.rs checks them on the f64 backend.

    # Exact hinge ties (eps = 0, distances exact in float32): gradient 0 at the tie.
    a = torch.tensor([[0, 0], [0, 0], [1, 1], [0, 0]], dtype=torch.float32)
    p = torch.tensor([[1, 0], [3, 4], [1, 2], [0.5, 0]], dtype=torch.float32)
    n = torch.tensor([[2, 0], [6, 8], [1, 1.5], [0, 3]], dtype=torch.float32)
    triplet_case(cases, "hinge_ties_p1_eps0", a, p, n, 1.0, 1.0, 0.0, False)
    triplet_case(cases, "hinge_ties_p2_eps0_margin5", a, p, n, 5.0, 2.0, 0.0, False)

    # Swap ties: positive == anchor makes d(a, n) == d(p, n); the gradient is split in half.
    a = torch.tensor([[0, 0], [1, -1], [0.5, 2]], dtype=torch.float32)
    n = torch.tensor([[0.5, 0], [1, 0], [3, 2]], dtype=torch.float32)
    triplet_case(cases, "swap_ties_p2", a, a.clone(), n, 1.0, 2.0, EPS32, True)
    triplet_case(cases, "swap_ties_p1_eps0", a, a.clone(), n, 1.0, 1.0, 0.0, True)

    # Max-norm ties: several entries attain the maximum; the gradient is shared.
    a = torch.tensor([[0, 0, 0], [1, 1, 1]], dtype=torch.float32)
    p = torch.tensor([[1, -1, 0.5], [2, 0, 1]], dtype=torch.float32)
    n = torch.tensor([[1.5, 1.5, -1.5], [3, 1, 1]], dtype=torch.float32)
    triplet_case(cases, "pinf_max_ties_eps0", a, p, n, 2.0, INF, 0.0, False)

    # A zero difference (eps = 0, positive == anchor): distance 0 with gradient 0, any p.
    a = torch.tensor([[1, 2], [0, -1]], dtype=torch.float32)
    n = torch.tensor([[0, 0], [1, 1]], dtype=torch.float32)
    for norm in (1.0, 2.0, 3.0, 0.5, INF):
        triplet_case(cases, f"zero_difference_p{norm}_eps0", a, a.clone(), n, 3.0, norm, 0.0,
                     False)
    return cases


# --------------------------------------------------------------------------------------------
# triplet_margin_with_distance_loss
# --------------------------------------------------------------------------------------------


def distance_fn(distance):
    if distance["name"] == "pairwise":
        norm = INF if distance["p"] == "inf" else distance["p"]
        return lambda x, y: F.pairwise_distance(x, y, p=norm, eps=distance["eps"])
    if distance["name"] == "cosine":
        return lambda x, y: 1.0 - F.cosine_similarity(x, y, dim=-1, eps=distance["eps"])
    raise ValueError(distance)


def with_distance_case(cases, name, a, p, n, distance, margin, swap):
    dist = distance_fn(distance)
    fn = lambda xs, red: F.triplet_margin_with_distance_loss(
        xs["anchor"], xs["positive"], xs["negative"], distance_function=dist, margin=margin,
        swap=swap, reduction=red,
    )
    options = {"distance": distance, "margin": margin, "swap": swap}
    inputs = {"anchor": a, "positive": p, "negative": n}
    cases.append(run_case("triplet_margin_with_distance", name, distance["name"], options, inputs,
                          TRIPLET, fn))


def gen_triplet_margin_with_distance():
    cases = []
    default = {"name": "pairwise", "p": 2.0, "eps": EPS32}
    cosine = {"name": "cosine", "eps": f32(1e-8)}
    for n, d in SHAPES:
        for tag, distance, margin in (("default", default, 1.0), ("cosine", cosine, f32(0.4))):
            for swap in (False, True):
                name = f"{n}x{d}_{tag}_swap_{str(swap).lower()}"
                gen = g.gen("triplet_margin_with_distance", "draw/" + name)
                with_distance_case(cases, name, *draw_triplet(gen, (n, d)), distance, margin, swap)
    for tag, distance, margin, swap in (
        ("pairwise_p1_margin_0.5", {"name": "pairwise", "p": 1.0, "eps": 0.0}, 0.5, True),
        ("pairwise_p3", {"name": "pairwise", "p": 3.0, "eps": EPS32}, 2.0, False),
        ("pairwise_pinf", {"name": "pairwise", "p": "inf", "eps": EPS32}, 1.0, True),
        ("cosine_margin_1e-6", cosine, f32(1e-6), False),
        ("cosine_eps_0.5", {"name": "cosine", "eps": 0.5}, 1.0, True),
    ):
        name = f"4x5_{tag}"
        gen = g.gen("triplet_margin_with_distance", "draw/" + name)
        with_distance_case(cases, name, *draw_triplet(gen, (4, 5)), distance, margin, swap)

    # Cosine edge rows: a zero anchor (distance 1 to everything; a gradient of order 1/eps), a
    # row whose norm is below eps (clamped value, unclamped gradient), positive == anchor.
    a = torch.tensor([[0, 0, 0], [1e-9, 2e-9, 0], [1, 2, 3], [1, 0, 0]], dtype=torch.float32)
    p = torch.tensor([[1, 2, 2], [1, 3, 0], [1, 2, 3], [0, 1, 0]], dtype=torch.float32)
    n = torch.tensor([[2, 1, 0], [-1, 0, 1], [3, -1, 0.5], [-1, 0, 0]], dtype=torch.float32)
    for swap in (False, True):
        with_distance_case(cases, f"cosine_edge_rows_swap_{str(swap).lower()}", a, p, n, cosine,
                           1.5, swap)
    return cases


# --------------------------------------------------------------------------------------------


def main():
    if not os.path.isdir(g.OUT_DIR):
        sys.exit("run from the repository root: tests/fixtures not found")
    header = lambda loss: {"generator": GENERATOR, "torch_version": torch.__version__, "loss": loss}
    files = [
        ("cosine_embedding", gen_cosine_embedding),
        ("margin_ranking", gen_margin_ranking),
        ("hinge_embedding", gen_hinge_embedding),
        ("triplet_margin", gen_triplet_margin),
        ("triplet_margin_with_distance", gen_triplet_margin_with_distance),
    ]
    for fname, make in files:
        cases = make()
        names = [c["name"] for c in cases]
        dup = {n for n in names if names.count(n) > 1}
        assert not dup, f"duplicate case names in {fname}: {dup}"
        path = os.path.join(g.OUT_DIR, f"{fname}.json")
        g.write_json(path, header(fname), cases=cases)
        print(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
