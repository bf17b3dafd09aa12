//! The `calibrate` binary: parse flags, run, map the result to an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use calibrate::{ExitStatus, cli, run};

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match run(args) {
        Ok(status) => ExitCode::from(status as u8),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // A closed or full stderr must not turn the error into a panic.
            let _ = writeln!(std::io::stderr(), "error: {err:#}");
            ExitCode::from(ExitStatus::Error as u8)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
