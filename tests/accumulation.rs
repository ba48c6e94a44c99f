//! Exact means across micro-batches (issue 14, point 5): a batch split into micro-batches of
//! uneven sizes and uneven valid counts, each micro-batch's `forward_sum` divided by the whole
//! batch's normaliser (the sum of the micro-batches' normalisers, computed from the targets
//! alone where the loss has one), gives the loss and the gradient of `forward` on the whole
//! batch, on every backend. The whole batch's `forward` is the one the PyTorch fixtures check;
//! the mean of the micro-batches' own means, what a plain accumulation loop computes, is shown
//! to differ, so the test would catch a normaliser that is not the whole batch's.
#![cfg(feature = "autodiff")]

mod common;

use std::ops::{Add, Range};

use approx::relative_eq;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use burn_losses::*;
use common::gradcheck::uniform;

/// The micro-batches: uneven sizes. With [`TARGETS`], their valid counts are 2, 0, 3 and 3
/// (the second one wholly ignored).
const PARTS: [Range<usize>; 4] = [0..3, 3..5, 5..9, 9..12];
/// Class indices for 12 rows of 4 classes; -100 is ignored.
const TARGETS: [i64; 12] = [0, -100, 3, -100, -100, 1, 2, -100, 2, 3, 0, 1];
const ROWS: usize = 12;
const CLASSES: usize = 4;

fn floats<B: AutodiffBackend, const D: usize>(
    dims: [usize; D],
    seed: u64,
    device: &B::Device,
) -> Tensor<B, D> {
    let count = dims.iter().product();
    let values: Vec<f32> = uniform(count, -2.0, 2.0, seed)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    Tensor::from_data(
        TensorData::new(values, dims),
        common::float_options::<B>(device),
    )
}

fn targets<B: AutodiffBackend>(device: &B::Device) -> Tensor<B, 1, Int> {
    Tensor::from_data(TensorData::new(TARGETS.to_vec(), [ROWS]), device)
}

fn values<B: AutodiffBackend, const D: usize>(tensor: Tensor<B::InnerBackend, D>) -> Vec<f32> {
    tensor.into_data().convert::<f32>().to_vec().unwrap()
}

fn assert_close(what: &str, actual: &[f32], expected: &[f32]) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (index, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            relative_eq!(a, e, epsilon = 1e-6, max_relative = 1e-5),
            "{what}[{index}]: accumulated {a}, whole batch {e}"
        );
    }
}

/// What a micro-batch's forward pass returns: a [`LossSum`], or the pair of sums of a mixture
/// of two means (distillation with hard labels), with the same four operations.
trait PartSum<B: AutodiffBackend>: Clone {
    type Normalizer: Clone + Add<Output = Self::Normalizer>;
    /// The normaliser this part computed for itself.
    fn own_normalizer(&self) -> Self::Normalizer;
    /// The totals of a normaliser, one per mean, to compare.
    fn totals(normalizer: &Self::Normalizer) -> Vec<f32>;
    fn mean(self) -> Tensor<B, 1>;
    fn mean_over(self, total: Self::Normalizer) -> Tensor<B, 1>;
}

impl<B: AutodiffBackend> PartSum<B> for LossSum<B> {
    type Normalizer = Normalizer<B>;

    fn own_normalizer(&self) -> Normalizer<B> {
        self.normalizer.clone()
    }

    fn totals(normalizer: &Normalizer<B>) -> Vec<f32> {
        values::<B, 1>(normalizer.total().inner())
    }

    fn mean(self) -> Tensor<B, 1> {
        LossSum::mean(self)
    }

    fn mean_over(self, total: Normalizer<B>) -> Tensor<B, 1> {
        LossSum::mean_over(self, total)
    }
}

impl<B: AutodiffBackend> PartSum<B> for DistillationLossSum<B> {
    type Normalizer = DistillationNormalizer<B>;

    fn own_normalizer(&self) -> DistillationNormalizer<B> {
        self.normalizer()
    }

    fn totals(normalizer: &DistillationNormalizer<B>) -> Vec<f32> {
        [&normalizer.distillation, &normalizer.hard]
            .into_iter()
            .flat_map(|part| values::<B, 1>(part.total().inner()))
            .collect()
    }

    fn mean(self) -> Tensor<B, 1> {
        DistillationLossSum::mean(self)
    }

    fn mean_over(self, total: DistillationNormalizer<B>) -> Tensor<B, 1> {
        DistillationLossSum::mean_over(self, total)
    }
}

