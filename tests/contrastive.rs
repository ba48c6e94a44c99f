//! The contrastive losses (NT-Xent, SupCon, CLIP): fixture replay of pytorch-metric-learning 2.9
//! and open_clip 3.3 on every lane, gradients against f64 finite differences, and one table row
//! per error message.
#![cfg(feature = "autodiff")]

mod common;

use burn_losses::*;
use common::replay::{GRADIENT, cases};
use common::{
    Array, F32, Lane, REDUCTIONS, assert_close, assert_scalar, key, load_fixture, number,
};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixture replay
// ---------------------------------------------------------------------------------------------

fn temperature(case: &Value) -> f32 {
    number(&case["options"]["temperature"]) as f32
}

/// The fixture's cases of one loss (at least one).
fn method_cases<'a>(fixture: &'a Value, method: &str) -> Vec<&'a Value> {
    let chosen: Vec<&Value> = cases(fixture)
        .iter()
        .filter(|case| case["method"] == method)
        .collect();
    assert!(!chosen.is_empty(), "no {method} case in the fixture");
    chosen
}

fn nt_xent_config(case: &Value, reduction: Reduction) -> NtXentLossConfig {
    NtXentLossConfig::new()
        .with_temperature(temperature(case))
        .with_reduction(reduction)
}

/// Whether a case's unreduced output is empty (NT-Xent without a positive pair).
fn no_unreduced_losses(case: &Value) -> bool {
    case["expected"]["none"]["shape"][0] == 0
}

fn nt_xent<B: Lane>(device: &B::Device) {
    let fixture = load_fixture("contrastive");
    for case in method_cases(&fixture, "ntxent") {
        if no_unreduced_losses(case) {
            continue; // replayed by `nt_xent_without_positive_pairs`
        }
        let loss = |reduction| nt_xent_config(case, reduction).init::<B>(device);
        replay!(case, device, |x| loss
            .forward(x.float("embeddings"), x.int("labels")));
    }
}

/// `forward_views` of the fixture's two-view batches (labels `[0..N, 0..N]`): the two halves
/// of the embeddings as the views, against pml's value and gradient for every reduction.
fn nt_xent_views<B: Lane>(device: &B::Device) {
    let fixture = load_fixture("contrastive");
    let two_views = |case: &Value| {
        let labels = Array::from_json(&case["inputs"]["labels"]).data;
        let half = labels.len() / 2;
        labels.len().is_multiple_of(2)
            && (0..labels.len()).all(|row| labels[row] == (row % half) as f64)
    };
    let view_cases: Vec<&Value> = method_cases(&fixture, "ntxent")
        .into_iter()
        .filter(|case| two_views(case))
        .collect();
    assert!(!view_cases.is_empty(), "an NT-Xent case of two views");
    for case in view_cases {
        let name = case["name"].as_str().expect("a case name");
        let embeddings = Array::from_json(&case["inputs"]["embeddings"]);
        let half = embeddings.shape[0] / 2;
        for reduction in REDUCTIONS {
            let loss = nt_xent_config(case, reduction).init::<B>(device);
            let rows = embeddings.float::<B, 2>(device);
            let view_a = B::track(rows.clone().slice(0..half));
            let view_b = B::track(rows.slice(half..2 * half));
            let value = loss.forward_views(view_a.clone(), view_b.clone());
            let what = format!("{name} views");
            assert_value_and_gradient::<B>(&what, case, reduction, value, |gradients| {
                let gradient = |view: &burn::tensor::Tensor<B, 2>| {
                    let data = B::grad(view, gradients).expect("a gradient");
                    data.iter::<f64>().collect::<Vec<_>>()
                };
                let both = [gradient(&view_a), gradient(&view_b)].concat();
                burn::tensor::TensorData::new(both, embeddings.shape.clone())
            });
        }
    }
}

