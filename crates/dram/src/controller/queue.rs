//! A request queue of one kind (reads or writes) and FR-FCFS over it.
//!
//! Requests are kept per bank in arrival order. Each bank with requests has
//! one candidate command (the next command FR-FCFS would issue there) and
//! the bank-local part of its issue time ([`BankState::bank_local`]),
//! kept in a dense array so that a pass is a tight loop; the rank-wide part
//! comes from [`Floors`], taken once per pass. Cached values are refreshed
//! when they may have changed: a bank's candidate when its requests or open
//! row change, local times when a command goes to the bank's group.

use crate::bank_state::BankState;
use crate::spec::{Command, Target};
use simkit::Cycle;
use std::collections::VecDeque;

use super::RowClass;

/// Ranks a channel may have (the size of the per-rank arrays of [`Floors`]).
pub const MAX_RANKS: usize = 4;

/// A queued request.
#[derive(Clone, Copy, Debug)]
pub(super) struct Slot {
    pub id: u64,
    /// Arrival order, for "oldest first".
    pub seq: u64,
    /// Address in bursts, for forwarding and merging.
    pub line: u64,
    pub arrival: Cycle,
    pub target: Target,
    pub class: Option<RowClass>,
}

/// The command a bank would issue next for this queue.
#[derive(Clone, Copy, Debug)]
pub(super) struct Candidate {
    pub command: Command,
    /// Position of its request in the bank's list.
    pub position: usize,
}

/// A bank with requests, as a pass needs it.
#[derive(Clone, Copy, Debug)]
struct Entry {
    bank: u32,
    /// Index of the candidate's rank-wide part in `Floors::flat`.
    floor: u32,
    /// The bank-local part of the candidate's issue time.
    local: Cycle,
    /// Priority: column commands first (top bit clear), then arrival order.
    key: u64,
}

/// Top bit of an entry's key: set for ACT and PRE, so row hits sort first.
const ROW_COMMAND: u64 = 1 << 63;

/// The column command, ACT, PRE: the classes whose rank-wide constraints differ.
fn class_of(command: Command) -> usize {
    match command {
        Command::Act => 1,
        Command::Pre => 2,
        _ => 0,
    }
}

/// What waiting refreshes hold back, as bit masks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct RefreshHolds {
    /// Ranks waiting for an all-bank refresh: they get no ACT or PRE, and
    /// only column commands that do not delay the PREA.
    pub ranks: u64,
    /// Banks (flat index) waiting for their per-bank refresh: they get no
    /// command from the queues.
    pub banks: u64,
}

/// What every bank of a rank shares when its candidate is timed, taken at one cycle.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Floors {
    /// At `rank * 3 + class`: channel and rank constraints (and windows).
    pub flat: [Cycle; MAX_RANKS * 3],
    pub holds: RefreshHolds,
    /// Per rank waiting for refresh: the earliest cycle of its PREA.
    pub prea: [Cycle; MAX_RANKS],
    pub column_to_prea: Cycle,
}

impl Floors {
    /// Takes the floors of `state` with refreshes holding back `holds`.
    pub fn take(
        &mut self,
        state: &BankState,
        column: Command,
        column_to_prea: Cycle,
        holds: RefreshHolds,
    ) {
        self.holds = holds;
        self.column_to_prea = column_to_prea;
        for rank in 0..state.ranks() {
            let r = rank as u32;
            self.flat[rank * 3..rank * 3 + 3].copy_from_slice(&[
                state.rank_floor(column, r),
                state.rank_floor(Command::Act, r),
                state.rank_floor(Command::Pre, r),
            ]);
            if holds.ranks & (1 << rank) != 0 {
                self.prea[rank] = state.rank_floor(Command::PreA, r);
            }
        }
    }

    /// Whether a command to `bank` of rank `rank` that may issue from
    /// `earliest` is allowed at all at `at` (refresh restrictions).
    fn allows(
        &self,
        rank: usize,
        bank: usize,
        command: Command,
        earliest: Cycle,
        at: Cycle,
    ) -> bool {
        self.holds.banks & (1 << bank) == 0
            && (self.holds.ranks & (1 << rank) == 0
                || command.is_column() && earliest.max(at) + self.column_to_prea <= self.prea[rank])
    }
}

