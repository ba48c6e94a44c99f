//! Cross entropy between logits and class indices or class probabilities.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::backends::kernels::{self, IndexCrossEntropy, IndexCrossEntropyInputs};
use crate::mechanics::assembly::Elementwise;
use crate::mechanics::class_targets::{
    CLASS_DIM, ClassIndexTargets, LogSoftmax, along_class_dim, check_class_weight,
    check_has_class_dim, check_reduced_rank, class_index_normalizer,
};
use crate::mechanics::gradient::{Constant, needs_gradient};
use crate::mechanics::numerics::finite_or_zero;
use crate::mechanics::reduction::{LossSum, Normalizer, Reduction, sum, sum_dim};
use crate::mechanics::validation::{check_same_shape, check_weight_option, fail, fail_option};

const LOSS: &str = "CrossEntropyLoss";

/// Configuration of [`CrossEntropyLoss`], with PyTorch's option names and defaults
/// (`torch.nn.CrossEntropyLoss`).
#[derive(Config, Debug)]
pub struct CrossEntropyLossConfig {
    /// A weight per class (length C, finite, non-negative). Default: none (every class 1).
    pub weight: Option<Vec<f32>>,
    /// Targets equal to this class index contribute 0 and are left out of the mean. It may be a
    /// valid class or any other value (e.g. 255). `None`: no target is ignored.
    #[config(default = "Some(-100)")]
    pub ignore_index: Option<i64>,
    /// Label smoothing `ε` in `[0, 1]`: the target becomes `(1 - ε) onehot + ε / C`.
    #[config(default = 0.0)]
    pub label_smoothing: f32,
    /// Weight of PaLM's auxiliary z-loss `z_loss · (log Z)^2`, `log Z = logsumexp(x)`, added at
    /// every non-ignored position to keep the softmax normaliser near 1 (PaLM uses 1e-4).
    /// Read its value apart with [`CrossEntropyLoss::forward_with_z_loss`]. Default 0 (off).
    #[config(default = 0.0)]
    pub z_loss: f32,
    /// The reduction applied by `forward` and `forward_probs`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Check that class-index targets lie in `[0, C)` (reads two numbers back from the device).
    /// Turn off only for throughput, with targets known to be valid.
    #[config(default = true)]
    pub check_targets: bool,
}

impl CrossEntropyLossConfig {
    /// Checks the options and builds the loss; the class weights live on `device`.
    ///
    /// # Panics
    /// If `label_smoothing` is outside `[0, 1]` or `weight` is empty, negative or not finite.
    pub fn init<B: Backend>(&self, device: &B::Device) -> CrossEntropyLoss<B> {
        if !(0.0..=1.0).contains(&self.label_smoothing) {
            fail_option(
                LOSS,
                "label_smoothing",
                "a value in [0, 1]",
                self.label_smoothing,
            );
        }
        if !(self.z_loss.is_finite() && self.z_loss >= 0.0) {
            fail_option(LOSS, "z_loss", "a finite value >= 0", self.z_loss);
        }
        check_weight_option(LOSS, "weight", self.weight.as_deref());
        CrossEntropyLoss {
            weight: self
                .weight
                .as_ref()
                .map(|weight| Tensor::from_floats(weight.as_slice(), device)),
            ignore_index: self.ignore_index,
            label_smoothing: self.label_smoothing,
            z_loss: self.z_loss,
            reduction: self.reduction,
            check_targets: self.check_targets,
        }
    }
}

/// Per-position class-index losses (class dimension kept), their z-loss part, and the targets.
struct IndexLosses<B: Backend, const D: usize> {
    losses: Elementwise<B, D>,
    z_terms: Option<Tensor<B, D>>,
    targets: ClassIndexTargets<B, D>,
}

