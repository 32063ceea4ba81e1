use sha2::{Digest, Sha256};

use crate::Site;

/// The stable id of a conversation: the same conversation captured from the page, the web
/// API or an export gets the same id, so a recapture updates instead of duplicating.
///
/// Derived from the site and the site's own conversation id. Without a site id (a saved page
/// with no URL) it falls back to the title and first prompt, which is stable across repeated
/// captures of that same page.
pub fn conversation_id(site: Site, site_id: Option<&str>, title: &str, first_prompt: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(site.as_str().as_bytes());
    hasher.update([0]);
    match site_id.map(str::trim).filter(|id| !id.is_empty()) {
        Some(id) => {
            hasher.update(b"site-id\0");
            hasher.update(id.to_ascii_lowercase().as_bytes());
        }
        None => {
            hasher.update(b"content\0");
            hasher.update(title.trim().as_bytes());
            hasher.update([0]);
            hasher.update(first_prompt.trim().as_bytes());
        }
    }
    format!("dc-{}", hex(&hasher.finalize()[..16]))
}

/// Whether `id` has the form [`conversation_id`] gives: `dc-` and 32 lowercase hex digits.
/// Ids read back from a saved file become the key of a dream, so a damaged one is refused.
pub fn is_conversation_id(id: &str) -> bool {
    id.strip_prefix("dc-").is_some_and(|hex| {
        hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A key that is equal for two pieces of code differing only in whitespace (indentation,
/// line endings, trailing spaces, blank lines), used to keep one fragment per snippet.
pub fn content_key(code: &str) -> String {
    // Hashing is fed in chunks: one `update` per character costs twice the time on code.
    let mut hasher = Sha256::new();
    let mut buffer = String::with_capacity(4096);
    for ch in code.chars().filter(|c| !c.is_whitespace()) {
        buffer.push(ch);
        if buffer.len() >= 4092 {
            hasher.update(buffer.as_bytes());
            buffer.clear();
        }
    }
    hasher.update(buffer.as_bytes());
    hex(&hasher.finalize()[..12])
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[(byte >> 4) as usize] as char);
        out.push(DIGITS[(byte & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_site_id_same_conversation_id_whatever_the_title() {
        let a = conversation_id(Site::Chatgpt, Some("ABC-1"), "Old title", "hi");
        let b = conversation_id(Site::Chatgpt, Some("abc-1"), "New title", "hello");
        assert_eq!(a, b);
        assert!(a.starts_with("dc-") && a.len() == 35);
    }

    #[test]
    fn only_ids_of_that_form_are_conversation_ids() {
        assert!(is_conversation_id(&conversation_id(Site::Claude, Some("x"), "", "")));
        assert!(is_conversation_id("dc-00000000000000000000000000000001"));
        for bad in ["", "dc-", "-c-00000000000000000000000000000001", "dc-0000000000000000000000000000000",
            "dc-000000000000000000000000000000011", "dc-0000000000000000000000000000000G", "DC-00000000000000000000000000000001"]
        {
            assert!(!is_conversation_id(bad), "{bad}");
        }
    }

    #[test]
    fn sites_do_not_share_ids() {
        assert_ne!(
            conversation_id(Site::Chatgpt, Some("x"), "", ""),
            conversation_id(Site::Claude, Some("x"), "", "")
        );
    }

    #[test]
    fn without_site_id_title_and_prompt_decide() {
        let a = conversation_id(Site::Claude, None, "T", "prompt");
        assert_eq!(a, conversation_id(Site::Claude, Some("  "), "T", "prompt"));
        assert_ne!(a, conversation_id(Site::Claude, None, "T", "other prompt"));
    }

    #[test]
    fn content_key_ignores_whitespace_only() {
        let a = content_key("fn main() {\n    println!(\"hi\");\n}\n");
        let b = content_key("fn main() {\r\n  println!(\"hi\");  \r\n}");
        assert_eq!(a, b);
        assert_ne!(a, content_key("fn main() {\n    println!(\"bye\");\n}\n"));
    }
}
