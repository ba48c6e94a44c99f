//! The NdArray kernel family: the float buffer behind a `Tensor<B, D>` read in place when the
//! registry lists `B` (or `Autodiff`'s inner backend) with [`Kernels::NdArray`], for kernels that make one pass over it where
//! the generic code makes several.

pub(crate) mod binary_cross_entropy_with_logits;
pub(crate) mod cross_entropy;
pub(crate) mod nll;

use burn::backend::ndarray::{NdArrayTensor, SharedArray};
use num_traits::ToPrimitive;
use rayon::prelude::*;

use super::autodiff::listed_primitive;
use super::{Kernels, downcast, lookup, same_type};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Element, Int, Tensor, TensorData};

/// A float element a kernel computes in.
pub(crate) trait KernelFloat: num_traits::Float + Element + Send + Sync {
    /// `exp(x)` for `x <= 0` or NaN (a value minus its row's maximum): 0 below the smallest
    /// normal result, NaN for NaN.
    fn exp_nonpositive(x: Self) -> Self;

    /// `ln(1 + e)` for `e` in `[0, 1]` or NaN, within 3 ulp also where `1 + e` rounds to 1.
    fn log1p_unit(e: Self) -> Self;

    /// `len` zeros, from the allocator's zeroed memory (fresh pages need no writing), where a
    /// generic `vec![E::zero(); len]` writes every element.
    fn zeros(len: usize) -> Vec<Self>;

    /// The nearest value of this type (infinite beyond its range).
    fn from_f64(value: f64) -> Self;
}

impl KernelFloat for f32 {
    fn zeros(len: usize) -> Vec<f32> {
        vec![0.0; len]
    }

    fn from_f64(value: f64) -> f32 {
        value as f32
    }

    /// Cephes' `logf` of `u = 1 + e` (`u` in `[1, 2]`, so no special cases), corrected by
    /// `e / (u - 1)` for the rounding of `u` (Goldberg's log1p): without branches or calls, so
    /// loops over it vectorize.
    #[inline(always)]
    fn log1p_unit(e: f32) -> f32 {
        let u = 1.0 + e;
        // u = m · 2^k with m in [sqrt(1/2), sqrt(2)): k is 0, or 1 for u >= sqrt(2).
        let upper = u >= std::f32::consts::SQRT_2;
        let k = if upper { 1.0 } else { 0.0 };
        let m = if upper { u * 0.5 } else { u } - 1.0;
        let z = m * m;
        let mut p = 7.037_683_6e-2_f32;
        p = p * m - 1.151_461e-1;
        p = p * m + 1.167_699_9e-1;
        p = p * m - 1.242_014_1e-1;
        p = p * m + 1.424_932_3e-1;
        p = p * m - 1.666_805_8e-1;
        p = p * m + 2.000_071_4e-1;
        p = p * m - 2.499_999_4e-1;
        p = p * m + 3.333_333e-1;
        let log_u = m + (p * m * z + k * -2.121_944_4e-4 - 0.5 * z) + k * 0.693_359_4;
        let rounded = u - 1.0;
        let value = if rounded == 0.0 {
            e
        } else {
            log_u * (e / rounded)
        };
        if e.is_nan() { e } else { value }
    }

    /// Cephes' `expf` (range reduction by `ln 2` in two parts, a degree-6 polynomial; within
    /// 2 ulp of the true value) without its overflow branch, which a non-positive argument
    /// never takes. Written without calls or branches, so loops over it vectorize, where the
    /// C library's `expf` is called one value at a time.
    #[inline(always)]
    fn exp_nonpositive(x: f32) -> f32 {
        // Below this, e^x is not a normal f32.
        const LOWEST: f32 = -87.33654;
        // Adding and subtracting 1.5 · 2^23 rounds to the nearest integer (|n| < 2^22).
        const ROUND: f32 = 12_582_912.0;
        let clamped = if x < LOWEST { LOWEST } else { x };
        let rounded = clamped * std::f32::consts::LOG2_E + ROUND;
        let n = rounded - ROUND;
        let r = clamped - n * 0.693_359_4 - n * -2.121_944_4e-4;
        let mut p = 1.987_569_1e-4_f32;
        p = p * r + 1.398_199_9e-3;
        p = p * r + 8.333_452e-3;
        p = p * r + 4.166_579_6e-2;
        p = p * r + 1.666_666_5e-1;
        p = p * r + 0.5;
        // `rounded`'s low mantissa bits hold n: 2^n's exponent field is n + 127, taken from them
        // by integer operations (a float-to-integer cast is not vectorized).
        let power = f32::from_bits(rounded.to_bits().wrapping_sub(ROUND.to_bits() - 127) << 23);
        let value = (p * r * r + r + 1.0) * power;
        let value = if x < LOWEST { 0.0 } else { value };
        if x.is_nan() { x } else { value }
    }
}

