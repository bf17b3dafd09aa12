//! Joining the records of a multi-model input into one column per model and field.
//!
//! Owns the checks across records: one record per prompt and model, every prompt answered by
//! every model, a prompt's task type and split the same in all its records, and an optional
//! field (cost, tokens, latency) given for all of a model's records or none. With
//! `--skip-invalid` a bad record is dropped, and so is every prompt left without all models.

use std::collections::{BTreeMap, HashMap};

use super::super::error::{LoadError, RecordProblem, SHOWN};
use super::super::{Drops, Labels};
use super::rows::{Parsed, Read};
use super::{ModelColumns, MultiSet, Names};

/// The joined set and what was dropped.
/// Problems, each with the index of the file it is in.
type Problems = Vec<(usize, RecordProblem)>;

/// Joins the records (each with the index of its file among `labels`).
pub fn join(
    records: Vec<(usize, Read)>,
    names: &Names,
    skip_invalid: bool,
    labels: &[String],
) -> Result<(MultiSet, Drops), LoadError> {
    let read = records.len() as u64;
    let mut problems: Problems = Vec::new();
    let mut rows: Vec<Parsed> = Vec::new();
    for (file, r) in records {
        match r {
            Ok(parsed) => rows.extend(parsed.into_iter().map(|p| Parsed { file, ..p })),
            Err(p) => problems.push((file, p)),
        }
    }
    let mut grid = index(&rows, names, labels, &mut problems);
    complete(&rows, &mut grid, names, &mut problems);
    let present = optional_columns(&rows, &mut grid, names, &mut problems);
    if !problems.is_empty() && !skip_invalid {
        // The first file with a problem, its first few problems; the total counts every file.
        problems.sort_by_key(|(f, p)| (*f, p.location));
        let file = problems[0].0;
        let total = problems.len() as u64;
        return Err(LoadError::BadRecords {
            path: labels[file].clone(),
            total,
            all: false,
            first: (problems.into_iter())
                .filter(|(f, _)| *f == file)
                .map(|(_, p)| p)
                .take(SHOWN)
                .collect(),
        });
    }
    let keep: Vec<usize> = (0..grid.ids.len())
        .filter(|&p| {
            !grid.bad[p] && (0..grid.models.len()).all(|m| grid.cells.contains_key(&(p, m)))
        })
        .collect();
    if keep.is_empty() {
        return Err(LoadError::AllDropped {
            path: labels[0].clone(),
            dropped: read,
        });
    }
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for (_, p) in &problems {
        *reasons.entry(p.reason_key()).or_default() += 1;
    }
    let dropped_prompts = (grid.ids.len() - keep.len()) as u64;
    if dropped_prompts > 0 {
        reasons.insert(
            "prompts dropped (not every model has a valid record)".into(),
            dropped_prompts,
        );
    }
    let kept_records = (keep.len() * grid.models.len()) as u64;
    let set = assemble(&rows, &grid, &keep, present);
    Ok((
        set,
        Drops {
            read,
            dropped: read.saturating_sub(kept_records.min(read)),
            reasons: reasons.into_iter().collect(),
        },
    ))
}

/// The records by (prompt, model), prompts and models in order of first appearance.
struct Grid {
    ids: Vec<String>,
    models: Vec<String>,
    /// (prompt, model) → row index.
    cells: HashMap<(usize, usize), usize>,
    /// Prompts with a bad record.
    bad: Vec<bool>,
}

/// Indexes the rows; a second record for a prompt and model is a problem.
fn index(rows: &[Parsed], names: &Names, labels: &[String], problems: &mut Problems) -> Grid {
    let mut g = Grid {
        ids: Vec::new(),
        models: Vec::new(),
        cells: HashMap::new(),
        bad: Vec::new(),
    };
    let mut prompt_of: HashMap<String, usize> = HashMap::new();
    let mut model_of: HashMap<String, usize> = HashMap::new();
    for (r, row) in rows.iter().enumerate() {
        let m = *model_of.entry(row.model.clone()).or_insert_with(|| {
            g.models.push(row.model.clone());
            g.models.len() - 1
        });
        let p = *prompt_of.entry(row.id.clone()).or_insert_with(|| {
            g.ids.push(row.id.clone());
            g.bad.push(false);
            g.ids.len() - 1
        });
        if let Some(&first) = g.cells.get(&(p, m)) {
            let other = &rows[first];
            let at = if other.file == row.file {
                format!("line {}", other.location)
            } else {
                format!("{}:{}", labels[other.file], other.location)
            };
            let problem = RecordProblem {
                location: row.location,
                column: Some(names.model.clone()),
                expected: format!(
                    "one record per prompt and model (prompt {:?}, model {:?} also at {at})",
                    row.id, row.model
                ),
                found: "a second record".into(),
            };
            problems.push((row.file, problem));
            g.bad[p] = true;
            continue;
        }
        g.cells.insert((p, m), r);
    }
    g
}

