//! The shipped presets. Each is an organisation and a timing table, in
//! cycles of the preset's own clock; `DeviceSpec::check` verifies them.

use super::{DeviceSpec, Organization, PerBankRefresh, Timing};
use hwconfig::DramPreset;

/// DDR4 8 Gb x8 device: 4 bank groups × 4 banks, 64 K rows, 1 K columns
/// (8 KiB rows across the 8 devices of a 64-bit rank), BL8, 64-byte bursts.
const DDR4_8GB_X8: Organization = Organization {
    device_density_mbit: 8192,
    device_width_bits: 8,
    bus_width_bits: 64,
    bankgroups: 4,
    banks_per_group: 4,
    rows: 65536,
    columns: 1024,
    burst_length: 8,
    max_ranks: 4,
};

/// DDR4-3200AA (22-22-22) at tCK 0.625 ns; the values of
/// `../shared/reference/README.md` (JESD79-4 for an 8 Gb x8 part: tRFC1 350 ns, tREFI 7.8 µs).
pub const DDR4_3200: DeviceSpec = DeviceSpec {
    name: "ddr4-3200",
    source:
        "JESD79-4 DDR4-3200AA 8Gb x8; matches DRAMSim3 DDR4_8Gb_x8_3200 and Ramulator 2 DDR4_3200AA",
    org: DDR4_8GB_X8,
    timing: Timing {
        clock_hz: 1_600_000_000,
        bl: 4,
        cl: 22,
        cwl: 16,
        rcd: 22,
        rp: 22,
        rp_all: 22,
        ras: 52,
        rc: 74,
        ccd_s: 4,
        ccd_l: 8,
        rrd_s: 4,
        rrd_l: 8,
        faw: 34,
        wtr_s: 4,
        wtr_l: 12,
        wr: 24,
        rtp: 12,
        rtrs: 2,
        rfc: 560,
        refi: 12480,
        per_bank_refresh: None,
    },
};

/// DDR4-2400R (16-16-16) at tCK 0.833 ns, same 8 Gb x8 part.
pub const DDR4_2400: DeviceSpec = DeviceSpec {
    name: "ddr4-2400",
    source: "JESD79-4 DDR4-2400R 8Gb x8 (tRAS 32 ns, tFAW 21 ns, tRFC1 350 ns, tREFI 7.8 µs)",
    org: DDR4_8GB_X8,
    timing: Timing {
        clock_hz: 1_200_000_000,
        bl: 4,
        cl: 16,
        cwl: 12,
        rcd: 16,
        rp: 16,
        rp_all: 16,
        ras: 39,
        rc: 55,
        ccd_s: 4,
        ccd_l: 6,
        rrd_s: 4,
        rrd_l: 6,
        faw: 26,
        wtr_s: 3,
        wtr_l: 9,
        wr: 18,
        rtp: 9,
        rtrs: 2,
        rfc: 420,
        refi: 9360,
        per_bank_refresh: None,
    },
};

/// LPDDR4-3200 at tCK 0.625 ns: one x16 channel of an 8 Gb dual-channel die
/// (4 Gb per channel: 8 banks, 32 K rows, 2 KiB rows), BL32 so that a burst
/// is 64 bytes like the other presets.
pub const LPDDR4_3200: DeviceSpec = DeviceSpec {
    name: "lpddr4-3200",
    source: "JESD209-4 LPDDR4-3200, 4 Gb per channel x16, BL32, RL 28 / WL 14 (set A)",
    org: Organization {
        device_density_mbit: 4096,
        device_width_bits: 16,
        bus_width_bits: 16,
        bankgroups: 1,
        banks_per_group: 8,
        rows: 32768,
        columns: 1024,
        burst_length: 32,
        max_ranks: 2,
    },
    timing: Timing {
        clock_hz: 1_600_000_000,
        bl: 16,
        cl: 28,
        cwl: 14,
        // tRCD, tRPpb 18 ns; tRPab 21 ns; tRAS 42 ns.
        rcd: 29,
        rp: 29,
        rp_all: 34,
        ras: 68,
        rc: 97,
        // Without bank groups both column spacings are one BL32 burst.
        ccd_s: 16,
        ccd_l: 16,
        // tRRD 10 ns, tFAW 40 ns, tWTR 10 ns, tWR 18 ns.
        rrd_s: 16,
        rrd_l: 16,
        faw: 64,
        wtr_s: 16,
        wtr_l: 16,
        wr: 29,
        // RD to PRE is BL/2 + max(8, tRTP) − 8 = 16 + 12 − 8 for BL32.
        rtp: 20,
        rtrs: 2,
        // tRFCab 130 ns for a 4 Gb channel; tREFI 3.904 µs.
        rfc: 208,
        refi: 6246,
        // LPDDR4 has REFpb; its timing is not tabulated here yet.
        per_bank_refresh: None,
    },
};