impl KernelFloat for f64 {
    fn zeros(len: usize) -> Vec<f64> {
        vec![0.0; len]
    }

    fn from_f64(value: f64) -> f64 {
        value
    }

    #[inline(always)]
    fn log1p_unit(e: f64) -> f64 {
        e.ln_1p()
    }

    #[inline(always)]
    fn exp_nonpositive(x: f64) -> f64 {
        x.exp()
    }
}

/// Vector lanes of the reductions below: partial results kept per lane and combined at the end,
/// so the compiler can vectorize a floating-point sum it may not reorder.
const LANES: usize = 16;

/// Elements a lane reduction sums in the element type before the block's total joins an `f64`
/// accumulator: no partial sum of a lane takes in more than 256 terms, so a sum stays accurate
/// (relative error ~1e-7 in f32) at any length, e.g. over one row of 5·10^7 classes, where one
/// running f32 sum per lane stops taking in digits once it dwarfs each term. Rows up to this
/// length are summed exactly as before.
const SUM_BLOCK: usize = LANES * 256;

/// `Σ f(x)` over `values`: [`LANES`] interleaved partial sums per block of [`SUM_BLOCK`]
/// elements, the blocks' totals added in `f64`.
#[inline(always)]
pub(crate) fn lane_sum<E: KernelFloat>(values: &[E], f: impl Fn(E) -> E) -> E {
    // `f` by value on the common path: through a reference, the row loops of the BCE kernel
    // measured 1.2x slower. A loop, not an iterator closure, over the blocks: a closure would
    // not inherit the AVX2 target feature of the kernel this is inlined into.
    if values.len() <= SUM_BLOCK {
        return lane_sum_block(values, f);
    }
    let mut total = 0.0;
    for block in values.chunks(SUM_BLOCK) {
        total += ToPrimitive::to_f64(&lane_sum_block(block, &f)).unwrap_or(f64::NAN);
    }
    E::from_f64(total)
}

/// One block of [`lane_sum`]: `Σ f(x)` in [`LANES`] interleaved partial sums, in `E`.
#[inline(always)]
fn lane_sum_block<E: KernelFloat>(values: &[E], f: impl Fn(E) -> E) -> E {
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    let mut partial = [E::zero(); LANES];
    for chunk in chunks {
        for (sum, &value) in partial.iter_mut().zip(chunk) {
            *sum = *sum + f(value);
        }
    }
    let total = partial.iter().fold(E::zero(), |total, &sum| total + sum);
    rest.iter().fold(total, |total, &value| total + f(value))
}

/// `Σ f(x, w)` over `values` and `weights` pairwise, blocked as [`lane_sum`].
#[inline(always)]
pub(crate) fn lane_sum_weighted<E: KernelFloat>(
    values: &[E],
    weights: &[E],
    f: impl Fn(E, E) -> E,
) -> E {
    if values.len() <= SUM_BLOCK {
        return lane_sum_weighted_block(values, weights, f);
    }
    let mut total = 0.0;
    for (block, weights) in values.chunks(SUM_BLOCK).zip(weights.chunks(SUM_BLOCK)) {
        let block_total = lane_sum_weighted_block(block, weights, &f);
        total += ToPrimitive::to_f64(&block_total).unwrap_or(f64::NAN);
    }
    E::from_f64(total)
}

#[inline(always)]
fn lane_sum_weighted_block<E: KernelFloat>(
    values: &[E],
    weights: &[E],
    f: impl Fn(E, E) -> E,
) -> E {
    let chunks = values.chunks_exact(LANES).zip(weights.chunks_exact(LANES));
    let split = values.len() - values.len() % LANES;
    let mut partial = [E::zero(); LANES];
    for (chunk, weight) in chunks {
        for ((sum, &value), &weight) in partial.iter_mut().zip(chunk).zip(weight) {
            *sum = *sum + f(value, weight);
        }
    }
    let total = partial.iter().fold(E::zero(), |total, &sum| total + sum);
    values[split..]
        .iter()
        .zip(&weights[split..])
        .fold(total, |total, (&value, &weight)| total + f(value, weight))
}

