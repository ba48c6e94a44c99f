//! The autodiff side of the registry: for `Autodiff<B, C>` over a listed `B`, a tensor's tracking
//! read from its graph node, and closed-form gradients as backward steps of their own: the
//! gradient is stored as it is and multiplied by the upstream gradient in the backward pass (in
//! place where the backend allows, as NdArray does for a uniquely held buffer). The operations
//! are type-erased per entry ([`Operations`]), so an entry added at run time by
//! [`register`](super::register) works like a built-in one. Without the crate's `autodiff`
//! feature there is no `Autodiff` backend, and every answer here is "not here".

use std::any::{Any, TypeId};

use burn::tensor::backend::Backend;
use burn::tensor::{Shape, Tensor, TensorPrimitive};

use super::{Entry, Side, lookup};

/// A carrier from the input's primitive, the gradient's primitive and the reduced shape.
#[cfg(feature = "autodiff")]
type Carry = fn(&dyn Any, Box<dyn Any>, Shape) -> Box<dyn Any>;

/// The autodiff operations of one registry entry, on `Autodiff<B, C>`'s float primitives
/// (`Box<dyn Any>` / `&dyn Any` of them).
#[derive(Clone, Copy)]
pub(crate) struct Operations {
    #[cfg(feature = "autodiff")]
    tracked: fn(&dyn Any) -> bool,
    #[cfg(feature = "autodiff")]
    carry: Carry,
    #[cfg(feature = "autodiff")]
    inner: fn(Box<dyn Any>) -> Box<dyn Any>,
    /// For the kernel families that build their outputs on the inner backend.
    #[cfg(all(feature = "autodiff", feature = "wgpu"))]
    outer: fn(Box<dyn Any>) -> Box<dyn Any>,
}

impl Operations {
    pub(crate) fn of<B: Backend>() -> Self {
        Self {
            #[cfg(feature = "autodiff")]
            tracked: on_graph::tracked::<B>,
            #[cfg(feature = "autodiff")]
            carry: on_graph::carry::<B>,
            #[cfg(feature = "autodiff")]
            inner: on_graph::inner::<B>,
            #[cfg(all(feature = "autodiff", feature = "wgpu"))]
            outer: on_graph::outer::<B>,
        }
    }

    /// Whether the primitive is part of a graph that will be differentiated.
    fn tracked(&self, primitive: &dyn Any) -> bool {
        #[cfg(feature = "autodiff")]
        return (self.tracked)(primitive);
        #[cfg(not(feature = "autodiff"))]
        unreachable!("no autodiff primitive without autodiff: {primitive:?}")
    }

    /// The carrier of [`gradient_carrier`] from the input's and the gradient's primitives.
    fn carry(&self, input: &dyn Any, gradient: Box<dyn Any>, reduced_shape: Shape) -> Box<dyn Any> {
        #[cfg(feature = "autodiff")]
        return (self.carry)(input, gradient, reduced_shape);
        #[cfg(not(feature = "autodiff"))]
        unreachable!(
            "no autodiff primitive without autodiff: {input:?}{gradient:?}{reduced_shape:?}"
        )
    }

    /// The inner backend's primitive of an autodiff primitive.
    fn inner(&self, primitive: Box<dyn Any>) -> Box<dyn Any> {
        #[cfg(feature = "autodiff")]
        return (self.inner)(primitive);
        #[cfg(not(feature = "autodiff"))]
        unreachable!("no autodiff primitive without autodiff: {primitive:?}")
    }

    /// The untracked autodiff primitive of an inner backend's primitive (a kernel's output).
    #[cfg(feature = "wgpu")]
    pub(crate) fn outer(&self, primitive: Box<dyn Any>) -> Box<dyn Any> {
        #[cfg(feature = "autodiff")]
        return (self.outer)(primitive);
        #[cfg(not(feature = "autodiff"))]
        unreachable!("no autodiff primitive without autodiff: {primitive:?}")
    }
}

/// `TypeId` of the float tensor primitive of `Autodiff<B, C>` (the same for every `C`); of `()`
/// without autodiff, which no backend's primitive is.
pub(crate) fn primitive_type<B: Backend>() -> TypeId {
    #[cfg(feature = "autodiff")]
    return TypeId::of::<on_graph::Primitive<B>>();
    #[cfg(not(feature = "autodiff"))]
    TypeId::of::<()>()
}

