//! BCE with logits on NdArray in one pass over the logits and targets: the loss (summed as it
//! goes when the loss is reduced, so no loss tensor is built), the logits' gradient and the
//! targets' gradient where they are tracked, with rows split across threads. The formulas are
//! those of `BinaryCrossEntropyWithLogitsLoss::elementwise`, element by element.

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor};
use num_traits::ToPrimitive;
use rayon::prelude::*;

use crate::backends::kernels::{BceWithLogits, BceWithLogitsInputs};

use super::{FloatPairKernel, KernelFloat, lane_sum, run_on_pair, small_values, tensor_of};

/// The loss on NdArray; `None` on other backends or layouts (the caller takes the generic path).
pub(crate) fn bce_with_logits<B: Backend, const D: usize>(
    logits: &Tensor<B, D>,
    targets: &Tensor<B, D>,
    inputs: BceWithLogitsInputs<'_, B>,
) -> Option<BceWithLogits<B, D>> {
    let kernel = Kernel {
        dims: logits.dims(),
        inputs: &inputs,
        device: logits.device(),
        dtype: logits.dtype(),
    };
    run_on_pair(logits, targets, kernel)
}

struct Kernel<'a, B: Backend, const D: usize> {
    dims: [usize; D],
    inputs: &'a BceWithLogitsInputs<'a, B>,
    device: B::Device,
    dtype: DType,
}

/// Rows per task: enough values that a task outweighs its scheduling.
const VALUES_PER_TASK: usize = 1 << 14;

impl<B: Backend, const D: usize> FloatPairKernel for Kernel<'_, B, D> {
    type Output = BceWithLogits<B, D>;

    fn run<E: KernelFloat>(self, logits: &[E], targets: &[E]) -> Self::Output {
        let inputs = self.inputs;
        let columns = self.dims[D - 1].max(1);
        let weights = Weights::new(
            inputs.weight.map(small_values),
            inputs.pos_weight.map(small_values),
            columns,
        );
        let buffer = |wanted: bool| wanted.then(|| E::zeros(logits.len()));
        let mut losses = buffer(inputs.unreduced);
        let mut logits_gradient = buffer(inputs.logits_gradient);
        let mut targets_gradient = buffer(inputs.targets_gradient);

        let block = (VALUES_PER_TASK / columns).max(1) * columns;
        let blocks = logits.len().div_ceil(block);
        let sum = logits
            .par_chunks(block)
            .zip(targets.par_chunks(block))
            .zip(block_slices(&mut losses, block, blocks))
            .zip(block_slices(&mut logits_gradient, block, blocks))
            .zip(block_slices(&mut targets_gradient, block, blocks))
            .map(|((((x, y), losses), dx), dy)| {
                let outputs = Outputs { losses, dx, dy };
                block_dispatch(x, y, &weights, outputs)
            })
            .sum::<f64>();

        let tensor = |values: Vec<E>| tensor_of(values, self.dims, &self.device, self.dtype);
        BceWithLogits {
            sum: Some(sum),
            losses: losses.map(tensor),
            logits_gradient: logits_gradient.map(tensor),
            targets_gradient: targets_gradient.map(tensor),
        }
    }
}

/// `buffer` cut into blocks of `block` values, or `blocks` empty slots without a buffer.
fn block_slices<E>(
    buffer: &mut Option<Vec<E>>,
    block: usize,
    blocks: usize,
) -> Vec<Option<&mut [E]>> {
    match buffer {
        Some(values) => values.chunks_mut(block).map(Some).collect(),
        None => (0..blocks).map(|_| None).collect(),
    }
}

/// The last-dimension weights as whole rows: `weight` (ones without one; multiplying by 1 is
/// exact) and `pos_weight`, each of length C.
struct Weights<E> {
    weight: Vec<E>,
    pos_weight: Option<Vec<E>>,
}

impl<E: KernelFloat> Weights<E> {
    fn new(weight: Option<Vec<E>>, pos_weight: Option<Vec<E>>, columns: usize) -> Self {
        let row = |values: Vec<E>| match values.as_slice() {
            [single] => vec![*single; columns],
            _ => values,
        };
        Self {
            weight: weight.map_or_else(|| vec![E::one(); columns], row),
            pos_weight: pos_weight.map(row),
        }
    }
}

struct Outputs<'a, E> {
    losses: Option<&'a mut [E]>,
    dx: Option<&'a mut [E]>,
    dy: Option<&'a mut [E]>,
}

