//! `spawn_app`: starts a real chitieu server on port 0 with a fresh data
//! directory (demo data loaded) and talks to it over HTTP and WebSocket as
//! a client would.
//!
//! Servers run in this process, each on a thread and runtime of its own,
//! through `chitieu_server::Server` (the address and the demo tokens come
//! from it, not from its output). Their data directory is a copy of one
//! demo store built once per test binary (the demo is loaded through every
//! command once, not at every start). `spawn_node` and anything that must
//! be SIGKILLed start the `chitieu` binary instead.

use chitieu_server::config::ServeArgs;
use chitieu_testkit::copy_dir;
use clap::Parser as _;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

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
    pub data_dir: PathBuf,
    extra: Vec<String>,
    config: Option<PathBuf>,
    running: Option<Running>,
    _dir: tempfile::TempDir,
}

/// How a test server runs.
enum Running {
    /// In this process: stopped by its shutdown signal.
    InProcess {
        stop: tokio::sync::oneshot::Sender<()>,
        thread: std::thread::JoinHandle<()>,
    },
    /// The `chitieu` binary: stopped by SIGKILL.
    Process(Child),
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The flags of `chitieu demo`, parsed as the binary parses them.
#[derive(clap::Parser)]
struct DemoFlags {
    #[command(flatten)]
    args: ServeArgs,
}

/// Starts the server in demo mode; `config` is the content of a TOML
/// configuration file, if any.
pub async fn spawn_app_with(config: Option<&str>) -> TestApp {
    spawn_demo(config, &[]).await
}

/// Starts a node in demo mode on the shared log at `log_url` (the first
/// node on an empty log loads the demo data; the others follow it), as a
/// process of its own.
pub async fn spawn_node(log_url: &str) -> TestApp {
    spawn_node_with(log_url, None).await
}

/// [`spawn_node`] with `config`, the content of a TOML configuration file.
pub async fn spawn_node_with(log_url: &str, config: Option<&str>) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let extra = vec!["--log".to_owned(), log_url.to_owned()];
    let data_dir = dir.path().join("data");
    let config = config.map(|text| {
        let path = dir.path().join("chitieu.toml");
        std::fs::write(&path, text).unwrap();
        path
    });
    let mut app = TestApp::new(dir, data_dir, extra, config);
    app.running = Some(app.start_process().await);
    app
}

/// Fills an empty shared log with the demo store's log, record for record,
/// so that nodes started on it follow the demo instead of each test loading
/// it through PostgreSQL one append at a time.
pub async fn seed_shared_log(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let template = tokio::task::spawn_blocking(demo_template).await.unwrap();
    copy_dir(template, dir.path());
    let source = chitieu_server::node::open_named_log(dir.path().to_str().unwrap())
        .await
        .unwrap();
    let target = chitieu_server::node::open_named_log(url).await.unwrap();
    chitieu_store::copy_log(&source, &target, |_| {})
        .await
        .unwrap();
    source.close().unwrap();
    target.close().unwrap();
}

/// Starts the server in demo mode with a fresh data directory (a copy of
/// the demo store) and `extra` flags.
pub async fn spawn_demo(config: Option<&str>, extra: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let config = config.map(|text| {
        let path = dir.path().join("chitieu.toml");
        std::fs::write(&path, text).unwrap();
        path
    });
    let data_dir = dir.path().join("data");
    copy_dir(demo_template(), &data_dir);
    let extra = extra.iter().map(|s| (*s).to_owned()).collect();
    let mut app = TestApp::new(dir, data_dir, extra, config);
    app.running = Some(app.start_in_process().await);
    app
}

/// Starts the server in demo mode on the data already in `dir`/data (a
/// store restored there): the demo data is not loaded again.
pub async fn spawn_demo_in(dir: tempfile::TempDir) -> TestApp {
    let data_dir = dir.path().join("data");
    let mut app = TestApp::new(dir, data_dir, Vec::new(), None);
    app.running = Some(app.start_in_process().await);
    app
}

/// The demo store, built once per test binary by a demo server that then
/// stopped cleanly (the log, read models, signing key and demo tokens).
fn demo_template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        // Templates of earlier runs (a test binary leaves its own behind).
        if let Ok(entries) = std::fs::read_dir(root) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(3600));
                if name.starts_with("demo-template-") && old {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = root.join(format!("demo-template-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = resolve(&dir, &[], None);
        let (started, stop, thread) = start_server(config);
        started.recv().unwrap().unwrap();
        let _ = stop.send(());
        thread.join().expect("the template's server panicked");
        dir
    })
}

/// The configuration `chitieu demo --data-dir <data_dir> [--config file]
/// <extra>` gives.
fn resolve(
    data_dir: &Path,
    extra: &[String],
    config: Option<&Path>,
) -> chitieu_server::config::Config {
    let mut argv: Vec<std::ffi::OsString> =
        vec!["demo".into(), "--data-dir".into(), data_dir.into()];
    if let Some(config) = config {
        argv.push("--config".into());
        argv.push(config.into());
    }
    argv.extend(extra.iter().map(Into::into));
    let flags = DemoFlags::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}"));
    flags.args.resolve(true).unwrap()
}

