//! The multi-label losses (sigmoid focal, asymmetric, ZLPR): PyTorch fixture replay on every
//! lane, gradients against f64 finite differences, the properties a multi-label training loop
//! relies on, and one table row per error message.
#![cfg(feature = "autodiff")]

mod common;

use burn_losses::*;
use common::replay::cases;
use common::{Lane, load_fixture, number};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixture replay
// ---------------------------------------------------------------------------------------------

fn focal_config(options: &Value) -> SigmoidFocalLossConfig {
    SigmoidFocalLossConfig::new()
        .with_alpha(options["alpha"].as_f64().map(|alpha| alpha as f32))
        .with_gamma(number(&options["gamma"]) as f32)
}

fn asymmetric_config(options: &Value) -> AsymmetricLossConfig {
    AsymmetricLossConfig::new()
        .with_gamma_pos(number(&options["gamma_pos"]) as f32)
        .with_gamma_neg(number(&options["gamma_neg"]) as f32)
        .with_clip(number(&options["clip"]) as f32)
        .with_eps(number(&options["eps"]) as f32)
        .with_detach_focal_weight(
            options["detach_focal_weight"]
                .as_bool()
                .expect("detach_focal_weight"),
        )
}

elementwise_parity!(sigmoid_focal, "sigmoid_focal_loss", |options| focal_config(
    options
));

elementwise_parity!(asymmetric, "asymmetric_loss", |options| asymmetric_config(
    options
));

fn zlpr<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("zlpr")) {
        let loss = |reduction| {
            ZlprLossConfig::new()
                .with_reduction(reduction)
                .init::<B>(device)
        };
        replay!(case, device, |x| loss
            .forward(x.float("input"), x.float("target")));
    }
}

on_every_backend!(sigmoid_focal, asymmetric, zlpr);
on_every_plain_backend!(sigmoid_focal, asymmetric, zlpr);

