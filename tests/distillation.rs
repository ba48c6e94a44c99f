//! The distillation losses (knowledge distillation, Jensen-Shannon divergence): PyTorch fixture
//! replay on every lane, gradients against f64 finite differences, the properties training
//! relies on (no gradient to the teacher, zero-probability classes, the divergence's bounds),
//! and one table row per error message.
#![cfg(feature = "autodiff")]

mod common;

use approx::assert_relative_eq;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, ElementConversion, Int, Tensor};
use burn_losses::*;
use common::replay::{cases, input_rank, weight_option};
use common::{Lane, REDUCTIONS, load_fixture, number};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixture replay
// ---------------------------------------------------------------------------------------------

replay_fixture!(fn distillation: "distillation", "input" => distillation_case
    at [(2, 1), (3, 2), (4, 3)]);

fn distillation_case<B: Lane, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
    let options = &case["options"];
    let config = DistillationLossConfig::new()
        .with_temperature(number(&options["temperature"]) as f32)
        .with_weight(weight_option(&options["weight"]))
        .with_ignore_index(options["ignore_index"].as_i64())
        .with_label_smoothing(number(&options["label_smoothing"]) as f32);
    if case["method"] == "soft" {
        let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
        replay!(case, device, |x| loss.forward(
            x.float::<D>("input"),
            x.float::<D>("teacher")
        ) => DT);
    } else {
        let config = config.with_alpha(number(&options["alpha"]) as f32);
        let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
        replay!(case, device, |x| loss.forward_with_targets(
            x.float::<D>("input"),
            x.float::<D>("teacher"),
            x.int::<DT>("target")
        ));
    }
}

replay_fixture!(fn js_div: "js_div", "input" => js_div_case at [(2, 1), (3, 2), (4, 3)]);

fn js_div_case<B: Lane, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
    let loss = |reduction| {
        JsDivLossConfig::new()
            .with_reduction(reduction)
            .init::<B>(device)
    };
    replay!(case, device, |x| loss.forward(
        x.float::<D>("input"),
        x.float::<D>("target")
    ) => DT);
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

fn scalar<B: AutodiffBackend>(value: Tensor<B, 1>) -> f32 {
    value.into_scalar().elem()
}

/// The teacher's logits are a constant: with `require_grad()` on both, only the student gets a
/// gradient, in both forms of the loss.
fn teacher_gets_no_gradient<B: AutodiffBackend>(device: &B::Device) {
    let student = Tensor::<B, 2>::random([4, 5], Distribution::Normal(0.0, 1.0), device);
    let teacher = Tensor::<B, 2>::random([4, 5], Distribution::Normal(0.0, 1.0), device);
    let targets = Tensor::<B, 1, Int>::from_ints([0, 4, -100, 2], device);
    let loss = DistillationLossConfig::new()
        .with_temperature(3.0)
        .init::<B>(device);
    for with_targets in [false, true] {
        let student = student.clone().require_grad();
        let teacher = teacher.clone().require_grad();
        let value = if with_targets {
            loss.forward_with_targets(student.clone(), teacher.clone(), targets.clone())
        } else {
            loss.forward(student.clone(), teacher.clone())
        };
        let gradients = value.backward();
        assert!(student.grad(&gradients).is_some(), "targets {with_targets}");
        assert!(teacher.grad(&gradients).is_none(), "targets {with_targets}");
    }
}

/// A class the teacher gives probability 0 (a logit of `-inf`: a masked vocabulary entry)
/// contributes 0 where PyTorch's `kl_div(.., log_target=True)` gives NaN: the loss and its
/// gradient are those of a teacher logit of -1e4, whose probability is 0 in f32 too.
fn teacher_zero_probability_contributes_nothing<B: AutodiffBackend>(device: &B::Device) {
    let student = Tensor::<B, 2>::from_floats([[1.0, 0.5, -0.3], [0.2, -1.0, 2.0]], device);
    let loss = DistillationLossConfig::new()
        .with_temperature(2.0)
        .init::<B>(device);
    let run = |masked: f32| {
        let teacher = Tensor::<B, 2>::from_floats([[2.0, masked, 0.5], [masked, 1.0, 0.0]], device);
        let student = student.clone().require_grad();
        let value = loss.forward(student.clone(), teacher);
        let gradient: Vec<f32> = student
            .grad(&value.clone().backward())
            .unwrap()
            .into_data()
            .to_vec()
            .unwrap();
        (scalar(value), gradient)
    };
    let (value, gradient) = run(f32::NEG_INFINITY);
    let (expected_value, expected_gradient) = run(-1e4);
    assert!(value.is_finite(), "{value}");
    assert_relative_eq!(value, expected_value, epsilon = 1e-6, max_relative = 1e-5);
    for (actual, expected) in gradient.iter().zip(&expected_gradient) {
        assert_relative_eq!(*actual, *expected, epsilon = 1e-6, max_relative = 1e-5);
    }
}

