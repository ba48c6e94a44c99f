//! Embedding and ranking losses: PyTorch fixture replay on every backend, f64 finite-difference
//! gradient checks, the reference's golden values, and one test per error message.
#![cfg(feature = "autodiff")]

mod common;

use std::cell::RefCell;

use burn::tensor::{Tensor, TensorData};
use burn_losses::*;
use common::replay::{GRADIENT, cases};
use common::{Array, F32, Lane, assert_close, assert_scalar, load_fixture, number};
use serde_json::Value;

// ------------------------------------------------------------------------------------------------
// Fixture replay: these losses take two or three tensors, stored under PyTorch's argument names.
// ------------------------------------------------------------------------------------------------

const REDUCTIONS: [(Reduction, &str); 3] = [
    (Reduction::Mean, "mean"),
    (Reduction::Sum, "sum"),
    (Reduction::BatchMean, "batchmean"),
];

type GradientReader<B> = Box<dyn Fn(&<B as Lane>::Gradients) -> Option<TensorData>>;

/// A case's input tensors, built on demand at the rank the loss takes; when `track` is set, the
/// ones PyTorch differentiates (the keys of `grads`) are tracked, and their gradients read back
/// later.
struct Inputs<'a, B: Lane> {
    case: &'a Value,
    device: &'a B::Device,
    track: bool,
    tracked: RefCell<Vec<(String, GradientReader<B>)>>,
}

impl<'a, B: Lane> Inputs<'a, B> {
    fn new(case: &'a Value, device: &'a B::Device, track: bool) -> Self {
        Self {
            case,
            device,
            track,
            tracked: RefCell::new(Vec::new()),
        }
    }

    fn get<const R: usize>(&self, name: &str) -> Tensor<B, R> {
        let tensor = Array::from_json(&self.case["inputs"][name]).float::<B, R>(self.device);
        if !self.track || self.case["grads"]["sum"].get(name).is_none() {
            return tensor;
        }
        let tensor = B::track(tensor);
        let handle = tensor.clone();
        self.tracked.borrow_mut().push((
            name.to_string(),
            Box::new(move |grads| B::grad(&handle, grads)),
        ));
        tensor
    }

    /// Differentiates `value` (when tracked, on an autodiff lane) and checks every gradient.
    fn check_gradients(&self, what: &str, value: Tensor<B, 1>) {
        if !self.track {
            return;
        }
        let Some(grads) = B::backward(value) else {
            return;
        };
        let name = self.case["name"].as_str().expect("a case name");
        let expected = self.case["grads"][what]
            .as_object()
            .expect("a gradient entry");
        let tracked = self.tracked.borrow();
        assert_eq!(
            tracked.len(),
            expected.len(),
            "{name}: every differentiable input is used"
        );
        for (input, read) in tracked.iter() {
            let expected = Array::from_json(&expected[input]);
            // No gradient reached the input: autodiff's zeros.
            let actual = read(&grads).unwrap_or_else(|| {
                TensorData::new(vec![0.0f32; expected.data.len()], expected.shape.clone())
            });
            assert_close(
                &format!("{name} grad[{what}] {input}"),
                actual,
                &expected,
                GRADIENT,
            );
        }
    }
}

/// Replays one case: every reduction, the unreduced losses, and the gradients of each; on an
/// autodiff lane again with untracked inputs (values only).
fn replay<B: Lane, const DO: usize>(
    case: &Value,
    device: &B::Device,
    reduced: &dyn Fn(Reduction, &Inputs<B>) -> Tensor<B, 1>,
    unreduced: &dyn Fn(&Inputs<B>) -> Tensor<B, DO>,
) {
    for &track in B::PASSES {
        let untracked = if track { "" } else { " (untracked)" };
        let name = &format!("{}{untracked}", case["name"].as_str().expect("a case name"));
        for (reduction, key) in REDUCTIONS {
            let inputs = Inputs::new(case, device, track);
            let value = reduced(reduction, &inputs);
            let expected = number(&case["expected"][key]);
            assert_scalar(&format!("{name} {key}"), value.to_data(), expected, F32);
            if reduction != Reduction::BatchMean {
                inputs.check_gradients(key, value);
            }
        }
        let inputs = Inputs::new(case, device, track);
        let losses = unreduced(&inputs);
        let expected = Array::from_json(&case["expected"]["none"]);
        assert_close(&format!("{name} none"), losses.to_data(), &expected, F32);
        let upstream: Tensor<B, DO> = Array::from_json(&case["upstream"]).float(device);
        inputs.check_gradients("none", (losses * upstream).sum());
    }
}

