//! The verifier. A program is accepted when it obeys these rules:
//!
//! 1. **Tokens are declared and owned**: every token an instruction names is
//!    in the token table, and only instructions of the token's declared unit
//!    signal it.
//! 2. **Every waited token is signalled**: each wait `T >= n` has
//!    `1 <= n <= (number of instructions that signal T)`.
//! 3. **Every region is allocated and in bounds**: each SRAM operand names a
//!    region of the table and one of its slots, and the bytes it touches lie
//!    in `[0, slot_bytes)` of that slot; every region lies inside the SRAM
//!    and no two regions overlap; every DRAM operand lies inside one tensor
//!    of the DRAM layout.
//! 4. **The token graph has no cycle**: executing the streams in order,
//!    each instruction issuing once its waits are met, reaches the end of
//!    every stream (no deadlock).
//! 5. **No race**: any two instructions touching a common SRAM or DRAM byte,
//!    at least one of them writing it, are ordered by happens-before — so no
//!    instruction writes a region that a not-yet-finished instruction still
//!    reads, and none reads bytes still being written.
//!
//! Happens-before follows the token semantics of the crate docs: on the PE
//! array and the vector unit an instruction starts after its predecessor
//! ended; DMA instructions start in order and end (retire) in order but may
//! overlap; a wait `T >= n` orders the end of the n-th signaller of `T`
//! before the waiter's start. Rules 1–3 are checked in one streaming pass;
//! rules 4–5 by an abstract execution that tracks vector clocks.

use crate::{Access, Instr, Place, Program, Unit};

/// The rule a program breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    TokensDeclaredAndOwned = 1,
    WaitsSignalled = 2,
    RegionsInBounds = 3,
    NoCycle = 4,
    NoRace = 5,
}

/// A rejected program: the rule, where, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rule {} violated at {}: {message}", *rule as u8, location(.unit, .index))]
pub struct VerifyError {
    pub rule: Rule,
    pub unit: Option<Unit>,
    /// 0-based position in the unit's stream.
    pub index: Option<u64>,
    pub message: String,
}

fn location(unit: &Option<Unit>, index: &Option<u64>) -> String {
    match (unit, index) {
        (Some(u), Some(i)) => format!("{u} instruction {i}"),
        _ => "program header".into(),
    }
}

fn fail<T>(rule: Rule, unit: Unit, index: u64, message: String) -> Result<T, VerifyError> {
    Err(VerifyError {
        rule,
        unit: Some(unit),
        index: Some(index),
        message,
    })
}

/// Checks every rule.
pub fn verify(program: &Program) -> Result<(), VerifyError> {
    verify_with(program, &mut |_| {})
}

/// Checks every rule, calling `visit` for each instruction in the order of
/// the abstract execution (a valid sequential order of the program).
pub fn verify_with(program: &Program, visit: &mut dyn FnMut(&Instr)) -> Result<(), VerifyError> {
    check_regions(program)?;
    let signals = static_pass(program)?;
    Execution::new(program, signals).run(visit)
}

fn check_regions(program: &Program) -> Result<(), VerifyError> {
    let h = &program.header;
    let header_fail = |message: String| {
        Err(VerifyError {
            rule: Rule::RegionsInBounds,
            unit: None,
            index: None,
            message,
        })
    };
    let mut regions: Vec<_> = h.regions.regions.iter().collect();
    regions.sort_by_key(|r| r.offset_bytes);
    for r in &regions {
        if r.slot_stride_bytes < r.slot_bytes || r.slots == 0 {
            return header_fail(format!(
                "region `{}`: slot stride below slot size or no slots",
                r.name
            ));
        }
        if r.end_bytes() > h.sram_capacity_bytes {
            return header_fail(format!(
                "region `{}` ends at byte {}, beyond the SRAM capacity {}",
                r.name,
                r.end_bytes(),
                h.sram_capacity_bytes
            ));
        }
    }
    for pair in regions.windows(2) {
        if pair[0].end_bytes() > pair[1].offset_bytes {
            return header_fail(format!(
                "regions `{}` and `{}` overlap",
                pair[0].name, pair[1].name
            ));
        }
    }
    let mut tensors: Vec<_> = h.dram.tensors.iter().collect();
    tensors.sort_by_key(|t| t.base_bytes);
    for pair in tensors.windows(2) {
        if pair[0].base_bytes + h.dram.bytes_of(pair[0]) > pair[1].base_bytes {
            return header_fail(format!(
                "DRAM tensors `{}` and `{}` overlap",
                pair[0].name, pair[1].name
            ));
        }
    }
    Ok(())
}

