//! Central finite differences in f64 against the autodiff gradient.
#![cfg(feature = "ndarray")]

use burn::tensor::{DType, Int, Tensor, TensorData};

use super::F64Autodiff as B;

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

/// An f64 tensor. The dtype is explicit: the device's default float type is shared by every
/// `NdArray<E>` in the process and set by whichever backend touches the device first, so a test
/// binary that also runs f32 tests would otherwise get f32 tensors here.
pub fn tensor<const D: usize>(values: &[f64], shape: [usize; D]) -> Tensor<B, D> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), shape),
        (&Default::default(), DType::F64),
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
