//! Safeguards: records that escalate whatever their confidence (`--always-large FIELD=VALUE`,
//! refusals, timeouts), and what each one costs and buys under the chosen policy.
//!
//! Owns the masks and the direct, record-by-record evaluation of a routing (which doubles as an
//! independent check of the sweep's sums). Pure: columns in, numbers out; no I/O, no printing.

use crate::engine::sweep::{Metrics, SweepInput, Totals};
use crate::input::Labels;

/// What kind of safeguard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `--small-timeout-ms`.
    Timeout,
    /// `--always-large FIELD=VALUE`.
    AlwaysLarge,
    /// `--escalate-refusals`.
    Refusal,
}

/// One reason records escalate regardless of confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Safeguard {
    /// What kind.
    pub kind: Kind,
    /// `task_type=legal`, `refusals`, `small model slower than 2000 ms`.
    pub label: String,
    /// Per record: whether this safeguard sends it to the large model.
    pub mask: Vec<bool>,
}

impl Safeguard {
    /// Records it sends to the large model.
    pub fn matched(&self) -> usize {
        self.mask.iter().filter(|m| **m).count()
    }
}

/// The mask of records whose label equals `value` (compared as text).
pub fn label_mask(labels: &Labels, value: &str) -> Vec<bool> {
    match labels.names.iter().position(|n| n == value) {
        Some(code) => labels.codes.iter().map(|&c| c as usize == code).collect(),
        None => vec![false; labels.codes.len()],
    }
}

/// Any safeguard, per record; `None` when there are none.
pub fn combined<'a>(safeguards: impl IntoIterator<Item = &'a Safeguard>) -> Option<Vec<bool>> {
    let mut safeguards = safeguards.into_iter();
    let mut out = safeguards.next()?.mask.clone();
    for s in safeguards {
        for (o, m) in out.iter_mut().zip(&s.mask) {
            *o |= *m;
        }
    }
    Some(out)
}

/// Where each record is routed: by its threshold (`confidence >= threshold` stays small;
/// infinity means always large), unless safeguarded.
#[derive(Debug, Clone, Copy)]
pub struct Routing<'a> {
    /// Per segment code, its threshold (one entry when there are no segments).
    pub thresholds: &'a [f64],
    /// Each record's segment code; `None` when there are no segments.
    pub codes: Option<&'a [u32]>,
}

impl Routing<'_> {
    fn threshold(&self, i: usize) -> f64 {
        match self.codes {
            Some(codes) => self.thresholds[codes[i] as usize],
            None => self.thresholds[0],
        }
    }
}

/// The sums of a routing, record by record, with `safeguarded` records escalated.
pub fn totals(input: SweepInput<'_>, routing: Routing<'_>, safeguarded: Option<&[bool]>) -> Totals {
    let mut t = Totals {
        records: input.confidence.len(),
        accepted: 0,
        small_quality_accepted: 0.0,
        large_quality_escalated: input.large_quality.map(|_| 0.0),
        large_quality_total: input.large_quality.map(|_| 0.0),
        small_cost_total: 0.0,
        large_cost_escalated: 0.0,
        small_cost_escalated: 0.0,
        large_cost_total: 0.0,
        baseline_cost: input.costs.baseline,
    };
    for (i, &c) in input.confidence.iter().enumerate() {
        let (small, large) = (input.costs.small.get(i), input.costs.large.get(i));
        t.small_cost_total += small;
        t.large_cost_total += large;
        if let (Some(total), Some(lq)) = (&mut t.large_quality_total, input.large_quality) {
            *total += lq[i];
        }
        let escalate = safeguarded.is_some_and(|f| f[i]) || c < routing.threshold(i);
        if escalate {
            t.large_cost_escalated += large;
            t.small_cost_escalated += small;
            if let (Some(e), Some(lq)) = (&mut t.large_quality_escalated, input.large_quality) {
                *e += lq[i];
            }
        } else {
            t.accepted += 1;
            t.small_quality_accepted += input.small_quality[i];
        }
    }
    t
}

/// What one safeguard does under a routing: the policy's metrics with it and without it (the
/// records only it forces then follow their threshold).
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    /// The safeguard's label.
    pub label: String,
    /// Records it matches.
    pub matched: usize,
    /// Records only it forces (no other safeguard does).
    pub exclusive: usize,
    /// Records it moves to the large model that the threshold alone would have accepted.
    pub moved: usize,
    /// The policy with every safeguard.
    pub with: Metrics,
    /// The policy without this one.
    pub without: Metrics,
}

