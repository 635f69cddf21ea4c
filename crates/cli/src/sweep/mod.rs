//! `flatsim sweep`: cartesian sweeps over run parameters, parallel and
//! resumable, shardable for Slurm job arrays.

pub mod runner;
pub mod spec;
pub mod table;
