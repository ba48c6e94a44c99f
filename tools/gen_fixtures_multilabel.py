#!/usr/bin/env python3
"""Writes the golden fixtures of the multi-label losses of burn-losses into tests/fixtures/:

  sigmoid_focal_loss.json  torchvision.ops.sigmoid_focal_loss, its formula written in torch ops
  asymmetric_loss.json     AsymmetricLoss of Ridnik et al. (ICCV 2021, Alibaba-MIIL/ASL), its
                           formula written in torch ops, with and without the detached weight
  zlpr.json                ZLPR, the multi-label "categorical" cross entropy of Su et al. (2022)

Run from the repository root with the Python that has torch:

    /opt/torchenv/bin/python tools/gen_fixtures_multilabel.py

The schema, seeding and encoding are those of tools/gen_fixtures.py, whose helpers this script
reuses: float32-exact inputs, values and autograd gradients computed in float64.

Options are rounded to float32 before use (clip 0.05 is stored as 0.05000000074505806), so the
fixture describes exactly the configuration an f32 `Config` holds.

Non-finite gradients. The focal weight `(1 - p_t)^gamma` (and ASL's `(1 - p_t)^gamma` without a
detached weight) is not differentiable at `1 - p_t = 0` for `0 < gamma < 1`: PyTorch's autograd
then gives NaN (`0 * inf`). burn-losses returns the finite one-sided limit instead. For every
case this script also evaluates that closed-form gradient in torch ops, asserts it equals
autograd wherever autograd is finite, and writes it in place of the non-finite entries. Such a
case lists the patched entries per reduction in "patched_nonfinite" (absent when none).
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import gen_fixtures as g  # noqa: E402

GENERATOR = "tools/gen_fixtures_multilabel.py"
SHAPES = {"1d": (5,), "2d": (4, 6), "3d": (2, 3, 4)}


def f32(value):
    """An option as an f32 `Config` holds it."""
    return None if value is None else float(torch.tensor(value, dtype=torch.float32).item())


def targets(gen, shape, kind):
    if kind == "hard":
        return torch.randint(0, 2, shape, generator=gen).to(torch.float32)
    return g.uniform(gen, shape, 0.0, 1.0)


def extreme_grid(xs, ys):
    """Rows of logits `xs` against columns of targets `ys`."""
    xs = torch.tensor(xs, dtype=torch.float32)
    ys = torch.tensor(ys, dtype=torch.float32)
    return (xs[:, None].expand(len(xs), len(ys)).contiguous(),
            ys[None, :].expand(len(xs), len(ys)).contiguous())


def reduce(losses, red):
    if red == "none":
        return losses
    return losses.sum() if red == "sum" else losses.mean()


def patch_nonfinite(case, closed_form):
    """Checks the closed-form input gradient `closed_form(x64, t64)` (d loss_i / d x, the
    gradient of `'none'` against an upstream of ones) against autograd wherever autograd is
    finite, and replaces autograd's non-finite entries with it."""
    x = torch.tensor(case["inputs"]["input"]["data"], dtype=torch.float64)
    t = torch.tensor(case["inputs"]["target"]["data"], dtype=torch.float64)
    shape = case["inputs"]["input"]["shape"]
    per_element = closed_form(x.reshape(shape), t.reshape(shape)).reshape(-1)
    upstream = torch.tensor(case["upstream"]["data"], dtype=torch.float64)
    scale = {"sum": torch.ones_like(per_element),
             "mean": torch.full_like(per_element, 1.0 / x.numel()),
             "none": upstream}
    patched = {}
    for red, factor in scale.items():
        expected = per_element * factor
        data = case["grads"][red]["input"]["data"]
        count = 0
        for i, value in enumerate(data):
            if isinstance(value, str):
                data[i] = g.num(expected[i].item())
                count += 1
            else:
                assert math.isclose(value, expected[i].item(), rel_tol=1e-9, abs_tol=1e-12), (
                    f"{case['name']} {red}[{i}]: autograd {value}, closed form {expected[i].item()}")
        if count:
            patched[red] = count
    if patched:
        case["patched_nonfinite"] = patched


