//! Sequence losses (CTC): PyTorch fixture replay on every lane, gradients and the reference's
//! values in f64, and one table row per error message.
#![cfg(feature = "autodiff")]

mod common;

use burn::tensor::activation::log_softmax;
use burn_losses::*;
use common::replay::cases;
use common::{Lane, load_fixture};

// ---------------------------------------------------------------------------------------------
// Fixture replay
// ---------------------------------------------------------------------------------------------

/// The loss sees `log_softmax(logits)`; its gradient is checked against PyTorch's with respect
/// to the logits.
fn ctc_parity<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("ctc")) {
        assert_eq!(case["method"], "logits", "{}", case["name"]);
        let options = &case["options"];
        let loss = |reduction| {
            CtcLossConfig::new()
                .with_blank(options["blank"].as_u64().expect("blank") as usize)
                .with_zero_infinity(options["zero_infinity"].as_bool().expect("zero_infinity"))
                .with_reduction(reduction)
                .init::<B>(device)
        };
        replay!(case, device, |x| loss.forward(
            log_softmax(x.float("input"), 2),
            x.int("target"),
            x.int("input_lengths"),
            x.int("target_lengths")
        ); infinite_losses_have_zero_gradients = true);
    }
}

on_every_backend!(ctc_parity);
on_every_plain_backend!(ctc_parity);

