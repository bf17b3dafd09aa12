//! The report's sections on what gets deployed: the signal (and its recalibration), segments,
//! safeguards and the policy document.
//!
//! Words and tables only; numbers come from the [`Report`] and the core's methods on it. It
//! must not compute.

use std::fmt::Write;

use crate::engine::objective::Objective;
use crate::engine::sweep::Metrics;
use crate::output::format::{cell, money, opt4, pct, threshold};
use crate::policy::segments::{Departures, Plan, Rule};
use crate::report::Report;
use crate::signals::Calibration;

/// The thresholded signal, when it is not the plain confidence field, and its recalibration.
pub(super) fn signal(r: &Report, o: &mut String) {
    let s = &r.signal;
    if s.formula.is_none() && r.recalibration.is_none() && s.name == "confidence" {
        return;
    }
    let _ = writeln!(o, "## Signal\n");
    let _ = write!(o, "The threshold applies to `{}`", s.name);
    match &s.formula {
        Some(f) => {
            let _ = writeln!(o, ", derived per record as {f}.\n");
        }
        None => {
            let _ = writeln!(o, ".\n");
        }
    }
    let Some(c) = &r.recalibration else {
        return;
    };
    let _ = writeln!(
        o,
        "Recalibrated with {}. The threshold is on the recalibrated probability: the map fitted \
         on every record (exported in the policy below) is applied to the signal before \
         comparing, in the sweep as in deployment. Calibration after is measured by {}-fold \
         cross-fitting: each record is scored by a map fitted on the other folds, so no record \
         grades itself.\n",
        c.method, c.folds
    );
    let _ = writeln!(
        o,
        "| | ECE (10 equal-width bins) | ECE (10 equal-mass bins) | MCE | Brier |\n|---|---|---|---|---|"
    );
    let row = |name: &str, c: &Option<Calibration>| match c {
        Some(c) => format!(
            "| {name} | {:.4} | {:.4} | {:.4} | {:.4} |",
            c.ece_width, c.ece_mass, c.mce, c.brier
        ),
        None => format!("| {name} | n/a (signal outside [0, 1]) | | | |"),
    };
    let _ = writeln!(o, "{}", row("before", &c.before));
    let _ = writeln!(o, "{}\n", row("after", &c.after));
    let pick = |m: &Metrics| {
        format!(
            "escalates {} with non-escalated quality {} at {} per request",
            pct(m.escalation_rate),
            opt4(m.non_escalated_quality),
            money(m.cost_per_request)
        )
    };
    let _ = writeln!(
        o,
        "A monotone map does not change which records rank above which, so the tradeoff barely \
         moves (where the map is flat it merges candidate thresholds, so the choice can be a \
         little coarser). On the raw signal the objective's pick {}; on the recalibrated signal \
         it {}.\n",
        match &c.raw_pick {
            Ok(m) => pick(m),
            Err(why) => format!("does not exist ({why})"),
        },
        match &r.recommendation {
            Ok(m) => pick(m),
            Err(_) => "does not exist".into(),
        }
    );
}

/// With `--segment-by`: the per-segment thresholds against the best single threshold, one
/// row per segment, and what the segments that cannot hold the target cost.
pub(super) fn segments(r: &Report, o: &mut String) {
    let Some(plan) = &r.deployment.plan else {
        return;
    };
    let columns: Vec<String> = plan.columns.iter().map(|c| cell(c)).collect();
    let _ = writeln!(o, "## Segments by {}\n", columns.join(", "));
    against_single(r, plan, o);
    if let Some(note) = &plan.note {
        let _ = writeln!(o, "{note}.\n");
    }
    let _ = writeln!(
        o,
        "Segments with fewer than {} records keep the global threshold (`--min-segment-records`).\n",
        plan.min_records
    );
    departure_rules(plan, o);
    certified_segments(r, o);
    cross_fit(r, o);
    segment_table(plan, o);
    for w in &plan.warnings {
        let _ = writeln!(o, "**Warning:** {w}.\n");
    }
    too_few_always_large(r, plan, o);
    cannot_meet_target(plan, o);
}

