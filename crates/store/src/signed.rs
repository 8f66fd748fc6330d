//! Signed heads: the log's key and what it signs.
//!
//! A [`SignedHead`] states "the log named `origin` held `size` records,
//! its Merkle root was `root` and its chain hash there `chain_hash`", at
//! `time`, signed with Ed25519 (RFC 8032) by the [`LogKey`]. The signed
//! bytes are a checkpoint in the spirit of C2SP's `tlog-checkpoint`
//! (`docs/proofs.md`):
//!
//! ```text
//! <origin>\n<size>\n<base64 root>\nchain <hex chain hash>\ntime <RFC 3339>\n
//! ```
//!
//! Keys are files in PKCS #8 PEM (private) and SPKI PEM (public), the
//! formats `openssl` reads and writes.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// PKCS #8 v1 DER of an Ed25519 private key, before its 32-byte seed.
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// SPKI DER of an Ed25519 public key, before its 32 bytes.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Why a key, a signed head or a proof does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What happened.
        reason: String,
    },
    /// Not a key in a format chitieu reads.
    #[error("not an Ed25519 key in PEM: {0}")]
    Format(String),
}

/// The log's public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Its 32 bytes.
    pub fn bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Its id: the first 8 bytes of SHA-256 of its 32 bytes, hex.
    pub fn key_id(&self) -> String {
        hex::encode(&Sha256::digest(self.0.as_bytes())[..8])
    }

    /// Its 32 bytes in base64.
    pub fn base64(&self) -> String {
        B64.encode(self.0.as_bytes())
    }

    /// SPKI PEM (`openssl pkey -pubin` reads it).
    pub fn pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(self.0.as_bytes());
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            B64.encode(der)
        )
    }

    /// Reads base64 of the 32 bytes, or SPKI PEM.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let bytes = if text.starts_with("-----BEGIN PUBLIC KEY-----") {
            let der = pem_body(text, "PUBLIC KEY")?;
            der.strip_prefix(&SPKI_PREFIX[..])
                .ok_or_else(|| KeyError::Format("not an Ed25519 SPKI key".into()))?
                .to_vec()
        } else {
            B64.decode(text)
                .map_err(|e| KeyError::Format(format!("base64: {e}")))?
        };
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Format("an Ed25519 public key has 32 bytes".into()))?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|e| KeyError::Format(e.to_string()))
    }

    /// Checks an Ed25519 signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        self.0.verify_strict(message, &signature).is_ok()
    }
}

fn pem_body(text: &str, label: &str) -> Result<Vec<u8>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let inner = text
        .trim()
        .strip_prefix(&begin)
        .and_then(|t| t.trim_end().strip_suffix(&end))
        .ok_or_else(|| KeyError::Format(format!("expected a {label} PEM block")))?;
    let joined: String = inner.split_whitespace().collect();
    B64.decode(joined)
        .map_err(|e| KeyError::Format(format!("base64: {e}")))
}

/// The log's signing key.
#[derive(Clone)]
pub struct LogKey(SigningKey);

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogKey({})", self.public().key_id())
    }
}

impl LogKey {
    /// A new key from the operating system's randomness.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| KeyError::Io {
            path: "(randomness)".into(),
            reason: e.to_string(),
        })?;
        Ok(LogKey(SigningKey::from_bytes(&seed)))
    }

    /// The key from its 32-byte seed (tests).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        LogKey(SigningKey::from_bytes(&seed))
    }

    /// PKCS #8 PEM of the private key.
    pub fn pem(&self) -> String {
        let mut der = PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&self.0.to_bytes());
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            B64.encode(der)
        )
    }

    /// Reads a PKCS #8 PEM Ed25519 private key.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let der = pem_body(text, "PRIVATE KEY")?;
        let seed: [u8; 32] = der
            .strip_prefix(&PKCS8_PREFIX[..])
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| KeyError::Format("not an Ed25519 PKCS #8 key".into()))?;
        Ok(LogKey(SigningKey::from_bytes(&seed)))
    }

    /// Reads the key at `path`.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|e| KeyError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text).map_err(|e| KeyError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// Reads the key at `path`, or creates one there (readable by its
    /// owner only) if there is no file.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        if path.exists() {
            return Self::load(path);
        }
        let key = Self::generate()?;
        let io = |e: std::io::Error| KeyError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        std::io::Write::write_all(&mut file, key.pem().as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        tracing::info!(path = %path.display(), key_id = %key.public().key_id(), "created the log's signing key");
        Ok(key)
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs any bytes (a backup's digest).
    pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// Signs a head.
    pub fn sign(&self, head: UnsignedHead) -> SignedHead {
        let signature = self.0.sign(head.body().as_bytes());
        SignedHead {
            origin: head.origin,
            size: head.size,
            root: hex::encode(head.root),
            chain_hash: hex::encode(head.chain_hash),
            time: head.time,
            key_id: self.public().key_id(),
            signature: B64.encode(signature.to_bytes()),
        }
    }
}

/// What a signed head states, before it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedHead {
    /// The log's name.
    pub origin: String,
    /// Records in the log (the tree size; the last position).
    pub size: u64,
    /// The Merkle root of those records.
    pub root: [u8; 32],
    /// The chain hash of the record at `size` (zeros for an empty log).
    pub chain_hash: [u8; 32],
    /// When it was signed (RFC 3339, UTC).
    pub time: String,
}

