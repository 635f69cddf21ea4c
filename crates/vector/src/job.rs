use crate::OpMix;
use sram::SramSpan;

/// One softmax operation for the vector unit: `step` over a `rows` × `cols`
/// tile, reading `inputs` and writing `outputs` in the scratchpad. The
/// driver translates a vector instruction into a job; the unit does not know
/// the ISA. The cost depends on `step`, `rows` and `cols` only; the spans
/// say what is moved (the tile and any per-row vectors, in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorJob {
    /// Chosen by the driver; reported back when the job is done.
    pub id: u64,
    /// The element operations, which set the cost.
    pub ops: OpMix,
    pub rows: u64,
    pub cols: u64,
    pub inputs: Vec<SramSpan>,
    pub outputs: Vec<SramSpan>,
}

impl VectorJob {
    pub fn input_bytes(&self) -> u64 {
        self.inputs.iter().map(|s| s.bytes).sum()
    }

    pub fn output_bytes(&self) -> u64 {
        self.outputs.iter().map(|s| s.bytes).sum()
    }
}

/// A position in a list of spans, handed out as request-sized pieces.
/// Spans that continue one another (a tile stored row after row) are read
/// as one: a request never stops at a boundary the memory does not have.
#[derive(Clone, Debug, Default)]
pub(crate) struct SpanCursor {
    spans: Vec<SramSpan>,
    span: usize,
    offset: u64,
}

impl SpanCursor {
    pub(crate) fn new(mut spans: Vec<SramSpan>) -> Self {
        spans.retain(|s| s.bytes > 0);
        spans.dedup_by(|next, run| {
            let continues = run.end() == next.addr;
            if continues {
                run.bytes += next.bytes;
            }
            continues
        });
        SpanCursor {
            spans,
            span: 0,
            offset: 0,
        }
    }

    /// The next piece of at most `max_bytes` that does not cross a multiple
    /// of `align_bytes`.
    pub(crate) fn peek(&self, max_bytes: u64, align_bytes: u64) -> Option<SramSpan> {
        let span = self.spans.get(self.span)?;
        let addr = span.addr + self.offset;
        let left = span.bytes - self.offset;
        let bytes = left.min(max_bytes).min(align_bytes - addr % align_bytes);
        Some(SramSpan::new(addr, bytes))
    }

    pub(crate) fn advance(&mut self, bytes: u64) {
        self.offset += bytes;
        if self
            .spans
            .get(self.span)
            .is_some_and(|s| self.offset == s.bytes)
        {
            self.span += 1;
            self.offset = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_splits_spans_into_pieces() {
        let mut c = SpanCursor::new(vec![
            SramSpan::new(0, 0),
            SramSpan::new(100, 10),
            SramSpan::new(500, 4),
        ]);
        assert_eq!(c.peek(4, 64), Some(SramSpan::new(100, 4)));
        c.advance(4);
        assert_eq!(c.peek(64, 64), Some(SramSpan::new(104, 6)));
        c.advance(6);
        assert_eq!(c.peek(64, 32), Some(SramSpan::new(500, 4)));
        c.advance(2);
        assert_eq!(c.peek(64, 4), Some(SramSpan::new(502, 2)));
        c.advance(2);
        assert_eq!(c.peek(64, 64), None);
    }

    #[test]
    fn contiguous_spans_read_as_one() {
        let mut c = SpanCursor::new(vec![
            SramSpan::new(0, 64),
            SramSpan::new(64, 64),
            SramSpan::new(128, 0),
            SramSpan::new(128, 32),
            SramSpan::new(192, 8),
        ]);
        assert_eq!(c.peek(1024, 1024), Some(SramSpan::new(0, 160)));
        c.advance(160);
        assert_eq!(c.peek(1024, 1024), Some(SramSpan::new(192, 8)));
    }
}
