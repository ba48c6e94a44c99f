//! The margin family (soft margin, multi-label soft margin, multi-label margin, multi margin):
//! PyTorch fixture replay on every backend (`tools/gen_fixtures_margin.py`), the deliberate
//! stability difference of the soft margin loss, and one test per error message. The f64
//! finite-difference checks are in `margin_gradcheck.rs`: Burn keeps one default float dtype per
//! device type and process, so f32 and f64 NdArray tests cannot share a test binary.
#![cfg(feature = "autodiff")]

mod common;

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor, TensorData};
use burn_losses::*;
use common::replay::{Replay, Target, cases, weight_option};
use common::{Lane, load_fixture};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixture replay
// ---------------------------------------------------------------------------------------------

elementwise_parity!(soft_margin, "soft_margin", |_options, reduction, device| {
    SoftMarginLossConfig::new()
        .with_reduction(reduction)
        .init::<B>(device)
});

fn multilabel_soft_margin<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("multilabel_soft_margin")) {
        let config = MultiLabelSoftMarginLossConfig::new()
            .with_weight(weight_option(&case["options"]["weight"]));
        let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
        Replay::<B, 2, 2, 1> {
            case,
            device,
            mean_over_nothing: false,
            reduced: &|reduction, input, target: Target<B, 2, 2>| {
                loss(reduction).forward(input, target.float())
            },
            unreduced: &|input, target: Target<B, 2, 2>| {
                loss(Reduction::Mean).forward_no_reduction(input, target.float())
            },
        }
        .run();
    }
}

/// The replay reads a target of the input's rank as floats; these are class indices.
fn as_indices<B: Lane>(target: Target<B, 2, 2>) -> Tensor<B, 2, Int> {
    target.float().int()
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
            Replay::<B, 2, 2, 1> {
                case,
                device,
                mean_over_nothing: false,
                reduced: &|reduction, input, target| {
                    loss(reduction).forward(input, as_indices(target))
                },
                unreduced: &|input, target| {
                    loss(Reduction::Mean).forward_no_reduction(input, as_indices(target))
                },
            }
            .run();
        }
    }
}

