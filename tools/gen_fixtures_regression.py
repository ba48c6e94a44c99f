#!/usr/bin/env python3
"""Writes the PyTorch golden fixtures of the regression family (mse, l1, smooth_l1, huber,
poisson_nll, gaussian_nll) into tests/fixtures/, in the schema of tools/gen_fixtures.py.

Run from the repository root:

    /opt/torchenv/bin/python tools/gen_fixtures_regression.py

Inputs are float32-exact; values and gradients (input and target) are computed in float64 by
torch. `batchmean` is the sum divided by the size of dimension 0 of the input.

gaussian_nll takes three tensors: its cases store `input`, `target` and `var` under `inputs`, and
the gradient of each under `grads` (through tools/gen_fixtures_embedding.py's `run_case`). A var of
one dimension fewer than the input is PyTorch's homoscedastic case (`forward_homoscedastic`).
Options are rounded to float32 before use (eps 1e-8 is stored as 9.99999993922529e-09), so each
case describes exactly the configuration an f32 `Config` holds.

poisson_nll with `full`: PyTorch masks the Stirling term out of the value where the target is <= 1,
but its target gradient at a target of 0 or below is still NaN (`0·log(0)` or `log` of a negative
number in the backward of the masked term). burn-losses returns the true derivative there, `-x` (or `-log(x + eps)`). For every `full`
case this script evaluates that closed-form target gradient in torch ops, asserts it equals
autograd wherever autograd is finite, and writes it in place of the NaN entries; such a case lists
the patched entries per reduction in "patched_nonfinite" (absent when none).
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import gen_fixtures as g  # noqa: E402
import gen_fixtures_embedding as multi  # noqa: E402

GENERATOR = "tools/gen_fixtures_regression.py"
SHAPES = {"1d": (5,), "2d": (4, 3), "3d": (2, 3, 4)}


def f32(value):
    """An option as an f32 `Config` holds it."""
    return float(torch.tensor(value, dtype=torch.float32).item())


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


def gen_poisson_nll():
    cases = []

    def fn(log_input, full, eps):
        return lambda x, t, red: F.poisson_nll_loss(
            x, t, log_input=log_input, full=full, eps=eps, reduction=red
        )

    def counts(gg, shape):
        """Counts 0 to 5 (both sides of the Stirling threshold 1), with 3 made 3.5: the term
        applies to any target > 1, not only integers."""
        counts = torch.floor(g.uniform(gg, shape, 0.0, 6.0))
        return torch.where(counts == 3.0, torch.tensor(3.5), counts)

    def one(name, log_input, full, eps, inp, tgt):
        eps = f32(eps)
        options = {"log_input": log_input, "full": full, "eps": eps}
        case(cases, "poisson_nll", name, options, inp, tgt, fn(log_input, full, eps))
        if full:
            patch_poisson_target_gradient(cases[-1])

    for log_input in (True, False):
        for full in (False, True):
            tag = f"{'log' if log_input else 'rate'}{'_full' if full else ''}"
            for shape_tag, shape in SHAPES.items():
                gg = g.gen("poisson_nll", f"draw/{shape_tag}_{tag}")
                inp = g.randn(gg, shape, 1.0) if log_input else g.uniform(gg, shape, 0.05, 5.0)
                tgt = counts(gg, shape)
                one(f"{shape_tag}_{tag}", log_input, full, 1e-8, inp, tgt)

    # eps: only inside the log of the rate; ignored with log_input.
    for eps in (0.0, 1e-3, 0.5):
        gg = g.gen("poisson_nll", f"draw/eps{eps}")
        inp = g.uniform(gg, (4, 3), 0.0, 2.0) if eps > 0 else g.uniform(gg, (4, 3), 0.1, 2.0)
        tgt = counts(gg, (4, 3))
        for full in (False, True):
            one(f"eps{eps}_rate{'_full' if full else ''}", False, full, eps, inp, tgt)
    gg = g.gen("poisson_nll", "draw/eps_ignored")
    one("eps0.5_log", True, False, 0.5, g.randn(gg, (4, 3)), counts(gg, (4, 3)))

    # Targets 0, at and around the threshold 1, large, and negative (not an error); log-rates
    # from very negative to large, rates from 0 (only eps keeps the log finite) to large. With
    # `full`, a rate at a large target y cancels ~y·log(y) down to ~0.5·log(2πy), which f32 (torch's
    # too) holds to ~1e-7·y·log(y) only: the rate at the target 1e4 stays away from it.
    targets = torch.tensor([0.0, 0.0, 0.5, 1.0, 1.0, 1.5, 2.0, 10.0, 100.0, 1e4, 1e4, -1.0])
    log_rates = torch.tensor([-10.0, 0.0, 0.3, 0.0, 2.0, 1.0, -1.0, 2.5, 4.5, 9.0, 20.0, 0.5])
    rates = torch.tensor([0.0, 1.0, 0.0, 1e-6, 1.0, 1.5, 3.0, 0.01, 100.0, 2e3, 50.0, 2.0])
    for full in (False, True):
        suffix = "_full" if full else ""
        one(f"edges_log{suffix}", True, full, 1e-8, log_rates, targets)
        one(f"edges_rate{suffix}", False, full, 1e-8, rates, targets)
    return cases


def patch_poisson_target_gradient(case):
    """Checks the closed-form target gradient of poisson_nll with `full` against autograd wherever
    autograd is finite, and replaces autograd's non-finite entries with it."""
    options = case["options"]
    shape = case["inputs"]["input"]["shape"]
    as64 = lambda entry: torch.tensor(entry["data"], dtype=torch.float64).reshape(shape)
    x, t = as64(case["inputs"]["input"]), as64(case["inputs"]["target"])
    log_rate = x if options["log_input"] else torch.log(x + options["eps"])
    above = t > 1
    safe = torch.where(above, t, torch.full_like(t, 2.0))
    stirling = torch.where(above, torch.log(safe) + 0.5 / safe, torch.zeros_like(t))
    per_element = (stirling - log_rate).reshape(-1)
    upstream = torch.tensor(case["upstream"]["data"], dtype=torch.float64)
    scale = {"sum": 1.0, "mean": 1.0 / x.numel(), "none": upstream}
    patched = {}
    for red, factor in scale.items():
        expected = per_element * factor
        data = case["grads"][red]["target"]["data"]
        count = 0
        for i, value in enumerate(data):
            if isinstance(value, str):
                data[i] = g.num(expected[i].item())
                count += 1
            else:
                assert math.isclose(value, expected[i].item(), rel_tol=1e-9, abs_tol=1e-12), (
                    f"{case['name']} {red}[{i}]: autograd {value}, closed form {expected[i].item()}"
                )
        if count:
            patched[red] = count
    if patched:
        case["patched_nonfinite"] = patched


