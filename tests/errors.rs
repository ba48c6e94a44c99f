//! Every bad option and bad call panics with a message naming the loss, the argument, what was
//! expected and what was given.

use burn::backend::NdArray;
use burn::tensor::{Int, Tensor};
use burn_losses::*;

type B = NdArray;

fn floats<const D: usize>(shape: [usize; D], value: f32) -> Tensor<B, D> {
    Tensor::full(shape, value, &Default::default())
}

fn classes(values: &[i64]) -> Tensor<B, 1, Int> {
    Tensor::from_ints(values, &Default::default())
}

fn cross_entropy() -> CrossEntropyLoss<B> {
    CrossEntropyLossConfig::new().init(&Default::default())
}

mod cross_entropy {
    use super::*;

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: option `label_smoothing` expected a value in [0, 1], got 1.5"
    )]
    fn label_smoothing_above_one() {
        CrossEntropyLossConfig::new()
            .with_label_smoothing(1.5)
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: option `label_smoothing` expected a value in [0, 1], got -0.1"
    )]
    fn negative_label_smoothing() {
        CrossEntropyLossConfig::new()
            .with_label_smoothing(-0.1)
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: option `z_loss` expected a finite value >= 0, got -0.001"
    )]
    fn negative_z_loss() {
        CrossEntropyLossConfig::new()
            .with_z_loss(-1e-3)
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: option `weight` expected a non-empty list, got an empty list"
    )]
    fn empty_weight() {
        CrossEntropyLossConfig::new()
            .with_weight(Some(vec![]))
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: option `weight` expected finite, non-negative values, got -1"
    )]
    fn negative_weight() {
        CrossEntropyLossConfig::new()
            .with_weight(Some(vec![1.0, -1.0]))
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: `targets` expected rank 1 (the rank of `logits` minus the class dimension), got rank 2"
    )]
    fn target_rank_not_input_rank_minus_one() {
        let targets = Tensor::<B, 2, Int>::zeros([4, 3], &Default::default());
        cross_entropy().forward(floats([4, 3], 0.0), targets);
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: `logits` expected rank >= 2: (N, C) or (N, C, d1, ..., dk), got rank 1 with shape [3]"
    )]
    fn logits_without_class_dimension() {
        cross_entropy().forward_probs(floats([3], 0.0), floats([3], 0.5));
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: `targets` expected shape [4] (`logits` [4, 3] without the class dimension), got [3]"
    )]
    fn batch_size_mismatch() {
        cross_entropy().forward(floats([4, 3], 0.0), classes(&[0, 1, 2]));
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: `targets` expected shape [2, 5] (`logits` [2, 3, 5] without the class dimension), got [2, 4]"
    )]
    fn spatial_mismatch() {
        let targets = Tensor::<B, 2, Int>::zeros([2, 4], &Default::default());
        cross_entropy().forward(floats([2, 3, 5], 0.0), targets);
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: `weight` expected length 3 (the number of classes, dimension 1 of the input), got length 2"
    )]
    fn weight_length_not_class_count() {
        let loss = CrossEntropyLossConfig::new()
            .with_weight(Some(vec![1.0, 2.0]))
            .init::<B>(&Default::default());
        loss.forward(floats([2, 3], 0.0), classes(&[0, 1]));
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: `weight` expected length 3 (the number of classes, dimension 1 of the input), got length 2"
    )]
    fn weight_length_not_class_count_with_probabilities() {
        let loss = CrossEntropyLossConfig::new()
            .with_weight(Some(vec![1.0, 2.0]))
            .init::<B>(&Default::default());
        loss.forward_probs(floats([2, 3], 0.0), floats([2, 3], 0.5));
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: `targets` expected class indices in [0, 3) or ignore_index -100, got 3"
    )]
    fn class_index_too_large() {
        cross_entropy().forward(floats([2, 3], 0.0), classes(&[0, 3]));
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: `targets` expected class indices in [0, 3) or ignore_index -100, got -1"
    )]
    fn negative_class_index() {
        cross_entropy().forward(floats([2, 3], 0.0), classes(&[-1, 2]));
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: `targets` expected class indices in [0, 3), got -100"
    )]
    fn no_ignore_index_checks_every_target() {
        let loss = CrossEntropyLossConfig::new()
            .with_ignore_index(None)
            .init::<B>(&Default::default());
        loss.forward(floats([2, 3], 0.0), classes(&[-100, 2]));
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: `probs` expected shape [2, 3] (the shape of `logits`), got [2, 4]"
    )]
    fn probability_shape_mismatch() {
        cross_entropy().forward_probs(floats([2, 3], 0.0), floats([2, 4], 0.25));
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: `ignore_index` expected None or a negative value with probability targets, got 1"
    )]
    fn ignore_index_with_probabilities() {
        let loss = CrossEntropyLossConfig::new()
            .with_ignore_index(Some(1))
            .init::<B>(&Default::default());
        loss.forward_probs(floats([2, 3], 0.0), floats([2, 3], 0.5));
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: `output rank DT` expected 1 (the input rank 2 minus the class dimension), got 2"
    )]
    fn probability_output_rank() {
        cross_entropy()
            .forward_probs_no_reduction::<2, 2>(floats([2, 3], 0.0), floats([2, 3], 0.5));
    }
}

mod nll {
    use super::*;

    fn nll() -> NllLoss<B> {
        NllLossConfig::new().init(&Default::default())
    }

