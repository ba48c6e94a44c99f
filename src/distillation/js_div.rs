//! The Jensen-Shannon divergence between the softmaxes of two sets of logits.

use core::f64::consts::LN_2;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::mechanics::assembly::Elementwise;
use crate::mechanics::class_targets::{
    CLASS_DIM, LogSoftmax, check_has_class_dim, check_reduced_rank,
};
use crate::mechanics::gradient::Constant;
use crate::mechanics::numerics::log1p;
use crate::mechanics::reduction::{LossSum, Reduction, sum_dim};
use crate::mechanics::validation::check_same_shape;

const LOSS: &str = "JsDivLoss";

/// Configuration of [`JsDivLoss`].
#[derive(Config, Debug)]
pub struct JsDivLossConfig {
    /// The reduction applied by `forward`.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl JsDivLossConfig {
    /// Builds the loss (it has no option that can be invalid).
    pub fn init<B: Backend>(&self, _device: &B::Device) -> JsDivLoss<B> {
        JsDivLoss {
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The Jensen-Shannon divergence between `P = softmax(a)` and `Q = softmax(b)` along the class
/// dimension (dimension 1), at every position (Lin 1991):
///
/// ```text
/// M   = (P + Q) / 2
/// JSD = ½ · KL(P || M) + ½ · KL(Q || M)          in [0, ln 2], symmetric in a and b
/// ```
///
/// Both inputs are **logits**, what two models (or one model on two views, as in AugMix's
/// consistency loss) produce. Log-probabilities work as they are, since a log-softmax leaves
/// them unchanged; their gradient is then the one through that log-softmax (it sums to 0 over
/// the classes). `Mean` averages the per-position divergences (the per-sample divergence
/// averaged over the batch on `(N, C)`), `Sum` adds them, `BatchMean` divides the sum by `N`.
///
/// # Gradient
/// Closed-form, to both inputs: with `g_c = log P_c - log M_c`,
///
/// ```text
/// ∂JSD/∂a_c = ½ · P_c · (g_c - KL(P || M))        and the same for b with Q
/// ```
///
/// # Numerics
/// `log P` and `log Q` are log-softmaxes with the maximum subtracted, and
/// `log M = logaddexp(log P, log Q) - ln 2 = max + log1p(exp(-|log P - log Q|)) - ln 2`, so the
/// divergence is exact for logits of ±1e4 and for classes where one distribution is 0. A class
/// where `P_c = 0` (or `Q_c = 0`) contributes 0 to its KL term and to its gradient
/// (`0 · log 0 = 0`).
///
/// # Shapes
/// - both logits: `(N, C)` or `(N, C, d1, ..., dk)`, the same shape
/// - unreduced output: `(N)` or `(N, d1, ..., dk)`
///
/// # Reference
/// PyTorch has no Jensen-Shannon loss. The fixtures (`tests/fixtures/js_div.json`) compute it in
/// torch 2.15, float64, from `F.kl_div`: with `lp`, `lq` the log-softmaxes and
/// `lm = torch.logaddexp(lp, lq) - log 2`,
/// `0.5 * (F.kl_div(lm, lp, log_target=True) + F.kl_div(lm, lq, log_target=True))` summed over
/// dimension 1, autograd giving both gradients.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = JsDivLossConfig::new().init::<NdArray>(&device);
/// let a = Tensor::<NdArray, 2>::from_floats([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], &device);
/// let b = Tensor::<NdArray, 2>::from_floats([[3.0, 1.0, -2.0], [-1.0, 0.5, 2.5]], &device);
/// let value = loss.forward(a, b).into_scalar();
/// assert!((value - 0.0092949).abs() < 1e-6); // torch 2.15: 0.00929494
/// ```
///
/// # References
/// - J. Lin, "Divergence measures based on the Shannon entropy", IEEE Transactions on
///   Information Theory 37(1), 1991.
/// - D. Hendrycks, N. Mu, E. D. Cubuk, B. Zoph, J. Gilmer, B. Lakshminarayanan, "AugMix: A
///   Simple Data Processing Method to Improve Robustness and Uncertainty", ICLR 2020,
///   arXiv:1912.02781 (the divergence as a consistency loss).
#[derive(Module, Debug)]
pub struct JsDivLoss<B: Backend> {
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> JsDivLoss<B> {
    /// The divergence reduced with the configured reduction.
    ///
    /// # Panics
    /// If the logits have no class dimension or their shapes differ.
    pub fn forward<const D: usize>(
        &self,
        logits_p: Tensor<B, D>,
        logits_q: Tensor<B, D>,
    ) -> Tensor<B, 1> {
        let batch_size = logits_p.dims()[0];
        self.reduction
            .finish(self.forward_sum(logits_p, logits_q), batch_size)
    }

    /// The sum of the divergences and their count (positions), whose [`mean`](LossSum::mean)
    /// is the `Mean` reduction: to divide by the count of a larger batch (see [`LossSum`]).
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_sum<const D: usize>(
        &self,
        logits_p: Tensor<B, D>,
        logits_q: Tensor<B, D>,
    ) -> LossSum<B> {
        self.divergences(logits_p, logits_q).summed()
    }

    /// The divergence at every position: `(N)` or `(N, d1, ..., dk)`.
    ///
    /// # Panics
    /// As [`forward`](Self::forward), or if `DT != D - 1`.
    pub fn forward_no_reduction<const D: usize, const DT: usize>(
        &self,
        logits_p: Tensor<B, D>,
        logits_q: Tensor<B, D>,
    ) -> Tensor<B, DT> {
        check_reduced_rank::<D, DT>(LOSS);
        self.divergences(logits_p, logits_q)
            .unreduced()
            .squeeze_dim(CLASS_DIM)
    }

    /// The divergence at every position, the class dimension kept (size 1), and both inputs'
    /// closed-form gradients.
    fn divergences<const D: usize>(
        &self,
        logits_p: Tensor<B, D>,
        logits_q: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        let dims = logits_p.dims();
        check_has_class_dim(LOSS, "logits_p", &dims);
        check_same_shape(LOSS, "logits_q", "logits_p", &dims, &logits_q.dims());
        let p = Side::new(logits_p.clone().constant());
        let q = Side::new(logits_q.clone().constant());
        // log M = logaddexp(log P, log Q) - ln 2. Where both are -inf the difference is NaN;
        // such classes have P = Q = 0, and every term that reads them is masked.
        let high = p.log_probs.clone().max_pair(q.log_probs.clone());
        let low = p.log_probs.clone().min_pair(q.log_probs.clone());
        let log_mixture = high.clone() + log1p((low - high).exp()) - LN_2;
        let p_gaps = p.gaps(&log_mixture);
        let q_gaps = q.gaps(&log_mixture);
        let p_kl = sum_dim(p.weighted(p_gaps.clone()), CLASS_DIM);
        let q_kl = sum_dim(q.weighted(q_gaps.clone()), CLASS_DIM);
        let divergences = (p_kl.clone() + q_kl.clone()) * 0.5;

        Elementwise::new(divergences)
            .gradient(&logits_p, || p.weighted(p_gaps - p_kl) * 0.5)
            .gradient(&logits_q, || q.weighted(q_gaps - q_kl) * 0.5)
    }
}

/// One distribution of the divergence: its log-probabilities and probabilities.
struct Side<B: Backend, const D: usize> {
    log_probs: Tensor<B, D>,
    probs: Tensor<B, D>,
}

impl<B: Backend, const D: usize> Side<B, D> {
    fn new(logits: Tensor<B, D>) -> Self {
        let log_softmax = LogSoftmax::new(logits);
        let log_probs = log_softmax.log_probs();
        let unscaled = log_softmax.max.ones_like();
        let probs = log_softmax.into_scaled_probs(unscaled);
        Self { log_probs, probs }
    }

    /// `log P - log M` for every class.
    fn gaps(&self, log_mixture: &Tensor<B, D>) -> Tensor<B, D> {
        self.log_probs.clone() - log_mixture.clone()
    }

    /// `P · values`, 0 where `P = 0` (whatever `values` is there: `log 0` gives infinities and
    /// NaN).
    fn weighted(&self, values: Tensor<B, D>) -> Tensor<B, D> {
        let zero = self.probs.clone().equal_elem(0.0);
        (self.probs.clone() * values).mask_fill(zero, 0.0)
    }
}
