//! Functional meaning of every instruction: what it does to SRAM and DRAM
//! values. One element is one `f64`, addressed by byte address /
//! `element_bytes`. [`Machine::run`] executes a verified program in the
//! verifier's order; the simulator's functional mode can apply
//! [`Machine::execute`] at the cycle it deems an instruction done.

use crate::{
    DmaDir, GemmInstr, Instr, Program, ProgramHeader, SramAddr, SramTile, VectorInstr, VectorOp,
};

/// Which memory an element index refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    Sram,
    Dram,
}

/// The writes of one instruction: (memory, element index, value).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effect {
    pub writes: Vec<(Space, usize, f64)>,
}

/// SRAM and DRAM contents, one value per element.
#[derive(Clone, Debug)]
pub struct Machine {
    header: ProgramHeader,
    pub sram: Vec<f64>,
    pub dram: Vec<f64>,
}

impl Machine {
    /// Zeroed SRAM of the program's capacity and DRAM covering its layout.
    pub fn new(header: &ProgramHeader) -> Self {
        let eb = header.element_bytes;
        Machine {
            header: header.clone(),
            sram: vec![0.0; (header.sram_capacity_bytes / eb) as usize],
            dram: vec![0.0; header.dram.end_bytes().div_ceil(eb) as usize],
        }
    }

    fn eb(&self) -> u64 {
        self.header.element_bytes
    }

    /// Element index of an SRAM address.
    fn sram_index(&self, at: &SramAddr) -> usize {
        let region = self
            .header
            .regions
            .get(at.region)
            .expect("verified program");
        (region.address(at.slot, at.offset_bytes) / self.eb()) as usize
    }

    fn tile_index(&self, t: &SramTile, row: u64, col: u64) -> usize {
        self.sram_index(&t.at) + ((row * t.row_stride_bytes) / self.eb() + col) as usize
    }

    /// Applies one instruction.
    pub fn execute(&mut self, instr: &Instr) {
        match instr {
            Instr::Dma(d) => {
                let eb = self.eb();
                let sram0 = self.sram_index(&d.sram);
                let cols = (d.row_bytes / eb) as usize;
                for r in 0..d.rows {
                    let dram0 = ((d.dram_addr + r * d.dram_stride_bytes) / eb) as usize;
                    let s0 = sram0 + r as usize * cols;
                    match d.dir {
                        DmaDir::Load => self.sram[s0..s0 + cols]
                            .copy_from_slice(&self.dram[dram0..dram0 + cols]),
                        DmaDir::Store => self.dram[dram0..dram0 + cols]
                            .copy_from_slice(&self.sram[s0..s0 + cols]),
                    }
                }
            }
            Instr::Pe(g) => self.gemm(g),
            Instr::Vector(v) => self.vector(v),
        }
    }

    fn gemm(&mut self, g: &GemmInstr) {
        let mut out = vec![0.0; (g.m * g.n) as usize];
        for i in 0..g.m {
            for j in 0..g.n {
                let mut acc = 0.0;
                for p in 0..g.k {
                    let b = if g.b_transposed {
                        self.sram[self.tile_index(&g.b, j, p)]
                    } else {
                        self.sram[self.tile_index(&g.b, p, j)]
                    };
                    acc += self.sram[self.tile_index(&g.a, i, p)] * b;
                }
                out[(i * g.n + j) as usize] = acc;
            }
        }
        for i in 0..g.m {
            for j in 0..g.n {
                let at = self.tile_index(&g.c, i, j);
                let value = out[(i * g.n + j) as usize];
                self.sram[at] = if g.accumulate {
                    self.sram[at] + value
                } else {
                    value
                };
            }
        }
    }

