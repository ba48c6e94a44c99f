//! Every loss config saves and loads as JSON through Burn's `Config` trait, so a training run's
//! loss settings can be stored beside its model (issue 15, part 4).
//!
//! One table: each row is a config with every option set away from its default. Each row goes
//! through `Config::save` / `Config::load` (a file) and `Display` / `Config::load_binary` (a
//! string); the loaded config must print (`Debug`) exactly as the original, and saving it again
//! must give the same JSON. Infinite norm degrees, which JSON numbers cannot hold, have tests of
//! their own. A last test reads `src/` and fails if a config type (`#[derive(Config)]` or a
//! hand-written `impl Config`) is missing from the table.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use burn::config::Config;
use burn_losses::{
    AsymmetricLossConfig, BinaryCrossEntropyLossConfig, BinaryCrossEntropyWithLogitsLossConfig,
    ClipLossConfig, CosineDistance, CosineEmbeddingLossConfig, CrossEntropyLossConfig,
    CtcLossConfig, FusedLinearCrossEntropyLossConfig, GaussianNllLossConfig,
    HingeEmbeddingLossConfig, HuberLossConfig, KlDivLossConfig, L1LossConfig,
    MarginRankingLossConfig, MseLossConfig, MultiLabelMarginLossConfig,
    MultiLabelSoftMarginLossConfig, MultiMarginLossConfig, NllLossConfig, NtXentLossConfig,
    PairwiseDistance, PoissonNllLossConfig, Reduction, SigmoidFocalLossConfig, SmoothL1LossConfig,
    SoftMarginLossConfig, SupConLossConfig, TripletMarginLossConfig,
    TripletMarginWithDistanceLossConfig, ZlprLossConfig,
};
use burn_losses::{
    DiceCeLossConfig, DiceLossConfig, DiceWeight, DistillationLossConfig, FocalTverskyLossConfig,
    GeneralizedDiceLossConfig, JaccardLossConfig, JsDivLossConfig, LovaszLossConfig,
    PolyLossConfig, SegmentationMode, SoftmaxFocalLossConfig, TverskyLossConfig,
};
use burn_losses::{DiceFocalLossConfig, SmpDiceLossConfig, SmpFocalLossConfig};

/// A row's round trip, given a scratch directory: `Err` says what failed.
type RoundTrip = Box<dyn Fn(&Path) -> Result<(), String>>;

/// One row: the config's type name (as written in `src/`) and its round trip.
struct Case {
    name: &'static str,
    run: RoundTrip,
}

/// A row for `config` (every option non-default), compared with `default` to make sure the row
/// does change something.
fn case<C: Config + std::fmt::Display + 'static>(
    name: &'static str,
    config: C,
    default: C,
) -> Case {
    Case {
        name,
        run: Box::new(move |dir| round_trip(name, &config, &default, dir)),
    }
}

fn round_trip<C: Config + std::fmt::Display>(
    name: &str,
    config: &C,
    default: &C,
    dir: &Path,
) -> Result<(), String> {
    let original = format!("{config:?}");
    if original == format!("{default:?}") {
        return Err(format!(
            "{name}: the row sets no option away from its default"
        ));
    }

    // Through a file, as a training run stores its settings.
    let file = dir.join(format!("{name}.json"));
    config
        .save(&file)
        .map_err(|e| format!("{name}: save failed: {e}"))?;
    let json = std::fs::read_to_string(&file).map_err(|e| format!("{name}: {e}"))?;
    let loaded = C::load(&file).map_err(|e| format!("{name}: load failed: {e}\n{json}"))?;
    if format!("{loaded:?}") != original {
        return Err(format!(
            "{name}: loaded from JSON as {loaded:?}, saved as {original}\n{json}"
        ));
    }
    // Saving the loaded config again writes the same JSON.
    let again = burn::config::config_to_json(&loaded);
    if again != json {
        return Err(format!(
            "{name}: JSON changed on a second save:\n{json}\n{again}"
        ));
    }

    // Through a string (`Display` is the JSON) and `load_binary`.
    let from_bytes = C::load_binary(config.to_string().as_bytes())
        .map_err(|e| format!("{name}: load_binary failed: {e}"))?;
    if format!("{from_bytes:?}") != original {
        return Err(format!(
            "{name}: load_binary gave {from_bytes:?}, expected {original}"
        ));
    }
    Ok(())
}

