//! The multi-label example (`examples/multilabel/`), exercised as a library: a few seconds of
//! training per loss, the CSV reader's error messages, and the chart.

#[path = "../examples/multilabel/chart.rs"]
mod chart;
#[path = "../examples/multilabel/data.rs"]
mod data;
#[path = "../examples/multilabel/metrics.rs"]
mod metrics;
#[path = "../examples/multilabel/train.rs"]
mod train;

use burn::backend::{Autodiff, NdArray};
use data::{CsvError, SyntheticSpec, parse_csv, read_csv};
use train::{LossKind, TrainOptions};

type B = Autodiff<NdArray>;

#[test]
fn every_loss_learns_and_beats_the_label_frequency_baseline() {
    let dataset = data::synthetic(SyntheticSpec {
        samples: 2000,
        ..SyntheticSpec::default()
    });
    let (mut train_set, mut validation_set) = dataset.split(0.25, 1);
    train_set.standardize(&mut [&mut validation_set]);
    let options = TrainOptions {
        epochs: 6,
        batch_size: 64,
        learning_rate: 3e-3,
        hidden: 64,
        seed: 1,
        progress: false,
    };
    let baseline = train::frequency_baseline(&train_set, &validation_set);
    let device = Default::default();
    for kind in LossKind::ALL {
        let run = train::train::<B>(kind, &train_set, &validation_set, &options, &device);
        let (first, last) = (run.validation_loss[0], *run.validation_loss.last().unwrap());
        assert!(
            last < 0.9 * first,
            "{}: validation loss should fall by a tenth at least, went {first} -> {last}",
            kind.name()
        );
        assert!(
            run.metrics.macro_map > baseline.macro_map + 0.1,
            "{}: mAP {} should beat the baseline's {} by 0.1 at least",
            kind.name(),
            run.metrics.macro_map,
            baseline.macro_map
        );
        assert_eq!(run.validation_map.len(), options.epochs + 1);
        eprintln!(
            "{}: loss {first:.4} -> {last:.4}, mAP {:.3} (baseline {:.3})",
            kind.name(),
            run.metrics.macro_map,
            baseline.macro_map
        );
    }
}

#[test]
fn the_synthetic_data_set_is_long_tailed_with_co_occurring_labels() {
    let dataset = data::synthetic(SyntheticSpec::default());
    assert_eq!(
        dataset,
        data::synthetic(SyntheticSpec::default()),
        "deterministic"
    );
    let frequencies = dataset.label_frequencies();
    let (head, tail) = (frequencies[0], frequencies[frequencies.len() - 1]);
    assert!(head > 0.3 && tail < 0.05, "head {head}, tail {tail}");
    // Label 1 follows label 0 half of the time: they co-occur far above independence.
    let both = dataset
        .labels
        .chunks(dataset.num_labels)
        .filter(|row| row[0] == 1.0 && row[1] == 1.0)
        .count() as f32
        / dataset.len() as f32;
    assert!(both > 2.0 * frequencies[0] * frequencies[1] * 0.7, "{both}");
}

#[test]
fn csv_with_a_header_is_read() {
    let dataset = parse_csv("a,b,l1,l2\n0.5,-1,1,0\n2,3e-1,0,0\n", 2).unwrap();
    assert_eq!(dataset.num_features, 2);
    assert_eq!(dataset.num_labels, 2);
    assert_eq!(dataset.features, [0.5, -1.0, 2.0, 0.3]);
    assert_eq!(dataset.labels, [1.0, 0.0, 0.0, 0.0]);
}

#[test]
fn csv_missing_file_is_unreadable() {
    let error = read_csv(std::path::Path::new("/no/such/file.csv"), 2).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot read it: No such file or directory (os error 2)"
    );
}

#[test]
fn csv_ragged_row_names_the_line() {
    let error = parse_csv("1,2,0\n1,2\n", 1).unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 2: expected 3 columns (as the first row), found 2"
    );
}

#[test]
fn csv_non_numeric_cell_names_line_and_column() {
    let error = parse_csv("f,g,l\n1,2,0\n1,x,1\n", 1).unwrap_err();
    assert_eq!(error.to_string(), "line 3, column 2: \"x\" is not a number");
}

#[test]
fn csv_label_that_is_not_0_or_1_names_line_and_column() {
    let error = parse_csv("1,2,0\n1,2,0.5\n", 1).unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 2, column 3: label cells must be 0 or 1, found \"0.5\""
    );
    let error = parse_csv("1,2,0\n1,2,yes\n", 1).unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 2, column 3: label cells must be 0 or 1, found \"yes\""
    );
}

#[test]
fn csv_label_count_out_of_range() {
    for labels in [0, 3, 4] {
        let error = parse_csv("1,2,0\n", labels).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "--labels {labels} is out of range: the file has 3 columns, and at least one \
                 must be a feature, so --labels must be between 1 and 2"
            )
        );
    }
}

#[test]
fn csv_without_data_rows() {
    let path = std::env::temp_dir().join("burn_losses_empty.csv");
    std::fs::write(&path, "a,b,c\n\n").unwrap();
    let error = read_csv(&path, 1).unwrap_err();
    assert_eq!(error, CsvError::Empty);
    assert_eq!(error.to_string(), "no data rows");
}

#[test]
fn chart_is_a_png() {
    let run = |kind, losses: Vec<f64>, maps: Vec<f64>| train::Run {
        loss: kind,
        metrics: metrics::evaluate(&[0.9, -1.0], &[1.0, 0.0], 2, 0.0),
        validation_loss: losses,
        validation_map: maps,
        train_seconds: 1.0,
    };
    let runs = [
        run(LossKind::Bce, vec![0.7, 0.3, 0.2], vec![0.1, 0.4, 0.5]),
        run(LossKind::Zlpr, vec![5.0, 3.0, 2.5], vec![0.1, 0.5, 0.6]),
    ];
    let path = std::env::temp_dir().join("burn_losses_chart.png");
    chart::draw(&path, &runs, 0.1).unwrap();
    let png = std::fs::read(&path).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "a chart with text and lines, not a blank image"
    );
}
