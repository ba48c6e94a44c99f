//! Margin ranking loss: which of two scores should be the larger.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::mechanics::assembly::reduced_forward;
use crate::mechanics::numerics::hinge;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_finite_option, check_same_shape};

const LOSS: &str = "MarginRankingLoss";

/// Configuration of [`MarginRankingLoss`] (`torch.nn.MarginRankingLoss`).
#[derive(Config, Debug)]
pub struct MarginRankingLossConfig {
    /// How far the preferred score must exceed the other before the pair costs nothing (finite).
    #[config(default = 0.0)]
    pub margin: f32,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl MarginRankingLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If `margin` is not finite (PyTorch accepts NaN and infinities, which make every loss NaN
    /// or infinite).
    pub fn init<B: Backend>(&self, _device: &B::Device) -> MarginRankingLoss<B> {
        check_finite_option(LOSS, "margin", self.margin);
        MarginRankingLoss {
            margin: self.margin,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The margin ranking loss of score pairs `(x1, x2)` with `y = 1` where `x1` should rank higher
/// and `y = -1` where `x2` should, exactly as `torch.nn.MarginRankingLoss`:
///
/// ```text
/// ℓ = max(0, -y · (x1 - x2) + margin)
/// ∂ℓ/∂x1 = -y,  ∂ℓ/∂x2 = y,  ∂ℓ/∂y = -(x1 - x2)     where the hinge is active (> 0), else 0
/// ```
///
/// Any real `y` is accepted and scales the difference, as in PyTorch. At the hinge point (the
/// argument exactly 0) the gradient is 0, as PyTorch's. `Mean` divides by the number of elements.
///
/// # Shapes
/// - x1, x2, y, unreduced output: any shape, the same for all four (PyTorch broadcasts inputs of
///   equal rank; a mismatch here is almost always a bug, so it panics)
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = MarginRankingLossConfig::new()
///     .with_margin(0.5)
///     .init::<NdArray>(&device);
/// let x1 = Tensor::<NdArray, 1>::from_floats([0.5, 1.0, -2.0], &device);
/// let x2 = Tensor::<NdArray, 1>::from_floats([1.0, 0.0, -1.0], &device);
/// let y = Tensor::<NdArray, 1>::from_floats([1.0, 1.0, -1.0], &device);
/// assert!((loss.forward(x1, x2, y).into_scalar() - 1.0 / 3.0).abs() < 1e-6); // PyTorch: 1/3
/// ```
#[derive(Module, Debug)]
pub struct MarginRankingLoss<B: Backend> {
    /// The margin.
    pub margin: f32,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> MarginRankingLoss<B> {
    reduced_forward! {
        /// The loss reduced with the configured reduction.
        ///
        /// # Panics
        /// If `x2` or `y` has a different shape from `x1`.
        fn forward<const D: usize>(x1: Tensor<B, D>, x2: Tensor<B, D>, y: Tensor<B, D>);
    }

    /// The loss of every element, shaped like the inputs.
    pub fn forward_no_reduction<const D: usize>(
        &self,
        x1: Tensor<B, D>,
        x2: Tensor<B, D>,
        y: Tensor<B, D>,
    ) -> Tensor<B, D> {
        let dims = x1.dims();
        check_same_shape(LOSS, "x2", "x1", &dims, &x2.dims());
        check_same_shape(LOSS, "y", "x1", &dims, &y.dims());
        hinge((y.neg() * (x1 - x2)).add_scalar(self.margin))
    }
}
