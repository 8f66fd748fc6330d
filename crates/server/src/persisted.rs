//! Persisted queries: Apollo's automatic persisted queries
//! (`extensions.persistedQuery.sha256Hash`: a client sends the hash alone,
//! and the text once when the server answers `PERSISTED_QUERY_NOT_FOUND`),
//! and, in production, an allow-list of operations (`--persisted-only
//! FILE`): then only the operations in the file run, by hash or by their
//! exact text, and anything else gets `PERSISTED_QUERY_REQUIRED`.
//!
//! The file is either GraphQL Code Generator's `persisted-documents.json`
//! (`{ "<sha256>": "<document>" }`, client preset with
//! `persistedDocuments: { hashAlgorithm: "sha256" }`) or Apollo's
//! persisted query manifest (`{ "format": "apollo-persisted-query-manifest",
//! "version": 1, "operations": [{ "id", "name", "type", "body" }] }`).
//! Every hash is checked against its text when the file loads.

use async_graphql::{Request, ServerError};
use chitieu_graphql::error::Msg;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// Most queries kept from automatic registration (a client sends few
/// distinct ones; past this the kept ones are forgotten and re-sent).
const MAX_REGISTERED: usize = 10_000;

/// The hex SHA-256 of a document's text.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Known documents by hash.
#[derive(Default)]
pub struct PersistedQueries {
    /// From `--persisted-only`: the only operations that run.
    allowed: Option<Arc<HashMap<String, String>>>,
    /// Registered by clients (automatic persisted queries).
    registered: RwLock<HashMap<String, Arc<str>>>,
}

/// Why an operations file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Unreadable.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// Not JSON of either format.
    #[error("{0}: not a persisted-documents map or an Apollo persisted query manifest: {1}")]
    Format(String, String),
    /// A hash that is not the SHA-256 of its text.
    #[error("{file}: the operation {id} is not the SHA-256 of its text ({actual}); regenerate the file with sha256")]
    Mismatch {
        /// The file.
        file: String,
        /// The id given.
        id: String,
        /// The hash of the text.
        actual: String,
    },
    /// No operations.
    #[error("{0}: no operations: --persisted-only would refuse everything")]
    Empty(String),
}

/// Reads an operations file (either format), checking every hash.
pub fn load_manifest(path: &Path) -> Result<HashMap<String, String>, ManifestError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ManifestError::Io(name.clone(), e))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ManifestError::Format(name.clone(), e.to_string()))?;
    let mut operations = HashMap::new();
    if json.get("format").and_then(|f| f.as_str()) == Some("apollo-persisted-query-manifest") {
        let list = json
            .get("operations")
            .and_then(|o| o.as_array())
            .ok_or_else(|| ManifestError::Format(name.clone(), "no `operations` list".into()))?;
        for op in list {
            let (Some(id), Some(body)) = (
                op.get("id").and_then(|v| v.as_str()),
                op.get("body").and_then(|v| v.as_str()),
            ) else {
                return Err(ManifestError::Format(
                    name,
                    "an operation without `id` and `body`".into(),
                ));
            };
            operations.insert(id.to_ascii_lowercase(), body.to_owned());
        }
    } else if let Some(map) = json.as_object() {
        for (id, body) in map {
            let Some(body) = body.as_str() else {
                return Err(ManifestError::Format(
                    name,
                    format!("the value of {id} is not a document"),
                ));
            };
            operations.insert(id.to_ascii_lowercase(), body.to_owned());
        }
    } else {
        return Err(ManifestError::Format(name, "not a JSON object".into()));
    }
    for (id, body) in &operations {
        let actual = sha256_hex(body);
        if &actual != id {
            return Err(ManifestError::Mismatch {
                file: name,
                id: id.clone(),
                actual,
            });
        }
    }
    if operations.is_empty() {
        return Err(ManifestError::Empty(name));
    }
    Ok(operations)
}

fn error(message: Msg, code: &str) -> ServerError {
    chitieu_graphql::limits::refusal(message, code)
}

impl PersistedQueries {
    /// Automatic persisted queries only (any document runs).
    pub fn open() -> Self {
        PersistedQueries::default()
    }