/// [`block`] compiled for AVX2 where the CPU has it, else for the baseline.
fn block_dispatch<E: KernelFloat>(
    x: &[E],
    y: &[E],
    weights: &Weights<E>,
    outputs: Outputs<'_, E>,
) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { block_avx2(x, y, weights, outputs) };
    }
    block(x, y, weights, outputs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn block_avx2<E: KernelFloat>(
    x: &[E],
    y: &[E],
    weights: &Weights<E>,
    outputs: Outputs<'_, E>,
) -> f64 {
    block(x, y, weights, outputs)
}

/// Whole rows of C values: their summed loss, and the requested per-element outputs, each a
/// loop of its own over a row so that it vectorizes.
/// `ℓ = w ((1 - y) x - l log σ(x))` with `l = 1 + (p - 1) y`; `∂ℓ/∂x = w (l σ(x) - p y)`;
/// `∂ℓ/∂y = w (-x - (p - 1) log σ(x))`, 0 where not finite (PyTorch's is infinite at saturated
/// logits; see `finite_or_zero`).
#[inline(always)]
fn block<E: KernelFloat>(
    x: &[E],
    y: &[E],
    weights: &Weights<E>,
    mut outputs: Outputs<'_, E>,
) -> f64 {
    let columns = weights.weight.len();
    let mut sum = 0.0;
    let mut scratch = vec![E::zero(); columns];
    for (row, (x, y)) in x.chunks(columns).zip(y.chunks(columns)).enumerate() {
        let span = row * columns..(row + 1) * columns;
        let losses = match outputs.losses.as_deref_mut() {
            Some(losses) => &mut losses[span.clone()],
            None => &mut scratch[..],
        };
        loss_row(x, y, weights, losses);
        sum += ToPrimitive::to_f64(&lane_sum(losses, |loss| loss)).unwrap_or(f64::NAN);
        if let Some(dx) = outputs.dx.as_deref_mut() {
            logits_gradient_row(x, y, weights, &mut dx[span.clone()]);
        }
        if let Some(dy) = outputs.dy.as_deref_mut() {
            targets_gradient_row(x, weights, &mut dy[span]);
        }
    }
    sum
}

/// `e^{-|x|}` and `log σ(x) = min(x, 0) - log(1 + e^{-|x|})`.
#[inline(always)]
fn log_sigmoid<E: KernelFloat>(x: E) -> (E, E) {
    let e = E::exp_nonpositive(-x.abs());
    (e, x.min(E::zero()) - E::log1p_unit(e))
}

#[inline(always)]
fn loss_row<E: KernelFloat>(x: &[E], y: &[E], weights: &Weights<E>, out: &mut [E]) {
    let one = E::one();
    let rows = out.iter_mut().zip(x).zip(y).zip(&weights.weight);
    match &weights.pos_weight {
        Some(pos_weight) => {
            for ((((out, &x), &y), &w), &p) in rows.zip(pos_weight) {
                let log_weight = one + (p - one) * y;
                *out = w * ((one - y) * x - log_weight * log_sigmoid(x).1);
            }
        }
        None => {
            for (((out, &x), &y), &w) in rows {
                *out = w * ((one - y) * x - log_sigmoid(x).1);
            }
        }
    }
}

#[inline(always)]
fn logits_gradient_row<E: KernelFloat>(x: &[E], y: &[E], weights: &Weights<E>, out: &mut [E]) {
    let one = E::one();
    let sigmoid = |x: E| {
        let e = E::exp_nonpositive(-x.abs());
        let numerator = if x >= E::zero() { one } else { e };
        numerator / (one + e)
    };
    let rows = out.iter_mut().zip(x).zip(y).zip(&weights.weight);
    match &weights.pos_weight {
        Some(pos_weight) => {
            for ((((out, &x), &y), &w), &p) in rows.zip(pos_weight) {
                let log_weight = one + (p - one) * y;
                *out = w * (log_weight * sigmoid(x) - p * y);
            }
        }
        None => {
            for (((out, &x), &y), &w) in rows {
                *out = w * (sigmoid(x) - y);
            }
        }
    }
}

#[inline(always)]
fn targets_gradient_row<E: KernelFloat>(x: &[E], weights: &Weights<E>, out: &mut [E]) {
    let one = E::one();
    let finite = |value: E| if value.is_finite() { value } else { E::zero() };
    let rows = out.iter_mut().zip(x).zip(&weights.weight);
    match &weights.pos_weight {
        Some(pos_weight) => {
            for (((out, &x), &w), &p) in rows.zip(pos_weight) {
                *out = finite(w * (-x - (p - one) * log_sigmoid(x).1));
            }
        }
        None => {
            for ((out, &x), &w) in rows {
                *out = finite(w * -x);
            }
        }
    }
}