fn multi_margin<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("multi_margin")) {
        let options: &Value = &case["options"];
        let config = MultiMarginLossConfig::new()
            .with_p(options["p"].as_u64().expect("p") as u32)
            .with_margin(common::number(&options["margin"]) as f32)
            .with_weight(weight_option(&options["weight"]));
        let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
        Replay::<B, 2, 1, 1> {
            case,
            device,
            mean_over_nothing: false,
            reduced: &|reduction, input, target| loss(reduction).forward(input, target.index()),
            unreduced: &|input, target| {
                loss(Reduction::Mean).forward_no_reduction(input, target.index())
            },
        }
        .run();
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

// ---------------------------------------------------------------------------------------------
// Empty batch (accepted by PyTorch: sum 0, mean NaN)
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod empty_batch {
    use burn::backend::NdArray;
    use burn::tensor::{Int, Tensor};
    use burn_losses::*;

    type B = NdArray;

    #[track_caller]
    fn check(unreduced: Tensor<B, 1>, sum: Tensor<B, 1>, mean: Tensor<B, 1>) {
        assert_eq!(unreduced.dims(), [0]);
        assert_eq!(sum.into_scalar(), 0.0);
        assert!(mean.into_scalar().is_nan());
    }

    #[test]
    fn every_loss() {
        let device = Default::default();
        let input = || Tensor::<B, 2>::zeros([0, 4], &device);
        let indices = || Tensor::<B, 1, Int>::zeros([0], &device);
        let lists = || Tensor::<B, 2, Int>::zeros([0, 4], &device);

        let soft = |reduction| {
            SoftMarginLossConfig::new()
                .with_reduction(reduction)
                .init::<B>(&device)
        };
        check(
            soft(Reduction::Mean)
                .forward_no_reduction(input(), input())
                .reshape([0]),
            soft(Reduction::Sum).forward(input(), input()),
            soft(Reduction::Mean).forward(input(), input()),
        );
        let multilabel_soft = |reduction| {
            MultiLabelSoftMarginLossConfig::new()
                .with_weight(Some(vec![1.0, 2.0, 3.0, 4.0]))
                .with_reduction(reduction)
                .init::<B>(&device)
        };
        check(
            multilabel_soft(Reduction::Mean).forward_no_reduction(input(), input()),
            multilabel_soft(Reduction::Sum).forward(input(), input()),
            multilabel_soft(Reduction::Mean).forward(input(), input()),
        );
        let multilabel = |reduction| {
            MultiLabelMarginLossConfig::new()
                .with_reduction(reduction)
                .init::<B>(&device)
        };
        check(
            multilabel(Reduction::Mean).forward_no_reduction(input(), lists()),
            multilabel(Reduction::Sum).forward(input(), lists()),
            multilabel(Reduction::Mean).forward(input(), lists()),
        );
        let multi = |reduction| {
            MultiMarginLossConfig::new()
                .with_p(2)
                .with_weight(Some(vec![1.0, 2.0, 3.0, 4.0]))
                .with_reduction(reduction)
                .init::<B>(&device)
        };
        check(
            multi(Reduction::Mean).forward_no_reduction(input(), indices()),
            multi(Reduction::Sum).forward(input(), indices()),
            multi(Reduction::Mean).forward(input(), indices()),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod errors {
    use burn::backend::NdArray;
    use burn::tensor::{Int, Tensor};
    use burn_losses::*;

    type B = NdArray;

    fn floats<const D: usize>(shape: [usize; D], value: f32) -> Tensor<B, D> {
        Tensor::full(shape, value, &Default::default())
    }

    fn ints<const D: usize>(values: [[i64; 4]; D]) -> Tensor<B, 2, Int> {
        Tensor::from_ints(values, &Default::default())
    }

    #[test]
    #[should_panic(
        expected = "SoftMarginLoss: `targets` expected shape [2, 3] (the shape of `input`), got [3, 2]"
    )]
    fn soft_margin_shape_mismatch() {
        SoftMarginLossConfig::new()
            .init::<B>(&Default::default())
            .forward(floats([2, 3], 0.0), floats([3, 2], 1.0));
    }

    #[test]
    #[should_panic(
        expected = "MultiLabelSoftMarginLoss: option `weight` expected a non-empty list, got an empty list"
    )]
    fn multilabel_soft_margin_empty_weight() {
        MultiLabelSoftMarginLossConfig::new()
            .with_weight(Some(vec![]))
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "MultiLabelSoftMarginLoss: option `weight` expected finite, non-negative values, got -1"
    )]
    fn multilabel_soft_margin_negative_weight() {
        MultiLabelSoftMarginLossConfig::new()
            .with_weight(Some(vec![1.0, -1.0]))
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "MultiLabelSoftMarginLoss: `weight` expected length 4 (the last dimension of the input) or 1, got length 3"
    )]
    fn multilabel_soft_margin_weight_length() {
        MultiLabelSoftMarginLossConfig::new()
            .with_weight(Some(vec![1.0, 2.0, 3.0]))
            .init::<B>(&Default::default())
            .forward(floats([2, 4], 0.0), floats([2, 4], 1.0));
    }

    #[test]
    #[should_panic(
        expected = "MultiLabelSoftMarginLoss: `targets` expected shape [2, 4] (the shape of `input`), got [1, 4]"
    )]
    fn multilabel_soft_margin_shape_mismatch() {
        MultiLabelSoftMarginLossConfig::new()
            .init::<B>(&Default::default())
            .forward(floats([2, 4], 0.0), floats([1, 4], 1.0));
    }

    #[test]
    #[should_panic(
        expected = "MultiLabelSoftMarginLoss: `input` expected shape (N, C) with C >= 1, got [2, 0]"
    )]
    fn multilabel_soft_margin_no_labels() {
        MultiLabelSoftMarginLossConfig::new()
            .init::<B>(&Default::default())
            .forward(floats([2, 0], 0.0), floats([2, 0], 1.0));
    }

    #[test]
    #[should_panic(
        expected = "MultiLabelMarginLoss: `targets` expected shape [2, 4] (the shape of `input`), got [1, 4]"
    )]
    fn multilabel_margin_shape_mismatch() {
        MultiLabelMarginLossConfig::new()
            .init::<B>(&Default::default())
            .forward(floats([2, 4], 0.0), ints([[0, -1, 0, 0]]));
    }

    #[test]
    #[should_panic(
        expected = "MultiLabelMarginLoss: `input` expected shape (N, C) with C >= 1, got [2, 0]"
    )]
    fn multilabel_margin_no_classes() {
        MultiLabelMarginLossConfig::new()
            .init::<B>(&Default::default())
            .forward(
                floats([2, 0], 0.0),
                Tensor::<B, 2, Int>::zeros([2, 0], &Default::default()),
            );
    }

    #[test]
    #[should_panic(
        expected = "MultiLabelMarginLoss: `targets` expected class indices in [0, 4) or -1 (the end of a list), got 9"
    )]
    fn multilabel_margin_index_too_large_after_end() {
        // Checked even after the -1 that ends the list, as in PyTorch.
        MultiLabelMarginLossConfig::new()
            .init::<B>(&Default::default())
            .forward(floats([2, 4], 0.0), ints([[0, -1, 9, 0], [1, 2, -1, 0]]));
    }

    #[test]
    #[should_panic(
        expected = "MultiLabelMarginLoss: `targets` expected class indices in [0, 4) or -1 (the end of a list), got -5"
    )]
    fn multilabel_margin_index_below_minus_one() {
        MultiLabelMarginLossConfig::new()
            .init::<B>(&Default::default())
            .forward(floats([2, 4], 0.0), ints([[0, -1, 1, 0], [1, -5, -1, 0]]));
    }

    #[test]
    #[should_panic(expected = "MultiMarginLoss: option `p` expected 1 or 2, got 3")]
    fn multi_margin_p() {
        MultiMarginLossConfig::new()
            .with_p(3)
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(expected = "MultiMarginLoss: option `p` expected 1 or 2, got 0")]
    fn multi_margin_p_zero() {
        MultiMarginLossConfig::new()
            .with_p(0)
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(expected = "MultiMarginLoss: option `margin` expected a finite value, got NaN")]
    fn multi_margin_nan_margin() {
        MultiMarginLossConfig::new()
            .with_margin(f32::NAN)
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "MultiMarginLoss: option `weight` expected a non-empty list, got an empty list"
    )]
    fn multi_margin_empty_weight() {
        MultiMarginLossConfig::new()
            .with_weight(Some(vec![]))
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "MultiMarginLoss: option `weight` expected finite, non-negative values, got -10"
    )]
    fn multi_margin_negative_weight() {
        MultiMarginLossConfig::new()
            .with_weight(Some(vec![1.0, -10.0]))
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "MultiMarginLoss: `weight` expected length 4 (the number of classes, dimension 1 of the input), got length 5"
    )]
    fn multi_margin_weight_length() {
        MultiMarginLossConfig::new()
            .with_weight(Some(vec![1.0; 5]))
            .init::<B>(&Default::default())
            .forward(
                floats([2, 4], 0.0),
                Tensor::from_ints([0, 1], &Default::default()),
            );
    }

    #[test]
    #[should_panic(
        expected = "MultiMarginLoss: `targets` expected shape [5] (`input` [5, 4] without the class dimension), got [3]"
    )]
    fn multi_margin_target_length() {
        MultiMarginLossConfig::new()
            .init::<B>(&Default::default())
            .forward(
                floats([5, 4], 0.0),
                Tensor::from_ints([0, 1, 2], &Default::default()),
            );
    }

    #[test]
    #[should_panic(
        expected = "MultiMarginLoss: `input` expected shape (N, C) with C >= 1, got [2, 0]"
    )]
    fn multi_margin_no_classes() {
        MultiMarginLossConfig::new()
            .init::<B>(&Default::default())
            .forward(
                floats([2, 0], 0.0),
                Tensor::from_ints([0, 0], &Default::default()),
            );
    }

    #[test]
    #[should_panic(expected = "MultiMarginLoss: `targets` expected class indices in [0, 4), got 4")]
    fn multi_margin_index_too_large() {
        MultiMarginLossConfig::new()
            .init::<B>(&Default::default())
            .forward(
                floats([2, 4], 0.0),
                Tensor::from_ints([0, 4], &Default::default()),
            );
    }

    #[test]
    #[should_panic(
        expected = "MultiMarginLoss: `targets` expected class indices in [0, 4), got -1"
    )]
    fn multi_margin_negative_index() {
        // There is no ignore index: -1 is out of range, as in PyTorch.
        MultiMarginLossConfig::new()
            .init::<B>(&Default::default())
            .forward(
                floats([2, 4], 0.0),
                Tensor::from_ints([-1, 1], &Default::default()),
            );
    }
}

on_every_plain_backend!(
    soft_margin,
    multilabel_soft_margin,
    multilabel_margin,
    multi_margin
);
