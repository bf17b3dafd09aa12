//! A sweep from cells (an aggregate) instead of records: the same prefix and suffix sums, over
//! cells in descending confidence. Pure.
//!
//! Every sum is exact until it is rounded, so the result equals [`Sweep::new`] on the records the
//! cells came from, bit for bit. There is no record order: what needs records (the bootstrap
//! over records, per-record checks) is not available from cells.

use super::{Cell, Sweep};
use crate::engine::economics::Cost;
use crate::engine::exact::Exact;

impl Sweep {
    /// The sweep of `cells`, one per distinct confidence, sorted by descending confidence, all
    /// with large-label sums or all without; `baseline` is the comparison model's cost per
    /// request, if any.
    ///
    /// Panics if there are no records (the aggregate reader refuses an empty aggregate).
    pub fn from_cells(cells: &[(f64, Cell)], baseline: Option<Cost>) -> Sweep {
        let n: u64 = cells.iter().map(|(_, c)| c.records).sum();
        assert!(n > 0, "a sweep needs at least one record");
        debug_assert!(cells.windows(2).all(|w| w[0].0 > w[1].0));
        let large = cells
            .first()
            .is_some_and(|(_, c)| c.large_quality.is_some());
        let m = cells.len() + 1;
        let mut accepted = Vec::with_capacity(m);
        let mut small_quality = Vec::with_capacity(m);
        let mut lost = large.then(|| Vec::with_capacity(m));
        let (mut count, mut sq, mut ls) = (0u64, Exact::default(), Exact::default());
        let push = |accepted: &mut Vec<usize>,
                    small: &mut Vec<f64>,
                    lost: &mut Option<Vec<f64>>,
                    count: u64,
                    sq: &Exact,
                    ls: &Exact| {
            accepted.push(count as usize);
            small.push(sq.value());
            if let Some(lost) = lost {
                lost.push(ls.value());
            }
        };
        push(&mut accepted, &mut small_quality, &mut lost, 0, &sq, &ls);
        for (_, cell) in cells {
            count += cell.records;
            sq.plus(&cell.small_quality);
            if let Some(l) = &cell.quality_lost {
                ls.plus(l);
            }
            push(
                &mut accepted,
                &mut small_quality,
                &mut lost,
                count,
                &sq,
                &ls,
            );
        }
        // Suffix sums: candidate j escalates cells j.. (cell j-1 is the last accepted).
        let suffix = |value: &dyn Fn(&Cell) -> Exact| -> Vec<f64> {
            let mut out = vec![0.0; m];
            let mut acc = Exact::default();
            for j in (0..m).rev() {
                if j < cells.len() {
                    acc.plus(&value(&cells[j].1));
                }
                out[j] = acc.value();
            }
            out
        };
        let large_cost_escalated = suffix(&|c| c.large_cost);
        let small_cost_escalated = suffix(&|c| c.small_cost);
        let large_quality_escalated =
            large.then(|| suffix(&|c| c.large_quality.unwrap_or_default()));
        let mut small_total = Exact::default();
        let mut small_cost_total = Exact::default();
        for (_, cell) in cells {
            small_total.plus(&cell.small_quality);
            small_cost_total.plus(&cell.small_cost);
        }
        Sweep {
            n: n as usize,
            distinct: cells.iter().map(|(c, _)| *c).collect(),
            small_quality_total: small_total.value(),
            large_quality_total: large_quality_escalated.as_ref().map(|v| v[0]),
            small_cost_total: small_cost_total.value(),
            large_cost_total: large_cost_escalated[0],
            baseline_cost: baseline,
            safeguarded: 0,
            order: Vec::new(),
            quality_lost: lost,
            accepted,
            small_quality_accepted: small_quality,
            large_quality_escalated,
            large_cost_escalated,
            small_cost_escalated,
        }
    }
}
