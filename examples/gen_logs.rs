//! Generates seeded production logs for `calibrate monitor` from a policy's reference, with
//! optional faults (the model is documented in `tests/cli/logs_gen.rs`).
//!
//! Usage: `cargo run --example gen_logs -- POLICY.json SEED DAYS PER_DAY [FAULT...] > logs.jsonl`
//! where FAULT is `shift=SEGMENT@DAY`, `strict=SEGMENT@DAY`, `worse=SEGMENT@DAY`, `creep` or
//! `regenerate@DAY`.

#[path = "../tests/cli/logs_gen.rs"]
mod logs_gen;

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: gen_logs POLICY.json SEED DAYS PER_DAY [FAULT...]");
        std::process::exit(2);
    }
    let policy: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&args[0]).expect("readable policy"))
            .expect("a JSON policy");
    let number = |s: &str| s.parse::<u64>().expect("a whole number");
    let mut faults = logs_gen::Faults::default();
    let at = |spec: &str| {
        let (seg, day) = spec.split_once('@').expect("SEGMENT@DAY");
        (seg.to_string(), number(day) as u32)
    };
    for f in &args[4..] {
        match f.split_once('=') {
            Some(("shift", s)) => faults.shift = Some(at(s)),
            Some(("strict", s)) => faults.strict_router = Some(at(s)),
            Some(("worse", s)) => faults.worse_small = Some(at(s)),
            _ if f == "creep" => faults.creep = true,
            _ if f.starts_with("regenerate@") => {
                faults.regenerate_small = Some(number(&f["regenerate@".len()..]) as u32)
            }
            _ => panic!("unknown fault {f:?}"),
        }
    }
    let text = logs_gen::generate(
        &policy,
        number(&args[1]),
        number(&args[2]) as u32,
        number(&args[3]) as u32,
        &faults,
    );
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .expect("stdout");
}
