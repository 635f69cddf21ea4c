use crate::banks::Banks;
use crate::stats::{client_stat_decls, SRAM_STATS};
use crate::{SramClient, SramRequest, SramResponse};
use simkit::{
    account_stats, Component, Cycle, CycleAccount, CycleState, Ledger, StallReason, StatValue,
    TimedQueue,
};
use std::collections::VecDeque;

/// Chunks one request may span: the width of the grant mask.
const MAX_REQUEST_CHUNKS: u64 = u128::BITS as u64;

/// Cycles from a write request pushed by a client to its acknowledgement
/// being visible to that client: one cycle on the request link, granted on
/// arrival, one cycle on the response queue.
pub const WRITE_ROUND_TRIP_CYCLES: Cycle = 2;

/// What a client needs to know about its link to the SRAM to pace itself
/// and to tell a request's normal latency from a conflict's delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SramLinkTiming {
    /// Cycles from pushing a read request to its data being delivered when no
    /// conflict delays it: one cycle on the request link, then the read latency.
    pub read_round_trip_cycles: Cycle,
    /// Cycles from pushing a write request to its acknowledgement being
    /// delivered when no conflict delays it ([`WRITE_ROUND_TRIP_CYCLES`]).
    pub write_round_trip_cycles: Cycle,
    /// The longest range the SRAM takes in one request from any address (a
    /// request spans at most 128 bank words; a strided one, from its first
    /// byte to its last, likewise); clients split longer accesses.
    pub max_request_bytes: u64,
    /// The interleaving granularity: requests that share a bank word
    /// compete for its ports.
    pub bank_width_bytes: u64,
    /// One line of the banks: `min(banks, 128)` bank words, a power of two.
    /// A request that stays within one aligned line touches every bank at
    /// most once, so it is served in one cycle unless another client holds
    /// its banks' ports; clients cut long accesses at multiples of it.
    pub line_bytes: u64,
}

impl SramLinkTiming {
    fn new(banks: u64, bank_width_bytes: u64, read_latency_cycles: Cycle) -> Self {
        SramLinkTiming {
            read_round_trip_cycles: 1 + read_latency_cycles,
            write_round_trip_cycles: WRITE_ROUND_TRIP_CYCLES,
            // One chunk of the mask is lost when a request starts mid-chunk.
            max_request_bytes: (MAX_REQUEST_CHUNKS - 1) * bank_width_bytes,
            bank_width_bytes,
            line_bytes: banks.min(MAX_REQUEST_CHUNKS) * bank_width_bytes,
        }
    }

    /// The link timing an SRAM of `config` gives its clients (to check a
    /// configuration without building the SRAM).
    pub fn of(config: &hwconfig::Sram) -> Self {
        Self::new(
            config.banks,
            config.bank_width_bytes,
            config.read_latency_cycles,
        )
    }
}

/// Live bytes would leave `0..=capacity`: the driver's region bookkeeping
/// disagrees with the compiler's plan.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LiveBytesError {
    #[error("SRAM overflow: {live_bytes} bytes live + {wanted_bytes} wanted > capacity {capacity_bytes}")]
    Overflow {
        live_bytes: u64,
        wanted_bytes: u64,
        capacity_bytes: u64,
    },
    #[error("SRAM underflow: releasing {released_bytes} bytes but only {live_bytes} are live")]
    Underflow {
        live_bytes: u64,
        released_bytes: u64,
    },
}

/// A request accepted from a client, with the chunks still to be granted.
#[derive(Clone, Copy, Debug)]
struct Pending {
    request: SramRequest,
    first_chunk: u64,
    /// Bit i set: chunk `first_chunk + i` still needs a port.
    remaining: u128,
}

/// One client's side of the SRAM.
#[derive(Debug, Clone)]
struct Port {
    inbox: VecDeque<Pending>,
    inbox_capacity: usize,
    responses: TimedQueue<SramResponse>,
    bytes: u64,
    conflict_cycles: u64,
}

/// The banked scratchpad (design §3) as a cycle-level component.
///
/// Each cycle it grants bank ports to the pending requests of its clients in
/// the fixed priority of [`SramClient::ALL`]. Within a client, requests are
/// served in order: each of the head request's ungranted chunks takes a port
/// of its bank if one is free; when a chunk finds its bank's ports taken, the
/// rest of that client's requests wait for the next cycle and the client is
/// charged a conflict cycle. A request completes in the cycle its last chunk
/// is granted: a read's response becomes visible `read_latency_cycles` later,
/// a write's acknowledgement one cycle later.
#[derive(Debug, Clone)]
pub struct Sram {
    capacity_bytes: u64,
    bank_width_bytes: u64,
    read_latency_cycles: Cycle,
    banks: Banks,
    ports: Vec<Port>,
    pending_requests: usize,
    live_bytes: u64,
    peak_live_bytes: u64,
    ledger: Ledger,
}

