//! The assembly of a loss: its per-position value and, per differentiable input, its
//! closed-form gradient ([`Elementwise`]), finished once for every reduction.
//!
//! Every loss finishes the same way: `forward_no_reduction` is [`Elementwise::unreduced`] (the
//! gradients attached position by position, summed over a dimension the value keeps with size
//! 1, such as cross entropy's class dimension), and `forward_sum` is [`Elementwise::summed`] or
//! [`Elementwise::summed_over`] a weighted normaliser, a [`LossSum`] that
//! [`Reduction::finish`](crate::mechanics::reduction::Reduction) turns into each reduction
//! (`forward`). Three losses build their sum another way and still finish through a
//! [`LossSum`]: BCE with logits on NdArray (its kernel returns the sum), fused linear cross
//! entropy (chunk by chunk) and CTC (a value per sample of `[T, N, C]` log-probabilities).
//!
//! # Closed-form gradient or plain autodiff
//!
//! A loss attaches its closed-form gradient (a carrier of [`crate::mechanics::gradient`]) for
//! every input whose derivative is a formula of the forward pass's own pieces and whose autodiff
//! graph would keep input-sized intermediates: the logits of cross entropy, NLL, BCE with
//! logits, the focal, asymmetric and ZLPR losses and CTC, the probabilities of BCE, the inputs of
//! KL, the regression losses and the soft margins. The backward pass then keeps one gradient
//! buffer and applies PyTorch's own formula (its clamps included). A loss stays on plain
//! autodiff where its graph keeps no more than that gradient would, or where the derivative is
//! a selection between branches: the hinge and distance losses of `crate::embedding` and the
//! multi-class margins, whose graphs are a few element-wise operations on small tensors.
//! `embedding/distance.rs` computes its norms on constants and attaches their gradient through
//! `x - x.constant()`, the same rule for a reduction along the feature dimension.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::mechanics::gradient::{
    gradient_carrier, needs_gradient, sum_gradient_carrier, with_gradient,
};
use crate::mechanics::reduction::{LossSum, Normalizer, Reduction, sum};

/// A loss's per-position value computed on detached inputs, and the closed-form gradient of each
/// position with respect to each differentiable input (only on autodiff backends). A value may
/// keep a reduced dimension with size 1 (the class dimension of cross entropy): an input's
/// gradient is then summed over it.
pub(crate) struct Elementwise<B: Backend, const D: usize> {
    pub value: Tensor<B, D>,
    pub gradients: Vec<(Tensor<B, D>, Tensor<B, D>)>,
}

impl<B: Backend, const D: usize> Elementwise<B, D> {
    /// Starts from the detached value; add gradients with [`Elementwise::gradient`].
    pub fn new(value: Tensor<B, D>) -> Self {
        Self {
            value,
            gradients: Vec::new(),
        }
    }

    /// Attaches `gradient()` as the gradient of every position with respect to `input`, when
    /// autodiff needs it.
    pub fn gradient(self, input: &Tensor<B, D>, gradient: impl FnOnce() -> Tensor<B, D>) -> Self {
        let needed = needs_gradient(input);
        self.computed_gradient(input, needed.then(gradient))
    }

    /// Attaches a gradient computed with the value (by a kernel), if there is one.
    pub fn computed_gradient(
        mut self,
        input: &Tensor<B, D>,
        gradient: Option<Tensor<B, D>>,
    ) -> Self {
        if let Some(gradient) = gradient {
            self.gradients.push((input.clone(), gradient));
        }
        self
    }

    /// The unreduced loss (PyTorch's `'none'`), differentiable position by position.
    pub fn unreduced(self) -> Tensor<B, D> {
        let value_dims = self.value.dims();
        self.gradients
            .into_iter()
            .fold(self.value, |value, (input, gradient)| {
                with_gradient(value, gradient_carrier(&input, || gradient, value_dims))
            })
    }

