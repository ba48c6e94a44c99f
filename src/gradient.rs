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
use crate::reduction::Reduction;

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

/// A zero-valued tensor whose gradient with respect to `input` is `gradient()` times the
/// upstream gradient of each element; `None` without autodiff (or for an untracked input), so the
/// caller skips computing `gradient` at all. `gradient` must be finite (see [`finite_or_zero`]).
pub(crate) fn gradient_carrier<B: Backend, const D: usize>(
    input: &Tensor<B, D>,
    gradient: impl FnOnce() -> Tensor<B, D>,
) -> Option<Tensor<B, D>> {
    carrier(input, gradient, |dims| dims, |product| product)
}

/// [`gradient_carrier`] for a loss summed over dimension `dim`: the carrier has size 1 there.
pub(crate) fn dim_sum_gradient_carrier<B: Backend, const D: usize>(
    input: &Tensor<B, D>,
    gradient: impl FnOnce() -> Tensor<B, D>,
    dim: usize,
) -> Option<Tensor<B, D>> {
    let reduced_dims = |mut dims: [usize; D]| {
        dims[dim] = 1;
        dims
    };
    carrier(input, gradient, reduced_dims, |product| {
        product.sum_dim(dim)
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

/// An element-wise loss: its value computed on detached inputs, and the closed-form gradient of
/// each element with respect to each differentiable input (only on autodiff backends).
pub(crate) struct Elementwise<B: Backend, const D: usize> {
    pub value: Tensor<B, D>,
    pub gradients: Vec<(Tensor<B, D>, Tensor<B, D>)>,
}

impl<B: Backend, const D: usize> Elementwise<B, D> {
    /// Starts from the detached value; add gradients with [`Elementwise::gradient`].
    pub fn new(value: Tensor<B, D>) -> Self {
        Self {
            value,
            gradients: Vec::new(),
        }
    }

    /// Attaches `gradient()` as the gradient of every element with respect to `input`, when
    /// autodiff needs it.
    pub fn gradient(
        mut self,
        input: &Tensor<B, D>,
        gradient: impl FnOnce() -> Tensor<B, D>,
    ) -> Self {
        if needs_gradient(input) {
            self.gradients.push((input.clone(), gradient()));
        }
        self
    }

    /// The unreduced loss (PyTorch's `'none'`), differentiable element by element.
    pub fn unreduced(self) -> Tensor<B, D> {
        self.gradients
            .into_iter()
            .fold(self.value, |value, (input, gradient)| {
                let carrier = gradient_carrier(&input, || gradient);
                with_gradient(value, carrier)
            })
    }

    /// The reduced loss. The carriers are summed before their zero is formed, so no second
    /// input-sized buffer is built for them.
    pub fn reduced(self, reduction: Reduction, batch_size: usize) -> Tensor<B, 1> {
        let count = self.value.shape().num_elements();
        let value = reduction.reduce(self.value, batch_size);
        let factor = reduction.factor(count as f64, batch_size);
        self.gradients
            .into_iter()
            .fold(value, |value, (input, gradient)| {
                let carrier = sum_gradient_carrier(&input, || gradient);
                with_gradient(value, carrier.map(|carrier| carrier * factor))
            })
    }
}

/// `forward` and `forward_no_reduction` of a loss of two same-shaped inputs, from its
/// `elementwise(first, second) -> Elementwise` method and its `reduction` field: the loss reduced
/// with the configured reduction, and the loss of every element. The doc comments written before
/// each name document that method.
macro_rules! elementwise_forwards {
    (
        $(#[$forward_doc:meta])*
        forward($first:ident, $second:ident);
        $(#[$unreduced_doc:meta])*
        forward_no_reduction;
    ) => {
        $(#[$forward_doc])*
        pub fn forward<const D: usize>(
            &self,
            $first: burn::tensor::Tensor<B, D>,
            $second: burn::tensor::Tensor<B, D>,
        ) -> burn::tensor::Tensor<B, 1> {
            let batch_size = $first.dims()[0];
            self.elementwise($first, $second)
                .reduced(self.reduction, batch_size)
        }

        $(#[$unreduced_doc])*
        pub fn forward_no_reduction<const D: usize>(
            &self,
            $first: burn::tensor::Tensor<B, D>,
            $second: burn::tensor::Tensor<B, D>,
        ) -> burn::tensor::Tensor<B, D> {
            self.elementwise($first, $second).unreduced()
        }
    };
}
pub(crate) use elementwise_forwards;

/// `values` with their infinite and NaN entries set to 0 (and no gradient through them). Used for
/// gradients with respect to targets, which PyTorch leaves infinite at probabilities of exactly
/// 0 or 1 (BCE) or NaN at a zero target probability (KL): a non-finite entry would otherwise
/// reach the upstream gradient through the product rule and turn the backward pass into NaN.
/// Always applied (a few element-wise passes): deciding first whether anything needs it would
/// read a value back from the device.
pub(crate) fn finite_or_zero<B: Backend, const D: usize>(values: Tensor<B, D>) -> Tensor<B, D> {
    let non_finite = values.clone().is_finite().bool_not();
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

/// `max(0, z)` exactly as PyTorch's `clamp_min(z, 0)`: the gradient passes only where `z > 0`,
/// so it is 0 at the hinge point `z == 0` (Burn's `clamp_min` passes it there) and at NaN, and
/// NaN propagates to the value on every backend.
pub(crate) fn hinge<B: Backend, const D: usize>(z: Tensor<B, D>) -> Tensor<B, D> {
    let inactive = z.clone().lower_equal_elem(0.0);
    let nan = z.clone().is_nan();
    z.mask_fill(inactive, 0.0).mask_fill(nan, f32::NAN)
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
