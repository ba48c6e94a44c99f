//! The seed notebook's numbers (PyTorch, printed to 4 decimals) and the identities between the
//! losses, on every enabled backend.
#![cfg(feature = "autodiff")]

mod common;

use burn::tensor::activation::{log_softmax, sigmoid, softmax};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor};
use burn_losses::*;
use common::{Array, F32, assert_close, load_fixture, number};

/// Asserts that `actual` prints as `quoted` at 4 decimals (within half a unit of the last
/// printed digit, plus f32 rounding).
#[track_caller]
fn assert_quoted(what: &str, actual: f32, quoted: f64) {
    assert!(
        (actual as f64 - quoted).abs() <= 5e-5 + 1e-6 * quoted.abs(),
        "{what}: ours {actual:.6}, quoted {quoted:.4}"
    );
}

#[track_caller]
fn assert_quoted_all<B: AutodiffBackend, const D: usize>(
    what: &str,
    actual: Tensor<B, D>,
    quoted: &[f64],
) {
    let actual: Vec<f32> = actual.into_data().iter::<f32>().collect();
    assert_eq!(actual.len(), quoted.len(), "{what}: length");
    for (index, (a, q)) in actual.iter().zip(quoted).enumerate() {
        assert_quoted(&format!("{what}[{index}]"), *a, *q);
    }
}

fn scalar<B: AutodiffBackend>(value: Tensor<B, 1>) -> f32 {
    value.into_scalar().elem()
}

use burn::tensor::ElementConversion;

struct Seed<B: AutodiffBackend> {
    x: Tensor<B, 2>,
    y: Tensor<B, 1, Int>,
    smoothed_onehot: Tensor<B, 2>,
    multi_hot: Tensor<B, 2>,
}

fn seed<B: AutodiffBackend>(device: &B::Device) -> Seed<B> {
    let fixture = load_fixture("seed");
    let y = Array::from_json(&fixture["y"]);
    assert_eq!(
        y.data,
        [2.0, 2.0, 1.0, 4.0, 1.0, 0.0, 0.0, 4.0, 0.0, 3.0],
        "torch.manual_seed(42) targets"
    );
    Seed {
        x: Array::from_json(&fixture["x"]).float(device),
        y: y.int(device),
        smoothed_onehot: Array::from_json(&fixture["smoothed_onehot"]).float(device),
        multi_hot: Array::from_json(&fixture["multi_hot"]).float(device),
    }
}

fn cross_entropy_with<B: AutodiffBackend>(
    config: CrossEntropyLossConfig,
    device: &B::Device,
) -> CrossEntropyLoss<B> {
    config.init(device)
}

fn seed_cross_entropy<B: AutodiffBackend>(device: &B::Device) {
    let Seed {
        x,
        y,
        smoothed_onehot,
        multi_hot,
    } = seed::<B>(device);
    let mean = cross_entropy_with::<B>(CrossEntropyLossConfig::new(), device);
    let sum = cross_entropy_with::<B>(
        CrossEntropyLossConfig::new().with_reduction(Reduction::Sum),
        device,
    );
    assert_quoted(
        "cross entropy mean",
        scalar(mean.forward(x.clone(), y.clone())),
        1.6211,
    );
    assert_quoted(
        "cross entropy sum",
        scalar(sum.forward(x.clone(), y.clone())),
        16.2108,
    );
    assert_quoted_all(
        "cross entropy none",
        mean.forward_no_reduction(x.clone(), y.clone()),
        &[
            1.9654, 1.4071, 1.7677, 1.5602, 1.5892, 1.6320, 1.2770, 1.9243, 1.6820, 1.4059,
        ],
    );
    let smoothed = cross_entropy_with::<B>(
        CrossEntropyLossConfig::new().with_label_smoothing(0.1),
        device,
    );
    assert_quoted(
        "label smoothing 0.1",
        scalar(smoothed.forward(x.clone(), y)),
        1.6227,
    );
    assert_quoted(
        "smoothed one-hot as probabilities",
        scalar(mean.forward_probs(x.clone(), smoothed_onehot)),
        1.6231,
    );
    assert_quoted(
        "multi-hot as probabilities",
        scalar(mean.forward_probs(x, multi_hot)),
        3.5679,
    );
}

