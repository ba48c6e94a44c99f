//! burn-losses with burn-train's `Learner`.
//!
//! The same two-layer perceptron trained by burn-train (`SupervisedTraining`, `Learner`, Adam) with
//! a loss from burn-losses picked on the command line:
//!
//! - `ce`: multi-class, `CrossEntropyLoss` with label smoothing; the steps return burn-train's
//!   `ClassificationOutput`, with its `AccuracyMetric` and `LossMetric`;
//! - `focal`, `asl`, `bce`: multi-label, `SigmoidFocalLoss`, `AsymmetricLoss` or
//!   `BinaryCrossEntropyWithLogitsLoss`; the steps return `MultiLabelClassificationOutput`, with
//!   `HammingScore` and `LossMetric`.
//!
//! The data are synthetic and built in (no download). With a terminal, burn-train's dashboard
//! shows the run; `--headless` (or no terminal) prints burn-train's summary instead, which is how
//! CI runs it: `cargo run -p burn-losses-learner -- --loss all --headless --check`.
//!
//! `--devices 2` trains data-parallel on two NdArray devices with burn-train's
//! `ExecutionStrategy::MultiDevice`, with the exact mean over the devices' batches: each
//! device's step differentiates its loss's sum (`forward_sum`) and records its normaliser,
//! burn-train adds the devices' gradients, and the optimizer step divides them by the step's total
//! normaliser ([`StepNormalizer`]). A quarter of the multi-class training samples have no class
//! (`--unlabelled`, ignored by the cross entropy and the accuracy), so batches count different
//! numbers of targets. With `--check`, a multi-device run is compared with one device taking the
//! same samples per optimizer step.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use burn::backend::{Autodiff, NdArray};
use burn::config::Config;
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::InMemDataset;
use burn::module::{AutodiffModule, Module, ModuleVisitor, Param};
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::train::metric::{AccuracyMetric, HammingScore, LossMetric};
use burn::train::renderer::{
    EvaluationName, EvaluationProgress, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining, ProgressType, TrainingProgress,
};
use burn::train::{
    ClassificationOutput, ExecutionStrategy, InferenceStep, Learner, LearningComponentsTypes,
    MultiDeviceOptim, MultiLabelClassificationOutput, SupervisedTraining, TrainOutput, TrainStep,
};
use burn_losses::{
    AsymmetricLoss, AsymmetricLossConfig, BinaryCrossEntropyWithLogitsLoss,
    BinaryCrossEntropyWithLogitsLossConfig, CrossEntropyLoss, CrossEntropyLossConfig, LossSum,
    SigmoidFocalLoss, SigmoidFocalLossConfig,
};
use clap::{Parser, ValueEnum};

type Train = Autodiff<NdArray>;

