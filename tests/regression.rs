//! The regression losses against PyTorch's fixtures (values, input and target gradients) on
//! every enabled backend, and one test per error message.
#![cfg(feature = "autodiff")]

mod common;

use burn_losses::*;
use common::number;

elementwise_parity!(mse, "mse", |_options, reduction, device| {
    MseLossConfig::new()
        .with_reduction(reduction)
        .init::<B>(device)
});

elementwise_parity!(l1, "l1", |_options, reduction, device| {
    L1LossConfig::new()
        .with_reduction(reduction)
        .init::<B>(device)
});

elementwise_parity!(smooth_l1, "smooth_l1", |options, reduction, device| {
    SmoothL1LossConfig::new()
        .with_beta(number(&options["beta"]) as f32)
        .with_reduction(reduction)
        .init::<B>(device)
});

elementwise_parity!(huber, "huber", |options, reduction, device| {
    HuberLossConfig::new()
        .with_delta(number(&options["delta"]) as f32)
        .with_reduction(reduction)
        .init::<B>(device)
});

on_every_backend!(mse, l1, smooth_l1, huber);

mod errors {
    use burn::backend::NdArray;
    use burn::tensor::Tensor;
    use burn_losses::*;

    type B = NdArray;

    fn zeros<const D: usize>(shape: [usize; D]) -> Tensor<B, D> {
        Tensor::zeros(shape, &Default::default())
    }

    #[test]
    #[should_panic(expected = "SmoothL1Loss: option `beta` expected a finite value >= 0, got -0.5")]
    fn negative_beta() {
        SmoothL1LossConfig::new()
            .with_beta(-0.5)
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(expected = "HuberLoss: option `delta` expected a finite value > 0, got 0")]
    fn zero_delta() {
        HuberLossConfig::new()
            .with_delta(0.0)
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "MseLoss: `targets` expected shape [2, 3] (the shape of `input`), got [2, 1]"
    )]
    fn mse_shape_mismatch() {
        MseLossConfig::new()
            .init::<B>(&Default::default())
            .forward(zeros([2, 3]), zeros([2, 1]));
    }

    #[test]
    #[should_panic(
        expected = "L1Loss: `targets` expected shape [3] (the shape of `input`), got [4]"
    )]
    fn l1_shape_mismatch() {
        L1LossConfig::new()
            .init::<B>(&Default::default())
            .forward(zeros([3]), zeros([4]));
    }

    #[test]
    #[should_panic(
        expected = "SmoothL1Loss: `targets` expected shape [3] (the shape of `input`), got [4]"
    )]
    fn smooth_l1_shape_mismatch() {
        SmoothL1LossConfig::new()
            .init::<B>(&Default::default())
            .forward(zeros([3]), zeros([4]));
    }

    #[test]
    #[should_panic(
        expected = "HuberLoss: `targets` expected shape [3] (the shape of `input`), got [4]"
    )]
    fn huber_shape_mismatch() {
        HuberLossConfig::new()
            .init::<B>(&Default::default())
            .forward(zeros([3]), zeros([4]));
    }
}