impl Sram {
    /// `port_capacity`: requests each client's inbox and response queue hold.
    ///
    /// # Panics
    /// If `port_capacity` is zero or the config was not validated.
    pub fn new(config: &hwconfig::Sram, port_capacity: usize) -> Self {
        assert!(port_capacity > 0, "SRAM ports need room for a request");
        assert!(
            config.read_latency_cycles >= 1,
            "read latency is at least one cycle"
        );
        let ports = SramClient::ALL
            .iter()
            .map(|client| Port {
                inbox: VecDeque::with_capacity(port_capacity),
                inbox_capacity: port_capacity,
                responses: TimedQueue::new(
                    port_capacity,
                    if client.is_write() {
                        1
                    } else {
                        config.read_latency_cycles
                    },
                ),
                bytes: 0,
                conflict_cycles: 0,
            })
            .collect();
        Sram {
            capacity_bytes: config.capacity_bytes,
            bank_width_bytes: config.bank_width_bytes,
            read_latency_cycles: config.read_latency_cycles,
            banks: Banks::new(
                config.banks,
                config.bank_width_bytes,
                config.read_ports_per_bank,
                config.write_ports_per_bank,
            ),
            ports,
            pending_requests: 0,
            live_bytes: 0,
            peak_live_bytes: 0,
            ledger: Ledger::default(),
        }
    }

    pub fn capacity_bytes(&self) -> u64 {
        self.capacity_bytes
    }

    /// Round trips and request size limit of the client links.
    pub fn link_timing(&self) -> SramLinkTiming {
        SramLinkTiming::new(
            self.banks.count(),
            self.bank_width_bytes,
            self.read_latency_cycles,
        )
    }

    /// Moves the requests visible at `now` in `from` (the client's outbound
    /// queue) into `client`'s inbox, as many as it has room for. The driver
    /// calls this (usually through [`crate::exchange`]) at the start of cycle
    /// `now`, before ticking any component.
    ///
    /// # Panics
    /// If a request is empty, leaves the scratchpad, or spans more than 128
    /// bank words (a range longer than [`SramLinkTiming::max_request_bytes`]):
    /// the verifier keeps programs in bounds, so this is a driver bug.
    #[inline]
    pub fn accept(
        &mut self,
        client: SramClient,
        from: &mut TimedQueue<SramRequest>,
        now: Cycle,
    ) -> usize {
        if from.next_ready_cycle().is_none_or(|ready| ready > now) {
            return 0;
        }
        let mut accepted = 0;
        while self.ports[client.index()].inbox.len() < self.ports[client.index()].inbox_capacity {
            let Some(request) = from.pop(now) else { break };
            let pending = self.admit(client, request);
            self.ports[client.index()].inbox.push_back(pending);
            accepted += 1;
        }
        self.pending_requests += accepted;
        accepted
    }

    fn admit(&self, client: SramClient, request: SramRequest) -> Pending {
        let SramRequest {
            addr,
            bytes,
            count,
            stride_bytes,
            ..
        } = request;
        let end = count
            .checked_sub(1)
            .and_then(|c| c.checked_mul(stride_bytes))
            .and_then(|span| addr.checked_add(span))
            .and_then(|last| last.checked_add(bytes));
        assert!(
            bytes > 0 && end.is_some_and(|end| end <= self.capacity_bytes),
            "{} request of {count} × {bytes} bytes from {addr} ({stride_bytes} apart) outside the {}-byte SRAM",
            client.name(),
            self.capacity_bytes
        );
        let first_chunk = self.banks.chunk_of(addr);
        let chunks = self.banks.chunk_of(request.end() - 1) - first_chunk + 1;
        assert!(
            chunks <= MAX_REQUEST_CHUNKS,
            "{} request of {count} × {bytes} bytes spans {chunks} chunks; at most {MAX_REQUEST_CHUNKS}",
            client.name()
        );
        let span = |lo: u64, hi: u64| -> u128 {
            let ones = if hi - lo + 1 == MAX_REQUEST_CHUNKS {
                u128::MAX
            } else {
                (1u128 << (hi - lo + 1)) - 1
            };
            ones << lo
        };
        let remaining = if count == 1 || stride_bytes <= bytes {
            span(0, chunks - 1)
        } else {
            (0..count).fold(0, |mask, i| {
                let piece = addr + i * stride_bytes;
                let lo = self.banks.chunk_of(piece) - first_chunk;
                let hi = self.banks.chunk_of(piece + bytes - 1) - first_chunk;
                mask | span(lo, hi)
            })
        };
        Pending {
            request,
            first_chunk,
            remaining,
        }
    }

    /// `client`'s response queue; the driver pops it (usually through
    /// [`crate::exchange`]) to deliver responses.
    pub fn responses(&mut self, client: SramClient) -> &mut TimedQueue<SramResponse> {
        &mut self.ports[client.index()].responses
    }

    /// Requests accepted and not yet completed, over all clients.
    pub fn pending_requests(&self) -> usize {
        self.pending_requests
    }

