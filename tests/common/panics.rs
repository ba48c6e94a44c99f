//! Tables of error messages: each row a call that must panic with a message containing the row's
//! text, every row checked and every failing row named; and the tensors the rows are called with.

use std::panic::{AssertUnwindSafe, catch_unwind};

#[cfg(feature = "ndarray")]
use burn::tensor::{Device, Int, Tensor, TensorData};

/// The backend of the error tests.
#[cfg(feature = "ndarray")]
pub type B = burn::backend::NdArray;

#[cfg(feature = "ndarray")]
pub fn device() -> Device<B> {
    Default::default()
}

/// A float tensor of `shape` filled with `value`.
#[cfg(feature = "ndarray")]
pub fn floats<const D: usize>(shape: [usize; D], value: f32) -> Tensor<B, D> {
    Tensor::full(shape, value, &device())
}

/// An integer tensor of `shape`.
#[cfg(feature = "ndarray")]
pub fn ints<const D: usize>(values: &[i64], shape: [usize; D]) -> Tensor<B, D, Int> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), &device())
}

/// A vector of class indices.
#[cfg(feature = "ndarray")]
pub fn classes(values: &[i64]) -> Tensor<B, 1, Int> {
    ints(values, [values.len()])
}

/// The message of a caught panic.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic without a text message)".to_string()
    }
}

/// `None` if `call` panics with a message containing `expected`, else what went wrong.
pub fn panics_with(call: impl FnOnce(), expected: &str) -> Option<String> {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(()) => Some(format!("did not panic; expected {expected:?}")),
        Err(payload) => {
            let message = message(payload.as_ref());
            (!message.contains(expected))
                .then(|| format!("panicked with {message:?}; expected {expected:?}"))
        }
    }
}

/// Asserts that `call` panics with a message containing `expected`, naming `row` if not.
#[track_caller]
pub fn assert_panics(row: &str, call: impl FnOnce(), expected: &str) {
    if let Some(failure) = panics_with(call, expected) {
        panic!("{row}: {failure}");
    }
}

/// A table row: its name, the text its panic message must contain, and the call.
pub type Row<'a> = (&'static str, &'static str, Box<dyn FnOnce() + 'a>);

/// Runs every row, then fails naming each row whose call did not panic as expected.
#[track_caller]
pub fn assert_table(rows: Vec<Row>) {
    let count = rows.len();
    let failures: Vec<String> = rows
        .into_iter()
        .filter_map(|(row, expected, call)| {
            panics_with(call, expected).map(|failure| format!("row `{row}`: {failure}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {count} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Evaluates a row's call and drops its value (a loss, a tensor, `()`).
pub fn discard<T>(_value: T) {}

/// A test of error messages, one row per message, after the `let`s the rows share:
///
/// ```ignore
/// panic_table! {
///     fn cross_entropy_errors() {
///         let loss = || CrossEntropyLossConfig::new().init::<B>(&device());
///         [
///             negative_z_loss: "option `z_loss` expected a finite value >= 0, got -0.001"
///                 => CrossEntropyLossConfig::new().with_z_loss(-1e-3).init::<B>(&device()),
///             empty_logits: ".." => loss().forward(..),
///         ]
///     }
/// }
/// ```
#[macro_export]
macro_rules! panic_table {
    ($(fn $test:ident() {
        $(let $name:ident = $value:expr;)*
        [$($row:ident: $expected:literal => $call:expr),* $(,)?]
    })*) => {$(
        #[test]
        fn $test() {
            $(let $name = $value;)*
            $crate::common::panics::assert_table(vec![$((
                stringify!($row),
                $expected,
                Box::new(|| $crate::common::panics::discard($call)),
            )),*]);
        }
    )*};
}
