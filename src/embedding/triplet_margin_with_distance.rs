//! Triplet margin loss with any distance function.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::distance::{Distance, PairwiseDistance};
use super::triplet_margin::{check_triplet_shapes, triplet_losses};
use crate::mechanics::assembly::reduced_forward;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_positive_option, fail};

const LOSS: &str = "TripletMarginWithDistanceLoss";

/// Configuration of [`TripletMarginWithDistanceLoss`]
/// (`torch.nn.TripletMarginWithDistanceLoss`).
///
/// PyTorch's `distance_function` is not an option here: a config is plain serializable data and a
/// function is not. [`init`](Self::init) uses the default distance, [`PairwiseDistance`] with
/// `p = 2, eps = 1e-6` (as PyTorch), and [`init_with_distance`](Self::init_with_distance) takes
/// any [`Distance`]: [`PairwiseDistance`], [`CosineDistance`](crate::CosineDistance), your own
/// type, or a closure wrapped in [`DistanceFn`](crate::DistanceFn).
#[derive(Config, Debug)]
pub struct TripletMarginWithDistanceLossConfig {
    /// How much farther the negative must be than the positive (finite, > 0).
    #[config(default = 1.0)]
    pub margin: f32,
    /// Use `min(d(a, n), d(p, n))` as the negative distance: the harder of the two negatives.
    #[config(default = false)]
    pub swap: bool,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl TripletMarginWithDistanceLossConfig {
    /// Checks the options and builds the loss with PyTorch's default distance,
    /// `PairwiseDistance { p: 2.0, eps: 1e-6 }`.
    ///
    /// # Panics
    /// If `margin` is not finite and positive (PyTorch 2.x rejects `margin <= 0` too).
    pub fn init<B: Backend>(&self, device: &B::Device) -> TripletMarginWithDistanceLoss<B> {
        self.init_with_distance(device, PairwiseDistance::new())
    }

    /// Checks the options and builds the loss with `distance` as its distance function.
    ///
    /// # Panics
    /// If `margin` is not finite and positive.
    pub fn init_with_distance<B: Backend, Dist: Distance<B>>(
        &self,
        _device: &B::Device,
        distance: Dist,
    ) -> TripletMarginWithDistanceLoss<B, Dist> {
        check_positive_option(LOSS, "margin", self.margin);
        TripletMarginWithDistanceLoss {
            distance,
            margin: self.margin,
            swap: self.swap,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The triplet margin loss of anchors `a`, positives `p` and negatives `n` under a distance `d`,
/// exactly as `torch.nn.TripletMarginWithDistanceLoss`:
///
/// ```text
/// d_neg = min(d(a, n), d(p, n)) if swap else d(a, n)
/// ℓ     = max(0, margin + d(a, p) - d_neg)
/// ```
///
/// With the default distance it equals [`TripletMarginLoss`](crate::TripletMarginLoss) with its
/// defaults. The gradient is autodiff's through the distance, with PyTorch's 0 at the hinge point
/// and an equal split of the gradient between tied distances under `swap` (as `torch.minimum`).
/// `Mean` divides by `N`.
///
/// The distance is a field that the `Module` derive skips (`#[module(skip)]`): it holds no
/// parameters and is not saved in records. It is a type parameter, `Dist`, defaulting to
/// [`PairwiseDistance`], so a model field is `TripletMarginWithDistanceLoss<B>` or, e.g.,
/// `TripletMarginWithDistanceLoss<B, CosineDistance>`.
///
/// # Shapes
/// - anchor, positive, negative: `(N, D)`, the same shape (PyTorch broadcasts them)
/// - the distance's output, unreduced output: `(N)`
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = TripletMarginWithDistanceLossConfig::new()
///     .with_margin(0.5)
///     .init_with_distance::<NdArray, _>(&device, CosineDistance::new());
/// let anchor = Tensor::<NdArray, 2>::from_floats([[0.0, 0.0], [1.0, 1.0]], &device);
/// let positive = Tensor::<NdArray, 2>::from_floats([[0.5, 0.0], [1.0, 2.0]], &device);
/// let negative = Tensor::<NdArray, 2>::from_floats([[0.0, 0.7], [3.0, 1.0]], &device);
/// let value = loss.forward(anchor, positive, negative).into_scalar();
/// assert!((value - 0.472872).abs() < 1e-5); // PyTorch: 0.47287195
/// ```
#[derive(Module, Debug)]
pub struct TripletMarginWithDistanceLoss<B: Backend, Dist = PairwiseDistance> {
    /// The distance function.
    #[module(skip)]
    pub distance: Dist,
    /// The margin.
    pub margin: f32,
    /// Whether the distance swap is on.
    pub swap: bool,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend, Dist: Distance<B>> TripletMarginWithDistanceLoss<B, Dist> {
    reduced_forward! {
        /// The loss reduced with the configured reduction.
        ///
        /// # Panics
        /// If `positive` or `negative` has a different shape from `anchor`, or the distance does not
        /// return `(N)`.
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
        let batch_size = anchor.dims()[0];
        let distance = |u, v| {
            let distances = self.distance.distance(u, v);
            if distances.dims() != [batch_size] {
                fail(
                    LOSS,
                    "distance",
                    format_args!("to return shape [{batch_size}] (one distance per row)"),
                    format_args!("{:?}", distances.dims()),
                );
            }
            distances
        };
        triplet_losses(
            distance(anchor.clone(), positive.clone()),
            distance(anchor, negative.clone()),
            self.swap.then(|| distance(positive, negative)),
            self.margin,
        )
    }
}
