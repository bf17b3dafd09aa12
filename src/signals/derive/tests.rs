//! Tests of the derived signals: hand-worked values and properties.

use super::formulas::p10_rank;
use super::*;
use proptest::prelude::*;

const EPS: f64 = 1e-12;

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= EPS
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

// ----- Signal / RawField ------------------------------------------------

#[test]
fn names_round_trip_and_are_unique() {
    for signal in Signal::ALL {
        assert_eq!(Signal::parse(signal.name()), Some(signal));
        assert_eq!(signal.to_string(), signal.name());
        assert!(!signal.formula().is_empty());
        assert!(signal.formula().is_ascii(), "{signal}");
    }
    let mut names: Vec<_> = Signal::ALL.iter().map(|s| s.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Signal::ALL.len());
    assert_eq!(Signal::parse("Logprob_Mean"), None);
    assert_eq!(Signal::parse(" logprob_mean"), None);
    assert_eq!(Signal::parse("nope"), None);
}

#[test]
fn exact_names_and_sources() {
    let expected = [
        (Signal::LogprobMean, "logprob_mean", RawField::Logprobs),
        (
            Signal::LogprobGeomean,
            "logprob_geomean",
            RawField::Logprobs,
        ),
        (Signal::LogprobMin, "logprob_min", RawField::Logprobs),
        (Signal::LogprobP10, "logprob_p10", RawField::Logprobs),
        (
            Signal::SelfReported,
            "self_reported",
            RawField::SelfReported,
        ),
        (Signal::Consistency, "consistency", RawField::Samples),
        (Signal::MajorityShare, "majority_share", RawField::Samples),
        (Signal::Heuristic, "heuristic", RawField::Response),
    ];
    assert_eq!(expected.len(), Signal::ALL.len());
    for (signal, name, field) in expected {
        assert_eq!(signal.name(), name);
        assert_eq!(signal.source(), field);
    }
    let fields: Vec<_> = RawField::ALL.iter().map(|f| f.name()).collect();
    assert_eq!(fields, ["logprobs", "self_reported", "samples", "response"]);
}

// ----- log-probabilities ------------------------------------------------

#[test]
fn three_token_example() {
    let lps = [-0.1, -0.5, -2.0];
    // sum = -0.1 - 0.5 - 2.0 = -2.6; mean = -2.6 / 3 = -0.866666...
    assert!(close(mean_logprob(&lps), -0.866_666_666_666_666_7));
    // post map: (-0.866667 + 2) / 2 = 1.133333 / 2 = 0.566667
    assert!(close(logprob_mean(&lps), 0.566_666_666_666_666_7));
    // geomean = e^-0.866667 = 0.420350...
    assert!(close(logprob_geomean(&lps), (-2.6_f64 / 3.0).exp()));
    assert!((logprob_geomean(&lps) - 0.420_350).abs() < 1e-6);
    // min = e^-2 = 0.135335...
    assert_eq!(logprob_min(&lps), (-2.0_f64).exp());
    // p10 over 3 tokens: k = ceil(0.3) = 1 -> the smallest, e^-2
    assert_eq!(logprob_p10(&lps), (-2.0_f64).exp());
}

#[test]
fn logprob_mean_clips() {
    // mean 0 -> (0 + 2) / 2 = 1
    assert_eq!(logprob_mean(&[0.0, 0.0]), 1.0);
    // mean -2 -> (-2 + 2) / 2 = 0
    assert_eq!(logprob_mean(&[-1.0, -3.0]), 0.0);
    // mean -4 -> (-4 + 2) / 2 = -1 -> clipped to 0
    assert_eq!(logprob_mean(&[-3.0, -5.0]), 0.0);
    // mean -1 -> (-1 + 2) / 2 = 0.5
    assert_eq!(logprob_mean(&[-0.5, -1.5]), 0.5);
}

#[test]
fn p10_twenty_tokens_is_second_smallest() {
    // 20 tokens, k = ceil(0.1 * 20) = 2. Values -0.01 * i for i = 1..=20,
    // scrambled; sorted ascending: -0.20, -0.19, ... so the answer is
    // e^-0.19.
    let lps = [
        -0.07, -0.20, -0.01, -0.13, -0.19, -0.05, -0.11, -0.02, -0.17, -0.08, -0.14, -0.03, -0.16,
        -0.09, -0.12, -0.04, -0.18, -0.06, -0.15, -0.10,
    ];
    assert_eq!(lps.len(), 20);
    assert_eq!(logprob_p10(&lps), (-0.19_f64).exp());
    assert_eq!(logprob_min(&lps), (-0.20_f64).exp());
}