    /// Only the operations of `allowed` run.
    pub fn only(allowed: HashMap<String, String>) -> Self {
        PersistedQueries {
            allowed: Some(Arc::new(allowed)),
            registered: RwLock::default(),
        }
    }

    /// The hashes of the allow-list, when there is one.
    pub fn allow_list(&self) -> Option<Arc<HashMap<String, String>>> {
        self.allowed.clone()
    }

    /// Fills in the text of a request that names a persisted query, checks
    /// a text sent with its hash, registers it, and in persisted-only mode
    /// refuses what is not in the list. The error carries its code.
    pub fn resolve(&self, request: &mut Request) -> Result<(), ServerError> {
        let hash = match request.extensions.0.get("persistedQuery") {
            None => None,
            Some(value) => Some(parse_extension(value.clone().into_json().ok())?),
        };
        match (hash, request.query.is_empty()) {
            (None, _) => match &self.allowed {
                Some(allowed) if !allowed.contains_key(&sha256_hex(&request.query)) => Err(error(
                    Msg::new(
                        "this server runs only its registered operations: send one by its sha256Hash (extensions.persistedQuery)",
                        "máy chủ này chỉ chạy các thao tác đã đăng ký: hãy gửi thao tác bằng sha256Hash của nó (extensions.persistedQuery)",
                    ),
                    "PERSISTED_QUERY_REQUIRED",
                )),
                _ => Ok(()),
            },
            (Some(hash), true) => {
                let text = match &self.allowed {
                    Some(allowed) => allowed.get(&hash).map(|t| Arc::<str>::from(t.as_str())),
                    None => self
                        .registered
                        .read()
                        .ok()
                        .and_then(|r| r.get(&hash).cloned()),
                };
                match text {
                    Some(text) => {
                        request.query = text.to_string();
                        Ok(())
                    }
                    // The message is the one Apollo's clients look for.
                    // The protocol's own words, which clients match: the same in
                    // every language.
                    None => Err(error(
                        Msg::new("PersistedQueryNotFound", "PersistedQueryNotFound"),
                        "PERSISTED_QUERY_NOT_FOUND",
                    )),
                }
            }
            (Some(hash), false) => {
                let actual = sha256_hex(&request.query);
                if actual != hash {
                    return Err(error(
                        Msg::new(
                            format!("extensions.persistedQuery.sha256Hash is {hash}, but the query's SHA-256 is {actual}"),
                            format!("extensions.persistedQuery.sha256Hash là {hash}, nhưng SHA-256 của truy vấn là {actual}"),
                        ),
                        "VALIDATION",
                    ));
                }
                match &self.allowed {
                    Some(allowed) if !allowed.contains_key(&hash) => Err(error(
                        Msg::new(
                            "this server runs only its registered operations; this one is not among them",
                            "máy chủ này chỉ chạy các thao tác đã đăng ký; thao tác này không có trong danh sách",
                        ),
                        "PERSISTED_QUERY_REQUIRED",
                    )),
                    Some(_) => Ok(()),
                    None => {
                        // Kept only once it parses: junk is not remembered.
                        if async_graphql::parser::parse_query(&request.query).is_ok() {
                            if let Ok(mut registered) = self.registered.write() {
                                if registered.len() >= MAX_REGISTERED {
                                    registered.clear();
                                }
                                registered.insert(hash, Arc::from(request.query.as_str()));
                            }
                        }
                        Ok(())
                    }
                }
            }
        }
    }
}

