//! Cross entropy of a linear projection, computed in row chunks so the `[N, V]` logits and their
//! gradient never exist at once: the memory-lean loss of large-vocabulary language models.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::classification::{CrossEntropyLoss, CrossEntropyLossConfig};
use crate::gradient::{Constant, needs_gradient, sum_gradient_carrier, with_gradient};
use crate::reduction::Reduction;
use crate::validation::{check_class_indices, fail, fail_option};

const LOSS: &str = "FusedLinearCrossEntropyLoss";

/// Configuration of [`FusedLinearCrossEntropyLoss`]. The options are those of
/// [`CrossEntropyLossConfig`], plus the chunk size.
#[derive(Config, Debug)]
pub struct FusedLinearCrossEntropyLossConfig {
    /// A weight per class (length V, finite, non-negative). Default: none.
    pub weight: Option<Vec<f32>>,
    /// Targets equal to this index contribute 0 and are left out of the mean.
    #[config(default = "Some(-100)")]
    pub ignore_index: Option<i64>,
    /// Label smoothing `ε` in `[0, 1]`.
    #[config(default = 0.0)]
    pub label_smoothing: f32,
    /// Weight of the z-loss `z_loss · (log Z)^2` (see [`CrossEntropyLossConfig::z_loss`]).
    #[config(default = 0.0)]
    pub z_loss: f32,
    /// The reduction. There is no unreduced form: the projection's gradient sums over rows.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Rows of logits computed at a time: peak memory holds a few `[chunk_size, V]` buffers.
    /// The default keeps them to about 33 MB each at V = 32000 while the matmuls stay large
    /// enough to run at full speed.
    #[config(default = 256)]
    pub chunk_size: usize,
    /// Check that targets lie in `[0, V)` (reads two numbers back from the device).
    #[config(default = true)]
    pub check_targets: bool,
}

impl FusedLinearCrossEntropyLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// As [`CrossEntropyLossConfig::init`], or if `chunk_size` is 0.
    pub fn init<B: Backend>(&self, device: &B::Device) -> FusedLinearCrossEntropyLoss<B> {
        if self.chunk_size == 0 {
            fail_option(LOSS, "chunk_size", "at least 1", self.chunk_size);
        }
        let cross_entropy = CrossEntropyLossConfig::new()
            .with_weight(self.weight.clone())
            .with_ignore_index(self.ignore_index)
            .with_label_smoothing(self.label_smoothing)
            .with_z_loss(self.z_loss)
            .with_check_targets(false)
            .init(device);
        FusedLinearCrossEntropyLoss {
            cross_entropy,
            reduction: self.reduction,
            chunk_size: self.chunk_size,
            check_targets: self.check_targets,
        }
    }
}

/// Cross entropy of the logits `hidden · projectionᵀ + bias`, equal to
/// [`CrossEntropyLoss`] on those logits (same options, same numbers), without ever holding the
/// `[N, V]` logits or their gradient (the idea of Liger-Kernel's and Apple's Cut Cross-Entropy
/// losses).
///
/// The forward pass walks the rows in chunks of `chunk_size`: for each chunk it computes the
/// chunk's logits, their loss and their closed-form gradient `G`, and accumulates the gradients
/// of the three inputs (`G · projection` for the hidden states, `Gᵀ · hidden` for the projection,
/// `Σ G` for the bias) before the chunk's buffers are freed. The backward pass then only scales
/// those stored gradients. Memory: the `[N, H]` and `[V, H]` gradients plus a few
/// `[chunk_size, V]` buffers, instead of several `[N, V]` ones.
///
/// # Shapes
/// - hidden: `(N, H)`; projection: `(V, H)` (a `Linear` layer's weight transposed, or a tied
///   embedding); bias: `(V)`; targets: `(N)`, `Int`.
///
/// # Example
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use burn::tensor::{Distribution, Int, Tensor};
/// use burn_losses::*;
///
/// type B = Autodiff<NdArray>;
/// let device = Default::default();
/// let hidden = Tensor::<B, 2>::random([6, 4], Distribution::Default, &device).require_grad();
/// let projection = Tensor::<B, 2>::random([10, 4], Distribution::Default, &device).require_grad();
/// let targets = Tensor::<B, 1, Int>::from_ints([1, 3, 9, 0, -100, 2], &device);
///
/// let fused = FusedLinearCrossEntropyLossConfig::new().with_chunk_size(4).init::<B>(&device);
/// let loss = fused.forward(hidden.clone(), projection.clone(), None, targets.clone());
/// let unfused = CrossEntropyLossConfig::new().init::<B>(&device);
/// let reference = unfused.forward(hidden.matmul(projection.transpose()), targets);
/// let difference: f32 = (loss - reference).abs().into_scalar();
/// assert!(difference < 1e-5);
/// ```
#[derive(Module, Debug)]
pub struct FusedLinearCrossEntropyLoss<B: Backend> {
    /// The cross entropy applied to each chunk of logits.
    pub cross_entropy: CrossEntropyLoss<B>,
    /// The reduction.
    pub reduction: Reduction,
    /// Rows per chunk.
    pub chunk_size: usize,
    /// Whether targets are range-checked.
    pub check_targets: bool,
}

