//! `StateStore`: the handle on the sled projection of the journal — applying records,
//! catching up from the journal, and every query.
//!
//! Writes are serialized by one mutex (the projection is applied by one writer in journal
//! order; a DLQ purge takes the same lock) and each write is one transaction over all trees
//! (`trees`). Reads go straight to sled and see committed transactions only. The applied
//! marker is cached in an atomic so `applied_seq` is free; it is only advanced after the
//! transaction that wrote it committed.
//!
//! Every method blocks on disk I/O (each transaction ends with a write and a
//! sync_file_range): call it from a dedicated thread or `spawn_blocking`, never on a tokio
//! worker.
//!
//! The store never backs an acknowledgement: sled 0.34's flush is sync_file_range, not fsync,
//! so after a power cut it may lag the journal. `catch_up` closes the gap (docs/STORAGE.md).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sled::Tree;
use switchyard_actors::ports::InboundStored;
use switchyard_actors::record::{AcceptedPayment, JournalRecord};

use crate::codec;
use crate::format::RECORD_VERSION;
use crate::reader::{read_from, Record};
use crate::state::audit::{self, AuditReport};
use crate::state::error::StateError;
use crate::state::filter::{self, Index, KeyFilter};
use crate::state::keys;
use crate::state::project;
use crate::state::stored::{self, DlqRecord, StoredInbound, StoredPayment};
use crate::state::trees::Trees;
use crate::state::view::{DlqEntry, IdempotencyEntry, PaymentView, StateCounts};

/// sled's data file inside the store directory (also the file its lock is taken on).
pub(crate) const SLED_DATA_FILE: &str = "db";
/// Default bound of sled's page cache for [`StateStore::open`]: 64 MiB.
pub const DEFAULT_CACHE_BYTES: u64 = 64 << 20;

/// sled's lock is released when its background I/O threads let go of the file, which can be
/// a moment after the last handle is dropped; opening waits this long for it...
pub(crate) const LOCK_RELEASE_WAIT: Duration = Duration::from_secs(2);
/// ...checking this often.
pub(crate) const LOCK_RETRY: Duration = Duration::from_millis(10);

/// `catch_up` applies at most this many records per transaction...
const CATCH_UP_RECORDS: usize = 256;
/// ...and at most about this many payload bytes (bounds the transaction's memory).
const CATCH_UP_BYTES: usize = 4 << 20;

/// A handle on an open state store; clone it freely.
#[derive(Debug, Clone)]
pub struct StateStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: sled::Db,
    /// The store directory.
    dir: PathBuf,
    trees: Trees,
    /// Cache of the `meta` applied marker; written only after its transaction committed.
    applied: AtomicU64,
    /// Serializes writers (apply, purge): the projection has one writer, in journal order.
    write: Mutex<()>,
    /// Which idempotency keys the store might hold, in memory (off until `enable_key_filter`).
    filter: KeyFilter,
}

impl StateStore {
    /// Opens (or creates) the store in `dir`. Fails with `Layout` if the store was written by
    /// another layout version, and with `Locked` if the directory is open elsewhere.
    pub fn open(dir: &Path) -> Result<StateStore, StateError> {
        Self::open_with_cache(dir, DEFAULT_CACHE_BYTES)
    }

    /// [`open`](Self::open) with sled's page cache bounded to `cache_bytes` (sled's own default
    /// is 1 GiB, which a busy node fills: the node's RSS grew to ~0.9 GB under overload).
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<StateStore, StateError> {
        let db = open_db(dir, cache_bytes)?;
        let trees = Trees::open(&db)?;
        check_layout(&trees)?;
        let applied = AtomicU64::new(trees.meta_u64(keys::META_APPLIED)?);
        tracing::debug!(applied = applied.load(Ordering::Relaxed), "state store open");
        let inner = Inner {
            db,
            dir: dir.to_path_buf(),
            trees,
            applied,
            write: Mutex::new(()),
            filter: KeyFilter::default(),
        };
        Ok(StateStore { inner: Arc::new(inner) })
    }

    /// Highest journal seq applied (0: none).
    pub fn applied_seq(&self) -> u64 {
        self.inner.applied.load(Ordering::Acquire)
    }