/// With `--certify`: the certified per-segment policy and its thresholds, or why none.
fn certified_segments(r: &Report, o: &mut String) {
    match &r.certified_segments {
        Some(Ok(c)) => {
            let _ = writeln!(
                o,
                "**Certified per-segment policy:** with probability at least {} over the draw of \
                 the labelled records, its non-escalated quality is at least {}, provided \
                 production requests are exchangeable with these records. How: the records were \
                 split in two (seed {}, stratified by segment); on {} records, for each shadow \
                 price λ of the quality constraint the cheapest per-segment choice is one policy, \
                 giving a family of {} ordered by λ; on the other {} records the fixed-sequence \
                 search of `--certify` tested them ({} tests at {:.3e} each, {}) and certified \
                 the most accepting that passed (p = {:.3e}, non-escalated quality {} there). On \
                 all records it escalates {} at {} per request, non-escalated quality {}. The \
                 deployable policy below is the cheaper of it and the certified global threshold \
                 (a segment the eval set does not hold escalates under it); either certificate \
                 fails with probability at most δ, so the one exported fails with probability at \
                 most 2δ = {} in all.\n",
                1.0 - c.delta,
                c.target,
                r.cross_fit.as_ref().map_or(0, |x| x.seed),
                c.build_records,
                c.family,
                c.test_records,
                c.certificate.tests,
                c.delta / f64::from(c.certificate.tests),
                c.certificate.method.name(),
                c.certificate.p_value,
                opt4(c.on_test.non_escalated_quality),
                pct(c.on_all.escalation_rate),
                money(c.on_all.cost_per_request),
                opt4(c.on_all.non_escalated_quality),
                2.0 * c.delta,
            );
            let _ = writeln!(o, "| Segment | Certified threshold |\n|---|---:|");
            for (labels, t) in &c.thresholds {
                let name: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let t = match t.is_finite() {
                    true => threshold(*t),
                    false => "always large".into(),
                };
                let _ = writeln!(o, "| {} | {t} |", cell(&name.join(", ")));
            }
            let _ = writeln!(o);
        }
        Some(Err(why)) => {
            let _ = writeln!(o, "No certified per-segment policy: {why}.\n");
        }
        None => {}
    }
}

/// The single threshold and the per-segment policy, in sample and cross-fitted.
fn cross_fit(r: &Report, o: &mut String) {
    let Some(c) = &r.cross_fit else {
        return;
    };
    let _ = writeln!(
        o,
        "Out of sample, cross-fitted: the whole selection (single threshold; per-segment policy \
         under the same rules) rerun on {} of {} folds (seed {}) and measured on the \
         fold left out; the folds' held-out records together give the figures below (`--cross-fit \
         K`, 0 turns it off). Optimism is the in-sample quality minus the cross-fitted one.\n",
        c.folds - 1,
        c.folds,
        c.seed
    );
    let _ = writeln!(
        o,
        "| Policy | In sample: quality | Cross-fitted: quality | Optimism | In sample: cost/request | Cross-fitted: cost/request | Cross-fitted: escalation | Objective met out of sample |\n\
         |---|---:|---:|---:|---:|---:|---:|---|"
    );
    let certified = c.certified.iter().map(|e| ("certified per-segment", e));
    let rows = [
        ("single threshold", &c.single),
        ("per-segment", &c.segments),
    ];
    for (name, e) in rows.into_iter().chain(certified) {
        let m = &e.cross_fitted;
        let _ = writeln!(
            o,
            "| {name} | {} | {} | {} | {} | {} | {} | {}{} |",
            opt4(e.in_sample.and_then(|i| i.non_escalated_quality)),
            opt4(m.non_escalated_quality),
            e.quality_optimism()
                .map_or("–".into(), |x| format!("{x:+.4}")),
            e.in_sample
                .map_or("–".into(), |i| money(i.cost_per_request)),
            money(m.cost_per_request),
            pct(m.escalation_rate),
            match e.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "–",
            },
            match e.folds_without_choice {
                0 => String::new(),
                k => format!(" ({k} folds chose nothing: escalated)"),
            }
        );
    }
    let _ = writeln!(o);
}

