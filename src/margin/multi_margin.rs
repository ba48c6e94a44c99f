//! Multi-class hinge loss on class indices.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::mechanics::assembly::reduced_forward;
use crate::mechanics::class_targets::{CLASS_DIM, ClassIndexTargets};
use crate::mechanics::indexing::gather;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_weight_option, fail, fail_option};

const LOSS: &str = "MultiMarginLoss";

/// Configuration of [`MultiMarginLoss`], with PyTorch's option names and defaults
/// (`torch.nn.MultiMarginLoss`).
#[derive(Config, Debug)]
pub struct MultiMarginLossConfig {
    /// The power of each hinge term: 1 (hinge) or 2 (squared hinge).
    #[config(default = 1)]
    pub p: u32,
    /// The margin by which the target class should beat every other class (any finite value).
    #[config(default = 1.0)]
    pub margin: f32,
    /// A weight per class (length C, finite, non-negative); a sample's terms are scaled by the
    /// weight of its TARGET class. Default: none (every class 1).
    pub weight: Option<Vec<f32>>,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Check that targets lie in `[0, C)` (reads two numbers back from the device).
    /// Turn off only for throughput, with targets known to be valid.
    #[config(default = true)]
    pub check_targets: bool,
}

impl MultiMarginLossConfig {
    /// Checks the options and builds the loss; the class weights live on `device`.
    ///
    /// # Panics
    /// If `p` is neither 1 nor 2, `margin` is not finite, or `weight` is empty, negative or not
    /// finite.
    pub fn init<B: Backend>(&self, device: &B::Device) -> MultiMarginLoss<B> {
        if self.p != 1 && self.p != 2 {
            fail_option(LOSS, "p", "1 or 2", self.p);
        }
        if !self.margin.is_finite() {
            fail_option(LOSS, "margin", "a finite value", self.margin);
        }
        check_weight_option(LOSS, "weight", self.weight.as_deref());
        MultiMarginLoss {
            p: self.p,
            margin: self.margin,
            weight: self
                .weight
                .as_ref()
                .map(|weight| Tensor::from_floats(weight.as_slice(), device)),
            reduction: self.reduction,
            check_targets: self.check_targets,
        }
    }
}

/// The multi-class hinge loss of `torch.nn.MultiMarginLoss`: the target class `y_i` should
/// score at least `margin` above every other class.
///
/// ```text
/// ℓ_i = (1/C) Σ_{c ≠ y_i} w_{y_i} · max(0, margin - x_{i, y_i} + x_{i, c})^p       (p = 1 or 2)
/// ```
///
/// `w_{y_i}`, the weight of the sample's target class (1 without `weight`), multiplies every
/// term of the sample. A term with `margin - x_{i, y_i} + x_{i, c}` exactly 0 (or NaN) adds
/// nothing and has zero gradient, as PyTorch's strict `> 0`. `Mean` divides by N (each sample
/// already divides by C). The target's score is gathered: no one-hot encoding is built.
///
/// **Difference from PyTorch:** the weights must be non-negative (PyTorch accepts negative
/// ones, which reward violating the margin for those classes), and the margin must be finite.
///
/// # Shapes
/// - input: `(N, C)`
/// - targets: `(N)`, `Int`, values in `[0, C)` (there is no ignore index)
/// - unreduced output: `(N)`
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = MultiMarginLossConfig::new().init::<NdArray>(&device);
/// let input = Tensor::<NdArray, 2>::from_floats([[0.1, 0.2, 0.4, 0.8]], &device);
/// let targets = Tensor::<NdArray, 1, Int>::from_ints([3], &device);
/// let value = loss.forward(input, targets).into_scalar();
/// assert!((value - 0.325).abs() < 1e-6); // PyTorch: 0.325
///
/// let loss = MultiMarginLossConfig::new()
///     .with_p(2)
///     .with_weight(Some(vec![2.0, 1.0, 1.0, 0.5]))
///     .init::<NdArray>(&device);
/// let input = Tensor::<NdArray, 2>::from_floats([[0.1, 0.2, 0.4, 0.8], [1.0, -0.5, 0.3, 0.2]], &device);
/// let targets = Tensor::<NdArray, 1, Int>::from_ints([3, 0], &device);
/// let value = loss.forward(input, targets).into_scalar();
/// assert!((value - 0.070625).abs() < 1e-6); // PyTorch: 0.070625
/// ```
#[derive(Module, Debug)]
pub struct MultiMarginLoss<B: Backend> {
    /// The power of each hinge term, 1 or 2.
    pub p: u32,
    /// The margin.
    pub margin: f32,
    /// Class weights, shape `[C]`.
    pub weight: Option<Tensor<B, 1>>,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    /// Whether targets are range-checked.
    pub check_targets: bool,
}

impl<B: Backend> MultiMarginLoss<B> {
    reduced_forward! {
        /// The loss reduced with the configured reduction.
        ///
        /// # Panics
        /// If the targets' shape is not `(N)`, C is 0, the class weights do not have length C, or
        /// a target is outside `[0, C)`.
        fn forward(input: Tensor<B, 2>, targets: Tensor<B, 1, Int>);
    }

    /// The loss of every sample: shape `(N)`.
    pub fn forward_no_reduction(
        &self,
        input: Tensor<B, 2>,
        targets: Tensor<B, 1, Int>,
    ) -> Tensor<B, 1> {
        let dims = input.dims();
        let [batch_size, num_classes] = dims;
        if num_classes == 0 {
            fail(
                LOSS,
                "input",
                "shape (N, C) with C >= 1",
                format_args!("{dims:?}"),
            );
        }
        let targets = ClassIndexTargets::new(
            LOSS,
            "input",
            &dims,
            targets,
            self.weight.as_ref(),
            None,
            self.check_targets,
        );

        // z[i, c] = margin - x[i, y_i] + x[i, c], PyTorch's operation order.
        let target_scores = gather(input.clone(), CLASS_DIM, targets.indices.clone());
        let z = target_scores.neg().add_scalar(self.margin) + input.clone();
        let is_target = Tensor::<B, 1, Int>::arange(0..num_classes as i64, &input.device())
            .reshape([1, num_classes])
            .repeat_dim(0, batch_size)
            .equal(targets.indices.clone().repeat_dim(CLASS_DIM, num_classes));
        let inactive = z.clone().greater_elem(0.0).bool_not().bool_or(is_target);
        let hinge = z.mask_fill(inactive, 0.0);
        let terms = match self.p {
            1 => hinge,
            _ => hinge.clone() * hinge,
        };
        let losses = terms.sum_dim(CLASS_DIM);
        let losses = match &self.weight {
            Some(_) => losses * targets.weights,
            None => losses,
        };
        losses.reshape([batch_size]).div_scalar(num_classes as f64)
    }
}
