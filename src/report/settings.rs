//! What a run that reads an eval set is asked to do: input, `--where` conditions, costs,
//! objective, certification, hold-out, policy and signal. Plain settings, built by `config` from the flags.

use crate::engine::economics::CostSettings;
use crate::engine::objective::Objective;
use crate::input::LoadOptions;
use crate::input::multi::MultiFields;
use crate::input::prices::PriceSheet;
use crate::policy::settings::PolicySettings;
use crate::signals::settings::SignalSettings;
use crate::trust::holdout::Holdout;
use crate::trust::intervals;

/// Settings shared by every command that reads an eval set.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// How to read the input.
    pub load: LoadOptions,
    /// How requests are priced.
    pub costs: CostSettings,
    /// What the recommendation optimises.
    pub objective: Objective,
    /// `--certify`: the error probability δ.
    pub certify: Option<f64>,
    /// `--split-ties`: the seed of the router's hash.
    pub split_ties: Option<u64>,
    /// Segments and safeguards.
    pub policy: PolicySettings,
    /// The thresholded signal.
    pub signal: SignalSettings,
    /// `--where` conditions: a record is kept when it matches all of them.
    pub filters: Vec<Filter>,
    /// Held-out validation, if asked for (`sweep` and `recommend`).
    pub holdout: Option<Holdout>,
    /// Hide progress.
    pub quiet: bool,
    /// Multi-model inputs: which models, their fields and price sheets.
    pub chains: ChainSettings,
}

/// Which thresholds `sweep.csv` lists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Grid {
    /// Every multiple of the step in [0, 1] when confidences lie there, else quantiles.
    Auto,
    /// Every multiple of this step in [0, 1].
    Step(f64),
    /// Every candidate threshold.
    Exact,
}

/// How `sweep` builds its report beyond the shared settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSettings {
    /// Rows of sweep.csv.
    pub grid: Grid,
    /// Intervals and the bootstrap.
    pub intervals: intervals::Request,
}

/// One `--where` condition on a label column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The column.
    pub column: String,
    /// The value, compared as text.
    pub value: String,
    /// `FIELD=VALUE` keeps equal values; `FIELD!=VALUE` keeps the others.
    pub equal: bool,
}

impl Filter {
    /// As the user typed it.
    pub fn label(&self) -> String {
        let op = if self.equal { "=" } else { "!=" };
        format!("{}{op}{}", self.column, self.value)
    }
}

/// How a run with a multi-model input is set up beyond the shared settings.
#[derive(Debug, Clone, Default)]
pub struct ChainSettings {
    /// `--models a,b,c`: these models, in this stage order (`None`: all, by mean cost).
    pub models: Option<Vec<String>>,
    /// Column names of the multi-model fields.
    pub fields: MultiFields,
    /// Price sheets that price token counts by model name, in lookup order.
    pub sheets: Vec<PriceSheet>,
    /// `--join FILE`: more files of the same prompts, one per model, joined by id.
    pub join: Vec<std::path::PathBuf>,
}
