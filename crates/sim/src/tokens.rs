use isa::{TokenId, Wait};

/// The sync-token counters of a running program (isa crate docs): each
/// token counts the completions of its signallers.
#[derive(Debug, Clone)]
pub struct TokenBoard {
    counts: Vec<u64>,
    /// Per token, the signallers in signal order (traced runs only): the
    /// n-th one is what releases a wait `token >= n`.
    history: Option<Vec<Vec<u64>>>,
}

impl TokenBoard {
    pub fn new(tokens: usize) -> Self {
        TokenBoard {
            counts: vec![0; tokens],
            history: None,
        }
    }

    /// A board that remembers who signalled, for [`TokenBoard::releasers`].
    pub fn with_history(tokens: usize) -> Self {
        TokenBoard {
            history: Some(vec![Vec::new(); tokens]),
            ..TokenBoard::new(tokens)
        }
    }

    /// The signallers whose signals satisfied `waits` (with history only).
    pub fn releasers(&self, waits: &[Wait]) -> Vec<u64> {
        let Some(history) = &self.history else {
            return Vec::new();
        };
        waits
            .iter()
            .filter_map(|w| {
                let index = usize::try_from(w.count.checked_sub(1)?).ok()?;
                history.get(w.token.0 as usize)?.get(index).copied()
            })
            .collect()
    }

    /// Whether every wait `token >= count` holds.
    pub fn satisfied(&self, waits: &[Wait]) -> bool {
        waits.iter().all(|w| {
            self.counts
                .get(w.token.0 as usize)
                .is_some_and(|&c| c >= w.count)
        })
    }

    /// Counts one signal of each of `tokens` by instruction `by`.
    pub fn signal(&mut self, tokens: &[TokenId], by: u64) {
        for token in tokens {
            if let Some(count) = self.counts.get_mut(token.0 as usize) {
                *count += 1;
            }
            if let Some(signallers) = self
                .history
                .as_mut()
                .and_then(|h| h.get_mut(token.0 as usize))
            {
                signallers.push(by);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_hold_after_enough_signals() {
        let mut board = TokenBoard::new(2);
        let wait = [Wait {
            token: TokenId(1),
            count: 2,
        }];
        assert!(board.satisfied(&[]));
        assert!(!board.satisfied(&wait));
        board.signal(&[TokenId(1)], 0);
        assert!(!board.satisfied(&wait));
        board.signal(&[TokenId(1), TokenId(0)], 1);
        assert!(board.satisfied(&wait));
        assert!(
            !board.satisfied(&[Wait {
                token: TokenId(9),
                count: 1
            }]),
            "unknown tokens never hold"
        );
    }

    #[test]
    fn the_nth_signaller_releases_a_wait_for_n() {
        let mut board = TokenBoard::with_history(1);
        for by in [7, 8, 9] {
            board.signal(&[TokenId(0)], by);
        }
        let wait = |count| Wait {
            token: TokenId(0),
            count,
        };
        assert_eq!(board.releasers(&[wait(2)]), vec![8]);
        assert_eq!(board.releasers(&[wait(0), wait(3)]), vec![9]);
        assert!(TokenBoard::new(1).releasers(&[wait(1)]).is_empty());
    }
}
