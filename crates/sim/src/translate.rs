//! Instructions → the units' own jobs. The units do not know the ISA; this
//! is the one place that maps its operands to scratchpad addresses and
//! spans, and its vector ops to operation mixes.

use crate::pe_unit::{GemmWork, MatrixView};
use isa::{
    DmaDir, DmaInstr, ElementOps, GemmInstr, ProgramHeader, SramAddr, SramTile, VectorInstr,
    VectorOp,
};
use pe_array::{GemmJob, GemmShape};
use sram::SramSpan;

/// Absolute scratchpad address of `at`.
pub fn sram_address(header: &ProgramHeader, at: &SramAddr) -> u64 {
    header
        .regions
        .get(at.region)
        .map_or(at.offset_bytes, |region| {
            region.address(at.slot, at.offset_bytes)
        })
}

fn view(header: &ProgramHeader, tile: &SramTile) -> MatrixView {
    MatrixView {
        addr: sram_address(header, &tile.at),
        row_stride_bytes: tile.row_stride_bytes,
    }
}

pub fn dma_job(header: &ProgramHeader, id: u64, d: &DmaInstr) -> dma::DmaJob {
    dma::DmaJob {
        id,
        direction: match d.dir {
            DmaDir::Load => dma::Direction::Load,
            DmaDir::Store => dma::Direction::Store,
        },
        dram_addr: d.dram_addr,
        rows: d.rows,
        row_bytes: d.row_bytes,
        dram_stride_bytes: d.dram_stride_bytes,
        sram_addr: sram_address(header, &d.sram),
    }
}

pub fn gemm_work(header: &ProgramHeader, id: u64, g: &GemmInstr) -> GemmWork {
    GemmWork {
        job: GemmJob {
            id,
            shape: GemmShape {
                m: g.m,
                k: g.k,
                n: g.n,
            },
            dataflow: g.dataflow,
        },
        a: view(header, &g.a),
        b: view(header, &g.b),
        b_transposed: g.b_transposed,
        c: view(header, &g.c),
        accumulate: g.accumulate,
    }
}

/// Per-element (or per-row) operation counts in `vector::ElementOp::ALL`
/// order: max, sub, exp, add, mul, div. A mix has a handful of each at most.
fn counts(ops: &ElementOps) -> [u16; 6] {
    [ops.max, ops.sub, ops.exp, ops.add, ops.mul, ops.div]
        .map(|n| u16::try_from(n).unwrap_or(u16::MAX))
}

pub fn vector_job(header: &ProgramHeader, id: u64, v: &VectorInstr) -> vector::VectorJob {
    let eb = header.element_bytes;
    let x = view(header, &v.x);
    let tile: Vec<SramSpan> = (0..v.rows)
        .map(|r| SramSpan::new(x.addr + r * x.row_stride_bytes, v.cols * eb))
        .collect();
    let stat = |at: &SramAddr| SramSpan::new(sram_address(header, at), v.rows * eb);
    let (mut inputs, mut outputs) = (tile.clone(), Vec::new());
    match v.op {
        VectorOp::RowMax { max } => outputs.push(stat(&max)),
        VectorOp::RunningMax { max, factor } => {
            inputs.push(stat(&max));
            outputs.extend([stat(&max), stat(&factor)]);
        }
        VectorOp::ExpSum { max, sum, rescale } => {
            inputs.push(stat(&max));
            if let Some(factor) = rescale {
                inputs.extend([stat(&sum), stat(&factor)]);
            }
            outputs.extend(tile);
            outputs.push(stat(&sum));
        }
        VectorOp::Rescale { factor } => {
            inputs.push(stat(&factor));
            outputs.extend(tile);
        }
        VectorOp::DivideRows { sum } => {
            inputs.push(stat(&sum));
            outputs.extend(tile);
        }
        VectorOp::Mask { .. } => outputs.extend(tile),
    }
    let (per_element, per_row) = v.op.mix();
    vector::VectorJob {
        id,
        ops: vector::OpMix {
            per_element: counts(&per_element),
            per_row: counts(&per_row),
        },
        rows: v.rows,
        cols: v.cols,
        inputs,
        outputs,
    }
}