    /// Applies journal record `seq`. A seq at or below `applied_seq` is a no-op (idempotent);
    /// any other seq than `applied_seq + 1` is a `Gap`. Indexes, the audit chain and the
    /// applied marker change in one transaction.
    pub fn apply(&self, seq: u64, record: &JournalRecord) -> Result<(), StateError> {
        self.apply_refs(&[(seq, record)]).map(drop)
    }

    /// Applies consecutive records in one transaction; skips those already applied. Returns
    /// how many were applied. Faster than one `apply` per record when catching up.
    pub fn apply_batch(&self, records: &[(u64, JournalRecord)]) -> Result<usize, StateError> {
        let refs: Vec<(u64, &JournalRecord)> = records.iter().map(|(seq, r)| (*seq, r)).collect();
        self.apply_refs(&refs)
    }

    /// `apply_batch` for records the caller owns elsewhere (no clone).
    pub fn apply_refs(&self, records: &[(u64, &JournalRecord)]) -> Result<usize, StateError> {
        let _writer = self.inner.write.lock().expect("state store writer lock poisoned");
        let applied = self.applied_seq();
        let fresh: Vec<(u64, &JournalRecord)> =
            records.iter().copied().filter(|(seq, _)| *seq > applied).collect();
        let Some(&(last, _)) = fresh.last() else { return Ok(0) };
        check_contiguous(applied, &fresh)?;
        // Before the commit: a tenant may forget a key once `applied` passes it, and must then
        // find it in the filter (a key recorded for a transaction that fails is only a false
        // positive).
        self.record_keys(&fresh);
        self.inner.trees.transact(|t| {
            let on_disk = t.meta_u64(keys::META_APPLIED)?;
            if on_disk != applied {
                let what = format!("applied marker is {on_disk}, the handle expected {applied}");
                return Err(StateError::Inconsistent { what }.into());
            }
            let mut head = audit::AuditHead::load(t)?;
            for &(seq, record) in &fresh {
                project::apply_record(t, &mut head, seq, record)?;
            }
            head.save(t)?;
            t.put_meta_u64(keys::META_APPLIED, last)
        })?;
        self.inner.applied.store(last, Ordering::Release);
        Ok(fresh.len())
    }

    fn record_keys(&self, records: &[(u64, &JournalRecord)]) {
        let keys: Vec<(Index, Vec<u8>)> = records
            .iter()
            .filter_map(|(_, record)| match record {
                JournalRecord::Accepted(a) => Some(a),
                _ => None,
            })
            .flat_map(|a| {
                let uetr = keys::tenant_key(&a.tenant, &a.uetr).ok().map(|k| (Index::Payment, k));
                let msg_id = keys::tenant_key(&a.tenant, &a.msg_id).ok().map(|k| (Index::MsgId, k));
                uetr.into_iter().chain(msg_id)
            })
            .collect();
        self.inner.filter.record(keys.iter().map(|(index, key)| (*index, key.as_slice())));
    }

