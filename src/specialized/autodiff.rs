//! Closed-form gradients as backward steps of their own on `Autodiff<B>` for the inner backends
//! of [`on_known_autodiff`]: the gradient is stored as it is and multiplied by the upstream
//! gradient in the backward pass (in place where the backend allows, as NdArray does for a
//! uniquely held buffer), and a tensor's tracking is read from its graph node.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, broadcast_shape, unary};
use burn::tensor::backend::Backend;
use burn::tensor::{Shape, Tensor, TensorMetadata, TensorPrimitive};

use super::same_type;

/// Something to do on `Autodiff<IB>` for a concrete inner backend `IB`; handed back unchanged
/// when the loss's backend is not `Autodiff<IB>`.
pub(crate) trait AutodiffVisitor: Sized {
    type Output;
    fn visit<IB: Backend>(self) -> Result<Self::Output, Self>;
}

/// Runs `visitor` on the first known `Autodiff<IB>` that is the loss's backend. The list is the
/// backends this crate builds with (Burn's default `NoCheckpointing` strategy only).
pub(crate) fn on_known_autodiff<V: AutodiffVisitor>(visitor: V) -> Result<V::Output, V> {
    #[cfg(feature = "ndarray")]
    let visitor = match visitor.visit::<burn::backend::NdArray<f32>>() {
        Ok(output) => return Ok(output),
        Err(visitor) => visitor,
    };
    #[cfg(feature = "ndarray")]
    let visitor = match visitor.visit::<burn::backend::NdArray<f64>>() {
        Ok(output) => return Ok(output),
        Err(visitor) => visitor,
    };
    #[cfg(feature = "wgpu")]
    let visitor = match visitor.visit::<burn::backend::Wgpu>() {
        Ok(output) => return Ok(output),
        Err(visitor) => visitor,
    };
    Err(visitor)
}

/// Whether `tensor` is part of a graph that will be differentiated; `None` on a backend this
/// module does not know.
pub(crate) fn is_tracked<B: Backend, const D: usize>(tensor: &Tensor<B, D>) -> Option<bool> {
    struct Tracked<'a, B: Backend, const D: usize>(&'a Tensor<B, D>);

    impl<B: Backend, const D: usize> AutodiffVisitor for Tracked<'_, B, D> {
        type Output = bool;
        fn visit<IB: Backend>(self) -> Result<bool, Self> {
            let tensor: &dyn std::any::Any = self.0;
            match tensor.downcast_ref::<Tensor<Autodiff<IB>, D>>() {
                Some(tensor) => {
                    let node = tensor.clone().into_primitive().tensor().node;
                    Ok(!node.requirement.is_none())
                }
                None => Err(self),
            }
        }
    }

    on_known_autodiff(Tracked(tensor)).ok()
}

/// A zero tensor of shape `reduced_dims` whose gradient with respect to `input` is `gradient`
/// times its upstream gradient broadcast back to `input`'s shape (`reduced_dims` is `input`'s
/// shape with summed dimensions of size 1, or `[1]` for a total sum). Hands `gradient` back on a
/// backend this module does not know.
pub(crate) fn gradient_carrier<B: Backend, const D: usize, const DR: usize>(
    input: &Tensor<B, D>,
    gradient: Tensor<B, D>,
    reduced_dims: [usize; DR],
) -> Result<Tensor<B, DR>, Tensor<B, D>> {
    struct Carrier<'a, B: Backend, const D: usize, const DR: usize> {
        input: &'a Tensor<B, D>,
        gradient: Tensor<B, D>,
        reduced_dims: [usize; DR],
    }

    impl<B: Backend, const D: usize, const DR: usize> AutodiffVisitor for Carrier<'_, B, D, DR> {
        type Output = Tensor<B, DR>;
        fn visit<IB: Backend>(self) -> Result<Tensor<B, DR>, Self> {
            let input: &dyn std::any::Any = self.input;
            let Some(input) = input.downcast_ref::<Tensor<Autodiff<IB>, D>>() else {
                return Err(self);
            };
            let gradient: Tensor<Autodiff<IB>, D> = same_type(self.gradient);
            Ok(same_type(carry(input, gradient, self.reduced_dims)))
        }
    }

    on_known_autodiff(Carrier {
        input,
        gradient,
        reduced_dims,
    })
    .map_err(|carrier| carrier.gradient)
}

/// The backward step of [`gradient_carrier`]: the stored gradient times the upstream gradient,
/// summed back to the input's shape where the input was broadcast.
#[derive(Debug)]
struct CarriedGradient;

impl<B: Backend> Backward<B, 1> for CarriedGradient {
    /// The gradient, and the input's shape.
    type State = (B::FloatTensorPrimitive, Shape);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let (gradient, input_shape) = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |upstream| {
            // A total sum's `[1]` upstream gradient is viewed as `[1, ..., 1]` to broadcast.
            let rank = gradient.rank();
            let upstream = if upstream.rank() == rank {
                upstream
            } else {
                B::float_reshape(upstream, Shape::from(vec![1; rank]))
            };
            #[cfg(feature = "ndarray")]
            let product = super::ndarray::scale_in_place(gradient, upstream)
                .unwrap_or_else(|(gradient, upstream)| B::float_mul(gradient, upstream));
            #[cfg(not(feature = "ndarray"))]
            let product = B::float_mul(gradient, upstream);
            broadcast_shape::<B>(product, &input_shape)
        });
    }
}

fn carry<IB: Backend, const D: usize, const DR: usize>(
    input: &Tensor<Autodiff<IB>, D>,
    gradient: Tensor<Autodiff<IB>, D>,
    reduced_dims: [usize; DR],
) -> Tensor<Autodiff<IB>, DR> {
    let input = input.clone().into_primitive().tensor();
    let input_shape = input.shape();
    let gradient = gradient.inner().into_primitive().tensor();
    // The gradient's own float type: a device's default may differ (NdArray<f32> and
    // NdArray<f64> share the CPU device and its one default).
    let zeros = IB::float_zeros(
        Shape::from(reduced_dims.to_vec()),
        &IB::float_device(&gradient),
        gradient.dtype().into(),
    );
    let output = match CarriedGradient
        .prepare::<NoCheckpointing>([input.node])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish((gradient, input_shape), zeros),
        OpsKind::UnTracked(prep) => prep.finish(zeros),
    };
    Tensor::from_primitive(TensorPrimitive::Float(output))
}
