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
    // `Wgpu` is `Fusion<CubeBackend<..>>` wherever Burn's `fusion` feature is on (burn-wgpu's
    // default, so in most applications through feature unification), the `CubeBackend` itself
    // otherwise; both are listed so the path does not depend on that feature.
    #[cfg(feature = "wgpu")]
    let visitor = match visitor.visit::<burn::backend::Wgpu>() {
        Ok(output) => return Ok(output),
        Err(visitor) => visitor,
    };
    #[cfg(feature = "wgpu")]
    let visitor = match visitor.visit::<burn::backend::wgpu::CubeBackend<
        burn::backend::wgpu::WgpuRuntime,
        f32,
        i32,
        u32,
    >>() {
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

#[cfg(all(test, feature = "ndarray"))]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::tensor::TensorData;

    type Known = Autodiff<NdArray<f32>>;
    /// Not in [`on_known_autodiff`]'s list: 32-bit integers make it another type.
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
}
