//! Offline operator commands that read files: `validate`, `journal verify`. Each prints one
//! line per finding, names files and offsets, and returns the process exit code.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use switchyard_iso20022::{validate_any, Limits};

/// `switchyard validate FILE...`: `FILE: valid <msg def> <message id>` or
/// `FILE: invalid <REASON> <path>: <detail>`; exit 0 only if every file is valid. `-` reads
/// standard input (a file named `-` is `./-`).
#[must_use]
pub fn validate(files: &[PathBuf]) -> ExitCode {
    let limits = Limits::default();
    let mut all_valid = true;
    for file in files {
        let line = match read_bounded(file, &limits) {
            Err(e) => {
                all_valid = false;
                format!("{}: unreadable: {e}", file.display())
            }
            Ok(bytes) => match bytes.and_then(|bytes| validate_any(&bytes, &limits)) {
                Ok(summary) => {
                    format!("{}: valid {} {}", file.display(), summary.msg_def, printable(&summary.msg_id))
                }
                Err(e) => {
                    all_valid = false;
                    format!(
                        "{}: invalid {} {}: {}",
                        file.display(),
                        e.code.as_str(),
                        e.path,
                        printable(&e.detail)
                    )
                }
            },
        };
        crate::say!("{line}");
        if crate::out::closed() {
            // Nobody reads the rest: stop, and say by the exit status that not all were checked.
            all_valid = false;
            break;
        }
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `text` for one output line: control characters (a line break in a message id) escaped
/// as `\n`, `\u{1b}`, everything else as it is (quotes and non-ASCII letters included).
fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| if c.is_control() { c.escape_debug().to_string() } else { c.to_string() })
        .collect::<String>()
        .into()
}

