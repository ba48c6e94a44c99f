//! Two-class logistic loss on ±1 targets.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::sigmoid;
use burn::tensor::backend::Backend;

use crate::mechanics::assembly::{Elementwise, elementwise_forwards};
use crate::mechanics::gradient::Constant;
use crate::mechanics::numerics::log1p;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::check_same_shape;

const LOSS: &str = "SoftMarginLoss";

/// Configuration of [`SoftMarginLoss`] (`torch.nn.SoftMarginLoss`).
#[derive(Config, Debug)]
pub struct SoftMarginLossConfig {
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl SoftMarginLossConfig {
    /// Builds the loss (it has no option to check).
    pub fn init<B: Backend>(&self, _device: &B::Device) -> SoftMarginLoss<B> {
        SoftMarginLoss {
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The two-class logistic loss of `torch.nn.SoftMarginLoss`, on an input `x` and targets `y`
/// (meant to be ±1; any real value is accepted, as in PyTorch):
///
/// ```text
/// ℓ = log(1 + exp(-y · x)) = max(-y·x, 0) + log1p(exp(-|y·x|))
/// ∂ℓ/∂x = -y · σ(-y·x)        ∂ℓ/∂y = -x · σ(-y·x)
/// ```
///
/// `Mean` divides by the number of elements.
///
/// **Difference from PyTorch:** PyTorch evaluates `log1p(exp(-y·x))` literally, so its f32 loss
/// overflows to `inf` (with a NaN gradient) once `-y·x` exceeds about 88 (`x = -100, y = 1`).
/// This loss subtracts the maximum first (the stable softplus above): it is finite for every
/// finite input and equals the exact value (`100` there), which is what PyTorch computes in f64.
/// In the ordinary range both agree to f32 rounding. PyTorch also refuses a gradient with
/// respect to the targets; here the targets get their exact gradient `-x · σ(-y·x)` when they
/// are tracked.
///
/// # Shapes
/// - input, targets, unreduced output: any shape, the same for all three
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = SoftMarginLossConfig::new().init::<NdArray>(&device);
/// let input = Tensor::<NdArray, 2>::from_floats([[0.5, -1.0], [2.0, 0.3]], &device);
/// let targets = Tensor::<NdArray, 2>::from_floats([[1.0, -1.0], [-1.0, 1.0]], &device);
/// let value = loss.forward(input, targets).into_scalar();
/// assert!((value - 0.867155).abs() < 1e-5); // PyTorch: 0.86715549
///
/// // Finite where PyTorch's f32 overflows to inf (its f64 value is 100).
/// let input = Tensor::<NdArray, 1>::from_floats([-100.0], &device);
/// let targets = Tensor::<NdArray, 1>::from_floats([1.0], &device);
/// assert_eq!(loss.forward(input, targets).into_scalar(), 100.0);
/// ```
#[derive(Module, Debug)]
pub struct SoftMarginLoss<B: Backend> {
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> SoftMarginLoss<B> {
    elementwise_forwards!(input, targets, panics: "If the shapes of `input` and `targets` differ.");

    fn elementwise<const D: usize>(
        &self,
        input: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        check_same_shape(LOSS, "targets", "input", &input.dims(), &targets.dims());
        let x = input.clone().constant();
        let y = targets.clone().constant();
        // The negative margin -y·x, and softplus of it with the maximum taken out.
        let negative_margin = -(y.clone() * x.clone());
        let losses = negative_margin.clone().clamp_min(0.0)
            + log1p(negative_margin.clone().abs().neg().exp());
        Elementwise::new(losses)
            .gradient(&input, || -(y * sigmoid(negative_margin.clone())))
            .gradient(&targets, || -(x * sigmoid(negative_margin)))
    }
}
