use crate::{MemRequest, MemResponse, MemoryPort};
use simkit::{Component, Cycle, CycleAccount, CycleState};
use std::collections::VecDeque;

/// A fixed-rate pipe with a fixed latency, as analytical models (and FLAT's
/// own) assume: requests are served in order, each occupying the pipe for
/// `bytes / bandwidth`, and complete `latency` after their last byte.
///
/// Time inside the pipe is kept exactly, in units of 1 / (core_hz ·
/// bytes_per_second) seconds, so a long stream loses no fraction of a cycle.
#[derive(Debug, Clone)]
pub struct BandwidthModel {
    bytes_per_second: u64,
    latency_cycles: Cycle,
    burst_bytes: u64,
    max_in_flight: usize,
    core_hz: u64,
    /// When the pipe has moved every accepted byte, in core cycles × bytes_per_second.
    pipe_free_scaled: u128,
    in_flight: VecDeque<MemResponse>,
    account: CycleAccount,
    accounted_through: Cycle,
    read_bytes: u64,
    write_bytes: u64,
}

impl BandwidthModel {
    /// # Panics
    /// If a rate, the burst or the queue size is zero (configs are validated first).
    pub fn new(
        core_hz: u64,
        bytes_per_second: u64,
        latency_cycles: Cycle,
        burst_bytes: u64,
        max_in_flight: usize,
    ) -> Self {
        assert!(core_hz > 0 && bytes_per_second > 0 && burst_bytes > 0 && max_in_flight > 0);
        BandwidthModel {
            bytes_per_second,
            latency_cycles,
            burst_bytes,
            max_in_flight,
            core_hz,
            pipe_free_scaled: 0,
            in_flight: VecDeque::new(),
            account: CycleAccount::default(),
            accounted_through: 0,
            read_bytes: 0,
            write_bytes: 0,
        }
    }

    /// From a validated hardware config (`dram.model = "bandwidth"`). The
    /// pipe itself never refuses a request: how many are in flight is the
    /// requester's limit (`dma.max_outstanding`), as in the analytical models
    /// this mode stands for.
    pub fn from_config(hw: &hwconfig::HwConfig) -> Self {
        let core_hz = hw.clock_hz().round() as u64;
        let gib_per_s = hw.dram.bandwidth_gib_per_s.unwrap_or(1.0);
        let bytes_per_second = (gib_per_s * (1u64 << 30) as f64).round().max(1.0) as u64;
        let latency_cycles = (hw.dram.latency_ns * 1e-9 * core_hz as f64).round() as Cycle;
        BandwidthModel::new(core_hz, bytes_per_second, latency_cycles, 64, usize::MAX)
    }

    /// The core clock the model counts cycles of.
    pub fn core_hz(&self) -> u64 {
        self.core_hz
    }

    pub fn latency_cycles(&self) -> Cycle {
        self.latency_cycles
    }

    pub fn read_bytes(&self) -> u64 {
        self.read_bytes
    }

    pub fn write_bytes(&self) -> u64 {
        self.write_bytes
    }

    /// Cycles of the pipe before `end`: busy while moving bytes, idle otherwise.
    pub fn account_until(&mut self, end: Cycle) -> &CycleAccount {
        self.settle(end);
        &self.account
    }

    /// Charges cycles `accounted_through..end`. The pipe has been busy
    /// without a gap from the last push up to `pipe_free_cycle`.
    fn settle(&mut self, end: Cycle) {
        if end <= self.accounted_through {
            return;
        }
        let busy_until = self.pipe_free_cycle().clamp(self.accounted_through, end);
        self.account
            .charge(CycleState::Busy, busy_until - self.accounted_through);
        self.account.charge(CycleState::Idle, end - busy_until);
        self.accounted_through = end;
    }

    /// First core cycle at or after which the pipe is free.
    fn pipe_free_cycle(&self) -> Cycle {
        self.pipe_free_scaled
            .div_ceil(self.bytes_per_second as u128) as Cycle
    }
}

impl Component for BandwidthModel {
    fn tick(&mut self, now: Cycle) {
        self.settle(now);
    }

    fn next_event(&self, now: Cycle) -> Option<Cycle> {
        self.in_flight.front().map(|r| r.done_cycle.max(now))
    }
}

impl MemoryPort for BandwidthModel {
    fn burst_bytes(&self) -> u64 {
        self.burst_bytes
    }

    fn can_accept(&self, _addr: u64, _is_write: bool) -> bool {
        self.in_flight.len() < self.max_in_flight
    }

