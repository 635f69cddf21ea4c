//! Decoder workloads at full size, from the census (no simulation): a
//! causal mask skips the blocks it hides, grouped KV heads are read once
//! per group, and decode reads the KV cache once.

use compiler::{Dataflow, DataflowSpec, Mask, Phase, Workload, WorkloadFlags};
use hwconfig::HwConfig;

fn hw(preset: &str) -> HwConfig {
    HwConfig::parse(preset, hwconfig::builtin_preset(preset).unwrap(), &[]).unwrap()
}

fn llama(flags: WorkloadFlags) -> Workload {
    Workload::load_with("llama3-8b", &flags).unwrap()
}

/// (MACs, DRAM bytes) of the fixed flash plan.
fn flash(hw: &HwConfig, w: &Workload) -> (u64, u64) {
    let plan = compiler::resolve_plan(hw, w, &DataflowSpec::new(Dataflow::Flash)).unwrap();
    let c = compiler::census(hw, w, &plan);
    (c.macs(), c.dram_read_bytes + c.dram_write_bytes)
}

fn prefill(n: u64, mask: Mask, window: Option<u64>, kv_heads: Option<u64>) -> Workload {
    llama(WorkloadFlags {
        seq_len: Some(n),
        mask: Some(mask),
        window: Some(window),
        kv_heads,
        ..WorkloadFlags::default()
    })
}

#[test]
fn causal_flash_skips_the_masked_half() {
    let edge = hw("edge");
    let (full, _) = flash(&edge, &prefill(4096, Mask::None, None, None));
    let (causal, _) = flash(&edge, &prefill(4096, Mask::Causal, None, None));
    // Blocks of 32 keys: 128·129/2 of 128² blocks are computed.
    assert_eq!(causal * 2 * 128, full * 129);
    assert!(causal * 10 <= full * 6);
}

#[test]
fn a_window_computes_only_its_band() {
    let edge = hw("edge");
    let (causal, _) = flash(&edge, &prefill(8192, Mask::Causal, None, None));
    let (window, _) = flash(&edge, &prefill(8192, Mask::Causal, Some(512), None));
    assert!(window * 4 <= causal, "{window} vs {causal}");
}

#[test]
fn grouped_kv_heads_are_read_once_per_group() {
    let edge = hw("edge");
    let (_, mha) = flash(&edge, &prefill(4096, Mask::None, None, Some(32)));
    let (_, gqa) = flash(&edge, &prefill(4096, Mask::None, None, Some(8)));
    assert!(gqa * 100 <= mha * 55, "{gqa} vs {mha}");
}

#[test]
fn decode_reads_the_cache_once() {
    let cloud = hw("cloud");
    let w = llama(WorkloadFlags {
        batch: Some(8),
        phase: Some(Phase::Decode),
        kv_len: Some(8192),
        ..WorkloadFlags::default()
    });
    let eb = cloud.core.element_bytes;
    let kv = 2 * w.batch * w.kv_heads * w.keys() * w.head_dim * eb;
    let q_and_o = 2 * w.batch * w.heads * w.queries() * w.head_dim * eb;
    for dataflow in [Dataflow::Flash, Dataflow::Flat, Dataflow::Unfused] {
        let plan = compiler::resolve_plan(&cloud, &w, &DataflowSpec::new(dataflow)).unwrap();
        let c = compiler::census(&cloud, &w, &plan);
        let bytes = c.dram_read_bytes + c.dram_write_bytes;
        let want = kv + q_and_o;
        assert!(
            bytes * 100 <= want * 115 && bytes >= want,
            "{}: {bytes} bytes, KV + Q + O = {want}",
            plan.label()
        );
    }
}
