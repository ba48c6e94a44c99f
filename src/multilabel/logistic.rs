//! The logistic function and its logarithm, both ways round, from one `exp(-|x|)`.

use crate::mechanics::numerics::log1p;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// `σ(x)`, `σ(-x) = 1 - σ(x)`, `log σ(x)` and `log σ(-x)` of detached logits, each computed
/// without cancellation or overflow in the tensor's own precision: finite for every finite `x`
/// (±1e4 included), with `σ(±1e4)` exactly 1 or 0 and both logs exact there.
///
/// Burn's `sigmoid` activation is not used: its default implementation goes through `f32` and
/// `exp(-x)`, which overflows for large negative logits.
pub(crate) struct Logistic<B: Backend, const D: usize> {
    /// `σ(x)`.
    pub sigmoid: Tensor<B, D>,
    /// `σ(-x)`, computed directly rather than as `1 - σ(x)`.
    pub sigmoid_neg: Tensor<B, D>,
    /// `log σ(x) = min(x, 0) - log1p(exp(-|x|))`.
    pub log_sigmoid: Tensor<B, D>,
    /// `log σ(-x) = min(-x, 0) - log1p(exp(-|x|))`.
    pub log_sigmoid_neg: Tensor<B, D>,
    /// `log1p(exp(-|x|))`.
    log1p_small_exp: Tensor<B, D>,
}

impl<B: Backend, const D: usize> Logistic<B, D> {
    pub fn new(x: Tensor<B, D>) -> Self {
        let small_exp = x.clone().abs().neg().exp(); // exp(-|x|), in (0, 1]
        let log1p_small = log1p(small_exp.clone());
        let large = (small_exp.clone() + 1.0).recip(); // σ(|x|)
        let small = small_exp * large.clone(); // σ(-|x|)
        let non_negative = x.clone().greater_equal_elem(0.0);
        Self {
            sigmoid: small
                .clone()
                .mask_where(non_negative.clone(), large.clone()),
            sigmoid_neg: large.mask_where(non_negative, small),
            log_sigmoid: x.clone().clamp_max(0.0) - log1p_small.clone(),
            log_sigmoid_neg: x.neg().clamp_max(0.0) - log1p_small.clone(),
            log1p_small_exp: log1p_small,
        }
    }

    /// Binary cross entropy with logits `(1 - y) · x - log σ(x)` of the same logits `x`, as
    /// `x (1 - y)` (for `x >= 0`) or `-x y` (for `x < 0`) plus `log1p(exp(-|x|))`: two
    /// non-negative terms for `y` in `[0, 1]`, so there is no cancellation even where the loss
    /// is tiny (`x = -20, y = 0` gives `2.1e-9`, where the textbook form loses every digit in
    /// `f32`).
    pub fn binary_cross_entropy(&self, x: Tensor<B, D>, y: Tensor<B, D>) -> Tensor<B, D> {
        let negative = x.clone().lower_elem(0.0);
        let linear = (x.clone() * (y.clone().neg() + 1.0)).mask_where(negative, -x * y);
        linear + self.log1p_small_exp.clone()
    }

    /// `σ(x) · σ(-x)`, the derivative of `σ(x)`.
    pub fn derivative(&self) -> Tensor<B, D> {
        self.sigmoid.clone() * self.sigmoid_neg.clone()
    }
}

/// `base^exponent` for a non-negative base with PyTorch's `pow` conventions at a zero base
/// (`0^0 = 1`, `0^e = 0` for `e > 0`), which do not depend on the backend's `pow`: WGSL, for
/// one, leaves `pow(0, e)` undefined.
pub(crate) fn pow_non_negative<B: Backend, const D: usize>(
    base: Tensor<B, D>,
    exponent: f32,
) -> Tensor<B, D> {
    if exponent == 0.0 {
        return base.ones_like();
    }
    if exponent == 1.0 {
        return base;
    }
    let zero = base.clone().equal_elem(0.0);
    base.powf_scalar(exponent).mask_fill(zero, 0.0)
}
