//! Sufficient statistics of the logs per window × scope (overall, or one reference segment):
//! counts, signal bins, label sums, cost sums, feedback counts. Every field adds up, so cells
//! merge exactly (whole-run figures are merged windows).
//!
//! Owns the aggregation; memory grows with windows × scopes × bins, never with records. Pure;
//! it must not test anything (see `checks`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::route::Routed;
use crate::engine::exact::Exact;
use crate::input::aggregate::logs::LogAggregateRow;
use crate::input::{Distribution, LogRecord, Reference};

/// A scope: `0` every request, `k + 1` reference segment `k`.
pub type Scope = usize;

/// Everything kept about one window × scope.
#[derive(Debug, Clone, PartialEq, Default)]
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
    /// The first line of a mismatch, if any (logs; an aggregate has no lines).
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
    pub latency: [(u64, Exact); 3],
}

/// Exact weighted sums over labelled requests the small model answered, per reference bin
/// (weight: the label's inverse-probability weight, 1 without `--label-weight-field`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Labelled {
    /// Labelled requests.
    pub n: u64,
    /// Σ w per bin.
    pub bin_w: Vec<Exact>,
    /// Σ w · quality per bin.
    pub bin_wq: Vec<Exact>,
    /// Σ w² per bin.
    pub bin_w2: Vec<Exact>,
    /// Σ w² · quality · (1 − quality) per bin (the label's own variance where the bin has no
    /// prediction).
    pub bin_w2qq: Vec<Exact>,
    /// Labelled escalated requests with a large-model label, and Σ their quality.
    pub large: (u64, Exact),
}

/// [`Labelled`]'s sums rounded once, with the calibration's prediction for them.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelTotals {
    /// Labelled requests.
    pub n: u64,
    /// Σ w.
    pub w: f64,
    /// Σ w².
    pub w2: f64,
    /// Σ w · quality.
    pub wq: f64,
    /// Σ w · predicted quality (the reference bin's mean, else the label itself).
    pub wpred: f64,
    /// Σ w² · predicted (1 − predicted).
    pub w2var: f64,
    /// Σ w per bin.
    pub bin_w: Vec<f64>,
    /// Σ w · quality per bin.
    pub bin_wq: Vec<f64>,
    /// Σ w² per bin.
    pub bin_w2: Vec<f64>,
}

impl Labelled {
    /// The sums as doubles; `d`: the scope's reference (its per-bin predictions).
    pub fn totals(&self, d: &Distribution) -> LabelTotals {
        let total = |v: &[Exact]| {
            let mut t = Exact::default();
            v.iter().for_each(|x| t.plus(x));
            t.value()
        };
        let values = |v: &[Exact]| v.iter().map(Exact::value).collect::<Vec<f64>>();
        let (bin_w, bin_wq, bin_w2) = (
            values(&self.bin_w),
            values(&self.bin_wq),
            values(&self.bin_w2),
        );
        let (mut wpred, mut w2var) = (0.0, 0.0);
        for b in 0..bin_w.len() {
            match d.small_quality[b] {
                Some(p) => {
                    wpred += p * bin_w[b];
                    w2var += bin_w2[b] * p * (1.0 - p);
                }
                None => {
                    wpred += bin_wq[b];
                    w2var += self.bin_w2qq[b].value();
                }
            }
        }
        LabelTotals {
            n: self.n,
            w: total(&self.bin_w),
            w2: total(&self.bin_w2),
            wq: total(&self.bin_wq),
            wpred,
            w2var,
            bin_w,
            bin_wq,
            bin_w2,
        }
    }
}

/// Exact cost sums (currency units) of requests with a known cost: (requests, Σ cost).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CostSums {
    /// Answered by the small model.
    pub small_only: (u64, Exact),
    /// Escalated by the threshold.
    pub escalated: (u64, Exact),
    /// Sent to the large model by an override.
    pub overridden: (u64, Exact),
    /// Σ small cost of escalated requests: spend on answers thrown away.
    pub wasted_small: (u64, Exact),
    /// Σ large cost of escalated requests.
    pub large: (u64, Exact),
}

impl CostSums {
    /// Requests with a cost on any path, and Σ their cost rounded once.
    pub fn total(&self) -> (u64, f64) {
        let mut sum = Exact::default();
        let mut n = 0;
        for (k, s) in [&self.small_only, &self.escalated, &self.overridden] {
            n += k;
            sum.plus(s);
        }
        (n, sum.value())
    }
}

/// Feedback counts on one model's answers.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Feedback {
    /// Answers with a `regenerated` value, and how many were regenerated.
    pub regenerated: (u64, u64),
    /// Answers with a thumbs-down value, and how many got one.
    pub thumbs_down: (u64, u64),
}

