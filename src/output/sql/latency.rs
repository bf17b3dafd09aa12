//! The latency rows of `calibrate sql`: per segment, confidence, path and bucket, the count and
//! the limb sums of the milliseconds. The bucket is `engine::latency_sketch::bucket`, written
//! with comparisons against powers of two and one floor, exact on every engine.

use super::Query;
use crate::engine::latency_sketch::{MAX_OCTAVE, SUB_BITS};
use crate::input::aggregate::{
    COUNTS, LATENCY_BUCKET, LATENCY_PATH, LATENCY_SUM, SUMS, limb_columns,
};

/// `UNION ALL` and the latency rows, appended to the query of sums.
pub(super) fn rows(q: &Query<'_>, segments: &[String]) -> String {
    let d = q.d;
    let mut keys: Vec<String> = segments.to_vec();
    keys.push("confidence".into());
    let picked = keys.join(", ");
    let path = |name: &str, column: &str| {
        format!("SELECT {picked}, '{name}' AS {LATENCY_PATH}, {column} AS ms FROM r WHERE ok = 1")
    };
    let mut out = q.key_columns(segments);
    out.push(format!("CAST(0 AS {}) AS invalid_records", d.bigint()));
    let dec = d.decimal();
    for name in SUMS {
        out.extend(limb_columns(name).map(|c| format!("CAST(NULL AS {dec}) AS {c}")));
    }
    out.extend(
        COUNTS
            .iter()
            .map(|c| format!("CAST(NULL AS {}) AS {c}", d.bigint())),
    );
    out.push(LATENCY_PATH.into());
    out.push(LATENCY_BUCKET.into());
    out.extend(q.sum_limbs("ms", limb_columns(LATENCY_SUM), false));
    let mut group = keys.clone();
    group.extend([LATENCY_PATH.to_string(), LATENCY_BUCKET.to_string()]);
    format!(
        "UNION ALL\nSELECT\n  {}\nFROM (\n  SELECT *, {} AS {LATENCY_BUCKET}\n  FROM (\n    {}\n    \
         UNION ALL\n    {}\n  ) AS paths\n) AS l\nGROUP BY {}\n",
        out.join(",\n  "),
        bucket(q, "ms"),
        path("accepted", "ms_accepted"),
        path("escalated", "ms_escalated"),
        group.join(", ")
    )
}

/// The bucket of the milliseconds in column `x`, as a 64-bit integer.
fn bucket(q: &Query<'_>, x: &str) -> String {
    let d = q.d;
    let sub = 1u64 << SUB_BITS;
    let mut branches = vec![format!("WHEN {x} < {} THEN {}", d.int(sub), d.floor(x))];
    for e in SUB_BITS..MAX_OCTAVE {
        let base = u64::from(e - SUB_BITS + 1) * sub - sub;
        let width = d.int(1 << (e - SUB_BITS));
        let upper = d.int(1 << (e + 1));
        branches.push(format!(
            "WHEN {x} < {upper} THEN {} + {}",
            d.int(base),
            d.floor(&format!("{x} / {width}"))
        ));
    }
    let base = u64::from(MAX_OCTAVE - SUB_BITS + 1) * sub - sub;
    let width = d.int(1 << (MAX_OCTAVE - SUB_BITS));
    let last = format!(
        "LEAST({}, {})",
        d.floor(&format!("{x} / {width}")),
        d.int(2 * sub - 1)
    );
    branches.push(format!("ELSE {} + {last}", d.int(base)));
    format!("CAST(CASE {} END AS {})", branches.join(" "), d.bigint())
}
