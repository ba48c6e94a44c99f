//! Multi-label classification with burn-losses: one MLP trained per loss on the same data, then
//! a table of validation metrics and a chart.
//!
//! ```text
//! cargo run --release --example multilabel                       # synthetic data, every loss
//! cargo run --release --example multilabel -- --loss asl --epochs 10
//! cargo run --release --example multilabel -- --csv data.csv --labels 5
//! cargo run --release --features wgpu --example multilabel -- --backend wgpu
//! ```
//!
//! It writes `metrics.json` and `chart.png` to `--out` (default `target/multilabel`).

mod chart;
mod data;
mod metrics;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use burn::backend::{Autodiff, NdArray};
use burn::tensor::backend::AutodiffBackend;
use clap::{Parser, ValueEnum};
use serde_json::json;

use data::{Dataset, SyntheticSpec};
use metrics::Metrics;
use train::{LossKind, Run, TrainOptions};

/// Trains a two-layer perceptron once per multi-label loss and compares them on validation
/// data: macro mAP, micro-F1, macro-F1, hamming loss, subset accuracy and training time, beside
/// a label-frequency baseline. Every model starts from the same weights and sees the same
/// batches, so the loss is the only difference.
///
/// Without `--csv` it trains on an embedded synthetic data set built to behave like real
/// multi-label data: 24,000 samples, 48 features, 24 labels with long-tailed frequencies (from
/// 40% of the samples down to 3%), labels that co-occur in groups, and features that overlap
/// between the labels of a group.
#[derive(Parser, Debug)]
#[command(name = "multilabel", version)]
struct Args {
    /// The loss to train with, or `all` to train one model per loss and compare them.
    #[arg(long, value_enum, default_value_t = LossChoice::All)]
    loss: LossChoice,
    /// A CSV file to train on instead of the embedded synthetic data set: feature columns, then
    /// `--labels` label columns of 0 or 1. A header row is allowed. 20% of the rows (shuffled
    /// with `--seed`) are held out for validation.
    #[arg(long, value_name = "FILE", requires = "labels")]
    csv: Option<PathBuf>,
    /// How many of the CSV's last columns are labels.
    #[arg(long, value_name = "K", requires = "csv")]
    labels: Option<usize>,
    /// Passes over the training data.
    #[arg(long, default_value_t = 15)]
    epochs: usize,
    /// Samples per optimizer step.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Width of the hidden layer.
    #[arg(long, default_value_t = 128)]
    hidden: usize,
    /// Seeds the data split, the initial weights and the batch order.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where to write metrics.json and chart.png.
    #[arg(long, value_name = "DIR", default_value = "target/multilabel")]
    out: PathBuf,
    /// The Burn backend to train on (`wgpu` needs `--features wgpu` at build time; without a GPU
    /// it runs on a software Vulkan adapter such as lavapipe).
    #[arg(long, value_enum, default_value_t = BackendChoice::Ndarray)]
    backend: BackendChoice,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LossChoice {
    /// Binary cross entropy with logits.
    Bce,
    /// BCE with `pos_weight` = negatives / positives of each label.
    BcePosWeight,
    /// Sigmoid focal loss (alpha 0.25, gamma 2).
    Focal,
    /// Asymmetric loss (gamma+ 0, gamma- 4, probability margin 0.05).
    Asl,
    /// ZLPR, the multi-label softmax.
    Zlpr,
    /// One model per loss above.
    All,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum BackendChoice {
    /// CPU (ndarray).
    Ndarray,
    /// GPU (wgpu: Vulkan, Metal or DirectX 12).
    Wgpu,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.epochs == 0 || args.batch_size == 0 || args.hidden == 0 {
        eprintln!("error: --epochs, --batch-size and --hidden must be at least 1");
        return ExitCode::from(2);
    }
    if !(args.lr.is_finite() && args.lr > 0.0) {
        eprintln!("error: --lr must be a positive number, got {}", args.lr);
        return ExitCode::from(2);
    }
    let (description, dataset) = match (&args.csv, args.labels) {
        (Some(path), Some(labels)) => match data::read_csv(path, labels) {
            Ok(dataset) => (format!("{}", path.display()), dataset),
            Err(error) => {
                eprintln!("error: {}: {error}", path.display());
                return ExitCode::from(2);
            }
        },
        _ => (
            "embedded synthetic data set".to_string(),
            data::synthetic(SyntheticSpec::default()),
        ),
    };
    if dataset.len() < 2 {
        eprintln!("error: need at least 2 samples to hold one out for validation");
        return ExitCode::from(2);
    }
    let losses: Vec<LossKind> = match args.loss {
        LossChoice::Bce => vec![LossKind::Bce],
        LossChoice::BcePosWeight => vec![LossKind::BcePosWeight],
        LossChoice::Focal => vec![LossKind::Focal],
        LossChoice::Asl => vec![LossKind::Asl],
        LossChoice::Zlpr => vec![LossKind::Zlpr],
        LossChoice::All => LossKind::ALL.to_vec(),
    };
    match args.backend {
        BackendChoice::Ndarray => {
            compare::<Autodiff<NdArray>>(&args, &description, dataset, &losses, &Default::default())
        }
        #[cfg(feature = "wgpu")]
        BackendChoice::Wgpu => compare::<Autodiff<burn::backend::Wgpu>>(
            &args,
            &description,
            dataset,
            &losses,
            &Default::default(),
        ),
        #[cfg(not(feature = "wgpu"))]
        BackendChoice::Wgpu => {
            eprintln!(
                "error: this build has no wgpu backend; run with \
                 `cargo run --release --features wgpu --example multilabel -- --backend wgpu`"
            );
            ExitCode::from(2)
        }
    }
}

fn compare<B: AutodiffBackend>(
    args: &Args,
    description: &str,
    dataset: Dataset,
    losses: &[LossKind],
    device: &B::Device,
) -> ExitCode {
    let (mut train_set, mut validation_set) = dataset.split(0.2, args.seed);
    train_set.standardize(&mut [&mut validation_set]);
    let frequencies = train_set.label_frequencies();
    println!(
        "{description}: {} training and {} validation samples, {} features, {} labels \
         (label frequency {:.1}% to {:.1}%, {:.2} labels per sample)",
        train_set.len(),
        validation_set.len(),
        train_set.num_features,
        train_set.num_labels,
        100.0 * frequencies.iter().copied().fold(f32::MAX, f32::min),
        100.0 * frequencies.iter().copied().fold(0.0, f32::max),
        frequencies.iter().sum::<f32>(),
    );
    let options = TrainOptions {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        hidden: args.hidden,
        seed: args.seed,
        progress: !args.quiet,
    };
    let runs: Vec<Run> = losses
        .iter()
        .map(|&kind| train::train::<B>(kind, &train_set, &validation_set, &options, device))
        .collect();
    let baseline = train::frequency_baseline(&train_set, &validation_set);
    print_table(&runs, &baseline);

    if let Err(error) = std::fs::create_dir_all(&args.out) {
        eprintln!("error: cannot create {}: {error}", args.out.display());
        return ExitCode::FAILURE;
    }
    let metrics_path = args.out.join("metrics.json");
    let report = json!({
        "data": {
            "source": description,
            "train_samples": train_set.len(),
            "validation_samples": validation_set.len(),
            "features": train_set.num_features,
            "labels": train_set.num_labels,
            "train_label_frequencies": frequencies,
        },
        "options": options,
        "backend": format!("{:?}", args.backend),
        "baseline": baseline,
        "runs": runs,
    });
    let written = serde_json::to_string_pretty(&report)
        .map_err(|e| e.to_string())
        .and_then(|text| std::fs::write(&metrics_path, text).map_err(|e| e.to_string()));
    if let Err(error) = written {
        eprintln!("error: cannot write {}: {error}", metrics_path.display());
        return ExitCode::FAILURE;
    }
    let chart_path = args.out.join("chart.png");
    if let Err(error) = chart::draw(&chart_path, &runs, baseline.macro_map) {
        eprintln!("error: cannot draw {}: {error}", chart_path.display());
        return ExitCode::FAILURE;
    }
    println!(
        "\nwrote {} and {}",
        metrics_path.display(),
        chart_path.display()
    );
    ExitCode::SUCCESS
}

fn print_table(runs: &[Run], baseline: &Metrics) {
    println!(
        "\n{:<16} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "loss", "macro mAP", "micro-F1", "macro-F1", "hamming", "subset", "train s"
    );
    let row = |name: &str, m: &Metrics, seconds: Option<f64>| {
        println!(
            "{name:<16} {:>9.3} {:>9.3} {:>9.3} {:>9.4} {:>9.3} {:>9}",
            m.macro_map,
            m.micro_f1,
            m.macro_f1,
            m.hamming_loss,
            m.subset_accuracy,
            seconds.map_or("-".to_string(), |s| format!("{s:.1}")),
        );
    };
    for run in runs {
        row(run.loss.name(), &run.metrics, Some(run.train_seconds));
    }
    row("label frequency", baseline, None);
}