fn cases() -> Vec<Case> {
    vec![
        // Classification.
        case(
            "CrossEntropyLossConfig",
            CrossEntropyLossConfig::new()
                .with_weight(Some(vec![1.0, 2.5, 0.125]))
                .with_ignore_index(Some(3))
                .with_label_smoothing(0.1)
                .with_z_loss(1e-4)
                .with_reduction(Reduction::Sum)
                .with_check_targets(false),
            CrossEntropyLossConfig::new(),
        ),
        case(
            "FusedLinearCrossEntropyLossConfig",
            FusedLinearCrossEntropyLossConfig::new()
                .with_cross_entropy(
                    CrossEntropyLossConfig::new()
                        .with_weight(Some(vec![0.5, 1.5]))
                        .with_ignore_index(None)
                        .with_label_smoothing(0.2)
                        .with_z_loss(1e-3)
                        .with_reduction(Reduction::Sum)
                        .with_check_targets(false),
                )
                .with_chunk_size(64),
            FusedLinearCrossEntropyLossConfig::new(),
        ),
        case(
            "SoftmaxFocalLossConfig",
            SoftmaxFocalLossConfig::new()
                .with_alpha(Some(vec![0.25, 0.75]))
                .with_gamma(0.5)
                .with_weight(Some(vec![2.0, 1.0]))
                .with_ignore_index(None)
                .with_reduction(Reduction::BatchMean)
                .with_check_targets(false),
            SoftmaxFocalLossConfig::new(),
        ),
        case(
            "PolyLossConfig",
            PolyLossConfig::new()
                .with_cross_entropy(
                    CrossEntropyLossConfig::new()
                        .with_weight(Some(vec![0.5, 1.5]))
                        .with_ignore_index(Some(255))
                        .with_label_smoothing(0.1)
                        .with_reduction(Reduction::Sum),
                )
                .with_epsilon(-0.5),
            PolyLossConfig::new(),
        ),
        case(
            "NllLossConfig",
            NllLossConfig::new()
                .with_weight(Some(vec![0.3, 0.7]))
                .with_ignore_index(Some(-1))
                .with_reduction(Reduction::Sum)
                .with_check_targets(false),
            NllLossConfig::new(),
        ),
        case(
            "BinaryCrossEntropyLossConfig",
            BinaryCrossEntropyLossConfig::new()
                .with_weight(Some(vec![1.0, 0.1]))
                .with_reduction(Reduction::BatchMean)
                .with_check_values(false),
            BinaryCrossEntropyLossConfig::new(),
        ),
        case(
            "BinaryCrossEntropyWithLogitsLossConfig",
            BinaryCrossEntropyWithLogitsLossConfig::new()
                .with_weight(Some(vec![2.0, 1.0, 0.5]))
                .with_pos_weight(Some(vec![3.0, 1.0, 7.25]))
                .with_reduction(Reduction::Sum),
            BinaryCrossEntropyWithLogitsLossConfig::new(),
        ),
        case(
            "KlDivLossConfig",
            KlDivLossConfig::new()
                .with_log_target(true)
                .with_reduction(Reduction::BatchMean),
            KlDivLossConfig::new(),
        ),
        // Regression.
        case(
            "MseLossConfig",
            MseLossConfig::new().with_reduction(Reduction::Sum),
            MseLossConfig::new(),
        ),
        case(
            "L1LossConfig",
            L1LossConfig::new().with_reduction(Reduction::BatchMean),
            L1LossConfig::new(),
        ),
        case(
            "SmoothL1LossConfig",
            SmoothL1LossConfig::new()
                .with_beta(0.3)
                .with_reduction(Reduction::Sum),
            SmoothL1LossConfig::new(),
        ),
        case(
            "HuberLossConfig",
            HuberLossConfig::new()
                .with_delta(2.75)
                .with_reduction(Reduction::Sum),
            HuberLossConfig::new(),
        ),
        case(
            "PoissonNllLossConfig",
            PoissonNllLossConfig::new()
                .with_log_input(false)
                .with_full(true)
                .with_eps(1e-6)
                .with_reduction(Reduction::Sum),
            PoissonNllLossConfig::new(),
        ),
        case(
            "GaussianNllLossConfig",
            GaussianNllLossConfig::new()
                .with_full(true)
                .with_eps(1e-3)
                .with_reduction(Reduction::Sum)
                .with_check_values(false),
            GaussianNllLossConfig::new(),
        ),
        // Distillation.
        case(
            "DistillationLossConfig",
            DistillationLossConfig::new()
                .with_temperature(4.0)
                .with_alpha(0.9)
                .with_weight(Some(vec![1.0, 0.5, 2.0]))
                .with_ignore_index(Some(0))
                .with_label_smoothing(0.05)
                .with_reduction(Reduction::BatchMean)
                .with_check_targets(false),
            DistillationLossConfig::new(),
        ),
        case(
            "JsDivLossConfig",
            JsDivLossConfig::new().with_reduction(Reduction::Sum),
            JsDivLossConfig::new(),
        ),
        // Multi-label.
        case(
            "SigmoidFocalLossConfig",
            SigmoidFocalLossConfig::new()
                .with_alpha(None)
                .with_gamma(1.5)
                .with_reduction(Reduction::Sum),
            SigmoidFocalLossConfig::new(),
        ),
        case(
            "AsymmetricLossConfig",
            AsymmetricLossConfig::new()
                .with_gamma_pos(0.0)
                .with_gamma_neg(2.0)
                .with_clip(0.0)
                .with_eps(1e-6)
                .with_detach_focal_weight(false)
                .with_reduction(Reduction::Sum),
            AsymmetricLossConfig::new(),
        ),
        case(
            "ZlprLossConfig",
            ZlprLossConfig::new()
                .with_reduction(Reduction::Sum)
                .with_check_targets(false),
            ZlprLossConfig::new(),
        ),
        // Margin.
        case(
            "SoftMarginLossConfig",
            SoftMarginLossConfig::new().with_reduction(Reduction::Sum),
            SoftMarginLossConfig::new(),
        ),
        case(
            "MultiLabelSoftMarginLossConfig",
            MultiLabelSoftMarginLossConfig::new()
                .with_weight(Some(vec![0.25, 4.0]))
                .with_reduction(Reduction::Sum),
            MultiLabelSoftMarginLossConfig::new(),
        ),
        case(
            "MultiLabelMarginLossConfig",
            MultiLabelMarginLossConfig::new()
                .with_reduction(Reduction::Sum)
                .with_check_targets(false),
            MultiLabelMarginLossConfig::new(),
        ),
        case(
            "MultiMarginLossConfig",
            MultiMarginLossConfig::new()
                .with_p(2)
                .with_margin(0.5)
                .with_weight(Some(vec![1.0, 2.0, 3.0]))
                .with_reduction(Reduction::Sum)
                .with_check_targets(false),
            MultiMarginLossConfig::new(),
        ),
        // Embedding and ranking.
        case(
            "CosineEmbeddingLossConfig",
            CosineEmbeddingLossConfig::new()
                .with_margin(-0.5)
                .with_reduction(Reduction::Sum),
            CosineEmbeddingLossConfig::new(),
        ),
        case(
            "MarginRankingLossConfig",
            MarginRankingLossConfig::new()
                .with_margin(0.2)
                .with_reduction(Reduction::Sum),
            MarginRankingLossConfig::new(),
        ),
        case(
            "HingeEmbeddingLossConfig",
            HingeEmbeddingLossConfig::new()
                .with_margin(2.0)
                .with_reduction(Reduction::Sum),
            HingeEmbeddingLossConfig::new(),
        ),
        case(
            "TripletMarginLossConfig",
            TripletMarginLossConfig::new()
                .with_margin(0.3)
                .with_p(1.0)
                .with_eps(1e-8)
                .with_swap(true)
                .with_reduction(Reduction::Sum),
            TripletMarginLossConfig::new(),
        ),
        case(
            "TripletMarginWithDistanceLossConfig",
            TripletMarginWithDistanceLossConfig::new()
                .with_margin(0.7)
                .with_swap(true)
                .with_reduction(Reduction::Sum),
            TripletMarginWithDistanceLossConfig::new(),
        ),
        case(
            "PairwiseDistance",
            PairwiseDistance::new().with_p(3.0).with_eps(1e-4),
            PairwiseDistance::new(),
        ),
        case(
            "CosineDistance",
            CosineDistance::new().with_eps(1e-5),
            CosineDistance::new(),
        ),
        // Sequence.
        case(
            "CtcLossConfig",
            CtcLossConfig::new()
                .with_blank(4)
                .with_zero_infinity(true)
                .with_reduction(Reduction::Sum)
                .with_check_targets(false),
            CtcLossConfig::new(),
        ),
        // Contrastive.
        case(
            "NtXentLossConfig",
            NtXentLossConfig::new()
                .with_temperature(0.5)
                .with_reduction(Reduction::Sum),
            NtXentLossConfig::new(),
        ),
        case(
            "SupConLossConfig",
            SupConLossConfig::new()
                .with_temperature(0.07)
                .with_reduction(Reduction::BatchMean),
            SupConLossConfig::new(),
        ),
        case(
            "ClipLossConfig",
            ClipLossConfig::new().with_reduction(Reduction::Sum),
            ClipLossConfig::new(),
        ),
        // Segmentation.
        case(
            "DiceLossConfig",
            DiceLossConfig::new()
                .with_include_background(false)
                .with_softmax(true)
                .with_squared_pred(true)
                .with_jaccard(true)
                .with_smooth_nr(0.0)
                .with_smooth_dr(1e-6)
                .with_batch(true)
                .with_weight(Some(vec![0.5, 2.0]))
                .with_soft_label(true)
                .with_ignore_index(Some(255))
                .with_reduction(Reduction::Sum),
            DiceLossConfig::new(),
        ),
        case(
            "TverskyLossConfig",
            TverskyLossConfig::new()
                .with_include_background(false)
                .with_sigmoid(true)
                .with_alpha(0.3)
                .with_beta(0.7)
                .with_smooth_nr(1.0)
                .with_smooth_dr(1.0)
                .with_batch(true)
                .with_soft_label(true)
                .with_ignore_index(Some(-1))
                .with_reduction(Reduction::BatchMean),
            TverskyLossConfig::new(),
        ),
        case(
            "GeneralizedDiceLossConfig",
            GeneralizedDiceLossConfig::new()
                .with_include_background(false)
                .with_softmax(true)
                .with_w_type(DiceWeight::Simple)
                .with_smooth_nr(0.5)
                .with_smooth_dr(0.25)
                .with_batch(true)
                .with_soft_label(true)
                .with_reduction(Reduction::Sum),
            GeneralizedDiceLossConfig::new(),
        ),
        case(
            "DiceCeLossConfig",
            DiceCeLossConfig::new()
                .with_include_background(false)
                .with_sigmoid(true)
                .with_squared_pred(true)
                .with_jaccard(true)
                .with_smooth_nr(0.5)
                .with_smooth_dr(0.5)
                .with_batch(true)
                .with_weight(Some(vec![0.5, 1.0, 2.0]))
                .with_lambda_dice(0.5)
                .with_lambda_ce(2.0)
                .with_label_smoothing(0.1)
                .with_reduction(Reduction::Sum),
            DiceCeLossConfig::new(),
        ),
        case(
            "JaccardLossConfig",
            JaccardLossConfig::new(SegmentationMode::Multilabel)
                .with_classes(Some(vec![2, 0]))
                .with_log_loss(true)
                .with_from_logits(false)
                .with_smooth(1.0)
                .with_ignore_index(Some(255))
                .with_eps(1e-5)
                .with_class_weights(Some(vec![0.5, 1.0, 2.0]))
                .with_reduction(Reduction::Sum),
            JaccardLossConfig::new(SegmentationMode::Multiclass),
        ),
        case(
            "FocalTverskyLossConfig",
            FocalTverskyLossConfig::new(SegmentationMode::Binary)
                .with_log_loss(true)
                .with_from_logits(false)
                .with_smooth(0.5)
                .with_ignore_index(Some(-1))
                .with_eps(1e-6)
                .with_alpha(0.3)
                .with_beta(0.7)
                .with_gamma(0.75)
                .with_class_weights(None)
                .with_classes(None),
            FocalTverskyLossConfig::new(SegmentationMode::Multiclass),
        ),
        case(
            "FocalTverskyLossConfig",
            FocalTverskyLossConfig::new(SegmentationMode::Multilabel)
                .with_classes(Some(vec![1]))
                .with_class_weights(Some(vec![1.0, 2.0]))
                .with_reduction(Reduction::BatchMean),
            FocalTverskyLossConfig::new(SegmentationMode::Multiclass),
        ),
        case(
            "LovaszLossConfig",
            LovaszLossConfig::new(SegmentationMode::Binary)
                .with_per_image(true)
                .with_ignore_index(Some(255))
                .with_reduction(Reduction::Sum),
            LovaszLossConfig::new(SegmentationMode::Multiclass),
        ),
        case(
            "DiceFocalLossConfig",
            DiceFocalLossConfig::new()
                .with_include_background(false)
                .with_softmax(true)
                .with_squared_pred(true)
                .with_jaccard(true)
                .with_smooth_nr(0.5)
                .with_smooth_dr(0.25)
                .with_batch(true)
                .with_gamma(1.5)
                .with_weight(Some(vec![0.5, 2.0]))
                .with_lambda_dice(0.7)
                .with_lambda_focal(1.3)
                .with_alpha(Some(0.25))
                .with_reduction(Reduction::Sum),
            DiceFocalLossConfig::new(),
        ),
        case(
            "SmpDiceLossConfig",
            SmpDiceLossConfig::new(SegmentationMode::Multilabel)
                .with_classes(Some(vec![2, 0]))
                .with_log_loss(true)
                .with_from_logits(false)
                .with_smooth(1.0)
                .with_ignore_index(Some(255))
                .with_eps(1e-5)
                .with_class_weights(Some(vec![0.5, 1.0, 2.0]))
                .with_reduction(Reduction::BatchMean),
            SmpDiceLossConfig::new(SegmentationMode::Multiclass),
        ),
        case(
            "SmpFocalLossConfig",
            SmpFocalLossConfig::new(SegmentationMode::Binary)
                .with_alpha(Some(0.25))
                .with_gamma(1.5)
                .with_ignore_index(Some(255))
                .with_from_logits(false)
                .with_eps(1e-4)
                .with_normalized(true)
                .with_reduced_threshold(Some(0.5))
                .with_reduction(Reduction::Sum),
            SmpFocalLossConfig::new(SegmentationMode::Multiclass),
        ),
        case(
            "SmpFocalLossConfig",
            SmpFocalLossConfig::new(SegmentationMode::Multilabel)
                .with_class_weights(Some(vec![1.0, 2.0])),
            SmpFocalLossConfig::new(SegmentationMode::Multiclass),
        ),
        case(
            "SegmentationMode",
            SegmentationMode::Binary,
            SegmentationMode::Multiclass,
        ),
        case(
            "SegmentationMode",
            SegmentationMode::Multilabel,
            SegmentationMode::Multiclass,
        ),
        // The channel weighting on its own: every variant but the default.
        case("DiceWeight", DiceWeight::Simple, DiceWeight::Square),
        case("DiceWeight", DiceWeight::Uniform, DiceWeight::Square),
        // The reduction on its own: every variant but the default.
        case("Reduction", Reduction::Sum, Reduction::Mean),
        case("Reduction", Reduction::BatchMean, Reduction::Mean),
    ]
}

