//! The shipped example configuration is valid, and broken variants are refused with the key named.

use std::path::Path;
use std::process::Command;

use switchyard_wire::devcerts::DevCerts;

const EXAMPLE: &str = include_str!("../../config/switchyard.toml");

/// A temp dir holding the example config (possibly edited) and development certificates.
fn setup(edit: impl FnOnce(String) -> String) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    DevCerts::generate(&["switchyard-node", "clearing-sim"], &["bank-a", "bank-b", "switchyard"])
        .unwrap()
        .write_to(&dir.path().join("tls"))
        .unwrap();
    let file = dir.path().join("switchyard.toml");
    std::fs::write(&file, edit(EXAMPLE.to_owned())).unwrap();
    (dir, file)
}

fn check(file: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard")).arg("check-config").arg(file).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn the_shipped_example_is_valid() {
    let (_dir, file) = setup(|s| s);
    let config = switchyard::config_file::load(&file).unwrap();
    assert_eq!(config.tenants.len(), 2);
    assert_eq!(config.links[0].name, "sim");
    assert_eq!(config.limits.credit_window, 1024);
    assert_eq!(config.limits.frame_timeout, std::time::Duration::from_secs(10));
    let scheme = config.links[0].scheme.as_ref().expect("the example link names its scheme");
    assert_eq!((scheme.scheme.as_str(), scheme.check_window), ("rtc", true));
    let (ok, text) = check(&file);
    assert!(ok, "{text}");
    assert!(text.contains("valid (2 tenants, 1 links, 1 routes"), "{text}");
}

/// An edit that breaks the example config.
type Edit = Box<dyn Fn(String) -> String>;

