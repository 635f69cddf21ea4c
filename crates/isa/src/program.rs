//! A program: metadata (regions, DRAM layout, tokens) plus one lazily
//! produced instruction stream per unit.

use crate::{
    DmaDir, DmaInstr, DramLayout, ElementOps, GemmInstr, Instr, RegionTable, TokenId, Unit,
    VectorInstr,
};
use std::fmt;
use std::sync::Arc;

/// A declared sync token: a counter signalled only by `unit`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Token {
    pub name: String,
    pub unit: Unit,
}

/// Produces the instruction streams of a program, each as a fresh iterator.
/// A source may generate instructions on the fly, so that a program never
/// sits whole in memory; every call must yield the same sequence.
pub trait StreamSource: Send + Sync + fmt::Debug {
    /// The instructions of `unit`, in order. Every item is of that unit.
    fn stream(&self, unit: Unit) -> Box<dyn Iterator<Item = Instr> + Send + '_>;
}

/// Streams held in memory (parsed or hand-built programs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Materialized {
    pub streams: [Vec<Instr>; 3],
}

impl StreamSource for Materialized {
    fn stream(&self, unit: Unit) -> Box<dyn Iterator<Item = Instr> + Send + '_> {
        Box::new(self.streams[unit.index()].iter().cloned())
    }
}

/// Program-wide facts the streams refer to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramHeader {
    /// Free-form description (workload, dataflow, plan); one line.
    pub name: String,
    pub element_bytes: u64,
    pub sram_capacity_bytes: u64,
    pub regions: RegionTable,
    pub dram: DramLayout,
    pub tokens: Vec<Token>,
    /// Which keys each query sees; the reference attention applies it.
    pub mask: crate::reference::AttentionMask,
}

impl ProgramHeader {
    pub fn token(&self, id: TokenId) -> Option<&Token> {
        self.tokens.get(id.0 as usize)
    }

    pub fn token_by_name(&self, name: &str) -> Option<TokenId> {
        self.tokens
            .iter()
            .position(|t| t.name == name)
            .map(|i| TokenId(i as u32))
    }
}

/// A compiled program. Cloning shares the stream source.
#[derive(Clone, Debug)]
pub struct Program {
    pub header: ProgramHeader,
    source: Arc<dyn StreamSource>,
}

impl Program {
    pub fn new(header: ProgramHeader, source: Arc<dyn StreamSource>) -> Self {
        Program { header, source }
    }

    /// A program whose streams are held in memory.
    pub fn materialized(header: ProgramHeader, streams: [Vec<Instr>; 3]) -> Self {
        Self::new(header, Arc::new(Materialized { streams }))
    }

    /// A fresh iterator over the instructions of `unit`.
    pub fn stream(&self, unit: Unit) -> Box<dyn Iterator<Item = Instr> + Send + '_> {
        self.source.stream(unit)
    }

    /// The DMA stream, typed.
    pub fn dma(&self) -> impl Iterator<Item = DmaInstr> + '_ {
        self.stream(Unit::Dma).map(|i| match i {
            Instr::Dma(d) => d,
            other => panic!(
                "stream source yielded a {} instruction in the dma stream",
                other.unit()
            ),
        })
    }

    /// The PE-array stream, typed.
    pub fn pe(&self) -> impl Iterator<Item = GemmInstr> + '_ {
        self.stream(Unit::Pe).map(|i| match i {
            Instr::Pe(g) => g,
            other => panic!(
                "stream source yielded a {} instruction in the pe stream",
                other.unit()
            ),
        })
    }

    /// The vector-unit stream, typed.
    pub fn vector(&self) -> impl Iterator<Item = VectorInstr> + '_ {
        self.stream(Unit::Vector).map(|i| match i {
            Instr::Vector(v) => v,
            other => panic!(
                "stream source yielded a {} instruction in the vector stream",
                other.unit()
            ),
        })
    }

    /// A copy with every stream held in memory (for tests and editing).
    pub fn materialize(&self) -> Program {
        let streams = Unit::ALL.map(|u| self.stream(u).collect());
        Program::materialized(self.header.clone(), streams)
    }

    /// Counts, by streaming each unit once; holds no instruction.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for d in self.dma() {
            s.instructions[Unit::Dma.index()] += 1;
            match d.dir {
                DmaDir::Load => s.dram_read_bytes += d.bytes(),
                DmaDir::Store => s.dram_write_bytes += d.bytes(),
            }
        }
        for g in self.pe() {
            s.instructions[Unit::Pe.index()] += 1;
            s.macs += g.macs();
        }
        for v in self.vector() {
            s.instructions[Unit::Vector.index()] += 1;
            s.vector_ops.add_assign(&v.element_ops());
        }
        s
    }
}

/// Two programs are equal when their headers and every stream are.
impl PartialEq for Program {
    fn eq(&self, other: &Self) -> bool {
        self.header == other.header
            && Unit::ALL
                .iter()
                .all(|&u| self.stream(u).eq(other.stream(u)))
    }
}

/// What a program does, in totals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Instructions per unit, indexed by [`Unit::index`].
    pub instructions: [u64; 3],
    pub dram_read_bytes: u64,
    pub dram_write_bytes: u64,
    pub macs: u64,
    pub vector_ops: ElementOps,
}