    fn push(&mut self, now: Cycle, request: MemRequest) -> Result<(), MemRequest> {
        if !self.can_accept(request.addr, request.is_write) {
            return Err(request);
        }
        let bps = self.bytes_per_second as u128;
        let start = self.pipe_free_scaled.max(now as u128 * bps);
        self.pipe_free_scaled = start + request.bytes as u128 * self.core_hz as u128;
        let done_cycle = (self.pipe_free_cycle() + self.latency_cycles).max(now + 1);
        if request.is_write {
            self.write_bytes += request.bytes;
        } else {
            self.read_bytes += request.bytes;
        }
        self.in_flight.push_back(MemResponse {
            id: request.id,
            is_write: request.is_write,
            done_cycle,
        });
        Ok(())
    }

    fn pop_response(&mut self, now: Cycle) -> Option<MemResponse> {
        match self.in_flight.front() {
            Some(r) if r.done_cycle <= now => self.in_flight.pop_front(),
            _ => None,
        }
    }

    fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    fn peak_bytes_per_second(&self) -> f64 {
        self.bytes_per_second as f64
    }

    fn completion_cycle(&self, id: u64) -> Option<Cycle> {
        // Usually asked right after the push: search from the newest.
        self.in_flight
            .iter()
            .rev()
            .find(|r| r.id == id)
            .map(|r| r.done_cycle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Streams `bytes` in bursts, pushing greedily each cycle; returns the
    /// cycle at which the last response is seen.
    fn stream(model: &mut BandwidthModel, bytes: u64) -> Cycle {
        let bursts = bytes.div_ceil(model.burst_bytes());
        let (mut pushed, mut done, mut now) = (0, 0, 0);
        loop {
            model.tick(now);
            while pushed < bursts && model.can_accept(0, false) {
                let request = MemRequest {
                    id: pushed,
                    addr: pushed * 64,
                    is_write: false,
                    bytes: 64,
                };
                model.push(now, request).unwrap();
                pushed += 1;
            }
            while model.pop_response(now).is_some() {
                done += 1;
            }
            if done == bursts {
                return now;
            }
            now += 1;
        }
    }

    #[test]
    fn tile_takes_bytes_over_bandwidth_plus_latency() {
        // 64 B per cycle at 1 GHz, 100-cycle latency, unbounded queue.
        let mut model = BandwidthModel::new(1_000_000_000, 64_000_000_000, 100, 64, 1 << 20);
        let end = stream(&mut model, 64 * 1000);
        assert_eq!(end, 1000 + 100);
        let account = model.account_until(end + 1);
        assert!(account.check(end + 1).is_ok());
        assert_eq!(account.busy_cycles(), 1000);
    }

    #[test]
    fn fractional_rates_do_not_drift() {
        // 50 GiB/s at 940 MHz = 57.11 bytes per cycle.
        let core_hz = 940_000_000;
        let bps = 50u64 << 30;
        let mut model = BandwidthModel::new(core_hz, bps, 94, 64, 1 << 20);
        let bytes = 64 * 100_000;
        let end = stream(&mut model, bytes);
        let exact = bytes as f64 * core_hz as f64 / bps as f64 + 94.0;
        assert!(
            (end as f64 - exact).abs() <= 1.0,
            "end {end}, exact {exact}"
        );
    }

    #[test]
    fn little_law_limits_a_shallow_queue() {
        // 8 slots; slot j's first burst leaves the pipe at j+1 and completes at
        // j+101; each later round adds the 101-cycle round trip plus the
        // harness's one cycle from a response to the next push.
        let mut model = BandwidthModel::new(1_000_000_000, 64_000_000_000, 100, 64, 8);
        let end = stream(&mut model, 64 * 800);
        assert_eq!(end, 7 + 101 + 102 * 99);
    }

    #[test]
    fn completion_cycles_are_known_on_acceptance() {
        let mut model = BandwidthModel::new(1_000_000_000, 64_000_000_000, 100, 64, 8);
        model.tick(3);
        for id in 0..3 {
            let request = MemRequest {
                id,
                addr: id * 64,
                is_write: false,
                bytes: 64,
            };
            model.push(3, request).unwrap();
        }
        assert_eq!(model.completion_cycle(0), Some(104));
        assert_eq!(model.completion_cycle(2), Some(106));
        assert_eq!(model.completion_cycle(9), None);
        assert_eq!(model.pop_response(104).map(|r| r.done_cycle), Some(104));
        assert_eq!(model.completion_cycle(0), None, "popped");
    }

    #[test]
    fn responses_come_no_earlier_than_next_cycle() {
        let mut model = BandwidthModel::new(1_000_000_000, u64::MAX / 1024, 0, 64, 4);
        model.tick(5);
        model
            .push(
                5,
                MemRequest {
                    id: 7,
                    addr: 0,
                    is_write: true,
                    bytes: 64,
                },
            )
            .unwrap();
        assert_eq!(model.pop_response(5), None);
        assert_eq!(model.pop_response(6).map(|r| r.id), Some(7));
        assert_eq!(model.write_bytes(), 64);
    }
}
