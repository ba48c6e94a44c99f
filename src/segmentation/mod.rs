//! Segmentation losses over `(N, C, d1, ..., dk)` predictions: the Dice, generalized Dice and
//! Tversky overlap losses, and the Dice loss plus cross entropy or plus the focal loss, as MONAI
//! computes them; the Jaccard, Dice, (focal) Tversky, Lovász and focal losses as
//! segmentation_models_pytorch computes them. Each compares, per sample and channel (or per channel over the
//! whole batch), the prediction's mass, the target's mass and their overlap; see
//! [`OverlapSums`].
//!
//! Their graphs are small (a few element-wise operations and three sums per channel), so their
//! gradients are Burn's autodiff of the formulas.

mod dice;
mod dice_ce;
mod dice_focal;
mod focal_tversky;
mod generalized_dice;
mod jaccard;
mod lovasz;
mod smp_dice;
mod smp_focal;
mod tversky;

pub use dice::*;
pub use dice_ce::*;
pub use dice_focal::*;
pub use focal_tversky::*;
pub use generalized_dice::*;
pub use jaccard::*;
pub use lovasz::*;
pub use smp_dice::*;
pub use smp_focal::*;
pub use tversky::*;

use burn::tensor::activation::{log_sigmoid, softmax};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::mechanics::class_targets::CLASS_DIM;
use crate::mechanics::reduction::sum_dim;
use crate::mechanics::validation::{
    check_class_indices, check_same_shape, check_weight_len, fail, fail_option,
};

/// The per-channel sums an overlap loss is a function of, shape `(N, C')` (one row per sample)
/// or `(1, C')` with the option `batch` (the sums over the whole batch), `C'` the channels the
/// loss keeps (`C - 1` without the background channel 0).
///
/// With `p` the prediction (after its activation) and `g` the target:
/// - `intersection`: `Σ p·g`, or with `soft_label` MONAI's `(Σ|p| + Σ|g| - Σ|p - g|) / 2`,
/// - `prediction`: `Σ p` (`Σ p²` with `squared_pred`, `Σ|p|` with `soft_label`),
/// - `target`: `Σ g` (`Σ g²` with `squared_pred`, `Σ|g|` with `soft_label`).
///
/// With `batch`, the loss of the whole batch is a function of the sums over its samples, so the
/// sums of micro-batches added together (`+`) give exactly the loss (and, backward-passed from
/// each micro-batch in turn, the gradient) of the one large batch: see
/// [`DiceLoss::batch_sums`].
#[derive(Clone, Debug)]
pub struct OverlapSums<B: Backend> {
    /// The overlap of prediction and target per row and channel.
    pub intersection: Tensor<B, 2>,
    /// The prediction's mass per row and channel.
    pub prediction: Tensor<B, 2>,
    /// The target's mass per row and channel.
    pub target: Tensor<B, 2>,
}

impl<B: Backend> OverlapSums<B> {
    /// These sums without their graph: constants, for the micro-batches a backward pass does not
    /// go through.
    pub fn detach(self) -> Self {
        Self {
            intersection: self.intersection.detach(),
            prediction: self.prediction.detach(),
            target: self.target.detach(),
        }
    }
}

impl<B: Backend> core::ops::Add for OverlapSums<B> {
    type Output = Self;

