//! Our losses against Burn's own `burn::nn::loss` in the same run: forward, and forward +
//! backward under `Autodiff`, at the shapes of language models, classifiers and segmentation.
//! Before timing, every case's peak memory is measured once with a counting global allocator
//! (CPU backends) and written to `target/criterion/memory.json`.
//!
//! ```text
//! cargo bench --bench losses                      # ndarray (CPU)
//! cargo bench --bench losses --features wgpu      # wgpu (GPU, or lavapipe without one)
//! python3 tools/bench_pytorch.py                  # PyTorch at the same shapes
//! python3 tools/bench_ratios.py                   # the tables of BENCHMARKS.md
//! ```
//! `BENCH_SHAPES=8192x1000,8x21x128x128` limits the shapes; `BENCH_LOSSES=cross_entropy` the
//! losses (a criterion filter also works). `BENCH_PATH=generic` runs our losses on the generic
//! path (`burn_losses::backends::generic_path`: what a backend outside the registry gets).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::backend::Autodiff;
use burn::nn::loss as burn_loss;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Int, Tensor};
use burn_losses::*;
use criterion::{BenchmarkId, Criterion};

#[cfg(not(feature = "wgpu"))]
type Inner = burn::backend::NdArray<f32>;
#[cfg(feature = "wgpu")]
type Inner = burn::backend::Wgpu;
type Ad = Autodiff<Inner>;

/// Counts live heap bytes and their peak, so a case's peak memory above its inputs is known.
struct CountingAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Peak heap bytes allocated by `step` above what was live when it started.
fn peak_bytes<T>(step: impl FnOnce() -> T) -> usize {
    let start = LIVE.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    drop(step());
    PEAK.load(Ordering::Relaxed) - start
}

/// A shape: `[N, C]` or a segmentation `[N, C, H, W]`.
#[derive(Clone, Copy)]
enum Shape {
    Matrix(usize, usize),
    Image(usize, usize, usize, usize),
}

const SHAPES: [Shape; 5] = [
    Shape::Matrix(65536, 10),
    Shape::Matrix(8192, 1000),
    Shape::Matrix(4096, 32000),
    Shape::Matrix(1024, 128256),
    Shape::Image(8, 21, 128, 128),
];

impl Shape {
    fn id(self) -> String {
        match self {
            Shape::Matrix(n, c) => format!("{n}x{c}"),
            Shape::Image(n, c, h, w) => format!("{n}x{c}x{h}x{w}"),
        }
    }
}

fn wanted(variable: &str, name: &str) -> bool {
    std::env::var(variable).map_or(true, |list| list.split(',').any(|item| item == name))
}

/// Runs `step` and waits for the device, so asynchronous backends are timed to completion.
fn synced<B: Backend, T>(device: &B::Device, step: impl FnOnce() -> T) -> T {
    let out = step();
    B::sync(device).expect("device sync");
    out
}

/// A loss applied to the (2-D view of the) logits.
type LossFn<'a> = Box<dyn Fn(Tensor<Ad, 2>) -> Tensor<Ad, 1> + 'a>;

/// One loss at one shape: ours and Burn's (when Burn has it), as closures over prepared inputs.
struct Case<'a> {
    loss: &'static str,
    shape: String,
    ours: LossFn<'a>,
    burn: Option<LossFn<'a>>,
    /// The logits (2-D view; image losses reshape inside their closures).
    input: Tensor<Ad, 2>,
}

/// A segmentation case's closures take the `[N, C, H, W]` logits flattened to `[N, C·H·W]`,
/// so every case shares one signature.
fn image(input: Tensor<Ad, 2>, [n, c, h, w]: [usize; 4]) -> Tensor<Ad, 4> {
    input.reshape([n, c, h, w])
}