/// Cross entropy of logits against class indices or class probabilities, exactly as
/// `torch.nn.CrossEntropyLoss`.
///
/// With `lp = log_softmax(x)` along the class dimension (dimension 1), class weight `w_c`
/// (1 without `weight`) and smoothing `ε`, the loss at a position `i` with class index `y_i` is
///
/// ```text
/// ℓ_i = (1 - ε) · (-w_{y_i} · lp_{i, y_i}) + (ε / C) · (-Σ_c w_c · lp_{i, c})     (0 if y_i is ignored)
/// Mean = Σ_i ℓ_i / Σ_{i not ignored} w_{y_i}
/// ```
///
/// and against class probabilities `t` (smoothed to `(1 - ε) t + ε / C`)
///
/// ```text
/// ℓ_i = -Σ_c w_c · t_{i, c} · lp_{i, c}          Mean = Σ_i ℓ_i / (number of positions)
/// ```
///
/// With `z_loss = z > 0`, every non-ignored position adds `z · (logsumexp_c x_{i, c})^2`
/// (PaLM's auxiliary loss; not in PyTorch), reduced with the same denominator.
///
/// # Shapes
/// - logits: `(N, C)` or `(N, C, d1, ..., dk)`
/// - class-index targets: `(N)` or `(N, d1, ..., dk)`, `Int`; unreduced output: the same shape
/// - probability targets: the logits' shape; unreduced output: the logits' shape without `C`
///
/// The class-index path gathers the target's log-probability: it never builds a one-hot
/// `N x C` tensor. Gradients are closed-form (`softmax - target`, scaled), so the autodiff graph
/// keeps one logits-sized buffer.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = CrossEntropyLossConfig::new()
///     .with_label_smoothing(0.1)
///     .init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 2>::from_floats([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], &device);
/// let targets = Tensor::<NdArray, 1, Int>::from_ints([0, 2], &device);
/// let value = loss.forward(logits, targets).into_scalar();
/// assert!((value - 0.345456).abs() < 1e-5); // PyTorch: 0.34545642
/// ```
#[derive(Module, Debug)]
pub struct CrossEntropyLoss<B: Backend> {
    /// Class weights, shape `[C]`.
    pub weight: Option<Tensor<B, 1>>,
    /// The ignored target value, if any.
    pub ignore_index: Option<i64>,
    /// Label smoothing `ε`.
    pub label_smoothing: f32,
    /// Weight of the z-loss term.
    pub z_loss: f32,
    /// The reduction applied by `forward` and `forward_probs`.
    pub reduction: Reduction,
    /// Whether class-index targets are range-checked.
    pub check_targets: bool,
}

