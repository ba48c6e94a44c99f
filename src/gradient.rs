//! Closed-form gradients without the autodiff graph.
//!
//! Each loss computes its value from detached inputs, then adds a zero-valued "carrier" whose
//! gradient with respect to the original input is the loss's closed-form gradient. The backward
//! pass then keeps one input-sized buffer (the gradient) instead of every intermediate of the
//! forward graph (shifted logits, exponentials, log-probabilities, ...), and the gradient is the
//! exact formula PyTorch uses (e.g. BCE's `max(x(1 - x), 1e-12)` denominator), not the
//! derivative of a clamped forward. This works unchanged on every `B: Backend`; on a backend
//! without autodiff the carrier is never built.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// A tensor of zeros shaped like `input`, whose gradient with respect to `input` is `gradient`
/// (times the upstream gradient). Returns `None` on a backend without autodiff, so the caller
/// skips computing `gradient` at all.
///
/// `gradient` must be finite (see [`finite_or_zero`]). Infinite inputs are clamped to the finite
/// range first, so a `-inf` logit (a masked vocabulary entry, whose gradient is 0) does not turn
/// `0 · inf` into NaN. A caller that sums the carrier over a dimension can still overflow a sum
/// of huge products to infinity (only on rows whose loss is infinite already) and should pass the
/// sum through [`finite_or_zero`].
pub(crate) fn gradient_carrier<B: Backend, const D: usize>(
    input: &Tensor<B, D>,
    gradient: impl FnOnce() -> Tensor<B, D>,
) -> Option<Tensor<B, D>> {
    // Burn's public API cannot tell a tracked intermediate (a model's output) from an untracked
    // tensor (`is_require_grad` only sees leaves), so every input of an autodiff backend gets a
    // carrier; on an untracked input the carrier's operations simply record nothing.
    if !B::ad_enabled(&input.device()) {
        return None;
    }
    let product = input.clone().clamp(f32::MIN, f32::MAX) * gradient().detach();
    Some(product.clone() - product.detach())
}

/// `values` with their infinite and NaN entries set to 0 (and no gradient through them). Used for
/// gradients with respect to targets, which PyTorch leaves infinite at probabilities of exactly
/// 0 or 1 (BCE) or NaN at a zero target probability (KL): a non-finite entry would otherwise
/// reach the upstream gradient through the product rule and turn the backward pass into NaN.
pub(crate) fn finite_or_zero<B: Backend, const D: usize>(values: Tensor<B, D>) -> Tensor<B, D> {
    let non_finite = values.clone().is_nan().bool_or(values.clone().is_inf());
    values.mask_fill(non_finite, 0.0)
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