fn seed_binary_cross_entropy<B: AutodiffBackend>(device: &B::Device) {
    let Seed {
        x,
        smoothed_onehot,
        multi_hot,
        ..
    } = seed::<B>(device);
    let bce = BinaryCrossEntropyLossConfig::new().init::<B>(device);
    let bce_sum = BinaryCrossEntropyLossConfig::new()
        .with_reduction(Reduction::Sum)
        .init::<B>(device);
    let with_logits = BinaryCrossEntropyWithLogitsLossConfig::new().init::<B>(device);
    for (what, targets, mean, sum) in [
        ("smoothed one-hot", smoothed_onehot, 0.9070, 45.3489),
        ("multi-hot", multi_hot, 0.7695, 38.4762),
    ] {
        let probs = sigmoid(x.clone());
        assert_quoted(
            &format!("BCE {what} mean"),
            scalar(bce.forward(probs.clone(), targets.clone())),
            mean,
        );
        assert_quoted(
            &format!("BCE {what} sum"),
            scalar(bce_sum.forward(probs, targets.clone())),
            sum,
        );
        assert_quoted(
            &format!("BCE-with-logits {what}"),
            scalar(with_logits.forward(x.clone(), targets)),
            mean,
        );
    }
}

/// The small cases print their inputs to 4 decimals while quoting PyTorch on the
/// unrounded tensors, so ours must equal PyTorch on the printed inputs (recorded by the
/// generator) to f32 precision, and the quoted values to the inputs' rounding (2e-4).
fn seed_small_cases<B: AutodiffBackend>(device: &B::Device) {
    let printed = &load_fixture("seed")["printed_inputs"];
    let check = |what: &str,
                 key: &str,
                 none: Tensor<B, 1>,
                 mean: Tensor<B, 1>,
                 quoted_none: &[f64],
                 quoted_mean: f64| {
        assert_close(
            &format!("{what} none"),
            none.to_data(),
            &Array::from_json(&printed[key]["none"]),
            F32,
        );
        let mean = scalar(mean) as f64;
        let pytorch_mean = number(&printed[key]["mean"]);
        assert!(
            (mean - pytorch_mean).abs() < 1e-5,
            "{what} mean: ours {mean}, PyTorch {pytorch_mean}"
        );
        assert!(
            (mean - quoted_mean).abs() < 2e-4,
            "{what} mean: ours {mean}, quoted {quoted_mean}"
        );
        for (ours, quoted) in none.into_data().iter::<f64>().zip(quoted_none) {
            assert!(
                (ours - quoted).abs() < 2e-4,
                "{what} none: ours {ours}, quoted {quoted}"
            );
        }
    };

    let logits = Tensor::<B, 2>::from_floats(
        [
            [-0.6722, 0.0933, -0.7828, -0.5380, -0.3814],
            [-1.0644, -0.0649, 0.6899, -0.5077, -0.4502],
            [-1.7857, -0.0663, 0.4620, 0.8843, -0.4773],
        ],
        device,
    );
    let targets = Tensor::<B, 1, Int>::from_ints([1, 0, 1], device);
    let cross_entropy = CrossEntropyLossConfig::new().init::<B>(device);
    check(
        "cross entropy",
        "cross_entropy",
        cross_entropy.forward_no_reduction(logits.clone(), targets.clone()),
        cross_entropy.forward(logits, targets),
        &[1.1104, 2.5718, 1.8125],
        1.8316,
    );

    let bce = BinaryCrossEntropyLossConfig::new().init::<B>(device);
    let probs = sigmoid(Tensor::<B, 1>::from_floats(
        [0.2211, 0.8756, 2.4896],
        device,
    ));
    let zeros = Tensor::<B, 1>::zeros([3], device);
    check(
        "BCE",
        "bce",
        bce.forward_no_reduction(probs.clone(), zeros.clone()),
        bce.forward(probs, zeros),
        &[0.8098, 1.2238, 2.5693],
        1.5343,
    );

    let with_logits = BinaryCrossEntropyWithLogitsLossConfig::new().init::<B>(device);
    let logits = Tensor::<B, 1>::from_floats([0.5454, 0.9473, -0.5845], device);
    let targets = Tensor::<B, 1>::from_floats([1.0, 0.0, 0.0], device);
    check(
        "BCE-with-logits",
        "bce_with_logits",
        with_logits.forward_no_reduction(logits.clone(), targets.clone()),
        with_logits.forward(logits, targets),
        &[0.4572, 1.2750, 0.4430],
        0.7251,
    );
}

