//! `summary.csv`: one row per run (design §8). The column list is part of
//! the command-line contract; stall columns count PE-array cycles.

use super::number;

pub const SUMMARY_COLUMNS: &[&str] = &[
    "hw",
    "workload",
    "batch",
    "heads",
    "seq_len",
    "head_dim",
    "kv_heads",
    "mask",
    "window",
    "phase",
    "query_len",
    "kv_len",
    "dataflow",
    "gran",
    "rows",
    "cols",
    "cycles",
    "seconds",
    "pe_util",
    "vector_util",
    "dram_read_bytes",
    "dram_write_bytes",
    "dram_bw_util",
    "sram_peak_bytes",
    "energy_pj",
    "stall_wait_token",
    "stall_sram_bank_conflict",
    "stall_dram",
    "stall_other",
    "max_abs_error",
];

/// One run. `None` prints as an empty cell (e.g. attention columns of a GEMM).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SummaryRow {
    pub hw: String,
    pub workload: Option<String>,
    pub batch: Option<u64>,
    pub heads: Option<u64>,
    pub seq_len: Option<u64>,
    pub head_dim: Option<u64>,
    pub kv_heads: Option<u64>,
    pub mask: Option<String>,
    /// Empty when unlimited (and for GEMM rows).
    pub window: Option<u64>,
    pub phase: Option<String>,
    pub query_len: Option<u64>,
    /// Empty in prefill.
    pub kv_len: Option<u64>,
    pub dataflow: String,
    pub gran: Option<String>,
    pub rows: Option<u64>,
    pub cols: Option<u64>,
    pub cycles: u64,
    pub seconds: f64,
    pub pe_util: f64,
    pub vector_util: Option<f64>,
    pub dram_read_bytes: Option<u64>,
    pub dram_write_bytes: Option<u64>,
    pub dram_bw_util: Option<f64>,
    pub sram_peak_bytes: Option<u64>,
    pub energy_pj: f64,
    pub stall_wait_token: u64,
    pub stall_sram_bank_conflict: u64,
    pub stall_dram: u64,
    pub stall_other: u64,
    pub max_abs_error: Option<f64>,
}

fn cell<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn float_cell(value: Option<f64>) -> String {
    value.map(number).unwrap_or_default()
}

impl SummaryRow {
    /// Cells in the order of [`SUMMARY_COLUMNS`].
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.hw.clone(),
            cell(self.workload.as_ref()),
            cell(self.batch),
            cell(self.heads),
            cell(self.seq_len),
            cell(self.head_dim),
            cell(self.kv_heads),
            cell(self.mask.as_ref()),
            cell(self.window),
            cell(self.phase.as_ref()),
            cell(self.query_len),
            cell(self.kv_len),
            self.dataflow.clone(),
            cell(self.gran.as_ref()),
            cell(self.rows),
            cell(self.cols),
            self.cycles.to_string(),
            number(self.seconds),
            number(self.pe_util),
            float_cell(self.vector_util),
            cell(self.dram_read_bytes),
            cell(self.dram_write_bytes),
            float_cell(self.dram_bw_util),
            cell(self.sram_peak_bytes),
            number(self.energy_pj),
            self.stall_wait_token.to_string(),
            self.stall_sram_bank_conflict.to_string(),
            self.stall_dram.to_string(),
            self.stall_other.to_string(),
            float_cell(self.max_abs_error),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_match_columns() {
        assert_eq!(SummaryRow::default().cells().len(), SUMMARY_COLUMNS.len());
    }

    #[test]
    fn numbers_are_plain_decimals() {
        assert_eq!(number(1e-7), "0.0000001");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(1e20), "100000000000000000000");
    }
}
