//! Sequence losses (CTC): PyTorch fixture replay on every backend, f64 finite-difference
//! gradient checks, and one test per panic message.
#![cfg(feature = "autodiff")]

mod common;

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};
use burn_losses::*;
use common::replay::{GRADIENT, cases};
use common::{Array, F32, Lane, assert_close, assert_scalar, load_fixture, number};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixture replay
// ---------------------------------------------------------------------------------------------

struct CtcCase<'a, B: Lane> {
    case: &'a Value,
    device: &'a B::Device,
}

impl<B: Lane> CtcCase<'_, B> {
    fn name(&self) -> &str {
        self.case["name"].as_str().expect("a case name")
    }

    fn array(&self, key: &str) -> Array {
        Array::from_json(&self.case["inputs"][key])
    }

    fn loss(&self, reduction: Reduction) -> CtcLoss<B> {
        let options = &self.case["options"];
        CtcLossConfig::new()
            .with_blank(options["blank"].as_u64().expect("blank") as usize)
            .with_zero_infinity(options["zero_infinity"].as_bool().expect("zero_infinity"))
            .with_reduction(reduction)
            .init(self.device)
    }

    /// Logits (tracked when `track` is set) and the loss's other arguments; the loss sees
    /// `log_softmax(logits)`.
    #[allow(clippy::type_complexity)]
    fn inputs(
        &self,
        track: bool,
    ) -> (
        Tensor<B, 3>,
        Tensor<B, 2, Int>,
        Tensor<B, 1, Int>,
        Tensor<B, 1, Int>,
    ) {
        assert_eq!(self.case["method"], "logits", "{}", self.name());
        (
            B::track_if(track, self.array("input").float(self.device)),
            self.array("target").int(self.device),
            self.array("input_lengths").int(self.device),
            self.array("target_lengths").int(self.device),
        )
    }

    /// PyTorch's gradient, where an infinite loss without `zero_infinity` has a NaN gradient
    /// and ours is 0 (documented difference).
    fn expected_gradient(&self, what: &str) -> Array {
        let mut expected = Array::from_json(&self.case["grads"][what]["input"]);
        let losses = Array::from_json(&self.case["expected"]["none"]);
        let any_infinite = losses.data.iter().any(|l| l.is_infinite());
        let zero_infinity = self.case["options"]["zero_infinity"].as_bool().unwrap();
        for value in &mut expected.data {
            if value.is_nan() {
                assert!(
                    any_infinite && !zero_infinity,
                    "{}: PyTorch has a NaN gradient only for infinite losses",
                    self.name()
                );
                *value = 0.0;
            }
        }
        expected
    }

    /// Differentiates `value` (on an autodiff lane) and checks the logits' gradient.
    fn check_gradient(&self, what: &str, logits: &Tensor<B, 3>, value: Tensor<B, 1>) {
        let Some(grads) = B::backward(value) else {
            return;
        };
        let actual = B::grad(logits, &grads).expect("the logits have a gradient");
        assert_close(
            &format!("{} grad[{what}]", self.name()),
            actual,
            &self.expected_gradient(what),
            GRADIENT,
        );
    }

    /// Replays the case with tracked logits, and on an autodiff lane again with untracked ones
    /// (the value-only path).
    fn run(&self) {
        for &track in B::PASSES {
            self.pass(track);
        }
    }

    fn pass(&self, track: bool) {
        let name = &format!("{}{}", self.name(), if track { "" } else { " (untracked)" });
        for (reduction, key) in [
            (Reduction::Mean, "mean"),
            (Reduction::Sum, "sum"),
            (Reduction::BatchMean, "batchmean"),
        ] {
            let (logits, targets, input_lengths, target_lengths) = self.inputs(track);
            let value = self.loss(reduction).forward(
                log_softmax(logits.clone(), 2),
                targets,
                input_lengths,
                target_lengths,
            );
            let expected = number(&self.case["expected"][key]);
            assert_scalar(&format!("{name} {key}"), value.to_data(), expected, F32);
            if track && reduction != Reduction::BatchMean {
                self.check_gradient(key, &logits, value);
            }
        }

        let (logits, targets, input_lengths, target_lengths) = self.inputs(track);
        let losses = self.loss(Reduction::Mean).forward_no_reduction(
            log_softmax(logits.clone(), 2),
            targets,
            input_lengths,
            target_lengths,
        );
        let expected = Array::from_json(&self.case["expected"]["none"]);
        assert_close(&format!("{name} none"), losses.to_data(), &expected, F32);
        if track {
            let upstream: Tensor<B, 1> =
                Array::from_json(&self.case["upstream"]).float(self.device);
            self.check_gradient("none", &logits, (losses * upstream).sum());
        }
    }
}

