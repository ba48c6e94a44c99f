//! Distances between corresponding rows of two embedding batches, for the triplet losses.

use core::fmt;

use burn::config::{Config, config_to_json};
use burn::serde::{Deserialize, Serialize};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::mechanics::gradient::Constant;
use crate::mechanics::validation::{check_finite_option, check_same_shape, fail_option};

/// A distance between corresponding rows of two `(N, D)` batches, giving `(N)`: the
/// `distance_function` of
/// [`TripletMarginWithDistanceLoss`](crate::TripletMarginWithDistanceLoss).
///
/// Ready-made: [`PairwiseDistance`] (the default, as PyTorch) and [`CosineDistance`]. Any closure
/// `Fn(Tensor<B, 2>, Tensor<B, 2>) -> Tensor<B, 1>` becomes one when wrapped in [`DistanceFn`].
/// The gradient is whatever autodiff gives through the implementation.
///
/// A type that implements `Distance<B>` for every backend `B` (as the ready-made ones do) keeps
/// working after [`AutodiffModule::valid`](burn::module::AutodiffModule::valid) moves the loss to
/// the inner backend; a closure is written for one backend and only works on that one.
pub trait Distance<B: Backend>: Clone + fmt::Debug + Send {
    /// The distance between row `i` of `x1` and row `i` of `x2`, for every `i`.
    fn distance(&self, x1: Tensor<B, 2>, x2: Tensor<B, 2>) -> Tensor<B, 1>;
}

/// The p-norm of the difference of two rows, `‖x1 - x2 + eps‖_p`, exactly as
/// `torch.nn.PairwiseDistance` / `F.pairwise_distance` (the default distance of
/// `torch.nn.TripletMarginWithDistanceLoss`).
///
/// `eps` is added to the **difference**, not to the norm, so the distance of a row to itself is
/// `‖(eps, ..., eps)‖_p`, not 0. The gradient is PyTorch's norm gradient: 0 at a zero difference
/// (where the plain formula would give NaN) and, for `p = ∞`, shared equally by the entries that
/// attain the maximum.
///
/// `p` must be positive (`f32::INFINITY` gives the max norm); PyTorch also accepts `p = 0` (a
/// count of non-zero entries, with zero gradient) and negative `p`, neither of which is a distance
/// to train with, so both panic here.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let x1 = Tensor::<NdArray, 2>::from_floats([[0.0, 0.0], [1.0, 2.0]], &device);
/// let x2 = Tensor::<NdArray, 2>::from_floats([[3.0, 4.0], [1.0, 2.0]], &device);
/// let d = PairwiseDistance::new().distance(x1, x2).into_data();
/// // PyTorch: [4.9999985858, 1.4142135623730951e-06]
/// d.assert_approx_eq::<f32>(&[4.9999986, 1.4142136e-6].into(), Default::default());
/// ```
// A Burn `Config` written out rather than derived: the derive passes no serde attributes
// through, and `p` needs one (see `norm_degree_json`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(crate = "burn::serde")]
pub struct PairwiseDistance {
    /// The norm degree: positive, or `f32::INFINITY` for the max norm.
    ///
    /// In JSON (`Config::save`, `Display`) a finite `p` is a number and an infinite one the
    /// string `"inf"`, since JSON has no infinity. Loading reads a number, or a string that
    /// `f32::from_str` reads (`"inf"`, `"Infinity"`, in any case); `null` is an error.
    #[serde(with = "norm_degree_json")]
    pub p: f32,
    /// Added to every entry of the difference before the norm (finite).
    pub eps: f32,
}

const PAIRWISE: &str = "PairwiseDistance";

impl Config for PairwiseDistance {}

impl fmt::Display for PairwiseDistance {
    /// The config's JSON, as Burn's `Config` derive prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&config_to_json(self))
    }
}

impl PairwiseDistance {
    /// PyTorch's defaults: `p = 2.0`, `eps = 1e-6`.
    // No `Default`, as the configs whose `new` the `Config` derive writes.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self { p: 2.0, eps: 1e-6 }
    }

    /// Sets [`p`](Self::p), the norm degree.
    pub fn with_p(mut self, p: f32) -> Self {
        self.p = p;
        self
    }

    /// Sets [`eps`](Self::eps), added to the difference before the norm.
    pub fn with_eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }

    /// The distance of every row pair: `x1`, `x2` of shape `(N, D)`, output `(N)`.
    ///
    /// # Panics
    /// If `p` is not positive, `eps` is not finite, or the shapes differ.
    pub fn distance<B: Backend>(&self, x1: Tensor<B, 2>, x2: Tensor<B, 2>) -> Tensor<B, 1> {
        check_norm_degree(PAIRWISE, self.p);
        check_finite_option(PAIRWISE, "eps", self.eps);
        check_same_shape(PAIRWISE, "x2", "x1", &x1.dims(), &x2.dims());
        pairwise_distance(x1, x2, self.p, self.eps)
    }
}

