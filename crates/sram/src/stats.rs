use crate::SramClient;
use simkit::StatDecl;

/// The SRAM's own statistics, besides the cycle account
/// ([`simkit::ACCOUNT_STATS`]) and the per-client ones
/// ([`SRAM_CLIENT_STATS`]).
pub const SRAM_STATS: [StatDecl; 3] = [
    StatDecl {
        name: "read_bytes",
        unit: "bytes",
        description: "Bytes read from the scratchpad, all clients.",
    },
    StatDecl {
        name: "write_bytes",
        unit: "bytes",
        description: "Bytes written to the scratchpad, all clients.",
    },
    StatDecl {
        name: "peak_live_bytes",
        unit: "bytes",
        description: "Largest number of bytes of live regions at any time.",
    },
];

macro_rules! client_stats {
    ($($client:literal),+) => {
        /// Per client (in [`SramClient::ALL`] order): bytes moved and conflict cycles.
        pub const SRAM_CLIENT_STATS: [[StatDecl; 2]; SramClient::ALL.len()] = [$([
            StatDecl {
                name: concat!($client, "_bytes"),
                unit: "bytes",
                description: concat!("Bytes moved for client ", $client, "."),
            },
            StatDecl {
                name: concat!($client, "_conflict_cycles"),
                unit: "cycles",
                description: concat!("Cycles in which a chunk of client ", $client, " waited for a bank port."),
            },
        ]),+];
    };
}

client_stats!(
    "pe_read",
    "pe_write",
    "vector_read",
    "vector_write",
    "dma_drain",
    "dma_fill"
);

pub(crate) fn client_stat_decls() -> &'static [[StatDecl; 2]; SramClient::ALL.len()] {
    &SRAM_CLIENT_STATS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_stats_follow_client_names() {
        for (client, [bytes, conflicts]) in SramClient::ALL.iter().zip(&SRAM_CLIENT_STATS) {
            assert_eq!(bytes.name, format!("{}_bytes", client.name()));
            assert_eq!(conflicts.name, format!("{}_conflict_cycles", client.name()));
        }
    }
}
