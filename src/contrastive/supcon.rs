//! Supervised contrastive loss over labelled embeddings, as pytorch-metric-learning's
//! `SupConLoss`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use super::{
    cosine_similarities, equal_pairs, has_positive_and_negative_pairs, masked_logit, read_labels,
    sum_over_terms, zero_loss, zero_losses,
};
use crate::classification::{CrossEntropyLoss, CrossEntropyLossConfig};
use crate::mechanics::reduction::{LossSum, Reduction, sum};
use crate::mechanics::validation::check_positive_option;

const LOSS: &str = "SupConLoss";

/// Configuration of [`SupConLoss`], with the option names and defaults of
/// pytorch-metric-learning's `SupConLoss`.
#[derive(Config, Debug)]
pub struct SupConLossConfig {
    /// The temperature `τ` (finite, > 0) that divides every cosine similarity.
    #[config(default = 0.1)]
    pub temperature: f32,
    /// The reduction applied by `forward`: `Mean` over the anchors whose loss is above 0 (pml's
    /// default `AvgNonZeroReducer`), `Sum` of those losses, `BatchMean` that sum over the
    /// number of embeddings.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl SupConLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If `temperature` is not finite and greater than 0.
    pub fn init<B: Backend>(&self, device: &B::Device) -> SupConLoss<B> {
        check_positive_option(LOSS, "temperature", self.temperature);
        SupConLoss {
            temperature: self.temperature,
            reduction: self.reduction,
            cross_entropy: CrossEntropyLossConfig::new()
                .with_ignore_index(None)
                .init(device),
        }
    }
}

/// The supervised contrastive loss of Khosla et al. (the "L_out" form: the mean over the
/// positives outside the log) over embeddings with integer labels, exactly as
/// pytorch-metric-learning 2.9's `SupConLoss(temperature)` called as `loss(embeddings, labels)`.
///
/// With `s_ij` the cosine similarity of rows `i` and `j` (each row divided by
/// `max(‖x‖, 1e-12)`), the positives `P(a)` of an anchor `a` are the other rows with its label;
/// every row but `a` itself is in its softmax:
///
/// ```text
/// ℓ_a = -(1 / |P(a)|) Σ_{p ∈ P(a)} log( exp(s_ap / τ) / Σ_{c ≠ a} exp(s_ac / τ) )
/// ```
///
/// and `ℓ_a = 0` for an anchor without positives. This is the cross entropy of the anchor's row
/// of logits (its own column left out) against the uniform distribution over its positives,
/// computed by [`CrossEntropyLoss::forward_probs`](crate::CrossEntropyLoss::forward_probs)
/// (log-sum-exp with the maximum subtracted, its closed-form gradient with respect to the
/// logits); the similarities are differentiated by autodiff.
///
/// # Reduction
/// - `Mean`: the mean over the anchors whose loss is above 0 (pml's default
///   `AvgNonZeroReducer`, which leaves out the anchors without positives), 0 if there are none.
/// - `Sum`: the sum of those losses. pml's `SumReducer` adds every loss; the ones left out are
///   0, or below 0 only by rounding (a log-probability above 0), so the two differ at most by
///   that rounding.
/// - `BatchMean`: that sum over the number of embeddings `M`.
///
/// Without a positive pair (every label distinct) or without a negative pair (one label), the
/// loss is 0 with a zero gradient, as pml's zero loss, for every reduction.
///
/// # Shapes
/// - embeddings: `(M, D)`
/// - labels: `(M)`, `Int`, any values (only equality matters)
/// - unreduced output: `(M)`, one loss per anchor
///
/// The labels are read back from the device (`M` integers) to find pml's zero-loss batches.
/// Only cosine similarity is supported (pml's default `distance`); pml's miners,
/// `indices_tuple`, `ref_emb` and other reducers are not. pml divides by
/// `|P(a)| + torch.finfo(dtype).tiny`, which equals `|P(a)|` in floating point.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = SupConLossConfig::new().init::<NdArray>(&device);
/// let embeddings = Tensor::<NdArray, 2>::from_floats(
///     [[1.0, 0.0], [0.9, 0.3], [0.0, 1.0], [-0.2, 1.0], [0.7, 0.7]],
///     &device,
/// );
/// let labels = Tensor::<NdArray, 1, Int>::from_ints([0, 0, 1, 1, 2], &device);
/// let value = loss.forward(embeddings, labels).into_scalar();
/// assert!((value - 0.155883).abs() < 1e-5); // pml 2.9: 0.15588336
/// ```
///
/// # References
/// - P. Khosla, P. Teterwak, C. Wang, A. Sarna, Y. Tian, P. Isola, A. Maschinot, C. Liu,
///   D. Krishnan, "Supervised Contrastive Learning", NeurIPS 2020.
/// - K. Musgrave, S. Belongie, S.-N. Lim, "PyTorch Metric Learning", 2020:
///   `pytorch_metric_learning.losses.SupConLoss`.
#[derive(Module, Debug)]
pub struct SupConLoss<B: Backend> {
    /// The temperature `τ`.
    pub temperature: f32,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    /// The cross entropy each anchor's row goes through (no option set).
    cross_entropy: CrossEntropyLoss<B>,
}