def gaussian_case(cases, name, options, inp, tgt, var):
    options = {**options, "eps": f32(options["eps"])}

    def fn(xs, red):
        return F.gaussian_nll_loss(
            xs["input"], xs["target"], xs["var"], full=options["full"], eps=options["eps"],
            reduction=red,
        )

    inputs = {"input": inp, "target": tgt, "var": var}
    cases.append(
        multi.run_case("gaussian_nll", name, "default", options, inputs, list(inputs), fn)
    )


def gen_gaussian_nll():
    cases = []
    # var shapes PyTorch accepts, by input shape: the same, one dimension of size 1, or the input's
    # shape without its last dimension (homoscedastic).
    var_shapes = {
        "1d": {"same": (5,), "one": (1,)},
        "2d": {"same": (4, 3), "last1": (4, 1), "first1": (1, 3), "homoscedastic": (4,)},
        "3d": {
            "same": (2, 3, 4),
            "last1": (2, 3, 1),
            "middle1": (2, 1, 4),
            "homoscedastic": (2, 3),
        },
    }
    for full in (False, True):
        for shape_tag, shape in SHAPES.items():
            for var_tag, var_shape in var_shapes[shape_tag].items():
                name = f"{shape_tag}_var_{var_tag}{'_full' if full else ''}"
                gg = g.gen("gaussian_nll", "draw/" + name)
                inp, tgt = g.randn(gg, shape, 1.5), g.randn(gg, shape, 1.5)
                var = g.uniform(gg, var_shape, 0.05, 3.0)
                gaussian_case(cases, name, {"full": full, "eps": 1e-6}, inp, tgt, var)

    # Variances below, at and above eps (clamped to eps in the value, with the gradient at the
    # clamped value), zero and large, against differences of 0, small and large. No difference
    # has d^2 close to its (clamped) variance, where the var gradient 0.5·(1/v - d^2/v^2) cancels
    # to nothing in f32 (torch's too).
    var = torch.tensor([[1e-9, 0.0, 1e-7, 1e-6], [1e-3, 0.1, 1.0, 1e4], [0.0, 5e-4, 2.0, 1e-6]])
    tgt = torch.linspace(-1.0, 1.0, 12, dtype=torch.float32).reshape(3, 4)
    diff = torch.tensor([[0.0, 3e-3, 0.5, -0.01], [0.02, -1.0, 0.0, 30.0], [1.0, -0.2, 3.0, 0.0]])
    inp = (tgt + diff).contiguous()
    for eps in (1e-6, 1e-3, 0.1):
        for full in (False, True):
            name = f"edges_eps{eps}{'_full' if full else ''}"
            gaussian_case(cases, name, {"full": full, "eps": eps}, inp, tgt, var)
    # eps = 0: no clamp (positive variances only, or the loss is infinite or NaN).
    gaussian_case(cases, "edges_eps0", {"full": False, "eps": 0.0}, inp, tgt, var + 1e-4)
    gaussian_case(
        cases, "edges_eps0.1_homoscedastic", {"full": False, "eps": 0.1}, inp, tgt,
        torch.tensor([1e-9, 0.05, 3.0]),
    )
    return cases


def main():
    files = {
        "mse": gen_simple("mse", lambda x, t, red: F.mse_loss(x, t, reduction=red)),
        "l1": gen_simple("l1", lambda x, t, red: F.l1_loss(x, t, reduction=red)),
        "smooth_l1": gen_smooth_l1(),
        "huber": gen_huber(),
        "poisson_nll": gen_poisson_nll(),
        "gaussian_nll": gen_gaussian_nll(),
    }
    for loss, cases in files.items():
        names = [c["name"] for c in cases]
        assert len(names) == len(set(names)), f"duplicate case names in {loss}"
        path = os.path.join(g.OUT_DIR, f"{loss}.json")
        header = {"generator": GENERATOR, "torch_version": torch.__version__, "loss": loss}
        g.write_json(path, header, cases=cases)
        patched = sum(1 for c in cases if "patched_nonfinite" in c)
        patched = f" ({patched} with patched non-finite gradients)" if patched else ""
        print(f"{path}: {len(cases)} cases{patched}, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
