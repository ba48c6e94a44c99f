//! Property: a loss's value does not depend on whether its inputs are tracked. For random shapes,
//! targets (with ignored positions), options and every reduction, each loss with a closed-form
//! gradient path gives the same values with `require_grad()` inputs, with untracked inputs on
//! the same autodiff backend, and on the plain backend under it (to 1e-6 relative). A loss
//! builds its gradient beside its value only when an input is tracked, so this is where a
//! backend that compiles the two together (Burn's fusion, issue 17) would show a wrong value.
#![cfg(feature = "autodiff")]

mod common;

use approx::relative_eq;
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor, TensorData};
use burn_losses::*;
use common::gradcheck::uniform;
use common::{Lane, REDUCTIONS};

/// Random cases per loss and lane.
const CASES: u64 = 12;

/// A small deterministic generator for shapes and options.
struct Draw(u64);

impl Draw {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound
    }

    fn flip(&mut self) -> bool {
        self.below(2) == 1
    }

    fn values(&mut self, count: usize, low: f64, high: f64) -> Vec<f32> {
        let seed = self.below(1 << 30) as u64;
        uniform(count, low, high, seed)
            .into_iter()
            .map(|v| v as f32)
            .collect()
    }
}

/// A loss called on one set of inputs: every reduction's value, then the unreduced values.
trait Case {
    fn values<L: Lane>(&self, track: bool) -> Vec<f32>;
}

fn float<L: Lane, const D: usize>(values: &[f32], dims: [usize; D], track: bool) -> Tensor<L, D> {
    let tensor = Tensor::from_data(
        TensorData::new(values.to_vec(), dims),
        common::float_options::<L>(&Default::default()),
    );
    L::track_if(track, tensor)
}

fn ints<L: Lane, const D: usize>(values: &[i64], dims: [usize; D]) -> Tensor<L, D, Int> {
    Tensor::from_data(TensorData::new(values.to_vec(), dims), &Default::default())
}

fn collect<L: Lane, const D: usize>(values: &mut Vec<f32>, tensor: Tensor<L, D>) {
    values.extend(tensor.into_data().iter::<f32>());
}

/// Asserts the property for one case on autodiff backend `B` and the plain backend under it.
fn assert_same_values<B, C: Case>(name: &str, case: &C)
where
    B: Lane + AutodiffBackend,
    B::InnerBackend: Lane,
{
    let tracked = case.values::<B>(true);
    for (what, other) in [
        ("untracked", case.values::<B>(false)),
        ("without autodiff", case.values::<B::InnerBackend>(false)),
    ] {
        assert_eq!(tracked.len(), other.len(), "{name}");
        for (index, (a, b)) in tracked.iter().zip(&other).enumerate() {
            let same = (a.is_nan() && b.is_nan())
                || relative_eq!(*a, *b, epsilon = 1e-6, max_relative = 1e-6);
            assert!(same, "{name}: value {index}: tracked {a}, {what} {b}");
        }
    }
}

/// Pushes every reduction's value and the unreduced values of a loss `$loss(reduction)` called
/// as `forward(input, target)`.
macro_rules! reduced_and_unreduced {
    ($values:ident, $loss:expr, $input:expr, $target:expr) => {{
        for reduction in REDUCTIONS {
            collect(&mut $values, $loss(reduction).forward($input, $target));
        }
        collect(
            &mut $values,
            $loss(Reduction::Mean).forward_no_reduction($input, $target),
        );
    }};
}

// ---------------------------------------------------------------------------------------------
// Class-index losses: (N, C) and (N, C, d), targets with ignored positions
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum IndexLoss {
    CrossEntropy,
    Nll,
    MultiMargin,
    SoftmaxFocal,
    Poly,
}

#[derive(Debug)]
struct IndexCase {
    loss: IndexLoss,
    dims: Vec<usize>,
    logits: Vec<f32>,
    targets: Vec<i64>,
    weight: Option<Vec<f32>>,
    label_smoothing: f32,
    z_loss: f32,
}