fn cases(device: &burn::tensor::Device<Ad>) -> Vec<Case<'static>> {
    let mut cases = Vec::new();
    for shape in SHAPES {
        if !wanted("BENCH_SHAPES", &shape.id()) {
            continue;
        }
        let (input, index_targets, float_targets, dims) = match shape {
            Shape::Matrix(n, c) => (
                Tensor::<Ad, 2>::random([n, c], Distribution::Normal(0.0, 2.0), device),
                Tensor::<Ad, 1, Int>::random([n], Distribution::Uniform(0.0, c as f64), device)
                    .reshape([n, 1]),
                Tensor::<Ad, 2, Int>::random([n, c], Distribution::Uniform(0.0, 2.0), device),
                [n, c, 1, 1],
            ),
            Shape::Image(n, c, h, w) => (
                Tensor::<Ad, 2>::random([n, c * h * w], Distribution::Normal(0.0, 2.0), device),
                Tensor::<Ad, 1, Int>::random(
                    [n * h * w],
                    Distribution::Uniform(0.0, c as f64),
                    device,
                )
                .reshape([n, h * w]),
                Tensor::<Ad, 2, Int>::random(
                    [n, c * h * w],
                    Distribution::Uniform(0.0, 2.0),
                    device,
                ),
                [n, c, h, w],
            ),
        };
        let is_image = matches!(shape, Shape::Image(..));
        // Class-index targets as the loss takes them, and (for Burn's 2-D-only cross entropy)
        // as the rows of the logits moved to [N·H·W, C].
        let targets_nd: Tensor<Ad, 3, Int> =
            index_targets.clone().reshape([dims[0], dims[2], dims[3]]);
        let targets_flat: Tensor<Ad, 1, Int> = index_targets.flatten(0, 1);
        // Burn's cross entropy is 2-D only: a user moves the classes last and flattens the rest.
        let rows = move |logits: Tensor<Ad, 2>| -> Tensor<Ad, 2> {
            if is_image {
                image(logits, dims)
                    .permute([0, 2, 3, 1])
                    .reshape([dims[0] * dims[2] * dims[3], dims[1]])
            } else {
                logits
            }
        };
        let ours_index = |loss: CrossEntropyLoss<Ad>| {
            let (targets_nd, targets_flat) = (targets_nd.clone(), targets_flat.clone());
            Box::new(move |logits: Tensor<Ad, 2>| {
                if is_image {
                    loss.forward(image(logits, dims), targets_nd.clone())
                } else {
                    loss.forward(logits, targets_flat.clone())
                }
            }) as LossFn<'static>
        };
        let burn_index = |loss: burn_loss::CrossEntropyLoss<Ad>| {
            let targets_flat = targets_flat.clone();
            Some(Box::new(move |logits: Tensor<Ad, 2>| {
                loss.forward(rows(logits), targets_flat.clone())
            }) as LossFn<'static>)
        };

        if wanted("BENCH_LOSSES", "cross_entropy") {
            cases.push(Case {
                loss: "cross_entropy",
                shape: shape.id(),
                ours: ours_index(CrossEntropyLossConfig::new().init(device)),
                burn: burn_index(burn_loss::CrossEntropyLossConfig::new().init(device)),
                input: input.clone(),
            });
        }
        if wanted("BENCH_LOSSES", "cross_entropy_smoothing") {
            cases.push(Case {
                loss: "cross_entropy_smoothing",
                shape: shape.id(),
                ours: ours_index(
                    CrossEntropyLossConfig::new()
                        .with_label_smoothing(0.1)
                        .init(device),
                ),
                burn: burn_index(
                    burn_loss::CrossEntropyLossConfig::new()
                        .with_smoothing(Some(0.1))
                        .init(device),
                ),
                input: input.clone(),
            });
        }
        if wanted("BENCH_LOSSES", "cross_entropy_ignored") {
            // Class 0 is padding (about 1/C of the targets): ignore_index here, pad_tokens in Burn.
            cases.push(Case {
                loss: "cross_entropy_ignored",
                shape: shape.id(),
                ours: ours_index(
                    CrossEntropyLossConfig::new()
                        .with_ignore_index(Some(0))
                        .init(device),
                ),
                burn: burn_index(
                    burn_loss::CrossEntropyLossConfig::new()
                        .with_pad_tokens(Some(vec![0]))
                        .init(device),
                ),
                input: input.clone(),
            });
        }
        if wanted("BENCH_LOSSES", "nll") {
            // Burn has no NLL loss: PyTorch is the only peer.
            let loss = NllLossConfig::new().init(device);
            let (targets_nd, targets_flat) = (targets_nd.clone(), targets_flat.clone());
            cases.push(Case {
                loss: "nll",
                shape: shape.id(),
                ours: Box::new(move |log_probs: Tensor<Ad, 2>| {
                    if is_image {
                        loss.forward(image(log_probs, dims), targets_nd.clone())
                    } else {
                        loss.forward(log_probs, targets_flat.clone())
                    }
                }),
                burn: None,
                input: input.clone(),
            });
        }
        if wanted("BENCH_LOSSES", "bce_with_logits") {
            let ours = BinaryCrossEntropyWithLogitsLossConfig::new().init(device);
            let burn = burn_loss::BinaryCrossEntropyLossConfig::new()
                .with_logits(true)
                .init(device);
            let (float_targets_ours, int_targets) =
                (float_targets.clone().float(), float_targets.clone());
            cases.push(Case {
                loss: "bce_with_logits",
                shape: shape.id(),
                ours: Box::new(move |logits| ours.forward(logits, float_targets_ours.clone())),
                // Burn's BCE takes integer targets; the same 0/1 values.
                burn: Some(Box::new(move |logits| {
                    burn.forward(logits, int_targets.clone())
                })),
                input: input.clone(),
            });
        }
        if wanted("BENCH_LOSSES", "kl_div") {
            let ours = KlDivLossConfig::new()
                .with_reduction(Reduction::BatchMean)
                .init(device);
            let burn = burn_loss::KLDivLossConfig::new().init();
            let targets = burn::tensor::activation::softmax(
                Tensor::<Ad, 2>::random(input.dims(), Distribution::Default, device),
                1,
            );
            let targets_burn = targets.clone();
            cases.push(Case {
                loss: "kl_div",
                shape: shape.id(),
                ours: Box::new(move |log_probs| ours.forward(log_probs, targets.clone())),
                burn: Some(Box::new(move |log_probs| {
                    burn.forward(
                        log_probs,
                        targets_burn.clone(),
                        burn_loss::Reduction::BatchMean,
                    )
                })),
                input: input.clone(),
            });
        }
        if wanted("BENCH_LOSSES", "mse") {
            let ours = MseLossConfig::new().init(device);
            let targets = Tensor::<Ad, 2>::random(input.dims(), Distribution::Default, device);
            let targets_burn = targets.clone();
            cases.push(Case {
                loss: "mse",
                shape: shape.id(),
                ours: Box::new(move |input| ours.forward(input, targets.clone())),
                burn: Some(Box::new(move |input| {
                    burn_loss::MseLoss::new().forward(
                        input,
                        targets_burn.clone(),
                        burn_loss::Reduction::Mean,
                    )
                })),
                input: input.clone(),
            });
        }
    }
    cases
}

