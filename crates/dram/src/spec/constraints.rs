//! The declarative table of inter-command timing constraints (Ramulator 2
//! style): every rule says at which level of the device tree it counts,
//! which command precedes, which follows, and the minimum gap as a formula
//! over the preset's timing parameters. [`ConstraintTable::generate`]
//! evaluates the rules for one preset and rank count.

use super::{Command, DeviceSpec, Scope, Timing};
use std::fmt;

/// A timing parameter a gap formula refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    Bl,
    Cl,
    Cwl,
    Rcd,
    Rp,
    RpAll,
    Ras,
    Rc,
    CcdS,
    CcdL,
    RrdS,
    RrdL,
    Faw,
    WtrS,
    WtrL,
    Wr,
    Rtp,
    Rtrs,
    Rfc,
    RfcPb,
    Rrefd,
}

impl Param {
    pub fn value(self, t: &Timing) -> u64 {
        match self {
            Param::Bl => t.bl,
            Param::Cl => t.cl,
            Param::Cwl => t.cwl,
            Param::Rcd => t.rcd,
            Param::Rp => t.rp,
            Param::RpAll => t.rp_all,
            Param::Ras => t.ras,
            Param::Rc => t.rc,
            Param::CcdS => t.ccd_s,
            Param::CcdL => t.ccd_l,
            Param::RrdS => t.rrd_s,
            Param::RrdL => t.rrd_l,
            Param::Faw => t.faw,
            Param::WtrS => t.wtr_s,
            Param::WtrL => t.wtr_l,
            Param::Wr => t.wr,
            Param::Rtp => t.rtp,
            Param::Rtrs => t.rtrs,
            Param::Rfc => t.rfc,
            Param::RfcPb => t.per_bank_refresh.map_or(0, |pb| pb.rfc_pb),
            Param::Rrefd => t.per_bank_refresh.map_or(0, |pb| pb.rrefd),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Param::Bl => "nBL",
            Param::Cl => "nCL",
            Param::Cwl => "nCWL",
            Param::Rcd => "nRCD",
            Param::Rp => "nRP",
            Param::RpAll => "nRPab",
            Param::Ras => "nRAS",
            Param::Rc => "nRC",
            Param::CcdS => "nCCD_S",
            Param::CcdL => "nCCD_L",
            Param::RrdS => "nRRD_S",
            Param::RrdL => "nRRD_L",
            Param::Faw => "nFAW",
            Param::WtrS => "nWTR_S",
            Param::WtrL => "nWTR_L",
            Param::Wr => "nWR",
            Param::Rtp => "nRTP",
            Param::Rtrs => "nRTRS",
            Param::Rfc => "nRFC",
            Param::RfcPb => "nRFCpb",
            Param::Rrefd => "nRREFD",
        }
    }
}

/// A gap formula: Σ sign·parameter + constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Formula {
    pub terms: &'static [(i64, Param)],
    pub constant: i64,
}

impl Formula {
    pub fn evaluate(&self, t: &Timing) -> i64 {
        self.terms
            .iter()
            .map(|(sign, p)| sign * p.value(t) as i64)
            .sum::<i64>()
            + self.constant
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (sign, p)) in self.terms.iter().enumerate() {
            match (i, *sign < 0) {
                (0, false) => write!(f, "{}", p.name())?,
                (0, true) => write!(f, "−{}", p.name())?,
                (_, false) => write!(f, " + {}", p.name())?,
                (_, true) => write!(f, " − {}", p.name())?,
            }
        }
        match self.constant {
            0 => Ok(()),
            c if c > 0 => write!(f, " + {c}"),
            c => write!(f, " − {}", -c),
        }
    }
}

/// One rule of the table, before evaluation.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub name: &'static str,
    pub scope: Scope,
    /// Counted between *different* nodes below `scope` (e.g. other ranks of
    /// the channel) instead of within one node at `scope`.
    pub sibling: bool,
    pub preceding: &'static [Command],
    pub following: &'static [Command],
    pub gap: Formula,
}

