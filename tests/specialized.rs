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

/// The inputs of one comparison of cross entropy's paths: `(N, C, P)` shapes, the logits'
/// range, the class weight of each class, and each position's target (`-100`: ignored).
struct CrossEntropyCases {
    shapes: &'static [(usize, usize, usize)],
    logit_range: f64,
    class_weight: fn(usize) -> f32,
    target: fn(position: usize, positions: usize, classes: usize) -> i64,
}

/// Every class index in turn, one position ignored.
fn one_ignored(position: usize, positions: usize, classes: usize) -> i64 {
    if position == positions / 2 {
        -100
    } else {
        ((position * 7) % classes) as i64
    }
}

/// Cross entropy on `B` as it is (its kernels) and inside `generic_path`, every option, values
/// and gradients within [`SAME`]; whether any output differed in a bit.
fn cross_entropy_paths_agree<B: burn::tensor::backend::AutodiffBackend>(
    cases: CrossEntropyCases,
) -> bool {
    let mut differ = false;
    for &(rows, classes, positions) in cases.shapes {
        let range = cases.logit_range;
        let logits = uniform(rows * classes * positions, -range, range, rows as u64);
        let targets: Vec<i64> = (0..rows * positions)
            .map(|position| (cases.target)(position, rows * positions, classes))
            .collect();
        let weight: Vec<f32> = (0..classes).map(cases.class_weight).collect();
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
                    let run = || cross_entropy::<B>(&config, &logits, &targets, shape, reduced);
                    differ |= assert_same(&what, run(), generic_path(run));
                }
            }
        }
    }
    differ
}

#[test]
fn cross_entropy_kernel_matches_the_generic_code() {
    // (N, C, positions): rows wider than the 16 lanes with a remainder, and image-like inputs
    // with more positions than the kernel's 64-position blocks.
    let differ = cross_entropy_paths_agree::<NdArrayAutodiff>(CrossEntropyCases {
        shapes: &[
            (64, 1000, 1),
            (9, 37, 1),
            (5, 16, 1),
            (3, 1, 1),
            (3, 5, 77),
            (2, 21, 130),
        ],
        logit_range: 8.0,
        class_weight: |class| 0.5 + (class % 4) as f32 * 0.25,
        target: one_ignored,
    });
    assert_generic_path_ran(differ);
}

/// The CubeCL kernel (on `CubeBackend<WgpuRuntime>`, lavapipe in CI) at the sizes where a
/// cube-per-row kernel can go wrong: one row, one class, a class count equal to the cube size
/// (256) and one off it, counts that are not a multiple of a vector width, more rows than a
/// launch has cubes in one dimension (65535), image-like inputs; logits of ±1e4, zero class
/// weights, every target ignored.
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_cross_entropy_kernel_matches_the_generic_code() {
    use common::WgpuAutodiff;
    let mut differ = cross_entropy_paths_agree::<WgpuAutodiff>(CrossEntropyCases {
        shapes: &[
            (1, 7, 1),
            (3, 1, 1),
            (4, 256, 1),
            (4, 255, 1),
            (4, 257, 1),
            (6, 37, 1),
            (3, 1000, 1),
            (65_537, 2, 1),
            (3, 5, 77),
            (2, 21, 130),
        ],
        logit_range: 8.0,
        class_weight: |class| 0.5 + (class % 4) as f32 * 0.25,
        target: one_ignored,
    });
    differ |= cross_entropy_paths_agree::<WgpuAutodiff>(CrossEntropyCases {
        shapes: &[(5, 33, 1), (2, 3, 9)],
        logit_range: 1e4,
        class_weight: |class| (class % 3) as f32 * 0.5,
        target: one_ignored,
    });
    differ |= cross_entropy_paths_agree::<WgpuAutodiff>(CrossEntropyCases {
        shapes: &[(4, 10, 1), (2, 4, 6)],
        logit_range: 8.0,
        class_weight: |class| 1.0 + class as f32,
        target: |_, _, _| -100,
    });
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

/// BCE with logits on `B` as it is (its kernels) and inside `generic_path`, every weight
/// combination, with logits of ±1e4 and 0 among them; whether any output differed in a bit.
fn bce_with_logits_paths_agree<B: burn::tensor::backend::AutodiffBackend>(
    shapes: &[(usize, usize)],
) -> bool {
    let mut differ = false;
    for &(rows, columns) in shapes {
        let mut logits = uniform(rows * columns, -30.0, 30.0, 3);
        for (logit, special) in logits.iter_mut().zip([1e4, -1e4, 0.0]) {
            *logit = special;
        }
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
                let run = || bce_with_logits::<B>(&config, &logits, &targets, shape, reduced);
                differ |= assert_same(&what, run(), generic_path(run));
            }
        }
    }
    differ
}

#[test]
fn bce_with_logits_kernel_matches_the_generic_code() {
    let differ = bce_with_logits_paths_agree::<NdArrayAutodiff>(&[(32, 100), (7, 16), (4, 3)]);
    assert_generic_path_ran(differ);
}

/// The CubeCL kernel (lavapipe in CI): one element, one column, a column count off the cube
/// size, more elements than one cube per row would cover.
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_bce_with_logits_kernel_matches_the_generic_code() {
    let differ = bce_with_logits_paths_agree::<common::WgpuAutodiff>(&[
        (1, 1),
        (300, 1),
        (5, 257),
        (7, 16),
        (129, 3),
    ]);
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