impl<B: Backend> FusedLinearCrossEntropyLoss<B> {
    /// The reduced loss, differentiable with respect to `hidden`, `projection` and `bias`.
    ///
    /// # Panics
    /// If `hidden` is not `(N, H)` with `projection` `(V, H)`, `bias` not `(V)`, targets not
    /// `(N)`, class weights not of length V, or a target outside `[0, V)` that is not
    /// `ignore_index`.
    pub fn forward(
        &self,
        hidden: Tensor<B, 2>,
        projection: Tensor<B, 2>,
        bias: Option<Tensor<B, 1>>,
        targets: Tensor<B, 1, Int>,
    ) -> Tensor<B, 1> {
        self.forward_with_z_loss(hidden, projection, bias, targets)
            .0
    }

    /// Like [`forward`](Self::forward), and also returns the z-loss term alone (detached) for
    /// logging: `(loss including z-loss, z-loss)`.
    pub fn forward_with_z_loss(
        &self,
        hidden: Tensor<B, 2>,
        projection: Tensor<B, 2>,
        bias: Option<Tensor<B, 1>>,
        targets: Tensor<B, 1, Int>,
    ) -> (Tensor<B, 1>, Tensor<B, 1>) {
        let [rows, features] = hidden.dims();
        let [classes, projection_features] = projection.dims();
        if projection_features != features {
            fail(
                LOSS,
                "projection",
                format_args!(
                    "shape [V, {features}] (V classes by the {features} features of `hidden`)"
                ),
                format_args!("{:?}", projection.dims()),
            );
        }
        if let Some(bias) = &bias
            && bias.dims() != [classes]
        {
            fail(
                LOSS,
                "bias",
                format_args!("shape [{classes}] (the classes of `projection`)"),
                format_args!("{:?}", bias.dims()),
            );
        }
        if targets.dims() != [rows] {
            fail(
                LOSS,
                "targets",
                format_args!("shape [{rows}] (the rows of `hidden`)"),
                format_args!("{:?}", targets.dims()),
            );
        }
        if self.check_targets {
            check_class_indices(
                LOSS,
                "targets",
                &targets,
                classes,
                self.cross_entropy.ignore_index,
            );
        }

        let wants_hidden_grad = needs_gradient(&hidden);
        let wants_projection_grad = needs_gradient(&projection);
        let wants_bias_grad = bias.as_ref().is_some_and(needs_gradient);
        let needs_gradient = wants_hidden_grad || wants_projection_grad || wants_bias_grad;
        let hidden_values = hidden.clone().constant();
        let projection_values = projection.clone().constant();
        let bias_values = bias
            .clone()
            .map(|bias| bias.constant().unsqueeze_dim::<2>(1));

        let device = hidden.device();
        let zero = || Tensor::<B, 1>::zeros([1], &device);
        let (mut loss_sum, mut z_sum, mut total_weight, mut valid_count) =
            (zero(), zero(), zero(), zero());
        let mut hidden_grads = Vec::new();
        let mut projection_grad = wants_projection_grad.then(|| projection_values.zeros_like());
        let mut bias_grad = wants_bias_grad.then(|| Tensor::<B, 1>::zeros([classes], &device));

        // Each chunk's logits are computed transposed, `W · hᵀ` as `[V, n]`, so the classes of
        // one row are a column: the layout of a one-sample `(1, V, n)` input to cross entropy,
        // whose gradient `Gᵀ` then multiplies row blocks of W and h without transposed copies.
        // Every product with W takes it in blocks of rows: NdArray copies each matmul operand,
        // and a copy of all of W (131 MB at V = 32000, H = 1024) in every chunk would outweigh
        // the chunk itself.
        let class_blocks: Vec<_> = (0..classes)
            .step_by(PROJECTION_BLOCK)
            .map(|start| start..(start + PROJECTION_BLOCK).min(classes))
            .collect();
        for start in (0..rows).step_by(self.chunk_size) {
            let end = (start + self.chunk_size).min(rows);
            let chunk_rows = end - start;
            let hidden_chunk = hidden_values.clone().slice(start..end);
            let hidden_chunk_t = hidden_chunk.clone().transpose();
            let logits_blocks = class_blocks.iter().map(|block| {
                projection_values
                    .clone()
                    .slice(block.clone())
                    .matmul(hidden_chunk_t.clone())
            });
            let mut logits_t = Tensor::cat(logits_blocks.collect(), 0);
            if let Some(bias) = &bias_values {
                logits_t = logits_t + bias.clone();
            }
            let logits: Tensor<B, 3> = logits_t.reshape([1, classes, chunk_rows]);
            let chunk_targets = self.cross_entropy.index_targets(
                &logits.dims(),
                targets.clone().slice(start..end).reshape([1, chunk_rows]),
                false,
            );
            let (losses, z_terms, logits_grad) = self.cross_entropy.index_values_and_gradient(
                logits,
                &chunk_targets,
                needs_gradient,
            );
            loss_sum = loss_sum + losses.sum();
            if let Some(z_terms) = z_terms {
                z_sum = z_sum + z_terms.sum();
            }
            total_weight = total_weight + chunk_targets.total_weight();
            valid_count = valid_count + chunk_targets.valid_count();
            let Some(logits_grad) = logits_grad else {
                continue;
            };
            let logits_grad_t: Tensor<B, 2> = logits_grad.reshape([classes, chunk_rows]);
            if wants_hidden_grad {
                let mut hidden_grad = hidden_chunk.zeros_like();
                for block in &class_blocks {
                    let gradient_block = logits_grad_t.clone().slice(block.clone()).transpose();
                    let projection_block = projection_values.clone().slice(block.clone());
                    hidden_grad = hidden_grad + gradient_block.matmul(projection_block);
                }
                hidden_grads.push(hidden_grad);
            }
            if let Some(sum) = projection_grad {
                let mut sum = sum;
                for block in &class_blocks {
                    // The product on the left, so the addition reuses its buffer; the slice of
                    // `sum` is a view, released before the assignment, which then writes into
                    // `sum` in place (the whole `[V, H]` product would be a second buffer of
                    // its size).
                    let product = logits_grad_t
                        .clone()
                        .slice(block.clone())
                        .matmul(hidden_chunk.clone());
                    let updated = product + sum.clone().slice(block.clone());
                    sum = sum.slice_assign(block.clone(), updated);
                }
                projection_grad = Some(sum);
            }
            bias_grad = bias_grad.map(|sum| sum + logits_grad_t.sum_dim(1).squeeze_dim(1));
        }

        // The reduction's factor (1, 1/Σw or 1/N) scales the value and the stored gradients.
        let scale = self.reduction.reduce_weighted(
            Tensor::<B, 1>::ones([1], &device),
            rows,
            total_weight,
            valid_count,
        );
        let value = loss_sum * scale.clone();
        let z_loss = z_sum * scale.clone();
        if !needs_gradient {
            return (value, z_loss);
        }
        // The scale multiplies the carriers, not the gradients: scaling a `[V, H]` gradient
        // would cost another buffer of its size.
        let scaled = |carrier: Tensor<B, 1>| carrier * scale.clone();
        let hidden_carrier = wants_hidden_grad
            .then(|| sum_gradient_carrier(&hidden, || Tensor::cat(hidden_grads, 0)))
            .flatten()
            .map(scaled);
        let projection_carrier = projection_grad
            .and_then(|gradient| sum_gradient_carrier(&projection, || gradient))
            .map(scaled);
        let bias_carrier = bias
            .zip(bias_grad)
            .and_then(|(bias, gradient)| sum_gradient_carrier(&bias, || gradient))
            .map(scaled);
        let value = with_gradient(value, hidden_carrier);
        let value = with_gradient(value, projection_carrier);
        (with_gradient(value, bias_carrier), z_loss)
    }
}

/// Rows of the `[V, H]` projection taken by one matmul.
const PROJECTION_BLOCK: usize = 4096;