/// At most `count` commands per node at `scope` in any `span` cycles.
#[derive(Clone, Copy, Debug)]
pub struct WindowRule {
    pub name: &'static str,
    pub scope: Scope,
    pub command: Command,
    pub count: usize,
    pub span: Param,
}

const fn f(terms: &'static [(i64, Param)], constant: i64) -> Formula {
    Formula { terms, constant }
}

const fn rule(
    name: &'static str,
    scope: Scope,
    preceding: &'static [Command],
    following: &'static [Command],
    gap: Formula,
) -> Rule {
    Rule {
        name,
        scope,
        sibling: false,
        preceding,
        following,
        gap,
    }
}

const fn sibling(
    name: &'static str,
    scope: Scope,
    preceding: &'static [Command],
    following: &'static [Command],
    gap: Formula,
) -> Rule {
    Rule {
        name,
        scope,
        sibling: true,
        preceding,
        following,
        gap,
    }
}

use Command::{Act, Pre, PreA, Rd, Ref, RefPb, Wr};
use Param::*;
use Scope::{Bank, BankGroup, Channel, Rank};

/// The rules every preset is checked against. Data-bus rules are stated
/// where they bind: within a rank by tCCD, between ranks by nBL + nRTRS, and
/// the read-to-write bus turnaround on the whole channel.
pub const RULES: &[Rule] = &[
    // Bank: row cycle.
    rule("tRC", Bank, &[Act], &[Act], f(&[(1, Rc)], 0)),
    rule("tRCD", Bank, &[Act], &[Rd, Wr], f(&[(1, Rcd)], 0)),
    rule("tRAS", Bank, &[Act], &[Pre], f(&[(1, Ras)], 0)),
    rule("tRP", Bank, &[Pre], &[Act], f(&[(1, Rp)], 0)),
    rule("tRTP", Bank, &[Rd], &[Pre], f(&[(1, Rtp)], 0)),
    rule(
        "tWR",
        Bank,
        &[Wr],
        &[Pre],
        f(&[(1, Cwl), (1, Bl), (1, Param::Wr)], 0),
    ),
    // Bank group (omitted when the standard has none).
    rule("tCCD_L", BankGroup, &[Rd], &[Rd], f(&[(1, CcdL)], 0)),
    rule("tCCD_L", BankGroup, &[Wr], &[Wr], f(&[(1, CcdL)], 0)),
    rule(
        "tWTR_L",
        BankGroup,
        &[Wr],
        &[Rd],
        f(&[(1, Cwl), (1, Bl), (1, WtrL)], 0),
    ),
    rule("tRRD_L", BankGroup, &[Act], &[Act], f(&[(1, RrdL)], 0)),
    // Rank.
    rule("tCCD_S", Rank, &[Rd], &[Rd], f(&[(1, CcdS)], 0)),
    rule("tCCD_S", Rank, &[Wr], &[Wr], f(&[(1, CcdS)], 0)),
    rule(
        "tWTR_S",
        Rank,
        &[Wr],
        &[Rd],
        f(&[(1, Cwl), (1, Bl), (1, WtrS)], 0),
    ),
    rule("tRRD_S", Rank, &[Act], &[Act], f(&[(1, RrdS)], 0)),
    rule("tRAS", Rank, &[Act], &[PreA], f(&[(1, Ras)], 0)),
    rule("tRTP", Rank, &[Rd], &[PreA], f(&[(1, Rtp)], 0)),
    rule(
        "tWR",
        Rank,
        &[Wr],
        &[PreA],
        f(&[(1, Cwl), (1, Bl), (1, Param::Wr)], 0),
    ),
    rule(
        "tRPab",
        Rank,
        &[PreA],
        &[Act, Ref, RefPb],
        f(&[(1, RpAll)], 0),
    ),
    rule("tRP", Rank, &[Pre], &[Ref], f(&[(1, Rp)], 0)),
    rule("tRC", Rank, &[Act], &[Ref], f(&[(1, Rc)], 0)),
    rule("tRFC", Rank, &[Ref], &[Act, Ref, RefPb], f(&[(1, Rfc)], 0)),
    // Per-bank refresh (presets that have it): the bank must have been
    // closed and rested; other banks of the rank keep working, spaced from
    // it by tRREFD (JESD235 REFSB; Ramulator 2's HBM2).
    rule("tRP", Bank, &[Pre], &[RefPb], f(&[(1, Rp)], 0)),
    rule("tRC", Bank, &[Act], &[RefPb], f(&[(1, Rc)], 0)),
    rule("tRFCpb", Bank, &[RefPb], &[Act, RefPb], f(&[(1, RfcPb)], 0)),
    rule("tRREFD", Rank, &[RefPb], &[Act, RefPb], f(&[(1, Rrefd)], 0)),
    rule("tRRD_S", Rank, &[Act], &[RefPb], f(&[(1, RrdS)], 0)),
    rule("tRFCpb", Rank, &[RefPb], &[Ref], f(&[(1, RfcPb)], 0)),
    // Channel: data-bus turnaround from read to write, any ranks
    // (tWPRE = 1 cycle plus one cycle of bus idle).
    rule(
        "tRTW",
        Channel,
        &[Rd],
        &[Wr],
        f(&[(1, Cl), (1, Bl), (-1, Cwl)], 2),
    ),
    // Between ranks: a burst of another rank needs nRTRS extra cycles.
    sibling("tRTRS", Rank, &[Rd], &[Rd], f(&[(1, Bl), (1, Rtrs)], 0)),
    sibling("tRTRS", Rank, &[Wr], &[Wr], f(&[(1, Bl), (1, Rtrs)], 0)),
    sibling(
        "tRTRS",
        Rank,
        &[Wr],
        &[Rd],
        f(&[(1, Cwl), (1, Bl), (1, Rtrs), (-1, Cl)], 0),
    ),
];

