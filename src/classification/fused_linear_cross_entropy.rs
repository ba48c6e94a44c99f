//! Cross entropy of a linear projection, computed in row chunks so the `[N, V]` logits and their
//! gradient never exist at once: the memory-lean loss of large-vocabulary language models.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use core::ops::Range;

use burn::tensor::{Int, Tensor};

use crate::classification::{CrossEntropyLoss, CrossEntropyLossConfig};
use crate::mechanics::gradient::{Constant, needs_gradient, sum_gradient_carrier, with_gradient};
use crate::mechanics::reduction::{LossSum, Normalizer};
use crate::mechanics::validation::{check_class_indices, fail, fail_option};

const LOSS: &str = "FusedLinearCrossEntropyLoss";

/// Configuration of [`FusedLinearCrossEntropyLoss`]: a [`CrossEntropyLossConfig`] (every option,
/// the reduction and the target check included; there is no unreduced form, since the
/// projection's gradient sums over rows) and the chunk size.
#[derive(Config, Debug)]
pub struct FusedLinearCrossEntropyLossConfig {
    /// The cross entropy of the logits: class weights (length V), `ignore_index`, label
    /// smoothing, z-loss, the reduction and whether targets are range-checked.
    #[config(default = "CrossEntropyLossConfig::new()")]
    pub cross_entropy: CrossEntropyLossConfig,
    /// Rows of logits computed at a time: peak memory holds a few `[chunk_size, V]` buffers.
    /// The default keeps them to about 33 MB each at V = 32000 while the matmuls stay large
    /// enough to run at full speed.
    #[config(default = 256)]
    pub chunk_size: usize,
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
        FusedLinearCrossEntropyLoss {
            cross_entropy: self.cross_entropy.init(device),
            chunk_size: self.chunk_size,
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
/// let fused = FusedLinearCrossEntropyLossConfig::new()
///     .with_chunk_size(4)
///     .init::<B>(&device);
/// let loss = fused.forward(hidden.clone(), projection.clone(), None, targets.clone());
/// let unfused = CrossEntropyLossConfig::new().init::<B>(&device);
/// let reference = unfused.forward(hidden.matmul(projection.transpose()), targets);
/// let difference: f32 = (loss - reference).abs().into_scalar();
/// assert!(difference < 1e-5);
/// ```
#[derive(Module, Debug)]
pub struct FusedLinearCrossEntropyLoss<B: Backend> {
    /// The cross entropy applied to each chunk of logits (its reduction and target check apply
    /// to the whole batch).
    pub cross_entropy: CrossEntropyLoss<B>,
    /// Rows per chunk.
    pub chunk_size: usize,
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
        let rows = hidden.dims()[0];
        let reduction = self.cross_entropy.reduction;
        let (parts, z_sum) = self.sums(hidden, projection, bias, targets);
        let z_parts = LossSum {
            sum: z_sum,
            normalizer: parts.normalizer.clone(),
        };
        (
            reduction.finish(parts, rows),
            reduction.finish(z_parts, rows),
        )
    }

    /// The sum of the losses (z-loss included) and its normaliser, the summed class weight of
    /// the non-ignored targets, whose [`mean`](LossSum::mean) is the `Mean` reduction: to divide
    /// by the normaliser of a larger batch (see [`LossSum`]).
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_sum(
        &self,
        hidden: Tensor<B, 2>,
        projection: Tensor<B, 2>,
        bias: Option<Tensor<B, 1>>,
        targets: Tensor<B, 1, Int>,
    ) -> LossSum<B> {
        self.sums(hidden, projection, bias, targets).0
    }

    /// The normaliser of [`forward_sum`](Self::forward_sum) for these targets, from the targets
    /// alone: [`CrossEntropyLoss::normalizer`].
    pub fn normalizer(&self, targets: Tensor<B, 1, Int>) -> Normalizer<B> {
        self.cross_entropy.normalizer(targets)
    }

    /// The loss's sum and normaliser, chunk by chunk, and the z-loss part's sum (detached).
    fn sums(
        &self,
        hidden: Tensor<B, 2>,
        projection: Tensor<B, 2>,
        bias: Option<Tensor<B, 1>>,
        targets: Tensor<B, 1, Int>,
    ) -> (LossSum<B>, Tensor<B, 1>) {
        let rows = self.check_inputs(&hidden, &projection, bias.as_ref(), &targets);
        let inputs = ChunkInputs::new(&hidden, &projection, bias.as_ref());
        let mut sums = ChunkSums::new(&inputs);
        for start in (0..rows).step_by(self.chunk_size) {
            let end = (start + self.chunk_size).min(rows);
            self.add_chunk(
                &inputs,
                targets.clone().slice(start..end),
                start..end,
                &mut sums,
            );
        }
        Self::finish(sums, hidden, projection, bias)
    }

    /// Checks the shapes (and, with `check_targets`, the target values); returns the rows.
    fn check_inputs(
        &self,
        hidden: &Tensor<B, 2>,
        projection: &Tensor<B, 2>,
        bias: Option<&Tensor<B, 1>>,
        targets: &Tensor<B, 1, Int>,
    ) -> usize {
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
        if let Some(bias) = bias
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
        if self.cross_entropy.check_targets {
            check_class_indices(
                LOSS,
                "targets",
                targets,
                classes,
                self.cross_entropy.ignore_index,
            );
        }
        rows
    }

    /// One chunk of rows: its logits, their losses and closed-form gradient `G`, and the
    /// gradients of the inputs that need one (`G · projection`, `Gᵀ · hidden`, `Σ G`) added to
    /// `sums` before the chunk's buffers are freed.
    fn add_chunk(
        &self,
        inputs: &ChunkInputs<B>,
        targets: Tensor<B, 1, Int>,
        rows: Range<usize>,
        sums: &mut ChunkSums<B>,
    ) {
        let chunk_rows = rows.len();
        let hidden_chunk = inputs.hidden.clone().slice(rows);
        let logits = inputs.logits(&hidden_chunk);
        let chunk_targets = self.cross_entropy.index_targets(
            &logits.dims(),
            targets.reshape([1, chunk_rows]),
            false,
        );
        let (losses, z_terms, logits_grad) = self.cross_entropy.index_values_and_gradient(
            logits,
            &chunk_targets,
            inputs.needs_gradient(),
        );
        sums.loss = sums.loss.clone() + losses.sum();
        if let Some(z_terms) = z_terms {
            sums.z = sums.z.clone() + z_terms.sum();
        }
        sums.normalizer = sums.normalizer.clone() + chunk_targets.normalizer();
        if let Some(logits_grad) = logits_grad {
            let classes = inputs.projection.dims()[0];
            sums.add_gradients(
                inputs,
                hidden_chunk,
                logits_grad.reshape([classes, chunk_rows]),
            );
        }
    }

    /// The stored gradients attached to the inputs through the loss's sum: `(loss sum, z-loss
    /// sum)`. The reduction's scale then multiplies the one-element sum, not the gradients:
    /// scaling a `[V, H]` gradient would cost another buffer of its size.
    fn finish(
        sums: ChunkSums<B>,
        hidden: Tensor<B, 2>,
        projection: Tensor<B, 2>,
        bias: Option<Tensor<B, 1>>,
    ) -> (LossSum<B>, Tensor<B, 1>) {
        let hidden_carrier = (!sums.hidden_grads.is_empty())
            .then(|| sum_gradient_carrier(&hidden, || Tensor::cat(sums.hidden_grads, 0)))
            .flatten();
        let projection_carrier = sums
            .projection_grad
            .and_then(|gradient| sum_gradient_carrier(&projection, || gradient));
        let bias_carrier = bias
            .zip(sums.bias_grad)
            .and_then(|(bias, gradient)| sum_gradient_carrier(&bias, || gradient));
        let sum = with_gradient(sums.loss, hidden_carrier);
        let sum = with_gradient(sum, projection_carrier);
        let parts = LossSum {
            sum: with_gradient(sum, bias_carrier),
            normalizer: sums.normalizer,
        };
        (parts, sums.z)
    }
}

/// The detached inputs of the chunks, and which inputs need a gradient.
struct ChunkInputs<B: Backend> {
    hidden: Tensor<B, 2>,
    projection: Tensor<B, 2>,
    /// The bias as a column `[V, 1]`, added to the transposed logits.
    bias: Option<Tensor<B, 2>>,
    /// The row blocks of the projection that one matmul takes.
    class_blocks: Vec<Range<usize>>,
    wants_hidden: bool,
    wants_projection: bool,
    wants_bias: bool,
}

impl<B: Backend> ChunkInputs<B> {
    fn new(hidden: &Tensor<B, 2>, projection: &Tensor<B, 2>, bias: Option<&Tensor<B, 1>>) -> Self {
        let classes = projection.dims()[0];
        Self {
            hidden: hidden.clone().constant(),
            projection: projection.clone().constant(),
            bias: bias.map(|bias| bias.clone().constant().unsqueeze_dim::<2>(1)),
            class_blocks: (0..classes)
                .step_by(PROJECTION_BLOCK)
                .map(|start| start..(start + PROJECTION_BLOCK).min(classes))
                .collect(),
            wants_hidden: needs_gradient(hidden),
            wants_projection: needs_gradient(projection),
            wants_bias: bias.is_some_and(needs_gradient),
        }
    }