    /// Turns on the in-memory key filter (`state::filter`): applied keys are recorded from now
    /// on, and a background thread reads the keys already stored; once it is done,
    /// `may_hold_payment` / `may_hold_msg_id` answer "no" without touching sled for keys the
    /// store certainly lacks. Until then (and if the scan fails) they answer "maybe". The node
    /// calls this after catch-up; tools that only query need not.
    pub fn enable_key_filter(&self) {
        if !self.inner.filter.enable() {
            return;
        }
        let (payments, msg_ids) = (self.inner.trees.payments.clone(), self.inner.trees.msg_ids.clone());
        let owner = Arc::downgrade(&self.inner);
        let spawned = thread::Builder::new().name("state-key-filter".into()).spawn(move || {
            let started = Instant::now();
            let mut history = KeyFilter::new_history();
            let mut count = 0_u64;
            for (index, tree) in [(Index::Payment, &payments), (Index::MsgId, &msg_ids)] {
                for item in tree.iter().keys() {
                    let Ok(key) = item else {
                        tracing::warn!("state store key scan failed; admission keeps reading the store");
                        return;
                    };
                    filter::insert(&mut history, index, &key);
                    count += 1;
                    // The node is stopping: let sled go instead of finishing the scan.
                    if count % 4096 == 0 && owner.strong_count() == 0 {
                        return;
                    }
                }
            }
            if let Some(inner) = owner.upgrade() {
                inner.filter.set_history(history);
                tracing::info!(
                    keys = count,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "state store key filter ready"
                );
            }
        });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start the key filter scan; admission keeps reading the store");
        }
    }

    /// Whether the key filter has read the whole store (and so can answer "no").
    pub fn key_filter_ready(&self) -> bool {
        self.inner.filter.ready()
    }

    /// False only if the store certainly has no payment with this (tenant, UETR).
    pub fn may_hold_payment(&self, tenant: &str, uetr: &str) -> bool {
        keys::tenant_key(tenant, uetr).map_or(true, |key| self.inner.filter.may_hold(Index::Payment, &key))
    }

    /// False only if the store certainly has no payment of `tenant` that used this MsgId.
    pub fn may_hold_msg_id(&self, tenant: &str, msg_id: &str) -> bool {
        keys::tenant_key(tenant, msg_id).map_or(true, |key| self.inner.filter.may_hold(Index::MsgId, &key))
    }

    /// Applies every journal record after `applied_seq` from the journal in `journal_dir`, in
    /// transactions of up to 256 records. Returns how many were applied. Safe next to a live
    /// writer: the read stops at the batch being written. Fails with `Journal(Truncated)` if
    /// retention removed records the store has not applied.
    pub fn catch_up(&self, journal_dir: &Path) -> Result<u64, StateError> {
        let mut batch = Vec::new();
        let (mut bytes, mut total) = (0, 0);
        for item in read_from(journal_dir, self.applied_seq() + 1)? {
            let record = match item.map_err(StateError::from).and_then(|r| decode_record(&r)) {
                Ok(r) => r,
                Err(e) => {
                    self.apply_batch(&batch)?; // keep every valid record before the damage
                    return Err(e);
                }
            };
            bytes += record.1;
            batch.push(record.0);
            if batch.len() >= CATCH_UP_RECORDS || bytes >= CATCH_UP_BYTES {
                total += self.apply_batch(&batch)? as u64;
                batch.clear();
                bytes = 0;
            }
        }
        total += self.apply_batch(&batch)? as u64;
        Ok(total)
    }

    /// Asks sled to write its buffers (sync_file_range: not a durability guarantee).
    pub fn flush(&self) -> Result<(), StateError> {
        self.inner.db.flush().map(drop).map_err(StateError::sled("flush"))
    }

    /// Flushes and then fsyncs sled's data file, and returns the applied seq that is now
    /// durable: the safe argument for `Journal::truncate_before` (retention must never remove
    /// records the store could lose in a power cut and need again).
    pub fn checkpoint(&self) -> Result<u64, StateError> {
        let applied = self.applied_seq();
        self.flush()?;
        let path = self.inner.dir.join(SLED_DATA_FILE);
        let file = File::open(&path).map_err(|e| StateError::io("open", &path, e))?;
        file.sync_all().map_err(|e| StateError::io("fsync", &path, e))?;
        Ok(applied)
    }

    /// One tenant's payment; another tenant's UETR is simply not found.
    pub fn payment(&self, tenant: &str, uetr: &str) -> Result<Option<PaymentView>, StateError> {
        Ok(self.stored_payment(tenant, uetr)?.map(StoredPayment::view))
    }

    /// A tenant's payments accepted at or after `since_ms`, oldest first, at most `limit`.
    pub fn list(&self, tenant: &str, since_ms: u64, limit: usize) -> Result<Vec<PaymentView>, StateError> {
        let prefix = keys::tenant_prefix(tenant)?;
        let start = keys::time_key(tenant, since_ms, 0)?;
        let mut out = Vec::new();
        for item in self.inner.trees.by_time.range(start..) {
            let (key, uetr) = item.map_err(StateError::sled("scan by_time"))?;
            if out.len() >= limit || !key.starts_with(&prefix) {
                break;
            }
            let uetr = utf8(keys::BY_TIME, &uetr)?;
            let payment =
                self.stored_payment(tenant, uetr)?.ok_or_else(|| missing("by_time", tenant, uetr))?;
            out.push(payment.view());
        }
        Ok(out)
    }

    /// The idempotency entry of (tenant, UETR): fingerprint, MsgId and latest outcome.
    pub fn idempotency(&self, tenant: &str, uetr: &str) -> Result<Option<IdempotencyEntry>, StateError> {
        Ok(self.stored_payment(tenant, uetr)?.map(StoredPayment::idempotency))
    }

    /// The UETR of the first payment of `tenant` that used `msg_id`.
    pub fn msg_id_owner(&self, tenant: &str, msg_id: &str) -> Result<Option<String>, StateError> {
        let value = self
            .inner
            .trees
            .msg_ids
            .get(keys::tenant_key(tenant, msg_id)?)
            .map_err(StateError::sled("get msg_id"))?;
        value.map(|v| utf8(keys::MSG_IDS, &v).map(str::to_owned)).transpose()
    }

    /// Every payment `tenant` ever had, as idempotency needs it (rebuilds admission at start).
    pub fn tenant_history(&self, tenant: &str) -> Result<Vec<IdempotencyEntry>, StateError> {
        let prefix = keys::tenant_prefix(tenant)?;
        let mut out = Vec::new();
        for item in self.inner.trees.payments.scan_prefix(prefix) {
            let (_, value) = item.map_err(StateError::sled("scan payments"))?;
            out.push(stored::decode_payment(&value)?.idempotency());
        }
        Ok(out)
    }

    /// Messages for `tenant`'s participant that were never delivered (returns that found no
    /// session), by UETR, to be delivered again after a restart.
    pub fn undelivered(&self, tenant: &str) -> Result<Vec<(String, Vec<u8>)>, StateError> {
        let mut out = Vec::new();
        for item in self.inner.trees.undelivered.scan_prefix(keys::tenant_prefix(tenant)?) {
            let (key, message) = item.map_err(StateError::sled("scan undelivered"))?;
            let (_, uetr) = keys::split_tenant(&key).ok_or_else(|| bad_key(keys::UNDELIVERED))?;
            out.push((utf8(keys::UNDELIVERED, uetr)?.to_owned(), message.to_vec()));
        }
        Ok(out)
    }

    /// What the store knows of `tenant`'s inbound payment `uetr` (`inbound` tree). Read from
    /// sled directly: the key filter covers the participant idempotency index only.
    pub fn inbound(&self, tenant: &str, uetr: &str) -> Result<Option<InboundStored>, StateError> {
        let value = self
            .inner
            .trees
            .inbound
            .get(keys::tenant_key(tenant, uetr)?)
            .map_err(StateError::sled("get inbound"))?;
        let Some(value) = value else { return Ok(None) };
        let row: StoredInbound = stored::decode_inbound(&value)?;
        Ok(Some(InboundStored {
            link: row.link,
            status: row.status,
            reason: row.reason,
            returned: row.returned,
            return_status: row.return_status,
        }))
    }

    /// `tenant`'s inbound payments received and never answered by its participant (nor
    /// refused): (UETR, link, the pacs.008 as received), delivered again after a restart.
    pub fn unanswered_inbound(&self, tenant: &str) -> Result<Vec<(String, String, Vec<u8>)>, StateError> {
        self.inbound_entries(tenant, &keys::inbound_open_prefix(tenant)?, "scan inbound")
    }

    /// `tenant`'s participant returns journaled whose clearing house's answer is not (nor that
    /// they were not sent): (UETR, link, the pacs.004), asked about after a restart.
    pub fn unanswered_returns(&self, tenant: &str) -> Result<Vec<(String, String, Vec<u8>)>, StateError> {
        self.inbound_entries(tenant, &keys::return_open_prefix(tenant)?, "scan returns")
    }

    /// The messages kept under one of the `inbound` tree's marked prefixes of `tenant`, with
    /// their UETR and the link of the payment's row.
    fn inbound_entries(
        &self,
        tenant: &str,
        prefix: &[u8],
        op: &'static str,
    ) -> Result<Vec<(String, String, Vec<u8>)>, StateError> {
        let mut out = Vec::new();
        for item in self.inner.trees.inbound.scan_prefix(prefix) {
            let (key, message) = item.map_err(StateError::sled(op))?;
            let uetr = utf8(keys::INBOUND, &key[prefix.len()..])?.to_owned();
            let link = self.inbound(tenant, &uetr)?.map(|row| row.link).unwrap_or_default();
            out.push((uetr, link, message.to_vec()));
        }
        Ok(out)
    }

    /// The recovery set of `tenant`: accepted, no final outcome (none yet, or in doubt), with
    /// the message bytes, in acceptance order.
    pub fn open_payments(&self, tenant: &str) -> Result<Vec<AcceptedPayment>, StateError> {
        let mut out = Vec::new();
        for item in self.inner.trees.open.scan_prefix(keys::tenant_prefix(tenant)?) {
            let (key, seq) = item.map_err(StateError::sled("scan open"))?;
            let (_, uetr) = keys::split_tenant(&key).ok_or_else(|| bad_key(keys::OPEN))?;
            let seq = keys::be_u64(&seq).ok_or_else(|| bad_key(keys::OPEN))?;
            out.push((seq, self.accepted_payment(tenant, utf8(keys::OPEN, uetr)?)?));
        }
        out.sort_by_key(|(seq, _)| *seq);
        Ok(out.into_iter().map(|(_, p)| p).collect())
    }

    /// Dead-lettered payments not purged: of one tenant, or of all (an operator's view).
    pub fn dlq_list(&self, tenant: Option<&str>) -> Result<Vec<DlqEntry>, StateError> {
        let rows = match tenant {
            Some(t) => self.inner.trees.dlq.scan_prefix(keys::tenant_prefix(t)?),
            None => self.inner.trees.dlq.iter(),
        };
        let mut out = Vec::new();
        for item in rows {
            let (key, value) = item.map_err(StateError::sled("scan dlq"))?;
            let (tenant, uetr) = keys::split_tenant(&key).ok_or_else(|| bad_key(keys::DLQ))?;
            let uetr = utf8(keys::DLQ, uetr)?;
            let row: DlqRecord = stored::decode(keys::DLQ, &value)?;
            let payment = self.accepted_payment(tenant, uetr)?;
            out.push(DlqEntry {
                tenant: tenant.into(),
                uetr: uetr.into(),
                reason: row.reason,
                at_ms: row.at_ms,
                seq: row.seq,
                payment,
            });
        }
        Ok(out)
    }

    /// One dead-lettered payment of one tenant, if it is listed (scoped: another tenant's UETR is
    /// `None`, exactly like a UETR that does not exist).
    pub fn dlq_entry(&self, tenant: &str, uetr: &str) -> Result<Option<DlqEntry>, StateError> {
        let key = keys::tenant_key(tenant, uetr)?;
        let Some(value) = self.inner.trees.dlq.get(&key).map_err(StateError::sled("get dlq"))? else {
            return Ok(None);
        };
        let row: DlqRecord = stored::decode(keys::DLQ, &value)?;
        Ok(Some(DlqEntry {
            tenant: tenant.into(),
            uetr: uetr.into(),
            reason: row.reason,
            at_ms: row.at_ms,
            seq: row.seq,
            payment: self.accepted_payment(tenant, uetr)?,
        }))
    }

    /// Purges one payment from the DLQ listing (audited as `dlq-purged`). Returns whether it
    /// was listed. Not a journal record: a `reindex` lists it again (docs/STORAGE.md).
    pub fn dlq_remove(&self, tenant: &str, uetr: &str) -> Result<bool, StateError> {
        let _writer = self.inner.write.lock().expect("state store writer lock poisoned");
        let (applied, now) = (self.applied_seq(), now_ms());
        self.inner.trees.transact(|t| project::purge_dlq(t, tenant, uetr, applied, now))
    }

    /// Sizes of the store.
    pub fn counts(&self) -> Result<StateCounts, StateError> {
        let trees = &self.inner.trees;
        Ok(StateCounts {
            payments: len(&trees.payments),
            open: len(&trees.open),
            dlq: len(&trees.dlq),
            audit_entries: audit::head(trees)?.entries,
            refused: trees.meta_u64(keys::META_REFUSED)?,
            applied_seq: self.applied_seq(),
        })
    }

    /// Walks the whole audit chain and names the first broken link.
    pub fn verify_audit(&self) -> Result<AuditReport, StateError> {
        audit::verify(&self.inner.trees)
    }

    fn stored_payment(&self, tenant: &str, uetr: &str) -> Result<Option<StoredPayment>, StateError> {
        let value = self
            .inner
            .trees
            .payments
            .get(keys::tenant_key(tenant, uetr)?)
            .map_err(StateError::sled("get payment"))?;
        value.map(|v| stored::decode_payment(&v)).transpose()
    }

    /// A payment with its message bytes; both must exist (the caller found it in an index).
    fn accepted_payment(&self, tenant: &str, uetr: &str) -> Result<AcceptedPayment, StateError> {
        let key = keys::tenant_key(tenant, uetr)?;
        let message = self.inner.trees.messages.get(&key).map_err(StateError::sled("get message"))?;
        let message = message.ok_or_else(|| missing("messages", tenant, uetr))?;
        let payment = self.stored_payment(tenant, uetr)?.ok_or_else(|| missing("payments", tenant, uetr))?;
        Ok(payment.into_accepted(message.to_vec()))
    }
}

