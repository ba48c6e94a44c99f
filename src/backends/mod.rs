//! The backend registry: the backends with specialized paths, listed once.
//!
//! Every loss is written once against `B: Backend`, and that generic code runs everywhere. A
//! backend in the registry also gets what Burn's generic tensor API cannot express:
//!
//! - **the autodiff side**, for `Autodiff<B, C>` over a listed `B` with any checkpointing
//!   strategy `C`: whether a tensor is tracked is read from its graph node, so a constant target
//!   gets no gradient computed; and a closed-form gradient is a backward step of its own
//!   (`autodiff`): the stored gradient times the upstream gradient, with no `input · gradient`
//!   product in the forward pass and no host readback;
//! - **kernels**, for the kernel family the entry names (`Kernels`): one-pass NdArray kernels
//!   for cross entropy, NLL and BCE with logits and an in-place blocked sum (`ndarray`), and
//!   CubeCL kernels for class-index cross entropy and BCE with logits on the GPU (`cube`),
//!   with and without autodiff.
//!
//! The losses reach both through the hooks of `kernels` and the carriers of
//! `crate::gradient`, which answer "not here" for an unlisted backend; no loss names a backend
//! or a Cargo feature.
//!
//! # Built in
//!
//! | backend | autodiff side | kernels | Cargo feature |
//! |---|---|---|---|
//! | `NdArray<f32>`, `NdArray<f64>` | yes | NdArray | `ndarray` |
//! | `CubeBackend<WgpuRuntime>` (`Wgpu` without Burn's `fusion`) | yes | CubeCL: cross entropy with class indices, BCE with logits | `wgpu` |
//! | `Wgpu` with Burn's `fusion` (`Fusion<CubeBackend<WgpuRuntime>>`) | yes | none yet | `wgpu` |
//!
//! # Adding a backend
//!
//! An application on another backend (CUDA, Vulkan, a backend of its own) opts in with one call
//! before training, no fork needed:
//!
//! ```
//! # #[cfg(feature = "ndarray")] {
//! // The inner backend: `Autodiff<B>` (any checkpointing strategy) then reads tracking from the
//! // graph and takes closed-form gradients as backward steps of their own.
//! burn_losses::backends::register::<burn::backend::NdArray<f32, i32>>();
//! # }
//! ```
//!
//! A new kernel family joins inside the crate, the way Liger-Kernel adds a hardware backend:
//!
//! 1. a leaf module beside `ndarray` that computes a loss's `kernels` output (losses,
//!    gradients) from the inputs' buffers, reached through an access function that asks
//!    `lookup` whether the tensor's backend names that family;
//! 2. a variant of `Kernels`, and the family's backends added to `built_in` with it;
//! 3. a call in each hook of `kernels` it implements, after the families before it;
//! 4. a test that replays the PyTorch fixtures on it and compares it with the generic path
//!    ([`generic_path`]) at awkward sizes, as `tests/specialized.rs` does for NdArray.
//!
//! # The generic path
//!
//! [`generic_path`] runs code as if no backend were listed: the suite replays every fixture that
//! way, and the benchmarks measure it. There, every float input of an autodiff backend gets its
//! closed-form gradient computed (Burn's public API cannot tell a tracked intermediate from an
//! untracked tensor), and the gradient is attached as `reduce(input · gradient)` minus its own
//! value, whose gradient with respect to `input` is `gradient`; no value is read back from the
//! device.

// Which kernels and autodiff operations are reachable depends on the crate's features; with one
// of `ndarray` or `autodiff` off, part of the registry's machinery has no caller.
#![cfg_attr(not(all(feature = "ndarray", feature = "autodiff")), allow(dead_code))]

pub(crate) mod autodiff;
#[cfg(feature = "wgpu")]
pub(crate) mod cube;
pub(crate) mod kernels;
#[cfg(feature = "ndarray")]
pub(crate) mod ndarray;

use std::any::{Any, TypeId};
use std::cell::Cell;
use std::sync::{LazyLock, RwLock};

use burn::tensor::backend::Backend;

/// The kernel family of a backend in the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kernels {
    /// No kernels: the generic tensor operations, with the autodiff side.
    None,
    /// The one-pass CPU kernels of [`ndarray`] (the backend's tensors are `NdArrayTensor`s).
    #[cfg(feature = "ndarray")]
    NdArray,
    /// The CubeCL kernels of [`cube`] (the backend's tensors are `CubeTensor`s of a runtime it
    /// lists).
    #[cfg(feature = "wgpu")]
    Cube,
}

