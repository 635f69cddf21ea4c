use isa::{TokenId, Wait};

/// The sync-token counters of a running program (isa crate docs): each
/// token counts the completions of its signallers.
#[derive(Debug, Clone)]
pub struct TokenBoard {
    counts: Vec<u64>,
}

impl TokenBoard {
    pub fn new(tokens: usize) -> Self {
        TokenBoard {
            counts: vec![0; tokens],
        }
    }

    /// Whether every wait `token >= count` holds.
    pub fn satisfied(&self, waits: &[Wait]) -> bool {
        waits.iter().all(|w| {
            self.counts
                .get(w.token.0 as usize)
                .is_some_and(|&c| c >= w.count)
        })
    }

    pub fn signal(&mut self, tokens: &[TokenId]) {
        for token in tokens {
            if let Some(count) = self.counts.get_mut(token.0 as usize) {
                *count += 1;
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
        board.signal(&[TokenId(1)]);
        assert!(!board.satisfied(&wait));
        board.signal(&[TokenId(1), TokenId(0)]);
        assert!(board.satisfied(&wait));
        assert!(
            !board.satisfied(&[Wait {
                token: TokenId(9),
                count: 1
            }]),
            "unknown tokens never hold"
        );
    }
}