/// The whole batch's loss and the gradient of each of `inputs`, against the same from the
/// micro-batches: `part(rows, inputs)` is a micro-batch's sum (a [`PartSum`]),
/// `normalizer(rows)` its normaliser from the targets alone (to check it against the sum's own).
/// Returns the whole batch's loss and the mean of the micro-batches' own means, for the caller
/// to compare.
fn check_accumulation<B: AutodiffBackend, S: PartSum<B>, const N: usize>(
    what: &str,
    inputs: [Tensor<B, 2>; N],
    whole: impl Fn(&[Tensor<B, 2>; N]) -> Tensor<B, 1>,
    part: impl Fn(Range<usize>, &[Tensor<B, 2>; N]) -> S,
    normalizer: impl Fn(Range<usize>) -> S::Normalizer,
) -> (f32, f32) {
    let inputs = inputs.map(|input| input.require_grad());
    let whole_value = whole(&inputs);
    let expected_value = whole_value.clone().into_scalar().elem::<f32>();
    let gradients = whole_value.backward();
    let expected_gradients = inputs
        .each_ref()
        .map(|input| values::<B, 2>(input.grad(&gradients).unwrap()));

    let total = PARTS
        .iter()
        .map(|rows| normalizer(rows.clone()))
        .reduce(|a, b| a + b)
        .unwrap();
    let mut value = 0.0;
    let mut mean_of_means = 0.0;
    let mut accumulated: [Option<Tensor<B::InnerBackend, 2>>; N] = [const { None }; N];
    for rows in PARTS {
        let sum = part(rows.clone(), &inputs);
        let own_total = S::totals(&sum.own_normalizer());
        let from_targets = S::totals(&normalizer(rows.clone()));
        assert_eq!(own_total, from_targets, "{what} {rows:?}: normaliser");
        mean_of_means += sum.clone().mean().into_scalar().elem::<f32>() / PARTS.len() as f32;
        let part_value = sum.mean_over(total.clone());
        value += part_value.clone().into_scalar().elem::<f32>();
        let gradients = part_value.backward();
        for (sum, input) in accumulated.iter_mut().zip(&inputs) {
            let gradient = input.grad(&gradients).unwrap();
            *sum = Some(match sum.take() {
                Some(sum) => sum + gradient,
                None => gradient,
            });
        }
    }
    assert!(
        relative_eq!(value, expected_value, epsilon = 1e-6, max_relative = 1e-5),
        "{what}: accumulated {value}, whole batch {expected_value}"
    );
    for (index, (gradient, expected)) in
        accumulated.into_iter().zip(&expected_gradients).enumerate()
    {
        assert_close(
            &format!("{what}: gradient of input {index}"),
            &values::<B, 2>(gradient.unwrap()),
            expected,
        );
    }
    (expected_value, mean_of_means)
}

/// [`check_accumulation`] of `$loss.$forward(..)` on the whole batch against `$loss.$sum(..)` on
/// each micro-batch, every argument cut to the micro-batch's rows: the `[..]` inputs
/// differentiated, the ones after them (targets, a teacher) constants. The micro-batch's
/// normaliser comes from its rows of the targets (`normalizer of targets`: `$loss.normalizer`)
/// or is a count of elements (`N per row on device`).
macro_rules! check_rows {
    (
        $what:literal,
        $loss:ident.$forward:ident / $sum:ident([$($input:ident),+] $(, $constant:ident)*),
        normalizer of $targets:ident $(,)?
    ) => {
        check_rows!(@ $what, $loss.$forward / $sum([$($input),+] $(, $constant)*),
            |rows: Range<usize>| $loss.normalizer($targets.clone().slice(rows)))
    };
    (
        $what:literal,
        $loss:ident.$forward:ident / $sum:ident([$($input:ident),+] $(, $constant:ident)*),
        $per_row:tt per row on $device:ident $(,)?
    ) => {
        check_rows!(@ $what, $loss.$forward / $sum([$($input),+] $(, $constant)*),
            |rows: Range<usize>| Normalizer::elements(rows.len() * $per_row, $device))
    };
    (
        @ $what:literal,
        $loss:ident.$forward:ident / $sum:ident([$($input:ident),+] $(, $constant:ident)*),
        $normalizer:expr
    ) => {
        check_accumulation(
            $what,
            [$($input),+],
            |[$($input),+]| $loss.$forward($($input.clone(),)+ $($constant.clone()),*),
            |rows, [$($input),+]| {
                $loss.$sum(
                    $($input.clone().slice(rows.clone()),)+
                    $($constant.clone().slice(rows.clone())),*
                )
            },
            $normalizer,
        )
    };
}