/// Cross entropy is NLL of log-softmax, on the seed's `(32, 10, 5)` logits too.
fn identity_cross_entropy_is_nll_of_log_softmax<B: AutodiffBackend>(device: &B::Device) {
    let fixture = load_fixture("seed");
    let logits: Tensor<B, 3> = Array::from_json(&fixture["nd_logits"]).float(device);
    let targets: Tensor<B, 2, Int> = Array::from_json(&fixture["nd_targets"]).int(device);
    let cross_entropy = CrossEntropyLossConfig::new().init::<B>(device);
    let nll = NllLossConfig::new().init::<B>(device);
    let ours = cross_entropy.forward_no_reduction(logits.clone(), targets.clone());
    assert_close(
        "(32, 10, 5) none",
        ours.to_data(),
        &Array::from_json(&fixture["nd_expected"]["none"]),
        F32,
    );
    let via_nll = nll.forward_no_reduction(log_softmax(logits.clone(), 1), targets.clone());
    let difference = (ours - via_nll).abs().max().into_scalar().elem::<f32>();
    assert!(
        difference < 1e-5,
        "cross entropy - NLL(log_softmax): {difference}"
    );
    let mean: f32 = cross_entropy.forward(logits, targets).into_scalar().elem();
    let expected = number(&fixture["nd_expected"]["mean"]);
    assert!(
        (mean as f64 - expected).abs() < 1e-5,
        "(32, 10, 5) mean: ours {mean}, PyTorch {expected}"
    );
}

/// With probability targets, cross entropy = entropy(target) + KL(target || softmax(logits)).
fn identity_cross_entropy_is_entropy_plus_kl<B: AutodiffBackend>(device: &B::Device) {
    let Seed { x, .. } = seed::<B>(device);
    let targets = softmax(x.clone().flip([1]) * 2.0, 1);
    let cross_entropy = CrossEntropyLossConfig::new().init::<B>(device);
    let kl = KlDivLossConfig::new().init::<B>(device);
    let entropy = -(targets.clone() * targets.clone().log())
        .sum_dim(1)
        .squeeze_dim::<1>(1);
    let divergence = kl
        .forward_no_reduction(log_softmax(x.clone(), 1), targets.clone())
        .sum_dim(1)
        .squeeze_dim::<1>(1);
    let ours = cross_entropy.forward_probs_no_reduction::<2, 1>(x, targets);
    let difference = (ours - entropy - divergence)
        .abs()
        .max()
        .into_scalar()
        .elem::<f32>();
    assert!(difference < 1e-5, "cross entropy - (H + KL): {difference}");
}

/// BCE is NLL over the stacked class probabilities `[1 - p, p]`.
fn identity_binary_cross_entropy_is_nll_of_two_classes<B: AutodiffBackend>(device: &B::Device) {
    let Seed { x, .. } = seed::<B>(device);
    let probs = sigmoid(x).flatten::<1>(0, 1);
    let targets =
        Tensor::<B, 1, Int>::from_ints([0, 1, 1, 0, 1, 0, 0, 1, 1, 1].repeat(5).as_slice(), device);
    let bce = BinaryCrossEntropyLossConfig::new().init::<B>(device);
    let nll = NllLossConfig::new().init::<B>(device);
    let stacked = Tensor::stack::<2>(vec![probs.clone().neg() + 1.0, probs.clone()], 1).log();
    let via_nll = nll.forward(stacked, targets.clone());
    let ours = bce.forward(probs, targets.float());
    let difference = (ours - via_nll).abs().into_scalar().elem::<f32>();
    assert!(difference < 1e-6, "BCE - NLL([1 - p, p]): {difference}");
}

/// The z-loss term read apart equals `z · mean(logsumexp(x)^2)`, and the total is CE + that.
fn z_loss_reads_apart<B: AutodiffBackend>(device: &B::Device) {
    let Seed { x, y, .. } = seed::<B>(device);
    let plain = CrossEntropyLossConfig::new().init::<B>(device);
    let with_z = CrossEntropyLossConfig::new()
        .with_z_loss(0.01)
        .init::<B>(device);
    let (total, z_term) = with_z.forward_with_z_loss(x.clone(), y.clone());
    let log_z = x.clone().exp().sum_dim(1).log();
    let expected_z = scalar(log_z.powi_scalar(2).mean()) * 0.01;
    assert!((scalar(z_term) - expected_z).abs() < 1e-6);
    let ce = scalar(plain.forward(x, y));
    assert!((scalar(total) - ce - expected_z).abs() < 1e-5);
}

