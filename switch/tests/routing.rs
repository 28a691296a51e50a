//! Routing rules over a real node with two real clearing simulators: rules by amount range and
//! service level with priorities, failover to alternates, a runtime swap of the table, and
//! config validation of the richer rules.

mod common;

use std::time::Duration;

use common::{client, fixture, start_node_with, submit_all};
use switchyard::demo::{demo_bic, TEMPLATE};
use switchyard_actors::route::{Route, RouteMatch, RouteTable};
use switchyard_bench::client::Participant;
use switchyard_bench::messages::MessageFactory;
use switchyard_clearing::sim::{self, SimConfig};
use switchyard_iso20022::{read_pacs008, Limits, TxStatus};
use switchyard_wire::tls;

fn factory(amount_minor: i64, service_level: Option<&str>, prefix: &str) -> MessageFactory {
    let mut template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    template.txs[0].amount.minor_units = amount_minor;
    if let Some(total) = template.ttl_intr_bk_sttlm_amt.as_mut() {
        total.minor_units = amount_minor;
    }
    template.txs[0].svc_lvl_cd = service_level.map(Into::into);
    MessageFactory::new(template, prefix).sending_as(&demo_bic("bank-a"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_pick_links_by_amount_and_service_level_fail_over_and_swap_at_runtime() {
    let f = fixture().await;
    let ca = f.certs.ca().unwrap();
    let high_value_tls = tls::server_config(&f.certs.identity("clearing-sim").unwrap(), &ca).unwrap();
    let high_value =
        sim::start("127.0.0.1:0".parse().unwrap(), high_value_tls, SimConfig::default()).await.unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let node = start_node_with(&f, |c| {
        let mut rtgs = c.links[0].clone();
        rtgs.name = "rtgs".into();
        rtgs.addr = high_value.addr;
        let mut down = c.links[0].clone();
        down.name = "down".into();
        down.addr = closed;
        c.links.push(rtgs);
        c.links.push(down);
        c.routes = RouteTable {
            routes: vec![
                // Catch-all, tried last.
                Route::new(RouteMatch::default(), "sim"),
                // High value (≥ 1,000,000.00) to the RTGS link, ahead of the catch-all.
                Route {
                    priority: 10,
                    ..Route::new(
                        RouteMatch { min_amount_minor: Some(100_000_000), ..RouteMatch::default() },
                        "rtgs",
                    )
                },
                // Instant payments: primary link down, the alternate takes them.
                Route {
                    priority: 5,
                    alternates: vec!["rtgs".into()],
                    ..Route::new(
                        RouteMatch { service_level: Some("INST".into()), ..RouteMatch::default() },
                        "down",
                    )
                },
            ],
        };
    })
    .await;
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();

    let low = submit_all(&mut p, &factory(10_000, None, "LOW"), 5).await;
    let high = submit_all(&mut p, &factory(100_000_000, None, "HIGH"), 5).await;
    let instant = submit_all(&mut p, &factory(10_000, Some("INST"), "INST"), 3).await;
    for statuses in [&low, &high, &instant] {
        for (uetr, seen) in statuses {
            assert_eq!(seen.last(), Some(&TxStatus::ACSC), "{uetr} settled");
        }
    }
    for uetr in low.keys() {
        assert_eq!((f.sim.stats.submissions_of(uetr), high_value.stats.submissions_of(uetr)), (1, 0));
    }
    for uetr in high.keys().chain(instant.keys()) {
        assert_eq!((f.sim.stats.submissions_of(uetr), high_value.stats.submissions_of(uetr)), (0, 1));
    }

    // Swap the table at runtime: everything to the RTGS link now.
    node.reload_routes(RouteTable { routes: vec![Route::new(RouteMatch::default(), "rtgs")] });
    let after = submit_all(&mut p, &factory(10_000, None, "SWAP"), 5).await;
    for uetr in after.keys() {
        assert_eq!((f.sim.stats.submissions_of(uetr), high_value.stats.submissions_of(uetr)), (0, 1));
    }
    drop(p);
    tokio::time::timeout(Duration::from_secs(60), node.stop()).await.unwrap().unwrap();
    high_value.stop().await;
}

#[test]
fn richer_route_rules_are_validated_with_the_key_named() {
    let example = include_str!("../../config/switchyard.toml");
    let dir = tempfile::tempdir().unwrap();
    switchyard_wire::devcerts::DevCerts::generate(
        &["switchyard-node", "clearing-sim"],
        &["bank-a", "bank-b", "switchyard"],
    )
    .unwrap()
    .write_to(&dir.path().join("tls"))
    .unwrap();
    let file = dir.path().join("switchyard.toml");
    let with_route = |extra: &str| {
        example.replace("[[routes]]\nlink = \"sim\"", &format!("[[routes]]\nlink = \"sim\"\n{extra}"))
    };
    // A valid rich rule.
    std::fs::write(
        &file,
        with_route("message_type = \"pacs.008\"\nmin_amount_minor = 0\nmax_amount_minor = 500000\nservice_level = \"INST\"\ncreditor_agent = \"ZYABZAJJXXX\"\npriority = 5"),
    )
    .unwrap();
    let config = switchyard::config_file::load(&file).unwrap();
    let rule = &config.routes.routes[0];
    assert_eq!((rule.priority, rule.matches.creditor_agent_prefix.as_deref()), (5, Some("ZYABZAJJ")));
    assert_eq!(rule.matches.max_amount_minor, Some(500_000));
    // Interbank transfers are routed too.
    std::fs::write(&file, with_route("message_type = \"pacs.009\"")).unwrap();
    let config = switchyard::config_file::load(&file).unwrap();
    assert_eq!(config.routes.routes[0].matches.message_type.as_deref(), Some("pacs.009"));
    for (extra, key) in [
        ("alternates = [\"nowhere\"]", "routes[0].alternates[0]"),
        ("alternates = [\"sim\"]", "routes[0].alternates[0]"),
        ("min_amount_minor = 10\nmax_amount_minor = 5", "routes[0].min_amount_minor"),
        ("max_amount_minor = -1", "routes[0].max_amount_minor"),
        ("message_type = \"camt.053\"", "routes[0].message_type"),
        ("creditor_agent = \"NOTABIC\"", "routes[0].creditor_agent"),
        ("creditor_agent_prefix = \"zy\"", "routes[0].creditor_agent_prefix"),
        ("service_level = \"\"", "routes[0].service_level"),
        ("priority = 2000000", "routes[0].priority"),
    ] {
        std::fs::write(&file, with_route(extra)).unwrap();
        let e = switchyard::config_file::load(&file).expect_err(extra);
        assert!(e.to_string().contains(key), "{extra}: {e}");
    }
}
