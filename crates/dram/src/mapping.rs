//! Physical address → channel, rank, bank group, bank, row, column.
//!
//! The field string lists fields from the most to the least significant bit
//! (`RoBaRaCoCh`); below them sit log2(burst bytes) offset bits. The column
//! field counts bursts, so it has log2(columns / burst length) bits. When the
//! string has no `Bg`, the bank-group bits are the low bits of `Ba`
//! (Ramulator's meaning: consecutive bank numbers alternate bank groups).
//! Bits above the fields are ignored, so addresses wrap at the capacity, as
//! in DRAMSim3 and Ramulator.

use crate::spec::{Organization, Target};
use crate::DramConfigError;
use hwconfig::{AddrField, AddressMapping};

/// Where one request goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub channel: u32,
    pub target: Target,
}

/// Where one field of the address sits: `(addr >> shift) & mask`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct BitField {
    shift: u32,
    mask: u64,
}

impl BitField {
    fn get(self, addr: u64) -> u32 {
        ((addr >> self.shift) & self.mask) as u32
    }

    fn put(self, value: u32) -> u64 {
        debug_assert!(
            u64::from(value) <= self.mask,
            "{value} does not fit {self:?}"
        );
        (u64::from(value) & self.mask) << self.shift
    }
}

#[derive(Clone, Debug)]
pub struct AddressDecoder {
    channel: BitField,
    rank: BitField,
    bankgroup: BitField,
    bank: BitField,
    row: BitField,
    col: BitField,
    offset_bits: u32,
    total_bits: u32,
}

fn log2(value: u64) -> u32 {
    debug_assert!(value.is_power_of_two());
    value.trailing_zeros()
}

impl AddressDecoder {
    pub fn new(
        mapping: &AddressMapping,
        org: &Organization,
        channels: u64,
        ranks: u64,
    ) -> Result<Self, DramConfigError> {
        let fields = mapping.fields_msb_first();
        let has = |f: AddrField| fields.contains(&f);
        let missing = |field: &str, key: &str, count: u64| {
            DramConfigError::new(
                "dram.address_mapping",
                format!(
                    "`{mapping}` has no `{field}` field but {key} = {count}; add `{field}` so every {} is reachable",
                    if field == "Ch" { "channel" } else { "rank" }
                ),
            )
        };
        if channels > 1 && !has(AddrField::Channel) {
            return Err(missing("Ch", "dram.channels", channels));
        }
        if ranks > 1 && !has(AddrField::Rank) {
            return Err(missing("Ra", "dram.ranks", ranks));
        }
        let bankgroup_bits = log2(org.bankgroups);
        let bank_bits = log2(org.banks_per_group);
        let separate_bankgroup = has(AddrField::BankGroup);
        let width = |f: AddrField| match f {
            AddrField::Row => log2(org.rows),
            AddrField::Rank => log2(ranks),
            AddrField::BankGroup => bankgroup_bits,
            AddrField::Bank if separate_bankgroup => bank_bits,
            AddrField::Bank => bank_bits + bankgroup_bits,
            AddrField::Column => log2(org.bursts_per_row()),
            AddrField::Channel => log2(channels),
        };
        let field = |shift: u32, bits: u32| BitField {
            shift,
            mask: (1u64 << bits) - 1,
        };
        let offset_bits = log2(org.burst_bytes());
        let mut decoder = AddressDecoder {
            channel: BitField::default(),
            rank: BitField::default(),
            bankgroup: BitField::default(),
            bank: BitField::default(),
            row: BitField::default(),
            col: BitField::default(),
            offset_bits,
            total_bits: offset_bits,
        };
        for &f in fields.iter().rev() {
            let shift = decoder.total_bits;
            let bits = width(f);
            match f {
                AddrField::Row => decoder.row = field(shift, bits),
                AddrField::Rank => decoder.rank = field(shift, bits),
                AddrField::BankGroup => decoder.bankgroup = field(shift, bits),
                AddrField::Bank if separate_bankgroup => decoder.bank = field(shift, bits),
                // Without `Bg`, the bank-group bits are the low end of `Ba`.
                AddrField::Bank => {
                    decoder.bankgroup = field(shift, bankgroup_bits);
                    decoder.bank = field(shift + bankgroup_bits, bank_bits);
                }
                AddrField::Column => decoder.col = field(shift, bits),
                AddrField::Channel => decoder.channel = field(shift, bits),
            }
            decoder.total_bits += bits;
        }
        if decoder.total_bits > 63 {
            return Err(DramConfigError::new(
                "dram.channels",
                format!(
                    "{channels} channels × {ranks} ranks need {} address bits; at most 63 are supported",
                    decoder.total_bits
                ),
            ));
        }
        Ok(decoder)
    }

    /// Bytes addressable before addresses wrap.
    pub fn capacity_bytes(&self) -> u64 {
        1 << self.total_bits
    }

