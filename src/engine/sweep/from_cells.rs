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
    #[cfg(test)]
    pub fn from_cells(cells: &[(f64, Cell)], baseline: Option<Cost>) -> Sweep {
        Sweep::from_cells_with(cells, None, baseline)
    }

    /// `Sweep::from_cells` with `safeguarded`, the records that escalate whatever their
    /// confidence (an override), merged into one cell: they count in every total and every
    /// escalated sum, and never in an accepted one, as safeguarded records do in [`Sweep::new`].
    pub fn from_cells_with(
        cells: &[(f64, Cell)],
        safeguarded: Option<&Cell>,
        baseline: Option<Cost>,
    ) -> Sweep {
        let held = safeguarded.map_or(0, |c| c.records);
        let n: u64 = cells.iter().map(|(_, c)| c.records).sum::<u64>() + held;
        assert!(n > 0, "a sweep needs at least one record");
        debug_assert!(cells.windows(2).all(|w| w[0].0 > w[1].0));
        let large = (cells.iter().map(|(_, c)| c).chain(safeguarded))
            .next()
            .is_some_and(|c| c.large_quality.is_some());
        let m = cells.len() + 1;
        let Prefix {
            accepted,
            small_quality,
            lost,
        } = prefix(cells, large);
        // Suffix sums: candidate j escalates cells j.. (cell j-1 is the last accepted).
        let suffix = |value: &dyn Fn(&Cell) -> Exact| -> Vec<f64> {
            let mut out = vec![0.0; m];
            // Safeguarded records are escalated at every candidate.
            let mut acc = safeguarded.map(value).unwrap_or_default();
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
        for (_, cell) in cells.iter().chain(safeguarded.map(|c| (0.0, *c)).as_ref()) {
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
            safeguarded: held as usize,
            order: Vec::new(),
            columns: None,
            quality_lost: lost,
            accepted,
            small_quality_accepted: small_quality,
            large_quality_escalated,
            large_cost_escalated,
            small_cost_escalated,
        }
    }
}

/// The prefix sums at each candidate: records accepted, Σ small quality and Σ quality lost
/// (with large labels) over the accepted cells.
struct Prefix {
    accepted: Vec<usize>,
    small_quality: Vec<f64>,
    lost: Option<Vec<f64>>,
}

fn prefix(cells: &[(f64, Cell)], large: bool) -> Prefix {
    let m = cells.len() + 1;
    let mut out = Prefix {
        accepted: Vec::with_capacity(m),
        small_quality: Vec::with_capacity(m),
        lost: large.then(|| Vec::with_capacity(m)),
    };
    let (mut count, mut sq, mut ls) = (0u64, Exact::default(), Exact::default());
    let mut push = |count: u64, sq: &Exact, ls: &Exact| {
        out.accepted.push(count as usize);
        out.small_quality.push(sq.value());
        if let Some(lost) = &mut out.lost {
            lost.push(ls.value());
        }
    };
    push(0, &sq, &ls);
    for (_, cell) in cells {
        count += cell.records;
        sq.plus(&cell.small_quality);
        if let Some(l) = &cell.quality_lost {
            ls.plus(l);
        }
        push(count, &sq, &ls);
    }
    out
}
