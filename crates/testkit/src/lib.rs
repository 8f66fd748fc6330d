//! Test support shared by the crates' tests: a private PostgreSQL cluster,
//! and [`copy_dir`] for copies of data directories.
//!
//! [`PgCluster::start`] runs `initdb` in a temporary directory and starts
//! `postgres` on a free loopback port (trust authentication, user
//! `postgres`), as the `postgres` user when the tests run as root. A
//! watchdog shell stops the server and removes its directory when the
//! cluster is dropped or the test process dies, whichever comes first.
//!
//! [`shared`] is one cluster per test process; set
//! `CHITIEU_TEST_POSTGRES_URL` (a URL of a database the tests may create
//! databases from) to use a running server instead, as `.ci/run` does.
//! There is no silent skip: without a server and without PostgreSQL's
//! binaries, the tests that need one fail saying so.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A PostgreSQL server the tests may use.
pub struct PgCluster {
    /// URL of its maintenance database (`postgres`).
    pub url: String,
    port: u16,
    dir: Option<PathBuf>,
    bin: Option<PathBuf>,
    watchdog: Option<Child>,
}

fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CHITIEU_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .filter(|p| p.join("postgres").exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "these tests need a PostgreSQL server: install Debian's `postgresql` \
             package, or set CHITIEU_TEST_POSTGRES_URL to a running one"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command run as the `postgres` user when we are root (initdb refuses root).
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.arg("-u").arg("postgres").arg("--").arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

impl PgCluster {
    /// Starts a private cluster (see the crate docs).
    pub fn start() -> PgCluster {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("chitieu-pg-")
            .tempdir()
            .unwrap()
            .keep();
        if is_root() {
            let status = Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(&dir)
                .status()
                .unwrap();
            assert!(status.success(), "chown of the cluster directory failed");
        }
        let data = dir.join("data");
        let out = as_owner(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let mut cluster = PgCluster {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            port,
            dir: Some(dir),
            bin: Some(bin),
            watchdog: None,
        };
        cluster.launch();
        cluster
    }

    /// Starts `postgres` under a watchdog that stops it when this process
    /// dies or the watchdog is killed.
    fn launch(&mut self) {
        let (Some(dir), Some(bin)) = (&self.dir, &self.bin) else {
            return;
        };
        let data = dir.join("data");
        let runner = if is_root() {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let script = format!(
            "{runner}{postgres} -D {data} -p {port} -h 127.0.0.1 -k {sock} \
               -c fsync=on -c synchronous_commit=on -c max_connections=200 \
               -c shared_buffers=128MB >>{log} 2>&1 &\n\
             while kill -0 {parent} 2>/dev/null; do sleep 0.3; done\n\
             pid=$(head -1 {data}/postmaster.pid 2>/dev/null)\n\
             [ -n \"$pid\" ] && kill -INT $pid\n",
            postgres = bin.join("postgres").display(),
            data = data.display(),
            port = self.port,
            sock = dir.display(),
            log = dir.join("postgres.log").display(),
            parent = std::process::id(),
        );
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        self.watchdog = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                // Accepting connections on the port; give startup a moment
                // to finish recovery before the first query.
                std::thread::sleep(Duration::from_millis(100));
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("PostgreSQL did not start; see its log in {:?}", self.dir);
    }

    /// Stops the server (a fast shutdown: open connections are cut) and
    /// waits until it has exited.
    pub fn stop(&mut self) {
        let Some(mut watchdog) = self.watchdog.take() else {
            return;
        };
        if let Some(dir) = &self.dir {
            let pidfile = dir.join("data").join("postmaster.pid");
            let pid = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|s| s.lines().next().map(str::to_owned));
            if let Some(pid) = pid {
                let _ = Command::new("kill").arg("-INT").arg(&pid).status();
                let deadline = Instant::now() + Duration::from_secs(30);
                while pidfile.exists() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        let _ = watchdog.kill();
        let _ = watchdog.wait();
    }

    /// Starts the server again on the same port and data.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// A new, empty database on this server; returns its URL.
    pub async fn fresh_database(&self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "chitieu_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        // The port accepts before recovery ends ("the database system is
        // starting up"), later on a loaded machine: retry for a while, and
        // say the server's own words if it never answers.
        let deadline = Instant::now() + Duration::from_secs(30);
        let (client, connection) = loop {
            match tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await {
                Ok(connected) => break connected,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("connecting to {}: {e:?}", self.url),
            }
        };
        let task = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        drop(client);
        let _ = task.await;
        match self.url.rfind('/') {
            Some(slash) => format!("{}/{name}", &self.url[..slash]),
            None => panic!("no database in {}", self.url),
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// One server per test process: `CHITIEU_TEST_POSTGRES_URL`, or a private
/// cluster started on first use (stopped by its watchdog when the process ends).
pub fn shared() -> &'static PgCluster {
    static SHARED: OnceLock<PgCluster> = OnceLock::new();
    SHARED.get_or_init(|| match std::env::var("CHITIEU_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => PgCluster {
            url,
            port: 0,
            dir: None,
            bin: None,
            watchdog: None,
        },
        _ => {
            let cluster = PgCluster::start();
            // The watchdog removes nothing; the directory stays in /tmp
            // until the next boot unless we remove it when postgres exits.
            if let Some(dir) = &cluster.dir {
                let dir = dir.clone();
                let parent = std::process::id();
                let _ = Command::new("sh")
                    .arg("-c")
                    .arg(format!(
                        "while kill -0 {parent} 2>/dev/null; do sleep 0.5; done; sleep 2; rm -rf {}",
                        dir.display()
                    ))
                    .stdin(Stdio::null())
                    .spawn();
            }
            cluster
        }
    })
}

/// Copies a directory tree (a closed log's or a data directory's files).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
