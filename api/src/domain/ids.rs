//! Global ids: opaque, stable and unique across record types.
//!
//! An id is the URL-safe base64 of `Type:number`, so `node(id:)` can tell the
//! type from the id alone. Clients must treat ids as opaque strings.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::AppError;

/// The record types that have global ids (their GraphQL type names).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Organization,
    Community,
    Mou,
    Commitment,
    Programme,
    Curriculum,
    Enrolment,
    WebhookSubscription,
    Export,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 9] = [
        Kind::Organization,
        Kind::Community,
        Kind::Mou,
        Kind::Commitment,
        Kind::Programme,
        Kind::Curriculum,
        Kind::Enrolment,
        Kind::WebhookSubscription,
        Kind::Export,
    ];

    /// The GraphQL type name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Organization => "Organization",
            Kind::Community => "Community",
            Kind::Mou => "Mou",
            Kind::Commitment => "Commitment",
            Kind::Programme => "Programme",
            Kind::Curriculum => "Curriculum",
            Kind::Enrolment => "Enrolment",
            Kind::WebhookSubscription => "WebhookSubscription",
            Kind::Export => "Export",
        }
    }

    /// Whether records of this kind are shared records with change events
    /// (webhook subscriptions are an organisation's own settings, exports
    /// its own bulk reads).
    pub fn in_feed(self) -> bool {
        !matches!(self, Kind::WebhookSubscription | Kind::Export)
    }

    /// The kind named `name`, if any.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Encodes the global id of record `id` of `kind`.
pub fn encode(kind: Kind, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name()))
}

/// Decodes any global id into its kind and number, or `None` if it is not one of ours.
pub fn decode_any(global: &str) -> Option<(Kind, i64)> {
    if global.len() > 64 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(global).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let (name, number) = text.split_once(':')?;
    let id: i64 = number.parse().ok()?;
    (id > 0).then_some(())?;
    Some((Kind::from_name(name)?, id))
}

/// Decodes a global id that must be of `kind`; `field` names the input for the error.
pub fn decode(kind: Kind, global: &str, field: &str) -> Result<i64, AppError> {
    match decode_any(global) {
        Some((k, id)) if k == kind => Ok(id),
        _ => Err(AppError::bad_input(field, format!("not a {} id", kind.name()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_keep_their_kind() {
        let id = encode(Kind::Community, 42);
        assert_eq!(decode_any(&id), Some((Kind::Community, 42)));
        assert!(decode(Kind::Mou, &id, "id").is_err());
        assert_eq!(decode_any("not-an-id"), None);
        assert_eq!(decode_any(&URL_SAFE_NO_PAD.encode("Community:-1")), None);
    }
}
