//! Embedding and ranking losses (cosine embedding, margin ranking, hinge embedding, triplet
//! margin with and without a distance): PyTorch fixture replay on every lane, the reference's
//! golden values and gradients against f64 finite differences, the losses as module fields, and
//! one table row per error message.
#![cfg(feature = "autodiff")]

mod common;

use burn::tensor::Tensor;
use burn_losses::*;
use common::replay::cases;
use common::{Lane, load_fixture, number};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixture replay: these losses take two or three tensors, stored under PyTorch's argument names
// ---------------------------------------------------------------------------------------------

fn margin(case: &Value) -> f32 {
    number(&case["options"]["margin"]) as f32
}

fn cosine_embedding<B: Lane>(device: &B::Device) {
    for case in cases(&load_fixture("cosine_embedding")) {
        let config = CosineEmbeddingLossConfig::new().with_margin(margin(case));
        let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
        replay!(case, device, |x| loss.forward(
            x.float("input1"),
            x.float("input2"),
            x.float("target")
        ));
    }
}

replay_fixture!(fn margin_ranking: "margin_ranking", "input1" => margin_ranking_case
    at [(1), (2), (3)]);

fn margin_ranking_case<B: Lane, const D: usize>(case: &Value, device: &B::Device) {
    let config = MarginRankingLossConfig::new().with_margin(margin(case));
    let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
    replay!(case, device, |x| loss.forward(
        x.float::<D>("input1"),
        x.float::<D>("input2"),
        x.float::<D>("target")
    ));
}

replay_fixture!(fn hinge_embedding: "hinge_embedding", "input" => hinge_embedding_case
    at [(1), (2), (3)]);

