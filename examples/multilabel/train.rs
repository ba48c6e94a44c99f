//! The model, the losses compared, and the training loop.

use std::time::Instant;

use burn::module::{AutodiffModule, Module};
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor, TensorData};
use burn_losses::{
    AsymmetricLoss, AsymmetricLossConfig, BinaryCrossEntropyWithLogitsLoss,
    BinaryCrossEntropyWithLogitsLossConfig, SigmoidFocalLoss, SigmoidFocalLossConfig, ZlprLoss,
    ZlprLossConfig,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::data::{Dataset, Rng};
use crate::metrics::{Metrics, evaluate};

/// The losses the example compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// Binary cross entropy with logits: one independent sigmoid per label.
    Bce,
    /// BCE with `pos_weight = negatives / positives` per label (from the training set).
    BcePosWeight,
    /// torchvision's sigmoid focal loss (alpha 0.25, gamma 2).
    Focal,
    /// The asymmetric loss of Ridnik et al. (gamma+ 0, gamma- 4, margin 0.05).
    Asl,
    /// ZLPR, the multi-label softmax of Su et al.: positives above 0, negatives below.
    Zlpr,
}

impl LossKind {
    pub const ALL: [LossKind; 5] = [
        LossKind::Bce,
        LossKind::BcePosWeight,
        LossKind::Focal,
        LossKind::Asl,
        LossKind::Zlpr,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LossKind::Bce => "bce",
            LossKind::BcePosWeight => "bce-pos-weight",
            LossKind::Focal => "focal",
            LossKind::Asl => "asl",
            LossKind::Zlpr => "zlpr",
        }
    }
}

/// A loss of [`LossKind`], built for one backend.
enum Objective<B: Backend> {
    WithLogits(BinaryCrossEntropyWithLogitsLoss<B>),
    Focal(SigmoidFocalLoss<B>),
    Asymmetric(AsymmetricLoss<B>),
    Zlpr(ZlprLoss<B>),
}

impl<B: Backend> Objective<B> {
    fn new(kind: LossKind, label_frequencies: &[f32], device: &B::Device) -> Self {
        match kind {
            LossKind::Bce => {
                Self::WithLogits(BinaryCrossEntropyWithLogitsLossConfig::new().init(device))
            }
            LossKind::BcePosWeight => {
                // A label never seen in training gets weight 1 rather than an infinite one.
                let pos_weight = label_frequencies
                    .iter()
                    .map(|&f| if f > 0.0 { (1.0 - f) / f } else { 1.0 })
                    .collect();
                Self::WithLogits(
                    BinaryCrossEntropyWithLogitsLossConfig::new()
                        .with_pos_weight(Some(pos_weight))
                        .init(device),
                )
            }
            LossKind::Focal => Self::Focal(SigmoidFocalLossConfig::new().init(device)),
            LossKind::Asl => Self::Asymmetric(
                AsymmetricLossConfig::new()
                    .with_gamma_pos(0.0)
                    .with_gamma_neg(4.0)
                    .with_clip(0.05)
                    .init(device),
            ),
            LossKind::Zlpr => Self::Zlpr(ZlprLossConfig::new().init(device)),
        }
    }

    fn forward(&self, logits: Tensor<B, 2>, targets: Tensor<B, 2>) -> Tensor<B, 1> {
        match self {
            Self::WithLogits(loss) => loss.forward(logits, targets),
            Self::Focal(loss) => loss.forward(logits, targets),
            Self::Asymmetric(loss) => loss.forward(logits, targets),
            Self::Zlpr(loss) => loss.forward(logits, targets),
        }
    }
}

/// A two-layer perceptron: features -> hidden (ReLU) -> one logit per label.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    hidden: Linear<B>,
    output: Linear<B>,
    activation: Relu,
}

impl<B: Backend> Mlp<B> {
    pub fn new(num_features: usize, hidden: usize, num_labels: usize, device: &B::Device) -> Self {
        Self {
            hidden: LinearConfig::new(num_features, hidden).init(device),
            output: LinearConfig::new(hidden, num_labels).init(device),
            activation: Relu::new(),
        }
    }

    pub fn forward(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        self.output
            .forward(self.activation.forward(self.hidden.forward(features)))
    }
}

