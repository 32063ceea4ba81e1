//! Checks on the settings form before they are stored.

use crate::api::{ApiError, ErrorCode, Mode, Settings};

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidRequest, message)
}

/// Accepts the settings or names the field that is wrong and why.
pub fn validate(settings: &Settings) -> Result<(), ApiError> {
    if let Some(url) = settings
        .server_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        validate_server_url(url)?;
    } else if settings.mode == Mode::Connected {
        return Err(invalid(
            "server_url: connected mode needs the PipelineOS server's address.",
        ));
    }
    if settings.capture_sites.is_empty() {
        return Err(invalid(
            "capture_sites: choose at least one site, or the capture button appears nowhere.",
        ));
    }
    Ok(())
}

fn validate_server_url(url: &str) -> Result<(), ApiError> {
    let (secure, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        _ => {
            return Err(invalid(format!(
                "server_url: {url:?} must start with https:// (or http:// for localhost)."
            )));
        }
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '@') {
        return Err(invalid(format!(
            "server_url: {url:?} has no valid host name."
        )));
    }
    let local = host == "localhost" || host == "::1" || host.starts_with("127.");
    if !secure && !local {
        return Err(invalid(format!(
            "server_url: {url:?} must use https:// (plain http:// is allowed for localhost only)."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: &str) -> Settings {
        Settings {
            mode: Mode::Connected,
            server_url: Some(url.into()),
            ..Settings::default()
        }
    }

    #[test]
    fn server_url_must_be_https_except_on_localhost() {
        assert!(validate(&with_url("https://pipeline.example.org")).is_ok());
        assert!(validate(&with_url("http://localhost:8080/api")).is_ok());
        assert!(validate(&with_url("http://[::1]:9000")).is_ok());
        let error = validate(&with_url("http://pipeline.example.org")).unwrap_err();
        assert!(
            error.message.starts_with("server_url:"),
            "{}",
            error.message
        );
        assert!(validate(&with_url("ftp://x")).is_err());
        assert!(validate(&with_url("https://")).is_err());
    }

    #[test]
    fn connected_mode_needs_a_server_and_some_site() {
        let connected = Settings {
            mode: Mode::Connected,
            ..Settings::default()
        };
        assert!(validate(&connected).is_err());
        assert!(validate(&Settings::default()).is_ok());
        let no_sites = Settings {
            capture_sites: Vec::new(),
            ..Settings::default()
        };
        assert!(validate(&no_sites).is_err());
    }
}
