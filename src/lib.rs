#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod backends;
mod class_targets;
mod gradient;
mod indexing;
mod last_dim;
mod numerics;
mod reduction;
mod validation;

pub mod classification;
pub mod embedding;
pub mod margin;
pub mod multilabel;
pub mod regression;
pub mod sequence;

pub use classification::*;
pub use embedding::*;
pub use margin::*;
pub use multilabel::*;
pub use reduction::Reduction;
pub use regression::*;
pub use sequence::*;
