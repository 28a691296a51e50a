//! Operating a node through its admin API and CLI, over real HTTP, TLS and files: DLQ replay and
//! purge as journaled operator records (tenant-scoped: another tenant's entry is 404 for read
//! and for actions), the offline CLI refusing while a node holds the data directory, live
//! reload of tenants and routes under load, `switchyard top --once`, and `/metrics` through
//! `promtool check metrics`.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{
    cli, client, fixture, fixture_with, journal_records, promtool_check, run_participant, submit_all, TIMEOUT,
};
use switchyard::admin::{Claims, JwtKey};
use switchyard::admin_client::AdminClient;
use switchyard::config::NodeConfig;
use switchyard::demo::{demo_bic, node_config, DemoSettings};
use switchyard::node::Node;
use switchyard_actors::record::OperatorKind;
use switchyard_actors::route::{Route, RouteMatch, RouteTable};
use switchyard_actors::JournalRecord;
use switchyard_clearing::sim::SimConfig;
use switchyard_iso20022::TxStatus;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-ops-test-key";

fn token(scope: &str, tenant: Option<&str>, sub: &str) -> String {
    let claims = Claims {
        sub: sub.into(),
        exp: 4_102_444_800,
        scope: scope.into(),
        tenant: tenant.map(str::to_owned),
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(KEY),
    )
    .unwrap()
}

fn api(node: &Node, token: &str) -> AdminClient {
    AdminClient::new(&format!("http://{}", node.admin_addr.unwrap()), Some(token.to_owned())).unwrap()
}

fn route_to(link: &str) -> RouteTable {
    RouteTable { routes: vec![Route::new(RouteMatch::default(), link)] }
}

