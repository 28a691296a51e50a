//! The five clearing schemes on the real submission path: a node whose links (one per scheme,
//! all to the real simulator over mutual TLS) are routed by creditor agent. A payment a scheme
//! refuses is answered RJCT with the scheme's reason code before any ACTC, journaled as a
//! refusal, and never reaches the simulator; an accepted one arrives at the simulator as the
//! scheme's leg (clearing system, settlement method, AppHdr for SWIFT).

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{client, fixture, journal_records, start_node_with, TIMEOUT};
use futures::StreamExt;
use switchyard::config::LinkConfig;
use switchyard::demo::{demo_bic, TEMPLATE};
use switchyard_actors::route::{Route, RouteMatch, RouteTable};
use switchyard_actors::{JournalRecord, Outcome};
use switchyard_bench::client::Participant;
use switchyard_bench::messages::MessageFactory;
use switchyard_clearing::schemes::gate::GateOptions;
use switchyard_iso20022::{read_pacs002, read_pacs008, Bic, Currency, Limits, Money, Pacs008, TxStatus};
use switchyard_wire::{Frame, FrameKind};

/// (link and scheme name, creditor agent BIC routed to it).
const LINKS: [(&str, &str); 5] = [
    ("samos", "ZYSAZAJJ"),
    ("bankserv", "ZYBSZAJJ"),
    ("rtc", "ZYRTZAJJ"),
    ("payshap", "ZYPSZAJJ"),
    ("swift", "ZYSWZAJJ"),
];

/// PayShap's limit on this node: R1,000.00 (the template's R1,250.75 is over it).
const PAYSHAP_MAX: i64 = 100_000;

enum Expect {
    /// ACTC then ACSC, and the simulator saw this settlement method and clearing system.
    Settled { method: &'static str, clearing_system: Option<&'static str>, app_hdr: bool },
    /// RJCT with this code (and rule id in the detail), never ACTC, never at the simulator.
    Refused { code: &'static str, rule: &'static str },
}

struct Case {
    name: &'static str,
    link: &'static str,
    edit: fn(&mut Pacs008),
    expect: Expect,
}

fn zar(minor_units: i64) -> Money {
    Money { minor_units, currency: Currency::parse("ZAR").unwrap() }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "SAMOS settles a ZAR payment as a SAMOS leg",
            link: "samos",
            edit: |_| {},
            expect: Expect::Settled { method: "CLRG", clearing_system: Some("SAMOS"), app_hdr: false },
        },
        Case {
            name: "SAMOS refuses another currency (AM03)",
            link: "samos",
            edit: |m| {
                m.txs[0].amount = Money { minor_units: 10_000, currency: Currency::parse("USD").unwrap() }
            },
            expect: Expect::Refused { code: "AM03", rule: "scheme.ccy" },
        },
        Case {
            name: "BankservAfrica ACH settles a batch item",
            link: "bankserv",
            edit: |_| {},
            expect: Expect::Settled { method: "CLRG", clearing_system: Some("ACH"), app_hdr: false },
        },
        Case {
            name: "BankservAfrica ACH refuses an urgent service level (FF03)",
            link: "bankserv",
            edit: |m| m.txs[0].svc_lvl_cd = Some("URGP".into()),
            expect: Expect::Refused { code: "FF03", rule: "scheme.svc_lvl" },
        },
        Case {
            name: "RTC settles in real time",
            link: "rtc",
            edit: |_| {},
            expect: Expect::Settled { method: "CLRG", clearing_system: Some("RTC"), app_hdr: false },
        },
        Case {
            name: "RTC refuses more than R5,000,000.00 (AM02)",
            link: "rtc",
            edit: |m| m.txs[0].amount = zar(500_000_001),
            expect: Expect::Refused { code: "AM02", rule: "scheme.amt_max" },
        },
        Case {
            name: "PayShap settles under its configured limit",
            link: "payshap",
            edit: |m| m.txs[0].amount = zar(PAYSHAP_MAX),
            expect: Expect::Settled { method: "CLRG", clearing_system: Some("RPP"), app_hdr: false },
        },
        Case {
            name: "PayShap refuses one cent over its configured limit (AM02)",
            link: "payshap",
            edit: |m| m.txs[0].amount = zar(PAYSHAP_MAX + 1),
            expect: Expect::Refused { code: "AM02", rule: "scheme.amt_max" },
        },
        Case {
            name: "SWIFT CBPR+ refuses charge bearer SLEV (FF01)",
            link: "swift",
            edit: |_| {},
            expect: Expect::Refused { code: "FF01", rule: "scheme.chrg_br" },
        },
        Case {
            name: "SWIFT CBPR+ settles as an INDA leg with an AppHdr",
            link: "swift",
            edit: |m| m.txs[0].chrg_br = Some("SHAR".into()),
            expect: Expect::Settled { method: "INDA", clearing_system: None, app_hdr: true },
        },
    ]
}

