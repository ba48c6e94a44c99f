//! Element weights that broadcast along the last dimension (BCE's `weight` and `pos_weight`).

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::mechanics::validation::fail;

/// An optional weight vector viewed as `[1, ..., 1, L]`, checked against an input's last
/// dimension (`L` is that dimension's size, or 1).
pub(crate) struct LastDimWeight<B: Backend, const D: usize>(Option<Tensor<B, D>>);

impl<B: Backend, const D: usize> LastDimWeight<B, D> {
    #[track_caller]
    pub fn new(
        loss: &str,
        option: &str,
        weight: Option<&Tensor<B, 1>>,
        input_dims: &[usize; D],
    ) -> Self {
        Self(weight.map(|weight| {
            let len = weight.dims()[0];
            let last = input_dims[D - 1];
            if len != last && len != 1 {
                fail(
                    loss,
                    option,
                    format_args!("length {last} (the last dimension of the input) or 1"),
                    format_args!("length {len}"),
                );
            }
            let mut shape = [1; D];
            shape[D - 1] = len;
            weight.clone().reshape(shape)
        }))
    }

    /// `values * weight`, or `values` without a weight.
    pub fn apply(&self, values: Tensor<B, D>) -> Tensor<B, D> {
        match &self.0 {
            Some(weight) => values * weight.clone(),
            None => values,
        }
    }

    /// The weight view, if any.
    pub fn get(&self) -> Option<&Tensor<B, D>> {
        self.0.as_ref()
    }
}
