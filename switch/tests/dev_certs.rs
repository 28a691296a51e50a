//! `switchyard dev-certs`, run as the real binary: client names that would clobber or escape are
//! refused, an existing CA is only replaced with `--force`, keys are owner-only, and the report
//! lists what was written.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn dev_certs(out: &Path, extra: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("dev-certs")
        .arg("--out")
        .arg(out)
        .args(extra)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Every file under `dir` (recursively) with its content, relative names.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                files.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

fn names(files: &BTreeMap<String, Vec<u8>>) -> Vec<&str> {
    files.keys().map(String::as_str).collect()
}

#[test]
fn bad_client_names_exit_2_naming_the_problem_and_write_nothing() {
    let root = tempfile::tempdir().unwrap();
    let cases: [(&str, &str); 8] = [
        ("ca", "\"ca\": reserved"),
        ("CA", "\"CA\": reserved"),
        ("../x", "\"../x\": only ASCII letters"),
        ("", "\"\": empty"),
        ("bank-a,,bank-b", "\"\": empty"),
        ("bank-a,bank-b,bank-a", "\"bank-a\": given more than once"),
        ("clearing-sim", "\"clearing-sim\": reserved: a server certificate"),
        ("switchyard-node", "\"switchyard-node\": reserved: a server certificate"),
    ];
    // Into a fresh directory: nothing is created, inside or beside it.
    let fresh = root.path().join("fresh");
    for (clients, expected) in cases {
        let run = dev_certs(&fresh, &["--clients", clients]);
        assert_eq!(run.code, Some(2), "--clients {clients:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(expected), "--clients {clients:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "--clients {clients:?}: {}", run.stdout);
        assert!(
            snapshot(root.path()).is_empty(),
            "--clients {clients:?} wrote {:?}",
            names(&snapshot(root.path()))
        );
        assert!(!fresh.exists(), "--clients {clients:?}");
    }
    let long = "n".repeat(65);
    let run = dev_certs(&fresh, &["--clients", &long]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("longer than 64 bytes"), "{}", run.stderr);
    let run = dev_certs(&fresh, &["--clients", ".hidden"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("\".hidden\": must not start with '.'"), "{}", run.stderr);
    assert!(snapshot(root.path()).is_empty());

    // Into a directory that already holds certificates, even with --force (which lifts only the
    // existing-CA refusal): no file is overwritten and none is added.
    let tls = root.path().join("tls");
    let first = dev_certs(&tls, &[]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let before = snapshot(root.path());
    for (clients, expected) in cases {
        let run = dev_certs(&tls, &["--clients", clients, "--force"]);
        assert_eq!(run.code, Some(2), "--clients {clients:?} --force: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(expected), "--clients {clients:?} --force: {}", run.stderr);
        assert!(
            snapshot(root.path()) == before,
            "--clients {clients:?} --force changed {:?}",
            names(&snapshot(root.path()))
        );
    }
}

#[test]
fn an_existing_ca_is_replaced_only_with_force() {
    let root = tempfile::tempdir().unwrap();
    let tls = root.path().join("tls");
    let first = dev_certs(&tls, &["--clients", "bank-a,bank-c"]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let before = snapshot(&tls);
    assert!(before.contains_key("bank-c.pem"));

    // Without --force: refused, exit 2, nothing touched, and the message says why and what to do.
    let again = dev_certs(&tls, &["--clients", "bank-a,bank-b"]);
    assert_eq!(again.code, Some(2), "{}{}", again.stdout, again.stderr);
    assert!(again.stderr.contains("already holds a development CA"), "{}", again.stderr);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert!(again.stderr.contains("no longer chain"), "{}", again.stderr);
    assert!(snapshot(&tls) == before, "refused run changed {:?}", names(&snapshot(&tls)));

    // A CA key alone (ca.pem deleted) is still a CA not to replace silently.
    std::fs::remove_file(tls.join("ca.pem")).unwrap();
    let key_only = dev_certs(&tls, &[]);
    assert_eq!(key_only.code, Some(2), "{}", key_only.stderr);
    std::fs::write(tls.join("ca.pem"), &before["ca.pem"]).unwrap();

    // With --force: a new CA, this run's files rewritten, the leftovers named in a warning.
    let forced = dev_certs(&tls, &["--clients", "bank-a,bank-b", "--force"]);
    assert_eq!(forced.code, Some(0), "{}{}", forced.stdout, forced.stderr);
    let after = snapshot(&tls);
    for file in ["ca.pem", "ca.key", "bank-a.pem", "bank-a.key", "switchyard-node.pem", "switchyard.key"] {
        assert_ne!(after[file], before[file], "{file} rewritten");
    }
    assert!(after.contains_key("bank-b.pem") && after.contains_key("bank-b.key"));
    assert_eq!(after["bank-c.pem"], before["bank-c.pem"], "files of other names are left in place");
    assert!(forced.stderr.contains("no longer chain to the new ca.pem"), "{}", forced.stderr);
    assert!(forced.stderr.contains("bank-c.key, bank-c.pem"), "{}", forced.stderr);
}

#[test]
fn the_report_lists_exactly_what_was_written_with_private_keys_owner_only() {
    let root = tempfile::tempdir().unwrap();
    // The README's command shape, into a directory that does not exist yet; `switchyard` listed
    // explicitly is not issued twice.
    let tls = root.path().join("config").join("tls");
    let run = dev_certs(&tls, &["--clients", "bank-a,switchyard,bank-b"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!run.stderr.contains("warning"), "a first run replaces nothing: {}", run.stderr);
    let files = snapshot(&tls);
    assert_eq!(
        names(&files),
        [
            "bank-a.key",
            "bank-a.pem",
            "bank-b.key",
            "bank-b.pem",
            "ca.key",
            "ca.pem",
            "clearing-sim.key",
            "clearing-sim.pem",
            "switchyard-node.key",
            "switchyard-node.pem",
            "switchyard.key",
            "switchyard.pem",
        ]
    );
    assert!(run.stdout.contains(&format!("wrote {} files to ", files.len())), "{}", run.stdout);
    assert!(run.stdout.contains("development CA: ca.pem, ca.key"), "{}", run.stdout);
    assert!(
        run.stdout.contains("server certificates (2): switchyard-node.pem/.key, clearing-sim.pem/.key"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("client certificates (3): bank-a.pem/.key, bank-b.pem/.key, switchyard.pem/.key"),
        "{}",
        run.stdout
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in files.keys() {
            if file.ends_with(".key") {
                let mode = std::fs::metadata(tls.join(file)).unwrap().permissions().mode() & 0o777;
                assert_eq!(format!("{mode:o}"), "600", "{file}");
            }
        }
    }
}