/// A fresh directory for this test's files.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "burn-losses-config-json-{}-{test}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_config_round_trips_through_json() {
    let dir = scratch_dir("round-trip");
    let failures: Vec<String> = cases()
        .iter()
        .filter_map(|case| (case.run)(&dir).err())
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        failures.is_empty(),
        "{} of {} configs failed the JSON round trip:\n{}",
        failures.len(),
        cases().len(),
        failures.join("\n")
    );
}

/// Default configs round-trip too (`Option` fields whose default is `Some`, such as
/// `ignore_index`, stay `Some`).
#[test]
fn default_configs_round_trip_through_json() {
    fn check<C: Config + std::fmt::Display>(config: C) {
        let json = config.to_string();
        let loaded = C::load_binary(json.as_bytes()).unwrap();
        assert_eq!(format!("{loaded:?}"), format!("{config:?}"), "{json}");
    }
    check(CrossEntropyLossConfig::new());
    check(FusedLinearCrossEntropyLossConfig::new());
    check(SoftmaxFocalLossConfig::new());
    check(PolyLossConfig::new());
    check(DistillationLossConfig::new());
    check(JsDivLossConfig::new());
    check(NllLossConfig::new());
    check(SigmoidFocalLossConfig::new());
    check(AsymmetricLossConfig::new());
    check(TripletMarginLossConfig::new());
    check(Reduction::Mean);
}

