//! Shared mechanics of losses over a class dimension: class-index targets (checked, gathered,
//! never one-hot encoded), the target-rank rule, and class weights broadcast along dimension 1.

use burn::tensor::backend::Backend;
use burn::tensor::{Bool, IndexingUpdateOp, Int, Tensor};

use crate::mechanics::indexing::gather;
use crate::mechanics::reduction::{Normalizer, sum, sum_dim};
use crate::mechanics::validation::{check_class_indices, check_weight_len, fail};

/// The class dimension of `(N, C)` and `(N, C, d1, ..., dk)` inputs, as in PyTorch.
pub(crate) const CLASS_DIM: usize = 1;

/// Checks that `input` has a class dimension and that class-index `targets` have the input's
/// shape without it (rank `DT == D - 1`).
#[track_caller]
pub(crate) fn check_index_target_shape<const D: usize, const DT: usize>(
    loss: &str,
    input_name: &str,
    input_dims: &[usize; D],
    target_dims: &[usize; DT],
) {
    check_has_class_dim(loss, input_name, input_dims);
    if DT + 1 != D {
        fail(
            loss,
            "targets",
            format_args!(
                "rank {} (the rank of `{input_name}` minus the class dimension)",
                D - 1
            ),
            format_args!("rank {DT}"),
        );
    }
    let mut expected = input_dims.to_vec();
    expected.remove(CLASS_DIM);
    if expected.as_slice() != target_dims.as_slice() {
        fail(
            loss,
            "targets",
            format_args!(
                "shape {expected:?} (`{input_name}` {input_dims:?} without the class dimension)"
            ),
            format_args!("{target_dims:?}"),
        );
    }
}

/// Checks that an input has a batch and a class dimension.
#[track_caller]
pub(crate) fn check_has_class_dim<const D: usize>(
    loss: &str,
    input_name: &str,
    input_dims: &[usize; D],
) {
    if D < 2 {
        fail(
            loss,
            input_name,
            "rank >= 2: (N, C) or (N, C, d1, ..., dk)",
            format_args!("rank {D} with shape {input_dims:?}"),
        );
    }
}

/// Checks that a class-weight vector has one entry per class.
#[track_caller]
pub(crate) fn check_class_weight<B: Backend>(
    loss: &str,
    weight: Option<&Tensor<B, 1>>,
    num_classes: usize,
) {
    if let Some(weight) = weight {
        check_weight_len(
            loss,
            "weight",
            weight.dims()[0],
            num_classes,
            "the number of classes, dimension 1 of the input",
        );
    }
}

/// A class vector of length C viewed as `[1, C, 1, ..., 1]`, so it broadcasts along dimension 1
/// of a rank-`D` input.
pub(crate) fn along_class_dim<B: Backend, const D: usize>(vector: &Tensor<B, 1>) -> Tensor<B, D> {
    let mut shape = [1; D];
    shape[CLASS_DIM] = vector.dims()[0];
    vector.clone().reshape(shape)
}

/// Class-index targets prepared for gathering. Every tensor keeps the class dimension with size
/// 1, so it lines up with a `(N, C, d1, ..., dk)` input along dimension 1.
pub(crate) struct ClassIndexTargets<B: Backend, const D: usize> {
    /// Target classes; ignored positions point at class 0 so a gather stays in range.
    pub indices: Tensor<B, D, Int>,
    /// True where the target is `ignore_index`; `None` without an ignore index.
    pub ignored: Option<Tensor<B, D, Bool>>,
    /// The weight of each position's target class (1 without class weights), 0 where ignored.
    pub weights: Tensor<B, D>,
    /// 1 where the target counts, 0 where ignored.
    pub valid: Tensor<B, D>,
}

impl<B: Backend, const D: usize> ClassIndexTargets<B, D> {
    /// Checks `targets` against an input of shape `input_dims` and prepares them.
    #[track_caller]
    pub fn new<const DT: usize>(
        loss: &str,
        input_name: &str,
        input_dims: &[usize; D],
        targets: Tensor<B, DT, Int>,
        class_weight: Option<&Tensor<B, 1>>,
        ignore_index: Option<i64>,
        check_values: bool,
    ) -> Self {
        check_index_target_shape(loss, input_name, input_dims, &targets.dims());
        let num_classes = input_dims[CLASS_DIM];
        check_class_weight(loss, class_weight, num_classes);
        if check_values {
            check_class_indices(loss, "targets", &targets, num_classes, ignore_index);
        }

        let targets: Tensor<B, D, Int> = targets.unsqueeze_dim(CLASS_DIM);
        let ignored = ignore_index.map(|ignored| targets.clone().equal_elem(ignored));
        let (indices, valid) = match &ignored {
            Some(ignored) => (
                targets.mask_fill(ignored.clone(), 0),
                ignored.clone().bool_not().float(),
            ),
            None => {
                let valid = Tensor::ones(targets.shape(), &targets.device());
                (targets, valid)
            }
        };
        let weights = match class_weight {
            Some(class_weight) => {
                let shape = indices.shape();
                let flat: Tensor<B, 1, Int> = indices.clone().flatten(0, D - 1);
                gather(class_weight.clone(), 0, flat).reshape(shape) * valid.clone()
            }
            None => valid.clone(),
        };
        Self {
            indices,
            ignored,
            weights,
            valid,
        }
    }

    /// The mean's normaliser: the summed weight of the non-ignored targets' classes, over the
    /// number of non-ignored targets.
    pub fn normalizer(&self) -> Normalizer<B> {
        Normalizer::weighted(sum(self.weights.clone()), sum(self.valid.clone()))
    }

