//! The cycle-level DRAM: one controller per channel behind an address
//! decoder, driven either in memory cycles (trace replay) or through
//! [`MemoryPort`] in core cycles with an exact clock crossing.

use crate::controller::{ChannelController, ChannelCounters, Completion, ControllerConfig};
use crate::mapping::AddressDecoder;
use crate::spec::{presets, CommandSink, ConstraintTable, DeviceSpec, NullCommandSink};
use crate::{ClockCrossing, DramConfigError, MemRequest, MemResponse, MemoryPort};
use hwconfig::{AddressMapping, HwConfig, RefreshPolicy};
use simkit::{Component, Cycle, CycleAccount};
use std::fmt;

/// Everything but the preset that shapes a cycle-level DRAM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CycleDramSettings {
    pub channels: u64,
    pub ranks: u64,
    pub mapping: AddressMapping,
    pub controller: ControllerConfig,
}

impl CycleDramSettings {
    pub fn from_config(hw: &HwConfig) -> Self {
        let d = &hw.dram;
        CycleDramSettings {
            channels: d.channels,
            ranks: d.ranks,
            mapping: d.address_mapping.clone(),
            controller: ControllerConfig {
                refresh: d.refresh,
                ..ControllerConfig::new(
                    d.read_queue as usize,
                    d.write_queue as usize,
                    d.page_policy,
                )
            },
        }
    }
}

pub struct CycleDram {
    spec: DeviceSpec,
    ranks: u64,
    table: ConstraintTable,
    decoder: AddressDecoder,
    controllers: Vec<ChannelController>,
    crossing: ClockCrossing,
    /// Memory cycles started so far when driven through [`MemoryPort`].
    memory_cycles_started: Cycle,
    /// The latest memory cycle ticked (or pushed at) through the memory-clock interface.
    memory_now: Option<Cycle>,
    in_flight: usize,
    port_sink: Box<dyn CommandSink + Send>,
    /// Step every channel in every ticked cycle, ignoring wake-ups.
    eager: bool,
}

impl fmt::Debug for CycleDram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CycleDram")
            .field("preset", &self.spec.name)
            .field("channels", &self.controllers.len())
            .field("ranks", &self.ranks)
            .field("in_flight", &self.in_flight)
            .finish_non_exhaustive()
    }
}

impl CycleDram {
    /// Builds the DRAM of `spec` with `settings`, for a core clock of `core_hz`.
    pub fn new(
        spec: &DeviceSpec,
        settings: &CycleDramSettings,
        core_hz: u64,
    ) -> Result<Self, DramConfigError> {
        spec.check()
            .map_err(|reason| DramConfigError::new("dram.preset", reason))?;
        let max_ranks = spec.org.max_ranks.min(crate::controller::MAX_RANKS as u64);
        if settings.ranks == 0 || settings.ranks > max_ranks {
            return Err(DramConfigError::new(
                "dram.ranks",
                format!(
                    "{} ranks per channel; {} allows 1 to {max_ranks}",
                    settings.ranks, spec.name
                ),
            ));
        }
        if settings.channels == 0 || !settings.channels.is_power_of_two() {
            return Err(DramConfigError::new(
                "dram.channels",
                format!("{} is not a positive power of two", settings.channels),
            ));
        }
        if !settings.ranks.is_power_of_two() {
            return Err(DramConfigError::new(
                "dram.ranks",
                format!("{} is not a power of two", settings.ranks),
            ));
        }
        if settings.controller.read_queue == 0 || settings.controller.write_queue == 0 {
            return Err(DramConfigError::new(
                if settings.controller.read_queue == 0 {
                    "dram.read_queue"
                } else {
                    "dram.write_queue"
                },
                "a controller queue needs at least one entry",
            ));
        }
        if settings.controller.refresh == RefreshPolicy::PerBank
            && spec.timing.per_bank_refresh.is_none()
        {
            let with: Vec<&str> = presets::PRESETS
                .iter()
                .filter(|p| p.timing.per_bank_refresh.is_some())
                .map(|p| p.name)
                .collect();
            return Err(DramConfigError::new(
                "dram.refresh",
                format!(
                    "preset {} has no per-bank refresh timing (presets with it: {})",
                    spec.name,
                    with.join(", ")
                ),
            ));
        }
        let decoder = AddressDecoder::new(
            &settings.mapping,
            &spec.org,
            settings.channels,
            settings.ranks,
        )?;
        let table = ConstraintTable::generate(spec, settings.ranks);
        let controllers = (0..settings.channels)
            .map(|c| {
                ChannelController::new(
                    c as u32,
                    spec,
                    settings.ranks,
                    &table,
                    settings.controller.clone(),
                )
            })
            .collect();
        Ok(CycleDram {
            spec: spec.clone(),
            ranks: settings.ranks,
            table,
            decoder,
            controllers,
            crossing: ClockCrossing::new(core_hz, spec.timing.clock_hz),
            memory_cycles_started: 0,
            memory_now: None,
            in_flight: 0,
            port_sink: Box::new(NullCommandSink),
            eager: false,
        })
    }

