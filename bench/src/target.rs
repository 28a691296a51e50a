//! What a load run drives: a running node (or echo server) given by address and certificates,
//! or one this process starts as child processes and stops afterwards ("self-hosted").
//!
//! Self-hosted switch: `switchyard dev-certs` into a temporary directory, a generated
//! `clearing-sim.toml` and `switchyard.toml` (every tenant with a rate limit of 1,000,000/s so
//! the limiter never refuses), `switchyard clearing-sim --config` and `switchyard run --config`,
//! each optionally under `taskset -c CORES`. Self-hosted echo: `switchyard-bench echo` with the
//! same certificates. Readiness: the node's admin `/readyz` answers 200, the echo server's TLS
//! port accepts. Stop: SIGTERM, then SIGKILL after 30 s; their stderr goes to `node.log`,
//! `clearing-sim.log` or `echo.log` in the output directory.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rustls::pki_types::CertificateDer;
use serde::Serialize;
use switchyard_iso20022::Bic;
use switchyard_wire::tls::{self, Identity};

use crate::client::{ClientSpec, Transport};
use crate::loadgen::{AnswerMode, ParticipantSpec};
use crate::ports::{free_port, Protocols};

/// What kind of server the target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A Switchyard node.
    Switch,
    /// `switchyard-bench echo`: the raw transport baseline.
    Echo,
}

impl TargetKind {
    /// How the generator reads this target's answers.
    #[must_use]
    pub fn answers(self) -> AnswerMode {
        match self {
            Self::Switch => AnswerMode::Switch,
            Self::Echo => AnswerMode::Echo,
        }
    }
}

/// Target options shared by `load` and `sweep`.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct TargetArgs {
    /// Address of a running node or echo server (TLS port, or QUIC port with --transport quic).
    /// Without it the target is self-hosted: started here as child processes.
    #[arg(long)]
    pub target: Option<SocketAddr>,
    /// What the target is: `switch` or `echo` (the raw TLS/QUIC echo baseline).
    #[arg(long, value_enum, default_value = "switch")]
    pub target_kind: TargetKind,
    /// Participant transport: `tls` (TLS 1.3 over TCP) or `quic`.
    #[arg(long, default_value = "tls", value_parser = parse_transport)]
    #[serde(serialize_with = "transport_name")]
    pub transport: Transport,
    /// CA that issued the target's certificate (with --target; default DIR/ca.pem of --identity).
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Directory with the participants' certificates `<tenant>.pem` / `<tenant>.key`, as
    /// written by `switchyard dev-certs` (with --target).
    #[arg(long)]
    pub identity: Option<PathBuf>,
    /// The name the target's certificate carries.
    #[arg(long, default_value = "switchyard-node")]
    pub server_name: String,
    /// Participant sessions (connections), spread round-robin over the tenants.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub participants: u32,
    /// Tenants (participant banks): bank-a, bank-b, ... instructing as ZYAAZAJJ, ZYABZAJJ, ...
    /// (the scheme of config/switchyard.toml).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=676))]
    pub tenants: u32,
    /// Self-hosted: the `switchyard` binary (default: next to this binary, then PATH).
    #[arg(long)]
    pub switchyard_bin: Option<PathBuf>,
    /// Self-hosted: run the node (and the clearing simulator, or the echo server) under
    /// `taskset -c CORES`, e.g. `0`.
    #[arg(long)]
    pub pin_node: Option<String>,
    /// Self-hosted switch: the simulator's answer latency in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub clearing_latency_ms: u64,
    /// Self-hosted switch: `[journal] max_batch_records` of the node.
    #[arg(long)]
    pub max_batch_records: Option<u32>,
    /// Self-hosted switch: every tenant's `rate_per_s` (and `burst`). Default 1,000,000, i.e.
    /// no limit; overload runs set it to show the excess refused explicitly (RJCT) instead of
    /// held back by the credit window.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub tenant_rate: u32,
    /// Self-hosted switch: the node's `limits.node_max_in_flight` (all tenants together).
    /// Default 1,000,000, i.e. no limit; overload runs set it to show the node's memory bound
    /// held, the excess refused explicitly (RJCT NARR "busy").
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub node_max_in_flight: u32,
}

