//! The state of one channel's device tree: open rows and, for every node,
//! the earliest cycle each command may issue there. Issuing a command pushes
//! those times forward by the constraint table; checking a command is the
//! maximum over the node's ancestors, so both cost O(constraints) and O(1).
//!
//! All next-allowed times live in one array (ranks, then banks), and each
//! command's effects are compiled into a list of (base node, offset, gap)
//! updates, so issuing is one branch-free loop. Constraints of a node are
//! raised in every node below it that keeps times (channel constraints in
//! every rank, bank-group constraints in every bank of the group), so the
//! earliest cycle of a command is the maximum of just two values: its
//! rank's and its bank's.

use crate::spec::{Command, ConstraintTable, Organization, Scope, Target};
use simkit::Cycle;

/// The node whose next-allowed times a constraint raises, relative to
/// the command that triggers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    Channel,
    Rank,
    /// Every rank of the channel but the command's own.
    OtherRanks,
    BankGroup,
    Bank,
}

/// One effect of a preceding command: `following` may not issue at `node`
/// before `gap` cycles have passed.
#[derive(Clone, Copy, Debug)]
struct Raise {
    node: Node,
    following: usize,
    gap: Cycle,
}

/// The effects of each preceding command, one per node and following
/// command with a positive gap (the largest of the rules that apply).
fn raises_per_command(table: &ConstraintTable) -> [Vec<Raise>; Command::COUNT] {
    let mut raises: [Vec<Raise>; Command::COUNT] = Default::default();
    for c in &table.constraints {
        // The controller re-times a bank after commands to its own bank
        // group only; rules between different groups or banks would break that.
        assert!(
            !c.sibling || c.scope <= Scope::Rank,
            "sibling rules count between ranks: {c}"
        );
        let node = match (c.scope, c.sibling) {
            (Scope::Channel, _) => Node::Channel,
            (Scope::Rank, false) => Node::Rank,
            (Scope::Rank, true) => Node::OtherRanks,
            (Scope::BankGroup, _) => Node::BankGroup,
            (Scope::Bank, _) => Node::Bank,
        };
        // A rank command addresses no bank or bank group.
        if c.gap == 0
            || c.preceding.is_rank_command() && matches!(node, Node::BankGroup | Node::Bank)
        {
            continue;
        }
        let list = &mut raises[c.preceding.index()];
        let following = c.following.index();
        match list
            .iter_mut()
            .find(|r| r.node == node && r.following == following)
        {
            Some(r) => r.gap = r.gap.max(c.gap),
            None => list.push(Raise {
                node,
                following,
                gap: c.gap,
            }),
        }
    }
    raises
}

/// The last `count` issue times of a windowed command at one node.
#[derive(Clone, Debug)]
struct Ring {
    times: Vec<Cycle>,
    next: usize,
}

impl Ring {
    fn oldest_if_full(&self, count: usize) -> Option<Cycle> {
        (self.times.len() == count).then(|| self.times[self.next])
    }