    /// From a validated hardware config (`dram.model = "cycle"`).
    pub fn from_config(hw: &HwConfig) -> Result<Self, DramConfigError> {
        let core_hz = hw.clock_hz().round() as u64;
        if core_hz == 0 {
            return Err(DramConfigError::new(
                "core.clock_mhz",
                "the core clock must be at least 1 Hz",
            ));
        }
        Self::new(
            presets::preset(hw.dram.preset),
            &CycleDramSettings::from_config(hw),
            core_hz,
        )
    }

    pub fn spec(&self) -> &DeviceSpec {
        &self.spec
    }

    pub fn ranks(&self) -> u64 {
        self.ranks
    }

    pub fn channels(&self) -> usize {
        self.controllers.len()
    }

    pub fn table(&self) -> &ConstraintTable {
        &self.table
    }

    pub fn decoder(&self) -> &AddressDecoder {
        &self.decoder
    }

    pub fn crossing(&self) -> ClockCrossing {
        self.crossing
    }

    /// Makes every channel schedule in every cycle ticked through
    /// [`CycleDram::tick_memory`] instead of only at its wake-up cycle. Results must not change (the wake-ups are exact);
    /// tests use this, with a driver ticking every cycle, to check that.
    pub fn set_eager(&mut self, eager: bool) {
        self.eager = eager;
    }

    /// Where commands issued while driven through [`MemoryPort`] go.
    pub fn set_command_sink(&mut self, sink: Box<dyn CommandSink + Send>) {
        self.port_sink = sink;
    }

    /// Event counts summed over channels.
    pub fn counters(&self) -> ChannelCounters {
        let mut total = ChannelCounters::default();
        for c in &self.controllers {
            total.add(c.counters());
        }
        total
    }

    /// Bytes read from and written to the DRAM devices so far (reads answered
    /// from the write queue and merged writes move no bytes).
    pub fn traffic_bytes(&self) -> (u64, u64) {
        let c = self.counters();
        let burst = self.spec.org.burst_bytes();
        (
            (c.reads - c.forwarded_reads) * burst,
            (c.writes - c.merged_writes) * burst,
        )
    }

    /// Per-channel accounts of memory cycles `0..end`.
    pub fn accounts(&self, end: Cycle) -> Vec<CycleAccount> {
        self.controllers.iter().map(|c| c.account(end)).collect()
    }

    // ---- Memory-clock interface -------------------------------------------------

    /// Runs the scheduling of memory cycle `now` on every channel that has
    /// work in it. Cycles must not go backwards; cycles before
    /// [`CycleDram::next_tick`] may be skipped.
    ///
    /// # Panics
    /// If `now` is before a cycle already ticked or pushed at (a driver bug).
    #[inline]
    pub fn tick_memory(&mut self, now: Cycle, sink: &mut dyn CommandSink) {
        if let Some(last) = self.memory_now {
            assert!(now >= last, "memory cycle {now} ticked after cycle {last}");
        }
        self.memory_now = Some(now);
        if self.eager {
            for c in &mut self.controllers {
                c.step(now, sink);
            }
        } else {
            tick_channels(&mut self.controllers, now, sink);
        }
    }

    /// Ticks every cycle up to and including `now` that has scheduling work.
    pub fn advance_memory_to(&mut self, now: Cycle, sink: &mut dyn CommandSink) {
        loop {
            let next = self.next_tick();
            if next > now || self.memory_now.is_some_and(|last| next < last) {
                break;
            }
            self.tick_memory(next, sink);
        }
    }

    /// The next memory cycle in which some channel has scheduling work.
    pub fn next_tick(&self) -> Cycle {
        next_wake(&self.controllers)
    }

    /// The next memory cycle at which anything happens: scheduling work or a completion.
    #[inline]
    pub fn next_memory_event(&self) -> Cycle {
        self.controllers
            .iter()
            .map(|c| c.wake().min(c.next_completion().unwrap_or(Cycle::MAX)))
            .min()
            .unwrap_or(Cycle::MAX)
    }

    pub fn can_accept_addr(&self, addr: u64, is_write: bool) -> bool {
        let channel = self.decoder.channel(addr) as usize;
        self.controllers[channel].can_accept(is_write)
    }

