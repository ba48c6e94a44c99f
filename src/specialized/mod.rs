//! Paths for the backends this crate knows by name.
//!
//! Every loss is written once against `B: Backend`, and that generic code runs everywhere. Burn's
//! generic tensor API cannot express two things a loss needs to be lean: a backward step of its
//! own (so a closed-form gradient is handed to the autodiff graph as it is, without the
//! `sum(input · gradient)` product and the ones tensor of its backward pass), and whether an
//! intermediate tensor is tracked at all (so a loss does not compute the gradient of a target
//! nobody differentiates). Where `B` is, at run time, one of the backends listed in
//! [`on_known_autodiff`] (a `TypeId` comparison through [`Any`]), the loss takes the path below;
//! on any other backend it takes the generic one. The parity suite replays every fixture on both
//! (`tests/common`'s `generic` backend has no specialized path).

#[cfg(feature = "autodiff")]
pub(crate) mod autodiff;
#[cfg(feature = "ndarray")]
pub(crate) mod binary_cross_entropy_with_logits;
#[cfg(feature = "ndarray")]
pub(crate) mod cross_entropy;
#[cfg(feature = "ndarray")]
mod ndarray;
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