    /// A region of `bytes` became live (the driver calls this when a region's
    /// first writer starts).
    pub fn add_live_bytes(&mut self, bytes: u64) -> Result<(), LiveBytesError> {
        let live = self.live_bytes + bytes;
        if live > self.capacity_bytes {
            return Err(LiveBytesError::Overflow {
                live_bytes: self.live_bytes,
                wanted_bytes: bytes,
                capacity_bytes: self.capacity_bytes,
            });
        }
        self.live_bytes = live;
        self.peak_live_bytes = self.peak_live_bytes.max(live);
        Ok(())
    }

    /// A region of `bytes` died (its last reader finished).
    pub fn remove_live_bytes(&mut self, bytes: u64) -> Result<(), LiveBytesError> {
        self.live_bytes = self
            .live_bytes
            .checked_sub(bytes)
            .ok_or(LiveBytesError::Underflow {
                live_bytes: self.live_bytes,
                released_bytes: bytes,
            })?;
        Ok(())
    }

    pub fn live_bytes(&self) -> u64 {
        self.live_bytes
    }

    pub fn peak_live_bytes(&self) -> u64 {
        self.peak_live_bytes
    }

    /// Bytes `client` read (read clients) or wrote (write clients).
    pub fn client_bytes(&self, client: SramClient) -> u64 {
        self.ports[client.index()].bytes
    }

    /// Cycles in which a chunk of `client` found its bank's ports taken.
    pub fn conflict_cycles(&self, client: SramClient) -> u64 {
        self.ports[client.index()].conflict_cycles
    }

    /// Bytes read over all clients.
    pub fn read_bytes(&self) -> u64 {
        self.direction_bytes(false)
    }

    /// Bytes written over all clients.
    pub fn write_bytes(&self) -> u64 {
        self.direction_bytes(true)
    }

    fn direction_bytes(&self, is_write: bool) -> u64 {
        SramClient::ALL
            .iter()
            .filter(|c| c.is_write() == is_write)
            .map(|&c| self.client_bytes(c))
            .sum()
    }

    /// The SRAM's own cycles before `end`: busy when it granted a port,
    /// stalled on `output_backpressure` when every pending request waited for
    /// room in its client's response queue, idle otherwise.
    pub fn account_until(&mut self, end: Cycle) -> &CycleAccount {
        self.ledger.settle(end)
    }

    /// Every declared statistic (see [`crate::SRAM_STATS`]) over `0..end`.
    pub fn stats(&mut self, end: Cycle) -> Vec<StatValue> {
        let mut values = account_stats(self.account_until(end), end);
        let [read, write, peak] = &SRAM_STATS;
        values.push(read.value(self.read_bytes() as f64));
        values.push(write.value(self.write_bytes() as f64));
        values.push(peak.value(self.peak_live_bytes as f64));
        for (client, [bytes, conflicts]) in SramClient::ALL.iter().zip(client_stat_decls()) {
            values.push(bytes.value(self.client_bytes(*client) as f64));
            values.push(conflicts.value(self.conflict_cycles(*client) as f64));
        }
        values
    }

    /// Grants ports to `client`'s requests in order; returns (chunks granted,
    /// whether it waited on a full response queue).
    fn serve(&mut self, client: SramClient, now: Cycle) -> (u64, bool) {
        let is_write = client.is_write();
        let port = &mut self.ports[client.index()];
        let mut granted = 0;
        while let Some(head) = port.inbox.front_mut() {
            if port.responses.is_full() {
                return (granted, true);
            }
            let taken = self
                .banks
                .grant(now, head.first_chunk, head.remaining, is_write);
            granted += u64::from(taken.count_ones());
            head.remaining &= !taken;
            if head.remaining != 0 {
                port.conflict_cycles += 1;
                break;
            }
            let request = head.request;
            port.inbox.pop_front();
            self.pending_requests -= 1;
            port.bytes += request.total_bytes();
            let response = SramResponse {
                tag: request.tag,
                bytes: request.total_bytes(),
                granted_cycle: now,
            };
            if port.responses.push(now, response).is_err() {
                unreachable!("room in the response queue was checked before granting");
            }
        }
        (granted, false)
    }
}

impl Component for Sram {
    fn tick(&mut self, now: Cycle) {
        let mut granted = 0;
        let mut backpressured = false;
        if self.pending_requests > 0 {
            for client in SramClient::ALL {
                let (chunks, full) = self.serve(client, now);
                granted += chunks;
                backpressured |= full;
            }
        }
        let state = if granted > 0 {
            CycleState::Busy
        } else if backpressured {
            CycleState::Stalled(StallReason::OutputBackpressure)
        } else {
            CycleState::Idle
        };
        // With requests still pending, next_event is `now + 1`, so only an
        // empty SRAM has its cycles skipped.
        self.ledger.record(now, state, CycleState::Idle);
    }

    fn next_event(&self, now: Cycle) -> Option<Cycle> {
        if self.pending_requests > 0 {
            return Some(now);
        }
        self.ports
            .iter()
            .filter_map(|p| p.responses.next_ready_cycle())
            .min()
            .map(|ready| ready.max(now))
    }
}
