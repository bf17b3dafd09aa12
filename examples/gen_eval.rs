//! Generates a synthetic, seeded eval set for examples and benchmarks.
//!
//! Usage: `cargo run --release --example gen_eval -- ROWS SEED OUT.{jsonl,csv,parquet}`
//!
//! The model of the data (documented in `data/README.md`):
//! - six task types with different difficulty for the small model (chat easiest, legal hardest);
//! - each record has a latent ease `z` ~ Normal(task mean, 1.6²); the small model is right with
//!   probability sigmoid(z); the large model is right with probability 1 − 0.35 (1 − sigmoid(z))
//!   (it fails on the same hard items, about a third as often);
//! - the small model's confidence is sigmoid(0.9 z − 0.6 + Normal(0, 0.5²)), rounded to 3
//!   decimals: it predicts correctness, imperfectly;
//! - token counts are log-normal per task; per-record costs in US dollars use list prices of
//!   $0.25 / $1.25 (small) and $15 / $75 (large) per million input / output tokens;
//! - latencies are time to first token plus decoding time per output token, with log-normal
//!   jitter (the small model decodes about four times faster).
//!
//! Same ROWS and SEED give byte-identical output (ChaCha8 stream).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use polars::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// (name, mean latent ease, share of traffic, mean input tokens, mean output tokens)
const TASKS: [(&str, f64, f64, f64, f64); 6] = [
    ("chat", 4.2, 0.30, 350.0, 180.0),
    ("summarization", 3.5, 0.20, 1600.0, 220.0),
    ("extraction", 3.1, 0.15, 900.0, 90.0),
    ("code", 1.9, 0.15, 700.0, 400.0),
    ("math", 1.2, 0.12, 250.0, 350.0),
    ("legal", 0.4, 0.08, 1800.0, 450.0),
];
const SMALL_PRICE: (f64, f64) = (0.25, 1.25);
const LARGE_PRICE: (f64, f64) = (15.0, 75.0);

struct Gen(ChaCha8Rng);

