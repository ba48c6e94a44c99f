//! Class-index cross entropy on NdArray in one pass per row: the maximum, the exponentials (kept
//! in the gradient's row when a gradient is needed), their sum, the loss, and the gradient scaled
//! in place, with rows split across threads. The generic path makes about ten tensor-wide passes
//! (max, shift, exp, sum, gather, scale, select-assign, ...) and holds an exponentials buffer
//! besides the gradient; this one reads the logits once and writes the gradient once. The
//! formulas are those of `CrossEntropyLoss::index_values` and `index_gradient`.

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Int, Tensor};
use num_traits::NumCast;
use rayon::prelude::*;

use super::ndarray::{
    FloatKernel, KernelFloat, lane_max, lane_sum, lane_sum_weighted, run_on_values, small_values,
    tensor_of,
};

/// The options of the loss, and the prepared per-row targets (ignored rows: weight and validity
/// 0, index 0).
pub(crate) struct IndexCrossEntropyInputs<'a, B: Backend> {
    pub indices: &'a Tensor<B, 2, Int>,
    pub weights: &'a Tensor<B, 2>,
    pub valid: &'a Tensor<B, 2>,
    pub class_weight: Option<&'a Tensor<B, 1>>,
    pub label_smoothing: f64,
    pub z_loss: f64,
}

/// Per-row losses `[N, 1]` (z-loss included, 0 where ignored), the z-loss terms when z-loss is
/// on, and the gradient of each row's loss with respect to its logits when asked for.
pub(crate) struct IndexCrossEntropy<B: Backend> {
    pub losses: Tensor<B, 2>,
    pub z_terms: Option<Tensor<B, 2>>,
    pub gradient: Option<Tensor<B, 2>>,
}

/// The loss of `(N, C)` logits on NdArray; `None` on other backends, for other ranks or
/// layouts (the caller takes the generic path).
pub(crate) fn index_cross_entropy<B: Backend, const D: usize>(
    logits: &Tensor<B, D>,
    inputs: IndexCrossEntropyInputs<'_, B>,
    with_gradient: bool,
) -> Option<IndexCrossEntropy<B>> {
    if D != 2 {
        return None;
    }
    let kernel = Kernel {
        rows: logits.dims()[0],
        classes: logits.dims()[1],
        inputs: &inputs,
        with_gradient,
        device: logits.device(),
        dtype: logits.dtype(),
    };
    run_on_values(logits, kernel)
}

struct Kernel<'a, B: Backend> {
    rows: usize,
    classes: usize,
    inputs: &'a IndexCrossEntropyInputs<'a, B>,
    with_gradient: bool,
    device: B::Device,
    dtype: DType,
}

impl<B: Backend> FloatKernel for Kernel<'_, B> {
    type Output = IndexCrossEntropy<B>;

    fn run<E: KernelFloat>(self, logits: &[E]) -> Self::Output {
        let Kernel {
            rows,
            classes,
            inputs,
            with_gradient,
            device,
            dtype,
        } = self;
        let cast = |value: f64| -> E { NumCast::from(value).expect("a float") };
        let class_weight: Option<Vec<E>> = inputs.class_weight.map(small_values);
        let smoothing = cast(inputs.label_smoothing);
        let options = RowOptions {
            smoothing,
            smoothing_per_class: cast(inputs.label_smoothing / classes as f64),
            class_weight_sum: match &class_weight {
                Some(weight) => weight.iter().fold(E::zero(), |sum, &w| sum + w),
                None => cast(classes as f64),
            },
            class_weight: class_weight.as_deref(),
            z_loss: cast(inputs.z_loss),
        };
        let indices: Vec<i64> = inputs
            .indices
            .clone()
            .into_data()
            .convert::<i64>()
            .into_vec()
            .expect("converted to i64");
        let weights: Vec<E> = small_values(inputs.weights);
        let valid: Vec<E> = small_values(inputs.valid);

        let mut losses = vec![E::zero(); rows];
        let mut z_terms = vec![E::zero(); rows];
        let row = |i: usize, gradient: Option<&mut [E]>| {
            let target = RowTarget {
                class: indices[i] as usize,
                weight: weights[i],
                valid: valid[i],
            };
            let logits = &logits[i * classes..(i + 1) * classes];
            row_loss_dispatch(logits, target, &options, gradient)
        };
        let outputs = losses
            .par_iter_mut()
            .zip(z_terms.par_iter_mut())
            .enumerate();
        let gradient = if with_gradient {
            let mut gradient = E::zeros(rows * classes);
            outputs
                .zip(gradient.par_chunks_mut(classes))
                .for_each(|((i, (loss, z)), gradient)| (*loss, *z) = row(i, Some(gradient)));
            Some(gradient)
        } else {
            outputs.for_each(|(i, (loss, z))| (*loss, *z) = row(i, None));
            None
        };
        let tensor = |values, shape| tensor_of(values, shape, &device, dtype);
        IndexCrossEntropy {
            losses: tensor(losses, [rows, 1]),
            z_terms: (inputs.z_loss > 0.0).then(|| tensor(z_terms, [rows, 1])),
            gradient: gradient.map(|gradient| tensor(gradient, [rows, classes])),
        }
    }
}

