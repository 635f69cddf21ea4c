use simkit::{Component, Cycle};

/// One memory request of at most one burst.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemRequest {
    /// Chosen by the requester; echoed in the response.
    pub id: u64,
    pub addr: u64,
    pub is_write: bool,
    pub bytes: u64,
}

/// Completion of a request: the data of a read has arrived, or a write has
/// been performed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemResponse {
    pub id: u64,
    pub is_write: bool,
    /// Core cycle at which the completion is visible to the requester.
    pub done_cycle: Cycle,
}

/// The interface the DMA engine (and the trace replayer) use, in core cycles.
///
/// Protocol per core cycle `now`: `tick(now)` first, then any number of
/// `can_accept`/`push`, then `pop_response(now)` until it returns `None`.
/// Responses are visible no earlier than the cycle after the push.
pub trait MemoryPort: Component {
    /// Bytes of one burst; the DMA splits transfers into requests of this size.
    fn burst_bytes(&self) -> u64;
    /// Whether a request to `addr` would be accepted now.
    fn can_accept(&self, addr: u64, is_write: bool) -> bool;
    /// Offers a request at core cycle `now`; gives it back when refused.
    fn push(&mut self, now: Cycle, request: MemRequest) -> Result<(), MemRequest>;
    /// The next completion visible at `now`, in completion order.
    fn pop_response(&mut self, now: Cycle) -> Option<MemResponse>;
    /// Requests accepted and not yet completed.
    fn in_flight(&self) -> usize;
    /// Peak bytes per second of the device.
    fn peak_bytes_per_second(&self) -> f64;
    /// The core cycle at which the response to request `id` (accepted, not
    /// yet popped) becomes visible, if the model has fixed it already — a
    /// fixed-latency pipe fixes it on acceptance. `None` when not known yet:
    /// the requester then wakes at `next_event`. Lets a requester that waits
    /// for a group of responses sleep until the last of them.
    fn completion_cycle(&self, _id: u64) -> Option<Cycle> {
        None
    }
}
