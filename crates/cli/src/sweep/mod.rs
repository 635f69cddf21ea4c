//! `flatsim sweep`: cartesian sweeps over run parameters, parallel and
//! resumable, shardable for Slurm job arrays.

pub mod merge;
pub mod runner;
pub mod shard;
pub mod slurm;
pub mod spec;
pub mod stored;
pub mod table;