impl IndexCase {
    fn draw(loss: IndexLoss, draw: &mut Draw) -> Self {
        let classes = 1 + draw.below(9);
        let mut dims = vec![1 + draw.below(6), classes];
        if !matches!(loss, IndexLoss::MultiMargin) && draw.flip() {
            dims.push(1 + draw.below(5));
        }
        let count: usize = dims.iter().product();
        let positions = count / classes;
        let ignorable = !matches!(loss, IndexLoss::MultiMargin);
        let targets = (0..positions)
            .map(|_| match draw.below(5) {
                0 if ignorable => -100,
                _ => draw.below(classes) as i64,
            })
            .collect();
        Self {
            loss,
            logits: draw.values(count, -4.0, 4.0),
            targets,
            weight: draw.flip().then(|| draw.values(classes, 0.1, 2.0)),
            label_smoothing: if draw.flip() { 0.1 } else { 0.0 },
            z_loss: if draw.below(4) == 0 { 1e-2 } else { 0.0 },
            dims,
        }
    }

    fn at_rank<L: Lane, const D: usize, const DT: usize>(&self, track: bool) -> Vec<f32> {
        let dims: [usize; D] = self.dims.clone().try_into().expect("rank D");
        let target_dims: [usize; DT] =
            std::array::from_fn(|i| dims[if i == 0 { 0 } else { i + 1 }]);
        let logits = || float::<L, D>(&self.logits, dims, track);
        let targets = || ints::<L, DT>(&self.targets, target_dims);
        let device = Default::default();
        let mut values = Vec::new();
        match self.loss {
            IndexLoss::CrossEntropy => {
                let config = CrossEntropyLossConfig::new()
                    .with_weight(self.weight.clone())
                    .with_label_smoothing(self.label_smoothing)
                    .with_z_loss(self.z_loss);
                let loss = |reduction| config.clone().with_reduction(reduction).init::<L>(&device);
                reduced_and_unreduced!(values, loss, logits(), targets());
            }
            IndexLoss::Nll => {
                let config = NllLossConfig::new().with_weight(self.weight.clone());
                let loss = |reduction| config.clone().with_reduction(reduction).init::<L>(&device);
                reduced_and_unreduced!(values, loss, log_softmax(logits(), 1), targets());
            }
            IndexLoss::SoftmaxFocal => {
                // The weights reversed as alpha; γ below 1 where the draw asks for z-loss.
                let alpha = self
                    .weight
                    .as_ref()
                    .map(|weight| weight.iter().rev().copied().collect());
                let config = SoftmaxFocalLossConfig::new()
                    .with_alpha(alpha)
                    .with_gamma(if self.z_loss > 0.0 { 0.5 } else { 2.0 })
                    .with_weight(self.weight.clone());
                let loss = |reduction| config.clone().with_reduction(reduction).init::<L>(&device);
                reduced_and_unreduced!(values, loss, logits(), targets());
            }
            IndexLoss::Poly => {
                let cross_entropy = CrossEntropyLossConfig::new()
                    .with_weight(self.weight.clone())
                    .with_label_smoothing(self.label_smoothing)
                    .with_z_loss(self.z_loss);
                let loss = |reduction| {
                    PolyLossConfig::new()
                        .with_cross_entropy(cross_entropy.clone().with_reduction(reduction))
                        .with_epsilon(if self.label_smoothing > 0.0 {
                            -0.5
                        } else {
                            2.0
                        })
                        .init::<L>(&device)
                };
                reduced_and_unreduced!(values, loss, logits(), targets());
            }
            IndexLoss::MultiMargin => {
                let config = MultiMarginLossConfig::new()
                    .with_weight(self.weight.clone())
                    .with_p(if self.label_smoothing > 0.0 { 2 } else { 1 });
                let input = || float::<L, 2>(&self.logits, [dims[0], dims[1]], track);
                let classes = || ints::<L, 1>(&self.targets, [dims[0]]);
                let loss = |reduction| config.clone().with_reduction(reduction).init::<L>(&device);
                reduced_and_unreduced!(values, loss, input(), classes());
            }
        }
        values
    }
}

impl Case for IndexCase {
    fn values<L: Lane>(&self, track: bool) -> Vec<f32> {
        match self.dims.len() {
            2 => self.at_rank::<L, 2, 1>(track),
            3 => self.at_rank::<L, 3, 2>(track),
            rank => unreachable!("rank {rank}"),
        }
    }
}

/// Class-probability cross entropy, (N, C) rows of random probabilities.
struct ProbabilityCase {
    dims: [usize; 2],
    logits: Vec<f32>,
    probs: Vec<f32>,
    weight: Option<Vec<f32>>,
    label_smoothing: f32,
}

