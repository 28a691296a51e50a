//! Acknowledgements: the completion guard that guarantees every accepted record hears back
//! exactly once, and a std-only oneshot future for `append_durable`.
//!
//! A `PendingAck` that is dropped without being completed (the writer exited, the queue was
//! torn down at shutdown) completes with `Err(Closed)` from its `Drop`, so no accepted record
//! is ever silently forgotten. The oneshot is a `Mutex` + `Waker` pair: it does not need a
//! runtime, so this crate stays free of tokio.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::error::JournalError;

/// Sequence number of a record: strictly increasing, starting at 1.
pub type Seq = u64;

/// Called once per accepted record, from the writer thread, after the record is durable (or
/// with the error that prevented it). Must be quick: it runs on the writer thread.
pub type Completion = Box<dyn FnOnce(Result<Seq, JournalError>) + Send + 'static>;

/// A completion that must be called exactly once.
pub(crate) struct PendingAck(Option<Completion>);

impl std::fmt::Debug for PendingAck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingAck").field("armed", &self.0.is_some()).finish()
    }
}

impl PendingAck {
    pub fn new(done: Completion) -> Self {
        PendingAck(Some(done))
    }

    /// Calls the completion with `result`.
    pub fn complete(mut self, result: Result<Seq, JournalError>) {
        if let Some(done) = self.0.take() {
            done(result);
        }
    }

    /// Takes the completion back without calling it (the append itself failed, and the
    /// caller learns that from `append`'s return value instead).
    pub fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for PendingAck {
    fn drop(&mut self) {
        if let Some(done) = self.0.take() {
            done(Err(JournalError::Closed));
        }
    }
}

#[derive(Debug, Default)]
struct Slot {
    value: Option<Result<Seq, JournalError>>,
    waker: Option<Waker>,
    sent: bool,
}

/// Future returned by `Journal::append_durable`'s internal oneshot.
#[derive(Debug)]
pub(crate) struct AckFuture(Arc<Mutex<Slot>>);

/// Creates a completion and the future it resolves.
pub(crate) fn oneshot() -> (Completion, AckFuture) {
    let slot = Arc::new(Mutex::new(Slot::default()));
    let tx = Arc::clone(&slot);
    let done: Completion = Box::new(move |result| {
        let waker = {
            let mut s = tx.lock().expect("ack slot poisoned");
            s.value = Some(result);
            s.sent = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    });
    (done, AckFuture(slot))
}

impl Future for AckFuture {
    type Output = Result<Seq, JournalError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.0.lock().expect("ack slot poisoned");
        match s.value.take() {
            Some(v) => Poll::Ready(v),
            None if s.sent => Poll::Ready(Err(JournalError::Closed)),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