    #[test]
    #[should_panic(
        expected = "NllLoss: option `weight` expected finite, non-negative values, got NaN"
    )]
    fn nan_weight() {
        NllLossConfig::new()
            .with_weight(Some(vec![f32::NAN]))
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "NllLoss: `targets` expected class indices in [0, 3) or ignore_index -100, got 7"
    )]
    fn class_index_out_of_range() {
        nll().forward(floats([2, 3], -1.0), classes(&[7, 0]));
    }

    #[test]
    #[should_panic(
        expected = "NllLoss: `targets` expected shape [2] (`log_probs` [2, 3] without the class dimension), got [3]"
    )]
    fn batch_size_mismatch() {
        nll().forward(floats([2, 3], -1.0), classes(&[0, 1, 2]));
    }

    #[test]
    #[should_panic(
        expected = "NllLoss: `targets` expected rank 2 (the rank of `log_probs` minus the class dimension), got rank 1"
    )]
    fn target_rank() {
        nll().forward_no_reduction(floats([2, 3, 4], -1.0), classes(&[0, 1]));
    }

    #[test]
    #[should_panic(
        expected = "NllLoss: `weight` expected length 3 (the number of classes, dimension 1 of the input), got length 4"
    )]
    fn weight_length() {
        let loss = NllLossConfig::new()
            .with_weight(Some(vec![1.0; 4]))
            .init::<B>(&Default::default());
        loss.forward(floats([2, 3], -1.0), classes(&[0, 1]));
    }
}

mod binary_cross_entropy {
    use super::*;

    fn bce() -> BinaryCrossEntropyLoss<B> {
        BinaryCrossEntropyLossConfig::new().init(&Default::default())
    }

    #[test]
    #[should_panic(
        expected = "BinaryCrossEntropyLoss: option `weight` expected a non-empty list, got an empty list"
    )]
    fn empty_weight() {
        BinaryCrossEntropyLossConfig::new()
            .with_weight(Some(vec![]))
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "BinaryCrossEntropyLoss: `targets` expected shape [2, 3] (the shape of `probs`), got [2, 4]"
    )]
    fn shape_mismatch() {
        bce().forward(floats([2, 3], 0.5), floats([2, 4], 1.0));
    }

    #[test]
    #[should_panic(expected = "BinaryCrossEntropyLoss: `probs` expected values in [0, 1], got 1.5")]
    fn probability_above_one() {
        bce().forward(floats([2, 3], 1.5), floats([2, 3], 1.0));
    }

    #[test]
    #[should_panic(expected = "BinaryCrossEntropyLoss: `probs` expected values in [0, 1], got NaN")]
    fn nan_probability() {
        bce().forward(floats([2, 3], f32::NAN), floats([2, 3], 1.0));
    }

    #[test]
    #[should_panic(
        expected = "BinaryCrossEntropyLoss: `targets` expected values in [0, 1], got -0.5"
    )]
    fn negative_target() {
        bce().forward(floats([2, 3], 0.5), floats([2, 3], -0.5));
    }

    #[test]
    #[should_panic(
        expected = "BinaryCrossEntropyLoss: `weight` expected length 3 (the last dimension of the input) or 1, got length 2"
    )]
    fn weight_length() {
        let loss = BinaryCrossEntropyLossConfig::new()
            .with_weight(Some(vec![1.0, 2.0]))
            .init::<B>(&Default::default());
        loss.forward(floats([2, 3], 0.5), floats([2, 3], 1.0));
    }
}

mod binary_cross_entropy_with_logits {
    use super::*;

    #[test]
    #[should_panic(
        expected = "BinaryCrossEntropyWithLogitsLoss: option `pos_weight` expected finite, non-negative values, got -2"
    )]
    fn negative_pos_weight() {
        BinaryCrossEntropyWithLogitsLossConfig::new()
            .with_pos_weight(Some(vec![-2.0]))
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "BinaryCrossEntropyWithLogitsLoss: `targets` expected shape [4] (the shape of `logits`), got [3]"
    )]
    fn shape_mismatch() {
        let loss = BinaryCrossEntropyWithLogitsLossConfig::new().init::<B>(&Default::default());
        loss.forward(floats([4], 0.5), floats([3], 1.0));
    }

    #[test]
    #[should_panic(
        expected = "BinaryCrossEntropyWithLogitsLoss: `pos_weight` expected length 3 (the last dimension of the input) or 1, got length 2"
    )]
    fn pos_weight_length() {
        let loss = BinaryCrossEntropyWithLogitsLossConfig::new()
            .with_pos_weight(Some(vec![1.0, 2.0]))
            .init::<B>(&Default::default());
        loss.forward(floats([2, 3], 0.5), floats([2, 3], 1.0));
    }

    #[test]
    #[should_panic(
        expected = "BinaryCrossEntropyWithLogitsLoss: `weight` expected length 3 (the last dimension of the input) or 1, got length 4"
    )]
    fn weight_length() {
        let loss = BinaryCrossEntropyWithLogitsLossConfig::new()
            .with_weight(Some(vec![1.0; 4]))
            .init::<B>(&Default::default());
        loss.forward(floats([2, 3], 0.5), floats([2, 3], 1.0));
    }
}

mod kl_div {
    use super::*;

    #[test]
    #[should_panic(
        expected = "KlDivLoss: `targets` expected shape [2, 3] (the shape of `input`), got [3, 2]"
    )]
    fn shape_mismatch() {
        let loss = KlDivLossConfig::new().init::<B>(&Default::default());
        loss.forward_no_reduction(floats([2, 3], -1.0), floats([3, 2], 0.5));
    }
}