    fn record(&mut self, count: usize, now: Cycle) {
        if self.times.len() < count {
            self.times.push(now);
        } else {
            self.times[self.next] = now;
            self.next += 1;
            if self.next == count {
                self.next = 0;
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Window {
    scope: Scope,
    command: Command,
    count: usize,
    span: Cycle,
    /// One ring per node at `scope` (one for the channel, or one per rank).
    rings: Vec<Ring>,
}

/// Why a command cannot issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The bank or rank is in the wrong state for the command.
    State(&'static str),
    /// A timing constraint holds it back until this cycle.
    Timing(Cycle),
}

/// The node an [`Update`] is relative to; indexes the bases
/// [`BankState::issue`] computes for the command's target.
#[derive(Clone, Copy, Debug)]
enum Base {
    /// The start of the array (for the channel's constraints, raised in every rank).
    Absolute = 0,
    Rank = 1,
    Bank = 2,
    /// The first bank of the target's bank group.
    GroupFirstBank = 3,
}

/// One next-allowed time a command raises: at `base + offset` in
/// `BankState::next`, to `gap` cycles after the command.
#[derive(Clone, Copy, Debug)]
struct Update {
    base: Base,
    offset: usize,
    gap: Cycle,
}

/// Compiles the raises of each command into updates of `BankState::next`;
/// raises of the other ranks stay apart (they depend on the target's rank).
fn updates_per_command(
    raises: &[Vec<Raise>; Command::COUNT],
    ranks: usize,
    banks_per_group: usize,
) -> [Vec<Update>; Command::COUNT] {
    raises.clone().map(|list| {
        let mut updates = Vec::new();
        for r in list {
            let at = |base, offset| Update {
                base,
                offset,
                gap: r.gap,
            };
            match r.node {
                Node::Channel => updates.extend(
                    (0..ranks).map(|rank| at(Base::Absolute, rank * Command::COUNT + r.following)),
                ),
                Node::Rank => updates.push(at(Base::Rank, r.following)),
                Node::OtherRanks => {}
                Node::BankGroup => updates.extend(
                    (0..banks_per_group)
                        .map(|b| at(Base::GroupFirstBank, b * Command::COUNT + r.following)),
                ),
                Node::Bank => updates.push(at(Base::Bank, r.following)),
            }
        }
        updates
    })
}

/// Banks a channel may have (ranks × banks per rank).
const MAX_BANKS: usize = 64;

/// Length of `BankState::next`: a power of two that holds every rank and
/// bank of the largest channel.
const TIME_SLOTS: usize =
    ((crate::controller::MAX_RANKS + MAX_BANKS) * Command::COUNT).next_power_of_two();

/// Timing and row state of one channel.
#[derive(Clone, Debug)]
pub struct BankState {
    ranks: usize,
    bankgroups: usize,
    banks_per_group: usize,
    /// Per node and command, at `node * Command::COUNT + command`: the
    /// earliest cycle the constraints of the node and its ancestors allow
    /// the command (for a bank, of its bank and bank group only). Nodes
    /// are the ranks (at `rank`) and the banks (at `ranks + bank`).
    next: Box<[Cycle; TIME_SLOTS]>,
    open_row: Vec<Option<u32>>,
    open_banks_in_rank: Vec<u32>,
    updates: [Vec<Update>; Command::COUNT],
    /// Per command: (following command, gap) raised in every other rank.
    other_ranks: [Vec<(usize, Cycle)>; Command::COUNT],
    windows: Vec<Window>,
    /// Per command: whether a rolling window counts it.
    windowed: [bool; Command::COUNT],
}

impl BankState {
    pub fn new(org: &Organization, ranks: u64, table: &ConstraintTable) -> Self {
        let ranks = ranks as usize;
        let bankgroups = org.bankgroups as usize;
        let banks_per_group = org.banks_per_group as usize;
        let banks = ranks * bankgroups * banks_per_group;
        assert!(
            banks_per_group.is_power_of_two(),
            "checked presets have a power of two of banks per group"
        );
        assert!(
            ranks <= crate::controller::MAX_RANKS && banks <= MAX_BANKS,
            "at most {} ranks and {MAX_BANKS} banks per channel",
            crate::controller::MAX_RANKS
        );
        let windows = table
            .windows
            .iter()
            .map(|w| {
                // `rank_floor` folds windows into the rank part of `earliest`.
                assert!(
                    w.scope <= Scope::Rank,
                    "rolling windows count per channel or rank"
                );
                let nodes = if w.scope == Scope::Channel { 1 } else { ranks };
                Window {
                    scope: w.scope,
                    command: w.command,
                    count: w.count,
                    span: w.span,
                    rings: vec![
                        Ring {
                            times: Vec::with_capacity(w.count),
                            next: 0
                        };
                        nodes
                    ],
                }
            })
            .collect::<Vec<Window>>();
        let mut windowed = [false; Command::COUNT];
        for w in &windows {
            windowed[w.command.index()] = true;
        }
        let raises = raises_per_command(table);
        BankState {
            ranks,
            bankgroups,
            banks_per_group,
            next: Box::new([0; TIME_SLOTS]),
            open_row: vec![None; banks],
            open_banks_in_rank: vec![0; ranks],
            updates: updates_per_command(&raises, ranks, banks_per_group),
            other_ranks: raises.map(|list| {
                list.iter()
                    .filter(|r| r.node == Node::OtherRanks)
                    .map(|r| (r.following, r.gap))
                    .collect()
            }),
            windows,
            windowed,
        }
    }

    pub fn ranks(&self) -> usize {
        self.ranks
    }

    pub fn banks_per_group(&self) -> usize {
        self.banks_per_group
    }

    pub fn banks_per_rank(&self) -> usize {
        self.bankgroups * self.banks_per_group
    }

    /// Flat index of a bank within the channel.
    pub fn bank_index(&self, t: &Target) -> usize {
        (t.rank as usize * self.bankgroups + t.bankgroup as usize) * self.banks_per_group
            + t.bank as usize
    }

    fn window_node(&self, scope: Scope, t: &Target) -> usize {
        if scope == Scope::Channel {
            0
        } else {
            t.rank as usize
        }
    }

    /// The row open in the bank of `t`, if any.
    pub fn open_row(&self, t: &Target) -> Option<u32> {
        self.open_row[self.bank_index(t)]
    }

    /// The row open in bank `bank_index` (see [`BankState::bank_index`]).
    pub fn open_row_at(&self, bank_index: usize) -> Option<u32> {
        self.open_row[bank_index]
    }

    pub fn rank_has_open_bank(&self, rank: u32) -> bool {
        self.open_banks_in_rank[rank as usize] > 0
    }

    /// Whether the state of the bank or rank allows `command` at all.
    pub fn state_allows(&self, command: Command, t: &Target) -> Result<(), &'static str> {
        match command {
            Command::Act if self.open_row(t).is_some() => Err("ACT to a bank with an open row"),
            Command::Pre if self.open_row(t).is_none() => Err("PRE to a closed bank"),
            Command::Rd | Command::Wr => match self.open_row(t) {
                None => Err("column command to a closed bank"),
                Some(row) if row != t.row => Err("column command to a row that is not open"),
                Some(_) => Ok(()),
            },
            Command::Ref if self.rank_has_open_bank(t.rank) => Err("REF with an open bank"),
            Command::RefPb if self.open_row(t).is_some() => Err("REFpb to a bank with an open row"),
            _ => Ok(()),
        }
    }

    /// The earliest cycle the timing constraints allow `command` at `t`.
    pub fn earliest(&self, command: Command, t: &Target) -> Cycle {
        let floor = self.rank_floor(command, t.rank);
        if command.is_rank_command() {
            floor
        } else {
            floor.max(self.bank_local(command, self.bank_index(t)))
        }
    }

    /// The part of [`BankState::earliest`] shared by every bank of `rank`:
    /// channel and rank constraints and rolling windows.
    pub fn rank_floor(&self, command: Command, rank: u32) -> Cycle {
        self.time_at(self.rank_floor_index(command, rank))
    }

    /// Where [`BankState::rank_floor`] is kept: an index for
    /// [`BankState::time_at`] that stays valid as commands issue.
    pub fn rank_floor_index(&self, command: Command, rank: u32) -> usize {
        rank as usize * Command::COUNT + command.index()
    }

    /// The part of [`BankState::earliest`] local to bank `bank_index`: its
    /// bank-group and bank constraints. `earliest = max(rank_floor, bank_local)`.
    pub fn bank_local(&self, command: Command, bank_index: usize) -> Cycle {
        self.time_at(self.bank_local_index(command, bank_index))
    }

    /// Where [`BankState::bank_local`] is kept: an index for
    /// [`BankState::time_at`] that stays valid as commands issue.
    pub fn bank_local_index(&self, command: Command, bank_index: usize) -> usize {
        (self.ranks + bank_index) * Command::COUNT + command.index()
    }

    /// The time at an index from [`BankState::rank_floor_index`] or
    /// [`BankState::bank_local_index`].
    pub fn time_at(&self, index: usize) -> Cycle {
        // Indices are below TIME_SLOTS (checked in `new`); the mask lets
        // the compiler drop the bounds check from the scheduler's hot loop.
        self.next[index & (TIME_SLOTS - 1)]
    }

    /// Whether `command` may issue at `t` in cycle `now`.
    pub fn check(&self, command: Command, t: &Target, now: Cycle) -> Result<(), Refusal> {
        self.state_allows(command, t).map_err(Refusal::State)?;
        let earliest = self.earliest(command, t);
        if earliest > now {
            return Err(Refusal::Timing(earliest));
        }
        Ok(())
    }

    /// Issues `command` at `t` in cycle `now`.
    ///
    /// # Panics
    /// In debug builds, if [`BankState::check`] refuses it: the scheduler
    /// must only issue legal commands.
    pub fn issue(&mut self, command: Command, t: &Target, now: Cycle) {
        debug_assert_eq!(
            self.check(command, t, now),
            Ok(()),
            "{command} at {t:?} in {now}"
        );
        let rank = t.rank as usize;
        let bank = self.bank_index(t);
        let node_base = |node: usize| node * Command::COUNT;
        // Bank groups are aligned runs of a power of two of banks.
        let group_first = bank & !(self.banks_per_group - 1);
        let bases = [
            0,
            node_base(rank),
            node_base(self.ranks + bank),
            node_base(self.ranks + group_first),
        ];
        for u in &self.updates[command.index()] {
            let next = &mut self.next[(bases[u.base as usize] + u.offset) & (TIME_SLOTS - 1)];
            *next = (*next).max(now + u.gap);
        }
        for &(following, gap) in &self.other_ranks[command.index()] {
            for other in (0..self.ranks).filter(|&r| r != rank) {
                let next = &mut self.next[node_base(other) + following];
                *next = (*next).max(now + gap);
            }
        }
        // A full window holds the command back until its oldest entry
        // leaves; that bound only grows, so it is folded into the node's
        // next-allowed time and checks need not look at windows.
        if self.windowed[command.index()] {
            for i in 0..self.windows.len() {
                if self.windows[i].command == command {
                    let node = self.window_node(self.windows[i].scope, t);
                    let w = &mut self.windows[i];
                    w.rings[node].record(w.count, now);
                    if let Some(oldest) = w.rings[node].oldest_if_full(w.count) {
                        let ranks = if w.scope == Scope::Channel {
                            0..self.ranks
                        } else {
                            node..node + 1
                        };
                        for rank in ranks {
                            let next = &mut self.next[rank * Command::COUNT + command.index()];
                            *next = (*next).max(oldest + w.span);
                        }
                    }
                }
            }
        }
        match command {
            Command::Act => {
                self.open_row[bank] = Some(t.row);
                self.open_banks_in_rank[rank] += 1;
            }
            Command::Pre => {
                self.open_row[bank] = None;
                self.open_banks_in_rank[rank] -= 1;
            }
            Command::PreA => {
                let banks = self.banks_per_rank();
                let first = rank * banks;
                self.open_row[first..first + banks].fill(None);
                self.open_banks_in_rank[rank] = 0;
            }
            Command::Rd | Command::Wr | Command::Ref | Command::RefPb => {}
        }
    }
}
