//! The segmentation losses (Dice, Tversky): fixture replay of MONAI 1.6 on every lane, the exact
//! combination of micro-batches' sums for a Dice over the batch, gradients against f64 finite
//! differences, and one table row per error message.
#![cfg(feature = "autodiff")]

mod common;

use burn::tensor::{Tensor, TensorData};
use burn_losses::*;
use common::replay::{GRADIENT, cases, flag, input_rank, weight_option};
use common::{
    Array, F32, Lane, REDUCTIONS, assert_close, assert_scalar, key, load_fixture, number,
};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixture replay
// ---------------------------------------------------------------------------------------------

/// A boolean option, false where the case leaves it out (MONAI's default).
fn option_flag(case: &Value, name: &str) -> bool {
    let value = &case["options"][name];
    !value.is_null() && flag(value)
}

/// A float option, `default` where the case leaves it out.
fn option_number(case: &Value, name: &str, default: f32) -> f32 {
    let value = &case["options"][name];
    if value.is_null() {
        default
    } else {
        number(value) as f32
    }
}

/// `fn $test<B: Lane>(device)`: every case of the fixtures named replayed by `$case` at the
/// ranks of the segmentation inputs (1-D, 2-D and 3-D spatial: `(D, DT)` of 3 to 5).
macro_rules! fixture_replay {
    ($test:ident: $($fixture:literal),+ => $case:ident) => {
        fn $test<B: Lane>(device: &B::Device) {
            for name in [$($fixture),+] {
                let fixture = load_fixture(name);
                for case in cases(&fixture) {
                    by_rank!(input_rank(case) => $case::<B>(case, device) at [(3, 2), (4, 3), (5, 4)]);
                }
            }
        }
    };
}

fn dice_config(case: &Value, reduction: Reduction) -> DiceLossConfig {
    DiceLossConfig::new()
        .with_include_background(
            case["options"]["include_background"].is_null()
                || option_flag(case, "include_background"),
        )
        .with_sigmoid(option_flag(case, "sigmoid"))
        .with_softmax(option_flag(case, "softmax"))
        .with_squared_pred(option_flag(case, "squared_pred"))
        .with_jaccard(option_flag(case, "jaccard"))
        .with_smooth_nr(option_number(case, "smooth_nr", 1e-5))
        .with_smooth_dr(option_number(case, "smooth_dr", 1e-5))
        .with_batch(option_flag(case, "batch"))
        .with_soft_label(option_flag(case, "soft_label"))
        .with_weight(weight_option(&case["options"]["weight"]))
        .with_ignore_index(case["options"]["ignore_index"].as_i64())
        .with_reduction(reduction)
}

fn tversky_config(case: &Value, reduction: Reduction) -> TverskyLossConfig {
    TverskyLossConfig::new()
        .with_include_background(
            case["options"]["include_background"].is_null()
                || option_flag(case, "include_background"),
        )
        .with_sigmoid(option_flag(case, "sigmoid"))
        .with_softmax(option_flag(case, "softmax"))
        .with_alpha(option_number(case, "alpha", 0.5))
        .with_beta(option_number(case, "beta", 0.5))
        .with_smooth_nr(option_number(case, "smooth_nr", 1e-5))
        .with_smooth_dr(option_number(case, "smooth_dr", 1e-5))
        .with_batch(option_flag(case, "batch"))
        .with_soft_label(option_flag(case, "soft_label"))
        .with_ignore_index(case["options"]["ignore_index"].as_i64())
        .with_reduction(reduction)
}

fn generalized_dice_config(case: &Value, reduction: Reduction) -> GeneralizedDiceLossConfig {
    let w_type = match case["options"]["w_type"].as_str() {
        None | Some("square") => DiceWeight::Square,
        Some("simple") => DiceWeight::Simple,
        Some("uniform") => DiceWeight::Uniform,
        Some(other) => panic!("unknown w_type {other:?}"),
    };
    GeneralizedDiceLossConfig::new()
        .with_include_background(
            case["options"]["include_background"].is_null()
                || option_flag(case, "include_background"),
        )
        .with_sigmoid(option_flag(case, "sigmoid"))
        .with_softmax(option_flag(case, "softmax"))
        .with_w_type(w_type)
        .with_smooth_nr(option_number(case, "smooth_nr", 1e-5))
        .with_smooth_dr(option_number(case, "smooth_dr", 1e-5))
        .with_batch(option_flag(case, "batch"))
        .with_soft_label(option_flag(case, "soft_label"))
        .with_reduction(reduction)
}

fn dice_ce_config(case: &Value, reduction: Reduction) -> DiceCeLossConfig {
    DiceCeLossConfig::new()
        .with_include_background(
            case["options"]["include_background"].is_null()
                || option_flag(case, "include_background"),
        )
        .with_sigmoid(option_flag(case, "sigmoid"))
        .with_softmax(option_flag(case, "softmax"))
        .with_squared_pred(option_flag(case, "squared_pred"))
        .with_jaccard(option_flag(case, "jaccard"))
        .with_smooth_nr(option_number(case, "smooth_nr", 1e-5))
        .with_smooth_dr(option_number(case, "smooth_dr", 1e-5))
        .with_batch(option_flag(case, "batch"))
        .with_weight(weight_option(&case["options"]["weight"]))
        .with_lambda_dice(option_number(case, "lambda_dice", 1.0))
        .with_lambda_ce(option_number(case, "lambda_ce", 1.0))
        .with_label_smoothing(option_number(case, "label_smoothing", 0.0))
        .with_reduction(reduction)
}

fn dice_focal_config(case: &Value, reduction: Reduction) -> DiceFocalLossConfig {
    DiceFocalLossConfig::new()
        .with_include_background(
            case["options"]["include_background"].is_null()
                || option_flag(case, "include_background"),
        )
        .with_sigmoid(option_flag(case, "sigmoid"))
        .with_softmax(option_flag(case, "softmax"))
        .with_squared_pred(option_flag(case, "squared_pred"))
        .with_jaccard(option_flag(case, "jaccard"))
        .with_smooth_nr(option_number(case, "smooth_nr", 1e-5))
        .with_smooth_dr(option_number(case, "smooth_dr", 1e-5))
        .with_batch(option_flag(case, "batch"))
        .with_gamma(option_number(case, "gamma", 2.0))
        .with_weight(weight_option(&case["options"]["weight"]))
        .with_lambda_dice(option_number(case, "lambda_dice", 1.0))
        .with_lambda_focal(option_number(case, "lambda_focal", 1.0))
        .with_alpha(case["options"]["alpha"].as_f64().map(|alpha| alpha as f32))
        .with_reduction(reduction)
}

fn jaccard_config(case: &Value, reduction: Reduction) -> JaccardLossConfig {
    let options = &case["options"];
    let mode = match options["mode"].as_str() {
        Some("binary") => SegmentationMode::Binary,
        Some("multiclass") => SegmentationMode::Multiclass,
        Some("multilabel") => SegmentationMode::Multilabel,
        other => panic!("unknown mode {other:?}"),
    };
    let classes = options["classes"].as_array().map(|classes| {
        classes
            .iter()
            .map(|class| class.as_u64().expect("a class") as usize)
            .collect()
    });
    JaccardLossConfig::new(mode)
        .with_classes(classes)
        .with_log_loss(option_flag(case, "log_loss"))
        .with_from_logits(options["from_logits"].is_null() || option_flag(case, "from_logits"))
        .with_smooth(option_number(case, "smooth", 0.0))
        .with_ignore_index(options["ignore_index"].as_i64())
        .with_eps(option_number(case, "eps", 1e-7))
        .with_class_weights(weight_option(&options["class_weights"]))
        .with_reduction(reduction)
}

fn focal_tversky_config(case: &Value, reduction: Reduction) -> FocalTverskyLossConfig {
    let jaccard = jaccard_config(case, reduction);
    FocalTverskyLossConfig::new(jaccard.mode)
        .with_classes(jaccard.classes)
        .with_log_loss(jaccard.log_loss)
        .with_from_logits(jaccard.from_logits)
        .with_smooth(jaccard.smooth)
        .with_ignore_index(jaccard.ignore_index)
        .with_eps(jaccard.eps)
        .with_class_weights(jaccard.class_weights)
        .with_alpha(option_number(case, "alpha", 0.5))
        .with_beta(option_number(case, "beta", 0.5))
        .with_gamma(option_number(case, "gamma", 1.0))
        .with_reduction(reduction)
}

