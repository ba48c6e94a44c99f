//! The fixture replay, one for every family: runs a PyTorch case (every reduction, the unreduced
//! output, and the gradients of each) against a loss on a [`Lane`]: with autodiff once with
//! tracked inputs (values and gradients) and once with untracked ones (values: a loss may take
//! another path when no gradient is needed), without autodiff once (values).
//!
//! A loss call reads the case's tensors by their PyTorch argument names through [`Inputs`]
//! (`x.float::<2>("input1")`, `x.int::<1>("target")`); [`replay!`](crate::replay) turns one
//! such call into the reduced and the unreduced replay,
//! [`replay_fixture!`](crate::replay_fixture) writes the test that replays every case of a
//! fixture at its rank, and [`elementwise_parity!`](crate::elementwise_parity) does the whole
//! test of an element-wise loss.

use std::cell::RefCell;

use burn::tensor::{Int, Tensor, TensorData};
use burn_losses::Reduction;
use serde_json::Value;

use super::{Array, F32, Lane, REDUCTIONS, Tolerance, assert_close, assert_scalar, key, number};

/// Gradients are compared with a tighter absolute floor than values: a mean's gradient is
/// ~1/N per element.
pub const GRADIENT: Tolerance = Tolerance {
    relative: 1e-4,
    absolute: 1e-6,
};

type GradientReader<B> = Box<dyn Fn(&<B as Lane>::Gradients) -> Option<TensorData>>;

/// A case's input tensors, built on demand by their PyTorch argument names at the rank the loss
/// takes. On a tracked pass every float tensor read is tracked, and the gradients PyTorch
/// recorded (the names under the case's `grads`) are checked on it.
pub struct Inputs<'a, B: Lane> {
    case: &'a Value,
    device: &'a B::Device,
    track: bool,
    tracked: RefCell<Vec<(String, GradientReader<B>)>>,
}

impl<'a, B: Lane> Inputs<'a, B> {
    fn new(case: &'a Value, device: &'a B::Device, track: bool) -> Self {
        Self {
            case,
            device,
            track,
            tracked: RefCell::new(Vec::new()),
        }
    }

    fn array(&self, name: &str) -> Array {
        let value = &self.case["inputs"][name];
        assert!(
            !value.is_null(),
            "{}: no input {name:?}",
            case_name(self.case)
        );
        Array::from_json(value)
    }

    /// The float tensor `name`, tracked on a tracked pass.
    pub fn float<const R: usize>(&self, name: &str) -> Tensor<B, R> {
        let tensor = self.array(name).float::<B, R>(self.device);
        if !self.track {
            return tensor;
        }
        let tensor = B::track(tensor);
        let handle = tensor.clone();
        self.tracked.borrow_mut().push((
            name.to_string(),
            Box::new(move |grads| B::grad(&handle, grads)),
        ));
        tensor
    }

    /// The integer tensor `name` (class indices, lengths).
    pub fn int<const R: usize>(&self, name: &str) -> Tensor<B, R, Int> {
        self.array(name).int::<B, R>(self.device)
    }

    /// Differentiates `value` (on a tracked pass of an autodiff lane) and checks the gradient of
    /// every input PyTorch differentiated.
    fn check_gradients(&self, what: &str, value: Tensor<B, 1>, replay: &Replay<B>) {
        if !self.track {
            return;
        }
        let Some(grads) = B::backward(value) else {
            return;
        };
        let name = case_name(self.case);
        let expected = self.case["grads"][what]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no grads[{what}]"));
        let tracked = self.tracked.borrow();
        for (input, expected) in expected {
            let (_, read) = tracked
                .iter()
                .find(|(tracked, _)| tracked == input)
                .unwrap_or_else(|| panic!("{name}: the loss call does not read {input:?}"));
            let actual = read(&grads)
                .unwrap_or_else(|| panic!("{name} grad[{what}]: no gradient reached {input}"));
            assert_close(
                &format!("{name} grad[{what}] {input}"),
                actual,
                &replay.expected_gradient(input, Array::from_json(expected)),
                GRADIENT,
            );
        }
    }
}

fn case_name(case: &Value) -> &str {
    case["name"].as_str().expect("a case name")
}

/// One case of a fixture, replayed on lane `B`; the options are the documented differences from
/// PyTorch that the case may show.
pub struct Replay<'a, B: Lane> {
    case: &'a Value,
    device: &'a B::Device,
    mean_over_nothing: bool,
    finite_target_gradients: bool,
    infinite_losses_have_zero_gradients: bool,
}

