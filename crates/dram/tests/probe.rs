//! Per-constraint probes: for every constraint of every preset's table, a
//! following command is refused one cycle before the required gap and
//! accepted at the gap, both by the scheduler's timing state
//! (`BankState`) and by the independent protocol checker.

use dram::checker::ProtocolChecker;
use dram::spec::{
    presets, Command, Constraint, ConstraintTable, DeviceSpec, IssuedCommand, Scope, Target,
};
use dram::{BankState, Refusal};
use simkit::Cycle;

/// Cycles between the set-up commands and the probed pair: longer than any
/// gap of any preset, so only the probed constraint can bind.
const SETTLE_CYCLES: Cycle = 2000;

struct Probe {
    spec: &'static DeviceSpec,
    ranks: u64,
    state: BankState,
    commands: Vec<IssuedCommand>,
}

impl Probe {
    fn new(spec: &'static DeviceSpec) -> Self {
        let ranks = spec.org.max_ranks.min(2);
        let table = ConstraintTable::generate(spec, ranks);
        Probe {
            spec,
            ranks,
            state: BankState::new(&spec.org, ranks, &table),
            commands: Vec::new(),
        }
    }

    fn last_cycle(&self) -> Cycle {
        self.commands.last().map_or(0, |c| c.cycle)
    }

    /// Issues `command` at the earliest legal cycle ≥ `from`, after the
    /// last command (the command bus carries one command per cycle).
    fn issue_at_earliest(&mut self, command: Command, target: Target, from: Cycle) -> Cycle {
        let after_last = if self.commands.is_empty() {
            0
        } else {
            self.last_cycle() + 1
        };
        let at = self
            .state
            .earliest(command, &target)
            .max(from)
            .max(after_last);
        self.issue(command, target, at);
        at
    }

    fn issue(&mut self, command: Command, target: Target, at: Cycle) {
        assert_eq!(
            self.state.check(command, &target, at),
            Ok(()),
            "{command} {target:?} at {at}"
        );
        self.state.issue(command, &target, at);
        self.commands.push(IssuedCommand {
            cycle: at,
            command,
            channel: 0,
            target,
        });
    }

    /// Checker violations of the stream plus `next` at `at`.
    fn violations_with(&self, command: Command, target: Target, at: Cycle) -> Vec<String> {
        let mut checker = ProtocolChecker::new(self.spec, self.ranks);
        for c in &self.commands {
            checker.check(c);
        }
        checker.check(&IssuedCommand {
            cycle: at,
            command,
            channel: 0,
            target,
        });
        checker
            .violations()
            .iter()
            .map(|v| v.rule.clone())
            .collect()
    }
}

fn same_bank(a: &Target, b: &Target) -> bool {
    (a.rank, a.bankgroup, a.bank) == (b.rank, b.bankgroup, b.bank)
}

/// The target of the following command: under the same node at `scope` as
/// `prev` but as far from it as that allows.
fn following_target(spec: &DeviceSpec, ranks: u64, c: &Constraint, prev: &Target) -> Target {
    let other_bank_group = if spec.org.bankgroups > 1 {
        Target {
            bankgroup: 1,
            ..*prev
        }
    } else {
        Target { bank: 1, ..*prev }
    };
    match (c.scope, c.sibling) {
        (Scope::Bank, _) => *prev,
        (Scope::BankGroup, _) => Target { bank: 1, ..*prev },
        (Scope::Rank, true) => Target { rank: 1, ..*prev },
        (Scope::Rank, false) => other_bank_group,
        (Scope::Channel, _) if ranks > 1 => Target { rank: 1, ..*prev },
        (Scope::Channel, _) => other_bank_group,
    }
}

