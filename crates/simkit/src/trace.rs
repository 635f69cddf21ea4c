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
    /// The instruction this slice executes (unique within a run), if any.
    pub id: Option<u64>,
    /// Instructions whose signals released this one's token waits (their
    /// slices were recorded before this one), for flow arrows.
    pub released_by: &'a [u64],
}

/// Where units send trace events; the driver decides the format.
pub trait TraceSink {
    fn record(&mut self, event: &TraceEvent<'_>);

    /// A counter track `name` takes `value` from `cycle` on (timeline columns).
    fn counter(&mut self, _name: &'static str, _cycle: Cycle, _value: f64) {}
}

/// Discards every event.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullTraceSink;

impl TraceSink for NullTraceSink {
    fn record(&mut self, _event: &TraceEvent<'_>) {}
}