/// Every prompt answered by every model, with one task type and split in all its records.
fn complete(rows: &[Parsed], g: &mut Grid, names: &Names, problems: &mut Problems) {
    let models = g.models.len();
    for (p, id) in g.ids.iter().enumerate() {
        let Some(first) = (0..models).find_map(|m| g.cells.get(&(p, m)).map(|&r| &rows[r])) else {
            continue;
        };
        let has = (0..models)
            .filter(|&k| g.cells.contains_key(&(p, k)))
            .count();
        if let Some(m) = (0..models).find(|&m| !g.cells.contains_key(&(p, m))) {
            let file = first.file;
            problems.push((
                file,
                RecordProblem {
                    location: first.location,
                    column: Some(names.model.clone()),
                    expected: format!(
                        "a record of every model for each prompt: prompt {id:?} has none for model \
                     {:?}",
                        g.models[m]
                    ),
                    found: format!("{has} of {models} models"),
                },
            ));
            g.bad[p] = true;
        }
        for m in 0..models {
            let Some(&r) = g.cells.get(&(p, m)) else {
                continue;
            };
            let row = &rows[r];
            if row.task_type != first.task_type || row.test != first.test {
                problems.push((
                    row.file,
                    RecordProblem {
                        location: row.location,
                        column: Some(names.task_type.clone()),
                        expected: format!(
                            "the task type and split of the prompt's first record (line {})",
                            first.location
                        ),
                        found: format!("{:?}", row.task_type),
                    },
                ));
                g.bad[p] = true;
            }
        }
    }
}

/// Which optional columns each model carries: (cost, input tokens, output tokens, latency).
type Present = Vec<[bool; 4]>;

fn fields_of(row: &Parsed) -> [Option<f64>; 4] {
    [
        row.cost,
        row.input_tokens,
        row.output_tokens,
        row.latency_ms,
    ]
}

/// A model's optional column is present when any of its records has it; then all must.
fn optional_columns(
    rows: &[Parsed],
    g: &mut Grid,
    names: &Names,
    problems: &mut Problems,
) -> Present {
    let column_names = [
        &names.cost,
        &names.input_tokens,
        &names.output_tokens,
        &names.latency_ms,
    ];
    let mut present: Present = vec![[false; 4]; g.models.len()];
    for (&(_, m), &r) in &g.cells {
        for (f, v) in fields_of(&rows[r]).iter().enumerate() {
            present[m][f] |= v.is_some();
        }
    }
    for p in 0..g.ids.len() {
        for (m, has) in present.iter().enumerate() {
            let Some(&r) = g.cells.get(&(p, m)) else {
                continue;
            };
            for (f, v) in fields_of(&rows[r]).iter().enumerate() {
                if has[f] && v.is_none() {
                    problems.push((
                        rows[r].file,
                        RecordProblem {
                            location: rows[r].location,
                            column: Some(column_names[f].clone()),
                            expected: format!(
                                "a value (other records of model {:?} carry one)",
                                g.models[m]
                            ),
                            found: "no such field".into(),
                        },
                    ));
                    g.bad[p] = true;
                }
            }
        }
    }
    present
}

