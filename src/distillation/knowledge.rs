//! Knowledge distillation (Hinton et al. 2015): a student's tempered softmax against a
//! teacher's, optionally mixed with the hard-label cross entropy.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::classification::{CrossEntropyLoss, CrossEntropyLossConfig};
use crate::mechanics::assembly::Elementwise;
use crate::mechanics::class_targets::{
    CLASS_DIM, ClassIndexTargets, LogSoftmax, check_has_class_dim, check_reduced_rank,
    class_index_normalizer,
};
use crate::mechanics::gradient::{Constant, needs_gradient};
use crate::mechanics::reduction::{LossSum, Normalizer, Reduction, sum_dim};
use crate::mechanics::validation::{check_same_shape, check_weight_option, fail_option};

const LOSS: &str = "DistillationLoss";

/// Configuration of [`DistillationLoss`]: the temperature and mixing weight of the distillation
/// term, and the options of the hard-label cross entropy it may be mixed with.
#[derive(Config, Debug)]
pub struct DistillationLossConfig {
    /// The softmax temperature `T > 0` of both the student and the teacher. Default 1.0, the
    /// neutral value: the loss is then the KL divergence between the two softmaxes. Hinton et
    /// al.'s softened targets need `T > 1` (2 to 5 is common); the right value depends on how
    /// confident the teacher is, so it is the user's choice rather than a guess here.
    #[config(default = 1.0)]
    pub temperature: f32,
    /// The weight `α` in `[0, 1]` of the distillation term in
    /// [`forward_with_targets`](DistillationLoss::forward_with_targets); the hard-label cross
    /// entropy gets `1 - α`. Default 0.5, an even mixture (Hinton et al. found a lower weight on
    /// the hard term to work best: tune it). [`forward`](DistillationLoss::forward), which has no
    /// targets, is the distillation term alone, unweighted.
    #[config(default = 0.5)]
    pub alpha: f32,
    /// Class weights of the hard-label cross entropy (length C, finite, non-negative).
    pub weight: Option<Vec<f32>>,
    /// Hard targets equal to this class index are left out of the cross entropy (its term is 0
    /// there and they are not counted by its mean). The distillation term covers every position.
    #[config(default = "Some(-100)")]
    pub ignore_index: Option<i64>,
    /// Label smoothing of the hard-label cross entropy, in `[0, 1]`.
    #[config(default = 0.0)]
    pub label_smoothing: f32,
    /// The reduction applied by `forward` and `forward_with_targets`, to each term.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Check that hard targets lie in `[0, C)` (reads two numbers back from the device).
    #[config(default = true)]
    pub check_targets: bool,
}

impl DistillationLossConfig {
    /// Checks the options and builds the loss; the class weights live on `device`.
    ///
    /// # Panics
    /// If `temperature` is not a finite value above 0, `alpha` or `label_smoothing` is outside
    /// `[0, 1]`, or `weight` is empty, negative or not finite.
    pub fn init<B: Backend>(&self, device: &B::Device) -> DistillationLoss<B> {
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            fail_option(
                LOSS,
                "temperature",
                "a finite value greater than 0",
                self.temperature,
            );
        }
        if !(0.0..=1.0).contains(&self.alpha) {
            fail_option(LOSS, "alpha", "a value in [0, 1]", self.alpha);
        }
        if !(0.0..=1.0).contains(&self.label_smoothing) {
            fail_option(
                LOSS,
                "label_smoothing",
                "a value in [0, 1]",
                self.label_smoothing,
            );
        }
        check_weight_option(LOSS, "weight", self.weight.as_deref());
        DistillationLoss {
            temperature: self.temperature,
            alpha: self.alpha,
            cross_entropy: CrossEntropyLossConfig::new()
                .with_weight(self.weight.clone())
                .with_ignore_index(self.ignore_index)
                .with_label_smoothing(self.label_smoothing)
                .with_reduction(self.reduction)
                .with_check_targets(self.check_targets)
                .init(device),
            reduction: self.reduction,
        }
    }
}