struct RowOptions<'a, E> {
    smoothing: E,
    smoothing_per_class: E,
    class_weight: Option<&'a [E]>,
    class_weight_sum: E,
    z_loss: E,
}

struct RowTarget<E> {
    class: usize,
    weight: E,
    valid: E,
}

/// [`row_loss`] compiled for AVX2 where the CPU has it (8-wide vectors, where the baseline
/// x86-64 target has 4), else for the baseline.
fn row_loss_dispatch<E: KernelFloat>(
    logits: &[E],
    target: RowTarget<E>,
    options: &RowOptions<'_, E>,
    gradient: Option<&mut [E]>,
) -> (E, E) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { row_loss_avx2(logits, target, options, gradient) };
    }
    row_loss(logits, target, options, gradient)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn row_loss_avx2<E: KernelFloat>(
    logits: &[E],
    target: RowTarget<E>,
    options: &RowOptions<'_, E>,
    gradient: Option<&mut [E]>,
) -> (E, E) {
    row_loss(logits, target, options, gradient)
}

/// One row's loss and z-loss term, and its gradient written into `gradient`:
/// `(1-ε) w_y (p - onehot(y)) + (ε/C) (p Σ_c w_c - w_c) + 2 z log Z · p`, 0 where ignored.
#[inline(always)]
fn row_loss<E: KernelFloat>(
    logits: &[E],
    target: RowTarget<E>,
    options: &RowOptions<'_, E>,
    mut gradient: Option<&mut [E]>,
) -> (E, E) {
    let max = lane_max(logits);
    let shifted_exp = |x: E| E::exp_nonpositive(x - max);
    let sum_exp = match gradient.as_deref_mut() {
        Some(exps) => {
            for (exp, &x) in exps.iter_mut().zip(logits) {
                *exp = shifted_exp(x);
            }
            lane_sum(exps, |exp| exp)
        }
        None => lane_sum(logits, shifted_exp),
    };
    let log_sum_exp = sum_exp.ln();
    let log_partition = max + log_sum_exp;
    let one = E::one();

    let mut loss = -(logits[target.class] - max - log_sum_exp) * target.weight;
    if options.smoothing > E::zero() {
        let shifted_sum = match options.class_weight {
            Some(weight) => lane_sum_weighted(logits, weight, |x, w| w * (x - max)),
            None => lane_sum(logits, |x| x - max),
        };
        let smooth = (log_sum_exp * options.class_weight_sum - shifted_sum) * target.valid;
        loss = loss * (one - options.smoothing) + smooth * options.smoothing_per_class;
    }
    let z_term = options.z_loss * log_partition * log_partition * target.valid;
    loss = loss + z_term;
    if target.valid.is_zero() {
        loss = E::zero();
    }

    if let Some(gradient) = gradient {
        let two = one + one;
        let row_scale = target.weight * (one - options.smoothing)
            + target.valid * options.class_weight_sum * options.smoothing_per_class
            + two * options.z_loss * log_partition * target.valid;
        let scale = row_scale / sum_exp;
        let uniform = options.smoothing_per_class * target.valid;
        match (options.class_weight, options.smoothing > E::zero()) {
            (Some(weight), true) => {
                for (g, &w) in gradient.iter_mut().zip(weight) {
                    *g = *g * scale - uniform * w;
                }
            }
            (None, true) => gradient.iter_mut().for_each(|g| *g = *g * scale - uniform),
            (_, false) => gradient.iter_mut().for_each(|g| *g = *g * scale),
        }
        gradient[target.class] = gradient[target.class] + target.weight * (options.smoothing - one);
    }
    (loss, z_term)
}