    /// `tensor` (of the input's shape) with `values` (one per position) added at each position's
    /// target class: a scatter along the class dimension, one write per position, in parallel
    /// on a GPU. Not Burn 0.21's `select_assign` on the flattened tensor: its CubeCL kernel
    /// walks every index in one GPU thread, and on wgpu it silently skips the indices past the
    /// 65535th (the tests compare the CubeCL kernel with this path at 65537 positions).
    pub fn add_at_targets(&self, tensor: Tensor<B, D>, values: Tensor<B, D>) -> Tensor<B, D> {
        tensor.scatter(
            CLASS_DIM,
            self.indices.clone(),
            values,
            IndexingUpdateOp::Add,
        )
    }

    /// Sets ignored positions of a per-position loss to exactly 0 (PyTorch's value there, even
    /// when the gathered input is infinite or NaN).
    pub fn zero_ignored(&self, losses: Tensor<B, D>) -> Tensor<B, D> {
        match &self.ignored {
            Some(ignored) => losses.mask_fill(ignored.clone(), 0.0),
            None => losses,
        }
    }
}

/// The normaliser of a weighted mean over class-index `targets` (any rank), from the targets
/// alone: what [`ClassIndexTargets::normalizer`] gives for any input they fit. With class
/// weights (and `check_values`) the targets are range-checked against the weights' length;
/// without, they are not read (the loss's forward pass checks them against its input).
#[track_caller]
pub(crate) fn class_index_normalizer<B: Backend, const DT: usize>(
    loss: &str,
    input_name: &str,
    targets: Tensor<B, DT, Int>,
    class_weight: Option<&Tensor<B, 1>>,
    ignore_index: Option<i64>,
    check_values: bool,
) -> Normalizer<B> {
    let count = targets.shape().num_elements();
    // Without class weights nothing is gathered: one class stands in for the input's C.
    let num_classes = class_weight.map_or(1, |weight| weight.dims()[0]);
    ClassIndexTargets::<B, 2>::new(
        loss,
        input_name,
        &[count, num_classes],
        targets.reshape([count]),
        class_weight,
        ignore_index,
        check_values && class_weight.is_some(),
    )
    .normalizer()
}

/// Checks the rank `DT` requested for an unreduced output that drops the class dimension.
#[track_caller]
pub(crate) fn check_reduced_rank<const D: usize, const DT: usize>(loss: &str) {
    if DT + 1 != D {
        fail(
            loss,
            "output rank DT",
            format_args!(
                "{} (the input rank {D} minus the class dimension)",
                D.saturating_sub(1)
            ),
            DT,
        );
    }
}

/// A log-softmax along the class dimension, kept in the pieces the losses reuse. The only
/// logits-sized buffer kept is `exp(x - max_c x)` (the max keeps `exp` from overflowing); the
/// gradient turns it into the softmax in place ([`LogSoftmax::into_scaled_probs`]), so the
/// exponentials are computed once. Log-probabilities are formed as `(x - max) - log Σ exp`,
/// never as `x - log Z`: for logits of 1e4 the latter loses every digit of the result.
pub(crate) struct LogSoftmax<B: Backend, const D: usize> {
    /// The logits (the caller's buffer, not a copy).
    pub logits: Tensor<B, D>,
    /// `max_c x`, with the class dimension kept (size 1).
    pub max: Tensor<B, D>,
    /// `exp(x - max_c x)`.
    pub exp: Tensor<B, D>,
    /// `Σ_c exp(x - max_c x)`, with the class dimension kept (size 1).
    pub sum_exp: Tensor<B, D>,
    /// `log Σ_c exp(x - max_c x)`, with the class dimension kept (size 1).
    pub log_sum_exp: Tensor<B, D>,
}

impl<B: Backend, const D: usize> LogSoftmax<B, D> {
    pub fn new(logits: Tensor<B, D>) -> Self {
        let max = logits.clone().max_dim(CLASS_DIM);
        let exp = (logits.clone() - max.clone()).exp();
        let sum_exp = sum_dim(exp.clone(), CLASS_DIM);
        let log_sum_exp = sum_exp.clone().log();
        Self {
            logits,
            max,
            exp,
            sum_exp,
            log_sum_exp,
        }
    }

    /// `log Z = log Σ_c exp(x_c)` of the unshifted logits, with the class dimension kept.
    pub fn log_partition(&self) -> Tensor<B, D> {
        self.max.clone() + self.log_sum_exp.clone()
    }

    /// `log_softmax(x)` of the classes at `indices` (gathered along the class dimension).
    pub fn gather_log_probs(&self, indices: Tensor<B, D, Int>) -> Tensor<B, D> {
        (gather(self.logits.clone(), CLASS_DIM, indices) - self.max.clone())
            - self.log_sum_exp.clone()
    }

    /// `x - max_c x` for every class (a new logits-sized tensor).
    pub fn shifted(&self) -> Tensor<B, D> {
        self.logits.clone() - self.max.clone()
    }

    /// `log_softmax(x)` for every class.
    pub fn log_probs(&self) -> Tensor<B, D> {
        self.shifted() - self.log_sum_exp.clone()
    }

    /// `softmax(x) · scale` (`scale` broadcast along the class dimension), in one pass over the
    /// exponentials, reusing their buffer.
    pub fn into_scaled_probs(self, scale: Tensor<B, D>) -> Tensor<B, D> {
        drop(self.logits);
        self.exp * (scale / self.sum_exp)
    }
}
