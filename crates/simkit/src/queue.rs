use crate::Cycle;
use std::collections::VecDeque;

/// A bounded FIFO whose entries become visible `latency_cycles` after they
/// were pushed. Latency is at least one cycle, so an item pushed while ticking
/// cycle `t` is seen by the consumer no earlier than `t + 1`, whatever order
/// the driver ticks the producer and the consumer in.
#[derive(Debug, Clone)]
pub struct TimedQueue<T> {
    capacity: usize,
    latency_cycles: Cycle,
    entries: VecDeque<(Cycle, T)>,
}

impl<T> TimedQueue<T> {
    /// # Panics
    /// If `capacity` is zero or `latency_cycles` is zero: both are wiring
    /// errors of the driver, not user input.
    pub fn new(capacity: usize, latency_cycles: Cycle) -> Self {
        assert!(capacity > 0, "a queue needs room for at least one entry");
        assert!(
            latency_cycles >= 1,
            "a queue has a latency of at least one cycle"
        );
        TimedQueue {
            capacity,
            latency_cycles,
            entries: VecDeque::with_capacity(capacity),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn latency_cycles(&self) -> Cycle {
        self.latency_cycles
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.entries.len() >= self.capacity
    }

    /// Pushes `item` at cycle `now`; gives it back when the queue is full.
    pub fn push(&mut self, now: Cycle, item: T) -> Result<(), T> {
        if self.is_full() {
            return Err(item);
        }
        self.entries.push_back((now + self.latency_cycles, item));
        Ok(())
    }

    /// The head entry, if it is visible at `now`.
    pub fn peek(&self, now: Cycle) -> Option<&T> {
        match self.entries.front() {
            Some((ready, item)) if *ready <= now => Some(item),
            _ => None,
        }
    }

    /// Removes and returns the head entry, if it is visible at `now`.
    pub fn pop(&mut self, now: Cycle) -> Option<T> {
        if self.peek(now).is_some() {
            self.entries.pop_front().map(|(_, item)| item)
        } else {
            None
        }
    }

    /// The cycle at which the head entry becomes visible.
    pub fn next_ready_cycle(&self) -> Option<Cycle> {
        self.entries.front().map(|(ready, _)| *ready)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_is_visible_after_latency() {
        let mut q = TimedQueue::new(2, 3);
        q.push(10, 'a').unwrap();
        assert_eq!(q.peek(12), None);
        assert_eq!(q.next_ready_cycle(), Some(13));
        assert_eq!(q.pop(13), Some('a'));
        assert!(q.is_empty());
    }

    #[test]
    fn refuses_when_full_and_keeps_order() {
        let mut q = TimedQueue::new(2, 1);
        q.push(0, 1).unwrap();
        q.push(0, 2).unwrap();
        assert_eq!(q.push(0, 3), Err(3));
        assert_eq!(q.pop(1), Some(1));
        assert_eq!(q.pop(1), Some(2));
        assert_eq!(q.pop(1), None);
    }

    #[test]
    #[should_panic(expected = "latency of at least one cycle")]
    fn zero_latency_is_a_wiring_error() {
        let _ = TimedQueue::<u8>::new(1, 0);
    }
}
