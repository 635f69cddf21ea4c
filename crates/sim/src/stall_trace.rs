//! Stall slices for traces: each unit's stalled cycles coalesced into runs
//! of one reason, on a track of their own ("<unit> stalls"), so they never
//! overlap the unit's instruction slices or each other.

use isa::Unit;
use simkit::{Cycle, CycleState, StallReason, TraceEvent, TraceSink};

#[derive(Debug, Default)]
pub(crate) struct StallTrace {
    /// Per unit (by `Unit::index`), the open stall run: reason and first cycle.
    open: [Option<(StallReason, Cycle)>; 3],
}

fn track(unit: Unit) -> &'static str {
    match unit {
        Unit::Dma => "dma stalls",
        Unit::Pe => "pe stalls",
        Unit::Vector => "vector stalls",
    }
}

impl StallTrace {
    /// The units were in `states` from `from` on (until the next call).
    pub(crate) fn observe(
        &mut self,
        from: Cycle,
        states: [Option<CycleState>; 3],
        sink: &mut dyn TraceSink,
    ) {
        for unit in Unit::ALL {
            let reason = match states[unit.index()] {
                Some(CycleState::Stalled(reason)) => Some(reason),
                _ => None,
            };
            let open = &mut self.open[unit.index()];
            if open.map(|(r, _)| r) == reason {
                continue;
            }
            if let Some((r, start)) = open.take() {
                emit(sink, unit, r, start, from);
            }
            *open = reason.map(|r| (r, from));
        }
    }

    /// Closes every open stall run at `end`.
    pub(crate) fn finish(&mut self, end: Cycle, sink: &mut dyn TraceSink) {
        for unit in Unit::ALL {
            if let Some((reason, start)) = self.open[unit.index()].take() {
                emit(sink, unit, reason, start, end);
            }
        }
    }
}

fn emit(sink: &mut dyn TraceSink, unit: Unit, reason: StallReason, start: Cycle, end: Cycle) {
    if end > start {
        sink.record(&TraceEvent {
            unit: track(unit),
            name: reason.name(),
            start_cycle: start,
            end_cycle: end,
            args: &[],
            id: None,
            released_by: &[],
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Slices(Vec<(&'static str, String, Cycle, Cycle)>);

    impl TraceSink for Slices {
        fn record(&mut self, e: &TraceEvent<'_>) {
            self.0
                .push((e.unit, e.name.to_owned(), e.start_cycle, e.end_cycle));
        }
    }

    #[test]
    fn runs_of_one_reason_become_one_slice() {
        let stalled = Some(CycleState::Stalled(StallReason::WaitToken));
        let busy = Some(CycleState::Busy);
        let mut trace = StallTrace::default();
        let mut sink = Slices::default();
        trace.observe(0, [busy, stalled, busy], &mut sink);
        trace.observe(4, [busy, stalled, stalled], &mut sink);
        trace.observe(9, [busy, busy, stalled], &mut sink);
        trace.finish(12, &mut sink);
        assert_eq!(
            sink.0,
            vec![
                ("pe stalls", "wait_token".to_owned(), 0, 9),
                ("vector stalls", "wait_token".to_owned(), 4, 12),
            ]
        );
    }
}
