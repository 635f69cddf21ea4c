use hwconfig::OpCycles;

/// One element operation of the vector unit, with its own cost per element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ElementOp {
    Max,
    Sub,
    Exp,
    Add,
    Mul,
    Div,
}

impl ElementOp {
    pub const ALL: [ElementOp; 6] = [
        ElementOp::Max,
        ElementOp::Sub,
        ElementOp::Exp,
        ElementOp::Add,
        ElementOp::Mul,
        ElementOp::Div,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            ElementOp::Max => "max",
            ElementOp::Sub => "sub",
            ElementOp::Exp => "exp",
            ElementOp::Add => "add",
            ElementOp::Mul => "mul",
            ElementOp::Div => "div",
        }
    }

    /// Cycles one lane spends on one element (`vector.op_cycles`).
    pub const fn cycles(self, costs: &OpCycles) -> u64 {
        match self {
            ElementOp::Max => costs.max,
            ElementOp::Sub => costs.sub,
            ElementOp::Exp => costs.exp,
            ElementOp::Add => costs.add,
            ElementOp::Mul => costs.mul,
            ElementOp::Div => costs.div,
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// One softmax operation over an R×C tile, as the dataflows need them.
///
/// Three-pass softmax (FLAT) over full rows: [`RowMax`](Self::RowMax),
/// [`ExpSum`](Self::ExpSum), [`Normalize`](Self::Normalize).
/// One-pass online softmax (flash) over R×C blocks:
/// [`OnlineSoftmax`](Self::OnlineSoftmax) per block,
/// [`RescaleAccumulate`](Self::RescaleAccumulate) on the R×d partial output
/// per block, and a final [`Normalize`](Self::Normalize) of the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SoftmaxStep {
    /// m = rowmax(x): `max` per element.
    RowMax,
    /// p = exp(x − m), l = rowsum(p): `sub`, `exp`, `add` per element.
    ExpSum,
    /// y = p · (1 / l): `div` per row (the reciprocal), `mul` per element.
    Normalize,
    /// m' = max(m, rowmax(s)), α = exp(m − m'), p = exp(s − m'),
    /// l' = α·l + rowsum(p): `max`, `sub`, `exp`, `add` per element;
    /// `max`, `sub`, `exp`, `mul`, `add` per row.
    OnlineSoftmax,
    /// o' = α·o + pv over the R×C partial output: `mul`, `add` per element.
    RescaleAccumulate,
}

impl SoftmaxStep {
    pub const ALL: [SoftmaxStep; 5] = [
        SoftmaxStep::RowMax,
        SoftmaxStep::ExpSum,
        SoftmaxStep::Normalize,
        SoftmaxStep::OnlineSoftmax,
        SoftmaxStep::RescaleAccumulate,
    ];

    /// Operations applied to every element of the tile.
    pub const fn element_ops(self) -> &'static [ElementOp] {
        use ElementOp::*;
        match self {
            SoftmaxStep::RowMax => &[Max],
            SoftmaxStep::ExpSum => &[Sub, Exp, Add],
            SoftmaxStep::Normalize => &[Mul],
            SoftmaxStep::OnlineSoftmax => &[Max, Sub, Exp, Add],
            SoftmaxStep::RescaleAccumulate => &[Mul, Add],
        }
    }

    /// Operations applied once per row of the tile.
    pub const fn row_ops(self) -> &'static [ElementOp] {
        use ElementOp::*;
        match self {
            SoftmaxStep::RowMax | SoftmaxStep::ExpSum | SoftmaxStep::RescaleAccumulate => &[],
            SoftmaxStep::Normalize => &[Div],
            SoftmaxStep::OnlineSoftmax => &[Max, Sub, Exp, Mul, Add],
        }
    }
}

/// The compute schedule of one step on an R×C tile: `element_steps` vector
/// steps over the R·C elements, then `row_steps` over the R row values; each
/// vector step processes up to `lanes` elements through all of the pass's
/// operations, pipelined, in the sum of their costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepCost {
    pub element_steps: u64,
    pub element_step_cycles: u64,
    pub row_steps: u64,
    pub row_step_cycles: u64,
}

