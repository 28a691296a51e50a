//! The admin listener over real HTTP: health, readiness and Prometheus metrics that include
//! every configured bound and the traffic the node just handled.

mod common;

use common::{fixture, run_participant, start_node_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    common::http_get(addr, path).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    let f = fixture().await;
    let node = start_node_with(&f, |c| c.admin_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let admin = node.admin_addr.expect("admin listener");
    assert_eq!(get(admin, "/livez").await.0, 200);
    assert_eq!(get(admin, "/readyz").await, (200, "ready\n".to_owned()));

    let statuses = run_participant(&f, &node, "bank-a", 20).await;
    assert_eq!(statuses.len(), 20);
    let (status, metrics) = get(admin, "/metrics").await;
    assert_eq!(status, 200);
    for expected in [
        r#"switchyard_limit{name="credit_window"} 1024"#,
        r#"switchyard_limit{name="journal_queue_capacity"} 65536"#,
        r#"switchyard_submissions_total{tenant="bank-a",result="accepted"}"#,
        r#"switchyard_payment_outcomes_total{tenant="bank-a",outcome="settled"}"#,
        "switchyard_ack_latency_seconds",
        "switchyard_journal_fsyncs",
        "switchyard_journal_paced_batches",
    ] {
        assert!(metrics.contains(expected), "missing {expected} in:\n{metrics}");
    }
    let accepted = metrics
        .lines()
        .find(|l| l.starts_with(r#"switchyard_submissions_total{tenant="bank-a",result="accepted"}"#))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap();
    assert!(accepted >= 20.0, "{accepted}");
    node.stop().await.unwrap();
}

async fn get_with(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: admin\r\n{auth}Connection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

fn token(key: &[u8], scope: &str, tenant: Option<&str>) -> String {
    let claims = switchyard::admin::Claims {
        sub: "test".into(),
        exp: 4_102_444_800, // 2100-01-01
        scope: scope.into(),
        tenant: tenant.map(str::to_owned),
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_token_reads_its_own_payments_and_another_tenants_are_not_found() {
    let key = b"0123456789abcdef0123456789abcdef-test-key".to_vec();
    let f = fixture().await;
    let jwt = switchyard::admin::JwtKey(key.clone().into());
    let node = start_node_with(&f, |c| {
        c.admin_listen = Some("127.0.0.1:0".parse().unwrap());
        c.admin_jwt = Some(jwt);
    })
    .await;
    let admin = node.admin_addr.unwrap();
    let statuses = run_participant(&f, &node, "bank-a", 5).await;
    let uetr = statuses.keys().next().unwrap();
    let path = format!("/v1/payments/{uetr}");
    // The projector applies asynchronously: wait (bounded) until the payment is visible.
    let own = token(&key, "iso20022:send", Some("bank-a"));
    let mut found = (0, String::new());
    for _ in 0..100 {
        found = get_with(admin, &path, Some(&own)).await;
        if found.0 == 200 && found.1.contains("Settled") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found.0, 200, "{}", found.1);
    assert!(found.1.contains(uetr.as_str()) && found.1.contains("Settled"), "{}", found.1);

    let other = token(&key, "iso20022:send", Some("bank-b"));
    assert_eq!(get_with(admin, &path, Some(&other)).await.0, 404, "not found, not forbidden");
    assert_eq!(get_with(admin, &path, None).await.0, 401);
    let forged = token(b"another-key-another-key-another-key!", "iso20022:send", Some("bank-a"));
    assert_eq!(get_with(admin, &path, Some(&forged)).await.0, 401);
    let operator = token(&key, "clearing:manage", None);
    assert_eq!(get_with(admin, &format!("{path}?tenant=bank-a"), Some(&operator)).await.0, 200);
    assert_eq!(get_with(admin, &format!("{path}?tenant=bank-b"), Some(&operator)).await.0, 404);
    node.stop().await.unwrap();
}
