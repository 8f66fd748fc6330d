//! `spawn_app`: starts the real `chitieu` binary on port 0 with a fresh
//! data directory (demo data loaded) and talks to it as a client would.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A client WebSocket.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct TestApp {
    pub url: String,
    /// Where `/metrics` is served.
    #[allow(dead_code)]
    pub metrics_url: String,
    pub base: String,
    pub tokens: HashMap<String, String>,
    pub client: reqwest::Client,
    pub data_dir: std::path::PathBuf,
    extra: Vec<String>,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server in demo mode; `config` is the content of a TOML
/// configuration file, if any.
pub async fn spawn_app_with(config: Option<&str>) -> TestApp {
    spawn_demo(config, &[]).await
}

/// Starts a node in demo mode on the shared log at `log_url` (the first
/// node on an empty log loads the demo data; the others follow it).
pub async fn spawn_node(log_url: &str) -> TestApp {
    spawn_demo(None, &["--log", log_url]).await
}

/// Starts the server in demo mode with a fresh data directory and `extra` flags.
pub async fn spawn_demo(config: Option<&str>, extra: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_chitieu"));
    command
        .arg("demo")
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--listen")
        .arg("127.0.0.1:0")
        .args(extra);
    if let Some(config) = config {
        let path = dir.path().join("chitieu.toml");
        std::fs::write(&path, config).unwrap();
        command.arg("--config").arg(path);
    }
    let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
    start(command, dir, extra).await
}

/// Starts the server in demo mode on the data already in `dir`/data (a
/// store restored there): the demo data is not loaded again.
pub async fn spawn_demo_in(dir: tempfile::TempDir) -> TestApp {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chitieu"));
    command
        .arg("demo")
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--listen")
        .arg("127.0.0.1:0");
    start(command, dir, Vec::new()).await
}

async fn start(mut command: Command, dir: tempfile::TempDir, extra: Vec<String>) -> TestApp {
    let mut child = command
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut url = None;
        let mut metrics = None;
        let mut tokens = HashMap::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("chitieu: GraphQL at ") {
                url = Some(rest.trim().to_owned());
            }
            if let Some(rest) = line.strip_prefix("chitieu: metrics at ") {
                metrics = Some(rest.trim().to_owned());
            }
            if let Some(rest) = line.strip_prefix("chitieu: token ") {
                let mut parts = rest.split_whitespace();
                if let (Some(role), Some(token)) = (parts.next(), parts.next()) {
                    tokens.insert(role.to_owned(), token.to_owned());
                }
            }
            if line == "chitieu: ready" {
                let _ = tx.send((url.take(), metrics.take(), std::mem::take(&mut tokens)));
            }
        }
    });
    let (url, metrics_url, mut tokens) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server did not start");
    // Role names for the demo's people who hold that role everywhere.
    for (role, id) in [
        ("planner", "vp-huyen-uy"),
        ("reporter", "pkt-tieu-can"),
        ("auditor", "ubkt"),
        ("viewer", "lanh-dao"),
        ("approver", "btv.tieu-can"),
    ] {
        if let Some(token) = tokens.get(id).cloned() {
            tokens.insert(role.to_owned(), token);
        }
    }
    let url = url.expect("the server printed no URL");
    let base = url.trim_end_matches("/graphql").to_owned();
    TestApp {
        url,
        metrics_url: metrics_url.expect("the server printed no metrics URL"),
        base,
        tokens,
        client: english_client(),
        data_dir: dir.path().join("data"),
        extra,
        child,
        _dir: dir,
    }
}

/// A client that asks for English messages (the server answers in
/// Vietnamese unless asked): the tests below read the English wording.
pub fn english_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT_LANGUAGE,
        reqwest::header::HeaderValue::from_static("en"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(None).await
}

pub struct Reply {
    pub status: u16,
    #[allow(dead_code)]
    pub content_type: String,
    pub body: Value,
}

impl Reply {
    /// The `extensions.code` of the first error.
    pub fn code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }
}

impl TestApp {
    /// Stops the server (its data stays until the app is dropped).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same data directory and flags (a new
    /// port, new demo tokens).
    pub async fn restart(&mut self) {
        self.stop();
        let mut command = Command::new(env!("CARGO_BIN_EXE_chitieu"));
        command
            .arg("demo")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .args(&self.extra);
        let dir = tempfile::tempdir().unwrap();
        let mut fresh = start(command, dir, self.extra.clone()).await;
        std::mem::swap(&mut self.url, &mut fresh.url);
        std::mem::swap(&mut self.metrics_url, &mut fresh.metrics_url);
        std::mem::swap(&mut self.base, &mut fresh.base);
        std::mem::swap(&mut self.tokens, &mut fresh.tokens);
        std::mem::swap(&mut self.child, &mut fresh.child);
    }

