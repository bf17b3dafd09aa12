//! Multi-model eval sets: one record per prompt and model (the long form: `id`, `model`,
//! `confidence`, `quality`, a cost or tokens, optional `latency_ms`, `task_type`, `split`), or
//! one record per prompt with a `models` object of per-model fields (the nested form, JSON).
//!
//! Owns recognising the form from the first record or the header, reading every record,
//! validating each value (the words of `value.rs`), and joining the records into one column per
//! model and field over the same prompts. A prompt missing for some model is an error naming the
//! prompt and the model, or dropped and counted with `--skip-invalid`. Must not price or compute.

mod join;
mod rows;

use std::io::{BufRead, BufReader, Read};

use super::error::LoadError;
use super::field::{Field, FieldMap};
use super::source::{self, Input};
use super::{Drops, Format, Labels, LoadOptions, Progress, Source};

/// Column names of the multi-model fields (`--field model=...` and friends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiFields {
    /// The model name.
    pub model: String,
    /// The answer's quality.
    pub quality: String,
    /// The cost of the request on that model.
    pub cost: String,
    /// Tokens the model generated.
    pub output_tokens: String,
    /// The model's latency (milliseconds).
    pub latency_ms: String,
    /// The nested form's object of models.
    pub models: String,
}

impl Default for MultiFields {
    fn default() -> Self {
        MultiFields {
            model: "model".into(),
            quality: "quality".into(),
            cost: "cost".into(),
            output_tokens: "output_tokens".into(),
            latency_ms: "latency_ms".into(),
            models: "models".into(),
        }
    }
}

impl MultiFields {
    /// The logical names `--field` accepts for these.
    pub const NAMES: [&'static str; 6] = [
        "model",
        "quality",
        "cost",
        "output_tokens",
        "latency_ms",
        "models",
    ];

    /// Maps `name` (one of [`NAMES`](Self::NAMES)) to `column`; false for another name.
    pub fn set(&mut self, name: &str, column: &str) -> bool {
        let slot = match name {
            "model" => &mut self.model,
            "quality" => &mut self.quality,
            "cost" => &mut self.cost,
            "output_tokens" => &mut self.output_tokens,
            "latency_ms" => &mut self.latency_ms,
            "models" => &mut self.models,
            _ => return false,
        };
        *slot = column.to_string();
        true
    }
}

/// Which multi-model layout the input has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiForm {
    /// One record per prompt and model.
    Long,
    /// One record per prompt, a `models` object inside.
    Nested,
}

impl MultiForm {
    /// In words, for the report.
    pub fn name(self) -> &'static str {
        match self {
            MultiForm::Long => "long (one record per prompt and model)",
            MultiForm::Nested => "nested (a models object per prompt)",
        }
    }
}

/// One model's columns over the prompts, in prompt order.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelColumns {
    /// The name.
    pub name: String,
    /// Confidence per prompt.
    pub confidence: Vec<f64>,
    /// Quality per prompt, in [0, 1].
    pub quality: Vec<f64>,
    /// Cost per prompt, when the records carry it.
    pub cost: Option<Vec<f64>>,
    /// Prompt tokens per prompt, when the records carry them.
    pub input_tokens: Option<Vec<f64>>,
    /// Generated tokens per prompt, when the records carry them.
    pub output_tokens: Option<Vec<f64>>,
    /// Latency per prompt (milliseconds), when the records carry it.
    pub latency_ms: Option<Vec<f64>>,
}

/// A validated multi-model eval set.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiSet {
    /// Prompt ids, in order of first appearance.
    pub ids: Vec<String>,
    /// Models, in order of first appearance.
    pub models: Vec<ModelColumns>,
    /// Per prompt, true for the test part of a `--split-field` split.
    pub split: Option<Vec<bool>>,
    /// Task type per prompt, when the records carry it.
    pub task_type: Option<Labels>,
}

/// A loaded multi-model set and the facts about its input.
#[derive(Debug, Clone)]
pub struct LoadedMulti {
    /// The prompts and models.
    pub set: MultiSet,
    /// Its layout.
    pub form: MultiForm,
    /// Records read and dropped (`--skip-invalid`), prompts dropped counted among the reasons.
    pub drops: Drops,
    /// The input's SHA-256, lowercase hex.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its format.
    pub format: Format,
}

