//! Sums that stay accurate at scale (issue 13): every kind of reduction at a size where one
//! running f32 sum visibly fails, against an f64 reference over the same f32 values, on the
//! NdArray kernels, the generic path and wgpu. `cargo run --release --example accuracy` checks
//! the full sizes (1.3·10^8 elements, a row of 5·10^7 classes).
#![cfg(feature = "ndarray")]

mod common;

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use burn_losses::backends::generic_path;
use burn_losses::*;
use common::float_options;
use common::gradcheck::uniform;

/// The largest relative error allowed against the f64 reference.
const TOLERANCE: f64 = 1e-6;

fn values(count: usize, low: f64, high: f64, seed: u64) -> Vec<f32> {
    uniform(count, low, high, seed)
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

fn float<B: Backend, const D: usize>(values: &[f32], dims: [usize; D]) -> Tensor<B, D> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), dims),
        float_options::<B>(&Default::default()),
    )
}

fn scalar<B: Backend>(value: Tensor<B, 1>) -> f64 {
    value.into_data().iter::<f64>().next().expect("one value")
}

#[track_caller]
fn assert_accurate(what: &str, got: f64, exact: f64) {
    let error = ((got - exact) / exact).abs();
    assert!(
        error <= TOLERANCE,
        "{what}: {got} against the f64 reference {exact}: relative error {error:.2e}"
    );
}

/// The same total summed by one running f32 accumulator is visibly off, so the sizes below are
/// ones where a naive reduction fails.
#[track_caller]
fn assert_naive_f32_fails(what: &str, terms: impl Iterator<Item = f64>, exact: f64) {
    let naive = terms.fold(0.0f32, |total, term| total + term as f32) as f64;
    let error = ((naive - exact) / exact).abs();
    assert!(
        error > 1e-5,
        "{what}: naive f32 summation is only {error:.2e} off"
    );
}

/// Element-wise losses over 2^22 elements: MSE's mean, L1's sum, BCE with logits' batch mean.
fn elementwise_reductions<B: Backend>(count: usize) {
    let device = Default::default();
    let dims = [count / 1024, 1024];
    let x = values(count, -1.0, 1.0, 1);
    let y = values(count, -1.0, 1.0, 2);
    let squares = || {
        x.iter()
            .zip(&y)
            .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
    };
    let exact = squares().sum::<f64>();
    if count >= CPU_SIZE {
        assert_naive_f32_fails("MSE", squares(), exact);
    }
    let mse = MseLossConfig::new().init::<B>(&device);
    let got = scalar(mse.forward(float::<B, 2>(&x, dims), float(&y, dims)));
    assert_accurate("MSE mean", got, exact / count as f64);

    let exact: f64 = x
        .iter()
        .zip(&y)
        .map(|(&a, &b)| (a as f64 - b as f64).abs())
        .sum();
    let l1 = L1LossConfig::new()
        .with_reduction(Reduction::Sum)
        .init::<B>(&device);
    let got = scalar(l1.forward(float::<B, 2>(&x, dims), float(&y, dims)));
    assert_accurate("L1 sum", got, exact);

    let logits = values(count, -4.0, 4.0, 3);
    let targets: Vec<f32> = values(count, 0.0, 1.0, 4);
    let exact: f64 = logits
        .iter()
        .zip(&targets)
        .map(|(&x, &y)| {
            let (x, y) = (x as f64, y as f64);
            x.max(0.0) - x * y + (-x.abs()).exp().ln_1p()
        })
        .sum();
    let bce = BinaryCrossEntropyWithLogitsLossConfig::new()
        .with_reduction(Reduction::BatchMean)
        .init::<B>(&device);
    let got = scalar(bce.forward(float::<B, 2>(&logits, dims), float(&targets, dims)));
    assert_accurate("BCE with logits batch mean", got, exact / dims[0] as f64);

    // One row: a kernel's per-row sum over every element.
    let got = scalar(bce.forward(
        float::<B, 2>(&logits, [1, count]),
        float(&targets, [1, count]),
    ));
    assert_accurate("BCE with logits, one row", got, exact);
}

/// Cross entropy's weighted mean over 2^19 positions (numerator and denominator sums), and its
/// log-sum-exp over one row of 2^22 classes.
fn cross_entropy_reductions<B: Backend>(count: usize) {
    let device = Default::default();
    let classes = 8;
    let rows = count / classes;
    let logits = values(count, -4.0, 4.0, 5);
    let targets: Vec<i64> = (0..rows).map(|r| (r * 5 % classes) as i64).collect();
    let weight = vec![0.3f32, 1.7, 0.9, 1.1, 0.6, 1.3, 2.0, 0.8];
    let row_loss = |row: &[f32], target: usize| {
        let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
        let sum: f64 = row.iter().map(|&v| (v as f64 - max).exp()).sum();
        max + sum.ln() - row[target] as f64
    };
    let weighted = |r: usize| weight[targets[r] as usize] as f64;
    let numerator: f64 = (0..rows)
        .map(|r| weighted(r) * row_loss(&logits[r * classes..][..classes], targets[r] as usize))
        .sum();
    let denominator: f64 = (0..rows).map(weighted).sum();
    if count >= CPU_SIZE {
        assert_naive_f32_fails("class weights", (0..rows).map(weighted), denominator);
    }
    let loss = CrossEntropyLossConfig::new()
        .with_weight(Some(weight.clone()))
        .init::<B>(&device);
    let target_tensor =
        Tensor::<B, 1, Int>::from_data(TensorData::new(targets.clone(), [rows]), &device);
    let got = scalar(loss.forward(float::<B, 2>(&logits, [rows, classes]), target_tensor));
    assert_accurate("weighted cross entropy mean", got, numerator / denominator);

    let target = 12_345;
    let exact = row_loss(&logits, target);
    let loss = CrossEntropyLossConfig::new().init::<B>(&device);
    let target_tensor =
        Tensor::<B, 1, Int>::from_data(TensorData::new(vec![target as i64], [1]), &device);
    let got = scalar(loss.forward(float::<B, 2>(&logits, [1, count]), target_tensor));
    assert_accurate("cross entropy over one row", got, exact);
}

/// 2^22 elements: one f32 accumulator is already ~1e-3 off there.
const CPU_SIZE: usize = 1 << 22;
/// 2^20 elements on lavapipe (slow software Vulkan; its buffers hold at most 128 MiB).
#[cfg(feature = "wgpu")]
const WGPU_SIZE: usize = 1 << 20;

/// A test per kind of reduction on each path: `(name, runner, backend, size)`.
macro_rules! on_paths {
    ($([$($cfg:meta)?] $path:ident, $run:path, $backend:ty, $size:expr;)*) => {$(
        $(#[cfg($cfg)])?
        mod $path {
            use super::*;

            #[test]
            fn elementwise() {
                $run(|| elementwise_reductions::<$backend>($size));
            }

            #[test]
            fn cross_entropy() {
                $run(|| cross_entropy_reductions::<$backend>($size));
            }
        }
    )*};
}

on_paths! {
    [] ndarray_kernels, common::directly, burn::backend::NdArray<f32>, CPU_SIZE;
    [] generic_path, generic_path, burn::backend::NdArray<f32>, CPU_SIZE;
    [feature = "wgpu"] wgpu, common::directly, common::WgpuUnfused, WGPU_SIZE;
    [feature = "fusion"] wgpu_fusion, common::directly, common::WgpuFusion, WGPU_SIZE;
}
