//! Reads the text form written by [`crate::text`] back into a (materialized)
//! program. Every error names the line and the reason.

use crate::text::MAGIC;
use crate::{
    DmaDir, DmaInstr, DramLayout, DramTensor, GemmInstr, Instr, PeDataflow, Program, ProgramHeader,
    Region, RegionTable, SramAddr, SramTile, Sync, TensorRole, Token, TokenId, Unit, VectorInstr,
    VectorOp, Wait,
};
use std::collections::BTreeMap;

/// A line that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ParseError {
    pub line: usize,
    pub reason: String,
}

type Result<T> = std::result::Result<T, String>;

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `key=value` pairs of one line, each key at most once.
struct Fields<'a> {
    map: BTreeMap<&'a str, &'a str>,
}

impl<'a> Fields<'a> {
    fn new(parts: &[&'a str]) -> Result<Self> {
        let mut map = BTreeMap::new();
        for part in parts {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("expected key=value, found `{part}`"))?;
            if map.insert(k, v).is_some() {
                return Err(format!("key `{k}` given twice"));
            }
        }
        Ok(Fields { map })
    }

    fn take(&mut self, key: &str) -> Result<&'a str> {
        self.map
            .remove(key)
            .ok_or_else(|| format!("missing key `{key}`"))
    }

    fn take_opt(&mut self, key: &str) -> Option<&'a str> {
        self.map.remove(key)
    }

    fn num(&mut self, key: &str) -> Result<u64> {
        let v = self.take(key)?;
        v.parse()
            .map_err(|_| format!("key `{key}`: expected a non-negative integer, found `{v}`"))
    }

    fn flag(&mut self, key: &str) -> Result<bool> {
        match self.take(key)? {
            "0" => Ok(false),
            "1" => Ok(true),
            v => Err(format!("key `{key}`: expected 0 or 1, found `{v}`")),
        }
    }

    fn done(self) -> Result<()> {
        match self.map.keys().next() {
            Some(k) => Err(format!("unknown key `{k}`")),
            None => Ok(()),
        }
    }
}

struct Reader {
    header: ProgramHeader,
    streams: [Vec<Instr>; 3],
}

impl Reader {
    fn addr(&self, text: &str) -> Result<SramAddr> {
        let bad = || format!("expected region[slot]+offset, found `{text}`");
        let (name, rest) = text.split_once('[').ok_or_else(bad)?;
        let (slot, offset) = rest.split_once("]+").ok_or_else(bad)?;
        let region = self
            .header
            .regions
            .by_name(name)
            .ok_or_else(|| format!("unknown region `{name}`"))?;
        Ok(SramAddr {
            region,
            slot: slot.parse().map_err(|_| bad())?,
            offset_bytes: offset.parse().map_err(|_| bad())?,
        })
    }

    fn tile(&self, text: &str) -> Result<SramTile> {
        let (at, stride) = text
            .rsplit_once('/')
            .ok_or_else(|| format!("expected region[slot]+offset/stride, found `{text}`"))?;
        Ok(SramTile {
            at: self.addr(at)?,
            row_stride_bytes: stride
                .parse()
                .map_err(|_| format!("bad row stride in `{text}`"))?,
        })
    }

    fn token(&self, name: &str) -> Result<TokenId> {
        self.header
            .token_by_name(name)
            .ok_or_else(|| format!("unknown token `{name}`"))
    }

    fn sync(&self, f: &mut Fields) -> Result<Sync> {
        let mut sync = Sync::default();
        if let Some(list) = f.take_opt("wait") {
            for item in list.split(',') {
                let (name, count) = item
                    .split_once(">=")
                    .ok_or_else(|| format!("expected token>=count, found `{item}`"))?;
                sync.wait.push(Wait {
                    token: self.token(name)?,
                    count: count
                        .parse()
                        .map_err(|_| format!("bad count in `{item}`"))?,
                });
            }
        }
        if let Some(list) = f.take_opt("signal") {
            for name in list.split(',') {
                sync.signal.push(self.token(name)?);
            }
        }
        Ok(sync)
    }

