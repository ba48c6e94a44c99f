//! Multi-label metrics, computed from scores (higher means more likely) and 0/1 labels.

use serde::Serialize;

/// The validation metrics of one model.
#[derive(Clone, Debug, Serialize)]
pub struct Metrics {
    /// Mean over labels (those with a positive sample) of the average precision of the ranking
    /// of the samples by score: threshold-free, and the headline figure for imbalanced labels.
    pub macro_map: f64,
    /// F1 over every (sample, label) decision pooled: dominated by the frequent labels.
    pub micro_f1: f64,
    /// Mean over labels of each label's F1: every label counts the same, rare ones included.
    pub macro_f1: f64,
    /// Share of wrong (sample, label) decisions.
    pub hamming_loss: f64,
    /// Share of samples whose whole label set is right.
    pub subset_accuracy: f64,
}

/// Evaluates `scores` (row-major, `num_labels` per sample) against `labels`, deciding a label is
/// present where its score exceeds `threshold`.
pub fn evaluate(scores: &[f32], labels: &[f32], num_labels: usize, threshold: f32) -> Metrics {
    let samples = labels.len() / num_labels;
    let predicted: Vec<bool> = scores.iter().map(|s| *s > threshold).collect();
    let actual: Vec<bool> = labels.iter().map(|l| *l > 0.5).collect();

    let mut per_label_f1 = Vec::with_capacity(num_labels);
    let mut average_precisions = Vec::new();
    let (mut true_positives, mut false_positives, mut false_negatives) = (0usize, 0usize, 0usize);
    for label in 0..num_labels {
        let column = |values: &[bool]| -> Vec<bool> {
            values
                .iter()
                .skip(label)
                .step_by(num_labels)
                .copied()
                .collect()
        };
        let (predicted, actual) = (column(&predicted), column(&actual));
        let tp = predicted
            .iter()
            .zip(&actual)
            .filter(|(p, a)| **p && **a)
            .count();
        let fp = predicted
            .iter()
            .zip(&actual)
            .filter(|(p, a)| **p && !**a)
            .count();
        let fn_ = predicted
            .iter()
            .zip(&actual)
            .filter(|(p, a)| !**p && **a)
            .count();
        true_positives += tp;
        false_positives += fp;
        false_negatives += fn_;
        per_label_f1.push(f1(tp, fp, fn_));
        let label_scores: Vec<f32> = scores
            .iter()
            .skip(label)
            .step_by(num_labels)
            .copied()
            .collect();
        if let Some(ap) = average_precision(&label_scores, &actual) {
            average_precisions.push(ap);
        }
    }
    let wrong = predicted
        .iter()
        .zip(&actual)
        .filter(|(p, a)| p != a)
        .count();
    let exact = predicted
        .chunks(num_labels)
        .zip(actual.chunks(num_labels))
        .filter(|(p, a)| p == a)
        .count();
    Metrics {
        macro_map: mean(&average_precisions),
        micro_f1: f1(true_positives, false_positives, false_negatives),
        macro_f1: mean(&per_label_f1),
        hamming_loss: wrong as f64 / labels.len() as f64,
        subset_accuracy: exact as f64 / samples as f64,
    }
}

/// `2 tp / (2 tp + fp + fn)`, and 0 where there is nothing to find and nothing found.
fn f1(tp: usize, fp: usize, fn_: usize) -> f64 {
    let denominator = 2 * tp + fp + fn_;
    if denominator == 0 {
        0.0
    } else {
        2.0 * tp as f64 / denominator as f64
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// The average precision of ranking by `scores` (as scikit-learn's
/// `average_precision_score`: `Σ_k (R_k - R_{k-1}) P_k` over distinct score thresholds, so tied
/// scores are one threshold). `None` where no sample is positive.
pub fn average_precision(scores: &[f32], actual: &[bool]) -> Option<f64> {
    let positives = actual.iter().filter(|a| **a).count();
    if positives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut true_positives, mut seen, mut ap) = (0usize, 0usize, 0.0f64);
    let mut index = 0;
    while index < order.len() {
        let threshold = scores[order[index]];
        let mut new_positives = 0;
        while index < order.len() && scores[order[index]] == threshold {
            new_positives += actual[order[index]] as usize;
            seen += 1;
            index += 1;
        }
        true_positives += new_positives;
        ap += new_positives as f64 / positives as f64 * (true_positives as f64 / seen as f64);
    }
    Some(ap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_precision_matches_scikit_learn() {
        // sklearn.metrics.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.8333
        let ap = average_precision(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
        assert!((ap - 0.833_333_3).abs() < 1e-6, "{ap}");
        // A constant score ranks nothing: its AP is the prevalence.
        let ap = average_precision(&[0.5; 4], &[true, false, false, false]).unwrap();
        assert!((ap - 0.25).abs() < 1e-12, "{ap}");
    }

    #[test]
    fn perfect_predictions_score_one() {
        let labels = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let scores = [0.9, 0.1, 0.2, 0.8, 0.7, 0.6];
        let metrics = evaluate(&scores, &labels, 2, 0.5);
        assert_eq!(metrics.macro_map, 1.0);
        assert_eq!(metrics.micro_f1, 1.0);
        assert_eq!(metrics.macro_f1, 1.0);
        assert_eq!(metrics.hamming_loss, 0.0);
        assert_eq!(metrics.subset_accuracy, 1.0);
    }
}
