//! The seed notebook, reproduced: PyTorch's numbers beside ours.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! The inputs are PyTorch's own (`torch.manual_seed(42); x = torch.rand(10, 5)`, stored in
//! `tests/fixtures/seed.json` by `tools/gen_fixtures.py`), so the two columns must agree to
//! every printed decimal.

use burn::backend::NdArray;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Int, Tensor, TensorData};
use burn_losses::*;
use serde_json::Value;

type B = NdArray;

fn tensor<const D: usize>(value: &Value) -> Tensor<B, D> {
    let shape: Vec<usize> = value["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let data: Vec<f32> = value["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    Tensor::from_data(TensorData::new(data, shape), &Default::default())
}

fn row(what: &str, pytorch: &str, ours: Tensor<B, 1>) {
    let ours: Vec<String> = ours
        .into_data()
        .iter::<f32>()
        .map(|v| format!("{v:.4}"))
        .collect();
    let ours = ours.join(", ");
    let verdict = if ours == pytorch { "same" } else { "DIFFERENT" };
    println!("{what:<44} {pytorch:>12} {ours:>12}  {verdict}");
}

fn main() {
    let seed: Value =
        serde_json::from_str(include_str!("../tests/fixtures/seed.json")).expect("seed.json");
    let device = Default::default();
    let x: Tensor<B, 2> = tensor(&seed["x"]);
    let y: Tensor<B, 1, Int> = tensor::<1>(&seed["y"]).int();
    let smoothed_onehot: Tensor<B, 2> = tensor(&seed["smoothed_onehot"]);
    let multi_hot: Tensor<B, 2> = tensor(&seed["multi_hot"]);

    let cross_entropy = CrossEntropyLossConfig::new().init::<B>(&device);
    let cross_entropy_sum = CrossEntropyLossConfig::new()
        .with_reduction(Reduction::Sum)
        .init::<B>(&device);
    let smoothed = CrossEntropyLossConfig::new()
        .with_label_smoothing(0.1)
        .init::<B>(&device);
    let bce = BinaryCrossEntropyLossConfig::new().init::<B>(&device);
    let bce_sum = BinaryCrossEntropyLossConfig::new()
        .with_reduction(Reduction::Sum)
        .init::<B>(&device);
    let with_logits = BinaryCrossEntropyWithLogitsLossConfig::new().init::<B>(&device);

    println!(
        "x = torch.rand(10, 5), y = {:?} (torch.manual_seed(42))\n",
        y.to_data().iter::<i64>().collect::<Vec<_>>()
    );
    println!("{:<44} {:>12} {:>12}", "loss", "PyTorch", "burn-losses");
    row(
        "cross_entropy(x, y)",
        "1.6211",
        cross_entropy.forward(x.clone(), y.clone()),
    );
    row(
        "cross_entropy(x, y, reduction='sum')",
        "16.2108",
        cross_entropy_sum.forward(x.clone(), y.clone()),
    );
    row(
        "cross_entropy(x, y, label_smoothing=0.1)",
        "1.6227",
        smoothed.forward(x.clone(), y.clone()),
    );
    row(
        "cross_entropy(x, smoothed one-hot 0.9/0.025)",
        "1.6231",
        cross_entropy.forward_probs(x.clone(), smoothed_onehot.clone()),
    );
    row(
        "binary_cross_entropy(sigmoid(x), smoothed)",
        "0.9070",
        bce.forward(sigmoid(x.clone()), smoothed_onehot.clone()),
    );
    row(
        "  reduction='sum'",
        "45.3489",
        bce_sum.forward(sigmoid(x.clone()), smoothed_onehot.clone()),
    );
    row(
        "binary_cross_entropy_with_logits(x, smoothed)",
        "0.9070",
        with_logits.forward(x.clone(), smoothed_onehot),
    );
    row(
        "binary_cross_entropy(sigmoid(x), multi-hot)",
        "0.7695",
        bce.forward(sigmoid(x.clone()), multi_hot.clone()),
    );
    row(
        "  reduction='sum'",
        "38.4762",
        bce_sum.forward(sigmoid(x.clone()), multi_hot.clone()),
    );
    row(
        "binary_cross_entropy_with_logits(x, multi-hot)",
        "0.7695",
        with_logits.forward(x.clone(), multi_hot.clone()),
    );
    row(
        "cross_entropy(x, multi-hot as probabilities)",
        "3.5679",
        cross_entropy.forward_probs(x.clone(), multi_hot),
    );

    println!("\ncross_entropy(x, y, reduction='none'):");
    let pytorch = [
        1.9654, 1.4071, 1.7677, 1.5602, 1.5892, 1.6320, 1.2770, 1.9243, 1.6820, 1.4059,
    ];
    let ours = cross_entropy.forward_no_reduction(x, y);
    for (index, (ours, pytorch)) in ours.into_data().iter::<f32>().zip(pytorch).enumerate() {
        println!("  [{index}] PyTorch {pytorch:.4}  burn-losses {ours:.4}");
    }
}