#[test]
fn p10_rank_uses_integer_ceiling() {
    // k = ceil(n / 10)
    let cases = [
        (1, 1),
        (9, 1),
        (10, 1),
        (11, 2),
        (20, 2),
        (21, 3),
        (30, 3),
        (31, 4),
    ];
    for (n, k) in cases {
        assert_eq!(p10_rank(n), k, "n = {n}");
    }
}

#[test]
fn p10_thirty_tokens_is_third_smallest() {
    // 30 tokens: -1, -2, -3 and 27 x -0.01; k = 3 -> e^-1.
    let mut lps = vec![-0.01; 27];
    lps.extend([-2.0, -1.0, -3.0]);
    assert_eq!(logprob_p10(&lps), (-1.0_f64).exp());
    // 31 tokens: k = 4 -> e^-0.01.
    lps.push(-0.01);
    assert_eq!(logprob_p10(&lps), (-0.01_f64).exp());
}

#[test]
fn p10_with_duplicates_and_negative_zero() {
    // 11 tokens, k = 2; sorted: -5, -5, ... -> e^-5.
    let mut lps = vec![-0.0; 9];
    lps.extend([-5.0, -5.0]);
    assert_eq!(logprob_p10(&lps), (-5.0_f64).exp());
    // one token of -0.0 -> e^0 = 1.
    assert_eq!(logprob_p10(&[-0.0]), 1.0);
}

#[test]
fn compensated_mean_is_accurate() {
    // 0.1 is not representable; 1000 x -0.1 summed naively drifts to
    // -99.9999999999986, the compensated sum stays at the double nearest
    // -100, so the mean is -0.1 to within an ulp.
    let lps = vec![-0.1; 1000];
    let naive: f64 = lps.iter().sum();
    assert_ne!(naive, -100.0);
    assert_eq!(mean_logprob(&lps), -0.1);
}

// ----- self-reported ----------------------------------------------------

#[test]
fn scale_detection() {
    assert_eq!(
        self_reported_scale(&[0.0, 0.5, 1.0]),
        Ok(Scale::UnitInterval)
    );
    assert_eq!(self_reported_scale(&[0.0, 50.0, 100.0]), Ok(Scale::Percent));
    assert_eq!(self_reported_scale(&[1.0, 0.5, 2.0]), Ok(Scale::Percent));
    assert_eq!(self_reported_scale(&[]), Ok(Scale::UnitInterval));
    // Documented ambiguity: 0-100 scores that are all 0 or 1 read as 0-1.
    assert_eq!(
        self_reported_scale(&[0.0, 1.0, 1.0]),
        Ok(Scale::UnitInterval)
    );
}

#[test]
fn scale_errors_name_first_offender() {
    let err = self_reported_scale(&[0.5, 150.0, -3.0])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "self_reported value 150 at index 1 is outside both 0-1 and 0-100"
    );
    let err = self_reported_scale(&[-0.1]).unwrap_err().to_string();
    assert!(err.contains("-0.1") && err.contains("index 0"), "{err}");
    let err = self_reported_scale(&[0.2, f64::NAN])
        .unwrap_err()
        .to_string();
    assert!(err.contains("NaN") && err.contains("index 1"), "{err}");
}

#[test]
fn self_reported_rescales_without_truncation() {
    assert_eq!(self_reported(0.42, Scale::UnitInterval), 0.42);
    // 85 / 100 = 0.85
    assert_eq!(self_reported(85.0, Scale::Percent), 0.85);
    // 87.5 / 100 = 0.875 (the post's int() would give 0.87)
    assert_eq!(self_reported(87.5, Scale::Percent), 0.875);
    assert_eq!(self_reported(100.0, Scale::Percent), 1.0);
}

// ----- samples ----------------------------------------------------------

#[test]
fn samples_example() {
    let s = ["A", "A", "B"];
    // unique = 2, n = 3: 1 - (2 - 1) / 3 = 0.666...
    assert!(close(consistency(&s), 1.0 - 1.0 / 3.0));
    // most common "A" twice: 2 / 3
    assert!(close(majority_share(&s), 2.0 / 3.0));
}

