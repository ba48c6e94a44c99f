//! One-versus-all logistic loss over the labels of a multi-label problem.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::sigmoid;
use burn::tensor::backend::Backend;

use crate::mechanics::assembly::{Elementwise, reduced_forward};
use crate::mechanics::gradient::Constant;
use crate::mechanics::last_dim::LastDimWeight;
use crate::mechanics::numerics::log1p;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_same_shape, check_weight_option, fail};

const LOSS: &str = "MultiLabelSoftMarginLoss";

/// Configuration of [`MultiLabelSoftMarginLoss`] (`torch.nn.MultiLabelSoftMarginLoss`).
#[derive(Config, Debug)]
pub struct MultiLabelSoftMarginLossConfig {
    /// A weight per label (length C, or 1 to scale every label; finite, non-negative).
    /// Default: none (every label 1).
    pub weight: Option<Vec<f32>>,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl MultiLabelSoftMarginLossConfig {
    /// Checks the options and builds the loss; the weight lives on `device`.
    ///
    /// # Panics
    /// If `weight` is empty, negative or not finite.
    pub fn init<B: Backend>(&self, device: &B::Device) -> MultiLabelSoftMarginLoss<B> {
        check_weight_option(LOSS, "weight", self.weight.as_deref());
        MultiLabelSoftMarginLoss {
            weight: self
                .weight
                .as_ref()
                .map(|weight| Tensor::from_floats(weight.as_slice(), device)),
            reduction: self.reduction,
        }
    }
}

/// The multi-label one-versus-all logistic loss of `torch.nn.MultiLabelSoftMarginLoss`: a
/// binary cross entropy on logits per label, averaged over the C labels of each sample.
///
/// With logits `x`, targets `y` (meant to be 0 or 1; soft or any real values are accepted, as in
/// PyTorch) and label weight `w_c` (1 without `weight`):
///
/// ```text
/// ℓ_i = (1/C) Σ_c w_c · -[ y_ic · log σ(x_ic) + (1 - y_ic) · log σ(-x_ic) ]
///     = (1/C) Σ_c w_c · [ log1p(exp(-|x_ic|)) + y_ic · max(-x_ic, 0) + (1 - y_ic) · max(x_ic, 0) ]
/// ∂ℓ_i/∂x_ic = w_c · (σ(x_ic) - y_ic) / C        ∂ℓ_i/∂y_ic = -w_c · x_ic / C
/// ```
///
/// Finite for every finite logit (±1e4 included). `Mean` divides by N (the per-sample values
/// already average the labels).
///
/// **Differences from PyTorch:** the targets must have exactly the input's shape (PyTorch
/// broadcasts them silently, which hides a mis-shaped batch), and the weights must be
/// non-negative (PyTorch accepts negative ones, which turn the loss into a quantity to
/// maximise for those labels).
///
/// # Shapes
/// - input, targets: `(N, C)`; the labels are the last dimension
/// - weight: `C` (or 1); unreduced output: `(N)`
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = MultiLabelSoftMarginLossConfig::new()
///     .with_weight(Some(vec![1.0, 2.0, 0.5]))
///     .init::<NdArray>(&device);
/// let input = Tensor::<NdArray, 2>::from_floats([[0.5, -1.0, 2.0], [0.0, 1.5, -0.5]], &device);
/// let targets = Tensor::<NdArray, 2>::from_floats([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], &device);
/// let value = loss.forward(input, targets).into_scalar();
/// assert!((value - 0.416179).abs() < 1e-5); // PyTorch: 0.41617942
/// ```
#[derive(Module, Debug)]
pub struct MultiLabelSoftMarginLoss<B: Backend> {
    /// Label weights, shape `[C]` (or `[1]`).
    pub weight: Option<Tensor<B, 1>>,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
}

impl<B: Backend> MultiLabelSoftMarginLoss<B> {
    reduced_forward! {
        /// The loss reduced with the configured reduction.
        ///
        /// # Panics
        /// If the shapes of `input` and `targets` differ, C is 0, or the weight's length is neither
        /// C nor 1.
        fn forward(input: Tensor<B, 2>, targets: Tensor<B, 2>);
    }

    /// The loss of every sample (the weighted mean over its labels): shape `(N)`.
    pub fn forward_no_reduction(&self, input: Tensor<B, 2>, targets: Tensor<B, 2>) -> Tensor<B, 1> {
        let dims = input.dims();
        check_same_shape(LOSS, "targets", "input", &dims, &targets.dims());
        if dims[1] == 0 {
            fail(
                LOSS,
                "input",
                "shape (N, C) with C >= 1",
                format_args!("{dims:?}"),
            );
        }
        let weight = LastDimWeight::new(LOSS, "weight", self.weight.as_ref(), &dims);
        let num_labels = dims[1] as f64;
        let x = input.clone().constant();
        let y = targets.clone().constant();

        // y·softplus(-x) + (1 - y)·softplus(x), sharing softplus's log1p(exp(-|x|)): no
        // cancellation for hard targets, however large |x|.
        let log1p_exp = log1p(x.clone().abs().neg().exp());
        let positive = x.clone().clamp_min(0.0);
        let negative = x.clone().neg().clamp_min(0.0);
        let losses = log1p_exp + y.clone() * negative + (y.clone().neg() + 1.0) * positive;

        let losses = weight.apply(losses).div_scalar(num_labels).sum_dim(1);
        Elementwise::new(losses)
            .gradient(&input, || {
                weight.apply(sigmoid(x.clone()) - y).div_scalar(num_labels)
            })
            .gradient(&targets, || weight.apply(-x).div_scalar(num_labels))
            .unreduced()
            .reshape([dims[0]])
    }
}
