//! `switchyard-bench echo`.

use std::process::ExitCode;

/// Arguments of `switchyard-bench echo`.
#[derive(Debug, clap::Args)]
pub struct EchoArgs {}

/// Runs `switchyard-bench echo`.
pub fn run(_args: EchoArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`echo` is not built yet")
}
