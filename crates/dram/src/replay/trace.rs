//! Streaming reader of `addr,is_write` request traces: one line at a time,
//! so memory does not grow with the trace.

use std::fmt;
use std::io::BufRead;

/// One request of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceRequest {
    /// 1-based line in the file.
    pub line: usize,
    pub addr: u64,
    pub is_write: bool,
}

/// A malformed or unreadable trace, at a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for TraceError {}

/// The header every trace starts with.
pub const TRACE_HEADER: &str = "addr,is_write";

/// Iterates the requests of a CSV trace: header `addr,is_write`, then one
/// request per line, `addr` in decimal or `0x` hexadecimal and `is_write`
/// 0 or 1. Blank lines are skipped. The first error ends the iteration.
#[derive(Debug)]
pub struct TraceReader<R> {
    reader: R,
    line: usize,
    buffer: Vec<u8>,
    header_seen: bool,
    failed: bool,
}

impl<R: BufRead> TraceReader<R> {
    pub fn new(reader: R) -> Self {
        TraceReader {
            reader,
            line: 0,
            buffer: Vec::new(),
            header_seen: false,
            failed: false,
        }
    }

    fn error(&mut self, reason: String) -> Option<Result<TraceRequest, TraceError>> {
        self.failed = true;
        Some(Err(TraceError {
            line: self.line,
            reason,
        }))
    }
}

fn parse_addr(text: &str) -> Result<u64, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse::<u64>(),
    };
    parsed.map_err(|_| format!("address `{text}` is not a decimal or 0x-hexadecimal 64-bit number"))
}

impl<R: BufRead> Iterator for TraceReader<R> {
    type Item = Result<TraceRequest, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            self.buffer.clear();
            self.line += 1;
            // Bytes, then one UTF-8 check: cheaper than `read_line`.
            match self.reader.read_until(b'\n', &mut self.buffer) {
                Ok(0) => {
                    if !self.header_seen {
                        return self.error(format!(
                            "the trace is empty; it must start with the header `{TRACE_HEADER}`"
                        ));
                    }
                    return None;
                }
                Ok(_) => {}
                Err(err) => return self.error(format!("cannot read: {err}")),
            }
            let Ok(text) = std::str::from_utf8(&self.buffer) else {
                return self.error("cannot read: stream did not contain valid UTF-8".to_string());
            };
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            if !self.header_seen {
                let text = text.trim_start_matches('\u{feff}');
                if text.replace(' ', "") != TRACE_HEADER {
                    let found = text.to_string();
                    return self.error(format!(
                        "expected the header `{TRACE_HEADER}`, found `{found}`"
                    ));
                }
                self.header_seen = true;
                continue;
            }
            let Some((addr, flag)) = text.split_once(',').filter(|(_, flag)| !flag.contains(','))
            else {
                let found = text.to_string();
                return self.error(format!(
                    "expected two fields `addr,is_write`, found `{found}`"
                ));
            };
            let (addr, flag) = (addr.trim(), flag.trim());
            let addr = match parse_addr(addr) {
                Ok(addr) => addr,
                Err(reason) => return self.error(reason),
            };
            let is_write = match flag {
                "0" => false,
                "1" => true,
                other => {
                    let reason = format!("is_write must be 0 or 1, found `{other}`");
                    return self.error(reason);
                }
            };
            return Some(Ok(TraceRequest {
                line: self.line,
                addr,
                is_write,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<TraceRequest, TraceError>> {
        TraceReader::new(text.as_bytes()).collect()
    }

    #[test]
    fn reads_decimal_and_hex_with_blank_lines() {
        let got = read("addr,is_write\n0x40,0\r\n\n128,1\n");
        assert_eq!(
            got,
            vec![
                Ok(TraceRequest {
                    line: 2,
                    addr: 64,
                    is_write: false
                }),
                Ok(TraceRequest {
                    line: 4,
                    addr: 128,
                    is_write: true
                }),
            ]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = |text: &str| read(text).into_iter().find_map(Result::err).unwrap();
        assert_eq!(err("addr,is_write\n64,0\n64,2\n").line, 3);
        assert!(err("addr,is_write\n64,0\n64,2\n").reason.contains("`2`"));
        assert_eq!(err("addr,is_write\n0xZZ,0\n").line, 2);
        assert!(err("addr,is_write\n64\n").reason.contains("two fields"));
        assert!(err("addr,is_write\n64,0,1\n").reason.contains("two fields"));
        let header = err("address,write\n64,0\n");
        assert_eq!(header.line, 1);
        assert!(header.reason.contains("addr,is_write"));
        assert!(err("").reason.contains("empty"));
        assert!(err("addr,is_write\n-5,0\n").reason.contains("-5"));
    }

    #[test]
    fn invalid_utf8_is_an_error_at_its_line() {
        let got: Vec<_> = TraceReader::new(&b"addr,is_write\n64,0\n\xff,0\n64,0\n"[..]).collect();
        assert_eq!(got.len(), 2);
        let err = got[1].clone().unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.reason.contains("UTF-8"), "{}", err.reason);
    }

    #[test]
    fn stops_after_the_first_error() {
        let got = read("addr,is_write\nx,0\n64,0\n");
        assert_eq!(got.len(), 1);
    }
}
