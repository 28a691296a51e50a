//! `switchyard-bench sweep`.

use std::process::ExitCode;

/// Arguments of `switchyard-bench sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {}

/// Runs `switchyard-bench sweep`.
pub fn run(_args: SweepArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`sweep` is not built yet")
}
