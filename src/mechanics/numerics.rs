//! Elementary functions accurate on every backend.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Tensor};

/// `log(1 + x)`, accurate for tiny `x` on every backend.
///
/// Some backends lower `log1p` to `log(1 + x)` (wgpu's WGSL compiler does), which returns 0 for
/// `|x|` below f32's epsilon: the `log1p(exp(-|x|))` of a stable log-sigmoid then loses every
/// digit beyond logits of about ±17, and BCE's `log1p(-p)` loses small probabilities. Whether the
/// backend's own `log1p` is accurate is measured once per backend type; where it is not, Kahan's
/// form `log(u) · x / (u - 1)` with `u = 1 + x` (exactly `x` where `u` rounds to 1) is used.
pub(crate) fn log1p<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    if native_log1p_is_accurate::<B>(&x.device()) {
        return x.log1p();
    }
    let u = x.clone() + 1.0;
    let u_minus_one = u.clone() - 1.0;
    let rounds_to_one = u_minus_one.clone().equal_elem(0.0);
    let kahan = u.log() * x.clone() / u_minus_one;
    kahan.mask_where(rounds_to_one, x)
}

fn native_log1p_is_accurate<B: Backend>(device: &B::Device) -> bool {
    static MEASURED: OnceLock<Mutex<HashMap<TypeId, bool>>> = OnceLock::new();
    let measured = MEASURED.get_or_init(Default::default);
    let key = TypeId::of::<B>();
    if let Some(accurate) = measured.lock().expect("log1p cache").get(&key) {
        return *accurate;
    }
    let tiny = 1e-10;
    let value: f64 = Tensor::<B, 1>::from_floats([tiny as f32], device)
        .log1p()
        .into_scalar()
        .elem();
    let accurate = (value - tiny).abs() <= 1e-6 * tiny;
    measured.lock().expect("log1p cache").insert(key, accurate);
    accurate
}
/// `values` with their infinite and NaN entries set to 0 (and no gradient through them). Used for
/// gradients with respect to targets, which PyTorch leaves infinite at probabilities of exactly
/// 0 or 1 (BCE) or NaN at a zero target probability (KL): a non-finite entry would otherwise
/// reach the upstream gradient through the product rule and turn the backward pass into NaN.
/// Always applied (a few element-wise passes): deciding first whether anything needs it would
/// read a value back from the device.
pub(crate) fn finite_or_zero<B: Backend, const D: usize>(values: Tensor<B, D>) -> Tensor<B, D> {
    let non_finite = values.clone().is_finite().bool_not();
    values.mask_fill(non_finite, 0.0)
}

/// `max(0, z)` exactly as PyTorch's `clamp_min(z, 0)`: the gradient passes only where `z > 0`,
/// so it is 0 at the hinge point `z == 0` (Burn's `clamp_min` passes it there) and at NaN, and
/// NaN propagates to the value on every backend.
pub(crate) fn hinge<B: Backend, const D: usize>(z: Tensor<B, D>) -> Tensor<B, D> {
    let inactive = z.clone().lower_equal_elem(0.0);
    let nan = z.clone().is_nan();
    z.mask_fill(inactive, 0.0).mask_fill(nan, f32::NAN)
}
