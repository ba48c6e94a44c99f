//! The classification losses (cross entropy, NLL, BCE, BCE with logits, KL divergence, fused
//! linear cross entropy, softmax focal loss, Poly-1): PyTorch fixture replay on every lane, the
//! fused loss against the unfused one, the focal and Poly-1 losses against cross entropy where
//! they reduce to it, gradients against f64 finite differences, and one table row per error
//! message.
#![cfg(feature = "autodiff")]

mod common;

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, ElementConversion, Int, Tensor};
use burn_losses::*;
use common::replay::{all_targets_ignored, cases, input_rank, weight_option};
use common::{Lane, REDUCTIONS, load_fixture, number};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixture replay
// ---------------------------------------------------------------------------------------------

/// Replays `loss(reduction).forward(input, target)` against class indices `(N, d1, ..)`, whose
/// `Mean` is 0 where every target is the case's `ignore_index` (PyTorch: NaN).
macro_rules! replay_class_indices {
    ($case:ident, $device:ident, $loss:ident) => {
        let ignore_index = $case["options"]["ignore_index"].as_i64();
        replay!($case, $device, |x| $loss.forward(
            x.float::<D>("input"),
            x.int::<DT>("target")
        ); mean_over_nothing = all_targets_ignored($case, ignore_index));
    };
}

replay_fixture!(fn cross_entropy: "cross_entropy", "input" => cross_entropy_case
    at [(2, 1), (3, 2), (4, 3), (5, 4)]);

fn cross_entropy_case<B: Lane, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
    let config = cross_entropy_config(&case["options"]);
    let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
    if case["method"] == "probs" {
        replay!(case, device, |x| loss.forward_probs(
            x.float::<D>("input"),
            x.float::<D>("target")
        ) => DT; finite_target_gradients = true);
    } else {
        replay_class_indices!(case, device, loss);
    }
}

/// The cross entropy of a case's options (of the cross entropy or of Poly-1).
fn cross_entropy_config(options: &Value) -> CrossEntropyLossConfig {
    CrossEntropyLossConfig::new()
        .with_weight(weight_option(&options["weight"]))
        .with_ignore_index(options["ignore_index"].as_i64())
        .with_label_smoothing(number(&options["label_smoothing"]) as f32)
        .with_z_loss(number(&options["z_loss"]) as f32)
}

replay_fixture!(fn nll: "nll", "input" => nll_case at [(2, 1), (3, 2), (4, 3), (5, 4)]);

fn nll_case<B: Lane, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
    let options = &case["options"];
    let config = NllLossConfig::new()
        .with_weight(weight_option(&options["weight"]))
        .with_ignore_index(options["ignore_index"].as_i64());
    let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
    replay_class_indices!(case, device, loss);
}

elementwise_parity!(binary_cross_entropy, "bce", |options| {
    BinaryCrossEntropyLossConfig::new().with_weight(weight_option(&options["weight"]))
});

elementwise_parity!(
    binary_cross_entropy_with_logits,
    "bce_with_logits",
    |options| BinaryCrossEntropyWithLogitsLossConfig::new()
        .with_weight(weight_option(&options["weight"]))
        .with_pos_weight(weight_option(&options["pos_weight"]))
);

elementwise_parity!(kl_div, "kl_div", |options| KlDivLossConfig::new()
    .with_log_target(options["log_target"].as_bool().expect("log_target")));

replay_fixture!(fn softmax_focal: "softmax_focal_loss", "input" => softmax_focal_case
    at [(2, 1), (3, 2), (4, 3)]);

fn softmax_focal_case<B: Lane, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
    let options = &case["options"];
    let config = SoftmaxFocalLossConfig::new()
        .with_alpha(weight_option(&options["alpha"]))
        .with_gamma(number(&options["gamma"]) as f32)
        .with_weight(weight_option(&options["weight"]))
        .with_ignore_index(options["ignore_index"].as_i64());
    let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
    replay_class_indices!(case, device, loss);
}

replay_fixture!(fn poly: "poly_loss", "input" => poly_case at [(2, 1), (3, 2), (4, 3)]);

fn poly_case<B: Lane, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
    let options = &case["options"];
    let cross_entropy = cross_entropy_config(options);
    let loss = |reduction| {
        PolyLossConfig::new()
            .with_cross_entropy(cross_entropy.clone().with_reduction(reduction))
            .with_epsilon(number(&options["epsilon"]) as f32)
            .init::<B>(device)
    };
    replay_class_indices!(case, device, loss);
}

/// Values and logit gradients of two losses on the same `(N, C, d)` logits, within f32 rounding.
fn assert_same_loss<B: AutodiffBackend>(
    what: &str,
    device: &B::Device,
    loss: impl Fn(Tensor<B, 3>) -> Tensor<B, 1>,
    reference: impl Fn(Tensor<B, 3>) -> Tensor<B, 1>,
) {
    let logits = Tensor::<B, 3>::random([5, 4, 3], Distribution::Normal(0.0, 2.0), device);
    let run = |f: &dyn Fn(Tensor<B, 3>) -> Tensor<B, 1>| {
        let tracked = logits.clone().require_grad();
        let value = f(tracked.clone());
        let gradient = tracked.grad(&value.clone().backward()).expect(what);
        (value.inner(), gradient)
    };
    let (value, gradient) = run(&loss);
    let (expected_value, expected_gradient) = run(&reference);
    assert_same::<B, 1>(&format!("{what} value"), value, expected_value);
    assert_same::<B, 3>(&format!("{what} gradient"), gradient, expected_gradient);
}