/// The divergence is symmetric, 0 between equal distributions and `ln 2` between disjoint
/// ones (exactly 0 probabilities, where `log P` is `-inf` in every term), with finite
/// gradients there.
fn js_div_symmetric_and_bounded<B: AutodiffBackend>(device: &B::Device) {
    let loss = JsDivLossConfig::new()
        .with_reduction(Reduction::Sum)
        .init::<B>(device);
    let a = Tensor::<B, 3>::random([3, 4, 2], Distribution::Normal(0.0, 2.0), device);
    let b = Tensor::<B, 3>::random([3, 4, 2], Distribution::Normal(0.0, 2.0), device);
    let forward = scalar(loss.forward(a.clone(), b.clone()));
    let backward = scalar(loss.forward(b.clone(), a.clone()));
    assert_relative_eq!(forward, backward, epsilon = 1e-6, max_relative = 1e-5);
    assert!(forward > 0.0 && forward <= 6.0 * core::f32::consts::LN_2);
    assert_relative_eq!(scalar(loss.forward(a.clone(), a)), 0.0, epsilon = 1e-6);

    let disjoint_p = Tensor::<B, 2>::from_floats([[1e4, 0.0, 0.0]], device).require_grad();
    let disjoint_q = Tensor::<B, 2>::from_floats([[0.0, 0.0, 1e4]], device).require_grad();
    let value = loss.forward(disjoint_p.clone(), disjoint_q.clone());
    let gradients = value.clone().backward();
    assert_relative_eq!(
        scalar(value),
        core::f32::consts::LN_2,
        epsilon = 1e-6,
        max_relative = 1e-6
    );
    for input in [&disjoint_p, &disjoint_q] {
        let gradient: Vec<f32> = input
            .grad(&gradients)
            .unwrap()
            .into_data()
            .to_vec()
            .unwrap();
        assert!(gradient.iter().all(|g| g.is_finite()), "{gradient:?}");
    }
}

on_every_backend!(
    distillation,
    js_div,
    teacher_gets_no_gradient,
    teacher_zero_probability_contributes_nothing,
    js_div_symmetric_and_bounded,
);
on_every_plain_backend!(distillation, js_div);

