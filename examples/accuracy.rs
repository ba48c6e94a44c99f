//! The accuracy table of issue 13 at full size: each loss's mean over f32 inputs against an f64
//! reference computed over the same f32 values, on the NdArray kernels (`NdArray<f32>`) and on
//! the generic path (`NdArray<f32, i32>`, a backend without kernels), and the gradient of
//! cross entropy over one row of 5·10^7 classes (its softmax must sum to 1).
//!
//! ```sh
//! cargo run --release --example accuracy          # ~2 minutes and ~6 GB on two cores
//! ```

use burn::backend::{Autodiff, NdArray};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use burn_losses::*;

type Kernels = NdArray<f32>;
type Generic = NdArray<f32, i32>;

/// Deterministic uniform values in `[low, high)` (xorshift).
fn uniform(count: usize, low: f32, high: f32, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            low + (high - low) * ((state >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

fn float<B: Backend>(values: &[f32], dims: [usize; 2]) -> Tensor<B, 2> {
    Tensor::from_data(TensorData::new(values.to_vec(), dims), &Default::default())
}

fn scalar<B: Backend>(value: Tensor<B, 1>) -> f64 {
    value.into_data().iter::<f64>().next().expect("one value")
}

fn relative(got: f64, exact: f64) -> f64 {
    ((got - exact) / exact).abs()
}

/// The inputs of one row of the table.
enum Inputs {
    /// Predictions and targets.
    Pair(Vec<f32>, Vec<f32>),
    /// Logits and class indices.
    Classes(Vec<f32>, Vec<i64>),
}

#[derive(Clone, Copy)]
enum Loss {
    Mse,
    L1,
    BceWithLogits,
    CrossEntropy,
}

impl Loss {
    fn name(self) -> &'static str {
        match self {
            Loss::Mse => "MSE",
            Loss::L1 => "L1",
            Loss::BceWithLogits => "BCE-with-logits",
            Loss::CrossEntropy => "cross entropy",
        }
    }

    fn inputs(self, dims: [usize; 2]) -> Inputs {
        let count = dims[0] * dims[1];
        match self {
            Loss::Mse | Loss::L1 => {
                Inputs::Pair(uniform(count, -1.0, 1.0, 1), uniform(count, -1.0, 1.0, 2))
            }
            Loss::BceWithLogits => {
                Inputs::Pair(uniform(count, -4.0, 4.0, 3), uniform(count, 0.0, 1.0, 4))
            }
            Loss::CrossEntropy => {
                let targets = (0..dims[0])
                    .map(|row| ((row * 7919 + 12_345) % dims[1]) as i64)
                    .collect();
                Inputs::Classes(uniform(count, -4.0, 4.0, 5), targets)
            }
        }
    }

    /// The mean in f64 over the f32 inputs.
    fn exact(self, inputs: &Inputs, dims: [usize; 2]) -> f64 {
        match inputs {
            Inputs::Pair(x, y) => {
                let term = |a: f32, b: f32| {
                    let (a, b) = (a as f64, b as f64);
                    match self {
                        Loss::Mse => (a - b).powi(2),
                        Loss::L1 => (a - b).abs(),
                        _ => a.max(0.0) - a * b + (-a.abs()).exp().ln_1p(),
                    }
                };
                let sum: f64 = x.iter().zip(y).map(|(&a, &b)| term(a, b)).sum();
                sum / x.len() as f64
            }
            Inputs::Classes(logits, targets) => {
                let sum: f64 = logits
                    .chunks(dims[1])
                    .zip(targets)
                    .map(|(row, &target)| {
                        let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
                        let sum: f64 = row.iter().map(|&v| (v as f64 - max).exp()).sum();
                        max + sum.ln() - row[target as usize] as f64
                    })
                    .sum();
                sum / targets.len() as f64
            }
        }
    }

    /// The loss's mean on backend `B`.
    fn mean<B: Backend>(self, inputs: &Inputs, dims: [usize; 2]) -> f64 {
        let device = Default::default();
        let value = match inputs {
            Inputs::Pair(x, y) => {
                let (x, y) = (float::<B>(x, dims), float::<B>(y, dims));
                match self {
                    Loss::Mse => MseLossConfig::new().init(&device).forward(x, y),
                    Loss::L1 => L1LossConfig::new().init(&device).forward(x, y),
                    _ => BinaryCrossEntropyWithLogitsLossConfig::new()
                        .init(&device)
                        .forward(x, y),
                }
            }
            Inputs::Classes(logits, targets) => {
                let targets = Tensor::<B, 1, Int>::from_data(
                    TensorData::new(targets.clone(), [dims[0]]),
                    &device,
                );
                CrossEntropyLossConfig::new()
                    .init(&device)
                    .forward(float::<B>(logits, dims), targets)
            }
        };
        scalar(value)
    }
}

/// `|Σ_c ∂ℓ/∂x_c|` of cross entropy over one row: the gradient is `softmax - onehot`, so this
/// is how far the softmax is from summing to 1 (in f64 over the f32 gradient).
fn softmax_sum_error<B: Backend>(logits: &[f32], target: i64) -> f64 {
    let device = Default::default();
    let x = float::<Autodiff<B>>(logits, [1, logits.len()]).require_grad();
    let targets =
        Tensor::<Autodiff<B>, 1, Int>::from_data(TensorData::new(vec![target], [1]), &device);
    let gradients = CrossEntropyLossConfig::new()
        .init(&device)
        .forward(x.clone(), targets)
        .backward();
    let gradient = x.grad(&gradients).expect("a gradient").into_data();
    gradient.iter::<f64>().sum::<f64>().abs()
}

fn main() {
    println!("relative error of the mean against an f64 reference over the same f32 values");
    println!();
    println!("| loss | shape | NdArray kernels | generic path |");
    println!("|---|---|---|---|");
    for (loss, dims) in [
        (Loss::Mse, [4096, 32000]),
        (Loss::L1, [4096, 32000]),
        (Loss::BceWithLogits, [4096, 32000]),
        (Loss::CrossEntropy, [4096, 32000]),
        (Loss::CrossEntropy, [1, 50_000_000]),
        (Loss::BceWithLogits, [1, 50_000_000]),
        (Loss::Mse, [1, 50_000_000]),
        (Loss::L1, [1, 50_000_000]),
    ] {
        let inputs = loss.inputs(dims);
        let exact = loss.exact(&inputs, dims);
        let kernels = relative(loss.mean::<Kernels>(&inputs, dims), exact);
        let generic = relative(loss.mean::<Generic>(&inputs, dims), exact);
        println!(
            "| {} | {}x{} | {kernels:.1e} | {generic:.1e} |",
            loss.name(),
            dims[0],
            dims[1]
        );
    }
    let Inputs::Classes(logits, targets) = Loss::CrossEntropy.inputs([1, 50_000_000]) else {
        unreachable!("class inputs")
    };
    println!();
    println!(
        "cross entropy 1x50000000, |softmax sum - 1| from the gradient: NdArray kernels {:.1e}, generic path {:.1e}",
        softmax_sum_error::<Kernels>(&logits, targets[0]),
        softmax_sum_error::<Generic>(&logits, targets[0]),
    );
}
