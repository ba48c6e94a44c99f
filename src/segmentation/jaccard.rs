//! The Jaccard (IoU) loss of segmentation, as segmentation_models_pytorch's `JaccardLoss`.

use burn::config::Config;
use burn::empty;
use burn::module::Module;
use burn::tensor::activation::{log_sigmoid, softmax};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::mechanics::reduction::{LossSum, Normalizer, Reduction, sum, sum_dim};
use crate::mechanics::validation::{
    check_class_indices, check_finite_option, check_same_shape, check_weight_option, fail,
    fail_option,
};

const LOSS: &str = "JaccardLoss";

/// What the channels of a prediction mean (segmentation_models_pytorch's `mode`).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum SegmentationMode {
    /// One channel, a binary mask (`"binary"`): sigmoid probabilities.
    Binary,
    /// Exclusive classes (`"multiclass"`): softmax probabilities, class-index targets.
    Multiclass,
    /// Independent channels (`"multilabel"`): sigmoid probabilities, a binary mask per channel.
    Multilabel,
}

// Lets the loss keep its mode as a plain field of its `Module`: a constant.
burn::empty!(SegmentationMode);

/// Configuration of [`JaccardLoss`], with the option names and defaults of
/// segmentation_models_pytorch's `JaccardLoss`.
#[derive(Config, Debug)]
pub struct JaccardLossConfig {
    /// What the channels mean (smp's `mode`, which has no default).
    pub mode: SegmentationMode,
    /// The channels whose losses are kept, in this order (smp's `classes`); none: all.
    /// Not with `Binary`.
    pub classes: Option<Vec<usize>>,
    /// `-ln(max(IoU, eps))` instead of `1 - IoU`.
    #[config(default = false)]
    pub log_loss: bool,
    /// The input is logits (a softmax along the channels for `Multiclass`, a sigmoid
    /// otherwise); `false`: probabilities.
    #[config(default = true)]
    pub from_logits: bool,
    /// Added to the intersection and to the union (finite, >= 0).
    #[config(default = 0.0)]
    pub smooth: f32,
    /// Positions whose target equals this value are left out of every sum.
    pub ignore_index: Option<i64>,
    /// The smallest denominator, and with `log_loss` the smallest IoU (finite, >= 0).
    #[config(default = 1e-7)]
    pub eps: f32,
    /// A weight per channel (finite, >= 0; one per input channel): the loss is then the
    /// weighted mean of the kept channels' losses. Not with `Binary`.
    pub class_weights: Option<Vec<f32>>,
    /// The reduction applied by `forward` (see [`JaccardLoss`]).
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl JaccardLossConfig {
    /// Checks the options and builds the loss; the class weights live on `device`.
    ///
    /// # Panics
    /// If `smooth` or `eps` is negative or not finite, `class_weights` is empty, negative or not
    /// finite, or `classes` or `class_weights` is set with `Binary` (smp refuses both).
    pub fn init<B: Backend>(&self, device: &B::Device) -> JaccardLoss<B> {
        check_set_options(
            LOSS,
            self.mode,
            self.smooth,
            self.eps,
            self.classes.is_some(),
            self.class_weights.as_deref(),
        );
        JaccardLoss {
            mode: self.mode,
            classes: self.classes.clone(),
            log_loss: self.log_loss,
            from_logits: self.from_logits,
            smooth: self.smooth,
            ignore_index: self.ignore_index,
            eps: self.eps,
            class_weights: self
                .class_weights
                .as_ref()
                .map(|weight| Tensor::from_floats(weight.as_slice(), device)),
            reduction: self.reduction,
        }
    }
}

/// Checks the options smp's Dice, Jaccard and Tversky losses share.
#[track_caller]
pub(super) fn check_set_options(
    loss: &str,
    mode: SegmentationMode,
    smooth: f32,
    eps: f32,
    has_classes: bool,
    class_weights: Option<&[f32]>,
) {
    for (option, value) in [("smooth", smooth), ("eps", eps)] {
        check_finite_option(loss, option, value);
        if value < 0.0 {
            fail_option(loss, option, "a finite value >= 0", value);
        }
    }
    check_weight_option(loss, "class_weights", class_weights);
    if mode == SegmentationMode::Binary {
        if has_classes {
            fail_option(loss, "classes", "none with mode Binary", "a list");
        }
        if class_weights.is_some() {
            fail_option(loss, "class_weights", "none with mode Binary", "a list");
        }
    }
}

/// smp's soft Tversky score `(I + smooth) / max(I + α FP + β FN + smooth, eps)` of a loss named
/// `loss`: the Jaccard index at `α = β = 1`.
pub(super) struct SetScore {
    pub loss: &'static str,
    pub alpha: f64,
    pub beta: f64,
}

const JACCARD: SetScore = SetScore {
    loss: LOSS,
    alpha: 1.0,
    beta: 1.0,
};

/// The Jaccard (IoU) loss over `(N, C, d1, ..., dk)` predictions, exactly as
/// segmentation_models_pytorch 0.6's `JaccardLoss`: one soft IoU per channel over the whole
/// batch.
///
/// The input becomes probabilities `p` (with `from_logits`: a softmax along the channels for
/// `Multiclass`, a sigmoid otherwise), positions whose target is `ignore_index` are zeroed in
/// `p` and in the target `g` (one-hot for `Multiclass`), and per channel `c`, over the samples
/// and positions, with `P = Σ p`, `G = Σ g` and smp's soft-label intersection
/// `I = (P + G - Σ|p - g|) / 2` (`Σ p·g` for a binary target):
///
/// ```text
/// IoU_c = (I + smooth) / max(P + G - I + smooth, eps)
/// ℓ_c   = 1 - IoU_c,   or -ln(max(IoU_c, eps)) with log_loss
/// ```
///
/// and `ℓ_c = 0` for a channel whose target is empty (`G = 0`), as smp. The channels of
/// `classes` are kept (all by default).
///
/// # Reduction
/// - `Mean`: smp's loss: the mean of the kept channels' losses, or with `class_weights`
///   `Σ w_c ℓ_c / Σ w_c` (a sum of weights of 0: a loss of 0).
/// - `Sum`: `Σ ℓ_c` (`Σ w_c ℓ_c` with `class_weights`).
/// - `BatchMean`: that sum over the batch size `N`.
/// - [`forward_no_reduction`](JaccardLoss::forward_no_reduction): `ℓ_c` of every kept channel,
///   shape `(C')`, unweighted.
///
/// # Shapes
/// - input: `(N, C, d1, ..., dk)`, `k >= 1`; `C = 1` for `Binary`
/// - target: `Binary`, `Multilabel`: the input's shape, binary masks
///   ([`forward`](JaccardLoss::forward)); `Multiclass`: class indices `(N, d1, ..., dk)`,
///   `Int`, in `[0, C)` or `ignore_index` ([`forward_indices`](JaccardLoss::forward_indices))
///
/// # Differences from the reference
/// - A `Binary` target has the input's shape `(N, 1, d1, ..., dk)` (smp also takes
///   `(N, d1, ..., dk)`); a `Multiclass` target is `Int` class indices, checked to lie in
///   `[0, C)` (or to be `ignore_index`).
/// - A `Multiclass` class-index target of `ignore_index` outside `[0, C)` is left out as smp
///   does; smp's `one_hot` of such a value (without `ignore_index`) raises, here the index check
///   panics.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = JaccardLossConfig::new(SegmentationMode::Multiclass).init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 4>::from_floats(
///     [[[[2.0, -1.0], [0.5, 0.0]], [[-1.0, 1.0], [0.0, 1.5]]]],
///     &device,
/// );
/// let classes = Tensor::<NdArray, 3, Int>::from_ints([[[0, 1], [0, 1]]], &device);
/// let value = loss.forward_indices(logits, classes).into_scalar();
/// assert!((value - 0.307_659).abs() < 1e-5); // smp 0.6: 0.30765914
/// ```
///
/// # References
/// - M. Berman, A. Rannen Triki, M. B. Blaschko, "The Lovász-Softmax loss", CVPR 2018 (the
///   soft IoU); Z. Wang et al., "Jaccard Metric Losses", NeurIPS 2023 (the soft-label
///   intersection).
/// - segmentation_models_pytorch 0.6, `segmentation_models_pytorch.losses.JaccardLoss`.
#[derive(Module, Debug)]
pub struct JaccardLoss<B: Backend> {
    /// What the channels mean.
    pub mode: SegmentationMode,
    /// The kept channels (none: all).
    pub classes: Option<Vec<usize>>,
    /// Whether the loss is `-ln(IoU)`.
    pub log_loss: bool,
    /// Whether the input is logits.
    pub from_logits: bool,
    /// Added to the intersection and to the union.
    pub smooth: f32,
    /// The target value of the positions left out.
    pub ignore_index: Option<i64>,
    /// The smallest denominator.
    pub eps: f32,
    /// Channel weights, shape `[C]`.
    pub class_weights: Option<Tensor<B, 1>>,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
}

/// `forward`, `forward_sum`, `forward_no_reduction`, `forward_indices` and
/// `forward_indices_no_reduction` of a loss on smp's per-channel scores: the [`JaccardLoss`]
/// that its `set()` method returns (itself, or the options it wraps), with the score `$score`
/// ([`SetScore`]).
macro_rules! set_forwards {
    ($score:expr) => {
        /// The loss against binary masks of the input's shape (`Binary`, `Multilabel`), reduced
        /// with the configured reduction.
        ///
        /// # Panics
        /// If the mode is `Multiclass` (class indices:
        /// [`forward_indices`](Self::forward_indices)), the input has rank < 3 (or more than one
        /// channel for `Binary`), the target's shape is not the input's, a kept class is not a
        /// channel, or `class_weights` has not one weight per channel.
        pub fn forward<const D: usize>(
            &self,
            input: burn::tensor::Tensor<B, D>,
            target: burn::tensor::Tensor<B, D>,
        ) -> burn::tensor::Tensor<B, 1> {
            let batch_size = input.dims()[0];
            self.set()
                .reduction
                .finish(self.forward_sum(input, target), batch_size)
        }

        /// The (weighted) sum of the kept channels' losses and its normaliser (their number, or
        /// the sum of their weights), whose [`mean`](crate::LossSum::mean) is the `Mean`
        /// reduction.
        ///
        /// # Panics
        /// As [`forward`](Self::forward).
        pub fn forward_sum<const D: usize>(
            &self,
            input: burn::tensor::Tensor<B, D>,
            target: burn::tensor::Tensor<B, D>,
        ) -> $crate::LossSum<B> {
            self.set()
                .weighted_sum(self.forward_no_reduction(input, target))
        }

        /// The loss of every kept channel, `(C')`, unweighted.
        ///
        /// # Panics
        /// As [`forward`](Self::forward).
        pub fn forward_no_reduction<const D: usize>(
            &self,
            input: burn::tensor::Tensor<B, D>,
            target: burn::tensor::Tensor<B, D>,
        ) -> burn::tensor::Tensor<B, 1> {
            self.set().mask_losses(&$score, input, target)
        }

        /// The loss against class indices `(N, d1, ..., dk)` (`Multiclass`), reduced with the
        /// configured reduction.
        ///
        /// # Panics
        /// If the mode is not `Multiclass`, `DT != D - 1`, the target's shape is not the input's
        /// without dimension 1, an index is outside `[0, C)` and not `ignore_index` (read back
        /// from the device), or as [`forward`](Self::forward).
        pub fn forward_indices<const D: usize, const DT: usize>(
            &self,
            input: burn::tensor::Tensor<B, D>,
            target: burn::tensor::Tensor<B, DT, burn::tensor::Int>,
        ) -> burn::tensor::Tensor<B, 1> {
            let batch_size = input.dims()[0];
            let losses = self.forward_indices_no_reduction(input, target);
            let set = self.set();
            set.reduction.finish(set.weighted_sum(losses), batch_size)
        }

        /// [`forward_no_reduction`](Self::forward_no_reduction) against class indices.
        ///
        /// # Panics
        /// As [`forward_indices`](Self::forward_indices).
        pub fn forward_indices_no_reduction<const D: usize, const DT: usize>(
            &self,
            input: burn::tensor::Tensor<B, D>,
            target: burn::tensor::Tensor<B, DT, burn::tensor::Int>,
        ) -> burn::tensor::Tensor<B, 1> {
            self.set().index_losses(&$score, input, target)
        }
    };
}
pub(super) use set_forwards;

impl<B: Backend> JaccardLoss<B> {
    set_forwards!(JACCARD);

