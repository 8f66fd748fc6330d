//! [`PgLog`]: the log in PostgreSQL, shared by several API nodes.
//!
//! **One sequencer, in the database.** Each node sends its appends to a
//! writer task that takes every append waiting and runs them in one
//! transaction: it locks the single row of `chitieu_head` (`FOR UPDATE`),
//! reads the versions of every stream the group writes or is conditional
//! on and the idempotency keys it uses, judges and seals the group with the
//! same [`Sequencer`] as every backend, inserts the records, moves the head
//! and commits (`synchronous_commit = on`). The row lock serialises all
//! nodes' groups, so positions stay gap-free and the hash chain stays one
//! chain; `UNIQUE (stream, version)` and `UNIQUE (idem_key)` back it up.
//! An append is acknowledged only after its transaction committed.
//!
//! **Reads are local.** Each node follows the table into its own local
//! copy of the log (any [`EventLog`]: a sled directory in the server, memory
//! in tests) by position, woken by `LISTEN chitieu_log` (and by its own
//! commits), and answers reads from that copy, so the read side never waits
//! on the network. An append returns once the local copy holds it
//! (read-your-writes on the node that wrote); [`EventLog::sync`] waits for
//! everything another node committed before it was called.
//!
//! **Faults.** A lost connection fails the appends in flight with
//! [`StoreError::Unavailable`] (retryable: an in-doubt commit is resolved by
//! retrying with the same idempotency key); the next group reconnects. The
//! follower reconnects by itself with a growing pause.

use crate::error::{AppendError, StoreError};
use crate::log::{
    AppendOutcome, AppendRequest, BoxFuture, ChainWalker, CommitStats, EventLog, Head,
    IdempotencyEntry, Log, RawRecord, VerifyReport,
};
use crate::memory::MemoryLog;
use crate::record::RecordedEvent;
use crate::sequencer::{validate, Lookup, Sequencer};
use crate::sled_log::SledLog;
use chitieu_domain::StreamId;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio_postgres::{AsyncMessage, Client, NoTls};

/// The schema version this binary creates and expects.
const SCHEMA_VERSION: i32 = 1;
/// Most records pulled into the local copy per query.
const PULL_PAGE: i64 = 5_000;
/// How long the follower sleeps without a notification before looking anyway.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// Longest wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema, created and migrated by the binary (idempotent).
const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS chitieu_schema (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    version integer NOT NULL
);
CREATE TABLE IF NOT EXISTS chitieu_head (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    position bigint NOT NULL,
    hash bytea NOT NULL,
    recorded_at_micros bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS chitieu_events (
    position bigint PRIMARY KEY,
    stream text NOT NULL,
    version bigint NOT NULL,
    record bytea NOT NULL,
    idem_key text UNIQUE,
    idem_fingerprint bytea,
    idem_first bigint,
    UNIQUE (stream, version)
);
";

/// How to reach the shared log and where this node keeps its copy.
#[derive(Debug, Clone)]
pub struct PgConfig {
    /// `postgres://user@host:port/database` (or `postgresql://…`).
    pub url: String,
    /// Directory of this node's local copy (a sled log); `None` keeps it
    /// in memory (tests).
    pub replica: Option<PathBuf>,
    /// Most appends of this node committed in one transaction.
    pub max_group: usize,
}

impl PgConfig {
    /// Defaults, with the local copy in `replica`.
    pub fn new(url: &str, replica: &std::path::Path) -> Self {
        PgConfig {
            url: url.to_owned(),
            replica: Some(replica.to_owned()),
            max_group: 1024,
        }
    }

    /// Defaults, with the local copy in memory.
    pub fn in_memory(url: &str) -> Self {
        PgConfig {
            url: url.to_owned(),
            replica: None,
            max_group: 1024,
        }
    }
}

struct Job {
    request: AppendRequest,
    reply: oneshot::Sender<Result<AppendOutcome, AppendError>>,
}

#[derive(Default)]
struct Stats {
    appends: AtomicU64,
    groups: AtomicU64,
    commits: AtomicU64,
}

/// The shared log in PostgreSQL (see the module docs).
pub struct PgLog {
    url: String,
    local: Log,
    jobs: std::sync::Mutex<Option<mpsc::UnboundedSender<Job>>>,
    wake: Arc<Notify>,
    stats: Arc<Stats>,
    stop: watch::Sender<bool>,
}

fn unavailable(error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

async fn connect(url: &str, wake: Option<Arc<Notify>>) -> Result<Client, StoreError> {
    let connecting = tokio_postgres::connect(url, NoTls);
    let (client, mut connection) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| unavailable("connecting to PostgreSQL timed out"))?
        .map_err(unavailable)?;
    tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(_))) => {
                    if let Some(wake) = &wake {
                        wake.notify_one();
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    tracing::warn!(%error, "PostgreSQL connection lost");
                    break;
                }
                None => break,
            }
        }
        if let Some(wake) = &wake {
            wake.notify_one();
        }
    });
    client
        .batch_execute("SET synchronous_commit TO on")
        .await
        .map_err(unavailable)?;
    Ok(client)
}

