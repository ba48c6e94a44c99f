//! Classification losses: class indices, class probabilities and binary (multi-label) targets.

mod binary_cross_entropy;
mod binary_cross_entropy_with_logits;
mod cross_entropy;
mod fused_linear_cross_entropy;
mod kl_div;
mod nll;
mod poly;
mod softmax_focal;

pub use binary_cross_entropy::*;
pub use binary_cross_entropy_with_logits::*;
pub use cross_entropy::*;
pub use fused_linear_cross_entropy::*;
pub use kl_div::*;
pub use nll::*;
pub use poly::*;
pub use softmax_focal::*;
