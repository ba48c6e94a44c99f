//! Class-index cross entropy (and its gradient) of `(N, C, d1, ..., dk)` logits in one launch:
//! one cube per position `(n, d1, ..., dk)`, its threads striding over the classes.
//!
//! Per position, as the NdArray kernel and the generic code compute it:
//!
//! - pass 1: each thread keeps a running maximum and `Σ e^{x - max}` over its classes (rescaled
//!   when the maximum grows), and with class weights their sum, and a tree in shared memory
//!   combines the threads' results (the class weights stay on the device: their sum is taken
//!   again per position, a few reads from cache, rather than read back once);
//! - pass 2 (when the gradient is wanted, or with label smoothing): each thread writes
//!   `g_c = e^{x_c - max} · scale - uniform · w_c (+ target_step at the target class)` and, with
//!   smoothing, sums `Σ_c w_c (x_c - max)`, combined by a second tree;
//! - thread 0 writes the position's loss and z-loss term.
//!
//! The per-position losses are summed by the caller (the crate's reduction), so the kernel
//! needs no atomics and its result does not depend on scheduling.

// Burn's tensor by another name: the kernel's `Tensor` is CubeCL's.
use burn::tensor::Tensor as BurnTensor;
use burn::tensor::backend::Backend;
use burn_cubecl::CubeRuntime;
use cubecl::prelude::*;

use super::{Listed, RuntimeKernel, cube_count_for, cube_size_for, on_runtimes};
use crate::backends::kernels::{IndexCrossEntropy, IndexCrossEntropyInputs};

/// The largest finite `f32`, negated: where a running maximum starts (an infinite literal does
/// not survive every shader compiler).
const LOWEST: f32 = -f32::MAX;

/// See the module docs. `class_weight` is read only when `weighted`, `gradient` written only
/// when `with_gradient`; `smoothing_per_class` is `label_smoothing / C`. A cube has
/// `cube_size` threads (a power of two: the trees halve it).
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn index_cross_entropy_kernel<F: Float, I: Numeric>(
    logits: &Tensor<F>,
    indices: &Tensor<I>,
    weights: &Tensor<F>,
    valid: &Tensor<F>,
    class_weight: &Tensor<F>,
    losses: &mut Tensor<F>,
    z_terms: &mut Tensor<F>,
    gradient: &mut Tensor<F>,
    rows: u32,
    classes: u32,
    positions: u32,
    smoothing: f32,
    smoothing_per_class: f32,
    z_loss: f32,
    #[comptime] cube_size: u32,
    #[comptime] weighted: bool,
    #[comptime] smoothed: bool,
    #[comptime] with_gradient: bool,
    #[define(F, I)] _dtypes: [StorageType; 2],
) {
    let row = (CUBE_POS_Y * CUBE_COUNT_X + CUBE_POS_X) as usize;
    if row >= rows as usize {
        terminate!();
    }
    let classes = classes as usize;
    let positions = positions as usize;
    let base = (row / positions) * classes * positions + row % positions;
    let unit = UNIT_POS_X as usize;
    let threads = CUBE_DIM_X as usize;

    // Pass 1: this thread's running maximum and sum of exponentials.
    let mut max = f32::new(LOWEST);
    let mut sum = f32::new(0.0);
    let mut weight_sum = f32::new(0.0);
    let mut class = unit;
    while class < classes {
        let x = f32::cast_from(logits[base + class * positions]);
        if x > max {
            sum *= (max - x).exp();
            max = x;
        }
        sum += (x - max).exp();
        if weighted {
            weight_sum += f32::cast_from(class_weight[class]);
        }
        class += threads;
    }
    let mut shared_max = SharedMemory::<f32>::new(cube_size as usize);
    let mut shared_sum = SharedMemory::<f32>::new(cube_size as usize);
    let mut shared_weight_sum = SharedMemory::<f32>::new(cube_size as usize);
    shared_max[unit] = max;
    shared_sum[unit] = sum;
    shared_weight_sum[unit] = weight_sum;
    sync_cube();
    let mut half = threads / 2;
    while half > 0 {
        if unit < half {
            let max_a = shared_max[unit];
            let max_b = shared_max[unit + half];
            let mut max = max_a;
            if max_b > max_a {
                max = max_b;
            }
            shared_sum[unit] = shared_sum[unit] * (max_a - max).exp()
                + shared_sum[unit + half] * (max_b - max).exp();
            shared_max[unit] = max;
            if weighted {
                shared_weight_sum[unit] += shared_weight_sum[unit + half];
            }
        }
        sync_cube();
        half /= 2;
    }
    let max = shared_max[0];
    let sum_exp = shared_sum[0];
    let mut class_weight_sum = f32::cast_from(classes as u32);
    if weighted {
        class_weight_sum = shared_weight_sum[0];
    }

    let target = u32::cast_from(indices[row]) as usize;
    let weight = f32::cast_from(weights[row]);
    let valid = f32::cast_from(valid[row]);
    let log_sum_exp = sum_exp.ln();
    let log_partition = max + log_sum_exp;
    let row_scale = weight * (1.0 - smoothing)
        + valid * class_weight_sum * smoothing_per_class
        + 2.0 * z_loss * log_partition * valid;
    let scale = row_scale / sum_exp;
    let uniform = smoothing_per_class * valid;
    let target_step = weight * (smoothing - 1.0);

    // Pass 2: the gradient, and the weighted sum of shifted logits for label smoothing.
    let mut shifted_sum = f32::new(0.0);
    if with_gradient || smoothed {
        let mut class = unit;
        while class < classes {
            let x = f32::cast_from(logits[base + class * positions]);
            let mut class_weight_here = f32::new(1.0);
            if weighted {
                class_weight_here = f32::cast_from(class_weight[class]);
            }
            if smoothed {
                shifted_sum += class_weight_here * (x - max);
            }
            if with_gradient {
                let mut g = (x - max).exp() * scale;
                if smoothed {
                    g -= uniform * class_weight_here;
                }
                if class == target {
                    g += target_step;
                }
                gradient[base + class * positions] = F::cast_from(g);
            }
            class += threads;
        }
    }
    if smoothed {
        // Every thread has read the first tree's result above; its memory is reused.
        sync_cube();
        shared_sum[unit] = shifted_sum;
        sync_cube();
        let mut half = threads / 2;
        while half > 0 {
            if unit < half {
                shared_sum[unit] += shared_sum[unit + half];
            }
            sync_cube();
            half /= 2;
        }
        shifted_sum = shared_sum[0];
    }

    if unit == 0 {
        let target_logit = f32::cast_from(logits[base + target * positions]);
        // The shift first, exactly: `max + log_sum_exp - target_logit` would round
        // `log_sum_exp` to the ulp of logits of 1e4.
        let mut loss = (log_sum_exp - (target_logit - max)) * weight;
        if smoothed {
            let smooth = (log_sum_exp * class_weight_sum - shifted_sum) * valid;
            loss = loss * (1.0 - smoothing) + smooth * smoothing_per_class;
        }
        let z_term = z_loss * log_partition * log_partition * valid;
        loss += z_term;
        if valid == 0.0 {
            loss = 0.0;
        }
        losses[row] = F::cast_from(loss);
        z_terms[row] = F::cast_from(z_term);
    }
}

