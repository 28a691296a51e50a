//! Fuzz target: the node's configuration file, both phases (TOML → `RawConfig` → validated
//! `NodeConfig`), on arbitrary text. It must return a config or a `ConfigError` naming a key,
//! never panic. Certificate paths resolve into a directory of development certificates made
//! once per process, so inputs that name the right files reach the later checks (limits,
//! tenants, links, routes). Inputs naming absolute paths or `..` are skipped: reading
//! arbitrary files of the fuzzing machine (a FIFO, /dev/zero) is not what is under test.
//! Run (stable toolchain): `cd switch/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -s none config_file`,
//! then `<target>/x86_64-unknown-linux-gnu/release/config_file CORPUS -jobs=2 -workers=2
//! -runs=2000000 -max_len=12288` with CORPUS seeded from config/*.toml (docs/RELIABILITY.md §4).

#![no_main]

use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use switchyard::config_file::RawConfig;

fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("switchyard-config-fuzz-{}", std::process::id()));
        let certs = switchyard_wire::devcerts::DevCerts::generate(
            &["switchyard-node", "clearing-sim"],
            &["bank-a", "bank-b", "switchyard"],
        )
        .expect("development certificates");
        certs.write_to(&dir.join("tls")).expect("writing certificates");
        std::fs::write(dir.join("admin-jwt.key"), [b'k'; 40]).expect("writing the JWT key");
        dir
    })
}

fn confined(p: &Path) -> bool {
    !p.is_absolute() && p.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(raw) = toml::from_str::<RawConfig>(text) else { return };
    let mut paths: Vec<&Path> =
        vec![&raw.node.data_dir, &raw.tls.certificate, &raw.tls.private_key, &raw.tls.participant_ca];
    if let Some(jwt) = raw.admin.as_ref().and_then(|a| a.jwt_secret_file.as_ref()) {
        paths.push(jwt);
    }
    for link in &raw.links {
        paths.extend([link.certificate.as_path(), link.private_key.as_path(), link.server_ca.as_path()]);
    }
    if !paths.into_iter().all(confined) {
        return;
    }
    match raw.validate(base()) {
        Ok(config) => {
            // Whatever validated is within the documented bounds.
            assert!(config.limits.credit_window >= 1 && config.limits.credit_window <= 65_536);
            assert!(config.limits.iso.max_message_bytes <= config.limits.max_frame_bytes);
        }
        Err(e) => assert!(!e.key.is_empty(), "an error names its key: {e}"),
    }
});