/// Rules 1–3; returns the number of signals of every token.
fn static_pass(program: &Program) -> Result<Vec<u64>, VerifyError> {
    let h = &program.header;
    let mut signals = vec![0u64; h.tokens.len()];
    let mut waits: Vec<(Unit, u64, crate::Wait)> = Vec::new();
    let mut max_wait = vec![0u64; h.tokens.len()];
    for unit in Unit::ALL {
        for (index, instr) in program.stream(unit).enumerate() {
            let index = index as u64;
            if instr.unit() != unit {
                return fail(
                    Rule::TokensDeclaredAndOwned,
                    unit,
                    index,
                    format!("a {} instruction in the {unit} stream", instr.unit()),
                );
            }
            let sync = instr.sync();
            for &t in &sync.signal {
                match h.token(t) {
                    None => {
                        return fail(
                            Rule::TokensDeclaredAndOwned,
                            unit,
                            index,
                            format!("signals undeclared token #{}", t.0),
                        )
                    }
                    Some(tok) if tok.unit != unit => {
                        return fail(
                            Rule::TokensDeclaredAndOwned,
                            unit,
                            index,
                            format!(
                                "signals token `{}`, which belongs to the {} unit",
                                tok.name, tok.unit
                            ),
                        )
                    }
                    Some(_) => signals[t.0 as usize] += 1,
                }
            }
            for w in &sync.wait {
                if h.token(w.token).is_none() {
                    return fail(
                        Rule::TokensDeclaredAndOwned,
                        unit,
                        index,
                        format!("waits for undeclared token #{}", w.token.0),
                    );
                }
                let slot = &mut max_wait[w.token.0 as usize];
                if w.count > *slot {
                    *slot = w.count;
                    waits.push((unit, index, *w));
                }
                if w.count == 0 {
                    return fail(
                        Rule::WaitsSignalled,
                        unit,
                        index,
                        format!(
                            "waits for `{}` >= 0, which is no wait",
                            h.tokens[w.token.0 as usize].name
                        ),
                    );
                }
            }
            check_bounds(program, unit, index, &instr)?;
        }
    }
    for (unit, index, w) in waits {
        let total = signals[w.token.0 as usize];
        if w.count > total {
            return fail(
                Rule::WaitsSignalled,
                unit,
                index,
                format!(
                    "waits for `{}` >= {} but it is signalled only {total} times",
                    h.tokens[w.token.0 as usize].name, w.count
                ),
            );
        }
    }
    Ok(signals)
}

fn check_bounds(
    program: &Program,
    unit: Unit,
    index: u64,
    instr: &Instr,
) -> Result<(), VerifyError> {
    let h = &program.header;
    for access in instr.accesses(h.element_bytes) {
        let extent = access.pattern.extent_bytes();
        match access.place {
            Place::Sram(at) => {
                let Some(region) = h.regions.get(at.region) else {
                    return fail(
                        Rule::RegionsInBounds,
                        unit,
                        index,
                        format!("names unallocated region #{}", at.region.0),
                    );
                };
                if at.slot >= region.slots {
                    return fail(
                        Rule::RegionsInBounds,
                        unit,
                        index,
                        format!(
                            "uses slot {} of region `{}`, which has {}",
                            at.slot, region.name, region.slots
                        ),
                    );
                }
                if at.offset_bytes + extent > region.slot_bytes {
                    return fail(
                        Rule::RegionsInBounds,
                        unit,
                        index,
                        format!(
                            "touches bytes {}..{} of region `{}`, whose slots hold {}",
                            at.offset_bytes,
                            at.offset_bytes + extent,
                            region.name,
                            region.slot_bytes
                        ),
                    );
                }
            }
            Place::Dram(addr) => {
                let inside = h
                    .dram
                    .tensor_at(addr)
                    .filter(|t| addr + extent <= t.base_bytes + h.dram.bytes_of(t));
                if extent > 0 && inside.is_none() {
                    return fail(
                        Rule::RegionsInBounds,
                        unit,
                        index,
                        format!(
                            "touches DRAM bytes {addr}..{} outside every tensor",
                            addr + extent
                        ),
                    );
                }
            }
        }
    }
    Ok(())
}

