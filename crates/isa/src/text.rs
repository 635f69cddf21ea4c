//! The text form: one header fact or one instruction per line. The printer
//! streams (it never holds a program); [`crate::parse`] reads it back.
//!
//! ```text
//! flatsim-isa 1
//! name <free text>
//! element_bytes 2
//! sram_capacity_bytes 524288
//! region q offset=0 slot_bytes=8192 slot_stride=8192 slots=2
//! dram Q role=q base=0 dims=1x12x512x64
//! token q.dma unit=dma
//! dma load dram=0 stride=128 rows=64 row_bytes=128 sram=q[0]+0 signal=q.dma
//! pe gemm m=64 k=64 n=512 a=q[0]+0/128 b=k[0]+0/128 c=l[0]+0/1024 bt=1 acc=0 df=os wait=q.dma>=1
//! vector rowmax rows=64 cols=512 x=l[0]+0/1024 max=m[0]+0
//! ```
//! An SRAM address is `region[slot]+offset`; a tile adds `/row_stride`
//! (bytes). `wait=T>=n,…` and `signal=T,…` are omitted when empty. Lines
//! starting with `#` are comments. Streams print unit by unit (dma, pe,
//! vector); each unit's lines keep their order.

use crate::{DmaDir, Instr, Program, ProgramHeader, SramAddr, SramTile, Sync, Unit, VectorOp};
use std::fmt::Write as _;
use std::io;

/// The first line of every program text.
pub const MAGIC: &str = "flatsim-isa 1";

/// Formats SRAM addresses and tokens by name.
#[derive(Clone, Copy, Debug)]
pub struct Names<'a> {
    pub header: &'a ProgramHeader,
}

impl Names<'_> {
    fn region(&self, out: &mut String, at: &SramAddr) {
        match self.header.regions.get(at.region) {
            Some(r) => out.push_str(&r.name),
            None => {
                let _ = write!(out, "?{}", at.region.0);
            }
        }
        let _ = write!(out, "[{}]+{}", at.slot, at.offset_bytes);
    }

    fn tile(&self, out: &mut String, t: &SramTile) {
        self.region(out, &t.at);
        let _ = write!(out, "/{}", t.row_stride_bytes);
    }

    fn sync(&self, out: &mut String, sync: &Sync) {
        let name = |id: crate::TokenId| {
            self.header
                .token(id)
                .map(|t| t.name.clone())
                .unwrap_or_else(|| format!("?{}", id.0))
        };
        if !sync.wait.is_empty() {
            out.push_str(" wait=");
            for (i, w) in sync.wait.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}>={}", name(w.token), w.count);
            }
        }
        if !sync.signal.is_empty() {
            out.push_str(" signal=");
            for (i, t) in sync.signal.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&name(*t));
            }
        }
    }

    /// One instruction as a line (without the newline).
    pub fn instr(&self, instr: &Instr) -> String {
        let mut out = String::with_capacity(160);
        match instr {
            Instr::Dma(d) => {
                let dir = match d.dir {
                    DmaDir::Load => "load",
                    DmaDir::Store => "store",
                };
                let _ = write!(
                    out,
                    "dma {dir} dram={} stride={} rows={} row_bytes={} sram=",
                    d.dram_addr, d.dram_stride_bytes, d.rows, d.row_bytes
                );
                self.region(&mut out, &d.sram);
            }
            Instr::Pe(g) => {
                let _ = write!(out, "pe gemm m={} k={} n={} a=", g.m, g.k, g.n);
                self.tile(&mut out, &g.a);
                out.push_str(" b=");
                self.tile(&mut out, &g.b);
                out.push_str(" c=");
                self.tile(&mut out, &g.c);
                let _ = write!(
                    out,
                    " bt={} acc={} df={}",
                    u8::from(g.b_transposed),
                    u8::from(g.accumulate),
                    g.dataflow
                );
            }
            Instr::Vector(v) => {
                let _ = write!(
                    out,
                    "vector {} rows={} cols={} x=",
                    v.op.name(),
                    v.rows,
                    v.cols
                );
                self.tile(&mut out, &v.x);
                let mut stat = |key: &str, at: &SramAddr| {
                    let _ = write!(out, " {key}=");
                    self.region(&mut out, at);
                };
                match &v.op {
                    VectorOp::RowMax { max } => stat("max", max),
                    VectorOp::RunningMax { max, factor } => {
                        stat("max", max);
                        stat("factor", factor);
                    }
                    VectorOp::ExpSum { max, sum, rescale } => {
                        stat("max", max);
                        stat("sum", sum);
                        if let Some(r) = rescale {
                            stat("rescale", r);
                        }
                    }
                    VectorOp::Rescale { factor } => stat("factor", factor),
                    VectorOp::DivideRows { sum } => stat("sum", sum),
                    VectorOp::Mask {
                        query0,
                        key0,
                        head_rows,
                        window,
                    } => {
                        let _ = write!(out, " query0={query0} key0={key0} head_rows={head_rows}");
                        if let Some(w) = window {
                            let _ = write!(out, " window={w}");
                        }
                    }
                }
            }
        }
        self.sync(&mut out, instr.sync());
        out
    }
}

/// Writes the header lines.
pub fn write_header(h: &ProgramHeader, w: &mut dyn io::Write) -> io::Result<()> {
    writeln!(w, "{MAGIC}")?;
    writeln!(w, "name {}", h.name)?;
    writeln!(w, "element_bytes {}", h.element_bytes)?;
    writeln!(w, "sram_capacity_bytes {}", h.sram_capacity_bytes)?;
    if h.mask.causal {
        match h.mask.window {
            Some(win) => writeln!(w, "mask causal window={win}")?,
            None => writeln!(w, "mask causal")?,
        }
    }
    for r in &h.regions.regions {
        writeln!(
            w,
            "region {} offset={} slot_bytes={} slot_stride={} slots={}",
            r.name, r.offset_bytes, r.slot_bytes, r.slot_stride_bytes, r.slots
        )?;
    }
    for t in &h.dram.tensors {
        let [a, b, c, d] = t.dims;
        writeln!(
            w,
            "dram {} role={} base={} dims={a}x{b}x{c}x{d}",
            t.name,
            t.role.as_str(),
            t.base_bytes
        )?;
    }
    for t in &h.tokens {
        writeln!(w, "token {} unit={}", t.name, t.unit)?;
    }
    Ok(())
}

/// Writes the whole program, streaming one unit after the other.
pub fn write_program(p: &Program, w: &mut dyn io::Write) -> io::Result<()> {
    write_header(&p.header, w)?;
    let names = Names { header: &p.header };
    for unit in Unit::ALL {
        for instr in p.stream(unit) {
            writeln!(w, "{}", names.instr(&instr))?;
        }
    }
    Ok(())
}

/// The whole program as a string (small programs; use [`write_program`] for large ones).
pub fn print(p: &Program) -> String {
    let mut out = Vec::new();
    write_program(p, &mut out).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("the printer writes UTF-8")
}