    /// The options of the loss: itself.
    fn set(&self) -> &Self {
        self
    }

    /// The loss of every kept channel against a float mask, with `score`'s name and weights.
    #[track_caller]
    pub(super) fn mask_losses<const D: usize>(
        &self,
        score: &SetScore,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> Tensor<B, 1> {
        let targets = self.mode_options(score.loss).of_mask(input, target);
        self.losses_of(score, targets)
    }

    /// The loss of every kept channel against class indices, with `score`'s name and weights.
    #[track_caller]
    pub(super) fn index_losses<const D: usize, const DT: usize>(
        &self,
        score: &SetScore,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> Tensor<B, 1> {
        let targets = self.mode_options(score.loss).of_indices(input, target);
        self.losses_of(score, targets)
    }

    fn mode_options<'a>(&'a self, loss: &'a str) -> ModeOptions<'a, B> {
        ModeOptions {
            loss,
            mode: self.mode,
            ignore_index: self.ignore_index,
            class_weights: self.class_weights.as_ref(),
        }
    }

    /// Every kept channel's loss: the probabilities of the positions kept against the target.
    fn losses_of(&self, score: &SetScore, targets: ModeTargets<B>) -> Tensor<B, 1> {
        let probabilities = self.probabilities(targets.input);
        let probabilities = match targets.kept {
            Some(kept) => probabilities * kept,
            None => probabilities,
        };
        self.channel_losses(score, probabilities, targets.target)
    }

    /// The input as probabilities, `(N, C, S)`.
    fn probabilities(&self, input: Tensor<B, 3>) -> Tensor<B, 3> {
        if !self.from_logits {
            return input;
        }
        match self.mode {
            SegmentationMode::Multiclass => softmax(input, 1),
            // `exp(log_sigmoid)`, as smp: Burn 0.21's `sigmoid` rounds through f32 on f64.
            _ => log_sigmoid(input).exp(),
        }
    }

    /// Every kept channel's loss from probabilities and targets `(N, C, S)`.
    fn channel_losses(
        &self,
        score: &SetScore,
        probabilities: Tensor<B, 3>,
        target: Tensor<B, 3>,
    ) -> Tensor<B, 1> {
        let channels = probabilities.dims()[1];
        let batch_size = probabilities.dims()[0];
        let over_batch = |values: Tensor<B, 3>| -> Tensor<B, 1> {
            let per_sample = sum_dim(values, 2).reshape([batch_size, channels]);
            sum_dim(per_sample, 0).reshape([channels])
        };
        let difference = over_batch((probabilities.clone() - target.clone()).abs());
        let prediction = over_batch(probabilities);
        let target_mass = over_batch(target);
        let intersection = (prediction.clone() + target_mass.clone() - difference) / 2.0;
        let false_positives = prediction - intersection.clone();
        let false_negatives = target_mass.clone() - intersection.clone();
        let smooth = self.smooth as f64;
        let denominator = intersection.clone()
            + false_positives * score.alpha
            + false_negatives * score.beta
            + smooth;
        let index = (intersection + smooth) / denominator.clamp_min(self.eps as f64);
        let losses = if self.log_loss {
            index.clamp_min(self.eps as f64).log().neg()
        } else {
            index.neg() + 1.0
        };
        let present = target_mass.greater_elem(0.0).float().cast(losses.dtype());
        let losses = losses * present;
        match &self.classes {
            Some(classes) => {
                let indices = self.kept_indices(score.loss, classes, channels, &losses.device());
                losses.select(0, indices)
            }
            None => losses,
        }
    }

    #[track_caller]
    fn kept_indices(
        &self,
        loss: &str,
        classes: &[usize],
        channels: usize,
        device: &B::Device,
    ) -> Tensor<B, 1, Int> {
        if let Some(bad) = classes.iter().find(|class| **class >= channels) {
            fail(
                loss,
                "classes",
                format_args!("channels in [0, {channels})"),
                bad,
            );
        }
        let indices: Vec<i64> = classes.iter().map(|class| *class as i64).collect();
        Tensor::from_ints(indices.as_slice(), device)
    }

    /// The sum of the kept channels' losses, weighted by `class_weights` (checked to be one per
    /// channel), with the normaliser of smp's mean.
    pub(super) fn weighted_sum(&self, losses: Tensor<B, 1>) -> LossSum<B> {
        let Some(weights) = &self.class_weights else {
            return LossSum {
                sum: sum(losses.clone()),
                normalizer: Normalizer::elements(losses.dims()[0], &losses.device()),
            };
        };
        let weights = weights.clone().cast(losses.dtype());
        let weights = match &self.classes {
            Some(classes) => {
                let channels = weights.dims()[0];
                // The classes were checked against the channels with the losses.
                weights.select(
                    0,
                    self.kept_indices(LOSS, classes, channels, &losses.device()),
                )
            }
            None => weights,
        };
        let total = weights.clone().sum();
        LossSum {
            sum: sum(losses * weights),
            normalizer: Normalizer::weighted(total.clone(), total),
        }
    }
}

/// What an smp loss's `mode`, `ignore_index` and `class_weights` make of its input and target:
/// the checks and the flattened tensors [`ModeTargets`].
pub(super) struct ModeOptions<'a, B: Backend> {
    /// The loss named by the error messages.
    pub loss: &'a str,
    pub mode: SegmentationMode,
    pub ignore_index: Option<i64>,
    /// Checked to hold one weight per channel.
    pub class_weights: Option<&'a Tensor<B, 1>>,
}

/// An smp loss's input and target, flattened to `(N, C, S)`: the target one-hot for
/// `Multiclass`, 0 at the positions left out.
pub(super) struct ModeTargets<B: Backend> {
    pub input: Tensor<B, 3>,
    pub target: Tensor<B, 3>,
    /// 1 where the position is kept, 0 where its target is `ignore_index`, `(N, C, S)`; none
    /// without `ignore_index`.
    pub kept: Option<Tensor<B, 3>>,
}

impl<B: Backend> ModeOptions<'_, B> {
    /// A float mask of the input's shape (`Binary`, `Multilabel`).
    #[track_caller]
    pub fn of_mask<const D: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> ModeTargets<B> {
        let dims = input.dims();
        self.check_input(&dims);
        if self.mode == SegmentationMode::Multiclass {
            fail(
                self.loss,
                "target",
                "class indices (`forward_indices`) with mode Multiclass",
                "a float target",
            );
        }
        check_same_shape(self.loss, "target", "input", &dims, &target.dims());
        let target = flatten(target);
        let input = flatten(input);
        match self.ignore_index {
            Some(ignored) => {
                let kept = target.clone().not_equal_elem(ignored as f64).float();
                let kept = kept.cast(input.dtype());
                ModeTargets {
                    input,
                    target: target * kept.clone(),
                    kept: Some(kept),
                }
            }
            None => ModeTargets {
                input,
                target,
                kept: None,
            },
        }
    }

