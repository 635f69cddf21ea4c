//! DRAM standards and speed grades as data: organisation and timing.

/// Organisation of one channel-rank of a standard (Ramulator's "org").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    /// Density of one device (chip), as the part is named.
    pub device_density_mbit: u64,
    /// Data pins of one device.
    pub device_width_bits: u64,
    /// Data pins of one channel; `bus_width_bits / device_width_bits` devices form a rank.
    pub bus_width_bits: u64,
    pub bankgroups: u64,
    pub banks_per_group: u64,
    pub rows: u64,
    /// Columns of one device row, each `device_width_bits` wide.
    pub columns: u64,
    /// Beats of one burst; a request moves one burst.
    pub burst_length: u64,
    /// Ranks a channel of this standard can have.
    pub max_ranks: u64,
}

impl Organization {
    pub fn banks_per_rank(&self) -> u64 {
        self.bankgroups * self.banks_per_group
    }

    pub fn devices_per_rank(&self) -> u64 {
        self.bus_width_bits / self.device_width_bits
    }

    /// Bytes one request moves: the bus width times the burst length.
    pub fn burst_bytes(&self) -> u64 {
        self.bus_width_bits / 8 * self.burst_length
    }

    /// Bursts in one row of a rank: the column field of an address counts these.
    pub fn bursts_per_row(&self) -> u64 {
        self.columns / self.burst_length
    }

    /// Bytes of one row across the devices of a rank.
    pub fn row_bytes(&self) -> u64 {
        self.columns * self.bus_width_bits / 8
    }

    pub fn rank_bytes(&self) -> u64 {
        self.banks_per_rank() * self.rows * self.row_bytes()
    }

    /// Device density implied by the organisation, in Mbit.
    pub fn computed_device_density_mbit(&self) -> u64 {
        (self.banks_per_rank() * self.rows * self.columns * self.device_width_bits) >> 20
    }
}

/// Timing parameters in memory-clock cycles (tCK), except `clock_hz`.
/// Names follow JEDEC; `n` prefixes are dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Memory (command) clock; data moves at twice this rate.
    pub clock_hz: u64,
    /// Data-bus cycles of one burst (burst length / 2).
    pub bl: u64,
    /// Read latency (RL): RD to first data beat.
    pub cl: u64,
    /// Write latency (WL): WR to first data beat.
    pub cwl: u64,
    /// ACT to a column command, same bank.
    pub rcd: u64,
    /// PRE to ACT, same bank.
    pub rp: u64,
    /// PREA to ACT or REF, same rank (equal to `rp` where the standard has one tRP).
    pub rp_all: u64,
    /// ACT to PRE, same bank.
    pub ras: u64,
    /// ACT to ACT, same bank.
    pub rc: u64,
    /// Column to column, different bank group (or any bank without groups).
    pub ccd_s: u64,
    /// Column to column, same bank group.
    pub ccd_l: u64,
    /// ACT to ACT, different bank group.
    pub rrd_s: u64,
    /// ACT to ACT, same bank group.
    pub rrd_l: u64,
    /// At most four ACTs per rank in any window of this many cycles.
    pub faw: u64,
    /// End of write data to RD, different bank group.
    pub wtr_s: u64,
    /// End of write data to RD, same bank group.
    pub wtr_l: u64,
    /// Write recovery: end of write data to PRE.
    pub wr: u64,
    /// RD to PRE, same bank.
    pub rtp: u64,
    /// Extra cycles between data bursts of different ranks.
    pub rtrs: u64,
    /// All-bank refresh cycle time.
    pub rfc: u64,
    /// Average refresh interval per rank.
    pub refi: u64,
    /// Per-bank refresh, where the preset tabulates it.
    pub per_bank_refresh: Option<PerBankRefresh>,
}

/// Timing of a refresh of one bank (HBM2 REFSB, LPDDR4 REFpb): every bank
/// of a rank is refreshed once per tREFI, one at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerBankRefresh {
    /// REFpb to ACT or REFpb, same bank.
    pub rfc_pb: u64,
    /// REFpb to ACT or REFpb, another bank of the rank.
    pub rrefd: u64,
}