#[derive(Parser, Debug)]
#[command(about = "Train with burn-train's Learner and a loss from burn-losses")]
struct Args {
    /// The loss: `ce` (multi-class cross entropy with label smoothing), `focal`, `asl`, `bce`
    /// (multi-label), or `all` of them one after the other.
    #[arg(long, value_enum, default_value_t = LossArg::Ce)]
    loss: LossArg,
    /// Label smoothing of the cross entropy.
    #[arg(long, default_value_t = 0.1)]
    label_smoothing: f32,
    #[arg(long, default_value_t = 8)]
    epochs: usize,
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    #[arg(long, default_value_t = 3e-3)]
    lr: f64,
    /// Training samples (validation: a quarter as many).
    #[arg(long, default_value_t = 4096)]
    samples: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Fraction of the multi-class training samples without a class (ignored by the cross
    /// entropy and by the accuracy).
    #[arg(long, default_value_t = 0.25)]
    unlabelled: f64,
    /// Data-parallel training on this many NdArray devices (burn-train's
    /// `ExecutionStrategy::MultiDevice`, optimizer on the first device), with the exact mean over
    /// all the devices' batches of a step.
    #[arg(long, default_value_t = 1)]
    devices: usize,
    /// No terminal dashboard: burn-train's summary table at the end (automatic without a
    /// terminal).
    #[arg(long)]
    headless: bool,
    /// Fail (exit code 1) unless training learned: validation loss fell by a third, and accuracy
    /// (multi-class) or macro ROC AUC (multi-label) is far above chance; with several devices,
    /// also unless the result is within the stated tolerance of one device taking the same
    /// samples per optimizer step.
    #[arg(long)]
    check: bool,
    /// Where burn-train writes its logs, and this run its loss config (`<loss>/loss.json`).
    #[arg(long, default_value = "target/learner")]
    artifacts: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
enum LossArg {
    Ce,
    Focal,
    Asl,
    Bce,
    All,
}

// ---------------------------------------------------------------------------------------------
// The models: one perceptron, two heads of burn-train's outputs.

#[derive(Module, Debug)]
struct Mlp<B: Backend> {
    hidden: Linear<B>,
    output: Linear<B>,
    activation: Relu,
}

impl<B: Backend> Mlp<B> {
    fn new(inputs: usize, hidden: usize, outputs: usize, device: &B::Device) -> Self {
        Self {
            hidden: LinearConfig::new(inputs, hidden).init(device),
            output: LinearConfig::new(hidden, outputs).init(device),
            activation: Relu::new(),
        }
    }

    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.output
            .forward(self.activation.forward(self.hidden.forward(x)))
    }
}

/// The normalisers of the batches differentiated since the last optimizer step, shared by the
/// model's copies on every device. Each training step records its batch's normaliser and returns
/// the gradient of its loss's sum; burn-train adds the gradients of the devices (and of
/// gradient accumulation), and the optimizer step divides them by the total
/// ([`divide_gradients`]): the exact mean over all those batches, however many targets each one
/// counts. Dividing each batch by its own count instead would weigh a batch of few counted
/// targets as much as a full one.
#[derive(Clone, Debug, Default)]
struct StepNormalizer(Arc<Mutex<f64>>);

impl StepNormalizer {
    /// A training step's gradients (of the loss's sum) and its mean for burn-train's metrics;
    /// records the normaliser.
    fn differentiate<B: AutodiffBackend>(&self, loss: LossSum<B>) -> (B::Gradients, Tensor<B, 1>) {
        // One number read back per step, as burn-train's loss metric does.
        let total = loss.normalizer.total().into_scalar().elem::<f64>();
        *self.0.lock().expect("no step panicked") += total;
        let mean = loss.clone().mean();
        (loss.sum.backward(), mean)
    }

    /// The total since the last optimizer step, starting a new one.
    fn take(&self) -> f64 {
        std::mem::take(&mut *self.0.lock().expect("no step panicked"))
    }
}

/// `grads` of `module`'s parameters divided by `total` (left as they are, all zero, when the
/// step counted no target).
fn divide_gradients<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    mut grads: GradientsParams,
    total: f64,
) -> GradientsParams {
    struct Divide<'a> {
        grads: &'a mut GradientsParams,
        factor: f64,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Divide<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            if let Some(gradient) = self.grads.remove::<B::InnerBackend, D>(param.id) {
                self.grads.register(param.id, gradient * self.factor);
            }
        }
    }
    if total > 0.0 {
        module.visit(&mut Divide {
            grads: &mut grads,
            factor: 1.0 / total,
        });
    }
    grads
}

/// Multi-class: logits `(N, C)`, class-index targets `(N)`.
#[derive(Module, Debug)]
struct Classifier<B: Backend> {
    mlp: Mlp<B>,
    // A burn-losses loss is a `Module` (its options are constants), so it lives in the model.
    loss: CrossEntropyLoss<B>,
    #[module(skip)]
    normalizers: StepNormalizer,
}

impl<B: Backend> Classifier<B> {
    fn forward_classification(&self, batch: ClassBatch<B>) -> ClassificationOutput<B> {
        let logits = self.mlp.forward(batch.features);
        let loss = self.loss.forward(logits.clone(), batch.targets.clone());
        ClassificationOutput::new(loss, logits, batch.targets)
    }
}

impl<B: AutodiffBackend> TrainStep for Classifier<B> {
    type Input = ClassBatch<B>;
    type Output = ClassificationOutput<B>;

    fn step(&self, batch: ClassBatch<B>) -> TrainOutput<ClassificationOutput<B>> {
        let logits = self.mlp.forward(batch.features);
        let loss = self.loss.forward_sum(logits.clone(), batch.targets.clone());
        let (gradients, mean) = self.normalizers.differentiate(loss);
        let item = ClassificationOutput::new(mean, logits, batch.targets);
        TrainOutput::new(self, gradients, item)
    }