    /// Class indices `(N, d1, ..., dk)` (`Multiclass`), as a one-hot target.
    #[track_caller]
    pub fn of_indices<const D: usize, const DT: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> ModeTargets<B> {
        let dims = input.dims();
        self.check_input(&dims);
        if self.mode != SegmentationMode::Multiclass {
            fail(
                self.loss,
                "target",
                "a float mask of the input's shape (`forward`) with a mode other than Multiclass",
                "class indices",
            );
        }
        let mut expected = dims.to_vec();
        expected.remove(1);
        if DT + 1 != D || expected.as_slice() != target.dims().as_slice() {
            fail(
                self.loss,
                "target",
                format_args!("shape {expected:?} (`input` {dims:?} without the channel dimension)"),
                format_args!("{:?}", target.dims()),
            );
        }
        let channels = dims[1];
        check_class_indices(self.loss, "target", &target, channels, self.ignore_index);
        let batch_size = dims[0];
        let voxels = target.shape().num_elements() / batch_size.max(1);
        let shape = [batch_size, channels, voxels];
        let indices = target.reshape([batch_size, 1, voxels]).expand(shape);
        let classes = Tensor::<B, 1, Int>::arange(0..channels as i64, &input.device())
            .reshape([1, channels, 1])
            .expand(shape);
        let dtype = input.dtype();
        let one_hot = indices.clone().equal(classes).float().cast(dtype);
        let input = flatten(input);
        match self.ignore_index {
            Some(ignored) => {
                // An ignored index matches no class (it is outside [0, C)) or its own class,
                // which smp's mask zeroes too.
                let kept = indices.not_equal_elem(ignored).float().cast(dtype);
                ModeTargets {
                    input,
                    target: one_hot * kept.clone(),
                    kept: Some(kept),
                }
            }
            None => ModeTargets {
                input,
                target: one_hot,
                kept: None,
            },
        }
    }

    #[track_caller]
    fn check_input<const D: usize>(&self, dims: &[usize; D]) {
        if D < 3 {
            fail(
                self.loss,
                "input",
                "rank >= 3: (N, C, d1, ..., dk)",
                format_args!("rank {D} with shape {dims:?}"),
            );
        }
        if let Some(weights) = self.class_weights
            && weights.dims()[0] != dims[1]
        {
            fail(
                self.loss,
                "class_weights",
                format_args!("length {} (one weight per channel of `input`)", dims[1]),
                format_args!("length {}", weights.dims()[0]),
            );
        }
        if self.mode == SegmentationMode::Binary && dims[1] != 1 {
            fail(
                self.loss,
                "input",
                "1 channel with mode Binary",
                format_args!("{} channels", dims[1]),
            );
        }
    }
}

/// `(N, C, d1, ..., dk)` as `(N, C, d1·...·dk)`.
fn flatten<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Tensor<B, 3> {
    let dims = tensor.dims();
    let voxels = dims[2..].iter().product();
    tensor.reshape([dims[0], dims[1], voxels])
}