impl StepCost {
    /// ⌈R·C / lanes⌉ · Σ element-op costs + ⌈R / lanes⌉ · Σ row-op costs;
    /// every cost is zero when `ideal`.
    pub fn new(
        step: SoftmaxStep,
        rows: u64,
        cols: u64,
        lanes: u64,
        costs: &OpCycles,
        ideal: bool,
    ) -> Self {
        let sum = |ops: &[ElementOp]| {
            if ideal {
                0
            } else {
                ops.iter().map(|op| op.cycles(costs)).sum()
            }
        };
        let row_ops = step.row_ops();
        StepCost {
            element_steps: (rows * cols).div_ceil(lanes),
            element_step_cycles: sum(step.element_ops()),
            row_steps: if row_ops.is_empty() {
                0
            } else {
                rows.div_ceil(lanes)
            },
            row_step_cycles: sum(row_ops),
        }
    }

    /// Vector steps of the job.
    pub fn steps(&self) -> u64 {
        self.element_steps + self.row_steps
    }

    /// Cycles of vector step `k` (element steps first).
    pub fn step_cycles(&self, k: u64) -> u64 {
        if k < self.element_steps {
            self.element_step_cycles
        } else {
            self.row_step_cycles
        }
    }

    /// Compute cycles of the job: the busy cycles of the unit.
    pub fn compute_cycles(&self) -> u64 {
        self.element_steps * self.element_step_cycles + self.row_steps * self.row_step_cycles
    }
}

/// Element operations of one step on an R×C tile, per [`ElementOp`] (in
/// [`ElementOp::ALL`] order): R·C per element op, R per row op.
pub fn op_counts(step: SoftmaxStep, rows: u64, cols: u64) -> [u64; 6] {
    let mut counts = [0; 6];
    for op in step.element_ops() {
        counts[op.index()] += rows * cols;
    }
    for op in step.row_ops() {
        counts[op.index()] += rows;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs(max: u64, sub: u64, exp: u64, add: u64, mul: u64, div: u64) -> OpCycles {
        OpCycles {
            max,
            sub,
            exp,
            add,
            mul,
            div,
        }
    }

    #[test]
    fn cost_is_steps_times_summed_op_costs() {
        let c = costs(1, 2, 4, 1, 3, 8);
        let exp_sum = StepCost::new(SoftmaxStep::ExpSum, 5, 100, 32, &c, false);
        assert_eq!(exp_sum.compute_cycles(), 500u64.div_ceil(32) * (2 + 4 + 1));
        let normalize = StepCost::new(SoftmaxStep::Normalize, 40, 64, 32, &c, false);
        assert_eq!(normalize.compute_cycles(), 80 * 3 + 2 * 8);
        let online = StepCost::new(SoftmaxStep::OnlineSoftmax, 16, 16, 8, &c, false);
        assert_eq!(
            online.compute_cycles(),
            32 * (1 + 2 + 4 + 1) + 2 * (1 + 2 + 4 + 3 + 1)
        );
        let ideal = StepCost::new(SoftmaxStep::OnlineSoftmax, 16, 16, 8, &c, true);
        assert_eq!(ideal.compute_cycles(), 0);
        assert_eq!(ideal.steps(), online.steps());
    }

    #[test]
    fn three_pass_softmax_counts_every_op() {
        let (r, n) = (4, 10);
        let mut total = [0; 6];
        for step in [
            SoftmaxStep::RowMax,
            SoftmaxStep::ExpSum,
            SoftmaxStep::Normalize,
        ] {
            for (t, c) in total.iter_mut().zip(op_counts(step, r, n)) {
                *t += c;
            }
        }
        // max, sub, exp, add, mul per element; div per row.
        assert_eq!(total, [40, 40, 40, 40, 40, 4]);
    }
}