impl Feedback {
    /// Adds `o`'s counts.
    fn add(&mut self, o: &Feedback) {
        self.regenerated.0 += o.regenerated.0;
        self.regenerated.1 += o.regenerated.1;
        self.thumbs_down.0 += o.thumbs_down.0;
        self.thumbs_down.1 += o.thumbs_down.1;
    }
}

/// What one request, or one row of a log aggregate (requests alike in window, hour, labels,
/// signal and route), adds to a cell: counts and exact sums, each over the requests with
/// that value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sums {
    /// Requests.
    pub requests: u64,
    /// Requests with a small-model label; Σ w, Σ w², Σ w·q, Σ w²·q·(1 − q) over them.
    pub small_labels: u64,
    /// Σ w.
    pub w: Exact,
    /// Σ w².
    pub w2: Exact,
    /// Σ w · quality.
    pub wq: Exact,
    /// Σ w² · quality · (1 − quality).
    pub w2qq: Exact,
    /// Requests with a large-model label, and Σ that quality.
    pub large_quality: (u64, Exact),
    /// The request's cost: `cost`, else the small model's plus (escalated) the large one's.
    pub cost: (u64, Exact),
    /// The small model's cost.
    pub small_cost: (u64, Exact),
    /// The large model's cost.
    pub large_cost: (u64, Exact),
    /// Latency, ms.
    pub latency: (u64, Exact),
    /// Requests with a `regenerated` value, and how many were.
    pub regenerated: (u64, u64),
    /// Requests with a thumbs-down value, and how many got one.
    pub thumbs_down: (u64, u64),
}

impl Sums {
    /// One logged request's contribution.
    pub fn of(r: &LogRecord) -> Sums {
        let one = |v: Option<f64>| {
            let mut e = Exact::default();
            if let Some(x) = v {
                e.add(x);
            }
            (u64::from(v.is_some()), e)
        };
        let flag = |v: Option<bool>| (u64::from(v.is_some()), u64::from(v == Some(true)));
        let cost = r.cost.or(match (r.small_cost, r.large_cost) {
            (Some(s), Some(l)) if r.escalated => Some(s + l),
            (Some(s), _) if !r.escalated => Some(s),
            _ => None,
        });
        let mut s = Sums {
            requests: 1,
            large_quality: one(r.large_quality),
            cost: one(cost),
            small_cost: one(r.small_cost),
            large_cost: one(r.large_cost),
            latency: one(r.latency_ms),
            regenerated: flag(r.regenerated),
            thumbs_down: flag(r.thumbs_down),
            ..Sums::default()
        };
        if let Some(q) = r.small_quality {
            let w = r.weight.unwrap_or(1.0);
            s.small_labels = 1;
            s.w.add(w);
            s.w2.add(w * w);
            s.wq.add(w * q);
            s.w2qq.add(w * w * q * (1.0 - q));
        }
        s
    }
}

impl Sums {
    /// A log aggregate row's contribution.
    pub fn of_row(row: &LogAggregateRow) -> Sums {
        let e = |k: usize| {
            let [p0, p1, p2] = row.sums[k];
            Exact { p0, p1, p2 }
        };
        let c = row.counts;
        Sums {
            requests: row.requests,
            small_labels: c[0],
            w: e(0),
            w2: e(1),
            wq: e(2),
            w2qq: e(3),
            large_quality: (c[1], e(4)),
            cost: (c[2], e(5)),
            small_cost: (c[3], e(6)),
            large_cost: (c[4], e(7)),
            latency: (c[5], e(8)),
            regenerated: (c[6], c[7]),
            thumbs_down: (c[8], c[9]),
        }
    }
}

/// Adds `(n, sum)` into `a`.
fn add(a: &mut (u64, Exact), b: &(u64, Exact)) {
    a.0 += b.0;
    a.1.plus(&b.1);
}

fn add_all(a: &mut [Exact], b: &[Exact]) {
    for (x, y) in a.iter_mut().zip(b) {
        x.plus(y);
    }
}

impl Cell {
    fn new(bins: usize) -> Cell {
        let zeros = || vec![Exact::default(); bins];
        Cell {
            bins: vec![0; bins],
            labels: Labelled {
                bin_w: zeros(),
                bin_wq: zeros(),
                bin_w2: zeros(),
                bin_w2qq: zeros(),
                ..Labelled::default()
            },
            ..Cell::default()
        }
    }

