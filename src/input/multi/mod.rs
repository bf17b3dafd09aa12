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
/// the CSV header or the Parquet schema) has the model column, the nested form when its first
/// record has an object under the models column. Only regular files are looked at: standard
/// input and pipes can be read once only, so they are read as two-model eval sets (`None`). An
/// input that cannot be read or parsed here is `None` too: the two-model reader says what is
/// wrong.
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
        Input::Seekable { file, .. } => {
            let names = crate::input::table::parquet_names(file, "").ok()?;
            return names.contains(&fields.model).then_some(MultiForm::Long);
        }
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
        Format::Parquet => None, // opened as a seekable file above
    }
}

/// Reads the whole multi-model set: the input and, with `--join`, one more file per model whose
/// records are joined to it by id (a record without a model field is the model its file is
/// named after: `llama-8b.jsonl` holds `llama-8b`'s answers). With joined files the sha256 is
/// that of the files' own sha256 digests, one line each, in order.
pub fn load_multi(
    options: &LoadOptions,
    fields: &MultiFields,
    form: MultiForm,
    joined: &[std::path::PathBuf],
    progress: &dyn Progress,
) -> Result<LoadedMulti, LoadError> {
    let names = Names::new(&options.fields, fields, options.read_split);
    let mut sources = vec![options.source.clone()];
    sources.extend(joined.iter().cloned().map(Source::File));
    let labels: Vec<String> = sources.iter().map(Source::label).collect();
    let (mut records, mut digests, mut total, mut first_format) = (Vec::new(), Vec::new(), 0, None);
    for (file, source) in sources.iter().enumerate() {
        let label = &labels[file];
        let default_model = (!joined.is_empty()).then(|| source_stem(source)).flatten();
        let default_model = default_model.as_deref();
        let (format, content, sha256, size) = read_source(source, options.format, progress)?;
        first_format.get_or_insert(format);
        let read = match content {
            Content::Parquet(file) => rows::parquet_records(file, &names, label, default_model)?,
            Content::Bytes(bytes) if format == Format::Csv => {
                rows::csv_records(&bytes, &names, label, default_model)?
            }
            Content::Bytes(bytes) => {
                rows::json_records(&bytes, &names, form, label, default_model)?
            }
        };
        records.extend(read.into_iter().map(|r| (file, r)));
        digests.push(sha256);
        total += size;
    }
    let (set, drops) = join::join(records, &names, options.skip_invalid, &labels)?;
    let sha256 = match digests.as_slice() {
        [one] => one.clone(),
        many => {
            use sha2::{Digest, Sha256};
            source::hex(&Sha256::digest(many.join("\n") + "\n"))
        }
    };
    Ok(LoadedMulti {
        set,
        form,
        drops,
        sha256,
        bytes: total,
        format: first_format.unwrap_or(Format::Jsonl),
    })
}

/// A file's name without its extensions (`llama-8b.jsonl.gz` → `llama-8b`).
fn source_stem(source: &Source) -> Option<String> {
    let Source::File(path) = source else {
        return None;
    };
    let name = path.file_name()?.to_str()?;
    Some(name.split('.').next().unwrap_or(name).to_string())
}

/// An input read for parsing: text bytes, or a Parquet file (read by columns).
enum Content {
    Bytes(Vec<u8>),
    Parquet(std::fs::File),
}

/// One input: (format, content, sha256, size in bytes).
fn read_source(
    source: &Source,
    format: Option<Format>,
    progress: &dyn Progress,
) -> Result<(Format, Content, String, u64), LoadError> {
    let label = source.label();
    let (format, input, _) = source::open(source, format)?;
    progress.start(input.size());
    let io = |e| LoadError::Io {
        path: label.clone(),
        source: e,
    };
    match input {
        Input::Stream { mut reader, size } => {
            let (b, h) = source::read_all(&mut reader, size, progress).map_err(io)?;
            let len = b.len() as u64;
            Ok((format, Content::Bytes(b), h, len))
        }
        Input::Array {
            mut reader,
            sha256,
            bytes,
        } => {
            let (b, _) = source::read_all(&mut reader, None, progress).map_err(io)?;
            Ok((format, Content::Bytes(b), sha256, bytes))
        }
        Input::Seekable { mut file, .. } => {
            let (sha256, bytes) = crate::input::table::hash_file(&mut file, &label, progress)?;
            Ok((format, Content::Parquet(file), sha256, bytes))
        }
    }
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
    /// Every column the long form may read.
    fn columns(&self) -> Vec<&str> {
        let mut out = vec![
            self.id.as_str(),
            &self.model,
            &self.confidence,
            &self.quality,
            &self.cost,
            &self.input_tokens,
            &self.output_tokens,
            &self.latency_ms,
            &self.task_type,
        ];
        out.extend(self.split.as_ref().map(|(column, _)| column.as_str()));
        out
    }

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
