//! The plots by structure, not by bytes: each SVG parses, has the plot's size, its caption and
//! the labels of its series, and draws paths; every plot renders to the same bytes twice; every
//! PNG decodes at the plot's size.

use super::fixtures::{policy_report, signals, tiny_report};
use crate::output::plots::{self, Plot, SIZE};
use crate::output::signals_files;
use crate::report::Report;

/// The texts of an SVG, checked to be one `<svg>` of the plot's size with drawn paths.
fn svg_texts(name: &str, bytes: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(bytes).unwrap();
    let doc = roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg", "{name}");
    assert_eq!(root.attribute("width"), Some(SIZE.0.to_string().as_str()));
    assert_eq!(root.attribute("height"), Some(SIZE.1.to_string().as_str()));
    let drawn = root
        .descendants()
        .filter(|n| {
            matches!(
                n.tag_name().name(),
                "path" | "polyline" | "polygon" | "circle"
            )
        })
        .count();
    assert!(drawn > 0, "{name}: nothing drawn");
    root.descendants()
        .filter(|n| n.tag_name().name() == "text")
        .map(|n| n.text().unwrap_or_default().trim().to_string())
        .collect()
}

/// The PNG's width and height.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = ::png::Decoder::new(std::io::Cursor::new(bytes));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    (info.width, info.height)
}

fn assert_has(name: &str, texts: &[String], expected: &[&str]) {
    for e in expected {
        assert!(
            texts.iter().any(|t| t == e),
            "{name}: no text {e:?} in {texts:?}"
        );
    }
}

/// Every plot that applies, as (file name, bytes), rendered twice to check determinism.
fn rendered(report: &Report) -> Vec<(&'static str, Vec<u8>)> {
    let once = crate::output::render_all(report).unwrap();
    let twice = crate::output::render_all(report).unwrap();
    for ((name, a), (_, b)) in once.iter().zip(&twice) {
        assert!(a == b, "{name} differs between two renderings");
    }
    once.into_iter()
        .filter(|(n, _)| n.ends_with(".svg") || n.ends_with(".png"))
        .collect()
}

#[test]
fn report_plots_have_their_captions_and_series() {
    let report = tiny_report();
    let files = rendered(&report);
    assert_eq!(files.len(), 2 * Plot::ALL.len());
    let expected: [(&str, &[&str]); 6] = [
        (
            "tradeoff.svg",
            &[
                "Quality against escalation rate",
                "cascade quality (all requests)",
                "always-small quality",
                "always-large quality",
                "recommended: threshold 0.6, 40.0% escalated",
                "objective: non-escalated quality >= 0.8",
                "95 % interval, cascade quality",
            ],
        ),
        (
            "cost.svg",
            &[
                "Cost and savings against threshold",
                "always-large = break-even",
                "recommended threshold 0.6",
            ],
        ),
        (
            "frontier.svg",
            &[
                "Quality against cost: every threshold",
                "always-small",
                "always-large",
                "recommended: threshold 0.6",
            ],
        ),
        (
            "confidence.svg",
            &[
                "Where right and wrong small-model answers fall on the signal",
                "right answers (6)",
                "wrong answers (4)",
            ],
        ),
        (
            "reliability.svg",
            &[
                "Reliability: observed quality against the signal",
                "perfectly calibrated",
            ],
        ),
        (
            "funnel.svg",
            &[
                "Escalation funnel at threshold 0.6",
                "requests",
                "shipped errors",
                "1  (16.7% of shipped answers)",
            ],
        ),
    ];
    for (name, labels) in expected {
        let (_, bytes) = files.iter().find(|(n, _)| *n == name).unwrap();
        assert_has(name, &svg_texts(name, bytes), labels);
    }
    for (name, bytes) in files.iter().filter(|(n, _)| n.ends_with(".png")) {
        assert_eq!(png_size(bytes), SIZE, "{name}");
    }
}

#[test]
fn segmented_report_plots_render() {
    let report = policy_report();
    for (name, bytes) in rendered(&report) {
        if name.ends_with(".svg") {
            svg_texts(name, &bytes);
        } else {
            assert_eq!(png_size(&bytes), SIZE, "{name}");
        }
    }
}

#[test]
fn signal_plots_overlay_every_signal() {
    let report = signals();
    let files = signals_files(&report).unwrap();
    let again = signals_files(&report).unwrap();
    assert!(
        files == again,
        "the signals report differs between two renderings"
    );
    let rows = &report.comparison.rows;
    let named: Vec<String> = (0..rows.len())
        .map(|k| match report.comparison.same_curve_as(k) {
            Some(other) => format!("{} (= {other}: same ranking)", rows[k].name),
            None => rows[k].name.clone(),
        })
        .collect();
    let all: Vec<&str> = named.iter().map(String::as_str).collect();
    // The reliability diagram leaves out signals outside [0, 1].
    let in_unit: Vec<&str> = (0..rows.len())
        .filter(|&k| !rows[k].reliability.is_empty())
        .map(|k| named[k].as_str())
        .collect();
    assert!(in_unit.len() > 1 && in_unit.len() <= all.len());
    for (name, bytes) in &files {
        if name.ends_with(".svg") {
            let texts = svg_texts(name, bytes);
            let names = if name.starts_with("risk") {
                &all
            } else {
                &in_unit
            };
            assert_has(name, &texts, names);
        } else if name.ends_with(".png") {
            assert_eq!(png_size(bytes), SIZE, "{name}");
        }
    }
    // One drawing, both encodings: the SVG of the same drawing twice is identical too.
    let c = &report.comparison;
    assert_eq!(
        plots::svg(&plots::signals::RiskCoverage(c)).unwrap(),
        plots::svg(&plots::signals::RiskCoverage(c)).unwrap()
    );
}