/// The float primitive of `tensor`, as the registry's operations take it.
fn float_primitive<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> B::FloatTensorPrimitive {
    tensor.into_primitive().tensor()
}

/// Whether `tensor` is part of a graph that will be differentiated; `None` where the backend is
/// not `Autodiff` over a listed one.
pub(crate) fn is_tracked<B: Backend, const D: usize>(tensor: &Tensor<B, D>) -> Option<bool> {
    match lookup::<B>()? {
        (entry, Side::Autodiff) => Some(entry.autodiff.tracked(&float_primitive(tensor.clone()))),
        (_, Side::Plain) => None,
    }
}

/// The registry entry of `tensor`'s backend and the float primitive of the backend it names
/// (unwrapped from `Autodiff`), for a kernel family to downcast; `None` for an unlisted backend.
pub(crate) fn listed_primitive<B: Backend, const D: usize>(
    tensor: &Tensor<B, D>,
) -> Option<(Entry, Box<dyn Any>)> {
    let (entry, side) = lookup::<B>()?;
    let primitive: Box<dyn Any> = Box::new(float_primitive(tensor.clone()));
    Some(match side {
        Side::Plain => (entry, primitive),
        Side::Autodiff => (entry, entry.autodiff.inner(primitive)),
    })
}

/// A zero tensor of shape `reduced_dims` whose gradient with respect to `input` is `gradient`
/// times its upstream gradient broadcast back to `input`'s shape (`reduced_dims` is `input`'s
/// shape with summed dimensions of size 1, or `[1]` for a total sum). Hands `gradient` back
/// where the backend is not `Autodiff` over a listed one.
pub(crate) fn gradient_carrier<B: Backend, const D: usize, const DR: usize>(
    input: &Tensor<B, D>,
    gradient: Tensor<B, D>,
    reduced_dims: [usize; DR],
) -> Result<Tensor<B, DR>, Tensor<B, D>> {
    let Some((entry, Side::Autodiff)) = lookup::<B>() else {
        return Err(gradient);
    };
    let carrier = entry.autodiff.carry(
        &float_primitive(input.clone()),
        Box::new(float_primitive(gradient)),
        Shape::from(reduced_dims.to_vec()),
    );
    let carrier = *carrier
        .downcast::<B::FloatTensorPrimitive>()
        .unwrap_or_else(|_| unreachable!("the entry's own primitive"));
    Ok(Tensor::from_primitive(TensorPrimitive::Float(carrier)))
}

/// The operations on `Autodiff<B>`'s graph, monomorphized per entry.
#[cfg(feature = "autodiff")]
mod on_graph {
    use std::any::Any;

