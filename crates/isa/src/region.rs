//! SRAM regions: the table a program carries, and the allocator that places
//! them (bank-aligned, optionally double-buffered, refusing with numbers).

use crate::RegionId;

/// A named SRAM region of `slots` equal slots (2 = double buffering). Slot
/// `s` starts at `offset_bytes + s · slot_stride_bytes`; an instruction may
/// touch bytes `[0, slot_bytes)` of a slot. The stride is `slot_bytes`
/// rounded up to the allocator's alignment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Region {
    pub name: String,
    pub offset_bytes: u64,
    pub slot_bytes: u64,
    pub slot_stride_bytes: u64,
    pub slots: u32,
}

impl Region {
    /// Bytes the region occupies in SRAM, padding included.
    pub fn allocated_bytes(&self) -> u64 {
        self.slot_stride_bytes * u64::from(self.slots)
    }

    /// Absolute SRAM byte address of `offset` in slot `slot`.
    pub fn address(&self, slot: u32, offset: u64) -> u64 {
        self.offset_bytes + u64::from(slot) * self.slot_stride_bytes + offset
    }

    pub fn end_bytes(&self) -> u64 {
        self.offset_bytes + self.allocated_bytes()
    }
}

/// The regions of a program, indexed by [`RegionId`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RegionTable {
    pub regions: Vec<Region>,
}

impl RegionTable {
    pub fn get(&self, id: RegionId) -> Option<&Region> {
        self.regions.get(id.0 as usize)
    }

    pub fn by_name(&self, name: &str) -> Option<RegionId> {
        self.regions
            .iter()
            .position(|r| r.name == name)
            .map(|i| RegionId(i as u32))
    }

    /// Σ allocated bytes (padding included).
    pub fn allocated_bytes(&self) -> u64 {
        self.regions.iter().map(Region::allocated_bytes).sum()
    }
}

/// An allocation that does not fit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("SRAM region `{name}` needs {wanted_bytes} bytes ({slots} slot(s) of {slot_bytes}, aligned to {alignment_bytes}); {free_bytes} of {capacity_bytes} bytes are free, the largest free block has {largest_free_bytes}")]
pub struct AllocError {
    pub name: String,
    pub slots: u32,
    pub slot_bytes: u64,
    pub alignment_bytes: u64,
    pub wanted_bytes: u64,
    pub free_bytes: u64,
    pub largest_free_bytes: u64,
    pub capacity_bytes: u64,
}

/// First-fit placement of regions in `capacity_bytes` of SRAM. Every region
/// and every slot starts on an `alignment_bytes` boundary — the bank stripe
/// (`banks × bank_width_bytes`), so a tile's first row starts in bank 0.
#[derive(Clone, Debug)]
pub struct RegionAllocator {
    capacity_bytes: u64,
    alignment_bytes: u64,
    /// Live regions, by id; `None` once freed.
    live: Vec<Option<Region>>,
}

impl RegionAllocator {
    /// # Panics
    /// If `alignment_bytes` is zero (configs guarantee banks and widths are positive).
    pub fn new(capacity_bytes: u64, alignment_bytes: u64) -> Self {
        assert!(alignment_bytes > 0, "alignment must be positive");
        RegionAllocator {
            capacity_bytes,
            alignment_bytes,
            live: Vec::new(),
        }
    }

    /// An allocator for the scratchpad of `hw`, aligned to its bank stripe.
    pub fn for_sram(sram: &hwconfig::Sram) -> Self {
        Self::new(sram.capacity_bytes, sram.banks * sram.bank_width_bytes)
    }

    pub fn capacity_bytes(&self) -> u64 {
        self.capacity_bytes
    }

    pub fn alignment_bytes(&self) -> u64 {
        self.alignment_bytes
    }

    fn live_sorted(&self) -> Vec<&Region> {
        let mut regions: Vec<&Region> = self.live.iter().flatten().collect();
        regions.sort_by_key(|r| r.offset_bytes);
        regions
    }

    /// Free blocks `(offset, bytes)` in address order.
    fn holes(&self) -> Vec<(u64, u64)> {
        let mut holes = Vec::new();
        let mut cursor = 0;
        for region in self.live_sorted() {
            if region.offset_bytes > cursor {
                holes.push((cursor, region.offset_bytes - cursor));
            }
            cursor = cursor.max(region.end_bytes());
        }
        if self.capacity_bytes > cursor {
            holes.push((cursor, self.capacity_bytes - cursor));
        }
        holes
    }

    pub fn free_bytes(&self) -> u64 {
        self.holes().iter().map(|&(_, b)| b).sum()
    }

