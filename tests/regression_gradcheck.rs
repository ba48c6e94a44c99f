//! The regression losses' gradients (input and target) against central finite differences in
//! f64, in a binary of its own (Burn 0.21 keeps one default float type per device).
#![cfg(all(feature = "autodiff", feature = "ndarray"))]

mod common;

use burn::tensor::Tensor;
use burn_losses::*;
use common::F64Autodiff as B;
use common::gradcheck::{gradcheck, tensor, uniform};

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
    gradcheck(&format!("{what} d/dinput"), &input, shape, |x| {
        loss(x, tensor(&targets, shape))
    });
    gradcheck(&format!("{what} d/dtarget"), &targets, shape, |y| {
        loss(tensor(&input, shape), y)
    });
}

#[test]
fn every_loss_every_option() {
    let device = Default::default();
    for reduction in [Reduction::Mean, Reduction::Sum, Reduction::BatchMean] {
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
        for beta in [0.0, 0.5, 1.0, 5.0] {
            let loss = SmoothL1LossConfig::new()
                .with_beta(beta)
                .with_reduction(reduction)
                .init::<B>(&device);
            check(
                &format!("SmoothL1 beta {beta} {reduction:?}"),
                &[0.0, beta as f64],
                |x, y| loss.forward(x, y),
            );
        }
        for delta in [0.5, 1.0, 3.0] {
            let loss = HuberLossConfig::new()
                .with_delta(delta)
                .with_reduction(reduction)
                .init::<B>(&device);
            check(
                &format!("Huber delta {delta} {reduction:?}"),
                &[0.0, delta as f64],
                |x, y| loss.forward(x, y),
            );
        }
    }
}

#[test]
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

const REDUCTIONS: [Reduction; 3] = [Reduction::Mean, Reduction::Sum, Reduction::BatchMean];

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
    gradcheck(&format!("{what} d/dinput"), input, shape, |x| {
        loss(x, tensor(&targets, shape))
    });
    gradcheck(&format!("{what} d/dtarget"), &targets, shape, |y| {
        loss(tensor(input, shape), y)
    });
}

#[test]
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

#[test]
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
                check_gaussian(
                    &format!("{what} var (3, 4)"),
                    &uniform(12, 0.2, 3.0, 53),
                    [3, 4],
                    forward,
                );
                check_gaussian(
                    &format!("{what} var (3, 1)"),
                    &uniform(3, 0.2, 3.0, 54),
                    [3, 1],
                    forward,
                );
                check_gaussian(
                    &format!("{what} var (1, 4)"),
                    &uniform(4, 0.2, 3.0, 55),
                    [1, 4],
                    forward,
                );
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

#[test]
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