impl<B: Backend> CrossEntropyLoss<B> {
    /// The loss against class-index targets, reduced with the configured reduction.
    ///
    /// # Panics
    /// If `DT != D - 1`, the target shape is not the logits' shape without dimension 1, the
    /// class weights do not have length C, or a target is outside `[0, C)` and is not
    /// `ignore_index`.
    pub fn forward<const D: usize, const DT: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, DT, Int>,
    ) -> Tensor<B, 1> {
        self.forward_with_z_loss(logits, targets).0
    }

    /// Like [`forward`](Self::forward), and also returns the z-loss term alone (detached, reduced
    /// the same way, 0 when `z_loss` is 0) for logging: `(loss including z-loss, z-loss)`.
    pub fn forward_with_z_loss<const D: usize, const DT: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, DT, Int>,
    ) -> (Tensor<B, 1>, Tensor<B, 1>) {
        let batch_size = logits.dims()[0];
        let (parts, z_sum) = self.index_sums(logits, targets);
        let z_loss = match z_sum {
            Some(sum) => {
                let normalizer = parts.normalizer.clone();
                self.reduction
                    .finish(LossSum { sum, normalizer }, batch_size)
            }
            None => Tensor::zeros([1], &parts.sum.device()),
        };
        (self.reduction.finish(parts, batch_size), z_loss)
    }

    /// The sum of the losses against class-index targets (z-loss included) and its normaliser,
    /// the summed class weight of the non-ignored targets, whose
    /// [`mean`](LossSum::mean) is the `Mean` reduction: to divide by the normaliser of a larger
    /// batch (see [`LossSum`]).
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_sum<const D: usize, const DT: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, DT, Int>,
    ) -> LossSum<B> {
        self.index_sums(logits, targets).0
    }

    /// The normaliser of [`forward_sum`](Self::forward_sum) for these targets, from the targets
    /// alone: the summed class weight of the non-ignored ones (their count without `weight`).
    /// Adding the micro-batches' normalisers before any forward pass gives the normaliser of
    /// the whole batch (see [`LossSum`]).
    ///
    /// # Panics
    /// With class weights (and `check_targets`), if a target is outside `[0, C)` and is not
    /// `ignore_index`; without them the targets are checked by the forward pass.
    pub fn normalizer<const DT: usize>(&self, targets: Tensor<B, DT, Int>) -> Normalizer<B> {
        class_index_normalizer(
            LOSS,
            "logits",
            targets,
            self.weight.as_ref(),
            self.ignore_index,
            self.check_targets,
        )
    }

    /// The loss's sum and normaliser, and the z-loss part's sum when z-loss is on.
    fn index_sums<const D: usize, const DT: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, DT, Int>,
    ) -> (LossSum<B>, Option<Tensor<B, 1>>) {
        let IndexLosses {
            losses,
            z_terms,
            targets,
        } = self.index_losses(logits, targets);
        let parts = losses.summed_over(targets.normalizer());
        (parts, z_terms.map(sum))
    }

    /// The loss against class-index targets at every position: shape `(N)` or
    /// `(N, d1, ..., dk)`; ignored positions are 0.
    pub fn forward_no_reduction<const D: usize, const DT: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, DT, Int>,
    ) -> Tensor<B, DT> {
        self.index_losses(logits, targets)
            .losses
            .unreduced()
            .squeeze_dim(CLASS_DIM)
    }

    /// The loss against class-probability targets of the logits' shape, reduced with the
    /// configured reduction (`Mean` divides by the number of positions, ignoring weights).
    ///
    /// # Panics
    /// If the shapes differ, the class weights do not have length C, or `ignore_index` is a
    /// non-negative class (PyTorch rejects it for probability targets too).
    pub fn forward_probs<const D: usize>(
        &self,
        logits: Tensor<B, D>,
        probs: Tensor<B, D>,
    ) -> Tensor<B, 1> {
        let batch_size = logits.dims()[0];
        self.reduction
            .finish(self.forward_probs_sum(logits, probs), batch_size)
    }

    /// The sum of the losses against class-probability targets and the number of positions,
    /// whose [`mean`](LossSum::mean) is the `Mean` reduction (see [`LossSum`]).
    ///
    /// # Panics
    /// As [`forward_probs`](Self::forward_probs).
    pub fn forward_probs_sum<const D: usize>(
        &self,
        logits: Tensor<B, D>,
        probs: Tensor<B, D>,
    ) -> LossSum<B> {
        self.prob_losses(logits, probs).summed()
    }

    /// The loss against class-probability targets at every position: the logits' shape without
    /// the class dimension.
    pub fn forward_probs_no_reduction<const D: usize, const DT: usize>(
        &self,
        logits: Tensor<B, D>,
        probs: Tensor<B, D>,
    ) -> Tensor<B, DT> {
        check_reduced_rank::<D, DT>(LOSS);
        self.prob_losses(logits, probs)
            .unreduced()
            .squeeze_dim(CLASS_DIM)
    }

    /// Per-position losses with the class dimension kept (size 1), and the prepared targets.
    fn index_losses<const D: usize, const DT: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, DT, Int>,
    ) -> IndexLosses<B, D> {
        let targets = self.index_targets(&logits.dims(), targets, self.check_targets);
        let (losses, z_terms, gradient) = self.index_values_and_gradient(
            logits.clone().constant(),
            &targets,
            needs_gradient(&logits),
        );
        IndexLosses {
            losses: Elementwise::new(losses).computed_gradient(&logits, gradient),
            z_terms,
            targets,
        }
    }

    /// The per-position loss of detached `logits` (z-loss included, 0 where ignored), its z-loss
    /// part, and with `with_gradient` the gradient of [`index_gradient`](Self::index_gradient):
    /// by the one-pass kernel of a registry backend (NdArray, CubeCL), else by the generic
    /// tensor operations.
    pub(crate) fn index_values_and_gradient<const D: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: &ClassIndexTargets<B, D>,
        with_gradient: bool,
    ) -> (Tensor<B, D>, Option<Tensor<B, D>>, Option<Tensor<B, D>>) {
        if let Some(computed) = self.index_kernel(&logits, targets, with_gradient) {
            return (computed.losses, computed.z_terms, computed.gradient);
        }
        let (losses, z_terms, log_softmax) = self.index_values(logits, targets);
        let gradient = with_gradient.then(|| self.index_gradient(log_softmax, targets));
        (losses, z_terms, gradient)
    }

    /// [`index_values_and_gradient`](Self::index_values_and_gradient) by the one-pass
    /// kernel of the tensor's backend; `None` where it has none.
    fn index_kernel<const D: usize>(
        &self,
        logits: &Tensor<B, D>,
        targets: &ClassIndexTargets<B, D>,
        with_gradient: bool,
    ) -> Option<IndexCrossEntropy<B, D>> {
        let inputs = IndexCrossEntropyInputs {
            indices: &targets.indices,
            weights: &targets.weights,
            valid: &targets.valid,
            class_weight: self.weight.as_ref(),
            label_smoothing: self.label_smoothing as f64,
            z_loss: self.z_loss as f64,
        };
        kernels::index_cross_entropy(logits, inputs, with_gradient)
    }

    /// Checks class-index targets against logits of shape `dims` and prepares them.
    pub(crate) fn index_targets<const D: usize, const DT: usize>(
        &self,
        dims: &[usize; D],
        targets: Tensor<B, DT, Int>,
        check_values: bool,
    ) -> ClassIndexTargets<B, D> {
        ClassIndexTargets::new(
            LOSS,
            "logits",
            dims,
            targets,
            self.weight.as_ref(),
            self.ignore_index,
            check_values,
        )
    }

    /// The per-position loss of detached `logits` (z-loss included, 0 where ignored), its z-loss
    /// part, and the log-softmax pieces that [`index_gradient`](Self::index_gradient) reuses.
    pub(crate) fn index_values<const D: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: &ClassIndexTargets<B, D>,
    ) -> (Tensor<B, D>, Option<Tensor<B, D>>, LogSoftmax<B, D>) {
        let num_classes = logits.dims()[CLASS_DIM] as f64;
        let smoothing = self.label_smoothing as f64;
        let log_softmax = LogSoftmax::new(logits);

        let target_log_prob = log_softmax.gather_log_probs(targets.indices.clone());
        let mut losses = -target_log_prob * targets.weights.clone();
        if smoothing > 0.0 {
            // -Σ_c w_c lp_c = lse · Σ_c w_c - Σ_c w_c (x_c - max), without keeping lp. The
            // shift is kept inside the sum: with logits of 1e4, `log Z · Σ w - Σ w x` cancels
            // every digit.
            let shifted = log_softmax.shifted();
            let weighted_shifted_sum = match &self.weight {
                Some(weight) => sum_dim(shifted * along_class_dim::<B, D>(weight), CLASS_DIM),
                None => sum_dim(shifted, CLASS_DIM),
            };
            let smooth = (log_softmax.log_sum_exp.clone()
                * self.class_weight_sum::<D>(num_classes, &log_softmax.max.device())
                - weighted_shifted_sum)
                * targets.valid.clone();
            losses = losses * (1.0 - smoothing) + smooth * (smoothing / num_classes);
        }
        let z_terms = self.z_terms(&log_softmax, &targets.valid);
        if let Some(z_terms) = &z_terms {
            losses = losses + z_terms.clone();
        }
        (targets.zero_ignored(losses), z_terms, log_softmax)
    }

    /// The gradient of every position's loss with respect to its logits:
    /// `(1-ε) w_y (p - onehot(y)) + (ε/C) (p Σ_c w_c - w_k) + 2 z log Z · p`, zero on ignored
    /// positions. The one-hot part is a scatter into the target class, not a one-hot tensor.
    pub(crate) fn index_gradient<const D: usize>(
        &self,
        log_softmax: LogSoftmax<B, D>,
        targets: &ClassIndexTargets<B, D>,
    ) -> Tensor<B, D> {
        let num_classes = log_softmax.exp.dims()[CLASS_DIM] as f64;
        let smoothing = self.label_smoothing as f64;
        let mut row_scale = targets.weights.clone();
        if smoothing > 0.0 {
            row_scale = row_scale * (1.0 - smoothing)
                + targets.valid.clone()
                    * self.class_weight_sum::<D>(num_classes, &log_softmax.max.device())
                    * (smoothing / num_classes);
        }
        if let Some(z_scale) = self.z_gradient_scale(&log_softmax, &targets.valid) {
            row_scale = row_scale + z_scale;
        }
        let mut gradient = log_softmax.into_scaled_probs(row_scale);
        if smoothing > 0.0 {
            let uniform = match &self.weight {
                Some(weight) => along_class_dim::<B, D>(weight) * targets.valid.clone(),
                None => targets.valid.clone(),
            };
            gradient = gradient - uniform * (smoothing / num_classes);
        }
        targets.add_at_targets(gradient, targets.weights.clone() * (smoothing - 1.0))
    }

    /// `z · (log Z)^2` at every valid position; `None` when z-loss is off.
    fn z_terms<const D: usize>(
        &self,
        log_softmax: &LogSoftmax<B, D>,
        valid: &Tensor<B, D>,
    ) -> Option<Tensor<B, D>> {
        (self.z_loss > 0.0).then(|| {
            log_softmax.log_partition().powi_scalar(2) * valid.clone() * self.z_loss as f64
        })
    }

    /// The z-loss gradient is `2 z log Z · softmax`: the factor multiplying the softmax.
    fn z_gradient_scale<const D: usize>(
        &self,
        log_softmax: &LogSoftmax<B, D>,
        valid: &Tensor<B, D>,
    ) -> Option<Tensor<B, D>> {
        (self.z_loss > 0.0)
            .then(|| log_softmax.log_partition() * valid.clone() * (2.0 * self.z_loss as f64))
    }

    /// `Σ_c w_c` (C without class weights) as a one-element tensor that broadcasts against a
    /// rank-`D` tensor; kept on the device so no value is read back.
    fn class_weight_sum<const D: usize>(
        &self,
        num_classes: f64,
        device: &B::Device,
    ) -> Tensor<B, D> {
        match &self.weight {
            Some(weight) => weight.clone().sum().reshape([1; D]),
            None => Tensor::full([1; D], num_classes, device),
        }
    }

    /// Per-position losses against probability targets, with the class dimension kept, and
    /// their gradients.
    fn prob_losses<const D: usize>(
        &self,
        logits: Tensor<B, D>,
        probs: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        let dims = logits.dims();
        check_has_class_dim(LOSS, "logits", &dims);
        check_same_shape(LOSS, "probs", "logits", &dims, &probs.dims());
        check_class_weight(LOSS, self.weight.as_ref(), dims[CLASS_DIM]);
        if let Some(ignore_index) = self.ignore_index.filter(|index| *index >= 0) {
            fail(
                LOSS,
                "ignore_index",
                "None or a negative value with probability targets",
                ignore_index,
            );
        }
        let num_classes = dims[CLASS_DIM] as f64;
        let smoothing = self.label_smoothing as f64;
        let class_weight = self.weight.as_ref().map(along_class_dim::<B, D>);
        let log_softmax = LogSoftmax::new(logits.clone().constant());
        let log_probs = log_softmax.log_probs();

        let smoothed = if smoothing > 0.0 {
            probs.clone().constant() * (1.0 - smoothing) + smoothing / num_classes
        } else {
            probs.clone().constant()
        };
        let weighted_targets = match &class_weight {
            Some(weight) => smoothed * weight.clone(),
            None => smoothed,
        };
        let every_position = log_softmax.max.ones_like();
        let mut losses = -sum_dim(weighted_targets.clone() * log_probs.clone(), CLASS_DIM);
        if let Some(z_terms) = self.z_terms(&log_softmax, &every_position) {
            losses = losses + z_terms;
        }

        Elementwise::new(losses)
            .gradient(&logits, || {
                let mut row_scale = sum_dim(weighted_targets.clone(), CLASS_DIM);
                if let Some(z_scale) = self.z_gradient_scale(&log_softmax, &every_position) {
                    row_scale = row_scale + z_scale;
                }
                log_softmax.into_scaled_probs(row_scale) - weighted_targets
            })
            .gradient(&probs, || {
                let gradient = log_probs * (smoothing - 1.0);
                finite_or_zero(match class_weight {
                    Some(weight) => gradient * weight,
                    None => gradient,
                })
            })
    }
}
