//! The margin family (soft margin, multi-label soft margin, multi-label margin, multi margin):
//! PyTorch fixture replay on every lane, the deliberate stability difference of the soft margin
//! loss, empty batches, gradients against f64 finite differences, and one table row per error
//! message.
#![cfg(feature = "autodiff")]

mod common;

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use burn_losses::*;
use common::replay::{cases, weight_option};
use common::{Lane, load_fixture, number};

// ---------------------------------------------------------------------------------------------
// Fixture replay
// ---------------------------------------------------------------------------------------------

elementwise_parity!(soft_margin, "soft_margin", |_options| {
    SoftMarginLossConfig::new()
});

fn multilabel_soft_margin<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("multilabel_soft_margin")) {
        let config = MultiLabelSoftMarginLossConfig::new()
            .with_weight(weight_option(&case["options"]["weight"]));
        let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
        replay!(case, device, |x| loss.forward(
            x.float("input"),
            x.float("target")
        ); finite_target_gradients = true);
    }
}

fn multilabel_margin<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("multilabel_margin")) {
        for check_targets in [true, false] {
            let loss = |reduction| {
                MultiLabelMarginLossConfig::new()
                    .with_check_targets(check_targets)
                    .with_reduction(reduction)
                    .init::<B>(device)
            };
            replay!(case, device, |x| loss
                .forward(x.float("input"), x.int("target")));
        }
    }
}

fn multi_margin<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("multi_margin")) {
        let options = &case["options"];
        let config = MultiMarginLossConfig::new()
            .with_p(options["p"].as_u64().expect("p") as u32)
            .with_margin(number(&options["margin"]) as f32)
            .with_weight(weight_option(&options["weight"]));
        let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
        replay!(case, device, |x| loss
            .forward(x.float("input"), x.int("target")));
    }
}

/// Deliberate difference: PyTorch's f32 soft margin loss is `inf` (gradient NaN) once `-y·x`
/// passes ~88; ours stays finite and equals the exact value, on every backend.
fn soft_margin_large_margins<B: AutodiffBackend>(device: &B::Device) {
    let xs = [-100.0, -1e3, -1e4, 89.0, -89.0, 1e4, 100.0, -30.0];
    let ys = [1.0, 1.0, 1.0, -1.0, 1.0, -1.0, 1.0, 2.0];
    let input = Tensor::<B, 1>::from_data(TensorData::new(xs.to_vec(), [8]), device).require_grad();
    let targets = Tensor::<B, 1>::from_data(TensorData::new(ys.to_vec(), [8]), device);
    let loss = SoftMarginLossConfig::new()
        .with_reduction(Reduction::Sum)
        .init::<B>(device);
    let losses = loss.forward_no_reduction(input.clone(), targets.clone());
    let grads = loss.forward(input.clone(), targets).backward();
    let gradient = input.grad(&grads).expect("a gradient").into_data();
    let values = losses.into_data().iter::<f64>().collect::<Vec<_>>();
    let gradient = gradient.iter::<f64>().collect::<Vec<_>>();
    for (index, (x, y)) in xs.iter().zip(ys).enumerate() {
        let z: f64 = -y * x;
        let exact = z.max(0.0) + (-z.abs()).exp().ln_1p();
        let exact_gradient = -y / (1.0 + (-z).exp());
        let (value, grad) = (values[index], gradient[index]);
        assert!(
            value.is_finite() && grad.is_finite(),
            "x {x}, y {y}: {value}, {grad}"
        );
        assert!(
            (value - exact).abs() <= 1e-6 * exact.abs().max(1.0),
            "x {x}, y {y}: loss {value}, exact {exact}"
        );
        assert!(
            (grad - exact_gradient).abs() <= 1e-6,
            "x {x}, y {y}: gradient {grad}, exact {exact_gradient}"
        );
    }
}

on_every_backend!(
    soft_margin,
    multilabel_soft_margin,
    multilabel_margin,
    multi_margin,
    soft_margin_large_margins
);
on_every_plain_backend!(
    soft_margin,
    multilabel_soft_margin,
    multilabel_margin,
    multi_margin
);