    /// Opens a graphql-transport-ws connection; the HTTP response of the upgrade too.
    pub async fn ws_connect(
        &self,
    ) -> (
        Ws,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ) {
        self.ws_connect_in(Some("en")).await
    }

    /// [`Self::ws_connect`] asking for `language` (none: the server's default).
    pub async fn ws_connect_in(
        &self,
        language: Option<&str>,
    ) -> (
        Ws,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ) {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = self
            .url
            .replace("http://", "ws://")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        if let Some(language) = language {
            request
                .headers_mut()
                .insert("accept-language", language.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request).await.unwrap()
    }

    /// Opens a connection and sends `connection_init` with the token of
    /// `role` (a role or demo id, or a token itself).
    pub async fn ws_init(&self, role: &str) -> Ws {
        use futures_util::SinkExt;
        let (mut ws, _) = self.ws_connect().await;
        let token = self
            .tokens
            .get(role)
            .cloned()
            .unwrap_or_else(|| role.to_owned());
        let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
        ws.send(tokio_tungstenite::tungstenite::Message::Text(
            init.to_string().into(),
        ))
        .await
        .unwrap();
        ws
    }

    pub async fn post(&self, role: Option<&str>, body: Value) -> Reply {
        let mut request = self.client.post(&self.url).json(&body);
        if let Some(role) = role {
            let token = self
                .tokens
                .get(role)
                .cloned()
                .unwrap_or_else(|| role.to_owned());
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            content_type,
            body,
        }
    }

    /// Creates a principal holding `role` over `org_unit` (everywhere when
    /// `None`) and returns a token for it.
    pub async fn principal(&self, id: &str, role: &str, org_unit: Option<&str>) -> String {
        self.gql(
            "admin",
            "mutation($id: ID!, $role: Role!, $org: ID) { createPrincipal(input: {id: $id, name: $id, role: $role, orgUnit: $org}) { position } }",
            json!({ "id": id, "role": role, "org": org_unit }),
        )
        .await;
        let issued = self
            .gql(
                "admin",
                "mutation($id: ID!) { issueToken(principal: $id) { token tokenId } }",
                json!({ "id": id }),
            )
            .await;
        issued["issueToken"]["token"].as_str().unwrap().to_owned()
    }

    pub async fn ledger(&self) -> u64 {
        self.gql("admin", "{ ledger { position } }", json!({}))
            .await["ledger"]["position"]
            .as_u64()
            .unwrap()
    }

    /// A query or mutation as `role`; panics on errors.
    pub async fn gql(&self, role: &str, query: &str, variables: Value) -> Value {
        let reply = self
            .post(
                Some(role),
                json!({ "query": query, "variables": variables }),
            )
            .await;
        assert!(reply.body.get("errors").is_none(), "errors: {}", reply.body);
        assert_eq!(reply.status, 200);
        reply.body["data"].clone()
    }

    /// A query or mutation as `role` that must fail; returns the reply.
    pub async fn gql_err(&self, role: Option<&str>, query: &str, variables: Value) -> Reply {
        let reply = self
            .post(role, json!({ "query": query, "variables": variables }))
            .await;
        assert!(
            reply.body.get("errors").is_some(),
            "expected errors, got {}",
            reply.body
        );
        reply
    }

    /// The id of a document of an org unit (the first listed).
    pub async fn document_of(&self, unit: &str) -> Value {
        let documents = self
            .gql("auditor", "{ documents { id orgUnit } }", json!({}))
            .await;
        documents["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["orgUnit"] == unit)
            .map(|d| d["id"].clone())
            .unwrap_or_else(|| panic!("no document of {unit}"))
    }

    /// The id of an indicator of Cần Đước's 2025 programme (38-CTr/HU) by its exact name.
    pub async fn indicator_id(&self, name: &str) -> String {
        let data = self
            .gql("auditor", "query($n: String!) { indicators(filter: {name: $n, orgUnit: \"LA.CAN-DUOC\", period: \"2025\"}, first: 100) { edges { node { id name } } } }", json!({ "n": name }))
            .await;
        data["indicators"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["name"] == name)
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no indicator named {name}"))
    }
}