fn ctc_parity<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("ctc")) {
        CtcCase::<B> { case, device }.run();
    }
}

on_every_backend!(ctc_parity);
on_every_plain_backend!(ctc_parity);

// ---------------------------------------------------------------------------------------------
// Finite differences (f64)
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod gradcheck {
    use super::*;
    use common::F64Autodiff as B;
    use common::gradcheck::{gradcheck, indices, tensor, uniform};

    const REDUCTIONS: [Reduction; 3] = [Reduction::Mean, Reduction::Sum, Reduction::BatchMean];

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

    /// Our gradient is the exact derivative with respect to `log_probs` (normalised or not),
    /// and also with respect to logits through a log-softmax. (`zero_infinity` changes nothing
    /// here: every loss is finite; see the next test.)
    #[test]
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
    #[test]
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
            let gradient = x.grad(&grads).unwrap();
            let impossible: Vec<f64> = gradient
                .clone()
                .narrow(1, 0, 1)
                .into_data()
                .to_vec()
                .unwrap();
            assert!(impossible.iter().all(|g| *g == 0.0), "{impossible:?}");
            let possible: Vec<f64> = gradient.narrow(1, 1, 1).into_data().to_vec().unwrap();
            assert!(possible.iter().any(|g| *g != 0.0), "{possible:?}");
        }
        // Without zero_infinity the value is +inf, and that sample's gradient is 0.
        let x = tensor(&uniform(30, -2.0, 2.0, 5), [5, 2, 3]).require_grad();
        let value = call(&loss(0, false, Reduction::Sum), x.clone());
        assert_eq!(value.clone().into_scalar(), f64::INFINITY);
        let gradient = x.grad(&value.backward()).unwrap();
        let impossible: Vec<f64> = gradient
            .clone()
            .narrow(1, 0, 1)
            .into_data()
            .to_vec()
            .unwrap();
        assert!(impossible.iter().all(|g| *g == 0.0), "{impossible:?}");
        let possible: Vec<f64> = gradient.narrow(1, 1, 1).into_data().to_vec().unwrap();
        assert!(possible.iter().all(|g| g.is_finite()) && possible.iter().any(|g| *g != 0.0));
    }

    /// The reference's golden values, in f64, without a log-softmax.
    #[test]
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
    #[test]
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

// ---------------------------------------------------------------------------------------------
// Panics
// ---------------------------------------------------------------------------------------------

mod errors {
    use burn::backend::NdArray;
    use burn::tensor::{Int, Tensor};
    use burn_losses::*;

    type B = NdArray;

    fn ctc(blank: usize) -> CtcLoss<B> {
        CtcLossConfig::new()
            .with_blank(blank)
            .init(&Default::default())
    }

    fn log_probs(shape: [usize; 3]) -> Tensor<B, 3> {
        Tensor::full(shape, -1.0, &Default::default())
    }

    fn ints<const D: usize>(values: &[i64], shape: [usize; D]) -> Tensor<B, D, Int> {
        Tensor::from_data(
            burn::tensor::TensorData::new(values.to_vec(), shape),
            &Default::default(),
        )
    }

    /// T = 4, N = 2, C = 3, S = 2 with the given arguments replaced.
    fn call(
        loss: CtcLoss<B>,
        targets: Tensor<B, 2, Int>,
        input_lengths: Tensor<B, 1, Int>,
        target_lengths: Tensor<B, 1, Int>,
    ) {
        loss.forward(log_probs([4, 2, 3]), targets, input_lengths, target_lengths);
    }

    #[test]
    fn valid_call_passes() {
        call(
            ctc(0),
            ints(&[1, 2, 2, 0], [2, 2]),
            ints(&[4, 3], [2]),
            ints(&[2, 1], [2]),
        );
    }

