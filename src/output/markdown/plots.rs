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
             answers. The shaded band is the post's rule of thumb: above 30 to 40 % escalation \
             the savings erode.",
        ),
        Plot::Cost => (
            "Cost and savings against threshold",
            "Cost per request of the cascade (the small model is always paid) and its savings \
             against always-large. Where savings reach zero the cascade stops paying for itself.",
        ),
        Plot::Frontier => (
            "Quality against cost",
            "Every threshold as a (cost, quality) point, with the two single-model policies and \
             the oracle that sends each prompt to the cheapest model that gets it right: the gap \
             to the oracle is what a better confidence signal could still buy.",
        ),
        Plot::Confidence => (
            "Confidence of right and wrong answers",
            "Histograms of the small model's confidence, split by whether its answer was right. \
             The more the two overlap, the less any threshold can separate them.",
        ),
        Plot::Reliability => (
            "Reliability diagram",
            "Observed small-model quality per confidence bin (labels: records per bin) against \
             the diagonal of perfect calibration. Above the diagonal the model is under-confident; \
             below, over-confident. A threshold only needs the ranking to be right, not the scale.",
        ),
        Plot::Funnel => (
            "Escalation funnel",
            "Where requests go at the recommended threshold: shipped errors are accepted answers \
             that were wrong; wasted escalations are escalated requests the small model had \
             right; gained and lost compare the large model's answer with the small one's on \
             escalated requests.",
        ),
    }
}