/// Checks `value`, the loss of `case` under `reduction`, against PyTorch's, and, but for
/// `BatchMean` (whose gradient the fixture does not record), the gradient of the embeddings that
/// `embeddings_gradient` reads from the backward pass.
fn assert_value_and_gradient<B: Lane>(
    what: &str,
    case: &Value,
    reduction: Reduction,
    value: burn::tensor::Tensor<B, 1>,
    embeddings_gradient: impl FnOnce(&B::Gradients) -> burn::tensor::TensorData,
) {
    let key = key(reduction);
    let expected = number(&case["expected"][key]);
    assert_scalar(&format!("{what} {key}"), value.to_data(), expected, F32);
    if reduction == Reduction::BatchMean {
        return; // no gradient recorded
    }
    if let Some(gradients) = B::backward(value) {
        let expected = Array::from_json(&case["grads"][key]["embeddings"]);
        let actual = embeddings_gradient(&gradients);
        assert_close(&format!("{what} grad[{key}]"), actual, &expected, GRADIENT);
    }
}

/// NT-Xent of a batch without a positive pair: pml's zero loss and zero gradient for every
/// reduction, and no unreduced loss. Apart from the replay, which differentiates the unreduced
/// output too: backward from that empty output (a zero loss repeated 0 times) reaches no input
/// in Burn 0.21, where PyTorch gives a zero gradient.
fn nt_xent_without_positive_pairs<B: Lane>(device: &B::Device) {
    let fixture = load_fixture("contrastive");
    let empty_cases: Vec<&Value> = method_cases(&fixture, "ntxent")
        .into_iter()
        .filter(|case| no_unreduced_losses(case))
        .collect();
    assert!(
        !empty_cases.is_empty(),
        "an NT-Xent case without a positive pair"
    );
    for case in empty_cases {
        let name = case["name"].as_str().expect("a case name");
        let input = |name: &str| Array::from_json(&case["inputs"][name]);
        for reduction in REDUCTIONS {
            let loss = nt_xent_config(case, reduction).init::<B>(device);
            let embeddings = B::track(input("embeddings").float::<B, 2>(device));
            let labels = input("labels").int::<B, 1>(device);
            let value = loss.forward(embeddings.clone(), labels);
            assert_value_and_gradient::<B>(name, case, reduction, value, |gradients| {
                B::grad(&embeddings, gradients).expect("a gradient")
            });
        }
        let loss = nt_xent_config(case, Reduction::Mean).init::<B>(device);
        let none = loss.forward_no_reduction(
            input("embeddings").float::<B, 2>(device),
            input("labels").int::<B, 1>(device),
        );
        assert_eq!(none.dims(), [0], "{name}: one loss per positive pair");
    }
}

fn supcon<B: Lane>(device: &B::Device) {
    let fixture = load_fixture("contrastive");
    for case in method_cases(&fixture, "supcon") {
        let loss = |reduction| {
            SupConLossConfig::new()
                .with_temperature(temperature(case))
                .with_reduction(reduction)
                .init::<B>(device)
        };
        replay!(case, device, |x| loss
            .forward(x.float("embeddings"), x.int("labels")));
    }
}

fn clip<B: Lane>(device: &B::Device) {
    let fixture = load_fixture("contrastive");
    for case in method_cases(&fixture, "clip") {
        let loss = |reduction| {
            ClipLossConfig::new()
                .with_reduction(reduction)
                .init::<B>(device)
        };
        replay!(case, device, |x| loss.forward(
            x.float("image_features"),
            x.float("text_features"),
            x.float("logit_scale")
        ));
    }
}

on_every_backend!(
    nt_xent,
    nt_xent_views,
    nt_xent_without_positive_pairs,
    supcon,
    clip
);
on_every_plain_backend!(
    nt_xent,
    nt_xent_views,
    nt_xent_without_positive_pairs,
    supcon,
    clip
);