impl Case for ProbabilityCase {
    fn values<L: Lane>(&self, track: bool) -> Vec<f32> {
        let config = CrossEntropyLossConfig::new()
            .with_weight(self.weight.clone())
            .with_label_smoothing(self.label_smoothing);
        let logits = || float::<L, 2>(&self.logits, self.dims, track);
        let probs = || float::<L, 2>(&self.probs, self.dims, track);
        let device = Default::default();
        let mut values = Vec::new();
        for reduction in REDUCTIONS {
            let loss = config.clone().with_reduction(reduction).init::<L>(&device);
            collect(&mut values, loss.forward_probs(logits(), probs()));
        }
        let loss = config.init::<L>(&device);
        collect(
            &mut values,
            loss.forward_probs_no_reduction::<2, 1>(logits(), probs()),
        );
        values
    }
}

fn class_index_losses<B>(_device: &B::Device)
where
    B: Lane + AutodiffBackend,
    B::InnerBackend: Lane,
{
    for loss in [
        IndexLoss::CrossEntropy,
        IndexLoss::Nll,
        IndexLoss::MultiMargin,
        IndexLoss::SoftmaxFocal,
        IndexLoss::Poly,
    ] {
        for seed in 0..CASES {
            let case = IndexCase::draw(loss, &mut Draw(seed + 1));
            assert_same_values::<B, _>(&format!("{case:?}"), &case);
        }
    }
    for seed in 0..CASES {
        let draw = &mut Draw(seed + 101);
        let dims = [1 + draw.below(6), 1 + draw.below(9)];
        let count = dims[0] * dims[1];
        let raw = draw.values(count, 0.0, 1.0);
        let probs = raw
            .chunks(dims[1])
            .flat_map(|row| {
                let total: f32 = row.iter().sum();
                row.iter().map(move |v| v / total).collect::<Vec<_>>()
            })
            .collect();
        let case = ProbabilityCase {
            dims,
            logits: draw.values(count, -4.0, 4.0),
            probs,
            weight: draw.flip().then(|| draw.values(dims[1], 0.1, 2.0)),
            label_smoothing: if draw.flip() { 0.1 } else { 0.0 },
        };
        assert_same_values::<B, _>(&format!("probabilities, seed {seed}"), &case);
    }
}

// ---------------------------------------------------------------------------------------------
// Element-wise and per-sample losses of two (N, C) tensors
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum PairLoss {
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    KlDiv,
    Mse,
    L1,
    SmoothL1,
    Huber,
    PoissonNll,
    GaussianNll,
    SoftMargin,
    MultiLabelSoftMargin,
    SigmoidFocal,
    Asymmetric,
    Zlpr,
}

#[derive(Debug)]
struct PairCase {
    loss: PairLoss,
    dims: [usize; 2],
    input: Vec<f32>,
    target: Vec<f32>,
    /// The variance of Gaussian NLL; per-class weights of the weighted losses.
    extra: Vec<f32>,
    option: bool,
}

impl PairCase {
    fn draw(loss: PairLoss, draw: &mut Draw) -> Self {
        let dims = [1 + draw.below(6), 1 + draw.below(9)];
        let count = dims[0] * dims[1];
        let zero_one = |draw: &mut Draw| {
            draw.values(count, 0.0, 1.0)
                .into_iter()
                .map(|v| v.round())
                .collect::<Vec<_>>()
        };
        let (input, target) = match loss {
            PairLoss::BinaryCrossEntropy => {
                (draw.values(count, 0.02, 0.98), draw.values(count, 0.0, 1.0))
            }
            PairLoss::KlDiv => (
                draw.values(count, -3.0, -0.1),
                draw.values(count, 0.01, 1.0),
            ),
            PairLoss::PoissonNll => (draw.values(count, -2.0, 2.0), draw.values(count, 0.0, 4.0)),
            PairLoss::SoftMargin => {
                let signs = zero_one(draw).into_iter().map(|v| v * 2.0 - 1.0).collect();
                (draw.values(count, -3.0, 3.0), signs)
            }
            PairLoss::MultiLabelSoftMargin
            | PairLoss::SigmoidFocal
            | PairLoss::Asymmetric
            | PairLoss::Zlpr => (draw.values(count, -4.0, 4.0), zero_one(draw)),
            _ => (draw.values(count, -3.0, 3.0), draw.values(count, -3.0, 3.0)),
        };
        let extra = match loss {
            PairLoss::GaussianNll => draw.values(count, 0.1, 2.0),
            _ => draw.values(dims[1], 0.1, 2.0),
        };
        Self {
            loss,
            dims,
            input,
            target,
            extra,
            option: draw.flip(),
        }
    }

