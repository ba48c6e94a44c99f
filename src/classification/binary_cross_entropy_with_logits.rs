//! Binary cross entropy of logits, with per-column and positive-class weights.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::backends::kernels::{self, BceWithLogits, BceWithLogitsInputs};
use crate::mechanics::assembly::Elementwise;
use crate::mechanics::gradient::{Constant, needs_gradient, sum_gradient_carrier, with_gradient};
use crate::mechanics::last_dim::LastDimWeight;
use crate::mechanics::numerics::finite_or_zero;
use crate::mechanics::numerics::log1p;
use crate::mechanics::reduction::{LossSum, Normalizer, Reduction};
use crate::mechanics::validation::{check_same_shape, check_weight_option};

const LOSS: &str = "BinaryCrossEntropyWithLogitsLoss";

/// Configuration of [`BinaryCrossEntropyWithLogitsLoss`] (`torch.nn.BCEWithLogitsLoss`).
#[derive(Config, Debug)]
pub struct BinaryCrossEntropyWithLogitsLossConfig {
    /// A weight per entry of the last dimension (length 1 or the last dimension's size) that
    /// rescales each element's loss. Default: none.
    pub weight: Option<Vec<f32>>,
    /// A weight of the positive term per entry of the last dimension (length 1 or the last
    /// dimension's size): `pos_weight > 1` raises recall, e.g. `negatives / positives` per label.
    pub pos_weight: Option<Vec<f32>>,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl BinaryCrossEntropyWithLogitsLossConfig {
    /// Checks the options and builds the loss; the weights live on `device`.
    ///
    /// # Panics
    /// If `weight` or `pos_weight` is empty, negative or not finite.
    pub fn init<B: Backend>(&self, device: &B::Device) -> BinaryCrossEntropyWithLogitsLoss<B> {
        check_weight_option(LOSS, "weight", self.weight.as_deref());
        check_weight_option(LOSS, "pos_weight", self.pos_weight.as_deref());
        let to_tensor = |weight: &Vec<f32>| Tensor::from_floats(weight.as_slice(), device);
        BinaryCrossEntropyWithLogitsLoss {
            weight: self.weight.as_ref().map(to_tensor),
            pos_weight: self.pos_weight.as_ref().map(to_tensor),
            reduction: self.reduction,
        }
    }
}

/// Binary cross entropy on logits `x` with targets `y` in `[0, 1]`, exactly as
/// `torch.nn.BCEWithLogitsLoss`, in its numerically stable form:
///
/// ```text
/// lw = 1 + (pos_weight - 1) · y
/// ℓ  = w · [ (1 - y) · x - lw · log σ(x) ],   log σ(x) = min(x, 0) - log1p(exp(-|x|))
/// ∂ℓ/∂x = w · [ lw · σ(x) - pos_weight · y ]      ∂ℓ/∂y = w · [ -x - (pos_weight - 1) · log σ(x) ]
/// ```
///
/// Finite for every finite logit (±1e4 included). `Mean` divides by the number of elements.
///
/// # Shapes
/// - logits, targets, unreduced output: any shape, the same for all three
/// - weight, pos_weight: broadcast along the last dimension (the label dimension of `(N, C)`)
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = BinaryCrossEntropyWithLogitsLossConfig::new()
///     .with_pos_weight(Some(vec![3.0, 1.0]))
///     .init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 2>::from_floats([[0.5, -1.0]], &device);
/// let targets = Tensor::<NdArray, 2>::from_floats([[1.0, 0.0]], &device);
/// assert!((loss.forward(logits, targets).into_scalar() - 0.867746).abs() < 1e-5); // PyTorch: 0.86774635
/// ```
#[derive(Module, Debug)]
pub struct BinaryCrossEntropyWithLogitsLoss<B: Backend> {
    /// Weight along the last dimension.
    pub weight: Option<Tensor<B, 1>>,
    /// Positive-class weight along the last dimension.
    pub pos_weight: Option<Tensor<B, 1>>,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
}

impl<B: Backend> BinaryCrossEntropyWithLogitsLoss<B> {
    /// The loss reduced with the configured reduction.
    ///
    /// # Panics
    /// If the shapes differ or a weight's length does not match the last dimension.
    pub fn forward<const D: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> Tensor<B, 1> {
        let batch_size = logits.dims()[0];
        self.reduction
            .finish(self.forward_sum(logits, targets), batch_size)
    }