/// Knowledge distillation (Hinton, Vinyals, Dean, "Distilling the Knowledge in a Neural
/// Network", 2015): the student's softmax at temperature `T` against the teacher's, scaled by
/// `T²`, and optionally mixed with the cross entropy of the student against hard labels.
///
/// With `s` and `t` the student's and the teacher's logits, `q = softmax(s / T)` and
/// `p = softmax(t / T)` along the class dimension (dimension 1), at every position `i`:
///
/// ```text
/// KD_i = T² · KL(p_i || q_i) = T² · Σ_c p_{i,c} · (log p_{i,c} - log q_{i,c})
///
/// forward               = reduce(KD)
/// forward_with_targets  = α · reduce(KD) + (1 - α) · CE(s, y)
/// ```
///
/// `T²` keeps the soft term's gradient, `T · (q - p)`, on the scale of the hard term's as `T`
/// changes (Hinton et al., section 2). `CE` is [`CrossEntropyLoss`] of the student's logits
/// (at temperature 1) against the class indices `y`, with this config's `weight`,
/// `ignore_index` and `label_smoothing`, reduced by the same reduction: under `Mean` its mean
/// is cross entropy's weighted mean over non-ignored targets, while `KD`'s is the mean over
/// every position. On `(N, C)` logits, `Mean` and `BatchMean` of `KD` are both the
/// per-sample KL averaged over the batch, the `'batchmean'` of the usual PyTorch recipe; on
/// `(N, C, d1, ..., dk)`, `Mean` also averages the positions and `BatchMean` divides the sum by
/// `N`. The unreduced forms give `KD_i` and `α · KD_i + (1 - α) · CE_i`.
///
/// # Gradient
/// With respect to the student's logits, closed-form: `T · (q - p)` for `KD_i`, cross
/// entropy's own for `CE`. **The teacher's logits are a constant**: no gradient reaches them,
/// even where they require one (a teacher trained jointly, as in online distillation, needs its
/// own loss).
///
/// # Numerics
/// Both log-softmaxes subtract their maximum (never `log(softmax)`). A class the teacher gives
/// probability 0 (a logit of `-inf`, a masked vocabulary entry) contributes 0, as
/// `0 · log 0 = 0`; PyTorch's `kl_div(.., log_target=True)` gives NaN there.
///
/// # Shapes
/// - student and teacher logits: `(N, C)` or `(N, C, d1, ..., dk)`, the same shape
/// - hard targets: `(N)` or `(N, d1, ..., dk)`, `Int`; unreduced output: that shape
///
/// # Reference
/// The fixtures (`tests/fixtures/distillation.json`) compute, in torch 2.15 and float64, the
/// common recipe `F.kl_div(F.log_softmax(s / T, 1), F.log_softmax(t / T, 1), log_target=True,
/// reduction='batchmean') * T * T`, summed over the class dimension before the reduction for
/// `(N, C, d1, ..., dk)`, plus `(1 - α) · F.cross_entropy(s, y, weight, ignore_index,
/// label_smoothing)`.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = DistillationLossConfig::new()
///     .with_temperature(4.0)
///     .with_alpha(0.7)
///     .init::<NdArray>(&device);
/// let student = Tensor::<NdArray, 2>::from_floats([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], &device);
/// let teacher = Tensor::<NdArray, 2>::from_floats([[3.0, 1.0, -2.0], [-1.0, 0.5, 2.5]], &device);
/// let targets = Tensor::<NdArray, 1, Int>::from_ints([0, 2], &device);
/// let soft = loss.forward(student.clone(), teacher.clone()).into_scalar();
/// assert!((soft - 0.190984).abs() < 1e-5); // torch 2.15: 0.19098418
/// let mixed = loss.forward_with_targets(student, teacher, targets).into_scalar();
/// assert!((mixed - 0.186326).abs() < 1e-5); // torch 2.15: 0.18632584
/// ```
///
/// # References
/// - G. Hinton, O. Vinyals, J. Dean, "Distilling the Knowledge in a Neural Network", NIPS 2014
///   Deep Learning Workshop, arXiv:1503.02531.
#[derive(Module, Debug)]
pub struct DistillationLoss<B: Backend> {
    /// The softmax temperature `T`.
    pub temperature: f32,
    /// The weight of the distillation term in `forward_with_targets`.
    pub alpha: f32,
    /// The hard-label cross entropy (its reduction is this loss's).
    pub cross_entropy: CrossEntropyLoss<B>,
    /// The reduction applied to each term.
    pub reduction: Reduction,
}