/// A focal Tversky case: with `gamma = 1` the whole replay; otherwise smp's mean (the only
/// reduction of an exponent applied to the mean) and the unreduced losses, values and gradients.
fn focal_tversky_case<B: Lane, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
    let loss = |reduction| focal_tversky_config(case, reduction).init::<B>(device);
    let multiclass = case["options"]["mode"] == "multiclass";
    if option_number(case, "gamma", 1.0) == 1.0 {
        if multiclass {
            replay!(case, device, |x| loss
                .forward_indices(x.float::<D>("input"), x.int::<DT>("target")));
        } else {
            replay!(case, device, |x| loss
                .forward(x.float::<D>("input"), x.float::<D>("target")));
        }
        return;
    }
    let name = case["name"].as_str().expect("a case name");
    let input = Array::from_json(&case["inputs"]["input"]);
    let target = Array::from_json(&case["inputs"]["target"]);
    let loss = loss(Reduction::Mean);
    let call = |logits: Tensor<B, D>, reduced: bool| -> Tensor<B, 1> {
        match (multiclass, reduced) {
            (true, true) => loss.forward_indices(logits, target.int::<B, DT>(device)),
            (true, false) => loss.forward_indices_no_reduction(logits, target.int::<B, DT>(device)),
            (false, true) => loss.forward(logits, target.float::<B, D>(device)),
            (false, false) => loss.forward_no_reduction(logits, target.float::<B, D>(device)),
        }
    };
    for &track in B::PASSES {
        let logits = B::track_if(track, input.float::<B, D>(device));
        let value = call(logits.clone(), true);
        let what = format!("{name} mean tracked {track}");
        assert_scalar(
            &what,
            value.to_data(),
            number(&case["expected"]["mean"]),
            F32,
        );
        let gradients = if track { B::backward(value) } else { None };
        if let Some(gradients) = gradients {
            let gradient = B::grad(&logits, &gradients).expect("a gradient");
            let expected = Array::from_json(&case["grads"]["mean"]["input"]);
            assert_close(&format!("{what} grad"), gradient, &expected, GRADIENT);
        }
        let logits = B::track_if(track, input.float::<B, D>(device));
        let losses = call(logits.clone(), false);
        let expected = Array::from_json(&case["expected"]["none"]);
        let what = format!("{name} none tracked {track}");
        assert_close(&what, losses.to_data(), &expected, F32);
        let upstream: Tensor<B, 1> = Array::from_json(&case["upstream"]).float(device);
        let gradients = if track {
            B::backward((losses * upstream).sum())
        } else {
            None
        };
        if let Some(gradients) = gradients {
            let gradient = B::grad(&logits, &gradients).expect("a gradient");
            let expected = Array::from_json(&case["grads"]["none"]["input"]);
            assert_close(&format!("{what} grad"), gradient, &expected, GRADIENT);
        }
    }
}

fixture_replay!(focal_tversky: "focal_tversky" => focal_tversky_case);

fn lovasz_case<B: Lane, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
    let mode = jaccard_config(case, Reduction::Mean).mode;
    let loss = |reduction| {
        LovaszLossConfig::new(mode)
            .with_per_image(option_flag(case, "per_image"))
            .with_ignore_index(case["options"]["ignore_index"].as_i64())
            .with_reduction(reduction)
            .init::<B>(device)
    };
    if mode == SegmentationMode::Multiclass {
        replay!(case, device, |x| loss
            .forward_indices(x.float::<D>("input"), x.int::<DT>("target")));
    } else {
        replay!(case, device, |x| loss
            .forward(x.float::<D>("input"), x.float::<D>("target")));
    }
}

fixture_replay!(lovasz: "lovasz" => lovasz_case);

/// Replays a case of an smp loss of the `JaccardLoss` family: class indices with mode
/// multiclass, float masks otherwise.
macro_rules! set_case {
    ($name:ident, $config:ident) => {
        fn $name<B: Lane, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
            let loss = |reduction| $config(case, reduction).init::<B>(device);
            if case["options"]["mode"] == "multiclass" {
                replay!(case, device, |x| loss
                    .forward_indices(x.float::<D>("input"), x.int::<DT>("target")));
            } else {
                replay!(case, device, |x| loss
                    .forward(x.float::<D>("input"), x.float::<D>("target")));
            }
        }
    };
}

set_case!(jaccard_case, jaccard_config);
set_case!(smp_dice_case, smp_dice_config);
set_case!(smp_focal_case, smp_focal_config);

fn smp_focal_config(case: &Value, reduction: Reduction) -> SmpFocalLossConfig {
    let options = &case["options"];
    SmpFocalLossConfig::new(jaccard_config(case, reduction).mode)
        .with_alpha(options["alpha"].as_f64().map(|alpha| alpha as f32))
        .with_gamma(option_number(case, "gamma", 2.0))
        .with_ignore_index(options["ignore_index"].as_i64())
        .with_from_logits(options["from_logits"].is_null() || option_flag(case, "from_logits"))
        .with_eps(option_number(case, "eps", 1e-7))
        .with_normalized(option_flag(case, "normalized"))
        .with_reduced_threshold(
            options["reduced_threshold"]
                .as_f64()
                .map(|threshold| threshold as f32),
        )
        .with_class_weights(weight_option(&options["class_weights"]))
        .with_reduction(reduction)
}

fn smp_dice_config(case: &Value, reduction: Reduction) -> SmpDiceLossConfig {
    let jaccard = jaccard_config(case, reduction);
    SmpDiceLossConfig::new(jaccard.mode)
        .with_classes(jaccard.classes)
        .with_log_loss(jaccard.log_loss)
        .with_from_logits(jaccard.from_logits)
        .with_smooth(jaccard.smooth)
        .with_ignore_index(jaccard.ignore_index)
        .with_eps(jaccard.eps)
        .with_class_weights(jaccard.class_weights)
        .with_reduction(reduction)
}

fixture_replay!(jaccard: "jaccard" => jaccard_case);

fixture_replay!(smp_dice: "smp_dice" => smp_dice_case);

fixture_replay!(smp_focal: "smp_focal" => smp_focal_case);

fn index_target(case: &Value) -> bool {
    case["options"]["target"] == "index"
}

/// Replays a case of one of the two losses, whose calls have the same names.
macro_rules! overlap_case {
    ($name:ident, $config:ident) => {
        fn $name<B: Lane, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
            let loss = |reduction| $config(case, reduction).init::<B>(device);
            if index_target(case) {
                replay!(case, device, |x| loss
                    .forward_indices(x.float::<D>("input"), x.int::<DT>("target")));
            } else {
                replay!(case, device, |x| loss
                    .forward(x.float::<D>("input"), x.float::<D>("target")));
            }
        }
    };
}

overlap_case!(dice_case, dice_config);
overlap_case!(tversky_case, tversky_config);
overlap_case!(generalized_dice_case, generalized_dice_config);
overlap_case!(dice_focal_case, dice_focal_config);

fixture_replay!(dice: "dice", "dice_ignore_index" => dice_case);

fixture_replay!(tversky: "tversky", "tversky_ignore_index" => tversky_case);

fixture_replay!(generalized_dice: "generalized_dice" => generalized_dice_case);

fixture_replay!(dice_focal: "dice_focal" => dice_focal_case);

/// A `DiceCeLoss` case (no unreduced output): every reduction's value, and the input's gradient
/// of `Mean` and `Sum`, on tracked and untracked inputs.
fn dice_ce_case<B: Lane, const D: usize, const DT: usize>(case: &Value, device: &B::Device) {
    let name = case["name"].as_str().expect("a case name");
    let input = Array::from_json(&case["inputs"]["input"]);
    let target = Array::from_json(&case["inputs"]["target"]);
    for &track in B::PASSES {
        for reduction in REDUCTIONS {
            let loss = dice_ce_config(case, reduction).init::<B>(device);
            let logits = B::track_if(track, input.float::<B, D>(device));
            let value = if index_target(case) {
                loss.forward_indices(logits.clone(), target.int::<B, DT>(device))
            } else {
                loss.forward(logits.clone(), target.float::<B, D>(device))
            };
            let what = format!("{name} {} tracked {track}", key(reduction));
            let expected = number(&case["expected"][key(reduction)]);
            assert_scalar(&what, value.to_data(), expected, F32);
            if !track || reduction == Reduction::BatchMean {
                continue; // no gradient recorded for BatchMean
            }
            if let Some(gradients) = B::backward(value) {
                let gradient = B::grad(&logits, &gradients).expect("a gradient");
                let expected = Array::from_json(&case["grads"][key(reduction)]["input"]);
                assert_close(&format!("{what} grad"), gradient, &expected, GRADIENT);
            }
        }
    }
}