impl<'a, B: Lane> Replay<'a, B> {
    pub fn new(case: &'a Value, device: &'a B::Device) -> Self {
        Self {
            case,
            device,
            mean_over_nothing: false,
            finite_target_gradients: false,
            infinite_losses_have_zero_gradients: false,
        }
    }

    /// `Mean` is 0 where PyTorch records NaN (every target ignored: no element to average).
    pub fn mean_over_nothing(mut self, yes: bool) -> Self {
        self.mean_over_nothing = yes;
        self
    }

    /// Where PyTorch's gradient of `target` is infinite or NaN (a probability of exactly 0 or 1),
    /// ours is 0 (the losses with probability targets).
    pub fn finite_target_gradients(mut self, yes: bool) -> Self {
        self.finite_target_gradients = yes;
        self
    }

    /// Where a loss is infinite (and `zero_infinity` is off), PyTorch's gradient is NaN and ours
    /// is 0 (CTC).
    pub fn infinite_losses_have_zero_gradients(mut self, yes: bool) -> Self {
        self.infinite_losses_have_zero_gradients = yes;
        self
    }

    /// PyTorch's gradient of `input`, with the documented differences the case's options allow.
    fn expected_gradient(&self, input: &str, mut expected: Array) -> Array {
        if input == "target" && self.finite_target_gradients {
            for value in &mut expected.data {
                if !value.is_finite() {
                    *value = 0.0;
                }
            }
        }
        if self.infinite_losses_have_zero_gradients {
            let losses = Array::from_json(&self.case["expected"]["none"]);
            let any_infinite = losses.data.iter().any(|l| l.is_infinite());
            let zero_infinity = self.case["options"]["zero_infinity"].as_bool() == Some(true);
            for value in &mut expected.data {
                if value.is_nan() {
                    assert!(
                        any_infinite && !zero_infinity,
                        "{}: PyTorch has a NaN gradient only for infinite losses",
                        case_name(self.case)
                    );
                    *value = 0.0;
                }
            }
        }
        expected
    }

    /// Replays the case: `reduced` for every reduction, `unreduced` for PyTorch's `'none'`
    /// under the case's upstream gradient, each called with the case's [`Inputs`].
    pub fn run<const DO: usize>(
        &self,
        reduced: &dyn Fn(Reduction, &Inputs<B>) -> Tensor<B, 1>,
        unreduced: &dyn Fn(&Inputs<B>) -> Tensor<B, DO>,
    ) {
        for &track in B::PASSES {
            let untracked = if track { "" } else { " (untracked)" };
            let name = &format!("{}{untracked}", case_name(self.case));
            for reduction in REDUCTIONS {
                let key = key(reduction);
                let inputs = Inputs::new(self.case, self.device, track);
                let value = reduced(reduction, &inputs);
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
                    inputs.check_gradients(key, value, self);
                }
            }

            let inputs = Inputs::new(self.case, self.device, track);
            let losses = unreduced(&inputs);
            let expected = Array::from_json(&self.case["expected"]["none"]);
            assert_close(&format!("{name} none"), losses.to_data(), &expected, F32);
            if track {
                let upstream: Tensor<B, DO> =
                    Array::from_json(&self.case["upstream"]).float(self.device);
                inputs.check_gradients("none", (losses * upstream).sum(), self);
            }
        }
    }
}

/// Replays one case through one loss call written once:
///
/// ```ignore
/// let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
/// replay!(case, device, |x| loss.forward(x.float::<D>("input"), x.int::<DT>("target")));
/// ```
///
/// calls `loss(reduction).forward(..)` for every reduction and
/// `loss(Reduction::Mean).forward_no_reduction(..)` for the unreduced output (likewise
/// `forward_probs`, `forward_homoscedastic` and `forward_with_targets`). `=> R` after the call
/// names the unreduced output's rank where the call does not fix it; `; option = value` sets an
/// option of [`Replay`].
#[macro_export]
macro_rules! replay {
    (@unreduced $loss:expr, forward, $($arg:expr),*) => {
        $loss.forward_no_reduction($($arg),*)
    };
    (@unreduced $loss:expr, forward_probs, $($arg:expr),*) => {
        $loss.forward_probs_no_reduction($($arg),*)
    };
    (@unreduced $loss:expr, forward_homoscedastic, $($arg:expr),*) => {
        $loss.forward_homoscedastic_no_reduction($($arg),*)
    };
    (@unreduced $loss:expr, forward_with_targets, $($arg:expr),*) => {
        $loss.forward_with_targets_no_reduction($($arg),*)
    };
    (@unreduced $loss:expr, forward_indices, $($arg:expr),*) => {
        $loss.forward_indices_no_reduction($($arg),*)
    };
    (
        $case:expr, $device:expr,
        |$x:ident| $loss:ident.$method:ident($($arg:expr),* $(,)?)
        $(=> $rank:tt)? $(; $option:ident = $value:expr)*
    ) => {
        $crate::common::replay::Replay::new($case, $device)
            $(.$option($value))*
            .run $(::<$rank>)? (
                &|reduction, $x| $loss(reduction).$method($($arg),*),
                &|$x| $crate::replay!(
                    @unreduced $loss(burn_losses::Reduction::Mean), $method, $($arg),*
                ),
            )
    };
}

