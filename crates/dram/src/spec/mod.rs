//! The device model as data: organisation and timing of each preset, the
//! commands, and the constraint table generated from them.

mod command;
mod constraints;
mod device;
pub mod docs;
pub mod presets;

pub use command::{Command, CommandSink, IssuedCommand, NullCommandSink, Scope, Target, TeeSink};
pub use constraints::{
    Constraint, ConstraintTable, Formula, Param, Rule, WindowConstraint, WindowRule, RULES,
    WINDOW_RULES,
};
pub use device::{DeviceSpec, Organization, PerBankRefresh, Timing};
