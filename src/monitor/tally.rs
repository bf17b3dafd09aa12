//! Sufficient statistics of the logs per window × scope (overall, or one reference segment):
//! counts, signal bins, label sums, cost sums, feedback counts. Every field adds up, so cells
//! merge exactly (whole-run figures are merged windows).
//!
//! Owns the aggregation; memory grows with windows × scopes × bins, never with records. Pure;
//! it must not test anything (see `checks`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::route::Routed;
use crate::input::{Distribution, LogRecord, Reference};

/// A scope: `0` every request, `k + 1` reference segment `k`.
pub type Scope = usize;

/// Everything kept about one window × scope.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Cell {
    /// Requests.
    pub requests: u64,
    /// Requests the router escalated.
    pub escalated: u64,
    /// Requests an always-large field sent to the large model.
    pub overridden: u64,
    /// Requests no override touched (the threshold decides).
    pub routed: u64,
    /// Of those, escalated by the router.
    pub routed_escalated: u64,
    /// The router escalated, the policy keeps the small answer.
    pub wrongly_escalated: u64,
    /// The router kept the small answer, the policy escalates.
    pub wrongly_kept: u64,
    /// The first line of a mismatch, if any.
    pub first_mismatch_line: Option<u64>,
    /// Requests of a segment the reference lacks (overall scope only).
    pub unseen: u64,
    /// Routed requests per signal bin of the scope's reference.
    pub bins: Vec<u64>,
    /// Routed requests outside the reference's signal range.
    pub outside: u64,
    /// Labels on requests the small model answered.
    pub labels: Labelled,
    /// Costs by path.
    pub cost: CostSums,
    /// Feedback on answers of the small (0) and the large (1) model.
    pub feedback: [Feedback; 2],
    /// (requests, Σ latency in ms) with a latency, by path: small only, escalated, overridden.
    pub latency: [(u64, f64); 3],
}

/// Weighted sums over labelled requests the small model answered (weight: the label's
/// inverse-probability weight, 1 without `--label-weight-field`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Labelled {
    /// Labelled requests.
    pub n: u64,
    /// Σ w.
    pub w: f64,
    /// Σ w².
    pub w2: f64,
    /// Σ w · quality.
    pub wq: f64,
    /// Σ w · predicted quality (the reference bin's mean).
    pub wpred: f64,
    /// Σ w² · predicted (1 − predicted).
    pub w2var: f64,
    /// Σ w per reference bin (the calibration's own uncertainty).
    pub bin_w: Vec<f64>,
    /// Σ w · quality per reference bin (a higher threshold's quality).
    pub bin_wq: Vec<f64>,
    /// Σ w² per reference bin.
    pub bin_w2: Vec<f64>,
    /// Labelled escalated requests with a large-model label, and Σ their quality.
    pub large: (u64, f64),
}

/// Cost sums (currency units) of requests with a known cost.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct CostSums {
    /// (requests, Σ cost) answered by the small model.
    pub small_only: (u64, f64),
    /// (requests, Σ cost) escalated by the threshold.
    pub escalated: (u64, f64),
    /// (requests, Σ cost) sent to the large model by an override.
    pub overridden: (u64, f64),
    /// (requests, Σ small cost) of escalated requests: spend on answers thrown away.
    pub wasted_small: (u64, f64),
    /// (requests, Σ large cost) of escalated requests.
    pub large: (u64, f64),
}

/// Feedback counts on one model's answers.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Feedback {
    /// Answers with a `regenerated` value, and how many were regenerated.
    pub regenerated: (u64, u64),
    /// Answers with a thumbs-down value, and how many got one.
    pub thumbs_down: (u64, u64),
}

impl Cell {
    fn new(bins: usize) -> Cell {
        Cell {
            bins: vec![0; bins],
            labels: Labelled {
                bin_w: vec![0.0; bins],
                bin_wq: vec![0.0; bins],
                bin_w2: vec![0.0; bins],
                ..Labelled::default()
            },
            ..Cell::default()
        }
    }

    /// Adds `other` (same scope) into this cell.
    pub fn merge(&mut self, o: &Cell) {
        let add = |a: &mut (u64, f64), b: (u64, f64)| {
            a.0 += b.0;
            a.1 += b.1;
        };
        self.requests += o.requests;
        self.escalated += o.escalated;
        self.overridden += o.overridden;
        self.routed += o.routed;
        self.routed_escalated += o.routed_escalated;
        self.wrongly_escalated += o.wrongly_escalated;
        self.wrongly_kept += o.wrongly_kept;
        self.first_mismatch_line = match (self.first_mismatch_line, o.first_mismatch_line) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.unseen += o.unseen;
        self.outside += o.outside;
        for (a, b) in self.bins.iter_mut().zip(&o.bins) {
            *a += b;
        }
        let (l, m) = (&mut self.labels, &o.labels);
        l.n += m.n;
        l.w += m.w;
        l.w2 += m.w2;
        l.wq += m.wq;
        l.wpred += m.wpred;
        l.w2var += m.w2var;
        for (a, b) in (l.bin_w.iter_mut()).zip(&m.bin_w) {
            *a += b;
        }
        for (a, b) in (l.bin_wq.iter_mut()).zip(&m.bin_wq) {
            *a += b;
        }
        for (a, b) in (l.bin_w2.iter_mut()).zip(&m.bin_w2) {
            *a += b;
        }
        add(&mut l.large, m.large);
        let (c, d) = (&mut self.cost, &o.cost);
        add(&mut c.small_only, d.small_only);
        add(&mut c.escalated, d.escalated);
        add(&mut c.overridden, d.overridden);
        add(&mut c.wasted_small, d.wasted_small);
        add(&mut c.large, d.large);
        for (a, b) in self.latency.iter_mut().zip(&o.latency) {
            add(a, *b);
        }
        for (f, g) in self.feedback.iter_mut().zip(&o.feedback) {
            f.regenerated.0 += g.regenerated.0;
            f.regenerated.1 += g.regenerated.1;
            f.thumbs_down.0 += g.thumbs_down.0;
            f.thumbs_down.1 += g.thumbs_down.1;
        }
    }

