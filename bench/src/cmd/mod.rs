//! The subcommands of the `switchyard-bench` binary, one module each.

pub mod crash;
pub mod echo;
pub mod load;
pub mod peer;
pub mod proxy;
pub mod sweep;
