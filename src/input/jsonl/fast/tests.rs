//! The fast path against its slow twin, the serde path: wherever the fast path answers, it
//! answers what serde_json answers; and it does answer for the records the generator writes.

use proptest::prelude::*;

use super::template::Template;
use super::*;
use crate::input::columns::READ_FIELDS;
use crate::input::error::Location;
use crate::input::extra::ExtraKind;
use crate::input::jsonl::parse_record;
use crate::input::jsonl::record::Keys;
use crate::input::testing::request;

/// Reads every fixed field by its default name, and `task_type` and `tier` as labels.
fn plan() -> Plan {
    let keys: Keys<'_> = READ_FIELDS.map(|f| Some(f.name()));
    let extras = vec![
        request("task_type", ExtraKind::Label),
        request("tier", ExtraKind::Label),
    ];
    Plan::new(&keys, extras)
}

type Parsed<'a> = ([Cell<'a>; READ], usize, Vec<Option<Raw<'a>>>);

fn fast_read<'a>(line: &'a [u8], plan: &Plan) -> Option<Parsed<'a>> {
    fast_read_after(line, plan, &mut KeyCache::default())
}

/// The fast path with a cache that earlier lines have filled.
fn fast_read_after<'a>(line: &'a [u8], plan: &Plan, cache: &mut KeyCache) -> Option<Parsed<'a>> {
    let mut raws = vec![None; plan.raw_slots()];
    let mut cells: [Cell<'a>; READ] = Default::default();
    let keys = record(line, plan, cache, &mut raws, &mut cells)?;
    Some((cells, keys, raws))
}

fn serde_read<'a>(line: &'a [u8], plan: &Plan) -> Option<Parsed<'a>> {
    serde_read_after(line, plan, &mut KeyCache::default())
}

fn serde_read_after<'a>(line: &'a [u8], plan: &Plan, cache: &mut KeyCache) -> Option<Parsed<'a>> {
    let mut raws = vec![None; plan.raw_slots()];
    let (cells, keys) = parse_record(line, Location::Line(1), plan, cache, &mut raws).ok()?;
    Some((cells, keys, raws))
}

/// Reads `lines` in turn as a block does (the fast path, else serde, one cache), and checks each
/// line the fast path read against serde on a fresh cache.
fn agrees_line_by_line(lines: &[&str], plan: &Plan) -> Result<(), String> {
    let mut cache = KeyCache::default();
    for line in lines {
        match fast_read_after(line.as_bytes(), plan, &mut cache) {
            Some(fast) => match serde_read(line.as_bytes(), plan) {
                Some(slow) if same(&fast, &slow) => {}
                Some(_) => return Err(format!("differs from serde: {line}")),
                None => return Err(format!("serde refuses what the fast path read: {line}")),
            },
            None => {
                serde_read_after(line.as_bytes(), plan, &mut cache);
            }
        }
    }
    Ok(())
}

/// Cells compare numbers by their bits, so -0.0 and 0.0 differ (as they would in a report).
fn same(a: &Parsed<'_>, b: &Parsed<'_>) -> bool {
    let cell_eq = |x: &Cell<'_>, y: &Cell<'_>| match (x, y) {
        (Cell::Number(p), Cell::Number(q)) => p.to_bits() == q.to_bits(),
        _ => x == y,
    };
    a.0.iter().zip(&b.0).all(|(x, y)| cell_eq(x, y)) && a.1 == b.1 && a.2 == b.2
}

#[test]
fn reads_the_generator_records() {
    // A line as examples/gen_eval.rs writes it.
    let line = br#"{"id":"q0000000","task_type":"code","confidence":0.103,"small_quality":0,"large_quality":1,"input_tokens":675,"small_output_tokens":215,"large_output_tokens":1335,"small_cost":0.0004375,"large_cost":0.11025,"small_latency_ms":1410,"large_latency_ms":28325}"#;
    let plan = plan();
    let fast = fast_read(line, &plan).expect("the fast path reads the common shape");
    assert_eq!(fast.0[0], Cell::Number(0.103));
    assert_eq!(fast.0[3], Cell::Number(0.0004375));
    assert_eq!(fast.0[11], Cell::Text("code".into()));
    assert_eq!(fast.1, 12);
    assert!(same(&fast, &serde_read(line, &plan).unwrap()));
}