impl UnsignedHead {
    /// The bytes the signature covers.
    pub fn body(&self) -> String {
        checkpoint(
            &self.origin,
            self.size,
            &self.root,
            &hex::encode(self.chain_hash),
            &self.time,
        )
    }
}

fn checkpoint(origin: &str, size: u64, root: &[u8], chain_hex: &str, time: &str) -> String {
    format!(
        "{origin}\n{size}\n{}\nchain {chain_hex}\ntime {time}\n",
        B64.encode(root)
    )
}

/// A signed head as it travels: in `ledger`, in proof bundles, at the end
/// of a backup (JSON field names in camelCase, hashes in lower-case hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedHead {
    /// The log's name.
    pub origin: String,
    /// Records in the log.
    pub size: u64,
    /// Merkle root, hex.
    pub root: String,
    /// Chain hash at `size`, hex.
    pub chain_hash: String,
    /// When it was signed.
    pub time: String,
    /// The signing key's id.
    pub key_id: String,
    /// Ed25519 signature over [`SignedHead::body`], base64.
    pub signature: String,
}

/// Why a signed head does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// A field is not in its one accepted spelling.
    #[error("signed head: {0}")]
    Malformed(String),
    /// Signed by another key.
    #[error("the head is signed by key {found}, not by {expected}")]
    OtherKey {
        /// The key the auditor trusts.
        expected: String,
        /// The key the head names.
        found: String,
    },
    /// The signature does not match.
    #[error("the signature of the head of size {size} does not match its contents")]
    BadSignature {
        /// Its size.
        size: u64,
    },
}

/// Decodes lower-case hex of exactly 32 bytes.
pub fn hash_from_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    hex::decode(text).ok()?.try_into().ok()
}

impl SignedHead {
    /// The Merkle root.
    pub fn root_hash(&self) -> Result<[u8; 32], HeadError> {
        hash_from_hex(&self.root).ok_or_else(|| HeadError::Malformed("root".into()))
    }

    /// The chain hash.
    pub fn chain(&self) -> Result<[u8; 32], HeadError> {
        hash_from_hex(&self.chain_hash).ok_or_else(|| HeadError::Malformed("chainHash".into()))
    }

    /// The bytes the signature covers.
    pub fn body(&self) -> Result<String, HeadError> {
        let root = self.root_hash()?;
        self.chain()?;
        if self.origin.contains('\n') || self.time.contains('\n') {
            return Err(HeadError::Malformed(
                "a line break in origin or time".into(),
            ));
        }
        Ok(checkpoint(
            &self.origin,
            self.size,
            &root,
            &self.chain_hash,
            &self.time,
        ))
    }

    /// Checks the signature with the key the auditor trusts.
    pub fn verify(&self, key: &PublicKey) -> Result<(), HeadError> {
        if self.key_id != key.key_id() {
            return Err(HeadError::OtherKey {
                expected: key.key_id(),
                found: self.key_id.clone(),
            });
        }
        let body = self.body()?;
        let signature = B64
            .decode(&self.signature)
            .map_err(|_| HeadError::Malformed("signature".into()))?;
        if B64.encode(&signature) != self.signature || !key.verify(body.as_bytes(), &signature) {
            return Err(HeadError::BadSignature { size: self.size });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> UnsignedHead {
        UnsignedHead {
            origin: "chitieu".into(),
            size: 42,
            root: [0xab; 32],
            chain_hash: [9; 32],
            time: "2026-12-02T00:00:00.000000Z".into(),
        }
    }

    #[test]
    fn a_signed_head_verifies_and_any_change_breaks_it() {
        let key = LogKey::from_seed([1; 32]);
        let signed = key.sign(head());
        signed.verify(&key.public()).unwrap();
        let mut changed = signed.clone();
        changed.size = 43;
        assert!(changed.verify(&key.public()).is_err());
        let mut upper = signed.clone();
        upper.root = upper.root.to_uppercase();
        assert!(upper.verify(&key.public()).is_err());
        let other = LogKey::from_seed([2; 32]);
        assert!(matches!(
            signed.verify(&other.public()),
            Err(HeadError::OtherKey { .. })
        ));
    }

    #[test]
    fn keys_round_trip_through_pem() {
        let key = LogKey::from_seed([3; 32]);
        let again = LogKey::parse(&key.pem()).unwrap();
        assert_eq!(again.public(), key.public());
        assert_eq!(PublicKey::parse(&key.public().pem()).unwrap(), key.public());
        assert_eq!(
            PublicKey::parse(&key.public().base64()).unwrap(),
            key.public()
        );
        assert!(
            LogKey::parse("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").is_err()
        );
    }

    #[test]
    fn a_key_file_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log-key.pem");
        let first = LogKey::load_or_create(&path).unwrap();
        let again = LogKey::load_or_create(&path).unwrap();
        assert_eq!(first.public(), again.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