impl Timing {
    /// Clock period in nanoseconds.
    pub fn tck_ns(&self) -> f64 {
        1e9 / self.clock_hz as f64
    }
}

/// A DRAM standard at one speed grade: what `dram.preset` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSpec {
    /// The `dram.preset` spelling.
    pub name: &'static str,
    /// Where the numbers come from.
    pub source: &'static str,
    pub org: Organization,
    pub timing: Timing,
}

impl DeviceSpec {
    /// Peak bytes per second of one channel: one burst every `bl` cycles.
    pub fn channel_peak_bytes_per_second(&self) -> f64 {
        self.org.burst_bytes() as f64 * self.timing.clock_hz as f64 / self.timing.bl as f64
    }

    /// Checks that organisation and timing agree with each other; the error
    /// names the parameter and the relation it breaks.
    pub fn check(&self) -> Result<(), String> {
        let o = &self.org;
        let t = &self.timing;
        let fail = |what: String| Err(format!("preset `{}`: {what}", self.name));
        for (name, value) in [
            ("bankgroups", o.bankgroups),
            ("banks_per_group", o.banks_per_group),
            ("rows", o.rows),
            ("columns", o.columns),
            ("burst_length", o.burst_length),
            ("device_width_bits", o.device_width_bits),
            ("bus_width_bits", o.bus_width_bits),
        ] {
            if !value.is_power_of_two() {
                return fail(format!("{name} = {value} is not a power of two"));
            }
        }
        if !o.bus_width_bits.is_multiple_of(o.device_width_bits) {
            return fail(format!(
                "bus_width_bits = {} is not a multiple of device_width_bits = {}",
                o.bus_width_bits, o.device_width_bits
            ));
        }
        if o.computed_device_density_mbit() != o.device_density_mbit {
            return fail(format!(
                "banks × rows × columns × width = {} × {} × {} × {} bits = {} Mbit, but the device is named {} Mbit",
                o.banks_per_rank(),
                o.rows,
                o.columns,
                o.device_width_bits,
                o.computed_device_density_mbit(),
                o.device_density_mbit
            ));
        }
        if o.columns < o.burst_length {
            return fail(format!(
                "{} columns hold less than one burst of {}",
                o.columns, o.burst_length
            ));
        }
        if t.bl * 2 != o.burst_length {
            return fail(format!(
                "bl = {} data-bus cycles does not move burst_length = {} beats at double data rate",
                t.bl, o.burst_length
            ));
        }
        let at_least = |name: &str, value: u64, bound_name: &str, bound: u64| {
            if value < bound {
                Err(format!(
                    "preset `{}`: {name} = {value} < {bound_name} = {bound}",
                    self.name
                ))
            } else {
                Ok(())
            }
        };
        at_least("rc", t.rc, "ras + rp", t.ras + t.rp)?;
        at_least("ras", t.ras, "rcd", t.rcd)?;
        at_least("ccd_s", t.ccd_s, "bl", t.bl)?;
        at_least("ccd_l", t.ccd_l, "ccd_s", t.ccd_s)?;
        at_least("rrd_l", t.rrd_l, "rrd_s", t.rrd_s)?;
        at_least("wtr_l", t.wtr_l, "wtr_s", t.wtr_s)?;
        at_least("rp_all", t.rp_all, "rp", t.rp)?;
        at_least("faw", t.faw, "rrd_s", t.rrd_s)?;
        at_least("refi", t.refi, "rfc + rc", t.rfc + t.rc)?;
        for (name, value) in [
            ("cl", t.cl),
            ("cwl", t.cwl),
            ("rcd", t.rcd),
            ("rp", t.rp),
            ("rfc", t.rfc),
        ] {
            if value == 0 {
                return fail(format!("{name} must be at least one cycle"));
            }
        }
        if let Some(pb) = &t.per_bank_refresh {
            at_least("rfc", t.rfc, "rfc_pb", pb.rfc_pb)?;
            if pb.rrefd == 0 {
                return fail("rrefd must be at least one cycle".into());
            }
        }
        if t.clock_hz == 0 {
            return fail("clock_hz must be positive".into());
        }
        Ok(())
    }
}
