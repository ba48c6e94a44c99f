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