fn margin(case: &Value) -> f32 {
    number(&case["options"]["margin"]) as f32
}

fn rank(case: &Value, input: &str) -> usize {
    Array::from_json(&case["inputs"][input]).rank()
}

fn cosine_embedding<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("cosine_embedding")) {
        let config = CosineEmbeddingLossConfig::new().with_margin(margin(case));
        let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
        replay::<B, 1>(
            case,
            device,
            &|reduction, x| {
                loss(reduction).forward(x.get("input1"), x.get("input2"), x.get("target"))
            },
            &|x| {
                loss(Reduction::Mean).forward_no_reduction(
                    x.get("input1"),
                    x.get("input2"),
                    x.get("target"),
                )
            },
        );
    }
}

fn margin_ranking_case<B: Lane, const D: usize>(case: &Value, device: &B::Device) {
    let config = MarginRankingLossConfig::new().with_margin(margin(case));
    let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
    replay::<B, D>(
        case,
        device,
        &|reduction, x| {
            loss(reduction).forward::<D>(x.get("input1"), x.get("input2"), x.get("target"))
        },
        &|x| {
            loss(Reduction::Mean).forward_no_reduction::<D>(
                x.get("input1"),
                x.get("input2"),
                x.get("target"),
            )
        },
    );
}

fn margin_ranking<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("margin_ranking")) {
        match rank(case, "input1") {
            1 => margin_ranking_case::<B, 1>(case, device),
            2 => margin_ranking_case::<B, 2>(case, device),
            3 => margin_ranking_case::<B, 3>(case, device),
            other => panic!("no margin ranking replay for rank {other}"),
        }
    }
}

fn hinge_embedding_case<B: Lane, const D: usize>(case: &Value, device: &B::Device) {
    let config = HingeEmbeddingLossConfig::new().with_margin(margin(case));
    let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
    replay::<B, D>(
        case,
        device,
        &|reduction, x| loss(reduction).forward::<D>(x.get("input"), x.get("target")),
        &|x| loss(Reduction::Mean).forward_no_reduction::<D>(x.get("input"), x.get("target")),
    );
}

fn hinge_embedding<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("hinge_embedding")) {
        match rank(case, "input") {
            1 => hinge_embedding_case::<B, 1>(case, device),
            2 => hinge_embedding_case::<B, 2>(case, device),
            3 => hinge_embedding_case::<B, 3>(case, device),
            other => panic!("no hinge embedding replay for rank {other}"),
        }
    }
}

fn triplet_margin<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("triplet_margin")) {
        let options = &case["options"];
        let config = TripletMarginLossConfig::new()
            .with_margin(margin(case))
            .with_p(number(&options["p"]) as f32)
            .with_eps(number(&options["eps"]) as f32)
            .with_swap(options["swap"].as_bool().expect("swap"));
        let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
        replay::<B, 1>(
            case,
            device,
            &|reduction, x| {
                loss(reduction).forward(x.get("anchor"), x.get("positive"), x.get("negative"))
            },
            &|x| {
                loss(Reduction::Mean).forward_no_reduction(
                    x.get("anchor"),
                    x.get("positive"),
                    x.get("negative"),
                )
            },
        );
    }
}

