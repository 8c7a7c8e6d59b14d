//! Trusted documents at request time: the registered operations and modes
//! of every organisation, held in memory and reloaded from the database
//! every few seconds (and at once after a change made through this
//! process), so checking a request never touches the database.
//!
//! For each operation of a request, [`TrustedDocuments::admit`]:
//! 1. reads `extensions.persistedQuery.sha256Hash` (Apollo's protocol) if
//!    given. A request with the hash alone gets its text from the
//!    organisation's registered documents, or else from the automatic
//!    persisted queries this process has seen run for that organisation;
//!    an unknown hash answers `PERSISTED_QUERY_NOT_FOUND`. A hash sent with
//!    the text must be the text's SHA-256;
//! 2. applies the organisation's mode: `OFF` runs anything valid; `LOG`
//!    runs unregistered operations and counts them (the metric
//!    `graphql_untrusted_operations_total`, a log line the first time, and
//!    the counts partners read in `operationPolicy.untrustedOperations`);
//!    `ENFORCE` refuses them with `PERSISTED_QUERY_NOT_IN_LIST`, unless the
//!    token has `operations:adhoc`, or has `operations:manage` and the
//!    operation only uses the registry's own fields (`LOG` does not count
//!    these either: it counts what `ENFORCE` would refuse).
//!
//! Nothing is hashed when the organisation's mode is `OFF` and the request
//! carries no hash.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use async_graphql::{Request, ServerError, Value};
use chrono::{DateTime, Utc};
use prometheus::IntCounterVec;

use crate::domain::access::{self, Actor};
use crate::domain::documents::{sha256_hex, short};
use crate::domain::enums::TrustedDocumentMode;
use crate::error::AppResult;
use crate::store::{Store, trusted_documents as store};

/// How often each process reloads the registry (changes made through another
/// replica take at most this long to apply here).
pub const REFRESH: std::time::Duration = std::time::Duration::from_secs(5);
/// The most automatic persisted queries kept per process (the cache is
/// emptied when full).
const APQ_CAPACITY: usize = 2_000;

/// The registry as loaded: modes and registered texts, by organisation.
#[derive(Default)]
struct Snapshot {
    modes: HashMap<i64, TrustedDocumentMode>,
    documents: HashMap<i64, HashMap<String, Arc<str>>>,
}

/// Counts of one unregistered operation since the last flush.
struct Seen {
    name: String,
    count: i64,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
}

/// The trusted documents of every organisation, as requests check them.
pub struct TrustedDocuments {
    snapshot: RwLock<Arc<Snapshot>>,
    apq: Mutex<HashMap<(i64, String), Arc<str>>>,
    seen: Mutex<HashMap<(i64, String), Seen>>,
    logged: Mutex<std::collections::HashSet<(i64, String)>>,
    untrusted: IntCounterVec,
}

/// A request error with `code`.
fn refusal(code: &str, message: impl Into<String>) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    error
}

/// The `sha256Hash` of a request's `extensions.persistedQuery`.
fn persisted_hash(request: &Request) -> Result<Option<String>, ServerError> {
    let Some(persisted) = request.extensions.get("persistedQuery") else { return Ok(None) };
    let hash = match persisted {
        Value::Object(fields) => fields.get("sha256Hash"),
        _ => None,
    };
    match hash.and_then(|h| match h {
        Value::String(h) => crate::domain::documents::normalize_hash(h),
        _ => None,
    }) {
        Some(hash) => Ok(Some(hash)),
        None => Err(refusal(
            "BAD_USER_INPUT",
            "extensions.persistedQuery needs sha256Hash: the hex SHA-256 of the document's text",
        )),
    }
}

/// The root fields of the trusted-document registry itself.
const REGISTRY_FIELDS: &[&str] =
    &["operationPolicy", "registerTrustedDocuments", "removeTrustedDocuments", "setOperationPolicy", "__typename"];

/// Whether the operation `request` runs selects only the registry's own
/// root fields (no fragments at its root).
fn manages_documents(request: &Request) -> bool {
    use async_graphql::parser::types::Selection;
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else { return false };
    crate::graphql::operation(&doc, request.operation_name.as_deref()).is_some_and(|op| {
        op.selection_set.node.items.iter().all(|s| match &s.node {
            Selection::Field(f) => REGISTRY_FIELDS.contains(&f.node.name.node.as_str()),
            _ => false,
        })
    })
}

/// Whether a request names a persisted query (then it may come without text).
pub fn has_persisted_hash(request: &Request) -> bool {
    request.extensions.contains_key("persistedQuery")
}