    #[test]
    #[should_panic(
        expected = "CtcLoss: `log_probs` expected a non-empty (T, N, C) tensor, got shape [0, 2, 3]"
    )]
    fn empty_log_probs() {
        ctc(0).forward(
            log_probs([0, 2, 3]),
            ints(&[1, 2, 2, 1], [2, 2]),
            ints(&[0, 0], [2]),
            ints(&[0, 0], [2]),
        );
    }

    #[test]
    #[should_panic(
        expected = "CtcLoss: option `blank` expected a class index below C = 3 (dimension 2 of `log_probs`), got 3"
    )]
    fn blank_not_a_class() {
        call(
            ctc(3),
            ints(&[1, 2, 2, 1], [2, 2]),
            ints(&[4, 4], [2]),
            ints(&[2, 2], [2]),
        );
    }

    #[test]
    #[should_panic(
        expected = "CtcLoss: `targets` expected shape [N, S] with N = 2 (dimension 1 of `log_probs`), got shape [3, 2]"
    )]
    fn targets_batch_mismatch() {
        call(
            ctc(0),
            ints(&[1, 2, 2, 1, 1, 1], [3, 2]),
            ints(&[4, 4], [2]),
            ints(&[2, 2], [2]),
        );
    }

    #[test]
    #[should_panic(
        expected = "CtcLoss: `input_lengths` expected shape [2] (N, dimension 1 of `log_probs`), got shape [3]"
    )]
    fn input_lengths_shape() {
        call(
            ctc(0),
            ints(&[1, 2, 2, 1], [2, 2]),
            ints(&[4, 4, 4], [3]),
            ints(&[2, 2], [2]),
        );
    }

    #[test]
    #[should_panic(
        expected = "CtcLoss: `target_lengths` expected shape [2] (N, dimension 1 of `log_probs`), got shape [1]"
    )]
    fn target_lengths_shape() {
        call(
            ctc(0),
            ints(&[1, 2, 2, 1], [2, 2]),
            ints(&[4, 4], [2]),
            ints(&[2], [1]),
        );
    }

    #[test]
    #[should_panic(
        expected = "CtcLoss: `input_lengths` expected values in [0, 4] (T, dimension 0 of `log_probs`), got 5"
    )]
    fn input_length_above_t() {
        call(
            ctc(0),
            ints(&[1, 2, 2, 1], [2, 2]),
            ints(&[4, 5], [2]),
            ints(&[2, 2], [2]),
        );
    }

    #[test]
    #[should_panic(
        expected = "CtcLoss: `input_lengths` expected values in [0, 4] (T, dimension 0 of `log_probs`), got -1"
    )]
    fn negative_input_length() {
        call(
            ctc(0),
            ints(&[1, 2, 2, 1], [2, 2]),
            ints(&[-1, 4], [2]),
            ints(&[2, 2], [2]),
        );
    }

    #[test]
    #[should_panic(
        expected = "CtcLoss: `target_lengths` expected values in [0, 2] (S, dimension 1 of `targets`), got 3"
    )]
    fn target_length_above_s() {
        call(
            ctc(0),
            ints(&[1, 2, 2, 1], [2, 2]),
            ints(&[4, 4], [2]),
            ints(&[2, 3], [2]),
        );
    }

    #[test]
    #[should_panic(
        expected = "CtcLoss: `target_lengths` expected values in [0, 2] (S, dimension 1 of `targets`), got -2"
    )]
    fn negative_target_length() {
        call(
            ctc(0),
            ints(&[1, 2, 2, 1], [2, 2]),
            ints(&[4, 4], [2]),
            ints(&[-2, 2], [2]),
        );
    }

    #[test]
    #[should_panic(
        expected = "CtcLoss: `targets` expected labels other than blank 0 in the first target_lengths[n] entries of row n, got 0 at [1, 0]"
    )]
    fn label_is_blank() {
        call(
            ctc(0),
            ints(&[1, 2, 0, 1], [2, 2]),
            ints(&[4, 4], [2]),
            ints(&[2, 2], [2]),
        );
    }

    #[test]
    #[should_panic(
        expected = "CtcLoss: `targets` expected labels in [0, 3) in the first target_lengths[n] entries of row n, got 3 at [0, 1]"
    )]
    fn label_above_class_count() {
        call(
            ctc(0),
            ints(&[1, 3, 2, 1], [2, 2]),
            ints(&[4, 4], [2]),
            ints(&[2, 2], [2]),
        );
    }

    #[test]
    #[should_panic(
        expected = "CtcLoss: `targets` expected labels in [0, 3) in the first target_lengths[n] entries of row n, got -1 at [1, 1]"
    )]
    fn negative_label() {
        call(
            ctc(2),
            ints(&[1, 0, 0, -1], [2, 2]),
            ints(&[4, 4], [2]),
            ints(&[2, 2], [2]),
        );
    }

    /// Padding past a row's target length is never checked (PyTorch ignores it too).
    #[test]
    fn padding_is_not_checked() {
        call(
            ctc(0),
            ints(&[1, -1, 2, 7], [2, 2]),
            ints(&[4, 4], [2]),
            ints(&[1, 1], [2]),
        );
    }

    /// With the checks off, bad lengths and labels give meaningless values, never a panic.
    #[test]
    fn unchecked_bad_values_do_not_panic() {
        let loss = CtcLossConfig::new()
            .with_check_targets(false)
            .init::<B>(&Default::default());
        call(
            loss,
            ints(&[9, -4, 0, 1], [2, 2]),
            ints(&[7, -1], [2]),
            ints(&[5, 2], [2]),
        );
    }
}