/// Every option and degenerate batch the fixture promises is in it (a guard against a
/// generator edit that silently drops a case).
#[test]
fn fixture_covers_the_options() {
    let fixture = load_fixture("contrastive");
    let has = |method: &str, test: &dyn Fn(&Value) -> bool| {
        method_cases(&fixture, method).into_iter().any(test)
    };
    let labels = |case: &Value| -> Vec<i64> {
        case["inputs"]["labels"]["data"]
            .as_array()
            .expect("labels")
            .iter()
            .map(|label| label.as_i64().expect("an integer label"))
            .collect()
    };
    let distinct = |labels: Vec<i64>| {
        let mut sorted = labels.clone();
        sorted.sort_unstable();
        sorted.dedup();
        sorted.len()
    };
    for (method, default_temperature) in [("ntxent", 0.07f32), ("supcon", 0.1)] {
        assert!(has(method, &|c| temperature(c) == default_temperature));
        assert!(has(method, &|c| temperature(c) != default_temperature));
        // One class: no negative pair; every label distinct: no positive pair.
        assert!(has(method, &|c| distinct(labels(c)) == 1));
        assert!(has(method, &|c| distinct(labels(c)) == labels(c).len()));
        // A class of one beside larger classes.
        assert!(has(method, &|c| {
            let labels = labels(c);
            labels
                .iter()
                .any(|label| labels.iter().filter(|other| *other == label).count() == 1)
                && distinct(labels.clone()) < labels.len()
        }));
    }
    let scale = |case: &Value| number(&case["inputs"]["logit_scale"]["data"][0]);
    assert!(has("clip", &|c| (scale(c) - 1.0 / 0.07).abs() < 1e-4));
    assert!(has("clip", &|c| scale(c) == 100.0));
    assert!(has("clip", &|c| c["inputs"]["image_features"]["shape"][0] == 1));
}

