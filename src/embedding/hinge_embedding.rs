//! Hinge embedding loss: a distance that similar pairs minimise and dissimilar pairs push past a
//! margin.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::mechanics::assembly::reduced_forward;
use crate::mechanics::gradient::Constant;
use crate::mechanics::numerics::hinge;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_finite_option, check_same_shape};

const LOSS: &str = "HingeEmbeddingLoss";

/// Configuration of [`HingeEmbeddingLoss`] (`torch.nn.HingeEmbeddingLoss`).
#[derive(Config, Debug)]
pub struct HingeEmbeddingLossConfig {
    /// The distance beyond which a dissimilar pair (`y = -1`) costs nothing (finite; any sign).
    #[config(default = 1.0)]
    pub margin: f32,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl HingeEmbeddingLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If `margin` is not finite (PyTorch accepts NaN and infinities, which make every
    /// dissimilar pair's loss NaN or infinite).
    pub fn init<B: Backend>(&self, _device: &B::Device) -> HingeEmbeddingLoss<B> {
        check_finite_option(LOSS, "margin", self.margin);
        HingeEmbeddingLoss {
            margin: self.margin,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The hinge embedding loss of distances `x` (typically `‖a - b‖₁` of a pair) labelled `y = 1`
/// (similar) or `y = -1` (dissimilar), exactly as `torch.nn.HingeEmbeddingLoss`:
///
/// ```text
/// ℓ = [y ≠ 1] · max(0, margin - x) + [y ≠ -1] · x
/// ```
///
/// So `y = 1` gives `x` (negative if `x` is), `y = -1` gives `max(0, margin - x)`, and any other
/// target gives **both** terms, as PyTorch's implementation does. The gradient with respect to `x`
/// is `[y ≠ -1] - [y ≠ 1] · [margin - x > 0]` (0 at the hinge point `x = margin`, as PyTorch);
/// the targets get none. `Mean` divides by the number of elements.
///
/// # Shapes
/// - input, targets, unreduced output: any shape, the same for all three (PyTorch broadcasts
///   them; a mismatch here is almost always a bug, so it panics)
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = HingeEmbeddingLossConfig::new().init::<NdArray>(&device);
/// let distances = Tensor::<NdArray, 1>::from_floats([0.3, 2.0, 0.5, 1.5], &device);
/// let targets = Tensor::<NdArray, 1>::from_floats([1.0, 1.0, -1.0, -1.0], &device);
/// assert!((loss.forward(distances, targets).into_scalar() - 0.7).abs() < 1e-6); // PyTorch: 0.7
/// ```
#[derive(Module, Debug)]
pub struct HingeEmbeddingLoss<B: Backend> {
    /// The margin of dissimilar pairs.
    pub margin: f32,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> HingeEmbeddingLoss<B> {
    reduced_forward! {
        /// The loss reduced with the configured reduction.
        ///
        /// # Panics
        /// If the shapes differ.
        fn forward<const D: usize>(input: Tensor<B, D>, targets: Tensor<B, D>);
    }

    /// The loss of every element, shaped like the inputs.
    pub fn forward_no_reduction<const D: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> Tensor<B, D> {
        check_same_shape(LOSS, "targets", "input", &input.dims(), &targets.dims());
        let targets = targets.constant();
        let margin_term = hinge(input.clone().neg().add_scalar(self.margin))
            .mask_fill(targets.clone().equal_elem(1.0), 0.0);
        let input_term = input.mask_fill(targets.equal_elem(-1.0), 0.0);
        margin_term + input_term
    }
}
