//! The regression losses (MSE, L1, smooth L1, Huber, Poisson NLL, Gaussian NLL): PyTorch fixture
//! replay on every lane (values, input and target gradients), gradients against f64 finite
//! differences, and one table row per error message.
#![cfg(feature = "autodiff")]

mod common;

use burn_losses::*;
use common::replay::{cases, flag, input_rank, rank};
use common::{Lane, load_fixture, number};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixture replay
// ---------------------------------------------------------------------------------------------

elementwise_parity!(mse, "mse", |_options| MseLossConfig::new());

elementwise_parity!(l1, "l1", |_options| L1LossConfig::new());

elementwise_parity!(smooth_l1, "smooth_l1", |options| SmoothL1LossConfig::new()
    .with_beta(number(&options["beta"]) as f32));

elementwise_parity!(huber, "huber", |options| HuberLossConfig::new()
    .with_delta(number(&options["delta"]) as f32));

elementwise_parity!(poisson_nll, "poisson_nll", |options| {
    PoissonNllLossConfig::new()
        .with_log_input(flag(&options["log_input"]))
        .with_full(flag(&options["full"]))
        .with_eps(number(&options["eps"]) as f32)
});

/// Gaussian NLL takes a third tensor, `var`, of the input's rank (`forward`) or one less
/// (`forward_homoscedastic`); the gradients of all three are checked.
fn gaussian_case<B: Lane, const D: usize, const DV: usize>(case: &Value, device: &B::Device) {
    let config = GaussianNllLossConfig::new()
        .with_full(flag(&case["options"]["full"]))
        .with_eps(number(&case["options"]["eps"]) as f32);
    let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
    if D == DV {
        replay!(case, device, |x| loss.forward(
            x.float::<D>("input"),
            x.float::<D>("target"),
            x.float::<D>("var")
        ));
    } else {
        replay!(case, device, |x| loss.forward_homoscedastic(
            x.float::<D>("input"),
            x.float::<D>("target"),
            x.float::<DV>("var")
        ));
    }
}

fn gaussian_nll<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("gaussian_nll")) {
        match (input_rank(case), rank(case, "var")) {
            (1, 1) => gaussian_case::<B, 1, 1>(case, device),
            (2, 2) => gaussian_case::<B, 2, 2>(case, device),
            (3, 3) => gaussian_case::<B, 3, 3>(case, device),
            (2, 1) => gaussian_case::<B, 2, 1>(case, device),
            (3, 2) => gaussian_case::<B, 3, 2>(case, device),
            ranks => panic!("no replay for input and var ranks {ranks:?}"),
        }
    }
}

on_every_backend!(mse, l1, smooth_l1, huber, poisson_nll, gaussian_nll);
on_every_plain_backend!(mse, l1, smooth_l1, huber, poisson_nll, gaussian_nll);