    fn optimize<BO, O>(self, optim: &mut O, lr: f64, grads: GradientsParams) -> Self
    where
        BO: AutodiffBackend,
        O: Optimizer<Self, BO>,
        Self: AutodiffModule<BO>,
    {
        let grads = divide_gradients(&self, grads, self.normalizers.take());
        optim.step(lr, self, grads)
    }
}

impl<B: Backend> InferenceStep for Classifier<B> {
    type Input = ClassBatch<B>;
    type Output = ClassificationOutput<B>;

    fn step(&self, batch: ClassBatch<B>) -> ClassificationOutput<B> {
        self.forward_classification(batch)
    }
}

/// The multi-label losses of this example (a `Module` enum, so the model holds any of them).
#[derive(Module, Debug)]
enum TagLoss<B: Backend> {
    Focal(SigmoidFocalLoss<B>),
    Asl(AsymmetricLoss<B>),
    Bce(BinaryCrossEntropyWithLogitsLoss<B>),
}

impl<B: Backend> TagLoss<B> {
    fn forward(&self, logits: Tensor<B, 2>, targets: Tensor<B, 2>) -> Tensor<B, 1> {
        match self {
            TagLoss::Focal(loss) => loss.forward(logits, targets),
            TagLoss::Asl(loss) => loss.forward(logits, targets),
            TagLoss::Bce(loss) => loss.forward(logits, targets),
        }
    }

    fn forward_sum(&self, logits: Tensor<B, 2>, targets: Tensor<B, 2>) -> LossSum<B> {
        match self {
            TagLoss::Focal(loss) => loss.forward_sum(logits, targets),
            TagLoss::Asl(loss) => loss.forward_sum(logits, targets),
            TagLoss::Bce(loss) => loss.forward_sum(logits, targets),
        }
    }
}

/// Multi-label: logits `(N, L)`, 0/1 targets `(N, L)`.
#[derive(Module, Debug)]
struct Tagger<B: Backend> {
    mlp: Mlp<B>,
    loss: TagLoss<B>,
    #[module(skip)]
    normalizers: StepNormalizer,
}

impl<B: Backend> Tagger<B> {
    fn forward_tagging(&self, batch: TagBatch<B>) -> MultiLabelClassificationOutput<B> {
        let logits = self.mlp.forward(batch.features);
        let loss = self
            .loss
            .forward(logits.clone(), batch.targets.clone().float());
        MultiLabelClassificationOutput::new(loss, logits, batch.targets)
    }
}

impl<B: AutodiffBackend> TrainStep for Tagger<B> {
    type Input = TagBatch<B>;
    type Output = MultiLabelClassificationOutput<B>;

    fn step(&self, batch: TagBatch<B>) -> TrainOutput<MultiLabelClassificationOutput<B>> {
        let logits = self.mlp.forward(batch.features);
        let loss = self
            .loss
            .forward_sum(logits.clone(), batch.targets.clone().float());
        let (gradients, mean) = self.normalizers.differentiate(loss);
        let item = MultiLabelClassificationOutput::new(mean, logits, batch.targets);
        TrainOutput::new(self, gradients, item)
    }

    fn optimize<BO, O>(self, optim: &mut O, lr: f64, grads: GradientsParams) -> Self
    where
        BO: AutodiffBackend,
        O: Optimizer<Self, BO>,
        Self: AutodiffModule<BO>,
    {
        let grads = divide_gradients(&self, grads, self.normalizers.take());
        optim.step(lr, self, grads)
    }
}

impl<B: Backend> InferenceStep for Tagger<B> {
    type Input = TagBatch<B>;
    type Output = MultiLabelClassificationOutput<B>;

    fn step(&self, batch: TagBatch<B>) -> MultiLabelClassificationOutput<B> {
        self.forward_tagging(batch)
    }
}

// ---------------------------------------------------------------------------------------------
// Built-in synthetic data.

const FEATURES: usize = 16;
const CLASSES: usize = 4;
const LABELS: usize = 6;
const HIDDEN: usize = 64;

/// One sample: features, its class (multi-class task) and its labels (multi-label task).
#[derive(Clone, Debug)]
struct Sample {
    features: Vec<f32>,
    class: i64,
    labels: Vec<i64>,
}