    /// Places `slots` slots of `slot_bytes` each at the lowest aligned
    /// address where they fit, or refuses with the numbers.
    pub fn alloc(
        &mut self,
        name: &str,
        slot_bytes: u64,
        slots: u32,
    ) -> Result<RegionId, AllocError> {
        let stride = slot_bytes.div_ceil(self.alignment_bytes).max(1) * self.alignment_bytes;
        let wanted = stride * u64::from(slots);
        let holes = self.holes();
        // Holes start aligned: every region starts aligned and has an aligned size.
        let place = holes.iter().find(|&&(_, bytes)| bytes >= wanted);
        match place {
            Some(&(offset, _)) => {
                self.live.push(Some(Region {
                    name: name.to_owned(),
                    offset_bytes: offset,
                    slot_bytes,
                    slot_stride_bytes: stride,
                    slots,
                }));
                Ok(RegionId(self.live.len() as u32 - 1))
            }
            None => Err(AllocError {
                name: name.to_owned(),
                slots,
                slot_bytes,
                alignment_bytes: self.alignment_bytes,
                wanted_bytes: wanted,
                free_bytes: holes.iter().map(|&(_, b)| b).sum(),
                largest_free_bytes: holes.iter().map(|&(_, b)| b).max().unwrap_or(0),
                capacity_bytes: self.capacity_bytes,
            }),
        }
    }

    /// Releases a live region; its bytes become free. Freeing twice is a no-op.
    pub fn free(&mut self, id: RegionId) {
        if let Some(entry) = self.live.get_mut(id.0 as usize) {
            *entry = None;
        }
    }

    pub fn get(&self, id: RegionId) -> Option<&Region> {
        self.live.get(id.0 as usize).and_then(Option::as_ref)
    }

    /// The table of every region still live, ids renumbered densely in
    /// allocation order — what a program carries when nothing was freed.
    pub fn into_table(self) -> RegionTable {
        RegionTable {
            regions: self.live.into_iter().flatten().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn aligns_and_double_buffers() {
        let mut a = RegionAllocator::new(4096, 256);
        let q = a.alloc("q", 100, 2).unwrap();
        let k = a.alloc("k", 256, 1).unwrap();
        let q = a.get(q).unwrap().clone();
        assert_eq!((q.offset_bytes, q.slot_stride_bytes, q.slots), (0, 256, 2));
        assert_eq!(q.address(1, 4), 260);
        assert_eq!(a.get(k).unwrap().offset_bytes, 512);
        assert_eq!(a.free_bytes(), 4096 - 768);
    }

    #[test]
    fn refusal_carries_the_numbers() {
        let mut a = RegionAllocator::new(1024, 256);
        a.alloc("a", 256, 1).unwrap();
        let b = a.alloc("b", 256, 1).unwrap();
        a.alloc("c", 256, 1).unwrap();
        a.free(b);
        let err = a.alloc("big", 300, 2).unwrap_err();
        assert_eq!(
            (
                err.wanted_bytes,
                err.free_bytes,
                err.largest_free_bytes,
                err.capacity_bytes
            ),
            (1024, 512, 256, 1024)
        );
        assert!(err.to_string().contains("`big` needs 1024 bytes"), "{err}");
        // The freed hole is reused.
        assert_eq!(
            a.alloc("d", 200, 1)
                .map(|id| a.get(id).unwrap().offset_bytes),
            Ok(256)
        );
    }

    #[derive(Clone, Debug)]
    enum Step {
        Alloc(u64, u32),
        Free(usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1u64..3000, 1u32..3).prop_map(|(b, s)| Step::Alloc(b, s)),
            (0usize..16).prop_map(Step::Free),
        ]
    }

    proptest! {
        #[test]
        fn never_overlaps_live_regions_nor_exceeds_capacity(
            steps in proptest::collection::vec(step(), 1..60),
            align_log in 4u32..9,
        ) {
            let capacity = 16384;
            let align = 1u64 << align_log;
            let mut a = RegionAllocator::new(capacity, align);
            let mut ids = Vec::new();
            for s in steps {
                match s {
                    Step::Alloc(bytes, slots) => {
                        let free_before = a.free_bytes();
                        match a.alloc("r", bytes, slots) {
                            Ok(id) => ids.push(id),
                            Err(e) => {
                                prop_assert_eq!(e.free_bytes, free_before);
                                prop_assert!(e.largest_free_bytes < e.wanted_bytes);
                            }
                        }
                    }
                    Step::Free(i) => if let Some(&id) = ids.get(i) { a.free(id) },
                }
                let live = a.live_sorted();
                for r in &live {
                    prop_assert_eq!(r.offset_bytes % align, 0);
                    prop_assert!(r.slot_stride_bytes >= r.slot_bytes);
                    prop_assert!(r.end_bytes() <= capacity);
                }
                for pair in live.windows(2) {
                    prop_assert!(pair[0].end_bytes() <= pair[1].offset_bytes);
                }
                let used: u64 = live.iter().map(|r| r.allocated_bytes()).sum();
                prop_assert_eq!(used + a.free_bytes(), capacity);
            }
        }
    }
}
