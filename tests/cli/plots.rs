//! The report's plots and `report.md` on inputs that broke them (issues 13.2 and 13.18).

use crate::harness::{Scratch, stderr};

/// Records as JSON Lines: confidence, small quality, large quality, task type.
fn records(rows: &[(f64, f64, f64, &str)]) -> String {
    rows.iter()
        .map(|(c, s, l, t)| {
            let task = serde_json::to_string(t).unwrap();
            format!(
                "{{\"confidence\": {c:e}, \"small_quality\": {s}, \"large_quality\": {l}, \
                 \"task_type\": {task}}}\n"
            )
        })
        .collect()
}

#[test]
fn sweep_ends_when_confidences_span_1e307() {
    // Issue 13.2: plotters' tick search never ended on an axis from 0 to 1e307, so `sweep`
    // hung drawing the plots.
    let dir = Scratch::new();
    let input = dir.write(
        "huge.jsonl",
        records(&[(0.0, 1.0, 1.0, "a"), (1e307, 0.0, 1.0, "a")]),
    );
    let out = dir.run_out("sweep", &input, "report", &["--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dir.join("report/tradeoff.png").exists());
    assert!(dir.join("report/cost.png").exists());
}

#[test]
fn sweep_ends_when_the_large_model_costs_1e307() {
    // Issue 13.2, the cost axis: --large-cost 1e307 hung in the same tick search. Costs whose
    // sum passes 1e300 were then refused (13.10), and since issue 18 a cost per request must be
    // below 1e30, so the largest accepted scale is drawn.
    let dir = Scratch::new();
    let input = dir.write(
        "costly.jsonl",
        records(&[(0.2, 0.0, 1.0, "a"), (0.9, 1.0, 1.0, "a")]),
    );
    let flags = ["--large-cost", "9e29", "--quiet"];
    let out = dir.run_out("sweep", &input, "report", &flags);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = dir.text("report/report.md");
    // Issue 13.18: no 300-digit decimal for an extreme cost.
    assert!(
        md.lines()
            .all(|l| l.len() < 2000 && !l.contains("00000000000000000000")),
        "{md}"
    );
    assert!(md.contains("9.000e29"), "{md}");
}

#[test]
fn labels_with_pipes_tabs_and_newlines_keep_report_tables_whole() {
    // Issue 13.18: a segment value holding `|`, a tab or a newline split its table row.
    let dir = Scratch::new();
    let mut rows = Vec::new();
    for (k, task) in ["a|b", "tab\there", "two\nlines"].iter().enumerate() {
        for i in 0..12 {
            let c = (i as f64 + 0.5) / 12.0;
            rows.push((c, f64::from(i % 3 != k as i32), 1.0, *task));
        }
    }
    let input = dir.write("labels.jsonl", records(&rows));
    let flags = [
        "--min-quality",
        "0.7",
        "--segment-by",
        "task_type",
        "--min-segment-records",
        "5",
        // Each segment at its own threshold: the tables list every label.
        "--segment-departures",
        "free",
        "--quiet",
    ];
    let out = dir.run_out("sweep", &input, "report", &flags);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = dir.text("report/report.md");
    // Every table row has its header's number of cells (escaped pipes do not count).
    let cells = |line: &str| line.replace("\\|", "").matches('|').count();
    let mut header = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        let n = cells(line);
        match header {
            None => header = Some(n),
            Some(h) => assert_eq!(n, h, "row {line:?} in:\n{md}"),
        }
    }
    for escaped in ["a\\|b", "tab\\there", "two\\nlines"] {
        assert!(md.contains(escaped), "no {escaped:?} in:\n{md}");
    }
}