/// Vector clock over four chains of totally ordered events: PE starts/ends,
/// vector starts/ends, DMA starts, DMA ends.
type Clock = [u64; 4];
const DMA_START: usize = 2;
const DMA_END: usize = 3;

fn join(a: &mut Clock, b: &Clock) {
    for (x, y) in a.iter_mut().zip(b) {
        *x = (*x).max(*y);
    }
}

/// The chain an instruction's end event lies on.
fn end_chain(unit: Unit) -> usize {
    match unit {
        Unit::Pe => 0,
        Unit::Vector => 1,
        Unit::Dma => DMA_END,
    }
}

struct Recorded {
    space_dram: bool,
    addr: u64,
    access: Access,
    end: Clock,
    chain: usize,
    unit: Unit,
    index: u64,
}

struct Execution<'p> {
    program: &'p Program,
    streams: Vec<std::iter::Peekable<Box<dyn Iterator<Item = Instr> + Send + 'p>>>,
    next_index: [u64; 3],
    exhausted: [bool; 3],
    /// End clock of every signal of every token, in signal order.
    signal_clocks: Vec<Vec<Clock>>,
    /// Last start clock (DMA) and last end clock of each unit.
    last_start: [Clock; 3],
    last_end: [Clock; 3],
    recorded: Vec<Recorded>,
    processed: u64,
}

impl<'p> Execution<'p> {
    fn new(program: &'p Program, signals: Vec<u64>) -> Self {
        Execution {
            program,
            streams: Unit::ALL
                .iter()
                .map(|&u| program.stream(u).peekable())
                .collect(),
            next_index: [0; 3],
            exhausted: [false; 3],
            signal_clocks: signals
                .iter()
                .map(|&n| Vec::with_capacity(n.min(1 << 16) as usize))
                .collect(),
            last_start: [[0; 4]; 3],
            last_end: [[0; 4]; 3],
            recorded: Vec::new(),
            processed: 0,
        }
    }

    fn ready(signal_clocks: &[Vec<Clock>], instr: &Instr) -> bool {
        instr
            .sync()
            .wait
            .iter()
            .all(|w| signal_clocks[w.token.0 as usize].len() as u64 >= w.count)
    }

    fn run(mut self, visit: &mut dyn FnMut(&Instr)) -> Result<(), VerifyError> {
        loop {
            let mut progress = false;
            for unit in Unit::ALL {
                // A bounded burst per unit keeps the units close together.
                for _ in 0..64 {
                    let u = unit.index();
                    let Some(head) = self.streams[u].peek() else {
                        self.exhausted[u] = true;
                        break;
                    };
                    if !Self::ready(&self.signal_clocks, head) {
                        break;
                    }
                    let instr = self.streams[u].next().expect("peeked");
                    self.step(unit, &instr)?;
                    visit(&instr);
                    progress = true;
                }
            }
            if self.exhausted.iter().all(|&e| e) {
                return Ok(());
            }
            if !progress {
                return Err(self.deadlock());
            }
        }
    }