/// The largest of `values` (NaN entries are skipped; they reach the loss through the sum).
#[inline(always)]
pub(crate) fn lane_max<E: KernelFloat>(values: &[E]) -> E {
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    let mut partial = [E::neg_infinity(); LANES];
    for chunk in chunks {
        for (max, &value) in partial.iter_mut().zip(chunk) {
            *max = max.max(value);
        }
    }
    let max = partial
        .iter()
        .fold(E::neg_infinity(), |max, &value| max.max(value));
    rest.iter().fold(max, |max, &value| max.max(value))
}

/// A class-dimension kernel's call on a float tensor of shape `dims`: its other inputs, whether it
/// also computes the gradient, and the device and float type of its outputs.
pub(crate) struct ClassKernelCall<'a, B: Backend, const D: usize, Inputs> {
    pub dims: [usize; D],
    pub inputs: &'a Inputs,
    pub with_gradient: bool,
    pub device: B::Device,
    pub dtype: DType,
}

impl<'a, B: Backend, const D: usize, Inputs> ClassKernelCall<'a, B, D, Inputs> {
    /// The call on `tensor`'s shape, device and float type.
    pub fn on(tensor: &Tensor<B, D>, inputs: &'a Inputs, with_gradient: bool) -> Self {
        Self {
            dims: tensor.dims(),
            inputs,
            with_gradient,
            device: tensor.device(),
            dtype: tensor.dtype(),
        }
    }
}

/// A kernel over the row-major values of one float tensor, in its own element type.
pub(crate) trait FloatKernel {
    type Output;
    fn run<E: KernelFloat>(self, values: &[E]) -> Self::Output;
}

/// Runs `kernel` on `tensor`'s values in place; `None` when `tensor` is not an NdArray tensor
/// (with or without autodiff) in standard layout.
pub(crate) fn run_on_values<B: Backend, const D: usize, K: FloatKernel>(
    tensor: &Tensor<B, D>,
    kernel: K,
) -> Option<K::Output> {
    match primitive(tensor)? {
        NdArrayTensor::F32(storage) => Some(kernel.run(storage.view().to_slice()?)),
        NdArrayTensor::F64(storage) => Some(kernel.run(storage.view().to_slice()?)),
        _ => None,
    }
}

/// Blocks of this many values are summed per task by [`sum`].
const SUM_BLOCKS_PER_TASK: usize = 64;

/// The sum of every value of an NdArray tensor as a one-element tensor: blocks of
/// [`SUM_BLOCK`] values summed in lanes across threads, their totals added in f64. `None` for
/// another backend or a layout that is not standard. No copy: the generic blocked sum reshapes,
/// and NdArray's reshape copies the buffer. The result has no gradient (for untracked values).
pub(crate) fn sum<B: Backend, const D: usize>(values: &Tensor<B, D>) -> Option<Tensor<B, 1>> {
    struct Total<'a, B: Backend>(&'a B::Device);

    impl<B: Backend> FloatKernel for Total<'_, B> {
        type Output = Tensor<B, 1>;
        fn run<E: KernelFloat>(self, values: &[E]) -> Tensor<B, 1> {
            let total: f64 = values
                .par_chunks(SUM_BLOCK * SUM_BLOCKS_PER_TASK)
                .map(|task| {
                    task.chunks(SUM_BLOCK)
                        .map(|block| ToPrimitive::to_f64(&lane_sum_block(block, |v| v)))
                        .map(|total| total.unwrap_or(f64::NAN))
                        .sum::<f64>()
                })
                .sum();
            tensor_of(vec![E::from_f64(total)], [1], self.0, E::dtype())
        }
    }

    run_on_values(values, Total::<B>(&values.device()))
}

/// `values.sum_dim(dim)` of an NdArray tensor whose dimensions after `dim` have size 1 (rows of
/// classes): each row summed as [`lane_sum`] (blocked, the blocks' totals in f64), rows across
/// threads. `None` for another backend, another layout or shape. The result has no gradient.
pub(crate) fn sum_rows<B: Backend, const D: usize>(
    values: &Tensor<B, D>,
    dim: usize,
) -> Option<Tensor<B, D>> {
    struct RowSums<'a, B: Backend, const D: usize> {
        device: &'a B::Device,
        shape: [usize; D],
        row: usize,
    }

    impl<B: Backend, const D: usize> FloatKernel for RowSums<'_, B, D> {
        type Output = Tensor<B, D>;
        fn run<E: KernelFloat>(self, values: &[E]) -> Tensor<B, D> {
            let rows_per_task = (VALUES_PER_TASK / self.row.max(1)).max(1);
            let sums: Vec<E> = values
                .par_chunks(self.row * rows_per_task)
                .flat_map_iter(|rows| rows.chunks(self.row).map(|row| lane_sum(row, |v| v)))
                .collect();
            tensor_of(sums, self.shape, self.device, E::dtype())
        }
    }

    let dims = values.dims();
    if dims[dim + 1..].iter().product::<usize>() != 1 || dims[dim] == 0 {
        return None;
    }
    let mut shape = dims;
    shape[dim] = 1;
    let kernel = RowSums::<B, D> {
        device: &values.device(),
        shape,
        row: dims[dim],
    };
    run_on_values(values, kernel)
}

