//! Multi-label hinge loss over lists of target classes.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, IndexingUpdateOp, Int, Tensor};

use crate::mechanics::assembly::reduced_forward;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_same_shape, fail};

const LOSS: &str = "MultiLabelMarginLoss";

/// Configuration of [`MultiLabelMarginLoss`] (`torch.nn.MultiLabelMarginLoss`).
#[derive(Config, Debug)]
pub struct MultiLabelMarginLossConfig {
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Check that every target lies in `[-1, C)` (two more numbers in the one read-back the loss
    /// makes anyway). Turn off only with targets known to be valid: an index outside the input
    /// is not caught by every backend.
    #[config(default = true)]
    pub check_targets: bool,
}

impl MultiLabelMarginLossConfig {
    /// Builds the loss (it has no option to check).
    pub fn init<B: Backend>(&self, _device: &B::Device) -> MultiLabelMarginLoss<B> {
        MultiLabelMarginLoss {
            reduction: self.reduction,
            check_targets: self.check_targets,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The multi-label hinge loss of `torch.nn.MultiLabelMarginLoss`: every target class of a
/// sample should score at least 1 above every non-target class.
///
/// Each row of `targets` lists the sample's target classes from the left and ends at the first
/// `-1` (or at the end of the row); entries after it are ignored. With `J_i` that list
/// (duplicates count once per occurrence) and `T_i` its set of classes:
///
/// ```text
/// ℓ_i = (1/C) Σ_{j ∈ J_i} Σ_{c ∉ T_i} max(0, 1 - x_ij + x_ic)
/// ```
///
/// The margin is fixed at 1. An empty list (a row starting with `-1`) or a list covering every
/// class gives 0. A pair with `1 - x_ij + x_ic` exactly 0 (or NaN) adds nothing and has zero
/// gradient, as PyTorch's strict `> 0`. `Mean` divides by N (each sample already divides by C).
///
/// The computation gathers the listed classes' scores and compares them with every class at
/// once, without host loops: it uses `N × J × C` temporaries, where `J` is the longest list in
/// the batch (read back from the device).
///
/// # Shapes
/// - input: `(N, C)`
/// - targets: `(N, C)`, `Int`, values in `[-1, C)` (checked on every entry, as PyTorch does)
/// - unreduced output: `(N)`
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = MultiLabelMarginLossConfig::new().init::<NdArray>(&device);
/// let input = Tensor::<NdArray, 2>::from_floats([[0.1, 0.2, 0.4, 0.8]], &device);
/// // Targets 3 and 0; the -1 ends the list, so the final 1 is not a target.
/// let targets = Tensor::<NdArray, 2, Int>::from_ints([[3, 0, -1, 1]], &device);
/// let value = loss.forward(input, targets).into_scalar();
/// assert!((value - 0.85).abs() < 1e-6); // PyTorch: 0.85
/// ```
#[derive(Module, Debug)]
pub struct MultiLabelMarginLoss<B: Backend> {
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    /// Whether targets are range-checked.
    pub check_targets: bool,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> MultiLabelMarginLoss<B> {
    reduced_forward! {
        /// The loss reduced with the configured reduction.
        ///
        /// # Panics
        /// If the shapes of `input` and `targets` differ, C is 0, or a target is outside `[-1, C)`.
        fn forward(input: Tensor<B, 2>, targets: Tensor<B, 2, Int>);
    }

    /// The loss of every sample: shape `(N)`.
    pub fn forward_no_reduction(
        &self,
        input: Tensor<B, 2>,
        targets: Tensor<B, 2, Int>,
    ) -> Tensor<B, 1> {
        let dims = input.dims();
        let [batch_size, num_classes] = dims;
        check_same_shape(LOSS, "targets", "input", &dims, &targets.dims());
        if num_classes == 0 {
            fail(
                LOSS,
                "input",
                "shape (N, C) with C >= 1",
                format_args!("{dims:?}"),
            );
        }
        if batch_size == 0 {
            // An empty batch: no list to read (PyTorch accepts it too).
            return input.sum_dim(1).reshape([0]);
        }
        let device = input.device();

        // Each row's list length: the position of its first -1, or C without one.
        let positions = Tensor::<B, 1, Int>::arange(0..num_classes as i64, &device)
            .reshape([1, num_classes])
            .repeat_dim(0, batch_size);
        let not_end = targets.clone().not_equal_elem(-1);
        let lengths = positions
            .clone()
            .mask_fill(not_end, num_classes as i64)
            .min_dim(1);
        let longest = self.longest_list(&targets, &lengths, num_classes);

        // The listed classes (at least one slot, so every shape stays non-empty).
        let slots = longest.max(1);
        let listed = targets.slice([0..batch_size, 0..slots]);
        let is_listed = positions.slice([0..batch_size, 0..slots]).lower(lengths);
        let listed = listed.mask_fill(is_listed.clone().bool_not(), 0);
        // Which classes are targets: count each class's listings.
        let is_target = Tensor::<B, 2, Int>::zeros(dims, &device)
            .scatter(
                1,
                listed.clone(),
                is_listed.clone().int(),
                IndexingUpdateOp::Add,
            )
            .greater_elem(0);

        // z[i, k, c] = 1 - x[i, listed[i, k]] + x[i, c], PyTorch's operation order.
        let shape = [batch_size, slots, num_classes];
        let listed_scores = input.clone().gather(1, listed).neg().add_scalar(1.0);
        let z = listed_scores.unsqueeze_dim::<3>(2).expand(shape)
            + input.unsqueeze_dim::<3>(1).expand(shape);
        let inactive = z
            .clone()
            .greater_elem(0.0)
            .bool_not()
            .bool_or(is_listed.bool_not().unsqueeze_dim::<3>(2).expand(shape))
            .bool_or(is_target.unsqueeze_dim::<3>(1).expand(shape));
        z.mask_fill(inactive, 0.0)
            .sum_dim(2)
            .sum_dim(1)
            .reshape([batch_size])
            .div_scalar(num_classes as f64)
    }

    /// The longest list in the batch, after checking (unless turned off) that every target
    /// lies in `[-1, C)`. Reads the numbers back from the device in one transfer.
    #[track_caller]
    fn longest_list(
        &self,
        targets: &Tensor<B, 2, Int>,
        lengths: &Tensor<B, 2, Int>,
        num_classes: usize,
    ) -> usize {
        let longest = lengths.clone().max();
        if !self.check_targets {
            return longest.into_scalar().elem::<i64>() as usize;
        }
        let read = Tensor::cat(
            vec![longest, targets.clone().min(), targets.clone().max()],
            0,
        )
        .into_data()
        .iter::<i64>()
        .collect::<Vec<_>>();
        let (longest, min, max) = (read[0], read[1], read[2]);
        let bad = if min < -1 {
            min
        } else if max >= num_classes as i64 {
            max
        } else {
            return longest as usize;
        };
        fail(
            LOSS,
            "targets",
            format_args!("class indices in [0, {num_classes}) or -1 (the end of a list)"),
            bad,
        );
    }
}