/// Creates the schema, or checks that an existing one is ours.
async fn migrate(client: &Client) -> Result<(), StoreError> {
    // Several nodes may start at once: serialise the creation.
    client
        .batch_execute("SELECT pg_advisory_lock(7273656)")
        .await
        .map_err(unavailable)?;
    let created = async {
        client.batch_execute(SCHEMA).await.map_err(unavailable)?;
        client
            .execute(
                "INSERT INTO chitieu_head (position, hash, recorded_at_micros) \
                 VALUES (0, $1, $2) ON CONFLICT (id) DO NOTHING",
                &[&vec![0u8; 32], &i64::MIN],
            )
            .await
            .map_err(unavailable)?;
        client
            .execute(
                "INSERT INTO chitieu_schema (version) VALUES ($1) ON CONFLICT (id) DO NOTHING",
                &[&SCHEMA_VERSION],
            )
            .await
            .map_err(unavailable)?;
        let row = client
            .query_one("SELECT version FROM chitieu_schema", &[])
            .await
            .map_err(unavailable)?;
        let found: i32 = row.get(0);
        if found != SCHEMA_VERSION {
            return Err(StoreError::Backend(format!(
                "the database holds chitieu schema {found}; this binary knows {SCHEMA_VERSION}"
            )));
        }
        Ok(())
    }
    .await;
    client
        .batch_execute("SELECT pg_advisory_unlock(7273656)")
        .await
        .map_err(unavailable)?;
    created
}

fn hash32(bytes: &[u8], position: u64) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt {
        position,
        reason: "stored hash is not 32 bytes".into(),
    })
}

