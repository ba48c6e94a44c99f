//! Every loss's gradient against central finite differences, in f64.
//!
//! Kept in a binary of its own: Burn 0.21 keeps one default float dtype per device, so an f64
//! NdArray cannot share a test process with the f32 NdArray of the other tests.
#![cfg(all(feature = "autodiff", feature = "ndarray"))]

mod common;

use burn_losses::*;
use common::F64Autodiff as B;
use common::gradcheck::{gradcheck, indices, probability_rows, tensor, uniform};

/// The reductions to check, each as a function of the unreduced losses' upstream weights.
const REDUCTIONS: [Reduction; 3] = [Reduction::Mean, Reduction::Sum, Reduction::BatchMean];

#[test]
fn cross_entropy_class_indices() {
    let targets_2d = [2, -100, 0, 1];
    let targets_3d = [0, 2, 1, 1];
    for weight in [None, Some(vec![0.5, 2.0, 1.5])] {
        for smoothing in [0.0, 0.2] {
            for reduction in REDUCTIONS {
                let config = CrossEntropyLossConfig::new()
                    .with_weight(weight.clone())
                    .with_label_smoothing(smoothing)
                    .with_reduction(reduction);
                let loss = config.init::<B>(&Default::default());
                let what = format!("CE {config}");
                gradcheck(&what, &uniform(12, -3.0, 3.0, 1), [4, 3], |x| {
                    loss.forward(x, indices(&targets_2d, [4]))
                });
                gradcheck(&what, &uniform(12, -3.0, 3.0, 2), [2, 3, 2], |x| {
                    loss.forward(x, indices(&targets_3d, [2, 2]))
                });
            }
            let loss = CrossEntropyLossConfig::new()
                .with_weight(weight.clone())
                .with_label_smoothing(smoothing)
                .with_ignore_index(Some(1))
                .init::<B>(&Default::default());
            let upstream = tensor(&uniform(4, 0.5, 1.5, 3), [4]);
            gradcheck(
                "CE none, ignore_index 1",
                &uniform(12, -3.0, 3.0, 4),
                [4, 3],
                |x| {
                    (loss.forward_no_reduction(x, indices(&[2, 1, 0, 1], [4])) * upstream.clone())
                        .sum()
                },
            );
        }
    }
}

#[test]
fn cross_entropy_z_loss() {
    for smoothing in [0.0, 0.2] {
        for reduction in REDUCTIONS {
            let loss = CrossEntropyLossConfig::new()
                .with_weight(Some(vec![0.5, 2.0, 1.5]))
                .with_label_smoothing(smoothing)
                .with_z_loss(0.1)
                .with_reduction(reduction)
                .init::<B>(&Default::default());
            let what = format!("CE z-loss smoothing {smoothing} {reduction:?}");
            gradcheck(&what, &uniform(12, -3.0, 3.0, 15), [4, 3], |x| {
                loss.forward(x, indices(&[2, -100, 0, 1], [4]))
            });
            gradcheck(
                &format!("{what} probs"),
                &uniform(12, -3.0, 3.0, 16),
                [3, 4],
                |x| {
                    let weight = Some(vec![0.5, 2.0, 1.5, 1.0]);
                    let loss = CrossEntropyLossConfig::new()
                        .with_weight(weight)
                        .with_label_smoothing(smoothing)
                        .with_z_loss(0.1)
                        .with_reduction(reduction)
                        .init::<B>(&Default::default());
                    loss.forward_probs(x, tensor(&probability_rows([3, 4], 17), [3, 4]))
                },
            );
        }
    }
}

#[test]
fn cross_entropy_class_probabilities() {
    let probs = probability_rows([3, 4], 5);
    let logits = uniform(12, -3.0, 3.0, 6);
    for weight in [None, Some(vec![0.5, 2.0, 1.5, 1.0])] {
        for smoothing in [0.0, 0.3] {
            for reduction in REDUCTIONS {
                let loss = CrossEntropyLossConfig::new()
                    .with_weight(weight.clone())
                    .with_label_smoothing(smoothing)
                    .with_reduction(reduction)
                    .init::<B>(&Default::default());
                let what =
                    format!("CE probs weight {weight:?} smoothing {smoothing} {reduction:?}");
                gradcheck(&format!("{what} d/dlogits"), &logits, [3, 4], |x| {
                    loss.forward_probs(x, tensor(&probs, [3, 4]))
                });
                gradcheck(&format!("{what} d/dprobs"), &probs, [3, 4], |t| {
                    loss.forward_probs(tensor(&logits, [3, 4]), t)
                });
            }
        }
    }
}

#[test]
fn nll() {
    for weight in [None, Some(vec![0.5, 2.0, 1.5])] {
        for reduction in REDUCTIONS {
            let loss = NllLossConfig::new()
                .with_weight(weight.clone())
                .with_reduction(reduction)
                .init::<B>(&Default::default());
            gradcheck(
                &format!("NLL {weight:?} {reduction:?}"),
                &uniform(12, -3.0, 0.0, 7),
                [4, 3],
                |x| loss.forward(x, indices(&[2, -100, 0, 1], [4])),
            );
        }
    }
}