/// A file's bytes, or the size error for it without reading it: a file over the message
/// limit is never read whole (nor more than one byte past the limit, should it grow). `-`
/// is standard input, read up to one byte past the limit.
fn read_bounded(
    file: &Path,
    limits: &Limits,
) -> std::io::Result<Result<Vec<u8>, switchyard_iso20022::ValidationError>> {
    use std::io::Read as _;
    let cap = u64::try_from(limits.max_message_bytes).unwrap_or(u64::MAX).saturating_add(1);
    if file.as_os_str() == "-" {
        // Standard input has no length to check first: read one byte past the limit at most.
        let mut bytes = Vec::new();
        std::io::stdin().lock().take(cap).read_to_end(&mut bytes)?;
        return Ok(limits.check_size(bytes.len()).map(|()| bytes));
    }
    let f = std::fs::File::open(file)?;
    let len = f.metadata()?.len();
    if let Err(e) = limits.check_size(usize::try_from(len).unwrap_or(usize::MAX)) {
        return Ok(Err(e));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    f.take(cap).read_to_end(&mut bytes)?;
    Ok(Ok(bytes))
}

/// `switchyard journal verify --data DIR`.
#[must_use]
pub fn journal_verify(data: &Path) -> ExitCode {
    if let Err(code) = data_dir(data, false) {
        return code;
    }
    let dir = data.join("journal");
    let report = switchyard_journal::verify(&dir);
    for segment in &report.segments {
        let by_type: Vec<String> = segment
            .records_by_type
            .iter()
            .map(|(&tag, n)| match switchyard_actors::JournalRecord::type_name(tag) {
                Some(name) => format!("{name} {n}"),
                None => format!("type {tag} {n}"),
            })
            .collect();
        crate::say!(
            "{}: first seq {}, {} records ({}), {} bytes used",
            segment.path.display(),
            segment.first_seq,
            segment.records,
            by_type.join(", "),
            segment.bytes_used
        );
    }
    if let Some(torn) = &report.torn_tail {
        crate::say!("torn tail (unacknowledged, cut on open): {torn:?}");
    }
    match &report.problem {
        None => {
            crate::say!(
                "journal {}: ok, {} records, last seq {}",
                dir.display(),
                report.records,
                report.last_seq
            );
            ExitCode::SUCCESS
        }
        Some(p) => {
            crate::say!(
                "journal {}: CORRUPT at {} offset {}: {} ({} valid records before it)",
                dir.display(),
                p.segment.display(),
                p.offset,
                p.reason,
                report.records
            );
            ExitCode::FAILURE
        }
    }
}

/// Checks the `--data` directory of an offline command before anything opens it: it must
/// be a node's data directory (with `journal/`, and `state/` where the command reads the state
/// store), so a mistyped path is named and nothing is created there.
fn data_dir(data: &Path, need_state: bool) -> Result<(), ExitCode> {
    let problem = if !data.is_dir() {
        format!("{}: no such directory", data.display())
    } else if !data.join("journal").is_dir() {
        format!("{}: not a data directory (it has no journal/)", data.display())
    } else if need_state && !data.join("state").is_dir() {
        format!(
            "{}: no state store (state/); `switchyard reindex --data {}` builds it from the journal",
            data.display(),
            data.display()
        )
    } else {
        return Ok(());
    };
    eprintln!("{problem}");
    Err(ExitCode::from(2))
}

fn open_state(data: &Path) -> Result<switchyard_journal::state::StateStore, ExitCode> {
    data_dir(data, true)?;
    switchyard_journal::state::StateStore::open(&data.join("state")).map_err(|e| {
        eprintln!("state store {}: {e}", data.join("state").display());
        ExitCode::from(2)
    })
}

/// `switchyard audit verify --data DIR`: walks the whole hash chain; names the first broken link.
#[must_use]
pub fn audit_verify(data: &Path) -> ExitCode {
    let store = match open_state(data) {
        Ok(store) => store,
        Err(code) => return code,
    };
    match store.verify_audit() {
        Ok(report) if report.ok => {
            crate::say!("audit chain: ok, {} entries, head {}", report.entries, report.head);
            ExitCode::SUCCESS
        }
        Ok(report) => {
            let b = report.first_broken.as_ref();
            crate::say!(
                "audit chain: BROKEN at entry {} (journal seq {}): {}; expected {}, found {}",
                b.map_or(0, |b| b.index),
                b.and_then(|b| b.seq).map_or_else(|| "-".to_owned(), |s| s.to_string()),
                b.map_or("", |b| b.reason.as_str()),
                b.map_or("", |b| b.expected.as_str()),
                b.map_or("", |b| b.found.as_str()),
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("audit chain: unreadable: {e}");
            ExitCode::from(2)
        }
    }
}

/// `switchyard reindex --data DIR`: rebuilds the state store from the journal.
#[must_use]
pub fn reindex(data: &Path) -> ExitCode {
    if let Err(code) = data_dir(data, false) {
        return code;
    }
    match switchyard_journal::state::reindex(&data.join("state"), &data.join("journal")) {
        Ok(r) => {
            crate::say!(
                "reindexed {} journal records (to seq {}): {} payments, {} open, {} dead-lettered, {} audit entries, head {}",
                r.records, r.applied_seq, r.payments, r.open, r.dlq, r.audit_entries, r.audit_head
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("reindex failed: {e}");
            ExitCode::from(2)
        }
    }
}

/// `switchyard payment show --data DIR --tenant T --uetr U`: one payment as JSON.
#[must_use]
pub fn payment_show(data: &Path, tenant: &str, uetr: &str) -> ExitCode {
    let store = match open_state(data) {
        Ok(store) => store,
        Err(code) => return code,
    };
    match store.payment(tenant, uetr) {
        Ok(Some(view)) => {
            crate::say!("{}", serde_json::to_string_pretty(&view).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("no payment {uetr} for tenant {tenant}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("state store: {e}");
            ExitCode::from(2)
        }
    }
}

/// `switchyard dlq list --data DIR [--tenant T]`: one line per dead-lettered payment.
#[must_use]
pub fn dlq_list(data: &Path, tenant: Option<&str>) -> ExitCode {
    let store = match open_state(data) {
        Ok(store) => store,
        Err(code) => return code,
    };
    match store.dlq_list(tenant) {
        Ok(entries) => {
            for e in &entries {
                crate::say!("{} {} seq {} at {} ms: {}", e.tenant, e.uetr, e.seq, e.at_ms, e.reason);
            }
            crate::say!("{} dead-lettered payment(s)", entries.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("state store: {e}");
            ExitCode::from(2)
        }
    }
}

/// `switchyard dlq replay|purge --data DIR --tenant T --uetr U` with the node stopped: journals
/// the operator record and projects it. Refuses while a node holds the journal's lock (use the
/// admin API then). A replayed payment resumes on the node's next start, like a recovered one.
#[must_use]
pub fn dlq_offline_action(
    data: &Path,
    tenant: &str,
    uetr: &str,
    kind: switchyard_actors::record::OperatorKind,
) -> ExitCode {
    use switchyard_actors::record::{OperatorAction, OperatorKind};
    if let Err(code) = data_dir(data, true) {
        return code;
    }
    let journal_dir = data.join("journal");
    let journal = match switchyard_journal::Journal::open(switchyard_journal::JournalConfig::new(
        &journal_dir,
    )) {
        Ok((journal, _)) => journal,
        Err(switchyard_journal::JournalError::Locked { dir }) => {
            eprintln!(
                "refused: a running node holds {} (its lock); use --admin URL --token TOKEN against that node, \
                 or stop it first",
                dir.display()
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("journal {}: {e}", journal_dir.display());
            return ExitCode::from(2);
        }
    };
    let code = (|| {
        let store = open_state(data)?;
        store.catch_up(&journal_dir).map_err(|e| {
            eprintln!("state store: {e}");
            ExitCode::from(2)
        })?;
        match store.dlq_entry(tenant, uetr) {
            Ok(Some(_)) => {}
            Ok(None) => {
                eprintln!("no DLQ entry {uetr} for tenant {tenant}");
                return Err(ExitCode::FAILURE);
            }
            Err(e) => {
                eprintln!("state store: {e}");
                return Err(ExitCode::from(2));
            }
        }
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let record = switchyard_actors::JournalRecord::Operator(OperatorAction {
            tenant: tenant.to_owned(),
            uetr: uetr.to_owned(),
            kind,
            operator: "cli".to_owned(),
            at_ms,
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let appended = journal.append(
            record.record_type(),
            switchyard_journal::codec::encode(&record),
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        let seq = match appended
            .map_err(|e| e.to_string())
            .and_then(|()| rx.recv().map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())))
        {
            Ok(seq) => seq,
            Err(e) => {
                eprintln!("journal: {e}");
                return Err(ExitCode::from(2));
            }
        };
        journal.shutdown().map_err(|e| {
            eprintln!("journal: {e}");
            ExitCode::from(2)
        })?;
        store.catch_up(&journal_dir).and_then(|_| store.flush()).map_err(|e| {
            eprintln!("state store: {e}");
            ExitCode::from(2)
        })?;
        let then = match kind {
            OperatorKind::DlqReplay => "; it resumes when the node starts",
            OperatorKind::DlqPurge => "",
        };
        crate::say!("{} {tenant} {uetr}: journaled at seq {seq}{then}", kind.label());
        Ok(())
    })();
    match code {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

/// Runs one admin API request for the CLI: prints the body; exit 0 on 2xx, 1 on 404, 2 else.
#[must_use]
pub fn remote(admin: &str, auth: crate::admin_client::AdminAuth, post: bool, path: &str) -> ExitCode {
    let outcome = (|| {
        let client = crate::admin_client::AdminClient::from_auth(admin, auth)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            if post {
                client.post(path).await
            } else {
                client.get(path).await
            }
        })
    })();
    match outcome {
        Ok((status, body)) => {
            let text = match serde_json::from_str::<serde_json::Value>(&body) {
                Ok(json) => format!("{}\n", serde_json::to_string_pretty(&json).unwrap_or(body)),
                Err(_) => body,
            };
            // Answers go to stdout (for `| jq`), error bodies to stderr with the status.
            if (200..=299).contains(&status) {
                crate::out::text(format_args!("{text}"));
            } else {
                eprint!("{text}");
            }
            match status {
                200..=299 => ExitCode::SUCCESS,
                404 => ExitCode::FAILURE,
                _ => {
                    eprintln!("admin API answered HTTP {status}");
                    ExitCode::from(2)
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