/// Decodes one journal record, checking its layout version and type tag against its payload.
/// Returns the record and its payload size.
fn decode_record(record: &Record) -> Result<((u64, JournalRecord), usize), StateError> {
    let fail = |reason: String| StateError::Record { seq: record.seq, reason };
    if record.version != RECORD_VERSION {
        return Err(fail(format!("record layout version {} is not {RECORD_VERSION}", record.version)));
    }
    let decoded: JournalRecord = codec::decode(&record.payload).map_err(|e| fail(e.to_string()))?;
    if decoded.record_type() != record.record_type {
        let reason =
            format!("record type {} but the payload is type {}", record.record_type, decoded.record_type());
        return Err(fail(reason));
    }
    Ok(((record.seq, decoded), record.payload.len()))
}

/// The records to apply must continue `applied` without a hole.
fn check_contiguous(applied: u64, fresh: &[(u64, &JournalRecord)]) -> Result<(), StateError> {
    match (applied + 1..).zip(fresh).find(|(expected, (seq, _))| seq != expected) {
        Some((expected, &(got, _))) => Err(StateError::Gap { applied: expected - 1, got }),
        None => Ok(()),
    }
}

/// Stamps a new store with the layout version; refuses a store of another version.
fn check_layout(trees: &Trees) -> Result<(), StateError> {
    let found = trees.meta.get(keys::META_LAYOUT).map_err(StateError::sled("get layout"))?;
    let found = match found {
        Some(v) => v.as_ref().try_into().map(u32::from_be_bytes).unwrap_or(0),
        None if trees.meta.is_empty() && trees.payments.is_empty() => {
            let version = keys::LAYOUT_VERSION.to_be_bytes();
            trees.meta.insert(keys::META_LAYOUT, &version[..]).map_err(StateError::sled("set layout"))?;
            keys::LAYOUT_VERSION
        }
        None => 0,
    };
    if found == keys::LAYOUT_VERSION {
        Ok(())
    } else {
        Err(StateError::Layout { found, expected: keys::LAYOUT_VERSION })
    }
}

