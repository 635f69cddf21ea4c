//! Vector unit tests: one binary sharing the small driver in `common`.

mod common;
mod formulas;
mod properties;
