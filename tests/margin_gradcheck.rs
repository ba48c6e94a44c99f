//! The margin family's gradients against central finite differences, in f64: every loss, every
//! option, every reduction and the unreduced output with an upstream gradient.
//!
//! A separate test binary from `margin.rs`: Burn keeps one default float dtype per device type and
//! process, and the f32 NdArray tests would otherwise turn these tensors into f32.
#![cfg(all(feature = "autodiff", feature = "ndarray"))]

mod common;

use burn::tensor::DType;
use burn_losses::*;
use common::F64Autodiff as B;
use common::gradcheck::{gradcheck, indices, tensor, uniform};

/// Fails loudly if an f32 backend in the same process has fixed the device's float dtype.
fn assert_f64() {
    assert_eq!(
        tensor(&[1.0], [1]).dtype(),
        DType::F64,
        "the finite-difference checks need f64 tensors; run them in a binary without f32 NdArray tests"
    );
}

const REDUCTIONS: [Reduction; 3] = [Reduction::Mean, Reduction::Sum, Reduction::BatchMean];

#[test]
fn soft_margin() {
    assert_f64();
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

#[test]
fn multilabel_soft_margin() {
    assert_f64();
    let input = uniform(12, -4.0, 4.0, 31);
    let targets = uniform(12, 0.0, 1.0, 32);
    for weight in [None, Some(vec![0.5, 2.0, 0.0, 1.5]), Some(vec![1.75])] {
        for reduction in REDUCTIONS {
            let loss = MultiLabelSoftMarginLossConfig::new()
                .with_weight(weight.clone())
                .with_reduction(reduction)
                .init::<B>(&Default::default());
            let what = format!("MultiLabelSoftMargin {weight:?} {reduction:?}");
            gradcheck(&format!("{what} d/dinput"), &input, [3, 4], |x| {
                loss.forward(x, tensor(&targets, [3, 4]))
            });
            gradcheck(&format!("{what} d/dtargets"), &targets, [3, 4], |y| {
                loss.forward(tensor(&input, [3, 4]), y)
            });
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

#[test]
fn multilabel_margin() {
    assert_f64();
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

#[test]
fn multi_margin() {
    assert_f64();
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