fn assemble(rows: &[Parsed], g: &Grid, keep: &[usize], present: Present) -> MultiSet {
    let row = |p: usize, m: usize| &rows[g.cells[&(p, m)]];
    let column = |m: usize, f: usize| -> Option<Vec<f64>> {
        present[m][f].then(|| {
            keep.iter()
                .map(|&p| fields_of(row(p, m))[f].unwrap_or(0.0))
                .collect()
        })
    };
    let model_columns = (0..g.models.len())
        .map(|m| ModelColumns {
            name: g.models[m].clone(),
            confidence: keep.iter().map(|&p| row(p, m).confidence).collect(),
            quality: keep.iter().map(|&p| row(p, m).quality).collect(),
            cost: column(m, 0),
            input_tokens: column(m, 1),
            output_tokens: column(m, 2),
            latency_ms: column(m, 3),
        })
        .collect();
    let first = |p: usize| row(p, 0);
    let split = keep
        .iter()
        .map(|&p| first(p).test)
        .collect::<Option<Vec<bool>>>();
    let task_type = keep
        .iter()
        .map(|&p| first(p).task_type.clone())
        .collect::<Option<Vec<String>>>()
        .map(|t| {
            let mut names: Vec<String> = t.clone();
            names.sort();
            names.dedup();
            Labels {
                codes: t
                    .iter()
                    .map(|x| names.binary_search(x).unwrap_or(0) as u32)
                    .collect(),
                names,
            }
        });
    MultiSet {
        ids: keep.iter().map(|&p| g.ids[p].clone()).collect(),
        models: model_columns,
        split,
        task_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::error::Location;
    use crate::input::field::FieldMap;
    use crate::input::multi::MultiFields;

    fn row(line: u64, id: &str, model: &str, cost: Option<f64>) -> Parsed {
        Parsed {
            file: 0,
            location: Location::Line(line),
            id: id.into(),
            model: model.into(),
            confidence: 0.5,
            quality: 1.0,
            cost,
            input_tokens: None,
            output_tokens: None,
            latency_ms: None,
            task_type: None,
            test: None,
        }
    }

    fn names() -> Names {
        Names::new(&FieldMap::default(), &MultiFields::default(), false)
    }

    #[test]
    fn joins_models_in_order_of_appearance() {
        let rows = vec![
            (0, Ok(vec![row(1, "p1", "b", Some(2.0))])),
            (0, Ok(vec![row(2, "p1", "a", Some(1.0))])),
            (
                0,
                Ok(vec![
                    row(3, "p2", "a", Some(1.0)),
                    row(3, "p2", "b", Some(4.0)),
                ]),
            ),
        ];
        let (set, drops) = join(rows, &names(), false, &["x".into()]).unwrap();
        assert_eq!(set.ids, ["p1", "p2"]);
        let names: Vec<&str> = set.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        assert_eq!(set.models[0].cost, Some(vec![2.0, 4.0]));
        assert_eq!((drops.read, drops.dropped), (3, 0));
    }

    #[test]
    fn a_second_record_and_a_missing_cost_are_named() {
        let rows = vec![
            (0, Ok(vec![row(1, "p1", "a", Some(1.0))])),
            (0, Ok(vec![row(2, "p1", "a", Some(1.0))])),
            (0, Ok(vec![row(3, "p2", "a", None)])),
        ];
        let x = ["x".to_string()];
        let err = join(rows.clone(), &names(), false, &x)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "x:2: field \"model\": expected one record per prompt and model (prompt \"p1\", \
                 model \"a\" also at line 1)"
            ),
            "{err}"
        );
        assert!(
            err.contains(
                "x:3: field \"cost\": expected a value (other records of model \"a\" carry one)"
            ),
            "{err}"
        );
        // Dropped: both prompts have a bad record.
        let all = join(rows, &names(), true, &x).unwrap_err().to_string();
        assert!(all.contains("all 3 records are invalid"), "{all}");
    }

    #[test]
    fn a_second_record_in_another_file_names_that_file() {
        let second = Parsed {
            file: 1,
            ..row(7, "p1", "a", Some(1.0))
        };
        let rows = vec![
            (0, Ok(vec![row(1, "p1", "a", Some(1.0))])),
            (1, Ok(vec![second])),
        ];
        let labels = ["x".to_string(), "y".to_string()];
        let err = join(rows, &names(), false, &labels)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("y:7: field \"model\""), "{err}");
        assert!(err.contains("also at x:1)"), "{err}");
    }
}