/// A small deterministic generator (SplitMix64 and Box-Muller), so the data need no crate.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(f64::MIN_POSITIVE);
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * self.uniform()).cos()
    }
}

/// Multi-class: a Gaussian cloud around each class centre. Multi-label: label `l` is present
/// with frequency 8% to 45%, and each present label adds its prototype to the features.
fn synthetic(n: usize, seed: u64) -> Vec<Sample> {
    // Centres and prototypes from a fixed seed: the same task for the training and validation
    // sets, whatever `seed` draws the samples.
    let mut task = Rng(7);
    let centres: Vec<Vec<f64>> = (0..CLASSES)
        .map(|_| (0..FEATURES).map(|_| task.normal()).collect())
        .collect();
    let prototypes: Vec<Vec<f64>> = (0..LABELS)
        .map(|_| (0..FEATURES).map(|_| 1.2 * task.normal()).collect())
        .collect();
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let class = (rng.next_u64() % CLASSES as u64) as usize;
            let labels: Vec<i64> = (0..LABELS)
                .map(|l| (rng.uniform() < 0.45 - 0.074 * l as f64) as i64)
                .collect();
            let features = (0..FEATURES)
                .map(|j| {
                    let tags: f64 = (0..LABELS)
                        .filter(|&l| labels[l] == 1)
                        .map(|l| prototypes[l][j])
                        .sum();
                    // The class centre and the label prototypes share the features; the noise
                    // keeps both tasks well short of perfect.
                    (centres[class][j] + tags + 1.3 * rng.normal()) as f32
                })
                .collect();
            Sample {
                features,
                class: class as i64,
                labels,
            }
        })
        .collect()
}

/// The class of an unlabelled sample: the cross entropy's `ignore_index`, and the pad token of
/// burn-train's accuracy (which takes no negative index, hence not PyTorch's -100).
const UNLABELLED: usize = CLASSES;

/// `samples` with the class of a `fraction` of them replaced by [`UNLABELLED`], so that batches
/// count different numbers of targets.
fn without_some_classes(samples: &[Sample], fraction: f64, seed: u64) -> Vec<Sample> {
    let mut rng = Rng(seed ^ 0x5EED);
    samples
        .iter()
        .map(|sample| Sample {
            class: if rng.uniform() < fraction {
                UNLABELLED as i64
            } else {
                sample.class
            },
            ..sample.clone()
        })
        .collect()
}

#[derive(Clone, Debug)]
struct ClassBatch<B: Backend> {
    features: Tensor<B, 2>,
    targets: Tensor<B, 1, Int>,
}

#[derive(Clone, Debug)]
struct TagBatch<B: Backend> {
    features: Tensor<B, 2>,
    targets: Tensor<B, 2, Int>,
}

#[derive(Clone, Default)]
struct Batches;

fn features<B: Backend>(items: &[Sample], device: &B::Device) -> Tensor<B, 2> {
    let data: Vec<f32> = items.iter().flat_map(|s| s.features.clone()).collect();
    Tensor::<B, 1>::from_floats(data.as_slice(), device).reshape([items.len(), FEATURES])
}

impl<B: Backend> Batcher<B, Sample, ClassBatch<B>> for Batches {
    fn batch(&self, items: Vec<Sample>, device: &B::Device) -> ClassBatch<B> {
        let classes: Vec<i64> = items.iter().map(|s| s.class).collect();
        ClassBatch {
            features: features(&items, device),
            targets: Tensor::from_ints(classes.as_slice(), device),
        }
    }
}

