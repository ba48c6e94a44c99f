//! Negative log-likelihood of class indices under given log-probabilities.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::backends::kernels::{self, NllInputs};
use crate::mechanics::assembly::{Elementwise, class_index_forwards};
use crate::mechanics::class_targets::{CLASS_DIM, ClassIndexTargets};
use crate::mechanics::gradient::needs_gradient;
use crate::mechanics::indexing::gather;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::check_weight_option;

const LOSS: &str = "NllLoss";

/// Configuration of [`NllLoss`], with PyTorch's option names and defaults (`torch.nn.NLLLoss`).
#[derive(Config, Debug)]
pub struct NllLossConfig {
    /// A weight per class (length C, finite, non-negative). Default: none (every class 1).
    pub weight: Option<Vec<f32>>,
    /// Targets equal to this class index contribute 0 and are left out of the mean.
    /// `None`: no target is ignored.
    #[config(default = "Some(-100)")]
    pub ignore_index: Option<i64>,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Check that targets lie in `[0, C)` (reads two numbers back from the device).
    #[config(default = true)]
    pub check_targets: bool,
}

impl NllLossConfig {
    /// Checks the options and builds the loss; the class weights live on `device`.
    ///
    /// # Panics
    /// If `weight` is empty, negative or not finite.
    pub fn init<B: Backend>(&self, device: &B::Device) -> NllLoss<B> {
        check_weight_option(LOSS, "weight", self.weight.as_deref());
        NllLoss {
            weight: self
                .weight
                .as_ref()
                .map(|weight| Tensor::from_floats(weight.as_slice(), device)),
            ignore_index: self.ignore_index,
            reduction: self.reduction,
            check_targets: self.check_targets,
        }
    }
}

/// Negative log-likelihood, exactly as `torch.nn.NLLLoss`: the input holds log-probabilities
/// (not checked: any real values work).
///
/// ```text
/// ℓ_i = -w_{y_i} · input_{i, y_i}        (0 if y_i is ignored)
/// Mean = Σ_i ℓ_i / Σ_{i not ignored} w_{y_i}
/// ```
///
/// # Shapes
/// - log_probs: `(N, C)` or `(N, C, d1, ..., dk)`
/// - targets: `(N)` or `(N, d1, ..., dk)`, `Int`; unreduced output: the same shape
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = NllLossConfig::new().init::<NdArray>(&device);
/// let log_probs = Tensor::<NdArray, 2>::from_floats([[-0.1, -2.5], [-1.2, -0.4]], &device);
/// let targets = Tensor::<NdArray, 1, Int>::from_ints([0, 1], &device);
/// assert!((loss.forward(log_probs, targets).into_scalar() - 0.25).abs() < 1e-6);
/// ```
#[derive(Module, Debug)]
pub struct NllLoss<B: Backend> {
    /// Class weights, shape `[C]`.
    pub weight: Option<Tensor<B, 1>>,
    /// The ignored target value, if any.
    pub ignore_index: Option<i64>,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    /// Whether targets are range-checked.
    pub check_targets: bool,
}

impl<B: Backend> NllLoss<B> {
    class_index_forwards!(
        log_probs,
        panics: "If `DT != D - 1`, the target shape is not the input's shape without dimension 1, \
         the class weights do not have length C, or a target is outside `[0, C)` and is \
         not `ignore_index`."
    );

    /// The loss of every position (class dimension kept) and its gradient, and the prepared
    /// targets.
    fn losses<const D: usize, const DT: usize>(
        &self,
        log_probs: Tensor<B, D>,
        targets: Tensor<B, DT, Int>,
    ) -> (Elementwise<B, D>, ClassIndexTargets<B, D>) {
        let targets = ClassIndexTargets::new(
            LOSS,
            "log_probs",
            &log_probs.dims(),
            targets,
            self.weight.as_ref(),
            self.ignore_index,
            self.check_targets,
        );
        let inputs = NllInputs {
            indices: &targets.indices,
            weights: &targets.weights,
            valid: &targets.valid,
        };
        if let Some(computed) = kernels::nll(&log_probs, inputs, needs_gradient(&log_probs)) {
            let losses =
                Elementwise::new(computed.losses).computed_gradient(&log_probs, computed.gradient);
            return (losses, targets);
        }
        // The gather's backward scatters into a zero tensor: no graph intermediates to save.
        let picked = gather(log_probs, CLASS_DIM, targets.indices.clone());
        let losses = targets.zero_ignored(-picked * targets.weights.clone());
        (Elementwise::new(losses), targets)
    }
}