/// The plain mean of the micro-batches' own means must differ from the whole batch's mean, or
/// the case could not tell a micro-batch's normaliser from the whole batch's.
#[track_caller]
fn assert_means_differ((whole, mean_of_means): (f32, f32)) {
    assert!(
        (mean_of_means - whole).abs() > 1e-2 * whole.abs(),
        "the plain mean of means {mean_of_means} should differ from {whole}"
    );
}

/// Cross entropy with class weights, ignored targets, label smoothing and z-loss: the weighted
/// mean over non-ignored targets, whose denominator differs from micro-batch to micro-batch.
fn cross_entropy_with_weights_and_ignored_targets<B: AutodiffBackend>(device: &B::Device) {
    let loss = CrossEntropyLossConfig::new()
        .with_weight(Some(vec![0.5, 2.0, 1.0, 3.0]))
        .with_label_smoothing(0.1)
        .with_z_loss(1e-2)
        .init::<B>(device);
    let (logits, targets) = (floats::<B, 2>([ROWS, CLASSES], 1, device), targets(device));
    let means = check_rows!("cross entropy", loss.forward / forward_sum([logits], targets),
        normalizer of targets);
    assert_means_differ(means);
}

/// NLL with class weights and ignored targets.
fn nll_with_weights_and_ignored_targets<B: AutodiffBackend>(device: &B::Device) {
    let loss = NllLossConfig::new()
        .with_weight(Some(vec![1.0, 0.25, 2.0, 1.5]))
        .init::<B>(device);
    let (log_probs, targets) = (floats::<B, 2>([ROWS, CLASSES], 2, device), targets(device));
    check_rows!("nll", loss.forward / forward_sum([log_probs], targets), normalizer of targets);
}

/// BCE with logits with `weight` and `pos_weight`: the mean over elements, micro-batches of
/// uneven sizes; both inputs differentiated.
fn bce_with_logits_with_weights<B: AutodiffBackend>(device: &B::Device) {
    let loss = BinaryCrossEntropyWithLogitsLossConfig::new()
        .with_weight(Some(vec![0.5, 1.0, 2.0, 1.5]))
        .with_pos_weight(Some(vec![3.0, 1.0, 0.5, 2.0]))
        .init::<B>(device);
    let targets = floats::<B, 2>([ROWS, CLASSES], 3, device)
        .abs()
        .clamp_max(1.0);
    let logits = floats::<B, 2>([ROWS, CLASSES], 4, device);
    check_rows!("bce with logits", loss.forward / forward_sum([logits, targets]),
        CLASSES per row on device);
}

/// Fused linear cross entropy with weights and ignored targets: hidden states, projection and
/// bias differentiated, the projection's gradient summed over micro-batches.
fn fused_linear_cross_entropy_with_weights<B: AutodiffBackend>(device: &B::Device) {
    let loss = FusedLinearCrossEntropyLossConfig::new()
        .with_cross_entropy(
            CrossEntropyLossConfig::new().with_weight(Some(vec![1.0, 2.0, 0.5, 1.0])),
        )
        .with_chunk_size(2)
        .init::<B>(device);
    let targets = targets::<B>(device);
    let bias = |bias: &Tensor<B, 2>| Some(bias.clone().reshape([CLASSES]));
    check_accumulation(
        "fused linear cross entropy",
        [
            floats::<B, 2>([ROWS, 3], 5, device),
            floats::<B, 2>([CLASSES, 3], 6, device),
            floats::<B, 2>([1, CLASSES], 7, device),
        ],
        |[hidden, projection, b]| {
            loss.forward(hidden.clone(), projection.clone(), bias(b), targets.clone())
        },
        |rows, [hidden, projection, b]| {
            loss.forward_sum(
                hidden.clone().slice(rows.clone()),
                projection.clone(),
                bias(b),
                targets.clone().slice(rows),
            )
        },
        |rows| loss.normalizer(targets.clone().slice(rows)),
    );
}

/// MSE (an element-wise loss through the shared assembly): micro-batches of uneven sizes.
fn mse_over_uneven_micro_batches<B: AutodiffBackend>(device: &B::Device) {
    let loss = MseLossConfig::new().init::<B>(device);
    let input = floats::<B, 2>([ROWS, CLASSES], 8, device);
    let target = floats::<B, 2>([ROWS, CLASSES], 9, device);
    check_rows!("mse", loss.forward / forward_sum([input, target]), CLASSES per row on device);
}

