//! The six charts, each drawn once for any plotters backend.
//!
//! Every number comes from the [`Report`] and its dashboard; these functions only lay it out.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::SIZE;
use super::style::{
    BLUE, FONT, GREEN, GREY, ORANGE, PURPLE, RED, count, dashed, err, legend, pct,
    reliability_frame,
};
use crate::report::Report;
use crate::trust::intervals::{Interval, RowIntervals};

pub(super) fn tradeoff<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let d = &r.findings;
    let b = &r.baselines;
    let mut lowest: f64 = 1.0;
    for m in &d.curve {
        for q in [m.non_escalated_quality, m.cascade_quality]
            .into_iter()
            .flatten()
        {
            lowest = lowest.min(q);
        }
    }
    for q in [b.always_small.quality, b.always_large.quality]
        .into_iter()
        .flatten()
    {
        lowest = lowest.min(q);
    }
    let y0 = ((lowest - 0.02) * 20.0).floor() / 20.0;
    let mut chart = ChartBuilder::on(root)
        .caption("Quality against escalation rate", (FONT, 24))
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, y0.max(0.0)..1.0)
        .map_err(err)?;
    // The post's rule of thumb: above 30 to 40 % escalation the savings erode.
    chart
        .draw_series([
            Rectangle::new([(0.3, y0.max(0.0)), (0.4, 1.0)], RED.mix(0.10).filled()),
            Rectangle::new([(0.4, y0.max(0.0)), (1.0, 1.0)], RED.mix(0.05).filled()),
        ])
        .map_err(err)?
        .label("escalation above 30-40 %: savings erode")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], RED.mix(0.2).filled()));
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .x_desc("escalation rate (share of requests sent to the large model)")
        .y_desc("quality (mean label, 0 to 1)")
        .x_label_formatter(&pct)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(err)?;
    let series = |f: &dyn Fn(&crate::engine::sweep::Metrics) -> Option<f64>| -> Vec<(f64, f64)> {
        d.curve
            .iter()
            .filter_map(|m| f(m).map(|q| (m.escalation_rate, q)))
            .collect()
    };
    // Interval bands from the report's rows (at its confidence level), under the curves.
    let band = |f: &dyn Fn(&RowIntervals) -> Option<Interval>| -> Vec<(f64, f64)> {
        let pairs: Vec<(f64, Interval)> = r
            .rows
            .iter()
            .zip(&r.uncertainty.rows)
            .filter_map(|(m, u)| f(u).map(|i| (m.escalation_rate, i)))
            .collect();
        // Clipped to the plotted range.
        let lower = pairs.iter().map(|(x, i)| (*x, i.lo.max(y0.max(0.0))));
        let upper = pairs.iter().rev().map(|(x, i)| (*x, i.hi));
        lower.chain(upper).collect()
    };
    let level = 100.0 * r.uncertainty.settings.level;
    for (f, color) in [
        (
            &(|u: &RowIntervals| u.non_escalated_quality) as &dyn Fn(&RowIntervals) -> _,
            BLUE,
        ),
        (&|u: &RowIntervals| u.cascade_quality, ORANGE),
    ] {
        let points = band(f);
        if points.len() >= 3 {
            chart
                .draw_series([Polygon::new(points, color.mix(0.18).filled())])
                .map_err(err)?;
        }
    }
    chart
        .draw_series(LineSeries::new(
            series(&|m| m.non_escalated_quality),
            BLUE.stroke_width(3),
        ))
        .map_err(err)?
        .label(format!(
            "non-escalated quality (answers the small model ships), {level:.0} % band"
        ))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
    if r.settings.has_large_quality {
        chart
            .draw_series(LineSeries::new(
                series(&|m| m.cascade_quality),
                ORANGE.stroke_width(3),
            ))
            .map_err(err)?
            .label("cascade quality (all requests)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], ORANGE.stroke_width(3)));
    }
    if let Some(q) = b.always_small.quality {
        dashed(
            &mut chart,
            vec![(0.0, q), (1.0, q)],
            GREY,
            "always-small quality",
        )?;
    }
    if let Some(q) = b.always_large.quality {
        dashed(
            &mut chart,
            vec![(0.0, q), (1.0, q)],
            GREEN,
            "always-large quality",
        )?;
    }
    if let Ok(m) = &r.recommendation
        && let Some(q) = m.non_escalated_quality
    {
        chart
            .draw_series([Circle::new((m.escalation_rate, q), 7, RED.filled())])
            .map_err(err)?
            .label(format!(
                "recommended: threshold {}, {:.1}% escalated, quality {:.3}",
                m.threshold,
                100.0 * m.escalation_rate,
                q
            ))
            .legend(|(x, y)| Circle::new((x + 12, y), 6, RED.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight, 15)?;
    Ok(())
}

pub(super) fn cost<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (top, bottom) = root.split_vertically(SIZE.1 * 55 / 100);
    let rows = &r.rows;
    let (x0, x1) = (rows[0].threshold, rows[rows.len() - 1].threshold);
    let b = &r.baselines;
    let top_cost = rows
        .iter()
        .map(|m| m.cost_per_request)
        .fold(b.always_large.cost_per_request, f64::max)
        * 1.08;
    let mut chart = ChartBuilder::on(&top)
        .caption("Cost and savings against threshold", (FONT, 24))
        .margin(16)
        .x_label_area_size(30)
        .y_label_area_size(90)
        .build_cartesian_2d(x0..x1, 0.0..top_cost)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .y_desc("cost per request")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            rows.iter().map(|m| (m.threshold, m.cost_per_request)),
            BLUE.stroke_width(3),
        ))
        .map_err(err)?
        .label("cascade (small model always paid)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
    let large = b.always_large.cost_per_request;
    let small = b.always_small.cost_per_request;
    dashed(
        &mut chart,
        vec![(x0, large), (x1, large)],
        RED,
        "always-large = break-even",
    )?;
    dashed(
        &mut chart,
        vec![(x0, small), (x1, small)],
        GREY,
        "always-small",
    )?;
    legend(&mut chart, SeriesLabelPosition::UpperRight, 14)?;

    let savings: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|m| m.savings_vs_large.map(|s| (m.threshold, s)))
        .collect();
    let lo = savings.iter().map(|p| p.1).fold(0.0, f64::min);
    let mut chart = ChartBuilder::on(&bottom)
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(x0..x1, (lo - 0.05)..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .x_desc("threshold (accept the small answer when confidence >= threshold)")
        .y_desc("savings vs always-large")
        .y_label_formatter(&pct)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(savings, GREEN.stroke_width(3)))
        .map_err(err)?
        .label("savings")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], GREEN.stroke_width(3)));
    dashed(&mut chart, vec![(x0, 0.0), (x1, 0.0)], RED, "no savings")?;
    if let Ok(m) = &r.recommendation {
        let x = m.threshold.clamp(x0, x1);
        chart
            .draw_series(LineSeries::new(
                vec![(x, lo - 0.05), (x, 1.0)],
                PURPLE.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("recommended threshold {}", m.threshold))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], PURPLE.stroke_width(2)));
    }
    legend(&mut chart, SeriesLabelPosition::LowerLeft, 14)?;
    Ok(())
}

