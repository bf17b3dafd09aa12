mod eval_set;
mod economics;
mod sweep;
