//! Class-index cross entropy on NdArray in one pass per row (or per block of positions of an
//! `(N, C, d1, ..., dk)` input): the maximum, the exponentials (kept in the gradient when a
//! gradient is needed), their sum, the loss, and the gradient scaled in place, with rows (or
//! samples) split across threads. The generic path makes about ten tensor-wide passes (max,
//! shift, exp, sum, gather, scale, select-assign, ...) and holds an exponentials buffer besides
//! the gradient; this one reads the logits once and writes the gradient once. The formulas are
//! those of `CrossEntropyLoss::index_values` and `index_gradient`.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use num_traits::NumCast;
use rayon::prelude::*;

use crate::backends::kernels::{IndexCrossEntropy, IndexCrossEntropyInputs};

use super::{
    ClassKernelCall, FloatKernel, KernelFloat, int_values, lane_max, lane_sum, lane_sum_weighted,
    run_on_values, small_values, tensor_of,
};

/// The loss of `(N, C)` or `(N, C, d1, ..., dk)` logits on NdArray; `None` on other backends
/// or layouts (the caller takes the generic path).
pub(crate) fn index_cross_entropy<B: Backend, const D: usize>(
    logits: &Tensor<B, D>,
    inputs: IndexCrossEntropyInputs<'_, B, D>,
    with_gradient: bool,
) -> Option<IndexCrossEntropy<B, D>> {
    run_on_values(logits, ClassKernelCall::on(logits, &inputs, with_gradient))
}

impl<'a, B: Backend, const D: usize> FloatKernel
    for ClassKernelCall<'a, B, D, IndexCrossEntropyInputs<'a, B, D>>
{
    type Output = IndexCrossEntropy<B, D>;

    fn run<E: KernelFloat>(self, logits: &[E]) -> Self::Output {
        let ClassKernelCall {
            dims,
            inputs,
            with_gradient,
            device,
            dtype,
        } = self;
        let (samples, classes) = (dims[0], dims[1]);
        let positions: usize = dims[2..].iter().product();
        let cast = |value: f64| -> E { NumCast::from(value).expect("a float") };
        let class_weight: Option<Vec<E>> = inputs.class_weight.map(small_values);
        let options = RowOptions {
            smoothing: cast(inputs.label_smoothing),
            smoothing_per_class: cast(inputs.label_smoothing / classes as f64),
            class_weight_sum: match &class_weight {
                Some(weight) => weight.iter().fold(E::zero(), |sum, &w| sum + w),
                None => cast(classes as f64),
            },
            class_weight: class_weight.as_deref(),
            z_loss: cast(inputs.z_loss),
        };
        let targets = Targets {
            indices: int_values(inputs.indices),
            weights: small_values(inputs.weights),
            valid: small_values(inputs.valid),
        };

        let mut losses = vec![E::zero(); samples * positions];
        let mut z_terms = vec![E::zero(); samples * positions];
        let mut gradient = with_gradient.then(|| E::zeros(logits.len()));
        if positions == 1 {
            let row = |i: usize, gradient: Option<&mut [E]>| {
                let logits = &logits[i * classes..(i + 1) * classes];
                row_loss_dispatch(logits, targets.at(i), &options, gradient)
            };
            let outputs = losses
                .par_iter_mut()
                .zip(z_terms.par_iter_mut())
                .enumerate();
            match gradient.as_deref_mut() {
                Some(gradient) => outputs.zip(gradient.par_chunks_mut(classes)).for_each(
                    |((i, (loss, z)), gradient)| {
                        (*loss, *z) = row(i, Some(gradient));
                    },
                ),
                None => outputs.for_each(|(i, (loss, z))| (*loss, *z) = row(i, None)),
            }
        } else {
            let sample_len = classes * positions;
            let outputs = losses
                .par_chunks_mut(positions)
                .zip(z_terms.par_chunks_mut(positions))
                .enumerate();
            let sample = |n: usize, losses: &mut [E], z: &mut [E], gradient: Option<&mut [E]>| {
                let logits = &logits[n * sample_len..(n + 1) * sample_len];
                let targets = targets.sample(n, positions);
                let outputs = SampleOutputs {
                    losses,
                    z,
                    gradient,
                };
                sample_loss_dispatch(logits, classes, &targets, &options, outputs);
            };
            match gradient.as_deref_mut() {
                Some(gradient) => outputs.zip(gradient.par_chunks_mut(sample_len)).for_each(
                    |((n, (losses, z)), gradient)| {
                        sample(n, losses, z, Some(gradient));
                    },
                ),
                None => outputs.for_each(|(n, (losses, z))| sample(n, losses, z, None)),
            }
        }

        let mut reduced_dims = dims;
        reduced_dims[1] = 1;
        let tensor = |values, shape| tensor_of(values, shape, &device, dtype);
        IndexCrossEntropy {
            losses: tensor(losses, reduced_dims),
            z_terms: (inputs.z_loss > 0.0).then(|| tensor(z_terms, reduced_dims)),
            gradient: gradient.map(|gradient| tensor(gradient, dims)),
        }
    }
}

