//! Sequence losses: alignments between an input sequence and a shorter label sequence.

mod ctc;

pub use ctc::*;
