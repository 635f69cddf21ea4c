//! DMA engine tests: one binary sharing the small driver in `common`.

mod common;
mod properties;
mod transfers;
