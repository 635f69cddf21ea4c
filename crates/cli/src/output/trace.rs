//! Trace sinks: Chrome trace-event JSON for Perfetto (`trace.json`) and
//! per-unit event CSV (`trace_<unit>.csv`). Both stream to a temporary file
//! and appear only when the run finishes.

use super::AtomicFile;
use simkit::{TraceEvent, TraceSink};
use std::io::Write;
use std::path::Path;

/// Writes Chrome trace-event JSON (`docs/units.md`, "Traces"): complete
/// ("X") slices on one track per unit, and more tracks for a unit whose
/// slices overlap (the DMA's in-flight transfers), so no two slices on a
/// track overlap; flow arrows from each signalling instruction to the one
/// its signal released; counter ("C") events. Timestamps are microseconds
/// of core time.
#[derive(Debug)]
pub struct PerfettoSink {
    file: AtomicFile,
    cycles_per_us: f64,
    /// Tracks in order of appearance (tid = index + 1): unit and the end
    /// cycle of its last slice.
    tracks: Vec<(&'static str, u64)>,
    /// Per instruction id, its slice's track and cycles, for flow sources.
    slices: Vec<Option<(usize, u64, u64)>>,
    flows: u64,
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
            slices: Vec::new(),
            flows: 0,
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

    fn ts(&self, cycle: u64) -> f64 {
        cycle as f64 / self.cycles_per_us
    }

    /// The tid of a track of `unit` free from `start` on, which now ends at
    /// `end`: the unit's first such track, or a new one ("dma 2", ...).
    fn track(&mut self, unit: &'static str, start: u64, end: u64) -> usize {
        if let Some(i) = self
            .tracks
            .iter()
            .position(|&(u, last_end)| u == unit && last_end <= start)
        {
            self.tracks[i].1 = end;
            return i + 1;
        }
        let lane = self.tracks.iter().filter(|(u, _)| *u == unit).count() + 1;
        self.tracks.push((unit, end));
        let tid = self.tracks.len();
        let name = if lane == 1 {
            unit.to_owned()
        } else {
            format!("{unit} {lane}")
        };
        self.write_line(&format!(
            "{{\"ph\":\"M\",\"pid\":1,\"tid\":{tid},\"ts\":0,\"name\":\"thread_name\",\"args\":{{\"name\":{}}}}}",
            json_string(&name)
        ));
        tid
    }

    /// A flow arrow from the slice of instruction `source` (near its end) to
    /// the slice starting at `ts` on track `tid`.
    fn flow(&mut self, source: u64, tid: usize, ts: f64) {
        let Some(&Some((source_tid, start, end))) = self.slices.get(source as usize) else {
            return;
        };
        self.flows += 1;
        let id = self.flows;
        let source_ts = self.ts(end.saturating_sub(1).max(start));
        self.write_line(&format!(
            "{{\"ph\":\"s\",\"pid\":1,\"tid\":{source_tid},\"ts\":{source_ts},\"name\":\"token\",\"cat\":\"sync\",\"id\":{id}}}"
        ));
        self.write_line(&format!(
            "{{\"ph\":\"f\",\"bp\":\"e\",\"pid\":1,\"tid\":{tid},\"ts\":{ts},\"name\":\"token\",\"cat\":\"sync\",\"id\":{id}}}"
        ));
    }

    pub fn finish(mut self) -> anyhow::Result<()> {
        self.write_line(
            "{\"ph\":\"M\",\"pid\":1,\"tid\":0,\"ts\":0,\"name\":\"process_name\",\"args\":{\"name\":\"flatsim\"}}",
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
        let tid = self.track(event.unit, event.start_cycle, event.end_cycle);
        let ts = self.ts(event.start_cycle);
        let dur = self.ts(event.end_cycle) - ts;
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
        for &source in event.released_by {
            self.flow(source, tid, ts);
        }
        if let Some(id) = event.id.and_then(|id| usize::try_from(id).ok()) {
            if self.slices.len() <= id {
                self.slices.resize(id + 1, None);
            }
            self.slices[id] = Some((tid, event.start_cycle, event.end_cycle));
        }
    }

    fn counter(&mut self, name: &'static str, cycle: u64, value: f64) {
        // JSON has no NaN or infinity.
        if !value.is_finite() {
            return;
        }
        let ts = self.ts(cycle);
        self.write_line(&format!(
            "{{\"ph\":\"C\",\"pid\":1,\"tid\":0,\"ts\":{ts},\"name\":{},\"args\":{{\"value\":{value}}}}}",
            json_string(name)
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
                id: None,
                released_by: &[],
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
            id: None,
            released_by: &[],
        });
        sink.record(&TraceEvent {
            unit: "pe_array",
            name: "gemm",
            start_cycle: 1,
            end_cycle: 9,
            args: &[],
            id: None,
            released_by: &[],
        });
        sink.finish().unwrap();
        let text = std::fs::read_to_string(dir.path().join("trace_dma.csv")).unwrap();
        assert_eq!(text, "start_cycle,end_cycle,name,args\n1,9,load,bytes=64\n");
        assert!(!dir.path().join("trace_pe_array.csv").exists());
    }
}