// ---------------------------------------------------------------------------------------------
// In f64: gradients against central finite differences, and the reference's values
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod gradients {
    use burn::backend::NdArray;
    use burn::tensor::Tensor;
    use burn::tensor::activation::log_softmax;
    use burn_losses::*;

    use super::common::F64Autodiff as B;
    use super::common::REDUCTIONS;
    use super::common::gradcheck::{gradcheck, indices, tensor, uniform};

    /// T = 5, N = 3, C = 4, S = 3: a repeat, per-sample input lengths, an empty target, and
    /// padding after the used labels. Labels avoid `blank` (0 or C - 1).
    fn batch(blank: usize) -> ([i64; 9], [i64; 3], [i64; 3]) {
        let (a, b, c) = match blank {
            0 => (1, 2, 3),
            _ => (0, 1, 2),
        };
        let targets = [a, a, b, b, c, 0, c, 0, 0];
        (targets, [5, 4, 3], [3, 2, 0])
    }

    fn loss(blank: usize, zero_infinity: bool, reduction: Reduction) -> CtcLoss<B> {
        CtcLossConfig::new()
            .with_blank(blank)
            .with_zero_infinity(zero_infinity)
            .with_reduction(reduction)
            .init(&Default::default())
    }

    /// The gradient of the impossible sample (batch entry 0) and of the possible one (entry 1).
    fn by_sample(gradient: Tensor<NdArray<f64>, 3>) -> (Vec<f64>, Vec<f64>) {
        let sample = |n| {
            gradient
                .clone()
                .narrow(1, n, 1)
                .into_data()
                .to_vec()
                .unwrap()
        };
        (sample(0), sample(1))
    }

    crate::on_f64! {
        /// Our gradient is the exact derivative with respect to `log_probs` (normalised or not),
        /// and also with respect to logits through a log-softmax. (`zero_infinity` changes nothing
        /// here: every loss is finite; see the next test.)
        fn ctc_log_probs_and_logits() {
            for blank in [0, 3] {
                let (targets, input_lengths, target_lengths) = batch(blank);
                let call = |loss: &CtcLoss<B>, log_probs| {
                    loss.forward(
                        log_probs,
                        indices(&targets, [3, 3]),
                        indices(&input_lengths, [3]),
                        indices(&target_lengths, [3]),
                    )
                };
                for reduction in REDUCTIONS {
                    let loss = loss(blank, false, reduction);
                    let what = format!("CTC blank {blank} {reduction:?}");
                    // Unnormalised log-probabilities: the exact partial derivatives.
                    gradcheck(&what, &uniform(60, -3.0, 0.0, 1), [5, 3, 4], |x| {
                        call(&loss, x)
                    });
                    gradcheck(&what, &uniform(60, -3.0, 3.0, 2), [5, 3, 4], |x| {
                        call(&loss, log_softmax(x, 2))
                    });
                }
                let loss = loss(blank, false, Reduction::Mean);
                let upstream = tensor(&uniform(3, 0.5, 1.5, 3), [3]);
                gradcheck("CTC none", &uniform(60, -3.0, 0.0, 4), [5, 3, 4], |x| {
                    (loss.forward_no_reduction(
                        x,
                        indices(&targets, [3, 3]),
                        indices(&input_lengths, [3]),
                        indices(&target_lengths, [3]),
                    ) * upstream.clone())
                    .sum()
                });
            }
        }

        /// With `zero_infinity`, an impossible sample (its 3 labels with a repeat need 4 steps, it
        /// has 3) contributes neither value nor gradient; the others are unaffected.
        fn ctc_zero_infinity_with_impossible_sample() {
            let targets = [1, 1, 2, 2, 1, 2];
            let call = |loss: &CtcLoss<B>, x| {
                loss.forward(
                    log_softmax(x, 2),
                    indices(&targets, [2, 3]),
                    indices(&[3, 5], [2]),
                    indices(&[3, 3], [2]),
                )
            };
            for reduction in REDUCTIONS {
                let loss = loss(0, true, reduction);
                gradcheck(
                    "CTC zero_infinity",
                    &uniform(30, -2.0, 2.0, 5),
                    [5, 2, 3],
                    |x| call(&loss, x),
                );
                let x = tensor(&uniform(30, -2.0, 2.0, 5), [5, 2, 3]).require_grad();
                let grads = call(&loss, x.clone()).backward();
                let (impossible, possible) = by_sample(x.grad(&grads).unwrap());
                assert!(impossible.iter().all(|g| *g == 0.0), "{impossible:?}");
                assert!(possible.iter().any(|g| *g != 0.0), "{possible:?}");
            }
            // Without zero_infinity the value is +inf, and that sample's gradient is 0.
            let x = tensor(&uniform(30, -2.0, 2.0, 5), [5, 2, 3]).require_grad();
            let value = call(&loss(0, false, Reduction::Sum), x.clone());
            assert_eq!(value.clone().into_scalar(), f64::INFINITY);
            let (impossible, possible) = by_sample(x.grad(&value.backward()).unwrap());
            assert!(impossible.iter().all(|g| *g == 0.0), "{impossible:?}");
            assert!(possible.iter().all(|g| g.is_finite()) && possible.iter().any(|g| *g != 0.0));
        }

        /// The reference's golden values, in f64, without a log-softmax.
        fn ctc_reference_values() {
            let probs = [0.5, 0.3, 0.2, 0.4, 0.4, 0.2, 0.6, 0.1, 0.3];
            let log_probs: Vec<f64> = probs.iter().map(|p: &f64| p.ln()).collect();
            for (target, expected) in [([1, 2], 1.6820086052689358), ([1, 1], 4.422848629194137)] {
                let value = loss(0, false, Reduction::Sum)
                    .forward(
                        tensor(&log_probs, [3, 1, 3]),
                        indices(&target, [1, 2]),
                        indices(&[3], [1]),
                        indices(&[2], [1]),
                    )
                    .into_scalar();
                assert!((value - expected).abs() < 1e-12, "{value} vs {expected}");
            }
        }

        /// An empty target: the loss is minus the sum of the blank log-probabilities.
        fn ctc_empty_target_is_blank_path() {
            let log_probs = uniform(12, -3.0, 0.0, 6);
            let value = loss(1, false, Reduction::Sum)
                .forward(
                    tensor(&log_probs, [4, 1, 3]),
                    indices(&[0, 2], [1, 2]),
                    indices(&[3], [1]),
                    indices(&[0], [1]),
                )
                .into_scalar();
            let expected: f64 = -(0..3).map(|t| log_probs[t * 3 + 1]).sum::<f64>();
            assert!((value - expected).abs() < 1e-12, "{value} vs {expected}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Every bad option and bad call panics with the loss, the argument, the expectation and the value
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod errors {
    use burn_losses::*;

    use super::common::panics::{B, device, floats, ints};

    fn ctc(blank: usize) -> CtcLoss<B> {
        CtcLossConfig::new().with_blank(blank).init(&device())
    }

    /// T = 4, N = 2, C = 3, S = 2: `targets` of shape `[rows, 2]`, the lengths of N entries.
    fn call(loss: CtcLoss<B>, targets: &[i64], input_lengths: &[i64], target_lengths: &[i64]) {
        loss.forward(
            floats([4, 2, 3], -1.0),
            ints(targets, [targets.len() / 2, 2]),
            ints(input_lengths, [input_lengths.len()]),
            ints(target_lengths, [target_lengths.len()]),
        );
    }

    #[test]
    fn valid_call_passes() {
        call(ctc(0), &[1, 2, 2, 0], &[4, 3], &[2, 1]);
    }

    crate::panic_table! {
        fn ctc_errors() {
            [
                empty_log_probs:
                    "CtcLoss: `log_probs` expected a non-empty (T, N, C) tensor, got shape [0, 2, 3]"
                    => ctc(0).forward(
                        floats([0, 2, 3], -1.0),
                        ints(&[1, 2, 2, 1], [2, 2]),
                        ints(&[0, 0], [2]),
                        ints(&[0, 0], [2]),
                    ),
                blank_not_a_class:
                    "CtcLoss: option `blank` expected a class index below C = 3 (dimension 2 of \
                     `log_probs`), got 3"
                    => call(ctc(3), &[1, 2, 2, 1], &[4, 4], &[2, 2]),
                targets_batch_mismatch:
                    "CtcLoss: `targets` expected shape [N, S] with N = 2 (dimension 1 of `log_probs`), \
                     got shape [3, 2]"
                    => call(ctc(0), &[1, 2, 2, 1, 1, 1], &[4, 4], &[2, 2]),
                input_lengths_shape:
                    "CtcLoss: `input_lengths` expected shape [2] (N, dimension 1 of `log_probs`), got \
                     shape [3]"
                    => call(ctc(0), &[1, 2, 2, 1], &[4, 4, 4], &[2, 2]),
                target_lengths_shape:
                    "CtcLoss: `target_lengths` expected shape [2] (N, dimension 1 of `log_probs`), got \
                     shape [1]"
                    => call(ctc(0), &[1, 2, 2, 1], &[4, 4], &[2]),
                input_length_above_t:
                    "CtcLoss: `input_lengths` expected values in [0, 4] (T, dimension 0 of \
                     `log_probs`), got 5"
                    => call(ctc(0), &[1, 2, 2, 1], &[4, 5], &[2, 2]),
                negative_input_length:
                    "CtcLoss: `input_lengths` expected values in [0, 4] (T, dimension 0 of \
                     `log_probs`), got -1"
                    => call(ctc(0), &[1, 2, 2, 1], &[-1, 4], &[2, 2]),
                target_length_above_s:
                    "CtcLoss: `target_lengths` expected values in [0, 2] (S, dimension 1 of `targets`), \
                     got 3"
                    => call(ctc(0), &[1, 2, 2, 1], &[4, 4], &[2, 3]),
                negative_target_length:
                    "CtcLoss: `target_lengths` expected values in [0, 2] (S, dimension 1 of `targets`), \
                     got -2"
                    => call(ctc(0), &[1, 2, 2, 1], &[4, 4], &[-2, 2]),
                label_is_blank:
                    "CtcLoss: `targets` expected labels other than blank 0 in the first \
                     target_lengths[n] entries of row n, got 0 at [1, 0]"
                    => call(ctc(0), &[1, 2, 0, 1], &[4, 4], &[2, 2]),
                label_above_class_count:
                    "CtcLoss: `targets` expected labels in [0, 3) in the first target_lengths[n] \
                     entries of row n, got 3 at [0, 1]"
                    => call(ctc(0), &[1, 3, 2, 1], &[4, 4], &[2, 2]),
                negative_label:
                    "CtcLoss: `targets` expected labels in [0, 3) in the first target_lengths[n] \
                     entries of row n, got -1 at [1, 1]"
                    => call(ctc(2), &[1, 0, 0, -1], &[4, 4], &[2, 2]),
            ]
        }
    }

    /// Padding past a row's target length is never checked (PyTorch ignores it too).
    #[test]
    fn padding_is_not_checked() {
        call(ctc(0), &[1, -1, 2, 7], &[4, 4], &[1, 1]);
    }

    /// With the checks off, bad lengths and labels give meaningless values, never a panic.
    #[test]
    fn unchecked_bad_values_do_not_panic() {
        let loss = CtcLossConfig::new()
            .with_check_targets(false)
            .init::<B>(&device());
        call(loss, &[9, -4, 0, 1], &[7, -1], &[5, 2]);
    }
}
