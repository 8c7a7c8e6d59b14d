//! The one error type of the service, and its error policy.
//!
//! Policy:
//! - Every failure a client can cause is a variant with a stable
//!   `extensions.code` (see `code()`), and a message written for the client.
//! - `Internal` carries the cause for the server log only. It is logged once,
//!   at the GraphQL boundary, with the request id; the client sees just
//!   "internal error" and that request id.
//! - Database errors never reach a client as text: `From<DbErr>` maps the
//!   few that mean something to a client (a unique key taken, a foreign key
//!   broken, the database being unreachable) and makes the rest `Internal`.

use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// A failure, as the client will see it.
#[derive(Debug, Clone)]
pub enum AppError {
    /// No token, or a token that fails verification.
    Unauthenticated(String),
    /// A valid token that does not allow this.
    Forbidden(String),
    /// No such record (or none the caller may see).
    NotFound(String),
    /// Input that breaks a rule; `field` names the offending input field.
    BadInput { field: String, message: String },
    /// A stale `expectedVersion`, a taken unique code, a reused idempotency key.
    Conflict(String),
    /// The database cannot be reached right now; the client may retry.
    Unavailable(String),
    /// Anything else. The text is for the server log only.
    Internal(String),
}

impl AppError {
    /// The `extensions.code` the client receives.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BadInput { .. } => "BAD_USER_INPUT",
            AppError::Conflict(_) => "CONFLICT",
            AppError::Unavailable(_) => "SERVICE_UNAVAILABLE",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    /// A `BAD_USER_INPUT` error about `field`.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadInput { field: field.into(), message: message.into() }
    }

    /// A `FORBIDDEN` error.
    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden(message.into())
    }

    /// A `NOT_FOUND` error.
    pub fn not_found(message: impl Into<String>) -> Self {
        AppError::NotFound(message.into())
    }

    /// A `CONFLICT` error.
    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict(message.into())
    }

    /// An `INTERNAL` error whose cause is only logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                return AppError::conflict("a record with the same unique key already exists");
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                return AppError::bad_input("input", "a referenced record does not exist");
            }
            _ => {}
        }
        match &err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(RuntimeErr::SqlxError(_)) => {
                AppError::Unavailable(err.to_string())
            }
            _ => AppError::Internal(err.to_string()),
        }
    }
}

impl AppError {
    /// The message the client sees. For `Internal` it is generic: the cause is only logged.
    pub fn message(&self) -> String {
        match self {
            AppError::Unauthenticated(m) | AppError::Forbidden(m) | AppError::NotFound(m) | AppError::Conflict(m) => {
                m.clone()
            }
            AppError::BadInput { message, .. } => message.clone(),
            AppError::Unavailable(_) => "the database is unavailable; retry later".to_owned(),
            AppError::Internal(_) => "internal error".to_owned(),
        }
    }
}

/// Converts to a GraphQL error with `extensions.code` (and `extensions.field`
/// for bad input). AppError deliberately does not implement `Display`, so
/// async-graphql's blanket `From<T: Display>` (which would drop the code and
/// could leak internal text) can never be picked by `?`.
impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        match &err {
            AppError::Internal(cause) | AppError::Unavailable(cause) => {
                tracing::error!(code = err.code(), cause = %cause, "request failed");
            }
            _ => {}
        }
        let code = err.code();
        let field = match &err {
            AppError::BadInput { field, .. } => Some(field.clone()),
            _ => None,
        };
        use async_graphql::ErrorExtensions;
        async_graphql::Error::new(err.message()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(field) = &field {
                ext.set("field", field.as_str());
            }
        })
    }
}

/// The result type of everything below the GraphQL boundary.
pub type AppResult<T> = Result<T, AppError>;
