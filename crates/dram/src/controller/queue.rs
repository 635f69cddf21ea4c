//! A request queue of one kind (reads or writes) and FR-FCFS over it.
//!
//! Requests live in a fixed slot array; each bank keeps its requests in
//! arrival order as an intrusive list through the slots. Each bank with
//! requests has one candidate command (the next command FR-FCFS would issue
//! there), recomputed as soon as the bank's requests or open row change, and
//! the banks with requests are kept sorted by their candidate's priority.
//! A pass walks the banks in priority order and stops at the first whose
//! candidate may issue, so it times each bank's candidate at most once and
//! usually only a few of them. A candidate's issue time is the maximum of
//! two values of the bank state, its rank's and its bank's, whose indices
//! the order keeps.

use crate::bank_state::BankState;
use crate::spec::{Command, Target};
use simkit::Cycle;

use super::RowClass;

/// Ranks a channel may have (the size of the per-rank arrays of [`RefreshWait`]).
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
    /// The slot of its request.
    pub slot: u32,
}

/// A bank with requests, as a pass needs it: where the two parts of its
/// candidate's issue time are.
#[derive(Clone, Copy, Debug)]
struct Ranked {
    /// Its priority: the order is sorted by it.
    key: u64,
    /// Index of the bank-local part ([`BankState::bank_local_index`]).
    local: u16,
    /// Index of the rank-wide part ([`BankState::rank_floor_index`]).
    floor: u16,
    bank: u16,
}

/// Priority bit of a candidate's key: set for ACT and PRE, so row hits
/// (column commands) come first; the rest of the key is the arrival order.
const ROW_COMMAND: u64 = 1 << 63;

/// No slot (end of a bank's list, or an empty bank).
const NONE: u32 = u32::MAX;

/// What waiting refreshes hold back, at one cycle.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct RefreshWait {
    /// Ranks waiting for an all-bank refresh, as a bit mask: they get no
    /// ACT or PRE, and only column commands that do not delay their PREA.
    pub ranks: u64,
    /// Banks (flat index) waiting for their per-bank refresh, as a bit
    /// mask: they get no command from the queues.
    pub banks: u64,
    /// Per waiting rank: the earliest cycle its PREA may issue.
    pub prea: [Cycle; MAX_RANKS],
    /// The gap from the served column command to PREA.
    pub column_to_prea: Cycle,
}

impl RefreshWait {
    /// Whether anything waits.
    pub fn any(&self) -> bool {
        self.ranks | self.banks != 0
    }

    /// Whether a command to `bank` of rank `rank` that may issue from
    /// `earliest` is allowed at all at `at`.
    fn allows(
        &self,
        rank: usize,
        bank: usize,
        command: Command,
        earliest: Cycle,
        at: Cycle,
    ) -> bool {
        self.banks & (1 << bank) == 0
            && (self.ranks & (1 << rank) == 0
                || command.is_column() && earliest.max(at) + self.column_to_prea <= self.prea[rank])
    }
}

/// The outcome of one FR-FCFS pass.
#[derive(Clone, Copy, Debug)]
pub(super) enum Pick {
    /// The bank and candidate to issue now.
    Issue(usize, Candidate),
    /// Nothing may issue now; the first later cycle at which a candidate
    /// may (`Cycle::MAX` if none).
    Wait(Cycle),
}

impl Ranked {
    /// The earliest cycle the bank's candidate may issue.
    fn earliest(&self, state: &BankState) -> Cycle {
        state
            .time_at(self.local as usize)
            .max(state.time_at(self.floor as usize))
    }
}