/// The focal loss with `γ = 0` and no `alpha`, and Poly-1 with `ε = 0`, are cross entropy: the
/// same values and gradients for every reduction, with weights and ignored targets.
fn focal_and_poly_reduce_to_cross_entropy<B: AutodiffBackend>(device: &B::Device) {
    let targets = Tensor::<B, 2, Int>::from_ints(
        [
            [0, 3, -100],
            [2, 1, 1],
            [-100, -100, 0],
            [3, 2, 1],
            [1, 0, 2],
        ],
        device,
    );
    let weight = Some(vec![0.5, 2.0, 1.0, 1.5]);
    for reduction in REDUCTIONS {
        let cross_entropy = CrossEntropyLossConfig::new()
            .with_weight(weight.clone())
            .with_reduction(reduction);
        let reference = cross_entropy.init::<B>(device);
        let focal = SoftmaxFocalLossConfig::new()
            .with_gamma(0.0)
            .with_weight(weight.clone())
            .with_reduction(reduction)
            .init::<B>(device);
        assert_same_loss(
            &format!("focal γ = 0 {reduction:?}"),
            device,
            |x| focal.forward(x, targets.clone()),
            |x| reference.forward(x, targets.clone()),
        );
        let poly = PolyLossConfig::new()
            .with_cross_entropy(cross_entropy.clone().with_label_smoothing(0.2))
            .with_epsilon(0.0)
            .init::<B>(device);
        let smoothed = cross_entropy.with_label_smoothing(0.2).init::<B>(device);
        assert_same_loss(
            &format!("Poly-1 ε = 0 {reduction:?}"),
            device,
            |x| poly.forward(x, targets.clone()),
            |x| smoothed.forward(x, targets.clone()),
        );
    }
}

/// At a target probability of exactly 1 with `0 < γ < 1`, `(1 - p)^(γ - 1)` is infinite and
/// PyTorch's autograd gives NaN (measured in torch 2.15 on logits `[1e4, 0, 0]`, target 0); the
/// focal loss's gradient there is its limit, 0, and the loss 0.
fn softmax_focal_at_certainty_has_zero_gradient<B: AutodiffBackend>(device: &B::Device) {
    let loss = SoftmaxFocalLossConfig::new()
        .with_gamma(0.5)
        .with_alpha(Some(vec![0.5, 1.0, 2.0]))
        .init::<B>(device);
    let logits =
        Tensor::<B, 2>::from_floats([[1e4, 0.0, 0.0], [0.0, 1.0, -1.0]], device).require_grad();
    let targets = Tensor::<B, 1, Int>::from_ints([0, 1], device);
    let values = loss.forward_no_reduction(logits.clone(), targets);
    let gradients = values.clone().sum().backward();
    let values: Vec<f32> = values.into_data().to_vec().unwrap();
    let gradient: Vec<f32> = logits
        .grad(&gradients)
        .unwrap()
        .into_data()
        .to_vec()
        .unwrap();
    assert_eq!(values[0], 0.0, "{values:?}");
    assert!(values[1] > 0.0, "{values:?}");
    assert_eq!(gradient[..3], [0.0, 0.0, 0.0], "{gradient:?}");
    assert!(
        gradient[3..].iter().all(|g| g.is_finite() && *g != 0.0),
        "{gradient:?}"
    );
}

