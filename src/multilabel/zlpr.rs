//! ZLPR, the multi-label "categorical" cross entropy.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Tensor};

use crate::mechanics::assembly::{Elementwise, reduced_forward};
use crate::mechanics::gradient::Constant;
use crate::mechanics::numerics::log1p;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{any, check_same_shape, fail};

const LOSS: &str = "ZlprLoss";
const CLASS_DIM: usize = 1;

/// Configuration of [`ZlprLoss`] (Su et al., 2022).
#[derive(Config, Debug)]
pub struct ZlprLossConfig {
    /// The reduction applied by `forward`: `Mean` averages the per-sample losses.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Check that every target is 0 or 1 (reads one value back from the device). Turn off
    /// only for throughput, with targets known to be valid; unchecked, a target above 0.5
    /// counts as a positive label.
    #[config(default = true)]
    pub check_targets: bool,
}

impl ZlprLossConfig {
    /// Builds the loss (it has no option that can be invalid).
    pub fn init<B: Backend>(&self, _device: &B::Device) -> ZlprLoss<B> {
        ZlprLoss {
            reduction: self.reduction,
            check_targets: self.check_targets,
            _backend: core::marker::PhantomData,
        }
    }
}

/// ZLPR ("zero-bounded log-sum-exp & pairwise rank-based") loss of Su et al., "ZLPR: A Novel
/// Loss for Multi-label Classification" (2022, arXiv 2208.02955), the multi-label
/// generalisation of softmax cross entropy: with the positive labels `Ω⁺` and the negative
/// labels `Ω⁻` of a sample `s`,
///
/// ```text
/// ℓ = log(1 + Σ_{j ∈ Ω⁻} exp(s_j)) + log(1 + Σ_{i ∈ Ω⁺} exp(-s_i))
/// ∂ℓ/∂s_j = exp(s_j - lse⁻) for j ∈ Ω⁻,    -exp(-s_i - lse⁺) for i ∈ Ω⁺
/// ```
///
/// where `lse⁻`, `lse⁺` are the two terms. It pushes every positive logit above 0 and every
/// negative one below 0 (so the decision threshold is 0, and the number of predicted labels
/// need not be known) without a per-label sigmoid, and it couples the labels of a sample like
/// softmax. Each term is a log-sum-exp that includes the implicit logit 0, so a sample without
/// positive (or without negative) labels has a zero term, and logits of ±1e4 give finite
/// values and gradients.
///
/// Targets are 0/1 labels: no gradient flows to them. `Mean` averages the per-sample losses
/// (as `BatchMean` does); `Sum` adds them.
///
/// # Shapes
/// - logits, targets: `(N, C)`
/// - unreduced output: `(N)`
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = ZlprLossConfig::new().init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 2>::from_floats([[2.0, -1.0, 0.5], [-3.0, 0.0, 4.0]], &device);
/// let targets = Tensor::<NdArray, 2>::from_floats([[1.0, 0.0, 0.0], [1.0, 0.0, 1.0]], &device);
/// let value = loss.forward(logits, targets).into_scalar();
/// assert!((value - 2.486831).abs() < 1e-5); // PyTorch: 2.4868307
/// ```
#[derive(Module, Debug)]
pub struct ZlprLoss<B: Backend> {
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    /// Whether targets are checked to be 0 or 1.
    pub check_targets: bool,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> ZlprLoss<B> {
    reduced_forward! {
        /// The loss reduced with the configured reduction.
        ///
        /// # Panics
        /// If the shapes of `logits` and `targets` differ, or (with `check_targets`) a target is
        /// neither 0 nor 1.
        fn forward(logits: Tensor<B, 2>, targets: Tensor<B, 2>);
    }

    /// The loss of every sample, shape `(N)`.
    ///
    /// # Panics
    /// If the shapes of `logits` and `targets` differ, or (with `check_targets`) a target is
    /// neither 0 nor 1.
    pub fn forward_no_reduction(
        &self,
        logits: Tensor<B, 2>,
        targets: Tensor<B, 2>,
    ) -> Tensor<B, 1> {
        check_same_shape(LOSS, "targets", "logits", &logits.dims(), &targets.dims());
        if self.check_targets {
            check_binary(&targets);
        }
        let x = logits.clone().constant();
        let positive = targets.constant().greater_elem(0.5);
        let negative = positive.clone().bool_not();
        let pull_down = LogOnePlusSumExp::new(x.clone(), negative);
        let push_up = LogOnePlusSumExp::new(x.neg(), positive);
        let losses = pull_down.value() + push_up.value();

        Elementwise::new(losses)
            .gradient(&logits, || {
                pull_down.softmax_weights() - push_up.softmax_weights()
            })
            .unreduced()
            .squeeze_dim(CLASS_DIM)
    }
}

/// `log(1 + Σ_{valid} exp(v))` per row: a log-sum-exp over the valid entries and an implicit
/// 0, as `m + log1p(exp(-m) - 1 + Σ_{valid} exp(v - m))` with `m = max(0, max_valid v)`. The
/// `log1p` keeps small sums (every valid `v` very negative, `m = 0`) exact; `exp(-m) - 1` is
/// exactly 0 there, and otherwise the sum is at least 1.
struct LogOnePlusSumExp<B: Backend> {
    values: Tensor<B, 2>,
    invalid: Tensor<B, 2, Bool>,
    /// `m`, shape `(N, 1)`.
    shift: Tensor<B, 2>,
    /// The value minus `m`, shape `(N, 1)`.
    log_rest: Tensor<B, 2>,
}

impl<B: Backend> LogOnePlusSumExp<B> {
    fn new(values: Tensor<B, 2>, valid: Tensor<B, 2, Bool>) -> Self {
        let invalid = valid.bool_not();
        // Invalid entries filled with 0 cannot change max(0, ...).
        let shift = values
            .clone()
            .mask_fill(invalid.clone(), 0.0)
            .max_dim(CLASS_DIM)
            .clamp_min(0.0);
        let sum = Self::shifted_exp(&values, &shift, &invalid).sum_dim(CLASS_DIM);
        let log_rest = log1p(shift.clone().neg().exp() - 1.0 + sum);
        Self {
            values,
            invalid,
            shift,
            log_rest,
        }
    }

