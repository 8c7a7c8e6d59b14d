//! Trusted documents: an organisation's registered operations and its mode
//! (`operations:manage`). See `docs/governance.md`.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{operation_policy, trusted_document, untrusted_operation};

use super::connection::{self, connection};
use super::context::Ctx;
use crate::domain::access::{self, Actor};
use crate::domain::documents;
use crate::domain::enums::TrustedDocumentMode;
use crate::error::{AppError, AppResult};
use crate::governance::documents::TrustedDocuments;
use crate::store::trusted_documents as store;

/// An operation the caller's organisation registered: requests may send its
/// text, or its hash alone (`extensions.persistedQuery.sha256Hash`).
#[derive(Clone)]
pub struct TrustedDocument(pub Arc<trusted_document::Model>);

/// An operation the caller's organisation registered: requests may send its
/// text, or its hash alone (`extensions.persistedQuery.sha256Hash`).
#[Object]
impl TrustedDocument {
    /// The lower-case hex SHA-256 of `body`.
    async fn sha256_hash(&self) -> &str {
        &self.0.sha256
    }
    /// The names of its operations (empty for one anonymous operation).
    async fn operation_names(&self) -> Vec<String> {
        self.0.operation_names.split_whitespace().map(str::to_owned).collect()
    }
    /// The document's exact text.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// When it was registered.
    async fn registered_at(&self) -> DateTime<Utc> {
        self.0.registered_at
    }
    /// Who registered it (the token's `sub`, or the command line's).
    async fn registered_by(&self) -> &str {
        &self.0.registered_by
    }
}

connection!(
    TrustedDocumentConnection,
    TrustedDocumentEdge,
    TrustedDocument,
    trusted_document::Entity,
    "trusted documents"
);

/// An operation the caller's organisation sent without having registered it
/// (counted in modes `LOG` and `ENFORCE`): what to register before
/// enforcing.
#[derive(SimpleObject)]
pub struct UntrustedOperation {
    /// The SHA-256 of its text.
    pub sha256_hash: String,
    /// Its operation name, as sent ("anonymous" when it had none).
    pub operation_name: String,
    /// How many times it was sent (counted every few seconds).
    pub count: i32,
    /// When it was first sent.
    pub first_seen_at: DateTime<Utc>,
    /// When it was last sent.
    pub last_seen_at: DateTime<Utc>,
}

impl From<untrusted_operation::Model> for UntrustedOperation {
    fn from(m: untrusted_operation::Model) -> Self {
        UntrustedOperation {
            sha256_hash: m.sha256,
            operation_name: m.operation_name,
            count: i32::try_from(m.count).unwrap_or(i32::MAX),
            first_seen_at: m.first_seen_at,
            last_seen_at: m.last_seen_at,
        }
    }
}

/// Whether the caller's organisation runs registered operations only, and
/// what it has registered.
pub struct OperationPolicy {
    org_id: i64,
    row: Option<operation_policy::Model>,
}

/// Whether the caller's organisation runs registered operations only, and
/// what it has registered.
#[Object]
impl OperationPolicy {
    /// The mode: `OFF`, `LOG` or `ENFORCE`.
    async fn mode(&self) -> TrustedDocumentMode {
        self.row.as_ref().map_or(TrustedDocumentMode::Off, |r| r.mode)
    }
    /// When the mode was last set; null if never.
    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.row.as_ref().map(|r| r.updated_at)
    }
    /// Who last set the mode; null if never.
    async fn updated_by(&self) -> Option<&str> {
        self.row.as_ref().map(|r| r.updated_by.as_str())
    }
    /// The registered documents, in registration order.
    async fn documents(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<TrustedDocumentConnection> {
        let args = connection::args(first, after, last, before);
        let page = store::page(ctx.store()?, self.org_id, &args).await?;
        Ok(TrustedDocumentConnection::new(page, store::registered(self.org_id)))
    }
    /// The operations sent without being registered, most recently sent
    /// first (at most `first`, default 50, at most 500).
    async fn untrusted_operations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<UntrustedOperation>> {
        if !(0..=500).contains(&first) {
            return Err(AppError::bad_input("first", "first must be between 0 and 500").into());
        }
        // This process's counts since its last flush are written first.
        registry(ctx)?.flush(ctx.store()?).await?;
        let rows = store::untrusted(ctx.store()?, self.org_id, first as u64).await?;
        Ok(rows.into_iter().map(UntrustedOperation::from).collect())
    }
}

/// The caller's organisation's policy.
async fn policy(ctx: &Context<'_>, actor: &Actor) -> AppResult<OperationPolicy> {
    Ok(OperationPolicy { org_id: actor.org_id, row: store::policy(ctx.store()?, actor.org_id).await? })
}

/// The registry this process serves from.
fn registry<'a>(ctx: &'a Context<'_>) -> AppResult<&'a Arc<TrustedDocuments>> {
    ctx.data::<Arc<TrustedDocuments>>().map_err(|_| AppError::internal("no trusted-document registry"))
}

/// Reloads the registry after a change made through this process.
async fn reload(ctx: &Context<'_>) -> AppResult<()> {
    registry(ctx)?.reload(ctx.store()?).await
}

