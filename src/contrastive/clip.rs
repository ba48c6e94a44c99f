//! CLIP's symmetric image-text contrastive loss, as open_clip's `ClipLoss`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::classification::{CrossEntropyLoss, CrossEntropyLossConfig};
use crate::mechanics::assembly::reduced_forward;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_same_shape, fail};

const LOSS: &str = "ClipLoss";

/// Configuration of [`ClipLoss`] (open_clip's `ClipLoss` in one process has no option).
#[derive(Config, Debug)]
pub struct ClipLossConfig {
    /// The reduction applied by `forward`: `Mean` over the `N` pairs is open_clip's loss.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl ClipLossConfig {
    /// Builds the loss.
    pub fn init<B: Backend>(&self, device: &B::Device) -> ClipLoss<B> {
        ClipLoss {
            reduction: self.reduction,
            cross_entropy: CrossEntropyLossConfig::new()
                .with_ignore_index(None)
                // The targets are `0..N`, valid by construction.
                .with_check_targets(false)
                .init(device),
        }
    }
}

/// CLIP's symmetric contrastive loss of `N` matching image-text pairs, exactly as open_clip
/// 3.3's `ClipLoss()` in one process (`world_size = 1`, so `local_loss` and
/// `gather_with_grad` play no part): `loss(image_features, text_features, logit_scale)`.
///
/// With the scale `s` and the features as given (open_clip's encoders normalise them; the loss
/// does not), the logits are `L = s · I Tᵀ` (`(N, N)`, image `i` against text `j`), the match of
/// row `i` is column `i`, and the loss of pair `i` averages the image-to-text and the
/// text-to-image cross entropies:
///
/// ```text
/// ℓ_i = ( CE(L_i·, i) + CE(Lᵀ_i·, i) ) / 2
/// Mean = Σ_i ℓ_i / N = ( CE_mean(L, 0..N) + CE_mean(Lᵀ, 0..N) ) / 2      (open_clip's value)
/// ```
///
/// `logit_scale` is the **scale itself**, a one-element tensor, as open_clip's `ClipLoss` takes
/// it: a model that learns the log-scale `t` (CLIP's parameterisation, initialised to
/// `ln(1/0.07)` and clamped to `ln 100`) passes `t.exp()`, and the gradient reaches `t` through
/// the `exp`. The gradient reaches all three inputs; the logits go through
/// [`CrossEntropyLoss`](crate::CrossEntropyLoss) (its closed-form gradient), the product
/// through autodiff.
///
/// open_clip's optional `logit_bias` is left out: one constant added to every logit cancels in
/// each softmax, so it changes neither the loss nor a gradient (its own gradient is 0).
///
/// # Reduction
/// - `Mean`: the mean over the `N` pairs, open_clip's loss.
/// - `Sum`: the sum over the pairs (`N` times `Mean`).
/// - `BatchMean`: that sum over `N`, the same as `Mean`.
///
/// `forward_sum` gives the sum and `N`, as every loss; but the losses of micro-batches are not
/// those of their union, since each pair's negatives are the other pairs of its own batch.
///
/// # Shapes
/// - image_features, text_features: `(N, D)`, the same shape
/// - logit_scale: `(1)`
/// - unreduced output: `(N)`
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = ClipLossConfig::new().init::<NdArray>(&device);
/// let images = Tensor::<NdArray, 2>::from_floats([[1.0, 0.0], [0.6, 0.8]], &device);
/// let texts = Tensor::<NdArray, 2>::from_floats([[0.8, 0.6], [0.0, 1.0]], &device);
/// // CLIP's initial scale, 1 / 0.07, from a learned log-scale.
/// let log_scale = Tensor::<NdArray, 1>::from_floats([(1.0f32 / 0.07).ln()], &device);
/// let value = loss.forward(images, texts, log_scale.exp()).into_scalar();
/// assert!((value - 1.191291).abs() < 1e-5); // open_clip 3.3: 1.1912907
/// ```
///
/// # References
/// - A. Radford et al., "Learning Transferable Visual Models From Natural Language
///   Supervision" (CLIP), ICML 2021.
/// - G. Ilharco et al., OpenCLIP, 2021: `open_clip.loss.ClipLoss`.
#[derive(Module, Debug)]
pub struct ClipLoss<B: Backend> {
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    /// The cross entropy of both directions' logits (no option set).
    cross_entropy: CrossEntropyLoss<B>,
}

impl<B: Backend> ClipLoss<B> {
    reduced_forward! {
        /// The loss reduced with the configured reduction.
        ///
        /// # Panics
        /// If `text_features`' shape differs from `image_features`' or `logit_scale` is not
        /// `(1)`.
        fn forward(
            image_features: Tensor<B, 2>,
            text_features: Tensor<B, 2>,
            logit_scale: Tensor<B, 1>,
        );
    }

    /// The loss of every image-text pair, shape `(N)`.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_no_reduction(
        &self,
        image_features: Tensor<B, 2>,
        text_features: Tensor<B, 2>,
        logit_scale: Tensor<B, 1>,
    ) -> Tensor<B, 1> {
        let dims = image_features.dims();
        check_same_shape(
            LOSS,
            "text_features",
            "image_features",
            &dims,
            &text_features.dims(),
        );
        if logit_scale.dims() != [1] {
            fail(
                LOSS,
                "logit_scale",
                "shape [1] (one scale)",
                format_args!("{:?}", logit_scale.dims()),
            );
        }
        let count = dims[0];
        let matches = Tensor::<B, 1, Int>::arange(0..count as i64, &image_features.device());
        let logits_per_image =
            image_features.matmul(text_features.transpose()) * logit_scale.reshape([1, 1]);
        let logits_per_text = logits_per_image.clone().transpose();
        let image_to_text = self
            .cross_entropy
            .forward_no_reduction(logits_per_image, matches.clone());
        let text_to_image = self
            .cross_entropy
            .forward_no_reduction(logits_per_text, matches);
        (image_to_text + text_to_image) / 2.0
    }
}