    /// Adds `other` (same scope) into this cell.
    pub fn merge(&mut self, o: &Cell) {
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
        add_all(&mut l.bin_w, &m.bin_w);
        add_all(&mut l.bin_wq, &m.bin_wq);
        add_all(&mut l.bin_w2, &m.bin_w2);
        add_all(&mut l.bin_w2qq, &m.bin_w2qq);
        add(&mut l.large, &m.large);
        let (c, d) = (&mut self.cost, &o.cost);
        add(&mut c.small_only, &d.small_only);
        add(&mut c.escalated, &d.escalated);
        add(&mut c.overridden, &d.overridden);
        add(&mut c.wasted_small, &d.wasted_small);
        add(&mut c.large, &d.large);
        for (a, b) in self.latency.iter_mut().zip(&o.latency) {
            add(a, b);
        }
        for (f, g) in self.feedback.iter_mut().zip(&o.feedback) {
            f.add(g);
        }
    }

    /// Cost, latency and feedback of requests alike, by path.
    fn add_spend(&mut self, s: &Sums, escalated: bool, route: &Routed) {
        let k = match (route.overridden, escalated) {
            (true, _) => 2,
            (false, true) => 1,
            (false, false) => 0,
        };
        add(&mut self.latency[k], &s.latency);
        let path = if route.overridden {
            self.overridden += s.requests;
            &mut self.cost.overridden
        } else if escalated {
            &mut self.cost.escalated
        } else {
            &mut self.cost.small_only
        };
        add(path, &s.cost);
        if escalated {
            add(&mut self.cost.wasted_small, &s.small_cost);
            add(&mut self.cost.large, &s.large_cost);
        }
        self.feedback[usize::from(escalated)].add(&Feedback {
            regenerated: s.regenerated,
            thumbs_down: s.thumbs_down,
        });
    }

    fn add(&mut self, s: &Sums, request: &Request, d: &Distribution) {
        let (route, escalated, n) = (request.route, request.escalated, s.requests);
        self.requests += n;
        self.escalated += n * u64::from(escalated);
        // The policy escalates exactly when it does not keep the small answer.
        if escalated == route.keep_small {
            if escalated {
                self.wrongly_escalated += n;
            } else {
                self.wrongly_kept += n;
            }
            self.first_mismatch_line = match (self.first_mismatch_line, request.line) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        self.add_spend(s, escalated, route);
        if route.overridden {
            return;
        }
        self.routed += n;
        self.routed_escalated += n * u64::from(escalated);
        let bin = d.bin(route.mapped);
        self.bins[bin] += n;
        self.outside += n * u64::from(d.outside(route.mapped));
        let l = &mut self.labels;
        if escalated {
            add(&mut l.large, &s.large_quality);
        } else {
            l.n += s.small_labels;
            l.bin_w[bin].plus(&s.w);
            l.bin_wq[bin].plus(&s.wq);
            l.bin_w2[bin].plus(&s.w2);
            l.bin_w2qq[bin].plus(&s.w2qq);
        }
    }
}

/// Where requests alike sit and how they went: the key of [`Sums`].
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Seconds since the epoch, floored (an aggregate row: its window's start).
    pub second: i64,
    /// The UTC hour of day.
    pub hour: usize,
    /// Whether the router escalated.
    pub escalated: bool,
    /// The policy's route.
    pub route: &'a Routed,
    /// The log line (`None`: an aggregate row).
    pub line: Option<u64>,
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
        let second = r.timestamp.floor() as i64;
        let request = Request {
            second,
            hour: second.rem_euclid(86_400) as usize / 3600,
            escalated: r.escalated,
            route,
            line: Some(r.line),
        };
        self.add_sums(&request, &Sums::of(r), reference);
    }

    /// Adds requests alike (one request, or one row of a log aggregate).
    pub fn add_sums(&mut self, request: &Request, s: &Sums, reference: &Reference) {
        let route = request.route;
        if !route.in_scope {
            self.out_of_scope += s.requests;
            return;
        }
        let start = request.second.div_euclid(self.window) * self.window;
        let hour = &mut self.by_hour[request.hour];
        hour.0 += s.requests;
        hour.1 += s.requests * u64::from(request.escalated);
        let overall = &reference.overall;
        let cell =
            (self.cells.entry((start, 0))).or_insert_with(|| Cell::new(overall.counts.len()));
        cell.add(s, request, overall);
        cell.unseen += s.requests * u64::from(route.unseen);
        if let Some(k) = route.segment {
            let d = &reference.segments[k].distribution;
            let cell =
                (self.cells.entry((start, k + 1))).or_insert_with(|| Cell::new(d.counts.len()));
            cell.add(s, request, d);
        }
    }

    /// The window starts, ascending.
    pub fn windows(&self) -> Vec<i64> {
        let mut w: Vec<i64> = self.cells.keys().map(|k| k.0).collect();
        w.dedup();
        w
    }
}