/// Runs one of our steps on the path `BENCH_PATH` names.
fn on_our_path<T>(step: impl FnOnce() -> T) -> T {
    if std::env::var("BENCH_PATH").is_ok_and(|path| path == "generic") {
        burn_losses::backends::generic_path(step)
    } else {
        step()
    }
}

fn forward_backward(loss: &dyn Fn(Tensor<Ad, 2>) -> Tensor<Ad, 1>, input: &Tensor<Ad, 2>) {
    let input = input.clone().require_grad();
    let grads = loss(input.clone()).backward();
    drop(input.grad(&grads).expect("a gradient"));
}

fn forward(loss: &dyn Fn(Tensor<Ad, 2>) -> Tensor<Ad, 1>, input: &Tensor<Ad, 2>) {
    drop(loss(input.clone()).into_data());
}

/// Peak memory above the inputs of forward + backward, ours and Burn's, in `memory.json`.
fn measure_memory(cases: &[Case]) {
    if cfg!(feature = "wgpu") {
        return; // GPU memory is not on the heap this allocator counts.
    }
    let mut rows = Vec::new();
    for case in cases {
        let logits_bytes = case.input.shape().num_elements() * 4;
        let ours = peak_bytes(|| on_our_path(|| forward_backward(&case.ours, &case.input)));
        let burn = case
            .burn
            .as_ref()
            .map(|burn| peak_bytes(|| forward_backward(burn, &case.input)));
        println!(
            "memory {}/{}: ours {:.1} MB, burn {} (logits {:.1} MB)",
            case.loss,
            case.shape,
            ours as f64 / 1e6,
            burn.map_or("-".into(), |b| format!("{:.1} MB", b as f64 / 1e6)),
            logits_bytes as f64 / 1e6
        );
        rows.push(format!(
            "{{\"loss\": \"{}\", \"shape\": \"{}\", \"logits_bytes\": {logits_bytes}, \"ours_peak_bytes\": {ours}, \"burn_peak_bytes\": {}}}",
            case.loss,
            case.shape,
            burn.map_or("null".into(), |b| b.to_string())
        ));
    }
    std::fs::create_dir_all("target/criterion").expect("target/criterion");
    std::fs::write(
        "target/criterion/memory.json",
        format!("[\n{}\n]\n", rows.join(",\n")),
    )
    .expect("memory.json");
}

