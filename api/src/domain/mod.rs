//! Rules and validated types of the partner records. No I/O here: the store
//! and the GraphQL layer call into this module, never the other way round.

pub mod access;
pub mod commands;
pub mod documents;
pub mod enums;
pub mod ids;
pub mod lifecycle;
pub mod regions;
pub mod search_key;
pub mod text;
