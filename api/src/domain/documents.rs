//! Trusted documents, as data: what a registered operation is, how its hash
//! is made, and how the manifests partners bring are read. No I/O here.
//!
//! A document is identified by the lower-case hex SHA-256 of its exact text
//! (UTF-8 bytes), as GraphQL Code Generator's client preset and Apollo's
//! persisted queries hash it: a client sends that hash in
//! `extensions.persistedQuery.sha256Hash`, with or without the text.

use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// The most documents one registration may hold.
pub const MAX_PER_REGISTRATION: usize = 1_000;
/// The longest document text accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A document ready to register: its hash, its text, and the names of its
/// operations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Lower-case hex SHA-256 of `body`.
    pub sha256: String,
    /// The exact text clients send (or that the hash stands for).
    pub body: String,
    /// The names of its operations (an anonymous operation has none).
    pub operation_names: Vec<String>,
}

/// The lower-case hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Whether `text` looks like a SHA-256 in hex (64 hex digits).
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A hash as clients and manifests write it (64 hex digits, optionally
/// prefixed `sha256:` as in GraphQL over HTTP's persisted documents, which
/// GraphQL Code Generator's client preset follows), in the stored form:
/// lower-case hex without the prefix. `None` if it is not one.
pub fn normalize_hash(text: &str) -> Option<String> {
    let hex = text.strip_prefix("sha256:").unwrap_or(text);
    is_sha256_hex(hex).then(|| hex.to_ascii_lowercase())
}

/// A document from its text: it must parse as GraphQL and hold at least one
/// operation. `claimed`, when given, must be its hash.
pub fn document(body: &str, claimed: Option<&str>, field: &str) -> AppResult<Document> {
    if body.len() > MAX_BODY_BYTES {
        return Err(AppError::bad_input(field, format!("a document may be at most {MAX_BODY_BYTES} bytes")));
    }
    let sha256 = sha256_hex(body);
    if let Some(claimed) = claimed
        && normalize_hash(claimed).as_deref() != Some(sha256.as_str())
    {
        return Err(AppError::bad_input(
            field,
            format!("the hash {claimed} is not the SHA-256 of its document (that is {sha256})"),
        ));
    }
    let parsed = async_graphql::parser::parse_query(body)
        .map_err(|e| AppError::bad_input(field, format!("document {} is not GraphQL: {e}", short(&sha256))))?;
    let operation_names: Vec<String> = match &parsed.operations {
        async_graphql::parser::types::DocumentOperations::Single(_) => Vec::new(),
        async_graphql::parser::types::DocumentOperations::Multiple(ops) => {
            let mut names: Vec<String> = ops.keys().map(|n| n.to_string()).collect();
            names.sort();
            names
        }
    };
    Ok(Document { sha256, body: body.to_owned(), operation_names })
}

/// The documents of a manifest: the `persisted-documents.json` that GraphQL
/// Code Generator's client preset writes (an object of hash to text), or an
/// Apollo persisted-query manifest (`{"format":
/// "apollo-persisted-query-manifest", "operations": [{"id", "body"}]}`).
/// Every hash is checked against its text.
pub fn manifest(text: &str) -> AppResult<Vec<Document>> {
    const FIELD: &str = "manifest";
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| AppError::bad_input(FIELD, format!("the manifest is not JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err(AppError::bad_input(FIELD, "the manifest must be a JSON object"));
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    if object.get("format").and_then(|f| f.as_str()) == Some("apollo-persisted-query-manifest") {
        let Some(operations) = object.get("operations").and_then(|o| o.as_array()) else {
            return Err(AppError::bad_input(FIELD, "an Apollo manifest needs an `operations` array"));
        };
        for op in operations {
            match (op.get("id").and_then(|v| v.as_str()), op.get("body").and_then(|v| v.as_str())) {
                (Some(id), Some(body)) => pairs.push((id.to_owned(), body.to_owned())),
                _ => return Err(AppError::bad_input(FIELD, "each operation needs an `id` and a `body`")),
            }
        }
    } else {
        for (hash, body) in object {
            let Some(body) = body.as_str() else {
                return Err(AppError::bad_input(FIELD, format!("the entry {hash} is not a string")));
            };
            pairs.push((hash.clone(), body.to_owned()));
        }
    }
    if pairs.is_empty() {
        return Err(AppError::bad_input(FIELD, "the manifest holds no documents"));
    }
    check_count(pairs.len())?;
    pairs.iter().map(|(hash, body)| document(body, Some(hash), FIELD)).collect()
}

/// `BAD_USER_INPUT` past [`MAX_PER_REGISTRATION`] documents.
pub fn check_count(n: usize) -> AppResult<()> {
    if n > MAX_PER_REGISTRATION {
        return Err(AppError::bad_input(
            "manifest",
            format!("one registration may hold at most {MAX_PER_REGISTRATION} documents; this one has {n}"),
        ));
    }
    Ok(())
}

/// The first 12 digits of a hash, for messages.
pub fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_codegen_manifest_is_read_and_its_hashes_checked() {
        let body = "query Tiers { communitiesByTier { tier count } }";
        let hash = sha256_hex(body);
        let docs = manifest(&serde_json::json!({ format!("sha256:{hash}"): body }).to_string()).expect("valid");
        assert_eq!(docs, vec![Document { sha256: hash, body: body.into(), operation_names: vec!["Tiers".into()] }]);
        let wrong = serde_json::json!({ "0".repeat(64): body }).to_string();
        assert_eq!(manifest(&wrong).expect_err("refused").code(), "BAD_USER_INPUT");
    }

    #[test]
    fn an_apollo_manifest_is_read() {
        let body = "query A { __typename }";
        let text = serde_json::json!({
            "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": sha256_hex(body), "body": body, "name": "A", "type": "query" }],
        });
        assert_eq!(manifest(&text.to_string()).expect("valid").len(), 1);
    }

    #[test]
    fn text_that_is_not_graphql_is_refused() {
        assert_eq!(document("query {", None, "document").expect_err("refused").code(), "BAD_USER_INPUT");
        assert_eq!(manifest("[]").expect_err("refused").code(), "BAD_USER_INPUT");
        assert_eq!(manifest("{}").expect_err("refused").code(), "BAD_USER_INPUT");
    }
}
