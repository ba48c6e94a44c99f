//! Central finite differences in f64 against the autodiff gradient, and [`on_f64!`] to run such
//! checks in a process of their own.
//!
//! Burn 0.21 keeps one default float dtype per device for the whole process, set by the first
//! backend that uses the device: `NdArray<f32>` and `NdArray<f64>` share the CPU device, so in a
//! test binary that also runs f32 tests, tensors a loss creates inside (without an explicit
//! dtype) could silently be f32 in an f64 check. [`on_f64!`] runs each f64 test in a child
//! process, the test binary re-run filtered to that one test, so its f64 backend is the only one
//! there.
#![cfg(feature = "ndarray")]

use std::process::Command;

use burn::tensor::{DType, Int, Tensor, TensorData};

use super::F64Autodiff as B;

/// Set, to the test's name, in the child process that [`in_own_process`] starts.
const CHILD: &str = "BURN_LOSSES_F64_TEST";

/// f64 tests, each `#[test]` run by [`in_own_process`]:
///
/// ```ignore
/// on_f64! {
///     fn cross_entropy() { gradcheck(..); }
/// }
/// ```
#[macro_export]
macro_rules! on_f64 {
    ($($(#[doc = $doc:literal])* fn $test:ident() $body:block)*) => {$(
        $(#[doc = $doc])*
        #[test]
        fn $test() {
            $crate::common::gradcheck::in_own_process(module_path!(), stringify!($test), || $body);
        }
    )*};
}

/// Runs `test` (the test `module::name` of this binary) in a child process: the test binary
/// filtered to that one test, with [`CHILD`] set so that there it runs `test` itself, after
/// checking that the device's default float type is f64. Fails with the child's output if the
/// child fails or does not run exactly that test.
pub fn in_own_process(module: &str, name: &str, test: impl FnOnce()) {
    // `module_path!()` starts with the test binary's crate name, which test names leave out.
    let path = match module.split_once("::") {
        Some((_, inner)) => format!("{inner}::{name}"),
        None => name.to_string(),
    };
    if std::env::var(CHILD).as_deref() == Ok(path.as_str()) {
        let default = Tensor::<B, 1>::zeros([1], &Default::default());
        assert_eq!(
            default.dtype(),
            DType::F64,
            "{path}: the process's default float type"
        );
        test();
        return;
    }
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args([path.as_str(), "--exact", "--test-threads", "1"])
        .env(CHILD, &path)
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{path} in its own process: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

const STEP: f64 = 1e-6;

/// Deterministic values in `[low, high)` (xorshift), so no case depends on a random crate.
pub fn uniform(count: usize, low: f64, high: f64, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            low + (high - low) * ((state >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

/// An f64 tensor (with an explicit dtype, as every tensor the tests create).
pub fn tensor<const D: usize>(values: &[f64], shape: [usize; D]) -> Tensor<B, D> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), shape),
        super::float_options::<B>(&Default::default()),
    )
}

pub fn indices<const D: usize>(values: &[i64], shape: [usize; D]) -> Tensor<B, D, Int> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), &Default::default())
}

/// Probability rows along dimension 1 (softmax of uniform logits).
pub fn probability_rows(shape: [usize; 2], seed: u64) -> Vec<f64> {
    let logits = uniform(shape[0] * shape[1], -2.0, 2.0, seed);
    logits
        .chunks(shape[1])
        .flat_map(|row| {
            let total: f64 = row.iter().map(|v| v.exp()).sum();
            row.iter().map(move |v| v.exp() / total).collect::<Vec<_>>()
        })
        .collect()
}

/// Compares the autodiff gradient of `loss` at `point` with central differences.
#[track_caller]
pub fn gradcheck<const D: usize>(
    what: &str,
    point: &[f64],
    shape: [usize; D],
    loss: impl Fn(Tensor<B, D>) -> Tensor<B, 1>,
) {
    let input = tensor(point, shape).require_grad();
    let grads = loss(input.clone()).backward();
    let analytic: Vec<f64> = input
        .grad(&grads)
        .expect("a gradient")
        .into_data()
        .iter::<f64>()
        .collect();
    for (index, analytic) in analytic.iter().enumerate() {
        let mut shifted = point.to_vec();
        shifted[index] = point[index] + STEP;
        let above = loss(tensor(&shifted, shape)).into_scalar();
        shifted[index] = point[index] - STEP;
        let below = loss(tensor(&shifted, shape)).into_scalar();
        let numeric = (above - below) / (2.0 * STEP);
        assert!(
            (analytic - numeric).abs() <= 1e-6 + 1e-5 * numeric.abs(),
            "{what}: d/dx[{index}]: autodiff {analytic}, finite difference {numeric}"
        );
    }
}

/// [`gradcheck`] of a loss of two inputs of one shape with respect to each: `{what} d/d{name}` of
/// the first at `first` (the second held at `second`), then of the second.
#[track_caller]
pub fn gradcheck_pair<const D: usize>(
    what: &str,
    [first_name, second_name]: [&str; 2],
    first: &[f64],
    second: &[f64],
    shape: [usize; D],
    loss: impl Fn(Tensor<B, D>, Tensor<B, D>) -> Tensor<B, 1>,
) {
    gradcheck(&format!("{what} d/d{first_name}"), first, shape, |x| {
        loss(x, tensor(second, shape))
    });
    gradcheck(&format!("{what} d/d{second_name}"), second, shape, |y| {
        loss(tensor(first, shape), y)
    });
}