impl<B: Backend> DistillationLoss<B> {
    /// The distillation term `T² · KL(p || q)`, reduced with the configured reduction.
    ///
    /// # Panics
    /// If the logits have no class dimension or the teacher's shape differs from the student's.
    pub fn forward<const D: usize>(
        &self,
        student_logits: Tensor<B, D>,
        teacher_logits: Tensor<B, D>,
    ) -> Tensor<B, 1> {
        let batch_size = student_logits.dims()[0];
        self.reduction
            .finish(self.forward_sum(student_logits, teacher_logits), batch_size)
    }

    /// The sum of the distillation terms and their count (positions), whose
    /// [`mean`](LossSum::mean) is the `Mean` reduction: to divide by the count of a larger batch
    /// (see [`LossSum`]). The mixture of [`forward_with_targets`](Self::forward_with_targets)
    /// has its own, [`forward_with_targets_sum`](Self::forward_with_targets_sum).
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_sum<const D: usize>(
        &self,
        student_logits: Tensor<B, D>,
        teacher_logits: Tensor<B, D>,
    ) -> LossSum<B> {
        self.distillation_terms(student_logits, teacher_logits)
            .summed()
    }

    /// The distillation term at every position: `(N)` or `(N, d1, ..., dk)`.
    ///
    /// # Panics
    /// As [`forward`](Self::forward), or if `DT != D - 1`.
    pub fn forward_no_reduction<const D: usize, const DT: usize>(
        &self,
        student_logits: Tensor<B, D>,
        teacher_logits: Tensor<B, D>,
    ) -> Tensor<B, DT> {
        check_reduced_rank::<D, DT>(LOSS);
        self.distillation_terms(student_logits, teacher_logits)
            .unreduced()
            .squeeze_dim(CLASS_DIM)
    }

    /// `α · KD + (1 - α) · CE`, each term reduced with the configured reduction.
    ///
    /// # Panics
    /// As [`forward`](Self::forward), or if the targets do not have the logits' shape without
    /// dimension 1, the class weights do not have length C, or a target is outside `[0, C)` and
    /// is not `ignore_index`.
    pub fn forward_with_targets<const D: usize, const DT: usize>(
        &self,
        student_logits: Tensor<B, D>,
        teacher_logits: Tensor<B, D>,
        targets: Tensor<B, DT, Int>,
    ) -> Tensor<B, 1> {
        let batch_size = student_logits.dims()[0];
        self.forward_with_targets_sum(student_logits, teacher_logits, targets)
            .finish(self.reduction, batch_size)
    }

    /// The sums of both terms of [`forward_with_targets`](Self::forward_with_targets), each
    /// with its normaliser, whose [`mean`](DistillationLossSum::mean) is the `Mean` reduction:
    /// to divide by the normalisers of a larger batch, which
    /// [`normalizer`](Self::normalizer) gives from the targets alone (see
    /// [`DistillationLossSum`]).
    ///
    /// # Panics
    /// As [`forward_with_targets`](Self::forward_with_targets).
    pub fn forward_with_targets_sum<const D: usize, const DT: usize>(
        &self,
        student_logits: Tensor<B, D>,
        teacher_logits: Tensor<B, D>,
        targets: Tensor<B, DT, Int>,
    ) -> DistillationLossSum<B> {
        let distillation = self.forward_sum(student_logits.clone(), teacher_logits);
        let (hard, targets) = self.hard_label_terms(student_logits, targets);
        DistillationLossSum {
            distillation,
            hard: hard.summed_over(targets.normalizer()),
            alpha: self.alpha as f64,
        }
    }

    /// The normalisers of [`forward_with_targets_sum`](Self::forward_with_targets_sum) for
    /// these targets, from the targets alone: their count (the positions of the distillation
    /// term) and the summed class weight of the non-ignored ones (the cross entropy's). Adding
    /// the micro-batches' normalisers before any forward pass gives those of the whole batch.
    ///
    /// # Panics
    /// With class weights (and `check_targets`), if a target is outside `[0, C)` and is not
    /// `ignore_index`; without them the targets are checked by the forward pass.
    pub fn normalizer<const DT: usize>(
        &self,
        targets: Tensor<B, DT, Int>,
    ) -> DistillationNormalizer<B> {
        let positions = Normalizer::elements(targets.shape().num_elements(), &targets.device());
        let cross_entropy = &self.cross_entropy;
        DistillationNormalizer {
            distillation: positions,
            hard: class_index_normalizer(
                LOSS,
                "student_logits",
                targets,
                cross_entropy.weight.as_ref(),
                cross_entropy.ignore_index,
                cross_entropy.check_targets,
            ),
        }
    }