/// Which thresholds segments could take: the departure test and the floor.
fn departure_rules(plan: &Plan, o: &mut String) {
    match plan.departures {
        Departures::Tested { alpha } => {
            let _ = write!(
                o,
                "A segment leaves the global threshold only where its own records support it: \
                 in the confidence band between the two thresholds they must be better (to \
                 accept more) or worse (to escalate more) than the other segments' records, by \
                 a one-sided test at level {alpha} split over the segment's thresholds \
                 (`--segment-departures free` drops the test and overfits)."
            );
        }
        Departures::Free => {
            let _ = write!(
                o,
                "Segments may take any threshold (`--segment-departures free`): the in-sample \
                 joint optimum, which misses its target out of sample more often than one \
                 threshold."
            );
        }
    }
    if let Some(q) = plan.floor {
        let _ = write!(
            o,
            " No segment ships answers below quality {q} (`--segment-floor`)."
        );
    }
    let _ = writeln!(o, "\n");
}

/// The joint per-segment policy against the best single threshold.
fn against_single(r: &Report, plan: &Plan, o: &mut String) {
    let exactness = if plan.exact {
        "; the joint search is exact"
    } else {
        "; the joint search hit its state limit, so the choice may not be optimal"
    };
    match (&plan.policy, &plan.best_single) {
        (Some(p), Some(g)) if matches!(r.settings.objective, Objective::Budget { .. }) => {
            let _ = writeln!(
                o,
                "Per-segment thresholds chosen jointly under the objective ({}) deliver cascade \
                 quality {} at {} per request, against {} at {} for the best single threshold \
                 ({}){exactness}.\n",
                r.settings.objective.describe(),
                opt4(p.cascade_quality),
                money(p.cost_per_request),
                opt4(g.cascade_quality),
                money(g.cost_per_request),
                threshold(g.threshold),
            );
        }
        (Some(p), Some(g)) => {
            let saved = plan.savings_vs_single();
            let _ = writeln!(
                o,
                "Per-segment thresholds chosen jointly under the objective ({}) cost {} per \
                 request against {} for the best single threshold ({}): {} {}, escalating {} \
                 instead of {}{}.\n",
                r.settings.objective.describe(),
                money(p.cost_per_request),
                money(g.cost_per_request),
                threshold(g.threshold),
                saved.map_or("n/a".into(), |s| pct(s.abs())),
                match saved {
                    Some(s) if s >= 0.0 => "cheaper",
                    Some(_) => "dearer",
                    None => "savings undefined (the single threshold costs nothing)",
                },
                pct(p.escalation_rate),
                pct(g.escalation_rate),
                exactness
            );
        }
        (Some(p), None) => {
            let _ = writeln!(
                o,
                "No single threshold meets the objective, but per-segment thresholds do: {} per \
                 request, escalating {}.\n",
                money(p.cost_per_request),
                pct(p.escalation_rate)
            );
        }
        _ => {}
    }
}

/// One row per segment: its own best threshold, the global threshold's effect and the policy's.
fn segment_table(plan: &Plan, o: &mut String) {
    let _ = writeln!(
        o,
        "| Segment | Records | Small quality | Own best threshold | At global: escalation | At global: quality | Policy threshold | Policy: escalation | Policy: quality | Policy: cost/request | Why |\n\
         |---|---|---|---|---|---|---|---|---|---|---|"
    );
    for s in &plan.segments {
        let own = match &s.own {
            Ok(m) => m
                .deployed_threshold()
                .map_or("escalate all".into(), threshold),
            Err(_) => "none meets it".into(),
        };
        let (ge, gq) = s
            .at_global
            .as_ref()
            .map_or(("n/a".into(), "n/a".into()), |m| {
                (pct(m.escalation_rate), opt4(m.non_escalated_quality))
            });
        let at = s.threshold.map_or("always large".into(), threshold);
        let _ = writeln!(
            o,
            "| {} | {} | {:.4} | {own} | {ge} | {gq} | {at} | {} | {} | {} | {} |",
            cell(&s.name),
            s.records,
            s.small_quality,
            pct(s.chosen.escalation_rate),
            opt4(s.chosen.non_escalated_quality),
            money(s.chosen.cost_per_request),
            s.reason(plan.min_records)
        );
    }
    let _ = writeln!(o);
}

/// What routing a too-small segment to the large model costs against the global threshold.
fn too_few_always_large(r: &Report, plan: &Plan, o: &mut String) {
    for s in plan
        .segments
        .iter()
        .filter(|s| s.rule == Rule::TooFewAlwaysLarge)
    {
        if let (Some(g), Some(extra)) = (&s.at_global, s.extra_cost_over(r.records)) {
            let _ = writeln!(
                o,
                "- {}: routing it all to the large model costs {} per request on its records \
                 against {} at the global threshold ({} per request over all records), and \
                 gives its requests cascade quality {} instead of {}.\n",
                cell(&s.name),
                money(s.chosen.cost_per_request),
                money(g.cost_per_request),
                money(extra),
                opt4(s.chosen.cascade_quality),
                opt4(g.cascade_quality),
            );
        }
    }
}

