//! Cross entropy and BCE-with-logits against Burn's own `burn::nn::loss`, forward and
//! forward + backward, measured in the same run.
//!
//! ```text
//! cargo bench --bench losses                      # ndarray (CPU)
//! cargo bench --bench losses --features wgpu      # wgpu (GPU, or lavapipe without one)
//! python3 tools/bench_ratios.py                   # ours / Burn per benchmark
//! ```
//! `BENCH_SHAPES=8192x1000` limits the shapes.

use burn::backend::Autodiff;
use burn::nn::loss as burn_loss;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Int, Tensor};
use burn_losses::*;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

#[cfg(not(feature = "wgpu"))]
type Inner = burn::backend::NdArray<f32>;
#[cfg(feature = "wgpu")]
type Inner = burn::backend::Wgpu;
type Ad = Autodiff<Inner>;

const SHAPES: [[usize; 2]; 2] = [[8192, 1000], [4096, 32000]];

fn shapes() -> Vec<[usize; 2]> {
    let Ok(wanted) = std::env::var("BENCH_SHAPES") else {
        return SHAPES.to_vec();
    };
    SHAPES
        .into_iter()
        .filter(|[n, c]| wanted.split(',').any(|s| s == format!("{n}x{c}")))
        .collect()
}

/// Runs `step` and waits for the device, so asynchronous backends are timed to completion.
fn timed<B: Backend, T>(device: &B::Device, step: impl FnOnce() -> T) -> T {
    let out = step();
    B::sync(device).expect("device sync");
    out
}

fn cross_entropy(c: &mut Criterion) {
    let device = Default::default();
    for [n, classes] in shapes() {
        let id = format!("{n}x{classes}");
        let logits = Tensor::<Ad, 2>::random([n, classes], Distribution::Normal(0.0, 2.0), &device);
        let targets =
            Tensor::<Ad, 1, Int>::random([n], Distribution::Uniform(0.0, classes as f64), &device);
        let ours = CrossEntropyLossConfig::new().init::<Ad>(&device);
        let burn = burn_loss::CrossEntropyLossConfig::new().init::<Ad>(&device);

        let mut group = c.benchmark_group("cross_entropy/forward");
        group.sample_size(10);
        let inner_logits = logits.clone().inner();
        let inner_targets = targets.clone().inner();
        let ours_inner = CrossEntropyLossConfig::new().init::<Inner>(&device);
        let burn_inner = burn_loss::CrossEntropyLossConfig::new().init::<Inner>(&device);
        group.bench_function(BenchmarkId::new("burn-losses", &id), |b| {
            b.iter(|| {
                timed::<Inner, _>(&device, || {
                    ours_inner.forward(inner_logits.clone(), inner_targets.clone())
                })
            })
        });
        group.bench_function(BenchmarkId::new("burn-nn", &id), |b| {
            b.iter(|| {
                timed::<Inner, _>(&device, || {
                    burn_inner.forward(inner_logits.clone(), inner_targets.clone())
                })
            })
        });
        group.finish();

        let mut group = c.benchmark_group("cross_entropy/forward_backward");
        group.sample_size(10);
        group.bench_function(BenchmarkId::new("burn-losses", &id), |b| {
            b.iter(|| {
                timed::<Ad, _>(&device, || {
                    let logits = logits.clone().require_grad();
                    ours.forward(logits.clone(), targets.clone()).backward()
                })
            })
        });
        group.bench_function(BenchmarkId::new("burn-nn", &id), |b| {
            b.iter(|| {
                timed::<Ad, _>(&device, || {
                    let logits = logits.clone().require_grad();
                    burn.forward(logits.clone(), targets.clone()).backward()
                })
            })
        });
        group.finish();
    }
}

fn binary_cross_entropy_with_logits(c: &mut Criterion) {
    let device = Default::default();
    for [n, labels] in shapes() {
        let id = format!("{n}x{labels}");
        let logits = Tensor::<Ad, 2>::random([n, labels], Distribution::Normal(0.0, 2.0), &device);
        // Burn's loss takes integer targets; ours takes the same 0/1 values as floats.
        let int_targets =
            Tensor::<Ad, 2, Int>::random([n, labels], Distribution::Uniform(0.0, 2.0), &device);
        let targets = int_targets.clone().float();
        let ours = BinaryCrossEntropyWithLogitsLossConfig::new().init::<Ad>(&device);
        let burn = burn_loss::BinaryCrossEntropyLossConfig::new()
            .with_logits(true)
            .init::<Ad>(&device);

        let mut group = c.benchmark_group("bce_with_logits/forward");
        group.sample_size(10);
        let (inner_logits, inner_targets, inner_ints) = (
            logits.clone().inner(),
            targets.clone().inner(),
            int_targets.clone().inner(),
        );
        let ours_inner = BinaryCrossEntropyWithLogitsLossConfig::new().init::<Inner>(&device);
        let burn_inner = burn_loss::BinaryCrossEntropyLossConfig::new()
            .with_logits(true)
            .init::<Inner>(&device);
        group.bench_function(BenchmarkId::new("burn-losses", &id), |b| {
            b.iter(|| {
                timed::<Inner, _>(&device, || {
                    ours_inner.forward(inner_logits.clone(), inner_targets.clone())
                })
            })
        });
        group.bench_function(BenchmarkId::new("burn-nn", &id), |b| {
            b.iter(|| {
                timed::<Inner, _>(&device, || {
                    burn_inner.forward(inner_logits.clone(), inner_ints.clone())
                })
            })
        });
        group.finish();

        let mut group = c.benchmark_group("bce_with_logits/forward_backward");
        group.sample_size(10);
        group.bench_function(BenchmarkId::new("burn-losses", &id), |b| {
            b.iter(|| {
                timed::<Ad, _>(&device, || {
                    let logits = logits.clone().require_grad();
                    ours.forward(logits.clone(), targets.clone()).backward()
                })
            })
        });
        group.bench_function(BenchmarkId::new("burn-nn", &id), |b| {
            b.iter(|| {
                timed::<Ad, _>(&device, || {
                    let logits = logits.clone().require_grad();
                    burn.forward(logits.clone(), int_targets.clone()).backward()
                })
            })
        });
        group.finish();
    }
}

criterion_group!(benches, cross_entropy, binary_cross_entropy_with_logits);
criterion_main!(benches);
