//! Issue 16: multi-model eval sets, chains of models chosen exactly. Numbers worked by hand in
//! tests/data/README.md (`multi.jsonl`).

use crate::harness::{Scratch, calibrate, fixture, run, stderr, stdout};

#[test]
fn sweep_picks_the_three_stage_chain_worked_by_hand() {
    let dir = Scratch::new();
    let out = dir.run_out(
        "sweep",
        fixture("multi.jsonl"),
        "r",
        &["--min-quality", "1"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = dir.json("r/summary.json");
    assert_eq!(v["mode"], "chains");
    assert_eq!(v["prompts"], 4);
    let pick = &v["pick"];
    assert_eq!(pick["chain"], "a → b → c");
    assert_eq!(pick["thresholds"], serde_json::json!([0.9, 0.9]));
    let at = &pick["at_best"];
    assert_eq!(at["cost_per_request"], 14.75);
    assert_eq!(at["quality"], 1.0);
    assert_eq!(at["latency_ms"], 825.0);
    assert_eq!(at["passed_on_cost_per_request"], 3.25); // 0.75 + 2.5
    let reached: Vec<u64> = (at["funnel"].as_array().unwrap().iter())
        .map(|s| s["reached"].as_u64().unwrap())
        .collect();
    assert_eq!(reached, [4, 3, 2]);
    // The policy: stages, the last without a threshold.
    assert_eq!(
        v["policy"]["stages"],
        serde_json::json!([{"model": "a", "threshold": 0.9}, {"model": "b", "threshold": 0.9}, {"model": "c"}])
    );
    // Seven chains, ranked: the pick, then b → c at 15.
    let csv = dir.text("r/chains.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 8, "{csv}");
    assert!(
        lines[1].starts_with("1,a → b → c,3,true,0.9;0.9,14.75,1,"),
        "{csv}"
    );
    assert!(lines[2].starts_with("2,b → c,2,true,0.9,15,1,"), "{csv}");
    for f in [
        "report.md",
        "chain_frontier.svg",
        "chain_frontier.png",
        "chain_funnel.svg",
    ] {
        assert!(dir.join(&format!("r/{f}")).exists(), "{f}");
    }
    roxmltree::Document::parse(&dir.text("r/chain_frontier.svg")).unwrap();
    assert!(dir.text("r/report.md").contains("Deploy **a → b → c**"));
    assert!(stdout(&out).contains("chain: a (answers if confidence >= 0.9) → b"));
}

#[test]
fn reruns_are_byte_identical() {
    let dir = Scratch::new();
    for out in ["r1", "r2"] {
        let o = dir.run_out(
            "sweep",
            fixture("multi.jsonl"),
            out,
            &["--min-quality", "1"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    for f in [
        "summary.json",
        "chains.csv",
        "report.md",
        "chain_frontier.svg",
        "chain_frontier.png",
    ] {
        assert_eq!(
            dir.read(&format!("r1/{f}")),
            dir.read(&format!("r2/{f}")),
            "{f}"
        );
    }
}

#[test]
fn recommend_prints_the_stages_in_every_format() {
    let text = run("recommend", fixture("multi.jsonl"), &["--min-quality", "1"]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    assert_eq!(stdout(&text), "a\t0.9\nb\t0.9\nc\n");
    let json = run(
        "recommend",
        fixture("multi.jsonl"),
        &["--min-quality", "1", "--print", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["found"], true);
    assert_eq!(v["policy"]["stages"][2], serde_json::json!({"model": "c"}));
    assert_eq!(v["runners_up"][0]["chain"], "b → c");
    let yaml = stdout(&run(
        "recommend",
        fixture("multi.jsonl"),
        &["--min-quality", "1", "--print", "yaml"],
    ));
    assert!(
        yaml.contains("\"stages\":\n  - \"model\": \"a\"\n    \"threshold\": 0.9\n"),
        "{yaml}"
    );
    let toml = stdout(&run(
        "recommend",
        fixture("multi.jsonl"),
        &["--min-quality", "1", "--print", "toml"],
    ));
    assert!(toml.contains("[[stages]]\nmodel = \"c\""), "{toml}");
    let env = stdout(&run(
        "recommend",
        fixture("multi.jsonl"),
        &["--min-quality", "1", "--print", "env"],
    ));
    assert!(env.contains("CALIBRATE_STAGES_COUNT=3\n"), "{env}");
    assert!(env.contains("CALIBRATE_STAGES_1_THRESHOLD=0.9\n"), "{env}");
    // Model names with a tab, a line end, a comma or an equals sign are escaped as segment
    // values are, so no name can pass for a threshold or another stage.
    let renamed: String = (std::fs::read_to_string(fixture("multi.jsonl"))
        .unwrap()
        .lines())
    .map(|line| {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = match v["model"].as_str().unwrap() {
            "a" => "x\ty",
            "c" => "p\nq, r=s",
            other => other,
        };
        v["model"] = serde_json::json!(name);
        v.to_string() + "\n"
    })
    .collect();
    let s = crate::harness::Scratch::new();
    let odd = run(
        "recommend",
        s.write("odd.jsonl", renamed),
        &["--min-quality", "1"],
    );
    assert_eq!(
        stdout(&odd),
        "x\\ty\t0.9\nb\t0.9\np\\nq\\, r\\=s\n",
        "{}",
        stderr(&odd)
    );
}

#[test]
fn nested_and_csv_forms_read_the_same() {
    let nested = run(
        "recommend",
        fixture("multi-nested.jsonl"),
        &["--min-quality", "1"],
    );
    assert_eq!(
        stdout(&nested),
        "a\t0.9\nb\t0.9\nc\n",
        "{}",
        stderr(&nested)
    );
    let csv = run(
        "recommend",
        fixture("multi.csv"),
        &[
            "--min-quality",
            "1",
            "--field",
            "id=prompt",
            "--field",
            "model=llm",
            "--field",
            "quality=correct",
        ],
    );
    assert_eq!(stdout(&csv), "a\t0.9\nb\t0.9\nc\n", "{}", stderr(&csv));
}

#[test]
fn models_flag_restricts_and_orders_the_stages() {
    let out = run(
        "recommend",
        fixture("multi.jsonl"),
        &["--min-quality", "1", "--models", "b,c"],
    );
    assert_eq!(stdout(&out), "b\t0.9\nc\n", "{}", stderr(&out));
    let bad = run("recommend", fixture("multi.jsonl"), &["--models", "b,zz"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("--models: no model \"zz\" in the input; it has a, b, c"),
        "{}",
        stderr(&bad)
    );
    let two = run("recommend", fixture("tiny.jsonl"), &["--models", "a,b"]);
    assert_eq!(two.status.code(), Some(2));
    assert!(
        stderr(&two).contains("--models needs a multi-model input"),
        "{}",
        stderr(&two)
    );
}

#[test]
fn a_prompt_missing_a_model_names_both_or_is_dropped() {
    let dir = Scratch::new();
    let text = std::fs::read_to_string(fixture("multi.jsonl")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !(l.contains("\"p4\"") && l.contains("\"model\": \"c\"")))
        .collect();
    assert_eq!(lines.len(), 11);
    let path = dir.write("m.jsonl", lines.join("\n") + "\n");
    let out = run("recommend", &path, &["--min-quality", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(
            "m.jsonl:10: field \"model\": expected a record of every model for each prompt: \
             prompt \"p4\" has none for model \"c\", found 2 of 3 models"
        ),
        "{err}"
    );
    let skipped = run(
        "recommend",
        &path,
        &["--min-quality", "1", "--skip-invalid"],
    );
    assert_eq!(skipped.status.code(), Some(0), "{}", stderr(&skipped));
    assert!(
        stderr(&skipped).contains("warning: dropped 2 invalid records of 11"),
        "{}",
        stderr(&skipped)
    );
}

#[test]
fn a_bad_value_names_file_line_and_field() {
    let dir = Scratch::new();
    let path = dir.write(
        "m.jsonl",
        "{\"id\":1,\"model\":\"a\",\"confidence\":\"high\",\"quality\":1,\"cost\":1}\n\
         {\"id\":1,\"model\":\"b\",\"confidence\":0.5,\"quality\":1,\"cost\":2}\n",
    );
    let out = run("recommend", &path, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("m.jsonl:1: field \"confidence\": expected a finite number, found \"high\""),
        "{}",
        stderr(&out)
    );
    let nested = dir.write(
        "n.jsonl",
        "{\"id\":1,\"models\":{\"a\":{\"confidence\":0.5,\"quality\":2,\"cost\":1}}}\n",
    );
    let out = run("recommend", &nested, &[]);
    assert!(
        stderr(&out)
            .contains("n.jsonl:1: field \"models.a.quality\": expected a quality in [0, 1]"),
        "{}",
        stderr(&out)
    );
    // A cost of 1e30 or more per request is refused, as for two models (a chain's sums would
    // overflow to infinity).
    let dear = dir.write(
        "d.jsonl",
        "{\"id\":1,\"model\":\"a\",\"confidence\":0.5,\"quality\":1,\"cost\":1}\n\
         {\"id\":1,\"model\":\"b\",\"confidence\":0.5,\"quality\":1,\"cost\":1e308}\n",
    );
    // A CSV row of the wrong width is a bad record named by its line (CRLF line ends and a
    // blank line counted: the short row is line 6), dropped by --skip-invalid.
    let short = dir.write(
        "w.csv",
        "id,model,confidence,quality,cost\r\np1,a,0.5,1,1\r\n\r\np1,b,0.5,1,2\r\n\
         p2,a,0.5,1,1\r\np2,b,0.5,1\r\n",
    );
    let out = run("recommend", &short, &["--min-quality", "0.5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("w.csv:6: expected 5 fields as in the header, found 4"),
        "{}",
        stderr(&out)
    );
    let out = run(
        "recommend",
        &short,
        &["--min-quality", "0.5", "--skip-invalid"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run("recommend", &dear, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("d.jsonl:2: field \"cost\": expected a cost below 1e30 per request"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn split_field_checks_the_pick_on_the_held_out_prompts() {
    let dir = Scratch::new();
    let out = dir.run_out(
        "sweep",
        fixture("multi.jsonl"),
        "r",
        &["--min-quality", "1", "--split-field", "part"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = dir.json("r/summary.json");
    assert_eq!(v["pick"]["chain"], "a → b");
    assert_eq!(v["pick"]["at_best"]["cost_per_request"], 3.5);
    let h = &v["holdout"];
    assert_eq!(h["calibration_prompts"], 2);
    assert_eq!(h["test_prompts"], 2);
    assert_eq!(h["held_out"]["quality"], 0.0);
    assert_eq!(h["held_out"]["cost_per_request"], 6.0);
    assert_eq!(h["meets_objective"], false);
}

#[test]
fn bootstrap_intervals_bracket_the_pick() {
    let out = run(
        "recommend",
        fixture("multi.jsonl"),
        &[
            "--min-quality",
            "1",
            "--print",
            "json",
            "--bootstrap",
            "200",
            "--level",
            "0.9",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let i = &v["intervals"];
    assert_eq!(i["resamples"], 200);
    let (lo, hi) = (
        i["cost_per_request"][0].as_f64().unwrap(),
        i["cost_per_request"][1].as_f64().unwrap(),
    );
    assert!(lo <= 14.75 && 14.75 <= hi && lo < hi, "{i}");
}

#[test]
fn flags_without_a_chain_form_are_refused_in_one_line() {
    for (flags, says) in [
        (
            vec!["--certify", "--min-quality", "1"],
            "--certify: its guarantee covers one threshold of one pair",
        ),
        (
            vec!["--max-escalation", "0.5"],
            "--max-escalation has no single meaning for a chain",
        ),
        (
            vec!["--where", "part=train"],
            "--where is not supported with a multi-model input yet",
        ),
    ] {
        let out = calibrate()
            .arg("recommend")
            .arg(fixture("multi.jsonl"))
            .args(&flags)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        let err = stderr(&out);
        assert!(err.contains(says), "{flags:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn an_objective_no_chain_meets_exits_one() {
    let out = run("recommend", fixture("multi.jsonl"), &["--budget", "0.5"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no chain of the 7 considered meets the objective"),
        "{}",
        stderr(&out)
    );
}

/// The records of one model of `multi.jsonl`, without the model field, as a file of its own.
fn per_model_file(dir: &Scratch, model: &str, skip: &str) -> std::path::PathBuf {
    let folder = if skip.is_empty() { "all" } else { "partial" };
    let text = std::fs::read_to_string(fixture("multi.jsonl")).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["model"] == model && v["id"] != skip {
            v.as_object_mut().unwrap().remove("model");
            out.push_str(&format!("{v}\n"));
        }
    }
    dir.write(&format!("{folder}/{model}.jsonl"), out)
}

#[test]
fn one_file_per_model_joins_by_id() {
    let dir = Scratch::new();
    let (a, b, c) = (
        per_model_file(&dir, "a", ""),
        per_model_file(&dir, "b", ""),
        per_model_file(&dir, "c", "p4"),
    );
    let full = per_model_file(&dir, "c", "");
    let join = |c: &std::path::Path| {
        calibrate()
            .arg("recommend")
            .arg(&a)
            .args(["--min-quality", "1", "--join"])
            .arg(&b)
            .arg("--join")
            .arg(c)
            .output()
            .unwrap()
    };
    let out = join(&full);
    assert_eq!(stdout(&out), "a\t0.9\nb\t0.9\nc\n", "{}", stderr(&out));
    // c.jsonl lacks p4: named in the file where the prompt starts.
    let out = join(&c);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("a.jsonl:4: field \"model\": expected a record of every model for each prompt: prompt \"p4\" has none for model \"c\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_stage_that_never_runs_loses_the_tie_to_the_shorter_chain() {
    // Model a answers every prompt (confidence 0.9 everywhere), so a → b at threshold 0.9 is
    // a alone with one more model to deploy; the costs (0.1 per request) are not exact in
    // binary, so the two chains' sums may differ in the last bit. Found on the gastro
    // Claude/GPT family: `--budget` picked a three-stage chain whose last stage never ran.
    let dir = Scratch::new();
    let mut s = String::new();
    for (i, q) in [1, 1, 0, 1, 0, 1, 1].iter().enumerate() {
        s.push_str(&format!(
            "{{\"id\":{i},\"model\":\"a\",\"confidence\":0.9,\"quality\":{q},\"cost\":0.1}}\n\
             {{\"id\":{i},\"model\":\"b\",\"confidence\":0.9,\"quality\":1,\"cost\":0.7}}\n\
             {{\"id\":{i},\"model\":\"c\",\"confidence\":0.5,\"quality\":1,\"cost\":3.3}}\n"
        ));
    }
    let input = dir.write("never.jsonl", s);
    for flags in [&["--budget", "0.5"][..], &["--min-quality", "0.7"][..]] {
        let out = run("recommend", &input, flags);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(stdout(&out), "a\n", "{flags:?}");
    }
}

#[test]
fn two_model_flags_without_a_chain_form_are_refused() {
    let cases: [(&[&str], &str); 3] = [
        (&["--split-ties", "--min-quality", "0.5"], "--split-ties"),
        (
            &["--small-cost", "1", "--min-quality", "0.5"],
            "--small-cost",
        ),
        (
            &["--large-cost", "9", "--min-quality", "0.5"],
            "--small-cost/--large-cost",
        ),
    ];
    for (flags, want) in cases {
        let out = run("recommend", fixture("multi.jsonl"), flags);
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        let err = stderr(&out);
        assert!(err.contains(want), "{flags:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

#[test]
fn monitor_refuses_a_chain_policy_in_one_line() {
    let dir = Scratch::new();
    let out = run("recommend", fixture("multi.jsonl"), &["--print", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let policy = dir.write("chain.json", &out.stdout);
    let logs = dir.write(
        "logs.jsonl",
        "{\"timestamp\":0,\"confidence\":0.5,\"escalated\":false}\n",
    );
    let out = calibrate()
        .arg("monitor")
        .arg(&logs)
        .arg("--against")
        .arg(&policy)
        .arg("--out")
        .arg(dir.join("m"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("it is a chain of models (stages)"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn parquet_long_form_reads_as_json_lines() {
    use polars::prelude::*;
    // The committed five-model example, written as Parquet (ints as Int64, costs as Float64,
    // text as String), gives the JSON Lines report's numbers byte for byte.
    let text = std::fs::read_to_string(crate::harness::example("example-multi.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let col_str = |k: &str| -> Vec<String> {
        rows.iter()
            .map(|r| r[k].as_str().unwrap().to_string())
            .collect()
    };
    let col_f64 = |k: &str| -> Vec<f64> { rows.iter().map(|r| r[k].as_f64().unwrap()).collect() };
    let quality: Vec<i64> = rows
        .iter()
        .map(|r| r["quality"].as_i64().unwrap())
        .collect();
    let latency: Vec<i64> = rows
        .iter()
        .map(|r| r["latency_ms"].as_i64().unwrap())
        .collect();
    let mut frame = df!(
        "id" => col_str("id"),
        "model" => col_str("model"),
        "task_type" => col_str("task_type"),
        "confidence" => col_f64("confidence"),
        "quality" => quality,
        "cost" => col_f64("cost"),
        "latency_ms" => latency,
    )
    .unwrap();
    let s = Scratch::new();
    let path = s.join("multi.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut frame)
        .unwrap();
    let jsonl = s.write("multi.jsonl", &text);
    for (input, out) in [(&path, "p"), (&jsonl, "j")] {
        let run = calibrate()
            .arg("sweep")
            .arg(input)
            .args(["--max-quality-loss", "0.01", "--quiet", "--out"])
            .arg(s.join(out))
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    }
    assert_eq!(s.read("p/chains.csv"), s.read("j/chains.csv"));
    let (mut p, mut j) = (s.json("p/summary.json"), s.json("j/summary.json"));
    // The policy names its input by digest, which differs with the file.
    for policy in [&mut p["policy"], &mut j["policy"]] {
        policy.as_object_mut().unwrap().remove("input_sha256");
    }
    assert_eq!(p["policy"], j["policy"]);
}

#[test]
fn a_multi_model_set_on_standard_input_is_named_for_what_it_is() {
    // Only a regular file is looked at for the model column (a pipe can be read once): on
    // standard input the set is read as a two-model one, and the error says why.
    let out = calibrate()
        .arg("recommend")
        .arg("-")
        .write_stdin(std::fs::read(fixture("multi.jsonl")).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "the records have a \"model\" column: a multi-model eval set is recognised in a \
             regular file, not on standard input or a pipe"
        ),
        "{}",
        stderr(&out)
    );
}
