#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
// docs.rs (`--cfg docsrs`, nightly): every item behind a Cargo feature shows which feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backends;
mod mechanics;

pub mod classification;
pub mod contrastive;
pub mod distillation;
pub mod embedding;
pub mod margin;
pub mod multilabel;
pub mod regression;
pub mod segmentation;
pub mod sequence;

pub use classification::*;
pub use contrastive::*;
pub use distillation::*;
pub use embedding::*;
pub use margin::*;
pub use mechanics::reduction::{LossSum, Normalizer, Reduction};
pub use multilabel::*;
pub use regression::*;
pub use segmentation::*;
pub use sequence::*;