#[test]
fn consistency_and_majority_differ() {
    let s = ["A", "A", "B", "B"];
    // unique = 2, n = 4: 1 - 1/4 = 0.75; majority 2/4 = 0.5
    assert_eq!(consistency(&s), 0.75);
    assert_eq!(majority_share(&s), 0.5);
    let s = ["A", "B", "C", "D", "A"];
    // unique = 4, n = 5: 1 - 3/5 = 0.4; majority 2/5 = 0.4
    assert!(close(consistency(&s), 0.4));
    assert!(close(majority_share(&s), 0.4));
    // all agree, and a single sample
    assert_eq!(consistency(&["x", "x", "x"]), 1.0);
    assert_eq!(majority_share(&["x", "x", "x"]), 1.0);
    assert_eq!(consistency(&["x"]), 1.0);
    assert_eq!(majority_share(&["x"]), 1.0);
    // all differ: 1 - 2/3 = 1/3
    assert!(close(consistency(&["a", "b", "c"]), 1.0 / 3.0));
}

#[test]
fn samples_trim_but_keep_case() {
    let s = strings(&[" Paris", "Paris\n", "paris", "\tParis \u{a0}"]);
    // normalised: Paris, Paris, paris, Paris -> unique 2, n 4
    // consistency 1 - 1/4 = 0.75; majority 3/4 = 0.75
    assert_eq!(consistency(&s), 0.75);
    assert_eq!(majority_share(&s), 0.75);
    // inner whitespace is kept
    assert_eq!(consistency(&["New York", "New  York"]), 0.5);
}

// ----- response text ----------------------------------------------------

#[test]
fn heuristic_rule_order() {
    let long_tail = " The capital of France is Paris, on the Seine river.";
    // refusal + short: post gives 0.7, fixed order gives 0.3
    assert_eq!(heuristic("I cannot help."), 0.3);
    // refusal + hedge: post gives 0.6, fixed order gives 0.3
    assert_eq!(heuristic("I think I don't know."), 0.3);
    // long refusal: 0.3 in both
    assert_eq!(heuristic(&format!("I cannot say.{long_tail}")), 0.3);
    // hedge + short -> hedge wins: 0.6
    assert_eq!(heuristic("I think it is Paris."), 0.6);
    // hedge + long -> 0.6
    assert_eq!(heuristic(&format!("It might be Paris.{long_tail}")), 0.6);
    // short, no hedge, no refusal -> 0.7
    assert_eq!(heuristic("Paris."), 0.7);
    // long, confident -> 0.9
    assert_eq!(heuristic(long_tail.trim()), 0.9);
    // typographic apostrophes
    assert_eq!(heuristic("I don\u{2019}t know."), 0.3);
    assert_eq!(
        heuristic("I\u{2019}m not sure, but Paris? Probably, yes, Paris."),
        0.6
    );
}

#[test]
fn heuristic_length_counts_chars() {
    assert_eq!(heuristic(&"a".repeat(49)), 0.7);
    assert_eq!(heuristic(&"a".repeat(50)), 0.9);
    // 49 x 'é' is 98 bytes but 49 characters -> still short
    assert_eq!(heuristic(&"\u{e9}".repeat(49)), 0.7);
    assert_eq!(heuristic(&"\u{e9}".repeat(50)), 0.9);
    // empty -> short
    assert_eq!(heuristic(""), 0.7);
}

#[test]
fn refusal_is_case_sensitive_substring() {
    assert!(is_refusal("Sorry, I cannot answer that."));
    assert!(is_refusal("I don't know"));
    assert!(is_refusal("Honestly I don\u{2019}t know."));
    assert!(!is_refusal("i cannot"));
    assert!(!is_refusal("I can't"));
    assert!(!is_refusal("I DON'T KNOW"));
    assert!(!is_refusal("Paris."));
}

// ----- dispatch ---------------------------------------------------------

#[test]
fn derive_dispatches() {
    let lps = [-0.1, -0.5, -2.0];
    let samples = strings(&["A", "A", "B"]);
    assert_eq!(
        derive(Signal::LogprobMean, RawValue::Logprobs(&lps)),
        logprob_mean(&lps)
    );
    assert_eq!(
        derive(Signal::LogprobP10, RawValue::Logprobs(&lps)),
        (-2.0_f64).exp()
    );
    assert_eq!(
        derive(
            Signal::SelfReported,
            RawValue::SelfReported(85.0, Scale::Percent)
        ),
        0.85
    );
    assert_eq!(
        derive(Signal::MajorityShare, RawValue::Samples(&samples)),
        majority_share(&samples)
    );
    assert_eq!(derive(Signal::Heuristic, RawValue::Response("Paris.")), 0.7);
}