    fn vector(&mut self, v: &VectorInstr) {
        let stat = |m: &Machine, at: &SramAddr, row: u64| m.sram_index(at) + row as usize;
        for i in 0..v.rows {
            let cells: Vec<usize> = (0..v.cols).map(|j| self.tile_index(&v.x, i, j)).collect();
            let row_max = cells
                .iter()
                .map(|&c| self.sram[c])
                .fold(f64::NEG_INFINITY, f64::max);
            match v.op {
                VectorOp::RowMax { max } => {
                    let m = stat(self, &max, i);
                    self.sram[m] = row_max;
                }
                VectorOp::RunningMax { max, factor } => {
                    let (m, f) = (stat(self, &max, i), stat(self, &factor, i));
                    let new = self.sram[m].max(row_max);
                    // A row that has seen only masked keys keeps factor 1.
                    self.sram[f] = if new == f64::NEG_INFINITY {
                        1.0
                    } else {
                        (self.sram[m] - new).exp()
                    };
                    self.sram[m] = new;
                }
                VectorOp::ExpSum { max, sum, rescale } => {
                    let m = self.sram[stat(self, &max, i)];
                    let mut s = 0.0;
                    for &c in &cells {
                        // Masked entries (−∞) weigh 0, even in a row masked so far.
                        self.sram[c] = if self.sram[c] == f64::NEG_INFINITY {
                            0.0
                        } else {
                            (self.sram[c] - m).exp()
                        };
                        s += self.sram[c];
                    }
                    let at = stat(self, &sum, i);
                    self.sram[at] = match rescale {
                        Some(f) => self.sram[at] * self.sram[stat(self, &f, i)] + s,
                        None => s,
                    };
                }
                VectorOp::Rescale { factor } => {
                    let f = self.sram[stat(self, &factor, i)];
                    for &c in &cells {
                        self.sram[c] *= f;
                    }
                }
                VectorOp::DivideRows { sum } => {
                    let reciprocal = 1.0 / self.sram[stat(self, &sum, i)];
                    for &c in &cells {
                        self.sram[c] *= reciprocal;
                    }
                }
                VectorOp::Mask {
                    query0,
                    key0,
                    head_rows,
                    window,
                } => {
                    let query = query0 + i % head_rows;
                    for (j, &c) in cells.iter().enumerate() {
                        if crate::masked(query, key0 + j as u64, window) {
                            self.sram[c] = f64::NEG_INFINITY;
                        }
                    }
                }
            }
        }
    }

    /// Element indices (SRAM or DRAM) that `instr` writes.
    fn written(&self, instr: &Instr) -> Vec<(Space, usize)> {
        let eb = self.eb();
        let mut cells = Vec::new();
        for access in instr.accesses(eb).into_iter().filter(|a| a.write) {
            let (space, base) = match access.place {
                crate::Place::Sram(at) => (Space::Sram, self.sram_index(&at) as u64 * eb),
                crate::Place::Dram(addr) => (Space::Dram, addr),
            };
            let p = access.pattern;
            for row in 0..p.rows {
                let start = base + row * p.stride_bytes;
                cells.extend(
                    (start / eb..(start + p.row_bytes).div_ceil(eb)).map(|i| (space, i as usize)),
                );
            }
        }
        cells
    }

    /// What `instr` would write, computed from the values now, without
    /// changing them: a simulator takes the effect when an instruction
    /// issues (it reads its inputs then) and [`Machine::apply`]s it when the
    /// instruction completes (its writes land then), so a consumer that runs
    /// too early sees stale data.
    pub fn effect(&mut self, instr: &Instr) -> Effect {
        let cells = self.written(instr);
        let old: Vec<f64> = cells
            .iter()
            .map(|&(space, i)| *self.cell(space, i))
            .collect();
        self.execute(instr);
        let writes = cells
            .iter()
            .zip(old)
            .map(|(&(space, i), old)| {
                let new = std::mem::replace(self.cell(space, i), old);
                (space, i, new)
            })
            .collect();
        Effect { writes }
    }

    /// Lands the writes of an [`Effect`].
    pub fn apply(&mut self, effect: &Effect) {
        for &(space, i, value) in &effect.writes {
            *self.cell(space, i) = value;
        }
    }

    fn cell(&mut self, space: Space, index: usize) -> &mut f64 {
        match space {
            Space::Sram => &mut self.sram[index],
            Space::Dram => &mut self.dram[index],
        }
    }

    /// Verifies `program` and executes it in the verifier's order.
    pub fn run(&mut self, program: &Program) -> Result<(), crate::VerifyError> {
        crate::verify::verify_with(program, &mut |instr| self.execute(instr))
    }
}
