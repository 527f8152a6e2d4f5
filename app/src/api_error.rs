//! The error value that crosses the server-function boundary: the same
//! `code`, `message` and `field` the REST API sends in its one error shape,
//! so a page shows a field's error next to its input and branches on
//! `code`, never on the words of the message.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The machine-readable code of the REST error shape
    /// (`validation_failed`, `unauthenticated`, `conflict`, …).
    pub code: String,
    pub message: String,
    /// The input the error is about, when there is one.
    pub field: Option<String>,
}

/// The code of an error raised by the transport itself (the request never
/// reached the operation, or its answer could not be read).
pub const TRANSPORT_FAILED: &str = "transport_failed";

impl ApiError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError { code: code.into(), message: message.into(), field: None }
    }

    /// A form value that could not be read, named by its input.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError { code: "validation_failed".into(), message: message.into(), field: Some(field.into()) }
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new("not_found", format!("{what} not found"))
    }

    /// The visitor has to sign in first: pages offer the log-in link.
    pub fn needs_sign_in(&self) -> bool {
        self.code == "unauthenticated"
    }

    /// This error's message when it is about `field`.
    pub fn message_for(&self, field: &str) -> Option<&str> {
        (self.field.as_deref() == Some(field)).then_some(self.message.as_str())
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let code = match &value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => "bad_request",
            ServerFnErrorErr::ServerError(_) | ServerFnErrorErr::MiddlewareError(_) | ServerFnErrorErr::Response(_) => "internal_error",
            _ => TRANSPORT_FAILED,
        };
        ApiError::new(code, value.to_string())
    }
}

#[cfg(feature = "ssr")]
mod from_server {
    use super::ApiError;
    use crate::error::AppError;

    impl From<AppError> for ApiError {
        fn from(error: AppError) -> ApiError {
            if error.status().is_server_error() {
                tracing::error!(error = %error, "server function failed");
            }
            ApiError { code: error.code().to_string(), message: error.public_message(), field: error.field().map(str::to_string) }
        }
    }

    impl From<sqlx::Error> for ApiError {
        fn from(error: sqlx::Error) -> ApiError {
            AppError::from(error).into()
        }
    }
}