    /// `α · KD_i + (1 - α) · CE_i` at every position: the targets' shape (ignored positions keep
    /// their distillation term).
    ///
    /// # Panics
    /// As [`forward_with_targets`](Self::forward_with_targets).
    pub fn forward_with_targets_no_reduction<const D: usize, const DT: usize>(
        &self,
        student_logits: Tensor<B, D>,
        teacher_logits: Tensor<B, D>,
        targets: Tensor<B, DT, Int>,
    ) -> Tensor<B, DT> {
        let distillation = self
            .distillation_terms(student_logits.clone(), teacher_logits)
            .unreduced();
        let (hard, _) = self.hard_label_terms(student_logits, targets);
        let hard = hard.unreduced();
        mix(self.alpha as f64, distillation, hard).squeeze_dim(CLASS_DIM)
    }

    /// `T² · KL(p || q)` at every position, the class dimension kept (size 1), and the
    /// student's closed-form gradient.
    fn distillation_terms<const D: usize>(
        &self,
        student_logits: Tensor<B, D>,
        teacher_logits: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        let dims = student_logits.dims();
        check_has_class_dim(LOSS, "student_logits", &dims);
        check_same_shape(
            LOSS,
            "teacher_logits",
            "student_logits",
            &dims,
            &teacher_logits.dims(),
        );
        let temperature = self.temperature as f64;
        let teacher = LogSoftmax::new(teacher_logits.constant().div_scalar(temperature));
        let student = LogSoftmax::new(student_logits.clone().constant().div_scalar(temperature));
        let teacher_log_probs = teacher.log_probs();
        let unscaled = teacher.max.ones_like();
        let teacher_probs = teacher.into_scaled_probs(unscaled);
        let teacher_zero = teacher_probs.clone().equal_elem(0.0);
        let kl = (teacher_probs.clone() * (teacher_log_probs - student.log_probs()))
            .mask_fill(teacher_zero, 0.0);
        let terms = sum_dim(kl, CLASS_DIM) * (temperature * temperature);

        Elementwise::new(terms).gradient(&student_logits, || {
            let scale = student.max.ones_like() * temperature;
            student.into_scaled_probs(scale) - teacher_probs * temperature
        })
    }

    /// The hard-label cross entropy at every position, the class dimension kept (size 1), its
    /// closed-form gradient, and the prepared targets.
    fn hard_label_terms<const D: usize, const DT: usize>(
        &self,
        student_logits: Tensor<B, D>,
        targets: Tensor<B, DT, Int>,
    ) -> (Elementwise<B, D>, ClassIndexTargets<B, D>) {
        let cross_entropy = &self.cross_entropy;
        // Prepared here rather than by the cross entropy, so that errors name this loss.
        let targets = ClassIndexTargets::new(
            LOSS,
            "student_logits",
            &student_logits.dims(),
            targets,
            cross_entropy.weight.as_ref(),
            cross_entropy.ignore_index,
            cross_entropy.check_targets,
        );
        let (losses, _z_terms, gradient) = cross_entropy.index_values_and_gradient(
            student_logits.clone().constant(),
            &targets,
            needs_gradient(&student_logits),
        );
        let losses = Elementwise::new(losses).computed_gradient(&student_logits, gradient);
        (losses, targets)
    }
}