/// One backend of the registry: its type, the type of its tensors under `Autodiff`, and the
/// autodiff operations written for it (type-erased, so users can add entries at run time).
#[derive(Clone, Copy)]
pub(crate) struct Entry {
    /// `TypeId` of the backend `B` itself.
    backend: TypeId,
    /// `TypeId` of `Autodiff<B, C>`'s float tensor primitive, the same for every `C`.
    autodiff_primitive: TypeId,
    pub(crate) kernels: Kernels,
    pub(crate) autodiff: autodiff::Operations,
}

impl Entry {
    fn of<B: Backend>(kernels: Kernels) -> Self {
        Self {
            backend: TypeId::of::<B>(),
            autodiff_primitive: autodiff::primitive_type::<B>(),
            kernels,
            autodiff: autodiff::Operations::of::<B>(),
        }
    }
}

/// How a tensor's backend relates to the registry entry it matched.
#[derive(Clone, Copy)]
pub(crate) enum Side {
    /// The backend itself.
    Plain,
    /// `Autodiff` over it.
    Autodiff,
}

/// The backends built with this crate's features.
fn built_in() -> Vec<Entry> {
    #[allow(unused_mut)]
    let mut entries = Vec::new();
    #[cfg(feature = "ndarray")]
    {
        entries.push(Entry::of::<burn::backend::NdArray<f32>>(Kernels::NdArray));
        entries.push(Entry::of::<burn::backend::NdArray<f64>>(Kernels::NdArray));
    }
    // `Wgpu` is `Fusion<CubeBackend<..>>` wherever Burn's `fusion` feature is on (burn-wgpu's
    // default, so in most applications through feature unification), the `CubeBackend` itself
    // otherwise; both are listed so the path does not depend on that feature.
    #[cfg(feature = "wgpu")]
    {
        use burn::backend::wgpu::{CubeBackend, WgpuRuntime};
        entries.push(Entry::of::<CubeBackend<WgpuRuntime, f32, i32, u32>>(
            Kernels::Cube,
        ));
        // Without Burn's `fusion`, the same type as the entry above (the first match wins).
        entries.push(Entry::of::<burn::backend::Wgpu>(Kernels::None));
    }
    entries
}

static REGISTRY: LazyLock<RwLock<Vec<Entry>>> = LazyLock::new(|| RwLock::new(built_in()));

thread_local! {
    /// Set by [`generic_path`] on its thread.
    static GENERIC_ONLY: Cell<bool> = const { Cell::new(false) };
}

/// Adds backend `B` to the registry (once; a second call changes nothing), so that
/// `Autodiff<B, C>` reads tracking from the graph and takes closed-form gradients as backward
/// steps of their own, as the built-in backends do. `B` gets no kernels: they come with the
/// crate's kernel families.
pub fn register<B: Backend>() {
    let mut entries = REGISTRY
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !entries
        .iter()
        .any(|entry| entry.backend == TypeId::of::<B>())
    {
        entries.push(Entry::of::<B>(Kernels::None));
    }
}

/// Runs `f` with every backend treated as unlisted: the generic tensor operations and the
/// generic gradient attachment, on this thread (loss calls inside `f`; a backward pass later
/// runs what those calls built). For tests and comparisons: the results agree with the
/// specialized paths within floating-point rounding.
pub fn generic_path<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            GENERIC_ONLY.with(|generic| generic.set(self.0));
        }
    }
    let _restore = Restore(GENERIC_ONLY.with(|generic| generic.replace(true)));
    f()
}

/// The registry entry of backend `B`, and whether `B` is that backend or `Autodiff` over it;
/// `None` for an unlisted backend, and inside [`generic_path`].
pub(crate) fn lookup<B: Backend>() -> Option<(Entry, Side)> {
    if GENERIC_ONLY.with(Cell::get) {
        return None;
    }
    let backend = TypeId::of::<B>();
    let primitive = TypeId::of::<B::FloatTensorPrimitive>();
    let entries = REGISTRY
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    entries.iter().find_map(|entry| {
        if entry.backend == backend {
            Some((*entry, Side::Plain))
        } else if entry.autodiff_primitive == primitive {
            Some((*entry, Side::Autodiff))
        } else {
            None
        }
    })
}

/// `value` as a `U` when `T` and `U` are the same type, and back unchanged otherwise.
pub(crate) fn downcast<T: 'static, U: 'static>(value: T) -> Result<U, T> {
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
