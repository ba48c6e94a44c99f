//! Triplet margin loss: an anchor closer to its positive than to its negative, by a margin.

use core::fmt;

use burn::config::{Config, config_to_json};
use burn::module::Module;
use burn::serde::{Deserialize, Serialize};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::distance::{check_norm_degree, norm_degree_json, pairwise_distance};
use crate::mechanics::assembly::reduced_forward;
use crate::mechanics::numerics::hinge;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_finite_option, check_positive_option, check_same_shape};

const LOSS: &str = "TripletMarginLoss";

/// Configuration of [`TripletMarginLoss`] (`torch.nn.TripletMarginLoss`).
// A Burn `Config` written out rather than derived: the derive passes no serde attributes
// through, and `p` needs one (see `norm_degree_json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(crate = "burn::serde")]
pub struct TripletMarginLossConfig {
    /// How much farther the negative must be than the positive (finite, > 0).
    pub margin: f32,
    /// The norm degree of the distance: positive, or `f32::INFINITY` for the max norm.
    ///
    /// In JSON (`Config::save`, `Display`) a finite `p` is a number and an infinite one the
    /// string `"inf"`, since JSON has no infinity. Loading reads a number, or a string that
    /// `f32::from_str` reads (`"inf"`, `"Infinity"`, in any case); `null` is an error.
    #[serde(with = "norm_degree_json")]
    pub p: f32,
    /// Added to every entry of the difference before the norm (finite).
    pub eps: f32,
    /// Use `min(d(a, n), d(p, n))` as the negative distance ("distance swap", Balntas et al.
    /// 2016): the harder of the two negatives.
    pub swap: bool,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
}

impl Config for TripletMarginLossConfig {}

impl fmt::Display for TripletMarginLossConfig {
    /// The config's JSON, as Burn's `Config` derive prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&config_to_json(self))
    }
}

impl TripletMarginLossConfig {
    /// PyTorch's defaults: `margin = 1.0`, `p = 2.0`, `eps = 1e-6`, `swap = false`, and
    /// [`Reduction::Mean`].
    // No `Default`, as the configs whose `new` the `Config` derive writes.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            margin: 1.0,
            p: 2.0,
            eps: 1e-6,
            swap: false,
            reduction: Reduction::Mean,
        }
    }

    /// Sets [`margin`](Self::margin).
    pub fn with_margin(mut self, margin: f32) -> Self {
        self.margin = margin;
        self
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

    /// Sets [`swap`](Self::swap), the distance swap.
    pub fn with_swap(mut self, swap: bool) -> Self {
        self.swap = swap;
        self
    }

    /// Sets [`reduction`](Self::reduction).
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
}