fn triplet_with_distance_case<B: Lane, Dist: Distance<B>>(
    case: &Value,
    device: &B::Device,
    distance: Dist,
) {
    let options = &case["options"];
    let config = TripletMarginWithDistanceLossConfig::new()
        .with_margin(margin(case))
        .with_swap(options["swap"].as_bool().expect("swap"));
    let loss = |reduction| {
        config
            .clone()
            .with_reduction(reduction)
            .init_with_distance::<B, _>(device, distance.clone())
    };
    replay::<B, 1>(
        case,
        device,
        &|reduction, x| {
            loss(reduction).forward(x.get("anchor"), x.get("positive"), x.get("negative"))
        },
        &|x| {
            loss(Reduction::Mean).forward_no_reduction(
                x.get("anchor"),
                x.get("positive"),
                x.get("negative"),
            )
        },
    );
}

fn triplet_margin_with_distance<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("triplet_margin_with_distance")) {
        let distance = &case["options"]["distance"];
        let eps = number(&distance["eps"]) as f32;
        match distance["name"].as_str().expect("a distance name") {
            "pairwise" => {
                let p = number(&distance["p"]) as f32;
                let pairwise = PairwiseDistance::new().with_p(p).with_eps(eps);
                triplet_with_distance_case::<B, _>(case, device, pairwise);
                if (p, eps) == (2.0, 1e-6) {
                    // The default distance, and the same through a closure.
                    let config = TripletMarginWithDistanceLossConfig::new()
                        .with_margin(margin(case))
                        .with_swap(case["options"]["swap"].as_bool().expect("swap"));
                    assert_eq!(config.init::<B>(device).distance, pairwise);
                    let closure = DistanceFn(|x1: Tensor<B, 2>, x2: Tensor<B, 2>| {
                        PairwiseDistance::new().distance(x1, x2)
                    });
                    triplet_with_distance_case::<B, _>(case, device, closure);
                }
            }
            "cosine" => {
                let cosine = CosineDistance::new().with_eps(eps);
                triplet_with_distance_case::<B, _>(case, device, cosine);
            }
            other => panic!("unknown distance {other}"),
        }
    }
}

on_every_backend!(
    cosine_embedding,
    margin_ranking,
    hinge_embedding,
    triplet_margin,
    triplet_margin_with_distance,
);
on_every_plain_backend!(
    cosine_embedding,
    margin_ranking,
    hinge_embedding,
    triplet_margin,
    triplet_margin_with_distance,
);

// ------------------------------------------------------------------------------------------------
// The reference's golden values, which exist only in f64.
// ------------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod golden {
    use super::*;
    use common::F64Autodiff as B;
    use common::gradcheck::tensor;

    fn golden_triplet() -> [Tensor<B, 2>; 3] {
        [
            tensor(&[0.0, 0.0, 1.0, 1.0], [2, 2]),
            tensor(&[0.5, 0.0, 1.0, 2.0], [2, 2]),
            tensor(&[0.0, 0.7, 3.0, 1.0], [2, 2]),
        ]
    }

    /// `[0.8000000000002857, 2.498001805406602e-13]`: the second value is nonzero only because
    /// eps is added to the difference; it is a cancellation at the scale of 2, so f64 rounding
    /// (~4e-16) is its precision.
    fn assert_golden(losses: Tensor<B, 1>) {
        let losses: Vec<f64> = losses.into_data().iter::<f64>().collect();
        assert!((losses[0] - 0.8000000000002857).abs() < 1e-15, "{losses:?}");
        assert!(
            (losses[1] - 2.498001805406602e-13).abs() < 2e-15,
            "{losses:?}"
        );
    }

    #[test]
    fn triplet_margin_golden_values() {
        let [anchor, positive, negative] = golden_triplet();
        let loss = TripletMarginLossConfig::new().init::<B>(&Default::default());
        assert_golden(loss.forward_no_reduction(anchor, positive, negative));
    }

    #[test]
    fn triplet_margin_with_default_distance_golden_values() {
        let [anchor, positive, negative] = golden_triplet();
        let loss = TripletMarginWithDistanceLossConfig::new().init::<B>(&Default::default());
        assert_golden(loss.forward_no_reduction(anchor, positive, negative));
    }

    #[test]
    fn pairwise_distance_adds_eps_to_the_difference() {
        // Measured: d(0, 0) in 2-D with eps 1e-6 is sqrt(2) * 1e-6 (here eps is float32(1e-6)).
        let zeros = tensor(&[0.0, 0.0], [1, 2]);
        let d = PairwiseDistance::new().distance(zeros.clone(), zeros);
        let expected = 2f64.sqrt() * f64::from(1e-6f32);
        assert!((d.into_scalar() - expected).abs() < 1e-20);
    }
}

