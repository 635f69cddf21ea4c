//! Properties over random transfers: exact accounting for every unit, every
//! byte moved once, bursts as the splitting rule says, fast-forward
//! equivalence.

use super::common::{engine, run, sram_config, Opaque};
use dma::{Direction, DmaJob};
use proptest::prelude::*;
use sram::{Sram, SramClient};

fn jobs() -> impl Strategy<Value = Vec<(u64, DmaJob)>> {
    proptest::collection::vec(
        (
            0u64..300,
            any::<bool>(),
            0u64..10_000,
            1u64..6,
            1u64..300,
            0u64..200,
            0u64..50_000,
        ),
        1..6,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(
                |(id, (at, store, dram_addr, rows, row_bytes, gap, sram_addr))| {
                    let direction = if store {
                        Direction::Store
                    } else {
                        Direction::Load
                    };
                    let job = DmaJob {
                        id: id as u64,
                        direction,
                        dram_addr,
                        rows,
                        row_bytes,
                        dram_stride_bytes: row_bytes + gap,
                        sram_addr,
                    };
                    (at, job)
                },
            )
            .collect()
    })
}

/// Bursts of a job: per row, the 64-byte DRAM blocks it touches.
fn bursts(job: &DmaJob) -> u64 {
    (0..job.rows)
        .map(|r| {
            let start = job.dram_addr + r * job.dram_stride_bytes;
            (start + job.row_bytes - 1) / 64 - start / 64 + 1
        })
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn transfers_complete_and_account_exactly(
        list in jobs(),
        bytes_per_cycle in 1u64..200,
        latency in 0u64..60,
        queue in 1usize..16,
        max_outstanding in 1u64..40,
        banks in prop_oneof![Just(1u64), Just(4), Just(32)],
        read_latency in 1u64..4,
    ) {
        let port = || dram::BandwidthModel::new(1_000_000_000, bytes_per_cycle * 1_000_000_000, latency, 64, queue);
        let mut sram = Sram::new(&sram_config(banks, 1, read_latency), 8);
        let mut dma = engine(max_outstanding, port(), &sram);
        // `run` checks busy + Σ stalls + idle = total for the engine, the SRAM and DRAM.
        let a = run(&mut dma, &mut sram, list.clone(), false);
        for direction in Direction::ALL {
            let of = |j: &&(u64, DmaJob)| j.1.direction == direction;
            prop_assert_eq!(dma.bytes(direction), list.iter().filter(of).map(|j| j.1.bytes()).sum::<u64>());
            prop_assert_eq!(dma.bursts(direction), list.iter().filter(of).map(|j| bursts(&j.1)).sum::<u64>());
        }
        prop_assert_eq!(sram.client_bytes(SramClient::DmaFill), dma.bytes(Direction::Load));
        prop_assert_eq!(sram.client_bytes(SramClient::DmaDrain), dma.bytes(Direction::Store));
        prop_assert_eq!(dma.port().read_bytes(), dma.bytes(Direction::Load));
        prop_assert_eq!(dma.port().write_bytes(), dma.bytes(Direction::Store));
        for (at, job) in &list {
            prop_assert!(a.done_cycles[job.id as usize] > *at);
        }
        let mut sram2 = Sram::new(&sram_config(banks, 1, read_latency), 8);
        let mut dma2 = engine(max_outstanding, port(), &sram2);
        let b = run(&mut dma2, &mut sram2, list.clone(), true);
        prop_assert_eq!(a.results(), b.results());
        // Knowing completion cycles ahead only saves ticks.
        let mut sram3 = Sram::new(&sram_config(banks, 1, read_latency), 8);
        let mut dma3 = engine(max_outstanding, Opaque(port()), &sram3);
        let c = run(&mut dma3, &mut sram3, list, true);
        prop_assert_eq!(a.results(), c.results());
    }
}