#[test]
fn binary_cross_entropy() {
    let probs = uniform(8, 0.05, 0.95, 8);
    let targets = uniform(8, 0.0, 1.0, 9);
    for weight in [None, Some(vec![0.5, 2.0, 1.5, 1.0])] {
        for reduction in REDUCTIONS {
            let loss = BinaryCrossEntropyLossConfig::new()
                .with_weight(weight.clone())
                .with_reduction(reduction)
                .init::<B>(&Default::default());
            let what = format!("BCE {weight:?} {reduction:?}");
            gradcheck(&format!("{what} d/dprobs"), &probs, [2, 4], |x| {
                loss.forward(x, tensor(&targets, [2, 4]))
            });
            gradcheck(&format!("{what} d/dtargets"), &targets, [2, 4], |y| {
                loss.forward(tensor(&probs, [2, 4]), y)
            });
        }
    }
}

#[test]
fn binary_cross_entropy_with_logits() {
    let logits = uniform(8, -4.0, 4.0, 10);
    let targets = uniform(8, 0.0, 1.0, 11);
    for weight in [None, Some(vec![0.5, 2.0, 1.5, 1.0])] {
        for pos_weight in [None, Some(vec![3.0, 0.5, 1.0, 2.0])] {
            let loss = BinaryCrossEntropyWithLogitsLossConfig::new()
                .with_weight(weight.clone())
                .with_pos_weight(pos_weight.clone())
                .init::<B>(&Default::default());
            let what = format!("BCE-with-logits {weight:?} {pos_weight:?}");
            gradcheck(&format!("{what} d/dlogits"), &logits, [2, 4], |x| {
                loss.forward(x, tensor(&targets, [2, 4]))
            });
            gradcheck(&format!("{what} d/dtargets"), &targets, [2, 4], |y| {
                loss.forward(tensor(&logits, [2, 4]), y)
            });
            let upstream = tensor(&uniform(8, 0.5, 1.5, 12), [2, 4]);
            gradcheck(&format!("{what} none"), &logits, [2, 4], |x| {
                (loss.forward_no_reduction(x, tensor(&targets, [2, 4])) * upstream.clone()).sum()
            });
        }
    }
}

#[test]
fn kl_div() {
    let log_q: Vec<f64> = probability_rows([2, 4], 13)
        .iter()
        .map(|p| p.ln())
        .collect();
    let p = probability_rows([2, 4], 14);
    let log_p: Vec<f64> = p.iter().map(|p| p.ln()).collect();
    for (log_target, target) in [(false, &p), (true, &log_p)] {
        for reduction in REDUCTIONS {
            let loss = KlDivLossConfig::new()
                .with_log_target(log_target)
                .with_reduction(reduction)
                .init::<B>(&Default::default());
            let what = format!("KL log_target {log_target} {reduction:?}");
            gradcheck(&format!("{what} d/dinput"), &log_q, [2, 4], |x| {
                loss.forward(x, tensor(target, [2, 4]))
            });
            gradcheck(&format!("{what} d/dtarget"), target, [2, 4], |t| {
                loss.forward(tensor(&log_q, [2, 4]), t)
            });
        }
    }
}

#[test]
fn fused_linear_cross_entropy() {
    let targets = [2, -100, 0, 4, 1];
    let hidden = uniform(15, -1.0, 1.0, 21);
    let projection = uniform(15, -1.0, 1.0, 22);
    let bias = uniform(5, -0.5, 0.5, 23);
    for (smoothing, z_loss) in [(0.0, 0.0), (0.2, 0.05)] {
        for reduction in [Reduction::Mean, Reduction::Sum] {
            let loss = FusedLinearCrossEntropyLossConfig::new()
                .with_cross_entropy(
                    CrossEntropyLossConfig::new()
                        .with_weight(Some(vec![1.0, 0.5, 2.0, 1.5, 1.0]))
                        .with_label_smoothing(smoothing)
                        .with_z_loss(z_loss)
                        .with_reduction(reduction),
                )
                .with_chunk_size(2)
                .init(&Default::default());
            let what = format!("fused smoothing {smoothing} z {z_loss} {reduction:?}");
            let t = || indices(&targets, [5]);
            gradcheck(&format!("{what} d/dhidden"), &hidden, [5, 3], |h| {
                loss.forward(
                    h,
                    tensor(&projection, [5, 3]),
                    Some(tensor(&bias, [5])),
                    t(),
                )
            });
            gradcheck(&format!("{what} d/dprojection"), &projection, [5, 3], |w| {
                loss.forward(tensor(&hidden, [5, 3]), w, Some(tensor(&bias, [5])), t())
            });
            gradcheck(&format!("{what} d/dbias"), &bias, [5], |b| {
                loss.forward(
                    tensor(&hidden, [5, 3]),
                    tensor(&projection, [5, 3]),
                    Some(b),
                    t(),
                )
            });
        }
    }
}