fn parse_transport(s: &str) -> Result<Transport, String> {
    s.parse()
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's serialize_with signature
fn transport_name<S: serde::Serializer>(t: &Transport, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match t {
        Transport::Tls => "tls",
        Transport::Quic => "quic",
    })
}

/// The name of tenant `i`: bank-a .. bank-z, then bank-ba, bank-bb, ...
#[must_use]
pub fn tenant_name(i: u32) -> String {
    let letter = |n: u32| char::from(b'a' + u8::try_from(n % 26).unwrap_or(0));
    if i < 26 {
        format!("bank-{}", letter(i))
    } else {
        format!("bank-{}{}", letter(i / 26), letter(i))
    }
}

/// The BIC tenant `i` instructs as: ZYAAZAJJ, ZYABZAJJ, ... (bank-a → ZYAAZAJJ as in the demo).
#[must_use]
pub fn tenant_bic(i: u32) -> Bic {
    let upper = |n: u32| char::from(b'A' + u8::try_from(n % 26).unwrap_or(0));
    Bic::parse(&format!("ZY{}{}ZAJJ", upper(i / 26), upper(i))).expect("generated BICs are well-formed")
}

/// A child process that is stopped (SIGTERM, then SIGKILL) when dropped.
#[derive(Debug)]
pub struct ChildProcess {
    pub name: String,
    child: Child,
}

impl ChildProcess {
    /// The process id (for `perf record -p`).
    #[must_use]
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    fn running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited early with {status}; see its log", self.name);
        }
        Ok(())
    }

    /// SIGTERM and wait (at most 30 s, then SIGKILL).
    pub fn stop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        let pid = rustix::process::Pid::from_child(&self.child);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A resolved target: where to connect, with what, and the processes to stop afterwards.
#[derive(Debug)]
pub struct Target {
    pub kind: TargetKind,
    pub participants: Vec<ParticipantSpec>,
    /// Child processes (self-hosted), node first.
    pub children: Vec<ChildProcess>,
    /// The self-hosted working directory (certificates, configs, journal).
    _dir: Option<tempfile::TempDir>,
}

impl Target {
    /// Stops the children (node first, so its drain still reaches the simulator).
    pub fn stop(&mut self) {
        for child in &mut self.children {
            child.stop();
        }
    }
}

