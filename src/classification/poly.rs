//! PolyLoss (Poly-1): cross entropy plus `ε · (1 - p_t)`, the first polynomial term of its
//! expansion, weighted up or down.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::classification::{CrossEntropyLoss, CrossEntropyLossConfig};
use crate::mechanics::assembly::{Elementwise, class_index_forwards};
use crate::mechanics::class_targets::{CLASS_DIM, ClassIndexTargets, LogSoftmax};
use crate::mechanics::gradient::{Constant, needs_gradient};
use crate::mechanics::validation::fail_option;

const LOSS: &str = "PolyLoss";

/// Configuration of [`PolyLoss`]: a [`CrossEntropyLossConfig`] (every option of the cross
/// entropy, the reduction and the target check included) and the Poly-1 coefficient.
#[derive(Config, Debug)]
pub struct PolyLossConfig {
    /// The cross entropy the Poly-1 term is added to: class weights, `ignore_index`, label
    /// smoothing, z-loss, the reduction and whether targets are range-checked.
    #[config(default = "CrossEntropyLossConfig::new()")]
    pub cross_entropy: CrossEntropyLossConfig,
    /// The coefficient `ε >= -1` of `1 - p_t` (at `-1` the loss's first polynomial term
    /// vanishes). Default 1.0, the default of the common PyTorch ports; Leng et al. tune it per
    /// task.
    #[config(default = 1.0)]
    pub epsilon: f32,
}

impl PolyLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// As [`CrossEntropyLossConfig::init`], or if `epsilon` is below -1 or not finite.
    pub fn init<B: Backend>(&self, device: &B::Device) -> PolyLoss<B> {
        if !(self.epsilon.is_finite() && self.epsilon >= -1.0) {
            fail_option(LOSS, "epsilon", "a finite value >= -1", self.epsilon);
        }
        PolyLoss {
            cross_entropy: self.cross_entropy.init(device),
            epsilon: self.epsilon,
        }
    }
}

/// Poly-1 (Leng et al., "PolyLoss: A Polynomial Expansion Perspective of Classification Loss
/// Functions", ICLR 2022): [`CrossEntropyLoss`] on class-index targets plus `ε · (1 - p_t)`.
///
/// With `p = softmax(x)` along the class dimension (dimension 1), `y_i` the target class at
/// position `i`, `w_c` the cross entropy's class weight (1 without `weight`) and `s` its label
/// smoothing, the target distribution is `t = (1 - s) · onehot(y) + s / C` as in the paper's
/// code, so `p_t = Σ_c t_c p_c = (1 - s) · p_y + s / C`, and
///
/// ```text
/// ℓ_i  = CE_i + ε · w_{y_i} · (1 - p_t)            (0 if y_i is ignored)
/// Mean = Σ_i ℓ_i / Σ_{i not ignored} w_{y_i}       (cross entropy's denominator)
/// ```
///
/// `CE_i` is exactly [`CrossEntropyLoss::forward_no_reduction`] (its z-loss included when set).
/// The Poly-1 term takes the weight of the target's class and cross entropy's `Mean`
/// denominator: it is the first term of cross entropy's expansion in `1 - p_t`, so it is weighted
/// and averaged as the cross entropy it extends. Without `weight`, `Mean` is the paper's
/// `mean(CE + ε (1 - p_t))` over the non-ignored positions. `Sum` and `BatchMean` (`Σ / N`) are
/// cross entropy's.
///
/// # Gradient
/// Cross entropy's closed-form gradient (its NdArray kernel where there is one) plus the
/// Poly-1 term's, `ε · w_y · (1 - s) · p_y · (p_c - δ_{c, y})` (a scatter into the target
/// class, never a one-hot tensor).
///
/// # Shapes
/// - logits: `(N, C)` or `(N, C, d1, ..., dk)`
/// - targets: `(N)` or `(N, d1, ..., dk)`, `Int`; unreduced output: the same shape
///
/// # Reference
/// The fixtures (`tests/fixtures/poly_loss.json`) write the paper's Poly-1 (its code listing,
/// `pt = Σ labels · softmax(logits)`, `CE + ε (1 - pt)`) in torch 2.15, with
/// `F.cross_entropy` for `CE` (class weights, `ignore_index`, label smoothing) and the
/// weighting and reduction above. The common PyTorch ports (`Poly1CrossEntropyLoss`) pass
/// `weight` to `F.cross_entropy(.., reduction='none')` only, leave the Poly-1 term unweighted
/// and divide by the number of positions; they agree with this loss without `weight` and
/// ignored targets.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = PolyLossConfig::new()
///     .with_cross_entropy(CrossEntropyLossConfig::new().with_label_smoothing(0.1))
///     .with_epsilon(2.0)
///     .init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 2>::from_floats([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], &device);
/// let targets = Tensor::<NdArray, 1, Int>::from_ints([1, 2], &device);
/// let value = loss.forward(logits, targets).into_scalar();
/// assert!((value - 1.989456).abs() < 1e-5); // torch 2.15: 1.98945626
/// ```
///
/// # References
/// - Z. Leng, M. Tan, C. Liu, E. D. Cubuk, X. Shi, S. Cheng, D. Anguelov, "PolyLoss: A
///   Polynomial Expansion Perspective of Classification Loss Functions", ICLR 2022,
///   arXiv:2204.12511.
#[derive(Module, Debug)]
pub struct PolyLoss<B: Backend> {
    /// The cross entropy the Poly-1 term is added to (its reduction is the loss's).
    pub cross_entropy: CrossEntropyLoss<B>,
    /// The Poly-1 coefficient `ε`.
    pub epsilon: f32,
}

