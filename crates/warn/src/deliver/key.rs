//! The node key and what is derived from it: each webhook's signing secret, and the signature
//! of a delivery.
//!
//! A webhook's secret is never stored: it is HMAC-SHA256(node key, webhook id + generation),
//! shown once when the webhook is made or rotated, and derived again for every delivery. The
//! node key lives outside the store (a 0600 file `node.key` in the data directory, made on first
//! start, or `WATCHFIRE_NODE_KEY` for several nodes on one PostgreSQL), so a copy of the
//! database alone cannot sign as the node.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use ring::hmac;
use ring::rand::{SecureRandom as _, SystemRandom};

use super::DeliveryError;

/// The name of the node key file inside the data directory.
pub const NODE_KEY_FILE: &str = "node.key";

/// The prefix of a webhook secret as shown to its organisation.
pub const SECRET_PREFIX: &str = "wfwh_";

/// The node's secret key: 32 random bytes.
#[derive(Clone)]
pub struct NodeKey([u8; 32]);

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NodeKey(..)")
    }
}

impl NodeKey {
    /// Reads a key written as 64 hex digits (the form of `WATCHFIRE_NODE_KEY` and of the file).
    pub fn from_hex(text: &str) -> Result<NodeKey, DeliveryError> {
        let text = text.trim();
        let bad = |reason: &str| DeliveryError::Key(format!("node key: {reason}"));
        if text.len() != 64 {
            return Err(bad("expected 64 hex digits"));
        }
        let mut key = [0u8; 32];
        for (byte, pair) in key.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| bad("not hex"))?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| bad("not hex"))?;
        }
        Ok(NodeKey(key))
    }

    /// Reads the key file in `data_dir`, or makes it (random, mode 0600) when it is missing.
    pub fn load_or_create(data_dir: &Path) -> Result<NodeKey, DeliveryError> {
        let path = data_dir.join(NODE_KEY_FILE);
        let failed = |action: &str, error: std::io::Error| {
            DeliveryError::Key(format!("cannot {action} {}: {error}", path.display()))
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => return NodeKey::from_hex(&text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(failed("read", error)),
        }
        std::fs::create_dir_all(data_dir)
            .map_err(|error| failed("create the directory of", error))?;
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| DeliveryError::Key("the system random source failed".into()))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                file.write_all(hex(&key).as_bytes()).map_err(|error| failed("write", error))?;
                file.sync_all().map_err(|error| failed("sync", error))?;
                Ok(NodeKey(key))
            }
            // Another process made it first: use theirs.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(&path).map_err(|error| failed("read", error))?;
                NodeKey::from_hex(&text)
            }
            Err(error) => Err(failed("create", error)),
        }
    }

    /// Returns the secret of generation `generation` of the webhook `webhook_id`.
    pub fn webhook_secret(&self, webhook_id: &str, generation: u32) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0);
        let message = format!("watchfire webhook secret\0{webhook_id}\0{generation}");
        let tag = hmac::sign(&key, message.as_bytes());
        format!("{SECRET_PREFIX}{}", hex(tag.as_ref()))
    }
}

/// Returns the `X-Watchfire-Signature` value of `body` sent at `timestamp` (Unix seconds):
/// `sha256=` and the hex HMAC-SHA256, keyed with the secret's text, of `<timestamp>.<body>`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut context = hmac::Context::with_key(&key);
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    format!("sha256={}", hex(context.sign().as_ref()))
}

/// Writes bytes as lower-case hex.
pub(super) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}