/// The `operationPolicy` root field.
#[derive(Default)]
pub struct TrustedDocumentQuery;

/// The `operationPolicy` root field.
#[Object]
impl TrustedDocumentQuery {
    /// The caller's organisation's trusted documents and mode
    /// (`operations:manage`).
    async fn operation_policy(&self, ctx: &Context<'_>) -> Result<OperationPolicy> {
        let actor = ctx.actor()?;
        access::may_manage_operations(actor)?;
        Ok(policy(ctx, actor).await?)
    }
}

/// Documents to register: a manifest or a `.graphql` file's text (exactly
/// one of the two).
#[derive(InputObject)]
pub struct RegisterTrustedDocumentsInput {
    /// The text of a manifest: the `persisted-documents.json` that GraphQL
    /// Code Generator's client preset writes (an object of SHA-256 to
    /// document), or an Apollo persisted-query manifest. Every hash is
    /// checked against its document.
    pub manifest: Option<String>,
    /// The text of a `.graphql` file, registered as one document (clients
    /// send its hash, or its text, with an `operationName`).
    pub document: Option<String>,
}

/// What a registration did.
#[derive(SimpleObject)]
pub struct RegisterTrustedDocumentsPayload {
    /// The documents newly registered (or registered again after removal).
    pub registered: Vec<TrustedDocument>,
    /// How many of the given documents were already registered.
    pub already_registered: i32,
}

/// Hashes of documents to remove.
#[derive(InputObject)]
pub struct RemoveTrustedDocumentsInput {
    /// The SHA-256 hashes (hex, optionally prefixed `sha256:`) to remove.
    pub sha256_hashes: Vec<String>,
}

/// What a removal did.
#[derive(SimpleObject)]
pub struct RemoveTrustedDocumentsPayload {
    /// How many registered documents were removed.
    pub removed: i32,
}

/// A new mode for the caller's organisation.
#[derive(InputObject)]
pub struct SetOperationPolicyInput {
    /// `OFF`, `LOG` or `ENFORCE`.
    pub mode: TrustedDocumentMode,
}

/// The documents a registration input holds, validated.
pub fn documents_of(input: &RegisterTrustedDocumentsInput) -> AppResult<Vec<documents::Document>> {
    match (&input.manifest, &input.document) {
        (Some(manifest), None) => documents::manifest(manifest),
        (None, Some(text)) => Ok(vec![documents::document(text, None, "document")?]),
        _ => Err(AppError::bad_input("input", "give exactly one of `manifest` and `document`")),
    }
}

/// Trusted-document mutations.
#[derive(Default)]
pub struct TrustedDocumentMutation;

/// Trusted-document mutations.
#[Object]
impl TrustedDocumentMutation {
    /// Registers operations for the caller's organisation
    /// (`operations:manage`). Registering a registered document again
    /// changes nothing, so a client's build can register its manifest on
    /// every deploy.
    async fn register_trusted_documents(
        &self,
        ctx: &Context<'_>,
        input: RegisterTrustedDocumentsInput,
    ) -> Result<RegisterTrustedDocumentsPayload> {
        let actor = ctx.actor()?;
        access::may_manage_operations(actor)?;
        let docs = documents_of(&input)?;
        let (added, already) = store::register(ctx.store()?, actor.org_id, &actor.subject, &docs).await?;
        reload(ctx).await?;
        Ok(RegisterTrustedDocumentsPayload {
            registered: added.into_iter().map(|m| TrustedDocument(Arc::new(m))).collect(),
            already_registered: i32::try_from(already).unwrap_or(i32::MAX),
        })
    }

    /// Removes registered operations of the caller's organisation
    /// (`operations:manage`); unknown hashes are ignored. The records are
    /// kept, marked removed.
    async fn remove_trusted_documents(
        &self,
        ctx: &Context<'_>,
        input: RemoveTrustedDocumentsInput,
    ) -> Result<RemoveTrustedDocumentsPayload> {
        let actor = ctx.actor()?;
        access::may_manage_operations(actor)?;
        let mut hashes = Vec::with_capacity(input.sha256_hashes.len());
        for hash in &input.sha256_hashes {
            match documents::normalize_hash(hash) {
                Some(hash) => hashes.push(hash),
                None => return Err(AppError::bad_input("sha256Hashes", format!("{hash} is not a hex SHA-256")).into()),
            }
        }
        documents::check_count(hashes.len())?;
        let removed = store::remove(ctx.store()?, actor.org_id, &actor.subject, &hashes).await?;
        reload(ctx).await?;
        Ok(RemoveTrustedDocumentsPayload { removed: i32::try_from(removed).unwrap_or(i32::MAX) })
    }

    /// Sets the caller's organisation's mode (`operations:manage`). Other
    /// replicas apply it within seconds.
    async fn set_operation_policy(&self, ctx: &Context<'_>, input: SetOperationPolicyInput) -> Result<OperationPolicy> {
        let actor = ctx.actor()?;
        access::may_manage_operations(actor)?;
        let row = store::set_mode(ctx.store()?, actor.org_id, &actor.subject, input.mode).await?;
        reload(ctx).await?;
        Ok(OperationPolicy { org_id: actor.org_id, row: Some(row) })
    }
}
