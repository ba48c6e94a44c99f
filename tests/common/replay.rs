//! The fixture replay driver: runs one PyTorch case (every reduction, the unreduced output, and
//! the gradients of each) against a loss, on a [`Lane`]: with autodiff, once with tracked inputs
//! (values and gradients) and once with untracked ones (values), without autodiff once (values).

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};
use burn_losses::Reduction;
use serde_json::Value;

use super::{Array, F32, Lane, Tolerance, assert_close, assert_scalar, number};

/// Gradients are compared with a tighter absolute floor than values: a mean's gradient is
/// ~1/N per element.
pub const GRADIENT: Tolerance = Tolerance {
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
pub enum Target<B: Backend, const D: usize, const DT: usize> {
    Index(Tensor<B, DT, Int>),
    Float(Tensor<B, D>),
}

impl<B: Backend, const D: usize, const DT: usize> Target<B, D, DT> {
    pub fn index(self) -> Tensor<B, DT, Int> {
        match self {
            Target::Index(target) => target,
            Target::Float(_) => unreachable!("a class-index case"),
        }
    }

    pub fn float(self) -> Tensor<B, D> {
        match self {
            Target::Float(target) => target,
            Target::Index(_) => unreachable!("a float-target case"),
        }
    }
}

/// How a loss is called by a fixture case.
pub struct Replay<'a, B: Lane, const D: usize, const DT: usize, const DO: usize> {
    pub case: &'a Value,
    pub device: &'a B::Device,
    /// `Mean` where PyTorch records NaN but our contract says 0 (every target ignored).
    pub mean_over_nothing: bool,
    pub reduced: &'a dyn Fn(Reduction, Tensor<B, D>, Target<B, D, DT>) -> Tensor<B, 1>,
    pub unreduced: &'a dyn Fn(Tensor<B, D>, Target<B, D, DT>) -> Tensor<B, DO>,
}

impl<B: Lane, const D: usize, const DT: usize, const DO: usize> Replay<'_, B, D, DT, DO> {
    fn name(&self) -> &str {
        self.case["name"].as_str().expect("a case name")
    }

    /// The case's input and target, tracked for differentiation when `track` is set.
    fn inputs(&self, track: bool) -> (Tensor<B, D>, Target<B, D, DT>) {
        let input = B::track_if(
            track,
            Array::from_json(&self.case["inputs"]["input"]).float(self.device),
        );
        let target = Array::from_json(&self.case["inputs"]["target"]);
        let target = if target.rank() == DT && DT != D {
            Target::Index(target.int(self.device))
        } else {
            Target::Float(B::track_if(track, target.float(self.device)))
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
        let input_grad = B::grad(input, grads).expect("the input has a gradient");
        let expected_input = Array::from_json(&expected["input"]);
        assert_close(
            &format!("{name} grad[{what}] input"),
            input_grad,
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
            let target_grad = B::grad(target, grads).expect("the target has a gradient");
            assert_close(
                &format!("{name} grad[{what}] target"),
                target_grad,
                &expected_target,
                GRADIENT,
            );
        }
    }

    /// Replays the case: on an autodiff lane with tracked inputs (values and gradients), then
    /// with untracked ones (values: a loss may take another path when no gradient is needed);
    /// elsewhere values only.
    pub fn run(&self) {
        for &track in B::PASSES {
            self.pass(track);
        }
    }

    fn pass(&self, track: bool) {
        let name = &format!("{}{}", self.name(), if track { "" } else { " (untracked)" });
        for (reduction, key) in REDUCTIONS {
            let (input, target) = self.inputs(track);
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
            if track
                && reduction != Reduction::BatchMean
                && let Some(grads) = B::backward(value)
            {
                self.check_gradients(key, &input, &target, &grads);
            }
        }

        let (input, target) = self.inputs(track);
        let losses = (self.unreduced)(input.clone(), target.clone());
        let expected = Array::from_json(&self.case["expected"]["none"]);
        assert_close(&format!("{name} none"), losses.to_data(), &expected, F32);
        if !track {
            return;
        }
        let upstream: Tensor<B, DO> = Array::from_json(&self.case["upstream"]).float(self.device);
        if let Some(grads) = B::backward((losses * upstream).sum()) {
            self.check_gradients("none", &input, &target, &grads);
        }
    }
}

pub fn weight_option(value: &Value) -> Option<Vec<f32>> {
    value
        .as_array()
        .map(|weights| weights.iter().map(|w| number(w) as f32).collect())
}

pub fn cases(fixture: &Value) -> &Vec<Value> {
    let cases = fixture["cases"].as_array().expect("a fixture has cases");
    assert!(!cases.is_empty(), "a fixture has at least one case");
    cases
}

pub fn input_rank(case: &Value) -> usize {
    Array::from_json(&case["inputs"]["input"]).rank()
}

pub fn all_targets_ignored(case: &Value, ignore_index: Option<i64>) -> bool {
    let target = Array::from_json(&case["inputs"]["target"]);
    ignore_index.is_some_and(|ignored| target.data.iter().all(|t| *t as i64 == ignored))
}

/// Replays an element-wise loss (input, float target, output of the input's shape) at every
/// rank its fixture uses.
#[macro_export]
macro_rules! elementwise_parity {
    ($test:ident, $fixture:literal, |$options:ident, $reduction:ident, $device:ident| $init:expr) => {
        fn $test<B: $crate::common::Lane>(device: &B::Device) {
            fn case_at_rank<B: $crate::common::Lane, const D: usize>(
                case: &serde_json::Value,
                device: &B::Device,
            ) {
                let loss = |$reduction: burn_losses::Reduction| {
                    let $options = &case["options"];
                    let $device = device;
                    $init
                };
                $crate::common::replay::Replay::<B, D, D, D> {
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
            for case in $crate::common::replay::cases(&$crate::common::load_fixture($fixture)) {
                match $crate::common::replay::input_rank(case) {
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
