//! The protocol checker catches what a test injects into a clean command
//! stream: a command moved earlier, a wrong row, a missing precharge, bursts
//! that collide, a refresh that never comes.

mod common;

use common::*;
use dram::checker::ProtocolChecker;
use dram::replay::{replay, ReplayOptions};
use dram::spec::{presets::DDR4_3200, Command, IssuedCommand};
use dram::workload::WorkloadKind;

/// The commands of a clean DDR4 replay and the cycle it ended.
fn clean_commands(kind: WorkloadKind) -> (Vec<IssuedCommand>, u64) {
    let mut dram = ddr4_reference("RoBaRaCoCh");
    let mut commands = Vec::new();
    let trace = workload(kind, 3000, 1 << 34).requests().map(Ok::<_, ()>);
    let report = replay(&mut dram, trace, ReplayOptions::default(), &mut commands).unwrap();
    assert!(ProtocolChecker::check_all(&DDR4_3200, 2, &commands, report.cycles).is_empty());
    (commands, report.cycles)
}

fn violations(commands: &[IssuedCommand], end: u64) -> Vec<dram::checker::Violation> {
    ProtocolChecker::check_all(&DDR4_3200, 2, commands, end)
}

#[test]
fn a_read_moved_one_cycle_too_early_is_reported_with_both_commands_and_gaps() {
    let (mut commands, end) = clean_commands(WorkloadKind::RandRead);
    // A RD issued exactly tRCD after the ACT of its bank.
    let same_bank = |a: &IssuedCommand, b: &IssuedCommand| {
        (a.target.rank, a.target.bankgroup, a.target.bank)
            == (b.target.rank, b.target.bankgroup, b.target.bank)
    };
    let i = (0..commands.len())
        .find(|&i| {
            let rd = &commands[i];
            rd.command == Command::Rd
                && commands[..i]
                    .iter()
                    .rev()
                    .find(|c| c.command == Command::Act && same_bank(c, rd))
                    .is_some_and(|act| rd.cycle - act.cycle == DDR4_3200.timing.rcd)
        })
        .expect("some read issues exactly tRCD after its activate");
    commands[i].cycle -= 1;
    let found = violations(&commands, end);
    let rcd = found
        .iter()
        .find(|v| v.rule.starts_with("tRCD ACT→RD"))
        .unwrap_or_else(|| panic!("tRCD not reported: {found:#?}"));
    assert_eq!(rcd.required_gap, Some(22));
    assert_eq!(rcd.actual_gap, Some(21));
    assert_eq!(rcd.second.unwrap().command, commands[i]);
    assert_eq!(rcd.first.unwrap().command.command, Command::Act);
    assert!(
        rcd.to_string().contains("required 22 cycles, got 21"),
        "{rcd}"
    );
}

#[test]
fn wrong_row_missing_precharge_and_overlapping_bursts_are_reported() {
    let (commands, end) = clean_commands(WorkloadKind::RandRead);
    let first_rd = commands
        .iter()
        .position(|c| c.command == Command::Rd)
        .unwrap();

    let mut wrong_row = commands.clone();
    wrong_row[first_rd].target.row ^= 1;
    assert!(violations(&wrong_row, end)
        .iter()
        .any(|v| v.rule.contains("while row")));

    let mut no_precharge = commands.clone();
    let pre = no_precharge
        .iter()
        .position(|c| c.command == Command::Pre)
        .unwrap();
    no_precharge.remove(pre);
    assert!(violations(&no_precharge, end)
        .iter()
        .any(|v| v.rule.contains("ACT to a bank whose row is open")));

    // Two reads on different ranks in consecutive cycles collide on the bus.
    let (mut seq, seq_end) = clean_commands(WorkloadKind::SeqRead);
    let rds: Vec<usize> = seq
        .iter()
        .enumerate()
        .filter(|(_, c)| c.command == Command::Rd)
        .map(|(i, _)| i)
        .collect();
    let (a, b) = (rds[10], rds[11]);
    seq[b].cycle = seq[a].cycle + 1;
    let found = violations(&seq, seq_end);
    assert!(
        found.iter().any(|v| v.rule.starts_with("data bus")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|v| v.rule.starts_with("tCCD")),
        "{found:#?}"
    );
}

