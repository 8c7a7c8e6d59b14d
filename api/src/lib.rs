//! The partner records service: a GraphQL API through which the partners of
//! the MOUs share communities, MOUs, programmes, curricula and enrolments.
//!
//! Layers, top to bottom: `http` (router, endpoint, health), `auth` (bearer
//! tokens), `graphql` (one module per domain), `store` (all database
//! access), `domain` (rules and validated types, no I/O). `config` is read
//! once at start-up; `app` wires them together; `cli` is the command line.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod exports;
pub mod feed;
pub mod governance;
pub mod graphql;
pub mod http;
pub mod import;
pub mod store;
pub mod telemetry;
pub mod webhooks;
