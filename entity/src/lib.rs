//! sea-orm entities of the partner records: the storage shape only.
//!
//! The storage shape and the API shape change separately: no GraphQL
//! object lives here. The one exception is the closed vocabularies
//! ([`vocabulary`]): each is a column type (stored as its name, in text)
//! and, with the `graphql` feature, the GraphQL enum of the same names.

pub mod audit_purge;
pub mod change_event;
pub mod commitment;
pub mod community;
pub mod community_award;
pub mod curriculum;
pub mod curriculum_contributor;
pub mod curriculum_model_community;
pub mod curriculum_module;
pub mod enrolment;
pub mod enrolment_transition;
pub mod export;
pub mod idempotency_key;
pub mod mou;
pub mod mou_party;
pub mod operation_policy;
pub mod organization;
pub mod pii_access;
pub mod programme;
pub mod programme_curriculum;
pub mod programme_partner;
pub mod province;
pub mod trusted_document;
pub mod untrusted_operation;
pub mod vocabulary;
pub mod webhook_delivery;
pub mod webhook_subscription;
