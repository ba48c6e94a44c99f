//! The softmax focal loss: the focal loss of Lin et al. for one class per position, on
//! class-index targets.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::mechanics::assembly::{Elementwise, class_index_forwards};
use crate::mechanics::class_targets::{CLASS_DIM, ClassIndexTargets, LogSoftmax};
use crate::mechanics::gradient::Constant;
use crate::mechanics::indexing::gather;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_weight_len, check_weight_option, fail_option};
use crate::multilabel::logistic::pow_non_negative;

const LOSS: &str = "SoftmaxFocalLoss";

/// Configuration of [`SoftmaxFocalLoss`]: the focal loss's `alpha` and `gamma`, and cross
/// entropy's `weight`, `ignore_index` and target check.
#[derive(Config, Debug)]
pub struct SoftmaxFocalLossConfig {
    /// The balancing factor `α_c` of each class (length C, finite, non-negative): a factor of the
    /// loss at positions of class `c`, left out of the mean's denominator (as the focal loss's
    /// `α_t`). Default: none (every `α_c` is 1).
    pub alpha: Option<Vec<f32>>,
    /// The focusing exponent `γ >= 0`: `0` gives (α-weighted) cross entropy.
    #[config(default = 2.0)]
    pub gamma: f32,
    /// A weight per class (length C, finite, non-negative), as cross entropy's: a factor of the
    /// loss and of the mean's denominator. Default: none (every class 1).
    pub weight: Option<Vec<f32>>,
    /// Targets equal to this class index contribute 0 and are left out of the mean. `None`: no
    /// target is ignored.
    #[config(default = "Some(-100)")]
    pub ignore_index: Option<i64>,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Check that the targets lie in `[0, C)` (reads two numbers back from the device).
    #[config(default = true)]
    pub check_targets: bool,
}

impl SoftmaxFocalLossConfig {
    /// Checks the options and builds the loss; `alpha` and `weight` live on `device`.
    ///
    /// # Panics
    /// If `gamma` is negative or not finite, or `alpha` or `weight` is empty, negative or not
    /// finite.
    pub fn init<B: Backend>(&self, device: &B::Device) -> SoftmaxFocalLoss<B> {
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            fail_option(LOSS, "gamma", "a finite value >= 0", self.gamma);
        }
        check_weight_option(LOSS, "alpha", self.alpha.as_deref());
        check_weight_option(LOSS, "weight", self.weight.as_deref());
        let on_device = |values: &Vec<f32>| Tensor::from_floats(values.as_slice(), device);
        SoftmaxFocalLoss {
            alpha: self.alpha.as_ref().map(on_device),
            gamma: self.gamma,
            weight: self.weight.as_ref().map(on_device),
            ignore_index: self.ignore_index,
            reduction: self.reduction,
            check_targets: self.check_targets,
        }
    }
}

/// The focal loss (Lin et al., "Focal Loss for Dense Object Detection", 2017) of logits against
/// class indices: cross entropy whose terms are scaled down where the model is already right.
///
/// With `p = softmax(x)` along the class dimension (dimension 1), `y_i` the target class at
/// position `i`, `α_c` and `w_c` the `alpha` and `weight` of class `c` (1 when unset):
///
/// ```text
/// ℓ_i  = -α_{y_i} · w_{y_i} · (1 - p_{i, y_i})^γ · log p_{i, y_i}        (0 if y_i is ignored)
/// Mean = Σ_i ℓ_i / Σ_{i not ignored} w_{y_i}
/// ```
///
/// `Mean` is cross entropy's: the weighted mean over non-ignored targets, so `γ = 0` without
/// `alpha` is exactly [`CrossEntropyLoss`](crate::CrossEntropyLoss) with the same `weight` and
/// `ignore_index`. `α` is the focal loss's balancing factor `α_t` and, as in the paper and
/// torchvision's sigmoid focal loss, it scales the loss without entering the denominator (`α_c
/// = 1` for every class would leave the loss unchanged, `α_c = 0.25` divides it by 4).
/// `Sum` is `Σ_i ℓ_i`, `BatchMean` `Σ_i ℓ_i / N`.
///
/// # Gradient
/// Closed-form, with `q = 1 - p_y` and `δ` the one-hot of the target (a scatter into the
/// target class, never a one-hot tensor):
///
/// ```text
/// ∂ℓ_i/∂x_{i, c} = α_y · w_y · (q^γ - γ · p_y · q^(γ - 1) · log p_y) · (p_c - δ_{c, y})
/// ```
///
/// Where `q = 0` (a target probability of exactly 1) and `0 < γ < 1`, `q^(γ - 1)` is infinite
/// while `log p_y` is 0: the gradient there is its limit, `0`, where autograd through
/// `(1 - p)^γ` gives NaN.
///
/// # Numerics
/// `log p_y` is gathered from a log-softmax with the maximum subtracted (never `log(softmax)`),
/// so the loss stays finite for logits of ±1e4; `1 - p_y` is `1 - exp(log p_y)`, as in the
/// reference.
///
/// # Shapes
/// - logits: `(N, C)` or `(N, C, d1, ..., dk)`
/// - targets: `(N)` or `(N, d1, ..., dk)`, `Int`; unreduced output: the same shape
///
/// # Reference
/// PyTorch has no softmax focal loss (pytorch/pytorch#35882). The fixtures
/// (`tests/fixtures/softmax_focal_loss.json`) write the formula above out in torch 2.15
/// (`log_softmax`, `gather`, `(1 - p) ** gamma`, autograd for the gradient), in float64. The
/// multi-class focal loss common in PyTorch code (e.g. open-mmlab/mmocr's `FocalLoss`),
/// `F.nll_loss((1 - p) ** gamma * log_softmax(x), target, weight, ignore_index=...)`, is this
/// loss with the same `weight` and no `alpha`, its mean included.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = SoftmaxFocalLossConfig::new()
///     .with_alpha(Some(vec![0.25, 0.5, 1.0]))
///     .init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 2>::from_floats([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], &device);
/// let targets = Tensor::<NdArray, 1, Int>::from_ints([1, 2], &device);
/// let value = loss.forward(logits, targets).into_scalar();
/// assert!((value - 0.296677).abs() < 1e-5); // torch 2.15: 0.29667700
/// ```
///
/// # References
/// - T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollár, "Focal Loss for Dense Object
///   Detection", ICCV 2017, arXiv:1708.02002.
#[derive(Module, Debug)]
pub struct SoftmaxFocalLoss<B: Backend> {
    /// The balancing factor of each class, shape `[C]`.
    pub alpha: Option<Tensor<B, 1>>,
    /// The focusing exponent `γ`.
    pub gamma: f32,
    /// Class weights, shape `[C]`.
    pub weight: Option<Tensor<B, 1>>,
    /// The ignored target value, if any.
    pub ignore_index: Option<i64>,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    /// Whether targets are range-checked.
    pub check_targets: bool,
}

