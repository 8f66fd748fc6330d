//! `deploy/`: every file checked as far as this machine can. The systemd
//! unit by `systemd-analyze` and by running its command line as the unit
//! would; the Kubernetes manifests and the compose file against their
//! schemas; every variable, flag and configuration file any deploy file
//! gives the binary through the binary itself (`serve --check-config`);
//! the image built where Docker or Podman can build it.
//!
//! Tools missing here say SKIPPED; `CHITIEU_REQUIRE_DEPLOY_TOOLS=1` (set by
//! `.ci/run`, which installs them) makes a missing tool a failure.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn deploy(path: &str) -> PathBuf {
    repo().join("deploy").join(path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const BIN: &str = env!("CARGO_BIN_EXE_chitieu");

/// Whether `tool` can run; a missing tool skips the test, or fails it when
/// the tools are required.
fn have(tool: &str, test: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var("CHITIEU_REQUIRE_DEPLOY_TOOLS").as_deref() != Ok("1"),
            "{tool} is required (CHITIEU_REQUIRE_DEPLOY_TOOLS=1) and missing"
        );
        eprintln!("SKIPPED {test}: {tool} is not installed");
    }
    found
}

/// The unit's `[Service]` settings, in order (a key may repeat).
fn unit_settings() -> Vec<(String, String)> {
    read(&deploy("systemd/chitieu.service"))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// The unit with its binary at the path of this build.
fn unit_here(dir: &Path) -> PathBuf {
    let unit = read(&deploy("systemd/chitieu.service")).replace("/usr/local/bin/chitieu", BIN);
    let path = dir.join("chitieu.service");
    std::fs::write(&path, unit).unwrap();
    path
}

#[test]
fn the_unit_passes_systemd_analyze_with_a_low_exposure() {
    if !have("systemd-analyze", "the_unit_passes_systemd_analyze") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_here(dir.path());
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    // verify warns about unknown keys and bad values without failing:
    // any word from it is a failure here.
    assert!(
        out.status.success() && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&unit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let exposure: f64 = text
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for chitieu.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {text}"));
    assert!(exposure <= 2.0, "exposure {exposure} > 2.0: {text}");
}

#[test]
fn kubernetes_manifests_and_the_compose_file_pass_their_schemas() {
    if have("kubernetes-validate", "kubernetes manifests") {
        let manifests: Vec<PathBuf> = std::fs::read_dir(deploy("kubernetes"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        assert!(manifests.len() >= 2);
        let out = Command::new("kubernetes-validate")
            .args(["--strict", "--quiet"])
            .args(&manifests)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubernetes-validate: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if have("check-jsonschema", "the compose file") {
        let out = Command::new("check-jsonschema")
            .args(["--builtin-schema", "vendor.compose-spec"])
            .arg(deploy("compose.yaml"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "compose-spec: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// One way a deploy file starts the binary.
#[derive(Debug)]
struct Invocation {
    from: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    /// Paths inside the container or machine → files here.
    files: BTreeMap<String, String>,
}

impl Invocation {
    /// Runs it through the binary: `serve` (or `demo`) with
    /// `--check-config`, any other command with `--help` (which parses
    /// every flag before it). Panics with the binary's words on refusal.
    fn check(&self, scratch: &Path) {
        let mut args: Vec<String> = self
            .args
            .iter()
            .map(|a| self.files.get(a).cloned().unwrap_or_else(|| a.clone()))
            .collect();
        let serving = matches!(args.first().map(String::as_str), Some("serve" | "demo"));
        args.push(if serving { "--check-config" } else { "--help" }.into());
        let mut env = self.env.clone();
        for value in env.values_mut() {
            if let Some(here) = self.files.get(value.as_str()) {
                value.clone_from(here);
            }
        }
        // The data directory of the container is a directory here.
        if let Some(dir) = env.get_mut("CHITIEU_DATA_DIR") {
            *dir = scratch
                .join(dir.trim_start_matches('/'))
                .display()
                .to_string();
        }
        for name in env.keys() {
            assert!(
                name.starts_with("CHITIEU_") || name == "RUST_LOG",
                "{}: the binary reads no variable {name}",
                self.from
            );
        }
        let out = Command::new(BIN)
            .args(&args)
            .env_clear()
            .envs(&env)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: `chitieu {}` with {env:?} refused:\n{}",
            self.from,
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Joins continuation lines of a Dockerfile.
fn dockerfile_instructions() -> Vec<(String, String)> {
    let text = read(&deploy("Dockerfile"));
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() && current.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .into_iter()
        .filter_map(|l| {
            let (instruction, rest) = l.split_once(' ')?;
            Some((instruction.to_ascii_uppercase(), rest.trim().to_owned()))
        })
        .collect()
}

/// The runtime image: its environment, entrypoint, command and health check.
struct Image {
    env: BTreeMap<String, String>,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    health: Vec<String>,
}

fn image() -> Image {
    let instructions = dockerfile_instructions();
    // The last stage is the runtime.
    let last_from = instructions.iter().rposition(|(i, _)| i == "FROM").unwrap();
    let mut image = Image {
        env: BTreeMap::new(),
        entrypoint: Vec::new(),
        cmd: Vec::new(),
        health: Vec::new(),
    };
    let array = |text: &str| -> Vec<String> {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not an exec-form array: {text}: {e}"))
    };
    for (instruction, rest) in &instructions[last_from..] {
        match instruction.as_str() {
            "ENV" => {
                for pair in rest.split_whitespace() {
                    let (k, v) = pair.split_once('=').unwrap();
                    image.env.insert(k.into(), v.into());
                }
            }
            "ENTRYPOINT" => image.entrypoint = array(rest),
            "CMD" => image.cmd = array(rest),
            "HEALTHCHECK" => {
                let command = rest.split_once("CMD ").unwrap().1;
                image.health = array(command);
            }
            _ => {}
        }
    }
    assert_eq!(
        image.entrypoint,
        ["chitieu"],
        "the image's entrypoint is the binary"
    );
    image
}

fn yaml_documents(path: &Path) -> Vec<Value> {
    use serde::Deserialize;
    serde_yaml_ng::Deserializer::from_str(&read(path))
        .map(|document| {
            let mut value = serde_yaml_ng::Value::deserialize(document).unwrap();
            value.apply_merge().unwrap();
            serde_json::to_value(value).unwrap()
        })
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_setting_a_deploy_file_gives_the_binary_is_one_it_accepts() {
    let scratch = tempfile::tempdir().unwrap();
    let mut invocations = Vec::new();

    // The image.
    let image = image();
    invocations.push(Invocation {
        from: "Dockerfile CMD".into(),
        args: image.cmd.clone(),
        env: image.env.clone(),
        files: BTreeMap::new(),
    });
    invocations.push(Invocation {
        from: "Dockerfile HEALTHCHECK".into(),
        args: image.health[1..].to_vec(),
        env: image.env.clone(),
        files: BTreeMap::new(),
    });

    // The compose file: services of the chitieu image, over the image's
    // environment.
    let compose = yaml_documents(&deploy("compose.yaml")).remove(0);
    let mut nodes = 0;
    for (name, service) in compose["services"].as_object().unwrap() {
        if !service["image"]
            .as_str()
            .unwrap_or("")
            .starts_with("chitieu")
        {
            continue;
        }
        let mut env = image.env.clone();
        for (k, v) in service["environment"].as_object().into_iter().flatten() {
            env.insert(k.clone(), v.as_str().unwrap().to_owned());
        }
        let args = match service.get("command") {
            Some(command) => strings(command),
            None => image.cmd.clone(),
        };
        nodes += usize::from(args.first().map(String::as_str) == Some("serve"));
        invocations.push(Invocation {
            from: format!("compose.yaml service {name}"),
            args,
            env,
            files: BTreeMap::new(),
        });
    }
    assert_eq!(nodes, 3, "the compose file starts three API nodes");

    // Kubernetes: every container of the chitieu image, with the
    // configuration files its ConfigMaps mount.
    for file in ["kubernetes/embedded.yaml", "kubernetes/shared-log.yaml"] {
        let documents = yaml_documents(&deploy(file));
        let mut config_maps = BTreeMap::new();
        for document in &documents {
            if document["kind"] == "ConfigMap" {
                for (key, text) in document["data"].as_object().unwrap() {
                    let here = scratch.path().join(format!(
                        "{}-{key}",
                        document["metadata"]["name"].as_str().unwrap()
                    ));
                    std::fs::write(&here, text.as_str().unwrap()).unwrap();
                    config_maps.insert(
                        document["metadata"]["name"].as_str().unwrap().to_owned(),
                        (key.clone(), here),
                    );
                }
            }
        }
        for document in &documents {
            let spec = &document["spec"]["template"]["spec"];
            let mut volumes = BTreeMap::new();
            for volume in spec["volumes"].as_array().into_iter().flatten() {
                if let Some(map) = volume["configMap"]["name"].as_str() {
                    volumes.insert(volume["name"].as_str().unwrap().to_owned(), map.to_owned());
                }
            }
            let containers = strings_of(&spec["containers"])
                .into_iter()
                .chain(strings_of(&spec["initContainers"]));
            for container in containers {
                if !container["image"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("chitieu")
                {
                    continue;
                }
                let mut env = image.env.clone();
                for variable in container["env"].as_array().into_iter().flatten() {
                    let name = variable["name"].as_str().unwrap().to_owned();
                    let value = match variable["value"].as_str() {
                        Some(value) => value.to_owned(),
                        // From a Secret: the form the Secret must hold.
                        None if name == "CHITIEU_LOG" => {
                            "postgres://chitieu@db:5432/chitieu".into()
                        }
                        None => panic!("{file}: {name} has neither a value nor a known secret"),
                    };
                    env.insert(name, value);
                }
                let mut files = BTreeMap::new();
                for mount in container["volumeMounts"].as_array().into_iter().flatten() {
                    if let Some(map) = volumes.get(mount["name"].as_str().unwrap()) {
                        let (key, here) = &config_maps[map];
                        files.insert(
                            format!("{}/{key}", mount["mountPath"].as_str().unwrap()),
                            here.display().to_string(),
                        );
                    }
                }
                let args = match container.get("args") {
                    Some(args) => strings(args),
                    None => image.cmd.clone(),
                };
                invocations.push(Invocation {
                    from: format!("{file} container {}", container["name"]),
                    args,
                    env,
                    files,
                });
            }
        }
    }

    // The systemd unit, with its environment file.
    let settings = unit_settings();
    let mut env = BTreeMap::new();
    for (key, value) in &settings {
        if key == "Environment" {
            let (k, v) = value.split_once('=').unwrap();
            env.insert(k.to_owned(), v.to_owned());
        }
    }
    env.extend(env_file());
    let mut files = BTreeMap::new();
    files.insert(
        "/etc/chitieu/chitieu.toml".to_owned(),
        deploy("systemd/chitieu.toml").display().to_string(),
    );
    for (key, value) in &settings {
        if key == "ExecStart" || key == "ExecStartPre" {
            let args: Vec<String> = value
                .split_whitespace()
                .skip(1)
                .map(str::to_owned)
                .collect();
            invocations.push(Invocation {
                from: format!("chitieu.service {key}"),
                args,
                env: env.clone(),
                files: files.clone(),
            });
        }
    }

    assert!(invocations.len() >= 10, "{invocations:#?}");
    for invocation in &invocations {
        invocation.check(scratch.path());
    }

    // And the check can fail: a misspelt variable is refused.
    let mut wrong = invocations.remove(0);
    wrong.env.insert("CHITIEU_LISTN".into(), "0.0.0.0:1".into());
    let refused = std::panic::catch_unwind(|| wrong.check(scratch.path()));
    assert!(refused.is_err(), "an unknown CHITIEU_ variable passed");
}

fn strings_of(value: &Value) -> Vec<Value> {
    value.as_array().cloned().unwrap_or_default()
}

/// `deploy/systemd/chitieu.env`, as systemd reads it.
fn env_file() -> BTreeMap<String, String> {
    read(&deploy("systemd/chitieu.env"))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// Starts the unit's command line as systemd would: its environment (the
/// unit's, then its environment file), its working directory (the state
/// directory), `ExecStartPre` first. The only changes: paths of this
/// machine for the binary, the state directory and the configuration
/// file, and port 0 for the listeners (tests run side by side).
fn start_as_the_unit(state: &Path) -> (std::process::Child, String, String) {
    let settings = unit_settings();
    let here = |value: &str| {
        value
            .replace("/usr/local/bin/chitieu", BIN)
            .replace("/var/lib/chitieu", &state.display().to_string())
            .replace(
                "/etc/chitieu/chitieu.toml",
                &deploy("systemd/chitieu.toml").display().to_string(),
            )
    };
    let mut env = BTreeMap::new();
    for (key, value) in &settings {
        if key == "Environment" {
            let (k, v) = value.split_once('=').unwrap();
            env.insert(k.to_owned(), here(v));
        }
    }
    for (k, v) in env_file() {
        let v = if k.ends_with("LISTEN") {
            v.rsplit_once(':')
                .map(|(host, _)| format!("{host}:0"))
                .unwrap()
        } else {
            v
        };
        env.insert(k, v);
    }
    env.insert("RUST_LOG".into(), "warn".into());
    let working = here(
        &settings
            .iter()
            .find(|(k, _)| k == "WorkingDirectory")
            .unwrap()
            .1,
    );
    std::fs::create_dir_all(&working).unwrap();
    let command = |key: &str| -> Vec<String> {
        let line = &settings.iter().find(|(k, _)| k == key).unwrap().1;
        here(line).split_whitespace().map(str::to_owned).collect()
    };
    let pre = command("ExecStartPre");
    let out = Command::new(&pre[0])
        .args(&pre[1..])
        .env_clear()
        .envs(&env)
        .current_dir(&working)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ExecStartPre: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let start = command("ExecStart");
    let mut child = Command::new(&start[0])
        .args(&start[1..])
        .env_clear()
        .envs(&env)
        .current_dir(&working)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut url, mut metrics) = (String::new(), String::new());
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("chitieu: GraphQL at ") {
                url = rest.trim().to_owned();
            }
            if let Some(rest) = line.strip_prefix("chitieu: metrics at ") {
                metrics = rest.trim().to_owned();
            }
            if line == "chitieu: ready" {
                let _ = tx.send((url.clone(), metrics.clone()));
            }
        }
    });
    let (url, metrics) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the unit's command line did not start");
    (child, url, metrics)
}

/// SIGTERM, as `KillSignal=` says, and the exit within `TimeoutStopSec=`.
fn stop_as_systemd(child: &mut std::process::Child) {
    let settings = unit_settings();
    assert_eq!(
        settings.iter().find(|(k, _)| k == "KillSignal").unwrap().1,
        "SIGTERM"
    );
    let timeout: u64 = settings
        .iter()
        .find(|(k, _)| k == "TimeoutStopSec")
        .unwrap()
        .1
        .parse()
        .unwrap();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "stopped with {status}");
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not stopped within TimeoutStopSec={timeout}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn the_unit_command_line_runs_as_the_unit_would() {
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().join("var/lib/chitieu");
    let client = reqwest::Client::new();

    // First start: an empty store, ready, metrics on their own listener,
    // and nothing readable without a token.
    let (mut child, url, metrics) = start_as_the_unit(&state_dir);
    assert!(
        !metrics.starts_with(url.trim_end_matches("/graphql")),
        "metrics on the public listener: {metrics}"
    );
    let base = url.trim_end_matches("/graphql");
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let scraped = client.get(&metrics).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.unwrap().contains("chitieu_build_info"));
    assert_eq!(
        client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let anonymous = client
        .post(&url)
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // The container's health check asks the same server.
    let health = Command::new(BIN)
        .args(["health", "--url", &format!("{base}/readyz")])
        .output()
        .unwrap();
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );
    stop_as_systemd(&mut child);

    // The first admin, as deploy/README.md says (server stopped), then a
    // second start that knows it.
    let token_file = state_dir.join("admin-token");
    let out = Command::new(BIN)
        .args(["token", "create-admin", "--if-none", "--data-dir"])
        .arg(&state_dir)
        .arg("--token-file")
        .arg(&token_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = Command::new(BIN)
        .args(["token", "create-admin", "--if-none", "--data-dir"])
        .arg(&state_dir)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("no admin created"));
    let token = std::fs::read_to_string(&token_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (mut child, url, _) = start_as_the_unit(&state_dir);
    let me: Value = client
        .post(&url)
        .bearer_auth(token.trim())
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["me"]["id"], "admin", "{me}");
    // Its health check fails once it is gone.
    stop_as_systemd(&mut child);
    let health = Command::new(BIN)
        .args([
            "health",
            "--url",
            &format!("{base}/readyz"),
            "--timeout-ms",
            "500",
        ])
        .output()
        .unwrap();
    assert!(!health.status.success());
}

#[test]
fn the_image_builds_where_a_container_engine_can() {
    let engine = ["docker", "podman"].into_iter().find(|engine| {
        Command::new(engine)
            .arg("info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    let Some(engine) = engine else {
        eprintln!(
            "SKIPPED the_image_builds_where_a_container_engine_can: no Docker or Podman daemon answers `info`"
        );
        return;
    };
    let tag = format!("chitieu-test:{}", std::process::id());
    let built = Command::new(engine)
        .args(["build", "-f", "deploy/Dockerfile", "-t", &tag, "."])
        .current_dir(repo())
        .status()
        .unwrap();
    assert!(built.success(), "{engine} build failed");
    // The image runs as its own user and its binary answers.
    let out = Command::new(engine)
        .args([
            "run",
            "--rm",
            &tag,
            "config",
            "check",
            "/usr/local/share/doc/chitieu/chitieu.example.toml",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let user = Command::new(engine)
        .args(["image", "inspect", "--format", "{{.Config.User}}", &tag])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&user.stdout).trim(), "10001:10001");
    let _ = Command::new(engine).args(["rmi", "-f", &tag]).status();
}

/// The commands of deploy/README.md's "Back up" and "Restore", as written.
#[tokio::test]
async fn the_backup_and_restore_of_the_readme_give_back_the_same_history() {
    let readme = read(&deploy("README.md"));
    for step in [
        "chitieu log copy --from /var/lib/chitieu",
        "chitieu log verify --data-dir",
        "chitieu log copy --from /backup/chitieu-2026-12-01 --to /var/lib/chitieu",
        "chitieu verify --data-dir /var/lib/chitieu",
    ] {
        assert!(
            readme.contains(step),
            "deploy/README.md no longer says `{step}`"
        );
    }
    let mut app = crate::helpers::spawn_app().await;
    let before = app
        .gql("auditor", "{ ledger { position hash } }", json!({}))
        .await;
    app.stop();
    let backups = tempfile::tempdir().unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "chitieu {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let backup = backups.path().join("chitieu-2026-12-01");
    let restored = backups.path().join("restored");
    let os = |s: &str| std::ffi::OsString::from(s);
    run(&[
        &os("log"),
        &os("copy"),
        &os("--from"),
        app.data_dir.as_os_str(),
        &os("--to"),
        backup.as_os_str(),
    ]);
    let position = before["ledger"]["position"].as_u64().unwrap();
    let hash = before["ledger"]["hash"].as_str().unwrap();
    let verified = run(&[
        &os("log"),
        &os("verify"),
        &os("--data-dir"),
        backup.as_os_str(),
    ]);
    assert!(
        verified.contains(&format!("head {position} {hash}")),
        "{verified}"
    );
    run(&[
        &os("log"),
        &os("copy"),
        &os("--from"),
        backup.as_os_str(),
        &os("--to"),
        restored.as_os_str(),
    ]);
    run(&[&os("verify"), &os("--data-dir"), restored.as_os_str()]);
    // The server on the restored directory: read models rebuilt, the same
    // head. (The demo's token file is not in the log: carried over so that
    // the restart issues no token and the head stays where it was.)
    std::fs::copy(
        app.data_dir.join("demo-tokens.json"),
        restored.join("demo-tokens.json"),
    )
    .unwrap();
    app.data_dir = restored;
    app.restart().await;
    let after = app
        .gql("auditor", "{ ledger { position hash } }", json!({}))
        .await;
    assert_eq!(after["ledger"]["position"], before["ledger"]["position"]);
    assert_eq!(after["ledger"]["hash"], before["ledger"]["hash"]);
}