    use burn::backend::Autodiff;
    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, broadcast_shape, unary};
    use burn::tensor::backend::{AutodiffBackend, Backend};
    use burn::tensor::ops::FloatTensor;
    use burn::tensor::{Shape, TensorMetadata};

    /// `Autodiff<B, C>`'s float primitive (one type for every checkpointing strategy).
    pub(super) type Primitive<B> = FloatTensor<Autodiff<B>>;

    fn of<B: Backend>(primitive: &dyn Any) -> &Primitive<B> {
        primitive
            .downcast_ref()
            .unwrap_or_else(|| unreachable!("the entry's own primitive"))
    }

    pub(super) fn tracked<B: Backend>(primitive: &dyn Any) -> bool {
        !of::<B>(primitive).node.requirement.is_none()
    }

    pub(super) fn inner<B: Backend>(primitive: Box<dyn Any>) -> Box<dyn Any> {
        let primitive: Primitive<B> = *primitive
            .downcast()
            .unwrap_or_else(|_| unreachable!("the entry's own primitive"));
        Box::new(<Autodiff<B> as AutodiffBackend>::inner(primitive))
    }

    #[cfg(feature = "wgpu")]
    pub(super) fn outer<B: Backend>(primitive: Box<dyn Any>) -> Box<dyn Any> {
        let primitive: B::FloatTensorPrimitive = *primitive
            .downcast()
            .unwrap_or_else(|_| unreachable!("the entry's inner primitive"));
        Box::new(<Autodiff<B> as AutodiffBackend>::from_inner(primitive))
    }

    pub(super) fn carry<B: Backend>(
        input: &dyn Any,
        gradient: Box<dyn Any>,
        reduced_shape: Shape,
    ) -> Box<dyn Any> {
        let input = of::<B>(input).clone();
        let gradient: Primitive<B> = *gradient
            .downcast()
            .unwrap_or_else(|_| unreachable!("the entry's own primitive"));
        let gradient = <Autodiff<B> as AutodiffBackend>::inner(gradient);
        let input_shape = input.shape();
        // The gradient's own float type: a device's default may differ (NdArray<f32> and
        // NdArray<f64> share the CPU device and its one default).
        let zeros = B::float_zeros(
            reduced_shape,
            &B::float_device(&gradient),
            gradient.dtype().into(),
        );
        // `NoCheckpointing`: the gradient is the state, kept whatever the graph's strategy.
        let carrier: Primitive<B> = match CarriedGradient
            .prepare::<NoCheckpointing>([input.node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((gradient, input_shape), zeros),
            OpsKind::UnTracked(prep) => prep.finish(zeros),
        };
        Box::new(carrier)
    }

    /// The backward step of a carrier: the stored gradient times the upstream gradient, summed
    /// back to the input's shape where the input was broadcast.
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
                let product = super::super::kernels::scale_in_place(gradient, upstream)
                    .unwrap_or_else(|(gradient, upstream)| B::float_mul(gradient, upstream));
                broadcast_shape::<B>(product, &input_shape)
            });
        }
    }
}