/// Every target ignored in every micro-batch: the mean over nothing is 0 with a zero gradient,
/// as for the whole batch.
fn nothing_valid_anywhere<B: AutodiffBackend>(device: &B::Device) {
    let loss = CrossEntropyLossConfig::new().init::<B>(device);
    let ignored =
        Tensor::<B, 1, Int>::from_data(TensorData::new(vec![-100i64; ROWS], [ROWS]), device);
    let logits = floats::<B, 2>([ROWS, CLASSES], 10, device);
    check_rows!("cross entropy, every target ignored",
        loss.forward / forward_sum([logits], ignored), normalizer of ignored);
}

/// The softmax focal loss and Poly-1 with class weights and ignored targets: cross entropy's
/// weighted mean (the focal loss's `alpha` stays out of the normaliser).
fn focal_and_poly_with_weights_and_ignored_targets<B: AutodiffBackend>(device: &B::Device) {
    let weight = Some(vec![0.5, 2.0, 1.0, 3.0]);
    let focal = SoftmaxFocalLossConfig::new()
        .with_alpha(Some(vec![0.25, 1.0, 0.5, 0.75]))
        .with_weight(weight.clone())
        .init::<B>(device);
    let poly = PolyLossConfig::new()
        .with_cross_entropy(
            CrossEntropyLossConfig::new()
                .with_weight(weight)
                .with_label_smoothing(0.1),
        )
        .with_epsilon(2.0)
        .init::<B>(device);
    let targets = targets::<B>(device);
    let logits = floats::<B, 2>([ROWS, CLASSES], 7, device);
    check_rows!("softmax focal", focal.forward / forward_sum([logits], targets),
        normalizer of targets);
    let logits = floats::<B, 2>([ROWS, CLASSES], 8, device);
    check_rows!("poly-1", poly.forward / forward_sum([logits], targets), normalizer of targets);
}

/// The distillation term (the student differentiated, the teacher a constant) and the
/// Jensen-Shannon divergence (both inputs differentiated): means over rows.
fn distillation_and_js_div<B: AutodiffBackend>(device: &B::Device) {
    let distillation = DistillationLossConfig::new()
        .with_temperature(3.0)
        .init::<B>(device);
    let teacher = floats::<B, 2>([ROWS, CLASSES], 9, device);
    let student = floats::<B, 2>([ROWS, CLASSES], 10, device);
    check_rows!("distillation", distillation.forward / forward_sum([student], teacher),
        1 per row on device);
    let js_div = JsDivLossConfig::new().init::<B>(device);
    let (p, q) = (
        floats::<B, 2>([ROWS, CLASSES], 11, device),
        floats::<B, 2>([ROWS, CLASSES], 12, device),
    );
    check_rows!("jensen-shannon", js_div.forward / forward_sum([p, q]), 1 per row on device);
}

/// Distillation mixed with the hard-label cross entropy under class weights, ignored targets and
/// label smoothing: two means with different normalisers (every position for the distillation
/// term, the weight of the non-ignored targets for the cross entropy), weighted by `α`.
fn distillation_with_hard_labels<B: AutodiffBackend>(device: &B::Device) {
    let loss = DistillationLossConfig::new()
        .with_temperature(2.0)
        .with_alpha(0.3)
        .with_weight(Some(vec![0.5, 2.0, 1.0, 3.0]))
        .with_label_smoothing(0.1)
        .init::<B>(device);
    let teacher = floats::<B, 2>([ROWS, CLASSES], 13, device);
    let (student, targets) = (floats::<B, 2>([ROWS, CLASSES], 14, device), targets(device));
    let means = check_rows!("distillation with hard labels",
        loss.forward_with_targets / forward_with_targets_sum([student], teacher, targets),
        normalizer of targets);
    assert_means_differ(means);
}

on_every_backend!(
    focal_and_poly_with_weights_and_ignored_targets,
    distillation_and_js_div,
    distillation_with_hard_labels,
    cross_entropy_with_weights_and_ignored_targets,
    nll_with_weights_and_ignored_targets,
    bce_with_logits_with_weights,
    fused_linear_cross_entropy_with_weights,
    mse_over_uneven_micro_batches,
    nothing_valid_anywhere,
);