/// The effect of each safeguard under `routing`.
pub fn effects(
    input: SweepInput<'_>,
    routing: Routing<'_>,
    safeguards: &[Safeguard],
) -> Vec<Effect> {
    let all = combined(safeguards);
    let with = totals(input, routing, all.as_deref()).metrics(f64::NAN, false);
    safeguards
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let others = combined(
                safeguards
                    .iter()
                    .enumerate()
                    .filter(|(o, _)| *o != k)
                    .map(|(_, s)| s),
            );
            let exclusive: Vec<bool> = s
                .mask
                .iter()
                .enumerate()
                .map(|(i, m)| *m && !others.as_ref().is_some_and(|o| o[i]))
                .collect();
            let moved = exclusive
                .iter()
                .enumerate()
                .filter(|(i, e)| **e && input.confidence[*i] >= routing.threshold(*i))
                .count();
            let without = totals(input, routing, others.as_deref()).metrics(f64::NAN, false);
            Effect {
                label: s.label.clone(),
                matched: s.matched(),
                exclusive: exclusive.iter().filter(|e| **e).count(),
                moved,
                with,
                without,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sweep::{Sweep, flat_input};

    #[test]
    fn override_effect_by_hand() {
        // Four records, flat costs small 1, large 10; threshold 0.5.
        // conf      0.9 0.8 0.6 0.2
        // small q   1   0   1   0
        // large q   1   1   1   1
        // AlwaysLarge matches records 1 and 3 (record 3 escalates anyway).
        let conf = [0.9, 0.8, 0.6, 0.2];
        let sq = [1.0, 0.0, 1.0, 0.0];
        let lq = [1.0; 4];
        let input = flat_input(&conf, &sq, Some(&lq));
        let guard = Safeguard {
            kind: Kind::AlwaysLarge,
            label: "tier=enterprise".into(),
            mask: vec![false, true, false, true],
        };
        let routing = Routing {
            thresholds: &[0.5],
            codes: None,
        };
        let e = &effects(input, routing, std::slice::from_ref(&guard))[0];
        assert_eq!((e.matched, e.exclusive, e.moved), (2, 2, 1));
        // With: accepted {0, 2}: non-escalated quality 2/2 = 1; cascade (1+1+1+1)/4 = 1;
        // cost (4·1 + 2·10)/4 = 6.
        assert_eq!(e.with.accepted, 2);
        assert_eq!(e.with.non_escalated_quality, Some(1.0));
        assert_eq!(e.with.cascade_quality, Some(1.0));
        assert_eq!(e.with.cost_per_request, 6.0);
        // Without: accepted {0, 1, 2}: quality 2/3; cascade (1+0+1+1)/4 = 0.75;
        // cost (4 + 10)/4 = 3.5. The override costs 2.5 per request and buys 0.25 cascade quality.
        assert_eq!(e.without.accepted, 3);
        assert_eq!(e.without.non_escalated_quality, Some(2.0 / 3.0));
        assert_eq!(e.without.cascade_quality, Some(0.75));
        assert_eq!(e.without.cost_per_request, 3.5);
    }

    #[test]
    fn direct_totals_equal_the_sweep() {
        let conf = [0.3, 0.9, 0.9, 0.1, 0.5];
        let sq = [1.0, 1.0, 0.0, 0.0, 0.5];
        let lq = [1.0, 0.0, 1.0, 1.0, 1.0];
        let input = flat_input(&conf, &sq, Some(&lq));
        let sweep = Sweep::new(input);
        for t in [0.0, 0.3, 0.5, 0.9, 1.0] {
            let direct = totals(
                input,
                Routing {
                    thresholds: &[t],
                    codes: None,
                },
                None,
            );
            assert_eq!(
                direct.metrics(t, direct.accepted == 0),
                sweep.at_threshold(t)
            );
        }
    }

    #[test]
    fn label_masks_compare_text() {
        let labels = Labels {
            codes: vec![0, 1, 1],
            names: vec!["false".into(), "true".into()],
        };
        assert_eq!(label_mask(&labels, "true"), vec![false, true, true]);
        assert_eq!(label_mask(&labels, "yes"), vec![false; 3]);
    }
}