// ---------------------------------------------------------------------------------------------
// Empty batch (accepted by PyTorch: sum 0, mean NaN)
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod empty_batch {
    use burn::backend::NdArray;
    use burn::tensor::{Int, Tensor};
    use burn_losses::*;

    type B = NdArray;

    /// The loss `config` builds of an empty batch `(input, target)`: no unreduced loss, a sum of
    /// 0 and a NaN mean.
    macro_rules! check {
        ($config:expr, $input:expr, $target:expr) => {
            let config = $config;
            let loss = |reduction| {
                config
                    .clone()
                    .with_reduction(reduction)
                    .init::<B>(&Default::default())
            };
            let unreduced = loss(Reduction::Mean).forward_no_reduction($input, $target);
            assert_eq!(unreduced.shape().num_elements(), 0);
            let sum: Tensor<B, 1> = loss(Reduction::Sum).forward($input, $target);
            assert_eq!(sum.into_scalar(), 0.0);
            let mean: Tensor<B, 1> = loss(Reduction::Mean).forward($input, $target);
            assert!(mean.into_scalar().is_nan());
        };
    }

    #[test]
    fn every_loss() {
        let device = Default::default();
        let input = || Tensor::<B, 2>::zeros([0, 4], &device);
        let indices = || Tensor::<B, 1, Int>::zeros([0], &device);
        let lists = || Tensor::<B, 2, Int>::zeros([0, 4], &device);

        let weight = Some(vec![1.0, 2.0, 3.0, 4.0]);
        check!(SoftMarginLossConfig::new(), input(), input());
        check!(
            MultiLabelSoftMarginLossConfig::new().with_weight(weight.clone()),
            input(),
            input()
        );
        check!(MultiLabelMarginLossConfig::new(), input(), lists());
        check!(
            MultiMarginLossConfig::new().with_p(2).with_weight(weight),
            input(),
            indices()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Finite differences in f64: every loss, every option, every reduction and the unreduced output
// with an upstream gradient
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod gradients {
    use burn_losses::*;

    use super::common::F64Autodiff as B;
    use super::common::REDUCTIONS;
    use super::common::gradcheck::{gradcheck, gradcheck_pair, indices, tensor, uniform};

    crate::on_f64! {
        fn soft_margin() {
            let input = uniform(12, -4.0, 4.0, 21);
            let signs: Vec<f64> = uniform(12, -1.0, 1.0, 22)
                .iter()
                .map(|v| v.signum())
                .collect();
            let reals = uniform(12, -2.0, 2.0, 23);
            for targets in [&signs, &reals] {
                for reduction in REDUCTIONS {
                    let loss = SoftMarginLossConfig::new()
                        .with_reduction(reduction)
                        .init::<B>(&Default::default());
                    let what = format!("SoftMargin {reduction:?}");
                    gradcheck(&format!("{what} d/dinput"), &input, [4, 3], |x| {
                        loss.forward(x, tensor(targets, [4, 3]))
                    });
                    gradcheck(&format!("{what} d/dinput 3d"), &input, [2, 3, 2], |x| {
                        loss.forward(x, tensor(targets, [2, 3, 2]))
                    });
                    gradcheck(&format!("{what} d/dtargets"), targets, [4, 3], |y| {
                        loss.forward(tensor(&input, [4, 3]), y)
                    });
                }
                let loss = SoftMarginLossConfig::new().init::<B>(&Default::default());
                let upstream = tensor(&uniform(12, 0.5, 1.5, 24), [4, 3]);
                gradcheck("SoftMargin none", &input, [4, 3], |x| {
                    (loss.forward_no_reduction(x, tensor(targets, [4, 3])) * upstream.clone()).sum()
                });
            }
        }

        fn multilabel_soft_margin() {
            let input = uniform(12, -4.0, 4.0, 31);
            let targets = uniform(12, 0.0, 1.0, 32);
            for weight in [None, Some(vec![0.5, 2.0, 0.0, 1.5]), Some(vec![1.75])] {
                for reduction in REDUCTIONS {
                    let loss = MultiLabelSoftMarginLossConfig::new()
                        .with_weight(weight.clone())
                        .with_reduction(reduction)
                        .init::<B>(&Default::default());
                    let what = format!("MultiLabelSoftMargin {weight:?} {reduction:?}");
                    gradcheck_pair(&what, ["input", "targets"], &input, &targets, [3, 4],
                        |x, y| loss.forward(x, y)
                    );
                }
                let loss = MultiLabelSoftMarginLossConfig::new()
                    .with_weight(weight.clone())
                    .init::<B>(&Default::default());
                let upstream = tensor(&uniform(3, 0.5, 1.5, 33), [3]);
                gradcheck("MultiLabelSoftMargin none", &input, [3, 4], |x| {
                    (loss.forward_no_reduction(x, tensor(&targets, [3, 4])) * upstream.clone()).sum()
                });
            }
        }

        fn multilabel_margin() {
            // Padded with junk after the -1, duplicates, empty, full.
            let targets = [
                3, 0, -1, 4, 1, //
                2, 2, 0, -1, -1, //
                -1, 1, 2, 3, 4, //
                4, 3, 2, 1, 0, //
            ];
            let input = uniform(20, -1.5, 1.5, 41);
            for reduction in REDUCTIONS {
                let loss = MultiLabelMarginLossConfig::new()
                    .with_reduction(reduction)
                    .init::<B>(&Default::default());
                gradcheck(
                    &format!("MultiLabelMargin {reduction:?}"),
                    &input,
                    [4, 5],
                    |x| loss.forward(x, indices(&targets, [4, 5])),
                );
            }
            let loss = MultiLabelMarginLossConfig::new().init::<B>(&Default::default());
            let upstream = tensor(&uniform(4, 0.5, 1.5, 42), [4]);
            gradcheck("MultiLabelMargin none", &input, [4, 5], |x| {
                (loss.forward_no_reduction(x, indices(&targets, [4, 5])) * upstream.clone()).sum()
            });
        }

        fn multi_margin() {
            let input = uniform(15, -1.5, 1.5, 51);
            let targets = indices(&[4, 0, 2], [3]);
            for p in [1, 2] {
                for margin in [1.0, 0.5, 0.0, -3.25, 7.0] {
                    for weight in [None, Some(vec![0.5, 2.0, 1.5, 0.0, 1.0])] {
                        let config = MultiMarginLossConfig::new()
                            .with_p(p)
                            .with_margin(margin)
                            .with_weight(weight.clone());
                        for reduction in REDUCTIONS {
                            let loss = config
                                .clone()
                                .with_reduction(reduction)
                                .init::<B>(&Default::default());
                            gradcheck(&format!("MultiMargin {config}"), &input, [3, 5], |x| {
                                loss.forward(x, targets.clone())
                            });
                        }
                        let loss = config.init::<B>(&Default::default());
                        let upstream = tensor(&uniform(3, 0.5, 1.5, 52), [3]);
                        gradcheck(&format!("MultiMargin none {config}"), &input, [3, 5], |x| {
                            (loss.forward_no_reduction(x, targets.clone()) * upstream.clone()).sum()
                        });
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Every bad option and bad call panics with the loss, the argument, the expectation and the value
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod errors {
    use burn::tensor::{Int, Tensor};
    use burn_losses::*;

    use super::common::panics::{B, classes, device, floats, ints};

    crate::panic_table! {
        fn margin_errors() {
            let multilabel_soft_margin = |weight: Option<Vec<f32>>| {
                MultiLabelSoftMarginLossConfig::new().with_weight(weight).init::<B>(&device())
            };
            let multilabel_margin = || MultiLabelMarginLossConfig::new().init::<B>(&device());
            let multi_margin = |config: MultiMarginLossConfig| config.init::<B>(&device());
            [
                soft_margin_shape_mismatch:
                    "SoftMarginLoss: `targets` expected shape [2, 3] (the shape of `input`), got [3, 2]"
                    => SoftMarginLossConfig::new().init::<B>(&device())
                        .forward(floats([2, 3], 0.0), floats([3, 2], 1.0)),
                multilabel_soft_margin_empty_weight:
                    "MultiLabelSoftMarginLoss: option `weight` expected a non-empty list, got an empty \
                     list"
                    => multilabel_soft_margin(Some(vec![])),
                multilabel_soft_margin_negative_weight:
                    "MultiLabelSoftMarginLoss: option `weight` expected finite, non-negative values, got \
                     -1"
                    => multilabel_soft_margin(Some(vec![1.0, -1.0])),
                multilabel_soft_margin_weight_length:
                    "MultiLabelSoftMarginLoss: `weight` expected length 4 (the last dimension of the \
                     input) or 1, got length 3"
                    => multilabel_soft_margin(Some(vec![1.0, 2.0, 3.0]))
                        .forward(floats([2, 4], 0.0), floats([2, 4], 1.0)),
                multilabel_soft_margin_shape_mismatch:
                    "MultiLabelSoftMarginLoss: `targets` expected shape [2, 4] (the shape of `input`), \
                     got [1, 4]"
                    => multilabel_soft_margin(None).forward(floats([2, 4], 0.0), floats([1, 4], 1.0)),
                multilabel_soft_margin_no_labels:
                    "MultiLabelSoftMarginLoss: `input` expected shape (N, C) with C >= 1, got [2, 0]"
                    => multilabel_soft_margin(None).forward(floats([2, 0], 0.0), floats([2, 0], 1.0)),
                multilabel_margin_shape_mismatch:
                    "MultiLabelMarginLoss: `targets` expected shape [2, 4] (the shape of `input`), got \
                     [1, 4]"
                    => multilabel_margin().forward(floats([2, 4], 0.0), ints(&[0, -1, 0, 0], [1, 4])),
                multilabel_margin_no_classes:
                    "MultiLabelMarginLoss: `input` expected shape (N, C) with C >= 1, got [2, 0]"
                    => multilabel_margin().forward(floats([2, 0], 0.0),
                        Tensor::<B, 2, Int>::zeros([2, 0], &device())),
                // Checked even after the -1 that ends the list, as in PyTorch.
                multilabel_margin_index_too_large_after_end:
                    "MultiLabelMarginLoss: `targets` expected class indices in [0, 4) or -1 (the end of \
                     a list), got 9"
                    => multilabel_margin().forward(floats([2, 4], 0.0), ints(&[0, -1, 9, 0, 1, 2, -1, 0], [2, 4])),
                multilabel_margin_index_below_minus_one:
                    "MultiLabelMarginLoss: `targets` expected class indices in [0, 4) or -1 (the end of \
                     a list), got -5"
                    => multilabel_margin().forward(floats([2, 4], 0.0), ints(&[0, -1, 1, 0, 1, -5, -1, 0], [2, 4])),
                multi_margin_p: "MultiMarginLoss: option `p` expected 1 or 2, got 3"
                    => multi_margin(MultiMarginLossConfig::new().with_p(3)),
                multi_margin_p_zero: "MultiMarginLoss: option `p` expected 1 or 2, got 0"
                    => multi_margin(MultiMarginLossConfig::new().with_p(0)),
                multi_margin_nan_margin: "MultiMarginLoss: option `margin` expected a finite value, got NaN"
                    => multi_margin(MultiMarginLossConfig::new().with_margin(f32::NAN)),
                multi_margin_empty_weight:
                    "MultiMarginLoss: option `weight` expected a non-empty list, got an empty list"
                    => multi_margin(MultiMarginLossConfig::new().with_weight(Some(vec![]))),
                multi_margin_negative_weight:
                    "MultiMarginLoss: option `weight` expected finite, non-negative values, got -10"
                    => multi_margin(MultiMarginLossConfig::new().with_weight(Some(vec![1.0, -10.0]))),
                multi_margin_weight_length:
                    "MultiMarginLoss: `weight` expected length 4 (the number of classes, dimension 1 of \
                     the input), got length 5"
                    => multi_margin(MultiMarginLossConfig::new().with_weight(Some(vec![1.0; 5])))
                        .forward(floats([2, 4], 0.0), classes(&[0, 1])),
                multi_margin_target_length:
                    "MultiMarginLoss: `targets` expected shape [5] (`input` [5, 4] without the class \
                     dimension), got [3]"
                    => multi_margin(MultiMarginLossConfig::new())
                        .forward(floats([5, 4], 0.0), classes(&[0, 1, 2])),
                multi_margin_no_classes:
                    "MultiMarginLoss: `input` expected shape (N, C) with C >= 1, got [2, 0]"
                    => multi_margin(MultiMarginLossConfig::new())
                        .forward(floats([2, 0], 0.0), classes(&[0, 0])),
                multi_margin_index_too_large:
                    "MultiMarginLoss: `targets` expected class indices in [0, 4), got 4"
                    => multi_margin(MultiMarginLossConfig::new())
                        .forward(floats([2, 4], 0.0), classes(&[0, 4])),
                // There is no ignore index: -1 is out of range, as in PyTorch.
                multi_margin_negative_index:
                    "MultiMarginLoss: `targets` expected class indices in [0, 4), got -1"
                    => multi_margin(MultiMarginLossConfig::new())
                        .forward(floats([2, 4], 0.0), classes(&[-1, 1])),
            ]
        }
    }
}
