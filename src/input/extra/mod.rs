//! Columns a run names beyond the fixed fields: segment labels, override fields, raw model
//! outputs such as per-token log-probabilities. They are read in the same pass as the fixed
//! fields, by the same format reader.
//!
//! Owns the requests (and the columns `calibrate signals` discovers), what each kind accepts,
//! and, in [`columns`], typing each value as its record is read and the rules for these columns:
//! an optional column is in every kept record or in none, a required one must exist, and a bad
//! value stops the run whatever `--skip-invalid` says. It must not parse bytes (the format
//! readers hand it [`Raw`] values) nor compute signals.

mod columns;

use std::borrow::Cow;

use serde_json::Value as Json;

use super::error::LoadError;
use super::{Labels, pick};

pub use columns::ExtraColumns;

/// What a requested column must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraKind {
    /// A label: text, a number or a boolean (numbers and booleans become their JSON text).
    Label,
    /// A finite number.
    Number,
    /// A non-empty array of per-token log-probabilities (finite numbers ≤ 0).
    Logprobs,
    /// A non-empty array of sampled answers (text; numbers and booleans become their JSON text).
    Samples,
    /// Text (a response).
    Text,
}

impl ExtraKind {
    /// What the kind accepts, in the words error messages use.
    pub fn expected(self) -> &'static str {
        match self {
            ExtraKind::Label => "a label (text, a number or a boolean)",
            ExtraKind::Number => "a finite number",
            ExtraKind::Logprobs => {
                "a non-empty array of log-probabilities (finite numbers <= 0; in CSV, JSON array \
                 text)"
            }
            ExtraKind::Samples => {
                "a non-empty array of sampled answers (text; in CSV, JSON array text)"
            }
            ExtraKind::Text => "text",
        }
    }
}

/// One column a run asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraRequest {
    /// The column name in the file.
    pub column: String,
    /// What it must hold.
    pub kind: ExtraKind,
    /// Whether the run fails without it; otherwise an absent column reads as `None`.
    pub required: bool,
    /// What asks for it, for messages (e.g. `--segment-by`).
    pub purpose: String,
    /// A discovered column tried as a numeric signal: `None` unless every kept record holds a
    /// valid value (never an error).
    pub probe: bool,
}

/// A requested column, one entry per kept record.
#[derive(Debug, Clone, PartialEq)]
pub enum ExtraColumn {
    /// Labels as codes into sorted names.
    Labels(Labels),
    /// Numbers.
    Numbers(Vec<f64>),
    /// Per-token log-probabilities.
    Logprobs(Vec<Vec<f64>>),
    /// Sampled answers.
    Samples(Vec<Vec<String>>),
    /// Texts.
    Texts(Vec<String>),
}

impl ExtraColumn {
    /// The records where `mask` equals `want`, in order.
    pub fn subset(&self, mask: &[bool], want: bool) -> ExtraColumn {
        match self {
            ExtraColumn::Labels(t) => ExtraColumn::Labels(t.subset(mask, want)),
            ExtraColumn::Numbers(v) => ExtraColumn::Numbers(pick(v, mask, want)),
            ExtraColumn::Logprobs(v) => ExtraColumn::Logprobs(pick(v, mask, want)),
            ExtraColumn::Samples(v) => ExtraColumn::Samples(pick(v, mask, want)),
            ExtraColumn::Texts(v) => ExtraColumn::Texts(pick(v, mask, want)),
        }
    }
}

/// A requested value as a reader found it, before it is typed: text borrowed from the input
/// where it can be, anything else as JSON (CSV and Parquet cells become JSON values too).
#[derive(Debug, Clone, PartialEq)]
pub enum Raw<'a> {
    /// Text.
    Text(Cow<'a, str>),
    /// Any other value: null, a boolean, a number, an array or an object.
    Json(Json),
}

/// `requests`, then a probe for every column in `names` that no request reads and `except`
/// does not list (`calibrate signals` tries every other column as a numeric signal). Without
/// `except`, nothing is discovered.
pub fn with_discovered(
    requests: &[ExtraRequest],
    names: &[String],
    except: Option<&[String]>,
) -> Vec<ExtraRequest> {
    let mut out = requests.to_vec();
    let Some(except) = except else {
        return out;
    };
    for name in names {
        if !except.contains(name) && !out.iter().any(|r| r.column == *name) {
            out.push(probe(name.clone()));
        }
    }
    out
}

