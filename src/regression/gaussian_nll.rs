//! Gaussian negative log-likelihood of targets given a predicted mean and variance.

use std::f64::consts::TAU;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::mechanics::assembly::Elementwise;
use crate::mechanics::gradient::Constant;
use crate::mechanics::reduction::{LossSum, Reduction};
use crate::mechanics::validation::{any, check_same_shape, fail, fail_option};

const LOSS: &str = "GaussianNllLoss";

/// Configuration of [`GaussianNllLoss`] (`torch.nn.GaussianNLLLoss`).
#[derive(Config, Debug)]
pub struct GaussianNllLossConfig {
    /// Adds the constant `0.5·log(2π)` to every element's loss.
    #[config(default = false)]
    pub full: bool,
    /// The variance is clamped from below to `eps` (finite, `>= 0`).
    #[config(default = 1e-6)]
    pub eps: f32,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Check that every variance is non-negative (reads one value back from the device), as
    /// PyTorch does. Turn off only for throughput, with variances known to be valid.
    #[config(default = true)]
    pub check_values: bool,
}

impl GaussianNllLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If `eps` is negative or not finite.
    pub fn init<B: Backend>(&self, _device: &B::Device) -> GaussianNllLoss<B> {
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            fail_option(LOSS, "eps", "a finite value >= 0", self.eps);
        }
        GaussianNllLoss {
            full: self.full,
            eps: self.eps,
            reduction: self.reduction,
            check_values: self.check_values,
            _backend: core::marker::PhantomData,
        }
    }
}

/// Gaussian negative log-likelihood of targets `y` under a predicted mean `x` and variance `v`,
/// exactly as `torch.nn.GaussianNLLLoss`. With `v̂ = max(v, eps)`:
///
/// ```text
/// ℓ = 0.5·(log(v̂) + (x - y)^2 / v̂)   [+ 0.5·log(2π) if full]
/// ∂ℓ/∂x = (x - y) / v̂      ∂ℓ/∂y = -(x - y) / v̂      ∂ℓ/∂v = 0.5·(1 / v̂ - (x - y)^2 / v̂^2)
/// ```
///
/// As in PyTorch, the clamp is invisible to the gradient: `∂ℓ/∂v` is evaluated at the clamped
/// `v̂` and is not zeroed where `v < eps`.
///
/// # Shapes
/// - input, targets, unreduced output: any shape, the same for all three (PyTorch broadcasts the
///   targets; a mismatch is an error here)
/// - var, as PyTorch accepts it: the input's shape; or that shape with exactly one dimension of
///   size 1, shared along it (e.g. `(N, 1)` or `(1, C)` for an `(N, C)` input); or, through
///   [`forward_homoscedastic`](Self::forward_homoscedastic), the input's shape without its last
///   dimension. Anything else panics (even shapes that broadcast, such as `(C)` or `(1, 1)` for
///   `(N, C)`, which PyTorch rejects too). A negative variance panics; zero is allowed.
///
/// # Options
/// - `full`: false; `eps`: 1e-6; `reduction`: `Mean` over the input's elements (`BatchMean`
///   divides the sum by the size of dimension 0); `check_values`: true.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = GaussianNllLossConfig::new().init::<NdArray>(&device);
/// let mean = Tensor::<NdArray, 2>::from_floats([[0.0, 1.0], [2.0, -1.0]], &device);
/// let targets = Tensor::<NdArray, 2>::from_floats([[0.5, 1.0], [0.0, 0.0]], &device);
/// let var = Tensor::<NdArray, 2>::from_floats([[1.0, 1e-9], [0.25, 4.0]], &device);
/// // PyTorch: [[0.125, -6.907755], [7.306853, 0.818147]] (1e-9 is clamped to 1e-6)
/// assert!((loss.forward(mean, targets, var).into_scalar() - 0.335561).abs() < 1e-5);
/// ```
#[derive(Module, Debug)]
pub struct GaussianNllLoss<B: Backend> {
    /// Whether the constant `0.5·log(2π)` is added.
    pub full: bool,
    /// The lower clamp of the variance.
    pub eps: f32,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    /// Whether negative variances are detected.
    pub check_values: bool,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> GaussianNllLoss<B> {
    /// The loss reduced with the configured reduction.
    ///
    /// # Panics
    /// If the targets' shape differs from the input's, `var`'s shape is not one of those above,
    /// or (with `check_values`) a variance is negative.
    pub fn forward<const D: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
        var: Tensor<B, D>,
    ) -> Tensor<B, 1> {
        let batch_size = input.dims()[0];
        self.elementwise(input, targets, var)
            .reduced(self.reduction, batch_size)
    }

