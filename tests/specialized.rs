//! The NdArray kernels of `src/backends` against the generic code they replace, at widths the
//! PyTorch fixtures do not reach (rows longer than the kernels' 16 vector lanes, with a
//! remainder): the same inputs on `Autodiff<NdArray<f32>>`, as it is (specialized) and inside
//! `burn_losses::backends::generic_path` (generic), values and gradients, every option.
#![cfg(feature = "ndarray")]

mod common;

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use burn_losses::backends::generic_path;
use burn_losses::*;
use common::gradcheck::uniform;
use common::{Array, NdArrayAutodiff, Tolerance, assert_close};

const SAME: Tolerance = Tolerance {
    relative: 1e-5,
    absolute: 1e-6,
};

fn floats<B: Backend>(values: &[f64], shape: [usize; 2]) -> Tensor<B, 2> {
    let values: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

fn reference(data: TensorData) -> Array {
    Array {
        shape: data.shape.to_vec(),
        data: data.iter::<f64>().collect(),
    }
}

/// Loss value, input gradient and (when given) the second input's gradient.
type Outputs = Vec<TensorData>;

/// Asserts that the two paths agree within [`SAME`]; returns whether they differ in any bit (the
/// kernels round differently, so some output somewhere does: the sign that the generic path ran).
fn assert_same(what: &str, specialized: Outputs, generic: Outputs) -> bool {
    assert_eq!(specialized.len(), generic.len(), "{what}: outputs");
    let mut differ = false;
    for (index, (s, g)) in specialized.into_iter().zip(generic).enumerate() {
        differ |= s != g;
        assert_close(&format!("{what} output {index}"), s, &reference(g), SAME);
    }
    differ
}

/// Fails if no comparison of a test saw the paths differ in a single bit.
#[track_caller]
fn assert_generic_path_ran(differ: bool) {
    assert!(
        differ,
        "the generic path matched the kernels to the bit everywhere: did generic_path take effect?"
    );
}

/// The loss value and the gradient that reaches `input`.
fn value_and_gradient<B: burn::tensor::backend::AutodiffBackend, const D: usize>(
    value: Tensor<B, 1>,
    input: &Tensor<B, D>,
) -> Outputs {
    let grads = value.backward();
    vec![
        value.into_data(),
        input.grad(&grads).expect("a gradient").into_data(),
    ]
}

/// An input `(N, C, P)` (tracked) and its class-index targets `(N, P)`.
fn with_positions<B: burn::tensor::backend::AutodiffBackend>(
    input: &[f64],
    targets: &[i64],
    [samples, classes, positions]: [usize; 3],
) -> (Tensor<B, 3>, Tensor<B, 2, Int>) {
    let input = floats::<B>(input, [samples, classes * positions])
        .reshape([samples, classes, positions])
        .require_grad();
    let targets = Tensor::<B, 2, Int>::from_data(
        TensorData::new(targets.to_vec(), [samples, positions]),
        &Default::default(),
    );
    (input, targets)
}

/// Cross entropy of `(N, C, P)` logits (`P = 1`: the `(N, C)` case, as a user passes it).
fn cross_entropy<B: burn::tensor::backend::AutodiffBackend>(
    config: &CrossEntropyLossConfig,
    logits: &[f64],
    targets: &[i64],
    [samples, classes, positions]: [usize; 3],
    reduced: bool,
) -> Outputs {
    let device = Default::default();
    let loss = config.init::<B>(&device);
    let upstream = || {
        let values = uniform(samples * positions, -1.0, 1.0, 9);
        floats::<B>(&values, [samples, positions])
    };
    if positions == 1 {
        let logits = floats::<B>(logits, [samples, classes]).require_grad();
        let targets =
            Tensor::<B, 1, Int>::from_data(TensorData::new(targets.to_vec(), [samples]), &device);
        let value = if reduced {
            loss.forward(logits.clone(), targets)
        } else {
            let losses: Tensor<B, 1> = loss.forward_no_reduction(logits.clone(), targets);
            (losses.unsqueeze_dim::<2>(1) * upstream()).sum()
        };
        return value_and_gradient(value, &logits);
    }
    let (logits, targets) = with_positions::<B>(logits, targets, [samples, classes, positions]);
    let value = if reduced {
        loss.forward(logits.clone(), targets)
    } else {
        let losses: Tensor<B, 2> = loss.forward_no_reduction(logits.clone(), targets);
        (losses * upstream()).sum()
    };
    value_and_gradient(value, &logits)
}

#[test]
fn cross_entropy_kernel_matches_the_generic_code() {
    // (N, C, positions): rows wider than the 16 lanes with a remainder, and image-like inputs
    // with more positions than the kernel's 64-position blocks.
    let mut differ = false;
    for (rows, classes, positions) in [
        (64, 1000, 1),
        (9, 37, 1),
        (5, 16, 1),
        (3, 1, 1),
        (3, 5, 77),
        (2, 21, 130),
    ] {
        let logits = uniform(rows * classes * positions, -8.0, 8.0, rows as u64);
        let mut targets: Vec<i64> = (0..rows * positions)
            .map(|i| ((i * 7) % classes) as i64)
            .collect();
        targets[rows * positions / 2] = -100;
        let weight: Vec<f32> = (0..classes).map(|c| 0.5 + (c % 4) as f32 * 0.25).collect();
        for (with_weight, smoothing, z_loss) in [
            (false, 0.0, 0.0),
            (true, 0.0, 0.0),
            (false, 0.1, 0.0),
            (true, 0.2, 1e-3),
            (false, 0.0, 1e-2),
        ] {
            for reduction in [Reduction::Mean, Reduction::Sum] {
                let config = CrossEntropyLossConfig::new()
                    .with_weight(with_weight.then(|| weight.clone()))
                    .with_label_smoothing(smoothing)
                    .with_z_loss(z_loss)
                    .with_reduction(reduction);
                for reduced in [true, false] {
                    let what = format!(
                        "[{rows}, {classes}, {positions}] weight {with_weight} \
                         smoothing {smoothing} z {z_loss} {reduction:?} reduced {reduced}"
                    );
                    let shape = [rows, classes, positions];
                    let run = || {
                        cross_entropy::<NdArrayAutodiff>(&config, &logits, &targets, shape, reduced)
                    };
                    differ |= assert_same(&what, run(), generic_path(run));
                }
            }
        }
    }
    assert_generic_path_ran(differ);
}

fn bce_with_logits<B: burn::tensor::backend::AutodiffBackend>(
    config: &BinaryCrossEntropyWithLogitsLossConfig,
    logits: &[f64],
    targets: &[f64],
    shape: [usize; 2],
    reduced: bool,
) -> Outputs {
    let device = Default::default();
    let logits = floats::<B>(logits, shape).require_grad();
    let targets = floats::<B>(targets, shape).require_grad();
    let loss = config.init::<B>(&device);
    let value = if reduced {
        loss.forward(logits.clone(), targets.clone())
    } else {
        let upstream = floats::<B>(&uniform(shape[0] * shape[1], -1.0, 1.0, 8), shape);
        (loss.forward_no_reduction(logits.clone(), targets.clone()) * upstream).sum()
    };
    let grads = value.backward();
    vec![
        value.into_data(),
        logits.grad(&grads).expect("a logits gradient").into_data(),
        targets
            .grad(&grads)
            .expect("a targets gradient")
            .into_data(),
    ]
}

#[test]
fn bce_with_logits_kernel_matches_the_generic_code() {
    let mut differ = false;
    for (rows, columns) in [(32, 100), (7, 16), (4, 3)] {
        let mut logits = uniform(rows * columns, -30.0, 30.0, 3);
        logits[0] = 1e4;
        logits[1] = -1e4;
        logits[2] = 0.0;
        let targets = uniform(rows * columns, 0.0, 1.0, 4);
        let weight: Vec<f32> = (0..columns).map(|c| 0.5 + (c % 3) as f32 * 0.5).collect();
        let pos_weight: Vec<f32> = (0..columns).map(|c| 0.25 + (c % 5) as f32).collect();
        for (weight, pos_weight) in [
            (None, None),
            (Some(weight.clone()), None),
            (None, Some(pos_weight.clone())),
            (Some(weight.clone()), Some(pos_weight.clone())),
            (Some(vec![2.0]), Some(vec![3.0])),
        ] {
            let config = BinaryCrossEntropyWithLogitsLossConfig::new()
                .with_weight(weight.clone())
                .with_pos_weight(pos_weight.clone());
            for reduced in [true, false] {
                let what = format!(
                    "[{rows}, {columns}] weight {} pos_weight {} reduced {reduced}",
                    weight.is_some(),
                    pos_weight.is_some()
                );
                let shape = [rows, columns];
                let run = || {
                    bce_with_logits::<NdArrayAutodiff>(&config, &logits, &targets, shape, reduced)
                };
                differ |= assert_same(&what, run(), generic_path(run));
            }
        }
    }
    assert_generic_path_ran(differ);
}

fn nll<B: burn::tensor::backend::AutodiffBackend>(
    log_probs: &[f64],
    targets: &[i64],
    [samples, classes, positions]: [usize; 3],
) -> Outputs {
    let device = Default::default();
    let loss = NllLossConfig::new()
        .with_weight(Some((0..classes).map(|c| 1.0 + c as f32 / 8.0).collect()))
        .init::<B>(&device);
    let (log_probs, targets) =
        with_positions::<B>(log_probs, targets, [samples, classes, positions]);
    value_and_gradient(loss.forward(log_probs.clone(), targets), &log_probs)
}

#[test]
fn nll_kernel_matches_the_generic_code() {
    // NLL's kernel gathers and sums as the generic code does, to the bit, so this test cannot
    // see which path ran; the cross entropy and BCE tests above show that `generic_path` did.
    for (samples, classes, positions) in [(64, 1000, 1), (2, 21, 130)] {
        let log_probs = uniform(samples * classes * positions, -9.0, 0.0, 5);
        let mut targets: Vec<i64> = (0..samples * positions)
            .map(|i| ((i * 5) % classes) as i64)
            .collect();
        targets[1] = -100;
        let shape = [samples, classes, positions];
        let run = || nll::<NdArrayAutodiff>(&log_probs, &targets, shape);
        assert_same(&format!("nll {shape:?}"), run(), generic_path(run));
    }
}
