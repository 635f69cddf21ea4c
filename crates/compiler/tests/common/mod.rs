//! Shared helpers: a tiny hardware config, plans, and a functional check of
//! a compiled program against reference attention.
#![allow(dead_code)] // each test binary uses a subset

use compiler::{Dataflow, DataflowSpec, Gran, Plan, Workload};
use hwconfig::HwConfig;
use isa::exec::Machine;
use isa::{DmaDir, Instr, Program, TensorRole};

/// A 4×4 array with `sram_bytes` of SRAM in 4 banks of 16 bytes.
pub fn tiny_hw(sram_bytes: u64) -> HwConfig {
    tiny_hw_banked(sram_bytes, 4, 16)
}

/// A 4×4 array with `sram_bytes` of SRAM in `banks` banks of `width` bytes.
pub fn tiny_hw_banked(sram_bytes: u64, banks: u64, width: u64) -> HwConfig {
    let overrides = [
        "pe_array.rows=4".to_string(),
        "pe_array.cols=4".into(),
        format!("sram.capacity_bytes={sram_bytes}"),
        format!("sram.banks={banks}"),
        format!("sram.bank_width_bytes={width}"),
        "vector.lanes=4".into(),
    ];
    HwConfig::parse(
        "<edge>",
        hwconfig::builtin_preset("edge").unwrap(),
        &overrides,
    )
    .unwrap()
}

/// `w` with a causal mask and optionally a sliding window.
pub fn causal(mut w: Workload, window: Option<u64>) -> Workload {
    w.mask = compiler::Mask::Causal;
    w.window = window;
    w
}

/// A workload with `kv_heads` KV heads of `group` query heads each; with
/// `decode = Some((query_len, kv_len))` the decode phase, else prefill of `n`.
pub fn grouped(
    batch: u64,
    kv_heads: u64,
    group: u64,
    n: u64,
    d: u64,
    decode: Option<(u64, u64)>,
) -> Workload {
    let mut w = Workload::new("p", batch, kv_heads * group, n, d);
    w.kv_heads = kv_heads;
    w.query_len = n;
    if let Some((query_len, kv_len)) = decode {
        w.phase = compiler::Phase::Decode;
        w.query_len = query_len;
        w.kv_len = kv_len;
        w.seq_len = kv_len + query_len;
    }
    w
}

pub fn spec(
    dataflow: Dataflow,
    gran: Option<Gran>,
    rows: Option<u64>,
    cols: Option<u64>,
    spill: bool,
) -> DataflowSpec {
    DataflowSpec {
        gran,
        rows,
        cols,
        spill: Some(spill),
        ..DataflowSpec::new(dataflow)
    }
}

fn lcg(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*state >> 33) as f64 / (1u64 << 31) as f64) - 0.5
}

/// Runs `program` functionally on random Q, K, V and returns the largest
/// absolute error of O against `isa::reference` attention.
pub fn max_error(program: &Program) -> f64 {
    let h = &program.header;
    let eb = h.element_bytes;
    let mut m = Machine::new(h);
    let mut seed = 7;
    let tensor = |role| h.dram.by_role(role).unwrap().clone();
    for t in [
        &tensor(TensorRole::Q),
        &tensor(TensorRole::K),
        &tensor(TensorRole::V),
    ] {
        let base = (t.base_bytes / eb) as usize;
        for i in 0..t.elements() as usize {
            m.dram[base + i] = lcg(&mut seed) * 4.0;
        }
    }
    m.run(program).unwrap_or_else(|e| panic!("{e}"));
    isa::reference::max_abs_error(h, &m.dram)
}

/// (b, h, query row, key row) of every score an L GEMM computes, and
/// (b, h, row) of every O row stored, tracked through the DMA loads.
pub struct Coverage {
    pub scores: std::collections::BTreeMap<(u64, u64, u64, u64), u32>,
    pub o_rows: std::collections::BTreeMap<(u64, u64, u64), u32>,
}

