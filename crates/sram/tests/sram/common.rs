//! A scripted SRAM user and a small driver loop for the SRAM tests.

use simkit::{Component, Cycle, TimedQueue};
use sram::{exchange, Sram, SramClient, SramRequest, SramResponse, SramUser};

/// One scripted request: pushed by `client` while ticking `cycle`.
#[derive(Clone, Copy, Debug)]
pub struct Scripted {
    pub cycle: Cycle,
    pub client: SramClient,
    pub addr: u64,
    pub bytes: u64,
}

/// A response as the user saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub client: SramClient,
    pub response: SramResponse,
    pub delivered_cycle: Cycle,
}

/// Pushes its script on time (later when its queue is full) and records
/// every response.
#[derive(Debug)]
pub struct ScriptUser {
    script: Vec<Scripted>,
    next: usize,
    queues: Vec<TimedQueue<SramRequest>>,
    pub seen: Vec<Seen>,
}

impl ScriptUser {
    pub fn new(mut script: Vec<Scripted>, queue_capacity: usize) -> Self {
        script.sort_by_key(|s| s.cycle);
        ScriptUser {
            script,
            next: 0,
            queues: SramClient::ALL
                .iter()
                .map(|_| TimedQueue::new(queue_capacity, 1))
                .collect(),
            seen: Vec::new(),
        }
    }

    /// Address of the request tagged `tag`.
    pub fn script_addr(&self, tag: u64) -> u64 {
        self.script[tag as usize].addr
    }

    pub fn done(&self) -> bool {
        self.seen.len() == self.script.len()
    }
}

impl Component for ScriptUser {
    fn tick(&mut self, now: Cycle) {
        while let Some(s) = self.script.get(self.next) {
            if s.cycle > now {
                break;
            }
            let request = SramRequest::range(self.next as u64, s.addr, s.bytes);
            if self.queues[s.client as usize].push(now, request).is_err() {
                break;
            }
            self.next += 1;
        }
    }

    fn next_event(&self, now: Cycle) -> Option<Cycle> {
        let script = self.script.get(self.next).map(|s| s.cycle.max(now));
        let queued = self
            .queues
            .iter()
            .filter_map(|q| q.next_ready_cycle())
            .min();
        script.into_iter().chain(queued).min().map(|c| c.max(now))
    }
}

impl SramUser for ScriptUser {
    fn sram_clients(&self) -> &'static [SramClient] {
        &SramClient::ALL
    }

    fn sram_requests(&mut self, client: SramClient) -> &mut TimedQueue<SramRequest> {
        &mut self.queues[client as usize]
    }

    fn deliver_sram_response(&mut self, client: SramClient, response: SramResponse, now: Cycle) {
        self.seen.push(Seen {
            client,
            response,
            delivered_cycle: now,
        });
    }
}

/// Runs until every scripted request has its response; returns the cycle
/// count (one past the last cycle ticked). With `fast_forward` the loop jumps
/// to the next event instead of ticking every cycle.
pub fn run(sram: &mut Sram, user: &mut ScriptUser, fast_forward: bool) -> Cycle {
    let mut now = 0;
    while !user.done() {
        assert!(now < 1_000_000, "SRAM test did not finish");
        exchange(now, sram, user);
        user.tick(now);
        sram.tick(now);
        now += 1;
        if fast_forward && !user.done() {
            let next = [sram.next_event(now), user.next_event(now)]
                .into_iter()
                .flatten()
                .min()
                .expect("work is left, so some component has an event");
            now = next;
        }
    }
    let account = sram.account_until(now);
    account.check(now).expect("busy + stalls + idle = total");
    now
}

pub fn config(banks: u64, ports: u64, read_latency_cycles: u64) -> hwconfig::Sram {
    hwconfig::Sram {
        capacity_bytes: 1 << 20,
        banks,
        bank_width_bytes: 64,
        read_ports_per_bank: ports,
        write_ports_per_bank: ports,
        read_latency_cycles,
    }
}