impl<B: Backend> Batcher<B, Sample, TagBatch<B>> for Batches {
    fn batch(&self, items: Vec<Sample>, device: &B::Device) -> TagBatch<B> {
        let labels: Vec<i64> = items.iter().flat_map(|s| s.labels.clone()).collect();
        TagBatch {
            features: features(&items, device),
            targets: Tensor::<B, 1, Int>::from_ints(labels.as_slice(), device)
                .reshape([items.len(), LABELS]),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A quiet renderer for headless runs: burn-train calls it on every iteration; it prints nothing
// there, and burn-train's summary table (`SupervisedTraining::summary`) at the end.

struct Quiet;

impl MetricsRendererTraining for Quiet {
    fn update_train(&mut self, _state: MetricState) {}
    fn update_valid(&mut self, _state: MetricState) {}
    fn render_train(&mut self, _item: TrainingProgress, _progress: Vec<ProgressType>) {}
    fn render_valid(&mut self, _item: TrainingProgress, _progress: Vec<ProgressType>) {}
}

impl MetricsRendererEvaluation for Quiet {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
    fn render_test(&mut self, _item: EvaluationProgress, _progress: Vec<ProgressType>) {}
}

impl MetricsRenderer for Quiet {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, _definition: burn::train::metric::MetricDefinition) {}
}

// ---------------------------------------------------------------------------------------------
// Training.

/// What one run measured on the validation set, before and after training.
struct Outcome {
    loss_before: f32,
    loss_after: f32,
    /// Accuracy (multi-class) or macro ROC AUC (multi-label).
    score: f64,
    /// The score of a model that knows nothing: 1 / classes, or AUC 0.5.
    chance: f64,
    score_name: &'static str,
}

fn main() {
    let args = Args::parse();
    let losses = match args.loss {
        LossArg::All => vec![LossArg::Ce, LossArg::Focal, LossArg::Asl, LossArg::Bce],
        one => vec![one],
    };
    let headless = args.headless || !std::io::stdout().is_terminal();
    let train: Vec<Sample> = synthetic(args.samples, args.seed);
    let valid: Vec<Sample> = synthetic(args.samples / 4, args.seed ^ 0xA5A5);
    println!(
        "built-in synthetic data: {} training and {} validation samples, {FEATURES} features, \
         {CLASSES} classes (multi-class) or {LABELS} labels (multi-label)",
        train.len(),
        valid.len()
    );

    let mut failed = Vec::new();
    for loss in losses {
        let name = format!("{loss:?}").to_lowercase();
        let run = |parallelism: Parallelism, dir: PathBuf| {
            // A fresh directory: burn-train resumes from nothing and appends to nothing.
            std::fs::remove_dir_all(&dir).ok();
            std::fs::create_dir_all(&dir).expect("create the artifact directory");
            let outcome = match loss {
                LossArg::Ce => {
                    run_classification(&args, parallelism, &dir, &train, &valid, headless)
                }
                _ => run_tagging(&args, parallelism, loss, &dir, &train, &valid, headless),
            };
            println!(
                "{loss:?} ({parallelism}): validation loss {:.4} -> {:.4}, {} {:.3} (chance {:.3})",
                outcome.loss_before,
                outcome.loss_after,
                outcome.score_name,
                outcome.score,
                outcome.chance
            );
            outcome
        };
        let parallelism = Parallelism {
            devices: args.devices,
            batch_size: args.batch_size,
        };
        let outcome = run(parallelism, args.artifacts.join(&name));
        if !outcome.learned() {
            failed.push(format!("{loss:?} did not learn the task"));
        }
        if args.devices > 1 {
            let one_device = Parallelism {
                devices: 1,
                batch_size: args.batch_size * args.devices,
            };
            let reference = run(
                one_device,
                args.artifacts.join(format!("{name}-one-device")),
            );
            if let Some(difference) = outcome.differs_from(&reference) {
                failed.push(format!(
                    "{loss:?} on {} devices: {difference}",
                    args.devices
                ));
            }
        }
    }
    if args.check && !failed.is_empty() {
        eprintln!("--check failed: {failed:?}");
        std::process::exit(1);
    }
}

/// How a run trains: on how many devices, each taking `batch_size` samples per step.
#[derive(Clone, Copy)]
struct Parallelism {
    devices: usize,
    batch_size: usize,
}

impl std::fmt::Display for Parallelism {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = if self.devices == 1 { "" } else { "s" };
        write!(
            f,
            "{} device{plural}, batch {}",
            self.devices, self.batch_size
        )
    }
}

/// How far a multi-device run may end from one device taking the same samples per optimizer
/// step: the runs see the samples in another order (burn-train gives each device its own slice
/// of the data set), so they agree only statistically. Relative, on the validation loss.
const DEVICES_LOSS_TOLERANCE: f32 = 0.05;
/// The same on the score (accuracy or macro ROC AUC), absolute.
const DEVICES_SCORE_TOLERANCE: f64 = 0.02;

impl Outcome {
    /// Validation loss fell by a third, and the score is far above chance.
    fn learned(&self) -> bool {
        self.loss_after < self.loss_before * 2.0 / 3.0
            && self.score > self.chance + 0.6 * (1.0 - self.chance)
    }

