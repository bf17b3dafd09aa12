//! The "Plots" section: each plot that applies, with its heading, the PNG, a caption that says
//! how to read it and a link to the SVG.
//!
//! Words only; which plots apply is the plots module's to say. It must not compute.

use std::fmt::Write;

use crate::output::plots::Plot;
use crate::report::Report;

/// Every plot that applies, in report order.
pub(super) fn plots(r: &Report, o: &mut String) {
    let _ = writeln!(o, "## Plots\n");
    for plot in Plot::ALL {
        if !plot.applies(r) {
            continue;
        }
        let (heading, caption) = plot_words(plot);
        let _ = writeln!(
            o,
            "### {heading}\n\n![{heading}]({stem}.png)\n\n{caption} ([SVG]({stem}.svg))\n",
            stem = plot.stem()
        );
    }
}

/// A plot's heading and caption.
fn plot_words(plot: Plot) -> (&'static str, &'static str) {
    match plot {
        Plot::Tradeoff => (
            "Quality against escalation rate",
            "Each threshold is a point: moving right escalates more. The blue curve is the \
             quality of the answers the small model ships; the orange one is the quality of all \
             answers, each with its interval band. Shaded in red: escalation past this data's \
             break-even, where the cascade costs more than always-large; in purple, for \
             reference, the post's rule of thumb that savings erode above 30 to 40 %.",
        ),
        Plot::Cost => (
            "Cost and savings against threshold",
            "Cost per request of the cascade (the small model is always paid; in the unit of \
             the input's costs) and its savings against always-large, with the recommended \
             threshold in both panels. Where savings reach zero the cascade stops paying for \
             itself.",
        ),
        Plot::Frontier => (
            "Quality against cost",
            "Every threshold as a (cost, quality) point, with the two single-model policies and \
             the oracle that sends each prompt to the cheapest model that gets it right: the gap \
             to the oracle is what a better confidence signal could still buy.",
        ),
        Plot::Confidence => (
            "Confidence of right and wrong answers",
            "How the thresholded signal spreads over right answers and over wrong ones, each as \
             its share per bin (so a few wrong answers show beside many right ones). The more \
             the two overlap, the less any threshold can separate them.",
        ),
        Plot::Reliability => (
            "Reliability diagram",
            "Observed small-model quality per signal bin (labels: records per bin; with \
             `--recalibrate`, the cross-fitted values the ECE above measures) against \
             the diagonal of perfect calibration. Above the diagonal the model is under-confident; \
             below, over-confident. A threshold only needs the ranking to be right, not the scale.",
        ),
        Plot::Funnel => (
            "Escalation funnel",
            "Where requests go at the recommended threshold, each share of its own base: shipped \
             errors are accepted answers that were wrong (share of the shipped answers); wasted \
             escalations are escalated requests the small model had right, and \"large better\" \
             and \"large worse\" count escalated requests whose large answer scored above or \
             below the small one's (shares of the escalations; fractional labels count \
             fractionally).",
        ),
    }
}