/// The multi-model layout of the input, if it has one: the long form when the first record (or
/// the CSV header) has the model column, the nested form when its first record has an object
/// under the models column. Only regular files are looked at: standard input and pipes can be
/// read once only, so they are read as two-model eval sets (`None`), as is Parquet. An input
/// that cannot be read or parsed here is `None` too: the two-model reader says what is wrong.
pub fn detect(options: &LoadOptions, fields: &MultiFields) -> Option<MultiForm> {
    let Source::File(path) = &options.source else {
        return None;
    };
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let (format, input, _) = source::open(&options.source, options.format).ok()?;
    let reader: Box<dyn Read + Send> = match input {
        Input::Stream { reader, .. } | Input::Array { reader, .. } => reader,
        Input::Seekable { .. } => return None,
    };
    let mut lines = BufReader::new(reader.take(1 << 24));
    let mut line = Vec::new();
    match format {
        Format::Jsonl => {
            while line.iter().all(u8::is_ascii_whitespace) {
                line.clear();
                if lines.read_until(b'\n', &mut line).ok()? == 0 {
                    return None;
                }
            }
            let serde_json::Value::Object(first) = serde_json::from_slice(&line).ok()? else {
                return None;
            };
            if first.get(&fields.models).is_some_and(|v| v.is_object()) {
                Some(MultiForm::Nested)
            } else {
                first.contains_key(&fields.model).then_some(MultiForm::Long)
            }
        }
        Format::Csv => {
            lines.read_until(b'\n', &mut line).ok()?;
            let mut csv = csv::ReaderBuilder::new().from_reader(line.as_slice());
            let header = csv.byte_headers().ok()?;
            header
                .iter()
                .any(|c| c.strip_prefix(b"\xef\xbb\xbf").unwrap_or(c) == fields.model.as_bytes())
                .then_some(MultiForm::Long)
        }
        Format::Parquet => None,
    }
}

/// Reads the whole multi-model set.
pub fn load_multi(
    options: &LoadOptions,
    fields: &MultiFields,
    form: MultiForm,
    progress: &dyn Progress,
) -> Result<LoadedMulti, LoadError> {
    let label = options.source.label();
    let (format, input, _) = source::open(&options.source, options.format)?;
    progress.start(input.size());
    let io = |source| LoadError::Io {
        path: label.clone(),
        source,
    };
    let (bytes, sha256, size) = match input {
        Input::Stream { mut reader, size } => {
            let (b, h) = source::read_all(&mut reader, size, progress).map_err(io)?;
            let len = b.len() as u64;
            (b, h, len)
        }
        Input::Array {
            mut reader,
            sha256,
            bytes,
        } => {
            let (b, _) = source::read_all(&mut reader, None, progress).map_err(io)?;
            (b, sha256, bytes)
        }
        Input::Seekable { .. } => return Err(LoadError::NotSeekable { path: label }),
    };
    let names = Names::new(&options.fields, fields, options.read_split);
    let records = match format {
        Format::Csv => rows::csv_records(&bytes, &names, &label)?,
        _ => rows::json_records(&bytes, &names, form, &label)?,
    };
    let (set, drops) = join::join(records, &names, options.skip_invalid, &label)?;
    Ok(LoadedMulti {
        set,
        form,
        drops,
        sha256,
        bytes: size,
        format,
    })
}

/// Every column name the reader looks up, and the split labels.
struct Names {
    id: String,
    model: String,
    confidence: String,
    quality: String,
    cost: String,
    input_tokens: String,
    output_tokens: String,
    latency_ms: String,
    task_type: String,
    split: Option<(String, super::SplitNames)>,
    models: String,
}

impl Names {
    fn new(map: &FieldMap, fields: &MultiFields, read_split: bool) -> Names {
        Names {
            id: map.column(Field::Id).into(),
            model: fields.model.clone(),
            confidence: map.column(Field::Confidence).into(),
            quality: fields.quality.clone(),
            cost: fields.cost.clone(),
            input_tokens: map.column(Field::InputTokens).into(),
            output_tokens: fields.output_tokens.clone(),
            latency_ms: fields.latency_ms.clone(),
            task_type: map.column(Field::TaskType).into(),
            split: read_split.then(|| (map.column(Field::Split).into(), map.split_names().clone())),
            models: fields.models.clone(),
        }
    }
}
