//! Checks and their messages: every panic names the loss, the argument or option, what was
//! expected and what was given.

use core::fmt::Display;

use burn::tensor::backend::Backend;
use burn::tensor::{Bool, ElementConversion, Int, Tensor};

/// Panics for a bad `forward*` argument.
#[track_caller]
pub(crate) fn fail(loss: &str, argument: &str, expected: impl Display, given: impl Display) -> ! {
    panic!("{loss}: `{argument}` expected {expected}, got {given}")
}

/// Panics for a bad configuration option (raised by `init`).
#[track_caller]
pub(crate) fn fail_option(
    loss: &str,
    option: &str,
    expected: impl Display,
    given: impl Display,
) -> ! {
    panic!("{loss}: option `{option}` expected {expected}, got {given}")
}

/// Checks that an optional per-class (or per-column) weight vector is non-empty, finite and
/// non-negative.
#[track_caller]
pub(crate) fn check_weight_option(loss: &str, option: &str, weight: Option<&[f32]>) {
    let Some(weight) = weight else { return };
    if weight.is_empty() {
        fail_option(loss, option, "a non-empty list", "an empty list");
    }
    if let Some(bad) = weight.iter().find(|w| !w.is_finite() || **w < 0.0) {
        fail_option(loss, option, "finite, non-negative values", bad);
    }
}

/// Checks that `given` has exactly the dims of `expected`.
#[track_caller]
pub(crate) fn check_same_shape(
    loss: &str,
    argument: &str,
    expected_from: &str,
    expected: &[usize],
    given: &[usize],
) {
    if expected != given {
        fail(
            loss,
            argument,
            format_args!("shape {expected:?} (the shape of `{expected_from}`)"),
            format_args!("{given:?}"),
        );
    }
}

/// Checks the length of a weight vector that broadcasts along one dimension of size `size`.
#[track_caller]
pub(crate) fn check_weight_len(loss: &str, option: &str, len: usize, size: usize, what: &str) {
    if len != size {
        fail(
            loss,
            option,
            format_args!("length {size} ({what})"),
            format_args!("length {len}"),
        );
    }
}

/// Whether any element of `mask` is true (reads one value back from the device).
pub(crate) fn any<B: Backend, const D: usize>(mask: Tensor<B, D, Bool>) -> bool {
    mask.any().int().into_scalar().elem::<i64>() != 0
}

/// Checks that every class index in `targets` lies in `[0, num_classes)` unless it equals
/// `ignore_index`. Reads two numbers back from the device.
#[track_caller]
pub(crate) fn check_class_indices<B: Backend, const D: usize>(
    loss: &str,
    argument: &str,
    targets: &Tensor<B, D, Int>,
    num_classes: usize,
    ignore_index: Option<i64>,
) {
    if targets.shape().num_elements() == 0 {
        return; // an empty batch: nothing to check (and no min or max to read)
    }
    let counted = match ignore_index {
        Some(ignored) => {
            let is_ignored = targets.clone().equal_elem(ignored);
            targets.clone().mask_fill(is_ignored, 0)
        }
        None => targets.clone(),
    };
    let extremes = Tensor::cat(vec![counted.clone().min(), counted.max()], 0).into_data();
    let extremes = extremes.iter::<i64>().collect::<Vec<_>>();
    let (min, max) = (extremes[0], extremes[1]);
    let bad = if min < 0 {
        min
    } else if max >= num_classes as i64 {
        max
    } else {
        return;
    };
    let ignored = match ignore_index {
        Some(ignored) => format!(" or ignore_index {ignored}"),
        None => String::new(),
    };
    fail(
        loss,
        argument,
        format_args!("class indices in [0, {num_classes}){ignored}"),
        bad,
    );
}

/// Checks that every value of `values` lies in `[0, 1]` (NaN fails too). Reads one value back
/// from the device, and the offending values only when the check fails.
#[track_caller]
pub(crate) fn check_unit_interval<B: Backend, const D: usize>(
    loss: &str,
    argument: &str,
    values: &Tensor<B, D>,
) {
    let outside = values
        .clone()
        .lower_elem(0.0)
        .bool_or(values.clone().greater_elem(1.0))
        .bool_or(values.clone().is_nan());
    if !any(outside) {
        return;
    }
    let bad = values
        .clone()
        .into_data()
        .iter::<f64>()
        .find(|v| !(0.0..=1.0).contains(v))
        .expect("a value outside [0, 1] was detected on the device");
    fail(loss, argument, "values in [0, 1]", bad);
}

/// Checks that a float option is finite: NaN or an infinity would make every loss NaN or
/// infinite.
#[track_caller]
pub(crate) fn check_finite_option(loss: &str, option: &str, value: f32) {
    if !value.is_finite() {
        fail_option(loss, option, "a finite value", value);
    }
}

/// Checks that a float option is finite and greater than 0.
#[track_caller]
pub(crate) fn check_positive_option(loss: &str, option: &str, value: f32) {
    if !(value.is_finite() && value > 0.0) {
        fail_option(loss, option, "a finite value greater than 0", value);
    }
}