/// `gradient · upstream` computed in place and across threads on NdArray, where `upstream` is
/// one value or one per position (what a reduced or per-row/per-pixel loss passes back). Hands
/// both back for any other backend or shape. Burn's own multiplication broadcasts the
/// per-position case into a new buffer, on one thread.
pub(crate) fn scale_in_place<P: 'static>(gradient: P, upstream: P) -> Result<P, (P, P)> {
    let (gradient, upstream) = match (downcast(gradient), downcast(upstream)) {
        (Ok(gradient), Ok(upstream)) => (gradient, upstream),
        (gradient, upstream) => {
            let back = |value: Result<NdArrayTensor, P>| value.map_or_else(|p| p, same_type);
            return Err((back(gradient), back(upstream)));
        }
    };
    let scaled = match (gradient, upstream) {
        (NdArrayTensor::F32(gradient), NdArrayTensor::F32(upstream))
            if scalable(
                gradient.shape(),
                upstream.shape(),
                gradient.view().is_standard_layout(),
            ) =>
        {
            let factors = upstream.view().iter().copied().collect();
            Ok(NdArrayTensor::from(scale_positions(
                gradient.into_shared(),
                factors,
            )))
        }
        (NdArrayTensor::F64(gradient), NdArrayTensor::F64(upstream))
            if scalable(
                gradient.shape(),
                upstream.shape(),
                gradient.view().is_standard_layout(),
            ) =>
        {
            let factors = upstream.view().iter().copied().collect();
            Ok(NdArrayTensor::from(scale_positions(
                gradient.into_shared(),
                factors,
            )))
        }
        pair => Err(pair),
    };
    scaled
        .map(same_type)
        .map_err(|(gradient, upstream)| (same_type(gradient), same_type(upstream)))
}

/// Whether [`scale_positions`] covers this case: one factor, or one per position of a
/// gradient with a class dimension (`upstream` is `gradient`'s shape with dimension 1 of size 1:
/// a per-row or per-pixel loss).
fn scalable(gradient: &[usize], upstream: &[usize], standard_layout: bool) -> bool {
    let one = upstream.iter().product::<usize>() == 1;
    let per_position = gradient.len() >= 2
        && upstream.len() == gradient.len()
        && upstream[0] == gradient[0]
        && upstream[1] == 1
        && upstream[2..] == gradient[2..];
    standard_layout && (one || per_position)
}

/// Samples of this many values or more are scaled one per task; smaller ones in groups.
const VALUES_PER_TASK: usize = 1 << 14;

/// `gradient` times `factors` (one, or one per position: `(N, 1, d1, ...)` against the
/// gradient's `(N, C, d1, ...)`), in place where `gradient` is not shared.
fn scale_positions<E: KernelFloat>(
    mut gradient: SharedArray<E>,
    factors: Vec<E>,
) -> SharedArray<E> {
    let samples = gradient.shape().first().copied().unwrap_or(1).max(1);
    let values = gradient.as_slice_mut().expect("standard layout");
    if factors.len() == 1 {
        let factor = factors[0];
        values
            .par_chunks_mut(VALUES_PER_TASK)
            .for_each(|block| block.iter_mut().for_each(|value| *value = *value * factor));
        return gradient;
    }
    let sample_len = (values.len() / samples).max(1);
    let positions = (factors.len() / samples).max(1);
    let samples_per_task = (VALUES_PER_TASK / sample_len).max(1);
    values
        .par_chunks_mut(sample_len * samples_per_task)
        .zip(factors.par_chunks(positions * samples_per_task))
        .for_each(|(samples, factors)| {
            for (sample, factors) in samples
                .chunks_mut(sample_len)
                .zip(factors.chunks(positions))
            {
                if let [factor] = factors {
                    // A row: one factor for all its classes.
                    sample
                        .iter_mut()
                        .for_each(|value| *value = *value * *factor);
                    continue;
                }
                for class in sample.chunks_mut(positions) {
                    for (value, &factor) in class.iter_mut().zip(factors) {
                        *value = *value * factor;
                    }
                }
            }
        });
    gradient
}

