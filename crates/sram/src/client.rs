use simkit::Cycle;

/// A requester of SRAM bandwidth. Each client has a fixed direction and its
/// own request inbox and response queue at the SRAM.
///
/// The declaration order is the fixed arbitration priority (first = highest):
/// the PE array streams operands every cycle and has no slack, the vector
/// unit's steps are short, and the DMA engine's transfers already wait a DRAM
/// latency of ~100 cycles that a few cycles of SRAM delay barely lengthen.
/// Reads and writes use separate bank ports, so a read client only ever
/// competes with read clients and a write client with write clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SramClient {
    /// PE array operand reads (A, B, or stationary tiles).
    PeRead,
    /// PE array output writes.
    PeWrite,
    /// Vector unit input reads.
    VectorRead,
    /// Vector unit output writes.
    VectorWrite,
    /// DMA store: reads SRAM before writing DRAM.
    DmaDrain,
    /// DMA load: writes SRAM with data from DRAM.
    DmaFill,
}

impl SramClient {
    /// Every client, highest priority first.
    pub const ALL: [SramClient; 6] = [
        SramClient::PeRead,
        SramClient::PeWrite,
        SramClient::VectorRead,
        SramClient::VectorWrite,
        SramClient::DmaDrain,
        SramClient::DmaFill,
    ];

    pub const fn is_write(self) -> bool {
        matches!(
            self,
            SramClient::PeWrite | SramClient::VectorWrite | SramClient::DmaFill
        )
    }

    /// snake_case name used in statistics.
    pub const fn name(self) -> &'static str {
        match self {
            SramClient::PeRead => "pe_read",
            SramClient::PeWrite => "pe_write",
            SramClient::VectorRead => "vector_read",
            SramClient::VectorWrite => "vector_write",
            SramClient::DmaDrain => "dma_drain",
            SramClient::DmaFill => "dma_fill",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// A contiguous byte range of the scratchpad.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SramSpan {
    pub addr: u64,
    pub bytes: u64,
}

impl SramSpan {
    pub const fn new(addr: u64, bytes: u64) -> Self {
        SramSpan { addr, bytes }
    }

    pub const fn end(&self) -> u64 {
        self.addr + self.bytes
    }
}

/// One access of a client: `count` pieces of `bytes` bytes, the first at
/// `addr` and each `stride_bytes` after the previous (a plain range when
/// `count` is 1, e.g. a tile row; a column of a tile stored row by row
/// otherwise), possibly spanning several bank-width chunks. Its direction
/// is its client's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SramRequest {
    /// Chosen by the client; echoed in the response.
    pub tag: u64,
    pub addr: u64,
    /// Bytes of each piece.
    pub bytes: u64,
    pub count: u64,
    pub stride_bytes: u64,
}

impl SramRequest {
    /// `bytes` from `addr`.
    pub const fn range(tag: u64, addr: u64, bytes: u64) -> Self {
        SramRequest {
            tag,
            addr,
            bytes,
            count: 1,
            stride_bytes: bytes,
        }
    }

    /// Bytes of all pieces.
    pub const fn total_bytes(&self) -> u64 {
        self.bytes * self.count
    }

    /// One past the last byte.
    pub const fn end(&self) -> u64 {
        self.addr + (self.count - 1) * self.stride_bytes + self.bytes
    }
}

/// Completion of a request: a read's data has arrived, or a write has been
/// performed. Responses of one client come in request order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SramResponse {
    pub tag: u64,
    /// Bytes of all the request's pieces.
    pub bytes: u64,
    /// Cycle at which the SRAM granted the request's last chunk.
    pub granted_cycle: Cycle,
}
