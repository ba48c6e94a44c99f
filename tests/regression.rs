//! The regression losses against PyTorch's fixtures (values, input and target gradients) on
//! every enabled backend, and one test per error message.
#![cfg(feature = "autodiff")]

mod common;

use burn::tensor::Tensor;
use burn_losses::*;
use common::replay::{GRADIENT, cases, input_rank};
use common::{Array, F32, Lane, assert_close, assert_scalar, load_fixture, number};
use serde_json::Value;

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

elementwise_parity!(poisson_nll, "poisson_nll", |options, reduction, device| {
    PoissonNllLossConfig::new()
        .with_log_input(flag(&options["log_input"]))
        .with_full(flag(&options["full"]))
        .with_eps(number(&options["eps"]) as f32)
        .with_reduction(reduction)
        .init::<B>(device)
});

fn flag(value: &Value) -> bool {
    value.as_bool().expect("a boolean option")
}

// ------------------------------------------------------------------------------------------------
// GaussianNllLoss takes a third tensor, `var`: of the input's rank (`forward`) or one less
// (`forward_homoscedastic`). The gradients of all three are checked.
// ------------------------------------------------------------------------------------------------

const REDUCTIONS: [(Reduction, &str); 3] = [
    (Reduction::Mean, "mean"),
    (Reduction::Sum, "sum"),
    (Reduction::BatchMean, "batchmean"),
];

type Reduced<'a, B, const D: usize, const DV: usize> =
    &'a dyn Fn(Reduction, Tensor<B, D>, Tensor<B, D>, Tensor<B, DV>) -> Tensor<B, 1>;
type Unreduced<'a, B, const D: usize, const DV: usize> =
    &'a dyn Fn(Tensor<B, D>, Tensor<B, D>, Tensor<B, DV>) -> Tensor<B, D>;

fn gaussian_loss<B: Lane>(
    case: &Value,
    reduction: Reduction,
    device: &B::Device,
) -> GaussianNllLoss<B> {
    GaussianNllLossConfig::new()
        .with_full(flag(&case["options"]["full"]))
        .with_eps(number(&case["options"]["eps"]) as f32)
        .with_reduction(reduction)
        .init::<B>(device)
}

fn replay_gaussian<B: Lane, const D: usize, const DV: usize>(
    case: &Value,
    device: &B::Device,
    reduced: Reduced<B, D, DV>,
    unreduced: Unreduced<B, D, DV>,
) {
    for &track in B::PASSES {
        let untracked = if track { "" } else { " (untracked)" };
        let name = &format!("{}{untracked}", case["name"].as_str().expect("a case name"));
        let tensor = |key: &str| Array::from_json(&case["inputs"][key]);
        let inputs = || {
            (
                B::track_if(track, tensor("input").float::<B, D>(device)),
                B::track_if(track, tensor("target").float::<B, D>(device)),
                B::track_if(track, tensor("var").float::<B, DV>(device)),
            )
        };
        type Tensors<B, const D: usize, const DV: usize> =
            (Tensor<B, D>, Tensor<B, D>, Tensor<B, DV>);
        let check_gradients =
            |what: &str, (input, target, var): &Tensors<B, D, DV>, value: Tensor<B, 1>| {
                let Some(grads) = B::backward(value).filter(|_| track) else {
                    return;
                };
                let actual = [
                    ("input", B::grad(input, &grads)),
                    ("target", B::grad(target, &grads)),
                    ("var", B::grad(var, &grads)),
                ];
                for (key, actual) in actual {
                    let actual = actual.unwrap_or_else(|| panic!("{name}: no gradient for {key}"));
                    let expected = Array::from_json(&case["grads"][what][key]);
                    let what = format!("{name} grad[{what}] {key}");
                    assert_close(&what, actual, &expected, GRADIENT);
                }
            };

        for (reduction, key) in REDUCTIONS {
            let tensors = inputs();
            let (input, target, var) = tensors.clone();
            let value = reduced(reduction, input, target, var);
            let expected = number(&case["expected"][key]);
            assert_scalar(&format!("{name} {key}"), value.to_data(), expected, F32);
            if reduction != Reduction::BatchMean {
                check_gradients(key, &tensors, value);
            }
        }
        let tensors = inputs();
        let (input, target, var) = tensors.clone();
        let losses = unreduced(input, target, var);
        let expected = Array::from_json(&case["expected"]["none"]);
        assert_close(&format!("{name} none"), losses.to_data(), &expected, F32);
        let upstream: Tensor<B, D> = Array::from_json(&case["upstream"]).float(device);
        check_gradients("none", &tensors, (losses * upstream).sum());
    }
}

fn gaussian_same_rank<B: Lane, const D: usize>(case: &Value, device: &B::Device) {
    replay_gaussian::<B, D, D>(
        case,
        device,
        &|reduction, input, target, var| {
            gaussian_loss::<B>(case, reduction, device).forward(input, target, var)
        },
        &|input, target, var| {
            gaussian_loss::<B>(case, Reduction::Mean, device)
                .forward_no_reduction(input, target, var)
        },
    );
}

fn gaussian_homoscedastic<B: Lane, const D: usize, const DV: usize>(
    case: &Value,
    device: &B::Device,
) {
    replay_gaussian::<B, D, DV>(
        case,
        device,
        &|reduction, input, target, var| {
            gaussian_loss::<B>(case, reduction, device).forward_homoscedastic(input, target, var)
        },
        &|input, target, var| {
            gaussian_loss::<B>(case, Reduction::Mean, device)
                .forward_homoscedastic_no_reduction(input, target, var)
        },
    );
}