/// A kernel over the row-major values of two float tensors of one element type.
pub(crate) trait FloatPairKernel {
    type Output;
    fn run<E: KernelFloat>(self, first: &[E], second: &[E]) -> Self::Output;
}

/// Runs `kernel` on the values of `first` and `second` in place; `None` unless both are NdArray
/// tensors of one float type in standard layout.
pub(crate) fn run_on_pair<B: Backend, const D: usize, K: FloatPairKernel>(
    first: &Tensor<B, D>,
    second: &Tensor<B, D>,
    kernel: K,
) -> Option<K::Output> {
    match (primitive(first)?, primitive(second)?) {
        (NdArrayTensor::F32(first), NdArrayTensor::F32(second)) => {
            Some(kernel.run(first.view().to_slice()?, second.view().to_slice()?))
        }
        (NdArrayTensor::F64(first), NdArrayTensor::F64(second)) => {
            Some(kernel.run(first.view().to_slice()?, second.view().to_slice()?))
        }
        _ => None,
    }
}

/// A float tensor of `B` holding `values` (moved, not copied, on NdArray).
pub(crate) fn tensor_of<B: Backend, const D: usize, E: KernelFloat>(
    values: Vec<E>,
    shape: [usize; D],
    device: &B::Device,
    dtype: DType,
) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(values, shape), (device, dtype))
}

/// The values of a small tensor (per-row targets, class weights) as `E`: read from NdArray's
/// buffer where it is one (`into_data` of a shared NdArray tensor walks it element by element,
/// ~25 ns each), else through `into_data`.
pub(crate) fn small_values<B: Backend, const D: usize, E: KernelFloat>(
    tensor: &Tensor<B, D>,
) -> Vec<E> {
    fn cast<E: KernelFloat>(value: impl num_traits::ToPrimitive) -> E {
        <E as num_traits::NumCast>::from(value).expect("a float")
    }
    match primitive(tensor) {
        Some(NdArrayTensor::F32(storage)) => storage.view().iter().map(|&v| cast(v)).collect(),
        Some(NdArrayTensor::F64(storage)) => storage.view().iter().map(|&v| cast(v)).collect(),
        _ => tensor
            .clone()
            .into_data()
            .convert::<E>()
            .into_vec()
            .expect("converted to the element type"),
    }
}

/// The values of an integer tensor (class indices) as `i64`, as [`small_values`].
pub(crate) fn int_values<B: Backend, const D: usize>(tensor: &Tensor<B, D, Int>) -> Vec<i64> {
    match int_primitive(tensor) {
        Some(NdArrayTensor::I64(storage)) => storage.view().iter().copied().collect(),
        Some(NdArrayTensor::I32(storage)) => storage.view().iter().map(|&v| v as i64).collect(),
        _ => tensor
            .clone()
            .into_data()
            .convert::<i64>()
            .into_vec()
            .expect("converted to i64"),
    }
}

/// The integer buffer of `tensor` where its backend is listed with the NdArray kernels (an
/// autodiff backend's integer tensors are its inner backend's).
fn int_primitive<B: Backend, const D: usize>(tensor: &Tensor<B, D, Int>) -> Option<NdArrayTensor> {
    let (entry, _) = lookup::<B>()?;
    (entry.kernels == Kernels::NdArray)
        .then(|| downcast(tensor.clone().into_primitive()).ok())
        .flatten()
}