#[test]
fn a_stream_without_refresh_is_reported() {
    let (commands, end) = clean_commands(WorkloadKind::SeqRead);
    let without: Vec<IssuedCommand> = commands
        .into_iter()
        .filter(|c| c.command != Command::Ref)
        .collect();
    // Stretch the run past nine refresh intervals.
    let late = end + 9 * DDR4_3200.timing.refi;
    let found = violations(&without, late);
    assert!(
        found.iter().any(|v| v.rule.starts_with("refresh")),
        "{found:#?}"
    );
    assert!(violations(&without, end)
        .iter()
        .all(|v| !v.rule.starts_with("refresh")));
}

#[test]
fn command_trace_csv_round_trips_through_the_checker() {
    let (commands, end) = clean_commands(WorkloadKind::MixedRand2r1w);
    let text: String = commands.iter().map(|c| c.csv_row() + "\n").collect();
    let parsed: Vec<IssuedCommand> = text
        .lines()
        .map(|l| IssuedCommand::parse_csv_row(l).unwrap())
        .collect();
    assert_eq!(parsed.len(), commands.len());
    assert!(violations(&parsed, end).is_empty());
    assert!(parsed.iter().any(|c| c.command == Command::Wr));
}

#[test]
fn a_bank_whose_per_bank_refresh_never_comes_is_reported() {
    let spec = &dram::spec::presets::HBM2;
    let mut dram = hbm2_per_bank(spec, 1, "RoRaBaCoChBg", hwconfig::PagePolicy::Open);
    let mut commands = Vec::new();
    let trace = workload(WorkloadKind::RandRead, 8000, 1 << 29)
        .requests()
        .map(Ok::<_, ()>);
    let report = replay(&mut dram, trace, ReplayOptions::default(), &mut commands).unwrap();
    assert!(report.cycles > 10 * spec.timing.refi, "{}", report.cycles);
    assert!(ProtocolChecker::check_all(spec, 1, &commands, report.cycles).is_empty());
    // Bank 3 of bank group 2 is never refreshed; every other bank is.
    let skipped = |c: &IssuedCommand| {
        c.command == Command::RefPb && (c.target.bankgroup, c.target.bank) == (2, 3)
    };
    assert!(commands.iter().any(skipped));
    let without: Vec<IssuedCommand> = commands.into_iter().filter(|c| !skipped(c)).collect();
    let found = ProtocolChecker::check_all(spec, 1, &without, report.cycles);
    assert!(
        !found.is_empty() && found.iter().all(|v| v.rule.starts_with("refresh: a bank")),
        "{found:#?}"
    );
}

#[test]
fn commands_out_of_order_or_outside_the_device_are_reported_not_fatal() {
    let row = |text: &str| IssuedCommand::parse_csv_row(text).unwrap();
    let commands = [
        row("100,ACT,0,0,0,0,5,"),
        row("18446744073709551615,RD,0,0,0,0,5,3"),
        row("5,REFpb,0,0,1,0,,"),
        row("6,ACT,0,3,0,0,1,"),
        row("7,ACT,0,0,0,1,70000,"),
        row("8,RD,0,0,0,0,5,128"),
    ];
    let found: Vec<String> = ProtocolChecker::check_all(&DDR4_3200, 2, &commands, 9)
        .into_iter()
        .map(|v| v.rule)
        .collect();
    for expected in [
        "command bus: at most one command per channel per cycle, in cycle order",
        "address: REFpb, but the preset has no per-bank refresh",
        "address: rank 3 does not exist (2 per channel)",
        "address: row 70000 does not exist (65536 per bank)",
        "address: column burst 128 does not exist (128 per row)",
    ] {
        assert!(
            found.iter().any(|r| r == expected),
            "{expected}: {found:#?}"
        );
    }
}
