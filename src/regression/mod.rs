//! Regression losses, element by element: functions of the difference `d = input - target`
//! (MSE, L1, smooth L1, Huber) and the Poisson and Gaussian negative log-likelihoods.

mod gaussian_nll;
mod huber;
mod l1;
mod mse;
mod poisson_nll;
mod smooth_l1;

pub use gaussian_nll::*;
pub use huber::*;
pub use l1::*;
pub use mse::*;
pub use poisson_nll::*;
pub use smooth_l1::*;

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::mechanics::assembly::Elementwise;
use crate::mechanics::gradient::Constant;
use crate::mechanics::validation::check_same_shape;

/// A loss `ℓ(d)` of `d = input - target` with derivative `ℓ'(d)`: the value and the closed-form
/// gradients `ℓ'(d)` for the input and `-ℓ'(d)` for the target, after the shape check every
/// regression loss shares (PyTorch broadcasts mismatched shapes with a warning; a mismatch here
/// is an error, since it is almost always a bug).
pub(crate) fn difference_loss<B: Backend, const D: usize>(
    loss: &str,
    input: Tensor<B, D>,
    targets: Tensor<B, D>,
    value_and_derivative: impl FnOnce(Tensor<B, D>) -> (Tensor<B, D>, Tensor<B, D>),
) -> Elementwise<B, D> {
    check_same_shape(loss, "targets", "input", &input.dims(), &targets.dims());
    let difference = input.clone().constant() - targets.clone().constant();
    let (value, derivative) = value_and_derivative(difference);
    Elementwise::new(value)
        .gradient(&input, || derivative.clone())
        .gradient(&targets, || derivative.neg())
}