#[derive(Clone, Debug)]
pub(super) struct RequestQueue {
    capacity: usize,
    /// RD for the read queue, WR for the write queue.
    pub column: Command,
    slots: Vec<Slot>,
    /// Per slot: the next slot of its bank's list, or `NONE`.
    next: Vec<u32>,
    free: Vec<u32>,
    pub len: usize,
    banks_per_rank: usize,
    /// Per bank: the first and last slot of its list, or `NONE`.
    head: Vec<u32>,
    tail: Vec<u32>,
    /// Per bank with requests: its candidate and its index in `order`.
    candidates: Vec<Candidate>,
    position: Vec<u32>,
    /// Banks with requests, by ascending key (FR-FCFS priority).
    order: Vec<Ranked>,
}

impl RequestQueue {
    pub fn new(capacity: usize, column: Command, state: &BankState) -> Self {
        let banks = state.ranks() * state.banks_per_rank();
        RequestQueue {
            capacity,
            column,
            slots: Vec::with_capacity(capacity),
            next: Vec::with_capacity(capacity),
            free: Vec::new(),
            len: 0,
            banks_per_rank: state.banks_per_rank(),
            head: vec![NONE; banks],
            tail: vec![NONE; banks],
            candidates: vec![
                Candidate {
                    command: column,
                    slot: NONE,
                };
                banks
            ],
            position: vec![0; banks],
            order: Vec::with_capacity(banks),
        }
    }

    pub fn is_full(&self) -> bool {
        self.len >= self.capacity
    }

