//! NT-Xent (InfoNCE) over labelled embeddings, as pytorch-metric-learning's `NTXentLoss`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

use super::{
    cosine_similarities, equal_pairs, has_positive_and_negative_pairs, masked_logit, read_labels,
    sum_over_terms, zero_loss, zero_losses,
};
use crate::classification::{CrossEntropyLoss, CrossEntropyLossConfig};
use crate::mechanics::reduction::{LossSum, Reduction, sum};
use crate::mechanics::validation::{check_positive_option, check_same_shape};

const LOSS: &str = "NtXentLoss";

/// Configuration of [`NtXentLoss`], with the option names and defaults of
/// pytorch-metric-learning's `NTXentLoss`.
#[derive(Config, Debug)]
pub struct NtXentLossConfig {
    /// The temperature `τ` (finite, > 0) that divides every cosine similarity.
    #[config(default = 0.07)]
    pub temperature: f32,
    /// The reduction applied by `forward`: `Mean` over the positive pairs (pml's default
    /// `MeanReducer`), `Sum` over them, `BatchMean` the sum over the number of embeddings.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl NtXentLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If `temperature` is not finite and greater than 0.
    pub fn init<B: Backend>(&self, device: &B::Device) -> NtXentLoss<B> {
        check_positive_option(LOSS, "temperature", self.temperature);
        NtXentLoss {
            temperature: self.temperature,
            reduction: self.reduction,
            cross_entropy: CrossEntropyLossConfig::new()
                .with_ignore_index(None)
                // The targets are positive-pair columns, valid by construction.
                .with_check_targets(false)
                .init(device),
        }
    }
}

/// The losses of the positive pairs, or pml's zero loss (no positive or no negative pair).
enum PairLosses<B: Backend> {
    Computed(Tensor<B, 1>),
    Zero { pair_count: usize },
}

/// NT-Xent, the normalised temperature-scaled cross entropy of SimCLR (InfoNCE with cosine
/// similarity), over embeddings with integer labels, exactly as pytorch-metric-learning 2.9's
/// `NTXentLoss(temperature)` called as `loss(embeddings, labels)`.
///
/// With `s_ij` the cosine similarity of rows `i` and `j` (each row divided by
/// `max(‖x‖, 1e-12)`), every ordered pair `(a, p)`, `a ≠ p`, with one label is a positive pair,
/// and the negatives `N(a)` of `a` are the rows with another label. The loss of a positive pair
/// is
///
/// ```text
/// ℓ_ap = -log( exp(s_ap / τ) / (exp(s_ap / τ) + Σ_{n ∈ N(a)} exp(s_an / τ)) )
/// ```
///
/// the cross entropy of the row `(s_ap, s_an...) / τ` against the positive: the other positives
/// of `a` are left out of its softmax, as in pml. Each row goes through
/// [`CrossEntropyLoss`](crate::CrossEntropyLoss) (log-sum-exp with the maximum subtracted, its
/// closed-form gradient with respect to the logits); the similarities are differentiated by
/// autodiff.
///
/// For SimCLR's two views of `N` samples, [`forward_views`](Self::forward_views) stacks the views
/// into `(2N, D)` and labels row `i` and row `N + i` alike
/// (`labels = [0, 1, .., N-1, 0, 1, .., N-1]`): each row then has one positive and `2N - 2`
/// negatives, the NT-Xent of Chen et al. over its `2N` positive pairs.
///
/// # Reduction
/// - `Mean`: the mean over the positive pairs, pml's default `MeanReducer`.
/// - `Sum`: the sum over the positive pairs (pml's `SumReducer`).
/// - `BatchMean`: that sum over the number of embeddings `M`.
///
/// Without a positive pair (every label distinct) or without a negative pair (one label), the
/// loss is 0 with a zero gradient, as pml's zero loss, for every reduction.
///
/// # Shapes
/// - embeddings: `(M, D)`
/// - labels: `(M)`, `Int`, any values (only equality matters)
/// - unreduced output: `(P)`, one loss per positive pair, ordered by anchor then positive (pml's
///   `torch.where` order)
/// - `forward_views`: two views `(N, D)`, the same shape
///
/// The labels are read back from the device (`M` integers) to list the positive pairs. Only
/// cosine similarity is supported (pml's default `distance`); pml's miners, `indices_tuple`,
/// `ref_emb` and other reducers are not. pml adds `torch.finfo(dtype).tiny` inside its `log`,
/// which caps a pair's loss at about 87 in f32; here the loss is not capped (a difference only
/// for a positive whose softmax probability underflows).
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = NtXentLossConfig::new().with_temperature(0.5).init::<NdArray>(&device);
/// // Two views of two samples: rows 0 and 2 are one sample, rows 1 and 3 the other.
/// let embeddings = Tensor::<NdArray, 2>::from_floats(
///     [[1.0, 0.0], [0.0, 1.0], [0.8, 0.6], [0.6, -0.8]],
///     &device,
/// );
/// let labels = Tensor::<NdArray, 1, Int>::from_ints([0, 1, 0, 1], &device);
/// let value = loss.forward(embeddings, labels).into_scalar();
/// assert!((value - 1.868040).abs() < 1e-5); // pml 2.9: 1.8680403
/// ```
///
/// # References
/// - T. Chen, S. Kornblith, M. Norouzi, G. Hinton, "A Simple Framework for Contrastive Learning
///   of Visual Representations" (SimCLR), ICML 2020.
/// - A. van den Oord, Y. Li, O. Vinyals, "Representation Learning with Contrastive Predictive
///   Coding" (InfoNCE), 2018.
/// - K. Musgrave, S. Belongie, S.-N. Lim, "PyTorch Metric Learning", 2020:
///   `pytorch_metric_learning.losses.NTXentLoss`.
#[derive(Module, Debug)]
pub struct NtXentLoss<B: Backend> {
    /// The temperature `τ`.
    pub temperature: f32,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    /// The cross entropy each positive pair's row goes through (no option set).
    cross_entropy: CrossEntropyLoss<B>,
}

