//! Properties over random request streams: exact accounting, one in-order
//! response per request, port limits, fast-forward equivalence.

use super::common::{run, ScriptUser, Scripted};
use proptest::prelude::*;
use sram::{Sram, SramClient};
use std::collections::BTreeMap;

fn stream() -> impl Strategy<Value = Vec<Scripted>> {
    proptest::collection::vec(
        (0u64..40, 0usize..6, 0u64..4096, 1u64..300).prop_map(|(cycle, c, addr, bytes)| Scripted {
            cycle,
            client: SramClient::ALL[c],
            addr,
            bytes,
        }),
        1..60,
    )
}

fn geometry() -> impl Strategy<Value = hwconfig::Sram> {
    (0u32..4, 0u32..3, 1u64..5, 1u64..5, 1u64..5).prop_map(|(b, w, rp, wp, lat)| hwconfig::Sram {
        capacity_bytes: 1 << 16,
        banks: 1 << b,
        bank_width_bytes: 16 << w,
        read_ports_per_bank: rp,
        write_ports_per_bank: wp,
        read_latency_cycles: lat,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_request_gets_one_response_in_order(config in geometry(), script in stream(), capacity in 1usize..6) {
        let mut sram = Sram::new(&config, capacity);
        let mut user = ScriptUser::new(script.clone(), capacity);
        let cycles = run(&mut sram, &mut user, false);
        // `run` checked busy + stalls + idle = total.
        prop_assert_eq!(user.seen.len(), script.len());
        let mut last_tag = BTreeMap::new();
        for seen in &user.seen {
            let latency = if seen.client.is_write() { 1 } else { config.read_latency_cycles };
            prop_assert_eq!(seen.delivered_cycle, seen.response.granted_cycle + latency);
            if let Some(prev) = last_tag.insert(seen.client, seen.response.tag) {
                prop_assert!(prev < seen.response.tag, "responses of a client come in order");
            }
        }
        for client in SramClient::ALL {
            let wanted: u64 = script.iter().filter(|s| s.client == client).map(|s| s.bytes).sum();
            prop_assert_eq!(sram.client_bytes(client), wanted);
        }
        let busy = sram.account_until(cycles).busy_cycles();
        let granted: std::collections::BTreeSet<_> = user.seen.iter().map(|s| s.response.granted_cycle).collect();
        prop_assert!(busy >= granted.len() as u64);
    }

    #[test]
    fn single_chunk_grants_respect_bank_ports(config in geometry(), script in stream()) {
        // Requests clipped to one chunk so each response's grant cycle is the cycle of its only port use.
        let width = config.bank_width_bytes;
        let script: Vec<_> = script
            .into_iter()
            .map(|s| Scripted { addr: s.addr / width * width, bytes: width, ..s })
            .collect();
        let mut sram = Sram::new(&config, 4);
        let mut user = ScriptUser::new(script, 4);
        run(&mut sram, &mut user, false);
        let mut uses: BTreeMap<(u64, u64, bool), u64> = BTreeMap::new();
        for seen in &user.seen {
            let bank = user.script_addr(seen.response.tag) / width % config.banks;
            *uses.entry((seen.response.granted_cycle, bank, seen.client.is_write())).or_default() += 1;
        }
        for ((_, _, is_write), n) in uses {
            let ports = if is_write { config.write_ports_per_bank } else { config.read_ports_per_bank };
            prop_assert!(n <= ports);
        }
    }

    #[test]
    fn fast_forward_changes_nothing(config in geometry(), script in stream()) {
        let spread: Vec<_> = script.iter().map(|s| Scripted { cycle: s.cycle * 97, ..*s }).collect();
        let mut a = Sram::new(&config, 3);
        let mut b = Sram::new(&config, 3);
        let mut ua = ScriptUser::new(spread.clone(), 3);
        let mut ub = ScriptUser::new(spread, 3);
        let ca = run(&mut a, &mut ua, false);
        let cb = run(&mut b, &mut ub, true);
        prop_assert_eq!(ca, cb);
        prop_assert_eq!(&ua.seen, &ub.seen);
        prop_assert_eq!(a.account_until(ca), b.account_until(cb));
    }
}