/// A discovered column, tried as a numeric signal.
pub fn probe(column: String) -> ExtraRequest {
    ExtraRequest {
        purpose: format!("the column {column:?}"),
        column,
        kind: ExtraKind::Number,
        required: false,
        probe: true,
    }
}

/// The error for the first required request whose column is not in a table's header.
pub fn missing_from_header(
    requests: &[ExtraRequest],
    names: &[String],
    label: &str,
) -> Result<(), LoadError> {
    match (requests.iter()).find(|r| r.required && !names.contains(&r.column)) {
        Some(r) => Err(missing(r, &names.join(", "), label)),
        None => Ok(()),
    }
}

fn missing(request: &ExtraRequest, available: &str, label: &str) -> LoadError {
    LoadError::MissingColumn {
        path: label.into(),
        field: request.purpose.clone(),
        column: request.column.clone(),
        hint: String::new(),
        available: available.into(),
    }
}

/// The text of a text value.
fn as_text<'a>(raw: &'a Raw<'_>) -> Option<&'a str> {
    match raw {
        Raw::Text(s) => Some(s),
        Raw::Json(Json::String(s)) => Some(s),
        Raw::Json(_) => None,
    }
}

/// A label's text: text as is, numbers and booleans as their JSON text.
fn label<'a>(raw: &'a Raw<'_>) -> Result<Cow<'a, str>, String> {
    match (as_text(raw), raw) {
        (Some(s), _) => Ok(Cow::Borrowed(s)),
        (None, Raw::Json(v @ (Json::Number(_) | Json::Bool(_)))) => Ok(Cow::Owned(v.to_string())),
        _ => Err(describe(raw)),
    }
}

fn number(raw: &Raw<'_>) -> Result<f64, String> {
    let x = match (as_text(raw), raw) {
        (Some(s), _) => s.trim().parse::<f64>().ok(),
        (None, Raw::Json(Json::Number(n))) => n.as_f64(),
        _ => None,
    };
    x.filter(|x| x.is_finite()).ok_or_else(|| describe(raw))
}

fn logprobs(raw: &Raw<'_>) -> Result<Vec<f64>, String> {
    let items = match raw {
        Raw::Json(Json::Array(items)) if !items.is_empty() => items,
        _ => return Err(describe(raw)),
    };
    let valid = |x: &Json| x.as_f64().filter(|x| x.is_finite() && *x <= 0.0);
    // `-0.0` is stored as 0 so sums and output never show "-0".
    let values = items.iter().map(|x| valid(x).map(|x| x + 0.0));
    values
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(|| describe(raw))
}

fn samples(raw: &Raw<'_>) -> Result<Vec<String>, String> {
    let items = match raw {
        Raw::Json(Json::Array(items)) if !items.is_empty() => items,
        _ => return Err(describe(raw)),
    };
    let answer = |x: &Json| match x {
        Json::String(s) => Some(s.clone()),
        Json::Number(_) | Json::Bool(_) => Some(x.to_string()),
        _ => None,
    };
    let values = items.iter().map(answer);
    values
        .collect::<Option<Vec<String>>>()
        .ok_or_else(|| describe(raw))
}

fn text(raw: &Raw<'_>) -> Result<String, String> {
    as_text(raw)
        .map(str::to_string)
        .ok_or_else(|| describe(raw))
}