/// The two sums of [`DistillationLoss::forward_with_targets`], each with its own normaliser: the
/// distillation term's is the number of positions, the hard-label cross entropy's the summed
/// class weight of its non-ignored targets. One [`LossSum`] cannot hold the mixture, whose
/// `Mean` divides each term by its own normaliser before weighting them with `α` and `1 - α`.
///
/// As with [`LossSum`], dividing each micro-batch's sums by the normalisers of the whole batch
/// ([`mean_over`](Self::mean_over), with the sum of the micro-batches'
/// [`DistillationLoss::normalizer`]) gives exactly the loss and the gradient of the one large
/// batch, whatever the micro-batches' sizes and ignored targets.
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// type B = Autodiff<NdArray>;
/// let device = Default::default();
/// let loss = DistillationLossConfig::new().with_temperature(2.0).init::<B>(&device);
/// let student = Tensor::<B, 2>::from_floats([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]], &device);
/// let teacher = Tensor::<B, 2>::from_floats([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]], &device);
/// // The last two targets are ignored by the cross entropy (not by the distillation term).
/// let targets = Tensor::<B, 1, Int>::from_ints([0, -100, -100], &device);
/// let whole = loss
///     .forward_with_targets(student.clone(), teacher.clone(), targets.clone())
///     .into_scalar();
///
/// let parts = [(0..2), (2..3)];
/// let total = parts
///     .iter()
///     .map(|rows| loss.normalizer(targets.clone().slice(rows.clone())))
///     .reduce(|a, b| a + b)
///     .unwrap();
/// let accumulated: f32 = parts
///     .iter()
///     .map(|rows| {
///         let part = loss.forward_with_targets_sum(
///             student.clone().slice(rows.clone()),
///             teacher.clone().slice(rows.clone()),
///             targets.clone().slice(rows.clone()),
///         );
///         // Each part's gradient is its share of the whole's: call `backward` here.
///         part.mean_over(total.clone()).into_scalar()
///     })
///     .sum();
/// assert!((accumulated - whole).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct DistillationLossSum<B: Backend> {
    /// The distillation term `T² · KL(p || q)`: its sum and the number of positions.
    pub distillation: LossSum<B>,
    /// The hard-label cross entropy: its sum and the summed class weight of the non-ignored
    /// targets, as [`CrossEntropyLoss::forward_sum`].
    pub hard: LossSum<B>,
    /// The weight `α` of the distillation term (the cross entropy's is `1 - α`).
    alpha: f64,
}

impl<B: Backend> DistillationLossSum<B> {
    /// This batch's normalisers, one per term.
    pub fn normalizer(&self) -> DistillationNormalizer<B> {
        DistillationNormalizer {
            distillation: self.distillation.normalizer.clone(),
            hard: self.hard.normalizer.clone(),
        }
    }

    /// This batch's mean: [`mean_over`](Self::mean_over) its own normalisers.
    pub fn mean(self) -> Tensor<B, 1> {
        let normalizer = self.normalizer();
        self.mean_over(normalizer)
    }

    /// `α · KD_sum / KD_total + (1 - α) · CE_sum / CE_total`, with `normalizer` the normalisers
    /// of a larger batch this one is part of.
    pub fn mean_over(self, normalizer: DistillationNormalizer<B>) -> Tensor<B, 1> {
        mix(
            self.alpha,
            self.distillation.mean_over(normalizer.distillation),
            self.hard.mean_over(normalizer.hard),
        )
    }

    /// The mixture reduced with `reduction`, each term on its own.
    fn finish(self, reduction: Reduction, batch_size: usize) -> Tensor<B, 1> {
        mix(
            self.alpha,
            reduction.finish(self.distillation, batch_size),
            reduction.finish(self.hard, batch_size),
        )
    }
}

/// `α · distillation + (1 - α) · hard`.
fn mix<B: Backend, const D: usize>(
    alpha: f64,
    distillation: Tensor<B, D>,
    hard: Tensor<B, D>,
) -> Tensor<B, D> {
    distillation * alpha + hard * (1.0 - alpha)
}

/// The normalisers of a [`DistillationLossSum`], one per term; they add up over micro-batches
/// (`+`).
#[derive(Clone, Debug)]
pub struct DistillationNormalizer<B: Backend> {
    /// The number of positions (the distillation term covers every one).
    pub distillation: Normalizer<B>,
    /// The summed class weight of the non-ignored targets (the cross entropy's).
    pub hard: Normalizer<B>,
}

impl<B: Backend> core::ops::Add for DistillationNormalizer<B> {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            distillation: self.distillation + other.distillation,
            hard: self.hard + other.hard,
        }
    }
}
