//! Root-cause attribution of stall cycles (`docs/units.md`, "Root causes").
//!
//! A unit's direct stall reason says what it waited on; a token wait only
//! says that another unit has not finished yet. Following the dependency, a
//! cycle a unit waits on a token is charged to what the token's producer
//! did in that same cycle: its own resource while it works (or has just
//! finished), the resource its own direct stall names, or — if it waits on
//! a token too — what its producer did, and so on. Every stall cycle gets
//! exactly one root, so each unit's roots add up to its stall cycles.

use isa::{ProgramHeader, Unit};
use simkit::{CycleAccount, CycleState, StallReason, StatDecl, StatValue};

/// A resource a stall can be charged to: one of the simulated units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Dram,
    Sram,
    Vector,
    Pe,
    Dma,
}

impl Resource {
    /// Every resource, in the order of [`ROOT_STATS`] and CSV columns.
    pub const ALL: [Resource; 5] = [
        Resource::Dram,
        Resource::Sram,
        Resource::Vector,
        Resource::Pe,
        Resource::Dma,
    ];

    /// The name used in `root_<name>_cycles`.
    pub const fn name(self) -> &'static str {
        match self {
            Resource::Dram => "dram",
            Resource::Sram => "sram",
            Resource::Vector => "vector",
            Resource::Pe => "pe",
            Resource::Dma => "dma",
        }
    }

    fn of_unit(unit: Unit) -> Resource {
        match unit {
            Unit::Dma => Resource::Dma,
            Unit::Pe => Resource::Pe,
            Unit::Vector => Resource::Vector,
        }
    }

    /// The resource a direct stall of this unit for `reason` points at;
    /// `None` for a token wait, which is followed to the producer.
    pub fn direct(self, reason: StallReason) -> Option<Resource> {
        Some(match reason {
            StallReason::WaitToken => return None,
            StallReason::DramBandwidth | StallReason::DramQueueFull => Resource::Dram,
            // The DRAM has no SRAM side: whatever holds it up is its own.
            _ if self == Resource::Dram => Resource::Dram,
            StallReason::SramBankConflict | StallReason::OperandNotReady => Resource::Sram,
            // The DMA's backpressure is its own done queue; everyone else's
            // output goes to the scratchpad.
            StallReason::OutputBackpressure if self == Resource::Dma => Resource::Dma,
            StallReason::OutputBackpressure => Resource::Sram,
        })
    }
}

/// Declarations of the root-cause statistics, in [`Resource::ALL`] order.
pub static ROOT_STATS: [StatDecl; 5] = [
    StatDecl {
        name: "root_dram_cycles",
        unit: "cycles",
        description: "Stall cycles whose root cause is DRAM (bandwidth, queue full).",
    },
    StatDecl {
        name: "root_sram_cycles",
        unit: "cycles",
        description:
            "Stall cycles whose root cause is the scratchpad (bank conflicts, latency, ports).",
    },
    StatDecl {
        name: "root_vector_cycles",
        unit: "cycles",
        description: "Stall cycles whose root cause is the vector unit's work.",
    },
    StatDecl {
        name: "root_pe_cycles",
        unit: "cycles",
        description: "Stall cycles whose root cause is the PE array's work.",
    },
    StatDecl {
        name: "root_dma_cycles",
        unit: "cycles",
        description: "Stall cycles whose root cause is the DMA engine's own work.",
    },
];

/// A unit's stall cycles split by root cause.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RootAccount {
    cycles: [u64; Resource::ALL.len()],
}

impl RootAccount {
    pub fn charge(&mut self, resource: Resource, cycles: u64) {
        self.cycles[resource as usize] += cycles;
    }

    pub fn cycles(&self, resource: Resource) -> u64 {
        self.cycles[resource as usize]
    }

    pub fn total_cycles(&self) -> u64 {
        self.cycles.iter().sum()
    }

    /// The account of a unit whose every stall has a direct reason (SRAM, DRAM).
    pub fn direct(unit: Resource, account: &CycleAccount) -> RootAccount {
        let mut roots = RootAccount::default();
        for reason in StallReason::ALL {
            roots.charge(
                unit.direct(reason).unwrap_or(unit),
                account.stall_cycles(reason),
            );
        }
        roots
    }

    /// The values of [`ROOT_STATS`].
    pub fn stats(&self) -> Vec<StatValue> {
        ROOT_STATS
            .iter()
            .zip(Resource::ALL)
            .map(|(decl, r)| decl.value(self.cycles(r) as f64))
            .collect()
    }
}

/// Follows the token waits of the PE array, vector unit and DMA engine as
/// the driver observes their accounts span by span.
#[derive(Debug, Default)]
pub(crate) struct RootTracker {
    /// Each unit's account at the last observation (by `Unit::index`).
    seen: [CycleAccount; 3],
    roots: [RootAccount; 3],
}

