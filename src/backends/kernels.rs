//! The hooks through which a loss reaches the kernels of the registry's backends: one function
//! per kernel, the same shape for every loss (`Some(output)` where the tensor's backend has a
//! kernel family that computes it, `None` otherwise, and the loss goes on with its generic
//! code). The kernel families are tried in order; NdArray's, then CubeCL's. No loss file
//! names a backend or a Cargo feature: they are all here and in the registry.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

/// The options of the loss, and the prepared per-position targets of shape `(N, 1, d1, ...)`
/// (ignored positions: weight and validity 0, index 0).
pub(crate) struct IndexCrossEntropyInputs<'a, B: Backend, const D: usize> {
    pub indices: &'a Tensor<B, D, Int>,
    pub weights: &'a Tensor<B, D>,
    pub valid: &'a Tensor<B, D>,
    pub class_weight: Option<&'a Tensor<B, 1>>,
    pub label_smoothing: f64,
    pub z_loss: f64,
}

// By hand: a derive would ask `B: Copy` of the backend.
impl<B: Backend, const D: usize> Clone for IndexCrossEntropyInputs<'_, B, D> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B: Backend, const D: usize> Copy for IndexCrossEntropyInputs<'_, B, D> {}

/// Per-position losses `(N, 1, d1, ...)` (z-loss included, 0 where ignored), the z-loss terms
/// when z-loss is on, and the gradient of each position's loss with respect to its logits when
/// asked for.
pub(crate) struct IndexCrossEntropy<B: Backend, const D: usize> {
    pub losses: Tensor<B, D>,
    pub z_terms: Option<Tensor<B, D>>,
    pub gradient: Option<Tensor<B, D>>,
}

/// The prepared per-position targets of shape `(N, 1, d1, ...)` (ignored positions: weight and
/// validity 0, index 0).
pub(crate) struct NllInputs<'a, B: Backend, const D: usize> {
    pub indices: &'a Tensor<B, D, Int>,
    pub weights: &'a Tensor<B, D>,
    pub valid: &'a Tensor<B, D>,
}

/// Per-position losses `(N, 1, d1, ...)` (0 where ignored) and, when asked for, the gradient of
/// each position's loss with respect to the log-probabilities.
pub(crate) struct Nll<B: Backend, const D: usize> {
    pub losses: Tensor<B, D>,
    pub gradient: Option<Tensor<B, D>>,
}

/// The loss's options and which outputs are wanted.
pub(crate) struct BceWithLogitsInputs<'a, B: Backend> {
    pub weight: Option<&'a Tensor<B, 1>>,
    pub pos_weight: Option<&'a Tensor<B, 1>>,
    /// Whether the per-element losses are returned (`'none'`) instead of their sum.
    pub unreduced: bool,
    pub logits_gradient: bool,
    pub targets_gradient: bool,
}

// By hand: a derive would ask `B: Copy` of the backend.
impl<B: Backend> Clone for BceWithLogitsInputs<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B: Backend> Copy for BceWithLogitsInputs<'_, B> {}

/// The losses (their sum, or every element), and the requested gradients of each element's loss.
/// A kernel family that keeps its results on the device gives every element's loss in place of
/// the sum (`sum: None`) and the caller sums them there.
pub(crate) struct BceWithLogits<B: Backend, const D: usize> {
    pub sum: Option<f64>,
    pub losses: Option<Tensor<B, D>>,
    pub logits_gradient: Option<Tensor<B, D>>,
    pub targets_gradient: Option<Tensor<B, D>>,
}

/// Class-index cross entropy of `(N, C, d1, ..., dk)` logits, in one pass.
pub(crate) fn index_cross_entropy<B: Backend, const D: usize>(
    logits: &Tensor<B, D>,
    inputs: IndexCrossEntropyInputs<'_, B, D>,
    with_gradient: bool,
) -> Option<IndexCrossEntropy<B, D>> {
    #[cfg(feature = "ndarray")]
    if let Some(computed) =
        super::ndarray::cross_entropy::index_cross_entropy(logits, inputs, with_gradient)
    {
        return Some(computed);
    }
    #[cfg(feature = "wgpu")]
    if let Some(computed) =
        super::cube::cross_entropy::index_cross_entropy(logits, inputs, with_gradient)
    {
        return Some(computed);
    }
    let _ = (logits, inputs, with_gradient);
    None
}

/// NLL of `(N, C, d1, ..., dk)` log-probabilities.
pub(crate) fn nll<B: Backend, const D: usize>(
    log_probs: &Tensor<B, D>,
    inputs: NllInputs<'_, B, D>,
    with_gradient: bool,
) -> Option<Nll<B, D>> {
    #[cfg(feature = "ndarray")]
    return super::ndarray::nll::nll(log_probs, inputs, with_gradient);
    #[cfg(not(feature = "ndarray"))]
    {
        let _ = (log_probs, inputs, with_gradient);
        None
    }
}

/// BCE with logits, in one pass over the logits and the targets.
pub(crate) fn bce_with_logits<B: Backend, const D: usize>(
    logits: &Tensor<B, D>,
    targets: &Tensor<B, D>,
    inputs: BceWithLogitsInputs<'_, B>,
) -> Option<BceWithLogits<B, D>> {
    #[cfg(feature = "ndarray")]
    if let Some(computed) =
        super::ndarray::binary_cross_entropy_with_logits::bce_with_logits(logits, targets, inputs)
    {
        return Some(computed);
    }
    #[cfg(feature = "wgpu")]
    if let Some(computed) =
        super::cube::binary_cross_entropy_with_logits::bce_with_logits(logits, targets, inputs)
    {
        return Some(computed);
    }
    let _ = (logits, targets, inputs);
    None
}

/// The sum of every element of untracked `values`, accurate at any size, without the copies of
/// the generic blocked sum.
pub(crate) fn sum<B: Backend, const D: usize>(values: &Tensor<B, D>) -> Option<Tensor<B, 1>> {
    #[cfg(feature = "ndarray")]
    return super::ndarray::sum(values);
    #[cfg(not(feature = "ndarray"))]
    {
        let _ = values;
        None
    }
}

/// `values.sum_dim(dim)` of untracked rows (the dimensions after `dim` of size 1), accurate at
/// any length.
pub(crate) fn sum_rows<B: Backend, const D: usize>(
    values: &Tensor<B, D>,
    dim: usize,
) -> Option<Tensor<B, D>> {
    #[cfg(feature = "ndarray")]
    return super::ndarray::sum_rows(values, dim);
    #[cfg(not(feature = "ndarray"))]
    {
        let _ = (values, dim);
        None
    }
}

/// `gradient · upstream` in place, in a backward step (one upstream value, or one per
/// position); both handed back where no kernel family takes them.
pub(crate) fn scale_in_place<P: 'static>(gradient: P, upstream: P) -> Result<P, (P, P)> {
    #[cfg(feature = "ndarray")]
    return super::ndarray::scale_in_place(gradient, upstream);
    #[cfg(not(feature = "ndarray"))]
    Err((gradient, upstream))
}
