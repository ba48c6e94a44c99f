//! Contrastive and metric-learning losses: NT-Xent (InfoNCE) and supervised contrastive loss over
//! labelled embeddings, as pytorch-metric-learning computes them, and CLIP's symmetric
//! image-text loss, as open_clip computes it. All three are cross entropies over similarity
//! logits, computed by [`CrossEntropyLoss`](crate::CrossEntropyLoss), so its closed-form
//! gradient (and its NdArray kernel) applies.

mod clip;
mod nt_xent;
mod supcon;

pub use clip::*;
pub use nt_xent::*;
pub use supcon::*;

use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor};

use crate::mechanics::reduction::{LossSum, Normalizer};
use crate::mechanics::validation::fail;

/// pml's `CosineSimilarity` normalises with `F.normalize`'s `eps`: each row is divided by
/// `max(‖x‖, 1e-12)`.
const NORM_EPS: f64 = 1e-12;

/// How far below every real logit a masked-out logit lies. Real logits are cosine similarities
/// over the temperature, in `[-1/τ, 1/τ]`, so a masked logit at `-1/τ - 1000` is at least 1000
/// below the row's maximum: its `exp` underflows to exactly 0 in f32 and f64 (pml writes the
/// most negative float there), while the masked log-probability stays finite, so a zero target
/// probability times it is 0, not NaN.
const MASK_GAP: f64 = 1000.0;

/// The logit that stands for a pair left out of a row's softmax, at temperature `temperature`.
fn masked_logit(temperature: f32) -> f64 {
    -1.0 / temperature as f64 - MASK_GAP
}

/// The cosine similarity of every pair of rows, `(M, M)`: the rows divided by
/// `max(‖x‖, 1e-12)`, then multiplied, as pml's default `CosineSimilarity` distance.
fn cosine_similarities<B: Backend>(embeddings: Tensor<B, 2>) -> Tensor<B, 2> {
    // sqrt(max(Σx², eps²)) = max(‖x‖, eps), with a zero gradient (not NaN) at a zero row.
    let norms = embeddings
        .clone()
        .powi_scalar(2)
        .sum_dim(1)
        .clamp_min(NORM_EPS * NORM_EPS)
        .sqrt();
    let unit = embeddings / norms;
    unit.clone().matmul(unit.transpose())
}

/// Checks that `labels` has one label per embedding and reads them back from the device.
#[track_caller]
fn read_labels<B: Backend>(
    loss: &str,
    embeddings: &Tensor<B, 2>,
    labels: &Tensor<B, 1, Int>,
) -> Vec<i64> {
    let count = embeddings.dims()[0];
    if labels.dims() != [count] {
        fail(
            loss,
            "labels",
            format_args!("shape [{count}] (one label per row of `embeddings`)"),
            format_args!("{:?}", labels.dims()),
        );
    }
    labels.to_data().iter::<i64>().collect()
}

/// Whether the batch has a positive pair (two embeddings with one label) and a negative pair
/// (two labels): pml's losses are 0 without either.
fn has_positive_and_negative_pairs(labels: &[i64]) -> bool {
    let mut sorted = labels.to_vec();
    sorted.sort_unstable();
    let repeated = sorted.windows(2).any(|pair| pair[0] == pair[1]);
    let several_classes = sorted.first() != sorted.last();
    repeated && several_classes
}

/// `(rows, columns)` where `rows[r]` equals `columns[c]`.
fn equal_pairs<B: Backend>(
    rows: Tensor<B, 1, Int>,
    columns: Tensor<B, 1, Int>,
) -> Tensor<B, 2, Bool> {
    let shape = [rows.dims()[0], columns.dims()[0]];
    rows.reshape([shape[0], 1])
        .expand(shape)
        .equal(columns.reshape([1, shape[1]]).expand(shape))
}

/// pml's zero loss, `sum(embeddings * 0)`: 0, with a zero gradient for the embeddings.
fn zero_loss<B: Backend>(embeddings: Tensor<B, 2>) -> Tensor<B, 1> {
    (embeddings * 0.0).sum()
}

/// `count` zero losses tied to the embeddings (a zero gradient), where pml returns its zero loss.
fn zero_losses<B: Backend>(embeddings: Tensor<B, 2>, count: usize) -> Tensor<B, 1> {
    // Repeated rather than broadcast: CubeCL does not broadcast a size-1 dimension to size 0.
    zero_loss(embeddings).repeat_dim(0, count)
}

/// A sum whose mean divides by `count` terms, and is 0 (as pml's zero loss) over none.
fn sum_over_terms<B: Backend>(sum: Tensor<B, 1>, count: Tensor<B, 1>) -> LossSum<B> {
    LossSum {
        sum,
        normalizer: Normalizer::weighted(count.clone(), count),
    }
}