/// `{ "version": 1, "sha256Hash": "<64 hex>" }`, the hash in lower case.
fn parse_extension(value: Option<serde_json::Value>) -> Result<String, ServerError> {
    let invalid = |why: &str| {
        error(
            Msg::new(
                format!("extensions.persistedQuery {why}: send {{\"version\": 1, \"sha256Hash\": \"<64 hex digits>\"}}"),
                format!("extensions.persistedQuery không hợp lệ ({why}): hãy gửi {{\"version\": 1, \"sha256Hash\": \"<64 chữ số thập lục phân>\"}}"),
            ),
            "VALIDATION",
        )
    };
    let value = value.ok_or_else(|| invalid("is not JSON"))?;
    if value.get("version").and_then(|v| v.as_u64()) != Some(1) {
        return Err(invalid("has no `version: 1`"));
    }
    let hash = value
        .get("sha256Hash")
        .and_then(|v| v.as_str())
        .ok_or_else(|| invalid("has no `sha256Hash`"))?;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid("has a `sha256Hash` that is not 64 hex digits"));
    }
    Ok(hash.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_hash(query: &str, hash: &str) -> Request {
        let mut request = Request::new(query);
        let extension: async_graphql::Value = async_graphql::Value::from_json(
            serde_json::json!({ "version": 1, "sha256Hash": hash }),
        )
        .unwrap_or_default();
        request
            .extensions
            .0
            .insert("persistedQuery".into(), extension);
        request
    }

    fn code(e: &ServerError) -> Option<String> {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .map(|c| c.to_string().trim_matches('"').to_owned())
    }

    #[test]
    fn a_hash_alone_runs_once_its_text_was_sent() {
        let apq = PersistedQueries::open();
        let text = "{ today }";
        let hash = sha256_hex(text);
        let unknown = apq.resolve(&mut with_hash("", &hash)).unwrap_err();
        assert_eq!(unknown.message, "PersistedQueryNotFound");
        assert_eq!(code(&unknown).as_deref(), Some("PERSISTED_QUERY_NOT_FOUND"));
        assert!(apq.resolve(&mut with_hash(text, &hash)).is_ok());
        let mut again = with_hash("", &hash);
        assert!(apq.resolve(&mut again).is_ok());
        assert_eq!(again.query, text);
        let wrong = apq.resolve(&mut with_hash("{ other }", &hash)).unwrap_err();
        assert_eq!(code(&wrong).as_deref(), Some("VALIDATION"));
        let malformed = apq.resolve(&mut with_hash("", "abc")).unwrap_err();
        assert_eq!(code(&malformed).as_deref(), Some("VALIDATION"));
    }

    #[test]
    fn persisted_only_runs_the_list_and_nothing_else() {
        let text = "{ today }";
        let apq = PersistedQueries::only(HashMap::from([(sha256_hex(text), text.to_owned())]));
        assert!(apq.resolve(&mut with_hash("", &sha256_hex(text))).is_ok());
        assert!(apq.resolve(&mut Request::new(text)).is_ok());
        let raw = apq.resolve(&mut Request::new("{ me { id } }")).unwrap_err();
        assert_eq!(code(&raw).as_deref(), Some("PERSISTED_QUERY_REQUIRED"));
        let other = "{ me { id } }";
        let registering = apq
            .resolve(&mut with_hash(other, &sha256_hex(other)))
            .unwrap_err();
        assert_eq!(
            code(&registering).as_deref(),
            Some("PERSISTED_QUERY_REQUIRED")
        );
        let unknown = apq
            .resolve(&mut with_hash("", &sha256_hex(other)))
            .unwrap_err();
        assert_eq!(code(&unknown).as_deref(), Some("PERSISTED_QUERY_NOT_FOUND"));
    }

    #[test]
    fn both_file_formats_load_and_a_wrong_hash_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let text = "query Today { today }";
        let hash = sha256_hex(text);
        let codegen = dir.path().join("persisted-documents.json");
        std::fs::write(
            &codegen,
            serde_json::json!({ hash.clone(): text }).to_string(),
        )
        .unwrap_or_default();
        assert_eq!(load_manifest(&codegen).ok().map(|m| m.len()), Some(1));
        let apollo = dir.path().join("manifest.json");
        let manifest = serde_json::json!({ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [{ "id": hash, "name": "Today", "type": "query", "body": text }] });
        std::fs::write(&apollo, manifest.to_string()).unwrap_or_default();
        assert_eq!(load_manifest(&apollo).ok().map(|m| m.len()), Some(1));
        let wrong = dir.path().join("wrong.json");
        std::fs::write(
            &wrong,
            serde_json::json!({ "0".repeat(64): text }).to_string(),
        )
        .unwrap_or_default();
        assert!(matches!(
            load_manifest(&wrong),
            Err(ManifestError::Mismatch { .. })
        ));
    }
}
