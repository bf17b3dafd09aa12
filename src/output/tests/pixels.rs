//! The plots as a reviewer sees them, checked in pixels (issue 15): nothing drawn just above a
//! plot frame, no text across a frame's edge, no two series of one plot in the same colour.
//!
//! Each plot is drawn into memory with the PNG backend, which reports every text's pixel box;
//! frames are found as the runs of the frame colour, which nothing else uses.

use super::fixtures::{certified, infeasible, policy_report, signals, tiny_report};
use crate::output::plots::backend::PixelBox;
use crate::output::plots::signals::{Reliability, RiskCoverage};
use crate::output::plots::{Drawing, FRAME, Plot, SIZE, pixels};
use crate::report::Report;
use crate::signals::compare::Comparison;

/// A frame's left, top, right and bottom pixel.
type Frame = (i32, i32, i32, i32);

struct Picture {
    name: String,
    rgb: Vec<u8>,
    texts: Vec<(String, PixelBox)>,
}

impl Picture {
    fn new(name: impl Into<String>, d: &impl Drawing) -> Picture {
        let (rgb, texts) = pixels(d).unwrap();
        Picture {
            name: name.into(),
            rgb,
            texts,
        }
    }

    fn at(&self, x: i32, y: i32) -> [u8; 3] {
        let i = 3 * (y as usize * SIZE.0 as usize + x as usize);
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Every frame: horizontal runs of at least 100 frame-coloured pixels, paired top and
    /// bottom by their left and right ends.
    fn frames(&self) -> Vec<Frame> {
        let frame = [FRAME.0, FRAME.1, FRAME.2];
        let mut edges: Vec<(i32, i32, i32)> = Vec::new();
        for y in 0..SIZE.1 as i32 {
            let mut x = 0;
            while x < SIZE.0 as i32 {
                if self.at(x, y) == frame {
                    let start = x;
                    while x < SIZE.0 as i32 && self.at(x, y) == frame {
                        x += 1;
                    }
                    if x - start >= 100 {
                        edges.push((start, y, x - 1));
                    }
                }
                x += 1;
            }
        }
        let mut frames = Vec::new();
        let mut used = vec![false; edges.len()];
        for i in 0..edges.len() {
            if used[i] {
                continue;
            }
            let (l, top, r) = edges[i];
            // The bottom: the next edge with the same ends that is not the next pixel row.
            if let Some(j) = (i + 1..edges.len())
                .find(|&j| !used[j] && edges[j].0 == l && edges[j].2 == r && edges[j].1 > top + 20)
            {
                used[i] = true;
                used[j] = true;
                frames.push((l, top, r, edges[j].1));
            }
        }
        frames
    }

    fn in_text(&self, x: i32, y: i32) -> bool {
        self.texts
            .iter()
            .any(|(_, (l, t, r, b))| (*l..=*r).contains(&x) && (*t..=*b).contains(&y))
    }
}

/// Every plot of the report fixtures and of the signals comparison.
fn pictures() -> Vec<Picture> {
    let mut out = Vec::new();
    let reports: [(&str, Report); 4] = [
        ("tiny", tiny_report()),
        ("policy", policy_report()),
        ("certified", certified()),
        ("infeasible", infeasible()),
    ];
    for (name, r) in &reports {
        for plot in Plot::ALL.into_iter().filter(|p| p.applies(r)) {
            out.push(Picture::new(format!("{name}/{}", plot.stem()), &(plot, r)));
        }
    }
    let c = &signals().comparison;
    out.push(Picture::new("signals/risk_coverage", &RiskCoverage(c)));
    out.push(Picture::new("signals/reliability", &Reliability(c)));
    out
}

#[test]
fn no_drawn_pixel_just_above_a_plot_frame() {
    // Issue 15: a 3-pixel line at quality 1 (the top of the axis) stood above the tradeoff
    // plot's frame in the PNG. The six rows above each frame, over its width, must be
    // background, except where a text (a tick label) sits.
    for p in pictures() {
        let frames = p.frames();
        assert!(!frames.is_empty(), "{}: no frame found", p.name);
        for (l, top, r, _) in frames {
            for y in (top - 6).max(0)..top {
                for x in l..=r {
                    let px = p.at(x, y);
                    assert!(
                        px == [255, 255, 255] || p.in_text(x, y),
                        "{}: pixel {px:?} at ({x}, {y}), above the frame's top at {top}",
                        p.name
                    );
                }
            }
        }
    }
}

#[test]
fn no_text_crosses_a_plot_frame() {
    // Issue 15: a reliability count label crossed the frame; the funnel's labels straddled
    // bar edges; the "100%" tick was cut at the picture's edge.
    for p in pictures() {
        let frames = p.frames();
        for (text, (l, t, r, b)) in &p.texts {
            assert!(
                *l >= 0 && *t >= 0 && *r < SIZE.0 as i32 && *b < SIZE.1 as i32,
                "{}: {text:?} at {:?} leaves the picture",
                p.name,
                (l, t, r, b)
            );
            for &(fl, ft, fr, fb) in &frames {
                let across_row = |y: i32| *t < y && y < *b && *r >= fl && *l <= fr;
                let across_column = |x: i32| *l < x && x < *r && *b >= ft && *t <= fb;
                assert!(
                    !(across_row(ft) || across_row(fb) || across_column(fl) || across_column(fr)),
                    "{}: {text:?} at {:?} crosses the frame {:?}",
                    p.name,
                    (l, t, r, b),
                    (fl, ft, fr, fb)
                );
            }
        }
    }
}

/// The comparison with its signals repeated under new names until there are `n`.
fn many_signals(n: usize) -> Comparison {
    let mut c = signals().comparison;
    let base = c.rows.clone();
    let mut k = 0;
    while c.rows.len() < n {
        let mut row = base[k % base.len()].clone();
        row.name = format!("copy_{k}");
        c.rows.push(row);
        k += 1;
    }
    c
}

/// The distinct stroke colours of an SVG's 2-pixel polylines (the signals' lines).
fn line_colours(svg: &[u8]) -> std::collections::BTreeSet<String> {
    let text = std::str::from_utf8(svg).unwrap();
    let doc = roxmltree::Document::parse(text).unwrap();
    doc.descendants()
        .filter(|n| n.tag_name().name() == "polyline" && n.attribute("stroke-width") == Some("2"))
        .filter_map(|n| n.attribute("stroke").map(str::to_string))
        .collect()
}

#[test]
fn no_two_signals_share_a_colour() {
    // Issue 15: the palette of eight wrapped, so the ninth signal took the first one's colour.
    // Twenty signals: twenty colours (the legend strip also refuses look-alike entries).
    let c = many_signals(20);
    let svg = crate::output::plots::svg(&RiskCoverage(&c)).unwrap();
    assert_eq!(line_colours(&svg).len(), 20);
    Picture::new("many/risk_coverage", &RiskCoverage(&c));
    Picture::new("many/reliability", &Reliability(&c));
}

#[test]
fn signals_that_rank_alike_are_named_in_the_legend() {
    // Issue 15: two signals with the same ranking drew one line over the other. A copy of a
    // signal draws the same curve: its legend says whose.
    let c = many_signals(signals().comparison.rows.len() + 1);
    let last = c.rows.len() - 1;
    assert_eq!(c.same_curve_as(last), Some(c.rows[0].name.as_str()));
    let p = Picture::new("copy", &RiskCoverage(&c));
    let expected = format!("copy_0 (= {}: same ranking)", c.rows[0].name);
    assert!(
        p.texts.iter().any(|(t, _)| *t == expected),
        "no {expected:?} in {:?}",
        p.texts
    );
}