/// Opens sled, waiting up to `LOCK_RELEASE_WAIT` for a lock that is being released.
fn open_db(dir: &Path, cache_bytes: u64) -> Result<sled::Db, StateError> {
    let deadline = Instant::now() + LOCK_RELEASE_WAIT;
    loop {
        match sled::Config::new().path(dir).cache_capacity(cache_bytes).open().map_err(|e| open_error(dir, e))
        {
            Err(StateError::Locked { .. }) if Instant::now() < deadline => thread::sleep(LOCK_RETRY),
            result => return result,
        }
    }
}

/// sled reports a held lock as an I/O error with this text; name it `Locked`.
fn open_error(dir: &Path, source: sled::Error) -> StateError {
    if source.to_string().contains("could not acquire lock") {
        StateError::Locked { dir: dir.to_path_buf() }
    } else {
        StateError::Sled { op: "open", source }
    }
}

fn len(tree: &Tree) -> u64 {
    tree.len() as u64
}

fn utf8<'a>(tree: &'static str, bytes: &'a [u8]) -> Result<&'a str, StateError> {
    std::str::from_utf8(bytes).map_err(|e| StateError::Decode { tree, reason: e.to_string() })
}

fn bad_key(tree: &'static str) -> StateError {
    StateError::Decode { tree, reason: "key without a valid tenant prefix".into() }
}

fn missing(index: &str, tenant: &str, uetr: &str) -> StateError {
    StateError::Inconsistent {
        what: format!("{index} row for tenant {tenant} UETR {uetr} has no matching payment data"),
    }
}

fn now_ms() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}