// ---------------------------------------------------------------------------------------------
// Finite differences in f64 (inputs and targets)
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod gradients {
    use burn::tensor::Tensor;
    use burn_losses::*;

    use super::common::F64Autodiff as B;
    use super::common::REDUCTIONS;
    use super::common::gradcheck::{gradcheck, gradcheck_pair, tensor, uniform};

    /// Inputs away from the kinks (|d| = 0, β, δ), where finite differences are exact.
    fn away_from_kinks(kinks: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let targets = uniform(12, -2.0, 2.0, 31);
        let mut input = uniform(12, -3.0, 3.0, 32);
        for (x, y) in input.iter_mut().zip(&targets) {
            for kink in kinks {
                for side in [-1.0, 1.0] {
                    if ((*x - y) - side * kink).abs() < 1e-3 {
                        *x += 0.01;
                    }
                }
            }
        }
        (input, targets)
    }

    fn check(what: &str, kinks: &[f64], loss: impl Fn(Tensor<B, 2>, Tensor<B, 2>) -> Tensor<B, 1>) {
        let (input, targets) = away_from_kinks(kinks);
        let shape = [3, 4];
        gradcheck_pair(what, ["input", "target"], &input, &targets, shape, &loss);
    }

    /// Counts in `[0, 6)` with two exact zeros, none within 0.05 of 1, where the Stirling term of
    /// `full` jumps (from 0 to `S(1) = -0.08`).
    fn poisson_targets() -> Vec<f64> {
        let mut targets = uniform(12, 0.0, 6.0, 41);
        for y in &mut targets {
            if (*y - 1.0).abs() < 0.05 {
                *y += 0.1;
            }
        }
        targets[0] = 0.0;
        targets[5] = 0.0;
        targets
    }

    fn check_poisson(
        what: &str,
        input: &[f64],
        loss: impl Fn(Tensor<B, 2>, Tensor<B, 2>) -> Tensor<B, 1>,
    ) {
        let targets = poisson_targets();
        let shape = [3, 4];
        gradcheck_pair(what, ["input", "target"], input, &targets, shape, &loss);
    }

    /// The gradients with respect to the input, the targets and `var` (of any shape the loss
    /// accepts) of a `(3, 4)` Gaussian NLL, with variances above `eps` (below it the clamp makes the
    /// value flat while the gradient is PyTorch's, taken at the clamped value: the fixtures cover it).
    fn check_gaussian<const DV: usize>(
        what: &str,
        var: &[f64],
        var_shape: [usize; DV],
        loss: impl Fn(Tensor<B, 2>, Tensor<B, 2>, Tensor<B, DV>) -> Tensor<B, 1>,
    ) {
        let shape = [3, 4];
        let input = uniform(12, -2.0, 2.0, 51);
        let targets = uniform(12, -2.0, 2.0, 52);
        gradcheck(&format!("{what} d/dinput"), &input, shape, |x| {
            loss(x, tensor(&targets, shape), tensor(var, var_shape))
        });
        gradcheck(&format!("{what} d/dtarget"), &targets, shape, |y| {
            loss(tensor(&input, shape), y, tensor(var, var_shape))
        });
        gradcheck(&format!("{what} d/dvar"), var, var_shape, |v| {
            loss(tensor(&input, shape), tensor(&targets, shape), v)
        });
    }

    /// `check` of the loss `$config` builds with `$set(parameter)` and `reduction`, for every
    /// parameter: a kink (SmoothL1's `beta`, Huber's `delta`) at `|x - y|` = the parameter.
    macro_rules! check_kinked {
        ($name:literal, $config:ident, $set:ident, $parameters:expr, $reduction:expr) => {
            for parameter in $parameters {
                let loss = $config::new()
                    .$set(parameter)
                    .with_reduction($reduction)
                    .init::<B>(&Default::default());
                check(
                    &format!("{} {parameter} {:?}", $name, $reduction),
                    &[0.0, parameter as f64],
                    |x, y| loss.forward(x, y),
                );
            }
        };
    }

    crate::on_f64! {
        fn every_loss_every_option() {
            let device = Default::default();
            for reduction in REDUCTIONS {
                let mse = MseLossConfig::new()
                    .with_reduction(reduction)
                    .init::<B>(&device);
                check(&format!("MSE {reduction:?}"), &[0.0], |x, y| {
                    mse.forward(x, y)
                });
                let l1 = L1LossConfig::new()
                    .with_reduction(reduction)
                    .init::<B>(&device);
                check(&format!("L1 {reduction:?}"), &[0.0], |x, y| {
                    l1.forward(x, y)
                });
                check_kinked!("SmoothL1 beta", SmoothL1LossConfig, with_beta, [0.0, 0.5, 1.0, 5.0], reduction);
                check_kinked!("Huber delta", HuberLossConfig, with_delta, [0.5, 1.0, 3.0], reduction);
            }
        }

        fn unreduced_under_an_upstream_gradient() {
            let device = Default::default();
            let upstream = tensor(&uniform(12, 0.5, 1.5, 33), [3, 4]);
            let huber = HuberLossConfig::new().with_delta(0.5).init::<B>(&device);
            check("Huber none", &[0.0, 0.5], |x, y| {
                (huber.forward_no_reduction(x, y) * upstream.clone()).sum()
            });
            let smooth = SmoothL1LossConfig::new().with_beta(1.0).init::<B>(&device);
            check("SmoothL1 none", &[0.0, 1.0], |x, y| {
                (smooth.forward_no_reduction(x, y) * upstream.clone()).sum()
            });
        }

        fn poisson_nll_every_option() {
            let device = Default::default();
            let log_rates = uniform(12, -2.0, 2.0, 42);
            let rates = uniform(12, 0.05, 4.0, 43);
            for reduction in REDUCTIONS {
                for log_input in [true, false] {
                    for full in [false, true] {
                        for eps in [1e-8, 0.5] {
                            let loss = PoissonNllLossConfig::new()
                                .with_log_input(log_input)
                                .with_full(full)
                                .with_eps(eps)
                                .with_reduction(reduction)
                                .init::<B>(&device);
                            let input = if log_input { &log_rates } else { &rates };
                            check_poisson(
                                &format!(
                                    "Poisson log_input {log_input} full {full} eps {eps} {reduction:?}"
                                ),
                                input,
                                |x, y| loss.forward(x, y),
                            );
                        }
                    }
                }
            }
        }

        fn gaussian_nll_every_option_and_var_shape() {
            let device = Default::default();
            for reduction in REDUCTIONS {
                for full in [false, true] {
                    for eps in [1e-6, 0.1] {
                        let loss = GaussianNllLossConfig::new()
                            .with_full(full)
                            .with_eps(eps)
                            .with_reduction(reduction)
                            .init::<B>(&device);
                        let what = format!("Gaussian full {full} eps {eps} {reduction:?}");
                        let forward = |x, y, v| loss.forward(x, y, v);
                        for (var_shape, seed) in [([3, 4], 53), ([3, 1], 54), ([1, 4], 55)] {
                            let [rows, columns] = var_shape;
                            check_gaussian(
                                &format!("{what} var ({rows}, {columns})"),
                                &uniform(rows * columns, 0.2, 3.0, seed),
                                var_shape,
                                forward,
                            );
                        }
                        check_gaussian(
                            &format!("{what} var (3)"),
                            &uniform(3, 0.2, 3.0, 56),
                            [3],
                            |x, y, v| loss.forward_homoscedastic(x, y, v),
                        );
                    }
                }
            }
        }

        fn poisson_and_gaussian_unreduced_under_an_upstream_gradient() {
            let device = Default::default();
            let upstream = tensor(&uniform(12, 0.5, 1.5, 57), [3, 4]);
            for log_input in [true, false] {
                let poisson = PoissonNllLossConfig::new()
                    .with_log_input(log_input)
                    .with_full(true)
                    .init::<B>(&device);
                check_poisson(
                    &format!("Poisson log_input {log_input} none"),
                    &uniform(12, 0.05, 2.0, 58),
                    |x, y| (poisson.forward_no_reduction(x, y) * upstream.clone()).sum(),
                );
            }
            let gaussian = GaussianNllLossConfig::new()
                .with_full(true)
                .init::<B>(&device);
            check_gaussian(
                "Gaussian none var (3, 1)",
                &uniform(3, 0.2, 3.0, 59),
                [3, 1],
                |x, y, v| (gaussian.forward_no_reduction(x, y, v) * upstream.clone()).sum(),
            );
            check_gaussian(
                "Gaussian none var (3)",
                &uniform(3, 0.2, 3.0, 60),
                [3],
                |x, y, v| (gaussian.forward_homoscedastic_no_reduction(x, y, v) * upstream.clone()).sum(),
            );
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
        fn regression_errors() {
            let gaussian = || GaussianNllLossConfig::new().init::<B>(&device());
            [
                negative_beta: "SmoothL1Loss: option `beta` expected a finite value >= 0, got -0.5"
                    => SmoothL1LossConfig::new().with_beta(-0.5).init::<B>(&device()),
                zero_delta: "HuberLoss: option `delta` expected a finite value > 0, got 0"
                    => HuberLossConfig::new().with_delta(0.0).init::<B>(&device()),
                mse_shape_mismatch:
                    "MseLoss: `targets` expected shape [2, 3] (the shape of `input`), got [2, 1]"
                    => MseLossConfig::new().init::<B>(&device()).forward(floats([2, 3], 0.0), floats([2, 1], 0.0)),
                l1_shape_mismatch: "L1Loss: `targets` expected shape [3] (the shape of `input`), got [4]"
                    => L1LossConfig::new().init::<B>(&device()).forward(floats([3], 0.0), floats([4], 0.0)),
                smooth_l1_shape_mismatch:
                    "SmoothL1Loss: `targets` expected shape [3] (the shape of `input`), got [4]"
                    => SmoothL1LossConfig::new().init::<B>(&device()).forward(floats([3], 0.0), floats([4], 0.0)),
                huber_shape_mismatch:
                    "HuberLoss: `targets` expected shape [3] (the shape of `input`), got [4]"
                    => HuberLossConfig::new().init::<B>(&device()).forward(floats([3], 0.0), floats([4], 0.0)),
                poisson_negative_eps: "PoissonNllLoss: option `eps` expected a finite value >= 0, got -0.001"
                    => PoissonNllLossConfig::new().with_eps(-1e-3).init::<B>(&device()),
                poisson_nan_eps: "PoissonNllLoss: option `eps` expected a finite value >= 0, got NaN"
                    => PoissonNllLossConfig::new().with_eps(f32::NAN).init::<B>(&device()),
                poisson_shape_mismatch:
                    "PoissonNllLoss: `targets` expected shape [2, 3] (the shape of `input`), got [3, 2]"
                    => PoissonNllLossConfig::new().init::<B>(&device()).forward(floats([2, 3], 0.0), floats([3, 2], 0.0)),
                gaussian_negative_eps: "GaussianNllLoss: option `eps` expected a finite value >= 0, got -1"
                    => GaussianNllLossConfig::new().with_eps(-1.0).init::<B>(&device()),
                gaussian_infinite_eps: "GaussianNllLoss: option `eps` expected a finite value >= 0, got inf"
                    => GaussianNllLossConfig::new().with_eps(f32::INFINITY).init::<B>(&device()),
                gaussian_targets_shape_mismatch:
                    "GaussianNllLoss: `targets` expected shape [4, 3] (the shape of `input`), got [4, 1]"
                    => gaussian().forward(floats([4, 3], 0.0), floats([4, 1], 0.0), floats([4, 3], 1.0)),
                // Only one dimension may differ, where var has size 1: `(1, 1)` broadcasts, but
                // PyTorch rejects it too.
                gaussian_var_two_dimensions_of_size_one:
                    "GaussianNllLoss: `var` expected shape [4, 3] (the shape of `input`), or it with one \
                     dimension of size 1, got [1, 1]"
                    => gaussian().forward(floats([4, 3], 0.0), floats([4, 3], 0.0), floats([1, 1], 1.0)),
                gaussian_var_wrong_size:
                    "GaussianNllLoss: `var` expected shape [4, 3] (the shape of `input`), or it with one \
                     dimension of size 1, got [4, 2]"
                    => gaussian().forward_no_reduction(floats([4, 3], 0.0), floats([4, 3], 0.0), floats([4, 2], 1.0)),
                // `(C)` for an `(N, C)` input broadcasts, but it is not the input's shape without its
                // last dimension: PyTorch rejects it too.
                gaussian_homoscedastic_var_wrong_shape:
                    "GaussianNllLoss: `var` expected shape [4] (the shape of `input` without its last \
                     dimension), got [3]"
                    => gaussian().forward_homoscedastic(floats([4, 3], 0.0), floats([4, 3], 0.0), floats([3], 1.0)),
                gaussian_homoscedastic_var_wrong_rank:
                    "GaussianNllLoss: `var` expected shape [4] (the shape of `input` without its last \
                     dimension), got [4, 1]"
                    => gaussian().forward_homoscedastic_no_reduction(floats([4, 3], 0.0), floats([4, 3], 0.0), floats([4, 1], 1.0)),
                gaussian_negative_var: "GaussianNllLoss: `var` expected non-negative values, got -0.5"
                    => gaussian().forward(floats([2, 2], 0.0), floats([2, 2], 0.0),
                        Tensor::from_floats([[1.0, 0.0], [-0.5, 2.0]], &device())),
                gaussian_negative_homoscedastic_var:
                    "GaussianNllLoss: `var` expected non-negative values, got -2"
                    => gaussian().forward_homoscedastic(floats([2, 2], 0.0), floats([2, 2], 0.0),
                        Tensor::<B, 1>::from_floats([1.0, -2.0], &device())),
            ]
        }
    }

    /// Without the check a negative variance is clamped to `eps` like any variance below it.
    #[test]
    fn gaussian_negative_var_unchecked() {
        let loss = GaussianNllLossConfig::new()
            .with_check_values(false)
            .init::<B>(&device());
        let var = Tensor::from_floats([-0.5, 1.0], &device());
        let losses = loss.forward_no_reduction(floats([2], 0.0), floats([2], 0.0), var);
        let expected = [0.5 * (1e-6f32).ln(), 0.0];
        for (got, expected) in losses.into_data().iter::<f32>().zip(expected) {
            assert!((got - expected).abs() < 1e-5, "{got} != {expected}");
        }
    }
}
