//! The shared mechanics of every loss, in dependency order (no module imports one listed
//! after it): checks and their messages, indexed reads, elementary functions, gradient
//! carriers, reductions, class-index targets and the assembly of element-wise losses.

pub(crate) mod assembly;
pub(crate) mod class_targets;
pub(crate) mod gradient;
pub(crate) mod indexing;
pub(crate) mod last_dim;
pub(crate) mod numerics;
pub(crate) mod reduction;
pub(crate) mod validation;