/// Infinite logits, measured in PyTorch 2.15 (no fixture: JSON has no infinities). PyTorch's
/// values there are NaN (`0 · inf`) and its target gradients ±inf; ours are the same values,
/// PyTorch's logit gradients, and target gradients of 0 where PyTorch's are infinite (a
/// deliberate difference, README): an infinite gradient would turn the update into NaN.
fn binary_cross_entropy_with_logits_at_infinite_logits<B: AutodiffBackend>(device: &B::Device) {
    let logits =
        Tensor::<B, 1>::from_floats([f32::INFINITY, f32::NEG_INFINITY, 2.0], device).require_grad();
    let targets = Tensor::<B, 1>::from_floats([1.0, 0.0, 0.5], device).require_grad();
    let to_vec =
        |tensor: Tensor<B::InnerBackend, 1>| -> Vec<f32> { tensor.into_data().to_vec().unwrap() };
    // (pos_weight, PyTorch's last value, its last logit gradient, its last target gradient)
    for (pos_weight, value, logit_gradient, target_gradient) in [
        (None, 1.1269, 0.3808, -2.0),
        (Some(vec![3.0]), 1.2539, 0.2616, -1.7461),
    ] {
        let loss = BinaryCrossEntropyWithLogitsLossConfig::new()
            .with_pos_weight(pos_weight)
            .init::<B>(device);
        let values = loss.forward_no_reduction(logits.clone(), targets.clone());
        let gradients = values.clone().sum().backward();
        let values = to_vec(values.inner());
        assert!(values[0].is_nan() && values[1].is_nan(), "{values:?}");
        assert!((values[2] - value).abs() < 1e-4, "{values:?}");
        let logits_grad = to_vec(logits.grad(&gradients).unwrap());
        assert_eq!(logits_grad[..2], [0.0, 0.0]);
        assert!(
            (logits_grad[2] - logit_gradient).abs() < 1e-4,
            "{logits_grad:?}"
        );
        let targets_grad = to_vec(targets.grad(&gradients).unwrap());
        assert_eq!(targets_grad[..2], [0.0, 0.0]);
        assert!(
            (targets_grad[2] - target_gradient).abs() < 1e-4,
            "{targets_grad:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Fused linear cross entropy against the unfused cross entropy of `hidden · Wᵀ + b`: values and
// all three gradients, every option
// ---------------------------------------------------------------------------------------------

#[track_caller]
fn assert_same<B: AutodiffBackend, const D: usize>(
    what: &str,
    fused: Tensor<B::InnerBackend, D>,
    unfused: Tensor<B::InnerBackend, D>,
) {
    let fused: Vec<f32> = fused.into_data().iter::<f32>().collect();
    let unfused: Vec<f32> = unfused.into_data().iter::<f32>().collect();
    for (index, (f, u)) in fused.iter().zip(&unfused).enumerate() {
        assert!(
            (f - u).abs() <= 1e-5 + 1e-4 * u.abs(),
            "{what}[{index}]: fused {f}, unfused {u}"
        );
    }
}

fn fused_matches_unfused<B: AutodiffBackend>(device: &B::Device) {
    let [rows, features, classes] = [13, 8, 37];
    let hidden = Tensor::<B, 2>::random([rows, features], Distribution::Normal(0.0, 1.0), device);
    let projection =
        Tensor::<B, 2>::random([classes, features], Distribution::Normal(0.0, 0.5), device);
    let bias = Tensor::<B, 1>::random([classes], Distribution::Normal(0.0, 0.5), device);
    let mut target_values: Vec<i64> = (0..rows as i64).map(|i| (i * 7) % classes as i64).collect();
    target_values[3] = -100;
    target_values[8] = -100;
    let targets = Tensor::<B, 1, Int>::from_ints(target_values.as_slice(), device);
    let class_weight: Vec<f32> = (0..classes).map(|c| 0.5 + (c % 5) as f32 * 0.3).collect();

    for (weight, smoothing, z_loss) in [
        (None, 0.0, 0.0),
        (Some(class_weight.clone()), 0.1, 0.0),
        (None, 0.0, 1e-2),
        (Some(class_weight), 0.2, 1e-3),
    ] {
        for reduction in REDUCTIONS {
            for (chunk_size, with_bias) in [(4, true), (13, false), (64, true)] {
                let what = format!(
                    "weight {} smoothing {smoothing} z {z_loss} {reduction:?} chunk {chunk_size} bias {with_bias}",
                    weight.is_some()
                );
                let fused = FusedLinearCrossEntropyLossConfig::new()
                    .with_cross_entropy(
                        CrossEntropyLossConfig::new()
                            .with_weight(weight.clone())
                            .with_label_smoothing(smoothing)
                            .with_z_loss(z_loss)
                            .with_reduction(reduction),
                    )
                    .with_chunk_size(chunk_size)
                    .init::<B>(device);
                let unfused = CrossEntropyLossConfig::new()
                    .with_weight(weight.clone())
                    .with_label_smoothing(smoothing)
                    .with_z_loss(z_loss)
                    .with_reduction(reduction)
                    .init::<B>(device);
                let inputs = || {
                    (
                        hidden.clone().require_grad(),
                        projection.clone().require_grad(),
                        bias.clone().require_grad(),
                    )
                };

                let (h, w, b) = inputs();
                let (fused_value, fused_z) = fused.forward_with_z_loss(
                    h.clone(),
                    w.clone(),
                    with_bias.then(|| b.clone()),
                    targets.clone(),
                );
                let fused_grads = fused_value.clone().backward();

                let (uh, uw, ub) = inputs();
                let mut logits = uh.clone().matmul(uw.clone().transpose());
                if with_bias {
                    logits = logits + ub.clone().unsqueeze();
                }
                let (unfused_value, unfused_z) =
                    unfused.forward_with_z_loss(logits, targets.clone());
                let unfused_grads = unfused_value.clone().backward();

                assert_same::<B, 1>(
                    &format!("{what} value"),
                    fused_value.inner(),
                    unfused_value.inner(),
                );
                assert_same::<B, 1>(
                    &format!("{what} z-loss"),
                    fused_z.inner(),
                    unfused_z.inner(),
                );
                assert_same::<B, 2>(
                    &format!("{what} d/dhidden"),
                    h.grad(&fused_grads).expect(&what),
                    uh.grad(&unfused_grads).unwrap(),
                );
                assert_same::<B, 2>(
                    &format!("{what} d/dprojection"),
                    w.grad(&fused_grads).unwrap(),
                    uw.grad(&unfused_grads).unwrap(),
                );
                if with_bias {
                    assert_same::<B, 1>(
                        &format!("{what} d/dbias"),
                        b.grad(&fused_grads).unwrap(),
                        ub.grad(&unfused_grads).unwrap(),
                    );
                }
            }
        }
    }
}

fn fused_all_targets_ignored_gives_zero<B: AutodiffBackend>(device: &B::Device) {
    let hidden = Tensor::<B, 2>::random([4, 3], Distribution::Default, device).require_grad();
    let projection = Tensor::<B, 2>::random([5, 3], Distribution::Default, device).require_grad();
    let targets = Tensor::<B, 1, Int>::from_ints([-100, -100, -100, -100], device);
    let fused = FusedLinearCrossEntropyLossConfig::new().init::<B>(device);
    let value = fused.forward(hidden.clone(), projection.clone(), None, targets);
    let grads = value.clone().backward();
    assert_eq!(value.into_scalar().elem::<f32>(), 0.0);
    let gradient_max: f32 = hidden
        .grad(&grads)
        .unwrap()
        .abs()
        .max()
        .into_scalar()
        .elem();
    assert_eq!(gradient_max, 0.0);
}

on_every_backend!(
    cross_entropy,
    nll,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_at_infinite_logits,
    kl_div,
    fused_matches_unfused,
    fused_all_targets_ignored_gives_zero,
    softmax_focal,
    poly,
    focal_and_poly_reduce_to_cross_entropy,
    softmax_focal_at_certainty_has_zero_gradient,
);

on_every_plain_backend!(
    cross_entropy,
    nll,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    kl_div,
    softmax_focal,
    poly
);

/// Every option and shape family the focal and Poly-1 fixtures promise is in them (a guard
/// against a generator edit that silently drops a case).
#[test]
fn focal_and_poly_fixtures_cover_the_options() {
    let focal = load_fixture("softmax_focal_loss");
    let focal = cases(&focal);
    let has = |cases: &[Value], test: &dyn Fn(&Value) -> bool| cases.iter().any(test);
    for gamma in [0.0, 0.5, 2.0] {
        assert!(has(focal, &|c| number(&c["options"]["gamma"]) == gamma));
    }
    assert!(has(focal, &|c| !c["options"]["alpha"].is_null()
        && !c["options"]["weight"].is_null()));
    assert!(has(focal, &|c| c["options"]["ignore_index"].as_i64() == Some(1)));
    assert!(has(focal, &|c| input_rank(c) == 4));
    assert!(has(focal, &|c| all_targets_ignored(
        c,
        c["options"]["ignore_index"].as_i64()
    )));
    let poly = load_fixture("poly_loss");
    let poly = cases(&poly);
    assert!(has(poly, &|c| number(&c["options"]["epsilon"]) == -1.0));
    assert!(has(poly, &|c| number(&c["options"]["label_smoothing"])
        > 0.0
        && !c["options"]["weight"].is_null()));
    assert!(has(poly, &|c| number(&c["options"]["z_loss"]) > 0.0));
    assert!(has(poly, &|c| input_rank(c) == 4));
}

// ---------------------------------------------------------------------------------------------
// Finite differences in f64
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod gradients {
    use burn_losses::*;

    use super::common::F64Autodiff as B;
    use super::common::REDUCTIONS;
    use super::common::gradcheck::{
        gradcheck, gradcheck_pair, indices, probability_rows, tensor, uniform,
    };

    crate::on_f64! {
        fn cross_entropy_class_indices() {
            let targets_2d = [2, -100, 0, 1];
            let targets_3d = [0, 2, 1, 1];
            for weight in [None, Some(vec![0.5, 2.0, 1.5])] {
                for smoothing in [0.0, 0.2] {
                    for reduction in REDUCTIONS {
                        let config = CrossEntropyLossConfig::new()
                            .with_weight(weight.clone())
                            .with_label_smoothing(smoothing)
                            .with_reduction(reduction);
                        let loss = config.init::<B>(&Default::default());
                        let what = format!("CE {config}");
                        gradcheck(&what, &uniform(12, -3.0, 3.0, 1), [4, 3], |x| {
                            loss.forward(x, indices(&targets_2d, [4]))
                        });
                        gradcheck(&what, &uniform(12, -3.0, 3.0, 2), [2, 3, 2], |x| {
                            loss.forward(x, indices(&targets_3d, [2, 2]))
                        });
                    }
                    let loss = CrossEntropyLossConfig::new()
                        .with_weight(weight.clone())
                        .with_label_smoothing(smoothing)
                        .with_ignore_index(Some(1))
                        .init::<B>(&Default::default());
                    let upstream = tensor(&uniform(4, 0.5, 1.5, 3), [4]);
                    gradcheck(
                        "CE none, ignore_index 1",
                        &uniform(12, -3.0, 3.0, 4),
                        [4, 3],
                        |x| {
                            (loss.forward_no_reduction(x, indices(&[2, 1, 0, 1], [4]))
                                * upstream.clone())
                            .sum()
                        },
                    );
                }
            }
        }

        fn cross_entropy_z_loss() {
            for smoothing in [0.0, 0.2] {
                for reduction in REDUCTIONS {
                    let loss = CrossEntropyLossConfig::new()
                        .with_weight(Some(vec![0.5, 2.0, 1.5]))
                        .with_label_smoothing(smoothing)
                        .with_z_loss(0.1)
                        .with_reduction(reduction)
                        .init::<B>(&Default::default());
                    let what = format!("CE z-loss smoothing {smoothing} {reduction:?}");
                    gradcheck(&what, &uniform(12, -3.0, 3.0, 15), [4, 3], |x| {
                        loss.forward(x, indices(&[2, -100, 0, 1], [4]))
                    });
                    gradcheck(
                        &format!("{what} probs"),
                        &uniform(12, -3.0, 3.0, 16),
                        [3, 4],
                        |x| {
                            let weight = Some(vec![0.5, 2.0, 1.5, 1.0]);
                            let loss = CrossEntropyLossConfig::new()
                                .with_weight(weight)
                                .with_label_smoothing(smoothing)
                                .with_z_loss(0.1)
                                .with_reduction(reduction)
                                .init::<B>(&Default::default());
                            loss.forward_probs(x, tensor(&probability_rows([3, 4], 17), [3, 4]))
                        },
                    );
                }
            }
        }

        fn cross_entropy_class_probabilities() {
            let probs = probability_rows([3, 4], 5);
            let logits = uniform(12, -3.0, 3.0, 6);
            for weight in [None, Some(vec![0.5, 2.0, 1.5, 1.0])] {
                for smoothing in [0.0, 0.3] {
                    for reduction in REDUCTIONS {
                        let loss = CrossEntropyLossConfig::new()
                            .with_weight(weight.clone())
                            .with_label_smoothing(smoothing)
                            .with_reduction(reduction)
                            .init::<B>(&Default::default());
                        let what = format!(
                            "CE probs weight {weight:?} smoothing {smoothing} {reduction:?}"
                        );
                        gradcheck(&format!("{what} d/dlogits"), &logits, [3, 4], |x| {
                            loss.forward_probs(x, tensor(&probs, [3, 4]))
                        });
                        gradcheck(&format!("{what} d/dprobs"), &probs, [3, 4], |t| {
                            loss.forward_probs(tensor(&logits, [3, 4]), t)
                        });
                    }
                }
            }
        }

        fn nll() {
            for weight in [None, Some(vec![0.5, 2.0, 1.5])] {
                for reduction in REDUCTIONS {
                    let loss = NllLossConfig::new()
                        .with_weight(weight.clone())
                        .with_reduction(reduction)
                        .init::<B>(&Default::default());
                    gradcheck(
                        &format!("NLL {weight:?} {reduction:?}"),
                        &uniform(12, -3.0, 0.0, 7),
                        [4, 3],
                        |x| loss.forward(x, indices(&[2, -100, 0, 1], [4])),
                    );
                }
            }
        }

        fn binary_cross_entropy() {
            let probs = uniform(8, 0.05, 0.95, 8);
            let targets = uniform(8, 0.0, 1.0, 9);
            for weight in [None, Some(vec![0.5, 2.0, 1.5, 1.0])] {
                for reduction in REDUCTIONS {
                    let loss = BinaryCrossEntropyLossConfig::new()
                        .with_weight(weight.clone())
                        .with_reduction(reduction)
                        .init::<B>(&Default::default());
                    let what = format!("BCE {weight:?} {reduction:?}");
                    gradcheck_pair(&what, ["probs", "targets"], &probs, &targets, [2, 4],
                        |x, y| loss.forward(x, y)
                    );
                }
            }
        }

        fn binary_cross_entropy_with_logits() {
            let logits = uniform(8, -4.0, 4.0, 10);
            let targets = uniform(8, 0.0, 1.0, 11);
            for weight in [None, Some(vec![0.5, 2.0, 1.5, 1.0])] {
                for pos_weight in [None, Some(vec![3.0, 0.5, 1.0, 2.0])] {
                    let loss = BinaryCrossEntropyWithLogitsLossConfig::new()
                        .with_weight(weight.clone())
                        .with_pos_weight(pos_weight.clone())
                        .init::<B>(&Default::default());
                    let what = format!("BCE-with-logits {weight:?} {pos_weight:?}");
                    gradcheck_pair(&what, ["logits", "targets"], &logits, &targets, [2, 4],
                        |x, y| loss.forward(x, y)
                    );
                    let upstream = tensor(&uniform(8, 0.5, 1.5, 12), [2, 4]);
                    gradcheck(&format!("{what} none"), &logits, [2, 4], |x| {
                        (loss.forward_no_reduction(x, tensor(&targets, [2, 4])) * upstream.clone())
                            .sum()
                    });
                }
            }
        }

        fn kl_div() {
            let log_q: Vec<f64> = probability_rows([2, 4], 13)
                .iter()
                .map(|p| p.ln())
                .collect();
            let p = probability_rows([2, 4], 14);
            let log_p: Vec<f64> = p.iter().map(|p| p.ln()).collect();
            for (log_target, target) in [(false, &p), (true, &log_p)] {
                for reduction in REDUCTIONS {
                    let loss = KlDivLossConfig::new()
                        .with_log_target(log_target)
                        .with_reduction(reduction)
                        .init::<B>(&Default::default());
                    let what = format!("KL log_target {log_target} {reduction:?}");
                    gradcheck_pair(&what, ["input", "target"], &log_q, target, [2, 4],
                        |x, y| loss.forward(x, y)
                    );
                }
            }
        }

        fn softmax_focal() {
            let upstream = tensor(&uniform(4, 0.5, 1.5, 33), [4]);
            for alpha in [None, Some(vec![0.25, 1.0, 0.5])] {
                for weight in [None, Some(vec![0.5, 2.0, 1.5])] {
                    for gamma in [0.0, 0.5, 2.0] {
                        let config = SoftmaxFocalLossConfig::new()
                            .with_alpha(alpha.clone())
                            .with_weight(weight.clone())
                            .with_gamma(gamma);
                        for reduction in REDUCTIONS {
                            let loss = config.clone().with_reduction(reduction).init::<B>(&Default::default());
                            let what = format!("focal {config} {reduction:?}");
                            gradcheck(&what, &uniform(12, -3.0, 3.0, 31), [4, 3], |x| {
                                loss.forward(x, indices(&[2, -100, 0, 1], [4]))
                            });
                            gradcheck(&what, &uniform(12, -3.0, 3.0, 32), [2, 3, 2], |x| {
                                loss.forward(x, indices(&[0, 2, 1, 1], [2, 2]))
                            });
                        }
                        let loss = config.clone().with_ignore_index(Some(1)).init::<B>(&Default::default());
                        gradcheck(&format!("focal {config} none, ignore_index 1"), &uniform(12, -3.0, 3.0, 34), [4, 3], |x| {
                            (loss.forward_no_reduction(x, indices(&[2, 1, 0, 1], [4])) * upstream.clone()).sum()
                        });
                    }
                }
            }
        }

        fn poly() {
            let upstream = tensor(&uniform(4, 0.5, 1.5, 43), [4]);
            for weight in [None, Some(vec![0.5, 2.0, 1.5])] {
                for smoothing in [0.0, 0.2] {
                    for epsilon in [1.0, -0.5] {
                        let cross_entropy = CrossEntropyLossConfig::new()
                            .with_weight(weight.clone())
                            .with_label_smoothing(smoothing);
                        for reduction in REDUCTIONS {
                            let loss = PolyLossConfig::new()
                                .with_cross_entropy(cross_entropy.clone().with_reduction(reduction))
                                .with_epsilon(epsilon)
                                .init::<B>(&Default::default());
                            let what = format!("Poly-1 {weight:?} smoothing {smoothing} ε {epsilon} {reduction:?}");
                            gradcheck(&what, &uniform(12, -3.0, 3.0, 41), [4, 3], |x| {
                                loss.forward(x, indices(&[2, -100, 0, 1], [4]))
                            });
                            gradcheck(&what, &uniform(12, -3.0, 3.0, 42), [2, 3, 2], |x| {
                                loss.forward(x, indices(&[0, 2, 1, 1], [2, 2]))
                            });
                        }
                        let loss = PolyLossConfig::new()
                            .with_cross_entropy(cross_entropy.with_ignore_index(Some(1)).with_z_loss(0.1))
                            .with_epsilon(epsilon)
                            .init::<B>(&Default::default());
                        gradcheck("Poly-1 none, ignore_index 1, z-loss", &uniform(12, -3.0, 3.0, 44), [4, 3], |x| {
                            (loss.forward_no_reduction(x, indices(&[2, 1, 0, 1], [4])) * upstream.clone()).sum()
                        });
                    }
                }
            }
        }

        fn fused_linear_cross_entropy() {
            let targets = [2, -100, 0, 4, 1];
            let hidden = uniform(15, -1.0, 1.0, 21);
            let projection = uniform(15, -1.0, 1.0, 22);
            let bias = uniform(5, -0.5, 0.5, 23);
            for (smoothing, z_loss) in [(0.0, 0.0), (0.2, 0.05)] {
                for reduction in [Reduction::Mean, Reduction::Sum] {
                    let loss = FusedLinearCrossEntropyLossConfig::new()
                        .with_cross_entropy(
                            CrossEntropyLossConfig::new()
                                .with_weight(Some(vec![1.0, 0.5, 2.0, 1.5, 1.0]))
                                .with_label_smoothing(smoothing)
                                .with_z_loss(z_loss)
                                .with_reduction(reduction)
                        )
                        .with_chunk_size(2)
                        .init(&Default::default());
                    let what = format!("fused smoothing {smoothing} z {z_loss} {reduction:?}");
                    let t = || indices(&targets, [5]);
                    gradcheck(&format!("{what} d/dhidden"), &hidden, [5, 3], |h| {
                        loss.forward(
                            h,
                            tensor(&projection, [5, 3]),
                            Some(tensor(&bias, [5])),
                            t(),
                        )
                    });
                    gradcheck(&format!("{what} d/dprojection"), &projection, [5, 3], |w| {
                        loss.forward(tensor(&hidden, [5, 3]), w, Some(tensor(&bias, [5])), t())
                    });
                    gradcheck(&format!("{what} d/dbias"), &bias, [5], |b| {
                        loss.forward(
                            tensor(&hidden, [5, 3]),
                            tensor(&projection, [5, 3]),
                            Some(b),
                            t(),
                        )
                    });
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Every bad option and bad call panics with a message naming the loss, the argument, what was
// expected and what was given
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod errors {
    use burn::tensor::{Int, Tensor};
    use burn_losses::*;

    use super::common::panics::{B, classes, device, floats};

    crate::panic_table! {
        fn cross_entropy_errors() {
            let cross_entropy = || CrossEntropyLossConfig::new().init::<B>(&device());
            let with_weight = |weight: &[f32]| {
                CrossEntropyLossConfig::new().with_weight(Some(weight.to_vec())).init::<B>(&device())
            };
            [
                label_smoothing_above_one:
                    "CrossEntropyLoss: option `label_smoothing` expected a value in [0, 1], got 1.5"
                    => CrossEntropyLossConfig::new().with_label_smoothing(1.5).init::<B>(&device()),
                negative_label_smoothing:
                    "CrossEntropyLoss: option `label_smoothing` expected a value in [0, 1], got -0.1"
                    => CrossEntropyLossConfig::new().with_label_smoothing(-0.1).init::<B>(&device()),
                negative_z_loss:
                    "CrossEntropyLoss: option `z_loss` expected a finite value >= 0, got -0.001"
                    => CrossEntropyLossConfig::new().with_z_loss(-1e-3).init::<B>(&device()),
                empty_weight:
                    "CrossEntropyLoss: option `weight` expected a non-empty list, got an empty list"
                    => with_weight(&[]),
                negative_weight:
                    "CrossEntropyLoss: option `weight` expected finite, non-negative values, got -1"
                    => with_weight(&[1.0, -1.0]),
                target_rank_not_input_rank_minus_one:
                    "CrossEntropyLoss: `targets` expected rank 1 (the rank of `logits` minus the class \
                     dimension), got rank 2"
                    => cross_entropy().forward(floats([4, 3], 0.0), Tensor::<B, 2, Int>::zeros([4, 3], &device())),
                logits_without_class_dimension:
                    "CrossEntropyLoss: `logits` expected rank >= 2: (N, C) or (N, C, d1, ..., dk), got \
                     rank 1 with shape [3]"
                    => cross_entropy().forward_probs(floats([3], 0.0), floats([3], 0.5)),
                batch_size_mismatch:
                    "CrossEntropyLoss: `targets` expected shape [4] (`logits` [4, 3] without the class \
                     dimension), got [3]"
                    => cross_entropy().forward(floats([4, 3], 0.0), classes(&[0, 1, 2])),
                spatial_mismatch:
                    "CrossEntropyLoss: `targets` expected shape [2, 5] (`logits` [2, 3, 5] without the \
                     class dimension), got [2, 4]"
                    => cross_entropy().forward(floats([2, 3, 5], 0.0), Tensor::<B, 2, Int>::zeros([2, 4], &device())),
                weight_length_not_class_count:
                    "CrossEntropyLoss: `weight` expected length 3 (the number of classes, dimension 1 of \
                     the input), got length 2"
                    => with_weight(&[1.0, 2.0]).forward(floats([2, 3], 0.0), classes(&[0, 1])),
                weight_length_not_class_count_with_probabilities:
                    "CrossEntropyLoss: `weight` expected length 3 (the number of classes, dimension 1 of \
                     the input), got length 2"
                    => with_weight(&[1.0, 2.0]).forward_probs(floats([2, 3], 0.0), floats([2, 3], 0.5)),
                class_index_too_large:
                    "CrossEntropyLoss: `targets` expected class indices in [0, 3) or ignore_index -100, \
                     got 3"
                    => cross_entropy().forward(floats([2, 3], 0.0), classes(&[0, 3])),
                negative_class_index:
                    "CrossEntropyLoss: `targets` expected class indices in [0, 3) or ignore_index -100, \
                     got -1"
                    => cross_entropy().forward(floats([2, 3], 0.0), classes(&[-1, 2])),
                no_ignore_index_checks_every_target:
                    "CrossEntropyLoss: `targets` expected class indices in [0, 3), got -100"
                    => CrossEntropyLossConfig::new().with_ignore_index(None).init::<B>(&device())
                        .forward(floats([2, 3], 0.0), classes(&[-100, 2])),
                probability_shape_mismatch:
                    "CrossEntropyLoss: `probs` expected shape [2, 3] (the shape of `logits`), got [2, 4]"
                    => cross_entropy().forward_probs(floats([2, 3], 0.0), floats([2, 4], 0.25)),
                ignore_index_with_probabilities:
                    "CrossEntropyLoss: `ignore_index` expected None or a negative value with probability \
                     targets, got 1"
                    => CrossEntropyLossConfig::new().with_ignore_index(Some(1)).init::<B>(&device())
                        .forward_probs(floats([2, 3], 0.0), floats([2, 3], 0.5)),
                probability_output_rank:
                    "CrossEntropyLoss: `output rank DT` expected 1 (the input rank 2 minus the class \
                     dimension), got 2"
                    => cross_entropy().forward_probs_no_reduction::<2, 2>(floats([2, 3], 0.0), floats([2, 3], 0.5)),
            ]
        }

        fn nll_errors() {
            let nll = || NllLossConfig::new().init::<B>(&device());
            [
                nan_weight:
                    "NllLoss: option `weight` expected finite, non-negative values, got NaN"
                    => NllLossConfig::new().with_weight(Some(vec![f32::NAN])).init::<B>(&device()),
                class_index_out_of_range:
                    "NllLoss: `targets` expected class indices in [0, 3) or ignore_index -100, got 7"
                    => nll().forward(floats([2, 3], -1.0), classes(&[7, 0])),
                batch_size_mismatch:
                    "NllLoss: `targets` expected shape [2] (`log_probs` [2, 3] without the class \
                     dimension), got [3]"
                    => nll().forward(floats([2, 3], -1.0), classes(&[0, 1, 2])),
                target_rank:
                    "NllLoss: `targets` expected rank 2 (the rank of `log_probs` minus the class \
                     dimension), got rank 1"
                    => nll().forward_no_reduction(floats([2, 3, 4], -1.0), classes(&[0, 1])),
                weight_length:
                    "NllLoss: `weight` expected length 3 (the number of classes, dimension 1 of the \
                     input), got length 4"
                    => NllLossConfig::new().with_weight(Some(vec![1.0; 4])).init::<B>(&device())
                        .forward(floats([2, 3], -1.0), classes(&[0, 1])),
            ]
        }

        fn binary_cross_entropy_errors() {
            let bce = || BinaryCrossEntropyLossConfig::new().init::<B>(&device());
            [
                empty_weight:
                    "BinaryCrossEntropyLoss: option `weight` expected a non-empty list, got an empty list"
                    => BinaryCrossEntropyLossConfig::new().with_weight(Some(vec![])).init::<B>(&device()),
                shape_mismatch:
                    "BinaryCrossEntropyLoss: `targets` expected shape [2, 3] (the shape of `probs`), got \
                     [2, 4]"
                    => bce().forward(floats([2, 3], 0.5), floats([2, 4], 1.0)),
                probability_above_one:
                    "BinaryCrossEntropyLoss: `probs` expected values in [0, 1], got 1.5"
                    => bce().forward(floats([2, 3], 1.5), floats([2, 3], 1.0)),
                nan_probability:
                    "BinaryCrossEntropyLoss: `probs` expected values in [0, 1], got NaN"
                    => bce().forward(floats([2, 3], f32::NAN), floats([2, 3], 1.0)),
                negative_target:
                    "BinaryCrossEntropyLoss: `targets` expected values in [0, 1], got -0.5"
                    => bce().forward(floats([2, 3], 0.5), floats([2, 3], -0.5)),
                weight_length:
                    "BinaryCrossEntropyLoss: `weight` expected length 3 (the last dimension of the input) \
                     or 1, got length 2"
                    => BinaryCrossEntropyLossConfig::new().with_weight(Some(vec![1.0, 2.0])).init::<B>(&device())
                        .forward(floats([2, 3], 0.5), floats([2, 3], 1.0)),
            ]
        }

        fn binary_cross_entropy_with_logits_errors() {
            let with_logits = |config: BinaryCrossEntropyWithLogitsLossConfig| config.init::<B>(&device());
            [
                negative_pos_weight:
                    "BinaryCrossEntropyWithLogitsLoss: option `pos_weight` expected finite, non-negative \
                     values, got -2"
                    => with_logits(BinaryCrossEntropyWithLogitsLossConfig::new().with_pos_weight(Some(vec![-2.0]))),
                shape_mismatch:
                    "BinaryCrossEntropyWithLogitsLoss: `targets` expected shape [4] (the shape of \
                     `logits`), got [3]"
                    => with_logits(BinaryCrossEntropyWithLogitsLossConfig::new())
                        .forward(floats([4], 0.5), floats([3], 1.0)),
                pos_weight_length:
                    "BinaryCrossEntropyWithLogitsLoss: `pos_weight` expected length 3 (the last dimension \
                     of the input) or 1, got length 2"
                    => with_logits(BinaryCrossEntropyWithLogitsLossConfig::new().with_pos_weight(Some(vec![1.0, 2.0])))
                        .forward(floats([2, 3], 0.5), floats([2, 3], 1.0)),
                weight_length:
                    "BinaryCrossEntropyWithLogitsLoss: `weight` expected length 3 (the last dimension of \
                     the input) or 1, got length 4"
                    => with_logits(BinaryCrossEntropyWithLogitsLossConfig::new().with_weight(Some(vec![1.0; 4])))
                        .forward(floats([2, 3], 0.5), floats([2, 3], 1.0)),
            ]
        }

        fn kl_div_errors() {
            [
                shape_mismatch:
                    "KlDivLoss: `targets` expected shape [2, 3] (the shape of `input`), got [3, 2]"
                    => KlDivLossConfig::new().init::<B>(&device())
                        .forward_no_reduction(floats([2, 3], -1.0), floats([3, 2], 0.5)),
            ]
        }

        fn softmax_focal_errors() {
            let focal = |config: SoftmaxFocalLossConfig| config.init::<B>(&device());
            [
                negative_gamma:
                    "SoftmaxFocalLoss: option `gamma` expected a finite value >= 0, got -1"
                    => focal(SoftmaxFocalLossConfig::new().with_gamma(-1.0)),
                infinite_gamma:
                    "SoftmaxFocalLoss: option `gamma` expected a finite value >= 0, got inf"
                    => focal(SoftmaxFocalLossConfig::new().with_gamma(f32::INFINITY)),
                empty_alpha:
                    "SoftmaxFocalLoss: option `alpha` expected a non-empty list, got an empty list"
                    => focal(SoftmaxFocalLossConfig::new().with_alpha(Some(vec![]))),
                negative_alpha:
                    "SoftmaxFocalLoss: option `alpha` expected finite, non-negative values, got -0.5"
                    => focal(SoftmaxFocalLossConfig::new().with_alpha(Some(vec![1.0, -0.5]))),
                nan_weight:
                    "SoftmaxFocalLoss: option `weight` expected finite, non-negative values, got NaN"
                    => focal(SoftmaxFocalLossConfig::new().with_weight(Some(vec![f32::NAN]))),
                alpha_length:
                    "SoftmaxFocalLoss: `alpha` expected length 3 (the number of classes, dimension 1 of \
                     the input), got length 2"
                    => focal(SoftmaxFocalLossConfig::new().with_alpha(Some(vec![0.5, 0.5])))
                        .forward(floats([2, 3], 0.0), classes(&[0, 1])),
                weight_length:
                    "SoftmaxFocalLoss: `weight` expected length 3 (the number of classes, dimension 1 of \
                     the input), got length 4"
                    => focal(SoftmaxFocalLossConfig::new().with_weight(Some(vec![1.0; 4])))
                        .forward(floats([2, 3], 0.0), classes(&[0, 1])),
                class_index_out_of_range:
                    "SoftmaxFocalLoss: `targets` expected class indices in [0, 3) or ignore_index -100, \
                     got 3"
                    => focal(SoftmaxFocalLossConfig::new()).forward(floats([2, 3], 0.0), classes(&[0, 3])),
                batch_size_mismatch:
                    "SoftmaxFocalLoss: `targets` expected shape [4] (`logits` [4, 3] without the class \
                     dimension), got [3]"
                    => focal(SoftmaxFocalLossConfig::new()).forward(floats([4, 3], 0.0), classes(&[0, 1, 2])),
                target_rank:
                    "SoftmaxFocalLoss: `targets` expected rank 2 (the rank of `logits` minus the class \
                     dimension), got rank 1"
                    => focal(SoftmaxFocalLossConfig::new())
                        .forward_no_reduction(floats([2, 3, 4], 0.0), classes(&[0, 1])),
            ]
        }

        fn poly_errors() {
            let poly = |config: PolyLossConfig| config.init::<B>(&device());
            [
                epsilon_below_minus_one:
                    "PolyLoss: option `epsilon` expected a finite value >= -1, got -1.5"
                    => poly(PolyLossConfig::new().with_epsilon(-1.5)),
                nan_epsilon:
                    "PolyLoss: option `epsilon` expected a finite value >= -1, got NaN"
                    => poly(PolyLossConfig::new().with_epsilon(f32::NAN)),
                cross_entropy_option:
                    "CrossEntropyLoss: option `label_smoothing` expected a value in [0, 1], got 2"
                    => poly(PolyLossConfig::new().with_cross_entropy(
                        CrossEntropyLossConfig::new().with_label_smoothing(2.0))),
                class_index_out_of_range:
                    "PolyLoss: `targets` expected class indices in [0, 3) or ignore_index -100, got -1"
                    => poly(PolyLossConfig::new()).forward(floats([2, 3], 0.0), classes(&[-1, 0])),
                spatial_mismatch:
                    "PolyLoss: `targets` expected shape [2, 5] (`logits` [2, 3, 5] without the class \
                     dimension), got [2, 4]"
                    => poly(PolyLossConfig::new())
                        .forward(floats([2, 3, 5], 0.0), Tensor::<B, 2, Int>::zeros([2, 4], &device())),
                weight_length:
                    "PolyLoss: `weight` expected length 3 (the number of classes, dimension 1 of the \
                     input), got length 2"
                    => poly(PolyLossConfig::new().with_cross_entropy(
                        CrossEntropyLossConfig::new().with_weight(Some(vec![1.0, 2.0]))))
                        .forward(floats([2, 3], 0.0), classes(&[0, 1])),
            ]
        }

        fn fused_linear_cross_entropy_errors() {
            let fused = |config: FusedLinearCrossEntropyLossConfig| config.init::<B>(&device());
            [
                zero_chunk_size:
                    "FusedLinearCrossEntropyLoss: option `chunk_size` expected at least 1, got 0"
                    => fused(FusedLinearCrossEntropyLossConfig::new().with_chunk_size(0)),
                feature_mismatch:
                    "FusedLinearCrossEntropyLoss: `projection` expected shape [V, 3] (V classes by the 3 \
                     features of `hidden`), got [5, 4]"
                    => fused(FusedLinearCrossEntropyLossConfig::new())
                        .forward(floats([2, 3], 0.0), floats([5, 4], 0.0), None, classes(&[0, 1])),
                bias_length:
                    "FusedLinearCrossEntropyLoss: `bias` expected shape [5] (the classes of \
                     `projection`), got [4]"
                    => fused(FusedLinearCrossEntropyLossConfig::new())
                        .forward(floats([2, 3], 0.0), floats([5, 3], 0.0), Some(floats([4], 0.0)), classes(&[0, 1])),
                target_count:
                    "FusedLinearCrossEntropyLoss: `targets` expected shape [2] (the rows of `hidden`), \
                     got [3]"
                    => fused(FusedLinearCrossEntropyLossConfig::new())
                        .forward(floats([2, 3], 0.0), floats([5, 3], 0.0), None, classes(&[0, 1, 2])),
                target_out_of_range:
                    "FusedLinearCrossEntropyLoss: `targets` expected class indices in [0, 5) or \
                     ignore_index -100, got 5"
                    => fused(FusedLinearCrossEntropyLossConfig::new())
                        .forward(floats([2, 3], 0.0), floats([5, 3], 0.0), None, classes(&[0, 5])),
                weight_length:
                    "CrossEntropyLoss: `weight` expected length 5 (the number of classes, dimension 1 of \
                     the input), got length 2"
                    => fused(FusedLinearCrossEntropyLossConfig::new().with_cross_entropy(
                        CrossEntropyLossConfig::new().with_weight(Some(vec![1.0, 2.0]))))
                        .forward(floats([2, 3], 0.0), floats([5, 3], 0.0), None, classes(&[0, 1])),
            ]
        }
    }
}
