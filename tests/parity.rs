//! Replays PyTorch's values and gradients (`tests/fixtures/*.json`, written by
//! `tools/gen_fixtures.py`) on every enabled backend, in f32.
#![cfg(feature = "autodiff")]

mod common;

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor};
use burn_losses::*;
use common::{Array, F32, Tolerance, assert_close, assert_scalar, load_fixture, number};
use serde_json::Value;

/// Gradients are compared with a tighter absolute floor than values: a mean's gradient is
/// ~1/N per element.
const GRADIENT: Tolerance = Tolerance {
    relative: 1e-4,
    absolute: 1e-6,
};

const REDUCTIONS: [(Reduction, &str); 3] = [
    (Reduction::Mean, "mean"),
    (Reduction::Sum, "sum"),
    (Reduction::BatchMean, "batchmean"),
];

/// A case's target, as the loss takes it.
#[derive(Clone)]
enum Target<B: AutodiffBackend, const D: usize, const DT: usize> {
    Index(Tensor<B, DT, Int>),
    Float(Tensor<B, D>),
}

impl<B: AutodiffBackend, const D: usize, const DT: usize> Target<B, D, DT> {
    fn index(self) -> Tensor<B, DT, Int> {
        match self {
            Target::Index(target) => target,
            Target::Float(_) => unreachable!("a class-index case"),
        }
    }

    fn float(self) -> Tensor<B, D> {
        match self {
            Target::Float(target) => target,
            Target::Index(_) => unreachable!("a float-target case"),
        }
    }
}

/// How a loss is called by a fixture case.
struct Replay<'a, B: AutodiffBackend, const D: usize, const DT: usize, const DO: usize> {
    case: &'a Value,
    device: &'a B::Device,
    /// `Mean` where PyTorch records NaN but our contract says 0 (every target ignored).
    mean_over_nothing: bool,
    reduced: &'a dyn Fn(Reduction, Tensor<B, D>, Target<B, D, DT>) -> Tensor<B, 1>,
    unreduced: &'a dyn Fn(Tensor<B, D>, Target<B, D, DT>) -> Tensor<B, DO>,
}

impl<B: AutodiffBackend, const D: usize, const DT: usize, const DO: usize>
    Replay<'_, B, D, DT, DO>
{
    fn name(&self) -> &str {
        self.case["name"].as_str().expect("a case name")
    }

    fn inputs(&self) -> (Tensor<B, D>, Target<B, D, DT>) {
        let input = Array::from_json(&self.case["inputs"]["input"])
            .float(self.device)
            .require_grad();
        let target = Array::from_json(&self.case["inputs"]["target"]);
        let target = if target.rank() == DT && DT != D {
            Target::Index(target.int(self.device))
        } else {
            Target::Float(target.float(self.device).require_grad())
        };
        (input, target)
    }

    fn check_gradients(
        &self,
        what: &str,
        input: &Tensor<B, D>,
        target: &Target<B, D, DT>,
        grads: &B::Gradients,
    ) {
        let name = self.name();
        let expected = &self.case["grads"][what];
        let input_grad = input.grad(grads).expect("the input has a gradient");
        let expected_input = Array::from_json(&expected["input"]);
        assert_close(
            &format!("{name} grad[{what}] input"),
            input_grad.into_data(),
            &expected_input,
            GRADIENT,
        );
        if let (Target::Float(target), Some(expected_target)) = (target, expected.get("target")) {
            let mut expected_target = Array::from_json(expected_target);
            // Documented difference: where PyTorch's target gradient is infinite or NaN (a
            // probability of exactly 0 or 1), ours is 0.
            for value in &mut expected_target.data {
                if !value.is_finite() {
                    *value = 0.0;
                }
            }
            let target_grad = target.grad(grads).expect("the target has a gradient");
            assert_close(
                &format!("{name} grad[{what}] target"),
                target_grad.into_data(),
                &expected_target,
                GRADIENT,
            );
        }
    }

    fn run(&self) {
        let name = self.name();
        for (reduction, key) in REDUCTIONS {
            let (input, target) = self.inputs();
            let value = (self.reduced)(reduction, input.clone(), target.clone());
            let mut expected = number(&self.case["expected"][key]);
            if reduction == Reduction::Mean && self.mean_over_nothing {
                assert!(
                    expected.is_nan(),
                    "{name}: PyTorch's mean over no target is NaN"
                );
                expected = 0.0;
            }
            assert_scalar(&format!("{name} {key}"), value.to_data(), expected, F32);
            if reduction != Reduction::BatchMean {
                let grads = value.backward();
                self.check_gradients(key, &input, &target, &grads);
            }
        }

        let (input, target) = self.inputs();
        let losses = (self.unreduced)(input.clone(), target.clone());
        let expected = Array::from_json(&self.case["expected"]["none"]);
        assert_close(&format!("{name} none"), losses.to_data(), &expected, F32);
        let upstream: Tensor<B, DO> = Array::from_json(&self.case["upstream"]).float(self.device);
        let grads = (losses * upstream).sum().backward();
        self.check_gradients("none", &input, &target, &grads);
    }
}