impl TripletMarginLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If `margin` is not finite and positive (PyTorch 2.x rejects `margin <= 0` too), `p` is not
    /// positive, or `eps` is not finite.
    pub fn init<B: Backend>(&self, _device: &B::Device) -> TripletMarginLoss<B> {
        check_positive_option(LOSS, "margin", self.margin);
        check_norm_degree(LOSS, self.p);
        check_finite_option(LOSS, "eps", self.eps);
        TripletMarginLoss {
            margin: self.margin,
            p: self.p,
            eps: self.eps,
            swap: self.swap,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The triplet margin loss of anchors `a`, positives `p` and negatives `n`, exactly as
/// `torch.nn.TripletMarginLoss`:
///
/// ```text
/// d(u, v) = ‖u - v + eps‖_p                          (over the last dimension)
/// d_neg   = min(d(a, n), d(p, n)) if swap else d(a, n)
/// ℓ       = max(0, margin + d(a, p) - d_neg)
/// ```
///
/// `eps` is added to the **difference**, not to the norm (so `d(u, u) = ‖(eps, …)‖_p ≠ 0`), and
/// the reference's golden values are reproduced: in f64, `a = [[0, 0], [1, 1]]`,
/// `p = [[0.5, 0], [1, 2]]`, `n = [[0, 0.7], [3, 1]]` give `[0.8000000000002857, 2.498e-13]`,
/// the second nonzero only through `eps`. Gradients follow PyTorch: 0 at the hinge point, 0 for a
/// zero difference, shared equally by tied maxima when `p = ∞` and by tied distances under `swap`.
/// `Mean` divides by `N`.
///
/// PyTorch also accepts `p = 0` and negative `p`, which are not distances to train with: they
/// panic here. The three inputs must have the same shape (PyTorch broadcasts them).
///
/// # Shapes
/// - anchor, positive, negative: `(N, D)`, the same shape
/// - unreduced output: `(N)`
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = TripletMarginLossConfig::new().init::<NdArray>(&device);
/// let anchor = Tensor::<NdArray, 2>::from_floats([[0.0, 0.0], [1.0, 1.0]], &device);
/// let positive = Tensor::<NdArray, 2>::from_floats([[0.5, 0.0], [1.0, 2.0]], &device);
/// let negative = Tensor::<NdArray, 2>::from_floats([[0.0, 0.7], [3.0, 1.0]], &device);
/// let losses = loss.forward_no_reduction(anchor, positive, negative).into_data();
/// // PyTorch (f32): [0.80000007, 0.0]
/// losses.assert_approx_eq::<f32>(&[0.8, 0.0].into(), Default::default());
/// ```
#[derive(Module, Debug)]
pub struct TripletMarginLoss<B: Backend> {
    /// The margin.
    pub margin: f32,
    /// The norm degree.
    pub p: f32,
    /// Added to the difference before the norm.
    pub eps: f32,
    /// Whether the distance swap is on.
    pub swap: bool,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> TripletMarginLoss<B> {
    reduced_forward! {
        /// The loss reduced with the configured reduction.
        ///
        /// # Panics
        /// If `positive` or `negative` has a different shape from `anchor`.
        fn forward(anchor: Tensor<B, 2>, positive: Tensor<B, 2>, negative: Tensor<B, 2>);
    }

    /// The loss of every triplet, shape `(N)`.
    pub fn forward_no_reduction(
        &self,
        anchor: Tensor<B, 2>,
        positive: Tensor<B, 2>,
        negative: Tensor<B, 2>,
    ) -> Tensor<B, 1> {
        check_triplet_shapes(LOSS, &anchor, &positive, &negative);
        let distance = |u, v| pairwise_distance(u, v, self.p, self.eps);
        triplet_losses(
            distance(anchor.clone(), positive.clone()),
            distance(anchor, negative.clone()),
            self.swap.then(|| distance(positive, negative)),
            self.margin,
        )
    }
}

/// Checks that `positive` and `negative` have the shape of `anchor`.
#[track_caller]
pub(crate) fn check_triplet_shapes<B: Backend>(
    loss: &str,
    anchor: &Tensor<B, 2>,
    positive: &Tensor<B, 2>,
    negative: &Tensor<B, 2>,
) {
    let dims = anchor.dims();
    check_same_shape(loss, "positive", "anchor", &dims, &positive.dims());
    check_same_shape(loss, "negative", "anchor", &dims, &negative.dims());
}

/// `max(0, margin + d_pos - d_neg)`, with `d_neg = min(d(a, n), d(p, n))` when the swap distance
/// is given.
pub(crate) fn triplet_losses<B: Backend>(
    positive_distance: Tensor<B, 1>,
    negative_distance: Tensor<B, 1>,
    swap_distance: Option<Tensor<B, 1>>,
    margin: f32,
) -> Tensor<B, 1> {
    let negative_distance = match swap_distance {
        Some(swap_distance) => minimum(negative_distance, swap_distance),
        None => negative_distance,
    };
    hinge(positive_distance.add_scalar(margin) - negative_distance)
}

/// `torch.minimum`: NaN propagates, and at a tie each side gets half of the gradient (Burn's
/// selection would give all of it to one side).
fn minimum<B: Backend>(a: Tensor<B, 1>, b: Tensor<B, 1>) -> Tensor<B, 1> {
    let take_b = b.clone().lower(a.clone()).bool_or(b.clone().is_nan());
    let tie = a.clone().equal(b.clone());
    // (a + a) / 2 == a exactly (short of overflow), so the value is unchanged at a tie.
    let halves = (a.clone() + b.clone()).mul_scalar(0.5);
    a.mask_where(take_b, b).mask_where(tie, halves)
}