    fn needs_gradient(&self) -> bool {
        self.wants_hidden || self.wants_projection || self.wants_bias
    }

    /// A chunk's logits, computed transposed, `W · hᵀ` as `[V, n]`, so the classes of one row
    /// are a column: the layout of a one-sample `(1, V, n)` input to cross entropy, whose
    /// gradient `Gᵀ` then multiplies row blocks of W and h without transposed copies. Every
    /// product with W takes it in blocks of rows: NdArray copies each matmul operand, and a copy
    /// of all of W (131 MB at V = 32000, H = 1024) in every chunk would outweigh the chunk
    /// itself.
    fn logits(&self, hidden_chunk: &Tensor<B, 2>) -> Tensor<B, 3> {
        let [chunk_rows, _] = hidden_chunk.dims();
        let classes = self.projection.dims()[0];
        let hidden_chunk_t = hidden_chunk.clone().transpose();
        let logits_blocks = self.class_blocks.iter().map(|block| {
            self.projection
                .clone()
                .slice(block.clone())
                .matmul(hidden_chunk_t.clone())
        });
        let mut logits_t = Tensor::cat(logits_blocks.collect(), 0);
        if let Some(bias) = &self.bias {
            logits_t = logits_t + bias.clone();
        }
        logits_t.reshape([1, classes, chunk_rows])
    }
}

/// What the chunks accumulate: the loss and z-loss sums, the mean's normaliser, and the
/// inputs' gradients.
struct ChunkSums<B: Backend> {
    loss: Tensor<B, 1>,
    z: Tensor<B, 1>,
    normalizer: Normalizer<B>,
    /// One `[n, H]` block per chunk, concatenated at the end.
    hidden_grads: Vec<Tensor<B, 2>>,
    projection_grad: Option<Tensor<B, 2>>,
    bias_grad: Option<Tensor<B, 1>>,
}

impl<B: Backend> ChunkSums<B> {
    fn new(inputs: &ChunkInputs<B>) -> Self {
        let device = inputs.hidden.device();
        let zero = || Tensor::<B, 1>::zeros([1], &device);
        let classes = inputs.projection.dims()[0];
        Self {
            loss: zero(),
            z: zero(),
            normalizer: Normalizer::weighted(zero(), zero()),
            hidden_grads: Vec::new(),
            projection_grad: inputs
                .wants_projection
                .then(|| inputs.projection.zeros_like()),
            bias_grad: inputs.wants_bias.then(|| Tensor::zeros([classes], &device)),
        }
    }

