use simkit::StatDecl;

/// The DMA engine's statistics besides the cycle account.
pub const DMA_STATS: [StatDecl; 5] = [
    StatDecl {
        name: "jobs",
        unit: "jobs",
        description: "Tile transfers completed.",
    },
    StatDecl {
        name: "load_bursts",
        unit: "bursts",
        description: "DRAM read bursts issued by loads.",
    },
    StatDecl {
        name: "load_bytes",
        unit: "bytes",
        description: "Bytes read from DRAM by loads.",
    },
    StatDecl {
        name: "store_bursts",
        unit: "bursts",
        description: "DRAM write bursts issued by stores.",
    },
    StatDecl {
        name: "store_bytes",
        unit: "bytes",
        description: "Bytes written to DRAM by stores.",
    },
];