    /// The sums of two micro-batches together (`(1, C')` each, as `batch_sums` returns them).
    fn add(self, other: Self) -> Self {
        Self {
            intersection: self.intersection + other.intersection,
            prediction: self.prediction + other.prediction,
            target: self.target + other.target,
        }
    }
}
/// `forward`, `forward_sum`, `forward_no_reduction`, `forward_indices` and
/// `forward_indices_no_reduction` of a loss computed from the overlap sums of its input and
/// targets ([`OverlapSums`]), from its `options() -> OverlapOptions` method, its `$finish`
/// method (overlap sums to the unreduced losses, of rank `$rank`) and its `reduction` field.
/// `count` documents what `Mean` divides by, `unreduced` the unreduced output, `panics` the bad
/// inputs of `forward`.
macro_rules! overlap_forwards {
    (
        finish: $finish:ident,
        rank: $rank:literal,
        count: $count:literal,
        unreduced: $unreduced:literal,
        panics: $panics:literal $(,)?
    ) => {
        /// The loss against one-hot (or soft) targets of the input's shape, reduced with the
        /// configured reduction.
        ///
        /// # Panics
        #[doc = $panics]
        pub fn forward<const D: usize>(
            &self,
            input: burn::tensor::Tensor<B, D>,
            target: burn::tensor::Tensor<B, D>,
        ) -> burn::tensor::Tensor<B, 1> {
            let batch_size = input.dims()[0];
            self.reduction
                .finish(self.forward_sum(input, target), batch_size)
        }

        /// The sum of the losses and their count,
        #[doc = $count]
        /// whose [`mean`](crate::LossSum::mean) is the `Mean` reduction.
        ///
        /// # Panics
        /// As [`forward`](Self::forward).
        pub fn forward_sum<const D: usize>(
            &self,
            input: burn::tensor::Tensor<B, D>,
            target: burn::tensor::Tensor<B, D>,
        ) -> $crate::LossSum<B> {
            $crate::LossSum::of_elements(self.forward_no_reduction(input, target))
        }

        #[doc = $unreduced]
        ///
        /// # Panics
        /// As [`forward`](Self::forward).
        pub fn forward_no_reduction<const D: usize>(
            &self,
            input: burn::tensor::Tensor<B, D>,
            target: burn::tensor::Tensor<B, D>,
        ) -> burn::tensor::Tensor<B, $rank> {
            self.$finish(self.options().sums(LOSS, input, target))
        }

        /// The loss against class indices `(N, d1, ..., dk)` in `[0, C)` (MONAI's
        /// `to_onehot_y`), reduced with the configured reduction.
        ///
        /// # Panics
        /// As [`forward`](Self::forward); also if `DT != D - 1`, the target's shape is not the
        /// input's without dimension 1, the input has one channel, or an index is outside
        /// `[0, C)` (read back from the device).
        pub fn forward_indices<const D: usize, const DT: usize>(
            &self,
            input: burn::tensor::Tensor<B, D>,
            target: burn::tensor::Tensor<B, DT, burn::tensor::Int>,
        ) -> burn::tensor::Tensor<B, 1> {
            let batch_size = input.dims()[0];
            let losses = self.forward_indices_no_reduction(input, target);
            self.reduction
                .finish($crate::LossSum::of_elements(losses), batch_size)
        }

        /// [`forward_no_reduction`](Self::forward_no_reduction) against class indices.
        ///
        /// # Panics
        /// As [`forward_indices`](Self::forward_indices).
        pub fn forward_indices_no_reduction<const D: usize, const DT: usize>(
            &self,
            input: burn::tensor::Tensor<B, D>,
            target: burn::tensor::Tensor<B, DT, burn::tensor::Int>,
        ) -> burn::tensor::Tensor<B, $rank> {
            self.$finish(self.options().sums_of_indices(LOSS, input, target))
        }
    };
}
pub(crate) use overlap_forwards;

/// The options that turn `(input, target)` into the per-channel sums, as MONAI's `DiceLoss` and
/// `TverskyLoss` share them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OverlapOptions {
    pub sigmoid: bool,
    pub softmax: bool,
    pub include_background: bool,
    /// Sums of squares for the prediction's and the target's mass (Dice's `squared_pred`).
    pub squared: bool,
    pub soft_label: bool,
    pub batch: bool,
    /// MONAI's `ignore_index`: the positions it names weigh nothing (see [`kept_positions`]).
    pub ignore_index: Option<i64>,
}

/// Checks that at most one activation is chosen (MONAI raises the same).
#[track_caller]
pub(crate) fn check_activation(loss: &str, sigmoid: bool, softmax: bool) {
    if sigmoid && softmax {
        fail_option(loss, "softmax", "false when `sigmoid` is true", true);
    }
}

