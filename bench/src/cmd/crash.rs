//! `switchyard-bench crash`.

use std::process::ExitCode;

/// Arguments of `switchyard-bench crash`.
#[derive(Debug, clap::Args)]
pub struct CrashArgs {}

/// Runs `switchyard-bench crash`.
pub fn run(_args: CrashArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`crash` is not built yet")
}
