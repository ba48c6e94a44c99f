//! The CubeCL kernel family: kernels written once in CubeCL and launched on the
//! `CubeTensor<R>` behind a `Tensor<B, D>` when the registry lists `B` (or `Autodiff`'s inner
//! backend) with [`Kernels::Cube`] (class-index cross entropy, BCE with logits): today `CubeBackend` over the wgpu runtime (Burn's `Wgpu`
//! without its `fusion` feature). A kernel reads its inputs where they lie on the device and
//! writes its outputs there: nothing is read back to the host.
//!
//! Every kernel computes in `f32` whatever the tensors' float type, and writes its outputs in
//! the input's type.

pub(crate) mod binary_cross_entropy_with_logits;
pub(crate) mod cross_entropy;

use burn::backend::wgpu::WgpuRuntime;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorPrimitive};
use burn_cubecl::CubeRuntime;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

use super::autodiff::listed_primitive;
use super::{Entry, Kernels, Side, downcast, lookup, same_type};

/// Threads of one cube that reduces a row: a power of two (the tree reductions halve it), at
/// most 256 (every Vulkan device takes that many) and no more than the row needs.
pub(crate) fn cube_size_for(row_len: usize) -> u32 {
    row_len.next_power_of_two().clamp(1, 256) as u32
}

/// Cubes per dimension of a launch: Vulkan and CUDA take at least this many in `y`, and this is
/// Vulkan's guaranteed limit in `x`.
const MAX_CUBES_PER_DIM: usize = 65_535;

/// `cubes` cubes (one per row, or per block of elements) laid out in `x` then `y` (more than
/// 65535 need the second dimension); a kernel finds its cube as
/// `CUBE_POS_Y * CUBE_COUNT_X + CUBE_POS_X` and skips the cubes past the last.
pub(crate) fn cube_count_for(cubes: usize) -> CubeCount {
    let x = cubes.clamp(1, MAX_CUBES_PER_DIM);
    let y = cubes.div_ceil(x).max(1);
    CubeCount::Static(x as u32, y as u32, 1)
}

/// A float tensor's backend matched to the registry, and its buffer on the device.
pub(crate) struct Listed<R: CubeRuntime> {
    entry: Entry,
    side: Side,
    pub tensor: CubeTensor<R>,
}

impl<R: CubeRuntime> Listed<R> {
    /// A contiguous output of `shape` in the input's float type, on its device.
    pub fn output(&self, shape: &[usize]) -> CubeTensor<R> {
        empty_device_contiguous_dtype(
            self.tensor.client.clone(),
            self.tensor.device.clone(),
            shape.to_vec().into(),
            self.tensor.dtype,
        )
    }

    /// `tensor` as a `Tensor<B, D>` of the backend the input came from (wrapped for `Autodiff`
    /// as an untracked tensor).
    pub fn to_tensor<B: Backend, const D: usize>(&self, tensor: CubeTensor<R>) -> Tensor<B, D> {
        let primitive: B::FloatTensorPrimitive = match self.side {
            Side::Plain => same_type(tensor),
            Side::Autodiff => *self
                .entry
                .autodiff
                .outer(Box::new(tensor))
                .downcast()
                .unwrap_or_else(|_| unreachable!("the entry's own primitive")),
        };
        Tensor::from_primitive(TensorPrimitive::Float(primitive))
    }

    /// The contiguous device buffer of another float tensor of the input's backend.
    pub fn float<B: Backend, const D: usize>(&self, tensor: &Tensor<B, D>) -> CubeTensor<R> {
        let (_, primitive) = listed_primitive(tensor)
            .unwrap_or_else(|| unreachable!("the backend was matched already"));
        into_contiguous(
            *primitive
                .downcast()
                .unwrap_or_else(|_| unreachable!("the backend was matched already")),
        )
    }

    /// The contiguous device buffer of an integer tensor of the input's backend (an autodiff
    /// backend's integer tensors are its inner backend's).
    pub fn int<B: Backend, const D: usize>(&self, tensor: &Tensor<B, D, Int>) -> CubeTensor<R> {
        into_contiguous(
            downcast(tensor.clone().into_primitive())
                .unwrap_or_else(|_| unreachable!("the backend was matched already")),
        )
    }
}

/// The contiguous device buffer of a float tensor whose backend the registry lists with the
/// CubeCL kernels over runtime `R`; `None` otherwise.
pub(crate) fn listed<R: CubeRuntime, B: Backend, const D: usize>(
    tensor: &Tensor<B, D>,
) -> Option<Listed<R>> {
    let (entry, side) = lookup::<B>()?;
    if entry.kernels != Kernels::Cube {
        return None;
    }
    let (_, primitive) = listed_primitive(tensor)?;
    let primitive: Box<CubeTensor<R>> = primitive.downcast().ok()?;
    Some(Listed {
        entry,
        side,
        tensor: into_contiguous(*primitive),
    })
}

/// Runs `kernel` on the runtimes of the family, the first whose tensors `tensor`'s are.
pub(crate) fn on_runtimes<B: Backend, const D: usize, T>(
    tensor: &Tensor<B, D>,
    kernel: impl RuntimeKernel<Output = T>,
) -> Option<T> {
    let wgpu = listed::<WgpuRuntime, B, D>(tensor)?;
    Some(kernel.run(wgpu))
}

/// A kernel launched on the buffer of a tensor on some CubeCL runtime.
pub(crate) trait RuntimeKernel {
    type Output;
    fn run<R: CubeRuntime>(self, input: Listed<R>) -> Self::Output;
}
