//! Indexed reads that stay right on every backend, Burn's fusion backends included.
//!
//! Burn 0.21's fusion (`burn-cubecl-fusion`, on by default for wgpu and CUDA) compiles `gather`
//! and `select` into the element-wise kernel of the operations queued around them. When that
//! kernel also writes a wider tensor (a softmax `[N, C]` beside a gathered `[N, 1]`), the kernel
//! runs several elements per thread and the gather reads one index per lane instead of one per
//! output: row `r` takes the class of row `r + 1`, the last row reads past its index buffer
//! (`gather` in `burn-cubecl-fusion`'s `engine/codegen/kernel.rs`; `select` takes its index
//! coordinate from the kernel's reference shape). The value comes out silently wrong. Burn's
//! `gather_nd` is never fused: it runs as a kernel of its own on every backend, and what it
//! writes is read back through the ordinary broadcasting reads. README's "Known issues" has the
//! reproduction; `tests/fusion.rs` keeps it.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

/// `tensor.gather(dim, indices)`: the output has `indices`' shape, and its entry at
/// `(i_0, ..., i_{D-1})` is `tensor` at the same coordinates with `indices[i_0, ..., i_{D-1}]`
/// along `dim`. `indices` has `tensor`'s size in every other dimension.
///
/// Computed with `gather_nd` on a `[outer, size(dim), inner]` view, from `[P, 3]` coordinates
/// (`P` = the number of indices): O(P) extra integers, no pass over `tensor`.
pub(crate) fn gather<B: Backend, const D: usize>(
    tensor: Tensor<B, D>,
    dim: usize,
    indices: Tensor<B, D, Int>,
) -> Tensor<B, D> {
    let dims = tensor.dims();
    let index_dims = indices.dims();
    let outer: usize = dims[..dim].iter().product();
    let inner: usize = dims[dim + 1..].iter().product();
    let picked_per_line = index_dims[dim];
    let positions = outer * picked_per_line * inner;
    let device = tensor.device();
    if positions == 0 {
        // `gather_nd` rejects an empty index tensor; there is nothing to read.
        return Tensor::zeros(index_dims, (&device, tensor.dtype()));
    }
    let position = Tensor::<B, 1, Int>::arange(0..positions as i64, &device);
    let outer_coordinate = position
        .clone()
        .div_scalar((picked_per_line * inner) as i64);
    let inner_coordinate = position.remainder_scalar(inner as i64);
    let coordinates = Tensor::stack::<2>(
        vec![
            outer_coordinate,
            indices.reshape([positions]),
            inner_coordinate,
        ],
        1,
    );
    tensor
        .reshape([outer, dims[dim], inner])
        .gather_nd::<2, 1>(coordinates)
        .reshape(index_dims)
}

#[cfg(all(test, feature = "ndarray"))]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::tensor::TensorData;

    type B = NdArray;

    #[test]
    fn gathers_like_burns_gather_along_every_dimension() {
        let device = Default::default();
        let values: Vec<f32> = (0..60).map(|v| v as f32 * 0.5 - 7.0).collect();
        let tensor = Tensor::<B, 3>::from_data(TensorData::new(values, [3, 4, 5]), &device);
        for (dim, index_dims) in [
            (0, [2, 4, 5]),
            (1, [3, 1, 5]),
            (1, [3, 6, 5]),
            (2, [3, 4, 2]),
        ] {
            let count: usize = index_dims.iter().product();
            let size = tensor.dims()[dim] as i64;
            let picked: Vec<i64> = (0..count as i64).map(|i| (i * 7 + 3) % size).collect();
            let indices =
                Tensor::<B, 3, Int>::from_data(TensorData::new(picked, index_dims), &device);
            let expected = tensor.clone().gather(dim, indices.clone()).into_data();
            let got = gather(tensor.clone(), dim, indices).into_data();
            assert_eq!(got, expected, "dim {dim}, indices {index_dims:?}");
        }
    }

    #[test]
    fn gathers_from_a_transposed_view() {
        // A (N, C, L) view of a (N, L, C) model output, as sequence models pass to a loss.
        let device = Default::default();
        let values: Vec<f32> = (0..24).map(|v| v as f32).collect();
        let tensor =
            Tensor::<B, 3>::from_data(TensorData::new(values, [2, 3, 4]), &device).swap_dims(1, 2);
        let indices = Tensor::<B, 3, Int>::from_data(
            TensorData::new(vec![0i64, 3, 1, 2, 3, 0], [2, 1, 3]),
            &device,
        );
        let expected = tensor.clone().gather(1, indices.clone()).into_data();
        assert_eq!(gather(tensor, 1, indices).into_data(), expected);
    }

    #[test]
    fn gathers_nothing_from_an_empty_batch() {
        let device = Default::default();
        let tensor = Tensor::<B, 2>::zeros([0, 4], &device);
        let indices = Tensor::<B, 2, Int>::zeros([0, 1], &device);
        assert_eq!(gather(tensor, 1, indices).dims(), [0, 1]);
    }

    #[test]
    fn gathers_from_a_vector() {
        let device = Default::default();
        let weights = Tensor::<B, 1>::from_floats([0.5, 2.0, 3.0], &device);
        let indices = Tensor::<B, 1, Int>::from_ints([2, 0, 0, 1], &device);
        let got: Vec<f32> = gather(weights, 0, indices).into_data().to_vec().unwrap();
        assert_eq!(got, [3.0, 0.5, 0.5, 2.0]);
    }
}