/// Every loss sends its gradient through a model's output (a tracked intermediate, not a leaf):
/// the leaf's gradient through `y = 2x` is twice the gradient at `y`.
fn gradients_flow_through_a_model_output<B: AutodiffBackend>(device: &B::Device) {
    let Seed {
        x,
        y,
        smoothed_onehot,
        ..
    } = seed::<B>(device);
    let probs = sigmoid(x.clone());
    type Loss<'a, B> = Box<dyn Fn(Tensor<B, 2>) -> Tensor<B, 1> + 'a>;
    let cross_entropy = CrossEntropyLossConfig::new()
        .with_label_smoothing(0.1)
        .init::<B>(device);
    let nll = NllLossConfig::new().init::<B>(device);
    let bce = BinaryCrossEntropyLossConfig::new().init::<B>(device);
    let with_logits = BinaryCrossEntropyWithLogitsLossConfig::new().init::<B>(device);
    let kl = KlDivLossConfig::new().init::<B>(device);
    let focal = SigmoidFocalLossConfig::new().init::<B>(device);
    let asymmetric = AsymmetricLossConfig::new()
        .with_detach_focal_weight(false)
        .init::<B>(device);
    let zlpr = ZlprLossConfig::new().init::<B>(device);
    let soft_margin = SoftMarginLossConfig::new().init::<B>(device);
    let multilabel_soft_margin = MultiLabelSoftMarginLossConfig::new().init::<B>(device);
    let hard = smoothed_onehot.clone().greater_elem(0.5).float();
    let signs = hard.clone() * 2.0 - 1.0;
    let losses: Vec<(&str, Tensor<B, 2>, Loss<B>)> = vec![
        (
            "cross entropy",
            x.clone(),
            Box::new(|input| cross_entropy.forward(input, y.clone())),
        ),
        (
            "cross entropy probs",
            x.clone(),
            Box::new(|input| cross_entropy.forward_probs(input, smoothed_onehot.clone())),
        ),
        (
            "nll",
            log_softmax(x.clone(), 1),
            Box::new(|input| nll.forward(input, y.clone())),
        ),
        (
            "bce",
            probs.clone() * 0.5,
            Box::new(|input| bce.forward(input, smoothed_onehot.clone())),
        ),
        (
            "bce with logits",
            x.clone(),
            Box::new(|input| with_logits.forward(input, smoothed_onehot.clone())),
        ),
        (
            "kl",
            log_softmax(x.clone(), 1),
            Box::new(|input| kl.forward(input, smoothed_onehot.clone())),
        ),
        (
            "sigmoid focal",
            x.clone(),
            Box::new(|input| focal.forward(input, hard.clone())),
        ),
        (
            "asymmetric",
            x.clone(),
            Box::new(|input| asymmetric.forward(input, hard.clone())),
        ),
        (
            "zlpr",
            x.clone(),
            Box::new(|input| zlpr.forward(input, hard.clone())),
        ),
        (
            "soft margin",
            x.clone(),
            Box::new(|input| soft_margin.forward(input, signs.clone())),
        ),
        (
            "multilabel soft margin",
            x.clone(),
            Box::new(|input| multilabel_soft_margin.forward(input, hard.clone())),
        ),
    ];
    for (what, point, loss) in losses {
        let leaf = point.clone().require_grad();
        let direct = loss(leaf.clone()).backward();
        let direct = leaf.grad(&direct).expect("a gradient at a leaf");
        let leaf = (point / 2.0).require_grad();
        let through_model = loss(leaf.clone() * 2.0).backward();
        let through_model = leaf
            .grad(&through_model)
            .unwrap_or_else(|| panic!("{what}: no gradient through a model output"));
        let difference: f32 = (through_model - direct * 2.0)
            .abs()
            .max()
            .into_scalar()
            .elem();
        assert!(
            difference < 1e-6,
            "{what}: gradient through a model output differs by {difference}"
        );
    }
}

on_every_backend!(
    gradients_flow_through_a_model_output,
    z_loss_reads_apart,
    seed_cross_entropy,
    seed_binary_cross_entropy,
    seed_small_cases,
    identity_cross_entropy_is_nll_of_log_softmax,
    identity_cross_entropy_is_entropy_plus_kl,
    identity_binary_cross_entropy_is_nll_of_two_classes,
);