    /// Offers a request after the tick of memory cycle `now`. Cycles before
    /// `now` that were not ticked are ticked first (without a command sink:
    /// a driver that records commands ticks them itself).
    #[inline]
    pub fn push_memory(&mut self, now: Cycle, request: MemRequest) -> Result<(), MemRequest> {
        if self.memory_now.is_none_or(|last| last < now) {
            self.advance_memory_to(now, &mut NullCommandSink);
            self.memory_now = Some(now);
        }
        self.accept(request, now, now + crate::controller::FRONTEND_CYCLES)
    }

    #[inline]
    fn accept(
        &mut self,
        request: MemRequest,
        arrival: Cycle,
        visible: Cycle,
    ) -> Result<(), MemRequest> {
        debug_assert!(request.bytes <= self.spec.org.burst_bytes());
        // Drivers offer a refused request again and again: refuse it cheaply.
        if !self.can_accept_addr(request.addr, request.is_write) {
            return Err(request);
        }
        self.enqueue(request, arrival, visible)
    }

    /// [`CycleDram::accept`] once the request's channel has room.
    fn enqueue(
        &mut self,
        request: MemRequest,
        arrival: Cycle,
        visible: Cycle,
    ) -> Result<(), MemRequest> {
        let location = self.decoder.decode(request.addr);
        let line = self.decoder.line(request.addr);
        let accepted = self.controllers[location.channel as usize].accept(
            request.id,
            line,
            location.target,
            request.is_write,
            arrival,
            visible,
        );
        if accepted {
            self.in_flight += 1;
            Ok(())
        } else {
            Err(request)
        }
    }

    /// The next completion done by memory cycle `now` (earliest first, ties
    /// to the lowest channel).
    #[inline]
    pub fn pop_memory_completion(&mut self, now: Cycle) -> Option<Completion> {
        let mut earliest: Option<(Cycle, usize)> = None;
        for (i, c) in self.controllers.iter().enumerate() {
            if let Some(done) = c.next_completion() {
                if done <= now && earliest.is_none_or(|(best, _)| done < best) {
                    earliest = Some((done, i));
                }
            }
        }
        let completion = self.controllers[earliest?.1].pop_completion(now)?;
        self.in_flight -= 1;
        Some(completion)
    }

    /// Advances through every memory cycle that has started by the end of
    /// core cycle `core_now`, running only those with scheduling work.
    fn advance_to_core_cycle(&mut self, core_now: Cycle) {
        let started = self.crossing.memory_cycles_through(core_now);
        loop {
            let next = next_wake(&self.controllers);
            if next >= started {
                break;
            }
            tick_channels(&mut self.controllers, next, self.port_sink.as_mut());
        }
        self.memory_cycles_started = self.memory_cycles_started.max(started);
    }
}

fn tick_channels(controllers: &mut [ChannelController], now: Cycle, sink: &mut dyn CommandSink) {
    for c in controllers {
        if c.wake() <= now {
            c.step(now, sink);
        }
    }
}

fn next_wake(controllers: &[ChannelController]) -> Cycle {
    controllers
        .iter()
        .map(|c| c.wake())
        .min()
        .unwrap_or(Cycle::MAX)
}

impl Component for CycleDram {
    fn tick(&mut self, now: Cycle) {
        self.advance_to_core_cycle(now);
    }

    fn next_event(&self, now: Cycle) -> Option<Cycle> {
        let memory = self.next_memory_event();
        (memory != Cycle::MAX).then(|| self.crossing.core_cycle_of(memory).max(now))
    }
}

impl MemoryPort for CycleDram {
    fn burst_bytes(&self) -> u64 {
        self.spec.org.burst_bytes()
    }

    fn can_accept(&self, addr: u64, is_write: bool) -> bool {
        self.can_accept_addr(addr, is_write)
    }

    /// The request arrives after the last memory cycle started by the end of
    /// `now` and can be scheduled from the next one.
    fn push(&mut self, _now: Cycle, request: MemRequest) -> Result<(), MemRequest> {
        let visible = self.memory_cycles_started;
        self.accept(request, visible.saturating_sub(1), visible)
    }

    fn pop_response(&mut self, now: Cycle) -> Option<MemResponse> {
        let latest = self.crossing.memory_cycles_through(now).checked_sub(1)?;
        let c = self.pop_memory_completion(latest)?;
        Some(MemResponse {
            id: c.id,
            is_write: c.is_write,
            done_cycle: self.crossing.core_cycle_of(c.done),
        })
    }

    fn in_flight(&self) -> usize {
        self.in_flight
    }

    fn peak_bytes_per_second(&self) -> f64 {
        self.spec.channel_peak_bytes_per_second() * self.controllers.len() as f64
    }
}