impl OverlapOptions {
    /// The sums of `input` against float `target` of the same shape (one-hot or soft labels).
    #[track_caller]
    pub(crate) fn sums<B: Backend, const D: usize>(
        &self,
        loss: &str,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> OverlapSums<B> {
        let dims = input.dims();
        check_spatial_dims(loss, &dims);
        check_same_shape(loss, "target", "input", &dims, &target.dims());
        let target = flatten_spatial(target);
        let kept = self
            .ignore_index
            .map(|ignored| kept_positions(&target, ignored));
        self.sums_of_flat(loss, input, target, kept)
    }

    /// The sums of `input` against class indices `target`, shape `(N, d1, ..., dk)`: MONAI's
    /// `to_onehot_y`, the one-hot target built as a comparison with each channel's index.
    #[track_caller]
    pub(crate) fn sums_of_indices<B: Backend, const D: usize, const DT: usize>(
        &self,
        loss: &str,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> OverlapSums<B> {
        let (one_hot, kept) = one_hot_of_indices(loss, &input, target, self.ignore_index);
        self.sums_of_flat(loss, input, one_hot, kept)
    }

    /// The sums of `input` (activated here) against a target flattened to `(N, C, S)`, at the
    /// positions `kept` (`(N, 1, S)`, 1 where kept; none: all).
    #[track_caller]
    fn sums_of_flat<B: Backend, const D: usize>(
        &self,
        loss: &str,
        input: Tensor<B, D>,
        target: Tensor<B, 3>,
        kept: Option<Tensor<B, 3>>,
    ) -> OverlapSums<B> {
        let channels = input.dims()[CLASS_DIM];
        if self.softmax && channels < 2 {
            fail(
                loss,
                "input",
                "at least 2 channels with `softmax` (a softmax over one channel is 1)",
                format_args!("{channels} channel"),
            );
        }
        if !self.include_background && channels < 2 {
            fail(
                loss,
                "input",
                "at least 2 channels without `include_background` (channel 0 is left out)",
                format_args!("{channels} channel"),
            );
        }
        let mut prediction = flatten_spatial(input);
        if self.sigmoid {
            // Burn 0.21's `sigmoid` rounds through f32 on NdArray<f64>; `exp(log_sigmoid)` keeps
            // the input's precision, and its tails (0 and 1, zero gradients) stay finite.
            prediction = log_sigmoid(prediction).exp();
        }
        if self.softmax {
            prediction = softmax(prediction, CLASS_DIM);
        }
        let (prediction, target) = match kept {
            // MONAI masks the activated prediction and the target.
            Some(kept) => {
                let kept = kept.expand(prediction.dims());
                (prediction * kept.clone(), target * kept)
            }
            None => (prediction, target),
        };
        let (prediction, target) = if self.include_background {
            (prediction, target)
        } else {
            (
                prediction.narrow(CLASS_DIM, 1, channels - 1),
                target.narrow(CLASS_DIM, 1, channels - 1),
            )
        };
        let intersection = if self.soft_label && !self.squared {
            // MONAI's soft-label overlap (Wang et al.'s Dice semimetric): equal to Σ p·g for
            // hard labels, and still 0 at a perfect soft match.
            let difference = (prediction.clone() - target.clone()).abs();
            (self.spatial_sum(prediction.clone().abs()) + self.spatial_sum(target.clone().abs())
                - self.spatial_sum(difference))
                / 2.0
        } else {
            self.spatial_sum(prediction.clone() * target.clone())
        };
        let (prediction, target) = if self.squared {
            (prediction.powi_scalar(2), target.powi_scalar(2))
        } else if self.soft_label {
            (prediction.abs(), target.abs())
        } else {
            (prediction, target)
        };
        OverlapSums {
            intersection,
            prediction: self.spatial_sum(prediction),
            target: self.spatial_sum(target),
        }
    }

    /// The sum over the spatial positions `(N, C', S) -> (N, C')`, and over the batch too
    /// (`(1, C')`) with `batch`.
    fn spatial_sum<B: Backend>(&self, values: Tensor<B, 3>) -> Tensor<B, 2> {
        let [batch_size, channels, _] = values.dims();
        let per_sample = sum_dim(values, 2).reshape([batch_size, channels]);
        if self.batch {
            sum_dim(per_sample, 0)
        } else {
            per_sample
        }
    }
}

/// Class indices `(N, d1, ..., dk)` in `[0, C)` as the one-hot target `(N, C, d1·...·dk)` of
/// `input` `(N, C, d1, ..., dk)`, in the input's float type (MONAI's `to_onehot_y`): a comparison
/// with each channel's index. With `ignore_index`, also the positions kept, `(N, 1, S)`: 1 where
/// the index is not `ignore_index` (which may also lie outside `[0, C)`).
///
/// Panics if the input has rank < 3 or one channel, `DT != D - 1`, the target's shape is not the
/// input's without dimension 1, or an index is outside `[0, C)` and not `ignore_index` (read back
/// from the device).
#[track_caller]
pub(crate) fn one_hot_of_indices<B: Backend, const D: usize, const DT: usize>(
    loss: &str,
    input: &Tensor<B, D>,
    target: Tensor<B, DT, Int>,
    ignore_index: Option<i64>,
) -> (Tensor<B, 3>, Option<Tensor<B, 3>>) {
    let dims = input.dims();
    check_spatial_dims(loss, &dims);
    check_index_shape(loss, &dims, &target.dims());
    let channels = dims[CLASS_DIM];
    if channels < 2 {
        fail(
            loss,
            "input",
            "at least 2 channels with class-index targets (one channel: pass the binary \
             mask as a float target to `forward`)",
            format_args!("{channels} channel"),
        );
    }
    check_class_indices(loss, "target", &target, channels, ignore_index);
    let batch_size = dims[0];
    let voxels = target.shape().num_elements() / batch_size.max(1);
    let shape = [batch_size, channels, voxels];
    let classes = Tensor::<B, 1, Int>::arange(0..channels as i64, &input.device())
        .reshape([1, channels, 1])
        .expand(shape);
    let target = target.reshape([batch_size, 1, voxels]);
    let kept = ignore_index.map(|ignored| {
        target
            .clone()
            .not_equal_elem(ignored)
            .float()
            .cast(input.dtype())
    });
    let one_hot = target
        .expand(shape)
        .equal(classes)
        .float()
        .cast(input.dtype());
    (one_hot, kept)
}

/// MONAI's mask of the positions a float target `(N, C, S)` keeps with `ignore_index`,
/// `(N, 1, S)`: with one channel, where the target is not `ignore_index`; with more, where the
/// channel `ignore_index` is not set (`1 - target[:, ignore_index]`) if it is a channel, else
/// where some channel is set (a position of no class is unlabelled).
fn kept_positions<B: Backend>(target: &Tensor<B, 3>, ignored: i64) -> Tensor<B, 3> {
    let channels = target.dims()[CLASS_DIM];
    let dtype = target.dtype();
    if channels == 1 {
        target
            .clone()
            .not_equal_elem(ignored as f64)
            .float()
            .cast(dtype)
    } else if (0..channels as i64).contains(&ignored) {
        target.clone().narrow(CLASS_DIM, ignored as usize, 1).neg() + 1.0
    } else {
        target
            .clone()
            .sum_dim(CLASS_DIM)
            .greater_elem(0.0)
            .float()
            .cast(dtype)
    }
}

/// Checks that the input has a batch, a channel and at least one spatial dimension: MONAI sums
/// over the spatial dimensions, and over every dimension when there is none.
#[track_caller]
fn check_spatial_dims<const D: usize>(loss: &str, dims: &[usize; D]) {
    if D < 3 {
        fail(
            loss,
            "input",
            "rank >= 3: (N, C, d1, ..., dk)",
            format_args!("rank {D} with shape {dims:?}"),
        );
    }
}

/// Checks that class indices have the input's shape without the channel dimension.
#[track_caller]
fn check_index_shape<const D: usize, const DT: usize>(
    loss: &str,
    input_dims: &[usize; D],
    target_dims: &[usize; DT],
) {
    if DT + 1 != D {
        fail(
            loss,
            "target",
            format_args!(
                "rank {} (the rank of `input` less the channel dimension)",
                D - 1
            ),
            format_args!("rank {DT}"),
        );
    }
    let mut expected = input_dims.to_vec();
    expected.remove(CLASS_DIM);
    if expected.as_slice() != target_dims.as_slice() {
        fail(
            loss,
            "target",
            format_args!(
                "shape {expected:?} (`input` {input_dims:?} without the channel dimension)"
            ),
            format_args!("{target_dims:?}"),
        );
    }
}

/// `(N, C, d1, ..., dk)` as `(N, C, d1·...·dk)` (`(N, C, 1)` for `(N, C)`).
fn flatten_spatial<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Tensor<B, 3> {
    let dims = tensor.dims();
    let voxels = dims[2..].iter().product();
    tensor.reshape([dims[0], dims[1], voxels])
}

/// The losses `(rows, C')` multiplied by the channel weights (checked to be one per channel).
/// One kept channel is not weighted: MONAI's `DiceLoss` ignores `weight` there (and
/// `DiceCELoss` passes its `weight` to the binary cross entropy as `pos_weight`).
#[track_caller]
pub(crate) fn weighted_by_channel<B: Backend>(
    loss: &str,
    losses: Tensor<B, 2>,
    weight: Option<&Tensor<B, 1>>,
) -> Tensor<B, 2> {
    let channels = losses.dims()[1];
    let Some(weight) = weight.filter(|_| channels > 1) else {
        return losses;
    };
    check_weight_len(
        loss,
        "weight",
        weight.dims()[0],
        channels,
        "the channels the loss keeps: dimension 1 of the input, less the background without \
         `include_background`",
    );
    let weight = weight.clone().cast(losses.dtype()).reshape([1, channels]);
    losses * weight
}