fn weight_option(value: &Value) -> Option<Vec<f32>> {
    value
        .as_array()
        .map(|weights| weights.iter().map(|w| number(w) as f32).collect())
}

fn cases(fixture: &Value) -> &Vec<Value> {
    let cases = fixture["cases"].as_array().expect("a fixture has cases");
    assert!(!cases.is_empty(), "a fixture has at least one case");
    cases
}

fn input_rank(case: &Value) -> usize {
    Array::from_json(&case["inputs"]["input"]).rank()
}

fn all_targets_ignored(case: &Value, ignore_index: Option<i64>) -> bool {
    let target = Array::from_json(&case["inputs"]["target"]);
    ignore_index.is_some_and(|ignored| target.data.iter().all(|t| *t as i64 == ignored))
}

fn cross_entropy_case<B: AutodiffBackend, const D: usize, const DT: usize>(
    case: &Value,
    device: &B::Device,
) {
    let options = &case["options"];
    let ignore_index = options["ignore_index"].as_i64();
    let config = CrossEntropyLossConfig::new()
        .with_weight(weight_option(&options["weight"]))
        .with_ignore_index(ignore_index)
        .with_label_smoothing(number(&options["label_smoothing"]) as f32);
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

fn cross_entropy<B: AutodiffBackend>(device: &B::Device) {
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

fn nll_case<B: AutodiffBackend, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
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

fn nll<B: AutodiffBackend>(device: &B::Device) {
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

/// Replays an element-wise loss (input, float target, output of the input's shape) at every
/// rank its fixture uses.
macro_rules! elementwise_parity {
    ($test:ident, $fixture:literal, |$options:ident, $reduction:ident, $device:ident| $init:expr) => {
        fn $test<B: AutodiffBackend>(device: &B::Device) {
            fn case_at_rank<B: AutodiffBackend, const D: usize>(case: &Value, device: &B::Device) {
                let loss = |$reduction: Reduction| {
                    let $options = &case["options"];
                    let $device = device;
                    $init
                };
                Replay::<B, D, D, D> {
                    case,
                    device,
                    mean_over_nothing: false,
                    reduced: &|reduction, input, target| {
                        loss(reduction).forward(input, target.float())
                    },
                    unreduced: &|input, target| {
                        loss(Reduction::Mean).forward_no_reduction(input, target.float())
                    },
                }
                .run();
            }
            for case in cases(&load_fixture($fixture)) {
                match input_rank(case) {
                    1 => case_at_rank::<B, 1>(case, device),
                    2 => case_at_rank::<B, 2>(case, device),
                    3 => case_at_rank::<B, 3>(case, device),
                    4 => case_at_rank::<B, 4>(case, device),
                    rank => panic!("no replay for rank {rank}"),
                }
            }
        }
    };
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

on_every_backend!(
    cross_entropy,
    nll,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    kl_div
);
