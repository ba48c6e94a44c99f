//! Margin losses: soft margin (logistic), multi-label soft margin, multi-label hinge and
//! multi-class hinge.

mod multi_margin;
mod multilabel_margin;
mod multilabel_soft_margin;
mod soft_margin;

pub use multi_margin::*;
pub use multilabel_margin::*;
pub use multilabel_soft_margin::*;
pub use soft_margin::*;
