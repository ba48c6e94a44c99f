#!/usr/bin/env python3
"""Writes the PyTorch golden fixtures of the sequence losses (CTC) into tests/fixtures/.

Run from the repository root with a Python that has torch:

    /opt/torchenv/bin/python tools/gen_fixtures_sequence.py

The schema is gen_fixtures.py's (see its docstring), with these additions for CTC:
  "method": "logits": inputs.input holds LOGITS (T, N, C); the loss is
      F.ctc_loss(log_softmax(input, dim=2), ...), so the gradients are with respect to the logits.
      PyTorch's gradient with respect to log_probs carries an extra exp(log_probs) term (it
      assumes a log-softmax follows), which cancels in the logits' gradient; this is how
      PyTorch's own tests check CTC (gradcheck_wrapper_ctc_loss).
  inputs.target: padded int64 targets (N, S); entries past a row's target length are padding
      (some cases fill it with -1 or out-of-range classes, which PyTorch ignores).
  inputs.input_lengths, inputs.target_lengths: int64 (N).
  options: {"blank": int, "zero_infinity": bool}.
  expected.batchmean: the sum divided by the batch size N (dimension 1 of the input).
  upstream: shape (N), for the unreduced gradient.
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import gen_fixtures as g  # noqa: E402

GENERATOR = "tools/gen_fixtures_sequence.py"
LOSS = "ctc"


def ctc_case(cases, name, logits32, targets, input_lengths, target_lengths, blank, zero_infinity):
    rng = g.gen(LOSS, name)
    x64 = logits32.to(torch.float64)
    il = torch.tensor(input_lengths, dtype=torch.int64)
    tl = torch.tensor(target_lengths, dtype=torch.int64)
    tg = torch.tensor(targets, dtype=torch.int64).reshape(len(target_lengths), -1)

    def fn(x, reduction):
        return F.ctc_loss(
            F.log_softmax(x, dim=2), tg, il, tl, blank=blank, reduction=reduction,
            zero_infinity=zero_infinity,
        )

    N = x64.size(1)
    with torch.no_grad():
        none = fn(x64, "none")
    upstream = g.uniform(rng, (N,), 0.5, 1.5).to(torch.float64)
    expected, grads = {}, {}
    for red in g.REDUCTIONS:
        xi = x64.clone().requires_grad_(True)
        out = fn(xi, red)
        if red == "none":
            expected["none"] = g.tensor(out)
            (out * upstream).sum().backward()
        else:
            expected[red] = g.num(out.item())
            out.backward()
        if red == "sum":
            expected["batchmean"] = g.num(out.item() / N)
        grads[red] = {"input": g.tensor(xi.grad)}
    # Sanity: the per-sample values agree with the reductions (PyTorch's 'mean' divides each
    # sample by its target length, at least 1, then averages over the batch).
    with torch.no_grad():
        mean = (none / tl.clamp_min(1).to(torch.float64)).mean()
        assert torch.allclose(mean, fn(x64, "mean"), equal_nan=True), name
    cases.append({
        "name": name,
        "method": "logits",
        "options": {"blank": blank, "zero_infinity": zero_infinity},
        "inputs": {
            "input": g.tensor(logits32),
            "target": g.tensor(tg),
            "input_lengths": g.tensor(il),
            "target_lengths": g.tensor(tl),
        },
        "upstream": g.tensor(upstream),
        "expected": {k: expected[k] for k in ("none", "sum", "mean", "batchmean")},
        "grads": {k: grads[k] for k in ("sum", "mean", "none")},
    })


def random_targets(rng, N, S, C, blank, lengths, padding=None):
    """Labels in [0, C) without blank in the first lengths[n] entries; padding after them."""
    labels = [c for c in range(C) if c != blank]
    rows = []
    for n in range(N):
        picks = torch.randint(0, len(labels), (S,), generator=rng).tolist()
        row = [labels[p] for p in picks]
        for j in range(lengths[n], S):
            row[j] = blank if padding is None else padding[(n + j) % len(padding)]
        rows.append(row)
    return rows


def standard(cases, tag, T, N, C, S, input_lengths, target_lengths, blank, scale=1.5,
             padding=None, zis=(False,)):
    for zi in zis:
        name = f"{tag}_T{T}_N{N}_C{C}_S{S}_blank{blank}_zeroinf_{str(zi).lower()}"
        rng = g.gen(LOSS, "draw/" + tag)  # the same draw for both zero_infinity values
        logits = g.randn(rng, (T, N, C), scale)
        targets = random_targets(rng, N, S, C, blank, target_lengths, padding)
        ctc_case(cases, name, logits, targets, input_lengths, target_lengths, blank, zi)


def gen_ctc():
    cases = []
    # Full lengths, then per-sample input and target lengths.
    standard(cases, "full_lengths", 8, 3, 5, 3, [8, 8, 8], [3, 3, 3], 0)
    # zero_infinity leaves finite losses alone.
    standard(cases, "varied_lengths", 12, 4, 6, 5, [12, 9, 7, 10], [5, 3, 1, 4], 0,
             zis=(False, True))
    # N = 1.
    standard(cases, "single", 6, 1, 4, 3, [6], [3], 0)
    # blank = C - 1 and a blank in the middle of the classes.
    standard(cases, "blank_last", 10, 3, 5, 4, [10, 8, 6], [4, 2, 3], 4)
    standard(cases, "blank_middle", 9, 2, 6, 4, [9, 7], [4, 3], 2)
    # Padding that PyTorch ignores: -1 and out-of-range classes past the target lengths.
    standard(cases, "garbage_padding", 8, 3, 5, 4, [8, 7, 8], [2, 1, 3], 0, padding=[-1, 9, 3])
    # Peaked logits (large scale): sharp posteriors.
    standard(cases, "peaked", 10, 2, 5, 3, [10, 10], [3, 2], 1, scale=6.0)
    # Target length 0: the loss is -sum of the blank log-probs over the input length.
    standard(cases, "some_empty_targets", 7, 3, 4, 3, [7, 5, 6], [2, 0, 3], 0)
    standard(cases, "all_empty_targets", 5, 2, 3, 2, [5, 3], [0, 0], 1)

    # Repeated labels: a blank must separate repeats, so [1, 1, 1] needs 5 steps.
    for zi, blanks in ((False, (0, 3)), (True, (0,))):
        for blank in blanks:
            name = f"repeats_T8_N3_C4_S4_blank{blank}_zeroinf_{str(zi).lower()}"
            rng = g.gen(LOSS, f"draw/repeats_blank{blank}")
            lab = [c for c in range(4) if c != blank]
            a, b = lab[0], lab[1]
            targets = [[a, a, a, b], [a, b, b, a], [b, b, a, a]]
            ctc_case(cases, name, g.randn(rng, (8, 3, 4), 1.5), targets,
                     [5, 8, 7], [3, 4, 4], blank, zi)

    # Exactly feasible and infeasible inputs: [a, a, a] needs 5 steps, [a, b, c, a] needs 4.
    for zi in (False, True):
        name = f"impossible_T6_N4_C5_S4_blank0_zeroinf_{str(zi).lower()}"
        rng = g.gen(LOSS, "draw/impossible")
        targets = [[1, 1, 1, 0], [1, 1, 1, 0], [1, 2, 3, 1], [2, 3, 4, 2]]
        ctc_case(cases, name, g.randn(rng, (6, 4, 5), 1.5), targets,
                 [5, 4, 3, 6], [3, 3, 4, 4], 0, zi)

    # Input length 0: the loss is 0 for an empty target, +inf otherwise.
    for zi in (False, True):
        name = f"zero_input_length_T4_N3_C3_S2_blank0_zeroinf_{str(zi).lower()}"
        rng = g.gen(LOSS, "draw/zero_input_length")
        ctc_case(cases, name, g.randn(rng, (4, 3, 3), 1.5), [[1, 2], [2, 1], [1, 1]],
                 [0, 0, 4], [0, 1, 2], 0, zi)

    # The reference's golden values (T = 3, N = 1, C = 3): the logits are the log-probabilities.
    lp = torch.log(torch.tensor([[0.5, 0.3, 0.2], [0.4, 0.4, 0.2], [0.6, 0.1, 0.3]],
                                dtype=torch.float64)).to(torch.float32).reshape(3, 1, 3)
    for target, tag in (([1, 2], "12"), ([1, 1], "11")):
        name = f"reference_target{tag}_T3_N1_C3_S2_blank0_zeroinf_false"
        ctc_case(cases, name, lp, [target], [3], [2], 0, False)
    return cases


def main():
    if not os.path.isdir(g.OUT_DIR):
        sys.exit("run from the repository root: tests/fixtures not found")
    header = {"generator": GENERATOR, "torch_version": torch.__version__, "loss": LOSS}
    cases = gen_ctc()
    names = [c["name"] for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, f"duplicate case names: {dup}"
    path = os.path.join(g.OUT_DIR, "ctc.json")
    g.write_json(path, header, cases=cases)
    print(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
