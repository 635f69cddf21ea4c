//! Protocol checker, independent of the scheduler: it reads a command
//! stream and the preset and reports every violated rule, with the two
//! commands and the required and actual gaps.
//!
//! It shares only data with the controller (the preset and its constraint
//! table). Where the controller's timing state pushes "earliest allowed"
//! times forward when a command issues, the checker looks back: it keeps
//! the last command of each kind at every node and compares gaps when the
//! next command arrives. On top of the table it checks what the table
//! should imply: bank and row state, one command per channel per cycle, no
//! overlapping data bursts, and a refresh of every bank (REF of its rank or
//! REFpb of the bank) at least every 9 × tREFI (JEDEC lets a controller
//! postpone up to 8 refreshes).

use crate::spec::{
    Command, CommandSink, ConstraintTable, DeviceSpec, IssuedCommand, Organization, Scope, Target,
};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

/// A command with its position in the checked stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Numbered {
    pub index: u64,
    pub command: IssuedCommand,
}

impl fmt::Display for Numbered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.command;
        let t = &c.target;
        write!(
            f,
            "#{} {}@{} ch{} rank{}",
            self.index, c.command, c.cycle, c.channel, t.rank
        )?;
        if !c.command.is_rank_command() {
            write!(f, " bg{} bank{}", t.bankgroup, t.bank)?;
        }
        if matches!(c.command, Command::Act | Command::Rd | Command::Wr) {
            write!(f, " row{}", t.row)?;
        }
        if c.command.is_column() {
            write!(f, " col{}", t.col)?;
        }
        Ok(())
    }
}

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule, e.g. `tRCD ACT→RD (same bank) ≥ nRCD = 22 cycles`.
    pub rule: String,
    pub first: Option<Numbered>,
    pub second: Option<Numbered>,
    pub required_gap: Option<u64>,
    pub actual_gap: Option<u64>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rule)?;
        if let (Some(required), Some(actual)) = (self.required_gap, self.actual_gap) {
            write!(f, ": required {required} cycles, got {actual}")?;
        }
        if let Some(first) = &self.first {
            write!(f, "; {first}")?;
        }
        if let Some(second) = &self.second {
            write!(f, " → {second}")?;
        }
        Ok(())
    }
}

/// (channel, scope, rank, bank group, bank) with the fields below `scope` zeroed.
type NodeKey = (u32, Scope, u32, u32, u32);

fn node(channel: u32, scope: Scope, t: &Target) -> NodeKey {
    match scope {
        Scope::Channel => (channel, scope, 0, 0, 0),
        Scope::Rank => (channel, scope, t.rank, 0, 0),
        Scope::BankGroup => (channel, scope, t.rank, t.bankgroup, 0),
        Scope::Bank => (channel, scope, t.rank, t.bankgroup, t.bank),
    }
}

/// Keeps at most this many violations; the rest are only counted.
const MAX_KEPT_VIOLATIONS: usize = 10_000;
/// JEDEC allows postponing eight refreshes.
const MAX_REFRESH_INTERVALS: u64 = 9;

#[derive(Clone, Debug)]
pub struct ProtocolChecker {
    table: ConstraintTable,
    cl: u64,
    cwl: u64,
    bl: u64,
    refi: u64,
    ranks: u32,
    org: Organization,
    per_bank_refresh: bool,
    last: BTreeMap<(Command, NodeKey), Numbered>,
    windows: BTreeMap<(usize, NodeKey), VecDeque<Numbered>>,
    open_rows: BTreeMap<(u32, u32, u32, u32), u32>,
    /// Per (channel, rank, bank group, bank): the last refresh of the bank.
    last_refresh: BTreeMap<(u32, u32, u32, u32), u64>,
    last_on_channel: BTreeMap<u32, Numbered>,
    last_burst_end: BTreeMap<u32, (u64, Numbered)>,
    violations: Vec<Violation>,
    violation_count: u64,
    next_index: u64,
}

