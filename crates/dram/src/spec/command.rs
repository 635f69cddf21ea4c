use std::fmt;

/// A DRAM command. `Pre` closes one bank, `PreA` every bank of a rank;
/// `Ref` is an all-bank refresh of a rank, `RefPb` a refresh of one bank
/// (HBM2 REFSB, LPDDR4 REFpb) while the others keep working.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Command {
    Act,
    Pre,
    PreA,
    Rd,
    Wr,
    Ref,
    RefPb,
}

impl Command {
    pub const ALL: [Command; 7] = [
        Command::Act,
        Command::Pre,
        Command::PreA,
        Command::Rd,
        Command::Wr,
        Command::Ref,
        Command::RefPb,
    ];
    pub const COUNT: usize = Command::ALL.len();

    pub const fn index(self) -> usize {
        self as usize
    }

    pub const fn name(self) -> &'static str {
        match self {
            Command::Act => "ACT",
            Command::Pre => "PRE",
            Command::PreA => "PREA",
            Command::Rd => "RD",
            Command::Wr => "WR",
            Command::Ref => "REF",
            Command::RefPb => "REFpb",
        }
    }

    pub fn parse(text: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == text)
    }

    /// Whether the command addresses a whole rank rather than one bank.
    pub const fn is_rank_command(self) -> bool {
        matches!(self, Command::PreA | Command::Ref)
    }

    /// Whether the command refreshes (all banks of a rank, or one bank).
    pub const fn is_refresh(self) -> bool {
        matches!(self, Command::Ref | Command::RefPb)
    }

    /// Whether the command moves data (a column command).
    pub const fn is_column(self) -> bool {
        matches!(self, Command::Rd | Command::Wr)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The level of the device tree a constraint is counted at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Channel,
    Rank,
    BankGroup,
    Bank,
}

impl Scope {
    pub const fn name(self) -> &'static str {
        match self {
            Scope::Channel => "channel",
            Scope::Rank => "rank",
            Scope::BankGroup => "bankgroup",
            Scope::Bank => "bank",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a command goes inside one channel. Rank commands (`PreA`, `Ref`)
/// ignore `bankgroup`, `bank`, `row` and `col`; `Act` and `Pre` ignore
/// `col`, `RefPb` `row` and `col`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Target {
    pub rank: u32,
    pub bankgroup: u32,
    pub bank: u32,
    pub row: u32,
    pub col: u32,
}

/// One command as issued on a channel's command bus, at a memory cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssuedCommand {
    pub cycle: u64,
    pub command: Command,
    pub channel: u32,
    pub target: Target,
}

impl IssuedCommand {
    /// The CSV header of a command trace.
    pub const CSV_HEADER: &'static str = "cycle,cmd,channel,rank,bankgroup,bank,row,col";

    /// One CSV row; fields a command does not use are left empty.
    pub fn csv_row(&self) -> String {
        let t = &self.target;
        let (bankgroup, bank, row, col) = match self.command {
            Command::PreA | Command::Ref => {
                (String::new(), String::new(), String::new(), String::new())
            }
            Command::Pre | Command::RefPb => (
                t.bankgroup.to_string(),
                t.bank.to_string(),
                String::new(),
                String::new(),
            ),
            Command::Act => (
                t.bankgroup.to_string(),
                t.bank.to_string(),
                t.row.to_string(),
                String::new(),
            ),
            Command::Rd | Command::Wr => (
                t.bankgroup.to_string(),
                t.bank.to_string(),
                t.row.to_string(),
                t.col.to_string(),
            ),
        };
        format!(
            "{},{},{},{},{bankgroup},{bank},{row},{col}",
            self.cycle, self.command, self.channel, t.rank
        )
    }

    /// Parses a row written by [`IssuedCommand::csv_row`].
    pub fn parse_csv_row(line: &str) -> Result<IssuedCommand, String> {
        let fields: Vec<&str> = line.trim_end().split(',').collect();
        if fields.len() != 8 {
            return Err(format!(
                "expected 8 fields ({}), found {}",
                Self::CSV_HEADER,
                fields.len()
            ));
        }
        let number = |i: usize, name: &str| -> Result<u64, String> {
            if fields[i].is_empty() {
                return Ok(0);
            }
            fields[i].parse::<u64>().map_err(|_| {
                format!(
                    "field `{name}` is not a non-negative integer: `{}`",
                    fields[i]
                )
            })
        };
        let small = |i: usize, name: &str| -> Result<u32, String> {
            u32::try_from(number(i, name)?).map_err(|_| format!("field `{name}` is too large"))
        };
        let command = Command::parse(fields[1]).ok_or_else(|| {
            let known: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
            format!("unknown command `{}` ({})", fields[1], known.join(" "))
        })?;
        Ok(IssuedCommand {
            cycle: number(0, "cycle")?,
            command,
            channel: small(2, "channel")?,
            target: Target {
                rank: small(3, "rank")?,
                bankgroup: small(4, "bankgroup")?,
                bank: small(5, "bank")?,
                row: small(6, "row")?,
                col: small(7, "col")?,
            },
        })
    }
}

/// Receives every command the controllers issue, in issue order.
pub trait CommandSink {
    fn command(&mut self, command: &IssuedCommand);
}

/// Discards commands.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullCommandSink;

impl CommandSink for NullCommandSink {
    fn command(&mut self, _command: &IssuedCommand) {}
}

impl CommandSink for Vec<IssuedCommand> {
    fn command(&mut self, command: &IssuedCommand) {
        self.push(*command);
    }
}

/// Sends every command to two sinks.
#[derive(Debug)]
pub struct TeeSink<A, B>(pub A, pub B);

impl<A: CommandSink, B: CommandSink> CommandSink for TeeSink<A, B> {
    fn command(&mut self, command: &IssuedCommand) {
        self.0.command(command);
        self.1.command(command);
    }
}

impl<S: CommandSink + ?Sized> CommandSink for &mut S {
    fn command(&mut self, command: &IssuedCommand) {
        (**self).command(command);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_round_trip() {
        for command in Command::ALL {
            let issued = IssuedCommand {
                cycle: 1234,
                command,
                channel: 3,
                target: Target {
                    rank: 1,
                    bankgroup: 2,
                    bank: 3,
                    row: 65535,
                    col: 127,
                },
            };
            let row = issued.csv_row();
            assert_eq!(row.split(',').count(), 8, "{row}");
            let parsed = IssuedCommand::parse_csv_row(&row).unwrap();
            assert_eq!(parsed.command, command);
            assert_eq!(parsed.cycle, 1234);
            assert_eq!(parsed.target.rank, 1);
            if !command.is_rank_command() {
                assert_eq!(parsed.target.bank, 3);
            }
            if command.is_column() {
                assert_eq!(parsed.target, issued.target);
            }
        }
        assert!(IssuedCommand::parse_csv_row("1,NOP,0,0,,,,")
            .unwrap_err()
            .contains("NOP"));
        assert!(IssuedCommand::parse_csv_row("1,RD,0").is_err());
    }
}