    fn weight(&self) -> Option<Vec<f32>> {
        self.option.then(|| self.extra.clone())
    }
}

impl Case for PairCase {
    fn values<L: Lane>(&self, track: bool) -> Vec<f32> {
        let input = || float::<L, 2>(&self.input, self.dims, track);
        let target = || float::<L, 2>(&self.target, self.dims, track);
        let device = &Default::default();
        let mut values = Vec::new();
        match self.loss {
            PairLoss::BinaryCrossEntropy => {
                let loss = |reduction| {
                    BinaryCrossEntropyLossConfig::new()
                        .with_weight(self.weight())
                        .with_reduction(reduction)
                        .init::<L>(device)
                };
                reduced_and_unreduced!(values, loss, input(), target());
            }
            PairLoss::BinaryCrossEntropyWithLogits => {
                let loss = |reduction| {
                    BinaryCrossEntropyWithLogitsLossConfig::new()
                        .with_weight(self.weight())
                        .with_pos_weight(Some(self.extra.clone()))
                        .with_reduction(reduction)
                        .init::<L>(device)
                };
                reduced_and_unreduced!(values, loss, input(), target());
            }
            PairLoss::KlDiv => {
                let target = || match self.option {
                    true => target().log(),
                    false => target(),
                };
                let loss = |reduction| {
                    KlDivLossConfig::new()
                        .with_log_target(self.option)
                        .with_reduction(reduction)
                        .init::<L>(device)
                };
                reduced_and_unreduced!(values, loss, input(), target());
            }
            PairLoss::Mse => {
                let loss = |reduction| MseLossConfig::new().with_reduction(reduction).init(device);
                reduced_and_unreduced!(values, loss, input(), target());
            }
            PairLoss::L1 => {
                let loss = |reduction| L1LossConfig::new().with_reduction(reduction).init(device);
                reduced_and_unreduced!(values, loss, input(), target());
            }
            PairLoss::SmoothL1 => {
                let loss = |reduction| {
                    SmoothL1LossConfig::new()
                        .with_beta(0.5)
                        .with_reduction(reduction)
                        .init(device)
                };
                reduced_and_unreduced!(values, loss, input(), target());
            }
            PairLoss::Huber => {
                let loss = |reduction| {
                    HuberLossConfig::new()
                        .with_delta(0.7)
                        .with_reduction(reduction)
                        .init(device)
                };
                reduced_and_unreduced!(values, loss, input(), target());
            }
            PairLoss::PoissonNll => {
                let loss = |reduction| {
                    PoissonNllLossConfig::new()
                        .with_full(self.option)
                        .with_reduction(reduction)
                        .init(device)
                };
                reduced_and_unreduced!(values, loss, input(), target());
            }
            PairLoss::GaussianNll => {
                let var = || float::<L, 2>(&self.extra, self.dims, track);
                let loss = |reduction| {
                    GaussianNllLossConfig::new()
                        .with_full(self.option)
                        .with_reduction(reduction)
                        .init::<L>(device)
                };
                for reduction in REDUCTIONS {
                    collect(
                        &mut values,
                        loss(reduction).forward(input(), target(), var()),
                    );
                }
                let unreduced =
                    loss(Reduction::Mean).forward_no_reduction(input(), target(), var());
                collect(&mut values, unreduced);
            }
            PairLoss::SoftMargin => {
                let loss = |reduction| {
                    SoftMarginLossConfig::new()
                        .with_reduction(reduction)
                        .init(device)
                };
                reduced_and_unreduced!(values, loss, input(), target());
            }
            PairLoss::MultiLabelSoftMargin => {
                let loss = |reduction| {
                    MultiLabelSoftMarginLossConfig::new()
                        .with_weight(self.weight())
                        .with_reduction(reduction)
                        .init::<L>(device)
                };
                reduced_and_unreduced!(values, loss, input(), target());
            }
            PairLoss::SigmoidFocal => {
                let loss = |reduction| {
                    SigmoidFocalLossConfig::new()
                        .with_alpha(self.option.then_some(0.25))
                        .with_reduction(reduction)
                        .init(device)
                };
                reduced_and_unreduced!(values, loss, input(), target());
            }
            PairLoss::Asymmetric => {
                let loss = |reduction| {
                    AsymmetricLossConfig::new()
                        .with_detach_focal_weight(self.option)
                        .with_reduction(reduction)
                        .init(device)
                };
                reduced_and_unreduced!(values, loss, input(), target());
            }
            PairLoss::Zlpr => {
                let loss = |reduction| ZlprLossConfig::new().with_reduction(reduction).init(device);
                reduced_and_unreduced!(values, loss, input(), target());
            }
        }
        values
    }
}