fn participants(
    args: &TargetArgs,
    addr: SocketAddr,
    ca: &[CertificateDer<'static>],
    identities: &Path,
) -> anyhow::Result<Vec<ParticipantSpec>> {
    let mut identity_of = Vec::new();
    for t in 0..args.tenants {
        let name = tenant_name(t);
        let identity =
            Identity::load(&identities.join(format!("{name}.pem")), &identities.join(format!("{name}.key")))
                .with_context(|| format!("certificate of tenant {name} in {}", identities.display()))?;
        identity_of.push(identity);
    }
    Ok((0..args.participants)
        .map(|p| {
            let t = p % args.tenants;
            ParticipantSpec {
                name: format!("{}-s{p}", tenant_name(t)),
                client: ClientSpec {
                    addr,
                    transport: args.transport,
                    server_name: args.server_name.clone(),
                    ca: ca.to_vec(),
                    identity: Some(identity_of[t as usize].clone()),
                    max_frame_bytes: 1 << 20,
                    timeout: Duration::from_secs(10),
                },
                bic: Some(tenant_bic(t)),
            }
        })
        .collect())
}

/// Resolves `args`: connects to `--target`, or self-hosts (logs into `out`).
///
/// # Errors
/// Missing certificates, a binary that cannot be found or started, or a child that does not
/// become ready within 60 s (the error names it and its log).
pub fn resolve(args: &TargetArgs, out: &Path) -> anyhow::Result<Target> {
    if let Some(addr) = args.target {
        let identities =
            args.identity.clone().context("--target needs --identity DIR (participant certificates)")?;
        let ca_path = args.ca.clone().unwrap_or_else(|| identities.join("ca.pem"));
        let ca = tls::load_ca(&ca_path).with_context(|| format!("CA {}", ca_path.display()))?;
        let participants = participants(args, addr, &ca, &identities)?;
        return Ok(Target { kind: args.target_kind, participants, children: Vec::new(), _dir: None });
    }
    self_host(args, out)
}

fn switchyard_bin(args: &TargetArgs) -> anyhow::Result<PathBuf> {
    if let Some(bin) = &args.switchyard_bin {
        return Ok(bin.clone());
    }
    let sibling = std::env::current_exe()?.with_file_name("switchyard");
    if sibling.exists() {
        return Ok(sibling);
    }
    Ok(PathBuf::from("switchyard"))
}

fn spawn(
    name: &str,
    program: &Path,
    args: &[&str],
    pin: Option<&str>,
    log: &Path,
) -> anyhow::Result<ChildProcess> {
    let log_file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let mut command = match pin {
        Some(cores) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cores).arg(program);
            c
        }
        None => Command::new(program),
    };
    command.args(args).stdin(Stdio::null()).stdout(log_file.try_clone()?).stderr(log_file);
    let child = command.spawn().with_context(|| {
        format!("starting {name} ({}{})", if pin.is_some() { "taskset -c … " } else { "" }, program.display())
    })?;
    Ok(ChildProcess { name: format!("{name} (log {})", log.display()), child })
}

fn wait_until(child: &mut ChildProcess, what: &str, mut ready: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        child.running()?;
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{} not {what} within 60 s", child.name)
}

fn accepts(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

fn http_ok(addr: SocketAddr, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    if s.write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    s.read(&mut buf)
        .is_ok_and(|n| buf[..n].starts_with(b"HTTP/1.1 200") || buf[..n].starts_with(b"HTTP/1.0 200"))
}

fn self_host(args: &TargetArgs, out: &Path) -> anyhow::Result<Target> {
    let dir =
        tempfile::Builder::new().prefix("switchyard-bench-").tempdir().context("temporary directory")?;
    let certs = dir.path().join("certs");
    let bin = switchyard_bin(args)?;
    let names: Vec<String> = (0..args.tenants).map(tenant_name).collect();
    let status = Command::new(&bin)
        .args(["dev-certs", "--out"])
        .arg(&certs)
        .arg("--clients")
        .arg(names.join(","))
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("running {} dev-certs (use --switchyard-bin PATH)", bin.display()))?;
    if !status.success() {
        bail!("{} dev-certs failed with {status}", bin.display());
    }
    let ca = tls::load_ca(&certs.join("ca.pem"))?;
    let pin = args.pin_node.as_deref();
    let port = free_port(Protocols::Both)?; // TLS and QUIC listeners share it
    let listen = SocketAddr::from(([127, 0, 0, 1], port));
    let mut children = Vec::new();
    match args.target_kind {
        TargetKind::Echo => {
            let me = std::env::current_exe()?;
            let listen_arg = listen.to_string();
            let certs_arg = certs.display().to_string();
            let mut echo = spawn(
                "echo server",
                &me,
                &[
                    "echo",
                    "--listen",
                    &listen_arg,
                    "--listen-quic",
                    &listen_arg,
                    "--certs",
                    &certs_arg,
                    "--server-name",
                    &args.server_name,
                ],
                pin,
                &out.join("echo.log"),
            )?;
            wait_until(&mut echo, "accepting", || accepts(listen))?;
            children.push(echo);
        }
        TargetKind::Switch => {
            let sim_port = free_port(Protocols::Tcp)?;
            let admin_port = free_port(Protocols::Tcp)?;
            let sim_toml = dir.path().join("clearing-sim.toml");
            std::fs::write(
                &sim_toml,
                format!(
                    "listen = \"127.0.0.1:{sim_port}\"\ncertificate = \"certs/clearing-sim.pem\"\n\
                     private_key = \"certs/clearing-sim.key\"\nclient_ca = \"certs/ca.pem\"\nlatency_ms = {}\n",
                    args.clearing_latency_ms
                ),
            )?;
            let node_toml = dir.path().join("switchyard.toml");
            std::fs::write(&node_toml, node_config(port, sim_port, admin_port, &names, args))?;
            let sim_config = sim_toml.display().to_string();
            let mut sim = spawn(
                "clearing simulator",
                &bin,
                &["clearing-sim", "--config", &sim_config],
                pin,
                &out.join("clearing-sim.log"),
            )?;
            wait_until(&mut sim, "accepting", || accepts(SocketAddr::from(([127, 0, 0, 1], sim_port))))?;
            let node_config = node_toml.display().to_string();
            let mut node = spawn(
                "switchyard node",
                &bin,
                &["run", "--config", &node_config],
                pin,
                &out.join("node.log"),
            )?;
            let admin = SocketAddr::from(([127, 0, 0, 1], admin_port));
            wait_until(&mut node, "ready (/readyz)", || http_ok(admin, "/readyz"))?;
            children.push(node);
            children.push(sim);
        }
    }
    let participants = participants(args, listen, &ca, &certs)?;
    Ok(Target { kind: args.target_kind, participants, children, _dir: Some(dir) })
}