impl TrustedDocuments {
    /// An empty registry; `untrusted` counts unregistered operations by
    /// organisation, operation name and mode.
    pub fn new(untrusted: IntCounterVec) -> Self {
        TrustedDocuments {
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            apq: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashMap::new()),
            logged: Mutex::new(Default::default()),
            untrusted,
        }
    }

    /// Reloads every organisation's mode and documents from the database.
    pub async fn reload(&self, store: &Store) -> AppResult<()> {
        let (modes, docs) = store::load(store).await?;
        let mut documents: HashMap<i64, HashMap<String, Arc<str>>> = HashMap::new();
        for doc in docs {
            documents.entry(doc.organization_id).or_default().insert(doc.sha256, Arc::from(doc.body));
        }
        let snapshot = Arc::new(Snapshot { modes, documents });
        if let Ok(mut current) = self.snapshot.write() {
            *current = snapshot;
        }
        Ok(())
    }

    fn current(&self) -> Arc<Snapshot> {
        self.snapshot.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// The mode of organisation `org_id` as this process applies it.
    pub fn mode(&self, org_id: i64) -> TrustedDocumentMode {
        self.current().modes.get(&org_id).copied().unwrap_or(TrustedDocumentMode::Off)
    }

    /// Checks one operation of `actor`'s (named `operation`, for the counts)
    /// against its organisation's trusted documents, filling in its text
    /// when it came as a hash alone. An error is a request error: nothing
    /// ran.
    pub fn admit(&self, actor: &Actor, request: &mut Request, operation: Option<&str>) -> Result<(), ServerError> {
        let org = actor.org_id;
        let snapshot = self.current();
        let mode = snapshot.modes.get(&org).copied().unwrap_or(TrustedDocumentMode::Off);
        let registered = snapshot.documents.get(&org);
        let claimed = persisted_hash(request)?;
        let hash = match (&claimed, request.query.trim().is_empty()) {
            (Some(hash), true) => {
                if let Some(body) = registered.and_then(|docs| docs.get(hash)) {
                    request.query = body.to_string();
                    return Ok(());
                }
                let cached = self.apq.lock().ok().and_then(|apq| apq.get(&(org, hash.clone())).cloned());
                let Some(body) = cached else {
                    return Err(refusal("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound"));
                };
                request.query = body.to_string();
                hash.clone()
            }
            (Some(hash), false) => {
                let actual = sha256_hex(&request.query);
                if &actual != hash {
                    return Err(refusal(
                        "BAD_USER_INPUT",
                        "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query",
                    ));
                }
                actual
            }
            (None, _) if mode == TrustedDocumentMode::Off => return Ok(()),
            (None, _) => sha256_hex(&request.query),
        };
        if registered.is_some_and(|docs| docs.contains_key(&hash)) {
            return Ok(());
        }
        // LOG counts what ENFORCE would refuse: not what it lets through
        // (operations:adhoc; operations:manage on the registry's own fields).
        let exempt = || access::may_run_adhoc(actor, || manages_documents(request));
        match mode {
            TrustedDocumentMode::Off => {}
            _ if exempt() => {}
            TrustedDocumentMode::Log => self.note(actor, &hash, operation, mode),
            TrustedDocumentMode::Enforce => {
                self.note(actor, &hash, operation, mode);
                return Err(refusal(
                    "PERSISTED_QUERY_NOT_IN_LIST",
                    format!(
                        "your organisation runs registered operations only, and this one ({}) is not registered: \
                         register it (operations:manage), or use a token with operations:adhoc",
                        short(&hash)
                    ),
                ));
            }
        }
        // Automatic persisted queries: a text that ran with its hash can be
        // sent as the hash alone afterwards (by the same organisation).
        if claimed.is_some()
            && let Ok(mut apq) = self.apq.lock()
        {
            if apq.len() >= APQ_CAPACITY {
                apq.clear();
            }
            apq.insert((org, hash), Arc::from(request.query.as_str()));
        }
        Ok(())
    }

    /// Counts an unregistered operation: in the metric, in the counts flushed
    /// to the database, and in the log the first time this process sees it.
    fn note(&self, actor: &Actor, hash: &str, operation: Option<&str>, mode: TrustedDocumentMode) {
        let name = operation.unwrap_or("anonymous");
        let label = crate::http::metrics::label(operation);
        self.untrusted.with_label_values(&[actor.org_code.as_str(), label.as_str(), mode.as_str()]).inc();
        let key = (actor.org_id, hash.to_owned());
        if let Ok(mut logged) = self.logged.lock()
            && logged.insert(key.clone())
        {
            tracing::warn!(
                org = %actor.org_code, sub = %actor.subject, operation = name, sha256 = hash, mode = mode.as_str(),
                "an operation the organisation has not registered"
            );
        }
        let at = crate::store::now();
        if let Ok(mut seen) = self.seen.lock() {
            let entry = seen.entry(key).or_insert_with(|| Seen {
                name: name.chars().take(200).collect(),
                count: 0,
                first: at,
                last: at,
            });
            entry.count += 1;
            entry.last = at;
        }
    }

    /// Writes the counts noted since the last flush to the database.
    pub async fn flush(&self, store: &Store) -> AppResult<()> {
        let seen: Vec<store::Seen> = match self.seen.lock() {
            Ok(mut seen) => {
                seen.drain().map(|((org, hash), s)| (org, hash, s.name, s.count, s.first, s.last)).collect()
            }
            Err(_) => return Ok(()),
        };
        if seen.is_empty() {
            return Ok(());
        }
        store::add_untrusted(store, seen).await
    }

    /// Reloads and flushes every [`REFRESH`], for as long as the process runs.
    pub fn spawn_refresh(self: Arc<Self>, store: Store) {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(REFRESH);
            loop {
                every.tick().await;
                if let Err(e) = self.flush(&store).await {
                    tracing::warn!(code = e.code(), "writing the counts of unregistered operations failed");
                }
                if let Err(e) = self.reload(&store).await {
                    tracing::warn!(code = e.code(), "reloading the trusted documents failed");
                }
            }
        });
    }
}