impl<B: Backend> Distance<B> for PairwiseDistance {
    fn distance(&self, x1: Tensor<B, 2>, x2: Tensor<B, 2>) -> Tensor<B, 1> {
        PairwiseDistance::distance(self, x1, x2)
    }
}

/// One minus the cosine similarity of two rows, exactly as
/// `1 - torch.nn.functional.cosine_similarity(x1, x2, dim=-1, eps)`:
///
/// ```text
/// d = 1 - Σ (x1 / max(‖x1‖₂, eps)) · (x2 / max(‖x2‖₂, eps))
/// ```
///
/// As in PyTorch, the clamp of each norm at `eps` is invisible to the gradient (PyTorch applies
/// it in place under `no_grad`), and the norm's own gradient is 0 at a zero row. A zero row has
/// distance 1 to everything. (This is not the cosine of
/// [`CosineEmbeddingLoss`](crate::CosineEmbeddingLoss), which adds 1e-12 to the squared norms.)
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let x1 = Tensor::<NdArray, 2>::from_floats([[1.0, 0.0], [1.0, 1.0]], &device);
/// let x2 = Tensor::<NdArray, 2>::from_floats([[0.0, 2.0], [2.0, 2.0]], &device);
/// let d = CosineDistance::new().distance(x1, x2).into_data();
/// d.assert_approx_eq::<f32>(&[1.0, 0.0].into(), Default::default()); // PyTorch: [1, 0]
/// ```
#[derive(Config, Debug, Copy, PartialEq)]
pub struct CosineDistance {
    /// The floor of each row's norm (finite).
    #[config(default = 1e-8)]
    pub eps: f32,
}

const COSINE: &str = "CosineDistance";

impl CosineDistance {
    /// The distance of every row pair: `x1`, `x2` of shape `(N, D)`, output `(N)`.
    ///
    /// # Panics
    /// If `eps` is not finite or the shapes differ.
    pub fn distance<B: Backend>(&self, x1: Tensor<B, 2>, x2: Tensor<B, 2>) -> Tensor<B, 1> {
        check_finite_option(COSINE, "eps", self.eps);
        check_same_shape(COSINE, "x2", "x1", &x1.dims(), &x2.dims());
        let unit1 = x1.clone() / clamped_norm(x1, self.eps);
        let unit2 = x2.clone() / clamped_norm(x2, self.eps);
        (unit1 * unit2)
            .sum_dim(1)
            .squeeze_dim(1)
            .neg()
            .add_scalar(1.0)
    }
}

impl<B: Backend> Distance<B> for CosineDistance {
    fn distance(&self, x1: Tensor<B, 2>, x2: Tensor<B, 2>) -> Tensor<B, 1> {
        CosineDistance::distance(self, x1, x2)
    }
}

/// A closure used as a [`Distance`]:
/// `DistanceFn(|x1: Tensor<B, 2>, x2: Tensor<B, 2>| -> Tensor<B, 1> { ... })`.
///
/// A closure cannot implement `Debug`, which every field of a `Module` needs; this wrapper prints
/// as `DistanceFn(<closure>)`. To keep the loss in a struct field, name the closure's type with a
/// function pointer, `DistanceFn<fn(Tensor<B, 2>, Tensor<B, 2>) -> Tensor<B, 1>>` (closures that
/// capture nothing coerce to it), or `DistanceFn<Arc<dyn Fn(..) -> .. + Send + Sync>>`.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// type B = NdArray;
/// let device = Default::default();
/// // The squared Euclidean distance.
/// let squared = DistanceFn(|x1: Tensor<B, 2>, x2: Tensor<B, 2>| {
///     (x1 - x2).powf_scalar(2.0).sum_dim(1).squeeze_dim(1)
/// });
/// let loss = TripletMarginWithDistanceLossConfig::new().init_with_distance::<B, _>(&device, squared);
/// let anchor = Tensor::<B, 2>::from_floats([[0.0, 0.0]], &device);
/// let positive = Tensor::<B, 2>::from_floats([[1.0, 1.0]], &device);
/// let negative = Tensor::<B, 2>::from_floats([[1.0, 0.0]], &device);
/// // max(0, 1 + 2 - 1) = 2
/// assert_eq!(loss.forward(anchor, positive, negative).into_scalar(), 2.0);
/// ```
#[derive(Clone, Copy)]
pub struct DistanceFn<F>(pub F);

impl<F> fmt::Debug for DistanceFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DistanceFn(<closure>)")
    }
}

impl<B, F> Distance<B> for DistanceFn<F>
where
    B: Backend,
    F: Fn(Tensor<B, 2>, Tensor<B, 2>) -> Tensor<B, 1> + Clone + Send,
{
    fn distance(&self, x1: Tensor<B, 2>, x2: Tensor<B, 2>) -> Tensor<B, 1> {
        (self.0)(x1, x2)
    }
}