/// Every option the fixtures promise to cover is in them (a guard against a generator edit that
/// silently drops a case).
#[test]
fn fixtures_cover_the_options() {
    let focal = load_fixture("sigmoid_focal_loss");
    let focal = cases(&focal);
    let has = |cases: &[Value], test: &dyn Fn(&Value) -> bool| cases.iter().any(test);
    assert!(has(focal, &|c| c["options"]["alpha"].is_null()));
    assert!(has(focal, &|c| c["options"]["alpha"]
        .as_f64()
        .is_some_and(|alpha| alpha < 0.0)));
    assert!(has(focal, &|c| number(&c["options"]["gamma"]) == 0.0));
    assert!(has(focal, &|c| {
        let gamma = number(&c["options"]["gamma"]);
        gamma > 0.0 && gamma < 1.0 && c.get("patched_nonfinite").is_some()
    }));
    let asymmetric = load_fixture("asymmetric_loss");
    let asymmetric = cases(&asymmetric);
    for detach in [true, false] {
        assert!(has(asymmetric, &|c| {
            c["options"]["detach_focal_weight"] == detach
        }));
    }
    assert!(has(asymmetric, &|c| number(&c["options"]["clip"]) == 0.0));
    assert!(has(asymmetric, &|c| c.get("patched_nonfinite").is_some()));
    for fixture in [focal, asymmetric] {
        for rank in 1..=3 {
            assert!(has(fixture, &|c| c["inputs"]["input"]["shape"]
                .as_array()
                .is_some_and(|shape| shape.len() == rank)));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Finite differences in f64
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod gradients {
    use burn::tensor::backend::Backend;
    use burn::tensor::{Tensor, TensorData};
    use burn_losses::*;

    use super::common::F64Autodiff as B;
    use super::common::gradcheck::{gradcheck, gradcheck_pair, tensor, uniform};
    use super::common::{REDUCTIONS, float_options};

    const SHAPE: [usize; 2] = [3, 4];

    fn hard(seed: u64) -> Vec<f64> {
        uniform(12, 0.0, 1.0, seed)
            .iter()
            .map(|u| if *u < 0.5 { 0.0 } else { 1.0 })
            .collect()
    }

    /// Options that change the gradient; the first is the default.
    fn asymmetric_configs() -> Vec<AsymmetricLossConfig> {
        let base = AsymmetricLossConfig::new();
        vec![
            base.clone(),
            base.clone().with_clip(0.0),
            base.clone()
                .with_gamma_pos(0.0)
                .with_gamma_neg(2.0)
                .with_clip(0.2),
            base.clone().with_gamma_pos(0.5).with_gamma_neg(0.5),
            base.clone()
                .with_gamma_pos(3.0)
                .with_gamma_neg(1.0)
                .with_clip(0.1),
            base.clone().with_gamma_pos(0.0).with_gamma_neg(0.0),
            base.with_eps(0.05).with_clip(0.0),
        ]
    }

    fn values<BB: Backend>(tensor: Tensor<BB, 2>) -> Vec<f64> {
        tensor.into_data().iter::<f64>().collect()
    }

    crate::on_f64! {
        fn sigmoid_focal() {
            let logits = uniform(12, -4.0, 4.0, 20);
            let upstream = tensor(&uniform(12, 0.5, 1.5, 21), SHAPE);
            for targets in [hard(22), uniform(12, 0.0, 1.0, 23)] {
                for alpha in [Some(0.25), None, Some(1.0), Some(0.0)] {
                    for gamma in [0.0, 0.5, 1.0, 2.0, 3.5] {
                        for reduction in REDUCTIONS {
                            let loss = SigmoidFocalLossConfig::new()
                                .with_alpha(alpha)
                                .with_gamma(gamma)
                                .with_reduction(reduction)
                                .init::<B>(&Default::default());
                            let what = format!("focal alpha {alpha:?} gamma {gamma} {reduction:?}");
                            gradcheck_pair(&what, ["logits", "targets"], &logits, &targets,
                                SHAPE, |x, y| loss.forward(x, y)
                            );
                        }
                        let loss = SigmoidFocalLossConfig::new()
                            .with_alpha(alpha)
                            .with_gamma(gamma)
                            .init::<B>(&Default::default());
                        gradcheck(
                            &format!("focal alpha {alpha:?} gamma {gamma} none"),
                            &logits,
                            SHAPE,
                            |x| {
                                (loss.forward_no_reduction(x, tensor(&targets, SHAPE))
                                    * upstream.clone())
                                .sum()
                            },
                        );
                    }
                }
            }
        }

        /// Without a detached weight the gradient is the derivative of the loss.
        fn asymmetric_attached_weight() {
            let logits = uniform(12, -5.0, 5.0, 24);
            let upstream = tensor(&uniform(12, 0.5, 1.5, 25), SHAPE);
            for targets in [hard(26), uniform(12, 0.0, 1.0, 27)] {
                for config in asymmetric_configs() {
                    let config = config.with_detach_focal_weight(false);
                    for reduction in REDUCTIONS {
                        let loss = config
                            .clone()
                            .with_reduction(reduction)
                            .init::<B>(&Default::default());
                        gradcheck(&format!("ASL {config}"), &logits, SHAPE, |x| {
                            loss.forward(x, tensor(&targets, SHAPE))
                        });
                    }
                    let loss = config.init::<B>(&Default::default());
                    gradcheck(&format!("ASL none {config}"), &logits, SHAPE, |x| {
                        (loss.forward_no_reduction(x, tensor(&targets, SHAPE)) * upstream.clone()).sum()
                    });
                }
            }
        }

        /// With a detached weight `w` the gradient is `w · ∂ℓ₀/∂x`, where `ℓ₀ = -L` is the loss
        /// without focusing (both gammas 0) and `w = ℓ / ℓ₀` elementwise.
        fn asymmetric_detached_weight() {
            let logits = uniform(12, -5.0, 5.0, 28);
            let upstream = uniform(12, 0.5, 1.5, 29);
            for targets in [hard(30), uniform(12, 0.0, 1.0, 31)] {
                for config in asymmetric_configs() {
                    let loss = config.init::<B>(&Default::default());
                    let unfocused = config
                        .clone()
                        .with_gamma_pos(0.0)
                        .with_gamma_neg(0.0)
                        .init::<B>(&Default::default());
                    let y = || tensor(&targets, SHAPE);
                    let x = tensor(&logits, SHAPE).require_grad();
                    let grads = (loss.forward_no_reduction(x.clone(), y()) * tensor(&upstream, SHAPE))
                        .sum()
                        .backward();
                    let analytic = values(x.grad(&grads).expect("a gradient"));
                    let focused = values(loss.forward_no_reduction(tensor(&logits, SHAPE), y()));
                    let plain = values(unfocused.forward_no_reduction(tensor(&logits, SHAPE), y()));
                    for i in 0..12 {
                        let step = 1e-6;
                        let mut shifted = logits.clone();
                        shifted[i] += step;
                        let above =
                            values(unfocused.forward_no_reduction(tensor(&shifted, SHAPE), y()));
                        shifted[i] -= 2.0 * step;
                        let below =
                            values(unfocused.forward_no_reduction(tensor(&shifted, SHAPE), y()));
                        let slope = (above[i] - below[i]) / (2.0 * step);
                        // ℓ₀ = 0 only for a clipped negative, where the slope is 0 too.
                        let weight = if plain[i] == 0.0 {
                            0.0
                        } else {
                            focused[i] / plain[i]
                        };
                        let expected = upstream[i] * weight * slope;
                        assert!(
                            (analytic[i] - expected).abs() <= 1e-6 + 1e-5 * expected.abs(),
                            "ASL {config} d/dx[{i}]: autodiff {}, w · finite difference {expected}",
                            analytic[i]
                        );
                    }
                }
            }
        }

        fn zlpr() {
            let shape = [4, 5];
            let logits = uniform(20, -4.0, 4.0, 32);
            let mut targets: Vec<f64> = uniform(20, 0.0, 1.0, 33)
                .iter()
                .map(|u| if *u < 0.4 { 1.0 } else { 0.0 })
                .collect();
            targets[..5].fill(0.0); // a sample without positive labels
            targets[5..10].fill(1.0); // a sample without negative labels
            let upstream = Tensor::<B, 1>::from_data(
                TensorData::new(uniform(4, 0.5, 1.5, 34), [4]),
                float_options::<B>(&Default::default()),
            );
            for reduction in REDUCTIONS {
                let loss = ZlprLossConfig::new()
                    .with_reduction(reduction)
                    .init::<B>(&Default::default());
                gradcheck(&format!("ZLPR {reduction:?}"), &logits, shape, |x| {
                    loss.forward(x, tensor(&targets, shape))
                });
            }
            let loss = ZlprLossConfig::new().init::<B>(&Default::default());
            gradcheck("ZLPR none", &logits, shape, |x| {
                (loss.forward_no_reduction(x, tensor(&targets, shape)) * upstream.clone()).sum()
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Training properties and identities
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod properties {
    use burn::tensor::{Tensor, TensorData};
    use burn_losses::*;

    use super::common::NdArrayAutodiff as B;
    use super::common::float_options;
    use super::common::gradcheck::uniform;

    const SHAPE: [usize; 2] = [6, 5];

    fn tensor(values: &[f64]) -> Tensor<B, 2> {
        let values: Vec<f32> = values.iter().map(|v| *v as f32).collect();
        Tensor::from_data(
            TensorData::new(values, SHAPE),
            float_options::<B>(&Default::default()),
        )
    }

    fn values<const D: usize>(tensor: Tensor<B, D>) -> Vec<f64> {
        tensor.into_data().iter::<f64>().collect()
    }

    /// Hard multi-label targets with every row holding a positive and a negative label.
    fn targets(seed: u64) -> Vec<f64> {
        let mut targets: Vec<f64> = uniform(30, 0.0, 1.0, seed)
            .iter()
            .map(|u| if *u < 0.4 { 1.0 } else { 0.0 })
            .collect();
        for row in targets.chunks_mut(5) {
            row[0] = 1.0;
            row[1] = 0.0;
        }
        targets
    }

    /// Every logit moved by `step` towards its label: up for a positive, down for a negative.
    fn towards(logits: &[f64], targets: &[f64], step: f64) -> Vec<f64> {
        logits
            .iter()
            .zip(targets)
            .map(|(x, y)| if *y == 1.0 { x + step } else { x - step })
            .collect()
    }

    /// The loss of one configuration, per element (or per sample) and reduced.
    type Loss<'a> = Box<dyn Fn(&[f64], &[f64]) -> (Vec<f64>, f64) + 'a>;

    /// The [`Loss`] of a built loss: its `forward_no_reduction` and its `forward`.
    macro_rules! loss {
        ($loss:expr) => {{
            let loss = $loss;
            Box::new(move |x: &[f64], y: &[f64]| {
                let none = values(loss.forward_no_reduction(tensor(x), tensor(y)));
                (
                    none,
                    loss.forward(tensor(x), tensor(y)).into_scalar() as f64,
                )
            }) as Loss
        }};
    }

    fn losses() -> Vec<(String, Loss<'static>)> {
        let mut all: Vec<(String, Loss)> = Vec::new();
        for (alpha, gamma) in [(Some(0.25), 2.0), (None, 0.0), (Some(0.75), 0.5)] {
            let loss = SigmoidFocalLossConfig::new()
                .with_alpha(alpha)
                .with_gamma(gamma)
                .init::<B>(&Default::default());
            all.push((format!("focal alpha {alpha:?} gamma {gamma}"), loss!(loss)));
        }
        for detach in [true, false] {
            for clip in [0.05, 0.0] {
                let loss = AsymmetricLossConfig::new()
                    .with_clip(clip)
                    .with_detach_focal_weight(detach)
                    .init::<B>(&Default::default());
                all.push((format!("ASL clip {clip} detach {detach}"), loss!(loss)));
            }
        }
        let loss = ZlprLossConfig::new().init::<B>(&Default::default());
        all.push(("ZLPR".to_string(), loss!(loss)));
        all
    }

    /// Moving every logit towards its label never increases any element's (or sample's) loss
    /// and strictly decreases the reduced loss, from random logits to a confident fit; the
    /// gradient points the other way (a descent step lowers the loss).
    #[test]
    fn loss_decreases_as_the_right_logits_grow() {
        for seed in 0..4 {
            let logits = uniform(30, -3.0, 3.0, 40 + seed);
            let targets = targets(50 + seed);
            for (name, loss) in losses() {
                let mut previous = loss(&logits, &targets);
                let initial = previous.1;
                for k in 1..=12 {
                    let moved = towards(&logits, &targets, 0.5 * k as f64);
                    let current = loss(&moved, &targets);
                    for (i, (now, before)) in current.0.iter().zip(&previous.0).enumerate() {
                        assert!(
                            now <= &(before + 1e-6),
                            "{name}: element {i} rose from {before} to {now} at step {k}"
                        );
                    }
                    assert!(
                        current.1 < previous.1 || current.1 == 0.0,
                        "{name}: the loss did not decrease at step {k}: {} -> {}",
                        previous.1,
                        current.1
                    );
                    previous = current;
                }
                assert!(
                    previous.1 < 0.02 * initial,
                    "{name}: a confident fit costs {} of {initial}",
                    previous.1
                );
            }
        }
    }

    /// A loss reduced to one value, as a function of the logits.
    type Reduced<'a> = dyn Fn(Tensor<B, 2>) -> Tensor<B, 1> + 'a;

    #[test]
    fn gradient_descent_lowers_the_loss() {
        let logits = uniform(30, -3.0, 3.0, 60);
        let targets = targets(61);
        let focal = SigmoidFocalLossConfig::new()
            .with_reduction(Reduction::Sum)
            .init::<B>(&Default::default());
        let asymmetric = AsymmetricLossConfig::new()
            .with_reduction(Reduction::Sum)
            .init::<B>(&Default::default());
        let zlpr = ZlprLossConfig::new()
            .with_reduction(Reduction::Sum)
            .init::<B>(&Default::default());
        let losses: [(&str, &Reduced); 3] = [
            ("focal", &|x| focal.forward(x, tensor(&targets))),
            ("ASL", &|x| asymmetric.forward(x, tensor(&targets))),
            ("ZLPR", &|x| zlpr.forward(x, tensor(&targets))),
        ];
        for (name, loss) in losses {
            let mut x = tensor(&logits);
            let start = loss(x.clone()).into_scalar();
            for _ in 0..50 {
                let tracked = x.clone().require_grad();
                let grads = loss(tracked.clone()).backward();
                let gradient = tracked.grad(&grads).expect("a gradient");
                x = Tensor::from_inner(x.inner() - gradient.mul_scalar(0.5));
            }
            let end = loss(x).into_scalar();
            assert!(end < 0.5 * start, "{name}: {start} -> {end} after 50 steps");
        }
    }

    /// Probabilities of exactly 0 and 1: finite values and gradients for every option.
    #[test]
    fn saturated_logits_stay_finite() {
        let logits: Vec<f64> = (0..30)
            .map(|i| [1e4, -1e4, 0.0, 100.0, -100.0][i % 5])
            .collect();
        let targets: Vec<f64> = (0..30).map(|i| [0.0, 1.0, 0.5][i / 10]).collect();
        let check = |name: &str, loss: &Reduced| {
            let x = tensor(&logits).require_grad();
            let value = loss(x.clone());
            assert!(value.clone().into_scalar().is_finite(), "{name}: value");
            let gradient = x.grad(&value.backward()).expect("a gradient");
            for g in gradient.into_data().iter::<f32>() {
                assert!(g.is_finite(), "{name}: gradient {g}");
            }
        };
        for gamma in [0.0, 0.3, 1.0, 2.0] {
            let focal = SigmoidFocalLossConfig::new()
                .with_gamma(gamma)
                .init::<B>(&Default::default());
            check(&format!("focal gamma {gamma}"), &|x| {
                focal.forward(x, tensor(&targets))
            });
            for detach in [true, false] {
                for clip in [0.0, 0.05] {
                    let asymmetric = AsymmetricLossConfig::new()
                        .with_gamma_pos(gamma)
                        .with_gamma_neg(gamma)
                        .with_clip(clip)
                        .with_detach_focal_weight(detach)
                        .init::<B>(&Default::default());
                    check(
                        &format!("ASL gamma {gamma} clip {clip} detach {detach}"),
                        &|x| asymmetric.forward(x, tensor(&targets)),
                    );
                }
            }
        }
        let hard: Vec<f64> = (0..30).map(|i| (i % 3 == 0) as u8 as f64).collect();
        let zlpr = ZlprLossConfig::new().init::<B>(&Default::default());
        check("ZLPR", &|x| zlpr.forward(x, tensor(&hard)));
    }

    /// torchvision's `test_equal_ce_loss`: with `γ = 0` and no α weighting the focal loss is
    /// binary cross entropy with logits; so is ASL without focusing, margin or (active) floor.
    #[test]
    fn without_focusing_both_are_binary_cross_entropy() {
        let logits = uniform(30, -6.0, 6.0, 70);
        let targets = uniform(30, 0.0, 1.0, 71);
        let bce = BinaryCrossEntropyWithLogitsLossConfig::new().init::<B>(&Default::default());
        let expected = values(bce.forward_no_reduction(tensor(&logits), tensor(&targets)));
        let focal = SigmoidFocalLossConfig::new()
            .with_alpha(Some(-1.0))
            .with_gamma(0.0)
            .init::<B>(&Default::default());
        let asymmetric = AsymmetricLossConfig::new()
            .with_gamma_pos(0.0)
            .with_gamma_neg(0.0)
            .with_clip(0.0)
            .init::<B>(&Default::default());
        for (name, actual) in [
            (
                "focal",
                focal.forward_no_reduction(tensor(&logits), tensor(&targets)),
            ),
            (
                "ASL",
                asymmetric.forward_no_reduction(tensor(&logits), tensor(&targets)),
            ),
        ] {
            for (a, e) in values(actual).iter().zip(&expected) {
                assert!(
                    (a - e).abs() <= 1e-6 + 1e-5 * e.abs(),
                    "{name}: {a} vs BCE {e}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Every bad option and bad call panics with the loss, the argument, the expectation and the value
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod errors {
    use burn::tensor::Tensor;
    use burn_losses::*;

    use super::common::panics::{B, device, floats};

    crate::panic_table! {
        fn multilabel_errors() {
            let focal = |config: SigmoidFocalLossConfig| config.init::<B>(&device());
            let asymmetric = |config: AsymmetricLossConfig| config.init::<B>(&device());
            let zlpr = || ZlprLossConfig::new().init::<B>(&device());
            [
                focal_negative_gamma:
                    "SigmoidFocalLoss: option `gamma` expected a finite value >= 0, got -1"
                    => focal(SigmoidFocalLossConfig::new().with_gamma(-1.0)),
                focal_nan_gamma:
                    "SigmoidFocalLoss: option `gamma` expected a finite value >= 0, got NaN"
                    => focal(SigmoidFocalLossConfig::new().with_gamma(f32::NAN)),
                focal_alpha_above_one:
                    "SigmoidFocalLoss: option `alpha` expected None, a negative value (no weighting) or \
                     a value in [0, 1], got 1.5"
                    => focal(SigmoidFocalLossConfig::new().with_alpha(Some(1.5))),
                focal_nan_alpha:
                    "SigmoidFocalLoss: option `alpha` expected None, a negative value (no weighting) or \
                     a value in [0, 1], got NaN"
                    => focal(SigmoidFocalLossConfig::new().with_alpha(Some(f32::NAN))),
                focal_shape_mismatch:
                    "SigmoidFocalLoss: `targets` expected shape [2, 3] (the shape of `logits`), got [2, 4]"
                    => focal(SigmoidFocalLossConfig::new()).forward(floats([2, 3], 0.5), floats([2, 4], 1.0)),
                asymmetric_negative_gamma_pos:
                    "AsymmetricLoss: option `gamma_pos` expected a finite value >= 0, got -1"
                    => asymmetric(AsymmetricLossConfig::new().with_gamma_pos(-1.0)),
                asymmetric_infinite_gamma_neg:
                    "AsymmetricLoss: option `gamma_neg` expected a finite value >= 0, got inf"
                    => asymmetric(AsymmetricLossConfig::new().with_gamma_neg(f32::INFINITY)),
                asymmetric_clip_one: "AsymmetricLoss: option `clip` expected a value in [0, 1), got 1"
                    => asymmetric(AsymmetricLossConfig::new().with_clip(1.0)),
                asymmetric_negative_clip:
                    "AsymmetricLoss: option `clip` expected a value in [0, 1), got -0.1"
                    => asymmetric(AsymmetricLossConfig::new().with_clip(-0.1)),
                asymmetric_zero_eps: "AsymmetricLoss: option `eps` expected a value in (0, 1), got 0"
                    => asymmetric(AsymmetricLossConfig::new().with_eps(0.0)),
                asymmetric_eps_one: "AsymmetricLoss: option `eps` expected a value in (0, 1), got 1"
                    => asymmetric(AsymmetricLossConfig::new().with_eps(1.0)),
                asymmetric_shape_mismatch:
                    "AsymmetricLoss: `targets` expected shape [4] (the shape of `logits`), got [3]"
                    => asymmetric(AsymmetricLossConfig::new())
                        .forward_no_reduction(floats([4], 0.5), floats([3], 1.0)),
                zlpr_shape_mismatch:
                    "ZlprLoss: `targets` expected shape [2, 3] (the shape of `logits`), got [3, 2]"
                    => zlpr().forward(floats([2, 3], 0.5), floats([3, 2], 1.0)),
                zlpr_soft_target: "ZlprLoss: `targets` expected values 0 or 1, got 0.5"
                    => zlpr().forward_no_reduction(floats([2, 3], 0.5), floats([2, 3], 0.5)),
                zlpr_nan_target: "ZlprLoss: `targets` expected values 0 or 1, got NaN"
                    => zlpr().forward(floats([2, 3], 0.5), floats([2, 3], f32::NAN)),
            ]
        }
    }

    #[test]
    fn zlpr_unchecked_targets_threshold_at_one_half() {
        let loss = ZlprLossConfig::new()
            .with_check_targets(false)
            .init::<B>(&device());
        let logits = Tensor::<B, 2>::from_floats([[1.0, -2.0, 0.5]], &device());
        let soft = Tensor::<B, 2>::from_floats([[0.9, 0.2, 0.5]], &device());
        let hard = Tensor::<B, 2>::from_floats([[1.0, 0.0, 0.0]], &device());
        assert_eq!(
            loss.forward(logits.clone(), soft).into_scalar(),
            ZlprLossConfig::new()
                .init::<B>(&device())
                .forward(logits, hard)
                .into_scalar()
        );
    }
}
