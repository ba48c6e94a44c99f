//! Losses between two predicted distributions beyond PyTorch: Hinton's knowledge distillation
//! (a student against a teacher's softened softmax, optionally mixed with the hard-label cross
//! entropy) and the Jensen-Shannon divergence.

mod js_div;
mod knowledge;

pub use js_div::*;
pub use knowledge::*;
