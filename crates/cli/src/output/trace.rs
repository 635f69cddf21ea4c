//! Trace sinks: Chrome trace-event JSON for Perfetto (`trace.json`) and
//! per-unit event CSV (`trace_<unit>.csv`). Both stream to a temporary file
//! and appear only when the run finishes.

use super::AtomicFile;
use simkit::{TraceEvent, TraceSink};
use std::io::Write;
use std::path::Path;

/// Writes Chrome trace-event JSON: one track (thread) per unit, one
/// complete ("X") slice per event, timestamps in microseconds of core time.
#[derive(Debug)]
pub struct PerfettoSink {
    file: AtomicFile,
    cycles_per_us: f64,
    tracks: Vec<&'static str>,
    first: bool,
    error: Option<std::io::Error>,
}

/// Escapes `text` as the inside of a JSON string.
fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

impl PerfettoSink {
    pub fn create(path: &Path, clock_mhz: f64) -> anyhow::Result<Self> {
        let mut file = AtomicFile::create(path)?;
        file.writer()
            .write_all(b"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")?;
        Ok(PerfettoSink {
            file,
            cycles_per_us: clock_mhz,
            tracks: Vec::new(),
            first: true,
            error: None,
        })
    }

    fn write_line(&mut self, line: &str) {
        if self.error.is_some() {
            return;
        }
        let separator: &[u8] = if self.first { b"" } else { b",\n" };
        self.first = false;
        let writer = self.file.writer();
        if let Err(e) = writer
            .write_all(separator)
            .and_then(|_| writer.write_all(line.as_bytes()))
        {
            self.error = Some(e);
        }
    }

    fn track(&mut self, unit: &'static str) -> usize {
        if let Some(i) = self.tracks.iter().position(|t| *t == unit) {
            return i + 1;
        }
        self.tracks.push(unit);
        let tid = self.tracks.len();
        self.write_line(&format!(
            "{{\"ph\":\"M\",\"pid\":1,\"tid\":{tid},\"name\":\"thread_name\",\"args\":{{\"name\":{}}}}}",
            json_string(unit)
        ));
        tid
    }

    pub fn finish(mut self) -> anyhow::Result<()> {
        self.write_line(
            "{\"ph\":\"M\",\"pid\":1,\"name\":\"process_name\",\"args\":{\"name\":\"flatsim\"}}",
        );
        if let Some(e) = self.error.take() {
            return Err(e.into());
        }
        self.file.writer().write_all(b"\n]}\n")?;
        self.file.commit()
    }
}

impl TraceSink for PerfettoSink {
    fn record(&mut self, event: &TraceEvent<'_>) {
        let tid = self.track(event.unit);
        let ts = event.start_cycle as f64 / self.cycles_per_us;
        let dur = (event.end_cycle - event.start_cycle) as f64 / self.cycles_per_us;
        let args: Vec<String> = std::iter::once(format!(
            "\"cycles\":\"{}..{}\"",
            event.start_cycle, event.end_cycle
        ))
        .chain(
            event
                .args
                .iter()
                .map(|(k, v)| format!("{}:{}", json_string(k), json_string(v))),
        )
        .collect();
        self.write_line(&format!(
            "{{\"ph\":\"X\",\"pid\":1,\"tid\":{tid},\"name\":{},\"ts\":{ts},\"dur\":{dur},\"args\":{{{}}}}}",
            json_string(event.name),
            args.join(",")
        ));
    }
}

/// Writes `trace_<unit>.csv` (`start_cycle,end_cycle,name,args`) for each selected unit.
#[derive(Debug)]
pub struct CsvTraceSink {
    files: Vec<(&'static str, csv::Writer<AtomicFile>)>,
    error: Option<anyhow::Error>,
}

impl CsvTraceSink {
    pub fn create(dir: &Path, units: &[&'static str]) -> anyhow::Result<Self> {
        let mut files = Vec::new();
        for unit in units {
            let mut writer = csv::Writer::from_writer(AtomicFile::create(
                &dir.join(format!("trace_{unit}.csv")),
            )?);
            writer.write_record(["start_cycle", "end_cycle", "name", "args"])?;
            files.push((*unit, writer));
        }
        Ok(CsvTraceSink { files, error: None })
    }

    pub fn finish(mut self) -> anyhow::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        for (_, writer) in self.files.drain(..) {
            writer
                .into_inner()
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .commit()?;
        }
        Ok(())
    }
}

impl TraceSink for CsvTraceSink {
    fn record(&mut self, event: &TraceEvent<'_>) {
        let Some((_, writer)) = self.files.iter_mut().find(|(unit, _)| *unit == event.unit) else {
            return;
        };
        let args: Vec<String> = event.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let record = [
            event.start_cycle.to_string(),
            event.end_cycle.to_string(),
            event.name.to_owned(),
            args.join(" "),
        ];
        if let (Err(e), None) = (writer.write_record(&record), &self.error) {
            self.error = Some(e.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfetto_json_parses_with_one_track_per_unit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trace.json");
        let mut sink = PerfettoSink::create(&path, 1000.0).unwrap();
        let args = [("op", "gemm \"A\"".to_owned())];
        for (unit, start) in [("pe_array", 0), ("dma", 5), ("pe_array", 2000)] {
            sink.record(&TraceEvent {
                unit,
                name: "x",
                start_cycle: start,
                end_cycle: start + 1000,
                args: &args,
            });
        }
        assert!(!path.exists());
        sink.finish().unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let events = json["traceEvents"].as_array().unwrap();
        let slices: Vec<_> = events.iter().filter(|e| e["ph"] == "X").collect();
        assert_eq!(slices.len(), 3);
        assert_eq!(slices[2]["ts"], 2.0);
        assert_eq!(slices[2]["dur"], 1.0);
        assert_eq!(slices[0]["tid"], slices[2]["tid"]);
        assert_ne!(slices[0]["tid"], slices[1]["tid"]);
        assert_eq!(slices[0]["args"]["op"], "gemm \"A\"");
    }

    #[test]
    fn csv_trace_keeps_selected_units() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = CsvTraceSink::create(dir.path(), &["dma"]).unwrap();
        sink.record(&TraceEvent {
            unit: "dma",
            name: "load",
            start_cycle: 1,
            end_cycle: 9,
            args: &[("bytes", "64".into())],
        });
        sink.record(&TraceEvent {
            unit: "pe_array",
            name: "gemm",
            start_cycle: 1,
            end_cycle: 9,
            args: &[],
        });
        sink.finish().unwrap();
        let text = std::fs::read_to_string(dir.path().join("trace_dma.csv")).unwrap();
        assert_eq!(text, "start_cycle,end_cycle,name,args\n1,9,load,bytes=64\n");
        assert!(!dir.path().join("trace_pe_array.csv").exists());
    }
}