# --------------------------------------------------------------------------------------------
# sigmoid focal loss
# --------------------------------------------------------------------------------------------


def focal_losses(x, y, alpha, gamma):
    """torchvision.ops.sigmoid_focal_loss, reduction 'none', in torch ops."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha is not None and alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss


def focal_gradient(alpha, gamma):
    """d loss / d x in closed form, with the limit 0 of the gamma term where 1 - p_t = 0."""

    def gradient(x, y):
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        q = 1 - (p * y + (1 - p) * (1 - y))
        m = q ** gamma
        r = torch.where(q > 0, p * (1 - p) / torch.where(q > 0, q, 1.0), 1.0)
        grad = (p - y) * m + ce * gamma * m * r * (1 - 2 * y)
        if alpha is not None and alpha >= 0:
            grad = (alpha * y + (1 - alpha) * (1 - y)) * grad
        return grad

    return gradient


def focal_case(cases, name, inp, tgt, alpha, gamma):
    gen = g.gen("sigmoid_focal_loss", name)
    alpha, gamma = f32(alpha), f32(gamma)
    fn = g.loss_fn(lambda x, t, red: reduce(focal_losses(x, t, alpha, gamma), red))
    case = g.run_case(gen, name, "default", {"alpha": alpha, "gamma": gamma}, inp, tgt, fn,
                      target_grad=True)
    patch_nonfinite(case, focal_gradient(alpha, gamma))
    cases.append(case)


def alpha_tag(alpha):
    return "none" if alpha is None else str(alpha)


def gen_focal():
    cases = []
    options = [(0.25, 2.0), (None, 2.0), (-1.0, 0.0), (0.25, 0.0), (0.75, 0.5), (1.0, 1.0),
               (0.0, 3.0), (None, 1.5)]
    for tag, shape in SHAPES.items():
        for kind in ("hard", "soft"):
            chosen = options if tag == "2d" else options[:4]
            for alpha, gamma in chosen:
                name = f"{tag}_{kind}_alpha{alpha_tag(alpha)}_gamma{gamma}"
                gen = g.gen("sigmoid_focal_loss", "draw/" + name)
                focal_case(cases, name, g.randn(gen, shape, 2.0), targets(gen, shape, kind),
                           alpha, gamma)
    # Saturated probabilities: logits +-1e4, +-100, +-20 and 0 against targets 0, 1, 0.5.
    inp, tgt = extreme_grid([1e4, -1e4, 0.0, 100.0, -100.0, 20.0, -20.0, 3.0], [0.0, 1.0, 0.5])
    for alpha, gamma in ((0.25, 2.0), (None, 0.0), (0.25, 0.5), (-1.0, 1.0), (0.5, 3.0)):
        focal_case(cases, f"2d_extreme_alpha{alpha_tag(alpha)}_gamma{gamma}", inp.clone(),
                   tgt.clone(), alpha, gamma)
    return cases


# --------------------------------------------------------------------------------------------
# asymmetric loss
# --------------------------------------------------------------------------------------------


def asl_losses(x, y, gamma_pos, gamma_neg, clip, eps, detach):
    """AsymmetricLoss of Alibaba-MIIL/ASL, unreduced and negated (the reference returns
    -sum of these terms' negatives)."""
    p = torch.sigmoid(x)
    p_neg = 1 - p
    if clip > 0:
        p_neg = (p_neg + clip).clamp(max=1)
    log_likelihood = y * torch.log(p.clamp(min=eps)) + (1 - y) * torch.log(p_neg.clamp(min=eps))
    if gamma_neg > 0 or gamma_pos > 0:
        with torch.set_grad_enabled(not detach and torch.is_grad_enabled()):
            p_t = p * y + p_neg * (1 - y)
            weight = torch.pow(1 - p_t, gamma_pos * y + gamma_neg * (1 - y))
        log_likelihood = log_likelihood * weight
    return -log_likelihood


def asl_gradient(gamma_pos, gamma_neg, clip, eps, detach):
    """d loss / d x in closed form, with the limit 0 of the weight's term where 1 - p_t = 0."""

    def gradient(x, y):
        p = torch.sigmoid(x)
        pq = p * (1 - p)
        if clip > 0:
            active = ((1 - p + clip) <= 1).double()
            p_neg = (1 - p + clip).clamp(max=1)
        else:
            active = torch.ones_like(p)
            p_neg = 1 - p
        log_pos = torch.log(p.clamp(min=eps))
        log_neg = torch.log(p_neg.clamp(min=eps))
        grad_pos = (p >= eps).double() * (1 - p)
        safe_neg = torch.where(p_neg > 0, p_neg, 1.0)
        grad_neg = -(p_neg >= eps).double() * active * pq / safe_neg
        b = 1 - (p * y + p_neg * (1 - y))
        e = gamma_pos * y + gamma_neg * (1 - y)
        w = b ** e
        grad = -(y * grad_pos + (1 - y) * grad_neg) * w
        if not detach:
            db = pq * (-y + (1 - y) * active)
            dw = torch.where(b > 0, e * w / torch.where(b > 0, b, 1.0) * db, 0.0)
            grad = grad - (y * log_pos + (1 - y) * log_neg) * dw
        return grad

    return gradient


ASL_DEFAULTS = {"gamma_pos": 1.0, "gamma_neg": 4.0, "clip": 0.05, "eps": 1e-8,
                "detach_focal_weight": True}


def asl_case(cases, name, inp, tgt, **changes):
    opts = {**ASL_DEFAULTS, **changes}
    opts = {k: (v if isinstance(v, bool) else f32(v)) for k, v in opts.items()}
    gen = g.gen("asymmetric_loss", name)
    args = (opts["gamma_pos"], opts["gamma_neg"], opts["clip"], opts["eps"],
            opts["detach_focal_weight"])
    fn = g.loss_fn(lambda x, t, red: reduce(asl_losses(x, t, *args), red))
    case = g.run_case(gen, name, "default", opts, inp, tgt, fn, target_grad=False)
    patch_nonfinite(case, asl_gradient(*args))
    cases.append(case)


def gen_asl():
    cases = []
    variants = [
        ("default", {}),
        ("nodetach", {"detach_focal_weight": False}),
        ("clip0", {"clip": 0.0}),
        ("clip0_nodetach", {"clip": 0.0, "detach_focal_weight": False}),
        ("gamma0", {"gamma_pos": 0.0, "gamma_neg": 0.0, "clip": 0.0}),
        ("gammapos0_gammaneg2_clip0.2", {"gamma_pos": 0.0, "gamma_neg": 2.0, "clip": 0.2}),
        ("gamma0.5_nodetach", {"gamma_pos": 0.5, "gamma_neg": 0.5,
                               "detach_focal_weight": False}),
        ("eps0.01_clip0", {"eps": 0.01, "clip": 0.0}),
        ("gamma3_1_clip0.1_nodetach", {"gamma_pos": 3.0, "gamma_neg": 1.0, "clip": 0.1,
                                       "detach_focal_weight": False}),
    ]
    for tag, shape in SHAPES.items():
        for kind in ("hard", "soft"):
            chosen = variants if tag == "2d" else variants[:4]
            for vtag, changes in chosen:
                name = f"{tag}_{kind}_{vtag}"
                gen = g.gen("asymmetric_loss", "draw/" + name)
                asl_case(cases, name, g.randn(gen, shape, 3.0), targets(gen, shape, kind),
                         **changes)
    # Saturated probabilities, the eps clamp (p = sigmoid(-18.5) < 1e-8) and the clip region
    # (sigmoid(-4) < 0.05 < sigmoid(-2)).
    inp, tgt = extreme_grid([1e4, -1e4, 0.0, 100.0, -100.0, 20.0, -20.0, -18.5, -4.0, -2.0],
                            [0.0, 1.0, 0.5])
    for vtag, changes in variants:
        asl_case(cases, f"2d_extreme_{vtag}", inp.clone(), tgt.clone(), **changes)
    return cases


# --------------------------------------------------------------------------------------------
# ZLPR
# --------------------------------------------------------------------------------------------


def zlpr_losses(x, y):
    """Per sample log(1 + sum_neg exp(s)) + log(1 + sum_pos exp(-s)), targets 0/1."""
    positive = y == 1
    zero = torch.zeros_like(x[:, :1])
    negatives = torch.where(positive, -math.inf, x)
    positives = torch.where(positive, -x, -math.inf)
    return (torch.logsumexp(torch.cat([zero, negatives], 1), 1)
            + torch.logsumexp(torch.cat([zero, positives], 1), 1))


def zlpr_case(cases, name, inp, tgt):
    gen = g.gen("zlpr", name)
    fn = g.loss_fn(lambda x, t, red: reduce(zlpr_losses(x, t), red))
    cases.append(g.run_case(gen, name, "default", {}, inp, tgt, fn, target_grad=False))


def gen_zlpr():
    cases = []
    for shape in ((4, 6), (5, 8), (1, 5), (3, 1)):
        for scale in (1.0, 4.0):
            name = f"{shape[0]}x{shape[1]}_scale{scale}"
            gen = g.gen("zlpr", "draw/" + name)
            zlpr_case(cases, name, g.randn(gen, shape, scale), targets(gen, shape, "hard"))
    # Rows without a positive, without a negative, and mixed.
    name = "4x5_empty_rows"
    gen = g.gen("zlpr", "draw/" + name)
    tgt = torch.tensor([[0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 1, 0], [0, 0, 0, 0, 1]],
                       dtype=torch.float32)
    zlpr_case(cases, name, g.randn(gen, (4, 5), 2.0), tgt)
    # Extreme logits: +-1e4 on the right and wrong side, 0, and a row of only +-1e4.
    inp = torch.tensor([[1e4, -1e4, 0.0, 2.0, -3.0],
                        [-1e4, 1e4, 0.0, 1e4, -1e4],
                        [0.0, 0.0, 0.0, 0.0, 0.0],
                        [1e4, 1e4, -1e4, 50.0, -50.0]], dtype=torch.float32)
    tgt = torch.tensor([[1, 0, 1, 0, 0], [1, 0, 0, 1, 0], [1, 0, 1, 0, 0], [1, 0, 0, 0, 1]],
                       dtype=torch.float32)
    zlpr_case(cases, "4x5_extreme", inp, tgt)
    zlpr_case(cases, "4x5_extreme_all_negative", inp.clone(), torch.zeros(4, 5))
    zlpr_case(cases, "4x5_extreme_all_positive", inp.clone(), torch.ones(4, 5))
    return cases


# --------------------------------------------------------------------------------------------


def main():
    if not os.path.isdir(g.OUT_DIR):
        sys.exit("run from the repository root: tests/fixtures not found")
    header = lambda loss: {"generator": GENERATOR, "torch_version": torch.__version__, "loss": loss}
    files = [
        ("sigmoid_focal_loss", "torchvision.ops.sigmoid_focal_loss (formula in torch ops)",
         gen_focal),
        ("asymmetric_loss", "AsymmetricLoss (Alibaba-MIIL/ASL, formula in torch ops)", gen_asl),
        ("zlpr", "ZLPR multi-label categorical cross entropy (formula in torch ops)", gen_zlpr),
    ]
    for fname, loss, make in files:
        cases = make()
        names = [c["name"] for c in cases]
        dup = {n for n in names if names.count(n) > 1}
        assert not dup, f"duplicate case names in {fname}: {dup}"
        path = os.path.join(g.OUT_DIR, f"{fname}.json")
        g.write_json(path, header(loss), cases=cases)
        patched = sum(1 for c in cases if "patched_nonfinite" in c)
        print(f"{path}: {len(cases)} cases ({patched} with patched non-finite gradients), "
              f"{os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