/// The JSON is the field names of the config, as a person writes it by hand.
#[test]
fn hand_written_json_loads() {
    let json = r#"{
        "weight": [1.0, 2.0, 0.5],
        "ignore_index": null,
        "label_smoothing": 0.1,
        "z_loss": 0.0,
        "reduction": "Sum",
        "check_targets": true
    }"#;
    let config = CrossEntropyLossConfig::load_binary(json.as_bytes()).unwrap();
    assert_eq!(config.weight, Some(vec![1.0, 2.0, 0.5]));
    assert_eq!(config.ignore_index, None);
    assert_eq!(config.label_smoothing, 0.1);
    assert_eq!(config.reduction, Reduction::Sum);

    // A misspelt or missing option is an error, not a silent default.
    let missing = r#"{ "alpha": 0.5, "gamma": 2.0 }"#;
    assert!(SigmoidFocalLossConfig::load_binary(missing.as_bytes()).is_err());
}

/// An infinite norm degree `p` (the max-norm distance, PyTorch's `p=inf`) round-trips: JSON has
/// no infinity, so it is saved as the string `"inf"` (`serde_json` alone would write `null`,
/// which does not load), while a finite `p` stays a number. Exact: the loaded `p` is the saved
/// one to the bit.
#[test]
fn norm_degrees_round_trip_through_json_infinity_included() {
    /// `config` through a file and through a string, and its JSON's `p`.
    fn check<C: Config + std::fmt::Display>(
        name: &str,
        config: C,
        p: impl Fn(&C) -> f32,
        json_p: &str,
        dir: &Path,
    ) {
        let expected = p(&config);
        let json = config.to_string();
        assert!(json.contains(&format!("\"p\": {json_p}")), "{name}: {json}");
        let file = dir.join(format!("{name}.json"));
        config.save(&file).unwrap();
        let from_file = C::load(&file).unwrap_or_else(|e| panic!("{name}: {e}\n{json}"));
        let from_string = C::load_binary(json.as_bytes()).unwrap();
        for loaded in [from_file, from_string] {
            assert_eq!(p(&loaded).to_bits(), expected.to_bits(), "{name}: {json}");
            assert_eq!(format!("{loaded:?}"), format!("{config:?}"));
            assert_eq!(
                loaded.to_string(),
                json,
                "{name}: JSON changed on a second save"
            );
        }
    }
    let dir = scratch_dir("norm-degree");
    for (p, json_p) in [(f32::INFINITY, "\"inf\""), (1.0, "1.0"), (2.0, "2.0")] {
        check(
            "TripletMarginLossConfig",
            TripletMarginLossConfig::new().with_p(p),
            |config| config.p,
            json_p,
            &dir,
        );
        check(
            "PairwiseDistance",
            PairwiseDistance::new().with_p(p),
            |distance| distance.p,
            json_p,
            &dir,
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A hand-written norm degree: a number (with or without a fraction) or a string that
/// `f32::from_str` reads; `null`, what `serde_json` writes for infinity, is an error rather
/// than some default distance.
#[test]
fn hand_written_norm_degrees_load() {
    let distance = |p: &str| {
        PairwiseDistance::load_binary(format!(r#"{{ "p": {p}, "eps": 1e-6 }}"#).as_bytes())
            .map(|distance| distance.p)
    };
    assert_eq!(distance("3").unwrap(), 3.0);
    assert_eq!(distance("1.5").unwrap(), 1.5);
    assert_eq!(distance(r#""inf""#).unwrap(), f32::INFINITY);
    assert_eq!(distance(r#""Infinity""#).unwrap(), f32::INFINITY);
    assert!(distance("null").is_err());
    assert!(distance(r#""far""#).is_err());

    let json = r#"{ "margin": 0.5, "p": "inf", "eps": 1e-6, "swap": true, "reduction": "Sum" }"#;
    let config = TripletMarginLossConfig::load_binary(json.as_bytes()).unwrap();
    assert_eq!(config.p, f32::INFINITY);
    assert!(config.swap);
}

/// Every `#[derive(Config)]` type in `src/`, and every hand-written `impl Config`, has a row in
/// the table.
#[test]
fn the_table_covers_every_config_in_src() {
    fn visit(dir: &Path, found: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let mut lines = text.lines();
                while let Some(line) = lines.next() {
                    let line = line.trim();
                    // A hand-written config: `impl Config for Name {}`.
                    if let Some(name) = line
                        .strip_prefix("impl Config for ")
                        .and_then(|rest| rest.split_whitespace().next())
                    {
                        found.insert(name.to_string());
                        continue;
                    }
                    if !(line.starts_with("#[derive(") && line.contains("Config")) {
                        continue;
                    }
                    // The type's name: the first `struct`/`enum` line after the derive.
                    for next in lines.by_ref() {
                        let words: Vec<&str> = next.split_whitespace().collect();
                        if let Some(i) = words.iter().position(|w| *w == "struct" || *w == "enum") {
                            let name = words[i + 1].trim_end_matches(['{', '<', '(', ';']);
                            found.insert(name.to_string());
                            break;
                        }
                    }
                }
            }
        }
    }
    let mut in_src = BTreeSet::new();
    visit(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut in_src,
    );
    assert!(in_src.len() >= 28, "found only {in_src:?}");
    let tested: BTreeSet<String> = cases().iter().map(|c| c.name.to_string()).collect();
    let missing: Vec<&String> = in_src.difference(&tested).collect();
    assert!(
        missing.is_empty(),
        "configs in src/ without a JSON round-trip row: {missing:?}"
    );
}