/// `FusedLinearCrossEntropyLoss` against `CrossEntropyLoss` of the materialised logits at a
/// language-model head: hidden `[N, H]`, projection `[V, H]`. Returns its cases in the shape of
/// the others: the input is the hidden states, the closure owns the projection.
fn fused_cases(device: &burn::tensor::Device<Ad>) -> Vec<Case<'static>> {
    let [rows, features, vocabulary] = [4096, 1024, 32000];
    let id = format!("{rows}x{features}x{vocabulary}");
    if !wanted("BENCH_SHAPES", &id) || !wanted("BENCH_LOSSES", "fused_linear_cross_entropy") {
        return Vec::new();
    }
    let hidden = Tensor::<Ad, 2>::random([rows, features], Distribution::Normal(0.0, 1.0), device);
    let projection = Tensor::<Ad, 2>::random(
        [vocabulary, features],
        Distribution::Normal(0.0, 0.03),
        device,
    )
    .require_grad();
    let targets = Tensor::<Ad, 1, Int>::random(
        [rows],
        Distribution::Uniform(0.0, vocabulary as f64),
        device,
    );
    let fused = FusedLinearCrossEntropyLossConfig::new().init(device);
    let unfused = CrossEntropyLossConfig::new().init(device);
    let (fused_projection, fused_targets) = (projection.clone(), targets.clone());
    vec![Case {
        loss: "fused_linear_cross_entropy",
        shape: id,
        ours: Box::new(move |hidden| {
            fused.forward(
                hidden,
                fused_projection.clone(),
                None,
                fused_targets.clone(),
            )
        }),
        // The peer here is the unfused loss of this crate on the materialised logits.
        burn: Some(Box::new(move |hidden: Tensor<Ad, 2>| {
            unfused.forward(
                hidden.matmul(projection.clone().transpose()),
                targets.clone(),
            )
        })),
        input: hidden,
    }]
}

fn main() {
    let device = Default::default();
    let mut cases = cases(&device);
    cases.extend(fused_cases(&device));
    measure_memory(&cases);
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
        .configure_from_args();
    for case in &cases {
        for (mode, step) in [
            ("forward", forward as fn(&_, &_)),
            ("forward_backward", forward_backward),
        ] {
            let mut group = criterion.benchmark_group(format!("{}/{mode}", case.loss));
            group.bench_function(BenchmarkId::new("burn-losses", &case.shape), |b| {
                b.iter(|| {
                    synced::<Ad, _>(&device, || on_our_path(|| step(&case.ours, &case.input)))
                })
            });
            if let Some(burn) = &case.burn {
                group.bench_function(BenchmarkId::new("burn-nn", &case.shape), |b| {
                    b.iter(|| synced::<Ad, _>(&device, || step(burn, &case.input)))
                });
            }
            group.finish();
        }
    }
    criterion.final_summary();
}