    fn header_line(&mut self, word: &str, rest: &[&str], raw_rest: &str) -> Result<()> {
        let h = &mut self.header;
        let single = |rest: &[&str]| -> Result<u64> {
            match rest {
                [v] => v
                    .parse()
                    .map_err(|_| format!("expected an integer, found `{v}`")),
                _ => Err("expected one integer".into()),
            }
        };
        match word {
            "name" => h.name = raw_rest.to_owned(),
            "element_bytes" => {
                h.element_bytes = single(rest)?;
                h.dram.element_bytes = h.element_bytes;
            }
            "sram_capacity_bytes" => h.sram_capacity_bytes = single(rest)?,
            "mask" => {
                let (kind, fields) = rest.split_first().ok_or("missing mask kind")?;
                if *kind != "causal" {
                    return Err(format!("unknown mask `{kind}`; the one mask is `causal`"));
                }
                let mut f = Fields::new(fields)?;
                h.mask = crate::reference::AttentionMask {
                    causal: true,
                    window: if f.map.contains_key("window") {
                        Some(f.num("window")?)
                    } else {
                        None
                    },
                };
                f.done()?;
            }
            "region" => {
                let (name, fields) = rest.split_first().ok_or("missing region name")?;
                if !is_name(name) || h.regions.by_name(name).is_some() {
                    return Err(format!("bad or repeated region name `{name}`"));
                }
                let mut f = Fields::new(fields)?;
                let slots = f.num("slots")?;
                let region = Region {
                    name: (*name).to_owned(),
                    offset_bytes: f.num("offset")?,
                    slot_bytes: f.num("slot_bytes")?,
                    slot_stride_bytes: f.num("slot_stride")?,
                    slots: u32::try_from(slots).map_err(|_| "slots out of range".to_string())?,
                };
                f.done()?;
                h.regions.regions.push(region);
            }
            "dram" => {
                let (name, fields) = rest.split_first().ok_or("missing tensor name")?;
                if !is_name(name) || h.dram.tensors.iter().any(|t| t.name == *name) {
                    return Err(format!("bad or repeated tensor name `{name}`"));
                }
                let mut f = Fields::new(fields)?;
                let role = f.take("role")?;
                let role =
                    TensorRole::parse(role).ok_or_else(|| format!("unknown role `{role}`"))?;
                let base_bytes = f.num("base")?;
                let dims_text = f.take("dims")?;
                let dims: Vec<u64> = dims_text
                    .split('x')
                    .map(|d| d.parse().map_err(|_| format!("bad dims `{dims_text}`")))
                    .collect::<Result<_>>()?;
                let dims: [u64; 4] = dims
                    .try_into()
                    .map_err(|_| format!("expected 4 dims, found `{dims_text}`"))?;
                f.done()?;
                h.dram.tensors.push(DramTensor {
                    name: (*name).to_owned(),
                    role,
                    base_bytes,
                    dims,
                });
            }
            "token" => {
                let (name, fields) = rest.split_first().ok_or("missing token name")?;
                if !is_name(name) || h.token_by_name(name).is_some() {
                    return Err(format!("bad or repeated token name `{name}`"));
                }
                let mut f = Fields::new(fields)?;
                let unit = f.take("unit")?;
                let unit = Unit::parse(unit).ok_or_else(|| format!("unknown unit `{unit}`"))?;
                f.done()?;
                h.tokens.push(Token {
                    name: (*name).to_owned(),
                    unit,
                });
            }
            other => return Err(format!("unknown line kind `{other}`")),
        }
        Ok(())
    }