    /// Adds a chunk's input gradients from its transposed logits gradient `Gᵀ` `[V, n]`.
    fn add_gradients(
        &mut self,
        inputs: &ChunkInputs<B>,
        hidden_chunk: Tensor<B, 2>,
        logits_grad_t: Tensor<B, 2>,
    ) {
        if inputs.wants_hidden {
            let mut hidden_grad = hidden_chunk.zeros_like();
            for block in &inputs.class_blocks {
                let gradient_block = logits_grad_t.clone().slice(block.clone()).transpose();
                let projection_block = inputs.projection.clone().slice(block.clone());
                hidden_grad = hidden_grad + gradient_block.matmul(projection_block);
            }
            self.hidden_grads.push(hidden_grad);
        }
        if let Some(mut sum) = self.projection_grad.take() {
            for block in &inputs.class_blocks {
                // The product on the left, so the addition reuses its buffer; the slice of
                // `sum` is a view, released before the assignment, which then writes into `sum`
                // in place (the whole `[V, H]` product would be a second buffer of its size).
                let product = logits_grad_t
                    .clone()
                    .slice(block.clone())
                    .matmul(hidden_chunk.clone());
                let updated = product + sum.clone().slice(block.clone());
                sum = sum.slice_assign(block.clone(), updated);
            }
            self.projection_grad = Some(sum);
        }
        self.bias_grad = self
            .bias_grad
            .take()
            .map(|sum| sum + logits_grad_t.sum_dim(1).squeeze_dim(1));
    }
}

/// Rows of the `[V, H]` projection taken by one matmul.
const PROJECTION_BLOCK: usize = 4096;
