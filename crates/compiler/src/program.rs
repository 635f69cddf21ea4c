//! Assembles a [`isa::Program`]: SRAM regions from the loop nest's buffers,
//! the DRAM layout, the token table, and a lazy stream source.

use crate::ir::{LoopNest, Problem, Stmt, Tensor};
use crate::lower::{TokenPlan, Walker};
use isa::{
    AllocError, DramLayout, Instr, Program, ProgramHeader, RegionAllocator, RegionTable,
    StreamSource, TensorRole, Unit,
};
use std::sync::Arc;

/// The DRAM layout: Q and O as `[B, H, queries, d]`, K and V as
/// `[B, H_kv, keys, d]`, then the spilled scores `[B, H, queries, keys]`
/// when the program spills them.
pub fn dram_layout(p: &Problem, with_scores: bool) -> DramLayout {
    let mut layout = DramLayout::new(p.element_bytes);
    let qo = [p.batch, p.heads, p.queries, p.head_dim];
    let kv = [p.batch, p.kv_heads, p.seq_len, p.head_dim];
    for (name, role, dims) in [
        ("Q", TensorRole::Q, qo),
        ("K", TensorRole::K, kv),
        ("V", TensorRole::V, kv),
        ("O", TensorRole::O, qo),
    ] {
        layout.push(name, role, dims);
    }
    if with_scores {
        layout.push(
            "S",
            TensorRole::Spill,
            [p.batch, p.heads, p.queries, p.seq_len],
        );
    }
    layout
}

/// Base address of every tensor, indexed by `TensorRole as usize`.
pub fn dram_bases(p: &Problem) -> [u64; 5] {
    let layout = dram_layout(p, true);
    TensorRole::ALL.map(|role| layout.by_role(role).map_or(0, |t| t.base_bytes))
}

fn uses_scores(body: &[Stmt]) -> bool {
    body.iter().any(|s| match s {
        Stmt::For { body, .. } | Stmt::When { body, .. } | Stmt::Delayed(body) => uses_scores(body),
        Stmt::Load(l) => l.slice.tensor == Tensor::Scores,
        Stmt::Store(st) => st.slice.tensor == Tensor::Scores,
        _ => false,
    })
}

/// Places every buffer (bank-aligned, with its slots), in order; region id = buffer index.
pub fn allocate(nest: &LoopNest, sram: &hwconfig::Sram) -> Result<RegionTable, AllocError> {
    let mut alloc = RegionAllocator::for_sram(sram);
    for b in &nest.buffers {
        alloc.alloc(b.name, b.slot_bytes_placed(&nest.problem), b.slots)?;
    }
    Ok(alloc.into_table())
}

/// Generates each unit's stream on demand by walking the loop nest.
#[derive(Debug)]
struct NestSource {
    nest: LoopNest,
    tokens: TokenPlan,
}

impl StreamSource for NestSource {
    fn stream(&self, unit: Unit) -> Box<dyn Iterator<Item = Instr> + Send + '_> {
        Box::new(Walker::new(&self.nest, &self.tokens, Some(unit)))
    }
}

/// The program of `nest`, with its regions already placed.
pub fn assemble(nest: LoopNest, regions: RegionTable, sram_capacity_bytes: u64) -> Program {
    let tokens = TokenPlan::new(&nest);
    let spills = nest
        .phases
        .iter()
        .any(|ph| uses_scores(&ph.body) || uses_scores(&ph.prologue));
    let header = ProgramHeader {
        name: nest.title.clone(),
        element_bytes: nest.problem.element_bytes,
        sram_capacity_bytes,
        regions,
        dram: dram_layout(&nest.problem, spills),
        tokens: tokens.tokens.clone(),
        mask: nest.problem.mask,
    };
    Program::new(header, Arc::new(NestSource { nest, tokens }))
}