/// Probes one constraint; returns whether another constraint also bound at
/// the gap (the following command was still refused there).
fn probe(spec: &'static DeviceSpec, c: &Constraint) -> bool {
    let mut p = Probe::new(spec);
    let prev = Target {
        row: 7,
        ..Target::default()
    };
    let next = following_target(spec, p.ranks, c, &prev);
    let next_is_prev_bank = same_bank(&prev, &next) && !c.following.is_rank_command();
    // Set-up: open the banks the pair needs.
    if matches!(c.preceding, Command::Rd | Command::Wr | Command::Pre) {
        p.issue_at_earliest(Command::Act, prev, 0);
    }
    let next_needs_open = matches!(c.following, Command::Rd | Command::Wr | Command::Pre);
    if next_needs_open && !next_is_prev_bank {
        p.issue_at_earliest(Command::Act, next, 0);
    }
    let t0 = p
        .state
        .earliest(c.preceding, &prev)
        .max(p.last_cycle() + SETTLE_CYCLES);
    p.issue(c.preceding, prev, t0);
    // Close what the following command needs closed, as early as allowed.
    let prev_left_open = matches!(c.preceding, Command::Act | Command::Rd | Command::Wr);
    let closes_prev = match c.following {
        Command::Act | Command::RefPb => next_is_prev_bank,
        Command::Ref => next.rank == prev.rank,
        _ => false,
    };
    if prev_left_open && closes_prev {
        p.issue_at_earliest(Command::Pre, prev, t0 + 1);
    }
    let t = t0 + c.gap;
    let name = c.to_string();

    let refused = p.state.check(c.following, &next, t - 1);
    assert!(
        matches!(refused, Err(Refusal::Timing(_))),
        "{}: {name}: not refused at t−1: {refused:?}",
        spec.name
    );
    let before = p.violations_with(c.following, next, t - 1);
    assert!(
        before.contains(&name),
        "{}: {name}: checker misses it at t−1: {before:?}",
        spec.name
    );
    let at_gap = p.violations_with(c.following, next, t);
    assert!(
        !at_gap.contains(&name),
        "{}: {name}: checker still reports it at t",
        spec.name
    );
    let accepted = p.state.check(c.following, &next, t).is_ok();
    assert_eq!(
        accepted,
        at_gap.is_empty(),
        "{}: {name}: scheduler and checker disagree at t: {at_gap:?}",
        spec.name
    );
    !accepted
}

#[test]
fn every_constraint_of_every_preset_binds_exactly_at_its_gap() {
    for spec in presets::PRESETS {
        let table = ConstraintTable::generate(spec, spec.org.max_ranks.min(2));
        assert!(table.constraints.len() >= 20, "{}", spec.name);
        let dominated: Vec<String> = table
            .constraints
            .iter()
            .filter(|c| probe(spec, c))
            .map(|c| c.to_string())
            .collect();
        // With the probe pairs above every constraint is the binding one.
        assert!(
            dominated.is_empty(),
            "{}: constraints dominated by others: {dominated:#?}",
            spec.name
        );
    }
}

#[test]
fn four_activate_window_binds_exactly_at_its_span() {
    for spec in presets::PRESETS {
        let mut p = Probe::new(spec);
        let table = ConstraintTable::generate(spec, p.ranks);
        let window = &table.windows[0];
        let bank = |i: u32| {
            if spec.org.bankgroups >= 4 {
                Target {
                    bankgroup: i,
                    ..Target::default()
                }
            } else {
                Target {
                    bank: i,
                    ..Target::default()
                }
            }
        };
        let first = p.issue_at_earliest(Command::Act, bank(0), SETTLE_CYCLES);
        for i in 1..window.count as u32 {
            p.issue_at_earliest(Command::Act, bank(i), first);
        }
        let fifth = if spec.org.bankgroups >= 4 {
            Target {
                bankgroup: 0,
                bank: 1,
                ..Target::default()
            }
        } else {
            bank(window.count as u32)
        };
        let t = first + window.span;
        assert!(
            p.state.check(Command::Act, &fifth, t - 1).is_err(),
            "{}",
            spec.name
        );
        let before = p.violations_with(Command::Act, fifth, t - 1);
        assert!(
            before.contains(&window.to_string()),
            "{}: {before:?}",
            spec.name
        );
        assert_eq!(
            p.state.check(Command::Act, &fifth, t),
            Ok(()),
            "{}",
            spec.name
        );
        assert!(
            p.violations_with(Command::Act, fifth, t).is_empty(),
            "{}",
            spec.name
        );
    }
}