// ---------------------------------------------------------------------------------------------
// Finite differences in f64
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod gradients {
    use burn::tensor::{Int, Tensor};
    use burn_losses::*;

    use super::common::F64Autodiff as B;
    use super::common::REDUCTIONS;
    use super::common::gradcheck::{gradcheck, indices, tensor, uniform};

    /// Two views of three samples, classes of several sizes with a class of one, one class,
    /// every label distinct.
    const LABEL_SETS: [&[i64]; 4] = [
        &[0, 1, 2, 0, 1, 2],
        &[4, 4, 7, 7, 7, 1],
        &[3, 3, 3, 3, 3, 3],
        &[0, 1, 2, 3, 4, 5],
    ];
    const SHAPE: [usize; 2] = [6, 3];

    fn labels(values: &[i64]) -> Tensor<B, 1, Int> {
        indices(values, [values.len()])
    }

    /// The number of ordered pairs of distinct rows with one label.
    fn positive_pairs(values: &[i64]) -> usize {
        values
            .iter()
            .map(|a| values.iter().filter(|b| *b == a).count() - 1)
            .sum()
    }

    /// The gradient of the loss `$config` builds (with its `temperature` and `reduction`) at
    /// `embeddings`, for every label set and temperature: `forward` with every reduction, and
    /// `forward_no_reduction` (the default reduction) under the upstream gradient
    /// `upstream(label_set)` where there is one.
    macro_rules! gradcheck_label_sets {
        ($name:literal, $config:ident, $embeddings:expr, $temperatures:expr, $upstream:expr) => {
            let embeddings: &[f64] = $embeddings;
            let upstream = $upstream;
            for label_set in LABEL_SETS {
                for temperature in $temperatures {
                    let config = $config::new().with_temperature(temperature);
                    for reduction in REDUCTIONS {
                        let loss = config
                            .clone()
                            .with_reduction(reduction)
                            .init::<B>(&Default::default());
                        let what = format!("{} {label_set:?} t {temperature} {reduction:?}", $name);
                        gradcheck(&what, embeddings, SHAPE, |x| {
                            loss.forward(x, labels(label_set))
                        });
                    }
                    let Some(upstream) = upstream(label_set) else {
                        continue;
                    };
                    let loss = config.init::<B>(&Default::default());
                    let what = format!("{} {label_set:?} t {temperature} none", $name);
                    gradcheck(&what, embeddings, SHAPE, |x| {
                        (loss.forward_no_reduction(x, labels(label_set)) * upstream.clone()).sum()
                    });
                }
            }
        };
    }

    crate::on_f64! {
        fn nt_xent() {
            // No positive pair: an empty output (see `nt_xent_without_positive_pairs`).
            let upstream = |label_set: &[i64]| {
                let pairs = positive_pairs(label_set);
                (pairs > 0).then(|| tensor(&uniform(pairs, 0.5, 1.5, 61), [pairs]))
            };
            let embeddings = uniform(18, -1.5, 1.5, 60);
            gradcheck_label_sets!("NT-Xent", NtXentLossConfig, &embeddings, [0.07, 0.5, 2.0],
                upstream);
        }

        fn supcon() {
            let upstream = tensor(&uniform(6, 0.5, 1.5, 63), [6]);
            let embeddings = uniform(18, -1.5, 1.5, 62);
            gradcheck_label_sets!("SupCon", SupConLossConfig, &embeddings, [0.1, 0.5, 2.0],
                |_: &[i64]| Some(upstream.clone()));
        }

        fn clip() {
            let shape = [4, 3];
            let images = uniform(12, -1.0, 1.0, 64);
            let texts = uniform(12, -1.0, 1.0, 65);
            let upstream = tensor(&uniform(4, 0.5, 1.5, 66), [4]);
            for scale in [1.0, 1.0 / 0.07, 40.0] {
                let log_scale = [f64::ln(scale)];
                for reduction in REDUCTIONS {
                    let loss = ClipLossConfig::new()
                        .with_reduction(reduction)
                        .init::<B>(&Default::default());
                    let what = format!("CLIP scale {scale} {reduction:?}");
                    let scale = || tensor(&[scale], [1]);
                    gradcheck(&format!("{what} d/dimage"), &images, shape, |x| {
                        loss.forward(x, tensor(&texts, shape), scale())
                    });
                    gradcheck(&format!("{what} d/dtext"), &texts, shape, |y| {
                        loss.forward(tensor(&images, shape), y, scale())
                    });
                    // Through the log-scale a model learns: the gradient passes `exp`.
                    gradcheck(&format!("{what} d/dlog_scale"), &log_scale, [1], |t| {
                        loss.forward(tensor(&images, shape), tensor(&texts, shape), t.exp())
                    });
                }
                let loss = ClipLossConfig::new().init::<B>(&Default::default());
                gradcheck(&format!("CLIP scale {scale} none"), &images, shape, |x| {
                    (loss.forward_no_reduction(x, tensor(&texts, shape), tensor(&[scale], [1]))
                        * upstream.clone())
                    .sum()
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Every bad option and bad call panics with the loss, the argument, the expectation and the value
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod errors {
    use burn_losses::*;

    use super::common::panics::{B, classes, device, floats};

    crate::panic_table! {
        fn contrastive_errors() {
            let nt_xent = || NtXentLossConfig::new().init::<B>(&device());
            let supcon = || SupConLossConfig::new().init::<B>(&device());
            let clip = || ClipLossConfig::new().init::<B>(&device());
            [
                nt_xent_zero_temperature:
                    "NtXentLoss: option `temperature` expected a finite value greater than 0, got 0"
                    => NtXentLossConfig::new().with_temperature(0.0).init::<B>(&device()),
                nt_xent_nan_temperature:
                    "NtXentLoss: option `temperature` expected a finite value greater than 0, got NaN"
                    => NtXentLossConfig::new().with_temperature(f32::NAN).init::<B>(&device()),
                nt_xent_views_shape:
                    "NtXentLoss: `view_b` expected shape [4, 2] (the shape of `view_a`), got [3, 2]"
                    => nt_xent().forward_views(floats([4, 2], 1.0), floats([3, 2], 1.0)),
                nt_xent_labels_shape:
                    "NtXentLoss: `labels` expected shape [4] (one label per row of `embeddings`), got [3]"
                    => nt_xent().forward(floats([4, 2], 1.0), classes(&[0, 1, 0])),
                supcon_negative_temperature:
                    "SupConLoss: option `temperature` expected a finite value greater than 0, got -0.1"
                    => SupConLossConfig::new().with_temperature(-0.1).init::<B>(&device()),
                supcon_infinite_temperature:
                    "SupConLoss: option `temperature` expected a finite value greater than 0, got inf"
                    => SupConLossConfig::new().with_temperature(f32::INFINITY).init::<B>(&device()),
                supcon_labels_shape:
                    "SupConLoss: `labels` expected shape [2] (one label per row of `embeddings`), got [5]"
                    => supcon().forward(floats([2, 3], 1.0), classes(&[0, 1, 0, 1, 2])),
                clip_text_shape:
                    "ClipLoss: `text_features` expected shape [3, 4] (the shape of `image_features`), got [3, 5]"
                    => clip().forward(floats([3, 4], 1.0), floats([3, 5], 1.0), floats([1], 1.0)),
                clip_logit_scale_shape:
                    "ClipLoss: `logit_scale` expected shape [1] (one scale), got [2]"
                    => clip().forward(floats([3, 4], 1.0), floats([3, 4], 1.0), floats([2], 1.0)),
            ]
        }
    }
}
