//! Closed-form gradients without the autodiff graph.
//!
//! Each loss computes its value from detached inputs, then adds a zero-valued "carrier" whose
//! gradient with respect to the original input is the loss's closed-form gradient. The backward
//! pass then keeps one input-sized buffer (the gradient) instead of every intermediate of the
//! forward graph (shifted logits, exponentials, log-probabilities, ...), and the gradient is the
//! exact formula PyTorch uses (e.g. BCE's `max(x(1 - x), 1e-12)` denominator), not the
//! derivative of a clamped forward. This works unchanged on every `B: Backend`; on a backend
//! without autodiff the carrier is never built.

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor};

use crate::backends::autodiff;
use crate::mechanics::numerics::finite_or_zero;

/// A tensor cut from the autodiff graph. Burn's `detach` keeps a leaf's `require_grad`, so a
/// detached leaf (a benchmark's logits, a parameter fed to a loss directly) would still be
/// tracked as a new leaf: every operation on it recorded, and gradients computed for it that
/// nobody reads. `set_require_grad(false)` makes a constant in every case.
pub(crate) trait Constant {
    /// This tensor as a constant: no graph, no gradient.
    fn constant(self) -> Self;
}

impl<B: Backend, const D: usize> Constant for Tensor<B, D> {
    fn constant(self) -> Self {
        self.set_require_grad(false)
    }
}

/// Whether closed-form gradients are needed for `input`.
///
/// On the autodiff backends of the registry (`crate::backends`) this reads the tensor's graph node, so a
/// target nobody differentiates costs nothing. Elsewhere Burn's public API cannot tell a tracked
/// intermediate (a model's output) from an untracked tensor (`is_require_grad` only sees
/// leaves), so every input of an autodiff backend gets a carrier; on an untracked input the
/// carrier's operations simply record nothing.
pub(crate) fn needs_gradient<B: Backend, const D: usize>(input: &Tensor<B, D>) -> bool {
    if !B::ad_enabled(&input.device()) {
        return false;
    }
    if let Some(tracked) = autodiff::is_tracked(input) {
        return tracked;
    }
    true
}

/// A zero-valued tensor of shape `value_dims` (the loss's per-position value) whose gradient
/// with respect to `input` is `gradient()` times the upstream gradient of each position: the
/// product is summed over every dimension where the value has size 1 and the input (or the
/// gradient) does not, the class dimension of a per-position loss. `None` without autodiff (or
/// for an untracked input), so the caller skips computing `gradient` at all. `gradient` must be
/// finite (see `crate::mechanics::numerics::finite_or_zero`).
pub(crate) fn gradient_carrier<B: Backend, const D: usize>(
    input: &Tensor<B, D>,
    gradient: impl FnOnce() -> Tensor<B, D>,
    value_dims: [usize; D],
) -> Option<Tensor<B, D>> {
    let summed = |dims: [usize; D]| -> [bool; D] {
        std::array::from_fn(|i| value_dims[i] == 1 && dims[i] > 1)
    };
    let reduced_dims = |dims: [usize; D]| {
        let summed = summed(dims);
        std::array::from_fn(|i| if summed[i] { 1 } else { dims[i] })
    };
    carrier(input, gradient, reduced_dims, |product: Tensor<B, D>| {
        let summed = summed(product.dims());
        (0..D)
            .filter(|&dim| summed[dim])
            .fold(product, |product, dim| product.sum_dim(dim))
    })
}

/// [`gradient_carrier`] for a loss summed over everything: a one-element carrier.
pub(crate) fn sum_gradient_carrier<B: Backend, const D: usize>(
    input: &Tensor<B, D>,
    gradient: impl FnOnce() -> Tensor<B, D>,
) -> Option<Tensor<B, 1>> {
    carrier(input, gradient, |_| [1], |product| product.sum())
}

/// The carrier of shape `reduced_dims(dims)`, where `dims` is the shape `input` and `gradient`
/// broadcast to (a loss may broadcast an input, as Gaussian NLL does its variance). On the
/// autodiff backends of the registry (`crate::backends`) it is a backward step of its own that
/// stores `gradient` and multiplies it by the upstream gradient. Elsewhere it is
/// `reduce(input · gradient)` minus itself, whose gradient with respect to `input` is
/// `gradient`: `reduce` sums the product over whatever the loss sums before the subtraction, so
/// only the reduced tensor, not an input-sized one, is built twice. The input is clamped to its
/// type's finite range first, so that a `-inf` logit (a masked vocabulary entry, whose gradient
/// is 0) does not turn `0 · inf` into NaN: one tracked pass, where asking whether an infinity is
/// there would read a value back from the device. A reduced product can still overflow (only
/// on rows whose loss is infinite already): its carrier's value is then set to 0.
fn carrier<B: Backend, const D: usize, const DR: usize>(
    input: &Tensor<B, D>,
    gradient: impl FnOnce() -> Tensor<B, D>,
    reduced_dims: impl FnOnce([usize; D]) -> [usize; DR],
    reduce: impl FnOnce(Tensor<B, D>) -> Tensor<B, DR>,
) -> Option<Tensor<B, DR>> {
    if !needs_gradient(input) {
        return None;
    }
    let gradient = gradient().constant();
    let (input_dims, gradient_dims) = (input.dims(), gradient.dims());
    let reduced_dims = reduced_dims(std::array::from_fn(|i| input_dims[i].max(gradient_dims[i])));
    let gradient = match autodiff::gradient_carrier(input, gradient, reduced_dims) {
        Ok(carrier) => return Some(carrier),
        Err(gradient) => gradient,
    };
    let (lowest, highest) = finite_range(input.dtype());
    let reduces = reduced_dims.iter().product::<usize>() < input.shape().num_elements();
    let product = reduce(input.clone().clamp(lowest, highest) * gradient);
    let carrier = product.clone() - product.constant();
    Some(if reduces {
        finite_or_zero(carrier)
    } else {
        carrier
    })
}

/// The lowest and highest finite values of a float type.
fn finite_range(dtype: DType) -> (f64, f64) {
    match dtype {
        DType::F64 => (f64::MIN, f64::MAX),
        DType::F16 => (-65504.0, 65504.0),
        DType::BF16 => (-3.3895313892515355e38, 3.3895313892515355e38),
        _ => (f32::MIN as f64, f32::MAX as f64),
    }
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

#[cfg(all(test, feature = "ndarray", feature = "autodiff"))]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, NdArray};

    type B = Autodiff<NdArray>;

    #[test]
    fn constant_cuts_a_leaf_from_the_graph_where_detach_does_not() {
        let device = Default::default();
        let leaf = Tensor::<B, 1>::from_floats([1.0, 2.0], &device).require_grad();
        // Burn's detach keeps a leaf's require_grad: the reason `constant` exists.
        assert!(leaf.clone().detach().is_require_grad());
        assert!(!leaf.clone().constant().is_require_grad());
        let doubled = leaf.clone() * 2.0;
        let gradients = (doubled.constant() * leaf.clone()).sum().backward();
        let gradient: Vec<f32> = leaf.grad(&gradients).unwrap().into_data().to_vec().unwrap();
        assert_eq!(
            gradient,
            [2.0, 4.0],
            "only the direct path reaches the leaf"
        );
    }
}