/// The serde encoding of a norm degree `p` (`#[serde(with = "norm_degree_json")]`): a number,
/// or, in a human-readable format such as JSON, the text of a non-finite value (`"inf"`), which
/// JSON numbers cannot express. Binary formats keep the plain `f32`.
pub(crate) mod norm_degree_json {
    use core::fmt;

    use burn::serde::de::{self, Deserializer, Visitor};
    use burn::serde::{Deserialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(p: &f32, serializer: S) -> Result<S::Ok, S::Error> {
        if p.is_finite() || !serializer.is_human_readable() {
            serializer.serialize_f32(*p)
        } else {
            // `f32`'s `Display`: "inf", "-inf" or "NaN", each read back by `f32::from_str`.
            serializer.collect_str(p)
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f32, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(NumberOrText)
        } else {
            f32::deserialize(deserializer)
        }
    }

    /// Reads a number as serde reads an `f32` (an `f64` or an integer, cast), or a string with
    /// `f32::from_str`.
    struct NumberOrText;

    impl Visitor<'_> for NumberOrText {
        type Value = f32;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a norm degree: a number, or \"inf\" for the max norm")
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<f32, E> {
            Ok(value as f32)
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<f32, E> {
            Ok(value as f32)
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<f32, E> {
            Ok(value as f32)
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<f32, E> {
            text.parse()
                .map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self))
        }
    }
}

/// Checks a norm degree: positive, `f32::INFINITY` allowed.
#[track_caller]
pub(crate) fn check_norm_degree(loss: &str, p: f32) {
    if p.is_nan() || p <= 0.0 {
        fail_option(loss, "p", "a positive norm degree (or inf)", p);
    }
}

/// `‖x1 - x2 + eps‖_p` over the last dimension, in PyTorch's order of operations.
pub(crate) fn pairwise_distance<B: Backend>(
    x1: Tensor<B, 2>,
    x2: Tensor<B, 2>,
    p: f32,
    eps: f32,
) -> Tensor<B, 1> {
    let difference = (x1 - x2).add_scalar(eps);
    let norm = if p == 1.0 {
        difference.abs().sum_dim(1)
    } else if p == 2.0 {
        root_or_zero(difference.clone() * difference, 2.0)
    } else if p == f32::INFINITY {
        max_norm(difference)
    } else {
        let magnitude = difference.abs();
        let zero = magnitude.clone().equal_elem(0.0);
        // |x|^p with a zero gradient (not 0 · ∞ = NaN for p < 1) at x = 0, as PyTorch.
        let powered = magnitude
            .mask_fill(zero.clone(), 1.0)
            .powf_scalar(p)
            .mask_fill(zero, 0.0);
        root_or_zero(powered, p)
    };
    norm.squeeze_dim(1)
}

/// `s^(1/p)` of the row sums `s` of `powers` (`|x|^p`), shape `(N, 1)`, with PyTorch's zero
/// gradient where `s = 0` (the plain formula has an infinite derivative there, and 0 · ∞ = NaN).
fn root_or_zero<B: Backend>(powers: Tensor<B, 2>, p: f32) -> Tensor<B, 2> {
    let sums = powers.sum_dim(1);
    let zero = sums.clone().equal_elem(0.0);
    let safe = sums.mask_fill(zero.clone(), 1.0);
    let root = if p == 2.0 {
        safe.sqrt()
    } else {
        safe.powf_scalar(1.0 / p)
    };
    root.mask_fill(zero, 0.0)
}

/// `max |x|` per row (shape `(N, 1)`) with PyTorch's gradient: `sign(x)` shared equally by the
/// entries that attain the maximum.
fn max_norm<B: Backend>(difference: Tensor<B, 2>) -> Tensor<B, 2> {
    let magnitude = difference.abs();
    let detached = magnitude.clone().constant();
    let max = detached.clone().max_dim(1);
    let attains = detached.clone().equal(max.clone().expand(magnitude.dims()));
    // (Not `Bool::float()`, which takes the device's default float type, not the input's.)
    let attains = detached.zeros_like().mask_fill(attains, 1.0);
    let share = attains.clone() / attains.sum_dim(1);
    // Zero-valued, with gradient `share` with respect to `magnitude`.
    let weighted = (magnitude * share).sum_dim(1);
    let carrier = weighted.clone() - weighted.constant();
    max + carrier.clone().mask_fill(carrier.is_nan(), 0.0)
}

/// The row norms `‖x‖₂` (shape `(N, 1)`) floored at `eps` the way `F.cosine_similarity` does: the
/// value is `max(‖x‖₂, eps)`, the gradient that of `‖x‖₂` (0 at a zero row).
fn clamped_norm<B: Backend>(x: Tensor<B, 2>, eps: f32) -> Tensor<B, 2> {
    let norm = root_or_zero(x.clone() * x, 2.0);
    let floored = norm.clone().constant().clamp_min(eps);
    floored + (norm.clone() - norm.constant())
}
