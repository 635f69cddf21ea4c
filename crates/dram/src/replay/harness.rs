//! The trace-replay harness of `../shared/reference/README.md`: in every
//! cycle the device ticks, then requests are offered in trace order until
//! one is refused (head-of-line blocking). With `max_outstanding = K` at
//! most K reads are in flight, so K = 1 offers the next request only after
//! the previous read returned. The run ends when every request has been
//! accepted and every read has returned. Cycles in which nothing can
//! change are skipped; the result equals a cycle-by-cycle run.

use super::report::DramReport;
use crate::controller::ChannelCounters;
use crate::spec::CommandSink;
use crate::{BandwidthModel, CycleDram, MemRequest, MemResponse, MemoryPort};
use simkit::{Component, Cycle};

/// Accept cycles of the requests in flight, by request id. Ids are reused
/// once their request has completed, so an id is an index into a table as
/// long as the most requests ever in flight at once.
#[derive(Debug, Default)]
struct InFlight {
    accepted_at: Vec<Cycle>,
    free_ids: Vec<u64>,
}

impl InFlight {
    /// The id the next request gets.
    fn next_id(&self) -> u64 {
        self.free_ids
            .last()
            .copied()
            .unwrap_or(self.accepted_at.len() as u64)
    }

    /// Records that the request with id [`InFlight::next_id`] was accepted.
    fn insert(&mut self, accepted: Cycle) {
        match self.free_ids.pop() {
            Some(id) => self.accepted_at[id as usize] = accepted,
            None => self.accepted_at.push(accepted),
        }
    }

    fn remove(&mut self, id: u64) -> Cycle {
        self.free_ids.push(id);
        self.accepted_at[id as usize]
    }
}

/// A device the harness can drive, in its own clock.
pub trait ReplayDevice {
    fn burst_bytes(&self) -> u64;
    /// Length of one of the cycles the device counts, in ns.
    fn cycle_ns(&self) -> f64;
    fn peak_bytes_per_second(&self) -> f64;
    fn tick(&mut self, now: Cycle, sink: &mut dyn CommandSink);
    fn try_push(&mut self, now: Cycle, request: MemRequest) -> Result<(), MemRequest>;
    /// A completion done by `now`; `done_cycle` in the device's cycles.
    fn pop_response(&mut self, now: Cycle) -> Option<MemResponse>;
    /// The first cycle ≥ `from` at which ticking or a completion can change
    /// anything, if any.
    fn next_event(&self, from: Cycle) -> Option<Cycle>;
    /// Row-buffer and command counts so far (zero for models without rows).
    fn counters(&self) -> ChannelCounters;
}

impl ReplayDevice for CycleDram {
    fn burst_bytes(&self) -> u64 {
        self.spec().org.burst_bytes()
    }
    fn cycle_ns(&self) -> f64 {
        self.spec().timing.tck_ns()
    }
    fn peak_bytes_per_second(&self) -> f64 {
        MemoryPort::peak_bytes_per_second(self)
    }
    #[inline]
    fn tick(&mut self, now: Cycle, sink: &mut dyn CommandSink) {
        self.tick_memory(now, sink);
    }
    #[inline]
    fn try_push(&mut self, now: Cycle, request: MemRequest) -> Result<(), MemRequest> {
        self.push_memory(now, request)
    }
    #[inline]
    fn pop_response(&mut self, now: Cycle) -> Option<MemResponse> {
        self.pop_memory_completion(now).map(|c| MemResponse {
            id: c.id,
            is_write: c.is_write,
            done_cycle: c.done,
        })
    }
    #[inline]
    fn next_event(&self, from: Cycle) -> Option<Cycle> {
        let next = self.next_memory_event();
        (next != Cycle::MAX).then_some(next.max(from))
    }
    fn counters(&self) -> ChannelCounters {
        CycleDram::counters(self)
    }
}

/// The bandwidth model replays in core cycles.
impl ReplayDevice for BandwidthModel {
    fn burst_bytes(&self) -> u64 {
        MemoryPort::burst_bytes(self)
    }
    fn cycle_ns(&self) -> f64 {
        1e9 / self.core_hz() as f64
    }
    fn peak_bytes_per_second(&self) -> f64 {
        MemoryPort::peak_bytes_per_second(self)
    }
    fn tick(&mut self, now: Cycle, _sink: &mut dyn CommandSink) {
        Component::tick(self, now);
    }
    fn try_push(&mut self, now: Cycle, request: MemRequest) -> Result<(), MemRequest> {
        self.push(now, request)
    }
    fn pop_response(&mut self, now: Cycle) -> Option<MemResponse> {
        MemoryPort::pop_response(self, now)
    }
    fn next_event(&self, from: Cycle) -> Option<Cycle> {
        Component::next_event(self, from)
    }
    fn counters(&self) -> ChannelCounters {
        ChannelCounters::default()
    }
}

/// How requests are offered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Reads in flight at most; `None` = as many as the device accepts
    /// (give a limit for a device that never refuses, like the bandwidth
    /// pipe, or the whole trace is accepted at once).
    pub max_outstanding: Option<usize>,
    /// Tick every cycle instead of jumping to the next event (for checking
    /// that skipping changes nothing).
    pub every_cycle: bool,
}

/// Replays `trace` (`(addr, is_write)` per request, or the first error,
/// which is returned) on `device`, sending every issued command to `sink`.
pub fn replay<D, E>(
    device: &mut D,
    trace: impl IntoIterator<Item = Result<(u64, bool), E>>,
    options: ReplayOptions,
    sink: &mut dyn CommandSink,
) -> Result<DramReport, E>
where
    D: ReplayDevice,
{
    let burst_bytes = device.burst_bytes();
    let limit = options.max_outstanding.unwrap_or(usize::MAX).max(1);
    let mut trace = trace.into_iter();
    let mut head = trace.next().transpose()?;
    let mut in_flight = InFlight::default();
    let mut reads_in_flight = 0usize;
    let (mut reads, mut writes, mut latency_sum) = (0u64, 0u64, 0u64);
    let mut now: Cycle = 0;
    loop {
        device.tick(now, sink);
        while let Some(response) = device.pop_response(now) {
            let accepted = in_flight.remove(response.id);
            if !response.is_write {
                latency_sum += response.done_cycle - accepted;
                reads_in_flight -= 1;
            }
        }
        while let Some((addr, is_write)) = head {
            if reads_in_flight >= limit {
                break;
            }
            let request = MemRequest {
                id: in_flight.next_id(),
                addr,
                is_write,
                bytes: burst_bytes,
            };
            if device.try_push(now, request).is_err() {
                break;
            }
            in_flight.insert(now);
            if is_write {
                writes += 1;
            } else {
                reads += 1;
                reads_in_flight += 1;
            }
            head = trace.next().transpose()?;
        }
        if head.is_none() && reads_in_flight == 0 {
            break;
        }
        now = if options.every_cycle {
            now + 1
        } else {
            device
                .next_event(now + 1)
                .expect("a device with requests in flight has a next event")
        };
    }
    Ok(DramReport::new(
        reads,
        writes,
        now,
        burst_bytes,
        device.cycle_ns(),
        device.peak_bytes_per_second(),
        latency_sum,
        &device.counters(),
    ))
}