    /// What differs from `reference` by more than the tolerances, if anything.
    fn differs_from(&self, reference: &Outcome) -> Option<String> {
        let loss = (self.loss_after - reference.loss_after).abs() / reference.loss_after;
        let score = (self.score - reference.score).abs();
        (loss > DEVICES_LOSS_TOLERANCE || score > DEVICES_SCORE_TOLERANCE).then(|| {
            format!(
                "validation loss {:.4} against {:.4} on one device ({:.1}%, tolerance {:.0}%), \
                 {} {:.3} against {:.3} (tolerance {DEVICES_SCORE_TOLERANCE})",
                self.loss_after,
                reference.loss_after,
                100.0 * loss,
                100.0 * DEVICES_LOSS_TOLERANCE,
                self.score_name,
                self.score,
                reference.score
            )
        })
    }
}

fn save_loss_config(dir: &Path, config: &impl Config) {
    // A training run's loss settings, stored beside its logs (and loadable with `Config::load`).
    config
        .save(dir.join("loss.json"))
        .expect("write the loss config");
}

fn run_classification(
    args: &Args,
    parallelism: Parallelism,
    dir: &Path,
    train: &[Sample],
    valid: &[Sample],
    headless: bool,
) -> Outcome {
    let device = Default::default();
    Train::seed(&device, args.seed);
    let config = CrossEntropyLossConfig::new()
        .with_label_smoothing(args.label_smoothing)
        .with_ignore_index(Some(UNLABELLED as i64));
    save_loss_config(dir, &config);
    let model = Classifier::<Train> {
        mlp: Mlp::new(FEATURES, HIDDEN, CLASSES, &device),
        loss: config.init(&device),
        normalizers: StepNormalizer::default(),
    };
    let before = evaluate_classification(&model.valid(), valid);

    let train = without_some_classes(train, args.unlabelled, args.seed);
    let (loader_train, loader_valid) = loaders(args, parallelism, train, valid);
    let training = SupervisedTraining::new(dir, loader_train, loader_valid)
        .metrics((
            AccuracyMetric::new().with_pad_token(UNLABELLED),
            LossMetric::new(),
        ))
        .num_epochs(args.epochs)
        .summary();
    let training = with_run_options(training, parallelism, headless);
    let learner = Learner::new(model, AdamConfig::new().init(), args.lr);
    let result = training.launch(learner);

    let after = evaluate_classification(&result.model, valid);
    Outcome {
        loss_before: before.0,
        loss_after: after.0,
        score: after.1,
        chance: 1.0 / CLASSES as f64,
        score_name: "accuracy",
    }
}

fn run_tagging(
    args: &Args,
    parallelism: Parallelism,
    which: LossArg,
    dir: &Path,
    train: &[Sample],
    valid: &[Sample],
    headless: bool,
) -> Outcome {
    let device = Default::default();
    Train::seed(&device, args.seed);
    let loss = match which {
        LossArg::Focal => {
            // alpha 0.25 is torchvision's detection default; tagging wants the positives up.
            let config = SigmoidFocalLossConfig::new().with_alpha(Some(0.5));
            save_loss_config(dir, &config);
            TagLoss::Focal(config.init(&device))
        }
        LossArg::Asl => {
            let config = AsymmetricLossConfig::new();
            save_loss_config(dir, &config);
            TagLoss::Asl(config.init(&device))
        }
        LossArg::Bce => {
            let config = BinaryCrossEntropyWithLogitsLossConfig::new();
            save_loss_config(dir, &config);
            TagLoss::Bce(config.init(&device))
        }
        LossArg::Ce | LossArg::All => unreachable!("not a multi-label loss"),
    };
    let model = Tagger::<Train> {
        mlp: Mlp::new(FEATURES, HIDDEN, LABELS, &device),
        loss,
        normalizers: StepNormalizer::default(),
    };
    let before = evaluate_tagging(&model.valid(), valid);

    let (loader_train, loader_valid) = loaders(args, parallelism, train.to_vec(), valid);
    let training = SupervisedTraining::new(dir, loader_train, loader_valid)
        .metrics((HammingScore::new().with_sigmoid(true), LossMetric::new()))
        .num_epochs(args.epochs)
        .summary();
    let training = with_run_options(training, parallelism, headless);
    let learner = Learner::new(model, AdamConfig::new().init(), args.lr);
    let result = training.launch(learner);

    let after = evaluate_tagging(&result.model, valid);
    Outcome {
        loss_before: before.0,
        loss_after: after.0,
        score: after.1,
        chance: 0.5,
        score_name: "macro ROC AUC",
    }
}

/// A burn data loader of `Batch`es on backend `B`.
type Loader<B, Batch> = Arc<dyn DataLoader<B, Batch>>;

/// The training loader (shuffled, `parallelism.batch_size` samples per batch; burn-train splits
/// it between the devices) and the validation loader of a task whose batches are `TrainBatch` and
/// `ValidBatch`.
fn loaders<TrainBatch, ValidBatch>(
    args: &Args,
    parallelism: Parallelism,
    train: Vec<Sample>,
    valid: &[Sample],
) -> (Loader<Train, TrainBatch>, Loader<Valid, ValidBatch>)
where
    TrainBatch: Send + Clone + std::fmt::Debug + 'static,
    ValidBatch: Send + Clone + std::fmt::Debug + 'static,
    Batches: Batcher<Train, Sample, TrainBatch> + Batcher<Valid, Sample, ValidBatch>,
{
    let train = DataLoaderBuilder::new(Batches)
        .batch_size(parallelism.batch_size)
        .shuffle(args.seed)
        .num_workers(1)
        .build(InMemDataset::new(train));
    let valid = DataLoaderBuilder::new(Batches)
        .batch_size(args.batch_size)
        .num_workers(1)
        .build(InMemDataset::new(valid.to_vec()));
    (train, valid)
}

/// The options both tasks train with: the quiet renderer when headless, and burn-train's
/// multi-device execution (optimizer on the first device) for several devices.
fn with_run_options<LC: LearningComponentsTypes<Backend = Train>>(
    mut training: SupervisedTraining<LC>,
    parallelism: Parallelism,
    headless: bool,
) -> SupervisedTraining<LC> {
    if headless {
        training = training.renderer(Quiet);
    }
    if parallelism.devices > 1 {
        let devices = vec![Default::default(); parallelism.devices];
        training = training.with_training_strategy(
            ExecutionStrategy::MultiDevice(devices, MultiDeviceOptim::OptimMainDevice).into(),
        );
    }
    training
}

type Valid = NdArray;

/// Validation loss and accuracy of a multi-class model, in one batch.
fn evaluate_classification(model: &Classifier<Valid>, valid: &[Sample]) -> (f32, f64) {
    let batch: ClassBatch<Valid> = Batches.batch(valid.to_vec(), &Default::default());
    let out = model.forward_classification(batch);
    let predicted = out.output.argmax(1).squeeze_dim::<1>(1);
    let correct = predicted.equal(out.targets).int().sum().into_scalar() as f64;
    (out.loss.into_scalar(), correct / valid.len() as f64)
}

/// Validation loss and macro ROC AUC (threshold-free, so every loss is judged alike) of a
/// multi-label model, in one batch.
fn evaluate_tagging(model: &Tagger<Valid>, valid: &[Sample]) -> (f32, f64) {
    let batch: TagBatch<Valid> = Batches.batch(valid.to_vec(), &Default::default());
    let out = model.forward_tagging(batch);
    let logits: Vec<f32> = out.output.into_data().to_vec().unwrap();
    let mut auc = 0.0;
    for l in 0..LABELS {
        let mut scored: Vec<(f32, i64)> = valid
            .iter()
            .enumerate()
            .map(|(i, s)| (logits[i * LABELS + l], s.labels[l]))
            .collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Mann-Whitney: the rank sum of the positives (ties are rare with float logits).
        let positives = scored.iter().filter(|s| s.1 == 1).count() as f64;
        let negatives = scored.len() as f64 - positives;
        let rank_sum: f64 = scored
            .iter()
            .enumerate()
            .filter(|(_, s)| s.1 == 1)
            .map(|(rank, _)| rank as f64 + 1.0)
            .sum();
        auc += (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives);
    }
    (out.loss.into_scalar(), auc / LABELS as f64)
}
