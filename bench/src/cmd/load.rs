//! `switchyard-bench load`.

use std::process::ExitCode;

/// Arguments of `switchyard-bench load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {}

/// Runs `switchyard-bench load`.
pub fn run(_args: LoadArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`load` is not built yet")
}