/// How to train.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct TrainOptions {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub hidden: usize,
    pub seed: u64,
    /// Show a progress bar per epoch.
    pub progress: bool,
}

/// What one training run produced.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    pub loss: LossKind,
    /// The training objective on the validation set before training and after each epoch.
    pub validation_loss: Vec<f64>,
    /// The validation macro mAP before training and after each epoch.
    pub validation_map: Vec<f64>,
    /// The validation metrics after the last epoch.
    pub metrics: Metrics,
    pub train_seconds: f64,
}

fn tensor<B: Backend>(values: &[f32], columns: usize, device: &B::Device) -> Tensor<B, 2> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), [values.len() / columns, columns]),
        device,
    )
}

/// Trains one model with `kind` on `train` and evaluates it on `validation` after every epoch.
/// The model's initial weights and the batch order depend only on `options.seed`, so every loss
/// starts from the same model and sees the same batches.
pub fn train<B: AutodiffBackend>(
    kind: LossKind,
    train: &Dataset,
    validation: &Dataset,
    options: &TrainOptions,
    device: &B::Device,
) -> Run {
    B::seed(device, options.seed);
    let mut model = Mlp::<B>::new(train.num_features, options.hidden, train.num_labels, device);
    let mut optimizer = AdamConfig::new().init();
    let frequencies = train.label_frequencies();
    let objective = Objective::<B>::new(kind, &frequencies, device);
    let validation_objective = Objective::<B::InnerBackend>::new(kind, &frequencies, device);
    let validation_features =
        tensor::<B::InnerBackend>(&validation.features, validation.num_features, device);
    let validation_labels =
        tensor::<B::InnerBackend>(&validation.labels, validation.num_labels, device);

    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut rng = Rng::new(options.seed);
    let batches = train.len().div_ceil(options.batch_size);
    let evaluate_model = |model: &Mlp<B>, run: &mut Run| {
        let logits = model.valid().forward(validation_features.clone());
        let loss: f64 = validation_objective
            .forward(logits.clone(), validation_labels.clone())
            .into_scalar()
            .elem();
        let scores: Vec<f32> = logits.into_data().iter::<f32>().collect();
        // Every loss here predicts a label where its logit is positive (sigmoid > 0.5; ZLPR's
        // threshold is 0 by construction).
        run.metrics = evaluate(&scores, &validation.labels, validation.num_labels, 0.0);
        run.validation_loss.push(loss);
        run.validation_map.push(run.metrics.macro_map);
    };
    let mut run = Run {
        loss: kind,
        validation_loss: Vec::with_capacity(options.epochs + 1),
        validation_map: Vec::with_capacity(options.epochs + 1),
        metrics: evaluate(&[], &[], validation.num_labels, 0.0),
        train_seconds: 0.0,
    };
    evaluate_model(&model, &mut run);
    for epoch in 1..=options.epochs {
        let bar = if options.progress {
            ProgressBar::new(batches as u64)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>15} epoch {msg} [{bar:30}] {pos}/{len} batches {elapsed_precise}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(kind.name());
        bar.set_message(format!("{epoch:>3}/{}", options.epochs));

        let started = Instant::now();
        rng.shuffle(&mut order);
        for rows in order.chunks(options.batch_size) {
            let batch = train.select(rows);
            let features = tensor::<B>(&batch.features, batch.num_features, device);
            let labels = tensor::<B>(&batch.labels, batch.num_labels, device);
            let loss = objective.forward(model.forward(features), labels);
            let gradients = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(options.learning_rate, model, gradients);
            bar.inc(1);
        }
        run.train_seconds += started.elapsed().as_secs_f64();

        evaluate_model(&model, &mut run);
        bar.finish_with_message(format!(
            "{epoch:>3}/{} val loss {:.4} mAP {:.3}",
            options.epochs, run.validation_loss[epoch], run.metrics.macro_map
        ));
    }
    run
}

/// The label-frequency baseline: every sample gets each label's training frequency as its
/// score, and a label is predicted where that frequency exceeds one half.
pub fn frequency_baseline(train: &Dataset, validation: &Dataset) -> Metrics {
    let frequencies = train.label_frequencies();
    let scores: Vec<f32> = (0..validation.len())
        .flat_map(|_| frequencies.iter().copied())
        .collect();
    evaluate(&scores, &validation.labels, validation.num_labels, 0.5)
}