    /// The slots of `bank`'s list, oldest first.
    fn bank_slots(&self, bank: usize) -> impl Iterator<Item = u32> + '_ {
        let mut at = self.head[bank];
        std::iter::from_fn(move || {
            let this = at;
            (this != NONE).then(|| {
                at = self.next[this as usize];
                this
            })
        })
    }

    pub fn push(&mut self, bank: usize, slot: Slot, state: &BankState) {
        let index = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                self.next[i as usize] = NONE;
                i
            }
            None => {
                self.slots.push(slot);
                self.next.push(NONE);
                (self.slots.len() - 1) as u32
            }
        };
        let was_empty = self.head[bank] == NONE;
        if was_empty {
            self.head[bank] = index;
        } else {
            self.next[self.tail[bank] as usize] = index;
        }
        self.tail[bank] = index;
        self.len += 1;
        if was_empty {
            self.position[bank] = self.order.len() as u32;
            self.order.push(Ranked {
                key: u64::MAX,
                local: 0,
                floor: 0,
                bank: bank as u16,
            });
        }
        // A newer request changes the bank's candidate only if it is the
        // first hit on the open row.
        let first_hit = self.candidates[bank].command == Command::Pre
            && state.open_row_at(bank) == Some(slot.target.row);
        if was_empty || first_hit {
            self.refresh(bank, state);
        }
    }

    /// Removes the request in `slot` of `bank`.
    pub fn take(&mut self, bank: usize, slot: u32, state: &BankState) -> Slot {
        let mut prev = NONE;
        let mut at = self.head[bank];
        while at != slot {
            assert!(at != NONE, "the scheduler picked a queued request");
            prev = at;
            at = self.next[at as usize];
        }
        let after = self.next[slot as usize];
        if prev == NONE {
            self.head[bank] = after;
        } else {
            self.next[prev as usize] = after;
        }
        if after == NONE {
            self.tail[bank] = prev;
        }
        self.free.push(slot);
        self.len -= 1;
        if self.head[bank] == NONE {
            for at in self.position[bank] as usize + 1..self.order.len() {
                self.shift(at, at - 1);
            }
            self.order.pop();
        } else {
            self.refresh(bank, state);
        }
        self.slots[slot as usize]
    }

    pub fn slot_mut(&mut self, slot: u32) -> &mut Slot {
        &mut self.slots[slot as usize]
    }

    pub fn has_line(&self, bank: usize, line: u64) -> bool {
        self.bank_slots(bank)
            .any(|i| self.slots[i as usize].line == line)
    }

    pub fn any_for_row(&self, bank: usize, row: u32) -> bool {
        self.bank_slots(bank)
            .any(|i| self.slots[i as usize].target.row == row)
    }

    /// The bank's open row changed.
    pub fn forget_bank(&mut self, bank: usize, state: &BankState) {
        if self.head[bank] != NONE {
            self.refresh(bank, state);
        }
    }

    /// Recomputes the candidate of a bank with requests: a column command
    /// for the oldest request to the open row, else PRE (so a bank whose
    /// open row still has hits queued is never precharged), or ACT for the
    /// oldest request when the bank is closed. Keeps `order` sorted.
    fn refresh(&mut self, bank: usize, state: &BankState) {
        let head = self.head[bank];
        let (slot, command) = match state.open_row_at(bank) {
            None => (head, Command::Act),
            Some(row) => self
                .bank_slots(bank)
                .find(|&i| self.slots[i as usize].target.row == row)
                .map_or((head, Command::Pre), |i| (i, self.column)),
        };
        self.candidates[bank] = Candidate { command, slot };
        let request = &self.slots[slot as usize];
        let (seq, rank) = (request.seq, request.target.rank);
        let key = if command.is_column() {
            seq
        } else {
            seq | ROW_COMMAND
        };
        let ranked = Ranked {
            key,
            local: state.bank_local_index(command, bank) as u16,
            floor: state.rank_floor_index(command, rank) as u16,
            bank: bank as u16,
        };
        // Move the bank to its place by key (the order is short).
        let mut at = self.position[bank] as usize;
        if key < self.order[at].key {
            while at > 0 && self.order[at - 1].key > key {
                self.shift(at - 1, at);
                at -= 1;
            }
        } else {
            while at + 1 < self.order.len() && self.order[at + 1].key < key {
                self.shift(at + 1, at);
                at += 1;
            }
        }
        self.order[at] = ranked;
        self.position[bank] = at as u32;
    }

    /// Moves the entry of `order` at `from` to `to`.
    fn shift(&mut self, from: usize, to: usize) {
        let r = self.order[from];
        self.order[to] = r;
        self.position[r.bank as usize] = to as u32;
    }

    /// FR-FCFS at cycle `at`: the oldest request whose next command is a
    /// ready column command (a row hit); else the oldest whose ready
    /// command is ACT or PRE; else when the next candidate becomes ready.
    pub fn scan(&self, state: &BankState, wait: &RefreshWait, at: Cycle) -> Pick {
        if wait.any() {
            return self.scan_restricted(state, wait, at);
        }
        let mut next_ready = Cycle::MAX;
        for r in &self.order {
            let earliest = r.earliest(state);
            if earliest <= at {
                let bank = r.bank as usize;
                return Pick::Issue(bank, self.candidates[bank]);
            }
            next_ready = next_ready.min(earliest);
        }
        Pick::Wait(next_ready)
    }

    /// [`RequestQueue::scan`] while some rank or bank waits for refresh.
    #[cold]
    fn scan_restricted(&self, state: &BankState, wait: &RefreshWait, at: Cycle) -> Pick {
        let mut next_ready = Cycle::MAX;
        for r in &self.order {
            let earliest = r.earliest(state);
            let bank = r.bank as usize;
            let c = &self.candidates[bank];
            if !wait.allows(bank / self.banks_per_rank, bank, c.command, earliest, at) {
                continue;
            }
            if earliest <= at {
                return Pick::Issue(bank, *c);
            }
            next_ready = next_ready.min(earliest);
        }
        Pick::Wait(next_ready)
    }

    /// The cycle (≥ `at`) at which `bank`'s candidate may issue, if it may.
    pub fn bank_ready_at(
        &self,
        bank: usize,
        state: &BankState,
        wait: &RefreshWait,
        at: Cycle,
    ) -> Option<Cycle> {
        if self.head[bank] == NONE {
            return None;
        }
        let r = &self.order[self.position[bank] as usize];
        let earliest = r.earliest(state);
        let rank = bank / self.banks_per_rank;
        wait.allows(rank, bank, self.candidates[bank].command, earliest, at)
            .then_some(earliest.max(at))
    }
}