impl Gen {
    fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn normal(&mut self) -> f64 {
        // Box–Muller; 1 − u keeps the log finite.
        let (u, v) = (1.0 - self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    fn tokens(&mut self, mean: f64) -> u32 {
        let sigma = 0.6;
        let x = (mean.ln() - sigma * sigma / 2.0 + sigma * self.normal()).exp();
        x.round().max(1.0) as u32
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

struct Record {
    task: usize,
    confidence: f64,
    small_correct: bool,
    large_correct: bool,
    input_tokens: u32,
    small_output_tokens: u32,
    large_output_tokens: u32,
    small_latency_ms: u32,
    large_latency_ms: u32,
}

impl Record {
    fn cost(&self, price: (f64, f64), output: u32) -> f64 {
        let micro = f64::from(self.input_tokens) * price.0 + f64::from(output) * price.1;
        (micro / 1e6 * 1e9).round() / 1e9
    }
    fn small_cost(&self) -> f64 {
        self.cost(SMALL_PRICE, self.small_output_tokens)
    }
    fn large_cost(&self) -> f64 {
        self.cost(LARGE_PRICE, self.large_output_tokens)
    }
}

fn generate(rows: usize, seed: u64) -> Vec<Record> {
    let mut g = Gen(ChaCha8Rng::seed_from_u64(seed));
    (0..rows)
        .map(|_| {
            let pick = g.uniform();
            let mut acc = 0.0;
            let task = TASKS
                .iter()
                .position(|t| {
                    acc += t.2;
                    pick < acc
                })
                .unwrap_or(TASKS.len() - 1);
            let (_, ease, _, input, output) = TASKS[task];
            let z = ease + 1.6 * g.normal();
            let p_small = sigmoid(z);
            let small_correct = g.uniform() < p_small;
            let large_correct = g.uniform() < 1.0 - 0.35 * (1.0 - p_small);
            let confidence = (sigmoid(0.9 * z - 0.6 + 0.5 * g.normal()) * 1000.0).round() / 1000.0;
            let input_tokens = g.tokens(input);
            let small_output_tokens = g.tokens(output);
            let large_output_tokens = g.tokens(output * 1.15);
            // Time to first token plus decoding, with log-normal jitter: the small model
            // decodes about 4 times faster.
            let jitter = |g: &mut Gen| (0.25 * g.normal()).exp();
            let small_latency_ms =
                ((150.0 + 0.05 * f64::from(input_tokens) + 6.0 * f64::from(small_output_tokens))
                    * jitter(&mut g))
                .round() as u32;
            let large_latency_ms =
                ((400.0 + 0.2 * f64::from(input_tokens) + 24.0 * f64::from(large_output_tokens))
                    * jitter(&mut g))
                .round() as u32;
            Record {
                task,
                confidence,
                small_correct,
                large_correct,
                input_tokens,
                small_output_tokens,
                large_output_tokens,
                small_latency_ms,
                large_latency_ms,
            }
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rows, seed, out] = args.as_slice() else {
        return Err("usage: gen_eval ROWS SEED OUT.{jsonl,csv,parquet}".into());
    };
    let rows: usize = rows.parse()?;
    let seed: u64 = seed.parse()?;
    let records = generate(rows, seed);
    let path = Path::new(out);
    match path.extension().and_then(|e| e.to_str()) {
        Some("jsonl") => write_jsonl(&records, path)?,
        Some("csv") => write_csv(&records, path)?,
        Some("parquet") => write_parquet(&records, path)?,
        _ => return Err("OUT must end in .jsonl, .csv or .parquet".into()),
    }
    Ok(())
}

fn write_jsonl(records: &[Record], path: &Path) -> std::io::Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    for (i, r) in records.iter().enumerate() {
        writeln!(
            w,
            "{{\"id\":\"q{i:07}\",\"task_type\":\"{}\",\"confidence\":{},\"small_quality\":{},\
             \"large_quality\":{},\"input_tokens\":{},\"small_output_tokens\":{},\
             \"large_output_tokens\":{},\"small_cost\":{},\"large_cost\":{},\
             \"small_latency_ms\":{},\"large_latency_ms\":{}}}",
            TASKS[r.task].0,
            r.confidence,
            u8::from(r.small_correct),
            u8::from(r.large_correct),
            r.input_tokens,
            r.small_output_tokens,
            r.large_output_tokens,
            r.small_cost(),
            r.large_cost(),
            r.small_latency_ms,
            r.large_latency_ms,
        )?;
    }
    w.flush()
}

fn write_csv(records: &[Record], path: &Path) -> std::io::Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    writeln!(
        w,
        "id,task_type,confidence,small_quality,large_quality,input_tokens,small_output_tokens,\
         large_output_tokens,small_cost,large_cost,small_latency_ms,large_latency_ms"
    )?;
    for (i, r) in records.iter().enumerate() {
        writeln!(
            w,
            "q{i:07},{},{},{},{},{},{},{},{},{},{},{}",
            TASKS[r.task].0,
            r.confidence,
            u8::from(r.small_correct),
            u8::from(r.large_correct),
            r.input_tokens,
            r.small_output_tokens,
            r.large_output_tokens,
            r.small_cost(),
            r.large_cost(),
            r.small_latency_ms,
            r.large_latency_ms,
        )?;
    }
    w.flush()
}

fn write_parquet(records: &[Record], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let col_f = |name: &str, f: &dyn Fn(&Record) -> f64| {
        Column::new(name.into(), records.iter().map(f).collect::<Vec<f64>>())
    };
    let col_u = |name: &str, f: &dyn Fn(&Record) -> u32| {
        Column::new(name.into(), records.iter().map(f).collect::<Vec<u32>>())
    };
    let ids: Vec<String> = (0..records.len()).map(|i| format!("q{i:07}")).collect();
    let tasks: Vec<&str> = records.iter().map(|r| TASKS[r.task].0).collect();
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("id".into(), ids),
        Column::new("task_type".into(), tasks),
        col_f("confidence", &|r| r.confidence),
        col_u("small_quality", &|r| u32::from(r.small_correct)),
        col_u("large_quality", &|r| u32::from(r.large_correct)),
        col_u("input_tokens", &|r| r.input_tokens),
        col_u("small_output_tokens", &|r| r.small_output_tokens),
        col_u("large_output_tokens", &|r| r.large_output_tokens),
        col_f("small_cost", &|r| r.small_cost()),
        col_f("large_cost", &|r| r.large_cost()),
        col_u("small_latency_ms", &|r| r.small_latency_ms),
        col_u("large_latency_ms", &|r| r.large_latency_ms),
    ])?;
    ParquetWriter::new(File::create(path)?).finish(&mut df)?;
    Ok(())
}
