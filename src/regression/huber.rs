//! Huber loss: quadratic near zero, linear beyond `delta`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::difference_loss;
use crate::mechanics::assembly::{Elementwise, elementwise_forwards};
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::fail_option;

const LOSS: &str = "HuberLoss";

/// Configuration of [`HuberLoss`] (`torch.nn.HuberLoss`).
#[derive(Config, Debug)]
pub struct HuberLossConfig {
    /// Where the loss turns from quadratic to linear (`> 0`, as PyTorch requires).
    #[config(default = 1.0)]
    pub delta: f32,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl HuberLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If `delta` is not a finite value `> 0`.
    pub fn init<B: Backend>(&self, _device: &B::Device) -> HuberLoss<B> {
        if !(self.delta.is_finite() && self.delta > 0.0) {
            fail_option(LOSS, "delta", "a finite value > 0", self.delta);
        }
        HuberLoss {
            delta: self.delta,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// Huber loss, exactly as `torch.nn.HuberLoss`. With `z = |x - y|`:
///
/// ```text
/// ℓ = 0.5 z^2              if z < δ           ∂ℓ/∂x = x - y
/// ℓ = δ (z - 0.5 δ)        otherwise          ∂ℓ/∂x = δ sign(x - y)
/// ```
///
/// # Shapes
/// - input, targets, unreduced output: any shape, the same for all three
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = HuberLossConfig::new().with_delta(2.0).init::<NdArray>(&device);
/// let input = Tensor::<NdArray, 1>::from_floats([0.5, 5.0], &device);
/// let targets = Tensor::<NdArray, 1>::from_floats([0.0, 1.0], &device);
/// assert!((loss.forward(input, targets).into_scalar() - 3.0625).abs() < 1e-6);
/// ```
#[derive(Module, Debug)]
pub struct HuberLoss<B: Backend> {
    /// The quadratic-to-linear threshold.
    pub delta: f32,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> HuberLoss<B> {
    elementwise_forwards!(input, targets, panics: "If the shapes differ.");

    fn elementwise<const D: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        let delta = self.delta as f64;
        difference_loss(LOSS, input, targets, |d| {
            let z = d.clone().abs();
            let inside = z.clone().lower_elem(delta);
            let value = ((z.clone() - 0.5 * delta) * delta)
                .mask_where(inside.clone(), z.powi_scalar(2) * 0.5);
            let derivative = (d.clone().sign() * delta).mask_where(inside, d);
            (value, derivative)
        })
    }
}