/// Rolling-window rules.
pub const WINDOW_RULES: &[WindowRule] = &[WindowRule {
    name: "tFAW",
    scope: Rank,
    command: Act,
    count: 4,
    span: Faw,
}];

/// One evaluated constraint: `following` may not issue earlier than `gap`
/// cycles after `preceding` when both are under the same node at `scope`
/// (or, for `sibling`, under different nodes at `scope` of one parent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    pub name: &'static str,
    pub scope: Scope,
    pub sibling: bool,
    pub preceding: Command,
    pub following: Command,
    pub gap: u64,
    pub formula: Formula,
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let relation = if self.sibling { "different" } else { "same" };
        write!(
            f,
            "{} {}→{} ({relation} {}) ≥ {} = {} cycles",
            self.name, self.preceding, self.following, self.scope, self.formula, self.gap
        )
    }
}

/// An evaluated window: at most `count` `command`s per node at `scope` in any `span` cycles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowConstraint {
    pub name: &'static str,
    pub scope: Scope,
    pub command: Command,
    pub count: usize,
    pub span: u64,
}

impl fmt::Display for WindowConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: at most {} {} per {} in any {} cycles",
            self.name, self.count, self.command, self.scope, self.span
        )
    }
}

/// Every constraint of one preset with a given number of ranks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstraintTable {
    pub constraints: Vec<Constraint>,
    pub windows: Vec<WindowConstraint>,
}