fixture_replay!(dice_ce: "dice_ce" => dice_ce_case);

/// A Dice over the batch from the sums of micro-batches (1 and 3 of 4 samples, then 2 and 2):
/// the whole batch's loss for every reduction, and each micro-batch's gradient (its own sums
/// tracked, the others' detached) equal to its rows of the whole batch's gradient.
fn dice_over_micro_batches<B: Lane>(device: &B::Device) {
    let shape = [4, 3, 2, 3];
    let count: usize = shape.iter().product();
    let logits: Vec<f32> = (0..count)
        .map(|i| ((i * 7919) % 23) as f32 / 5.0 - 2.2)
        .collect();
    let classes: Vec<i64> = (0..count / 3).map(|i| ((i * 31) % 7 % 3) as i64).collect();
    let input = || Tensor::<B, 4>::from_data(TensorData::new(logits.clone(), shape), device);
    let target = || {
        Tensor::<B, 3, burn::tensor::Int>::from_data(
            TensorData::new(classes.clone(), [4, 2, 3]),
            device,
        )
    };
    for splits in [[0..1, 1..4], [0..2, 2..4]] {
        for reduction in REDUCTIONS {
            for jaccard in [false, true] {
                let what = format!("{splits:?} {reduction:?} jaccard {jaccard}");
                let loss = DiceLossConfig::new()
                    .with_softmax(true)
                    .with_batch(true)
                    .with_jaccard(jaccard)
                    .with_weight(Some(vec![0.5, 1.0, 2.0]))
                    .with_reduction(reduction)
                    .init::<B>(device);
                let whole_input = B::track(input());
                let whole = loss.forward_indices(whole_input.clone(), target());
                let whole_value: f64 = whole.to_data().iter::<f64>().next().expect("a value");
                let whole_gradient = B::backward(whole).and_then(|g| B::grad(&whole_input, &g));

                let part_sums: Vec<OverlapSums<B>> = splits
                    .iter()
                    .map(|rows| {
                        loss.batch_sums_of_indices(
                            input().slice(rows.clone()),
                            target().slice(rows.clone()),
                        )
                        .detach()
                    })
                    .collect();
                let mut part_gradients = Vec::new();
                for (k, rows) in splits.iter().enumerate() {
                    let part_input = B::track(input().slice(rows.clone()));
                    let own = loss
                        .batch_sums_of_indices(part_input.clone(), target().slice(rows.clone()));
                    let others = part_sums
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != k)
                        .map(|(_, sums)| sums.clone())
                        .reduce(|a, b| a + b)
                        .expect("another micro-batch");
                    let value = loss.reduce(loss.forward_sums(own + others), shape[0]);
                    assert_scalar(
                        &format!("{what} part {k}"),
                        value.to_data(),
                        whole_value,
                        F32,
                    );
                    if let Some(gradients) = B::backward(value) {
                        let gradient = B::grad(&part_input, &gradients).expect("a gradient");
                        part_gradients.extend(gradient.iter::<f64>());
                    }
                }
                if let Some(whole_gradient) = whole_gradient {
                    let expected = Array {
                        shape: shape.to_vec(),
                        data: whole_gradient.iter::<f64>().collect(),
                    };
                    let actual = TensorData::new(part_gradients, shape);
                    assert_close(&format!("{what} gradient"), actual, &expected, GRADIENT);
                }
            }
        }
    }
}

/// With `batch`, the unreduced output is one row: `(1, C')`.
fn batch_output_is_one_row<B: Lane>(device: &B::Device) {
    let input = Tensor::<B, 4>::zeros([3, 4, 2, 2], device);
    let target = Tensor::<B, 4>::ones([3, 4, 2, 2], device);
    let dice = DiceLossConfig::new()
        .with_batch(true)
        .with_include_background(false)
        .init::<B>(device);
    assert_eq!(
        dice.forward_no_reduction(input.clone(), target.clone())
            .dims(),
        [1, 3]
    );
    let tversky = TverskyLossConfig::new().with_batch(true).init::<B>(device);
    assert_eq!(tversky.forward_no_reduction(input, target).dims(), [1, 4]);
}

on_every_backend!(
    dice,
    tversky,
    generalized_dice,
    dice_ce,
    dice_focal,
    jaccard,
    smp_dice,
    smp_focal,
    focal_tversky,
    lovasz,
    dice_over_micro_batches,
    batch_output_is_one_row
);
on_every_plain_backend!(
    dice,
    tversky,
    generalized_dice,
    dice_ce,
    dice_focal,
    jaccard,
    smp_dice,
    smp_focal,
    focal_tversky,
    lovasz,
    batch_output_is_one_row
);

