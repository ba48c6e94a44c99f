//! Mean absolute error.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::difference_loss;
use crate::mechanics::assembly::{Elementwise, elementwise_forwards};
use crate::mechanics::reduction::Reduction;

const LOSS: &str = "L1Loss";

/// Configuration of [`L1Loss`] (`torch.nn.L1Loss`).
#[derive(Config, Debug)]
pub struct L1LossConfig {
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl L1LossConfig {
    /// Builds the loss (it has no option that can be invalid).
    pub fn init<B: Backend>(&self, _device: &B::Device) -> L1Loss<B> {
        L1Loss {
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// Absolute error, exactly as `torch.nn.L1Loss`:
///
/// ```text
/// ℓ = |x - y|        ∂ℓ/∂x = sign(x - y) (0 at x = y)        ∂ℓ/∂y = -sign(x - y)
/// ```
///
/// # Shapes
/// - input, targets, unreduced output: any shape, the same for all three (PyTorch broadcasts
///   with a warning; a mismatch is an error here)
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = L1LossConfig::new().init::<NdArray>(&device);
/// let input = Tensor::<NdArray, 1>::from_floats([1.0, 2.0, 4.0], &device);
/// let targets = Tensor::<NdArray, 1>::from_floats([1.5, 2.0, 2.0], &device);
/// assert!((loss.forward(input, targets).into_scalar() - 0.833333).abs() < 1e-5);
/// ```
#[derive(Module, Debug)]
pub struct L1Loss<B: Backend> {
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> L1Loss<B> {
    elementwise_forwards!(input, targets, panics: "If the shapes differ.");

    fn elementwise<const D: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        difference_loss(LOSS, input, targets, |d| (d.clone().abs(), d.sign()))
    }
}