/// The generated node configuration (keys as documented in config/switchyard.toml).
fn node_config(port: u16, sim_port: u16, admin_port: u16, tenants: &[String], args: &TargetArgs) -> String {
    use std::fmt::Write as _;
    let mut t = format!(
        "[node]\ndata_dir = \"data\"\nlisten = \"127.0.0.1:{port}\"\nlisten_quic = \"127.0.0.1:{port}\"\n\n\
         [admin]\nlisten = \"127.0.0.1:{admin_port}\"\n\n\
         [tls]\ncertificate = \"certs/switchyard-node.pem\"\nprivate_key = \"certs/switchyard-node.key\"\n\
         participant_ca = \"certs/ca.pem\"\n\n[limits]\ntenant_max_in_flight = 1000000\n\
         node_max_in_flight = {}\n\n[journal]\n",
        args.node_max_in_flight
    );
    let tenant_rate = args.tenant_rate;
    if let Some(n) = args.max_batch_records {
        let _ = writeln!(t, "max_batch_records = {n}");
    }
    for (i, name) in tenants.iter().enumerate() {
        let bic = tenant_bic(u32::try_from(i).unwrap_or(0));
        let _ = write!(
            t,
            "\n[[tenants]]\nname = \"{name}\"\ncertificate_name = \"{name}\"\nrate_per_s = {tenant_rate}\n\
             burst = {tenant_rate}\nbics = [\"{}\"]\n",
            bic.as_str()
        );
    }
    let _ = write!(
        t,
        "\n[[links]]\nname = \"sim\"\naddress = \"127.0.0.1:{sim_port}\"\nserver_name = \"clearing-sim\"\n\
         certificate = \"certs/switchyard.pem\"\nprivate_key = \"certs/switchyard.key\"\n\
         server_ca = \"certs/ca.pem\"\n\n[[routes]]\nlink = \"sim\"\n"
    );
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_follow_the_demo_naming() {
        assert_eq!(tenant_name(0), "bank-a");
        assert_eq!(tenant_bic(0).as_str(), "ZYAAZAJJ");
        assert_eq!(tenant_bic(1).as_str(), "ZYABZAJJ");
        assert_eq!(tenant_name(27), "bank-bb");
        assert_eq!(tenant_bic(27).as_str(), "ZYBBZAJJ");
    }
}