fn pos(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// What the group's transaction read of the stored log.
struct PgLookup {
    versions: HashMap<String, u64>,
    keys: HashMap<String, ([u8; 32], AppendOutcome)>,
}

impl Lookup for PgLookup {
    fn stream_version(&mut self, stream: &str) -> Result<u64, StoreError> {
        Ok(self.versions.get(stream).copied().unwrap_or(0))
    }

    fn idempotency(&mut self, key: &str) -> Result<Option<([u8; 32], AppendOutcome)>, StoreError> {
        Ok(self.keys.get(key).copied())
    }
}

impl PgLog {
    /// Connects, creates or checks the schema, brings the local copy up to
    /// the shared head, and starts the writer and the follower.
    pub async fn connect(config: PgConfig) -> Result<Self, StoreError> {
        let client = connect(&config.url, None).await?;
        migrate(&client).await?;
        let local: Log = match &config.replica {
            Some(path) => Arc::new(SledLog::open(path)?),
            None => Arc::new(MemoryLog::new()),
        };
        // A local copy must be a prefix of the shared log.
        let mine = local.head();
        if mine.position > 0 {
            let row = client
                .query_opt(
                    "SELECT record FROM chitieu_events WHERE position = $1",
                    &[&int(mine.position)],
                )
                .await
                .map_err(unavailable)?;
            let theirs = row.map(|r| r.get::<_, Vec<u8>>(0)).and_then(|bytes| {
                bytes
                    .get(bytes.len().saturating_sub(32)..)
                    .map(<[u8]>::to_vec)
            });
            if theirs.as_deref() != Some(&mine.hash[..]) {
                return Err(StoreError::Corrupt {
                    position: mine.position,
                    reason: "this node's local copy is not a prefix of the shared log; \
                             remove the replica directory to copy it again"
                        .into(),
                });
            }
        }
        drop(client);
        let wake = Arc::new(Notify::new());
        let (stop, stopped) = watch::channel(false);
        let (jobs_tx, jobs_rx) = mpsc::unbounded_channel();
        let stats = Arc::new(Stats::default());
        tokio::spawn(follow(
            config.url.clone(),
            local.clone(),
            wake.clone(),
            stopped.clone(),
        ));
        tokio::spawn(write(
            config.url.clone(),
            jobs_rx,
            config.max_group.max(1),
            local.clone(),
            wake.clone(),
            stats.clone(),
        ));
        let log = PgLog {
            url: config.url,
            local,
            jobs: std::sync::Mutex::new(Some(jobs_tx)),
            wake,
            stats,
            stop,
        };
        log.sync().await?;
        Ok(log)
    }

    async fn shared_head(&self) -> Result<Head, StoreError> {
        let client = connect(&self.url, None).await?;
        let row = client
            .query_one("SELECT position, hash FROM chitieu_head", &[])
            .await
            .map_err(unavailable)?;
        let position = pos(row.get(0));
        Ok(Head {
            position,
            hash: hash32(row.get::<_, &[u8]>(1), position)?,
        })
    }
}

/// Waits until `local` holds `position` (or gives up after `patience`).
async fn reached(local: &Log, position: u64, patience: Duration) -> bool {
    let mut head = local.watch_head();
    tokio::time::timeout(patience, head.wait_for(|h| h.position >= position))
        .await
        .is_ok_and(|r| r.is_ok())
}

/// The writer task: one transaction per group of this node's appends.
async fn write(
    url: String,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    max_group: usize,
    local: Log,
    wake: Arc<Notify>,
    stats: Arc<Stats>,
) {
    let mut client: Option<Client> = None;
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < max_group {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        stats.groups.fetch_add(1, Ordering::Relaxed);
        stats
            .appends
            .fetch_add(group.len() as u64, Ordering::Relaxed);
        if client.as_ref().is_none_or(Client::is_closed) {
            client = match connect(&url, None).await {
                Ok(c) => Some(c),
                Err(error) => {
                    for job in group {
                        let _ = job
                            .reply
                            .send(Err(AppendError::Store(StoreError::Unavailable(
                                error.to_string(),
                            ))));
                    }
                    continue;
                }
            };
        }
        let Some(conn) = client.as_mut() else {
            continue;
        };
        let requests: Vec<&AppendRequest> = group.iter().map(|j| &j.request).collect();
        match commit_group(conn, &requests).await {
            Ok((results, head)) => {
                stats.commits.fetch_add(1, Ordering::Relaxed);
                if let Some(head) = head {
                    wake.notify_one();
                    // Read-your-writes on this node: answer once the local
                    // copy holds the group (it is committed either way).
                    reached(&local, head.position, Duration::from_secs(10)).await;
                }
                for (job, result) in group.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(error) => {
                tracing::warn!(%error, "a group of appends failed; they may be retried");
                if conn.is_closed() {
                    client = None;
                }
                for job in group {
                    let _ = job
                        .reply
                        .send(Err(AppendError::Store(StoreError::Unavailable(format!(
                            "{error}; retry with the same idempotency key"
                        )))));
                }
            }
        }
    }
}

/// Columns of sealed records, for one multi-row insert.
#[derive(Default)]
struct Rows {
    positions: Vec<i64>,
    streams: Vec<String>,
    versions: Vec<i64>,
    records: Vec<Vec<u8>>,
    keys: Vec<Option<String>>,
    fingerprints: Vec<Option<Vec<u8>>>,
    firsts: Vec<Option<i64>>,
}

/// Stores a sealed group and moves the head, inside the caller's
/// transaction (which holds the head's row lock), and wakes every follower.
async fn store_group(
    tx: &tokio_postgres::Transaction<'_>,
    group: &Sequencer,
) -> Result<(), tokio_postgres::Error> {
    let mut rows = Rows::default();
    for sealed in &group.sealed {
        let entry = sealed.idempotency.as_ref();
        rows.positions.push(int(sealed.position));
        rows.streams.push(sealed.stream.clone());
        rows.versions.push(int(sealed.version));
        rows.records.push(sealed.bytes.clone());
        rows.keys.push(entry.map(|e| e.key.clone()));
        rows.fingerprints
            .push(entry.map(|e| e.fingerprint.to_vec()));
        rows.firsts.push(entry.map(|e| int(e.first_position)));
    }
    tx.execute(
        "INSERT INTO chitieu_events \
         (position, stream, version, record, idem_key, idem_fingerprint, idem_first) \
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bytea[], \
                              $5::text[], $6::bytea[], $7::bigint[])",
        &[
            &rows.positions,
            &rows.streams,
            &rows.versions,
            &rows.records,
            &rows.keys,
            &rows.fingerprints,
            &rows.firsts,
        ],
    )
    .await?;
    tx.execute(
        "UPDATE chitieu_head SET position = $1, hash = $2, recorded_at_micros = $3",
        &[
            &int(group.head.position),
            &group.head.hash.to_vec(),
            &group.last_micros,
        ],
    )
    .await?;
    tx.batch_execute("NOTIFY chitieu_log").await
}

/// Locks the head (the single sequencer) and reads it.
async fn lock_head(
    tx: &tokio_postgres::Transaction<'_>,
) -> Result<(Head, i64), tokio_postgres::Error> {
    let row = tx
        .query_one(
            "SELECT position, hash, recorded_at_micros FROM chitieu_head FOR UPDATE",
            &[],
        )
        .await?;
    let position = pos(row.get(0));
    let hash: [u8; 32] = row.get::<_, &[u8]>(1).try_into().unwrap_or([0; 32]);
    Ok((Head { position, hash }, row.get(2)))
}

/// Reads what the sequencer needs of the stored log: the versions of
/// `streams` and the entries of idempotency `keys`.
async fn read_lookup(
    tx: &tokio_postgres::Transaction<'_>,
    mut streams: Vec<String>,
    keys: Vec<String>,
) -> Result<PgLookup, tokio_postgres::Error> {
    streams.sort_unstable();
    streams.dedup();
    let mut lookup = PgLookup {
        versions: HashMap::new(),
        keys: HashMap::new(),
    };
    for row in tx
        .query(
            "SELECT stream, max(version) FROM chitieu_events WHERE stream = ANY($1) GROUP BY stream",
            &[&streams],
        )
        .await?
    {
        lookup.versions.insert(row.get(0), pos(row.get(1)));
    }
    if !keys.is_empty() {
        for row in tx
            .query(
                "SELECT idem_key, idem_fingerprint, idem_first, position, version \
                 FROM chitieu_events WHERE idem_key = ANY($1)",
                &[&keys],
            )
            .await?
        {
            let fingerprint: [u8; 32] = row.get::<_, &[u8]>(1).try_into().unwrap_or([0; 32]);
            let outcome = AppendOutcome {
                first_position: pos(row.get(2)),
                last_position: pos(row.get(3)),
                stream_version: pos(row.get(4)),
                replayed: true,
            };
            lookup.keys.insert(row.get(0), (fingerprint, outcome));
        }
    }
    Ok(lookup)
}

type GroupResults = (Vec<Result<AppendOutcome, AppendError>>, Option<Head>);

/// Judges, seals and commits one group in one transaction.
async fn commit_group(
    client: &mut Client,
    requests: &[&AppendRequest],
) -> Result<GroupResults, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let (head, last_micros) = lock_head(&tx).await?;
    let mut streams: Vec<String> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for request in requests {
        streams.push(request.stream.0.clone());
        streams.extend(request.conditions.iter().map(|c| c.stream.0.clone()));
        keys.extend(request.idempotency_key.clone());
    }
    let mut lookup = read_lookup(&tx, streams, keys).await?;
    let mut group = Sequencer::new(head, last_micros, chrono::Utc::now().timestamp_micros());
    let results: Vec<_> = requests
        .iter()
        .map(|request| group.append(&mut lookup, request))
        .collect();
    if group.is_empty() {
        tx.rollback().await?;
        return Ok((results, None));
    }
    store_group(&tx, &group).await?;
    tx.commit().await?;
    Ok((results, Some(group.head)))
}

/// Pulls committed records after `after` from the shared log.
async fn pull(client: &Client, after: u64) -> Result<Vec<RawRecord>, StoreError> {
    let rows = client
        .query(
            "SELECT position, record, idem_key, idem_fingerprint, idem_first \
             FROM chitieu_events WHERE position > $1 ORDER BY position LIMIT $2",
            &[&int(after), &PULL_PAGE],
        )
        .await
        .map_err(unavailable)?;
    rows.iter()
        .map(|row| {
            let position = pos(row.get(0));
            let idempotency = match row.get::<_, Option<String>>(2) {
                Some(key) => Some(IdempotencyEntry {
                    key,
                    fingerprint: hash32(row.get::<_, &[u8]>(3), position)?,
                    first_position: pos(row.get(4)),
                }),
                None => None,
            };
            Ok(RawRecord {
                position,
                bytes: row.get(1),
                idempotency,
            })
        })
        .collect()
}

/// The follower task: keeps the local copy up with the shared log.
async fn follow(url: String, local: Log, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    let mut pause = Duration::from_millis(100);
    while !*stop.borrow() {
        let client = match connect(&url, Some(wake.clone())).await {
            Ok(client) => client,
            Err(error) => {
                tracing::warn!(%error, "the log follower cannot reach PostgreSQL; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => {}
                }
                pause = (pause * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        if let Err(error) = client.batch_execute("LISTEN chitieu_log").await {
            tracing::warn!(%error, "LISTEN failed; retrying");
            continue;
        }
        pause = Duration::from_millis(100);
        loop {
            if *stop.borrow() {
                return;
            }
            let records = match pull(&client, local.head().position).await {
                Ok(records) => records,
                Err(error) => {
                    tracing::warn!(%error, "the log follower lost PostgreSQL; reconnecting");
                    break;
                }
            };
            let full = records.len() as i64 >= PULL_PAGE;
            if !records.is_empty() {
                if let Err(error) = local.import(records).await {
                    // The local copy refuses what does not continue it: a
                    // shared log rewritten under it. Stop following loudly.
                    tracing::error!(%error, "the shared log does not continue this node's copy; following stopped");
                    return;
                }
            }
            if full {
                continue;
            }
            if client.is_closed() {
                break;
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(POLL_EVERY) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

impl EventLog for PgLog {
    fn append(&self, request: AppendRequest) -> BoxFuture<'_, Result<AppendOutcome, AppendError>> {
        Box::pin(async move {
            // Refused here, not in the group's transaction, where text
            // PostgreSQL cannot hold (a NUL) would fail the whole group.
            validate(&request)?;
            let (reply, rx) = oneshot::channel();
            {
                let jobs = self.jobs.lock().map_err(|_| StoreError::Closed)?;
                let sender = jobs.as_ref().ok_or(StoreError::Closed)?;
                sender
                    .send(Job { request, reply })
                    .map_err(|_| StoreError::Closed)?;
            }
            rx.await
                .map_err(|_| AppendError::Store(StoreError::Closed))?
        })
    }

    fn import(&self, records: Vec<RawRecord>) -> BoxFuture<'_, Result<Head, AppendError>> {
        Box::pin(async move {
            let mut client = connect(&self.url, None).await?;
            let tx = client.transaction().await.map_err(unavailable)?;
            let (head, last_micros) = lock_head(&tx).await.map_err(unavailable)?;
            let mut streams = Vec::new();
            let mut keys = Vec::new();
            for raw in &records {
                streams.push(raw.decode()?.stream.0);
                keys.extend(raw.idempotency.as_ref().map(|e| e.key.clone()));
            }
            let mut lookup = read_lookup(&tx, streams, keys).await.map_err(unavailable)?;
            let mut group = Sequencer::new(head, last_micros, i64::MIN);
            for raw in records {
                group.import(&mut lookup, raw)?;
            }
            if group.is_empty() {
                return Ok(head);
            }
            store_group(&tx, &group).await.map_err(unavailable)?;
            tx.commit().await.map_err(unavailable)?;
            self.wake.notify_one();
            reached(&self.local, group.head.position, Duration::from_secs(30)).await;
            Ok(group.head)
        })
    }

    fn head(&self) -> Head {
        self.local.head()
    }

    fn watch_head(&self) -> watch::Receiver<Head> {
        self.local.watch_head()
    }

    fn sync(&self) -> BoxFuture<'_, Result<Head, StoreError>> {
        Box::pin(async move {
            let shared = self.shared_head().await?;
            self.wake.notify_one();
            if !reached(&self.local, shared.position, Duration::from_secs(30)).await {
                return Err(StoreError::Unavailable(format!(
                    "this node's copy did not reach position {} in time",
                    shared.position
                )));
            }
            Ok(shared)
        })
    }

    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawRecord>, StoreError> {
        self.local.read_raw(from, limit)
    }

    fn read_all(&self, from: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.local.read_all(from, limit)
    }

    fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.local.read_stream(stream, from_version, limit)
    }

    fn stream_version(&self, stream: &StreamId) -> Result<u64, StoreError> {
        self.local.stream_version(stream)
    }

    fn idempotency_record(
        &self,
        key: &str,
    ) -> Result<Option<([u8; 32], AppendOutcome)>, StoreError> {
        self.local.idempotency_record(key)
    }

    fn head_at(&self, position: u64) -> Result<Head, StoreError> {
        self.local.head_at(position)
    }

    fn position_at(&self, instant: chrono::DateTime<chrono::Utc>) -> Result<u64, StoreError> {
        self.local.position_at(instant)
    }

    /// Walks the shared table itself (not this node's copy), then checks
    /// that this node's copy agrees with it.
    fn verify(&self) -> BoxFuture<'_, Result<VerifyReport, StoreError>> {
        Box::pin(async move {
            let client = connect(&self.url, None).await?;
            let mut walker = ChainWalker::new();
            let mut after = 0i64;
            let mine = self.local.head();
            let mut theirs_at_mine = None;
            loop {
                let rows = client
                    .query(
                        "SELECT position, stream, version, record FROM chitieu_events \
                         WHERE position > $1 ORDER BY position LIMIT 10000",
                        &[&after],
                    )
                    .await
                    .map_err(unavailable)?;
                if rows.is_empty() {
                    break;
                }
                for row in &rows {
                    let position = pos(row.get(0));
                    after = row.get(0);
                    let (stream, version): (&str, i64) = (row.get(1), row.get(2));
                    let bytes: &[u8] = row.get(3);
                    let problem = walker.check(position, bytes, |s, v| {
                        Ok(s.as_str() == stream && int(v) == version)
                    })?;
                    if let Some(reason) = problem {
                        return Ok(walker.report(Some((position, reason))));
                    }
                    if position == mine.position {
                        theirs_at_mine = Some(walker.good);
                    }
                }
            }
            let shared = walker.good;
            let row = client
                .query_one("SELECT position, hash FROM chitieu_head", &[])
                .await
                .map_err(unavailable)?;
            if pos(row.get(0)) != shared.position || row.get::<_, &[u8]>(1) != shared.hash {
                let at = shared.position + 1;
                return Ok(walker.report(Some((
                    at,
                    "the head row does not match the last record".into(),
                ))));
            }
            if mine.position > 0 && theirs_at_mine != Some(mine) {
                return Ok(walker.report(Some((
                    mine.position,
                    "this node's copy differs from the shared log".into(),
                ))));
            }
            Ok(walker.report(None))
        })
    }

    fn commit_stats(&self) -> CommitStats {
        CommitStats {
            appends: self.stats.appends.load(Ordering::Relaxed),
            groups: self.stats.groups.load(Ordering::Relaxed),
            flushes: self.stats.commits.load(Ordering::Relaxed),
        }
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.local.size_on_disk()
    }

    fn describe(&self) -> String {
        // The URL without its password.
        let shown = match (self.url.find("://"), self.url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let userinfo = &self.url[scheme + 3..at];
                let user = userinfo.split(':').next().unwrap_or("");
                format!("{}{user}@{}", &self.url[..scheme + 3], &self.url[at + 1..])
            }
            _ => self.url.clone(),
        };
        format!("postgres ({shown})")
    }

    fn close(&self) -> Result<(), StoreError> {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        let _ = self.stop.send(true);
        self.local.close()
    }
}