    fn instr_line(&mut self, unit: Unit, rest: &[&str]) -> Result<()> {
        let (op, fields) = rest.split_first().ok_or("missing operation")?;
        let mut f = Fields::new(fields)?;
        let instr = match (unit, *op) {
            (Unit::Dma, "load" | "store") => Instr::Dma(DmaInstr {
                dir: if *op == "load" {
                    DmaDir::Load
                } else {
                    DmaDir::Store
                },
                dram_addr: f.num("dram")?,
                dram_stride_bytes: f.num("stride")?,
                rows: f.num("rows")?,
                row_bytes: f.num("row_bytes")?,
                sram: self.addr(f.take("sram")?)?,
                sync: self.sync(&mut f)?,
            }),
            (Unit::Pe, "gemm") => {
                let df = f.take("df")?;
                Instr::Pe(GemmInstr {
                    m: f.num("m")?,
                    k: f.num("k")?,
                    n: f.num("n")?,
                    a: self.tile(f.take("a")?)?,
                    b: self.tile(f.take("b")?)?,
                    c: self.tile(f.take("c")?)?,
                    b_transposed: f.flag("bt")?,
                    accumulate: f.flag("acc")?,
                    dataflow: PeDataflow::parse(df)?,
                    sync: self.sync(&mut f)?,
                })
            }
            (Unit::Vector, name) => {
                let rows = f.num("rows")?;
                let cols = f.num("cols")?;
                let x = self.tile(f.take("x")?)?;
                let op = match name {
                    "rowmax" => VectorOp::RowMax {
                        max: self.addr(f.take("max")?)?,
                    },
                    "runmax" => VectorOp::RunningMax {
                        max: self.addr(f.take("max")?)?,
                        factor: self.addr(f.take("factor")?)?,
                    },
                    "expsum" => VectorOp::ExpSum {
                        max: self.addr(f.take("max")?)?,
                        sum: self.addr(f.take("sum")?)?,
                        rescale: f.take_opt("rescale").map(|r| self.addr(r)).transpose()?,
                    },
                    "rescale" => VectorOp::Rescale {
                        factor: self.addr(f.take("factor")?)?,
                    },
                    "divide" => VectorOp::DivideRows {
                        sum: self.addr(f.take("sum")?)?,
                    },
                    "mask" => VectorOp::Mask {
                        query0: f.num("query0")?,
                        key0: f.num("key0")?,
                        head_rows: f.num("head_rows")?,
                        window: if f.map.contains_key("window") {
                            Some(f.num("window")?)
                        } else {
                            None
                        },
                    },
                    other => return Err(format!("unknown vector operation `{other}`")),
                };
                Instr::Vector(VectorInstr {
                    op,
                    rows,
                    cols,
                    x,
                    sync: self.sync(&mut f)?,
                })
            }
            (unit, other) => return Err(format!("unknown {unit} operation `{other}`")),
        };
        f.done()?;
        self.streams[unit.index()].push(instr);
        Ok(())
    }
}

/// Parses a program text. Header lines must precede the instructions that
/// name their regions and tokens.
pub fn parse(text: &str) -> std::result::Result<Program, ParseError> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, first)) if first.trim() == MAGIC => {}
        _ => {
            return Err(ParseError {
                line: 1,
                reason: format!("expected `{MAGIC}`"),
            })
        }
    }
    let mut reader = Reader {
        header: ProgramHeader {
            name: String::new(),
            element_bytes: 0,
            sram_capacity_bytes: 0,
            regions: RegionTable::default(),
            dram: DramLayout::new(0),
            tokens: Vec::new(),
            mask: Default::default(),
        },
        streams: Default::default(),
    };
    for (index, line) in lines {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (word, raw_rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
        let rest: Vec<&str> = raw_rest.split_whitespace().collect();
        let result = match Unit::parse(word) {
            Some(unit) => reader.instr_line(unit, &rest),
            None => reader.header_line(word, &rest, raw_rest),
        };
        result.map_err(|reason| ParseError {
            line: index + 1,
            reason,
        })?;
    }
    Ok(Program::materialized(reader.header, reader.streams))
}
