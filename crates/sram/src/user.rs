use crate::{Sram, SramClient, SramRequest, SramResponse};
use simkit::{Cycle, TimedQueue};

/// A unit that drives one or more SRAM clients: it owns an outbound request
/// queue per client (latency ≥ 1) and takes every response the SRAM delivers.
pub trait SramUser {
    /// The clients this unit drives.
    fn sram_clients(&self) -> &'static [SramClient];

    /// The outbound request queue of `client`.
    fn sram_requests(&mut self, client: SramClient) -> &mut TimedQueue<SramRequest>;

    /// Takes a response visible at `now`. A unit bounds its outstanding
    /// requests, so it always has room.
    fn deliver_sram_response(&mut self, client: SramClient, response: SramResponse, now: Cycle);
}

/// The driver's per-cycle link between the SRAM and one of its users, called
/// at the start of cycle `now` before any component is ticked: moves the
/// user's visible requests into the SRAM's inboxes (as far as they have room)
/// and delivers the SRAM's visible responses. Because it runs outside the
/// ticks and every queue has a latency of at least one cycle, the order in
/// which the driver then ticks the components does not matter.
///
/// Returns whether anything moved: the user then has input this cycle (a
/// response, or room in a request queue) and must be ticked.
#[inline]
pub fn exchange<U: SramUser + ?Sized>(now: Cycle, sram: &mut Sram, user: &mut U) -> bool {
    let mut moved = false;
    for &client in user.sram_clients() {
        moved |= sram.accept(client, user.sram_requests(client), now) > 0;
        while let Some(response) = sram.responses(client).pop(now) {
            user.deliver_sram_response(client, response, now);
            moved = true;
        }
    }
    moved
}
