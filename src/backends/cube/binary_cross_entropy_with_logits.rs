//! BCE with logits, element-wise in one launch: each thread reads one logit and its target and
//! writes that element's loss and the requested gradients. The losses are summed by the
//! caller (the crate's blocked sum), so the sum does not depend on scheduling.
//!
//! Per element, as the NdArray kernel and the generic code compute it, with `w` the weight and
//! `p` the positive weight of its column (1 without one):
//! `ℓ = w ((1 - y) x - (1 + (p - 1) y) log σ(x))`, `∂ℓ/∂x = w ((1 + (p - 1) y) σ(x) - p y)`,
//! `∂ℓ/∂y = w (-x - (p - 1) log σ(x))` (0 where not finite), with
//! `log σ(x) = min(x, 0) - log1p(e^{-|x|})`.

// Burn's tensor by another name: the kernel's `Tensor` is CubeCL's.
use burn::tensor::Tensor as BurnTensor;
use burn::tensor::backend::Backend;
use burn_cubecl::CubeRuntime;
use cubecl::prelude::*;

use super::{Listed, RuntimeKernel, on_runtimes};
use crate::backends::kernels::{BceWithLogits, BceWithLogitsInputs};

/// Threads per cube of the element-wise launch.
const CUBE_SIZE: u32 = 256;

/// `ln(1 + e)` for `e` in `[0, 1]`, accurate where `1 + e` rounds to 1 (Goldberg's form: the
/// logarithm of the rounded sum, scaled by how much the rounding changed `e`).
#[cube]
fn log1p_unit(e: f32) -> f32 {
    let u = 1.0 + e;
    let rounded = u - 1.0;
    let mut value = e;
    if rounded != 0.0 {
        value = u.ln() * (e / rounded);
    }
    value
}

/// See the module docs. `weight` and `pos_weight` (lengths `weight_len` and `pos_weight_len`:
/// the last dimension's, or 1) are read only when `weighted` / `pos_weighted`; each gradient
/// is written only when asked for.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn bce_with_logits_kernel<F: Float>(
    logits: &Tensor<F>,
    targets: &Tensor<F>,
    weight: &Tensor<F>,
    pos_weight: &Tensor<F>,
    losses: &mut Tensor<F>,
    logits_gradient: &mut Tensor<F>,
    targets_gradient: &mut Tensor<F>,
    elements: u32,
    columns: u32,
    weight_len: u32,
    pos_weight_len: u32,
    #[comptime] weighted: bool,
    #[comptime] pos_weighted: bool,
    #[comptime] with_logits_gradient: bool,
    #[comptime] with_targets_gradient: bool,
    #[define(F)] _dtype: StorageType,
) {
    let index = (CUBE_POS_Y * CUBE_COUNT_X + CUBE_POS_X) as usize * CUBE_DIM_X as usize
        + UNIT_POS_X as usize;
    if index >= elements as usize {
        terminate!();
    }
    let column = index % columns as usize;
    let x = f32::cast_from(logits[index]);
    let y = f32::cast_from(targets[index]);
    let mut w = f32::new(1.0);
    if weighted {
        w = f32::cast_from(weight[column % weight_len as usize]);
    }
    let mut pos_weight_minus_one = f32::new(0.0);
    if pos_weighted {
        pos_weight_minus_one = f32::cast_from(pos_weight[column % pos_weight_len as usize]) - 1.0;
    }
    let mut min_zero = x;
    if x > 0.0 {
        min_zero = 0.0;
    }
    let log_sigmoid = min_zero - log1p_unit((-x.abs()).exp());
    let log_weight = 1.0 + pos_weight_minus_one * y;
    losses[index] = F::cast_from(w * ((1.0 - y) * x - log_weight * log_sigmoid));
    if with_logits_gradient {
        let sigmoid = 1.0 / (1.0 + (-x).exp());
        let gradient = log_weight * sigmoid - (pos_weight_minus_one + 1.0) * y;
        logits_gradient[index] = F::cast_from(w * gradient);
    }
    if with_targets_gradient {
        let mut gradient = w * (-x - pos_weight_minus_one * log_sigmoid);
        if gradient.is_nan() || gradient.is_inf() {
            gradient = 0.0;
        }
        targets_gradient[index] = F::cast_from(gradient);
    }
}

/// BCE with logits on a CubeCL backend of the registry: every element's loss (the caller sums
/// them) and the requested gradients; `None` on other backends.
pub(crate) fn bce_with_logits<B: Backend, const D: usize>(
    logits: &BurnTensor<B, D>,
    targets: &BurnTensor<B, D>,
    inputs: BceWithLogitsInputs<'_, B>,
) -> Option<BceWithLogits<B, D>> {
    struct Launch<'a, B: Backend, const D: usize> {
        dims: [usize; D],
        targets: &'a BurnTensor<B, D>,
        inputs: BceWithLogitsInputs<'a, B>,
    }

    impl<B: Backend, const D: usize> RuntimeKernel for Launch<'_, B, D> {
        type Output = BceWithLogits<B, D>;

        fn run<R: CubeRuntime>(self, logits: Listed<R>) -> BceWithLogits<B, D> {
            let Launch {
                dims,
                targets,
                inputs,
            } = self;
            let elements: usize = dims.iter().product();
            let columns = dims[D - 1].max(1);
            let targets = logits.float(targets);
            // Not read when absent: any buffer of the float type stands in.
            let weight_buffer = |weight: Option<&BurnTensor<B, 1>>| match weight {
                Some(weight) => (logits.float(weight), weight.dims()[0], true),
                None => (targets.clone(), 1, false),
            };
            let (weight, weight_len, weighted) = weight_buffer(inputs.weight);
            let (pos_weight, pos_weight_len, pos_weighted) = weight_buffer(inputs.pos_weight);
            let output = |wanted: bool| logits.output(if wanted { &dims } else { &[1] });
            let losses = logits.output(&dims);
            let logits_gradient = output(inputs.logits_gradient);
            let targets_gradient = output(inputs.targets_gradient);
            let client = logits.tensor.client.clone();
            let dtype = logits.tensor.dtype.into();
            let cubes = elements.div_ceil(CUBE_SIZE as usize);
            bce_with_logits_kernel::launch::<R>(
                &client,
                super::cube_count_for(cubes),
                CubeDim::new_1d(CUBE_SIZE),
                logits.tensor.clone().into_tensor_arg(),
                targets.into_tensor_arg(),
                weight.into_tensor_arg(),
                pos_weight.into_tensor_arg(),
                losses.clone().into_tensor_arg(),
                logits_gradient.clone().into_tensor_arg(),
                targets_gradient.clone().into_tensor_arg(),
                elements as u32,
                columns as u32,
                weight_len as u32,
                pos_weight_len as u32,
                weighted,
                pos_weighted,
                inputs.logits_gradient,
                inputs.targets_gradient,
                dtype,
            );
            BceWithLogits {
                sum: None,
                losses: Some(logits.to_tensor(losses)),
                logits_gradient: inputs
                    .logits_gradient
                    .then(|| logits.to_tensor(logits_gradient)),
                targets_gradient: inputs
                    .targets_gradient
                    .then(|| logits.to_tensor(targets_gradient)),
            }
        }
    }

    on_runtimes(
        logits,
        Launch {
            dims: logits.dims(),
            targets,
            inputs,
        },
    )
}
