//! What the driver needs of an off-chip memory model beyond the DMA's port:
//! its cycle account and statistics.

use simkit::{account_stats, Cycle, CycleAccount, StatDecl, StatValue};

pub trait MemoryModel: dram::MemoryPort {
    /// Cycles before `end` (core clock), every one accounted.
    fn account_until(&mut self, end: Cycle) -> &CycleAccount;
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

impl MemoryModel for dram::BandwidthModel {
    fn account_until(&mut self, end: Cycle) -> &CycleAccount {
        dram::BandwidthModel::account_until(self, end)
    }

    fn traffic_bytes(&self) -> (u64, u64) {
        (self.read_bytes(), self.write_bytes())
    }

    fn stats(&mut self, end: Cycle) -> Vec<StatValue> {
        let mut stats = account_stats(self.account_until(end), end);
        stats.push(STAT_READ_BYTES.value(self.read_bytes() as f64));
        stats.push(STAT_WRITE_BYTES.value(self.write_bytes() as f64));
        stats
    }
}
