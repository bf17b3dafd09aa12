//! The thresholded signal as a router must reproduce it: its name, its formula for derived
//! signals, and the fitted recalibration map. Serialised into the deployable policy.

use serde::Serialize;

/// The signal a router must compute per request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalSpec {
    /// Its name (`confidence`, `logprob_mean`, a column name).
    pub name: String,
    /// How it is computed from the raw output, for derived signals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// The map applied to the signal before thresholding, when recalibrated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recalibration: Option<MapSpec>,
}

/// A fitted recalibration map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapSpec {
    /// `isotonic` or `platt`.
    pub method: &'static str,
    /// Isotonic: linear interpolation between these (signal, probability) points, clipped at
    /// the ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<[f64; 2]>>,
    /// Platt: probability = 1 / (1 + exp(a × signal + b)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a: Option<f64>,
    /// Platt's intercept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b: Option<f64>,
}
