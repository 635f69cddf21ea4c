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

/// What one vector instruction computes, as element operations: `per_element`
/// applied to every element of the R×C tile, `per_row` once per row (counts
/// per [`ElementOp`], in [`ElementOp::ALL`] order). The unit prices any mix;
/// which mix a softmax instruction is, is the ISA's business.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct OpMix {
    pub per_element: [u16; 6],
    pub per_row: [u16; 6],
}

impl OpMix {
    /// The mix of `per_element` and `per_row` operation lists.
    pub fn new(per_element: &[ElementOp], per_row: &[ElementOp]) -> Self {
        let count = |ops: &[ElementOp]| {
            let mut counts = [0u16; 6];
            for op in ops {
                counts[op.index()] += 1;
            }
            counts
        };
        OpMix {
            per_element: count(per_element),
            per_row: count(per_row),
        }
    }

    fn has_element_ops(&self) -> bool {
        self.per_element.iter().any(|&n| n > 0)
    }

    fn has_row_ops(&self) -> bool {
        self.per_row.iter().any(|&n| n > 0)
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
        mix: &OpMix,
        rows: u64,
        cols: u64,
        lanes: u64,
        costs: &OpCycles,
        ideal: bool,
    ) -> Self {
        let sum = |counts: &[u16; 6]| -> u64 {
            if ideal {
                0
            } else {
                ElementOp::ALL
                    .iter()
                    .zip(counts)
                    .map(|(op, &n)| u64::from(n) * op.cycles(costs))
                    .sum()
            }
        };
        StepCost {
            element_steps: if mix.has_element_ops() {
                (rows * cols).div_ceil(lanes)
            } else {
                0
            },
            element_step_cycles: sum(&mix.per_element),
            row_steps: if mix.has_row_ops() {
                rows.div_ceil(lanes)
            } else {
                0
            },
            row_step_cycles: sum(&mix.per_row),
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
        self.cycles_before(self.steps())
    }

    /// Cycles of steps `0..k` run back to back (`k` ≤ [`StepCost::steps`]).
    pub fn cycles_before(&self, k: u64) -> u64 {
        let element = k.min(self.element_steps);
        element * self.element_step_cycles + (k - element) * self.row_step_cycles
    }

    /// The most steps that run back to back within `cycles`: the largest
    /// `k` ≤ [`StepCost::steps`] with `cycles_before(k) ≤ cycles`. Every step
    /// must cost at least one cycle.
    pub fn steps_within(&self, cycles: u64) -> u64 {
        debug_assert!(
            (self.element_steps == 0 || self.element_step_cycles > 0)
                && (self.row_steps == 0 || self.row_step_cycles > 0),
            "steps cost at least a cycle"
        );
        let element_cycles = self.element_steps * self.element_step_cycles;
        if cycles < element_cycles {
            cycles / self.element_step_cycles
        } else if self.row_steps == 0 {
            self.element_steps
        } else {
            self.element_steps
                + ((cycles - element_cycles) / self.row_step_cycles).min(self.row_steps)
        }
    }
}

/// Element operations of `mix` on an R×C tile, per [`ElementOp`] (in
/// [`ElementOp::ALL`] order): R·C per element op, R per row op.
pub fn op_counts(mix: &OpMix, rows: u64, cols: u64) -> [u64; 6] {
    std::array::from_fn(|i| {
        u64::from(mix.per_element[i]) * rows * cols + u64::from(mix.per_row[i]) * rows
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ElementOp::*;

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
        let exp_sum = StepCost::new(&OpMix::new(&[Sub, Exp, Add], &[]), 5, 100, 32, &c, false);
        assert_eq!(exp_sum.compute_cycles(), 500u64.div_ceil(32) * (2 + 4 + 1));
        let divide = StepCost::new(&OpMix::new(&[Mul], &[Div]), 40, 64, 32, &c, false);
        assert_eq!(divide.compute_cycles(), 80 * 3 + 2 * 8);
        let online = OpMix::new(&[Max, Sub, Exp, Add], &[Max, Sub, Exp, Mul, Add]);
        let cost = StepCost::new(&online, 16, 16, 8, &c, false);
        assert_eq!(
            cost.compute_cycles(),
            32 * (1 + 2 + 4 + 1) + 2 * (1 + 2 + 4 + 3 + 1)
        );
        let ideal = StepCost::new(&online, 16, 16, 8, &c, true);
        assert_eq!(ideal.compute_cycles(), 0);
        assert_eq!(ideal.steps(), cost.steps());
    }

    #[test]
    fn steps_within_inverts_cycles_before() {
        let c = costs(1, 2, 4, 1, 3, 8);
        for mix in [
            OpMix::new(&[Sub, Exp, Add], &[]),
            OpMix::new(&[Mul], &[Div]),
            OpMix::new(&[], &[Max, Exp]),
        ] {
            let cost = StepCost::new(&mix, 40, 3, 16, &c, false);
            for cycles in 0..cost.compute_cycles() + 20 {
                let k = cost.steps_within(cycles);
                assert!(cost.cycles_before(k) <= cycles);
                assert!(k == cost.steps() || cost.cycles_before(k + 1) > cycles);
            }
        }
    }

    #[test]
    fn op_counts_scale_with_the_tile() {
        let mix = OpMix::new(&[Sub, Exp, Add, Add], &[Div]);
        assert_eq!(op_counts(&mix, 4, 10), [0, 40, 40, 80, 0, 4]);
    }
}