/// HBM2 at 2 Gb/s per pin (tCK 1 ns): one 128-bit legacy-mode channel of an
/// 8 Gb-per-die stack (4 Gb per channel: 4 bank groups × 4 banks, 32 K rows,
/// 1 KiB rows), BL4, 64-byte bursts; timing as DRAMSim3 HBM2_8Gb_x128.
pub const HBM2: DeviceSpec = DeviceSpec {
    name: "hbm2",
    source: "JESD235 HBM2 2 Gb/s legacy channel; timing of DRAMSim3 HBM2_8Gb_x128 (tCCD_S raised to the BL4 burst)",
    org: Organization {
        device_density_mbit: 4096,
        device_width_bits: 128,
        bus_width_bits: 128,
        bankgroups: 4,
        banks_per_group: 4,
        rows: 32768,
        columns: 64,
        burst_length: 4,
        max_ranks: 1,
    },
    timing: Timing {
        clock_hz: 1_000_000_000,
        bl: 2,
        cl: 14,
        cwl: 4,
        rcd: 14,
        rp: 14,
        rp_all: 14,
        ras: 34,
        rc: 48,
        ccd_s: 2,
        ccd_l: 4,
        rrd_s: 4,
        rrd_l: 6,
        faw: 30,
        wtr_s: 6,
        wtr_l: 8,
        wr: 16,
        rtp: 4,
        rtrs: 2,
        rfc: 260,
        refi: 3900,
        // tRFCSB 160 ns (JESD235 for a 4 Gb channel); tRREFD 8 ns, as Ramulator 2.
        per_bank_refresh: Some(PerBankRefresh {
            rfc_pb: 160,
            rrefd: 8,
        }),
    },
};

/// HBM2 at 2 Gb/s in pseudo-channel mode: one 64-bit pseudo-channel, half
/// of a 4 Gb legacy channel (2 Gb: 4 bank groups × 4 banks of its own,
/// 32 K rows of 512 bytes, as Ramulator 2's HBM2_8Gb), BL4, 32-byte bursts. The array timing is the legacy
/// channel's and counts per pseudo-channel, tFAW included (JESD235C table 3),
/// as Ramulator 2 models it. A `dram.channels` entry is one pseudo-channel.
pub const HBM2_PC: DeviceSpec = DeviceSpec {
    name: "hbm2-pc",
    source: "JESD235 HBM2 2 Gb/s pseudo-channel mode; array timing of DRAMSim3 HBM2_8Gb_x128, counted per pseudo-channel",
    org: Organization {
        device_density_mbit: 2048,
        device_width_bits: 64,
        bus_width_bits: 64,
        ..HBM2.org
    },
    timing: HBM2.timing,
};

/// Every shipped preset.
pub const PRESETS: [&DeviceSpec; 5] = [&DDR4_3200, &DDR4_2400, &LPDDR4_3200, &HBM2, &HBM2_PC];

/// The spec a config's `dram.preset` names.
pub fn preset(which: DramPreset) -> &'static DeviceSpec {
    match which {
        DramPreset::Ddr4_3200 => &DDR4_3200,
        DramPreset::Ddr4_2400 => &DDR4_2400,
        DramPreset::Lpddr4_3200 => &LPDDR4_3200,
        DramPreset::Hbm2 => &HBM2,
        DramPreset::Hbm2Pc => &HBM2_PC,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_consistent_and_named_like_the_config() {
        for spec in PRESETS {
            spec.check().unwrap();
            let burst_bytes = if spec.name == "hbm2-pc" { 32 } else { 64 };
            assert_eq!(spec.org.burst_bytes(), burst_bytes, "{}", spec.name);
        }
        for which in DramPreset::ALL {
            let spec = preset(*which);
            assert_eq!(spec.name, which.as_str());
            let gb_per_s = spec.channel_peak_bytes_per_second() / 1e9;
            assert!(
                (gb_per_s - which.channel_peak_gb_per_s()).abs() < 1e-9,
                "{}: {gb_per_s} GB/s",
                spec.name
            );
        }
    }

    #[test]
    fn peaks_match_the_standards() {
        let gbps = |s: &DeviceSpec| s.channel_peak_bytes_per_second() / 1e9;
        assert!((gbps(&DDR4_3200) - 25.6).abs() < 1e-9);
        assert!((gbps(&DDR4_2400) - 19.2).abs() < 1e-9);
        assert!((gbps(&LPDDR4_3200) - 6.4).abs() < 1e-9);
        assert!((gbps(&HBM2) - 32.0).abs() < 1e-9);
        // 8 Gb x8 DDR4, 8 devices: 8 GiB per rank.
        assert_eq!(DDR4_3200.org.rank_bytes(), 1 << 33);
        assert_eq!(DDR4_3200.org.bursts_per_row(), 128);
    }

    #[test]
    fn two_pseudo_channels_make_one_legacy_hbm2_channel() {
        assert_eq!(2 * HBM2_PC.org.rank_bytes(), HBM2.org.rank_bytes());
        assert_eq!(2 * HBM2_PC.org.bus_width_bits, HBM2.org.bus_width_bits);
        assert_eq!(
            2.0 * HBM2_PC.channel_peak_bytes_per_second(),
            HBM2.channel_peak_bytes_per_second()
        );
        assert_eq!(HBM2_PC.org.banks_per_rank(), HBM2.org.banks_per_rank());
        assert_eq!(2 * HBM2_PC.org.row_bytes(), HBM2.org.row_bytes());
    }

    #[test]
    fn inconsistent_organisation_is_refused_with_the_reason() {
        let mut spec = DDR4_3200.clone();
        spec.org.rows = 32768;
        let err = spec.check().unwrap_err();
        assert!(
            err.contains("4096 Mbit") && err.contains("8192 Mbit"),
            "{err}"
        );
        let mut spec = DDR4_3200.clone();
        spec.timing.rc = 70;
        assert!(spec
            .check()
            .unwrap_err()
            .contains("rc = 70 < ras + rp = 74"));
        let mut spec = HBM2.clone();
        spec.timing.bl = 4;
        assert!(spec.check().unwrap_err().contains("burst_length"));
    }
}
