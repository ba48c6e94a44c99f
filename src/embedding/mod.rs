//! Embedding and ranking losses: pairs and triplets of embeddings or scores, and the distances
//! between them.

mod cosine_embedding;
mod distance;
mod hinge_embedding;
mod margin_ranking;
mod triplet_margin;
mod triplet_margin_with_distance;

pub use cosine_embedding::*;
pub use distance::{CosineDistance, Distance, DistanceFn, PairwiseDistance};
pub use hinge_embedding::*;
pub use margin_ranking::*;
pub use triplet_margin::*;
pub use triplet_margin_with_distance::*;