impl ProtocolChecker {
    /// A checker for a channel of `spec` with `ranks` ranks (any number of channels).
    pub fn new(spec: &DeviceSpec, ranks: u64) -> Self {
        ProtocolChecker {
            table: ConstraintTable::generate(spec, ranks),
            cl: spec.timing.cl,
            cwl: spec.timing.cwl,
            bl: spec.timing.bl,
            refi: spec.timing.refi,
            ranks: ranks as u32,
            org: spec.org.clone(),
            per_bank_refresh: spec.timing.per_bank_refresh.is_some(),
            last: BTreeMap::new(),
            windows: BTreeMap::new(),
            open_rows: BTreeMap::new(),
            last_refresh: BTreeMap::new(),
            last_on_channel: BTreeMap::new(),
            last_burst_end: BTreeMap::new(),
            violations: Vec::new(),
            violation_count: 0,
            next_index: 0,
        }
    }

    /// Checks a whole command list that ends at `end_cycle`.
    pub fn check_all(
        spec: &DeviceSpec,
        ranks: u64,
        commands: &[IssuedCommand],
        end_cycle: u64,
    ) -> Vec<Violation> {
        let mut checker = ProtocolChecker::new(spec, ranks);
        for c in commands {
            checker.check(c);
        }
        checker.finish(end_cycle);
        checker.violations
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// All violations found, including those beyond the kept list.
    pub fn violation_count(&self) -> u64 {
        self.violation_count
    }

    pub fn commands_checked(&self) -> u64 {
        self.next_index
    }

    fn report(&mut self, violation: Violation) {
        self.violation_count += 1;
        if self.violations.len() < MAX_KEPT_VIOLATIONS {
            self.violations.push(violation);
        }
    }

    fn state_violation(&mut self, rule: String, first: Option<Numbered>, second: Numbered) {
        self.report(Violation {
            rule,
            first,
            second: Some(second),
            required_gap: None,
            actual_gap: None,
        });
    }

    /// Checks the next command of the stream.
    pub fn check(&mut self, command: &IssuedCommand) {
        let this = Numbered {
            index: self.next_index,
            command: *command,
        };
        self.next_index += 1;
        let ch = command.channel;
        let t = command.target;
        let cmd = command.command;

        if let Some(previous) = self.last_on_channel.get(&ch).copied() {
            if previous.command.cycle >= command.cycle {
                self.state_violation(
                    "command bus: at most one command per channel per cycle, in cycle order".into(),
                    Some(previous),
                    this,
                );
            }
        }
        self.last_on_channel.insert(ch, this);

        self.check_state(ch, &t, cmd, this);
        self.check_constraints(ch, &t, cmd, this);
        self.check_windows(ch, &t, cmd, this);
        self.check_data_bus(ch, cmd, this);
        if cmd.is_refresh() {
            let banks = if cmd == Command::Ref {
                self.banks_of_rank(t.rank)
            } else {
                vec![(t.rank, t.bankgroup, t.bank)]
            };
            self.refreshed(ch, &banks, command.cycle, Some(this));
        }
        self.record(ch, &t, cmd, this);
    }

    /// Checks the refresh interval up to the end of the run.
    pub fn finish(&mut self, end_cycle: u64) {
        let channels: Vec<u32> = self.last_on_channel.keys().copied().collect();
        for ch in channels {
            for rank in 0..self.ranks {
                let banks = self.banks_of_rank(rank);
                self.refreshed(ch, &banks, end_cycle, None);
            }
        }
    }

    /// (rank, bank group, bank) of every bank of `rank`.
    fn banks_of_rank(&self, rank: u32) -> Vec<(u32, u32, u32)> {
        let banks_per_group = self.org.banks_per_group as u32;
        (0..self.org.bankgroups as u32)
            .flat_map(move |bg| (0..banks_per_group).map(move |b| (rank, bg, b)))
            .collect()
    }

    /// `banks` of channel `ch` are refreshed at `cycle` (or the run ends
    /// there): reports the longest stretch one of them went without.
    fn refreshed(&mut self, ch: u32, banks: &[(u32, u32, u32)], cycle: u64, by: Option<Numbered>) {
        let mut since = cycle;
        for &(rank, bg, bank) in banks {
            let last = self.last_refresh.insert((ch, rank, bg, bank), cycle);
            // Refresh intervals count from cycle 0.
            since = since.min(last.unwrap_or(0));
        }
        self.check_refresh_gap(since, cycle, by);
    }

    fn check_refresh_gap(&mut self, since: u64, until: u64, second: Option<Numbered>) {
        let limit = MAX_REFRESH_INTERVALS * self.refi;
        if until.saturating_sub(since) > limit {
            self.report(Violation {
                rule: format!("refresh: a bank went more than {MAX_REFRESH_INTERVALS} × tREFI = {limit} cycles without REF or REFpb"),
                first: None,
                second,
                required_gap: Some(limit),
                actual_gap: Some(until - since),
            });
        }
    }

    fn bank_key(ch: u32, t: &Target) -> (u32, u32, u32, u32) {
        (ch, t.rank, t.bankgroup, t.bank)
    }

    /// What is wrong with the address of `cmd` at `t`, if anything: a node
    /// the channel does not have, or REFpb where the preset has none.
    fn address_problem(&self, t: &Target, cmd: Command) -> Option<String> {
        let o = &self.org;
        let out_of = |what: &str, value: u32, count: u64, per: &str| {
            (u64::from(value) >= count)
                .then(|| format!("{what} {value} does not exist ({count} per {per})"))
        };
        let bank_command = !cmd.is_rank_command();
        let row_command = matches!(cmd, Command::Act | Command::Rd | Command::Wr);
        let checks = [
            (true, "rank", t.rank, u64::from(self.ranks), "channel"),
            (
                bank_command,
                "bank group",
                t.bankgroup,
                o.bankgroups,
                "rank",
            ),
            (
                bank_command,
                "bank",
                t.bank,
                o.banks_per_group,
                "bank group",
            ),
            (row_command, "row", t.row, o.rows, "bank"),
            (
                cmd.is_column(),
                "column burst",
                t.col,
                o.bursts_per_row(),
                "row",
            ),
        ];
        checks
            .into_iter()
            .filter(|c| c.0)
            .find_map(|(_, what, value, count, per)| out_of(what, value, count, per))
            .or_else(|| {
                (cmd == Command::RefPb && !self.per_bank_refresh)
                    .then(|| "REFpb, but the preset has no per-bank refresh".to_string())
            })
    }

    fn check_state(&mut self, ch: u32, t: &Target, cmd: Command, this: Numbered) {
        if let Some(problem) = self.address_problem(t, cmd) {
            self.state_violation(format!("address: {problem}"), None, this);
        }
        let open = self.open_rows.get(&Self::bank_key(ch, t)).copied();
        let problem = match cmd {
            Command::Act if open.is_some() => Some("ACT to a bank whose row is open".to_string()),
            Command::Pre if open.is_none() => Some("PRE to a closed bank".to_string()),
            Command::Rd | Command::Wr => match open {
                None => Some(format!("{cmd} to a closed bank")),
                Some(row) if row != t.row => {
                    Some(format!("{cmd} to row {} while row {row} is open", t.row))
                }
                Some(_) => None,
            },
            Command::Ref => {
                let open_in_rank = self
                    .open_rows
                    .range((ch, t.rank, 0, 0)..=(ch, t.rank, u32::MAX, u32::MAX))
                    .count();
                (open_in_rank > 0)
                    .then(|| format!("REF while {open_in_rank} banks of the rank are open"))
            }
            Command::RefPb if open.is_some() => Some("REFpb to a bank whose row is open".into()),
            _ => None,
        };
        if let Some(problem) = problem {
            self.state_violation(format!("state: {problem}"), None, this);
        }
    }

    fn check_constraints(&mut self, ch: u32, t: &Target, cmd: Command, this: Numbered) {
        let mut found = Vec::new();
        for c in &self.table.constraints {
            if c.following != cmd {
                continue;
            }
            let candidates: Vec<NodeKey> = if c.sibling {
                debug_assert_eq!(c.scope, Scope::Rank, "sibling rules are between ranks");
                (0..self.ranks)
                    .filter(|&r| r != t.rank)
                    .map(|r| (ch, Scope::Rank, r, 0, 0))
                    .collect()
            } else {
                vec![node(ch, c.scope, t)]
            };
            for key in candidates {
                if let Some(earlier) = self.last.get(&(c.preceding, key)) {
                    let actual = this.command.cycle.saturating_sub(earlier.command.cycle);
                    if actual < c.gap {
                        found.push(Violation {
                            rule: c.to_string(),
                            first: Some(*earlier),
                            second: Some(this),
                            required_gap: Some(c.gap),
                            actual_gap: Some(actual),
                        });
                    }
                }
            }
        }
        for v in found {
            self.report(v);
        }
    }

    fn check_windows(&mut self, ch: u32, t: &Target, cmd: Command, this: Numbered) {
        let mut found = Vec::new();
        for (i, w) in self.table.windows.iter().enumerate() {
            if w.command != cmd {
                continue;
            }
            let history = self.windows.entry((i, node(ch, w.scope, t))).or_default();
            if history.len() == w.count {
                let oldest = history[0];
                let actual = this.command.cycle.saturating_sub(oldest.command.cycle);
                if actual < w.span {
                    found.push(Violation {
                        rule: w.to_string(),
                        first: Some(oldest),
                        second: Some(this),
                        required_gap: Some(w.span),
                        actual_gap: Some(actual),
                    });
                }
                history.pop_front();
            }
            history.push_back(this);
        }
        for v in found {
            self.report(v);
        }
    }

    fn check_data_bus(&mut self, ch: u32, cmd: Command, this: Numbered) {
        let offset = match cmd {
            Command::Rd => self.cl,
            Command::Wr => self.cwl,
            _ => return,
        };
        let start = this.command.cycle.saturating_add(offset);
        if let Some((end, earlier)) = self.last_burst_end.get(&ch).copied() {
            if start < end {
                self.report(Violation {
                    rule: "data bus: two bursts overlap on the channel".into(),
                    first: Some(earlier),
                    second: Some(this),
                    required_gap: Some((end - offset).saturating_sub(earlier.command.cycle)),
                    actual_gap: Some(this.command.cycle.saturating_sub(earlier.command.cycle)),
                });
            }
        }
        let end = start.saturating_add(self.bl);
        let latest = self.last_burst_end.get(&ch).map_or(0, |(e, _)| *e);
        if end >= latest {
            self.last_burst_end.insert(ch, (end, this));
        }
    }

    fn record(&mut self, ch: u32, t: &Target, cmd: Command, this: Numbered) {
        let scopes: &[Scope] = if cmd.is_rank_command() {
            &[Scope::Channel, Scope::Rank]
        } else {
            &[Scope::Channel, Scope::Rank, Scope::BankGroup, Scope::Bank]
        };
        for &scope in scopes {
            self.last.insert((cmd, node(ch, scope, t)), this);
        }
        match cmd {
            Command::Act => {
                self.open_rows.insert(Self::bank_key(ch, t), t.row);
            }
            Command::Pre => {
                self.open_rows.remove(&Self::bank_key(ch, t));
            }
            Command::PreA => {
                let keys: Vec<_> = self
                    .open_rows
                    .range((ch, t.rank, 0, 0)..=(ch, t.rank, u32::MAX, u32::MAX))
                    .map(|(k, _)| *k)
                    .collect();
                for k in keys {
                    self.open_rows.remove(&k);
                }
            }
            Command::Rd | Command::Wr | Command::Ref | Command::RefPb => {}
        }
    }
}

impl CommandSink for ProtocolChecker {
    fn command(&mut self, command: &IssuedCommand) {
        self.check(command);
    }
}