/// Every option and shape family the fixtures promise is in them (a guard against a generator
/// edit that silently drops a case).
#[test]
fn fixtures_cover_the_options() {
    let dice = load_fixture("dice");
    let tversky = load_fixture("tversky");
    let generalized_dice = load_fixture("generalized_dice");
    for (fixture, options) in [
        (
            &dice,
            &[
                "sigmoid",
                "softmax",
                "squared_pred",
                "jaccard",
                "batch",
                "soft_label",
                "weight",
                "smooth_nr",
                "smooth_dr",
                "include_background",
            ][..],
        ),
        (
            &tversky,
            &[
                "sigmoid",
                "softmax",
                "alpha",
                "beta",
                "batch",
                "soft_label",
                "smooth_nr",
                "include_background",
            ][..],
        ),
        (
            &generalized_dice,
            &[
                "sigmoid",
                "softmax",
                "w_type",
                "batch",
                "soft_label",
                "smooth_nr",
                "include_background",
            ][..],
        ),
    ] {
        let has = |test: &dyn Fn(&Value) -> bool| cases(fixture).iter().any(test);
        for option in options {
            assert!(has(&|c| !c["options"][option].is_null()), "{option}");
        }
        for target in ["index", "onehot", "soft"] {
            assert!(has(&|c| c["options"]["target"] == target), "{target}");
        }
        for rank in [3, 4, 5] {
            assert!(has(&|c| input_rank(c) == rank), "rank {rank}");
        }
        assert!(
            has(&|c| c["inputs"]["input"]["shape"][1] == 1),
            "one channel"
        );
    }
    let dice_ce = load_fixture("dice_ce");
    let dice_focal = load_fixture("dice_focal");
    let jaccard = load_fixture("jaccard");
    let smp_dice = load_fixture("smp_dice");
    let smp_focal = load_fixture("smp_focal");
    for (fixture, options) in [
        (
            &dice_focal,
            &[
                "sigmoid",
                "softmax",
                "gamma",
                "alpha",
                "weight",
                "lambda_dice",
                "lambda_focal",
                "include_background",
                "batch",
                "jaccard",
                "squared_pred",
            ][..],
        ),
        (
            &smp_dice,
            &[
                "classes",
                "class_weights",
                "log_loss",
                "from_logits",
                "smooth",
                "ignore_index",
                "eps",
            ][..],
        ),
        (
            &smp_focal,
            &[
                "alpha",
                "gamma",
                "ignore_index",
                "from_logits",
                "eps",
                "normalized",
                "reduced_threshold",
                "class_weights",
            ][..],
        ),
        (
            &dice_ce,
            &[
                "weight",
                "label_smoothing",
                "lambda_dice",
                "lambda_ce",
                "include_background",
                "batch",
            ][..],
        ),
        (
            &jaccard,
            &[
                "classes",
                "class_weights",
                "log_loss",
                "from_logits",
                "smooth",
                "ignore_index",
                "eps",
            ][..],
        ),
    ] {
        let has = |test: &dyn Fn(&Value) -> bool| cases(fixture).iter().any(test);
        for option in options {
            assert!(has(&|c| !c["options"][option].is_null()), "{option}");
        }
    }
    for fixture in [&jaccard, &smp_dice, &smp_focal] {
        for mode in ["binary", "multiclass", "multilabel"] {
            let has_mode = cases(fixture).iter().any(|c| c["options"]["mode"] == mode);
            assert!(has_mode, "{mode}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Finite differences in f64
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod gradients {
    use burn_losses::*;

    use super::common::F64Autodiff as B;
    use super::common::REDUCTIONS;
    use super::common::gradcheck::{gradcheck, indices, tensor, uniform};

    const SHAPE: [usize; 4] = [2, 3, 2, 2];
    /// Class 1 is absent from the second sample (an empty channel: an infinite generalized Dice
    /// weight, replaced).
    const CLASSES: [i64; 8] = [0, 2, 1, 1, 2, 0, 0, 2];

    fn targets() -> burn::tensor::Tensor<B, 3, burn::tensor::Int> {
        indices(&CLASSES, [2, 2, 2])
    }

    /// Options that change the formula: (name, activation sigmoid/softmax/none, flags).
    fn dice_configs() -> Vec<(&'static str, DiceLossConfig)> {
        vec![
            ("softmax", DiceLossConfig::new().with_softmax(true)),
            (
                "sigmoid batch",
                DiceLossConfig::new().with_sigmoid(true).with_batch(true),
            ),
            (
                "softmax squared jaccard no background",
                DiceLossConfig::new()
                    .with_softmax(true)
                    .with_squared_pred(true)
                    .with_jaccard(true)
                    .with_include_background(false),
            ),
            (
                "softmax weight smooth 0.1",
                DiceLossConfig::new()
                    .with_softmax(true)
                    .with_weight(Some(vec![0.5, 1.0, 2.0]))
                    .with_smooth_nr(0.1)
                    .with_smooth_dr(0.1),
            ),
            (
                "sigmoid soft label",
                DiceLossConfig::new()
                    .with_sigmoid(true)
                    .with_soft_label(true),
            ),
            (
                "softmax ignore class 1",
                DiceLossConfig::new()
                    .with_softmax(true)
                    .with_ignore_index(Some(1)),
            ),
        ]
    }

    crate::on_f64! {
        fn dice() {
            let logits = uniform(24, -2.0, 2.0, 70);
            let soft = uniform(24, 0.05, 0.95, 71);
            let upstream = tensor(&uniform(6, 0.5, 1.5, 72), [2, 3]);
            for (name, config) in dice_configs() {
                for reduction in REDUCTIONS {
                    let loss = config.clone().with_reduction(reduction).init::<B>(&Default::default());
                    gradcheck(&format!("Dice {name} {reduction:?} indices"), &logits, SHAPE, |x| {
                        loss.forward_indices(x, targets())
                    });
                    gradcheck(&format!("Dice {name} {reduction:?} soft"), &logits, SHAPE, |x| {
                        loss.forward(x, tensor(&soft, SHAPE))
                    });
                }
                let loss = config.init::<B>(&Default::default());
                let rows = if loss.batch { 1 } else { 2 };
                let kept = if loss.include_background { 3 } else { 2 };
                let upstream = upstream.clone().slice([0..rows, 0..kept]);
                gradcheck(&format!("Dice {name} none"), &logits, SHAPE, |x| {
                    (loss.forward_no_reduction(x, tensor(&soft, SHAPE)) * upstream.clone()).sum()
                });
            }
        }

        fn generalized_dice() {
            let logits = uniform(24, -2.0, 2.0, 76);
            let soft = uniform(24, 0.05, 0.95, 77);
            let upstream = tensor(&uniform(2, 0.5, 1.5, 78), [2]);
            for w_type in [DiceWeight::Square, DiceWeight::Simple, DiceWeight::Uniform] {
                for batch in [false, true] {
                    let config = GeneralizedDiceLossConfig::new()
                        .with_softmax(true)
                        .with_w_type(w_type)
                        .with_batch(batch);
                    let name = format!("GeneralizedDice {w_type:?} batch {batch}");
                    for reduction in REDUCTIONS {
                        let loss = config.clone().with_reduction(reduction).init::<B>(&Default::default());
                        gradcheck(&format!("{name} {reduction:?} indices"), &logits, SHAPE, |x| {
                            loss.forward_indices(x, targets())
                        });
                    }
                    let loss = config.with_soft_label(true).init::<B>(&Default::default());
                    let upstream = upstream.clone().slice(0..if batch { 1 } else { 2 });
                    gradcheck(&format!("{name} soft label none"), &logits, SHAPE, |x| {
                        (loss.forward_no_reduction(x, tensor(&soft, SHAPE)) * upstream.clone()).sum()
                    });
                }
            }
        }

        fn dice_ce() {
            let logits = uniform(24, -2.0, 2.0, 79);
            let soft = uniform(24, 0.05, 0.95, 80);
            let configs = [
                DiceCeLossConfig::new().with_softmax(true),
                DiceCeLossConfig::new()
                    .with_softmax(true)
                    .with_include_background(false)
                    .with_weight(Some(vec![0.5, 1.0, 2.0]))
                    .with_label_smoothing(0.2)
                    .with_lambda_dice(0.6)
                    .with_lambda_ce(1.4),
                DiceCeLossConfig::new().with_sigmoid(true).with_batch(true),
            ];
            for config in configs {
                for reduction in REDUCTIONS {
                    let loss = config.clone().with_reduction(reduction).init::<B>(&Default::default());
                    let what = format!("DiceCe {config:?}");
                    gradcheck(&format!("{what} indices"), &logits, SHAPE, |x| {
                        loss.forward_indices(x, targets())
                    });
                    gradcheck(&format!("{what} soft"), &logits, SHAPE, |x| {
                        loss.forward(x, tensor(&soft, SHAPE))
                    });
                }
            }
            // One channel: the binary cross entropy with `pos_weight`.
            let loss = DiceCeLossConfig::new()
                .with_sigmoid(true)
                .with_weight(Some(vec![3.0]))
                .init::<B>(&Default::default());
            let mask = tensor(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0], [2, 1, 4]);
            gradcheck("DiceCe one channel", &logits[..8], [2, 1, 4], |x| {
                loss.forward(x, mask.clone())
            });
        }

        fn dice_focal() {
            let logits = uniform(24, -2.0, 2.0, 89);
            let soft = uniform(24, 0.05, 0.95, 90);
            let upstream = tensor(&uniform(16, 0.5, 1.5, 91), [2, 2, 2, 2]);
            let configs = [
                DiceFocalLossConfig::new().with_softmax(true),
                DiceFocalLossConfig::new()
                    .with_softmax(true)
                    .with_include_background(false)
                    .with_weight(Some(vec![0.5, 2.0]))
                    .with_gamma(1.5)
                    .with_alpha(Some(0.25))
                    .with_lambda_dice(0.6)
                    .with_lambda_focal(1.4),
                DiceFocalLossConfig::new().with_sigmoid(true).with_batch(true).with_gamma(0.5),
            ];
            for config in configs {
                let what = format!("DiceFocal {config:?}");
                for reduction in REDUCTIONS {
                    let loss = config.clone().with_reduction(reduction).init::<B>(&Default::default());
                    gradcheck(&format!("{what} indices"), &logits, SHAPE, |x| {
                        loss.forward_indices(x, targets())
                    });
                    gradcheck(&format!("{what} soft"), &logits, SHAPE, |x| {
                        loss.forward(x, tensor(&soft, SHAPE))
                    });
                }
                if !config.include_background {
                    let loss = config.init::<B>(&Default::default());
                    gradcheck(&format!("{what} none"), &logits, SHAPE, |x| {
                        (loss.forward_no_reduction(x, tensor(&soft, SHAPE)) * upstream.clone()).sum()
                    });
                }
            }
        }

        fn jaccard() {
            let logits = uniform(24, -2.0, 2.0, 81);
            let soft = uniform(24, 0.05, 0.95, 82);
            let upstream = tensor(&uniform(3, 0.5, 1.5, 83), [3]);
            let configs = [
                JaccardLossConfig::new(SegmentationMode::Multiclass),
                JaccardLossConfig::new(SegmentationMode::Multiclass)
                    .with_log_loss(true)
                    .with_smooth(0.5)
                    .with_ignore_index(Some(2))
                    .with_class_weights(Some(vec![0.5, 1.0, 2.0])),
                JaccardLossConfig::new(SegmentationMode::Multilabel)
                    .with_classes(Some(vec![2, 0])),
            ];
            for config in configs {
                for reduction in REDUCTIONS {
                    let loss = config.clone().with_reduction(reduction).init::<B>(&Default::default());
                    let what = format!("Jaccard {config:?}");
                    if config.mode == SegmentationMode::Multiclass {
                        gradcheck(&what, &logits, SHAPE, |x| loss.forward_indices(x, targets()));
                    } else {
                        gradcheck(&what, &logits, SHAPE, |x| loss.forward(x, tensor(&soft, SHAPE)));
                    }
                }
            }
            let loss = JaccardLossConfig::new(SegmentationMode::Multiclass).init::<B>(&Default::default());
            gradcheck("Jaccard none", &logits, SHAPE, |x| {
                (loss.forward_indices_no_reduction(x, targets()) * upstream.clone()).sum()
            });
        }

        fn smp_focal() {
            let logits = uniform(24, -2.0, 2.0, 92);
            let probabilities = uniform(24, 0.05, 0.95, 93);
            let soft = uniform(24, 0.05, 0.95, 94);
            let upstream = tensor(&uniform(24, 0.5, 1.5, 95), SHAPE);
            let configs = [
                SmpFocalLossConfig::new(SegmentationMode::Multiclass),
                SmpFocalLossConfig::new(SegmentationMode::Multiclass)
                    .with_alpha(Some(0.25))
                    .with_gamma(1.5)
                    .with_ignore_index(Some(2))
                    .with_normalized(true)
                    .with_class_weights(Some(vec![0.5, 1.0, 2.0])),
                SmpFocalLossConfig::new(SegmentationMode::Multiclass)
                    .with_from_logits(false)
                    .with_reduced_threshold(Some(0.5)),
                SmpFocalLossConfig::new(SegmentationMode::Multilabel)
                    .with_gamma(0.5)
                    .with_normalized(true),
                SmpFocalLossConfig::new(SegmentationMode::Multilabel)
                    .with_from_logits(false)
                    .with_alpha(Some(0.75)),
            ];
            for config in configs {
                let what = format!("SmpFocal {config:?}");
                let point = if config.from_logits { &logits } else { &probabilities };
                for reduction in REDUCTIONS {
                    let loss = config.clone().with_reduction(reduction).init::<B>(&Default::default());
                    if config.mode == SegmentationMode::Multiclass {
                        gradcheck(&what, point, SHAPE, |x| loss.forward_indices(x, targets()));
                    } else {
                        gradcheck(&what, point, SHAPE, |x| loss.forward(x, tensor(&soft, SHAPE)));
                    }
                }
                let loss = config.init::<B>(&Default::default());
                gradcheck(&format!("{what} none"), point, SHAPE, |x| {
                    let losses = if loss.mode == SegmentationMode::Multiclass {
                        loss.forward_indices_no_reduction(x, targets())
                    } else {
                        loss.forward_no_reduction(x, tensor(&soft, SHAPE))
                    };
                    (losses * upstream.clone()).sum()
                });
            }
        }

        fn focal_tversky() {
            let logits = uniform(24, -2.0, 2.0, 84);
            let soft = uniform(24, 0.05, 0.95, 85);
            for (alpha, beta, gamma) in [(0.5, 0.5, 1.0), (0.3, 0.7, 0.75), (0.8, 0.2, 2.0)] {
                let config = FocalTverskyLossConfig::new(SegmentationMode::Multiclass)
                    .with_alpha(alpha)
                    .with_beta(beta)
                    .with_gamma(gamma)
                    .with_class_weights(Some(vec![1.0, 0.5, 2.0]));
                let loss = config.init::<B>(&Default::default());
                let what = format!("FocalTversky a {alpha} b {beta} g {gamma}");
                gradcheck(&what, &logits, SHAPE, |x| loss.forward_indices(x, targets()));
                let loss = FocalTverskyLossConfig::new(SegmentationMode::Multilabel)
                    .with_alpha(alpha)
                    .with_beta(beta)
                    .with_gamma(gamma)
                    .with_log_loss(true)
                    .init::<B>(&Default::default());
                gradcheck(&format!("{what} multilabel log"), &logits, SHAPE, |x| {
                    loss.forward(x, tensor(&soft, SHAPE))
                });
            }
        }

        fn lovasz() {
            // Errors far apart (no ties within a finite-difference step).
            let logits = uniform(24, -2.0, 2.0, 86);
            let mask = uniform(24, 0.0, 1.0, 87)
                .iter()
                .map(|u| if *u < 0.5 { 0.0 } else { 1.0 })
                .collect::<Vec<_>>();
            let upstream = tensor(&uniform(2, 0.5, 1.5, 88), [2]);
            for per_image in [false, true] {
                for ignore_index in [None, Some(1)] {
                    let config = LovaszLossConfig::new(SegmentationMode::Multiclass)
                        .with_per_image(per_image)
                        .with_ignore_index(ignore_index);
                    let what = format!("Lovasz-softmax per image {per_image} ignore {ignore_index:?}");
                    for reduction in REDUCTIONS {
                        let loss = config.clone().with_reduction(reduction).init::<B>(&Default::default());
                        gradcheck(&what, &logits, SHAPE, |x| loss.forward_indices(x, targets()));
                    }
                    let loss = LovaszLossConfig::new(SegmentationMode::Multilabel)
                        .with_per_image(per_image)
                        .init::<B>(&Default::default());
                    let rows = if per_image { 2 } else { 1 };
                    let upstream = upstream.clone().slice(0..rows);
                    gradcheck(&format!("Lovasz hinge per image {per_image}"), &logits, SHAPE, |x| {
                        (loss.forward_no_reduction(x, tensor(&mask, SHAPE)) * upstream.clone()).sum()
                    });
                }
            }
        }

        fn tversky() {
            let logits = uniform(24, -2.0, 2.0, 73);
            let soft = uniform(24, 0.05, 0.95, 74);
            let upstream = tensor(&uniform(6, 0.5, 1.5, 75), [2, 3]);
            for (alpha, beta) in [(0.5, 0.5), (0.3, 0.7), (1.0, 0.0)] {
                for soft_label in [false, true] {
                    let config = TverskyLossConfig::new()
                        .with_softmax(true)
                        .with_alpha(alpha)
                        .with_beta(beta)
                        .with_soft_label(soft_label);
                    let name = format!("Tversky a {alpha} b {beta} soft label {soft_label}");
                    for reduction in REDUCTIONS {
                        let loss = config.clone().with_reduction(reduction).init::<B>(&Default::default());
                        gradcheck(&format!("{name} {reduction:?} indices"), &logits, SHAPE, |x| {
                            loss.forward_indices(x, targets())
                        });
                    }
                    let loss = config.with_batch(true).init::<B>(&Default::default());
                    let upstream = upstream.clone().slice([0..1, 0..3]);
                    gradcheck(&format!("{name} batch none"), &logits, SHAPE, |x| {
                        (loss.forward_no_reduction(x, tensor(&soft, SHAPE)) * upstream.clone()).sum()
                    });
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Every bad option and bad call panics with the loss, the argument, the expectation and the value
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod errors {
    use burn_losses::*;

    use super::common::panics::{B, device, floats, ints};

    crate::panic_table! {
        fn segmentation_errors() {
            let dice = || DiceLossConfig::new().init::<B>(&device());
            let tversky = || TverskyLossConfig::new().init::<B>(&device());
            [
                dice_two_activations:
                    "DiceLoss: option `softmax` expected false when `sigmoid` is true, got true"
                    => DiceLossConfig::new().with_sigmoid(true).with_softmax(true).init::<B>(&device()),
                dice_negative_smooth_nr:
                    "DiceLoss: option `smooth_nr` expected a finite value >= 0, got -0.1"
                    => DiceLossConfig::new().with_smooth_nr(-0.1).init::<B>(&device()),
                dice_nan_smooth_dr:
                    "DiceLoss: option `smooth_dr` expected a finite value, got NaN"
                    => DiceLossConfig::new().with_smooth_dr(f32::NAN).init::<B>(&device()),
                dice_empty_weight:
                    "DiceLoss: option `weight` expected a non-empty list, got an empty list"
                    => DiceLossConfig::new().with_weight(Some(vec![])).init::<B>(&device()),
                dice_negative_weight:
                    "DiceLoss: option `weight` expected finite, non-negative values, got -1"
                    => DiceLossConfig::new().with_weight(Some(vec![1.0, -1.0])).init::<B>(&device()),
                dice_rank_two:
                    "DiceLoss: `input` expected rank >= 3: (N, C, d1, ..., dk), got rank 2 with shape [2, 3]"
                    => dice().forward(floats([2, 3], 0.5), floats([2, 3], 1.0)),
                dice_target_shape:
                    "DiceLoss: `target` expected shape [2, 3, 4] (the shape of `input`), got [2, 3, 5]"
                    => dice().forward(floats([2, 3, 4], 0.5), floats([2, 3, 5], 1.0)),
                dice_softmax_one_channel:
                    "DiceLoss: `input` expected at least 2 channels with `softmax` (a softmax over one channel is 1), got 1 channel"
                    => DiceLossConfig::new().with_softmax(true).init::<B>(&device())
                        .forward(floats([2, 1, 4], 0.5), floats([2, 1, 4], 1.0)),
                dice_no_background_one_channel:
                    "DiceLoss: `input` expected at least 2 channels without `include_background` (channel 0 is left out), got 1 channel"
                    => DiceLossConfig::new().with_include_background(false).init::<B>(&device())
                        .forward(floats([2, 1, 4], 0.5), floats([2, 1, 4], 1.0)),
                dice_indices_one_channel:
                    "DiceLoss: `input` expected at least 2 channels with class-index targets (one channel: pass the binary mask as a float target to `forward`), got 1 channel"
                    => dice().forward_indices(floats([2, 1, 2], 0.5), ints(&[0, 1, 1, 0], [2, 2])),
                dice_index_out_of_range:
                    "DiceLoss: `target` expected class indices in [0, 3), got 3"
                    => dice().forward_indices(floats([2, 3, 2], 0.5), ints(&[0, 1, 3, 0], [2, 2])),
                dice_index_target_shape:
                    "DiceLoss: `target` expected shape [2, 2] (`input` [2, 3, 2] without the channel dimension), got [2, 3]"
                    => dice().forward_indices(floats([2, 3, 2], 0.5), ints(&[0; 6], [2, 3])),
                dice_index_target_rank:
                    "DiceLoss: `target` expected rank 2 (the rank of `input` less the channel dimension), got rank 3"
                    => dice().forward_indices(floats([2, 3, 2], 0.5), ints(&[0; 4], [2, 1, 2])),
                dice_weight_length:
                    "DiceLoss: `weight` expected length 2 (the channels the loss keeps: dimension 1 of the input, less the background without `include_background`), got length 3"
                    => DiceLossConfig::new().with_include_background(false)
                        .with_weight(Some(vec![1.0, 2.0, 3.0])).init::<B>(&device())
                        .forward(floats([2, 3, 4], 0.5), floats([2, 3, 4], 1.0)),
                dice_batch_sums_without_batch:
                    "DiceLoss: `batch_sums` expected the option `batch` (one Dice over the batch), got `batch` false"
                    => dice().batch_sums(floats([2, 3, 4], 0.5), floats([2, 3, 4], 1.0)),
                generalized_dice_two_activations:
                    "GeneralizedDiceLoss: option `softmax` expected false when `sigmoid` is true, got true"
                    => GeneralizedDiceLossConfig::new().with_sigmoid(true).with_softmax(true).init::<B>(&device()),
                generalized_dice_infinite_smooth_nr:
                    "GeneralizedDiceLoss: option `smooth_nr` expected a finite value, got inf"
                    => GeneralizedDiceLossConfig::new().with_smooth_nr(f32::INFINITY).init::<B>(&device()),
                generalized_dice_softmax_one_channel:
                    "GeneralizedDiceLoss: `input` expected at least 2 channels with `softmax` (a softmax over one channel is 1), got 1 channel"
                    => GeneralizedDiceLossConfig::new().with_softmax(true).init::<B>(&device())
                        .forward(floats([2, 1, 4], 0.5), floats([2, 1, 4], 1.0)),
                dice_ce_negative_lambda_dice:
                    "DiceCeLoss: option `lambda_dice` expected a finite value >= 0, got -1"
                    => DiceCeLossConfig::new().with_lambda_dice(-1.0).init::<B>(&device()),
                dice_ce_nan_lambda_ce:
                    "DiceCeLoss: option `lambda_ce` expected a finite value, got NaN"
                    => DiceCeLossConfig::new().with_lambda_ce(f32::NAN).init::<B>(&device()),
                dice_ce_label_smoothing:
                    "DiceCeLoss: option `label_smoothing` expected a value in [0, 1], got 1.5"
                    => DiceCeLossConfig::new().with_label_smoothing(1.5).init::<B>(&device()),
                dice_ce_negative_weight:
                    "DiceCeLoss: option `weight` expected finite, non-negative values, got -2"
                    => DiceCeLossConfig::new().with_weight(Some(vec![1.0, -2.0])).init::<B>(&device()),
                dice_ce_one_weight_without_background:
                    "DiceCeLoss: option `weight` expected a weight per class, at least 2 without `include_background`, got 1 weight"
                    => DiceCeLossConfig::new().with_include_background(false)
                        .with_weight(Some(vec![1.0])).init::<B>(&device()),
                dice_focal_two_activations:
                    "DiceFocalLoss: option `softmax` expected false when `sigmoid` is true, got true"
                    => DiceFocalLossConfig::new().with_sigmoid(true).with_softmax(true).init::<B>(&device()),
                dice_focal_negative_smooth_dr:
                    "DiceFocalLoss: option `smooth_dr` expected a finite value >= 0, got -1"
                    => DiceFocalLossConfig::new().with_smooth_dr(-1.0).init::<B>(&device()),
                dice_focal_nan_gamma:
                    "DiceFocalLoss: option `gamma` expected a finite value, got NaN"
                    => DiceFocalLossConfig::new().with_gamma(f32::NAN).init::<B>(&device()),
                dice_focal_negative_gamma:
                    "DiceFocalLoss: option `gamma` expected a finite value >= 0, got -2"
                    => DiceFocalLossConfig::new().with_gamma(-2.0).init::<B>(&device()),
                dice_focal_negative_lambda_dice:
                    "DiceFocalLoss: option `lambda_dice` expected a finite value >= 0, got -1"
                    => DiceFocalLossConfig::new().with_lambda_dice(-1.0).init::<B>(&device()),
                dice_focal_infinite_lambda_focal:
                    "DiceFocalLoss: option `lambda_focal` expected a finite value, got inf"
                    => DiceFocalLossConfig::new().with_lambda_focal(f32::INFINITY).init::<B>(&device()),
                dice_focal_alpha_above_one:
                    "DiceFocalLoss: option `alpha` expected none or a value in [0, 1], got 1.5"
                    => DiceFocalLossConfig::new().with_alpha(Some(1.5)).init::<B>(&device()),
                dice_focal_negative_weight:
                    "DiceFocalLoss: option `weight` expected finite, non-negative values, got -2"
                    => DiceFocalLossConfig::new().with_weight(Some(vec![1.0, -2.0])).init::<B>(&device()),
                dice_focal_weight_length:
                    "DiceFocalLoss: `weight` expected length 2 (the channels the loss keeps: dimension 1 of the input, less the background without `include_background`), got length 3"
                    => DiceFocalLossConfig::new().with_include_background(false)
                        .with_weight(Some(vec![1.0, 2.0, 3.0])).init::<B>(&device())
                        .forward(floats([2, 3, 4], 0.5), floats([2, 3, 4], 1.0)),
                dice_focal_weight_one_channel:
                    "DiceFocalLoss: `weight` expected none with one kept channel (MONAI's focal term refuses a per-class weight there), got a weight"
                    => DiceFocalLossConfig::new().with_sigmoid(true)
                        .with_weight(Some(vec![2.0])).init::<B>(&device())
                        .forward(floats([2, 1, 4], 0.5), floats([2, 1, 4], 1.0)),
                dice_focal_rank_two:
                    "DiceFocalLoss: `input` expected rank >= 3: (N, C, d1, ..., dk), got rank 2 with shape [2, 3]"
                    => DiceFocalLossConfig::new().init::<B>(&device())
                        .forward(floats([2, 3], 0.5), floats([2, 3], 1.0)),
                dice_focal_target_shape:
                    "DiceFocalLoss: `target` expected shape [2, 3, 4] (the shape of `input`), got [2, 3, 5]"
                    => DiceFocalLossConfig::new().init::<B>(&device())
                        .forward(floats([2, 3, 4], 0.5), floats([2, 3, 5], 1.0)),
                dice_focal_softmax_one_channel:
                    "DiceFocalLoss: `input` expected at least 2 channels with `softmax` (a softmax over one channel is 1), got 1 channel"
                    => DiceFocalLossConfig::new().with_softmax(true).init::<B>(&device())
                        .forward(floats([2, 1, 4], 0.5), floats([2, 1, 4], 1.0)),
                dice_focal_index_out_of_range:
                    "DiceFocalLoss: `target` expected class indices in [0, 3), got 3"
                    => DiceFocalLossConfig::new().init::<B>(&device())
                        .forward_indices(floats([2, 3, 2], 0.5), ints(&[0, 1, 3, 0], [2, 2])),
                dice_focal_indices_one_channel:
                    "DiceFocalLoss: `input` expected at least 2 channels with class-index targets (one channel: pass the binary mask as a float target to `forward`), got 1 channel"
                    => DiceFocalLossConfig::new().init::<B>(&device())
                        .forward_indices(floats([2, 1, 2], 0.5), ints(&[0, 1, 1, 0], [2, 2])),
                jaccard_negative_smooth:
                    "JaccardLoss: option `smooth` expected a finite value >= 0, got -1"
                    => JaccardLossConfig::new(SegmentationMode::Multiclass).with_smooth(-1.0).init::<B>(&device()),
                jaccard_nan_eps:
                    "JaccardLoss: option `eps` expected a finite value, got NaN"
                    => JaccardLossConfig::new(SegmentationMode::Multiclass).with_eps(f32::NAN).init::<B>(&device()),
                jaccard_negative_class_weight:
                    "JaccardLoss: option `class_weights` expected finite, non-negative values, got -1"
                    => JaccardLossConfig::new(SegmentationMode::Multiclass)
                        .with_class_weights(Some(vec![-1.0])).init::<B>(&device()),
                jaccard_binary_classes:
                    "JaccardLoss: option `classes` expected none with mode Binary, got a list"
                    => JaccardLossConfig::new(SegmentationMode::Binary)
                        .with_classes(Some(vec![0])).init::<B>(&device()),
                jaccard_binary_class_weights:
                    "JaccardLoss: option `class_weights` expected none with mode Binary, got a list"
                    => JaccardLossConfig::new(SegmentationMode::Binary)
                        .with_class_weights(Some(vec![1.0])).init::<B>(&device()),
                jaccard_binary_channels:
                    "JaccardLoss: `input` expected 1 channel with mode Binary, got 2 channels"
                    => JaccardLossConfig::new(SegmentationMode::Binary).init::<B>(&device())
                        .forward(floats([2, 2, 3], 0.5), floats([2, 2, 3], 1.0)),
                jaccard_rank_two:
                    "JaccardLoss: `input` expected rank >= 3: (N, C, d1, ..., dk), got rank 2 with shape [2, 3]"
                    => JaccardLossConfig::new(SegmentationMode::Multilabel).init::<B>(&device())
                        .forward(floats([2, 3], 0.5), floats([2, 3], 1.0)),
                jaccard_multiclass_float_target:
                    "JaccardLoss: `target` expected class indices (`forward_indices`) with mode Multiclass, got a float target"
                    => JaccardLossConfig::new(SegmentationMode::Multiclass).init::<B>(&device())
                        .forward(floats([2, 3, 2], 0.5), floats([2, 3, 2], 1.0)),
                jaccard_multilabel_indices:
                    "JaccardLoss: `target` expected a float mask of the input's shape (`forward`) with a mode other than Multiclass, got class indices"
                    => JaccardLossConfig::new(SegmentationMode::Multilabel).init::<B>(&device())
                        .forward_indices(floats([2, 3, 2], 0.5), ints(&[0, 1, 2, 0], [2, 2])),
                jaccard_target_shape:
                    "JaccardLoss: `target` expected shape [2, 3, 2] (the shape of `input`), got [2, 3, 3]"
                    => JaccardLossConfig::new(SegmentationMode::Multilabel).init::<B>(&device())
                        .forward(floats([2, 3, 2], 0.5), floats([2, 3, 3], 1.0)),
                jaccard_index_shape:
                    "JaccardLoss: `target` expected shape [2, 2] (`input` [2, 3, 2] without the channel dimension), got [2, 3]"
                    => JaccardLossConfig::new(SegmentationMode::Multiclass).init::<B>(&device())
                        .forward_indices(floats([2, 3, 2], 0.5), ints(&[0; 6], [2, 3])),
                jaccard_index_range:
                    "JaccardLoss: `target` expected class indices in [0, 3) or ignore_index 255, got 7"
                    => JaccardLossConfig::new(SegmentationMode::Multiclass).with_ignore_index(Some(255))
                        .init::<B>(&device())
                        .forward_indices(floats([2, 3, 2], 0.5), ints(&[0, 255, 7, 1], [2, 2])),
                jaccard_class_out_of_range:
                    "JaccardLoss: `classes` expected channels in [0, 3), got 3"
                    => JaccardLossConfig::new(SegmentationMode::Multilabel).with_classes(Some(vec![0, 3]))
                        .init::<B>(&device())
                        .forward(floats([2, 3, 2], 0.5), floats([2, 3, 2], 1.0)),
                jaccard_class_weights_length:
                    "JaccardLoss: `class_weights` expected length 3 (one weight per channel of `input`), got length 2"
                    => JaccardLossConfig::new(SegmentationMode::Multilabel).with_class_weights(Some(vec![1.0, 2.0]))
                        .init::<B>(&device())
                        .forward(floats([2, 3, 2], 0.5), floats([2, 3, 2], 1.0)),
                smp_dice_negative_eps:
                    "SmpDiceLoss: option `eps` expected a finite value >= 0, got -1"
                    => SmpDiceLossConfig::new(SegmentationMode::Multiclass).with_eps(-1.0).init::<B>(&device()),
                smp_dice_binary_class_weights:
                    "SmpDiceLoss: option `class_weights` expected none with mode Binary, got a list"
                    => SmpDiceLossConfig::new(SegmentationMode::Binary)
                        .with_class_weights(Some(vec![1.0])).init::<B>(&device()),
                smp_dice_multiclass_float_target:
                    "SmpDiceLoss: `target` expected class indices (`forward_indices`) with mode Multiclass, got a float target"
                    => SmpDiceLossConfig::new(SegmentationMode::Multiclass).init::<B>(&device())
                        .forward(floats([2, 3, 2], 0.5), floats([2, 3, 2], 1.0)),
                smp_dice_binary_channels:
                    "SmpDiceLoss: `input` expected 1 channel with mode Binary, got 3 channels"
                    => SmpDiceLossConfig::new(SegmentationMode::Binary).init::<B>(&device())
                        .forward(floats([2, 3, 2], 0.5), floats([2, 3, 2], 1.0)),
                smp_dice_index_range:
                    "SmpDiceLoss: `target` expected class indices in [0, 3), got 4"
                    => SmpDiceLossConfig::new(SegmentationMode::Multiclass).init::<B>(&device())
                        .forward_indices(floats([2, 3, 2], 0.5), ints(&[0, 4, 1, 2], [2, 2])),
                smp_dice_class_out_of_range:
                    "SmpDiceLoss: `classes` expected channels in [0, 3), got 5"
                    => SmpDiceLossConfig::new(SegmentationMode::Multilabel).with_classes(Some(vec![5]))
                        .init::<B>(&device())
                        .forward(floats([2, 3, 2], 0.5), floats([2, 3, 2], 1.0)),
                smp_focal_negative_gamma:
                    "SmpFocalLoss: option `gamma` expected a finite value >= 0, got -1"
                    => SmpFocalLossConfig::new(SegmentationMode::Multiclass).with_gamma(-1.0).init::<B>(&device()),
                smp_focal_alpha_above_one:
                    "SmpFocalLoss: option `alpha` expected none or a value in [0, 1], got 2"
                    => SmpFocalLossConfig::new(SegmentationMode::Binary).with_alpha(Some(2.0)).init::<B>(&device()),
                smp_focal_zero_reduced_threshold:
                    "SmpFocalLoss: option `reduced_threshold` expected a finite value greater than 0, got 0"
                    => SmpFocalLossConfig::new(SegmentationMode::Binary)
                        .with_reduced_threshold(Some(0.0)).init::<B>(&device()),
                smp_focal_nan_eps:
                    "SmpFocalLoss: option `eps` expected a finite value, got NaN"
                    => SmpFocalLossConfig::new(SegmentationMode::Binary).with_eps(f32::NAN).init::<B>(&device()),
                smp_focal_binary_class_weights:
                    "SmpFocalLoss: option `class_weights` expected none with mode Binary, got a list"
                    => SmpFocalLossConfig::new(SegmentationMode::Binary)
                        .with_class_weights(Some(vec![1.0])).init::<B>(&device()),
                smp_focal_multilabel_ignore_index:
                    "SmpFocalLoss: option `ignore_index` expected none with mode Multilabel (smp 0.6 fails on it), got 255"
                    => SmpFocalLossConfig::new(SegmentationMode::Multilabel)
                        .with_ignore_index(Some(255)).init::<B>(&device()),
                smp_focal_binary_indices:
                    "SmpFocalLoss: `target` expected a float mask of the input's shape (`forward`) with a mode other than Multiclass, got class indices"
                    => SmpFocalLossConfig::new(SegmentationMode::Binary).init::<B>(&device())
                        .forward_indices(floats([2, 1, 2], 0.5), ints(&[0, 1, 1, 0], [2, 2])),
                smp_focal_target_shape:
                    "SmpFocalLoss: `target` expected shape [2, 3, 2] (the shape of `input`), got [2, 3, 4]"
                    => SmpFocalLossConfig::new(SegmentationMode::Multilabel).init::<B>(&device())
                        .forward(floats([2, 3, 2], 0.5), floats([2, 3, 4], 1.0)),
                smp_focal_index_range:
                    "SmpFocalLoss: `target` expected class indices in [0, 3) or ignore_index 255, got 3"
                    => SmpFocalLossConfig::new(SegmentationMode::Multiclass).with_ignore_index(Some(255))
                        .init::<B>(&device())
                        .forward_indices(floats([2, 3, 2], 0.5), ints(&[0, 255, 3, 1], [2, 2])),
                smp_focal_class_weights_length:
                    "SmpFocalLoss: `class_weights` expected length 3 (one weight per channel of `input`), got length 2"
                    => SmpFocalLossConfig::new(SegmentationMode::Multiclass)
                        .with_class_weights(Some(vec![1.0, 2.0])).init::<B>(&device())
                        .forward_indices(floats([2, 3, 2], 0.5), ints(&[0, 1, 2, 1], [2, 2])),
                smp_focal_rank_two:
                    "SmpFocalLoss: `input` expected rank >= 3: (N, C, d1, ..., dk), got rank 2 with shape [2, 3]"
                    => SmpFocalLossConfig::new(SegmentationMode::Multilabel).init::<B>(&device())
                        .forward(floats([2, 3], 0.5), floats([2, 3], 1.0)),
                focal_tversky_negative_alpha:
                    "FocalTverskyLoss: option `alpha` expected a finite value >= 0, got -0.1"
                    => FocalTverskyLossConfig::new(SegmentationMode::Multiclass).with_alpha(-0.1).init::<B>(&device()),
                focal_tversky_zero_gamma:
                    "FocalTverskyLoss: option `gamma` expected a finite value greater than 0, got 0"
                    => FocalTverskyLossConfig::new(SegmentationMode::Multiclass).with_gamma(0.0).init::<B>(&device()),
                focal_tversky_sum_with_gamma:
                    "FocalTverskyLoss: option `reduction` expected Mean with `gamma` other than 1 (the exponent applies to the mean), got Sum"
                    => FocalTverskyLossConfig::new(SegmentationMode::Multiclass).with_gamma(2.0)
                        .with_reduction(Reduction::Sum).init::<B>(&device()),
                focal_tversky_binary_classes:
                    "FocalTverskyLoss: option `classes` expected none with mode Binary, got a list"
                    => FocalTverskyLossConfig::new(SegmentationMode::Binary)
                        .with_classes(Some(vec![0])).init::<B>(&device()),
                focal_tversky_binary_channels:
                    "FocalTverskyLoss: `input` expected 1 channel with mode Binary, got 3 channels"
                    => FocalTverskyLossConfig::new(SegmentationMode::Binary).init::<B>(&device())
                        .forward(floats([2, 3, 2], 0.5), floats([2, 3, 2], 1.0)),
                lovasz_multiclass_float_target:
                    "LovaszLoss: `target` expected class indices (`forward_indices`) with mode Multiclass, got a float target"
                    => LovaszLossConfig::new(SegmentationMode::Multiclass).init::<B>(&device())
                        .forward(floats([2, 3, 2], 0.5), floats([2, 3, 2], 1.0)),
                lovasz_binary_indices:
                    "LovaszLoss: `target` expected a float mask of the input's shape (`forward`) with a mode other than Multiclass, got class indices"
                    => LovaszLossConfig::new(SegmentationMode::Binary).init::<B>(&device())
                        .forward_indices(floats([2, 1, 2], 0.5), ints(&[0, 1, 1, 0], [2, 2])),
                lovasz_binary_channels:
                    "LovaszLoss: `input` expected 1 channel with mode Binary, got 2 channels"
                    => LovaszLossConfig::new(SegmentationMode::Binary).init::<B>(&device())
                        .forward(floats([2, 2, 2], 0.5), floats([2, 2, 2], 1.0)),
                lovasz_rank_two:
                    "LovaszLoss: `input` expected rank >= 3: (N, C, d1, ..., dk), got rank 2 with shape [2, 3]"
                    => LovaszLossConfig::new(SegmentationMode::Multilabel).init::<B>(&device())
                        .forward(floats([2, 3], 0.5), floats([2, 3], 1.0)),
                lovasz_target_shape:
                    "LovaszLoss: `target` expected shape [2, 3, 2] (the shape of `input`), got [2, 3, 4]"
                    => LovaszLossConfig::new(SegmentationMode::Multilabel).init::<B>(&device())
                        .forward(floats([2, 3, 2], 0.5), floats([2, 3, 4], 1.0)),
                lovasz_index_shape:
                    "LovaszLoss: `target` expected shape [2, 2] (`input` [2, 3, 2] without the channel dimension), got [2, 3]"
                    => LovaszLossConfig::new(SegmentationMode::Multiclass).init::<B>(&device())
                        .forward_indices(floats([2, 3, 2], 0.5), ints(&[0; 6], [2, 3])),
                lovasz_index_range:
                    "LovaszLoss: `target` expected class indices in [0, 3), got 5"
                    => LovaszLossConfig::new(SegmentationMode::Multiclass).init::<B>(&device())
                        .forward_indices(floats([2, 3, 2], 0.5), ints(&[0, 5, 1, 2], [2, 2])),
                tversky_two_activations:
                    "TverskyLoss: option `softmax` expected false when `sigmoid` is true, got true"
                    => TverskyLossConfig::new().with_sigmoid(true).with_softmax(true).init::<B>(&device()),
                tversky_negative_alpha:
                    "TverskyLoss: option `alpha` expected a finite value >= 0, got -0.5"
                    => TverskyLossConfig::new().with_alpha(-0.5).init::<B>(&device()),
                tversky_infinite_beta:
                    "TverskyLoss: option `beta` expected a finite value, got inf"
                    => TverskyLossConfig::new().with_beta(f32::INFINITY).init::<B>(&device()),
                tversky_negative_smooth_dr:
                    "TverskyLoss: option `smooth_dr` expected a finite value >= 0, got -1"
                    => TverskyLossConfig::new().with_smooth_dr(-1.0).init::<B>(&device()),
                tversky_target_shape:
                    "TverskyLoss: `target` expected shape [2, 3, 4] (the shape of `input`), got [2, 2, 4]"
                    => tversky().forward(floats([2, 3, 4], 0.5), floats([2, 2, 4], 1.0)),
                dice_index_out_of_range_with_ignore_index:
                    "DiceLoss: `target` expected class indices in [0, 3) or ignore_index 255, got 4"
                    => DiceLossConfig::new().with_ignore_index(Some(255)).init::<B>(&device())
                        .forward_indices(floats([2, 3, 2], 0.5), ints(&[0, 255, 4, 0], [2, 2])),
                tversky_index_out_of_range_with_ignore_index:
                    "TverskyLoss: `target` expected class indices in [0, 3) or ignore_index -1, got 3"
                    => TverskyLossConfig::new().with_ignore_index(Some(-1)).init::<B>(&device())
                        .forward_indices(floats([2, 3, 2], 0.5), ints(&[0, -1, 3, 0], [2, 2])),
                tversky_index_out_of_range:
                    "TverskyLoss: `target` expected class indices in [0, 3), got -1"
                    => tversky().forward_indices(floats([2, 3, 2], 0.5), ints(&[0, 1, -1, 0], [2, 2])),
            ]
        }
    }
}
