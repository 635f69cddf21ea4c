/// A point in simulated time, in cycles of the clock of whoever holds it.
pub type Cycle = u64;

/// A unit that the driver advances in time.
///
/// The driver calls [`Component::tick`] once for every cycle it simulates and
/// may skip cycles in which no component can change state: it asks every
/// component for [`Component::next_event`] and jumps to the minimum. A
/// component must therefore be able to account for the skipped cycles itself
/// (typically by remembering the state it was in and charging the gap to it
/// when it is ticked again).
pub trait Component {
    /// Advances the component through cycle `now`.
    fn tick(&mut self, now: Cycle);

    /// The earliest cycle `>= now` at which ticking this component could change
    /// its state or its outputs, or `None` when it will not change until an
    /// input arrives from outside.
    fn next_event(&self, now: Cycle) -> Option<Cycle>;
}