/// Class-index cross entropy on a CubeCL backend of the registry; `None` on other backends.
pub(crate) fn index_cross_entropy<B: Backend, const D: usize>(
    logits: &BurnTensor<B, D>,
    inputs: IndexCrossEntropyInputs<'_, B, D>,
    with_gradient: bool,
) -> Option<IndexCrossEntropy<B, D>> {
    struct Launch<'a, B: Backend, const D: usize> {
        dims: [usize; D],
        inputs: IndexCrossEntropyInputs<'a, B, D>,
        with_gradient: bool,
    }

    impl<B: Backend, const D: usize> RuntimeKernel for Launch<'_, B, D> {
        type Output = IndexCrossEntropy<B, D>;

        fn run<R: CubeRuntime>(self, logits: Listed<R>) -> IndexCrossEntropy<B, D> {
            let Launch {
                dims,
                inputs,
                with_gradient,
            } = self;
            let (samples, classes) = (dims[0], dims[1]);
            let positions: usize = dims[2..].iter().product();
            let rows = samples * positions;
            let mut reduced_dims = dims;
            reduced_dims[1] = 1;

            let indices = logits.int(inputs.indices);
            let weights = logits.float(inputs.weights);
            let valid = logits.float(inputs.valid);
            let (class_weight, weighted) = match inputs.class_weight {
                Some(class_weight) => (logits.float(class_weight), true),
                // Not read: any buffer of the float type stands in.
                None => (weights.clone(), false),
            };
            let losses = logits.output(&reduced_dims);
            let z_terms = logits.output(&reduced_dims);
            let gradient = logits.output(if with_gradient { &dims } else { &[1] });
            let smoothing = inputs.label_smoothing;
            let cube_size = cube_size_for(classes);
            let client = logits.tensor.client.clone();
            let dtypes = [logits.tensor.dtype.into(), indices.dtype.into()];
            index_cross_entropy_kernel::launch::<R>(
                &client,
                cube_count_for(rows),
                CubeDim::new_1d(cube_size),
                logits.tensor.clone().into_tensor_arg(),
                indices.into_tensor_arg(),
                weights.into_tensor_arg(),
                valid.into_tensor_arg(),
                class_weight.into_tensor_arg(),
                losses.clone().into_tensor_arg(),
                z_terms.clone().into_tensor_arg(),
                gradient.clone().into_tensor_arg(),
                rows as u32,
                classes as u32,
                positions as u32,
                smoothing as f32,
                (smoothing / classes as f64) as f32,
                inputs.z_loss as f32,
                cube_size,
                weighted,
                smoothing > 0.0,
                with_gradient,
                dtypes,
            );
            IndexCrossEntropy {
                losses: logits.to_tensor(losses),
                z_terms: (inputs.z_loss > 0.0).then(|| logits.to_tensor(z_terms)),
                gradient: with_gradient.then(|| logits.to_tensor(gradient)),
            }
        }
    }

    on_runtimes(
        logits,
        Launch {
            dims: logits.dims(),
            inputs,
            with_gradient,
        },
    )
}