// ------------------------------------------------------------------------------------------------
// Gradients against central finite differences, in f64.
// ------------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod gradients {
    use super::*;
    use common::F64Autodiff as B;
    use common::gradcheck::{gradcheck, tensor, uniform};

    const ALL_REDUCTIONS: [Reduction; 3] = [Reduction::Mean, Reduction::Sum, Reduction::BatchMean];

    fn device() -> burn::tensor::Device<B> {
        Default::default()
    }

    #[test]
    fn cosine_embedding() {
        let x1 = uniform(12, -2.0, 2.0, 101);
        let x2 = uniform(12, -2.0, 2.0, 102);
        let y = tensor(&[1.0, -1.0, -1.0, 0.5], [4]);
        let upstream = tensor(&uniform(4, 0.5, 1.5, 103), [4]);
        for margin in [0.0, 0.5, -0.5] {
            for reduction in ALL_REDUCTIONS {
                let loss = CosineEmbeddingLossConfig::new()
                    .with_margin(margin)
                    .with_reduction(reduction)
                    .init::<B>(&device());
                let what = format!("cosine margin {margin} {reduction:?}");
                gradcheck(&format!("{what} d/dx1"), &x1, [4, 3], |x| {
                    loss.forward(x, tensor(&x2, [4, 3]), y.clone())
                });
                gradcheck(&format!("{what} d/dx2"), &x2, [4, 3], |x| {
                    loss.forward(tensor(&x1, [4, 3]), x, y.clone())
                });
            }
            let loss = CosineEmbeddingLossConfig::new()
                .with_margin(margin)
                .init::<B>(&device());
            gradcheck(&format!("cosine margin {margin} none"), &x1, [4, 3], |x| {
                (loss.forward_no_reduction(x, tensor(&x2, [4, 3]), y.clone()) * upstream.clone())
                    .sum()
            });
        }
    }

    #[test]
    fn margin_ranking() {
        let x1 = uniform(8, -2.0, 2.0, 111);
        let x2 = uniform(8, -2.0, 2.0, 112);
        let y = uniform(8, -1.5, 1.5, 113);
        let upstream = tensor(&uniform(8, 0.5, 1.5, 114), [2, 4]);
        for margin in [0.0, 0.5, -0.3] {
            for reduction in ALL_REDUCTIONS {
                let loss = MarginRankingLossConfig::new()
                    .with_margin(margin)
                    .with_reduction(reduction)
                    .init::<B>(&device());
                let what = format!("margin ranking {margin} {reduction:?}");
                gradcheck(&format!("{what} d/dx1"), &x1, [2, 4], |x| {
                    loss.forward(x, tensor(&x2, [2, 4]), tensor(&y, [2, 4]))
                });
                gradcheck(&format!("{what} d/dx2"), &x2, [2, 4], |x| {
                    loss.forward(tensor(&x1, [2, 4]), x, tensor(&y, [2, 4]))
                });
                gradcheck(&format!("{what} d/dy"), &y, [2, 4], |t| {
                    loss.forward(tensor(&x1, [2, 4]), tensor(&x2, [2, 4]), t)
                });
            }
            let loss = MarginRankingLossConfig::new()
                .with_margin(margin)
                .init::<B>(&device());
            gradcheck(&format!("margin ranking {margin} none"), &x1, [8], |x| {
                let losses = loss.forward_no_reduction(
                    x.reshape([2, 4]),
                    tensor(&x2, [2, 4]),
                    tensor(&y, [2, 4]),
                );
                (losses * upstream.clone()).sum()
            });
        }
    }

    #[test]
    fn hinge_embedding() {
        let x = uniform(10, -3.0, 3.0, 121);
        let y = tensor(
            &[1.0, -1.0, 0.0, -1.0, 1.0, 0.5, -1.0, -1.0, 1.0, 2.0],
            [2, 5],
        );
        let upstream = tensor(&uniform(10, 0.5, 1.5, 122), [2, 5]);
        for margin in [1.0, 0.5, -2.0] {
            for reduction in ALL_REDUCTIONS {
                let loss = HingeEmbeddingLossConfig::new()
                    .with_margin(margin)
                    .with_reduction(reduction)
                    .init::<B>(&device());
                gradcheck(
                    &format!("hinge margin {margin} {reduction:?}"),
                    &x,
                    [2, 5],
                    |x| loss.forward(x, y.clone()),
                );
            }
            let loss = HingeEmbeddingLossConfig::new()
                .with_margin(margin)
                .init::<B>(&device());
            gradcheck(&format!("hinge margin {margin} none"), &x, [2, 5], |x| {
                (loss.forward_no_reduction(x, y.clone()) * upstream.clone()).sum()
            });
        }
    }

    /// Triplets with a margin that keeps some hinges active and some not.
    fn triplet_points() -> [Vec<f64>; 3] {
        let anchor = uniform(15, -1.0, 1.0, 131);
        let positive: Vec<f64> = anchor
            .iter()
            .zip(uniform(15, -0.8, 0.8, 132))
            .map(|(a, d)| a + d)
            .collect();
        let negative: Vec<f64> = anchor
            .iter()
            .zip(uniform(15, -1.5, 1.5, 133))
            .map(|(a, d)| a + d)
            .collect();
        [anchor, positive, negative]
    }

    /// Checks d/d(anchor, positive, negative) of `loss` at the triplet points.
    fn check_triplet(what: &str, loss: impl Fn([Tensor<B, 2>; 3]) -> Tensor<B, 1>) {
        let points = triplet_points();
        for (index, name) in ["anchor", "positive", "negative"].iter().enumerate() {
            gradcheck(&format!("{what} d/d{name}"), &points[index], [5, 3], |x| {
                let mut inputs = points.clone().map(|values| tensor(&values, [5, 3]));
                inputs[index] = x;
                loss(inputs)
            });
        }
    }

    #[test]
    fn triplet_margin() {
        for p in [1.0, 2.0, 3.0, 0.5, f32::INFINITY] {
            for swap in [false, true] {
                for (margin, eps) in [(1.0, 1e-6), (0.5, 0.0), (2.0, 0.1)] {
                    for reduction in ALL_REDUCTIONS {
                        let loss = TripletMarginLossConfig::new()
                            .with_p(p)
                            .with_swap(swap)
                            .with_margin(margin)
                            .with_eps(eps)
                            .with_reduction(reduction)
                            .init::<B>(&device());
                        check_triplet(&format!("triplet {loss}"), |[a, p, n]| {
                            loss.forward(a, p, n)
                        });
                    }
                }
            }
        }
        let upstream = tensor(&uniform(5, 0.5, 1.5, 134), [5]);
        let loss = TripletMarginLossConfig::new()
            .with_swap(true)
            .init::<B>(&device());
        check_triplet("triplet none", |[a, p, n]| {
            (loss.forward_no_reduction(a, p, n) * upstream.clone()).sum()
        });
    }

    #[test]
    fn triplet_margin_with_distance() {
        for swap in [false, true] {
            for reduction in ALL_REDUCTIONS {
                let config = TripletMarginWithDistanceLossConfig::new()
                    .with_margin(0.7)
                    .with_swap(swap)
                    .with_reduction(reduction);
                let what = format!("triplet with distance swap {swap} {reduction:?}");
                let loss = config.init::<B>(&device());
                check_triplet(&format!("{what} default"), |[a, p, n]| {
                    loss.forward(a, p, n)
                });
                let loss = config.init_with_distance::<B, _>(
                    &device(),
                    PairwiseDistance::new().with_p(3.0).with_eps(0.0),
                );
                check_triplet(&format!("{what} pairwise p3"), |[a, p, n]| {
                    loss.forward(a, p, n)
                });
                let loss = config.init_with_distance::<B, _>(&device(), CosineDistance::new());
                check_triplet(&format!("{what} cosine"), |[a, p, n]| loss.forward(a, p, n));
                let squared = DistanceFn(|x1: Tensor<B, 2>, x2: Tensor<B, 2>| {
                    (x1 - x2).powf_scalar(2.0).sum_dim(1).squeeze_dim(1)
                });
                let loss = config.init_with_distance::<B, _>(&device(), squared);
                check_triplet(&format!("{what} closure"), |[a, p, n]| {
                    loss.forward(a, p, n)
                });
            }
        }
    }

    #[test]
    fn cosine_distance_below_eps() {
        // A row whose norm is below eps: the value uses the clamped norm, the gradient the
        // unclamped one, as PyTorch (torch 2.15, float64, eps = float32(1e-8) as ours).
        let x2 = tensor(&[1.0, 3.0], [1, 2]);
        let x1 = tensor(&[1e-9, 2e-9], [1, 2]).require_grad();
        let d = CosineDistance::new().distance(x1.clone(), x2);
        let value = d.clone().into_scalar();
        let grads = d.backward();
        let grad: Vec<f64> = x1.grad(&grads).unwrap().into_data().iter::<f64>().collect();
        assert!((value - 0.7786405624429079).abs() < 1e-14, "{value}");
        assert!((grad[0] + 21723281.736930847).abs() < 1e-6, "{grad:?}");
        assert!((grad[1] + 75069340.267732).abs() < 1e-6, "{grad:?}");
    }
}

