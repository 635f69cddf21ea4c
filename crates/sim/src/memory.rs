//! What the driver needs of the off-chip memory beyond the DMA's port: its
//! cycle account and statistics, for either model of `dram.model`.

use simkit::{account_stats, Cycle, CycleAccount, CycleState, StatDecl, StatValue};

pub trait MemoryModel: dram::MemoryPort {
    /// The account of the run's first `end` core cycles and the cycles it
    /// covers: core cycles for the bandwidth pipe; memory-clock cycles
    /// summed over channels for cycle-level DRAM, which runs in its own
    /// clock domain.
    fn account_until(&mut self, end: Cycle) -> (CycleAccount, u64);
    /// Bytes read and written so far.
    fn traffic_bytes(&self) -> (u64, u64);
    /// Every statistic, including the account's.
    fn stats(&mut self, end: Cycle) -> Vec<StatValue>;
}

pub static STAT_READ_BYTES: StatDecl = StatDecl {
    name: "read_bytes",
    unit: "bytes",
    description: "Bytes read from DRAM",
};
pub static STAT_WRITE_BYTES: StatDecl = StatDecl {
    name: "write_bytes",
    unit: "bytes",
    description: "Bytes written to DRAM",
};

/// Memory cycles started by the end of core cycle `end − 1`.
fn memory_end(dram: &dram::CycleDram, end: Cycle) -> Cycle {
    end.checked_sub(1)
        .map_or(0, |last| dram.crossing().memory_cycles_through(last))
}

impl MemoryModel for dram::MemoryModel {
    fn account_until(&mut self, end: Cycle) -> (CycleAccount, u64) {
        match self {
            dram::MemoryModel::Bandwidth(pipe) => (pipe.account_until(end).clone(), end),
            dram::MemoryModel::Cycle(device) => {
                let memory_end = memory_end(device, end);
                let accounts = device.accounts(memory_end);
                let mut total = CycleAccount::default();
                for account in &accounts {
                    total.charge(CycleState::Busy, account.busy_cycles());
                    total.charge(CycleState::Idle, account.idle_cycles());
                    for reason in simkit::StallReason::ALL {
                        total.charge(CycleState::Stalled(reason), account.stall_cycles(reason));
                    }
                }
                (total, memory_end * accounts.len() as u64)
            }
        }
    }

    fn traffic_bytes(&self) -> (u64, u64) {
        match self {
            dram::MemoryModel::Bandwidth(pipe) => (pipe.read_bytes(), pipe.write_bytes()),
            dram::MemoryModel::Cycle(device) => device.traffic_bytes(),
        }
    }

    fn stats(&mut self, end: Cycle) -> Vec<StatValue> {
        let (read, write) = self.traffic_bytes();
        let mut stats = match self {
            dram::MemoryModel::Bandwidth(pipe) => account_stats(pipe.account_until(end), end),
            dram::MemoryModel::Cycle(device) => device.stats(memory_end(device, end)),
        };
        stats.push(STAT_READ_BYTES.value(read as f64));
        stats.push(STAT_WRITE_BYTES.value(write as f64));
        stats
    }
}