    /// The burst an address falls in, after wrapping.
    pub fn line(&self, addr: u64) -> u64 {
        (addr & (self.capacity_bytes() - 1)) >> self.offset_bits
    }

    /// The channel of an address (the first part of [`AddressDecoder::decode`]).
    pub fn channel(&self, addr: u64) -> u32 {
        self.channel.get(addr)
    }

    pub fn decode(&self, addr: u64) -> Location {
        Location {
            channel: self.channel(addr),
            target: Target {
                rank: self.rank.get(addr),
                bankgroup: self.bankgroup.get(addr),
                bank: self.bank.get(addr),
                row: self.row.get(addr),
                col: self.col.get(addr),
            },
        }
    }

    /// The lowest address that decodes to `location`.
    pub fn encode(&self, location: &Location) -> u64 {
        let t = &location.target;
        self.channel.put(location.channel)
            | self.rank.put(t.rank)
            | self.bankgroup.put(t.bankgroup)
            | self.bank.put(t.bank)
            | self.row.put(t.row)
            | self.col.put(t.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::presets::{DDR4_3200, HBM2};
    use proptest::prelude::*;

    fn decoder(mapping: &str, channels: u64, ranks: u64) -> AddressDecoder {
        AddressDecoder::new(
            &AddressMapping::parse(mapping).unwrap(),
            &DDR4_3200.org,
            channels,
            ranks,
        )
        .unwrap()
    }

    #[test]
    fn ramulator_robaraco_keeps_lines_in_a_row_then_switches_rank_then_bank_group() {
        let d = decoder("RoBaRaCoCh", 1, 2);
        assert_eq!(d.capacity_bytes(), 1 << 34);
        let at = |line: u64| d.decode(line * 64).target;
        assert_eq!(
            at(127),
            Target {
                col: 127,
                ..Target::default()
            }
        );
        assert_eq!(
            at(128),
            Target {
                rank: 1,
                ..Target::default()
            }
        );
        // Bank-group bits are the low end of Ba.
        assert_eq!(
            at(256),
            Target {
                bankgroup: 1,
                ..Target::default()
            }
        );
        assert_eq!(
            at(256 * 4),
            Target {
                bank: 1,
                ..Target::default()
            }
        );
        // Row above everything: 6 offset + 7 column + 1 rank + 4 bank bits.
        assert_eq!(
            at(1 << 12),
            Target {
                row: 1,
                ..Target::default()
            }
        );
        assert_eq!(d.decode(1 << 18).target.row, 1);
    }

    #[test]
    fn dramsim_rorabacochbg_puts_bank_groups_lowest() {
        let d = decoder("RoRaBaCoChBg", 1, 2);
        let at = |line: u64| d.decode(line * 64).target;
        assert_eq!(at(1).bankgroup, 1);
        assert_eq!(at(3).bankgroup, 3);
        assert_eq!(
            at(4),
            Target {
                col: 1,
                ..Target::default()
            }
        );
        assert_eq!(
            at(4 * 128),
            Target {
                bank: 1,
                ..Target::default()
            }
        );
        assert_eq!(
            at(4 * 128 * 4),
            Target {
                rank: 1,
                ..Target::default()
            }
        );
    }

    #[test]
    fn channels_and_wrapping() {
        let d = AddressDecoder::new(
            &AddressMapping::parse("RoRaBaCoChBg").unwrap(),
            &HBM2.org,
            8,
            1,
        )
        .unwrap();
        assert_eq!(d.capacity_bytes(), 8 * HBM2.org.rank_bytes());
        assert_eq!(d.decode(4 * 64).channel, 1);
        assert_eq!(d.decode(d.capacity_bytes() + 64), d.decode(64));
    }

    #[test]
    fn missing_fields_name_the_mapping_key() {
        let mapping = AddressMapping::parse("RoBaCoCh").unwrap();
        let err = AddressDecoder::new(&mapping, &DDR4_3200.org, 1, 2).unwrap_err();
        assert_eq!(err.key, "dram.address_mapping");
        assert!(
            err.reason.contains("Ra") && err.reason.contains("dram.ranks = 2"),
            "{err}"
        );
        let mapping = AddressMapping::parse("RoRaBaCo").unwrap();
        let err = AddressDecoder::new(&mapping, &DDR4_3200.org, 4, 1).unwrap_err();
        assert!(err.reason.contains("Ch"), "{err}");
    }

    proptest! {
        #[test]
        fn encode_inverts_decode(line in 0u64..(1 << 28), which in 0usize..3) {
            let mapping = ["RoBaRaCoCh", "RoRaBaCoChBg", "RoCoBaBgRaCh"][which];
            let d = decoder(mapping, 2, 2);
            let addr = line * 64;
            prop_assert_eq!(d.encode(&d.decode(addr)), addr % d.capacity_bytes());
        }
    }
}