#[test]
fn leaves_every_other_shape_to_serde() {
    let plan = plan();
    for line in [
        r#"{"confidence":0.5,"confidence":0.6}"#, // a duplicate key
        r#"{"confidence":1e400}"#,                // out of range
        r#"{"confidence":01}"#,                   // a leading zero
        r#"{"confidence":"a\"b"}"#,               // an escape
        r#"{"confidence":[1]}"#,                  // an array read as a cell
        r#"{"meta":{"a":1},"confidence":0.5}"#,   // a nested value skipped
        r#"{"confidence":0.5,}"#,                 // a trailing comma
        r#"{"confidence":0.5} x"#,                // text after the object
        r#"{"confidence":1e-400}"#,               // an underflow
        r#"{}"#,                                  // no keys
        "{\"task_type\":\"\u{1}\"}",              // a control character
    ] {
        assert!(fast_read(line.as_bytes(), &plan).is_none(), "{line}");
    }
    // Not UTF-8 in a string read as text.
    assert!(fast_read(b"{\"task_type\":\"\xff\"}", &plan).is_none());
}

#[test]
fn a_warm_cache_matches_only_the_same_plain_key() {
    let plan = plan();
    // Serde reads the escaped key a"b into the cache; the next line's `"a"b"` is not that key
    // but broken JSON, which the fast path must leave to serde.
    let mut cache = KeyCache::default();
    assert!(serde_read_after(br#"{"a\"b":1}"#, &plan, &mut cache).is_some());
    assert!(fast_read_after(br#"{"a"b":1}"#, &plan, &mut cache).is_none());
    // A key that merely starts like the cached one, and the cached key itself.
    assert!(
        agrees_line_by_line(
            &[
                r#"{"confidence":0.5,"tier":"a"}"#,
                r#"{"confidence_x":0.5,"tier":"a"}"#,
                r#"{"confidence":0.25,"tier":"b"}"#,
                r#"{"conf":0.5,"tier":"a"}"#,
                r#"{"tier":"c","confidence":0.75}"#,
                r#"{"tier":"c","tier":0.75}"#,
            ],
            &plan
        )
        .is_ok()
    );
    let mut warm = KeyCache::default();
    let first = fast_read_after(br#"{"confidence":0.5,"tier":"a"}"#, &plan, &mut warm).unwrap();
    let again = fast_read_after(br#"{"confidence":0.5,"tier":"a"}"#, &plan, &mut warm).unwrap();
    assert!(same(&first, &again));
    // The same key twice is a duplicate, also when the first one matched the cache.
    assert!(fast_read_after(br#"{"confidence":0.5,"confidence":0.5}"#, &plan, &mut warm).is_none());
}

/// JSON numbers of every form the grammar allows, and some it does not.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<f64>().prop_map(|x| x.to_string()),
        any::<f64>().prop_map(|x| format!("{x:e}")),
        any::<i64>().prop_map(|x| x.to_string()),
        any::<u64>().prop_map(|x| x.to_string()),
        "-?(0|[1-9][0-9]{0,25})(\\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?",
        "[-+0-9.eE]{1,8}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        number(),
        Just("true".to_string()),
        Just("false".to_string()),
        Just("null".to_string()),
        "\"[a-z é\\\\\"]{0,6}\"",
        Just("[1,2]".to_string()),
        Just("{\"x\":1}".to_string()),
        Just("tru".to_string()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("confidence".to_string()),
        Just("small_quality".to_string()),
        Just("small_cost".to_string()),
        Just("task_type".to_string()),
        Just("tier".to_string()),
        "[a-z]{1,3}",
    ]
}

fn line() -> impl Strategy<Value = String> {
    (prop::collection::vec((key(), value()), 0..8), " ?", "[ ,]?").prop_map(|(pairs, ws, end)| {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("\"{k}\":{ws}{v}"))
            .collect();
        format!("{ws}{{{}{end}}}{ws}", body.join(","))
    })
}

proptest! {
    #[test]
    fn fast_path_agrees_with_serde(line in line()) {
        let plan = plan();
        if let Some(fast) = fast_read(line.as_bytes(), &plan) {
            let slow = serde_read(line.as_bytes(), &plan);
            prop_assert!(slow.is_some(), "serde refuses what the fast path read: {line}");
            prop_assert!(same(&fast, &slow.unwrap()), "{line}");
        }
    }

    /// Several lines through one cache, as a block reads them: the key expected from the last
    /// record must never let through a line serde reads differently or refuses.
    #[test]
    fn a_warm_cache_agrees_with_serde(lines in prop::collection::vec(line(), 1..6)) {
        let plan = plan();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let checked = agrees_line_by_line(&lines, &plan);
        prop_assert!(checked.is_ok(), "{:?}", checked);
    }

    #[test]
    fn numbers_read_as_serde_reads_them(x in number()) {
        let plan = plan();
        for line in [format!("{{\"confidence\":{x}}}"), format!("{{\"tier\":{x}}}")] {
            if let Some(fast) = fast_read(line.as_bytes(), &plan) {
                let slow = serde_read(line.as_bytes(), &plan);
                prop_assert!(slow.is_some(), "{line}");
                prop_assert!(same(&fast, &slow.unwrap()), "{line}");
            }
        }
    }
}

proptest! {
    #[test]
    fn fast_path_reads_every_finite_number(x in any::<f64>(), i in any::<i64>()) {
        let plan = plan();
        for text in [x.to_string(), format!("{x:e}"), i.to_string()] {
            let line = format!("{{\"confidence\":{text},\"tier\":{text}}}");
            let fast = fast_read(line.as_bytes(), &plan);
            // Subnormals may underflow in their decimal form; every other finite number reads.
            if x.is_finite() && x.abs() >= f64::MIN_POSITIVE {
                prop_assert!(fast.is_some(), "{line}");
            }
        }
    }
}

/// The learned layout against the fast path on a fresh cache: wherever the layout reads a line,
/// the fast path reads the same cells, key count and raws.
fn layout_agrees(learned_from: &str, lines: &[String], plan: &Plan) -> Result<usize, String> {
    let Some(template) = Template::learn(learned_from.as_bytes(), plan) else {
        return Ok(0);
    };
    let mut read = 0;
    for line in std::iter::once(learned_from).chain(lines.iter().map(String::as_str)) {
        let mut raws = vec![None; plan.raw_slots()];
        let mut cells: [Cell<'_>; READ] = Default::default();
        let Some(keys) = template.read(line.as_bytes(), &mut raws, &mut cells) else {
            continue;
        };
        let fast = fast_read(line.as_bytes(), plan)
            .ok_or_else(|| format!("the fast path refuses what the layout read: {line}"))?;
        if !same(&(cells, keys, raws), &fast) {
            return Err(format!("the layout reads otherwise: {line}"));
        }
        read += 1;
    }
    Ok(read)
}

#[test]
fn a_learned_layout_reads_only_its_own_layout() {
    let plan = plan();
    let generated = r#"{"id":"q0","task_type":"code","confidence":0.103,"small_quality":0,"small_cost":0.0004375,"tier":"a"}"#;
    let template = Template::learn(generated.as_bytes(), &plan).expect("a plain record");
    fn read_by<'a>(
        template: &Template,
        plan: &Plan,
        line: &'a str,
    ) -> Option<(usize, [Cell<'a>; READ])> {
        let mut raws = vec![None; plan.raw_slots()];
        let mut cells: [Cell<'a>; READ] = Default::default();
        let keys = template.read(line.as_bytes(), &mut raws, &mut cells)?;
        Some((keys, cells))
    }
    let read = |line| read_by(&template, &plan, line);
    // The same layout with other values reads; the values are the line's own.
    let (keys, cells) =
        read(r#"{"id":"q12345678901234567890","task_type":"chat","confidence":1e-3,"small_quality":1,"small_cost":2,"tier":"b"}"#)
            .expect("the same layout");
    assert_eq!(keys, 6);
    assert_eq!(cells[0], Cell::Number(0.001));
    assert_eq!(cells[11], Cell::Text("chat".into()));
    for other in [
        // Spacing, key order, a missing or an extra key, another key of the same length.
        r#"{"id":"q0", "task_type":"code","confidence":0.103,"small_quality":0,"small_cost":0.0004375,"tier":"a"}"#,
        r#"{"task_type":"code","id":"q0","confidence":0.103,"small_quality":0,"small_cost":0.0004375,"tier":"a"}"#,
        r#"{"id":"q0","task_type":"code","confidence":0.103,"small_quality":0,"small_cost":0.0004375}"#,
        r#"{"id":"q0","task_type":"code","confidence":0.103,"small_quality":0,"small_cost":0.0004375,"tier":"a","x":1}"#,
        r#"{"id":"q0","task_type":"code","confidence":0.103,"small_quality":0,"small_cost":0.0004375,"tied":"a"}"#,
        // Values the fast path leaves to serde, and broken lines.
        r#"{"id":"q\"0","task_type":"code","confidence":0.103,"small_quality":0,"small_cost":0.0004375,"tier":"a"}"#,
        r#"{"id":{"a":1},"task_type":"code","confidence":0.103,"small_quality":0,"small_cost":0.0004375,"tier":"a"}"#,
        r#"{"id":"q0","task_type":"code","confidence":01,"small_quality":0,"small_cost":0.0004375,"tier":"a"}"#,
        r#"{"id":"q0","task_type":"code","confidence":0.103,"small_quality":0,"small_cost":0.0004375,"tier":"a"} "#,
        r#"{"id":"q0","task_type":"code","confidence":0.103,"small_quality":0,"small_cost":0.0004375,"tier":"a"}}"#,
        r#"{"id":"q0","task_type":"code","confidence":0.103,"small_quality":0,"small_cost":0.0004375,"tier":"a""#,
        r#"{"id":"q0","task_type":"code","confidence":0.103 ,"small_quality":0,"small_cost":0.0004375,"tier":"a"}"#,
    ] {
        assert!(read(other).is_none(), "{other}");
    }
    // A line with a key twice never yields a layout.
    assert!(Template::learn(br#"{"a":1,"b":2,"a":3}"#, &plan).is_none());
}

/// One layout (keys and spacing) and several lines in it, each with its own values; sometimes
/// a line of another layout.
fn lines_of_one_layout() -> impl Strategy<Value = (String, Vec<String>)> {
    // Whitespace drawn apart for each spot of the layout: before and after the braces, around
    // the colons and the commas (the spots between a value and what follows included).
    let space = || "[ \t]{0,2}";
    let spaces = (space(), space(), space(), space(), space(), space());
    let keys = prop::collection::vec(key(), 1..7);
    (keys, spaces, prop::collection::vec(any::<bool>(), 1..6)).prop_flat_map(
        |(keys, spaces, others)| {
            let n = keys.len();
            let values = prop::collection::vec(prop::collection::vec(value(), n), others.len() + 1);
            (Just((keys, spaces)), values, line()).prop_map(
                move |(
                    (keys, (lead, colon, after_colon, before_comma, before_brace, trail)),
                    values,
                    stray,
                )| {
                    let write = |vs: &[String]| {
                        let body: Vec<String> = (keys.iter().zip(vs))
                            .map(|(k, v)| format!("\"{k}\"{colon}:{after_colon}{v}"))
                            .collect();
                        let comma = format!("{before_comma},{lead}");
                        format!("{lead}{{{lead}{}{before_brace}}}{trail}", body.join(&comma))
                    };
                    let mut lines: Vec<String> = values.iter().map(|vs| write(vs)).collect();
                    let first = lines.remove(0);
                    lines.push(stray);
                    (first, lines)
                },
            )
        },
    )
}

/// 3,000 seeded layouts: every line a layout reads, the fast path reads the same; and the
/// layouts do read lines, so the check is not empty (about one line in fourteen: the generator
/// often repeats a key, which no layout is learned from, or writes a value left to serde).
#[test]
fn a_learned_layout_agrees_with_the_fast_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let plan = plan();
    let strategy = lines_of_one_layout();
    let mut runner = TestRunner::deterministic();
    let (mut read, mut lines_seen) = (0, 0);
    for _ in 0..3_000 {
        let (first, lines) = strategy.new_tree(&mut runner).unwrap().current();
        lines_seen += lines.len() + 1;
        read += layout_agrees(&first, &lines, &plan).unwrap();
    }
    assert!(
        read * 20 > lines_seen,
        "{read} of {lines_seen} lines read by a layout"
    );
}

/// The generator's records all read by the layout learned from the first: the layout is the
/// path they take, not a fallback that never answers.
#[test]
fn the_generator_records_all_take_the_layout() {
    let plan = plan();
    let line = |i: u32, conf: &str, cost: &str| {
        format!(
            r#"{{"id":"q{i:07}","task_type":"chat","confidence":{conf},"small_quality":1,"large_quality":0,"input_tokens":135,"small_output_tokens":263,"large_output_tokens":96,"small_cost":{cost},"large_cost":0.009225,"small_latency_ms":1460,"large_latency_ms":2471}}"#
        )
    };
    let first = line(0, "0.966", "0.0003625");
    let others: Vec<String> = (1..50)
        .map(|i| line(i, &format!("0.{:03}", i * 7), &format!("0.000{i}")))
        .collect();
    assert_eq!(layout_agrees(&first, &others, &plan), Ok(50));
}
