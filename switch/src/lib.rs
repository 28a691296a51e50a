//! `switchyard`: the composition root. It reads config, files, env and argv (the only crate that
//! does), opens the journal, replays it, starts the actors, binds the listeners and wires each
//! connection to its actors. Everything it starts, it can stop.

pub mod admin;
pub mod admin_client;
pub mod admin_tls;
pub mod cli;
pub mod clock;
pub mod config;
pub mod config_file;
pub mod demo;
pub mod journal_port;
pub mod listener;
pub mod node;
pub mod ops;
pub mod out;
pub mod projector;
pub mod sim_config;
pub mod stuck;
pub mod top;

pub use config::NodeConfig;
pub use node::Node;
