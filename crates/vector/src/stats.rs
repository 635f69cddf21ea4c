use crate::ElementOp;
use simkit::StatDecl;

/// The vector unit's statistics besides the cycle account and [`OP_STATS`].
pub const VECTOR_STATS: [StatDecl; 5] = [
    StatDecl {
        name: "jobs",
        unit: "jobs",
        description: "Softmax steps completed.",
    },
    StatDecl {
        name: "lane_ops",
        unit: "element-ops",
        description: "Element operations executed, all kinds: the useful lane-operations.",
    },
    StatDecl {
        name: "utilization",
        unit: "ratio",
        description: "lane_ops / (lanes × total_cycles).",
    },
    StatDecl {
        name: "sram_read_bytes",
        unit: "bytes",
        description: "Bytes the unit read from SRAM (none in ideal mode).",
    },
    StatDecl {
        name: "sram_write_bytes",
        unit: "bytes",
        description: "Bytes the unit wrote to SRAM (none in ideal mode).",
    },
];

macro_rules! op_stats {
    ($($op:literal),+) => {
        /// Element operations per kind, in [`ElementOp::ALL`] order, for the energy table.
        pub const OP_STATS: [StatDecl; ElementOp::ALL.len()] = [$(StatDecl {
            name: concat!($op, "_ops"),
            unit: "element-ops",
            description: concat!("Element operations of kind ", $op, "."),
        }),+];
    };
}

op_stats!("max", "sub", "exp", "add", "mul", "div");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_stats_follow_op_names() {
        for (decl, op) in OP_STATS.iter().zip(ElementOp::ALL) {
            assert_eq!(decl.name, format!("{}_ops", op.name()));
        }
    }
}
