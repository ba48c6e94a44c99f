//! Connectionist temporal classification (CTC): the negative log-likelihood of a label sequence
//! summed over every alignment of it to a longer input sequence.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, IndexingUpdateOp, Int, Tensor};

use crate::mechanics::gradient::{Constant, gradient_carrier, with_gradient};
use crate::mechanics::indexing::gather;
use crate::mechanics::reduction::{LossSum, Reduction};
use crate::mechanics::validation::{fail, fail_option};

const LOSS: &str = "CtcLoss";

/// Configuration of [`CtcLoss`], with PyTorch's option names and defaults (`torch.nn.CTCLoss`).
#[derive(Config, Debug)]
pub struct CtcLossConfig {
    /// The class index of the blank label. It must be below the class count C, which `forward`
    /// checks.
    #[config(default = 0)]
    pub blank: usize,
    /// Replace infinite losses (a label sequence too long for its input) and their gradients
    /// by 0.
    #[config(default = false)]
    pub zero_infinity: bool,
    /// The reduction applied by `forward`. `Mean` (PyTorch's `'mean'`) divides each sample's
    /// loss by its target length (at least 1), then averages over the batch; `BatchMean` is the
    /// sum divided by the batch size N.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Check the lengths and labels (reads them back from the device). Turn off only for
    /// throughput, with inputs known to be valid: bad values then give meaningless losses, but
    /// never an out-of-range read.
    #[config(default = true)]
    pub check_targets: bool,
}