impl<B: Backend> SupConLoss<B> {
    /// The loss reduced with the configured reduction.
    ///
    /// # Panics
    /// If `labels` is not `(M)` for `M` embeddings.
    pub fn forward(&self, embeddings: Tensor<B, 2>, labels: Tensor<B, 1, Int>) -> Tensor<B, 1> {
        let batch_size = embeddings.dims()[0];
        self.reduction
            .finish(self.forward_sum(embeddings, labels), batch_size)
    }

    /// The sum of the anchors' losses above 0 and their number, whose
    /// [`mean`](LossSum::mean) is the `Mean` reduction (0 without such an anchor): to divide by
    /// the count of a larger batch (see [`LossSum`]).
    ///
    /// Unlike an element-wise loss, the losses of micro-batches are not those of their union:
    /// each anchor's positives and negatives come from its own micro-batch only. The normaliser
    /// makes the mean of several batches exact over the terms they hold, not a larger batch.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_sum(&self, embeddings: Tensor<B, 2>, labels: Tensor<B, 1, Int>) -> LossSum<B> {
        let options = (&embeddings.device(), embeddings.dtype());
        match self.anchor_losses(embeddings.clone(), labels) {
            Some(losses) => {
                // pml's AvgNonZeroReducer keeps the losses above 0.
                let kept = losses.clone().greater_elem(0.0);
                let count = kept.clone().float().cast(embeddings.dtype()).sum();
                sum_over_terms(sum(losses.mask_fill(kept.bool_not(), 0.0)), count)
            }
            None => sum_over_terms(zero_loss(embeddings), Tensor::zeros([1], options)),
        }
    }

    /// The loss of every anchor, shape `(M)`: 0 for an anchor without positives, and zeros
    /// where pml returns its zero loss.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_no_reduction(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Tensor<B, 1> {
        let count = embeddings.dims()[0];
        match self.anchor_losses(embeddings.clone(), labels) {
            Some(losses) => losses,
            None => zero_losses(embeddings, count),
        }
    }

    /// The anchors' losses, each the cross entropy of its row of logits against its positives;
    /// `None` where pml returns its zero loss.
    fn anchor_losses(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Option<Tensor<B, 1>> {
        let host_labels = read_labels(LOSS, &embeddings, &labels);
        if !has_positive_and_negative_pairs(&host_labels) {
            return None;
        }
        let count = host_labels.len();
        let device = embeddings.device();
        let dtype = embeddings.dtype();
        let rows = Tensor::<B, 1, Int>::arange(0..count as i64, &device);
        let itself = equal_pairs(rows.clone(), rows);
        let positive = equal_pairs(labels.clone(), labels).bool_and(itself.clone().bool_not());
        let positive = positive.float().cast(dtype);
        // Uniform over the positives; a row without positives stays 0 (a loss of 0).
        let positive_count = positive.clone().sum_dim(1).clamp_min(1.0);
        let targets = positive / positive_count;
        let logits = (cosine_similarities(embeddings) / self.temperature as f64)
            .mask_fill(itself, masked_logit(self.temperature));
        Some(
            self.cross_entropy
                .forward_probs_no_reduction(logits, targets),
        )
    }
}
