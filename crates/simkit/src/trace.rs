use crate::Cycle;

/// One traced activity of a unit: a slice `[start_cycle, end_cycle)` on the
/// unit's track, with a name and free-form arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEvent<'a> {
    pub unit: &'static str,
    pub name: &'a str,
    pub start_cycle: Cycle,
    pub end_cycle: Cycle,
    pub args: &'a [(&'static str, String)],
}

/// Where units send trace events; the driver decides the format.
pub trait TraceSink {
    fn record(&mut self, event: &TraceEvent<'_>);
}

/// Discards every event.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullTraceSink;

impl TraceSink for NullTraceSink {
    fn record(&mut self, _event: &TraceEvent<'_>) {}
}
