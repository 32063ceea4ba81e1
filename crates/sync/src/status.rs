//! What the UI shows about sync: the connection state, the pending count, and for a failure
//! the text and actions of the integration spec's §8.4, adapted to the Dreamcatcher service.

use dreamcatcher_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::protocol::ErrorCode;

/// The connection as the user sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "failure", rename_all = "snake_case")]
pub enum ConnectionState {
    /// Not trying: the browser reports no network, or sync has not been started.
    Offline,
    /// Opening a connection or waiting for the service's `welcome`.
    Connecting,
    /// Connected, receiving missed events or sending the outbox.
    Syncing,
    /// Connected, up to date, nothing waiting to be sent.
    Connected,
    /// The last attempt failed; the status says when the next one is (if automatic).
    Error(FailureKind),
}

/// Why the service could not be reached, in the spec's four kinds plus a version mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Nothing answered at the service's address.
    ServerNotRunning,
    /// The network failed: unreachable, timed out, or the connection went silent.
    Network,
    /// The service refused the device token.
    Authentication,
    /// The service answered but cannot serve now.
    Unavailable,
    /// The service and this extension speak no common protocol version.
    UnsupportedVersion,
}

/// A button the UI can offer with a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestedAction {
    RetryConnection,
    CheckServiceRunning,
    CheckNetworkSettings,
    WorkOffline,
    Reauthorize,
    CheckLoginStatus,
    ContactSupport,
    RetryLater,
    CheckSystemStatus,
    UpdateExtension,
}

impl SuggestedAction {
    pub fn label(self) -> &'static str {
        match self {
            SuggestedAction::RetryConnection => "Retry Connection",
            SuggestedAction::CheckServiceRunning => "Check if PipelineOS is running",
            SuggestedAction::CheckNetworkSettings => "Check Network Settings",
            SuggestedAction::WorkOffline => "Work Offline",
            SuggestedAction::Reauthorize => "Re-authorize Connection",
            SuggestedAction::CheckLoginStatus => "Check PipelineOS Login Status",
            SuggestedAction::ContactSupport => "Contact Support",
            SuggestedAction::RetryLater => "Retry in a few moments",
            SuggestedAction::CheckSystemStatus => "Check System Status",
            SuggestedAction::UpdateExtension => "Update Dreamcatcher",
        }
    }
}

impl FailureKind {
    pub fn title(self) -> &'static str {
        match self {
            FailureKind::ServerNotRunning => "PipelineOS not running",
            FailureKind::Network => "Network connectivity issue",
            FailureKind::Authentication => "Authentication failed",
            FailureKind::Unavailable => "Service unavailable",
            FailureKind::UnsupportedVersion => "Update needed",
        }
    }

    pub fn user_message(self) -> &'static str {
        match self {
            FailureKind::ServerNotRunning => {
                "Could not connect to the Dreamcatcher service. Please ensure PipelineOS is \
                 running to sync your dreams. Your captures are kept on this device and will \
                 sync when it is back."
            }
            FailureKind::Network => {
                "Unable to reach the Dreamcatcher service due to network connectivity. \
                 Checking your network connection and firewall settings may resolve this \
                 issue. Your captures are kept on this device."
            }
            FailureKind::Authentication => {
                "Authentication with PipelineOS failed. Please check your PipelineOS \
                 credentials or re-authorize this browser."
            }
            FailureKind::Unavailable => {
                "The Dreamcatcher sync service is temporarily unavailable. Capturing and \
                 searching keep working on this device."
            }
            FailureKind::UnsupportedVersion => {
                "This version of Dreamcatcher cannot sync with your PipelineOS service. \
                 Please update the extension; your captures are kept on this device."
            }
        }
    }

    pub fn suggested_actions(self) -> &'static [SuggestedAction] {
        use SuggestedAction::*;
        match self {
            FailureKind::ServerNotRunning => &[CheckServiceRunning, RetryConnection, WorkOffline],
            FailureKind::Network => &[RetryConnection, CheckNetworkSettings, WorkOffline],
            FailureKind::Authentication => &[Reauthorize, CheckLoginStatus, ContactSupport],
            FailureKind::Unavailable => &[RetryLater, CheckSystemStatus, WorkOffline],
            FailureKind::UnsupportedVersion => &[UpdateExtension, WorkOffline],
        }
    }

    /// Whether the client keeps retrying by itself. After an authentication or version
    /// failure retrying cannot help: it waits for the user (a new token, `retry_now`).
    pub fn retries_automatically(self) -> bool {
        !matches!(
            self,
            FailureKind::Authentication | FailureKind::UnsupportedVersion
        )
    }

    /// The kind for what the transport saw.
    pub fn from_transport(failure: TransportFailure) -> Self {
        match failure {
            TransportFailure::Refused => FailureKind::ServerNotRunning,
            TransportFailure::Unreachable | TransportFailure::TimedOut => FailureKind::Network,
            TransportFailure::HttpStatus { status: 401 | 403 } => FailureKind::Authentication,
            TransportFailure::HttpStatus { status: 404 } => FailureKind::ServerNotRunning,
            TransportFailure::HttpStatus { status: 500..=599 } => FailureKind::Unavailable,
            TransportFailure::HttpStatus { .. } => FailureKind::Network,
            TransportFailure::Closed { code } => match code {
                1008 | 4401 | 4403 => FailureKind::Authentication,
                1011..=1014 => FailureKind::Unavailable,
                _ => FailureKind::Network,
            },
        }
    }

    /// The kind for an `error` message that ends the connection; `None` for the codes after
    /// which it stays up.
    pub fn from_error_code(code: ErrorCode) -> Option<Self> {
        match code {
            ErrorCode::AuthenticationFailed => Some(FailureKind::Authentication),
            ErrorCode::UnsupportedVersion => Some(FailureKind::UnsupportedVersion),
            ErrorCode::Unavailable => Some(FailureKind::Unavailable),
            _ => None,
        }
    }
}

/// How a connection ended or failed, as the driver observed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TransportFailure {
    /// Connection refused: nothing listens at the address.
    Refused,
    /// No route, DNS failure, the browser is offline.
    Unreachable,
    TimedOut,
    /// The WebSocket upgrade was answered with this HTTP status (native clients only: a
    /// browser reports every failed upgrade as close code 1006).
    HttpStatus {
        status: u16,
    },
    /// The WebSocket closed with this close code.
    Closed {
        code: u16,
    },
}

/// Everything the UI shows about sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub state: ConnectionState,
    /// Operations recorded but not yet acknowledged by the service.
    pub pending_operations: usize,
    /// When the device was last known to be fully in sync.
    pub last_synced_at: Option<Timestamp>,
    /// When the next automatic connection attempt is due.
    pub next_retry_at: Option<Timestamp>,
}
