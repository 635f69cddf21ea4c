//! The declared hardware configuration (design §3). This file is the one
//! place where a key, its type, unit, default, check and meaning are stated.

use crate::value::check;
use crate::{config_enum, section, AddressMapping};

config_enum! {
    /// Systolic-array dataflow: which operand stays in the PEs.
    pub enum PeDataflow { Os = "os", Ws = "ws", Is = "is" }
}

config_enum! {
    /// How DRAM is modelled.
    pub enum DramModel {
        /// A fixed-rate pipe with a latency, as analytical models assume.
        Bandwidth = "bandwidth",
        /// Cycle-level channels, banks, timing constraints and a controller.
        Cycle = "cycle",
    }
}

config_enum! {
    /// A DRAM standard and speed grade, whose timing table the `dram` crate holds.
    pub enum DramPreset { Ddr4_3200 = "ddr4-3200", Ddr4_2400 = "ddr4-2400", Lpddr4_3200 = "lpddr4-3200", Hbm2 = "hbm2", Hbm2Pc = "hbm2-pc" }
}

impl DramPreset {
    /// Nominal peak of one channel in 10⁹ B/s: bus bytes × transfers per
    /// second (the `dram` crate's preset tables agree, by test).
    pub fn channel_peak_gb_per_s(self) -> f64 {
        match self {
            DramPreset::Ddr4_3200 => 8.0 * 3.2,
            DramPreset::Ddr4_2400 => 8.0 * 2.4,
            DramPreset::Lpddr4_3200 => 2.0 * 3.2,
            DramPreset::Hbm2 => 16.0 * 2.0,
            DramPreset::Hbm2Pc => 8.0 * 2.0,
        }
    }
}

config_enum! {
    /// Whether a row stays open after an access.
    pub enum PagePolicy { Open = "open", Closed = "closed" }
}

config_enum! {
    /// How the controller refreshes.
    pub enum RefreshPolicy {
        /// REF of a whole rank every tREFI, for tRFC (every standard has it).
        AllBank = "all-bank",
        /// REFpb of one bank every tREFI / banks, round robin, while the other banks work (presets that tabulate it).
        PerBank = "per-bank",
    }
}

section! {
    /// A hardware configuration file, `version = 1`.
    pub struct HwConfig at "", "Top level of a hardware configuration file." {
        /// Format version of the file; must be 1.
        version: u64 = required, unit = "-", check = check::format_version;
        /// Name of the platform, copied into every output row.
        name: String = required, unit = "-", check = check::not_empty;
        tables { core: Core, pe_array: PeArray, sram: Sram, dram: Dram, vector: Vector, dma: Dma, energy: Energy }
    }
}

section! {
    pub struct Core at "core", "The core clock and data format." {
        /// Core clock frequency; every unit but DRAM runs on it.
        clock_mhz: f64 = required, unit = "MHz", check = check::clock_mhz;
        /// Bytes per tensor element (2 = 16-bit data).
        element_bytes: u64 = (2), unit = "bytes", check = check::element_bytes;
    }
}

section! {
    pub struct PeArray at "pe_array", "The systolic array of multiply-accumulate units." {
        /// Rows of processing elements.
        rows: u64 = required, unit = "PEs", check = check::count;
        /// Columns of processing elements.
        cols: u64 = required, unit = "PEs", check = check::count;
        /// Dataflow for GEMMs whose mapping does not fix one.
        dataflow: PeDataflow = (PeDataflow::Os), unit = "-", check = check::any;
        /// Overlap the next fold's fill with the previous fold's drain (double-buffered array); false = SCALE-Sim's model, every fold pays its full fill and drain.
        fold_overlap: bool = (true), unit = "-", check = check::any;
    }
}

section! {
    pub struct Sram at "sram", "The banked on-chip scratchpad." {
        /// Total scratchpad capacity; a multiple of banks × bank_width_bytes.
        capacity_bytes: u64 = required, unit = "bytes", check = check::capacity_bytes;
        /// Number of banks; addresses interleave across them.
        banks: u64 = required, unit = "banks", check = check::count_power_of_two;
        /// Bytes one bank port moves per cycle; the interleaving granularity.
        bank_width_bytes: u64 = required, unit = "bytes", check = check::count_power_of_two;
        /// Read ports of each bank.
        read_ports_per_bank: u64 = (1), unit = "ports", check = check::ports;
        /// Write ports of each bank.
        write_ports_per_bank: u64 = (1), unit = "ports", check = check::ports;
        /// Cycles from a granted read to its data.
        read_latency_cycles: u64 = (1), unit = "cycles", check = check::cycles;
    }
}