    /// The summed loss and its position count (the normaliser of a plain mean).
    pub fn summed(self) -> LossSum<B> {
        let normalizer = Normalizer::elements_of(&self.value);
        self.summed_over(normalizer)
    }

    /// The summed loss and `normalizer`. The carriers are summed before their zero is formed,
    /// so no second input-sized buffer is built for them.
    pub fn summed_over(self, normalizer: Normalizer<B>) -> LossSum<B> {
        let sum = self
            .gradients
            .into_iter()
            .fold(sum(self.value), |sum, (input, gradient)| {
                with_gradient(sum, sum_gradient_carrier(&input, || gradient))
            });
        LossSum { sum, normalizer }
    }

    /// The loss reduced with `reduction`.
    pub fn reduced(self, reduction: Reduction, batch_size: usize) -> Tensor<B, 1> {
        reduction.finish(self.summed(), batch_size)
    }
}

/// `forward`, `forward_no_reduction` and `forward_sum` of a loss of two same-shaped inputs, from
/// its `elementwise(first, second) -> Elementwise` method and its `reduction` field: the loss
/// reduced with the configured reduction, the loss of every element, and its sum and element
/// count. `panics` documents the bad inputs of all three.
macro_rules! elementwise_forwards {
    ($first:ident, $second:ident, panics: $panics:literal) => {
        /// The loss reduced with the configured reduction.
        ///
        /// # Panics
        #[doc = $panics]
        pub fn forward<const D: usize>(
            &self,
            $first: burn::tensor::Tensor<B, D>,
            $second: burn::tensor::Tensor<B, D>,
        ) -> burn::tensor::Tensor<B, 1> {
            let batch_size = $first.dims()[0];
            self.elementwise($first, $second)
                .reduced(self.reduction, batch_size)
        }

        /// The loss of every element, shaped like the inputs.
        ///
        /// # Panics
        #[doc = $panics]
        pub fn forward_no_reduction<const D: usize>(
            &self,
            $first: burn::tensor::Tensor<B, D>,
            $second: burn::tensor::Tensor<B, D>,
        ) -> burn::tensor::Tensor<B, D> {
            self.elementwise($first, $second).unreduced()
        }

        /// The sum of the losses of every element and their count, whose
        /// [`mean`](crate::LossSum::mean) is the `Mean` reduction: to divide by the element
        /// count of a larger batch (see [`LossSum`](crate::LossSum)).
        ///
        /// # Panics
        #[doc = $panics]
        pub fn forward_sum<const D: usize>(
            &self,
            $first: burn::tensor::Tensor<B, D>,
            $second: burn::tensor::Tensor<B, D>,
        ) -> $crate::LossSum<B> {
            self.elementwise($first, $second).summed()
        }
    };
}
pub(crate) use elementwise_forwards;

