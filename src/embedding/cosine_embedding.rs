//! Cosine embedding loss: pull similar pairs together, push dissimilar pairs apart.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::mechanics::assembly::reduced_forward;
use crate::mechanics::numerics::hinge;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_finite_option, check_same_shape, fail};

const LOSS: &str = "CosineEmbeddingLoss";

/// PyTorch's `EPSILON` added to each squared norm: the float32 constant 1e-12.
const EPS: f32 = 1e-12;

/// Configuration of [`CosineEmbeddingLoss`] (`torch.nn.CosineEmbeddingLoss`).
#[derive(Config, Debug)]
pub struct CosineEmbeddingLossConfig {
    /// The cosine below which a dissimilar pair (`y = -1`) costs nothing; meant to lie in
    /// `[-1, 1]` (`[0, 0.5]` is the usual advice), any finite value is accepted.
    #[config(default = 0.0)]
    pub margin: f32,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl CosineEmbeddingLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If `margin` is not finite (PyTorch accepts NaN and infinities, which make every
    /// dissimilar pair's loss NaN or infinite).
    pub fn init<B: Backend>(&self, _device: &B::Device) -> CosineEmbeddingLoss<B> {
        check_finite_option(LOSS, "margin", self.margin);
        CosineEmbeddingLoss {
            margin: self.margin,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The cosine embedding loss of row pairs `(x1, x2)` labelled `y = 1` (similar) or `y = -1`
/// (dissimilar), exactly as `torch.nn.CosineEmbeddingLoss`:
///
/// ```text
/// cos = Σ x1·x2 / sqrt( (Σ x1² + 1e-12) · (Σ x2² + 1e-12) )      (sums over the last dimension)
/// ℓ = 1 - cos                 if y = 1
/// ℓ = max(0, cos - margin)    if y = -1
/// ℓ = 0                       for any other y (still counted by `Mean`)
/// ```
///
/// The `1e-12` (the float32 constant, as PyTorch) is added to each **squared** norm, so a zero
/// row has cosine 0 with everything (loss 1 when `y = 1`). The gradient is autodiff's through
/// this formula, with PyTorch's 0 at the hinge point `cos = margin`; `y` gets no gradient.
/// `Mean` divides by `N`.
///
/// # Shapes
/// - x1, x2: `(N, D)`, the same shape (PyTorch broadcasts them; a mismatch here is almost always a
///   bug, so it panics)
/// - y: `(N)`
/// - unreduced output: `(N)`
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = CosineEmbeddingLossConfig::new()
///     .with_margin(0.2)
///     .init::<NdArray>(&device);
/// let x1 = Tensor::<NdArray, 2>::from_floats([[1.0, 2.0, 0.0], [0.5, -1.0, 2.0]], &device);
/// let x2 = Tensor::<NdArray, 2>::from_floats([[2.0, 1.0, 1.0], [0.5, 1.0, 2.0]], &device);
/// let y = Tensor::<NdArray, 1>::from_floats([1.0, -1.0], &device);
/// assert!((loss.forward(x1, x2, y).into_scalar() - 0.344375).abs() < 1e-5); // PyTorch: 0.34437546
/// ```
#[derive(Module, Debug)]
pub struct CosineEmbeddingLoss<B: Backend> {
    /// The margin of dissimilar pairs.
    pub margin: f32,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> CosineEmbeddingLoss<B> {
    reduced_forward! {
        /// The loss reduced with the configured reduction.
        ///
        /// # Panics
        /// If `x2`'s shape differs from `x1`'s or `y` is not `(N)`.
        fn forward(x1: Tensor<B, 2>, x2: Tensor<B, 2>, y: Tensor<B, 1>);
    }

    /// The loss of every row pair, shape `(N)`.
    pub fn forward_no_reduction(
        &self,
        x1: Tensor<B, 2>,
        x2: Tensor<B, 2>,
        y: Tensor<B, 1>,
    ) -> Tensor<B, 1> {
        let dims = x1.dims();
        check_same_shape(LOSS, "x2", "x1", &dims, &x2.dims());
        if y.dims() != [dims[0]] {
            fail(
                LOSS,
                "y",
                format_args!("shape [{}] (the batch size of `x1`)", dims[0]),
                format_args!("{:?}", y.dims()),
            );
        }
        let product = (x1.clone() * x2.clone()).sum_dim(1);
        let squared_norm1 = (x1.clone() * x1).sum_dim(1).add_scalar(EPS);
        let squared_norm2 = (x2.clone() * x2).sum_dim(1).add_scalar(EPS);
        let cos = (product / (squared_norm1 * squared_norm2).sqrt()).squeeze_dim::<1>(1);

        let similar = cos
            .clone()
            .neg()
            .add_scalar(1.0)
            .mask_fill(y.clone().not_equal_elem(1.0), 0.0);
        let dissimilar = hinge(cos.sub_scalar(self.margin)).mask_fill(y.not_equal_elem(-1.0), 0.0);
        similar + dissimilar
    }
}
