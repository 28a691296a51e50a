//! `switchyard-bench peer`.

use std::process::ExitCode;

/// Arguments of `switchyard-bench peer`.
#[derive(Debug, clap::Args)]
pub struct PeerArgs {}

/// Runs `switchyard-bench peer`.
pub fn run(_args: PeerArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`peer` is not built yet")
}
