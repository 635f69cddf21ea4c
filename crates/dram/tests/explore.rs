mod common;
use common::*;
use dram::workload::WorkloadKind::*;

#[test]
#[ignore]
fn explore() {
    for (kind, n, k) in [
        (SeqRead, 100_000, None),
        (RandRead, 100_000, None),
        (SeqRead, 20_000, Some(1)),
        (RandRead, 20_000, Some(1)),
    ] {
        let mut d = ddr4_reference("RoBaRaCoCh");
        let t = std::time::Instant::now();
        let r = replay_checked(&mut d, &workload(kind, n, 1 << 34), k);
        println!(
            "{kind:?} k={k:?} {:?} bw {:.3} lat {:.2} cycles {}",
            t.elapsed(),
            r.bandwidth_gbps,
            r.avg_read_latency_cycles,
            r.cycles
        );
    }
    let mut d = ddr4_reference("RoRaBaCoChBg");
    let r = replay_checked(&mut d, &workload(SeqRead, 100_000, 1 << 34), None);
    println!("seq bg pct {:.3}", r.pct_of_peak);
    let mut d = ddr4_reference("RoBaRaCoCh");
    let r = replay_checked(&mut d, &workload(OnebankStrideRead, 5000, 1 << 34), None);
    println!("onebank per access {}", r.cycles as f64 / 5000.0);
    for kind in [SeqRead, RandRead, MixedRand2r1w, MixedSeq2r1w] {
        let mut d = hbm2_stack("RoRaBaCoChBg");
        let t = std::time::Instant::now();
        let r = replay_checked(&mut d, &workload(kind, 100_000, 1 << 32), None);
        println!("hbm2 {kind:?} {:?} pct {:.2}", t.elapsed(), r.pct_of_peak);
    }
    for kind in [MixedRand2r1w, MixedSeq2r1w] {
        let mut d = ddr4_reference("RoBaRaCoCh");
        let r = replay_checked(&mut d, &workload(kind, 100_000, 1 << 34), None);
        println!("ddr4 {kind:?} {r}");
    }
}