#[test]
#[should_panic(expected = "logprob_min is derived from \"logprobs\"")]
fn derive_panics_on_wrong_field() {
    derive(Signal::LogprobMin, RawValue::Response("Paris."));
}

#[test]
fn derive_column_works_and_errs_in_words() {
    let logprobs = vec![vec![-0.1, -0.5, -2.0], vec![0.0]];
    let columns = RawColumns {
        logprobs: Some(&logprobs),
        self_reported: Some(&[90.0, 0.5]),
        samples: None,
        response: None,
    };
    assert_eq!(
        derive_column(Signal::LogprobMin, &columns),
        Ok(vec![(-2.0_f64).exp(), 1.0])
    );
    // 90 > 1 so the set is 0-100: 0.9 and 0.005
    assert_eq!(
        derive_column(Signal::SelfReported, &columns),
        Ok(vec![0.9, 0.005])
    );
    assert_eq!(
        derive_column(Signal::Heuristic, &columns).map_err(|e| e.to_string()),
        Err("heuristic needs a \"response\" field (a string, the model's answer text)".to_string())
    );
    assert_eq!(
        columns.available_signals(),
        [
            Signal::LogprobMean,
            Signal::LogprobGeomean,
            Signal::LogprobMin,
            Signal::LogprobP10,
            Signal::SelfReported
        ]
    );

    let empty = RawColumns::default();
    assert_eq!(
        derive_column(Signal::LogprobMin, &empty).map_err(|e| e.to_string()),
        Err("logprob_min needs a \"logprobs\" field \
             (an array of per-token log-probabilities)"
            .to_string())
    );
    assert!(
        derive_column(Signal::Consistency, &empty)
            .unwrap_err()
            .to_string()
            .starts_with("consistency needs a \"samples\" field")
    );

    let bad = RawColumns {
        self_reported: Some(&[50.0, 101.0]),
        ..RawColumns::default()
    };
    assert_eq!(
        derive_column(Signal::SelfReported, &bad).map_err(|e| e.to_string()),
        Err("self_reported value 101 at index 1 is outside both 0-1 and 0-100".to_string())
    );
}

// ----- properties -------------------------------------------------------

fn logprobs_strategy() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-30.0_f64..=0.0, 1..200)
}

proptest! {
    #[test]
    fn logprob_signals_are_ordered_probabilities(lps in logprobs_strategy()) {
        let min = logprob_min(&lps);
        let p10 = logprob_p10(&lps);
        let geo = logprob_geomean(&lps);
        let mean = logprob_mean(&lps);
        let max = lps.iter().copied().fold(f64::NEG_INFINITY, f64::max).exp();
        for v in [min, p10, geo, mean] {
            prop_assert!((0.0..=1.0).contains(&v));
        }
        prop_assert!(min <= p10 && p10 <= max);
        // geomean lies between min and max token probability (up to rounding)
        prop_assert!(geo >= min * (1.0 - 1e-12) && geo <= max * (1.0 + 1e-12));
        // p10 is exactly exp of one of the inputs
        prop_assert!(lps.iter().any(|lp| lp.exp() == p10));
        // input order does not change the percentile or the minimum
        let mut rev = lps.clone();
        rev.reverse();
        prop_assert_eq!(logprob_p10(&rev), p10);
        prop_assert_eq!(logprob_min(&rev), min);
    }

    #[test]
    fn sample_signals_are_bounded(
        samples in prop::collection::vec("[ab ]{0,3}", 1..20)
    ) {
        let n = samples.len() as f64;
        let c = consistency(&samples);
        let m = majority_share(&samples);
        prop_assert!(c >= 1.0 / n - 1e-12 && c <= 1.0);
        prop_assert!(m >= 1.0 / n - 1e-12 && m <= 1.0);
    }

    #[test]
    fn heuristic_takes_post_values(text in ".{0,80}") {
        let h = heuristic(&text);
        prop_assert!([0.3, 0.6, 0.7, 0.9].contains(&h));
        prop_assert_eq!(h == 0.3, is_refusal(&text));
    }

    #[test]
    fn scale_accepts_exactly_0_to_100(values in prop::collection::vec(-10.0_f64..=110.0, 0..20)) {
        let in_range = values.iter().all(|v| (0.0..=100.0).contains(v));
        match self_reported_scale(&values) {
            Ok(scale) => {
                prop_assert!(in_range);
                for &v in &values {
                    prop_assert!((0.0..=1.0).contains(&self_reported(v, scale)));
                }
            }
            Err(_) => prop_assert!(!in_range),
        }
    }
}