impl ConstraintTable {
    /// Evaluates [`RULES`] for `spec`: bank-group rules are dropped when the
    /// standard has no bank groups, rank-to-rank rules when there is one rank,
    /// REFpb pairs when the preset has no per-bank refresh, and rules whose
    /// gap is not positive (they never bind).
    pub fn generate(spec: &DeviceSpec, ranks: u64) -> ConstraintTable {
        let timing = &spec.timing;
        let mut constraints = Vec::new();
        for rule in RULES {
            if rule.scope == Scope::BankGroup && spec.org.bankgroups == 1 {
                continue;
            }
            if rule.sibling && rule.scope == Scope::Rank && ranks == 1 {
                continue;
            }
            let gap = rule.gap.evaluate(timing);
            if gap <= 0 {
                continue;
            }
            let per_bank_refresh = timing.per_bank_refresh.is_some();
            for &preceding in rule.preceding {
                for &following in rule.following {
                    if !per_bank_refresh && (preceding == RefPb || following == RefPb) {
                        continue;
                    }
                    constraints.push(Constraint {
                        name: rule.name,
                        scope: rule.scope,
                        sibling: rule.sibling,
                        preceding,
                        following,
                        gap: gap as u64,
                        formula: rule.gap,
                    });
                }
            }
        }
        let windows = WINDOW_RULES
            .iter()
            .map(|w| WindowConstraint {
                name: w.name,
                scope: w.scope,
                command: w.command,
                count: w.count,
                span: w.span.value(timing),
            })
            .collect();
        ConstraintTable {
            constraints,
            windows,
        }
    }

    /// The largest gap any constraint requires from `preceding` to `following`.
    pub fn max_gap(&self, preceding: Command, following: Command) -> u64 {
        self.constraints
            .iter()
            .filter(|c| c.preceding == preceding && c.following == following)
            .map(|c| c.gap)
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::presets::{DDR4_3200, HBM2, LPDDR4_3200};

    #[test]
    fn rank_commands_are_only_constrained_at_rank_scope_or_above() {
        // The timing engine keeps rank commands' constraints on rank and
        // channel nodes only; a bank-scoped rule into PREA/REF would be lost.
        for rule in RULES {
            for following in rule.following {
                if following.is_rank_command() {
                    assert!(rule.scope <= Scope::Rank, "{}", rule.name);
                }
            }
            for preceding in rule.preceding {
                if preceding.is_rank_command() {
                    assert!(rule.scope <= Scope::Rank, "{}", rule.name);
                }
            }
        }
    }

    #[test]
    fn ddr4_table_has_the_reference_gaps() {
        let table = ConstraintTable::generate(&DDR4_3200, 2);
        let gap = |name: &str, p: Command, f: Command| {
            table
                .constraints
                .iter()
                .find(|c| c.name == name && c.preceding == p && c.following == f)
                .map(|c| c.gap)
        };
        assert_eq!(gap("tRCD", Act, Rd), Some(22));
        assert_eq!(gap("tRC", Act, Act), Some(74));
        assert_eq!(gap("tCCD_L", Rd, Rd), Some(8));
        assert_eq!(gap("tWR", Wr, Pre), Some(16 + 4 + 24));
        assert_eq!(gap("tRTW", Rd, Wr), Some(22 + 4 + 2 - 16));
        assert_eq!(gap("tRTRS", Rd, Rd), Some(6));
        // WR→RD to another rank: nCWL + nBL + nRTRS − nCL = 0 never binds.
        assert_eq!(gap("tRTRS", Wr, Rd), None);
        assert_eq!(table.windows[0].span, 34);
        assert_eq!(table.max_gap(Rd, PreA), 12);
        let one_rank = ConstraintTable::generate(&DDR4_3200, 1);
        assert!(one_rank.constraints.iter().all(|c| !c.sibling));
    }

    #[test]
    fn standards_without_bank_groups_drop_bank_group_rules() {
        let table = ConstraintTable::generate(&LPDDR4_3200, 2);
        assert!(table
            .constraints
            .iter()
            .all(|c| c.scope != Scope::BankGroup));
        let hbm = ConstraintTable::generate(&HBM2, 1);
        assert!(hbm.constraints.iter().any(|c| c.scope == Scope::BankGroup));
    }

    #[test]
    fn formulas_print_readably() {
        let table = ConstraintTable::generate(&DDR4_3200, 2);
        let rtw = table.constraints.iter().find(|c| c.name == "tRTW").unwrap();
        assert_eq!(rtw.formula.to_string(), "nCL + nBL − nCWL + 2");
        assert!(rtw.to_string().contains("RD→WR (same channel)"));
    }
}