/// Sends one message and reads statuses until a final one: (statuses, reason, detail).
async fn submit_one(p: &mut Participant, correlation: u64, xml: Vec<u8>) -> (Vec<TxStatus>, String, String) {
    p.tx.send(Frame::new(FrameKind::Submit, correlation, xml)).await.unwrap();
    let mut statuses = Vec::new();
    loop {
        let frame =
            tokio::time::timeout(TIMEOUT, p.reader.next()).await.expect("status in time").unwrap().unwrap();
        assert_eq!(frame.kind, FrameKind::Status);
        assert_eq!(frame.correlation, correlation);
        let report = read_pacs002(&frame.payload, &Limits::default()).unwrap();
        let tx = &report.txs[0];
        statuses.push(tx.tx_sts);
        if tx.tx_sts != TxStatus::ACTC {
            let reason = tx.reason.map(|r| r.as_str().to_owned()).unwrap_or_default();
            return (statuses, reason, tx.addtl_inf.clone().unwrap_or_default().to_string());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_scheme_checks_and_transforms_on_the_submission_path() {
    let f = fixture().await;
    let node = start_node_with(&f, |config| {
        let template = config.links[0].clone();
        config.links = LINKS
            .iter()
            .map(|(name, _)| LinkConfig {
                name: (*name).to_owned(),
                scheme: Some(GateOptions {
                    max_amount_minor: (*name == "payshap").then_some(PAYSHAP_MAX),
                    // SAMOS keeps office hours; this test must not depend on the day it runs
                    // (the window itself is unit-tested in the clearing crate).
                    check_window: false,
                    ..GateOptions::new(name)
                }),
                ..template.clone()
            })
            .collect();
        config.routes = RouteTable {
            routes: LINKS
                .iter()
                .map(|(name, bic)| {
                    let matches = RouteMatch {
                        creditor_agent_prefix: Some((*bic).to_owned()),
                        ..RouteMatch::default()
                    };
                    Route::new(matches, name)
                })
                .collect(),
        };
    })
    .await;
    // Every link signed on to the simulator (progress-based wait).
    let deadline = Instant::now() + TIMEOUT;
    while f.sim.stats.sign_ons.load(Ordering::Relaxed) < 5 {
        assert!(Instant::now() < deadline, "links did not sign on");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    let mut refused: HashMap<String, (&'static str, &'static str)> = HashMap::new();
    for (n, case) in cases().iter().enumerate() {
        let mut msg = template.clone();
        let creditor_agent = LINKS.iter().find(|(l, _)| *l == case.link).unwrap().1;
        msg.txs[0].cdtr_agt = Some(Bic::parse(creditor_agent).unwrap());
        (case.edit)(&mut msg);
        let factory = MessageFactory::new(msg, "SCH").sending_as(&demo_bic("bank-a"));
        let (xml, uetr) = factory.make(n as u64);
        let (statuses, reason, detail) = submit_one(&mut p, n as u64 + 1, xml).await;
        match case.expect {
            Expect::Settled { method, clearing_system, app_hdr } => {
                assert_eq!(statuses, [TxStatus::ACTC, TxStatus::ACSC], "{}: {reason} {detail}", case.name);
                let leg = f
                    .sim
                    .stats
                    .leg_of(&uetr)
                    .unwrap_or_else(|| panic!("{}: not at the simulator", case.name));
                assert_eq!(leg.settlement_method, method, "{}", case.name);
                assert_eq!(leg.clearing_system.as_deref(), clearing_system, "{}", case.name);
                assert_eq!(leg.app_hdr, app_hdr, "{}", case.name);
                assert_eq!(leg.instructing.as_deref(), Some("ZYAAZAJJ"), "{}", case.name);
                assert_eq!(f.sim.stats.submissions_of(&uetr), 1);
            }
            Expect::Refused { code, rule } => {
                assert_eq!(statuses, [TxStatus::RJCT], "{}: no ACTC before a scheme refusal", case.name);
                assert_eq!(reason, code, "{}: {detail}", case.name);
                assert!(detail.starts_with(&format!("[{rule}]")), "{}: {detail}", case.name);
                assert_eq!(f.sim.stats.submissions_of(&uetr), 0, "{}: the simulator saw it", case.name);
                refused.insert(uetr, (code, case.link));
            }
        }
    }
    drop(p);
    node.stop().await.unwrap();

    // Refusals are journaled with their code; a refused payment was never accepted.
    let mut journaled = HashMap::new();
    for record in journal_records(&f) {
        match record {
            JournalRecord::Refused(r) => {
                journaled.insert(r.uetr.clone().unwrap(), (r.reason.clone(), r.detail.clone()));
            }
            JournalRecord::Accepted(a) => assert!(!refused.contains_key(&a.uetr), "{} accepted", a.uetr),
            JournalRecord::Outcome(o) => assert_eq!(o.outcome, Outcome::Settled),
            JournalRecord::UnmatchedReply(u) => panic!("unexpected unmatched reply {u:?}"),
            JournalRecord::Operator(o) => panic!("unexpected operator action {o:?}"),
            JournalRecord::Inbound(i) => panic!("unexpected inbound payment {i:?}"),
            JournalRecord::Delivery(d) => panic!("unexpected delivery record {d:?}"),
        }
    }
    for (uetr, (code, link)) in &refused {
        let (reason, detail) = journaled.get(uetr).unwrap_or_else(|| panic!("{uetr} not journaled"));
        assert_eq!(reason, code, "{uetr}");
        assert!(detail.ends_with(&format!("(clearing scheme {link} of link {link})")), "{detail}");
    }
    assert_eq!(refused.len(), 5);
}

/// `xml` with a creditor proxy (`CdtrAcct/Prxy`) of type `kind` added.
fn with_proxy(xml: &[u8], kind: &str, id: &str) -> Vec<u8> {
    let text = String::from_utf8(xml.to_vec()).unwrap();
    let proxy = format!("<Prxy><Tp><Cd>{kind}</Cd></Tp><Id>{id}</Id></Prxy></CdtrAcct>");
    let (head, tail) = text.split_once("</CdtrAcct>").expect("a creditor account");
    format!("{head}{proxy}{tail}").into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payshap_resolves_proxy_addressed_creditors_or_refuses_them_with_be23() {
    use std::sync::Arc;
    use switchyard_clearing::schemes::proxy::{ProxyDirectory, ProxyTarget};
    let directory = ProxyDirectory::new([(
        "+27821234567".to_owned(),
        ProxyTarget { account: "99887766".into(), agent: Some(Bic::parse("ZYCCZAJJ").unwrap()) },
    )])
    .unwrap();
    let f = fixture().await;
    let node = start_node_with(&f, |config| {
        config.links[0].name = "payshap".into();
        config.links[0].scheme = Some(GateOptions {
            check_window: false,
            proxy_directory: Some(Arc::new(directory)),
            ..GateOptions::new("payshap")
        });
        config.routes = RouteTable { routes: vec![Route::new(RouteMatch::default(), "payshap")] };
    })
    .await;
    let deadline = Instant::now() + TIMEOUT;
    while f.sim.stats.sign_ons.load(Ordering::Relaxed) < 1 {
        assert!(Instant::now() < deadline, "the link did not sign on");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    let factory = MessageFactory::new(template, "PXY").sending_as(&demo_bic("bank-a"));

    // Registered ShapID (written in national form): resolved, and the proxy travels on.
    let (xml, uetr) = factory.make(0);
    let (statuses, reason, detail) = submit_one(&mut p, 1, with_proxy(&xml, "MBNO", "0821234567")).await;
    assert_eq!(statuses, [TxStatus::ACTC, TxStatus::ACSC], "{reason} {detail}");
    let leg = f.sim.stats.leg_of(&uetr).expect("at the simulator");
    assert_eq!(leg.creditor_account.as_deref(), Some("99887766"));
    assert_eq!(leg.creditor_agent.as_deref(), Some("ZYCCZAJJ"));
    assert!(leg.proxy, "the leg carries the proxy");

    // Unregistered, or not a ShapID at all: BE23 before any ACTC, never at the simulator.
    for (n, id, rule) in [(1, "0829999999", "scheme.proxy_unknown"), (2, "12345", "scheme.proxy")] {
        let (xml, uetr) = factory.make(n);
        let (statuses, reason, detail) = submit_one(&mut p, n + 1, with_proxy(&xml, "MBNO", id)).await;
        assert_eq!(statuses, [TxStatus::RJCT], "{id}");
        assert_eq!(reason, "BE23", "{id}: {detail}");
        assert!(detail.starts_with(&format!("[{rule}]")), "{id}: {detail}");
        assert_eq!(f.sim.stats.submissions_of(&uetr), 0, "{id}");
    }

    // No proxy: the account as given.
    let (xml, uetr) = factory.make(3);
    let (statuses, ..) = submit_one(&mut p, 4, xml).await;
    assert_eq!(statuses, [TxStatus::ACTC, TxStatus::ACSC]);
    let leg = f.sim.stats.leg_of(&uetr).unwrap();
    assert!(!leg.proxy);
    assert_ne!(leg.creditor_account.as_deref(), Some("99887766"));
    drop(p);
    node.stop().await.unwrap();
}