    /// `exp(v - m)` on the valid entries, 0 elsewhere. `exp(min(v - m, 0))` never overflows,
    /// even for an invalid entry far above `m`.
    fn shifted_exp(
        values: &Tensor<B, 2>,
        shift: &Tensor<B, 2>,
        invalid: &Tensor<B, 2, Bool>,
    ) -> Tensor<B, 2> {
        (values.clone() - shift.clone())
            .clamp_max(0.0)
            .exp()
            .mask_fill(invalid.clone(), 0.0)
    }

    /// The per-row value, shape `(N, 1)`.
    fn value(&self) -> Tensor<B, 2> {
        self.shift.clone() + self.log_rest.clone()
    }

    /// Its gradient `exp(v - value)` on the valid entries, 0 elsewhere, with `v - m` (exact at
    /// the largest entry) and `log_rest` kept apart: subtracting the rounded value itself would
    /// cost `|m| · 2^-24` of relative precision (5e-4 at `m = 1e4`).
    fn softmax_weights(&self) -> Tensor<B, 2> {
        (self.values.clone() - self.shift.clone())
            .clamp_max(0.0)
            .sub(self.log_rest.clone())
            .exp()
            .mask_fill(self.invalid.clone(), 0.0)
    }
}

/// Checks that every target is 0 or 1 (NaN fails too).
#[track_caller]
fn check_binary<B: Backend>(targets: &Tensor<B, 2>) {
    let binary = targets
        .clone()
        .equal_elem(0.0)
        .bool_or(targets.clone().equal_elem(1.0));
    if !any(binary.bool_not()) {
        return;
    }
    let bad = targets
        .clone()
        .into_data()
        .iter::<f64>()
        .find(|t| *t != 0.0 && *t != 1.0)
        .expect("a target other than 0 or 1 was detected on the device");
    fail(LOSS, "targets", "values 0 or 1", bad);
}