    /// The sum of the losses of every element and their count, whose
    /// [`mean`](LossSum::mean) is the `Mean` reduction: to divide by the element count of a
    /// larger batch (see [`LossSum`]).
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_sum<const D: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
        var: Tensor<B, D>,
    ) -> LossSum<B> {
        self.elementwise(input, targets, var).summed()
    }

    /// The loss of every element, shaped like the input.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_no_reduction<const D: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
        var: Tensor<B, D>,
    ) -> Tensor<B, D> {
        self.elementwise(input, targets, var).unreduced()
    }

    /// [`forward`](Self::forward) with one variance shared by each last-dimension row: `var` has
    /// the input's shape without its last dimension (PyTorch's homoscedastic case, e.g. `(N)`
    /// for an `(N, C)` input). `DV == D - 1` is checked at run time.
    ///
    /// # Panics
    /// As [`forward`](Self::forward), and if `var` is not the input's shape without its last
    /// dimension.
    pub fn forward_homoscedastic<const D: usize, const DV: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
        var: Tensor<B, DV>,
    ) -> Tensor<B, 1> {
        let var = unsqueeze_last(&input, var);
        self.forward(input, targets, var)
    }

    /// [`forward_no_reduction`](Self::forward_no_reduction) with a `var` shaped like the input
    /// without its last dimension, as in [`forward_homoscedastic`](Self::forward_homoscedastic).
    ///
    /// # Panics
    /// As [`forward_homoscedastic`](Self::forward_homoscedastic).
    pub fn forward_homoscedastic_no_reduction<const D: usize, const DV: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
        var: Tensor<B, DV>,
    ) -> Tensor<B, D> {
        let var = unsqueeze_last(&input, var);
        self.forward_no_reduction(input, targets, var)
    }

    fn elementwise<const D: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
        var: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        check_same_shape(LOSS, "targets", "input", &input.dims(), &targets.dims());
        check_var_shape(&input.dims(), &var.dims());
        if self.check_values {
            check_non_negative(&var);
        }
        let eps = self.eps as f64;
        // PyTorch clamps under `no_grad`: the clamp changes the value, not the gradient's path.
        let clamped = var.clone().constant();
        let clamped = clamped.clone().mask_fill(clamped.lower_elem(eps), eps);
        let difference = input.clone().constant() - targets.clone().constant();
        // Broadcasting along var's size-1 dimension gives the input's shape from here on.
        let ratio = difference.clone() / clamped.clone();
        let value = (clamped.clone().log() + difference * ratio.clone()) * 0.5;
        let value = match self.full {
            true => value + 0.5 * TAU.ln(),
            false => value,
        };

        // `var` may have a size-1 dimension: its carrier broadcasts, and autodiff sums the
        // input-shaped gradient back along it.
        Elementwise::new(value)
            .gradient(&var, || {
                (clamped.recip() - ratio.clone().powi_scalar(2)) * 0.5
            })
            .gradient(&input, || ratio.clone())
            .gradient(&targets, || ratio.neg())
    }
}

/// PyTorch's rule for a `var` of the input's rank: the same shape, or exactly one dimension
/// where var has size 1 and the input does not.
#[track_caller]
fn check_var_shape(input: &[usize], var: &[usize]) {
    let mut differing = input.iter().zip(var).filter(|(i, v)| i != v);
    let accepted = match (differing.next(), differing.next()) {
        (None, _) => true,
        (Some((_, &v)), None) => v == 1,
        _ => false,
    };
    if !accepted {
        fail(
            LOSS,
            "var",
            format_args!(
                "shape {input:?} (the shape of `input`), or it with one dimension of size 1"
            ),
            format_args!("{var:?}"),
        );
    }
}

/// The homoscedastic `var` (the input's shape without its last dimension) as a last-dimension
/// of size 1.
#[track_caller]
fn unsqueeze_last<B: Backend, const D: usize, const DV: usize>(
    input: &Tensor<B, D>,
    var: Tensor<B, DV>,
) -> Tensor<B, D> {
    let dims = input.dims();
    if DV + 1 != D || var.dims()[..] != dims[..D - 1] {
        fail(
            LOSS,
            "var",
            format_args!(
                "shape {:?} (the shape of `input` without its last dimension)",
                &dims[..D - 1]
            ),
            format_args!("{:?}", var.dims()),
        );
    }
    var.unsqueeze_dim(DV)
}

/// Checks that no variance is negative (reads one value back from the device, and the offending
/// value only when the check fails). NaN is not an error: it propagates, as in PyTorch.
#[track_caller]
fn check_non_negative<B: Backend, const D: usize>(var: &Tensor<B, D>) {
    if var.shape().num_elements() == 0 || !any(var.clone().lower_elem(0.0)) {
        return;
    }
    let bad = var
        .clone()
        .into_data()
        .iter::<f64>()
        .find(|v| *v < 0.0)
        .expect("a negative variance was detected on the device");
    fail(LOSS, "var", "non-negative values", bad);
}