impl<B: Backend> NtXentLoss<B> {
    /// The loss reduced with the configured reduction.
    ///
    /// # Panics
    /// If `labels` is not `(M)` for `M` embeddings.
    pub fn forward(&self, embeddings: Tensor<B, 2>, labels: Tensor<B, 1, Int>) -> Tensor<B, 1> {
        let batch_size = embeddings.dims()[0];
        self.reduction
            .finish(self.forward_sum(embeddings, labels), batch_size)
    }

    /// The loss of SimCLR's two views of `N` samples, reduced with the configured reduction:
    /// [`forward`](Self::forward) of the `2N` rows `[view_a; view_b]` labelled
    /// `[0, .., N-1, 0, .., N-1]`, so that row `i` of one view is the only positive of row `i`
    /// of the other and every other row is a negative.
    ///
    /// # Panics
    /// If `view_b`'s shape differs from `view_a`'s.
    pub fn forward_views(&self, view_a: Tensor<B, 2>, view_b: Tensor<B, 2>) -> Tensor<B, 1> {
        check_same_shape(LOSS, "view_b", "view_a", &view_a.dims(), &view_b.dims());
        let samples = Tensor::<B, 1, Int>::arange(0..view_a.dims()[0] as i64, &view_a.device());
        let labels = Tensor::cat(vec![samples.clone(), samples], 0);
        self.forward(Tensor::cat(vec![view_a, view_b], 0), labels)
    }

    /// The sum of the positive pairs' losses and their number, whose
    /// [`mean`](LossSum::mean) is the `Mean` reduction (0 without a positive pair): to divide
    /// by the number of positive pairs of a larger batch (see [`LossSum`]).
    ///
    /// Unlike an element-wise loss, the losses of micro-batches are not those of their union:
    /// each anchor's positives and negatives come from its own micro-batch only. The normaliser
    /// makes the mean of several batches exact over the terms they hold, not a larger batch.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_sum(&self, embeddings: Tensor<B, 2>, labels: Tensor<B, 1, Int>) -> LossSum<B> {
        let options = (&embeddings.device(), embeddings.dtype());
        match self.pair_losses(embeddings.clone(), labels) {
            PairLosses::Computed(losses) => {
                let count = Tensor::full([1], losses.dims()[0] as f64, options);
                sum_over_terms(sum(losses), count)
            }
            PairLosses::Zero { .. } => {
                sum_over_terms(zero_loss(embeddings), Tensor::zeros([1], options))
            }
        }
    }

    /// The loss of every positive pair, shape `(P)`, ordered by anchor then positive; zeros
    /// where pml returns its zero loss (one label only; every label distinct gives `P = 0`).
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_no_reduction(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Tensor<B, 1> {
        match self.pair_losses(embeddings.clone(), labels) {
            PairLosses::Computed(losses) => losses,
            PairLosses::Zero { pair_count } => zero_losses(embeddings, pair_count),
        }
    }

    /// The positive pairs' losses, each the cross entropy of its row of logits.
    fn pair_losses(&self, embeddings: Tensor<B, 2>, labels: Tensor<B, 1, Int>) -> PairLosses<B> {
        let host_labels = read_labels(LOSS, &embeddings, &labels);
        let (anchors, positives): (Vec<i64>, Vec<i64>) =
            positive_pairs(&host_labels).into_iter().unzip();
        let pair_count = anchors.len();
        if !has_positive_and_negative_pairs(&host_labels) {
            return PairLosses::Zero { pair_count };
        }
        let device = embeddings.device();
        let anchors =
            Tensor::<B, 1, Int>::from_data(TensorData::new(anchors, [pair_count]), &device);
        let positives =
            Tensor::<B, 1, Int>::from_data(TensorData::new(positives, [pair_count]), &device);
        // A pair's row keeps its positive and the anchor's negatives (the columns with another
        // label than the anchor's); the anchor itself and its other positives are left out.
        let anchor_labels = labels.clone().select(0, anchors.clone());
        let same_label = equal_pairs(anchor_labels, labels);
        let columns = Tensor::<B, 1, Int>::arange(0..host_labels.len() as i64, &device);
        let is_positive = equal_pairs(positives.clone(), columns);
        let left_out = same_label.bool_and(is_positive.bool_not());
        let logits = (cosine_similarities(embeddings).select(0, anchors) / self.temperature as f64)
            .mask_fill(left_out, masked_logit(self.temperature));
        PairLosses::Computed(self.cross_entropy.forward_no_reduction(logits, positives))
    }
}

/// Every ordered pair `(a, p)`, `a ≠ p`, with one label, by anchor then positive.
fn positive_pairs(labels: &[i64]) -> Vec<(i64, i64)> {
    let mut pairs = Vec::new();
    for (anchor, anchor_label) in labels.iter().enumerate() {
        for (positive, label) in labels.iter().enumerate() {
            if positive != anchor && label == anchor_label {
                pairs.push((anchor as i64, positive as i64));
            }
        }
    }
    pairs
}
