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
#[derive(Clone, Debug, Default)]
pub(crate) struct SpanCursor {
    spans: Vec<SramSpan>,
    span: usize,
    offset: u64,
}

impl SpanCursor {
    pub(crate) fn new(spans: Vec<SramSpan>) -> Self {
        let mut cursor = SpanCursor {
            spans,
            span: 0,
            offset: 0,
        };
        cursor.skip_empty();
        cursor
    }

    /// The next piece of at most `max_bytes` that does not cross a multiple
    /// of `align_bytes`, and whether it ends its span.
    pub(crate) fn peek(&self, max_bytes: u64, align_bytes: u64) -> Option<(SramSpan, bool)> {
        let span = self.spans.get(self.span)?;
        let addr = span.addr + self.offset;
        let left = span.bytes - self.offset;
        let bytes = left.min(max_bytes).min(align_bytes - addr % align_bytes);
        Some((SramSpan::new(addr, bytes), bytes == left))
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
            self.skip_empty();
        }
    }

    fn skip_empty(&mut self) {
        while self.spans.get(self.span).is_some_and(|s| s.bytes == 0) {
            self.span += 1;
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
        assert_eq!(c.peek(4, 64), Some((SramSpan::new(100, 4), false)));
        c.advance(4);
        assert_eq!(c.peek(64, 64), Some((SramSpan::new(104, 6), true)));
        c.advance(6);
        assert_eq!(c.peek(64, 32), Some((SramSpan::new(500, 4), true)));
        c.advance(2);
        assert_eq!(c.peek(64, 4), Some((SramSpan::new(502, 2), true)));
        c.advance(2);
        assert_eq!(c.peek(64, 64), None);
    }
}