/// Per-position targets, flattened in the order of `(N, 1, d1, ...)`.
struct Targets<E> {
    indices: Vec<i64>,
    weights: Vec<E>,
    valid: Vec<E>,
}

impl<E: KernelFloat> Targets<E> {
    fn at(&self, position: usize) -> RowTarget<E> {
        RowTarget {
            class: self.indices[position] as usize,
            weight: self.weights[position],
            valid: self.valid[position],
        }
    }

    /// The positions of sample `n`.
    fn sample(&self, n: usize, positions: usize) -> SampleTargets<'_, E> {
        let span = n * positions..(n + 1) * positions;
        SampleTargets {
            indices: &self.indices[span.clone()],
            weights: &self.weights[span.clone()],
            valid: &self.valid[span],
        }
    }
}

struct SampleTargets<'a, E> {
    indices: &'a [i64],
    weights: &'a [E],
    valid: &'a [E],
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
    let shifted_sum = match (options.smoothing > E::zero(), options.class_weight) {
        (false, _) => E::zero(),
        (true, Some(weight)) => lane_sum_weighted(logits, weight, |x, w| w * (x - max)),
        (true, None) => lane_sum(logits, |x| x - max),
    };
    let class = target.class;
    let position = Position::new(max, sum_exp, logits[class], shifted_sum, target, options);
    if let Some(gradient) = gradient {
        let (scale, uniform) = (position.scale, position.uniform);
        match (options.class_weight, options.smoothing > E::zero()) {
            (Some(weight), true) => {
                for (g, &w) in gradient.iter_mut().zip(weight) {
                    *g = *g * scale - uniform * w;
                }
            }
            (None, true) => gradient.iter_mut().for_each(|g| *g = *g * scale - uniform),
            (_, false) => gradient.iter_mut().for_each(|g| *g = *g * scale),
        }
        gradient[class] = gradient[class] + position.target_step;
    }
    (position.loss, position.z_term)
}

/// One position's loss and z-loss term, and the factors of its gradient:
/// `g_c = e^{x_c - max} · scale - uniform · w_c`, plus `target_step` at the target class.
struct Position<E> {
    loss: E,
    z_term: E,
    scale: E,
    uniform: E,
    target_step: E,
}

impl<E: KernelFloat> Position<E> {
    /// From the position's maximum logit, `Σ_c e^{x_c - max}`, the target's logit and (with
    /// label smoothing) `Σ_c w_c (x_c - max)`.
    #[inline(always)]
    fn new(
        max: E,
        sum_exp: E,
        target_logit: E,
        shifted_sum: E,
        target: RowTarget<E>,
        options: &RowOptions<'_, E>,
    ) -> Self {
        let one = E::one();
        let log_sum_exp = sum_exp.ln();
        let log_partition = max + log_sum_exp;
        let mut loss = -(target_logit - max - log_sum_exp) * target.weight;
        if options.smoothing > E::zero() {
            let smooth = (log_sum_exp * options.class_weight_sum - shifted_sum) * target.valid;
            loss = loss * (one - options.smoothing) + smooth * options.smoothing_per_class;
        }
        let z_term = options.z_loss * log_partition * log_partition * target.valid;
        loss = loss + z_term;
        if target.valid.is_zero() {
            loss = E::zero();
        }
        let row_scale = target.weight * (one - options.smoothing)
            + target.valid * options.class_weight_sum * options.smoothing_per_class
            + (one + one) * options.z_loss * log_partition * target.valid;
        Self {
            loss,
            z_term,
            scale: row_scale / sum_exp,
            uniform: options.smoothing_per_class * target.valid,
            target_step: target.weight * (options.smoothing - one),
        }
    }
}

struct SampleOutputs<'a, E> {
    losses: &'a mut [E],
    z: &'a mut [E],
    gradient: Option<&'a mut [E]>,
}