fn hinge_embedding_case<B: Lane, const D: usize>(case: &Value, device: &B::Device) {
    let config = HingeEmbeddingLossConfig::new().with_margin(margin(case));
    let loss = |reduction| config.clone().with_reduction(reduction).init::<B>(device);
    replay!(case, device, |x| loss
        .forward(x.float::<D>("input"), x.float::<D>("target")));
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
        replay!(case, device, |x| loss.forward(
            x.float("anchor"),
            x.float("positive"),
            x.float("negative")
        ));
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
    replay!(case, device, |x| loss.forward(
        x.float("anchor"),
        x.float("positive"),
        x.float("negative")
    ));
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

// ---------------------------------------------------------------------------------------------
// In f64: the reference's golden values, and gradients against central finite differences
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod gradients {
    use burn::tensor::Tensor;
    use burn_losses::*;

    use super::common::F64Autodiff as B;
    use super::common::REDUCTIONS;
    use super::common::gradcheck::{gradcheck, tensor, uniform};

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

    fn device() -> burn::tensor::Device<B> {
        Default::default()
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

    /// The loss `$config` builds with `margin` and `reduction`.
    macro_rules! margin_loss {
        ($config:ident, $margin:expr, $reduction:expr) => {
            $config::new()
                .with_margin($margin)
                .with_reduction($reduction)
                .init::<B>(&device())
        };
    }

    crate::on_f64! {
        fn triplet_margin_golden_values() {
            let [anchor, positive, negative] = golden_triplet();
            let loss = TripletMarginLossConfig::new().init::<B>(&Default::default());
            assert_golden(loss.forward_no_reduction(anchor, positive, negative));
        }

        fn triplet_margin_with_default_distance_golden_values() {
            let [anchor, positive, negative] = golden_triplet();
            let loss = TripletMarginWithDistanceLossConfig::new().init::<B>(&Default::default());
            assert_golden(loss.forward_no_reduction(anchor, positive, negative));
        }

        fn pairwise_distance_adds_eps_to_the_difference() {
            // Measured: d(0, 0) in 2-D with eps 1e-6 is sqrt(2) * 1e-6 (here eps is float32(1e-6)).
            let zeros = tensor(&[0.0, 0.0], [1, 2]);
            let d = PairwiseDistance::new().distance(zeros.clone(), zeros);
            let expected = 2f64.sqrt() * f64::from(1e-6f32);
            assert!((d.into_scalar() - expected).abs() < 1e-20);
        }

        fn cosine_embedding() {
            let x1 = uniform(12, -2.0, 2.0, 101);
            let x2 = uniform(12, -2.0, 2.0, 102);
            let y = tensor(&[1.0, -1.0, -1.0, 0.5], [4]);
            let upstream = tensor(&uniform(4, 0.5, 1.5, 103), [4]);
            for margin in [0.0, 0.5, -0.5] {
                for reduction in REDUCTIONS {
                    let loss = margin_loss!(CosineEmbeddingLossConfig, margin, reduction);
                    let what = format!("cosine margin {margin} {reduction:?}");
                    gradcheck(&format!("{what} d/dx1"), &x1, [4, 3], |x| {
                        loss.forward(x, tensor(&x2, [4, 3]), y.clone())
                    });
                    gradcheck(&format!("{what} d/dx2"), &x2, [4, 3], |x| {
                        loss.forward(tensor(&x1, [4, 3]), x, y.clone())
                    });
                }
                let loss = margin_loss!(CosineEmbeddingLossConfig, margin, Reduction::default());
                gradcheck(&format!("cosine margin {margin} none"), &x1, [4, 3], |x| {
                    (loss.forward_no_reduction(x, tensor(&x2, [4, 3]), y.clone()) * upstream.clone())
                        .sum()
                });
            }
        }

        fn margin_ranking() {
            let x1 = uniform(8, -2.0, 2.0, 111);
            let x2 = uniform(8, -2.0, 2.0, 112);
            let y = uniform(8, -1.5, 1.5, 113);
            let upstream = tensor(&uniform(8, 0.5, 1.5, 114), [2, 4]);
            for margin in [0.0, 0.5, -0.3] {
                for reduction in REDUCTIONS {
                    let loss = margin_loss!(MarginRankingLossConfig, margin, reduction);
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
                let loss = margin_loss!(MarginRankingLossConfig, margin, Reduction::default());
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

        fn hinge_embedding() {
            let x = uniform(10, -3.0, 3.0, 121);
            let y = tensor(
                &[1.0, -1.0, 0.0, -1.0, 1.0, 0.5, -1.0, -1.0, 1.0, 2.0],
                [2, 5],
            );
            let upstream = tensor(&uniform(10, 0.5, 1.5, 122), [2, 5]);
            for margin in [1.0, 0.5, -2.0] {
                for reduction in REDUCTIONS {
                    let loss = margin_loss!(HingeEmbeddingLossConfig, margin, reduction);
                    gradcheck(
                        &format!("hinge margin {margin} {reduction:?}"),
                        &x,
                        [2, 5],
                        |x| loss.forward(x, y.clone()),
                    );
                }
                let loss = margin_loss!(HingeEmbeddingLossConfig, margin, Reduction::default());
                gradcheck(&format!("hinge margin {margin} none"), &x, [2, 5], |x| {
                    (loss.forward_no_reduction(x, y.clone()) * upstream.clone()).sum()
                });
            }
        }

        fn triplet_margin() {
            for p in [1.0, 2.0, 3.0, 0.5, f32::INFINITY] {
                for swap in [false, true] {
                    for (margin, eps) in [(1.0, 1e-6), (0.5, 0.0), (2.0, 0.1)] {
                        for reduction in REDUCTIONS {
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

        fn triplet_margin_with_distance() {
            for swap in [false, true] {
                for reduction in REDUCTIONS {
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
}

// ---------------------------------------------------------------------------------------------
// The triplet loss with a distance is a Module that a model can hold, and survives `valid()`
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Every bad option and bad call panics with the loss, the argument, the expectation and the value
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "ndarray")]
mod errors {
    use burn::tensor::Tensor;
    use burn_losses::*;

    use super::common::panics::{B, device, floats};

    crate::panic_table! {
        fn embedding_errors() {
            let cosine_embedding = || CosineEmbeddingLossConfig::new().init::<B>(&device());
            let margin_ranking = || MarginRankingLossConfig::new().init::<B>(&device());
            let triplet = |config: TripletMarginLossConfig| config.init::<B>(&device());
            let triplet_with_distance = || TripletMarginWithDistanceLossConfig::new().init::<B>(&device());
            [
                cosine_embedding_nan_margin:
                    "CosineEmbeddingLoss: option `margin` expected a finite value, got NaN"
                    => CosineEmbeddingLossConfig::new().with_margin(f32::NAN).init::<B>(&device()),
                cosine_embedding_x2_shape:
                    "CosineEmbeddingLoss: `x2` expected shape [4, 3] (the shape of `x1`), got [4, 2]"
                    => cosine_embedding().forward(floats([4, 3], 1.0), floats([4, 2], 1.0), floats([4], 1.0)),
                cosine_embedding_y_shape:
                    "CosineEmbeddingLoss: `y` expected shape [4] (the batch size of `x1`), got [3]"
                    => cosine_embedding().forward(floats([4, 3], 1.0), floats([4, 3], 1.0), floats([3], 1.0)),
                margin_ranking_infinite_margin:
                    "MarginRankingLoss: option `margin` expected a finite value, got inf"
                    => MarginRankingLossConfig::new().with_margin(f32::INFINITY).init::<B>(&device()),
                margin_ranking_x2_shape:
                    "MarginRankingLoss: `x2` expected shape [5] (the shape of `x1`), got [1]"
                    => margin_ranking().forward(floats([5], 1.0), floats([1], 1.0), floats([5], 1.0)),
                margin_ranking_y_shape:
                    "MarginRankingLoss: `y` expected shape [5, 2] (the shape of `x1`), got [5, 1]"
                    => margin_ranking().forward(floats([5, 2], 1.0), floats([5, 2], 1.0), floats([5, 1], 1.0)),
                hinge_embedding_nan_margin:
                    "HingeEmbeddingLoss: option `margin` expected a finite value, got NaN"
                    => HingeEmbeddingLossConfig::new().with_margin(f32::NAN).init::<B>(&device()),
                hinge_embedding_targets_shape:
                    "HingeEmbeddingLoss: `targets` expected shape [3, 5] (the shape of `input`), got \
                     [1, 5]"
                    => HingeEmbeddingLossConfig::new().init::<B>(&device())
                        .forward(floats([3, 5], 1.0), floats([1, 5], 1.0)),
                triplet_margin_zero_margin:
                    "TripletMarginLoss: option `margin` expected a finite value greater than 0, got 0"
                    => triplet(TripletMarginLossConfig::new().with_margin(0.0)),
                triplet_margin_negative_margin:
                    "TripletMarginLoss: option `margin` expected a finite value greater than 0, got -1"
                    => triplet(TripletMarginLossConfig::new().with_margin(-1.0)),
                triplet_margin_zero_p:
                    "TripletMarginLoss: option `p` expected a positive norm degree (or inf), got 0"
                    => triplet(TripletMarginLossConfig::new().with_p(0.0)),
                triplet_margin_nan_p:
                    "TripletMarginLoss: option `p` expected a positive norm degree (or inf), got NaN"
                    => triplet(TripletMarginLossConfig::new().with_p(f32::NAN)),
                triplet_margin_infinite_eps:
                    "TripletMarginLoss: option `eps` expected a finite value, got inf"
                    => triplet(TripletMarginLossConfig::new().with_eps(f32::INFINITY)),
                triplet_margin_positive_shape:
                    "TripletMarginLoss: `positive` expected shape [4, 3] (the shape of `anchor`), got \
                     [1, 3]"
                    => triplet(TripletMarginLossConfig::new())
                        .forward(floats([4, 3], 1.0), floats([1, 3], 1.0), floats([4, 3], 1.0)),
                triplet_margin_negative_shape:
                    "TripletMarginLoss: `negative` expected shape [4, 3] (the shape of `anchor`), got \
                     [4, 2]"
                    => triplet(TripletMarginLossConfig::new())
                        .forward(floats([4, 3], 1.0), floats([4, 3], 1.0), floats([4, 2], 1.0)),
                triplet_with_distance_negative_margin:
                    "TripletMarginWithDistanceLoss: option `margin` expected a finite value greater than \
                     0, got -1"
                    => TripletMarginWithDistanceLossConfig::new().with_margin(-1.0).init::<B>(&device()),
                triplet_with_distance_positive_shape:
                    "TripletMarginWithDistanceLoss: `positive` expected shape [4, 3] (the shape of \
                     `anchor`), got [4, 1]"
                    => triplet_with_distance().forward(floats([4, 3], 1.0), floats([4, 1], 1.0), floats([4, 3], 1.0)),
                triplet_with_distance_negative_shape:
                    "TripletMarginWithDistanceLoss: `negative` expected shape [4, 3] (the shape of \
                     `anchor`), got [3, 3]"
                    => triplet_with_distance().forward(floats([4, 3], 1.0), floats([4, 3], 1.0), floats([3, 3], 1.0)),
                triplet_with_distance_distance_output_shape:
                    "TripletMarginWithDistanceLoss: `distance` expected to return shape [4] (one \
                     distance per row), got [1]"
                    => TripletMarginWithDistanceLossConfig::new()
                        .init_with_distance::<B, _>(
                            &device(),
                            DistanceFn(|x1: Tensor<B, 2>, x2: Tensor<B, 2>| (x1 - x2).abs().sum()),
                        )
                        .forward(floats([4, 3], 1.0), floats([4, 3], 1.0), floats([4, 3], 1.0)),
                pairwise_negative_p:
                    "PairwiseDistance: option `p` expected a positive norm degree (or inf), got -1"
                    => PairwiseDistance::new().with_p(-1.0).distance(floats([2, 3], 1.0), floats([2, 3], 1.0)),
                pairwise_nan_eps: "PairwiseDistance: option `eps` expected a finite value, got NaN"
                    => PairwiseDistance::new().with_eps(f32::NAN).distance(floats([2, 3], 1.0), floats([2, 3], 1.0)),
                pairwise_shape:
                    "PairwiseDistance: `x2` expected shape [2, 3] (the shape of `x1`), got [2, 4]"
                    => PairwiseDistance::new().distance(floats([2, 3], 1.0), floats([2, 4], 1.0)),
                cosine_infinite_eps: "CosineDistance: option `eps` expected a finite value, got inf"
                    => CosineDistance::new().with_eps(f32::INFINITY).distance(floats([2, 3], 1.0), floats([2, 3], 1.0)),
                cosine_shape: "CosineDistance: `x2` expected shape [2, 3] (the shape of `x1`), got [1, 3]"
                    => CosineDistance::new().distance(floats([2, 3], 1.0), floats([1, 3], 1.0)),
            ]
        }
    }
}
