//! `FusedLinearCrossEntropyLoss` against the unfused `CrossEntropyLoss` of `hidden · Wᵀ + b`:
//! values and all three gradients, every option, on every backend. (Its f64 finite differences
//! are in `tests/gradcheck.rs`: Burn 0.21 keeps one default dtype per device, so an f64 NdArray
//! cannot share a test process with an f32 one.)
#![cfg(feature = "autodiff")]

mod common;

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, Int, Tensor};
use burn_losses::*;

#[track_caller]
fn assert_same<B: AutodiffBackend, const D: usize>(
    what: &str,
    fused: Tensor<B::InnerBackend, D>,
    unfused: Tensor<B::InnerBackend, D>,
) {
    let fused: Vec<f32> = fused.into_data().iter::<f32>().collect();
    let unfused: Vec<f32> = unfused.into_data().iter::<f32>().collect();
    for (index, (f, u)) in fused.iter().zip(&unfused).enumerate() {
        assert!(
            (f - u).abs() <= 1e-5 + 1e-4 * u.abs(),
            "{what}[{index}]: fused {f}, unfused {u}"
        );
    }
}

fn fused_matches_unfused<B: AutodiffBackend>(device: &B::Device) {
    let [rows, features, classes] = [13, 8, 37];
    let hidden = Tensor::<B, 2>::random([rows, features], Distribution::Normal(0.0, 1.0), device);
    let projection =
        Tensor::<B, 2>::random([classes, features], Distribution::Normal(0.0, 0.5), device);
    let bias = Tensor::<B, 1>::random([classes], Distribution::Normal(0.0, 0.5), device);
    let mut target_values: Vec<i64> = (0..rows as i64).map(|i| (i * 7) % classes as i64).collect();
    target_values[3] = -100;
    target_values[8] = -100;
    let targets = Tensor::<B, 1, Int>::from_ints(target_values.as_slice(), device);
    let class_weight: Vec<f32> = (0..classes).map(|c| 0.5 + (c % 5) as f32 * 0.3).collect();

    for (weight, smoothing, z_loss) in [
        (None, 0.0, 0.0),
        (Some(class_weight.clone()), 0.1, 0.0),
        (None, 0.0, 1e-2),
        (Some(class_weight), 0.2, 1e-3),
    ] {
        for reduction in [Reduction::Mean, Reduction::Sum, Reduction::BatchMean] {
            for (chunk_size, with_bias) in [(4, true), (13, false), (64, true)] {
                let what = format!(
                    "weight {} smoothing {smoothing} z {z_loss} {reduction:?} chunk {chunk_size} bias {with_bias}",
                    weight.is_some()
                );
                let fused = FusedLinearCrossEntropyLossConfig::new()
                    .with_cross_entropy(
                        CrossEntropyLossConfig::new()
                            .with_weight(weight.clone())
                            .with_label_smoothing(smoothing)
                            .with_z_loss(z_loss)
                            .with_reduction(reduction),
                    )
                    .with_chunk_size(chunk_size)
                    .init::<B>(device);
                let unfused = CrossEntropyLossConfig::new()
                    .with_weight(weight.clone())
                    .with_label_smoothing(smoothing)
                    .with_z_loss(z_loss)
                    .with_reduction(reduction)
                    .init::<B>(device);
                let inputs = || {
                    (
                        hidden.clone().require_grad(),
                        projection.clone().require_grad(),
                        bias.clone().require_grad(),
                    )
                };

                let (h, w, b) = inputs();
                let (fused_value, fused_z) = fused.forward_with_z_loss(
                    h.clone(),
                    w.clone(),
                    with_bias.then(|| b.clone()),
                    targets.clone(),
                );
                let fused_grads = fused_value.clone().backward();

                let (uh, uw, ub) = inputs();
                let mut logits = uh.clone().matmul(uw.clone().transpose());
                if with_bias {
                    logits = logits + ub.clone().unsqueeze();
                }
                let (unfused_value, unfused_z) =
                    unfused.forward_with_z_loss(logits, targets.clone());
                let unfused_grads = unfused_value.clone().backward();

                assert_same::<B, 1>(
                    &format!("{what} value"),
                    fused_value.inner(),
                    unfused_value.inner(),
                );
                assert_same::<B, 1>(
                    &format!("{what} z-loss"),
                    fused_z.inner(),
                    unfused_z.inner(),
                );
                assert_same::<B, 2>(
                    &format!("{what} d/dhidden"),
                    h.grad(&fused_grads).expect(&what),
                    uh.grad(&unfused_grads).unwrap(),
                );
                assert_same::<B, 2>(
                    &format!("{what} d/dprojection"),
                    w.grad(&fused_grads).unwrap(),
                    uw.grad(&unfused_grads).unwrap(),
                );
                if with_bias {
                    assert_same::<B, 1>(
                        &format!("{what} d/dbias"),
                        b.grad(&fused_grads).unwrap(),
                        ub.grad(&unfused_grads).unwrap(),
                    );
                }
            }
        }
    }
}