impl RootTracker {
    /// Attributes the cycles charged since the last observation. `accounts`
    /// are the units' accounts now, and `blocker` names the producer of the
    /// token each unit's head instruction waits on; both describe every
    /// cycle of the span, in which no unit changed state.
    /// Returns each unit's state in the span.
    pub(crate) fn observe(
        &mut self,
        accounts: [&CycleAccount; 3],
        blocker: [Option<Unit>; 3],
    ) -> [Option<CycleState>; 3] {
        let spans: [CycleAccount; 3] = std::array::from_fn(|i| accounts[i].since(&self.seen[i]));
        // The state of each unit in the span (the largest share, should the
        // span ever hold more than one).
        let state: [Option<CycleState>; 3] = std::array::from_fn(|i| {
            spans[i]
                .states()
                .filter(|&(_, c)| c > 0)
                .max_by_key(|&(_, c)| c)
                .map(|(s, _)| s)
        });
        let root = |mut unit: Unit| {
            // A chain longer than the units is a loop: charge where it closes.
            for _ in 0..Unit::ALL.len() {
                let own = Resource::of_unit(unit);
                match state[unit.index()] {
                    Some(CycleState::Stalled(reason)) => match own.direct(reason) {
                        Some(resource) => return resource,
                        None => match blocker[unit.index()] {
                            Some(producer) if producer != unit => unit = producer,
                            _ => return own,
                        },
                    },
                    _ => return own,
                }
            }
            Resource::of_unit(unit)
        };
        for unit in Unit::ALL {
            let i = unit.index();
            for reason in StallReason::ALL {
                let cycles = spans[i].stall_cycles(reason);
                if cycles == 0 {
                    continue;
                }
                let resource =
                    Resource::of_unit(unit)
                        .direct(reason)
                        .unwrap_or_else(|| match blocker[i] {
                            Some(producer) if producer != unit => root(producer),
                            _ => Resource::of_unit(unit),
                        });
                self.roots[i].charge(resource, cycles);
            }
            self.seen[i] = accounts[i].clone();
        }
        state
    }

    /// The root account of `unit` so far.
    pub(crate) fn roots(&self, unit: Unit) -> &RootAccount {
        &self.roots[unit.index()]
    }
}

/// The producer of the first token `waits` still waits for, if any.
pub(crate) fn blocking_producer(
    header: &ProgramHeader,
    tokens: &crate::tokens::TokenBoard,
    waits: &[isa::Wait],
) -> Option<Unit> {
    waits
        .iter()
        .find(|w| !tokens.satisfied(std::slice::from_ref(w)))
        .and_then(|w| header.tokens.get(w.token.0 as usize))
        .map(|t| t.unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_reasons_name_their_resource() {
        assert_eq!(
            Resource::Pe.direct(StallReason::DramBandwidth),
            Some(Resource::Dram)
        );
        assert_eq!(
            Resource::Vector.direct(StallReason::OutputBackpressure),
            Some(Resource::Sram)
        );
        assert_eq!(
            Resource::Dma.direct(StallReason::OutputBackpressure),
            Some(Resource::Dma)
        );
        assert_eq!(Resource::Pe.direct(StallReason::WaitToken), None);
        for (decl, r) in ROOT_STATS.iter().zip(Resource::ALL) {
            assert_eq!(decl.name, format!("root_{}_cycles", r.name()));
        }
    }

    #[test]
    fn token_waits_follow_the_producer_chain() {
        let mut tracker = RootTracker::default();
        let stalled = |reason, cycles| {
            let mut a = CycleAccount::default();
            a.charge(CycleState::Stalled(reason), cycles);
            a
        };
        // PE waits on the vector unit, which waits on the DMA, which waits on DRAM.
        let pe = stalled(StallReason::WaitToken, 7);
        let vector = stalled(StallReason::WaitToken, 7);
        let dma = stalled(StallReason::DramBandwidth, 7);
        let mut blocker = [None; 3];
        blocker[Unit::Pe.index()] = Some(Unit::Vector);
        blocker[Unit::Vector.index()] = Some(Unit::Dma);
        // In `Unit::ALL` order: dma, pe, vector.
        tracker.observe([&dma, &pe, &vector], blocker);
        for unit in Unit::ALL {
            assert_eq!(tracker.roots(unit).cycles(Resource::Dram), 7, "{unit}");
            assert_eq!(tracker.roots(unit).total_cycles(), 7);
        }
        // The vector unit now computes: the PE array's next waits are its.
        let mut vector_busy = vector.clone();
        vector_busy.charge(CycleState::Busy, 3);
        let mut pe_more = pe.clone();
        pe_more.charge(CycleState::Stalled(StallReason::WaitToken), 3);
        let mut dma_idle = dma.clone();
        dma_idle.charge(CycleState::Idle, 3);
        tracker.observe([&dma_idle, &pe_more, &vector_busy], blocker);
        let pe_roots = tracker.roots(Unit::Pe);
        assert_eq!(pe_roots.cycles(Resource::Vector), 3);
        assert_eq!(pe_roots.total_cycles(), 10);
    }
}
