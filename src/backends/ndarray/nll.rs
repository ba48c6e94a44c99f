//! NLL on NdArray: the target's log-probability read at each position (N reads, where Burn's
//! `gather` along dimension 1 walks the whole input on NdArray), and the gradient as zeros with
//! `-w` written at each target. The formulas are those of `NllLoss::losses`.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::backends::kernels::{Nll, NllInputs};

use super::{
    ClassKernelCall, FloatKernel, KernelFloat, int_values, run_on_values, small_values, tensor_of,
};

/// The loss on NdArray; `None` on other backends or layouts.
pub(crate) fn nll<B: Backend, const D: usize>(
    log_probs: &Tensor<B, D>,
    inputs: NllInputs<'_, B, D>,
    with_gradient: bool,
) -> Option<Nll<B, D>> {
    run_on_values(
        log_probs,
        ClassKernelCall::on(log_probs, &inputs, with_gradient),
    )
}

impl<'a, B: Backend, const D: usize> FloatKernel
    for ClassKernelCall<'a, B, D, NllInputs<'a, B, D>>
{
    type Output = Nll<B, D>;

    fn run<E: KernelFloat>(self, log_probs: &[E]) -> Self::Output {
        let dims = self.dims;
        let classes = dims[1];
        let positions: usize = dims[2..].iter().product();
        let indices = int_values(self.inputs.indices);
        let weights: Vec<E> = small_values(self.inputs.weights);
        let valid: Vec<E> = small_values(self.inputs.valid);
        // Position p = n·S + s of the targets is element (n·C + class)·S + s of the input.
        let at = |p: usize| {
            ((p / positions) * classes + indices[p] as usize) * positions + p % positions
        };

        let losses: Vec<E> = (0..indices.len())
            .map(|p| {
                let loss = -log_probs[at(p)] * weights[p];
                if valid[p].is_zero() { E::zero() } else { loss }
            })
            .collect();
        let gradient = self.with_gradient.then(|| {
            let mut gradient = E::zeros(log_probs.len());
            for p in (0..indices.len()).filter(|&p| !valid[p].is_zero()) {
                gradient[at(p)] = -weights[p];
            }
            gradient
        });

        let mut reduced_dims = dims;
        reduced_dims[1] = 1;
        let tensor = |values, shape| tensor_of(values, shape, &self.device, self.dtype);
        Nll {
            losses: tensor(losses, reduced_dims),
            gradient: gradient.map(|gradient| tensor(gradient, dims)),
        }
    }
}
