//! The admin API as docs/OPERATIONS.md describes it, checked where an operator review found it
//! looser or quieter than documented: JWT claims (`nbf`, an empty `sub`, the expiry leeway),
//! reload reporting only the tenants that changed, the remote CLI percent-encoding what it puts
//! in a URL (and naming TLS when `http://` meets a TLS listener), and a fresh node's `/metrics`
//! listing every series of the documented metrics table (parsed from the doc, so the two cannot
//! drift).

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{cli, fixture, promtool_check, start_node_with, tenant_toml};
use switchyard::admin::JwtKey;
use switchyard::admin_client::AdminClient;
use switchyard::node::Node;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-review-test-key";

fn now() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// A token with exactly these claims (so a test can set `nbf` or leave a claim out).
fn token_with(claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(KEY),
    )
    .unwrap()
}

fn operator_token() -> String {
    token_with(&serde_json::json!({ "sub": "ops", "exp": now() + 3600, "scope": "clearing:manage" }))
}

fn api(node: &Node, token: &str) -> AdminClient {
    AdminClient::new(&format!("http://{}", node.admin_addr.unwrap()), Some(token.to_owned())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_nbf_empty_sub_and_expiry_are_checked_with_a_small_leeway() {
    let f = fixture().await;
    let node = start_node_with(&f, |c| {
        c.admin_listen = Some("127.0.0.1:0".parse().unwrap());
        c.admin_jwt = Some(JwtKey(KEY.to_vec().into()));
    })
    .await;
    let claims = |extra: serde_json::Value| {
        let mut c = serde_json::json!({ "sub": "ops", "exp": now() + 3600, "scope": "clearing:manage" });
        c.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        token_with(&c)
    };
    let status = |token: String| {
        let client = api(&node, &token);
        async move { client.get("/v1/status").await.unwrap() }
    };

    assert_eq!(status(operator_token()).await.0, 200, "a valid token");
    // Not yet valid: `nbf` an hour ahead.
    let (code, body) = status(claims(serde_json::json!({ "nbf": now() + 3600 }))).await;
    assert_eq!(code, 401, "a token whose nbf is in the future: {body}");
    assert_eq!(status(claims(serde_json::json!({ "nbf": now() - 60 }))).await.0, 200, "nbf in the past");
    // Expired 10 s ago: past the documented 5 s leeway (jsonwebtoken's default is 60 s).
    let (code, body) = status(claims(serde_json::json!({ "exp": now() - 10 }))).await;
    assert_eq!(code, 401, "a token expired 10 s ago: {body}");
    // An empty or blank `sub` would journal DLQ actions under no name.
    for sub in ["", "   "] {
        let (code, body) = status(claims(serde_json::json!({ "sub": sub }))).await;
        assert_eq!(code, 401, "sub {sub:?}: {body}");
        assert!(body.contains("sub"), "the refusal names the claim: {body}");
        let purge = api(&node, &claims(serde_json::json!({ "sub": sub })))
            .post("/v1/dlq/00000000-0000-4000-8000-000000000000/purge?tenant=bank-a")
            .await
            .unwrap();
        assert_eq!(purge.0, 401, "no DLQ action under an empty name: {}", purge.1);
    }
    // The documented 400: an operator token about a payment without ?tenant=.
    let (code, body) = api(&node, &operator_token()).get("/v1/payments/some-uetr").await.unwrap();
    assert!(code == 400 && body.contains("?tenant="), "{code} {body}");
    node.stop().await.unwrap();
}

fn write_config(f: &common::Fixture, dir: &Path, tenants: &str) -> std::path::PathBuf {
    common::write_config(f, dir, KEY, tenants)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_reports_only_the_tenants_whose_configuration_changed() {
    let f = fixture().await;
    let tenants = |a_rate: u32, b_budget: Option<usize>| {
        let mut t = tenant_toml("bank-a", a_rate, None);
        t.push_str(&tenant_toml("bank-b", 100, b_budget));
        t
    };
    let path = write_config(&f, f.dir.path(), &tenants(100, None));
    let node = Node::start(switchyard::config_file::load(&path).unwrap()).await.unwrap();
    node.ops.set_config_path(path.clone());

    // The same file again: nothing changed, nothing reported.
    let report = node.ops.reload_from_file().await.unwrap();
    assert!(report.tenants_updated.is_empty(), "unchanged file: {report:?}");
    assert!(report.tenants_added.is_empty() && report.tenants_removed.is_empty(), "{report:?}");
    // POST /v1/reload is the same path.
    let (code, body) = api(&node, &operator_token()).post("/v1/reload").await.unwrap();
    assert!(code == 200 && body.contains(r#""tenants_updated":[]"#), "{code} {body}");

    // One tenant's rate: that tenant only.
    write_config(&f, f.dir.path(), &tenants(250, None));
    let report = node.ops.reload_from_file().await.unwrap();
    assert_eq!(report.tenants_updated, ["bank-a"], "{report:?}");
    // The other's budget: that one only.
    write_config(&f, f.dir.path(), &tenants(250, Some(7)));
    let report = node.ops.reload_from_file().await.unwrap();
    assert_eq!(report.tenants_updated, ["bank-b"], "{report:?}");
    let report = node.ops.reload_from_file().await.unwrap();
    assert!(report.tenants_updated.is_empty(), "unchanged again: {report:?}");
    node.stop().await.unwrap();
}

/// A stand-in admin API: records each request line, answers 404.
fn recording_server() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { break };
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let _ = tx.send(first.trim_end().to_owned());
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 10\r\nconnection: close\r\n\r\nnot found\n",
            );
        }
    });
    (url, rx)
}