/// The outcome of one FR-FCFS pass.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pick {
    /// The bank and candidate to issue now, if any is ready.
    pub best: Option<(usize, Candidate)>,
    /// The first cycle after the pass's cycle at which a candidate that was
    /// not ready becomes ready (`Cycle::MAX` if none).
    pub next_ready: Cycle,
}

#[derive(Clone, Debug)]
pub(super) struct RequestQueue {
    capacity: usize,
    /// RD for the read queue, WR for the write queue.
    pub column: Command,
    slots: Vec<Slot>,
    free: Vec<u32>,
    per_bank: Vec<VecDeque<u32>>,
    pub len: usize,
    banks_per_group: usize,
    banks_per_rank: usize,
    /// Per bank: its candidate (valid while the bank is not stale).
    candidates: Vec<Candidate>,
    /// Banks with requests, one entry each.
    entries: Vec<Entry>,
    /// Per bank: its index in `entries`, or `ABSENT`.
    entry_of: Vec<u32>,
    /// Banks whose entries must be recomputed before the next pass.
    stale: Vec<u32>,
    is_stale: Vec<bool>,
}

const ABSENT: u32 = u32::MAX;

impl RequestQueue {
    pub fn new(capacity: usize, column: Command, state: &BankState) -> Self {
        let banks = state.ranks() * state.banks_per_rank();
        RequestQueue {
            capacity,
            column,
            slots: Vec::with_capacity(capacity),
            free: Vec::new(),
            per_bank: vec![VecDeque::new(); banks],
            len: 0,
            banks_per_group: state.banks_per_group(),
            banks_per_rank: state.banks_per_rank(),
            candidates: vec![
                Candidate {
                    command: column,
                    position: 0,
                };
                banks
            ],
            entries: Vec::with_capacity(banks),
            entry_of: vec![ABSENT; banks],
            stale: Vec::with_capacity(banks),
            is_stale: vec![false; banks],
        }
    }

    pub fn is_full(&self) -> bool {
        self.len >= self.capacity
    }

    pub fn push(&mut self, bank: usize, slot: Slot) {
        let index = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.per_bank[bank].push_back(index);
        self.len += 1;
        if self.entry_of[bank] == ABSENT {
            self.entry_of[bank] = self.entries.len() as u32;
            self.entries.push(Entry {
                bank: bank as u32,
                floor: 0,
                local: 0,
                key: 0,
            });
        }
        self.mark_stale(bank);
    }

    /// Removes the `position`-th request of `bank`.
    pub fn take(&mut self, bank: usize, position: usize) -> Slot {
        let index = self.per_bank[bank]
            .remove(position)
            .expect("the scheduler picked a queued request");
        self.free.push(index);
        self.len -= 1;
        if self.per_bank[bank].is_empty() {
            let at = self.entry_of[bank] as usize;
            self.entries.swap_remove(at);
            if let Some(moved) = self.entries.get(at) {
                self.entry_of[moved.bank as usize] = at as u32;
            }
            self.entry_of[bank] = ABSENT;
        } else {
            self.mark_stale(bank);
        }
        self.slots[index as usize]
    }

    pub fn slot_mut(&mut self, bank: usize, position: usize) -> &mut Slot {
        &mut self.slots[self.per_bank[bank][position] as usize]
    }

    pub fn has_line(&self, bank: usize, line: u64) -> bool {
        self.per_bank[bank]
            .iter()
            .any(|&i| self.slots[i as usize].line == line)
    }

    pub fn any_for_row(&self, bank: usize, row: u32) -> bool {
        self.per_bank[bank]
            .iter()
            .any(|&i| self.slots[i as usize].target.row == row)
    }

    fn mark_stale(&mut self, bank: usize) {
        if !self.is_stale[bank] && self.entry_of[bank] != ABSENT {
            self.is_stale[bank] = true;
            self.stale.push(bank as u32);
        }
    }

    /// The bank's open row changed.
    pub fn forget_bank(&mut self, bank: usize) {
        self.mark_stale(bank);
    }

    /// A command went to this bank's group: the banks' local times may have
    /// moved (their candidates have not).
    pub fn retime_group(&mut self, bank: usize, state: &BankState) {
        if self.entries.is_empty() {
            return;
        }
        let first = bank - bank % self.banks_per_group;
        for b in first..first + self.banks_per_group {
            let at = self.entry_of[b];
            if at != ABSENT && !self.is_stale[b] {
                self.entries[at as usize].local = state.bank_local(self.candidates[b].command, b);
            }
        }
    }