pub fn coverage(program: &Program) -> Coverage {
    let h = &program.header;
    let eb = h.element_bytes;
    // SRAM byte address → (role, b, h, row) of the DRAM row loaded there.
    let mut origin: std::collections::BTreeMap<u64, (TensorRole, u64, u64, u64)> =
        Default::default();
    let mut cov = Coverage {
        scores: Default::default(),
        o_rows: Default::default(),
    };
    let sram_addr = |at: &isa::SramAddr| {
        h.regions
            .get(at.region)
            .unwrap()
            .address(at.slot, at.offset_bytes)
    };
    let tensor = |role| h.dram.by_role(role).unwrap();
    let group = tensor(TensorRole::Q).dims[1] / tensor(TensorRole::K).dims[1];
    let decode = |addr: u64| {
        let t = h.dram.tensor_at(addr).unwrap();
        let row_bytes = t.dims[3] * eb;
        let row = (addr - t.base_bytes) / row_bytes;
        let (bh, r) = (row / t.dims[2], row % t.dims[2]);
        (t.role, bh / t.dims[1], bh % t.dims[1], r)
    };
    isa::verify::verify_with(program, &mut |instr| match instr {
        Instr::Dma(dma) => {
            for r in 0..dma.rows {
                let dram = dma.dram_addr + r * dma.dram_stride_bytes;
                let sram = sram_addr(&dma.sram) + r * dma.row_bytes;
                let o = decode(dram);
                match dma.dir {
                    DmaDir::Load => {
                        origin.insert(sram, o);
                    }
                    DmaDir::Store if o.0 == TensorRole::O => {
                        *cov.o_rows.entry((o.1, o.2, o.3)).or_default() += 1
                    }
                    DmaDir::Store => {}
                }
            }
        }
        Instr::Pe(g) if g.b_transposed => {
            for i in 0..g.m {
                let qa = origin[&(sram_addr(&g.a.at) + i * g.a.row_stride_bytes)];
                for j in 0..g.n {
                    let kb = origin[&(sram_addr(&g.b.at) + j * g.b.row_stride_bytes)];
                    assert_eq!((qa.0, kb.0), (TensorRole::Q, TensorRole::K));
                    assert_eq!(
                        (qa.1, qa.2 / group),
                        (kb.1, kb.2),
                        "scores of different heads"
                    );
                    *cov.scores.entry((qa.1, qa.2, qa.3, kb.3)).or_default() += 1;
                }
            }
        }
        _ => {}
    })
    .unwrap_or_else(|e| panic!("{e}"));
    cov
}

/// Whether query row `i` of `w` sees key `j`.
pub fn visible(w: &Workload, i: u64, j: u64) -> bool {
    let position = w.keys() - w.queries() + i;
    w.mask == compiler::Mask::None || !isa::masked(position, j, w.window)
}

/// Every visible score computed exactly once (masked ones at most once:
/// tiles the mask cuts into are computed whole) and every O row stored once.
pub fn assert_exactly_once(cov: &Coverage, w: &Workload) {
    let (b, h, nq, nk) = (w.batch, w.heads, w.queries(), w.keys());
    let seen = cov
        .scores
        .keys()
        .filter(|&&(_, _, i, j)| visible(w, i, j))
        .count() as u64;
    let wanted = (0..nq)
        .map(|i| (0..nk).filter(|&j| visible(w, i, j)).count() as u64)
        .sum::<u64>()
        * b
        * h;
    assert_eq!(seen, wanted, "every visible score computed");
    assert!(
        cov.scores.values().all(|&c| c == 1),
        "a score computed twice"
    );
    assert_eq!(cov.o_rows.len() as u64, b * h * nq, "every O row stored");
    assert!(
        cov.o_rows.values().all(|&c| c == 1),
        "an O row stored twice"
    );
}

pub fn compile(hw: &HwConfig, w: &Workload, s: &DataflowSpec) -> (Plan, Program) {
    let plan = compiler::resolve_plan(hw, w, s).unwrap_or_else(|e| panic!("{e}"));
    let program = compiler::compile(hw, w, &plan).unwrap_or_else(|e| panic!("{e}"));
    (plan, program)
}
