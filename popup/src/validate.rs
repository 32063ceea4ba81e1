//! Checks on what the user types in the settings page, with messages that say what to fix.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ServerUrlError {
    #[error("Enter the server's address, for example http://localhost:8080.")]
    Empty,
    #[error("The address must start with http:// or https://.")]
    Scheme,
    #[error("The address has no host name after \"://\".")]
    NoHost,
    #[error("The port \"{0}\" is not a number from 1 to 65535.")]
    Port(String),
    #[error("Leave out the user name and password: pairing replaces them.")]
    Credentials,
    #[error("The address contains spaces or control characters.")]
    Whitespace,
    #[error("Use https:// for a server on another machine: plain http is accepted for localhost only.")]
    PlainHttp,
}

/// Checks a PipelineOS server address and returns it without a trailing slash, ready to
/// have `/api/v1/…` appended. Plain http is refused except to this machine: the device
/// token would cross the network unencrypted.
pub fn server_url(input: &str) -> Result<String, ServerUrlError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(ServerUrlError::Empty);
    }
    if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ServerUrlError::Whitespace);
    }
    let lower = input.to_ascii_lowercase();
    let (https, rest) = if lower.starts_with("https://") {
        (true, input.get(8..).unwrap_or(""))
    } else if lower.starts_with("http://") {
        (false, input.get(7..).unwrap_or(""))
    } else {
        return Err(ServerUrlError::Scheme);
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(ServerUrlError::Credentials);
    }
    let (host, port) = split_host_port(authority);
    if host.is_empty() || host == "[]" {
        return Err(ServerUrlError::NoHost);
    }
    if let Some(port) = port {
        match port.parse::<u16>() {
            Ok(p) if p > 0 => {}
            _ => return Err(ServerUrlError::Port(port.to_string())),
        }
    }
    let host = host.to_ascii_lowercase();
    let local = matches!(host.as_str(), "localhost" | "[::1]") || host.starts_with("127.");
    if !https && !local {
        return Err(ServerUrlError::PlainHttp);
    }
    Ok(input.trim_end_matches('/').to_string())
}

/// Splits `host:port`, keeping IPv6 literals (`[::1]:8080`) whole.
fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(close) => {
                let host = authority.get(..=close).unwrap_or(authority);
                let port = authority.get(close + 1..).and_then(|rest| rest.strip_prefix(':'));
                (host, port)
            }
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PairingCodeError {
    #[error("Enter the pairing code the server printed (`dreamcatcher-server pair NAME`).")]
    Empty,
    #[error("A pairing code has only letters and digits; \"{0}\" is not one of them.")]
    Character(char),
    #[error("A pairing code has 6 to 12 letters and digits; this one has {0}.")]
    Length(usize),
}

/// Normalises a pairing code: dashes and spaces (people copy "K7QM-4XZP" or "k7qm 4xzp")
/// are dropped and letters upper-cased.
pub fn pairing_code(input: &str) -> Result<String, PairingCodeError> {
    let mut code = String::new();
    for c in input.chars().filter(|c| !matches!(c, '-' | ' ')) {
        if !c.is_ascii_alphanumeric() {
            return Err(PairingCodeError::Character(c));
        }
        code.push(c.to_ascii_uppercase());
    }
    match code.len() {
        0 => Err(PairingCodeError::Empty),
        6..=12 => Ok(code),
        other => Err(PairingCodeError::Length(other)),
    }
}

/// The word to type before "Delete everything" is allowed.
pub const DELETE_CONFIRMATION: &str = "DELETE";

pub fn delete_confirmed(typed: &str) -> bool {
    typed.trim() == DELETE_CONFIRMATION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https_servers() {
        assert_eq!(server_url(" http://localhost:8080/ "), Ok("http://localhost:8080".into()));
        assert_eq!(server_url("https://dreams.example.org/base"), Ok("https://dreams.example.org/base".into()));
        assert_eq!(server_url("HTTP://[::1]:9000"), Ok("HTTP://[::1]:9000".into()));
        assert_eq!(server_url("http://127.0.0.1:8080"), Ok("http://127.0.0.1:8080".into()));
        assert_eq!(server_url("http://192.168.1.5:8080"), Err(ServerUrlError::PlainHttp));
    }

    #[test]
    fn refuses_what_cannot_be_a_server() {
        assert_eq!(server_url(""), Err(ServerUrlError::Empty));
        assert_eq!(server_url("ftp://x"), Err(ServerUrlError::Scheme));
        assert_eq!(server_url("javascript:alert(1)"), Err(ServerUrlError::Scheme));
        assert_eq!(server_url("localhost:8080"), Err(ServerUrlError::Scheme));
        assert_eq!(server_url("http://"), Err(ServerUrlError::NoHost));
        assert_eq!(server_url("http://:80/x"), Err(ServerUrlError::NoHost));
        assert_eq!(server_url("http://host:99999"), Err(ServerUrlError::Port("99999".into())));
        assert_eq!(server_url("http://host:0"), Err(ServerUrlError::Port("0".into())));
        assert_eq!(server_url("http://u:p@host"), Err(ServerUrlError::Credentials));
        assert_eq!(server_url("http://ho st"), Err(ServerUrlError::Whitespace));
    }

    #[test]
    fn pairing_codes_normalise() {
        assert_eq!(pairing_code("k7qm-4xzp"), Ok("K7QM4XZP".into()));
        assert_eq!(pairing_code(" 123 456 "), Ok("123456".into()));
        assert_eq!(pairing_code(""), Err(PairingCodeError::Empty));
        assert_eq!(pairing_code("12345"), Err(PairingCodeError::Length(5)));
        assert_eq!(pairing_code("ABCDEFGHIJKLM"), Err(PairingCodeError::Length(13)));
        assert_eq!(pairing_code("ABC_123"), Err(PairingCodeError::Character('_')));
        assert_eq!(pairing_code("ÄBC123"), Err(PairingCodeError::Character('Ä')));
    }

    #[test]
    fn deletion_needs_the_exact_word() {
        assert!(delete_confirmed("DELETE"));
        assert!(delete_confirmed(" DELETE "));
        assert!(!delete_confirmed("delete"));
        assert!(!delete_confirmed(""));
    }
}
