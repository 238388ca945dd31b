//! Personal links (`/enkat/{token}`). A token is the HMAC-SHA256 of a random nonce under the
//! server's secret; the database keeps the nonce and the token's SHA-256, never the token. A
//! queued message carries a marker naming the nonce, and the dispatcher writes the link in only
//! when it sends: so the outbox, `kansli mail show` and the logs never hold a working link, and a
//! message delivered twice carries the same link both times.

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// What a stored message shows in place of a personal link.
pub const REDACTED: &str = "[personlig länk]";

const MARKER: &str = "KANSLI-PERSONLIG-LANK-";

/// The server's secret for links.
#[derive(Clone)]
pub struct LinkSecret(Vec<u8>);

impl std::fmt::Debug for LinkSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSecret(***)")
    }
}

impl LinkSecret {
    /// A secret of 256 random bits: links made with it die with the process (tests, benches).
    pub fn random() -> Self {
        Self(rand::random::<[u8; 32]>().to_vec())
    }

    /// A secret from its text (hex, at least 32 characters).
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let bytes =
            hex::decode(text.trim()).map_err(|e| format!("the link secret is not hex: {e}"))?;
        if bytes.len() < 16 {
            return Err("the link secret must be at least 128 bits (32 hex characters)".into());
        }
        Ok(Self(bytes))
    }

    /// The secret in `path`, made (256 random bits, readable by the owner only) on first use.
    pub fn load_or_create(path: &Path) -> Result<Self, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = Self::random();
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    crate::private::create_dir_all(parent)
                        .map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                write_private(path, &hex::encode(&secret.0))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(secret)
            }
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// The token for a nonce.
    pub fn token(&self, nonce: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(b"kansli-link:");
        mac.update(nonce.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    crate::private::create_new(path)?.write_all(text.as_bytes())
}

/// The SHA-256 of a token, as the database keeps it.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random nonce.
pub fn new_nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The marker a queued message carries in place of the link for `nonce`.
pub fn marker(nonce: &str) -> String {
    format!("{MARKER}{nonce}")
}

/// Writes the links in: every marker becomes `{base_url}/enkat/{token}`.
pub fn fill(text: &str, base_url: &str, secret: &LinkSecret) -> String {
    replace_markers(text, |nonce| {
        format!(
            "{}/enkat/{}",
            base_url.trim_end_matches('/'),
            secret.token(nonce)
        )
    })
}

/// Every marker becomes [`REDACTED`].
pub fn redact(text: &str) -> String {
    replace_markers(text, |_| REDACTED.to_owned())
}

fn replace_markers(text: &str, with: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MARKER) {
        out.push_str(&rest[..at]);
        let after = &rest[at + MARKER.len()..];
        let end = after
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(after.len());
        out.push_str(&with(&after[..end]));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_becomes_the_same_link_every_time_and_only_with_the_secret() {
        let secret = LinkSecret::from_hex(&"ab".repeat(32)).unwrap();
        let nonce = new_nonce();
        let text = format!("Svara här: {}\nTack!", marker(&nonce));
        let filled = fill(&text, "https://kansli.example/", &secret);
        assert_eq!(filled, fill(&text, "https://kansli.example", &secret));
        let token = filled.lines().next().unwrap().rsplit('/').next().unwrap();
        assert_eq!(token.len(), 64);
        assert_eq!(token, secret.token(&nonce));
        assert_ne!(token, LinkSecret::random().token(&nonce));
        assert_eq!(redact(&text), "Svara här: [personlig länk]\nTack!");
        assert!(!format!("{secret:?}").contains("ab"));
    }

    #[test]
    fn a_secret_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("var/secret");
        let a = LinkSecret::load_or_create(&path).unwrap();
        let b = LinkSecret::load_or_create(&path).unwrap();
        assert_eq!(a.token("x"), b.token("x"));
        assert!(LinkSecret::from_hex("abcd").is_err());
    }
}