/// Calls `function::<B, R..>(args)` with the const generics of the first tuple whose first
/// number is `rank`: `by_rank!(input_rank(case) => case::<B>(case, device) at [(2, 1), (3, 2)])`.
#[macro_export]
macro_rules! by_rank {
    (
        $rank:expr => $function:ident::<$backend:ty> $args:tt
        at [$(($first:literal $(, $rest:literal)*)),+ $(,)?]
    ) => {
        match $rank {
            $($first => $function::<$backend, $first $(, $rest)*> $args,)+
            rank => panic!("{}: no replay at rank {rank}", stringify!($function)),
        }
    };
}

/// The parity test of a fixture whose cases vary in rank:
/// `replay_fixture!(fn nll: "nll", "input" => nll_case at [(2, 1), (3, 2)])` defines
/// `fn nll<B: Lane>(device)`, which replays every case of `nll.json` through
/// `nll_case::<B, ..>(case, device)`, the const generics chosen by [`by_rank!`](crate::by_rank)
/// from the rank of the case's input `"input"`.
#[macro_export]
macro_rules! replay_fixture {
    (fn $test:ident: $fixture:literal, $input:literal => $case:ident at $ranks:tt) => {
        fn $test<B: $crate::common::Lane>(device: &B::Device) {
            let fixture = $crate::common::load_fixture($fixture);
            for case in $crate::common::replay::cases(&fixture) {
                let rank = $crate::common::replay::rank(case, $input);
                $crate::by_rank!(rank => $case::<B>(case, device) at $ranks);
            }
        }
    };
}

/// The float values of an optional list option (`weight`, `pos_weight`).
pub fn weight_option(value: &Value) -> Option<Vec<f32>> {
    value
        .as_array()
        .map(|weights| weights.iter().map(|w| number(w) as f32).collect())
}

/// A boolean option.
pub fn flag(value: &Value) -> bool {
    value.as_bool().expect("a boolean option")
}

pub fn cases(fixture: &Value) -> &Vec<Value> {
    let cases = fixture["cases"].as_array().expect("a fixture has cases");
    assert!(!cases.is_empty(), "a fixture has at least one case");
    cases
}

/// The rank of the case's input `name`.
pub fn rank(case: &Value, name: &str) -> usize {
    Array::from_json(&case["inputs"][name]).rank()
}

pub fn input_rank(case: &Value) -> usize {
    rank(case, "input")
}

pub fn all_targets_ignored(case: &Value, ignore_index: Option<i64>) -> bool {
    let target = Array::from_json(&case["inputs"]["target"]);
    ignore_index.is_some_and(|ignored| target.data.iter().all(|t| *t as i64 == ignored))
}

/// Replays an element-wise loss (input, float target, output of the input's shape) at every
/// rank its fixture uses: `elementwise_parity!(test, "fixture", |options| config)` with the
/// case's `options` at hand to build the loss's config.
#[macro_export]
macro_rules! elementwise_parity {
    ($test:ident, $fixture:literal, |$options:ident| $config:expr) => {
        fn $test<B: $crate::common::Lane>(device: &B::Device) {
            fn case_at_rank<B: $crate::common::Lane, const D: usize>(
                case: &serde_json::Value,
                device: &B::Device,
            ) {
                let loss = |reduction: burn_losses::Reduction| {
                    let $options = &case["options"];
                    $config.with_reduction(reduction).init::<B>(device)
                };
                $crate::replay!(case, device, |x| loss.forward(
                    x.float::<D>("input"),
                    x.float::<D>("target")
                ); finite_target_gradients = true);
            }
            let fixture = $crate::common::load_fixture($fixture);
            for case in $crate::common::replay::cases(&fixture) {
                $crate::by_rank!(
                    $crate::common::replay::input_rank(case) => case_at_rank::<B>(case, device)
                    at [(1), (2), (3), (4)]
                );
            }
        }
    };
}