impl<B: Backend> PolyLoss<B> {
    class_index_forwards!(
        logits, options: cross_entropy,
        panics: "If `DT != D - 1`, the target shape is not the logits' shape without dimension 1, \
         the class weights do not have length C, or a target is outside `[0, C)` and is \
         not `ignore_index`."
    );

    /// Per-position losses with the class dimension kept (size 1) and their closed-form
    /// gradient, and the prepared targets.
    fn losses<const D: usize, const DT: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, DT, Int>,
    ) -> (Elementwise<B, D>, ClassIndexTargets<B, D>) {
        let cross_entropy = &self.cross_entropy;
        let num_classes = logits.dims()[CLASS_DIM] as f64;
        let smoothing = cross_entropy.label_smoothing as f64;
        let epsilon = self.epsilon as f64;
        // Prepared here rather than by the cross entropy, so that errors name this loss.
        let targets = ClassIndexTargets::new(
            LOSS,
            "logits",
            &logits.dims(),
            targets,
            cross_entropy.weight.as_ref(),
            cross_entropy.ignore_index,
            cross_entropy.check_targets,
        );
        let (ce_losses, _z_terms, ce_gradient) = cross_entropy.index_values_and_gradient(
            logits.clone().constant(),
            &targets,
            needs_gradient(&logits),
        );

        let log_softmax = LogSoftmax::new(logits.clone().constant());
        let target_prob = log_softmax.gather_log_probs(targets.indices.clone()).exp();
        // 1 - p_t = (1 - s)(1 - p_y) + s (C - 1) / C: two non-negative terms.
        let miss = (target_prob.clone().neg() + 1.0) * (1.0 - smoothing)
            + smoothing * (num_classes - 1.0) / num_classes;
        let poly = targets.zero_ignored(miss * targets.weights.clone() * epsilon);

        // Cross entropy's gradient is there exactly when the logits need one.
        let gradient = ce_gradient.map(|ce_gradient| {
            let row_scale = targets.zero_ignored(
                target_prob * targets.weights.clone() * (epsilon * (1.0 - smoothing)),
            );
            let probs_part = log_softmax.into_scaled_probs(row_scale.clone());
            ce_gradient + targets.add_at_targets(probs_part, row_scale.neg())
        });
        let losses = Elementwise::new(ce_losses + poly).computed_gradient(&logits, gradient);
        (losses, targets)
    }
}
