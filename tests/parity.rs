//! Replays PyTorch's values and gradients (`tests/fixtures/*.json`, written by
//! `tools/gen_fixtures.py`) on every enabled backend, in f32.
#![cfg(feature = "autodiff")]

mod common;

use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use burn_losses::*;
use common::replay::{Replay, Target, all_targets_ignored, cases, input_rank, weight_option};
use common::{Lane, load_fixture, number};
use serde_json::Value;

fn cross_entropy_case<B: Lane, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
    let options = &case["options"];
    let ignore_index = options["ignore_index"].as_i64();
    let config = CrossEntropyLossConfig::new()
        .with_weight(weight_option(&options["weight"]))
        .with_ignore_index(ignore_index)
        .with_label_smoothing(number(&options["label_smoothing"]) as f32)
        .with_z_loss(number(&options["z_loss"]) as f32);
    let probabilities = case["method"] == "probs";
    let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
    let reduced = |reduction, logits, target: Target<B, D, DT>| match (probabilities, target) {
        (true, target) => loss(reduction).forward_probs(logits, target.float()),
        (false, target) => loss(reduction).forward(logits, target.index()),
    };
    let unreduced = |logits, target: Target<B, D, DT>| match (probabilities, target) {
        (true, target) => {
            loss(Reduction::Mean).forward_probs_no_reduction::<D, DT>(logits, target.float())
        }
        (false, target) => loss(Reduction::Mean).forward_no_reduction(logits, target.index()),
    };
    Replay {
        case,
        device,
        mean_over_nothing: !probabilities && all_targets_ignored(case, ignore_index),
        reduced: &reduced,
        unreduced: &unreduced,
    }
    .run();
}

fn cross_entropy<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("cross_entropy")) {
        match input_rank(case) {
            2 => cross_entropy_case::<B, 2, 1>(case, device),
            3 => cross_entropy_case::<B, 3, 2>(case, device),
            4 => cross_entropy_case::<B, 4, 3>(case, device),
            5 => cross_entropy_case::<B, 5, 4>(case, device),
            rank => panic!("no cross entropy replay for rank {rank}"),
        }
    }
}

fn nll_case<B: Lane, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
    let options = &case["options"];
    let ignore_index = options["ignore_index"].as_i64();
    let config = NllLossConfig::new()
        .with_weight(weight_option(&options["weight"]))
        .with_ignore_index(ignore_index);
    let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
    Replay {
        case,
        device,
        mean_over_nothing: all_targets_ignored(case, ignore_index),
        reduced: &|reduction, input, target: Target<B, D, DT>| {
            loss(reduction).forward(input, target.index())
        },
        unreduced: &|input, target: Target<B, D, DT>| {
            loss(Reduction::Mean).forward_no_reduction(input, target.index())
        },
    }
    .run();
}

fn nll<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("nll")) {
        match input_rank(case) {
            2 => nll_case::<B, 2, 1>(case, device),
            3 => nll_case::<B, 3, 2>(case, device),
            4 => nll_case::<B, 4, 3>(case, device),
            5 => nll_case::<B, 5, 4>(case, device),
            rank => panic!("no NLL replay for rank {rank}"),
        }
    }
}

elementwise_parity!(binary_cross_entropy, "bce", |options, reduction, device| {
    BinaryCrossEntropyLossConfig::new()
        .with_weight(weight_option(&options["weight"]))
        .with_reduction(reduction)
        .init::<B>(device)
});

elementwise_parity!(
    binary_cross_entropy_with_logits,
    "bce_with_logits",
    |options, reduction, device| {
        BinaryCrossEntropyWithLogitsLossConfig::new()
            .with_weight(weight_option(&options["weight"]))
            .with_pos_weight(weight_option(&options["pos_weight"]))
            .with_reduction(reduction)
            .init::<B>(device)
    }
);

elementwise_parity!(kl_div, "kl_div", |options, reduction, device| {
    KlDivLossConfig::new()
        .with_log_target(options["log_target"].as_bool().expect("log_target"))
        .with_reduction(reduction)
        .init::<B>(device)
});

/// Infinite logits, measured in PyTorch 2.15 (no fixture: JSON has no infinities). PyTorch's
/// values there are NaN (`0 · inf`) and its target gradients ±inf; ours are the same values,
/// PyTorch's logit gradients, and target gradients of 0 where PyTorch's are infinite (a
/// deliberate difference, README): an infinite gradient would turn the update into NaN.
fn binary_cross_entropy_with_logits_at_infinite_logits<B: AutodiffBackend>(device: &B::Device) {
    let logits =
        Tensor::<B, 1>::from_floats([f32::INFINITY, f32::NEG_INFINITY, 2.0], device).require_grad();
    let targets = Tensor::<B, 1>::from_floats([1.0, 0.0, 0.5], device).require_grad();
    let to_vec =
        |tensor: Tensor<B::InnerBackend, 1>| -> Vec<f32> { tensor.into_data().to_vec().unwrap() };
    // (pos_weight, PyTorch's last value, its last logit gradient, its last target gradient)
    for (pos_weight, value, logit_gradient, target_gradient) in [
        (None, 1.1269, 0.3808, -2.0),
        (Some(vec![3.0]), 1.2539, 0.2616, -1.7461),
    ] {
        let loss = BinaryCrossEntropyWithLogitsLossConfig::new()
            .with_pos_weight(pos_weight)
            .init::<B>(device);
        let values = loss.forward_no_reduction(logits.clone(), targets.clone());
        let gradients = values.clone().sum().backward();
        let values = to_vec(values.inner());
        assert!(values[0].is_nan() && values[1].is_nan(), "{values:?}");
        assert!((values[2] - value).abs() < 1e-4, "{values:?}");
        let logits_grad = to_vec(logits.grad(&gradients).unwrap());
        assert_eq!(logits_grad[..2], [0.0, 0.0]);
        assert!(
            (logits_grad[2] - logit_gradient).abs() < 1e-4,
            "{logits_grad:?}"
        );
        let targets_grad = to_vec(targets.grad(&gradients).unwrap());
        assert_eq!(targets_grad[..2], [0.0, 0.0]);
        assert!(
            (targets_grad[2] - target_gradient).abs() < 1e-4,
            "{targets_grad:?}"
        );
    }
}

on_every_backend!(
    cross_entropy,
    nll,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_at_infinite_logits,
    kl_div
);

on_every_plain_backend!(
    cross_entropy,
    nll,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    kl_div
);