impl<B: Backend> SoftmaxFocalLoss<B> {
    class_index_forwards!(
        logits,
        panics: "If `DT != D - 1`, the target shape is not the logits' shape without dimension 1, \
         `alpha` or `weight` does not have length C, or a target is outside `[0, C)` and \
         is not `ignore_index`."
    );

    /// Per-position losses with the class dimension kept (size 1) and their closed-form
    /// gradient, and the prepared targets.
    fn losses<const D: usize, const DT: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, DT, Int>,
    ) -> (Elementwise<B, D>, ClassIndexTargets<B, D>) {
        let dims = logits.dims();
        let targets = ClassIndexTargets::new(
            LOSS,
            "logits",
            &dims,
            targets,
            self.weight.as_ref(),
            self.ignore_index,
            self.check_targets,
        );
        // α_y · w_y at every position, 0 where ignored.
        let scale = match &self.alpha {
            Some(alpha) => {
                check_weight_len(
                    LOSS,
                    "alpha",
                    alpha.dims()[0],
                    dims[CLASS_DIM],
                    "the number of classes, dimension 1 of the input",
                );
                targets.weights.clone() * class_values(alpha, &targets.indices)
            }
            None => targets.weights.clone(),
        };
        let gamma = self.gamma;
        let log_softmax = LogSoftmax::new(logits.clone().constant());
        let target_log_prob = log_softmax.gather_log_probs(targets.indices.clone());
        let target_prob = target_log_prob.clone().exp();
        let miss = target_prob.clone().neg() + 1.0; // q = 1 - p_y
        let modulation = pow_non_negative(miss.clone(), gamma);
        let losses =
            targets.zero_ignored(-(scale.clone() * modulation.clone() * target_log_prob.clone()));

        let losses = Elementwise::new(losses).gradient(&logits, || {
            let mut row_scale = modulation;
            if gamma > 0.0 {
                // q^(γ - 1), with its limit 0 · ∞ → 0 where q = 0 and γ < 1 (log p_y is 0
                // there, and the product's limit is 0).
                let power = if gamma >= 1.0 {
                    pow_non_negative(miss, gamma - 1.0)
                } else {
                    let miss_is_zero = miss.clone().equal_elem(0.0);
                    miss.powf_scalar(gamma - 1.0).mask_fill(miss_is_zero, 0.0)
                };
                row_scale = row_scale - power * target_prob * target_log_prob * gamma;
            }
            let row_scale = targets.zero_ignored(row_scale * scale);
            let probs_part = log_softmax.into_scaled_probs(row_scale.clone());
            targets.add_at_targets(probs_part, row_scale.neg())
        });
        (losses, targets)
    }
}

/// The entry of a class vector (`[C]`) at each position's target class: `indices` keeps the
/// class dimension with size 1, and so does the result.
fn class_values<B: Backend, const D: usize>(
    values: &Tensor<B, 1>,
    indices: &Tensor<B, D, Int>,
) -> Tensor<B, D> {
    let shape = indices.shape();
    let flat: Tensor<B, 1, Int> = indices.clone().flatten(0, D - 1);
    gather(values.clone(), 0, flat).reshape(shape)
}
