//! Smooth L1: quadratic near zero, linear beyond `beta`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::difference_loss;
use crate::mechanics::assembly::{Elementwise, elementwise_forwards};
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::fail_option;

const LOSS: &str = "SmoothL1Loss";

/// Configuration of [`SmoothL1Loss`] (`torch.nn.SmoothL1Loss`).
#[derive(Config, Debug)]
pub struct SmoothL1LossConfig {
    /// Where the loss turns from quadratic to linear (`>= 0`; 0 gives exactly L1).
    #[config(default = 1.0)]
    pub beta: f32,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl SmoothL1LossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If `beta` is negative or not finite.
    pub fn init<B: Backend>(&self, _device: &B::Device) -> SmoothL1Loss<B> {
        if !(self.beta.is_finite() && self.beta >= 0.0) {
            fail_option(LOSS, "beta", "a finite value >= 0", self.beta);
        }
        SmoothL1Loss {
            beta: self.beta,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// Smooth L1, exactly as `torch.nn.SmoothL1Loss`. With `z = |x - y|`:
///
/// ```text
/// ℓ = 0.5 z^2 / β      if z < β           ∂ℓ/∂x = (x - y) / β
/// ℓ = z - 0.5 β        otherwise          ∂ℓ/∂x = sign(x - y)
/// ```
///
/// `β = 0` is L1. `smooth_l1(β) = huber(δ = β) / β`.
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
/// let loss = SmoothL1LossConfig::new().with_beta(0.5).init::<NdArray>(&device);
/// let input = Tensor::<NdArray, 1>::from_floats([0.2, 3.0], &device);
/// let targets = Tensor::<NdArray, 1>::from_floats([0.0, 1.0], &device);
/// assert!((loss.forward(input, targets).into_scalar() - 0.895).abs() < 1e-6);
/// ```
#[derive(Module, Debug)]
pub struct SmoothL1Loss<B: Backend> {
    /// The quadratic-to-linear threshold.
    pub beta: f32,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> SmoothL1Loss<B> {
    elementwise_forwards!(input, targets, panics: "If the shapes differ.");

    fn elementwise<const D: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        let beta = self.beta as f64;
        difference_loss(LOSS, input, targets, |d| {
            let z = d.clone().abs();
            if beta == 0.0 {
                return (z, d.sign());
            }
            let inside = z.clone().lower_elem(beta);
            let value = (z.clone() - 0.5 * beta)
                .mask_where(inside.clone(), z.powi_scalar(2) * (0.5 / beta));
            let derivative = d.clone().sign().mask_where(inside, d / beta);
            (value, derivative)
        })
    }
}
