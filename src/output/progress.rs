//! The loading progress bar on stderr: hidden off a terminal and with `--quiet`.
//!
//! Owns every use of indicatif. It must not compute or decide anything.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::input::Progress;

/// A byte-count progress bar.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar drawn on stderr, or a hidden one when `quiet` or stderr is not a terminal.
    pub fn new(quiet: bool) -> Bar {
        let bar = ProgressBar::hidden();
        if !quiet && std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        Bar { bar }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&self, total_bytes: Option<u64>) {
        match total_bytes {
            Some(total) => {
                self.bar.set_length(total);
                self.bar.set_style(
                    ProgressStyle::with_template(
                        "loading {bar:40} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
            }
            None => self.bar.set_style(
                ProgressStyle::with_template("loading {spinner} {binary_bytes}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        }
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }
}
