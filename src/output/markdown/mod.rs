//! `report.md`: the dashboard a reviewer reads in a pull request.
//!
//! Words and tables only; every number is taken from the [`Report`] (computed in the core) and
//! rounded for reading. It must not compute. This file owns the order of the sections; each
//! group of sections has its own file.

mod dashboard;
mod deploy;
mod details;
mod findings;
mod plots;
mod recommendation;
mod trust;

use anyhow::Result;

use super::Exporter;
use crate::report::Report;

/// How the report cites the post it follows (its figures and rules of thumb are quoted as
/// references, not taken as this data's).
const POST: &str = "the post (\"Starting Cheap and Escalating When Needed\", the cascade-routing \
                    blog post `calibrate` follows)";

/// The Markdown report.
pub struct Markdown;

impl Exporter for Markdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn render(&self, report: &Report) -> Result<Vec<u8>> {
        Ok(markdown(report).into_bytes())
    }
}

/// The report, section by section; a section with nothing to say is left out.
fn markdown(r: &Report) -> String {
    let mut o = String::new();
    recommendation::title(r, &mut o);
    match &r.recommendation {
        Ok(m) => {
            recommendation::recommended(r, m, &mut o);
            if let Some(s) = &r.split_ties {
                o.push_str(&crate::output::ties::split_markdown(s));
            }
            dashboard::dashboard(r, m, &mut o);
            trust::intervals(r, &mut o);
            trust::certificate(r, &mut o);
        }
        Err(why) => recommendation::none(r, why, &mut o),
    }
    trust::held_out(r, &mut o);
    findings::warnings(r, &mut o);
    findings::nearby(r, &mut o);
    findings::by_task_type(r, &mut o);
    deploy::signal(r, &mut o);
    deploy::segments(r, &mut o);
    deploy::safeguards(r, &mut o);
    deploy::policy(r, &mut o);
    plots::plots(r, &mut o);
    details::details(r, &mut o);
    o
}
