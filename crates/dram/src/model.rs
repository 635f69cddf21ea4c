use crate::{BandwidthModel, CycleDram, DramConfigError, MemRequest, MemResponse, MemoryPort};
use hwconfig::{DramModel, HwConfig};
use simkit::{Component, Cycle};

/// The memory model a hardware config asks for, behind one [`MemoryPort`]:
/// the DMA engine holds this and does not care which it is.
#[derive(Debug)]
pub enum MemoryModel {
    Bandwidth(BandwidthModel),
    Cycle(Box<CycleDram>),
}

impl MemoryModel {
    /// Builds `dram.model` of a validated config.
    pub fn from_config(hw: &HwConfig) -> Result<Self, DramConfigError> {
        Ok(match hw.dram.model {
            DramModel::Bandwidth => MemoryModel::Bandwidth(BandwidthModel::from_config(hw)),
            DramModel::Cycle => MemoryModel::Cycle(Box::new(CycleDram::from_config(hw)?)),
        })
    }

    fn port(&self) -> &dyn MemoryPort {
        match self {
            MemoryModel::Bandwidth(m) => m,
            MemoryModel::Cycle(m) => m.as_ref(),
        }
    }

    fn port_mut(&mut self) -> &mut dyn MemoryPort {
        match self {
            MemoryModel::Bandwidth(m) => m,
            MemoryModel::Cycle(m) => m.as_mut(),
        }
    }
}

impl Component for MemoryModel {
    fn tick(&mut self, now: Cycle) {
        self.port_mut().tick(now);
    }

    fn next_event(&self, now: Cycle) -> Option<Cycle> {
        self.port().next_event(now)
    }
}

impl MemoryPort for MemoryModel {
    fn burst_bytes(&self) -> u64 {
        self.port().burst_bytes()
    }

    fn can_accept(&self, addr: u64, is_write: bool) -> bool {
        self.port().can_accept(addr, is_write)
    }

    fn push(&mut self, now: Cycle, request: MemRequest) -> Result<(), MemRequest> {
        self.port_mut().push(now, request)
    }

    fn pop_response(&mut self, now: Cycle) -> Option<MemResponse> {
        self.port_mut().pop_response(now)
    }

    fn in_flight(&self) -> usize {
        self.port().in_flight()
    }

    fn peak_bytes_per_second(&self) -> f64 {
        self.port().peak_bytes_per_second()
    }

    fn completion_cycle(&self, id: u64) -> Option<Cycle> {
        self.port().completion_cycle(id)
    }
}
