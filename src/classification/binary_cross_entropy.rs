//! Binary cross entropy of probabilities.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::mechanics::assembly::{Elementwise, elementwise_forwards};
use crate::mechanics::gradient::Constant;
use crate::mechanics::last_dim::LastDimWeight;
use crate::mechanics::numerics::finite_or_zero;
use crate::mechanics::numerics::log1p;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_same_shape, check_unit_interval, check_weight_option};

const LOSS: &str = "BinaryCrossEntropyLoss";

/// PyTorch clamps each log at -100, so a confident wrong prediction costs at most 100.
const LOG_CLAMP: f64 = -100.0;
/// PyTorch's gradient denominator floor `max(x (1 - x), EPS)`: the float32 constant 1e-12.
const GRADIENT_EPS: f64 = 1e-12;

/// Configuration of [`BinaryCrossEntropyLoss`] (`torch.nn.BCELoss`).
#[derive(Config, Debug)]
pub struct BinaryCrossEntropyLossConfig {
    /// A weight per entry of the last dimension (length 1 or the last dimension's size, finite,
    /// non-negative) that rescales each element's loss. Default: none.
    pub weight: Option<Vec<f32>>,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Check that probabilities and targets lie in `[0, 1]` (reads one value back from the
    /// device). Turn off only for throughput, with inputs known to be valid.
    #[config(default = true)]
    pub check_values: bool,
}

impl BinaryCrossEntropyLossConfig {
    /// Checks the options and builds the loss; the weight lives on `device`.
    ///
    /// # Panics
    /// If `weight` is empty, negative or not finite.
    pub fn init<B: Backend>(&self, device: &B::Device) -> BinaryCrossEntropyLoss<B> {
        check_weight_option(LOSS, "weight", self.weight.as_deref());
        BinaryCrossEntropyLoss {
            weight: self
                .weight
                .as_ref()
                .map(|weight| Tensor::from_floats(weight.as_slice(), device)),
            reduction: self.reduction,
            check_values: self.check_values,
        }
    }
}

/// Binary cross entropy between probabilities `x` and targets `y` in `[0, 1]`, exactly as
/// `torch.nn.BCELoss`, including its clamp of each log at -100:
///
/// ```text
/// ℓ = w · [ (y - 1) · max(log(1 - x), -100) - y · max(log x, -100) ]
/// ∂ℓ/∂x = w · (x - y) / max(x (1 - x), 1e-12)          ∂ℓ/∂y = w · (log(1 - x) - log x)
/// ```
///
/// Soft targets are allowed. `Mean` divides by the number of elements. Prefer
/// [`BinaryCrossEntropyWithLogitsLoss`](crate::BinaryCrossEntropyWithLogitsLoss) on logits: it is
/// exact where this loss saturates at the clamp.
///
/// # Shapes
/// - probs, targets, unreduced output: any shape, the same for all three
/// - weight: broadcast along the last dimension
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = BinaryCrossEntropyLossConfig::new().init::<NdArray>(&device);
/// let probs = Tensor::<NdArray, 1>::from_floats([0.9, 0.2], &device);
/// let targets = Tensor::<NdArray, 1>::from_floats([1.0, 0.0], &device);
/// assert!((loss.forward(probs, targets).into_scalar() - 0.164252).abs() < 1e-5);
/// ```
#[derive(Module, Debug)]
pub struct BinaryCrossEntropyLoss<B: Backend> {
    /// Weight along the last dimension.
    pub weight: Option<Tensor<B, 1>>,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    /// Whether inputs and targets are checked to lie in `[0, 1]`.
    pub check_values: bool,
}

impl<B: Backend> BinaryCrossEntropyLoss<B> {
    elementwise_forwards!(
        probs,
        targets,
        panics: "If the shapes differ, the weight length does not match the last dimension, \
         or (with `check_values`) a probability or target is outside `[0, 1]`."
    );

    fn elementwise<const D: usize>(
        &self,
        probs: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        check_same_shape(LOSS, "targets", "probs", &probs.dims(), &targets.dims());
        let weight = LastDimWeight::new(LOSS, "weight", self.weight.as_ref(), &probs.dims());
        if self.check_values {
            check_unit_interval(LOSS, "probs", &probs);
            check_unit_interval(LOSS, "targets", &targets);
        }
        let x = probs.clone().constant();
        let y = targets.clone().constant();
        let log_x = x.clone().log();
        let log_one_minus_x = log1p(x.clone().neg());
        let losses = (y.clone() - 1.0) * log_one_minus_x.clone().clamp_min(LOG_CLAMP)
            - y.clone() * log_x.clone().clamp_min(LOG_CLAMP);
        Elementwise::new(weight.apply(losses))
            .gradient(&probs, || {
                let denominator = (x.clone() * (x.clone().neg() + 1.0)).clamp_min(GRADIENT_EPS);
                weight.apply((x - y) / denominator)
            })
            .gradient(&targets, || {
                finite_or_zero(weight.apply(log_one_minus_x - log_x))
            })
    }
}