/// What a started server tells: its address, metrics address and tokens.
type Started = anyhow::Result<(
    std::net::SocketAddr,
    std::net::SocketAddr,
    Vec<chitieu_server::DemoToken>,
)>;

/// Starts a server on a thread and runtime of its own; it says on the
/// channel when it serves (or why it could not start) and stops when the
/// sender is used or dropped.
fn start_server(
    config: chitieu_server::config::Config,
) -> (
    std::sync::mpsc::Receiver<Started>,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            // sled keeps its lock a moment after the last handle on a
            // store goes: a restart on the same data tries for a while.
            let deadline = Instant::now() + Duration::from_secs(10);
            let server = loop {
                let started = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                    Ok(listener) => chitieu_server::Server::start(listener, config.clone()).await,
                    Err(e) => Err(e.into()),
                };
                match started {
                    Ok(server) => break server,
                    Err(e) if Instant::now() < deadline && format!("{e:#}").contains("lock") => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(e) => {
                        let _ = started_tx.send(Err(e));
                        return;
                    }
                }
            };
            let _ = started_tx.send(Ok((
                server.address(),
                server.metrics_address(),
                server.demo_tokens().to_vec(),
            )));
            let stopped = async move {
                let _ = stop_rx.await;
            };
            if let Err(e) = server.run(stopped).await {
                eprintln!("the test server stopped with an error: {e:#}");
            }
        });
    });
    (started_rx, stop_tx, thread)
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
    fn new(
        dir: tempfile::TempDir,
        data_dir: PathBuf,
        extra: Vec<String>,
        config: Option<PathBuf>,
    ) -> TestApp {
        TestApp {
            url: String::new(),
            metrics_url: String::new(),
            base: String::new(),
            tokens: HashMap::new(),
            client: english_client(),
            data_dir,
            extra,
            config,
            running: None,
            _dir: dir,
        }
    }

    /// Takes the address and tokens of a server that started.
    fn serving(&mut self, address: String, metrics: String, tokens: HashMap<String, String>) {
        self.base = format!("http://{address}");
        self.url = format!("{}/graphql", self.base);
        self.metrics_url = format!("http://{metrics}/metrics");
        self.tokens = tokens;
        // Role names for the demo's people who hold that role everywhere.
        for (role, id) in [
            ("planner", "vp-huyen-uy"),
            ("reporter", "pkt-tieu-can"),
            ("auditor", "ubkt"),
            ("viewer", "lanh-dao"),
            ("approver", "btv.tieu-can"),
        ] {
            if let Some(token) = self.tokens.get(id).cloned() {
                self.tokens.insert(role.to_owned(), token);
            }
        }
    }

    async fn start_in_process(&mut self) -> Running {
        let config = resolve(&self.data_dir, &self.extra, self.config.as_deref());
        let (started, stop, thread) = start_server(config);
        let (address, metrics, tokens) = tokio::task::spawn_blocking(move || {
            started
                .recv_timeout(Duration::from_secs(120))
                .expect("the server did not start in time")
        })
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("the server did not start: {e:#}"));
        let tokens = tokens.into_iter().map(|t| (t.person, t.token)).collect();
        self.serving(address.to_string(), metrics.to_string(), tokens);
        Running::InProcess { stop, thread }
    }

    /// Starts the `chitieu` binary on a free port, waits until `/readyz`
    /// answers, and reads the demo tokens from its data directory.
    async fn start_process(&mut self) -> Running {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_chitieu"));
        command
            .arg("demo")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--listen")
            .arg(&address)
            .args(&self.extra)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null());
        if let Some(config) = &self.config {
            command.arg("--config").arg(config);
        }
        let mut child = command.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        let ready = format!("http://{address}/readyz");
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the server exited: {status}");
            }
            let answered = self
                .client
                .get(&ready)
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            if answered.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not start in time"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let kept =
            std::fs::read_to_string(self.data_dir.join(chitieu_server::DEMO_TOKENS)).unwrap();
        let tokens: HashMap<String, String> = serde_json::from_str(&kept).unwrap();
        self.serving(address.clone(), address, tokens);
        Running::Process(child)
    }

    /// Stops the server (its data stays until the app is dropped): a
    /// server in this process stops as on SIGTERM (requests finish, the
    /// store is closed); a process is SIGKILLed.
    pub fn stop(&mut self) {
        match self.running.take() {
            Some(Running::InProcess { stop, thread }) => {
                let _ = stop.send(());
                let _ = thread.join();
            }
            Some(Running::Process(mut child)) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            None => {}
        }
    }

    /// Starts the server again on the same data directory and flags (a new
    /// port; the demo tokens kept in the data directory).
    pub async fn restart(&mut self) {
        let process = matches!(self.running, Some(Running::Process(_)));
        self.stop();
        let running = if process {
            self.start_process().await
        } else {
            self.start_in_process().await
        };
        self.running = Some(running);
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