fn all_targets_ignored_gives_zero<B: AutodiffBackend>(device: &B::Device) {
    let hidden = Tensor::<B, 2>::random([4, 3], Distribution::Default, device).require_grad();
    let projection = Tensor::<B, 2>::random([5, 3], Distribution::Default, device).require_grad();
    let targets = Tensor::<B, 1, Int>::from_ints([-100, -100, -100, -100], device);
    let fused = FusedLinearCrossEntropyLossConfig::new().init::<B>(device);
    let value = fused.forward(hidden.clone(), projection.clone(), None, targets);
    let grads = value.clone().backward();
    assert_eq!(value.into_scalar().elem::<f32>(), 0.0);
    let gradient_max: f32 = hidden
        .grad(&grads)
        .unwrap()
        .abs()
        .max()
        .into_scalar()
        .elem();
    assert_eq!(gradient_max, 0.0);
}

use burn::tensor::ElementConversion;

on_every_backend!(fused_matches_unfused, all_targets_ignored_gives_zero);

mod errors {
    use burn::backend::NdArray;
    use burn::tensor::{Int, Tensor};
    use burn_losses::*;

    type B = NdArray;

    fn loss() -> FusedLinearCrossEntropyLoss<B> {
        FusedLinearCrossEntropyLossConfig::new().init(&Default::default())
    }

    fn zeros<const D: usize>(shape: [usize; D]) -> Tensor<B, D> {
        Tensor::zeros(shape, &Default::default())
    }

    fn targets(values: &[i64]) -> Tensor<B, 1, Int> {
        Tensor::from_ints(values, &Default::default())
    }

    #[test]
    #[should_panic(
        expected = "FusedLinearCrossEntropyLoss: option `chunk_size` expected at least 1, got 0"
    )]
    fn zero_chunk_size() {
        FusedLinearCrossEntropyLossConfig::new()
            .with_chunk_size(0)
            .init::<B>(&Default::default());
    }

    #[test]
    #[should_panic(
        expected = "FusedLinearCrossEntropyLoss: `projection` expected shape [V, 3] (V classes by the 3 features of `hidden`), got [5, 4]"
    )]
    fn feature_mismatch() {
        loss().forward(zeros([2, 3]), zeros([5, 4]), None, targets(&[0, 1]));
    }

    #[test]
    #[should_panic(
        expected = "FusedLinearCrossEntropyLoss: `bias` expected shape [5] (the classes of `projection`), got [4]"
    )]
    fn bias_length() {
        loss().forward(
            zeros([2, 3]),
            zeros([5, 3]),
            Some(zeros([4])),
            targets(&[0, 1]),
        );
    }

    #[test]
    #[should_panic(
        expected = "FusedLinearCrossEntropyLoss: `targets` expected shape [2] (the rows of `hidden`), got [3]"
    )]
    fn target_count() {
        loss().forward(zeros([2, 3]), zeros([5, 3]), None, targets(&[0, 1, 2]));
    }

    #[test]
    #[should_panic(
        expected = "FusedLinearCrossEntropyLoss: `targets` expected class indices in [0, 5) or ignore_index -100, got 5"
    )]
    fn target_out_of_range() {
        loss().forward(zeros([2, 3]), zeros([5, 3]), None, targets(&[0, 5]));
    }

    #[test]
    #[should_panic(
        expected = "CrossEntropyLoss: `weight` expected length 5 (the number of classes, dimension 1 of the input), got length 2"
    )]
    fn weight_length() {
        let loss = FusedLinearCrossEntropyLossConfig::new()
            .with_cross_entropy(CrossEntropyLossConfig::new().with_weight(Some(vec![1.0, 2.0])))
            .init::<B>(&Default::default());
        loss.forward(zeros([2, 3]), zeros([5, 3]), None, targets(&[0, 1]));
    }
}