/// `forward` and `forward_sum` of a loss whose `forward_no_reduction` gives the loss of every
/// sample (or element), from its `reduction` field: that loss reduced with the configured
/// reduction (the first argument's first dimension being the batch), and its sum and count. The
/// doc comments before `fn` document `forward`.
macro_rules! reduced_forward {
    (
        $(#[$doc:meta])*
        fn forward$(<const $rank:ident: usize>)?($first:ident: $first_type:ty $(, $argument:ident: $type:ty)* $(,)?);
    ) => {
        $(#[$doc])*
        pub fn forward$(<const $rank: usize>)?(
            &self,
            $first: $first_type,
            $($argument: $type),*
        ) -> burn::tensor::Tensor<B, 1> {
            let batch_size = $first.dims()[0];
            self.reduction
                .reduce(self.forward_no_reduction($first, $($argument),*), batch_size)
        }

        /// The sum of the losses of `forward_no_reduction` and their count, whose
        /// [`mean`](crate::LossSum::mean) is the `Mean` reduction: to divide by the count of a
        /// larger batch (see [`LossSum`](crate::LossSum)).
        pub fn forward_sum$(<const $rank: usize>)?(
            &self,
            $first: $first_type,
            $($argument: $type),*
        ) -> $crate::LossSum<B> {
            $crate::LossSum::of_elements(self.forward_no_reduction($first, $($argument),*))
        }
    };
}
pub(crate) use reduced_forward;

/// `forward`, `forward_sum`, `normalizer` and `forward_no_reduction` of a loss of an input
/// `(N, C, d1, ..., dk)` and class-index targets `(N, d1, ..., dk)` whose `Mean` is cross
/// entropy's weighted mean over the non-ignored targets, from its
/// `losses(input, targets) -> (Elementwise, ClassIndexTargets)` method (the class dimension kept
/// with size 1) and the `reduction`, `weight`, `ignore_index` and `check_targets` fields of
/// `self` (or of `self.$options`, a nested `CrossEntropyLoss`). `panics` documents the bad
/// inputs of the forward passes.
macro_rules! class_index_forwards {
    ($input:ident $(, options: $options:ident)?, panics: $panics:literal) => {
        /// The loss reduced with the configured reduction.
        ///
        /// # Panics
        #[doc = $panics]
        pub fn forward<const D: usize, const DT: usize>(
            &self,
            $input: burn::tensor::Tensor<B, D>,
            targets: burn::tensor::Tensor<B, DT, burn::tensor::Int>,
        ) -> burn::tensor::Tensor<B, 1> {
            let batch_size = $input.dims()[0];
            self$(.$options)?
                .reduction
                .finish(self.forward_sum($input, targets), batch_size)
        }

        /// The sum of the losses and its normaliser, the summed class weight of the non-ignored
        /// targets, whose [`mean`](crate::LossSum::mean) is the `Mean` reduction: to divide by
        /// the normaliser of a larger batch (see [`LossSum`](crate::LossSum)).
        ///
        /// # Panics
        #[doc = $panics]
        pub fn forward_sum<const D: usize, const DT: usize>(
            &self,
            $input: burn::tensor::Tensor<B, D>,
            targets: burn::tensor::Tensor<B, DT, burn::tensor::Int>,
        ) -> $crate::LossSum<B> {
            let (losses, targets) = self.losses($input, targets);
            losses.summed_over(targets.normalizer())
        }

        /// The normaliser of [`forward_sum`](Self::forward_sum) for these targets, from the
        /// targets alone: the summed class weight of the non-ignored ones (their count without
        /// `weight`), to add up over micro-batches before any forward pass (see
        /// [`LossSum`](crate::LossSum)).
        ///
        /// # Panics
        /// With class weights (and `check_targets`), if a target is outside `[0, C)` and is not
        /// `ignore_index`; without them the targets are checked by the forward pass.
        pub fn normalizer<const DT: usize>(
            &self,
            targets: burn::tensor::Tensor<B, DT, burn::tensor::Int>,
        ) -> $crate::Normalizer<B> {
            let options = &self$(.$options)?;
            $crate::mechanics::class_targets::class_index_normalizer(
                LOSS,
                stringify!($input),
                targets,
                options.weight.as_ref(),
                options.ignore_index,
                options.check_targets,
            )
        }

        /// The loss at every position: shape `(N)` or `(N, d1, ..., dk)`; ignored positions are
        /// 0.
        ///
        /// # Panics
        #[doc = $panics]
        pub fn forward_no_reduction<const D: usize, const DT: usize>(
            &self,
            $input: burn::tensor::Tensor<B, D>,
            targets: burn::tensor::Tensor<B, DT, burn::tensor::Int>,
        ) -> burn::tensor::Tensor<B, DT> {
            self.losses($input, targets)
                .0
                .unreduced()
                .squeeze_dim($crate::mechanics::class_targets::CLASS_DIM)
        }
    };
}
pub(crate) use class_index_forwards;
