//! Generates a synthetic, seeded multi-model eval set (long form) for the chain examples and
//! the chain benchmark.
//!
//! Usage: `cargo run --release --example gen_multi -- PROMPTS SEED OUT.jsonl [DECIMALS]`
//!
//! The model of the data (documented in `data/README.md`):
//! - five models of growing size, `tiny-1b` … `xl-405b`, each with an ability aₘ;
//! - each prompt has a task type (four, of different difficulty) and a latent difficulty
//!   d ~ Normal(task mean, 1.3²) shared by every model: correctness is correlated across models
//!   (a hard prompt is hard for all of them);
//! - model m is right with probability sigmoid(aₘ − d);
//! - its confidence is sigmoid(sₘ (aₘ − d) + Normal(0, 0.6²)), rounded to DECIMALS decimals
//!   (default 2, so there are ties): larger models are a little sharper;
//! - tokens are log-normal per prompt (input) and per model (output, larger models a little
//!   longer); costs in US dollars use one price per million tokens per model, in and out alike
//!   (0.06, 0.06, 0.18, 0.88, 3.50: Together AI's list prices for Llama 3.2-3B, 3.1-8B, 70B and
//!   405B Turbo as recorded late 2024, the 1B assumed equal to the 3B);
//! - latency is time to first token plus decoding time per output token, with jitter.
//!
//! Same PROMPTS and SEED give byte-identical output (ChaCha8 stream).

use std::fs::File;
use std::io::{BufWriter, Write};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// (name, ability, confidence sharpness, price per million tokens, ms to first token,
/// ms per output token, output length factor)
const MODELS: [(&str, f64, f64, f64, f64, f64, f64); 5] = [
    ("tiny-1b", -0.6, 0.7, 0.06, 80.0, 3.0, 0.9),
    ("small-3b", -0.1, 0.8, 0.06, 100.0, 4.0, 0.95),
    ("mid-8b", 0.6, 0.9, 0.18, 150.0, 6.0, 1.0),
    ("large-70b", 1.8, 1.0, 0.88, 300.0, 14.0, 1.1),
    ("xl-405b", 2.3, 1.0, 3.50, 500.0, 28.0, 1.15),
];

/// (name, mean difficulty, share of traffic)
const TASKS: [(&str, f64, f64); 4] = [
    ("chat", -1.0, 0.4),
    ("extraction", -0.2, 0.25),
    ("code", 0.8, 0.2),
    ("math", 1.5, 0.15),
];

struct Gen(ChaCha8Rng);

impl Gen {
    fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (1.0 - self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    fn lognormal(&mut self, mean: f64) -> f64 {
        let sigma = 0.5;
        (mean.ln() - sigma * sigma / 2.0 + sigma * self.normal()).exp()
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (prompts, seed, out, decimals) = match args.as_slice() {
        [p, s, o] => (p, s, o, 2),
        [p, s, o, d] => (p, s, o, d.parse()?),
        _ => return Err("usage: gen_multi PROMPTS SEED OUT.jsonl [DECIMALS]".into()),
    };
    let scale = 10f64.powi(decimals);
    let prompts: usize = prompts.parse()?;
    let mut g = Gen(ChaCha8Rng::seed_from_u64(seed.parse()?));
    let mut w = BufWriter::new(File::create(out)?);
    for id in 0..prompts {
        let pick = g.uniform();
        let mut acc = 0.0;
        let task = TASKS
            .iter()
            .position(|t| {
                acc += t.2;
                pick < acc
            })
            .unwrap_or(TASKS.len() - 1);
        let d = TASKS[task].1 + 1.3 * g.normal();
        let input = g.lognormal(400.0).round().max(1.0);
        let output = g.lognormal(200.0);
        for (name, ability, sharp, price, ttft, per_token, longer) in MODELS {
            let correct = g.uniform() < sigmoid(ability - d);
            let confidence =
                (sigmoid(sharp * (ability - d) + 0.6 * g.normal()) * scale).round() / scale;
            let out_tokens = (output * longer * (0.2 * g.normal()).exp())
                .round()
                .max(1.0);
            let cost = ((input + out_tokens) * price / 1e6 * 1e10).round() / 1e10;
            let latency = ((ttft + per_token * out_tokens) * (0.2 * g.normal()).exp()).round();
            writeln!(
                w,
                "{{\"id\":\"p{id}\",\"model\":\"{name}\",\"task_type\":\"{}\",\"confidence\":{confidence},\
                 \"quality\":{},\"cost\":{cost},\"latency_ms\":{latency}}}",
                TASKS[task].0,
                u8::from(correct)
            )?;
        }
    }
    w.flush()?;
    Ok(())
}
