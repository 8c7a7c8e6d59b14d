//! Black-box tests: the real service over HTTP, on SQLite and PostgreSQL.

mod access;
mod aggregates;
mod analysts_doc;
mod audit;
mod batching;
mod changes;
mod communities;
mod enrolments;
mod erasure;
mod exports;
mod field_errors;
mod import;
mod issuers;
mod limits;
mod matrix;
mod mous;
mod over_http;
mod pagination;
mod pii_log;
mod planned;
mod programmes;
mod service;
mod thai_text;
mod trusted_documents;
mod webhooks;