impl CtcLossConfig {
    /// Builds the loss. No option can be invalid on its own: `blank` is checked against the
    /// class count of each call.
    pub fn init<B: Backend>(&self, _device: &B::Device) -> CtcLoss<B> {
        CtcLoss {
            blank: self.blank,
            zero_infinity: self.zero_infinity,
            reduction: self.reduction,
            check_targets: self.check_targets,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The CTC loss (Graves et al., 2006), exactly as `torch.nn.CTCLoss`: the negative
/// log-probability of each sample's label sequence, summed over all its alignments to the input.
///
/// With `lp = log_probs`, a label sequence `y_1 ... y_L` is extended with blanks to
/// `l' = [blank, y_1, blank, y_2, ..., y_L, blank]` (length `2L + 1`), and the forward variables
/// run in log space over the sample's input length `T_n`:
///
/// ```text
/// α_0(0) = lp_0(blank)     α_0(1) = lp_0(y_1)     α_0(s) = -∞ for s ≥ 2
/// α_t(s) = logsumexp(α_{t-1}(s), α_{t-1}(s-1), α_{t-1}(s-2) if l'_s ≠ blank and l'_s ≠ l'_{s-2}) + lp_t(l'_s)
/// ℓ_n    = -logsumexp(α_{T_n - 1}(2L), α_{T_n - 1}(2L - 1))
/// Mean   = (1/N) Σ_n ℓ_n / max(L_n, 1)     Sum = Σ_n ℓ_n     BatchMean = Sum / N
/// ```
///
/// An empty label sequence gives `ℓ = -Σ_t lp_t(blank)`; an input length of 0 gives 0 for an
/// empty label sequence and `+∞` otherwise. A label sequence that cannot fit its input (it
/// needs `L` steps plus one per repeated neighbour, since repeats need a blank between them)
/// gives `+∞`, or 0 with `zero_infinity`; those samples still count in the batch mean.
///
/// # Shapes
/// - log_probs: `(T, N, C)`, time first; normally the output of a log-softmax over C (not
///   checked)
/// - targets: `(N, S)`, `Int`, padded: row n holds its labels in its first `target_lengths[n]`
///   entries, the rest is ignored
/// - input_lengths, target_lengths: `(N)`, `Int`, in `[0, T]` and `[0, S]`
/// - unreduced output: `(N)`
///
/// # Gradients
/// The gradient is the exact derivative of the loss with respect to `log_probs`:
/// `-exp(α_t(s) + β_t(s) + ℓ_n)` summed over the extended positions `s` labelled with each
/// class, where `β_t(s)` is the backward variable (the log-probability of finishing from
/// state `s` at time `t`, emissions after `t` only); 0 for `t ≥ T_n`.
///
/// PyTorch's own `log_probs.grad` differs: its CTC backward adds `exp(log_probs)` times the
/// upstream gradient (it assumes a log-softmax comes next). That term vanishes in the gradient
/// with respect to the logits whenever the log-probabilities come from a log-softmax, which is
/// how PyTorch's tests check CTC and how this crate's tests compare with PyTorch: both apply
/// `log_softmax` to the same logits and compare the logits' gradients.
///
/// # Differences from PyTorch
/// - A label equal to `blank` or outside `[0, C)` in the used part of a target row panics:
///   PyTorch accepts a blank label and returns a meaningless value (and reads out of range for
///   an invalid class).
/// - An infinite loss without `zero_infinity` has a zero gradient, where PyTorch's is NaN for
///   the whole sample: the loss value still reports `+∞`, while the other samples of the batch
///   keep finite gradients (with `Sum` or `Mean`, PyTorch's NaN would reach every parameter).
/// - Targets are padded `(N, S)` only (no concatenated 1-D form) and the input is always batched.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = CtcLossConfig::new().init::<NdArray>(&device);
/// // T = 3, N = 1, C = 3: log-probabilities of 3 classes at 3 time steps.
/// let log_probs = Tensor::<NdArray, 3>::from_floats(
///     [[[0.5f32, 0.3, 0.2]], [[0.4, 0.4, 0.2]], [[0.6, 0.1, 0.3]]],
///     &device,
/// )
/// .log();
/// let targets = Tensor::<NdArray, 2, Int>::from_ints([[1, 2]], &device);
/// let input_lengths = Tensor::<NdArray, 1, Int>::from_ints([3], &device);
/// let target_lengths = Tensor::<NdArray, 1, Int>::from_ints([2], &device);
/// let value = loss.forward(log_probs, targets, input_lengths, target_lengths);
/// // PyTorch: 0.8410043026344679 (the sample's 1.6820086 divided by its target length 2).
/// assert!((value.into_scalar() - 0.8410043).abs() < 1e-5);
/// ```
#[derive(Module, Debug)]
pub struct CtcLoss<B: Backend> {
    /// The class index of the blank label.
    pub blank: usize,
    /// Whether infinite losses (and their gradients) are replaced by 0.
    pub zero_infinity: bool,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    /// Whether lengths and labels are checked.
    pub check_targets: bool,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> CtcLoss<B> {
    /// The loss reduced with the configured reduction.
    ///
    /// # Panics
    /// See [`forward_no_reduction`](Self::forward_no_reduction).
    pub fn forward(
        &self,
        log_probs: Tensor<B, 3>,
        targets: Tensor<B, 2, Int>,
        input_lengths: Tensor<B, 1, Int>,
        target_lengths: Tensor<B, 1, Int>,
    ) -> Tensor<B, 1> {
        let batch_size = log_probs.dims()[1];
        match self.reduction {
            Reduction::Mean => self
                .forward_sum(log_probs, targets, input_lengths, target_lengths)
                .mean(),
            other => other.reduce(
                self.forward_no_reduction(log_probs, targets, input_lengths, target_lengths),
                batch_size,
            ),
        }
    }

    /// The numerator of the `Mean` reduction, the sum of each sample's loss divided by its
    /// target length (at least 1), and the number of samples, whose [`mean`](LossSum::mean) is
    /// the `Mean` reduction: to divide by the sample count of a larger batch (see [`LossSum`]).
    ///
    /// # Panics
    /// See [`forward_no_reduction`](Self::forward_no_reduction).
    pub fn forward_sum(
        &self,
        log_probs: Tensor<B, 3>,
        targets: Tensor<B, 2, Int>,
        input_lengths: Tensor<B, 1, Int>,
        target_lengths: Tensor<B, 1, Int>,
    ) -> LossSum<B> {
        let losses =
            self.forward_no_reduction(log_probs, targets, input_lengths, target_lengths.clone());
        let dtype = losses.dtype();
        LossSum::of_elements(losses / target_lengths.clamp_min(1).float().cast(dtype))
    }

    /// The loss of every sample: shape `(N)`.
    ///
    /// # Panics
    /// If `log_probs` is empty, `blank` is not below C, `targets` does not have N rows, a length
    /// tensor does not have N entries, or (with `check_targets`) an input length is outside
    /// `[0, T]`, a target length outside `[0, S]`, or a used label is `blank` or outside
    /// `[0, C)`.
    pub fn forward_no_reduction(
        &self,
        log_probs: Tensor<B, 3>,
        targets: Tensor<B, 2, Int>,
        input_lengths: Tensor<B, 1, Int>,
        target_lengths: Tensor<B, 1, Int>,
    ) -> Tensor<B, 1> {
        self.check_shapes(
            &log_probs.dims(),
            &targets.dims(),
            &input_lengths.dims(),
            &target_lengths.dims(),
        );
        if self.check_targets {
            self.check_values(&log_probs.dims(), &targets, &input_lengths, &target_lengths);
        }
        let [time, batch, classes] = log_probs.dims();
        let max_target = targets.dims()[1];
        // Every tensor created below takes the dtype of the inputs (f64 stays f64); the lengths
        // take the targets' integer dtype so that comparisons see one dtype. They are clamped so
        // that every gather stays in range even with the checks off.
        let float = log_probs.dtype();
        let int = targets.dtype();
        let input_lengths = input_lengths.cast(int).clamp(0, time as i64);
        let target_lengths = target_lengths.cast(int).clamp(0, max_target as i64);
        let labels = self.extended_labels(targets, &target_lengths, classes);
        let width = labels.dims()[1];

        // The recursions run on detached values and the gradient comes back through a carrier
        // (src/mechanics/gradient.rs) holding the closed-form alpha-beta gradient, rather than autodiff
        // through the recursion. Autodiff would take one time slice of the log-probabilities
        // per step, and the backward of every slice builds (and adds) a zero tensor of the full
        // (T, N, 2S + 1) shape: O(T^2 N S) time for long inputs, plus ~10 saved tensors per
        // step. The analytic backward keeps the alphas and betas, O(T N S), and its gradient is
        // the exact derivative (without PyTorch's extra `exp(log_probs)` term, see the rustdoc).
        let detached = log_probs.clone().constant();
        let gather_index: Tensor<B, 3, Int> = labels.clone().unsqueeze_dim(0).repeat_dim(0, time);
        let label_log_probs = gather(detached, 2, gather_index.clone());
        let skip = skip_allowed(&labels, self.blank);
        let device = label_log_probs.device();
        let steps: Tensor<B, 2, Int> = Tensor::arange(0..time as i64, (&device, int))
            .reshape([time, 1])
            .expand([time, batch]);
        let active: Tensor<B, 3, Bool> = steps
            .lower(input_lengths.reshape([1, batch]).expand([time, batch]))
            .unsqueeze_dim::<3>(2)
            .expand([time, batch, width]);
        let at = |tensor: &Tensor<B, 3>, step: usize| -> Tensor<B, 2> {
            tensor.clone().narrow(0, step, 1).reshape([batch, width])
        };
        let active_at = |step: usize| -> Tensor<B, 2, Bool> {
            active.clone().narrow(0, step, 1).reshape([batch, width])
        };
        let positions: Tensor<B, 2, Int> = Tensor::arange(0..width as i64, (&device, int))
            .reshape([1, width])
            .expand([batch, width]);
        // As in `gradient_carrier`: an intermediate tensor's tracking is invisible to Burn's API.
        let tracked = B::ad_enabled(&device);

        // alpha_{-1}: the empty alignment, log 1 at state 0. Every step then uses the same
        // transitions, and a sample whose input has ended keeps its alphas unchanged.
        let mut alpha: Tensor<B, 2> = Tensor::zeros([batch, width], (&device, float))
            .mask_fill(positions.clone().greater_elem(0), f32::NEG_INFINITY);
        let mut alphas = Vec::with_capacity(if tracked { time } else { 0 });
        for step in 0..time {
            let skipped =
                shift_right(alpha.clone(), 2).mask_fill(skip.clone().bool_not(), f32::NEG_INFINITY);
            let next = log_sum_exp(vec![alpha.clone(), shift_right(alpha.clone(), 1), skipped])
                + at(&label_log_probs, step);
            alpha = alpha.mask_where(active_at(step), next);
            if tracked {
                alphas.push(alpha.clone());
            }
        }

        let end: Tensor<B, 2, Int> = (target_lengths.clone() * 2).reshape([batch, 1]);
        let no_labels = target_lengths.equal_elem(0).reshape([batch, 1]);
        let last = gather(alpha.clone(), 1, end.clone());
        let before_last = gather(alpha, 1, (end.clone() - 1).clamp_min(0))
            .mask_fill(no_labels, f32::NEG_INFINITY);
        let nll = log_sum_exp(vec![last, before_last]).neg().reshape([batch]);
        let infinite = nll.clone().is_inf();
        let losses = if self.zero_infinity {
            nll.clone().mask_fill(infinite.clone(), 0.0)
        } else {
            nll.clone()
        };
        if !tracked {
            return losses;
        }

        // The loss of sample n sums the gradient over the steps and the classes: dimensions 0
        // and 2 of `[T, N, C]`.
        let carrier = gradient_carrier(
            &log_probs,
            || {
                // beta_t(s): the log-probability of the emissions after t, from state s at t to an
                // end state at T_n - 1. At the last active step (and after it) only the end states.
                let end = end.expand([batch, width]);
                let is_end = positions
                    .clone()
                    .equal(end.clone())
                    .bool_or((positions.clone() + 1).equal(end));
                let at_end: Tensor<B, 2> = Tensor::zeros([batch, width], (&device, float))
                    .mask_fill(is_end.bool_not(), f32::NEG_INFINITY);
                let skip_from = shift_left_bool(skip.clone(), 2);
                let mut beta = at_end.clone();
                let mut betas = vec![beta.clone()];
                for step in (0..time.saturating_sub(1)).rev() {
                    let emitted = at(&label_log_probs, step + 1) + beta;
                    let skipped = shift_left(emitted.clone(), 2)
                        .mask_fill(skip_from.clone().bool_not(), f32::NEG_INFINITY);
                    beta = log_sum_exp(vec![emitted.clone(), shift_left(emitted, 1), skipped])
                        .mask_where(active_at(step + 1).bool_not(), at_end.clone());
                    betas.push(beta.clone());
                }
                betas.reverse();
                // The posterior occupancy of each state; 0 after the input's end and for infinite
                // losses (whose log-occupancy is -inf + inf = NaN).
                let log_occupancy = Tensor::stack::<3>(alphas, 0)
                    + Tensor::stack::<3>(betas, 0)
                    + nll.clone().reshape([1, batch, 1]);
                let unused = active
                    .clone()
                    .bool_not()
                    .bool_or(infinite.reshape([1, batch, 1]).expand([time, batch, width]));
                let occupancy = log_occupancy.exp().mask_fill(unused, 0.0);
                Tensor::zeros([time, batch, classes], (&device, float)).scatter(
                    2,
                    gather_index,
                    occupancy.neg(),
                    IndexingUpdateOp::Add,
                )
            },
            [1, batch, 1],
        )
        .map(|carrier| carrier.reshape([batch]));
        with_gradient(losses, carrier)
    }

    #[track_caller]
    fn check_shapes(
        &self,
        log_probs: &[usize; 3],
        targets: &[usize; 2],
        input_lengths: &[usize; 1],
        target_lengths: &[usize; 1],
    ) {
        let [time, batch, classes] = *log_probs;
        if time == 0 || batch == 0 || classes == 0 {
            fail(
                LOSS,
                "log_probs",
                "a non-empty (T, N, C) tensor",
                format_args!("shape {log_probs:?}"),
            );
        }
        if self.blank >= classes {
            fail_option(
                LOSS,
                "blank",
                format_args!("a class index below C = {classes} (dimension 2 of `log_probs`)"),
                self.blank,
            );
        }
        if targets[0] != batch {
            fail(
                LOSS,
                "targets",
                format_args!("shape [N, S] with N = {batch} (dimension 1 of `log_probs`)"),
                format_args!("shape {targets:?}"),
            );
        }
        for (argument, dims) in [
            ("input_lengths", input_lengths),
            ("target_lengths", target_lengths),
        ] {
            if dims[0] != batch {
                fail(
                    LOSS,
                    argument,
                    format_args!("shape [{batch}] (N, dimension 1 of `log_probs`)"),
                    format_args!("shape {dims:?}"),
                );
            }
        }
    }

    /// Checks the lengths and the used labels, reading them back from the device at once.
    #[track_caller]
    fn check_values(
        &self,
        log_probs: &[usize; 3],
        targets: &Tensor<B, 2, Int>,
        input_lengths: &Tensor<B, 1, Int>,
        target_lengths: &Tensor<B, 1, Int>,
    ) {
        let [time, batch, classes] = *log_probs;
        let max_target = targets.dims()[1];
        let int = targets.dtype();
        let mut parts = vec![
            input_lengths.clone().cast(int),
            target_lengths.clone().cast(int),
        ];
        if max_target > 0 {
            parts.push(targets.clone().flatten(0, 1));
        }
        let values: Vec<i64> = Tensor::cat(parts, 0).into_data().iter::<i64>().collect();
        let (input_lengths, rest) = values.split_at(batch);
        let (target_lengths, labels) = rest.split_at(batch);
        if let Some(bad) = input_lengths.iter().find(|&&l| l < 0 || l > time as i64) {
            fail(
                LOSS,
                "input_lengths",
                format_args!("values in [0, {time}] (T, dimension 0 of `log_probs`)"),
                bad,
            );
        }
        if let Some(bad) = target_lengths
            .iter()
            .find(|&&l| l < 0 || l > max_target as i64)
        {
            fail(
                LOSS,
                "target_lengths",
                format_args!("values in [0, {max_target}] (S, dimension 1 of `targets`)"),
                bad,
            );
        }
        for (row, &length) in target_lengths.iter().enumerate() {
            for column in 0..length as usize {
                let label = labels[row * max_target + column];
                let expected = if label < 0 || label >= classes as i64 {
                    format!("labels in [0, {classes})")
                } else if label == self.blank as i64 {
                    format!("labels other than blank {}", self.blank)
                } else {
                    continue;
                };
                fail(
                    LOSS,
                    "targets",
                    format_args!("{expected} in the first target_lengths[n] entries of row n"),
                    format_args!("{label} at [{row}, {column}]"),
                );
            }
        }
    }

    /// The extended label sequences `[blank, y_1, blank, ..., y_S, blank]`, shape `(N, 2S + 1)`;
    /// padding positions (beyond a row's target length) hold `blank`, so they never join an
    /// alignment of the real labels.
    fn extended_labels(
        &self,
        targets: Tensor<B, 2, Int>,
        target_lengths: &Tensor<B, 1, Int>,
        classes: usize,
    ) -> Tensor<B, 2, Int> {
        let [batch, max_target] = targets.dims();
        let device = targets.device();
        let blank = self.blank as i64;
        let int = targets.dtype();
        let closing = Tensor::full([batch, 1], blank, (&device, int));
        if max_target == 0 {
            return closing;
        }
        let padding = Tensor::<B, 1, Int>::arange(0..max_target as i64, (&device, int))
            .reshape([1, max_target])
            .expand([batch, max_target])
            .greater_equal(
                target_lengths
                    .clone()
                    .reshape([batch, 1])
                    .expand([batch, max_target]),
            );
        let labels = targets
            .mask_fill(padding, blank)
            .clamp(0, classes as i64 - 1);
        let blanks = Tensor::full([batch, max_target], blank, (&device, int));
        let pairs: Tensor<B, 3, Int> = Tensor::stack(vec![blanks, labels], 2);
        Tensor::cat(vec![pairs.reshape([batch, 2 * max_target]), closing], 1)
    }
}

/// Where the transition `s - 2 -> s` is allowed: `l'_s` is not blank and differs from
/// `l'_{s-2}` (never for `s < 2`).
fn skip_allowed<B: Backend>(labels: &Tensor<B, 2, Int>, blank: usize) -> Tensor<B, 2, Bool> {
    let [batch, width] = labels.dims();
    if width < 3 {
        return Tensor::<B, 2, Int>::zeros([batch, width], &labels.device()).equal_elem(1);
    }
    // Comparing the first two positions with themselves makes them "equal", hence not allowed.
    let two_back = Tensor::cat(
        vec![
            labels.clone().narrow(1, 0, 2),
            labels.clone().narrow(1, 0, width - 2),
        ],
        1,
    );
    labels
        .clone()
        .not_equal_elem(blank as i64)
        .bool_and(labels.clone().not_equal(two_back))
}

/// `y[s] = x[s - k]`, with `-inf` for `s < k`.
fn shift_right<B: Backend>(x: Tensor<B, 2>, k: usize) -> Tensor<B, 2> {
    let [batch, width] = x.dims();
    let fill = Tensor::full(
        [batch, k.min(width)],
        f32::NEG_INFINITY,
        (&x.device(), x.dtype()),
    );
    if k >= width {
        return fill;
    }
    Tensor::cat(vec![fill, x.narrow(1, 0, width - k)], 1)
}

/// `y[s] = x[s + k]`, with `-inf` for `s + k` past the end.
fn shift_left<B: Backend>(x: Tensor<B, 2>, k: usize) -> Tensor<B, 2> {
    let [batch, width] = x.dims();
    let fill = Tensor::full(
        [batch, k.min(width)],
        f32::NEG_INFINITY,
        (&x.device(), x.dtype()),
    );
    if k >= width {
        return fill;
    }
    Tensor::cat(vec![x.narrow(1, k, width - k), fill], 1)
}

/// `y[s] = x[s + k]`, with `false` past the end.
fn shift_left_bool<B: Backend>(x: Tensor<B, 2, Bool>, k: usize) -> Tensor<B, 2, Bool> {
    let [batch, width] = x.dims();
    let fill = Tensor::<B, 2, Int>::zeros([batch, k.min(width)], &x.device()).equal_elem(1);
    if k >= width {
        return fill;
    }
    Tensor::cat(vec![x.narrow(1, k, width - k), fill], 1)
}

/// The element-wise log-sum-exp of `terms`; `-inf` where every term is `-inf`.
fn log_sum_exp<B: Backend>(terms: Vec<Tensor<B, 2>>) -> Tensor<B, 2> {
    let max = terms
        .iter()
        .cloned()
        .reduce(|a, b| a.max_pair(b))
        .expect("at least one term");
    // Shift by the maximum unless it is infinite (all terms -inf: exp gives 0, log -inf).
    let shift = max.clone().mask_fill(max.is_inf(), 0.0);
    terms
        .into_iter()
        .map(|term| (term - shift.clone()).exp())
        .reduce(|a, b| a + b)
        .expect("at least one term")
        .log()
        + shift
}
