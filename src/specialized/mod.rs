//! Paths for the backends this crate knows by name.
//!
//! Every loss is written once against `B: Backend`, and that generic code runs everywhere. Where
//! `B` is, at run time, one of the backends named here (a `TypeId` comparison through [`Any`]),
//! a loss also takes a path Burn's generic tensor API cannot express:
//!
//! - [`autodiff`]: on `Autodiff<NdArray>` and `Autodiff<Wgpu>`, a closed-form gradient is a
//!   backward step of its own (no `sum(input · gradient)` product, no ones tensor in its backward
//!   pass), and whether a tensor is tracked is read from its graph node, so a constant target
//!   gets no gradient computed.
//! - [`cross_entropy`], [`nll`], [`binary_cross_entropy_with_logits`]: one-pass kernels over the
//!   buffers of NdArray tensors (with or without autodiff), in f32 and f64.
//!
//! On any other backend the loss takes the generic path. The parity suite replays every fixture
//! on both (`tests/common`'s `generic` backend has no specialized path), and
//! `tests/specialized.rs` compares the kernels with the generic code directly.

#[cfg(feature = "autodiff")]
pub(crate) mod autodiff;
#[cfg(feature = "ndarray")]
pub(crate) mod binary_cross_entropy_with_logits;
#[cfg(feature = "ndarray")]
pub(crate) mod cross_entropy;
#[cfg(feature = "ndarray")]
pub(crate) mod ndarray;
#[cfg(feature = "ndarray")]
pub(crate) mod nll;

use std::any::Any;

/// `value` as a `U` when `T` and `U` are the same type, and back unchanged otherwise.
fn downcast<T: 'static, U: 'static>(value: T) -> Result<U, T> {
    let mut slot = Some(value);
    match (&mut slot as &mut dyn Any).downcast_mut::<Option<U>>() {
        Some(same) => Ok(same.take().expect("the slot was just filled")),
        None => Err(slot.expect("a failed downcast leaves the slot alone")),
    }
}

/// [`downcast`] where the types are known to agree (the same backend as a value matched
/// already, or a rank checked at run time).
pub(crate) fn same_type<T: 'static, U: 'static>(value: T) -> U {
    downcast(value).unwrap_or_else(|_| unreachable!("the backend was matched already"))
}