pub(super) fn frontier<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let d = &r.findings;
    let b = &r.baselines;
    let points: Vec<(f64, f64)> = d
        .curve
        .iter()
        .filter_map(|m| m.cascade_quality.map(|q| (m.cost_per_request, q)))
        .collect();
    let mut extra = vec![
        (
            b.always_large.cost_per_request,
            b.always_large.quality.unwrap_or(0.0),
        ),
        (
            b.always_small.cost_per_request,
            b.always_small.quality.unwrap_or(0.0),
        ),
    ];
    if let Some(o) = d.oracle {
        extra.push((o.cost_per_request, o.quality));
    }
    let all = points.iter().chain(&extra);
    let x1 = all.clone().map(|p| p.0).fold(0.0, f64::max) * 1.05;
    let y0 = all.map(|p| p.1).fold(1.0, f64::min);
    let y0 = (((y0 - 0.02) * 20.0).floor() / 20.0).max(0.0);
    let mut chart = ChartBuilder::on(root)
        .caption("Quality against cost: every threshold", (FONT, 24))
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x1, y0..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .x_desc("cost per request")
        .y_desc("cascade quality (mean label, 0 to 1)")
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(points, BLUE.stroke_width(3)))
        .map_err(err)?
        .label("cascade at each threshold")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
    let mut marker = |p: (f64, f64), color: RGBColor, label: String| -> Result<()> {
        chart
            .draw_series([Circle::new(p, 7, color.filled())])
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| Circle::new((x + 12, y), 6, color.filled()));
        Ok(())
    };
    marker(extra[1], GREY, "always-small".into())?;
    marker(extra[0], GREEN, "always-large".into())?;
    if let Some(o) = d.oracle {
        marker(
            (o.cost_per_request, o.quality),
            PURPLE,
            "oracle: each prompt to the cheapest model that gets it right".into(),
        )?;
    }
    if let Ok(m) = &r.recommendation
        && let Some(q) = m.cascade_quality
    {
        marker(
            (m.cost_per_request, q),
            RED,
            format!("recommended: threshold {}", m.threshold),
        )?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight, 15)?;
    Ok(())
}

