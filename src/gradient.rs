//! Closed-form gradients without the autodiff graph.
//!
//! Each loss computes its value from detached inputs, then adds a zero-valued "carrier" whose
//! gradient with respect to the original input is the loss's closed-form gradient. The backward
//! pass then keeps one input-sized buffer (the gradient) instead of every intermediate of the
//! forward graph (shifted logits, exponentials, log-probabilities, ...), and the gradient is the
//! exact formula PyTorch uses (e.g. BCE's `max(x(1 - x), 1e-12)` denominator), not the
//! derivative of a clamped forward. This works unchanged on every `B: Backend`; on a backend
//! without autodiff nothing is tracked and the carrier is never built.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// A tensor of zeros shaped like `input`, whose gradient with respect to `input` is `gradient`
/// (times the upstream gradient). Returns `None` when `input` is not tracked by autodiff, so the
/// caller can skip computing `gradient` at all.
///
/// Positions where `input * gradient` is not finite (an infinite logit) keep a zero value: the
/// product would otherwise turn the carrier's zero into NaN and poison the loss value. The
/// gradient itself must be finite (see [`finite_or_zero`]).
pub(crate) fn gradient_carrier<B: Backend, const D: usize>(
    input: &Tensor<B, D>,
    gradient: impl FnOnce() -> Tensor<B, D>,
) -> Option<Tensor<B, D>> {
    if !input.is_require_grad() {
        return None;
    }
    let product = input.clone() * gradient().detach();
    let zero = product.clone() - product.detach();
    Some(zero.clone().mask_fill(zero.is_nan(), 0.0))
}

/// `gradient` with its infinite and NaN entries set to 0, for gradients with respect to
/// targets, which PyTorch leaves infinite at probabilities of exactly 0 or 1 (BCE) or NaN at a
/// zero target probability (KL). A non-finite entry would otherwise reach the upstream
/// gradient through the product rule and turn the whole backward pass into NaN.
pub(crate) fn finite_or_zero<B: Backend, const D: usize>(gradient: Tensor<B, D>) -> Tensor<B, D> {
    let non_finite = gradient.clone().is_nan().bool_or(gradient.clone().is_inf());
    gradient.mask_fill(non_finite, 0.0)
}

/// Adds the carrier of [`gradient_carrier`] to `value` when there is one.
pub(crate) fn with_gradient<B: Backend, const D: usize>(
    value: Tensor<B, D>,
    carrier: Option<Tensor<B, D>>,
) -> Tensor<B, D> {
    match carrier {
        Some(carrier) => value + carrier,
        None => value,
    }
}

/// `max(0, z)` exactly as PyTorch's `clamp_min(z, 0)`: the gradient passes only where `z > 0`,
/// so it is 0 at the hinge point `z == 0` (Burn's `clamp_min` passes it there) and at NaN, and
/// NaN propagates to the value on every backend.
pub(crate) fn hinge<B: Backend, const D: usize>(z: Tensor<B, D>) -> Tensor<B, D> {
    let inactive = z.clone().lower_equal_elem(0.0);
    let nan = z.clone().is_nan();
    z.mask_fill(inactive, 0.0).mask_fill(nan, f32::NAN)
}