/// Segments no threshold meets the target on: pooled by the policy, and what routing them all
/// to the large model would cost instead.
fn cannot_meet_target(plan: &Plan, o: &mut String) {
    let hopeless: Vec<String> = plan
        .segments
        .iter()
        .filter(|s| s.rule == Rule::CannotMeetTarget)
        .map(|s| cell(&s.name))
        .collect();
    if let (false, Some(p)) = (hopeless.is_empty(), &plan.policy) {
        let _ = write!(
            o,
            "No threshold meets the target on {} alone. The policy above pools them with the \
             other segments (the target holds over all records together). ",
            hopeless.join(", ")
        );
        let _ = writeln!(
            o,
            "{}\n",
            match &plan.routed_alternative {
                Some(a) => format!(
                    "Routing all of them to the large model instead, with the other thresholds \
                     re-chosen, would cost {} per request against {} (escalating {} instead \
                     of {}), with cascade quality {} against {}; choose it with \
                     `--always-large` if each segment must hold the target on its own.",
                    money(a.cost_per_request),
                    money(p.cost_per_request),
                    pct(a.escalation_rate),
                    pct(p.escalation_rate),
                    opt4(a.cascade_quality),
                    opt4(p.cascade_quality),
                ),
                None => "Routing all of them to the large model instead leaves no feasible \
                         thresholds for the others."
                    .into(),
            }
        );
    }
}

/// What each safeguard costs and buys under the policy.
pub(super) fn safeguards(r: &Report, o: &mut String) {
    let effects = &r.deployment.effects;
    if effects.is_empty() {
        return;
    }
    let _ = writeln!(o, "## Safeguards\n");
    let _ = writeln!(
        o,
        "Requests a safeguard sends to the large model escalate whatever their confidence; the \
         sweep and every number above count them that way. Each row compares the policy with \
         and without that one safeguard (the records only it forces then follow their \
         threshold).\n"
    );
    let _ = writeln!(
        o,
        "| Safeguard | Records | Only this one | Moved to large | Cost/request with | without | Non-escalated quality with | without | Cascade quality with | without |\n\
         |---|---|---|---|---|---|---|---|---|---|"
    );
    for e in effects {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&e.label),
            e.matched,
            e.exclusive,
            e.moved,
            money(e.with.cost_per_request),
            money(e.without.cost_per_request),
            opt4(e.with.non_escalated_quality),
            opt4(e.without.non_escalated_quality),
            opt4(e.with.cascade_quality),
            opt4(e.without.cascade_quality),
        );
        if e.matched == 0 {
            let _ = writeln!(
                o,
                "\n*{} matches no record of this eval set; it costs nothing here.*\n",
                cell(&e.label)
            );
        }
    }
    let _ = writeln!(o);
}

/// The deployable policy document, unless it is the single recommended threshold.
pub(super) fn policy(r: &Report, o: &mut String) {
    let Some(p) = &r.deployment.policy else {
        return;
    };
    // A single global threshold on the confidence field is the recommendation itself.
    if p.is_single() {
        return;
    }
    let _ = writeln!(o, "## Deployable policy\n");
    let _ = writeln!(
        o,
        "`calibrate recommend` with the same flags and `--print json|yaml|toml|env` prints this \
         policy; `summary.json` holds it under `policy`. How a router applies it: {}.\n",
        p.rule
    );
    // A map's points (hundreds for an isotonic map) and the monitoring reference live in
    // summary.json, not in the report.
    let mut shown = p.clone();
    shown.reference = None;
    let elided = match &mut shown.signal.recalibration {
        Some(map) => map.points.take().map(|points| points.len()),
        None => None,
    };
    let json = serde_json::to_string_pretty(&shown).unwrap_or_default();
    let _ = writeln!(o, "```json\n{json}\n```\n");
    if let Some(n) = elided {
        let _ = writeln!(
            o,
            "The recalibration map's {n} points are left out above; the full policy, map \
             included, is in [`summary.json`](summary.json) under `policy`.\n"
        );
    }
}
