//! The asymmetric loss (ASL) for multi-label classification.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::logistic::Logistic;
use crate::mechanics::assembly::{Elementwise, elementwise_forwards};
use crate::mechanics::gradient::Constant;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_same_shape, fail_option};

const LOSS: &str = "AsymmetricLoss";

/// Configuration of [`AsymmetricLoss`] (`AsymmetricLoss` of Ridnik et al., ICCV 2021).
#[derive(Config, Debug)]
pub struct AsymmetricLossConfig {
    /// The focusing exponent `γ+ >= 0` of the positive labels. Default: 1.
    #[config(default = 1.0)]
    pub gamma_pos: f32,
    /// The focusing exponent `γ- >= 0` of the negative labels. Default: 4.
    #[config(default = 4.0)]
    pub gamma_neg: f32,
    /// The probability margin `m` in `[0, 1)` of the negative labels: their probability is
    /// shifted to `p_m = max(p - m, 0)`, so easy negatives (`p <= m`) cost nothing. `0`
    /// disables the shift. Default: 0.05.
    #[config(default = 0.05)]
    pub clip: f32,
    /// The floor in `(0, 1)` of the probabilities inside the logs, `log(max(p, eps))`.
    /// Default: 1e-8.
    #[config(default = 1e-8)]
    pub eps: f32,
    /// Treat the asymmetric focusing weight as a constant in the backward pass, as the
    /// reference's `disable_torch_grad_focal_loss = True`. Default: true.
    #[config(default = true)]
    pub detach_focal_weight: bool,
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl AsymmetricLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If `gamma_pos` or `gamma_neg` is negative or not finite, `clip` is outside `[0, 1)` or
    /// `eps` is outside `(0, 1)`.
    pub fn init<B: Backend>(&self, _device: &B::Device) -> AsymmetricLoss<B> {
        for (option, gamma) in [("gamma_pos", self.gamma_pos), ("gamma_neg", self.gamma_neg)] {
            if !(gamma.is_finite() && gamma >= 0.0) {
                fail_option(LOSS, option, "a finite value >= 0", gamma);
            }
        }
        if !(0.0..1.0).contains(&self.clip) {
            fail_option(LOSS, "clip", "a value in [0, 1)", self.clip);
        }
        if !(self.eps > 0.0 && self.eps < 1.0) {
            fail_option(LOSS, "eps", "a value in (0, 1)", self.eps);
        }
        AsymmetricLoss {
            gamma_pos: self.gamma_pos,
            gamma_neg: self.gamma_neg,
            clip: self.clip,
            eps: self.eps,
            detach_focal_weight: self.detach_focal_weight,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The asymmetric loss of logits `x` against multi-label targets `y` (Ridnik et al.,
/// "Asymmetric Loss For Multi-Label Classification", ICCV 2021, arXiv 2009.14119), exactly as
/// `AsymmetricLoss` of the authors' code (github.com/Alibaba-MIIL/ASL,
/// `src/loss_functions/losses.py`):
///
/// ```text
/// p = σ(x)                      p⁻ = min(1 - p + m, 1)    (p⁻ = 1 - p when m = 0)
/// L = y · log(max(p, eps)) + (1 - y) · log(max(p⁻, eps))
/// w = (1 - p_t)^(γ+ · y + γ- · (1 - y)),    p_t = p · y + p⁻ · (1 - y)
/// ℓ = -L · w
/// ```
///
/// For a positive label (`y = 1`) that is `-(1 - p)^γ+ · log p`, for a negative one
/// `-p_m^γ- · log(1 - p_m)` with the shifted probability `p_m = max(p - m, 0)`. Targets are
/// labels in `[0, 1]` (soft labels follow the formula; outside `[0, 1]` the result is
/// unspecified); no gradient flows to them.
///
/// # Reduction
/// The reference returns `-Σ L · w` over every element, which is `Sum` here. `Mean` divides
/// that by the number of elements, so its scale (and a learning rate tuned for the reference)
/// differs by the factor `N · C`; `BatchMean` divides by the batch size `N`.
///
/// # Gradient
/// With `detach_focal_weight` (the default, the reference's `disable_torch_grad_focal_loss =
/// True`), `w` is a constant of the backward pass: `∂ℓ/∂x = -w · ∂L/∂x`. Without it, the
/// gradient of `w` is added, `-L · ∂w/∂x`; where `1 - p_t = 0` and an exponent lies in
/// `(0, 1)`, `w` is not differentiable and PyTorch's autograd gives NaN: that term is then its
/// limit, 0. Both are closed-form, with the gradients of the clamps as in PyTorch (none where
/// `p < eps` for a positive, none where `p < m` for a negative).
///
/// # Numerics
/// `log(max(p, eps))` is computed as `max(log σ(x), log eps)` and `1 - p_t` as
/// `y · σ(-x) + (1 - y) · p_m`, so probabilities of 0 and 1 (logits ±1e4) give finite values
/// and gradients, with no `1 - p` cancellation in `f32`.
///
/// # Shapes
/// - logits, targets, unreduced output: any shape, the same for all three
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = AsymmetricLossConfig::new()
///     .with_reduction(Reduction::Sum)
///     .init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 2>::from_floats([[2.0, -1.0, 0.5], [-3.0, 0.0, 4.0]], &device);
/// let targets = Tensor::<NdArray, 2>::from_floats([[1.0, 0.0, 0.0], [1.0, 0.0, 1.0]], &device);
/// let value = loss.forward(logits, targets).into_scalar();
/// assert!((value - 3.035798).abs() < 1e-5); // PyTorch: 3.0357981
/// ```
#[derive(Module, Debug)]
pub struct AsymmetricLoss<B: Backend> {
    /// The focusing exponent of the positive labels.
    pub gamma_pos: f32,
    /// The focusing exponent of the negative labels.
    pub gamma_neg: f32,
    /// The probability margin of the negative labels.
    pub clip: f32,
    /// The floor of the probabilities inside the logs.
    pub eps: f32,
    /// Whether the focusing weight is a constant of the backward pass.
    pub detach_focal_weight: bool,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> AsymmetricLoss<B> {
    // `Sum` is the reference's value.
    elementwise_forwards!(
        logits,
        targets,
        panics: "If the shapes of `logits` and `targets` differ."
    );

    /// The loss of every element and its closed-form gradient (the targets are constants, as in
    /// the reference).
    fn elementwise<const D: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        check_same_shape(LOSS, "targets", "logits", &logits.dims(), &targets.dims());
        let x = logits.clone().constant();
        let y = targets.constant();
        let one_minus_y = y.clone().neg() + 1.0;
        let logistic = Logistic::new(x);
        let log_eps = f64::from(self.eps).ln();

        // Positive term: log(max(p, eps)) and its derivative (1 - p where p >= eps).
        let log_pos = logistic.log_sigmoid.clone().clamp_min(log_eps);
        let pos_active = logistic.log_sigmoid.clone().greater_equal_elem(log_eps);
        let grad_pos = logistic
            .sigmoid_neg
            .clone()
            .mask_fill(pos_active.bool_not(), 0.0);

        // Negative term: p⁻ = min(1 - p + m, 1), log(max(p⁻, eps)) and its derivative; the
        // shifted probability p_m = 1 - p⁻ = max(p - m, 0); and where the margin is "active"
        // (p⁻ < 1, so p⁻ depends on x).
        let (log_neg, grad_neg, shifted, margin_active) = if self.clip > 0.0 {
            let unclamped = logistic.sigmoid_neg.clone() + f64::from(self.clip);
            let active = unclamped.clone().lower_equal_elem(1.0);
            let p_neg = unclamped.clamp_max(1.0);
            let floor_active = p_neg.clone().greater_equal_elem(self.eps);
            let log_neg = p_neg.clone().clamp_min(self.eps).log();
            // p⁻ >= m > 0: the division is safe.
            let grad_neg = (logistic.derivative() / p_neg)
                .neg()
                .mask_fill(active.clone().bool_and(floor_active).bool_not(), 0.0);
            let shifted = (logistic.sigmoid.clone() - f64::from(self.clip)).clamp_min(0.0);
            (log_neg, grad_neg, shifted, Some(active))
        } else {
            let log_neg = logistic.log_sigmoid_neg.clone().clamp_min(log_eps);
            let floor_active = logistic.log_sigmoid_neg.clone().greater_equal_elem(log_eps);
            let grad_neg = logistic
                .sigmoid
                .clone()
                .neg()
                .mask_fill(floor_active.bool_not(), 0.0);
            (log_neg, grad_neg, logistic.sigmoid.clone(), None)
        };

        let log_likelihood = y.clone() * log_pos + one_minus_y.clone() * log_neg;
        // 1 - p_t = y (1 - p) + (1 - y) p_m, a sum of non-negative terms for y in [0, 1].
        let base = y.clone() * logistic.sigmoid_neg.clone() + one_minus_y.clone() * shifted;
        let base_is_zero = base.clone().equal_elem(0.0);
        let exponent = y.clone().mul_scalar(self.gamma_pos - self.gamma_neg) + self.gamma_neg;
        let focusing = if self.gamma_pos == 0.0 && self.gamma_neg == 0.0 {
            None
        } else {
            // base^exponent through exp/log, with PyTorch's 0^0 = 1 and 0^e = 0 (e > 0).
            let log_base = base.clone().mask_fill(base_is_zero.clone(), 1.0).log();
            let zero = base_is_zero
                .clone()
                .bool_and(exponent.clone().greater_elem(0.0));
            Some((exponent.clone() * log_base).exp().mask_fill(zero, 0.0))
        };
        let weighted = |values: Tensor<B, D>| match &focusing {
            Some(weight) => values * weight.clone(),
            None => values,
        };
        let losses = weighted(log_likelihood.clone()).neg();

        Elementwise::new(losses).gradient(&logits, || {
            let grad_log_likelihood = y.clone() * grad_pos + one_minus_y.clone() * grad_neg;
            let mut gradient = weighted(grad_log_likelihood).neg();
            if let (false, Some(weight)) = (self.detach_focal_weight, &focusing) {
                // ∂w/∂x = e · w / (1 - p_t) · ∂(1 - p_t)/∂x, its limit 0 where 1 - p_t = 0;
                // ∂(1 - p_t)/∂x = p (1 - p) · (-y + (1 - y) · [margin active]).
                let negative_part = match &margin_active {
                    Some(active) => one_minus_y.mask_fill(active.clone().bool_not(), 0.0),
                    None => one_minus_y,
                };
                let base_slope = logistic.derivative() * (negative_part - y);
                let ratio = (weight.clone() / base).mask_fill(base_is_zero, 0.0);
                let weight_slope = exponent * ratio * base_slope;
                gradient = gradient - log_likelihood * weight_slope;
            }
            gradient
        })
    }
}
