//! Mean squared error.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::difference_loss;
use crate::mechanics::assembly::{Elementwise, elementwise_forwards};
use crate::mechanics::reduction::Reduction;

const LOSS: &str = "MseLoss";

/// Configuration of [`MseLoss`] (`torch.nn.MSELoss`).
#[derive(Config, Debug)]
pub struct MseLossConfig {
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl MseLossConfig {
    /// Builds the loss (it has no option that can be invalid).
    pub fn init<B: Backend>(&self, _device: &B::Device) -> MseLoss<B> {
        MseLoss {
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// Squared error, exactly as `torch.nn.MSELoss`:
///
/// ```text
/// ℓ = (x - y)^2        ∂ℓ/∂x = 2 (x - y)        ∂ℓ/∂y = -2 (x - y)
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
/// let loss = MseLossConfig::new().init::<NdArray>(&device);
/// let input = Tensor::<NdArray, 1>::from_floats([1.0, 2.0, 4.0], &device);
/// let targets = Tensor::<NdArray, 1>::from_floats([1.5, 2.0, 2.0], &device);
/// assert!((loss.forward(input, targets).into_scalar() - 1.416667).abs() < 1e-5);
/// ```
#[derive(Module, Debug)]
pub struct MseLoss<B: Backend> {
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> MseLoss<B> {
    elementwise_forwards!(input, targets, panics: "If the shapes differ.");

    fn elementwise<const D: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        difference_loss(LOSS, input, targets, |d| {
            (d.clone().powi_scalar(2), d * 2.0)
        })
    }
}
