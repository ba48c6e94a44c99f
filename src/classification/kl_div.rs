//! Kullback-Leibler divergence between a target distribution and predicted log-probabilities.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::mechanics::assembly::{Elementwise, elementwise_forwards};
use crate::mechanics::gradient::Constant;
use crate::mechanics::numerics::finite_or_zero;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::check_same_shape;

const LOSS: &str = "KlDivLoss";

/// Configuration of [`KlDivLoss`] (`torch.nn.KLDivLoss`).
#[derive(Config, Debug)]
pub struct KlDivLossConfig {
    /// The targets are log-probabilities (`log p`) instead of probabilities.
    #[config(default = false)]
    pub log_target: bool,
    /// The reduction applied by `forward`. `BatchMean` gives the true KL divergence per sample;
    /// `Mean` (PyTorch's default) also divides by the support size.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl KlDivLossConfig {
    /// Builds the loss (it has no option that can be invalid).
    pub fn init<B: Backend>(&self, _device: &B::Device) -> KlDivLoss<B> {
        KlDivLoss {
            log_target: self.log_target,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// Pointwise KL divergence `KL(p || q)` with the input holding `log q`, exactly as
/// `torch.nn.KLDivLoss`:
///
/// ```text
/// log_target = false:  ℓ = xlogy(p, p) - p · input     (0 where p = 0; NaN where p < 0)
/// log_target = true:   ℓ = exp(t) · (t - input)
/// ```
///
/// `Mean` divides by the number of elements, `BatchMean` by the batch size (dimension 0), which
/// is the mathematical KL divergence of each sample's distribution averaged over the batch.
///
/// # Shapes
/// - input (log-probabilities), targets, unreduced output: any shape, the same for all three
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = KlDivLossConfig::new()
///     .with_reduction(Reduction::BatchMean)
///     .init::<NdArray>(&device);
/// let log_q = Tensor::<NdArray, 2>::from_floats([[-1.2, -0.5, -2.0], [-0.1, -3.0, -1.0]], &device);
/// let p = Tensor::<NdArray, 2>::from_floats([[0.2, 0.8, 0.0], [0.5, 0.25, 0.25]], &device);
/// assert!((loss.forward(log_q, p).into_scalar() - 0.0749384).abs() < 1e-6);
/// ```
#[derive(Module, Debug)]
pub struct KlDivLoss<B: Backend> {
    /// Whether the targets are log-probabilities.
    pub log_target: bool,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> KlDivLoss<B> {
    elementwise_forwards!(
        input,
        targets,
        panics: "If the shapes differ (PyTorch broadcasts them silently; a mismatch here is \
         almost always a bug, so it is an error)."
    );

    fn elementwise<const D: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        check_same_shape(LOSS, "targets", "input", &input.dims(), &targets.dims());
        let log_q = input.clone().constant();
        let t = targets.clone().constant();
        let (losses, target_probs) = if self.log_target {
            let p = t.clone().exp();
            (p.clone() * (t.clone() - log_q.clone()), p)
        } else {
            let xlogy = (t.clone() * t.clone().log()).mask_fill(t.clone().equal_elem(0.0), 0.0);
            (xlogy - t.clone() * log_q.clone(), t.clone())
        };
        Elementwise::new(losses)
            .gradient(&input, || target_probs.clone().neg())
            .gradient(&targets, || {
                finite_or_zero(if self.log_target {
                    target_probs * (t - log_q + 1.0)
                } else {
                    t.log() + 1.0 - log_q
                })
            })
    }
}