    fn deadlock(&mut self) -> VerifyError {
        let names = crate::text::Names {
            header: &self.program.header,
        };
        let mut blocked = Vec::new();
        for unit in Unit::ALL {
            if let Some(head) = self.streams[unit.index()].peek() {
                blocked.push(format!(
                    "{unit} #{}: {}",
                    self.next_index[unit.index()],
                    names.instr(head)
                ));
            }
        }
        let unit = Unit::ALL.into_iter().find(|u| !self.exhausted[u.index()]);
        VerifyError {
            rule: Rule::NoCycle,
            unit,
            index: unit.map(|u| self.next_index[u.index()]),
            message: format!(
                "every unit waits on another (deadlock): {}",
                blocked.join("; ")
            ),
        }
    }

    fn step(&mut self, unit: Unit, instr: &Instr) -> Result<(), VerifyError> {
        let u = unit.index();
        let index = self.next_index[u];
        self.next_index[u] += 1;
        let mut start = match unit {
            Unit::Dma => self.last_start[u],
            _ => self.last_end[u],
        };
        for w in &instr.sync().wait {
            join(
                &mut start,
                &self.signal_clocks[w.token.0 as usize][w.count as usize - 1],
            );
        }
        let mut end;
        match unit {
            Unit::Dma => {
                start[DMA_START] = index + 1;
                end = start;
                join(&mut end, &self.last_end[u]);
                end[DMA_END] = index + 1;
            }
            _ => {
                let chain = end_chain(unit);
                start[chain] = 2 * index + 1;
                end = start;
                end[chain] = 2 * index + 2;
            }
        }
        let fresh = self.check_races(unit, index, instr, &start)?;
        let chain = end_chain(unit);
        for (space_dram, addr, access) in fresh {
            self.recorded.push(Recorded {
                space_dram,
                addr,
                access,
                end,
                chain,
                unit,
                index,
            });
        }
        self.last_start[u] = start;
        self.last_end[u] = end;
        for &t in &instr.sync().signal {
            self.signal_clocks[t.0 as usize].push(end);
        }
        self.processed += 1;
        if self.processed.is_multiple_of(256) {
            self.prune();
        }
        Ok(())
    }

    /// Checks `instr`'s accesses against the recorded ones; returns them.
    fn check_races(
        &self,
        unit: Unit,
        index: u64,
        instr: &Instr,
        start: &Clock,
    ) -> Result<Vec<(bool, u64, Access)>, VerifyError> {
        let h = &self.program.header;
        let accesses = instr.accesses(h.element_bytes);
        let mut fresh = Vec::with_capacity(accesses.len());
        for access in accesses {
            let (space_dram, addr) = match access.place {
                Place::Dram(a) => (true, a),
                Place::Sram(at) => {
                    let region = h.regions.get(at.region).expect("rule 3 checked regions");
                    (false, region.address(at.slot, at.offset_bytes))
                }
            };
            for r in &self.recorded {
                let ordered = r.end[r.chain] <= start[r.chain];
                if ordered || r.space_dram != space_dram || !(r.access.write || access.write) {
                    continue;
                }
                if r.access.pattern.overlaps(r.addr, &access.pattern, addr) {
                    let what = |w: bool| if w { "writes" } else { "reads" };
                    return fail(
                        Rule::NoRace,
                        unit,
                        index,
                        format!(
                            "{} {} bytes that {} instruction {} {} while not ordered before it (missing wait)",
                            what(access.write),
                            if space_dram { "DRAM" } else { "SRAM" },
                            r.unit,
                            r.index,
                            what(r.access.write),
                        ),
                    );
                }
            }
            fresh.push((space_dram, addr, access));
        }
        Ok(fresh)
    }

    /// Drops the accesses that every future instruction is ordered after:
    /// a unit's next start follows its last end (PE, vector) or its last
    /// start (DMA).
    fn prune(&mut self) {
        let mut frontier: Vec<Clock> = Vec::new();
        for unit in Unit::ALL {
            let u = unit.index();
            if self.streams[u].peek().is_some() {
                frontier.push(match unit {
                    Unit::Dma => self.last_start[u],
                    _ => self.last_end[u],
                });
            }
        }
        self.recorded
            .retain(|r| !frontier.iter().all(|f| r.end[r.chain] <= f[r.chain]));
    }
}
