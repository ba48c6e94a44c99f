//! Burn 0.21's fusion defect behind issue 17 (README, "Known issues"): a `gather` compiled into
//! the element-wise kernel of a wider tensor reads the index of the wrong lane. The first test
//! keeps the reproduction with Burn's own operations, the others show the crate's losses right
//! on the fused backend at the shapes that trigger it.
#![cfg(feature = "fusion")]

mod common;

use approx::assert_relative_eq;
use burn::backend::{Autodiff, NdArray};
use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use burn_losses::*;
use common::{WgpuFusion, WgpuUnfused};

const ROW: [f32; 6] = [4.03, 1.95, -0.34, 0.11, -1.19, 3.31];
const TARGET: i64 = 4;
/// `logsumexp(ROW) - ROW[4]`, PyTorch's `cross_entropy` (2.15): 5.7205.
const LOSS: f32 = 5.720_522;
/// `logsumexp(ROW) - ROW[0]`: the loss of class 0, what the defect reads.
const LOSS_OF_CLASS_0: f32 = 0.500_522;

/// Cross entropy by hand with Burn's operations, plus the softmax that a closed-form gradient
/// needs: a second consumer of the same `max`, `exp` and `sum_exp`.
fn cross_entropy_beside_softmax<B: Backend>() -> f32 {
    let device = Default::default();
    let x = Tensor::<B, 2>::from_data(TensorData::new(ROW.to_vec(), [1, 6]), &device);
    let index = Tensor::<B, 2, Int>::from_data(TensorData::new(vec![TARGET], [1, 1]), &device);
    let max = x.clone().max_dim(1);
    let exp = (x.clone() - max.clone()).exp();
    let sum_exp = exp.clone().sum_dim(1);
    let loss = -((x.gather(1, index) - max) - sum_exp.clone().log());
    let probs = exp / sum_exp;
    let [loss, _] = [loss.into_data(), probs.into_data()];
    loss.to_vec::<f32>().expect("f32")[0]
}

/// The reproduction, kept to show when Burn fixes it: on Burn 0.21 the fused kernel (gather,
/// sub, log, sub, neg, div) runs two lanes per thread, reads `index[1]` (past the buffer: 0) for
/// the second lane and writes that lane last, so the loss is class 0's. Once this assertion
/// fails, Burn has fixed the defect and `src/mechanics/indexing.rs` can go back to `Tensor::gather`.
#[test]
fn burn_fusion_gather_beside_a_softmax_reads_the_wrong_class() {
    assert_relative_eq!(
        cross_entropy_beside_softmax::<NdArray>(),
        LOSS,
        max_relative = 1e-6
    );
    assert_relative_eq!(
        cross_entropy_beside_softmax::<WgpuUnfused>(),
        LOSS,
        max_relative = 1e-6
    );
    assert_relative_eq!(
        cross_entropy_beside_softmax::<WgpuFusion>(),
        LOSS_OF_CLASS_0,
        max_relative = 1e-5
    );
}

fn one_row_cross_entropy<B: Backend>(track: impl Fn(Tensor<B, 2>) -> Tensor<B, 2>) -> f32 {
    let device = Default::default();
    let logits = Tensor::<B, 2>::from_data(TensorData::new(ROW.to_vec(), [1, 6]), &device);
    let targets = Tensor::<B, 1, Int>::from_data(TensorData::new(vec![TARGET], [1]), &device);
    CrossEntropyLossConfig::new()
        .init(&device)
        .forward(track(logits), targets)
        .into_scalar()
        .elem()
}

/// Issue 17's example: 5.7205 with and without `require_grad`, and without autodiff.
#[test]
fn the_issue_row_gives_pytorchs_loss_on_fused_wgpu() {
    type Tracked = Autodiff<WgpuFusion>;
    let tracked = one_row_cross_entropy::<Tracked>(|logits| logits.require_grad());
    assert_relative_eq!(tracked, LOSS, max_relative = 1e-6);
    let untracked = one_row_cross_entropy::<Tracked>(|logits| logits);
    assert_relative_eq!(untracked, LOSS, max_relative = 1e-6);
    let plain = one_row_cross_entropy::<WgpuFusion>(|logits| logits);
    assert_relative_eq!(plain, LOSS, max_relative = 1e-6);
}