// ------------------------------------------------------------------------------------------------
// The triplet loss with a distance is a Module that a model can hold, and survives `valid()`.
// ------------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod module {
    use super::*;
    use burn::module::{AutodiffModule, Module};
    use common::NdArrayAutodiff as B;

    #[derive(Module, Debug)]
    struct Model<B: burn::tensor::backend::Backend> {
        triplet: TripletMarginWithDistanceLoss<B>,
        cosine_triplet: TripletMarginWithDistanceLoss<B, CosineDistance>,
        ranking: MarginRankingLoss<B>,
    }

    #[test]
    fn losses_are_module_fields_and_survive_valid() {
        let device = Default::default();
        let model = Model::<B> {
            triplet: TripletMarginWithDistanceLossConfig::new().init(&device),
            cosine_triplet: TripletMarginWithDistanceLossConfig::new()
                .with_margin(0.3)
                .init_with_distance(&device, CosineDistance::new().with_eps(1e-6)),
            ranking: MarginRankingLossConfig::new().init(&device),
        };
        assert_eq!(model.num_params(), 0);
        let valid = model.valid();
        assert_eq!(valid.cosine_triplet.distance.eps, 1e-6);
        assert_eq!(valid.cosine_triplet.margin, 0.3);
        let x = Tensor::<burn::backend::NdArray, 2>::from_floats([[1.0, 0.0]], &device);
        let y = Tensor::<burn::backend::NdArray, 2>::from_floats([[0.0, 1.0]], &device);
        let value = valid
            .cosine_triplet
            .forward(x.clone(), x.clone(), y.clone())
            .into_scalar();
        assert!((value - 0.0).abs() < 1e-6, "{value}"); // max(0, 0.3 + 0 - 1)
        assert!(format!("{:?}", model.triplet).contains("PairwiseDistance"));
    }
}