/// The demo configuration plus a second link, `dead`, that never connects, with routes to it:
/// payments are accepted, refused locally twice and dead-lettered.
fn dead_letter_config(f: &common::Fixture) -> NodeConfig {
    let mut config =
        node_config(&DemoSettings::default(), &f.certs, f.dir.path().to_path_buf(), f.sim.addr).unwrap();
    config.tenants.retain(|t| t.name != "bank-z");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut dead = config.links[0].clone();
    dead.name = "dead".into();
    dead.addr = closed;
    config.links.push(dead);
    config.routes = route_to("dead");
    config.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    config.admin_jwt = Some(JwtKey(KEY.to_vec().into()));
    config.limits.payment.max_attempts = 2;
    config.limits.payment.retry_base_ms = 10;
    config.limits.payment.retry_max_ms = 20;
    config
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_replay_and_purge_are_journaled_tenant_scoped_and_survive_a_restart() {
    let f = fixture().await;
    let config = dead_letter_config(&f);
    let node = Node::start(config.clone()).await.unwrap();
    let statuses = run_participant(&f, &node, "bank-a", 3).await;
    assert!(statuses.values().all(|s| s.last() == Some(&TxStatus::RJCT)), "{statuses:?}");
    let uetrs: Vec<String> = statuses.keys().cloned().collect();
    let operator = api(&node, &token("clearing:manage", None, "ops-alice"));
    let bank_a = api(&node, &token("iso20022:send", Some("bank-a"), "bank-a-backoffice"));
    let bank_b = api(&node, &token("iso20022:send", Some("bank-b"), "bank-b-backoffice"));
    wait_for("3 DLQ entries", async || {
        let (code, body) = operator.get("/v1/dlq").await.unwrap();
        code == 200 && uetrs.iter().all(|u| body.contains(u.as_str()))
    })
    .await;

    // Another tenant: not found, for reading and for acting, and an empty list.
    let (u1, u2, u3) = (&uetrs[0], &uetrs[1], &uetrs[2]);
    assert_eq!(bank_b.get(&format!("/v1/dlq/{u1}")).await.unwrap().0, 404);
    assert_eq!(bank_b.post(&format!("/v1/dlq/{u1}/replay")).await.unwrap().0, 404);
    assert_eq!(bank_b.post(&format!("/v1/dlq/{u1}/purge")).await.unwrap().0, 404);
    assert_eq!(bank_b.get(&format!("/v1/payments/{u1}")).await.unwrap().0, 404);
    assert_eq!(bank_b.get("/v1/dlq").await.unwrap(), (200, "[]".to_owned()));
    assert_eq!(bank_b.get("/v1/links").await.unwrap().0, 403, "links are for operators");
    let (code, own) = bank_a.get(&format!("/v1/dlq/{u1}")).await.unwrap();
    assert_eq!(code, 200, "{own}");
    assert!(own.contains("not connected"), "the reason is shown: {own}");
    let (code, links) = operator.get("/v1/links").await.unwrap();
    assert_eq!(code, 200);
    assert!(links.contains(r#""name":"dead","connected":false"#), "{links}");
    assert!(links.contains(r#""last_error":"#), "{links}");

    // Fix the route, then replay one (as its tenant) and purge another (as an operator).
    node.ops.reload(NodeConfig { routes: route_to("sim"), ..config.clone() }).await.unwrap();
    let (code, body) = bank_a.post(&format!("/v1/dlq/{u1}/replay")).await.unwrap();
    assert_eq!(code, 200, "{body}");
    let (code, body) = operator.post(&format!("/v1/dlq/{u2}/purge?tenant=bank-a")).await.unwrap();
    assert_eq!(code, 200, "{body}");
    assert_eq!(operator.post(&format!("/v1/dlq/{u2}/purge?tenant=bank-a")).await.unwrap().0, 404, "gone");
    wait_for("the replayed payment to settle", async || {
        let (code, body) = bank_a.get(&format!("/v1/payments/{u1}")).await.unwrap();
        code == 200 && body.contains(r#""outcome":"Settled""#)
    })
    .await;
    assert_eq!(f.sim.stats.submissions_of(u1), 1, "submitted once, after the replay");
    let (_, list) = operator.get("/v1/dlq?tenant=bank-a").await.unwrap();
    assert!(
        list.contains(u3.as_str()) && !list.contains(u1.as_str()) && !list.contains(u2.as_str()),
        "{list}"
    );

    // While the node runs, the offline CLI refuses to act on its data directory.
    let data = f.dir.path().display().to_string();
    let (code, text) = cli(&["dlq", "purge", "--data", &data, "--tenant", "bank-a", "--uetr", u3]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("a running node holds") && text.contains("--admin"), "{text}");
    // The CLI against the running node's API.
    let admin = format!("http://{}", node.admin_addr.unwrap());
    let op_token = token("clearing:manage", None, "ops-cli");
    let (code, text) = cli(&["dlq", "list", "--admin", &admin, "--token", &op_token, "--tenant", "bank-a"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(u3.as_str()), "{text}");
    let b_token = token("iso20022:send", Some("bank-b"), "b");
    let (code, _) = cli(&["payment", "show", "--admin", &admin, "--token", &b_token, "--uetr", u1]);
    assert_eq!(code, 1, "another tenant's payment is not found");
    node.stop().await.unwrap();

    // Journaled: both actions are records with who did them, and they survive a restart.
    let ops: Vec<_> = journal_records(&f)
        .into_iter()
        .filter_map(|r| match r {
            JournalRecord::Operator(o) => Some((o.uetr, o.kind, o.operator)),
            _ => None,
        })
        .collect();
    assert_eq!(
        ops,
        vec![
            (u1.clone(), OperatorKind::DlqReplay, "bank-a-backoffice".to_owned()),
            (u2.clone(), OperatorKind::DlqPurge, "ops-alice".to_owned()),
        ]
    );
    let node = Node::start(NodeConfig { routes: route_to("sim"), ..config }).await.unwrap();
    let dlq = node.state.dlq_list(None).unwrap();
    assert_eq!(dlq.iter().map(|e| e.uetr.as_str()).collect::<Vec<_>>(), vec![u3.as_str()]);
    let history = node.state.payment("bank-a", u2).unwrap().unwrap().history;
    assert!(history.iter().any(|h| h.state == "dlq-purged"), "{history:?}");
    assert!(node.state.verify_audit().unwrap().ok);
    node.stop().await.unwrap();

    // Stopped: the offline CLI lists, replays and purges (journaled like the API's).
    let (code, text) = cli(&["dlq", "list", "--data", &data]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(u3.as_str()) && text.contains("1 dead-lettered"), "{text}");
    let (code, text) = cli(&["dlq", "replay", "--data", &data, "--tenant", "bank-a", "--uetr", u3]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("dlq-replayed") && text.contains("resumes when the node starts"), "{text}");
    let (code, text) = cli(&["dlq", "list", "--data", &data]);
    assert!(code == 0 && text.contains("0 dead-lettered"), "{text}");
    let (code, text) = cli(&["payment", "show", "--data", &data, "--tenant", "bank-a", "--uetr", u3]);
    assert!(code == 0 && text.contains("dlq-replayed"), "{text}");
    let (code, text) = cli(&["audit", "verify", "--data", &data]);
    assert_eq!(code, 0, "{text}");
}

/// Starts `command` (a `switchyard run`) with its stderr read line by line into a channel.
fn spawn_node(command: &mut Command) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = command.stderr(std::process::Stdio::piped()).spawn().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, lines)
}

/// The shared configuration with a credit window of 64 (the reload tests change it).
fn write_config(f: &common::Fixture, dir: &Path, tenants: &str) -> std::path::PathBuf {
    common::write_config(f, dir, KEY, &format!("[limits]\ncredit_window = 64\n{tenants}"))
}

fn tenant_toml(name: &str, rate: u32) -> String {
    common::tenant_toml(name, rate, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_adds_tenants_and_changes_rates_without_dropping_anything() {
    let f = fixture_with(SimConfig { latency: Duration::from_millis(30), ..SimConfig::default() }).await;
    let path = write_config(&f, f.dir.path(), &tenant_toml("bank-a", 5000));
    let config = switchyard::config_file::load(&path).unwrap();
    let node = Node::start(config).await.unwrap();
    node.ops.set_config_path(path.clone());
    let operator = api(&node, &token("scheme:manage", None, "ops"));

    // bank-b is not a tenant yet: its certificate is refused at sign-on.
    assert!(switchyard_bench::client::Participant::connect(&client(&f, &node, Some("bank-b")))
        .await
        .is_err());

    let template = switchyard_iso20022::read_pacs008(
        switchyard::demo::TEMPLATE,
        &switchyard_iso20022::Limits::default(),
    )
    .unwrap();
    let factory = switchyard_bench::messages::MessageFactory::new(template.clone(), "bank-a")
        .sending_as(&demo_bic("bank-a"));
    let mut participant =
        switchyard_bench::client::Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    const COUNT: u64 = 600;
    let load = tokio::spawn(async move { submit_all(&mut participant, &factory, COUNT).await });
    // Reload while payments are in flight.
    wait_for("payments in flight", async || node.in_flight() > 0).await;
    let mut tenants = tenant_toml("bank-a", 4000);
    tenants.push_str(&tenant_toml("bank-b", 300));
    write_config(&f, f.dir.path(), &tenants);
    let (code, report) = operator.post("/v1/reload").await.unwrap();
    assert_eq!(code, 200, "{report}");
    assert!(report.contains(r#""tenants_added":["bank-b"]"#), "{report}");
    assert!(node.in_flight() > 0 || load.is_finished(), "reloaded during the load");
    let statuses: HashMap<String, Vec<TxStatus>> =
        tokio::time::timeout(TIMEOUT, load).await.unwrap().unwrap();
    assert_eq!(statuses.len() as u64, COUNT);
    assert!(
        statuses.values().all(|s| s == &[TxStatus::ACTC, TxStatus::ACSC]),
        "every payment ACKed and settled on the same connection"
    );

    // The new tenant works at once; the new rate is in force.
    let added = run_participant(&f, &node, "bank-b", 5).await;
    assert!(added.values().all(|s| s.last() == Some(&TxStatus::ACSC)), "{added:?}");
    let (_, tenants) = operator.get("/v1/tenants").await.unwrap();
    assert!(
        tenants.contains(r#""name":"bank-a","certificate_name":"bank-a","rate_per_s":4000"#),
        "{tenants}"
    );
    assert!(tenants.contains(r#""name":"bank-b""#), "{tenants}");
    node.stop().await.unwrap();
    let records: Vec<JournalRecord> = switchyard_journal::read_all(&f.dir.path().join("data/journal"))
        .unwrap()
        .map(|r| switchyard_journal::codec::decode(&r.unwrap().payload).unwrap())
        .collect();
    let accepted = records.iter().filter(|r| matches!(r, JournalRecord::Accepted(_))).count();
    let outcomes = records.iter().filter(|r| matches!(r, JournalRecord::Outcome(_))).count();
    assert_eq!((accepted, outcomes), (COUNT as usize + 5, COUNT as usize + 5), "nothing lost or doubled");
    for uetr in statuses.keys() {
        assert_eq!(f.sim.stats.submissions_of(uetr), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_once_and_promtool_read_a_live_node() {
    let f = fixture().await;
    let node = common::start_node_with(&f, |c| {
        c.admin_listen = Some("127.0.0.1:0".parse().unwrap());
        c.admin_jwt = Some(JwtKey(KEY.to_vec().into()));
    })
    .await;
    let statuses = run_participant(&f, &node, "bank-a", 40).await;
    assert_eq!(statuses.len(), 40);
    let admin = format!("http://{}", node.admin_addr.unwrap());
    let op = token("clearing:manage", None, "ops");

    // `top --once` in a child process while traffic runs.
    let traffic = {
        let f_node = (client(&f, &node, Some("bank-b")), f.certs.ca().unwrap());
        tokio::spawn(async move {
            let template = switchyard_iso20022::read_pacs008(
                switchyard::demo::TEMPLATE,
                &switchyard_iso20022::Limits::default(),
            )
            .unwrap();
            let factory = switchyard_bench::messages::MessageFactory::new(template, "bank-b")
                .sending_as(&demo_bic("bank-b"));
            let mut p = switchyard_bench::client::Participant::connect(&f_node.0).await.unwrap();
            submit_all(&mut p, &factory, 200).await
        })
    };
    let top = {
        let (admin, op) = (admin.clone(), op.clone());
        tokio::task::spawn_blocking(move || {
            cli(&["top", "--admin", &admin, "--token", &op, "--once", "--interval-ms", "500"])
        })
    };
    let (code, frame) = top.await.unwrap();
    assert_eq!(traffic.await.unwrap().len(), 200);
    assert_eq!(code, 0, "{frame}");
    for expected in [
        "switchyard top",
        "throughput",
        "TENANT",
        "bank-a",
        "bank-b",
        "LINK",
        "sim",
        "up",
        "closed",
        "DLQ 0",
        "/65536,",
    ] {
        assert!(frame.contains(expected), "missing {expected:?} in:\n{frame}");
    }
    assert!(!frame.contains('\x1b'), "--once prints no escape codes");
    let (code, text) = cli(&["top", "--admin", &admin, "--token", "not-a-token", "--once"]);
    assert_eq!(code, 2, "a bad token is a clear error: {text}");
    assert!(text.contains("401"), "{text}");

    // /metrics after traffic: the operational series exist, and promtool accepts the text.
    let (code, metrics) = AdminClient::new(&admin, None).unwrap().get("/metrics").await.unwrap();
    assert_eq!(code, 200);
    for expected in [
        "switchyard_submissions_total{",
        "switchyard_ack_latency_seconds_bucket{",
        "switchyard_final_latency_seconds_bucket{",
        "switchyard_journal_batch_records_bucket{le=\"+Inf\"}",
        "switchyard_journal_fsync_latency_seconds_bucket{",
        "switchyard_link_breaker_state{link=\"sim\"}",
        "switchyard_link_window_used_ratio{link=\"sim\"}",
        "switchyard_tenant_in_flight{tenant=\"bank-a\"}",
        "switchyard_node_in_flight ",
        "switchyard_payments_stuck 0",
        "switchyard_dlq_size 0",
        "switchyard_mailbox_depth{actor=\"tenant\",tenant=\"bank-a\"}",
        "switchyard_mailbox_depth{actor=\"session\",tenant=\"bank-b\"}",
    ] {
        assert!(metrics.contains(expected), "missing {expected} in:\n{metrics}");
    }
    // Counted up before each send and down when handled: never below zero.
    for line in metrics.lines().filter(|l| l.starts_with("switchyard_mailbox_depth{")) {
        let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(value >= 0.0, "{line}");
    }
    node.stop().await.unwrap();
    promtool_check(&metrics);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_mtls_maps_client_certificates_to_operators_and_tenants() {
    let f = fixture().await;
    let ca = f.certs.ca().unwrap();
    let server =
        switchyard_wire::tls::server_config(&f.certs.identity("switchyard-node").unwrap(), &ca).unwrap();
    let node = common::start_node_with(&f, |c| {
        c.admin_listen = Some("127.0.0.1:0".parse().unwrap());
        c.admin_tls = Some(switchyard::admin_tls::AdminTls { server, operators: vec!["bank-z".into()] });
    })
    .await;
    let uetr = run_participant(&f, &node, "bank-a", 3).await.into_keys().next().unwrap();
    let authority = node.admin_addr.unwrap().to_string();
    let as_cert = |name: Option<&str>| {
        let identity = name.map(|n| f.certs.identity(n).unwrap());
        let config = switchyard_wire::tls::client_config(&ca, identity.as_ref()).unwrap();
        AdminClient::with_tls(&authority, "switchyard-node", config, None).unwrap()
    };
    let (bank_a, bank_b, operator) =
        (as_cert(Some("bank-a")), as_cert(Some("bank-b")), as_cert(Some("bank-z")));
    let path = format!("/v1/payments/{uetr}");
    wait_for("the payment to be projected", async || bank_a.get(&path).await.unwrap().0 == 200).await;
    assert_eq!(bank_b.get(&path).await.unwrap().0, 404, "another tenant's certificate: not found");
    assert_eq!(bank_b.post(&format!("/v1/dlq/{uetr}/purge")).await.unwrap().0, 404);
    let (code, own) = bank_b.get("/v1/tenants").await.unwrap();
    assert!(code == 200 && own.contains("bank-b") && !own.contains("bank-a"), "{own}");
    assert_eq!(bank_a.get("/v1/links").await.unwrap().0, 403);
    let (code, links) = operator.get("/v1/links").await.unwrap();
    assert!(code == 200 && links.contains(r#""name":"sim""#), "{links}");
    assert_eq!(operator.get(&format!("{path}?tenant=bank-a")).await.unwrap().0, 200);
    assert!(as_cert(None).get("/livez").await.is_err(), "no client certificate: no connection");

    // The CLI authenticates with a client certificate instead of a token.
    let tls = f.dir.path().join("tls");
    f.certs.write_to(&tls).unwrap();
    let url = format!("https://{authority}");
    let cert_args = |name: &str| -> Vec<String> {
        let file = |ext: &str| tls.join(format!("{name}.{ext}")).to_str().unwrap().to_owned();
        vec![
            "--admin".into(),
            url.clone(),
            "--admin-cert".into(),
            file("pem"),
            "--admin-key".into(),
            file("key"),
            "--admin-ca".into(),
            tls.join("ca.pem").to_str().unwrap().to_owned(),
            "--admin-server-name".into(),
            "switchyard-node".into(),
        ]
    };
    let run = |mut args: Vec<String>, extra: &[&str]| {
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        tokio::task::spawn_blocking(move || cli(&args.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let mut show = vec!["payment".to_owned(), "show".to_owned()];
    show.extend(cert_args("bank-a"));
    let (code, text) = run(show, &["--uetr", &uetr]).await.unwrap();
    assert!(code == 0 && text.contains(&uetr) && text.contains("Settled"), "{text}");
    let mut other = vec!["payment".to_owned(), "show".to_owned()];
    other.extend(cert_args("bank-b"));
    let (code, text) = run(other, &["--uetr", &uetr]).await.unwrap();
    assert_eq!(code, 1, "another tenant's certificate: not found: {text}");
    let mut list = vec!["dlq".to_owned(), "list".to_owned()];
    list.extend(cert_args("bank-z"));
    let (code, text) = run(list, &["--tenant", "bank-a"]).await.unwrap();
    assert!(code == 0 && text.trim() == "[]", "operator certificate: {text}");
    let mut top = vec!["top".to_owned()];
    top.extend(cert_args("bank-z"));
    let (code, text) = run(top, &["--once", "--interval-ms", "200"]).await.unwrap();
    assert!(code == 0 && text.contains("bank-a"), "top over admin mTLS: {text}");
    // Flags that do not fit together are refused with the flag named.
    let (code, text) = run(cert_args("bank-a"), &[]).await.unwrap();
    assert_ne!(code, 0, "{text}");
    let plain = vec!["dlq", "list", "--admin", "http://127.0.0.1:1", "--admin-cert", "a", "--admin-key", "b"];
    let (code, text) =
        run(plain.into_iter().map(str::to_owned).collect(), &["--admin-ca", "c"]).await.unwrap();
    assert!(code == 2 && text.contains("need https://"), "{text}");
    node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_running_binary_and_sigterm_drains() {
    let f = fixture().await;
    let path = write_config(&f, f.dir.path(), &tenant_toml("bank-a", 100));
    let (mut child, lines) = spawn_node(Command::new(env!("CARGO_BIN_EXE_switchyard")).args([
        "run",
        "--config",
        path.to_str().unwrap(),
    ]));
    let wait_line = |needle: &str| loop {
        let line = lines.recv_timeout(TIMEOUT).unwrap_or_else(|_| panic!("no line with {needle:?}"));
        if line.contains(needle) {
            return line;
        }
    };
    wait_line("listening on");
    let mut tenants = tenant_toml("bank-a", 200);
    tenants.push_str(&tenant_toml("bank-b", 100));
    write_config(&f, f.dir.path(), &tenants);
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    let reloaded = wait_line("SIGHUP");
    assert!(reloaded.contains("reloaded") && reloaded.contains(r#"added ["bank-b"]"#), "{reloaded}");
    // A broken file is refused with the key named, and the node keeps running.
    std::fs::write(
        &path,
        std::fs::read_to_string(&path).unwrap().replace("credit_window = 64", "credit_window = 0"),
    )
    .unwrap();
    assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    let refused = wait_line("SIGHUP");
    assert!(refused.contains("not reloaded") && refused.contains("limits.credit_window"), "{refused}");
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    wait_line("stopped");
    assert!(child.wait().unwrap().success());
}

/// Sends one submission and reads this session's frames until the submission's final answer;
/// returns its statuses with their reason codes. Other frames are not expected here.
async fn exchange(
    p: &mut switchyard_bench::client::Participant,
    xml: Vec<u8>,
    correlation: u64,
) -> Vec<(TxStatus, Option<String>)> {
    use futures::StreamExt;
    use switchyard_wire::{Frame, FrameKind};
    p.tx.send(Frame::new(FrameKind::Submit, correlation, xml)).await.unwrap();
    let mut out = Vec::new();
    loop {
        let frame =
            tokio::time::timeout(TIMEOUT, p.reader.next()).await.expect("status in time").unwrap().unwrap();
        assert_eq!(frame.kind, FrameKind::Status, "{}", String::from_utf8_lossy(&frame.payload));
        assert_eq!(frame.correlation, correlation);
        let report =
            switchyard_iso20022::read_pacs002(&frame.payload, &switchyard_iso20022::Limits::default())
                .unwrap();
        let tx = &report.txs[0];
        out.push((tx.tx_sts, tx.reason.map(|r| r.as_str().to_owned())));
        if tx.tx_sts != TxStatus::ACTC {
            return out;
        }
    }
}

fn factory_as(prefix: &str, bic: &str) -> switchyard_bench::messages::MessageFactory {
    let template = switchyard_iso20022::read_pacs008(
        switchyard::demo::TEMPLATE,
        &switchyard_iso20022::Limits::default(),
    )
    .unwrap();
    switchyard_bench::messages::MessageFactory::new(template, prefix)
        .sending_as(&switchyard_iso20022::Bic::parse(bic).unwrap())
}

fn tenant_with_bics(name: &str, bics: &[&str]) -> String {
    let list = bics.iter().map(|b| format!("\"{b}\"")).collect::<Vec<_>>().join(", ");
    format!("[[tenants]]\nname = \"{name}\"\ncertificate_name = \"{name}\"\nbics = [{list}]\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_changes_the_bics_of_a_signed_on_session_without_reconnecting() {
    let f = fixture().await;
    let path = write_config(&f, f.dir.path(), &tenant_with_bics("bank-a", &["ZYAAZAJJ"]));
    let node = Node::start(switchyard::config_file::load(&path).unwrap()).await.unwrap();
    node.ops.set_config_path(path.clone());
    let mut p =
        switchyard_bench::client::Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let (old, new) = (factory_as("bank-a-old", "ZYAAZAJJ"), factory_as("bank-a-new", "ZYQQZAJJ"));
    let ok = vec![(TxStatus::ACTC, None), (TxStatus::ACSC, None)];
    let forbidden = vec![(TxStatus::RJCT, Some("AG01".to_owned()))];
    assert_eq!(exchange(&mut p, old.make(1).0, 1).await, ok, "its own BIC");
    assert_eq!(exchange(&mut p, new.make(2).0, 2).await, forbidden, "not yet its BIC");

    write_config(&f, f.dir.path(), &tenant_with_bics("bank-a", &["ZYQQZAJJ"]));
    let report = node.ops.reload_from_file().await.unwrap();
    assert_eq!(report.tenants_updated, ["bank-a"]);
    assert!(report.restart_required.is_empty(), "{report:?}");

    // The same session, signed on before the reload, follows the new list at once.
    assert_eq!(exchange(&mut p, new.make(3).0, 3).await, ok, "newly allowed BIC");
    assert_eq!(exchange(&mut p, old.make(4).0, 4).await, forbidden, "removed BIC");
    let (_, tenants) = api(&node, &token("clearing:manage", None, "ops")).get("/v1/tenants").await.unwrap();
    assert!(tenants.contains(r#""bics":["ZYQQZAJJ"]"#), "{tenants}");
    node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_removing_a_tenant_drains_its_payments_then_signs_its_sessions_off() {
    use futures::StreamExt;
    use switchyard_wire::{Frame, FrameKind};
    let f = fixture_with(SimConfig { latency: Duration::from_millis(200), ..SimConfig::default() }).await;
    let both = format!("{}{}", tenant_toml("bank-a", 1000), tenant_toml("bank-b", 1000));
    let path = write_config(&f, f.dir.path(), &both);
    let node = Node::start(switchyard::config_file::load(&path).unwrap()).await.unwrap();
    node.ops.set_config_path(path.clone());
    let spec = client(&f, &node, Some("bank-b"));
    let mut p = switchyard_bench::client::Participant::connect(&spec).await.unwrap();
    let factory = factory_as("bank-b", demo_bic("bank-b").as_str());
    const COUNT: u64 = 20;
    let mut uetrs = HashMap::new();
    for n in 1..=COUNT {
        let (xml, uetr) = factory.make(n);
        uetrs.insert(n, uetr);
        p.tx.send(Frame::new(FrameKind::Submit, n, xml)).await.unwrap();
    }
    wait_for("bank-b's payments in flight", async || node.in_flight() >= 20).await;

    write_config(&f, f.dir.path(), &tenant_toml("bank-a", 1000));
    let report = node.ops.reload_from_file().await.unwrap();
    assert_eq!(report.tenants_removed, ["bank-b"], "{report:?}");
    assert_eq!(node.ops.retiring(), ["bank-b"], "draining");
    // A new payment on the open session is refused with AG01; a new connection is refused.
    p.tx.send(Frame::new(FrameKind::Submit, COUNT + 1, factory.make(COUNT + 1).0)).await.unwrap();
    assert!(switchyard_bench::client::Participant::connect(&spec).await.is_err(), "no new sign-on");

    // Every payment in flight reaches its outcome on the same connection, then the node signs
    // the session off and closes it.
    let mut finals: HashMap<u64, (TxStatus, Option<String>)> = HashMap::new();
    let mut signed_off = false;
    loop {
        let next = tokio::time::timeout(TIMEOUT, p.reader.next()).await.expect("the session ends in time");
        let Some(Ok(frame)) = next else { break };
        match frame.kind {
            FrameKind::Status => {
                let report = switchyard_iso20022::read_pacs002(
                    &frame.payload,
                    &switchyard_iso20022::Limits::default(),
                )
                .unwrap();
                let tx = &report.txs[0];
                if tx.tx_sts != TxStatus::ACTC {
                    assert!(!signed_off, "a final status after the sign-off");
                    finals.insert(frame.correlation, (tx.tx_sts, tx.reason.map(|r| r.as_str().to_owned())));
                }
            }
            FrameKind::SignOff => signed_off = true,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(signed_off, "the removed tenant's session was signed off");
    assert_eq!(finals.len() as u64, COUNT + 1, "{finals:?}");
    assert!((1..=COUNT).all(|n| finals[&n] == (TxStatus::ACSC, None)), "{finals:?}");
    assert_eq!(finals[&(COUNT + 1)], (TxStatus::RJCT, Some("AG01".to_owned())));
    wait_for("the removed tenant to stop", async || node.ops.retiring().is_empty()).await;
    let (_, tenants) = api(&node, &token("clearing:manage", None, "ops")).get("/v1/tenants").await.unwrap();
    assert!(!tenants.contains("bank-b") && tenants.contains("bank-a"), "{tenants}");
    // The other tenant never noticed.
    let statuses = run_participant(&f, &node, "bank-a", 3).await;
    assert!(statuses.values().all(|s| s.last() == Some(&TxStatus::ACSC)), "{statuses:?}");
    node.stop().await.unwrap();

    let records: Vec<JournalRecord> = switchyard_journal::read_all(&f.dir.path().join("data/journal"))
        .unwrap()
        .map(|r| switchyard_journal::codec::decode(&r.unwrap().payload).unwrap())
        .collect();
    let accepted = records.iter().filter(|r| matches!(r, JournalRecord::Accepted(_))).count();
    let outcomes = records.iter().filter(|r| matches!(r, JournalRecord::Outcome(_))).count();
    assert_eq!((accepted, outcomes), (COUNT as usize + 3, COUNT as usize + 3), "0 payments lost");
    for uetr in uetrs.values() {
        assert_eq!(f.sim.stats.submissions_of(uetr), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_applies_listener_limits_live_and_names_what_needs_a_restart() {
    let f = fixture().await;
    let path = write_config(&f, f.dir.path(), &tenant_toml("bank-a", 1000));
    let node = Node::start(switchyard::config_file::load(&path).unwrap()).await.unwrap();
    node.ops.set_config_path(path.clone());
    let spec = client(&f, &node, Some("bank-a"));
    let mut first = switchyard_bench::client::Participant::connect(&spec).await.unwrap();
    assert_eq!(first.credit_window, 64);

    // Fewer connections and a smaller credit window: applied, nothing needs a restart.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("credit_window = 64", "credit_window = 8\nmax_connections = 1"))
        .unwrap();
    let report = node.ops.reload_from_file().await.unwrap();
    assert_eq!(report.applied, ["limits.credit_window", "limits.max_connections"], "{report:?}");
    assert!(report.restart_required.is_empty(), "{report:?}");
    let short = switchyard_bench::client::ClientSpec { timeout: Duration::from_millis(1500), ..spec.clone() };
    assert!(
        switchyard_bench::client::Participant::connect(&short).await.is_err(),
        "max_connections = 1 and one connection open: the second waits"
    );
    // The first session still works with the window it signed on with.
    let factory = factory_as("bank-a", demo_bic("bank-a").as_str());
    let statuses = submit_all(&mut first, &factory, 70).await;
    assert!(statuses.values().all(|s| s.last() == Some(&TxStatus::ACSC)));

    // Room again (read within a second): new sign-ons get the new window.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("max_connections = 1", "max_connections = 4")).unwrap();
    node.ops.reload_from_file().await.unwrap();
    let second = switchyard_bench::client::Participant::connect(&spec).await.unwrap();
    assert_eq!(second.credit_window, 8, "the reloaded credit window");

    // What is read once at start is named, not applied.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("listen = \"127.0.0.1:0\"\n[admin]", "listen = \"127.0.0.1:1\"\n[admin]")
            .replace("credit_window = 8", "credit_window = 8\nlink_window = 100\nclearing_timeout_ms = 2500")
            + "[journal]\nstate_cache_bytes = 33554432\n",
    )
    .unwrap();
    let report = node.ops.reload_from_file().await.unwrap();
    assert_eq!(
        report.restart_required,
        ["node.listen", "journal", "limits.link_window", "limits.clearing_timeout_ms"],
        "{report:?}"
    );
    assert!(report.applied.is_empty(), "{report:?}");
    drop((first, second));
    node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_and_reloads_are_logged_by_default() {
    let f = fixture().await;
    let path = write_config(&f, f.dir.path(), &tenant_toml("bank-a", 100));
    for format in ["json", "text"] {
        let (mut child, lines) = spawn_node(
            Command::new(env!("CARGO_BIN_EXE_switchyard"))
                .args(["run", "--log-format", format, "--config", path.to_str().unwrap()])
                .env_remove("RUST_LOG")
                .env_remove("NO_COLOR"),
        );
        let mut seen = Vec::new();
        let mut wait_line = |needle: &str| loop {
            let line =
                lines.recv_timeout(TIMEOUT).unwrap_or_else(|_| panic!("no line with {needle:?}: {seen:?}"));
            seen.push(line.clone());
            if line.contains(needle) {
                return;
            }
        };
        wait_line("listening on");
        let pid = child.id().to_string();
        assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
        // The operator-facing reload line from the ops module, at the default filter.
        wait_line("configuration reloaded");
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        wait_line("stopped");
        assert!(child.wait().unwrap().success());
        seen.extend(lines.try_iter());
        for line in &seen {
            // A pipe is not a terminal: no colour codes in either format.
            assert!(!line.contains('\u{1b}'), "{format}: ANSI escape in {line:?}");
            if format == "json" {
                let object: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not one JSON object: {line:?}: {e}"));
                assert!(object["level"].is_string() && object["fields"]["message"].is_string(), "{line}");
            }
        }
    }
}
