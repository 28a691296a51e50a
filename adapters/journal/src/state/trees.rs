//! The ten sled trees of one store, and the only way to change them: one transaction over
//! all of them.
//!
//! Every write to the store (a batch of journal records, a DLQ purge) runs as a single sled
//! transaction that covers the indexes, the audit chain and the applied marker together, so a
//! crash leaves either all of a change or none of it; `catch_up` then resumes from the marker.
//! sled may rerun a transaction closure after a conflict, so closures must only read and write
//! through the `TxTrees` they are given.

use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::{Db, Transactional, Tree};

use crate::state::error::StateError;
use crate::state::keys;
use crate::state::stored;

/// The result type inside a transaction closure.
pub(crate) type TxResult<T> = Result<T, ConflictableTransactionError<StateError>>;

impl From<StateError> for ConflictableTransactionError<StateError> {
    fn from(e: StateError) -> Self {
        ConflictableTransactionError::Abort(e)
    }
}

/// Handles on every tree of the store (cheap clones of sled's `Arc`s).
#[derive(Debug, Clone)]
pub(crate) struct Trees {
    pub payments: Tree,
    pub by_time: Tree,
    pub msg_ids: Tree,
    pub open: Tree,
    pub dlq: Tree,
    pub messages: Tree,
    pub audit: Tree,
    pub meta: Tree,
    pub undelivered: Tree,
    pub inbound: Tree,
}

/// The same trees inside a transaction (sled's transactional trees have no `Debug`).
pub(crate) struct TxTrees<'a> {
    pub payments: &'a TransactionalTree,
    pub by_time: &'a TransactionalTree,
    pub msg_ids: &'a TransactionalTree,
    pub open: &'a TransactionalTree,
    pub dlq: &'a TransactionalTree,
    pub messages: &'a TransactionalTree,
    pub audit: &'a TransactionalTree,
    pub meta: &'a TransactionalTree,
    pub undelivered: &'a TransactionalTree,
    pub inbound: &'a TransactionalTree,
}

impl Trees {
    /// Opens (creating if needed) every tree of the store in `db`.
    pub fn open(db: &Db) -> Result<Trees, StateError> {
        let tree = |name: &str| db.open_tree(name).map_err(StateError::sled("open_tree"));
        Ok(Trees {
            payments: tree(keys::PAYMENTS)?,
            by_time: tree(keys::BY_TIME)?,
            msg_ids: tree(keys::MSG_IDS)?,
            open: tree(keys::OPEN)?,
            dlq: tree(keys::DLQ)?,
            messages: tree(keys::MESSAGES)?,
            audit: tree(keys::AUDIT)?,
            meta: tree(keys::META)?,
            undelivered: tree(keys::UNDELIVERED)?,
            inbound: tree(keys::INBOUND)?,
        })
    }

    /// Runs `f` as one atomic transaction over all trees; an `Abort` comes back as its error.
    pub fn transact<T>(&self, f: impl Fn(&TxTrees<'_>) -> TxResult<T>) -> Result<T, StateError> {
        let all = (
            &self.payments,
            &self.by_time,
            &self.msg_ids,
            &self.open,
            &self.dlq,
            &self.messages,
            &self.audit,
            &self.meta,
            &self.undelivered,
            &self.inbound,
        );
        all.transaction(
            |(payments, by_time, msg_ids, open, dlq, messages, audit, meta, undelivered, inbound)| {
                f(&TxTrees {
                    payments,
                    by_time,
                    msg_ids,
                    open,
                    dlq,
                    messages,
                    audit,
                    meta,
                    undelivered,
                    inbound,
                })
            },
        )
        .map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(source) => StateError::Sled { op: "transaction", source },
        })
    }

    /// A u64 from the `meta` tree (0 when absent).
    pub fn meta_u64(&self, key: &[u8]) -> Result<u64, StateError> {
        let value = self.meta.get(key).map_err(StateError::sled("get meta"))?;
        value.map_or(Ok(0), |v| keys::be_u64(&v).ok_or_else(|| bad_meta(key)))
    }
}

impl TxTrees<'_> {
    /// Reads and decodes the value at `key` of `tree` (named `name` for errors).
    pub fn get<T: DeserializeOwned>(
        &self,
        tree: &TransactionalTree,
        name: &'static str,
        key: &[u8],
    ) -> TxResult<Option<T>> {
        match tree.get(key)? {
            Some(bytes) => Ok(Some(stored::decode(name, &bytes)?)),
            None => Ok(None),
        }
    }

    /// A `payments` row (in either of its shapes, [`stored::decode_payment`]).
    pub fn payment(&self, key: &[u8]) -> TxResult<Option<stored::StoredPayment>> {
        match self.payments.get(key)? {
            Some(bytes) => Ok(Some(stored::decode_payment(&bytes)?)),
            None => Ok(None),
        }
    }

    /// A u64 from the `meta` tree (0 when absent).
    pub fn meta_u64(&self, key: &[u8]) -> TxResult<u64> {
        match self.meta.get(key)? {
            Some(v) => Ok(keys::be_u64(&v).ok_or_else(|| bad_meta(key))?),
            None => Ok(0),
        }
    }

    /// Writes a u64 into the `meta` tree.
    pub fn put_meta_u64(&self, key: &[u8], value: u64) -> TxResult<()> {
        self.meta.insert(key, &value.to_be_bytes()[..])?;
        Ok(())
    }
}

fn bad_meta(key: &[u8]) -> StateError {
    StateError::Decode {
        tree: keys::META,
        reason: format!("{} is not 8 bytes", String::from_utf8_lossy(key)),
    }
}
