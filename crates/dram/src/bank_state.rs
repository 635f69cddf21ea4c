//! The state of one channel's device tree: open rows and, for every node,
//! the earliest cycle each command may issue there. Issuing a command pushes
//! those times forward by the constraint table; checking a command is the
//! maximum over the node's ancestors, so both cost O(constraints) and O(1).

use crate::spec::{Command, ConstraintTable, Organization, Scope, Target};
use simkit::Cycle;

type PerCommand = [Cycle; Command::COUNT];

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

/// Timing and row state of one channel.
#[derive(Clone, Debug)]
pub struct BankState {
    ranks: usize,
    bankgroups: usize,
    banks_per_group: usize,
    /// log2 of `banks_per_group` (presets are checked to be powers of two).
    group_shift: u32,
    channel_next: PerCommand,
    rank_next: Vec<PerCommand>,
    bankgroup_next: Vec<PerCommand>,
    bank_next: Vec<PerCommand>,
    open_row: Vec<Option<u32>>,
    open_banks_in_rank: Vec<u32>,
    raises: [Vec<Raise>; Command::COUNT],
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
        BankState {
            ranks,
            bankgroups,
            banks_per_group,
            group_shift: banks_per_group.trailing_zeros(),
            channel_next: [0; Command::COUNT],
            rank_next: vec![[0; Command::COUNT]; ranks],
            bankgroup_next: vec![[0; Command::COUNT]; ranks * bankgroups],
            bank_next: vec![[0; Command::COUNT]; banks],
            open_row: vec![None; banks],
            open_banks_in_rank: vec![0; ranks],
            raises: raises_per_command(table),
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

    fn bankgroup_index(&self, t: &Target) -> usize {
        t.rank as usize * self.bankgroups + t.bankgroup as usize
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
        let c = command.index();
        self.channel_next[c].max(self.rank_next[rank as usize][c])
    }

    /// The part of [`BankState::earliest`] local to bank `bank_index`: its
    /// bank-group and bank constraints. `earliest = max(rank_floor, bank_local)`.
    pub fn bank_local(&self, command: Command, bank_index: usize) -> Cycle {
        let c = command.index();
        self.bankgroup_next[bank_index >> self.group_shift][c].max(self.bank_next[bank_index][c])
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
        let bankgroup = self.bankgroup_index(t);
        let bank = self.bank_index(t);
        for r in &self.raises[command.index()] {
            let until = now + r.gap;
            let next = match r.node {
                Node::Channel => &mut self.channel_next[r.following],
                Node::Rank => &mut self.rank_next[rank][r.following],
                Node::OtherRanks => {
                    for (other, next) in self.rank_next.iter_mut().enumerate() {
                        if other != rank {
                            next[r.following] = next[r.following].max(until);
                        }
                    }
                    continue;
                }
                Node::BankGroup => &mut self.bankgroup_next[bankgroup][r.following],
                Node::Bank => &mut self.bank_next[bank][r.following],
            };
            *next = (*next).max(until);
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
                        let slot = if w.scope == Scope::Channel {
                            &mut self.channel_next
                        } else {
                            &mut self.rank_next[node]
                        };
                        let c = command.index();
                        slot[c] = slot[c].max(oldest + w.span);
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