section! {
    pub struct Dram at "dram", "Off-chip memory." {
        /// `bandwidth`: fixed-rate pipe; `cycle`: cycle-level DRAM of `preset`.
        model: DramModel = (DramModel::Bandwidth), unit = "-", check = check::any;
        /// Sustained bandwidth of the bandwidth model; required when model = "bandwidth".
        bandwidth_gib_per_s: Option<f64> = (None), unit = "GiB/s", check = check::bandwidth_gib_per_s_if_set;
        /// Latency of every request in the bandwidth model.
        latency_ns: f64 = (100.0), unit = "ns", check = check::latency_ns;
        /// DRAM standard and speed grade of the cycle model.
        preset: DramPreset = (DramPreset::Ddr4_3200), unit = "-", check = check::any;
        /// Independent channels, each with its own controller.
        channels: u64 = (1), unit = "channels", check = check::channels;
        /// Ranks per channel.
        ranks: u64 = (1), unit = "ranks", check = check::ranks;
        /// Address bit fields from most to least significant: Ro(w) Ra(nk) Bg (bank group) Ba(nk) Co(lumn) Ch(annel).
        address_mapping: AddressMapping = (AddressMapping::default()), unit = "-", check = check::any;
        /// `open` keeps a row open after an access; `closed` precharges it.
        page_policy: PagePolicy = (PagePolicy::Open), unit = "-", check = check::any;
        /// `all-bank` refreshes a rank at a time; `per-bank` one bank at a time.
        refresh: RefreshPolicy = (RefreshPolicy::AllBank), unit = "-", check = check::any;
        /// Read-queue entries per channel controller.
        read_queue: u64 = (32), unit = "requests", check = check::queue_entries;
        /// Write-queue entries per channel controller.
        write_queue: u64 = (32), unit = "requests", check = check::queue_entries;
    }
}

section! {
    pub struct Vector at "vector", "The vector unit that computes softmax." {
        /// Elements processed per cycle per operation.
        lanes: u64 = required, unit = "lanes", check = check::count;
        /// Softmax costs no cycles (FLAT's own accounting); operations are still counted.
        ideal: bool = (false), unit = "-", check = check::any;
        tables { op_cycles: OpCycles }
    }
}

section! {
    pub struct OpCycles at "vector.op_cycles", "Cycles per element per lane of each vector operation." {
        /// Running or row maximum.
        max: u64 = (1), unit = "cycles/element", check = check::cycles;
        /// Subtraction.
        sub: u64 = (1), unit = "cycles/element", check = check::cycles;
        /// Exponential.
        exp: u64 = (1), unit = "cycles/element", check = check::cycles;
        /// Addition (row sums).
        add: u64 = (1), unit = "cycles/element", check = check::cycles;
        /// Multiplication (scaling).
        mul: u64 = (1), unit = "cycles/element", check = check::cycles;
        /// Division (reciprocal of the row sum).
        div: u64 = (1), unit = "cycles/element", check = check::cycles;
    }
}

section! {
    pub struct Dma at "dma", "The DMA engine, the only path between DRAM and SRAM." {
        /// DRAM requests in flight at most.
        max_outstanding: u64 = (64), unit = "requests", check = check::count;
    }
}

section! {
    pub struct Energy at "energy", "Energy per action; every entry is required." {
        /// Energy of one multiply-accumulate.
        mac_pj: f64 = required, unit = "pJ", check = check::energy_pj;
        /// Energy per byte read from SRAM.
        sram_read_pj_per_byte: f64 = required, unit = "pJ/byte", check = check::energy_pj;
        /// Energy per byte written to SRAM.
        sram_write_pj_per_byte: f64 = required, unit = "pJ/byte", check = check::energy_pj;
        /// Energy per bit moved to or from DRAM.
        dram_pj_per_bit: f64 = required, unit = "pJ/bit", check = check::energy_pj;
        /// Energy of one vector element operation.
        vector_op_pj: f64 = required, unit = "pJ", check = check::energy_pj;
    }
}
