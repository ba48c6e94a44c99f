//! Poisson negative log-likelihood of targets given a (log-)rate.

use std::f64::consts::TAU;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Tensor};

use crate::mechanics::assembly::{Elementwise, elementwise_forwards};
use crate::mechanics::gradient::Constant;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_same_shape, fail_option};

const LOSS: &str = "PoissonNllLoss";

/// Configuration of [`PoissonNllLoss`] (`torch.nn.PoissonNLLLoss`).
#[derive(Config, Debug)]
pub struct PoissonNllLossConfig {
    /// The input is the log of the rate (`ℓ = exp(x) - y·x`); otherwise the rate itself
    /// (`ℓ = x - y·log(x + eps)`).
    #[config(default = true)]
    pub log_input: bool,
    /// Adds Stirling's approximation of `log(y!)` where `y > 1`, making the loss the full
    /// negative log-likelihood (it does not change the gradient with respect to the input).
    #[config(default = false)]
    pub full: bool,
    /// Added to the rate inside the log when `log_input` is false, so a zero rate gives a finite
    /// loss (finite, `>= 0`; 0 is the exact log).
    #[config(default = 1e-8)]
    pub eps: f32,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl PoissonNllLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If `eps` is negative or not finite.
    pub fn init<B: Backend>(&self, _device: &B::Device) -> PoissonNllLoss<B> {
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            fail_option(LOSS, "eps", "a finite value >= 0", self.eps);
        }
        PoissonNllLoss {
            log_input: self.log_input,
            full: self.full,
            eps: self.eps,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// Poisson negative log-likelihood of targets `y` (counts) given rates, exactly as
/// `torch.nn.PoissonNLLLoss`:
///
/// ```text
/// log_input = true  (x = log rate):  ℓ = exp(x) - y·x              ∂ℓ/∂x = exp(x) - y
/// log_input = false (x = rate):      ℓ = x - y·log(x + eps)        ∂ℓ/∂x = 1 - y / (x + eps)
///
/// full = true adds, only where y > 1 (0 elsewhere):
///     S(y) = y·log(y) - y + 0.5·log(2π·y)                          ∂S/∂y = log(y) + 1 / (2y)
/// ```
///
/// The gradient with respect to the targets is `-x` (or `-log(x + eps)`) plus `∂S/∂y`. Where
/// `y <= 1` the Stirling term is exactly 0 with a gradient of 0 (PyTorch's target gradient is NaN
/// at `y <= 0` with `full`). As in PyTorch, the targets may be any real numbers (negative ones are
/// not an error), and a rate below `-eps` makes the loss NaN.
///
/// Precision: with `full`, where the rate is close to a large target `y` the terms of size
/// `y·log(y)` cancel down to about `0.5·log(2π·y)`, so the f32 value keeps an absolute precision
/// of about `1e-7·y·log(y)` there (`5e-3` at `y = 1e4`), as PyTorch's f32 loss does. The
/// gradients are not affected.
///
/// # Shapes
/// - input, targets, unreduced output: any shape, the same for all three (PyTorch broadcasts
///   silently; a mismatch is an error here)
///
/// # Options
/// - `log_input`: true; `full`: false; `eps`: 1e-8; `reduction`: `Mean` (`BatchMean` divides
///   the sum by the size of dimension 0).
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = PoissonNllLossConfig::new().with_full(true).init::<NdArray>(&device);
/// let log_rates = Tensor::<NdArray, 1>::from_floats([0.5, -1.0, 2.0, 0.0], &device);
/// let counts = Tensor::<NdArray, 1>::from_floats([0.0, 1.0, 3.0, 1.5], &device);
/// // PyTorch: [1.648721, 1.367879, 3.153138, 1.229869], mean 1.849902
/// assert!((loss.forward(log_rates, counts).into_scalar() - 1.849902).abs() < 1e-5);
/// ```
#[derive(Module, Debug)]
pub struct PoissonNllLoss<B: Backend> {
    /// Whether the input is the log of the rate.
    pub log_input: bool,
    /// Whether the Stirling term is added.
    pub full: bool,
    /// Added to the rate inside the log when `log_input` is false.
    pub eps: f32,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> PoissonNllLoss<B> {
    elementwise_forwards!(input, targets, panics: "If the shapes differ.");

    fn elementwise<const D: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        check_same_shape(LOSS, "targets", "input", &input.dims(), &targets.dims());
        let x = input.clone().constant();
        let y = targets.clone().constant();
        let eps = self.eps as f64;

        // Both forms are `rate - y·log(rate)`, the log taken as `x` or as `log(x + eps)`.
        let (rate, log_rate) = match self.log_input {
            true => (x.clone().exp(), x.clone()),
            false => (x.clone(), (x.clone() + eps).log()),
        };
        let value = rate.clone() - y.clone() * log_rate.clone();
        let value = match self.full {
            true => value + stirling(y.clone()),
            false => value,
        };

        let target_y = y.clone();
        Elementwise::new(value)
            .gradient(&input, || match self.log_input {
                true => rate - y,
                false => (y / (x + eps)).neg() + 1.0,
            })
            .gradient(&targets, || match self.full {
                true => stirling_derivative(target_y) - log_rate,
                false => log_rate.neg(),
            })
    }
}

/// Where PyTorch's Stirling term applies: `y > 1`, tested as `!(y <= 1)`, so a NaN target
/// keeps its NaN. The masked entries are evaluated at `y = 2` and then zeroed, so no NaN of
/// `0·log(0)` is ever formed (PyTorch's target gradient is NaN at `y <= 0`; ours is the
/// derivative of the rest of the loss).
fn outside_stirling<B: Backend, const D: usize>(
    y: Tensor<B, D>,
) -> (Tensor<B, D>, Tensor<B, D, Bool>) {
    let masked = y.clone().lower_equal_elem(1.0);
    (y.mask_fill(masked.clone(), 2.0), masked)
}

/// `S(y) = y·log(y) - y + 0.5·log(2π·y)` where `y > 1`, 0 elsewhere.
fn stirling<B: Backend, const D: usize>(y: Tensor<B, D>) -> Tensor<B, D> {
    let (y, masked) = outside_stirling(y);
    let term = y.clone() * (y.clone().log() - 1.0) + (y * TAU).log() * 0.5;
    term.mask_fill(masked, 0.0)
}

/// `∂S/∂y = log(y) + 1 / (2y)` where `y > 1`, 0 elsewhere.
fn stirling_derivative<B: Backend, const D: usize>(y: Tensor<B, D>) -> Tensor<B, D> {
    let (y, masked) = outside_stirling(y);
    let derivative = y.clone().log() + y.recip() * 0.5;
    derivative.mask_fill(masked, 0.0)
}
