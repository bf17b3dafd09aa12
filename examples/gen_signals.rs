//! Generates a synthetic, seeded eval set with raw model outputs, for `calibrate signals`,
//! recalibration, segments and safeguards.
//!
//! Usage: `cargo run --release --example gen_signals -- ROWS SEED OUT.jsonl`
//!
//! The model of the data (documented in `data/README.md`):
//! - four task types (chat, extraction, math, legal) of decreasing ease; a latent ease
//!   z ~ Normal(task mean, 1.5²); the small model is right with probability sigmoid(z), the large
//!   one with probability 1 − 0.3 (1 − sigmoid(z));
//! - `logprobs`: 5–120 tokens; each token's surprisal is exponential with mean
//!   0.25 · exp(−0.5 z); 70 % of wrong answers and 10 % of right ones have one hard token
//!   (surprisal 2–6), so the minimum token probability carries information the mean dilutes
//!   over long answers;
//! - `self_reported`: an overconfident 0–100 score, rounded to multiples of 5;
//! - `samples`: five sampled answers, each agreeing with the shipped answer with probability
//!   sigmoid(z + 0.5);
//! - `response`: a text whose hedges ("I think") come more often on hard items; 3 % of the hard
//!   items are refusals ("I cannot answer that"), which are always wrong;
//! - `user_tier` (free, pro, enterprise) and `is_regeneration` for safeguards; flat costs are
//!   left to the command line.
//!
//! Same ROWS and SEED give byte-identical output (ChaCha8 stream).

use std::fs::File;
use std::io::{BufWriter, Write};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// (name, mean latent ease, share of traffic)
const TASKS: [(&str, f64, f64); 4] = [
    ("chat", 3.2, 0.4),
    ("extraction", 2.2, 0.25),
    ("math", 1.0, 0.2),
    ("legal", 0.2, 0.15),
];
const TIERS: [(&str, f64); 3] = [("free", 0.6), ("pro", 0.3), ("enterprise", 0.1)];

struct Gen(ChaCha8Rng);

impl Gen {
    fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (1.0 - self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }
    fn pick<T: Copy>(&mut self, items: &[(T, f64)]) -> T {
        let u = self.uniform();
        let mut acc = 0.0;
        for (item, share) in items {
            acc += share;
            if u < acc {
                return *item;
            }
        }
        items[items.len() - 1].0
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A number with at most 4 decimals, as JSON.
fn short(x: f64) -> String {
    let r = (x * 1e4).round() / 1e4;
    format!("{}", r + 0.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rows, seed, out] = args.as_slice() else {
        return Err("usage: gen_signals ROWS SEED OUT.jsonl".into());
    };
    let rows: usize = rows.parse()?;
    let mut g = Gen(ChaCha8Rng::seed_from_u64(seed.parse()?));
    let tasks: Vec<(usize, f64)> = TASKS.iter().enumerate().map(|(i, t)| (i, t.2)).collect();
    let mut w = BufWriter::new(File::create(out)?);
    for i in 0..rows {
        let task = g.pick(&tasks);
        let tier = g.pick(&TIERS);
        let is_regeneration = g.uniform() < 0.05;
        let z = TASKS[task].1 + 1.5 * g.normal();
        let p = sigmoid(z);
        let refusal = z < 0.0 && g.uniform() < 0.03 / 0.5;
        let small_correct = !refusal && g.uniform() < p;
        let large_correct = g.uniform() < 1.0 - 0.3 * (1.0 - p);
        let tokens = (5.0 + 115.0 * g.uniform()).round() as usize;
        let mean_surprisal = 0.25 * (-0.5 * z).exp();
        let mut logprobs: Vec<String> = (0..tokens)
            .map(|_| short(-g.exponential(mean_surprisal)))
            .collect();
        // A hard token: on most wrong answers, and on some right ones.
        let hard = g.uniform() < if small_correct { 0.1 } else { 0.7 };
        if hard {
            let at = (g.uniform() * tokens as f64) as usize % tokens;
            logprobs[at] = short(-(2.0 + 4.0 * g.uniform()));
        }
        let self_reported =
            ((100.0 * sigmoid(0.5 * z + 1.5 + 0.8 * g.normal())) / 5.0).round() * 5.0;
        let answer = if small_correct { "A" } else { "B" };
        let agree = sigmoid(z + 0.5);
        let samples: Vec<String> = (0..5)
            .map(|_| {
                if g.uniform() < agree {
                    format!("\"{answer}\"")
                } else {
                    format!("\"{}\"", ["C", "D", "E"][(g.uniform() * 3.0) as usize % 3])
                }
            })
            .collect();
        let response = if refusal {
            "I cannot answer that with the information given.".to_string()
        } else if g.uniform() < 0.5 * (1.0 - p) {
            format!("I think the answer is {answer}, but I would double-check the details.")
        } else if g.uniform() < 0.2 {
            format!("Answer: {answer}.")
        } else {
            format!(
                "The answer is {answer}. It follows from the facts given in the question and \
                 the usual reading of them."
            )
        };
        writeln!(
            w,
            "{{\"id\":\"s{i:06}\",\"task_type\":\"{}\",\"user_tier\":\"{tier}\",\
             \"is_regeneration\":{is_regeneration},\"small_quality\":{},\"large_quality\":{},\
             \"logprobs\":[{}],\"self_reported\":{self_reported},\"samples\":[{}],\
             \"response\":\"{response}\"}}",
            TASKS[task].0,
            u8::from(small_correct),
            u8::from(large_correct),
            logprobs.join(","),
            samples.join(","),
        )?;
    }
    w.flush()?;
    Ok(())
}
