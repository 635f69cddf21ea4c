//! Where the attention tensors live in DRAM.

/// What a DRAM tensor holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TensorRole {
    /// Queries, `[B, H, N, d]`, read-only.
    Q,
    /// Keys, `[B, H, N, d]`, read-only.
    K,
    /// Values, `[B, H, N, d]`, read-only.
    V,
    /// Output, `[B, H, N, d]`, written once per row.
    O,
    /// Scores spilled off-chip, `[B, H, N, N]`, written and read back.
    Spill,
}

impl TensorRole {
    pub const ALL: [TensorRole; 5] = [
        TensorRole::Q,
        TensorRole::K,
        TensorRole::V,
        TensorRole::O,
        TensorRole::Spill,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TensorRole::Q => "q",
            TensorRole::K => "k",
            TensorRole::V => "v",
            TensorRole::O => "o",
            TensorRole::Spill => "spill",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// A dense row-major 4-D tensor at `base_bytes`: element `[i0, i1, i2, i3]`
/// is at `base + (((i0·d1 + i1)·d2 + i2)·d3 + i3) · element_bytes`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DramTensor {
    pub name: String,
    pub role: TensorRole,
    pub base_bytes: u64,
    pub dims: [u64; 4],
}

impl DramTensor {
    pub fn elements(&self) -> u64 {
        self.dims.iter().product()
    }

    /// Byte address of element `index`.
    pub fn address(&self, index: [u64; 4], element_bytes: u64) -> u64 {
        let [d0, d1, d2, d3] = self.dims;
        debug_assert!(index[0] < d0 && index[1] < d1 && index[2] < d2 && index[3] < d3);
        self.base_bytes
            + (((index[0] * d1 + index[1]) * d2 + index[2]) * d3 + index[3]) * element_bytes
    }

    /// Bytes between consecutive rows (last dimension).
    pub fn row_bytes(&self, element_bytes: u64) -> u64 {
        self.dims[3] * element_bytes
    }
}

/// The DRAM tensors of a program, non-overlapping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DramLayout {
    pub element_bytes: u64,
    pub tensors: Vec<DramTensor>,
}

impl DramLayout {
    /// Alignment of every tensor base.
    pub const ALIGN_BYTES: u64 = 4096;

    pub fn new(element_bytes: u64) -> Self {
        DramLayout {
            element_bytes,
            tensors: Vec::new(),
        }
    }

    /// Appends a tensor after the last one, aligned to [`Self::ALIGN_BYTES`].
    pub fn push(&mut self, name: &str, role: TensorRole, dims: [u64; 4]) -> &DramTensor {
        let base = self
            .tensors
            .last()
            .map(|t| {
                (t.base_bytes + self.bytes_of(t)).div_ceil(Self::ALIGN_BYTES) * Self::ALIGN_BYTES
            })
            .unwrap_or(0);
        self.tensors.push(DramTensor {
            name: name.to_owned(),
            role,
            base_bytes: base,
            dims,
        });
        self.tensors.last().expect("just pushed")
    }

    pub fn bytes_of(&self, tensor: &DramTensor) -> u64 {
        tensor.elements() * self.element_bytes
    }

    pub fn by_role(&self, role: TensorRole) -> Option<&DramTensor> {
        self.tensors.iter().find(|t| t.role == role)
    }

    /// The tensor containing byte `addr`.
    pub fn tensor_at(&self, addr: u64) -> Option<&DramTensor> {
        self.tensors
            .iter()
            .find(|t| addr >= t.base_bytes && addr < t.base_bytes + self.bytes_of(t))
    }

    /// One past the last byte used.
    pub fn end_bytes(&self) -> u64 {
        self.tensors
            .iter()
            .map(|t| t.base_bytes + self.bytes_of(t))
            .max()
            .unwrap_or(0)
    }
}