/// The float buffer of `tensor` where its backend is listed with the NdArray kernels (unwrapped
/// from `Autodiff`).
fn primitive<B: Backend, const D: usize>(tensor: &Tensor<B, D>) -> Option<NdArrayTensor> {
    let (entry, primitive) = listed_primitive(tensor)?;
    (entry.kernels == Kernels::NdArray)
        .then(|| primitive.downcast().ok().map(|primitive| *primitive))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffers_are_read_on_the_listed_backends_only() {
        use burn::backend::{Autodiff, NdArray};
        let device = Default::default();
        let values = [1.0, 2.0, 3.0];
        assert!(sum(&Tensor::<NdArray<f32>, 1>::from_floats(values, &device)).is_some());
        assert!(sum(&Tensor::<NdArray<f64>, 1>::from_floats(values, &device)).is_some());
        let tracked = Tensor::<Autodiff<NdArray<f32>>, 1>::from_floats(values, &device);
        assert!(sum(&tracked.require_grad()).is_some());
        let unlisted = Tensor::<NdArray<f32, i32>, 1>::from_floats(values, &device);
        assert!(sum(&unlisted).is_none());
        let listed = Tensor::<NdArray<f32>, 1>::from_floats(values, &device);
        assert!(crate::backends::generic_path(|| sum(&listed)).is_none());
        let indices = Tensor::<NdArray<f32>, 1, Int>::from_ints([1, 2], &device);
        assert!(int_primitive(&indices).is_some());
    }

    #[test]
    fn exp_nonpositive_is_within_two_ulp_of_exp() {
        let mut worst_ulps = 0.0f64;
        for step in 0..=2_000_000 {
            let x = -87.3 * step as f32 / 2_000_000.0;
            let exact = (x as f64).exp();
            let approx = f32::exp_nonpositive(x) as f64;
            let ulp = (exact as f32).next_up() as f64 - exact as f32 as f64;
            worst_ulps = worst_ulps.max((approx - exact).abs() / ulp);
        }
        assert!(worst_ulps <= 2.0, "worst error {worst_ulps} ulp");
    }

    #[test]
    fn log1p_unit_is_within_three_ulp_of_log1p() {
        let mut worst_ulps = 0.0f64;
        let points = (0..=1_000_000)
            .map(|step| step as f32 / 1_000_000.0)
            .chain((0..=300).map(|step| (-(step as f32) / 10.0).exp()));
        for e in points {
            let exact = (e as f64).ln_1p();
            let approx = f32::log1p_unit(e) as f64;
            let ulp = (exact as f32).next_up() as f64 - exact as f32 as f64;
            worst_ulps = worst_ulps.max((approx - exact).abs() / ulp);
        }
        // Measured: 2.33 ulp (the `e / (u - 1)` correction adds to Cephes' own error).
        assert!(worst_ulps <= 3.0, "worst error {worst_ulps} ulp");
        assert_eq!(f32::log1p_unit(0.0), 0.0);
        assert!(f32::log1p_unit(f32::NAN).is_nan());
    }

    #[test]
    fn exp_nonpositive_edges() {
        assert_eq!(f32::exp_nonpositive(0.0), 1.0);
        assert_eq!(f32::exp_nonpositive(-0.0), 1.0);
        assert_eq!(f32::exp_nonpositive(f32::NEG_INFINITY), 0.0);
        assert_eq!(f32::exp_nonpositive(-1e4), 0.0);
        assert_eq!(f32::exp_nonpositive(-88.0), 0.0);
        assert!(f32::exp_nonpositive(f32::NAN).is_nan());
        let smallest = f32::exp_nonpositive(-87.33654);
        assert!(smallest > 0.0 && smallest.is_normal(), "{smallest}");
    }

    #[test]
    fn lane_reductions_cover_every_element() {
        for len in [0, 1, 15, 16, 17, 40, 1000] {
            let values: Vec<f32> = (0..len).map(|i| (i % 7) as f32 - 3.0).collect();
            let weights: Vec<f32> = (0..len).map(|i| (i % 3) as f32).collect();
            let sum: f32 = values.iter().sum();
            let weighted: f32 = values.iter().zip(&weights).map(|(v, w)| v * w).sum();
            let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(lane_sum(&values, |v| v), sum, "sum of {len}");
            assert_eq!(lane_sum_weighted(&values, &weights, |v, w| v * w), weighted);
            assert_eq!(lane_max(&values), max, "max of {len}");
        }
    }

    #[test]
    fn lane_sums_stay_accurate_over_long_rows() {
        // 2^25 values in [0, 1): a running f32 sum per lane (2^21 terms each) is off by ~1e-3.
        let len = 1 << 25;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let values: Vec<f32> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 24) as f32
            })
            .collect();
        let exact: f64 = values.iter().map(|&v| v as f64).sum();
        let weighted_exact: f64 = values.iter().map(|&v| v as f64 * v as f64).sum();
        let relative = |got: f32, exact: f64| ((got as f64 - exact) / exact).abs();
        assert!(relative(lane_sum(&values, |v| v), exact) < 1e-7);
        let weighted = lane_sum_weighted(&values, &values, |v, w| v * w);
        assert!(relative(weighted, weighted_exact) < 1e-7);
    }
}