#[test]
fn the_remote_cli_percent_encodes_tenants_and_uetrs() {
    let (url, requests) = recording_server();
    let cases: [(&[&str], &str); 5] = [
        (
            &["payment", "show", "--tenant", "bank-a&x=1", "--uetr", "u-1"],
            "GET /v1/payments/u-1?tenant=bank-a%26x%3D1 HTTP/1.1",
        ),
        (
            &["payment", "show", "--tenant", "bank a", "--uetr", "a/b?c"],
            "GET /v1/payments/a%2Fb%3Fc?tenant=bank%20a HTTP/1.1",
        ),
        (&["dlq", "list", "--tenant", "bank a+b"], "GET /v1/dlq?tenant=bank%20a%2Bb HTTP/1.1"),
        (
            &["dlq", "replay", "--tenant", "x#y", "--uetr", "u v"],
            "POST /v1/dlq/u%20v/replay?tenant=x%23y HTTP/1.1",
        ),
        (&["dlq", "purge", "--uetr", "../status"], "POST /v1/dlq/..%2Fstatus/purge HTTP/1.1"),
    ];
    for (args, expected) in cases {
        let mut all = args.to_vec();
        all.extend(["--admin", url.as_str(), "--token", "t"]);
        let (code, text) = cli(&all);
        assert_eq!(code, 1, "{args:?}: the stand-in answers 404: {text}");
        let line = requests.recv_timeout(Duration::from_secs(10)).expect("a request");
        assert_eq!(line, expected, "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_against_a_tls_admin_listener_says_to_use_https() {
    let f = fixture().await;
    let ca = f.certs.ca().unwrap();
    let server =
        switchyard_wire::tls::server_config(&f.certs.identity("switchyard-node").unwrap(), &ca).unwrap();
    let node = start_node_with(&f, |c| {
        c.admin_listen = Some("127.0.0.1:0".parse().unwrap());
        c.admin_tls = Some(switchyard::admin_tls::AdminTls { server, operators: vec![] });
    })
    .await;
    let err = api(&node, "t").get("/livez").await.unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("TLS") && text.contains("https://"), "{text}");
    node.stop().await.unwrap();
}

/// The series of docs/OPERATIONS.md's metrics table: exact names, and prefixes for `..._*`.
fn documented_series() -> (BTreeSet<String>, Vec<String>) {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/OPERATIONS.md")).unwrap();
    let section = doc.split("\n## Metrics").nth(1).expect("a Metrics section");
    let section = section.split("\n## ").next().unwrap();
    let (mut exact, mut prefixes) = (BTreeSet::new(), Vec::new());
    for row in section.lines().filter(|l| l.starts_with("| `switchyard_")) {
        let first = row.split('|').nth(1).unwrap();
        for name in first.split('`').skip(1).step_by(2) {
            match name.strip_suffix('*') {
                Some(prefix) => prefixes.push(prefix.to_owned()),
                None => {
                    exact.insert(name.to_owned());
                }
            }
        }
    }
    assert!(exact.len() > 15, "the table was parsed: {exact:?}");
    (exact, prefixes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_node_lists_every_documented_series_and_only_those() {
    let (exact, prefixes) = documented_series();
    let f = fixture().await;
    let node = start_node_with(&f, |c| c.admin_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    // No traffic: what /metrics shows now is what a dashboard sees before the first event.
    let (code, metrics) = api(&node, "unused").get("/metrics").await.unwrap();
    assert_eq!(code, 200);
    let families: BTreeSet<String> = metrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let missing: Vec<&String> = exact.iter().filter(|name| !families.contains(*name)).collect();
    assert!(missing.is_empty(), "documented but not on a fresh node: {missing:?}\n{metrics}");
    for prefix in &prefixes {
        assert!(families.iter().any(|f| f.starts_with(prefix.as_str())), "no {prefix}* series");
    }
    let undocumented: Vec<&String> = families
        .iter()
        .filter(|f| f.starts_with("switchyard_"))
        .filter(|f| !exact.contains(*f) && !prefixes.iter().any(|p| f.starts_with(p.as_str())))
        .collect();
    assert!(undocumented.is_empty(), "on /metrics but not in docs/OPERATIONS.md: {undocumented:?}");
    // The counters an alert would watch are there at zero, with the labels they will have.
    for series in [
        r#"switchyard_status_inquiries_total{link="sim"} 0"#,
        r#"switchyard_link_unmatched_replies_total{link="sim"} 0"#,
        r#"switchyard_in_doubt_reinquiries_total{tenant="bank-a"} 0"#,
        r#"switchyard_connections_refused_total{transport="tls",reason="handshake"} 0"#,
        r#"switchyard_submissions_total{tenant="bank-b",result="accepted"} 0"#,
    ] {
        assert!(metrics.lines().any(|l| l == series), "missing {series} in:\n{metrics}");
    }
    promtool_check(&metrics);
    node.stop().await.unwrap();
}
