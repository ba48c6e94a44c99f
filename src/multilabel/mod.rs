//! Multi-label losses beyond PyTorch: the sigmoid focal loss (torchvision), the asymmetric loss
//! (ASL) and ZLPR.

mod asymmetric;
pub(crate) mod logistic;
mod sigmoid_focal;
mod zlpr;

pub use asymmetric::*;
pub use sigmoid_focal::*;
pub use zlpr::*;