fn pair_losses<B>(_device: &B::Device)
where
    B: Lane + AutodiffBackend,
    B::InnerBackend: Lane,
{
    use PairLoss::*;
    for loss in [
        BinaryCrossEntropy,
        BinaryCrossEntropyWithLogits,
        KlDiv,
        Mse,
        L1,
        SmoothL1,
        Huber,
        PoissonNll,
        GaussianNll,
        SoftMargin,
        MultiLabelSoftMargin,
        SigmoidFocal,
        Asymmetric,
        Zlpr,
    ] {
        for seed in 0..CASES {
            let case = PairCase::draw(loss, &mut Draw(seed + 1000));
            assert_same_values::<B, _>(&format!("{case:?}"), &case);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CTC and the fused linear cross entropy
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct CtcCase {
    dims: [usize; 3],
    logits: Vec<f32>,
    targets: Vec<i64>,
    target_len: usize,
    input_lengths: Vec<i64>,
    target_lengths: Vec<i64>,
}

impl Case for CtcCase {
    fn values<L: Lane>(&self, track: bool) -> Vec<f32> {
        let [time, batch, _] = self.dims;
        let log_probs = || log_softmax(float::<L, 3>(&self.logits, self.dims, track), 2);
        let targets = || ints::<L, 2>(&self.targets, [batch, self.target_len]);
        let input_lengths = || ints::<L, 1>(&self.input_lengths, [batch]);
        let target_lengths = || ints::<L, 1>(&self.target_lengths, [batch]);
        assert!(self.input_lengths.iter().all(|&t| t as usize <= time));
        let device = Default::default();
        let mut values = Vec::new();
        for reduction in REDUCTIONS {
            let loss = CtcLossConfig::new()
                .with_reduction(reduction)
                .init::<L>(&device);
            let value = loss.forward(log_probs(), targets(), input_lengths(), target_lengths());
            collect(&mut values, value);
        }
        let loss = CtcLossConfig::new().init::<L>(&device);
        let unreduced =
            loss.forward_no_reduction(log_probs(), targets(), input_lengths(), target_lengths());
        collect(&mut values, unreduced);
        values
    }
}

#[derive(Debug)]
struct FusedCase {
    rows: usize,
    hidden_size: usize,
    vocabulary: usize,
    hidden: Vec<f32>,
    projection: Vec<f32>,
    bias: Vec<f32>,
    targets: Vec<i64>,
    label_smoothing: f32,
}

impl Case for FusedCase {
    fn values<L: Lane>(&self, track: bool) -> Vec<f32> {
        let hidden = || float::<L, 2>(&self.hidden, [self.rows, self.hidden_size], track);
        let projection =
            || float::<L, 2>(&self.projection, [self.vocabulary, self.hidden_size], track);
        let bias = || float::<L, 1>(&self.bias, [self.vocabulary], track);
        let targets = || ints::<L, 1>(&self.targets, [self.rows]);
        let device = Default::default();
        let mut values = Vec::new();
        for reduction in REDUCTIONS {
            let loss = FusedLinearCrossEntropyLossConfig::new()
                .with_cross_entropy(
                    CrossEntropyLossConfig::new()
                        .with_label_smoothing(self.label_smoothing)
                        .with_reduction(reduction),
                )
                .with_chunk_size(3)
                .init::<L>(&device);
            collect(
                &mut values,
                loss.forward(hidden(), projection(), Some(bias()), targets()),
            );
        }
        values
    }
}

fn sequence_and_fused_losses<B>(_device: &B::Device)
where
    B: Lane + AutodiffBackend,
    B::InnerBackend: Lane,
{
    for seed in 0..CASES {
        let draw = &mut Draw(seed + 2000);
        let (time, batch, classes) = (2 + draw.below(7), 1 + draw.below(3), 2 + draw.below(5));
        let target_len = 1 + draw.below(3);
        let case = CtcCase {
            dims: [time, batch, classes],
            logits: draw.values(time * batch * classes, -3.0, 3.0),
            targets: (0..batch * target_len)
                .map(|_| 1 + draw.below(classes - 1) as i64)
                .collect(),
            target_len,
            input_lengths: (0..batch).map(|_| (1 + draw.below(time)) as i64).collect(),
            target_lengths: (0..batch)
                .map(|_| draw.below(target_len + 1) as i64)
                .collect(),
        };
        assert_same_values::<B, _>(&format!("{case:?}"), &case);

        let (rows, hidden_size, vocabulary) =
            (1 + draw.below(7), 1 + draw.below(5), 1 + draw.below(9));
        let case = FusedCase {
            rows,
            hidden_size,
            vocabulary,
            hidden: draw.values(rows * hidden_size, -2.0, 2.0),
            projection: draw.values(vocabulary * hidden_size, -2.0, 2.0),
            bias: draw.values(vocabulary, -1.0, 1.0),
            targets: (0..rows)
                .map(|_| match draw.below(5) {
                    0 => -100,
                    _ => draw.below(vocabulary) as i64,
                })
                .collect(),
            label_smoothing: if draw.flip() { 0.1 } else { 0.0 },
        };
        assert_same_values::<B, _>(&format!("{case:?}"), &case);
    }
}

// ---------------------------------------------------------------------------------------------
// Distillation and the Jensen-Shannon divergence: two logits of (N, C) or (N, C, d)
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct DistributionCase {
    dims: Vec<usize>,
    first: Vec<f32>,
    second: Vec<f32>,
    targets: Vec<i64>,
    temperature: f32,
}

impl DistributionCase {
    fn at_rank<L: Lane, const D: usize, const DT: usize>(&self, track: bool) -> Vec<f32> {
        let dims: [usize; D] = self.dims.clone().try_into().expect("rank D");
        let target_dims: [usize; DT] =
            std::array::from_fn(|i| dims[if i == 0 { 0 } else { i + 1 }]);
        let first = || float::<L, D>(&self.first, dims, track);
        let second = || float::<L, D>(&self.second, dims, track);
        let targets = || ints::<L, DT>(&self.targets, target_dims);
        let device = Default::default();
        let mut values = Vec::new();
        let distillation = |reduction| {
            DistillationLossConfig::new()
                .with_temperature(self.temperature)
                .with_alpha(0.7)
                .with_reduction(reduction)
                .init::<L>(&device)
        };
        for reduction in REDUCTIONS {
            collect(
                &mut values,
                distillation(reduction).forward(first(), second()),
            );
            collect(
                &mut values,
                distillation(reduction).forward_with_targets(first(), second(), targets()),
            );
            let js_div = JsDivLossConfig::new()
                .with_reduction(reduction)
                .init::<L>(&device);
            collect(&mut values, js_div.forward(first(), second()));
        }
        let distillation = distillation(Reduction::Mean);
        collect(
            &mut values,
            distillation.forward_no_reduction::<D, DT>(first(), second()),
        );
        collect(
            &mut values,
            distillation.forward_with_targets_no_reduction(first(), second(), targets()),
        );
        let js_div = JsDivLossConfig::new().init::<L>(&device);
        collect(
            &mut values,
            js_div.forward_no_reduction::<D, DT>(first(), second()),
        );
        values
    }
}

impl Case for DistributionCase {
    fn values<L: Lane>(&self, track: bool) -> Vec<f32> {
        match self.dims.len() {
            2 => self.at_rank::<L, 2, 1>(track),
            3 => self.at_rank::<L, 3, 2>(track),
            rank => unreachable!("rank {rank}"),
        }
    }
}

fn distillation_losses<B>(_device: &B::Device)
where
    B: Lane + AutodiffBackend,
    B::InnerBackend: Lane,
{
    for seed in 0..CASES {
        let draw = &mut Draw(seed + 3000);
        let classes = 1 + draw.below(9);
        let mut dims = vec![1 + draw.below(6), classes];
        if draw.flip() {
            dims.push(1 + draw.below(5));
        }
        let count: usize = dims.iter().product();
        let case = DistributionCase {
            first: draw.values(count, -4.0, 4.0),
            second: draw.values(count, -4.0, 4.0),
            targets: (0..count / classes)
                .map(|_| match draw.below(5) {
                    0 => -100,
                    _ => draw.below(classes) as i64,
                })
                .collect(),
            temperature: [1.0, 2.0, 4.0][draw.below(3)],
            dims,
        };
        assert_same_values::<B, _>(&format!("{case:?}"), &case);
    }
}

on_every_backend!(
    class_index_losses,
    pair_losses,
    sequence_and_fused_losses,
    distillation_losses
);