/// Every option and shape family the fixtures promise is in them (a guard against a generator
/// edit that silently drops a case).
#[test]
fn fixtures_cover_the_options() {
    let distillation = load_fixture("distillation");
    let distillation = cases(&distillation);
    let has = |test: &dyn Fn(&Value) -> bool| distillation.iter().any(test);
    assert!(has(&|c| c["method"] == "soft" && input_rank(c) == 4));
    assert!(has(&|c| c["method"] == "with_targets" && input_rank(c) == 4));
    assert!(has(&|c| number(&c["options"]["temperature"]) == 1.0));
    assert!(has(&|c| number(&c["options"]["temperature"]) > 1.0));
    for alpha in [0.0, 1.0] {
        assert!(has(&|c| c["options"]["alpha"].as_f64() == Some(alpha)));
    }
    assert!(has(&|c| !c["options"]["weight"].is_null()));
    assert!(has(&|c| number(&c["options"]["label_smoothing"]) > 0.0));
    assert!(has(&|c| c["options"]["ignore_index"].as_i64() == Some(-100)));
    let js_div = load_fixture("js_div");
    for rank in [2, 3, 4] {
        assert!(cases(&js_div).iter().any(|c| input_rank(c) == rank));
    }
    // Every reduction is recorded for every case.
    for case in distillation.iter().chain(cases(&js_div)) {
        for reduction in REDUCTIONS {
            assert!(!case["expected"][common::key(reduction)].is_null());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Finite differences in f64
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod gradients {
    use burn_losses::*;

    use super::common::REDUCTIONS;
    use super::common::gradcheck::{gradcheck, indices, tensor, uniform};

    crate::on_f64! {
        fn distillation() {
            let teacher_2d = tensor(&uniform(12, -3.0, 3.0, 51), [4, 3]);
            let teacher_3d = tensor(&uniform(12, -3.0, 3.0, 52), [2, 3, 2]);
            let upstream = tensor(&uniform(4, 0.5, 1.5, 53), [4]);
            for temperature in [1.0, 3.0] {
                for reduction in REDUCTIONS {
                    let loss = DistillationLossConfig::new()
                        .with_temperature(temperature)
                        .with_alpha(0.6)
                        .with_weight(Some(vec![0.5, 2.0, 1.5]))
                        .with_label_smoothing(0.1)
                        .with_reduction(reduction)
                        .init::<B>(&Default::default());
                    let what = format!("KD T {temperature} {reduction:?}");
                    gradcheck(&format!("{what} soft"), &uniform(12, -3.0, 3.0, 54), [4, 3], |s| {
                        loss.forward(s, teacher_2d.clone())
                    });
                    gradcheck(&format!("{what} soft"), &uniform(12, -3.0, 3.0, 55), [2, 3, 2], |s| {
                        loss.forward(s, teacher_3d.clone())
                    });
                    gradcheck(&format!("{what} targets"), &uniform(12, -3.0, 3.0, 56), [4, 3], |s| {
                        loss.forward_with_targets(s, teacher_2d.clone(), indices(&[2, -100, 0, 1], [4]))
                    });
                    gradcheck(&format!("{what} targets"), &uniform(12, -3.0, 3.0, 57), [2, 3, 2], |s| {
                        loss.forward_with_targets(s, teacher_3d.clone(), indices(&[0, 2, 1, 1], [2, 2]))
                    });
                }
                let loss = DistillationLossConfig::new()
                    .with_temperature(temperature)
                    .with_alpha(0.3)
                    .init::<B>(&Default::default());
                gradcheck("KD none", &uniform(12, -3.0, 3.0, 58), [4, 3], |s| {
                    (loss.forward_no_reduction(s, teacher_2d.clone()) * upstream.clone()).sum()
                });
                gradcheck("KD targets none", &uniform(12, -3.0, 3.0, 59), [4, 3], |s| {
                    (loss.forward_with_targets_no_reduction(s, teacher_2d.clone(), indices(&[2, -100, 0, 1], [4]))
                        * upstream.clone())
                    .sum()
                });
            }
        }

        fn js_div() {
            let upstream = tensor(&uniform(4, 0.5, 1.5, 63), [4]);
            let first = uniform(12, -3.0, 3.0, 61);
            let second = uniform(12, -3.0, 3.0, 62);
            for reduction in REDUCTIONS {
                let loss = JsDivLossConfig::new().with_reduction(reduction).init::<B>(&Default::default());
                let what = format!("JSD {reduction:?}");
                for shape in [[4, 3, 1], [2, 3, 2]] {
                    gradcheck(&format!("{what} d/dp {shape:?}"), &first, shape, |p| {
                        loss.forward(p, tensor(&second, shape))
                    });
                    gradcheck(&format!("{what} d/dq {shape:?}"), &second, shape, |q| {
                        loss.forward(tensor(&first, shape), q)
                    });
                }
            }
            let loss = JsDivLossConfig::new().init::<B>(&Default::default());
            gradcheck("JSD none d/dp", &first, [4, 3], |p| {
                (loss.forward_no_reduction(p, tensor(&second, [4, 3])) * upstream.clone()).sum()
            });
            gradcheck("JSD none d/dq", &second, [4, 3], |q| {
                (loss.forward_no_reduction(tensor(&first, [4, 3]), q) * upstream.clone()).sum()
            });
        }
    }

    use super::common::F64Autodiff as B;
}

// ---------------------------------------------------------------------------------------------
// Every bad option and bad call panics with a message naming the loss, the argument, what was
// expected and what was given
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod errors {
    use burn_losses::*;

    use super::common::panics::{B, classes, device, floats};

    crate::panic_table! {
        fn distillation_errors() {
            let distillation = |config: DistillationLossConfig| config.init::<B>(&device());
            [
                zero_temperature:
                    "DistillationLoss: option `temperature` expected a finite value greater than 0, got 0"
                    => distillation(DistillationLossConfig::new().with_temperature(0.0)),
                infinite_temperature:
                    "DistillationLoss: option `temperature` expected a finite value greater than 0, got inf"
                    => distillation(DistillationLossConfig::new().with_temperature(f32::INFINITY)),
                alpha_above_one:
                    "DistillationLoss: option `alpha` expected a value in [0, 1], got 1.5"
                    => distillation(DistillationLossConfig::new().with_alpha(1.5)),
                negative_label_smoothing:
                    "DistillationLoss: option `label_smoothing` expected a value in [0, 1], got -0.1"
                    => distillation(DistillationLossConfig::new().with_label_smoothing(-0.1)),
                negative_weight:
                    "DistillationLoss: option `weight` expected finite, non-negative values, got -1"
                    => distillation(DistillationLossConfig::new().with_weight(Some(vec![1.0, -1.0]))),
                teacher_shape:
                    "DistillationLoss: `teacher_logits` expected shape [2, 3] (the shape of \
                     `student_logits`), got [2, 4]"
                    => distillation(DistillationLossConfig::new())
                        .forward(floats([2, 3], 0.0), floats([2, 4], 0.0)),
                no_class_dimension:
                    "DistillationLoss: `student_logits` expected rank >= 2: (N, C) or (N, C, d1, ..., \
                     dk), got rank 1 with shape [3]"
                    => distillation(DistillationLossConfig::new())
                        .forward(floats([3], 0.0), floats([3], 0.0)),
                output_rank:
                    "DistillationLoss: `output rank DT` expected 1 (the input rank 2 minus the class \
                     dimension), got 2"
                    => distillation(DistillationLossConfig::new())
                        .forward_no_reduction::<2, 2>(floats([2, 3], 0.0), floats([2, 3], 0.0)),
                class_index_out_of_range:
                    "DistillationLoss: `targets` expected class indices in [0, 3) or ignore_index -100, \
                     got 5"
                    => distillation(DistillationLossConfig::new())
                        .forward_with_targets(floats([2, 3], 0.0), floats([2, 3], 0.0), classes(&[0, 5])),
                target_shape:
                    "DistillationLoss: `targets` expected shape [2] (`student_logits` [2, 3] without the \
                     class dimension), got [3]"
                    => distillation(DistillationLossConfig::new())
                        .forward_with_targets(floats([2, 3], 0.0), floats([2, 3], 0.0), classes(&[0, 1, 2])),
                weight_length:
                    "DistillationLoss: `weight` expected length 3 (the number of classes, dimension 1 of \
                     the input), got length 2"
                    => distillation(DistillationLossConfig::new().with_weight(Some(vec![1.0, 2.0])))
                        .forward_with_targets(floats([2, 3], 0.0), floats([2, 3], 0.0), classes(&[0, 1])),
            ]
        }

        fn js_div_errors() {
            let js_div = || JsDivLossConfig::new().init::<B>(&device());
            [
                shape_mismatch:
                    "JsDivLoss: `logits_q` expected shape [2, 3] (the shape of `logits_p`), got [3, 2]"
                    => js_div().forward(floats([2, 3], 0.0), floats([3, 2], 0.0)),
                no_class_dimension:
                    "JsDivLoss: `logits_p` expected rank >= 2: (N, C) or (N, C, d1, ..., dk), got rank \
                     1 with shape [3]"
                    => js_div().forward(floats([3], 0.0), floats([3], 0.0)),
                output_rank:
                    "JsDivLoss: `output rank DT` expected 1 (the input rank 2 minus the class \
                     dimension), got 2"
                    => js_div().forward_no_reduction::<2, 2>(floats([2, 3], 0.0), floats([2, 3], 0.0)),
            ]
        }
    }
}
