//! A seeded generator of production logs for `calibrate monitor`, drawn from a policy's own
//! calibration reference, with injectable faults. Shared by the integration tests and
//! `cargo run --example gen_logs`. The signal is drawn on the thresholded scale, so the policy
//! must have no recalibration map (a map's logs carry the raw signal, which this does not
//! invert).
//!
//! The model: each request picks a reference segment in proportion to its eval records, a
//! signal bin in proportion to the bin's eval records and a signal uniform within the bin; the
//! router keeps the small answer iff signal >= the segment's threshold. 10 % of kept answers
//! carry a small_quality label drawn Bernoulli(the bin's eval quality), 10 % of escalated ones a
//! large_quality label likewise. Costs are the reference means times U(0.8, 1.2). Users
//! regenerate 5 % and thumb down 2 % of answers of either model. Timestamps alternate between
//! RFC 3339 text and epoch seconds. Latency: 400-1200 ms, plus 2-5 s when escalated. Same seed,
//! same bytes (ChaCha8).

#![allow(dead_code)]

use std::fmt::Write as _;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde_json::Value;

/// 2026-01-01T00:00:00Z.
pub const START: i64 = 1_767_225_600;

/// Faults to inject (all off by default).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// From this day on, this segment value's signal moves down by 0.3 (clamped at the
    /// reference minimum).
    pub shift: Option<(String, u32)>,
    /// From this day on, in this segment, 3 % of requests carry signal == threshold and the
    /// router escalates them (`>` for `>=`).
    pub strict_router: Option<(String, u32)>,
    /// From this day on, in this segment, the small model is right 25 points less often with
    /// unchanged signals.
    pub worse_small: Option<(String, u32)>,
    /// On day d, a share 0.06 d of requests gets a signal below the threshold (escalation
    /// creeps past 40 %).
    pub creep: bool,
    /// From this day on, users regenerate small answers four times as often (20 %).
    pub regenerate_small: Option<u32>,
}

struct Draw(ChaCha8Rng);

impl Draw {
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn bernoulli(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut u = self.unit() * total;
        for (k, w) in weights.iter().enumerate() {
            if u < *w {
                return k;
            }
            u -= w;
        }
        weights.len() - 1
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

/// JSON Lines logs of `days` days × `per_day` requests routed by `policy` (a summary.json or
/// `recommend --print json` with a reference whose segments are by one column).
pub fn generate(policy: &Value, seed: u64, days: u32, per_day: u32, faults: &Faults) -> String {
    let p = policy.get("policy").unwrap_or(policy);
    let reference = &p["reference"];
    let column = reference["segment_by"][0].as_str().unwrap().to_string();
    let segments = reference["segments"].as_array().unwrap();
    let cost = (
        reference["cost"]["small"].as_f64().unwrap(),
        reference["cost"]["large"].as_f64().unwrap(),
    );
    let seg_weights: Vec<f64> = segments
        .iter()
        .map(|s| s["records"].as_f64().unwrap())
        .collect();
    let mut g = Draw(ChaCha8Rng::seed_from_u64(seed));
    let mut out = String::new();
    let after = |f: &Option<(String, u32)>, name: &str, day: u32| {
        f.as_ref().is_some_and(|(s, d)| s == name && day >= *d)
    };
    for day in 0..days {
        for i in 0..per_day {
            let seg = &segments[g.pick(&seg_weights)];
            let name = seg["match"][&column].as_str().unwrap();
            let edges = floats(&seg["edges"]);
            let counts = floats(&seg["counts"]);
            let small_q = floats(&seg["small_quality"]);
            let large_q = floats(&seg["large_quality"]);
            let t = seg["threshold"].as_f64().unwrap_or(f64::INFINITY);
            let b = g.pick(&counts);
            let mut signal = edges[b] + g.unit() * (edges[b + 1] - edges[b]);
            if after(&faults.shift, name, day) {
                signal = (signal - 0.3).max(edges[0]);
            }
            if faults.creep && g.bernoulli(0.06 * day as f64) {
                signal = edges[0] + g.unit() * (t.min(edges[edges.len() - 1]) - edges[0]);
            }
            let mut escalated = signal < t;
            if after(&faults.strict_router, name, day) && g.bernoulli(0.03) {
                signal = t;
                escalated = true;
            }
            let bin = edges
                .partition_point(|e| *e <= signal)
                .clamp(1, counts.len())
                - 1;
            let ts = START + day as i64 * 86_400 + (i as i64 * 86_400) / per_day as i64;
            let mut line = String::new();
            if i % 2 == 0 {
                let _ = write!(line, "{{\"timestamp\":{ts}");
            } else {
                let _ = write!(line, "{{\"timestamp\":\"{}\"", rfc3339(ts));
            }
            let _ = write!(
                line,
                ",\"{column}\":\"{name}\",\"confidence\":{signal},\"escalated\":{escalated}"
            );
            let small_cost = cost.0 * (0.8 + 0.4 * g.unit());
            let _ = write!(line, ",\"small_cost\":{small_cost}");
            if escalated {
                let _ = write!(line, ",\"large_cost\":{}", cost.1 * (0.8 + 0.4 * g.unit()));
            }
            let regen = match (escalated, faults.regenerate_small) {
                (false, Some(d)) if day >= d => 0.20,
                _ => 0.05,
            };
            let _ = write!(
                line,
                ",\"regenerated\":{},\"thumbs_down\":{}",
                g.bernoulli(regen),
                g.bernoulli(0.02)
            );
            // Latency: the small model's 400-1200 ms, plus the large model's 2-5 s when escalated.
            let mut latency = 400.0 + 800.0 * g.unit();
            if escalated {
                latency += 2000.0 + 3000.0 * g.unit();
            }
            let _ = write!(line, ",\"latency_ms\":{}", latency.round());
            if g.bernoulli(0.1) {
                if escalated {
                    let q = large_q
                        .get(bin)
                        .copied()
                        .filter(|q| q.is_finite())
                        .unwrap_or(0.9);
                    let _ = write!(line, ",\"large_quality\":{}", u8::from(g.bernoulli(q)));
                } else {
                    let mut q = small_q[bin];
                    if after(&faults.worse_small, name, day) {
                        q = (q - 0.25).max(0.0);
                    }
                    let _ = write!(line, ",\"small_quality\":{}", u8::from(g.bernoulli(q)));
                }
            }
            line.push_str("}\n");
            out.push_str(&line);
        }
    }
    out
}

/// RFC 3339 text of epoch seconds (UTC), for the generated timestamps.
fn rfc3339(ts: i64) -> String {
    let (days, secs) = (ts.div_euclid(86_400), ts.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}