// ------------------------------------------------------------------------------------------------
// Every bad option and bad call panics with the loss, the argument, the expectation and the value.
// ------------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod errors {
    use super::*;
    use burn::backend::NdArray;

    type B = NdArray;

    fn floats<const D: usize>(shape: [usize; D]) -> Tensor<B, D> {
        Tensor::ones(shape, &Default::default())
    }

    mod cosine_embedding {
        use super::*;

        fn loss() -> CosineEmbeddingLoss<B> {
            CosineEmbeddingLossConfig::new().init(&Default::default())
        }

        #[test]
        #[should_panic(
            expected = "CosineEmbeddingLoss: option `margin` expected a finite value, got NaN"
        )]
        fn nan_margin() {
            CosineEmbeddingLossConfig::new()
                .with_margin(f32::NAN)
                .init::<B>(&Default::default());
        }

        #[test]
        #[should_panic(
            expected = "CosineEmbeddingLoss: `x2` expected shape [4, 3] (the shape of `x1`), got [4, 2]"
        )]
        fn x2_shape() {
            loss().forward(floats([4, 3]), floats([4, 2]), floats([4]));
        }

        #[test]
        #[should_panic(
            expected = "CosineEmbeddingLoss: `y` expected shape [4] (the batch size of `x1`), got [3]"
        )]
        fn y_shape() {
            loss().forward(floats([4, 3]), floats([4, 3]), floats([3]));
        }
    }

    mod margin_ranking {
        use super::*;

        fn loss() -> MarginRankingLoss<B> {
            MarginRankingLossConfig::new().init(&Default::default())
        }

        #[test]
        #[should_panic(
            expected = "MarginRankingLoss: option `margin` expected a finite value, got inf"
        )]
        fn infinite_margin() {
            MarginRankingLossConfig::new()
                .with_margin(f32::INFINITY)
                .init::<B>(&Default::default());
        }

        #[test]
        #[should_panic(
            expected = "MarginRankingLoss: `x2` expected shape [5] (the shape of `x1`), got [1]"
        )]
        fn x2_shape() {
            loss().forward(floats([5]), floats([1]), floats([5]));
        }

        #[test]
        #[should_panic(
            expected = "MarginRankingLoss: `y` expected shape [5, 2] (the shape of `x1`), got [5, 1]"
        )]
        fn y_shape() {
            loss().forward(floats([5, 2]), floats([5, 2]), floats([5, 1]));
        }
    }

    mod hinge_embedding {
        use super::*;

        #[test]
        #[should_panic(
            expected = "HingeEmbeddingLoss: option `margin` expected a finite value, got NaN"
        )]
        fn nan_margin() {
            HingeEmbeddingLossConfig::new()
                .with_margin(f32::NAN)
                .init::<B>(&Default::default());
        }

        #[test]
        #[should_panic(
            expected = "HingeEmbeddingLoss: `targets` expected shape [3, 5] (the shape of `input`), got [1, 5]"
        )]
        fn targets_shape() {
            HingeEmbeddingLossConfig::new()
                .init::<B>(&Default::default())
                .forward(floats([3, 5]), floats([1, 5]));
        }
    }

    mod triplet_margin {
        use super::*;

        fn loss() -> TripletMarginLoss<B> {
            TripletMarginLossConfig::new().init(&Default::default())
        }

        #[test]
        #[should_panic(
            expected = "TripletMarginLoss: option `margin` expected a finite value greater than 0, got 0"
        )]
        fn zero_margin() {
            TripletMarginLossConfig::new()
                .with_margin(0.0)
                .init::<B>(&Default::default());
        }

        #[test]
        #[should_panic(
            expected = "TripletMarginLoss: option `margin` expected a finite value greater than 0, got -1"
        )]
        fn negative_margin() {
            TripletMarginLossConfig::new()
                .with_margin(-1.0)
                .init::<B>(&Default::default());
        }

        #[test]
        #[should_panic(
            expected = "TripletMarginLoss: option `p` expected a positive norm degree (or inf), got 0"
        )]
        fn zero_p() {
            TripletMarginLossConfig::new()
                .with_p(0.0)
                .init::<B>(&Default::default());
        }

        #[test]
        #[should_panic(
            expected = "TripletMarginLoss: option `p` expected a positive norm degree (or inf), got NaN"
        )]
        fn nan_p() {
            TripletMarginLossConfig::new()
                .with_p(f32::NAN)
                .init::<B>(&Default::default());
        }

        #[test]
        #[should_panic(
            expected = "TripletMarginLoss: option `eps` expected a finite value, got inf"
        )]
        fn infinite_eps() {
            TripletMarginLossConfig::new()
                .with_eps(f32::INFINITY)
                .init::<B>(&Default::default());
        }

        #[test]
        #[should_panic(
            expected = "TripletMarginLoss: `positive` expected shape [4, 3] (the shape of `anchor`), got [1, 3]"
        )]
        fn positive_shape() {
            loss().forward(floats([4, 3]), floats([1, 3]), floats([4, 3]));
        }

        #[test]
        #[should_panic(
            expected = "TripletMarginLoss: `negative` expected shape [4, 3] (the shape of `anchor`), got [4, 2]"
        )]
        fn negative_shape() {
            loss().forward(floats([4, 3]), floats([4, 3]), floats([4, 2]));
        }
    }

    mod triplet_margin_with_distance {
        use super::*;

        #[test]
        #[should_panic(
            expected = "TripletMarginWithDistanceLoss: option `margin` expected a finite value greater than 0, got -1"
        )]
        fn negative_margin() {
            TripletMarginWithDistanceLossConfig::new()
                .with_margin(-1.0)
                .init::<B>(&Default::default());
        }

        #[test]
        #[should_panic(
            expected = "TripletMarginWithDistanceLoss: `positive` expected shape [4, 3] (the shape of `anchor`), got [4, 1]"
        )]
        fn positive_shape() {
            TripletMarginWithDistanceLossConfig::new()
                .init::<B>(&Default::default())
                .forward(floats([4, 3]), floats([4, 1]), floats([4, 3]));
        }

        #[test]
        #[should_panic(
            expected = "TripletMarginWithDistanceLoss: `negative` expected shape [4, 3] (the shape of `anchor`), got [3, 3]"
        )]
        fn negative_shape() {
            TripletMarginWithDistanceLossConfig::new()
                .init::<B>(&Default::default())
                .forward(floats([4, 3]), floats([4, 3]), floats([3, 3]));
        }

        #[test]
        #[should_panic(
            expected = "TripletMarginWithDistanceLoss: `distance` expected to return shape [4] (one distance per row), got [1]"
        )]
        fn distance_output_shape() {
            let total = DistanceFn(|x1: Tensor<B, 2>, x2: Tensor<B, 2>| (x1 - x2).abs().sum());
            TripletMarginWithDistanceLossConfig::new()
                .init_with_distance::<B, _>(&Default::default(), total)
                .forward(floats([4, 3]), floats([4, 3]), floats([4, 3]));
        }
    }

    mod distances {
        use super::*;

        #[test]
        #[should_panic(
            expected = "PairwiseDistance: option `p` expected a positive norm degree (or inf), got -1"
        )]
        fn pairwise_negative_p() {
            PairwiseDistance::new()
                .with_p(-1.0)
                .distance(floats([2, 3]), floats([2, 3]));
        }

        #[test]
        #[should_panic(
            expected = "PairwiseDistance: option `eps` expected a finite value, got NaN"
        )]
        fn pairwise_nan_eps() {
            PairwiseDistance::new()
                .with_eps(f32::NAN)
                .distance(floats([2, 3]), floats([2, 3]));
        }

        #[test]
        #[should_panic(
            expected = "PairwiseDistance: `x2` expected shape [2, 3] (the shape of `x1`), got [2, 4]"
        )]
        fn pairwise_shape() {
            PairwiseDistance::new().distance(floats([2, 3]), floats([2, 4]));
        }

        #[test]
        #[should_panic(expected = "CosineDistance: option `eps` expected a finite value, got inf")]
        fn cosine_infinite_eps() {
            CosineDistance::new()
                .with_eps(f32::INFINITY)
                .distance(floats([2, 3]), floats([2, 3]));
        }

        #[test]
        #[should_panic(
            expected = "CosineDistance: `x2` expected shape [2, 3] (the shape of `x1`), got [1, 3]"
        )]
        fn cosine_shape() {
            CosineDistance::new().distance(floats([2, 3]), floats([1, 3]));
        }
    }
}