/// [`sample_loss`] compiled for AVX2 where the CPU has it, else for the baseline.
fn sample_loss_dispatch<E: KernelFloat>(
    logits: &[E],
    classes: usize,
    targets: &SampleTargets<'_, E>,
    options: &RowOptions<'_, E>,
    outputs: SampleOutputs<'_, E>,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { sample_loss_avx2(logits, classes, targets, options, outputs) };
    }
    sample_loss(logits, classes, targets, options, outputs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sample_loss_avx2<E: KernelFloat>(
    logits: &[E],
    classes: usize,
    targets: &SampleTargets<'_, E>,
    options: &RowOptions<'_, E>,
    outputs: SampleOutputs<'_, E>,
) {
    sample_loss(logits, classes, targets, options, outputs)
}

/// Positions of an `(N, C, d1, ...)` input handled together: their logits of one class are
/// contiguous, so each step over the classes is a vector operation across the block.
const POSITION_BLOCK: usize = 64;

/// One sample `(C, d1, ...)` of an image-like input, a block of positions at a time: the same
/// quantities as [`row_loss`], reduced along the class dimension (stride: the positions).
#[inline(always)]
fn sample_loss<E: KernelFloat>(
    logits: &[E],
    classes: usize,
    targets: &SampleTargets<'_, E>,
    options: &RowOptions<'_, E>,
    mut outputs: SampleOutputs<'_, E>,
) {
    let positions = targets.indices.len();
    let smoothing = options.smoothing > E::zero();
    for start in (0..positions).step_by(POSITION_BLOCK) {
        let len = POSITION_BLOCK.min(positions - start);
        let span = |class: usize| class * positions + start..class * positions + start + len;
        let mut max = [E::neg_infinity(); POSITION_BLOCK];
        let max = &mut max[..len];
        for class in 0..classes {
            for (max, &x) in max.iter_mut().zip(&logits[span(class)]) {
                *max = max.max(x);
            }
        }
        let mut sum_exp = [E::zero(); POSITION_BLOCK];
        let sum_exp = &mut sum_exp[..len];
        for class in 0..classes {
            let logits = &logits[span(class)];
            match outputs.gradient.as_deref_mut() {
                Some(gradient) => {
                    let exps = &mut gradient[span(class)];
                    for (((exp, sum), &x), &max) in exps
                        .iter_mut()
                        .zip(sum_exp.iter_mut())
                        .zip(logits)
                        .zip(&*max)
                    {
                        *exp = E::exp_nonpositive(x - max);
                        *sum = *sum + *exp;
                    }
                }
                None => {
                    for ((sum, &x), &max) in sum_exp.iter_mut().zip(logits).zip(&*max) {
                        *sum = *sum + E::exp_nonpositive(x - max);
                    }
                }
            }
        }
        let mut shifted_sum = [E::zero(); POSITION_BLOCK];
        let shifted_sum = &mut shifted_sum[..len];
        if smoothing {
            for class in 0..classes {
                let w = options
                    .class_weight
                    .map_or(E::one(), |weight| weight[class]);
                for ((sum, &x), &max) in shifted_sum.iter_mut().zip(&logits[span(class)]).zip(&*max)
                {
                    *sum = *sum + w * (x - max);
                }
            }
        }
        let mut factors = [(E::zero(), E::zero()); POSITION_BLOCK];
        let mut steps = [(0usize, E::zero()); POSITION_BLOCK];
        for p in 0..len {
            let position = start + p;
            let target = RowTarget {
                class: targets.indices[position] as usize,
                weight: targets.weights[position],
                valid: targets.valid[position],
            };
            let class = target.class;
            let target_logit = logits[class * positions + position];
            let computed = Position::new(
                max[p],
                sum_exp[p],
                target_logit,
                shifted_sum[p],
                target,
                options,
            );
            outputs.losses[position] = computed.loss;
            outputs.z[position] = computed.z_term;
            factors[p] = (computed.scale, computed.uniform);
            steps[p] = (class, computed.target_step);
        }
        let Some(gradient) = outputs.gradient.as_deref_mut() else {
            continue;
        };
        for class in 0..classes {
            let exps = &mut gradient[span(class)];
            if smoothing {
                let w = options
                    .class_weight
                    .map_or(E::one(), |weight| weight[class]);
                for (g, &(scale, uniform)) in exps.iter_mut().zip(&factors[..len]) {
                    *g = *g * scale - uniform * w;
                }
            } else {
                for (g, &(scale, _)) in exps.iter_mut().zip(&factors[..len]) {
                    *g = *g * scale;
                }
            }
        }
        for (p, &(class, step)) in steps[..len].iter().enumerate() {
            let at = class * positions + start + p;
            gradient[at] = gradient[at] + step;
        }
    }
}
