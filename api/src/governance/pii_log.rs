//! Recording reads of personal data without slowing them: every response
//! that returns communities' contacts hands one [`Read`] (which lists the
//! communities) to this process's writer over an in-memory channel (no
//! await, no I/O on the request's path). The writer stores them in batches:
//! whatever queued in the 20 ms after the first, identical reads (same
//! organisation, subject, operation, route and communities) merged into one
//! entry listing their request ids, one `INSERT` of up to 500 entries and
//! one commit that does not wait for the disk, through a
//! small connection pool of its own, so it never takes a connection a
//! request waits for. A failed write is retried every second, keeping the
//! batch, so a database outage delays entries and loses none while the
//! process runs; on shutdown the process waits for the writer to store what
//! is queued ([`PiiLog::flush`]).

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::domain::access::Actor;
use crate::store::Store;
pub use crate::store::pii_log::Read;

/// What a request tells the log about itself, and the communities whose
/// contact its resolvers returned (collected, then recorded once).
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    /// The request's `x-request-id`.
    pub request_id: String,
    /// The operation's name, if it had one.
    pub operation: Option<String>,
    /// `graphql`, `webhook`, `subscription` or `export`.
    pub via: &'static str,
    /// The communities whose contact the response holds so far.
    pub contacts: Arc<std::sync::Mutex<std::collections::BTreeSet<i64>>>,
}

impl RequestMeta {
    /// Notes that the response holds community `id`'s contact.
    pub fn returned(&self, id: i64) {
        if let Ok(mut contacts) = self.contacts.lock() {
            contacts.insert(id);
        }
    }

    /// The communities noted so far, emptied.
    pub fn take(&self) -> Vec<i64> {
        self.contacts.lock().map(|mut c| std::mem::take(&mut *c).into_iter().collect()).unwrap_or_default()
    }
}

enum Message {
    Read(Read),
    Flush(oneshot::Sender<()>),
}

/// The access log's writer, shared by every request of the process.
pub struct PiiLog {
    queue: mpsc::UnboundedSender<Message>,
}

impl PiiLog {
    /// Starts the writer on `store`.
    pub fn start(store: Store) -> Arc<PiiLog> {
        let (queue, inbox) = mpsc::unbounded_channel();
        tokio::spawn(write(store, inbox));
        Arc::new(PiiLog { queue })
    }

    /// Records that `actor` received the contacts of `communities` in the
    /// response to the request `meta` describes (nothing if there are none).
    pub fn record(&self, actor: &Actor, meta: &RequestMeta, communities: impl IntoIterator<Item = i64>) {
        let mut community_ids: Vec<i64> = communities.into_iter().collect();
        if community_ids.is_empty() {
            return;
        }
        community_ids.sort_unstable();
        community_ids.dedup();
        let read = Read {
            at: crate::store::now(),
            org_id: actor.org_id,
            subject: actor.subject.clone(),
            request_id: meta.request_id.clone(),
            operation: meta.operation.clone(),
            via: if meta.via.is_empty() { "graphql" } else { meta.via },
            community_ids,
            more: Vec::new(),
        };
        if self.queue.send(Message::Read(read)).is_err() {
            tracing::error!(request_id = %meta.request_id, "the personal-data access log's writer has stopped");
        }
    }

    /// Records the contacts `meta` collected while the request ran.
    pub fn record_collected(&self, actor: &Actor, meta: &RequestMeta) {
        self.record(actor, meta, meta.take());
    }

    /// Waits until everything recorded so far is stored.
    pub async fn flush(&self) {
        let (done, stored) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).is_ok() {
            let _ = stored.await;
        }
    }
}

/// How long the writer lets entries gather after the first of a batch, so
/// that under load one statement (and one commit) stores many.
const GATHER: std::time::Duration = std::time::Duration::from_millis(20);

/// The writer: stores what arrives, in batches, until every sender is gone.
async fn write(store: Store, mut inbox: mpsc::UnboundedReceiver<Message>) {
    let mut batch: Vec<Read> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = inbox.recv().await {
        // A flush is answered at once; entries wait a little for company.
        if matches!(first, Message::Read(_)) {
            tokio::time::sleep(GATHER).await;
        }
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Read(read) => batch.push(read),
                Message::Flush(done) => waiting.push(done),
            }
            if batch.len() < 500 {
                next = inbox.try_recv().ok();
            }
        }
        // Identical reads of the batch become one entry listing their requests.
        batch = crate::store::pii_log::merge(std::mem::take(&mut batch));
        while !batch.is_empty() {
            match crate::store::pii_log::insert(&store, &batch).await {
                Ok(()) => batch.clear(),
                Err(e) => {
                    tracing::warn!(
                        code = e.code(),
                        queued = batch.len(),
                        "storing personal-data reads failed; retrying"
                    );
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}