    /// Cost, latency and feedback of one request, by path.
    fn add_spend(&mut self, r: &LogRecord, route: &Routed) {
        let cost = r.cost.or(match (r.small_cost, r.large_cost) {
            (Some(s), Some(l)) if r.escalated => Some(s + l),
            (Some(s), _) if !r.escalated => Some(s),
            _ => None,
        });
        let k = match (route.overridden, r.escalated) {
            (true, _) => 2,
            (false, true) => 1,
            (false, false) => 0,
        };
        if let Some(ms) = r.latency_ms {
            self.latency[k].0 += 1;
            self.latency[k].1 += ms;
        }
        let path = if route.overridden {
            self.overridden += 1;
            &mut self.cost.overridden
        } else if r.escalated {
            &mut self.cost.escalated
        } else {
            &mut self.cost.small_only
        };
        if let Some(c) = cost {
            path.0 += 1;
            path.1 += c;
        }
        if r.escalated {
            if let Some(s) = r.small_cost {
                self.cost.wasted_small.0 += 1;
                self.cost.wasted_small.1 += s;
            }
            if let Some(l) = r.large_cost {
                self.cost.large.0 += 1;
                self.cost.large.1 += l;
            }
        }
        let f = &mut self.feedback[usize::from(r.escalated)];
        if let Some(g) = r.regenerated {
            f.regenerated.0 += 1;
            f.regenerated.1 += u64::from(g);
        }
        if let Some(t) = r.thumbs_down {
            f.thumbs_down.0 += 1;
            f.thumbs_down.1 += u64::from(t);
        }
    }

    fn add(&mut self, r: &LogRecord, route: &Routed, d: &Distribution) {
        self.requests += 1;
        self.escalated += u64::from(r.escalated);
        // The policy escalates exactly when it does not keep the small answer.
        if r.escalated == route.keep_small {
            if r.escalated {
                self.wrongly_escalated += 1;
            } else {
                self.wrongly_kept += 1;
            }
            self.first_mismatch_line.get_or_insert(r.line);
        }
        self.add_spend(r, route);
        if route.overridden {
            return;
        }
        self.routed += 1;
        self.routed_escalated += u64::from(r.escalated);
        let bin = d.bin(route.mapped);
        self.bins[bin] += 1;
        self.outside += u64::from(d.outside(route.mapped));
        if let (false, Some(q)) = (r.escalated, r.small_quality) {
            let w = r.weight.unwrap_or(1.0);
            let pred = d.small_quality[bin].unwrap_or(q);
            let l = &mut self.labels;
            l.n += 1;
            l.w += w;
            l.w2 += w * w;
            l.wq += w * q;
            l.wpred += w * pred;
            l.w2var += w * w * pred * (1.0 - pred);
            l.bin_w[bin] += w;
            l.bin_wq[bin] += w * q;
            l.bin_w2[bin] += w * w;
        }
        if let (true, Some(q)) = (r.escalated, r.large_quality) {
            self.labels.large.0 += 1;
            self.labels.large.1 += q;
        }
    }
}

/// The cells of a run, by (window start in seconds, scope), and escalation by hour of day.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Window length, seconds.
    pub window: i64,
    /// The cells.
    pub cells: BTreeMap<(i64, Scope), Cell>,
    /// Per UTC hour of day: (requests, escalated).
    pub by_hour: [(u64, u64); 24],
    /// Requests outside the policy's `where`, left out.
    pub out_of_scope: u64,
}

impl Tally {
    /// An empty tally with windows of `window` seconds.
    pub fn new(window: i64) -> Tally {
        Tally {
            window,
            ..Tally::default()
        }
    }

    /// Adds one request.
    pub fn add(&mut self, r: &LogRecord, route: &Routed, reference: &Reference) {
        if !route.in_scope {
            self.out_of_scope += 1;
            return;
        }
        let start = (r.timestamp.floor() as i64).div_euclid(self.window) * self.window;
        let hour = (r.timestamp.floor() as i64).rem_euclid(86_400) / 3600;
        self.by_hour[hour as usize].0 += 1;
        self.by_hour[hour as usize].1 += u64::from(r.escalated);
        let overall = &reference.overall;
        let cell =
            (self.cells.entry((start, 0))).or_insert_with(|| Cell::new(overall.counts.len()));
        cell.add(r, route, overall);
        cell.unseen += u64::from(route.unseen);
        if let Some(k) = route.segment {
            let d = &reference.segments[k].distribution;
            let cell =
                (self.cells.entry((start, k + 1))).or_insert_with(|| Cell::new(d.counts.len()));
            cell.add(r, route, d);
        }
    }

    /// The window starts, ascending.
    pub fn windows(&self) -> Vec<i64> {
        let mut w: Vec<i64> = self.cells.keys().map(|k| k.0).collect();
        w.dedup();
        w
    }
}