#[cfg(all(test, feature = "ndarray"))]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, NdArray};
    use burn::tensor::TensorData;

    type Known = Autodiff<NdArray<f32>>;
    /// Not in the registry: 32-bit integers make it another type.
    type Unknown = Autodiff<NdArray<f32, i32>>;

    fn values<const D: usize>(tensor: Tensor<Known, D>) -> Vec<f32> {
        tensor.into_data().to_vec().expect("f32 values")
    }

    #[test]
    fn tracking_is_read_from_the_graph_on_known_backends_only() {
        let device = Default::default();
        let leaf = Tensor::<Known, 1>::from_floats([1.0, 2.0], &device).require_grad();
        let intermediate = leaf.clone() * 2.0;
        let constant = Tensor::<Known, 1>::from_floats([1.0, 2.0], &device);
        assert_eq!(is_tracked(&leaf), Some(true));
        assert_eq!(is_tracked(&intermediate), Some(true));
        assert_eq!(is_tracked(&(constant.clone() * 2.0)), Some(false));
        assert_eq!(is_tracked(&constant), Some(false));
        let unknown = Tensor::<Unknown, 1>::from_floats([1.0], &device).require_grad();
        assert_eq!(is_tracked(&unknown), None);
        assert!(is_tracked(&Tensor::<NdArray, 1>::from_floats([1.0], &device)).is_none());
    }

    #[test]
    fn a_carrier_is_zero_and_passes_its_gradient_times_the_upstream_one() {
        let device = Default::default();
        let input =
            Tensor::<Known, 2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &device).require_grad();
        let gradient = Tensor::<Known, 2>::from_floats([[0.5, -1.0], [2.0, 0.25]], &device);
        let carrier = gradient_carrier(&input, gradient.clone(), [2, 1])
            .unwrap_or_else(|_| panic!("a known backend"));
        assert_eq!(values(carrier.clone()), [0.0, 0.0]);
        // Per-row upstream gradients 3 and -2, as a weighted sum of the rows passes back.
        let upstream = Tensor::<Known, 2>::from_floats([[3.0], [-2.0]], &device);
        let grads = (carrier * upstream).sum().backward();
        let got = input.grad(&grads).expect("a gradient");
        assert_eq!(
            got.into_data().to_vec::<f32>().unwrap(),
            [1.5, -3.0, -4.0, -0.5]
        );

        let total =
            gradient_carrier(&input, gradient, [1]).unwrap_or_else(|_| panic!("a known backend"));
        let grads = (total * 0.5).backward();
        let got = input.grad(&grads).expect("a gradient");
        assert_eq!(
            got.into_data().to_vec::<f32>().unwrap(),
            [0.25, -0.5, 1.0, 0.125]
        );
    }

    #[test]
    fn a_per_position_upstream_scales_every_class() {
        let device = Default::default();
        let input = Tensor::<Known, 3>::zeros([2, 3, 2], &device).require_grad();
        let gradient = Tensor::<Known, 3>::from_data(
            TensorData::new((1..=12).map(|v| v as f32).collect::<Vec<_>>(), [2, 3, 2]),
            &device,
        );
        let carrier = gradient_carrier(&input, gradient, [2, 1, 2])
            .unwrap_or_else(|_| panic!("a known backend"));
        let upstream = Tensor::<Known, 3>::from_floats([[[1.0, -1.0]], [[2.0, 0.5]]], &device);
        let grads = (carrier * upstream).sum().backward();
        let got = input.grad(&grads).expect("a gradient");
        let expected = [
            1.0, -2.0, 3.0, -4.0, 5.0, -6.0, 14.0, 4.0, 18.0, 5.0, 22.0, 6.0,
        ];
        assert_eq!(got.into_data().to_vec::<f32>().unwrap(), expected);
    }

    #[test]
    fn a_broadcast_input_gets_its_gradient_summed_back() {
        let device = Default::default();
        let input = Tensor::<Known, 2>::from_floats([[1.0]], &device).require_grad();
        let gradient = Tensor::<Known, 2>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]),
            &device,
        );
        let carrier = gradient_carrier(&input, gradient, [2, 2])
            .unwrap_or_else(|_| panic!("a known backend"));
        let grads = carrier.sum().backward();
        let got = input.grad(&grads).expect("a gradient");
        assert_eq!(got.dims(), [1, 1]);
        assert_eq!(got.into_data().to_vec::<f32>().unwrap(), [10.0]);
    }

    #[test]
    fn an_unknown_backend_gets_the_gradient_back() {
        let device = Default::default();
        let input = Tensor::<Unknown, 1>::from_floats([1.0], &device).require_grad();
        let gradient = Tensor::<Unknown, 1>::from_floats([2.0], &device);
        assert!(gradient_carrier(&input, gradient, [1]).is_err());
    }

    #[test]
    fn the_generic_path_treats_a_listed_backend_as_unlisted() {
        let device = Default::default();
        let leaf = Tensor::<Known, 1>::from_floats([1.0, 2.0], &device).require_grad();
        assert_eq!(is_tracked(&leaf), Some(true));
        crate::backends::generic_path(|| {
            assert_eq!(is_tracked(&leaf), None);
            let gradient = Tensor::<Known, 1>::from_floats([2.0, 3.0], &device);
            assert!(gradient_carrier(&leaf, gradient, [1]).is_err());
        });
        assert_eq!(is_tracked(&leaf), Some(true), "restored after the call");
    }

    #[test]
    fn a_registered_backend_gets_the_autodiff_side_with_any_checkpointing() {
        use burn::backend::autodiff::checkpoint::strategy::BalancedCheckpointing;
        // Registered by this test only (other tests use other types).
        type Registered = NdArray<f64, i32>;
        let device = Default::default();
        let leaf = Tensor::<Autodiff<Registered>, 1>::from_floats([1.0], &device).require_grad();
        assert_eq!(is_tracked(&leaf), None);
        crate::backends::register::<Registered>();
        crate::backends::register::<Registered>();
        assert_eq!(is_tracked(&leaf), Some(true));
        let balanced = Tensor::<Autodiff<Registered, BalancedCheckpointing>, 1>::from_floats(
            [1.0, 2.0],
            &device,
        )
        .require_grad();
        let gradient = Tensor::from_floats([0.5, -1.0], &device);
        let carrier = gradient_carrier(&balanced, gradient, [1])
            .unwrap_or_else(|_| panic!("a registered backend"));
        let grads = (carrier * 2.0).backward();
        let got = balanced.grad(&grads).expect("a gradient");
        assert_eq!(
            got.into_data().convert::<f64>().to_vec::<f64>().unwrap(),
            [1.0, -2.0]
        );
    }
}