#[test]
fn broken_variants_name_the_key() {
    let cases: Vec<(&str, Edit)> = vec![
        ("credit_windw", Box::new(|s: String| s.replace("credit_window = 1024", "credit_windw = 1024"))),
        (
            "limits.credit_window",
            Box::new(|s: String| s.replace("credit_window = 1024", "credit_window = 0")),
        ),
        ("node.listen", Box::new(|s: String| s.replace("127.0.0.1:7443", "localhost"))),
        (
            "routes[0].link",
            Box::new(|s: String| s.replace("[[routes]]\nlink = \"sim\"", "[[routes]]\nlink = \"samos\"")),
        ),
        (
            "tls.participant_ca",
            Box::new(|s: String| {
                s.replace("participant_ca = \"tls/ca.pem\"", "participant_ca = \"tls/missing.pem\"")
            }),
        ),
        ("tenants[1].name", Box::new(|s: String| s.replace("name = \"bank-b\"", "name = \"bank-a\""))),
        (
            "journal.state_cache_bytes",
            Box::new(|s: String| s.replace("state_cache_bytes = 67108864", "state_cache_bytes = 1000")),
        ),
        (
            "journal.min_sync_interval_us",
            Box::new(|s: String| s.replace("min_sync_interval_us = 400", "min_sync_interval_us = 20000")),
        ),
        (
            "limits.max_message_bytes",
            Box::new(|s: String| s.replace("max_message_bytes = 1048576", "max_message_bytes = 2000000")),
        ),
        ("links[0].certificate", Box::new(|s: String| s.replace("tls/switchyard.pem", "tls/nope.pem"))),
        ("tenants[0].bics", Box::new(|s: String| s.replace(r#"bics = ["ZYAAZAJJ"]"#, r#"bics = ["ZYAA"]"#))),
        (
            "tenants[0].max_in_flight",
            Box::new(|s: String| s.replace("burst = 200\n", "burst = 200\nmax_in_flight = 0\n")),
        ),
        (
            "admin.tls_certificate / admin.tls_private_key / admin.client_ca",
            Box::new(|s: String| s.replace("# client_ca = \"tls/ca.pem\"", "client_ca = \"tls/ca.pem\"")),
        ),
        ("admin.operators", Box::new(|s: String| s.replace("# operators = [", "operators = ["))),
        ("links[0].scheme", Box::new(|s: String| s.replace(r#"scheme = "rtc""#, r#"scheme = "fednow""#))),
        (
            "links[0].scheme_max_amount_minor",
            Box::new(|s: String| {
                s.replace("# scheme_max_amount_minor = 5000000", "scheme_max_amount_minor = 1")
            }),
        ),
        (
            "links[0].member_bic",
            Box::new(|s: String| s.replace(r#"# member_bic = "ZYSWZAJJ""#, r#"member_bic = "ZY""#)),
        ),
        (
            "limits.frame_timeout_ms",
            Box::new(|s: String| s.replace("frame_timeout_ms = 10000", "frame_timeout_ms = 5")),
        ),
        (
            "limits.inbound_answer_timeout_ms",
            Box::new(|s: String| {
                s.replace("inbound_answer_timeout_ms = 60000", "inbound_answer_timeout_ms = 0")
            }),
        ),
        (
            "admin.listen",
            Box::new(|s: String| s.replace("listen = \"127.0.0.1:9090\"", "listen = \"127.0.0.1:7443\"")),
        ),
        (
            "bank-a.key (private key of",
            Box::new(|s: String| {
                s.replace("private_key = \"tls/switchyard-node.key\"", "private_key = \"tls/bank-a.key\"")
            }),
        ),
        (
            "tenants[1].certificate_name",
            Box::new(|s: String| s.replace("certificate_name = \"bank-b\"", "certificate_name = \" \"")),
        ),
        (
            "links[1].name",
            Box::new(|s: String| {
                s + "\n[[links]]\nname = \"sim\"\naddress = \"127.0.0.1:7445\"\nserver_name = \"clearing-sim\"\n\
                     certificate = \"tls/switchyard.pem\"\nprivate_key = \"tls/switchyard.key\"\n\
                     server_ca = \"tls/ca.pem\"\n"
            }),
        ),
    ];
    for (key, edit) in cases {
        let (_dir, file) = setup(edit);
        let (ok, text) = check(&file);
        assert!(!ok, "{key}: a broken config must be refused");
        assert!(text.contains(key), "error for {key} must name it: {text}");
    }
}

#[test]
fn admin_mtls_and_a_tenant_budget_are_accepted() {
    let (_dir, file) = setup(|s| {
        s.replace("# tls_certificate", "tls_certificate")
            .replace("# tls_private_key", "tls_private_key")
            .replace("# client_ca", "client_ca")
            .replace("# operators = [", "operators = [")
            .replace("burst = 200\n", "burst = 200\nmax_in_flight = 500\n")
    });
    let config = switchyard::config_file::load(&file).unwrap();
    assert_eq!(config.admin_tls.as_ref().map(|t| t.operators.clone()), Some(vec!["ops-alice".to_owned()]));
    assert_eq!(config.tenants[0].max_in_flight, Some(500));
    assert_eq!(config.tenants[1].max_in_flight, None);
}

const SIM_EXAMPLE: &str = include_str!("../../config/clearing-sim.toml");

#[test]
fn the_shipped_simulator_config_is_valid_and_bounded() {
    let (dir, _) = setup(|s| s);
    let file = dir.path().join("clearing-sim.toml");
    std::fs::write(&file, SIM_EXAMPLE).unwrap();
    let setup = switchyard::sim_config::load(&file).unwrap();
    assert_eq!(setup.config.late_by, std::time::Duration::from_millis(5000));
    assert_eq!((setup.config.duplicate_ppm, setup.config.crash_ppm), (0, 0));
    for (key, from, to) in [
        ("crash_ppm", "crash_ppm = 0", "crash_ppm = 1000001"),
        ("latency_tail_mean_ms", "latency_tail_mean_ms = 0", "latency_tail_mean_ms = 60001"),
        ("reject_reason", r#"reject_reason = "AM02""#, r#"reject_reason = "XX99""#),
        (
            "stats_file",
            "# stats_file = \"clearing-sim-stats.json\"",
            "stats_file = \"no-such-dir/stats.json\"",
        ),
        ("stats_file", "# stats_file = \"clearing-sim-stats.json\"", "stats_file = \".\""),
    ] {
        std::fs::write(&file, SIM_EXAMPLE.replace(from, to)).unwrap();
        let e = switchyard::sim_config::load(&file).unwrap_err();
        assert_eq!(e.key, key, "{e}");
    }
}

#[test]
fn clearing_link_modes_transports_and_proxy_directories_are_checked() {
    use switchyard::config::{LinkMode, LinkTransport};
    let accept = |s: String| {
        s.replace(
            "address = \"127.0.0.1:7444\"\n",
            "mode = \"accept\"\ntransport = \"quic\"\nlisten = \"127.0.0.1:7445\"\npeer_name = \"clearing-house\"\n",
        )
        .replace("server_name = \"clearing-sim\"\n", "")
    };
    let (_dir, file) = setup(accept);
    let config = switchyard::config_file::load(&file).unwrap();
    let link = &config.links[0];
    assert_eq!(link.mode, LinkMode::Accept { peer_name: "clearing-house".into() });
    assert_eq!((link.transport, link.addr.port()), (LinkTransport::Quic, 7445));

    // A PayShap link with a proxy directory next to the file.
    let payshap =
        |s: String| s.replace("scheme = \"rtc\"", "scheme = \"payshap\"\nproxy_directory = \"proxies.toml\"");
    let (dir, file) = setup(payshap);
    let directory = "[[proxy]]\nid = \"0821234567\"\naccount = \"99887766\"\nagent = \"ZYCCZAJJ\"\n";
    std::fs::write(dir.path().join("proxies.toml"), directory).unwrap();
    let config = switchyard::config_file::load(&file).unwrap();
    let options = config.links[0].scheme.as_ref().unwrap();
    assert_eq!(options.proxy_directory.as_ref().map(|d| d.len()), Some(1));
    std::fs::write(dir.path().join("proxies.toml"), directory.replace("99887766", "9988-7766")).unwrap();
    let e = switchyard::config_file::load(&file).unwrap_err();
    assert_eq!(e.key, "links[0].proxy_directory", "{e}");

    let cases: Vec<(&str, Edit)> = vec![
        (
            "links[0].mode",
            Box::new(|s: String| s.replace("name = \"sim\"\n", "name = \"sim\"\nmode = \"both\"\n")),
        ),
        (
            "links[0].transport",
            Box::new(|s: String| s.replace("name = \"sim\"\n", "name = \"sim\"\ntransport = \"udp\"\n")),
        ),
        // Accept mode without a peer name, and with a dial-mode key left in.
        (
            "links[0].peer_name",
            Box::new(move |s: String| accept(s).replace("peer_name = \"clearing-house\"\n", "")),
        ),
        (
            "links[0].address",
            Box::new(move |s: String| {
                accept(s).replace(
                    "listen = \"127.0.0.1:7445\"",
                    "address = \"127.0.0.1:1\"\nlisten = \"127.0.0.1:7445\"",
                )
            }),
        ),
        // Dial mode with an accept-mode key.
        (
            "links[0].peer_name",
            Box::new(|s: String| s.replace("name = \"sim\"\n", "name = \"sim\"\npeer_name = \"x\"\n")),
        ),
        // A proxy directory on a scheme without proxies.
        (
            "links[0].proxy_directory",
            Box::new(|s: String| {
                s.replace("scheme = \"rtc\"", "scheme = \"rtc\"\nproxy_directory = \"p.toml\"")
            }),
        ),
    ];
    for (key, edit) in cases {
        let (dir, file) = setup(edit);
        std::fs::write(dir.path().join("p.toml"), "").unwrap();
        let e = switchyard::config_file::load(&file).unwrap_err();
        assert_eq!(e.key, key, "{e}");
    }
}

#[test]
fn the_simulator_config_takes_dial_mode_and_quic() {
    let (dir, _) = setup(|s| s);
    let file = dir.path().join("clearing-sim.toml");
    let dial = SIM_EXAMPLE.replace(
        "listen = \"127.0.0.1:7444\"",
        "mode = \"dial\"\ntransport = \"quic\"\ndial = \"127.0.0.1:7445\"\nserver_name = \"switchyard-node\"",
    );
    std::fs::write(&file, &dial).unwrap();
    let setup = switchyard::sim_config::load(&file).unwrap();
    assert_eq!(setup.transport, switchyard::sim_config::SimTransport::Quic);
    assert!(
        matches!(setup.endpoint, switchyard::sim_config::SimEndpoint::Dial { ref server_name, .. } if server_name == "switchyard-node")
    );
    for (key, text) in [
        ("dial", dial.replace("dial = \"127.0.0.1:7445\"\n", "")),
        ("listen", dial.replace("mode = \"dial\"", "listen = \"127.0.0.1:1\"\nmode = \"dial\"")),
        ("transport", dial.replace("transport = \"quic\"", "transport = \"sctp\"")),
        ("mode", dial.replace("mode = \"dial\"", "mode = \"both\"")),
    ] {
        std::fs::write(&file, text).unwrap();
        let e = switchyard::sim_config::load(&file).unwrap_err();
        assert_eq!(e.key, key, "{e}");
    }
}