pub(super) fn confidence<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &Report,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let h = &r.findings.histogram;
    let (x0, x1) = (h.edges[0], h.edges[h.edges.len() - 1]);
    let top = h
        .right
        .iter()
        .chain(&h.wrong)
        .fold(1.0, |a: f64, b| a.max(*b))
        * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Confidence of right and wrong small-model answers",
            (FONT, 24),
        )
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, 0.0..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .x_desc("small-model confidence")
        .y_desc("records")
        .y_label_formatter(&count)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(err)?;
    let bars = |counts: &[f64], color: RGBColor| {
        counts
            .iter()
            .enumerate()
            .map(move |(i, &c)| {
                Rectangle::new(
                    [(h.edges[i], 0.0), (h.edges[i + 1], c)],
                    color.mix(0.45).filled(),
                )
            })
            .collect::<Vec<_>>()
    };
    chart
        .draw_series(bars(&h.right, GREEN))
        .map_err(err)?
        .label("right answers")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], GREEN.mix(0.45).filled()));
    chart
        .draw_series(bars(&h.wrong, RED))
        .map_err(err)?
        .label("wrong answers")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], RED.mix(0.45).filled()));
    if let Ok(m) = &r.recommendation {
        let x = m.threshold.clamp(x0, x1);
        chart
            .draw_series(LineSeries::new(
                vec![(x, 0.0), (x, top)],
                PURPLE.stroke_width(3),
            ))
            .map_err(err)?
            .label(format!(
                "recommended threshold {} (escalate left of it)",
                m.threshold
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], PURPLE.stroke_width(3)));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft, 15)?;
    Ok(())
}

pub(super) fn reliability<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &Report,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let bins = r.findings.reliability.as_deref().unwrap_or_default();
    let mut chart = reliability_frame(
        root,
        "Reliability: observed quality against confidence",
        "small-model confidence (bins of 0.1)",
        1.08,
    )?;
    let points: Vec<(f64, f64)> = bins
        .iter()
        .map(|b| (b.mean_score, b.mean_quality))
        .collect();
    chart
        .draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(3)))
        .map_err(err)?
        .label("observed (label: records in bin)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
    chart
        .draw_series(points.iter().map(|p| Circle::new(*p, 5, BLUE.filled())))
        .map_err(err)?;
    chart
        .draw_series(bins.iter().map(|b| {
            Text::new(
                format!("{}", b.count),
                (b.mean_score, b.mean_quality + 0.03),
                (FONT, 14).into_font().color(&BLACK),
            )
        }))
        .map_err(err)?;
    legend(&mut chart, SeriesLabelPosition::UpperLeft, 15)?;
    Ok(())
}

pub(super) fn funnel<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let Some(f) = r.findings.funnel else {
        return Ok(());
    };
    let threshold = r
        .recommendation
        .as_ref()
        .map(|m| m.threshold)
        .unwrap_or(f64::NAN);
    let mut bars: Vec<(String, f64, RGBColor)> = vec![
        ("requests".into(), f.requests as f64, GREY),
        ("answered by small".into(), f.accepted as f64, BLUE),
        ("escalated to large".into(), f.escalated as f64, ORANGE),
        (
            "shipped errors (accepted, wrong)".into(),
            f.shipped_errors,
            RED,
        ),
        (
            "wasted escalations (small was right)".into(),
            f.wasted_escalations,
            PURPLE,
        ),
    ];
    if let (Some(g), Some(l)) = (f.gained, f.lost) {
        bars.push(("quality gained on escalation".into(), g, GREEN));
        bars.push(("quality lost on escalation".into(), l, RED));
    }
    let n = f.requests as f64;
    let rows = bars.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("Escalation funnel at threshold {threshold}"),
            (FONT, 24),
        )
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(10)
        .build_cartesian_2d(0.0..n * 1.02, 0.0..rows)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("records")
        .x_label_formatter(&count)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(err)?;
    for (i, (label, value, color)) in bars.iter().enumerate() {
        let y = rows - i as f64;
        chart
            .draw_series([Rectangle::new(
                [(0.0, y - 0.85), (*value, y - 0.15)],
                color.mix(0.75).filled(),
            )])
            .map_err(err)?;
        let share = if n > 0.0 { 100.0 * value / n } else { 0.0 };
        chart
            .draw_series([Text::new(
                format!("{label}: {} ({share:.1}%)", trim(*value)),
                (n * 0.01, y - 0.62),
                (FONT, 17).into_font().color(&BLACK),
            )])
            .map_err(err)?;
    }
    Ok(())
}

/// Counts print without decimals; fractional quality sums keep two.
fn trim(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}