/// Every row of a batch reads its own target (the defect gives row `r` the target of row
/// `r + 1`), at class counts that vectorize by 1, 2 and 4, with the gradient in the same lazy
/// window; NLL gathers the same way.
#[test]
fn batches_read_their_own_targets_on_fused_wgpu() {
    type Tracked = Autodiff<WgpuFusion>;
    let device = Default::default();
    for classes in [1usize, 2, 3, 4, 6, 7, 8, 16, 33] {
        let rows = 5;
        let values: Vec<f32> = (0..rows * classes)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.3)
            .collect();
        let targets: Vec<i64> = (0..rows as i64)
            .map(|r| (r * 3 + 1) % classes as i64)
            .collect();
        let logits = |device: &_| {
            Tensor::<Tracked, 2>::from_data(
                TensorData::new(values.clone(), [rows, classes]),
                device,
            )
        };
        let target_tensor =
            Tensor::<Tracked, 1, Int>::from_data(TensorData::new(targets.clone(), [rows]), &device);
        let expected: Vec<f32> = (0..rows)
            .map(|r| {
                let row = &values[r * classes..(r + 1) * classes];
                let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
                let sum: f64 = row.iter().map(|&v| (v as f64 - max).exp()).sum();
                (max + sum.ln() - row[targets[r] as usize] as f64) as f32
            })
            .collect();
        let cross_entropy = CrossEntropyLossConfig::new().init(&device);
        let got: Vec<f32> = cross_entropy
            .forward_no_reduction(logits(&device).require_grad(), target_tensor.clone())
            .into_data()
            .to_vec()
            .expect("f32");
        for (row, (got, expected)) in got.iter().zip(&expected).enumerate() {
            assert_relative_eq!(*got, *expected, epsilon = 1e-5, max_relative = 1e-5);
            assert!(got.is_finite(), "C = {classes}, row {row}");
        }
        let log_probs = burn::tensor::activation::log_softmax(logits(&device).require_grad(), 1);
        let nll: Vec<f32> = NllLossConfig::new()
            .init(&device)
            .forward_no_reduction(log_probs, target_tensor)
            .into_data()
            .to_vec()
            .expect("f32");
        for (got, expected) in nll.iter().zip(&expected) {
            assert_relative_eq!(*got, *expected, epsilon = 1e-5, max_relative = 1e-5);
        }
    }
}

/// Burn 0.21's `select_assign` on a CubeCL backend (fused or not) adds nothing at the indices
/// past the 65535th, silently; cross entropy's gradient once added its one-hot step that way.
/// Kept to show when Burn fixes it: then this assertion fails and this test can go.
#[test]
fn burn_select_assign_skips_indices_past_65535_on_wgpu() {
    use burn::tensor::IndexingUpdateOp;
    fn added<B: Backend>(n: usize) -> f32 {
        let device = Default::default();
        let index = Tensor::<B, 1, Int>::arange(0..n as i64, &device);
        Tensor::<B, 1>::zeros([n], &device)
            .select_assign(0, index, Tensor::ones([n], &device), IndexingUpdateOp::Add)
            .sum()
            .into_scalar()
            .elem()
    }
    assert_eq!(added::<NdArray>(70_000), 70_000.0);
    assert_eq!(added::<WgpuUnfused>(70_000), 65_535.0);
    assert_eq!(added::<WgpuFusion>(70_000), 65_535.0);
}

/// Cross entropy's gradient on the generic path of fused wgpu (`Autodiff<Wgpu>`), past 65535
/// positions: every row, the last ones included, has its one-hot step, as on NdArray.
#[test]
fn gradients_past_65535_positions_match_ndarray_on_fused_wgpu() {
    fn gradient<B: burn::tensor::backend::AutodiffBackend>(rows: usize) -> Vec<f32> {
        let device = Default::default();
        let values: Vec<f32> = (0..rows * 2)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.3)
            .collect();
        let targets: Vec<i64> = (0..rows as i64).map(|r| r % 2).collect();
        let logits =
            Tensor::<B, 2>::from_data(TensorData::new(values, [rows, 2]), &device).require_grad();
        let targets = Tensor::<B, 1, Int>::from_data(TensorData::new(targets, [rows]), &device);
        let loss = CrossEntropyLossConfig::new()
            .with_reduction(Reduction::Sum)
            .init(&device)
            .forward(logits.clone(), targets);
        let grads = loss.backward();
        logits
            .grad(&grads)
            .expect("a gradient")
            .into_data()
            .to_vec()
            .expect("f32")
    }
    let rows = 65_537;
    let expected = gradient::<Autodiff<NdArray>>(rows);
    let got = gradient::<Autodiff<WgpuFusion>>(rows);
    for (index, (got, expected)) in got.iter().zip(&expected).enumerate() {
        assert!(
            approx::relative_eq!(*got, *expected, epsilon = 1e-6, max_relative = 1e-5),
            "element {index}: {got} on fused wgpu, {expected} on NdArray"
        );
    }
}