fn gaussian_nll<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("gaussian_nll")) {
        let var_rank = Array::from_json(&case["inputs"]["var"]).rank();
        match (input_rank(case), var_rank) {
            (1, 1) => gaussian_same_rank::<B, 1>(case, device),
            (2, 2) => gaussian_same_rank::<B, 2>(case, device),
            (3, 3) => gaussian_same_rank::<B, 3>(case, device),
            (2, 1) => gaussian_homoscedastic::<B, 2, 1>(case, device),
            (3, 2) => gaussian_homoscedastic::<B, 3, 2>(case, device),
            ranks => panic!("no replay for input and var ranks {ranks:?}"),
        }
    }
}

on_every_backend!(mse, l1, smooth_l1, huber, poisson_nll, gaussian_nll);
on_every_plain_backend!(mse, l1, smooth_l1, huber, poisson_nll, gaussian_nll);

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

    #[test]
    #[should_panic(
        expected = "PoissonNllLoss: option `eps` expected a finite value >= 0, got -0.001"
    )]
    fn poisson_negative_eps() {
        PoissonNllLossConfig::new()
            .with_eps(-1e-3)
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(expected = "PoissonNllLoss: option `eps` expected a finite value >= 0, got NaN")]
    fn poisson_nan_eps() {
        PoissonNllLossConfig::new()
            .with_eps(f32::NAN)
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "PoissonNllLoss: `targets` expected shape [2, 3] (the shape of `input`), got [3, 2]"
    )]
    fn poisson_shape_mismatch() {
        PoissonNllLossConfig::new()
            .init::<B>(&Default::default())
            .forward(zeros([2, 3]), zeros([3, 2]));
    }

    fn gaussian() -> GaussianNllLoss<B> {
        GaussianNllLossConfig::new().init::<B>(&Default::default())
    }

    fn ones<const D: usize>(shape: [usize; D]) -> Tensor<B, D> {
        Tensor::ones(shape, &Default::default())
    }

    #[test]
    #[should_panic(expected = "GaussianNllLoss: option `eps` expected a finite value >= 0, got -1")]
    fn gaussian_negative_eps() {
        GaussianNllLossConfig::new()
            .with_eps(-1.0)
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "GaussianNllLoss: option `eps` expected a finite value >= 0, got inf"
    )]
    fn gaussian_infinite_eps() {
        GaussianNllLossConfig::new()
            .with_eps(f32::INFINITY)
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "GaussianNllLoss: `targets` expected shape [4, 3] (the shape of `input`), got [4, 1]"
    )]
    fn gaussian_targets_shape_mismatch() {
        gaussian().forward(zeros([4, 3]), zeros([4, 1]), ones([4, 3]));
    }

    /// Only one dimension may differ, where var has size 1: `(1, 1)` broadcasts, but PyTorch
    /// rejects it too.
    #[test]
    #[should_panic(
        expected = "GaussianNllLoss: `var` expected shape [4, 3] (the shape of `input`), or it with one dimension of size 1, got [1, 1]"
    )]
    fn gaussian_var_two_dimensions_of_size_one() {
        gaussian().forward(zeros([4, 3]), zeros([4, 3]), ones([1, 1]));
    }

    #[test]
    #[should_panic(
        expected = "GaussianNllLoss: `var` expected shape [4, 3] (the shape of `input`), or it with one dimension of size 1, got [4, 2]"
    )]
    fn gaussian_var_wrong_size() {
        gaussian().forward_no_reduction(zeros([4, 3]), zeros([4, 3]), ones([4, 2]));
    }

    /// `(C)` for an `(N, C)` input broadcasts, but it is not the input's shape without its last
    /// dimension: PyTorch rejects it too.
    #[test]
    #[should_panic(
        expected = "GaussianNllLoss: `var` expected shape [4] (the shape of `input` without its last dimension), got [3]"
    )]
    fn gaussian_homoscedastic_var_wrong_shape() {
        gaussian().forward_homoscedastic(zeros([4, 3]), zeros([4, 3]), ones([3]));
    }

    #[test]
    #[should_panic(
        expected = "GaussianNllLoss: `var` expected shape [4] (the shape of `input` without its last dimension), got [4, 1]"
    )]
    fn gaussian_homoscedastic_var_wrong_rank() {
        gaussian().forward_homoscedastic_no_reduction(zeros([4, 3]), zeros([4, 3]), ones([4, 1]));
    }

    #[test]
    #[should_panic(expected = "GaussianNllLoss: `var` expected non-negative values, got -0.5")]
    fn gaussian_negative_var() {
        let var = Tensor::from_floats([[1.0, 0.0], [-0.5, 2.0]], &Default::default());
        gaussian().forward(zeros([2, 2]), zeros([2, 2]), var);
    }

    #[test]
    #[should_panic(expected = "GaussianNllLoss: `var` expected non-negative values, got -2")]
    fn gaussian_negative_homoscedastic_var() {
        let var = Tensor::<B, 1>::from_floats([1.0, -2.0], &Default::default());
        gaussian().forward_homoscedastic(zeros([2, 2]), zeros([2, 2]), var);
    }

    /// Without the check a negative variance is clamped to `eps` like any variance below it.
    #[test]
    fn gaussian_negative_var_unchecked() {
        let loss = GaussianNllLossConfig::new()
            .with_check_values(false)
            .init::<B>(&Default::default());
        let var = Tensor::from_floats([-0.5, 1.0], &Default::default());
        let losses = loss.forward_no_reduction(zeros([2]), zeros([2]), var);
        let expected = [0.5 * (1e-6f32).ln(), 0.0];
        for (got, expected) in losses.into_data().iter::<f32>().zip(expected) {
            assert!((got - expected).abs() < 1e-5, "{got} != {expected}");
        }
    }
}