/// A value as error messages quote it: its JSON text, long values cut.
fn describe(raw: &Raw<'_>) -> String {
    let text = match raw {
        Raw::Text(s) => Json::String(s.to_string()).to_string(),
        Raw::Json(v) => v.to_string(),
    };
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::testing::{Quiet, options, request};
    use crate::input::{LoadOptions, Loaded, jsonl, table};

    fn jsonl(text: &str, options: &LoadOptions) -> Result<Loaded, LoadError> {
        jsonl::load(&mut text.as_bytes(), None, options, "e", &Quiet)
    }

    fn columns(loaded: Loaded) -> Vec<Option<ExtraColumn>> {
        loaded.extras.into_iter().map(|(_, c)| c).collect()
    }

    #[test]
    fn jsonl_labels_arrays_and_kept_rows() {
        let text = "{\"confidence\":0.5,\"small_quality\":1,\"seg\":\"a\",\"lp\":[-0.5,0],\"s\":[\"x\",1]}\n\n\
                    {\"confidence\":\"x\",\"small_quality\":1,\"seg\":2,\"lp\":[-1],\"s\":[\"y\"]}\n\
                    {\"confidence\":0.5,\"small_quality\":1,\"seg\":true,\"lp\":[-2],\"s\":[\"z\"]}\n";
        let mut options = options(vec![
            request("seg", ExtraKind::Label),
            request("lp", ExtraKind::Logprobs),
            request("s", ExtraKind::Samples),
        ]);
        options.skip_invalid = true;
        // Line 3 is dropped for its confidence: only lines 1 and 4 remain, and the label of
        // the dropped record is not among the names.
        let got = columns(jsonl(text, &options).unwrap());
        let Some(ExtraColumn::Labels(labels)) = &got[0] else {
            panic!("labels")
        };
        assert_eq!(labels.names, vec!["a", "true"]);
        assert_eq!(labels.codes, vec![0, 1]);
        assert_eq!(
            got[1],
            Some(ExtraColumn::Logprobs(vec![vec![-0.5, 0.0], vec![-2.0]]))
        );
        assert_eq!(
            got[2],
            Some(ExtraColumn::Samples(vec![
                vec!["x".into(), "1".into()],
                vec!["z".into()]
            ]))
        );
    }

    #[test]
    fn labels_sort_as_text() {
        let text = "{\"confidence\":1,\"small_quality\":1,\"seg\":\"a\"}\n\
                    {\"confidence\":1,\"small_quality\":1,\"seg\":2}\n\
                    {\"confidence\":1,\"small_quality\":1,\"seg\":true}\n";
        let got = columns(jsonl(text, &options(vec![request("seg", ExtraKind::Label)])).unwrap());
        let Some(ExtraColumn::Labels(labels)) = &got[0] else {
            panic!("labels")
        };
        // Sorted names: "2" < "a" < "true".
        assert_eq!(labels.names, vec!["2", "a", "true"]);
        assert_eq!(labels.codes, vec![1, 0, 2]);
    }

    #[test]
    fn one_column_read_as_two_kinds() {
        // Review finding: a column asked for twice (a signal and an override) was filled once.
        let text = "{\"confidence\":1,\"small_quality\":1,\"score\":0.2}\n\
                    {\"confidence\":1,\"small_quality\":1,\"score\":0.7}\n";
        let requests = vec![
            request("score", ExtraKind::Number),
            request("score", ExtraKind::Label),
        ];
        let got = columns(jsonl(text, &options(requests)).unwrap());
        assert_eq!(got[0], Some(ExtraColumn::Numbers(vec![0.2, 0.7])));
        let Some(ExtraColumn::Labels(l)) = &got[1] else {
            panic!("labels")
        };
        assert_eq!(l.names, vec!["0.2", "0.7"]);
    }

    #[test]
    fn a_fixed_field_read_as_an_extra_too() {
        let text = "{\"confidence\":1,\"small_quality\":1,\"task_type\":\"b\"}\n\
                    {\"confidence\":1,\"small_quality\":1,\"task_type\":\"a\"}\n";
        let loaded = jsonl(text, &options(vec![request("task_type", ExtraKind::Label)])).unwrap();
        let tasks = loaded.set.task_type.clone().unwrap();
        assert_eq!(columns(loaded), vec![Some(ExtraColumn::Labels(tasks))]);
    }

    #[test]
    fn bad_values_name_line_and_column() {
        let text = "{\"confidence\":1,\"small_quality\":1,\"lp\":[-0.5]}\n\
                    {\"confidence\":1,\"small_quality\":1,\"lp\":[0.5]}\n";
        let mut options = options(vec![request("lp", ExtraKind::Logprobs)]);
        // --skip-invalid drops records for the fixed fields only.
        options.skip_invalid = true;
        let err = jsonl(text, &options).unwrap_err().to_string();
        assert!(
            err.starts_with("e:2: field \"lp\": expected a non-empty array"),
            "{err}"
        );
        assert!(err.contains("found [0.5]"), "{err}");
    }

    #[test]
    fn optional_columns_all_or_none() {
        let mut r = request("response", ExtraKind::Text);
        r.required = false;
        let text = "{\"confidence\":1,\"small_quality\":1,\"x\":1}\n\
                    {\"confidence\":1,\"small_quality\":1,\"x\":2}\n";
        let got = columns(jsonl(text, &options(vec![r.clone()])).unwrap());
        assert_eq!(got, vec![None]);
        let text = "{\"confidence\":1,\"small_quality\":1,\"response\":\"hi\"}\n\
                    {\"confidence\":1,\"small_quality\":1}\n";
        let err = jsonl(text, &options(vec![r])).unwrap_err().to_string();
        assert!(
            err.starts_with("e:2: field \"response\": expected text in every record or in none"),
            "{err}"
        );
    }

    #[test]
    fn a_required_column_no_record_has_lists_the_first_records_keys() {
        let text = "{\"small_quality\":1,\"confidence\":1,\"b\":0}\n";
        let err = jsonl(text, &options(vec![request("seg", ExtraKind::Label)]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "e: no column \"seg\" for field a test; found columns: b, confidence, small_quality"
        );
    }

    #[test]
    fn discovered_columns_are_probed_as_numbers() {
        let text = "{\"confidence\":1,\"small_quality\":1,\"z\":0.5,\"name\":\"n\"}\n\
                    {\"confidence\":1,\"small_quality\":1,\"z\":\"0.25\",\"name\":3}\n";
        let mut options = options(vec![]);
        options.discover_except = Some(vec!["confidence".into(), "small_quality".into()]);
        let loaded = jsonl(text, &options).unwrap();
        let found: Vec<(&str, bool)> = (loaded.extras.iter())
            .map(|(r, c)| (r.column.as_str(), c.is_some()))
            .collect();
        assert_eq!(found, vec![("name", false), ("z", true)]);
        assert_eq!(
            loaded.extra("z", ExtraKind::Number),
            Some(&ExtraColumn::Numbers(vec![0.5, 0.25]))
        );
    }

    /// A pipe: bytes front to back, once (it cannot seek or reopen); counts what it gave.
    struct Pipe<'a> {
        bytes: &'a [u8],
        given: usize,
    }

    impl std::io::Read for Pipe<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.bytes.len().min(buf.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            self.given += n;
            Ok(n)
        }
    }

    #[test]
    fn extras_from_a_stream_in_one_pass() {
        // Issue: one reader per format. Extras came from a second pass, which for stdin meant
        // holding all of it in memory and for a named pipe reopening it.
        let requests = vec![request("seg", ExtraKind::Label)];
        let jsonl = "{\"confidence\":0.9,\"small_quality\":1,\"seg\":\"b\"}\n\
                     {\"confidence\":0.8,\"small_quality\":0,\"seg\":\"a\"}\n";
        let csv = "confidence,small_quality,seg\n0.9,1,b\n0.8,0,a\n";
        for (text, format) in [(jsonl, "jsonl"), (csv, "csv")] {
            let mut pipe = Pipe {
                bytes: text.as_bytes(),
                given: 0,
            };
            let options = options(requests.clone());
            let loaded = match format {
                "jsonl" => jsonl::load(&mut pipe, None, &options, "-", &Quiet),
                _ => table::load_csv(&mut pipe, None, &options, "-", &Quiet),
            }
            .unwrap();
            assert_eq!((pipe.given, loaded.bytes), (text.len(), text.len() as u64));
            let labels = Labels {
                codes: vec![1, 0],
                names: vec!["a".into(), "b".into()],
            };
            assert_eq!(columns(loaded), vec![Some(ExtraColumn::Labels(labels))]);
        }
    }

    #[test]
    fn csv_cells_hold_json_arrays() {
        let text = "confidence,small_quality,seg,lp\n1,1,legal,\"[-0.25,-1]\"\n1,1,chat,[-3]\n";
        let csv = |requests| {
            let options = options(requests);
            table::load_csv(&mut text.as_bytes(), None, &options, "e.csv", &Quiet)
        };
        let requests = vec![
            request("seg", ExtraKind::Label),
            request("lp", ExtraKind::Logprobs),
        ];
        assert_eq!(
            columns(csv(requests).unwrap())[1],
            Some(ExtraColumn::Logprobs(vec![vec![-0.25, -1.0], vec![-3.0]]))
        );
        let err = csv(vec![request("tier", ExtraKind::Label)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("no column \"tier\""), "{err}");
    }
}