    /// The sum of the losses of every element and their count, whose
    /// [`mean`](LossSum::mean) is the `Mean` reduction: to divide by the element count of a
    /// larger batch (see [`LossSum`]).
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_sum<const D: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> LossSum<B> {
        let weights = self.checked_weights(&logits, &targets);
        if let Some(computed) = self.kernel(&logits, &targets, false) {
            let Some(sum) = computed.sum else {
                // The kernel's family keeps the losses on the device: summed there.
                return Elementwise::new(computed.losses.expect("every loss, without the sum"))
                    .computed_gradient(&logits, computed.logits_gradient)
                    .computed_gradient(&targets, computed.targets_gradient)
                    .summed();
            };
            let sum = Tensor::from_data(
                TensorData::new(vec![sum], [1]),
                (&logits.device(), logits.dtype()),
            );
            let logits_carrier = computed
                .logits_gradient
                .and_then(|gradient| sum_gradient_carrier(&logits, || gradient));
            let targets_carrier = computed
                .targets_gradient
                .and_then(|gradient| sum_gradient_carrier(&targets, || gradient));
            return LossSum {
                sum: with_gradient(with_gradient(sum, logits_carrier), targets_carrier),
                normalizer: Normalizer::elements_of(&logits),
            };
        }
        self.elementwise(logits, targets, weights).summed()
    }

    /// The loss of every element, shaped like the inputs.
    pub fn forward_no_reduction<const D: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> Tensor<B, D> {
        let weights = self.checked_weights(&logits, &targets);
        if let Some(computed) = self.kernel(&logits, &targets, true) {
            return Elementwise::new(computed.losses.expect("asked for every loss"))
                .computed_gradient(&logits, computed.logits_gradient)
                .computed_gradient(&targets, computed.targets_gradient)
                .unreduced();
        }
        self.elementwise(logits, targets, weights).unreduced()
    }

    /// Checks the inputs' shapes and the weights' lengths, once per call, and views the
    /// weights along the last dimension: `(weight, pos_weight)`.
    fn checked_weights<const D: usize>(
        &self,
        logits: &Tensor<B, D>,
        targets: &Tensor<B, D>,
    ) -> (LastDimWeight<B, D>, LastDimWeight<B, D>) {
        let dims = logits.dims();
        check_same_shape(LOSS, "targets", "logits", &dims, &targets.dims());
        (
            LastDimWeight::new(LOSS, "weight", self.weight.as_ref(), &dims),
            LastDimWeight::new(LOSS, "pos_weight", self.pos_weight.as_ref(), &dims),
        )
    }

    /// The loss by the one-pass kernel of the tensors' backend (every loss when `unreduced`,
    /// else their sum); `None` where it has none.
    fn kernel<const D: usize>(
        &self,
        logits: &Tensor<B, D>,
        targets: &Tensor<B, D>,
        unreduced: bool,
    ) -> Option<BceWithLogits<B, D>> {
        let inputs = BceWithLogitsInputs {
            weight: self.weight.as_ref(),
            pos_weight: self.pos_weight.as_ref(),
            unreduced,
            logits_gradient: needs_gradient(logits),
            targets_gradient: needs_gradient(targets),
        };
        kernels::bce_with_logits(logits, targets, inputs)
    }

    fn elementwise<const D: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, D>,
        (weight, pos_weight): (LastDimWeight<B, D>, LastDimWeight<B, D>),
    ) -> Elementwise<B, D> {
        let x = logits.clone().constant();
        let y = targets.clone().constant();

        let log_sigmoid = x.clone().clamp_max(0.0) - log1p(x.clone().abs().neg().exp());
        // lw = 1 + (pos_weight - 1) y, and (pos_weight - 1) itself for the target gradient.
        let pos_weight_minus_one = pos_weight.get().map(|pw| pw.clone() - 1.0);
        let log_weight = pos_weight_minus_one
            .as_ref()
            .map(|pw_minus_one| y.clone() * pw_minus_one.clone() + 1.0);
        let weighted_log_sigmoid = match &log_weight {
            Some(log_weight) => log_weight.clone() * log_sigmoid.clone(),
            None => log_sigmoid.clone(),
        };
        let losses = (y.clone().neg() + 1.0) * x.clone() - weighted_log_sigmoid;
        Elementwise::new(weight.apply(losses))
            .gradient(&logits, || {
                let sigmoid = sigmoid(x.clone());
                let gradient = match log_weight {
                    Some(log_weight) => log_weight * sigmoid - pos_weight.apply(y.clone()),
                    None => sigmoid - y.clone(),
                };
                weight.apply(gradient)
            })
            .gradient(&targets, || {
                let gradient = match pos_weight_minus_one {
                    Some(pw_minus_one) => -x - pw_minus_one * log_sigmoid,
                    None => -x,
                };
                finite_or_zero(weight.apply(gradient))
            })
    }
}