    /// Recomputes the candidate of a bank with requests: a column command
    /// for the oldest request to the open row, else PRE (so a bank whose
    /// open row still has hits queued is never precharged), or ACT for the
    /// oldest request when the bank is closed.
    fn refresh(&mut self, bank: usize, state: &BankState) {
        let list = &self.per_bank[bank];
        let (position, command) = match state.open_row_at(bank) {
            None => (0, Command::Act),
            Some(row) => list
                .iter()
                .position(|&i| self.slots[i as usize].target.row == row)
                .map_or((0, Command::Pre), |p| (p, self.column)),
        };
        let seq = self.slots[list[position] as usize].seq;
        self.candidates[bank] = Candidate { command, position };
        let rank = bank / self.banks_per_rank;
        self.entries[self.entry_of[bank] as usize] = Entry {
            bank: bank as u32,
            floor: (rank * 3 + class_of(command)) as u32,
            local: state.bank_local(command, bank),
            key: if command.is_column() {
                seq
            } else {
                seq | ROW_COMMAND
            },
        };
    }

    fn refresh_stale(&mut self, state: &BankState) {
        while let Some(bank) = self.stale.pop() {
            let bank = bank as usize;
            self.is_stale[bank] = false;
            if self.entry_of[bank] != ABSENT {
                self.refresh(bank, state);
            }
        }
    }

    /// FR-FCFS at cycle `at`: the oldest request whose next command is a
    /// ready column command (a row hit); else the oldest whose ready
    /// command is ACT or PRE. Also when the next candidate becomes ready.
    pub fn scan(&mut self, state: &BankState, floors: &Floors, at: Cycle) -> Pick {
        self.refresh_stale(state);
        if floors.holds != RefreshHolds::default() {
            return self.scan_restricted(floors, at);
        }
        // Without refresh restrictions the pass has no branches that depend
        // on the data (they would mispredict): not-ready entries get key MAX,
        // ready ones ready time MAX.
        let mut best_key = u64::MAX;
        let mut best_bank = u32::MAX;
        let mut next_ready = Cycle::MAX;
        for entry in &self.entries {
            let earliest = entry.local.max(floors.flat[entry.floor as usize]);
            let ready = earliest <= at;
            let key = if ready { entry.key } else { u64::MAX };
            next_ready = next_ready.min(if ready { Cycle::MAX } else { earliest });
            best_bank = if key < best_key {
                entry.bank
            } else {
                best_bank
            };
            best_key = best_key.min(key);
        }
        self.pick(best_key, best_bank as usize, next_ready)
    }

    /// [`RequestQueue::scan`] while some rank or bank waits for refresh.
    #[cold]
    fn scan_restricted(&self, floors: &Floors, at: Cycle) -> Pick {
        let mut best_key = u64::MAX;
        let mut best_bank = 0;
        let mut next_ready = Cycle::MAX;
        for entry in &self.entries {
            let earliest = entry.local.max(floors.flat[entry.floor as usize]);
            let rank = entry.floor as usize / 3;
            let command = self.candidates[entry.bank as usize].command;
            if !floors.allows(rank, entry.bank as usize, command, earliest, at) {
                continue;
            }
            if earliest > at {
                next_ready = next_ready.min(earliest);
            } else if entry.key < best_key {
                best_key = entry.key;
                best_bank = entry.bank as usize;
            }
        }
        self.pick(best_key, best_bank, next_ready)
    }

    fn pick(&self, best_key: u64, best_bank: usize, next_ready: Cycle) -> Pick {
        Pick {
            best: (best_key != u64::MAX).then(|| (best_bank, self.candidates[best_bank])),
            next_ready,
        }
    }

    /// The cycle (≥ `at`) at which `bank`'s candidate may issue, if it may.
    pub fn bank_ready_at(
        &mut self,
        bank: usize,
        state: &BankState,
        floors: &Floors,
        at: Cycle,
    ) -> Option<Cycle> {
        if self.entry_of[bank] == ABSENT {
            return None;
        }
        self.refresh_stale(state);
        let entry = self.entries[self.entry_of[bank] as usize];
        let earliest = entry.local.max(floors.flat[entry.floor as usize]);
        let command = self.candidates[bank].command;
        floors
            .allows(entry.floor as usize / 3, bank, command, earliest, at)
            .then_some(earliest.max(at))
    }
}
