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
    IdempotencyEntry, Log, Progress, RawRecord, VerifyReport,
};
use crate::memory::MemoryLog;
use crate::record::RecordedEvent;
use crate::sequencer::{validate, Lookup, Sequencer};
use crate::sled_log::SledLog;
use crate::StreamName;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio_postgres::types::ToSql;
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
-- Locks the head (the single sequencer) and then reads what a group of
-- appends needs: each statement of a volatile function takes a new
-- snapshot, so the versions and keys are read after the lock is held.
-- Rows: kind 0 the head (a position, c recorded-at, bytes hash); kind 1 a
-- stream's version (a); kind 2 an idempotency key (a first position, b
-- last position, c version, bytes fingerprint).
CREATE OR REPLACE FUNCTION chitieu_lock(p_streams text[], p_keys text[])
RETURNS TABLE (kind smallint, name text, a bigint, b bigint, c bigint, bytes bytea)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN QUERY SELECT 0::smallint, NULL::text, h.position, 0::bigint,
                        h.recorded_at_micros, h.hash
                 FROM chitieu_head h FOR UPDATE;
    RETURN QUERY SELECT 1::smallint, s,
                        (SELECT max(e.version) FROM chitieu_events e WHERE e.stream = s),
                        0::bigint, 0::bigint, NULL::bytea
                 FROM unnest(p_streams) AS s;
    RETURN QUERY SELECT 2::smallint, e.idem_key, e.idem_first, e.position, e.version,
                        e.idem_fingerprint
                 FROM chitieu_events e WHERE e.idem_key = ANY(p_keys);
END $$;
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
    commit_micros: AtomicU64,
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

/// The statements of the append path, prepared once per connection (an
/// unprepared query costs a second round trip).
struct Statements {
    head: tokio_postgres::Statement,
    lock: tokio_postgres::Statement,
    write: tokio_postgres::Statement,
}

const LOCK_HEAD: &str = "SELECT position, hash, recorded_at_micros FROM chitieu_head FOR UPDATE";
/// Each stream's version by one backward step of the `(stream, version)`
/// index, however long the stream.
const VERSIONS: &str = "SELECT s, (SELECT max(version) FROM chitieu_events WHERE stream = s) \
                        FROM unnest($1::text[]) AS s";
const KEYS: &str = "SELECT idem_key, idem_fingerprint, idem_first, position, version \
                    FROM chitieu_events WHERE idem_key = ANY($1)";
/// Inserts a group's records, moves the head and wakes every follower, in
/// one statement (data-modifying CTEs always run).
const WRITE: &str = "WITH inserted AS ( \
       INSERT INTO chitieu_events \
       (position, stream, version, record, idem_key, idem_fingerprint, idem_first) \
       SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bytea[], \
                            $5::text[], $6::bytea[], $7::bigint[])), \
     moved AS (UPDATE chitieu_head SET position = $8, hash = $9, recorded_at_micros = $10) \
     SELECT pg_notify('chitieu_log', '')";

impl Statements {
    async fn prepare(client: &Client) -> Result<Self, tokio_postgres::Error> {
        let (head, lock, write) = tokio::try_join!(
            client.prepare(LOCK_HEAD),
            client.prepare("SELECT * FROM chitieu_lock($1, $2)"),
            client.prepare(WRITE),
        )?;
        Ok(Statements { head, lock, write })
    }
}

fn unavailable_appends(group: Vec<Job>, why: &str) {
    for job in group {
        let error = StoreError::Unavailable(format!("{why}; retry with the same idempotency key"));
        let _ = job.reply.send(Err(AppendError::Store(error)));
    }
}

/// The writer task: one transaction per group of this node's appends.
/// It never waits for its own follower: answers wait for the local copy
/// on a task of their own while the next group is committed.
async fn write(
    url: String,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    max_group: usize,
    local: Log,
    wake: Arc<Notify>,
    stats: Arc<Stats>,
) {
    let mut connection: Option<(Client, Statements)> = None;
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < max_group {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        stats.groups.fetch_add(1, Ordering::Relaxed);
        if connection.as_ref().is_none_or(|(c, _)| c.is_closed()) {
            connection = None;
            let prepared = match connect(&url, None).await {
                Ok(client) => Statements::prepare(&client)
                    .await
                    .map(|statements| (client, statements))
                    .map_err(|e| e.to_string()),
                Err(error) => Err(error.to_string()),
            };
            match prepared {
                Ok(ready) => connection = Some(ready),
                Err(why) => {
                    unavailable_appends(group, &why);
                    continue;
                }
            }
        }
        let Some((client, statements)) = connection.as_ref() else {
            continue;
        };
        // Take the sequencer's lock first, and only then the rest of the
        // queue: everything that arrived while another node held the lock
        // rides in this transaction.
        let locked = tokio::try_join!(
            client.batch_execute("BEGIN"),
            client.query_one(&statements.head, &[]),
        );
        let outcome = match locked {
            Err(error) => {
                stats
                    .appends
                    .fetch_add(group.len() as u64, Ordering::Relaxed);
                Err(error)
            }
            Ok(_) => {
                while group.len() < max_group {
                    match jobs.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                stats
                    .appends
                    .fetch_add(group.len() as u64, Ordering::Relaxed);
                let requests: Vec<&AppendRequest> = group.iter().map(|j| &j.request).collect();
                let committing = std::time::Instant::now();
                let committed = commit_group(client, statements, &requests).await;
                stats.commit_micros.fetch_add(
                    u64::try_from(committing.elapsed().as_micros()).unwrap_or(u64::MAX),
                    Ordering::Relaxed,
                );
                committed
            }
        };
        if outcome.is_err() && !client.is_closed() {
            let _ = client.batch_execute("ROLLBACK").await;
        }
        match outcome {
            Ok((results, head)) => {
                stats.commits.fetch_add(1, Ordering::Relaxed);
                if head.is_some() {
                    wake.notify_one();
                }
                let local = local.clone();
                tokio::spawn(async move {
                    // Read-your-writes on this node: answer once the local
                    // copy holds the group (it is committed either way).
                    if let Some(head) = head {
                        reached(&local, head.position, Duration::from_secs(10)).await;
                    }
                    for (job, result) in group.into_iter().zip(results) {
                        let _ = job.reply.send(result);
                    }
                });
            }
            Err(error) => {
                tracing::warn!(%error, "a group of appends failed; they may be retried");
                if client.is_closed() {
                    connection = None;
                }
                unavailable_appends(group, &error.to_string());
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
    /// The new head: position, hash, recorded-at.
    head: (i64, Vec<u8>, i64),
}

impl Rows {
    fn of(group: &Sequencer) -> Rows {
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
        rows.head = (
            int(group.head.position),
            group.head.hash.to_vec(),
            group.last_micros,
        );
        rows
    }

    /// The parameters of [`WRITE`].
    fn params(&self) -> [&(dyn ToSql + Sync); 10] {
        [
            &self.positions,
            &self.streams,
            &self.versions,
            &self.records,
            &self.keys,
            &self.fingerprints,
            &self.firsts,
            &self.head.0,
            &self.head.1,
            &self.head.2,
        ]
    }
}

impl PgLookup {
    fn from_rows(versions: &[tokio_postgres::Row], keys: &[tokio_postgres::Row]) -> PgLookup {
        let mut lookup = PgLookup {
            versions: HashMap::new(),
            keys: HashMap::new(),
        };
        for row in versions {
            let version: Option<i64> = row.get(1);
            lookup.versions.insert(row.get(0), version.map_or(0, pos));
        }
        for row in keys {
            let fingerprint: [u8; 32] = row.get::<_, &[u8]>(1).try_into().unwrap_or([0; 32]);
            let outcome = AppendOutcome {
                first_position: pos(row.get(2)),
                last_position: pos(row.get(3)),
                stream_version: pos(row.get(4)),
                replayed: true,
            };
            lookup.keys.insert(row.get(0), (fingerprint, outcome));
        }
        lookup
    }
}

/// Stores a sealed group and moves the head, inside the caller's
/// transaction (which holds the head's row lock), and wakes every follower.
async fn store_group(
    tx: &tokio_postgres::Transaction<'_>,
    group: &Sequencer,
) -> Result<(), tokio_postgres::Error> {
    let rows = Rows::of(group);
    tx.query_one(WRITE, &rows.params()).await?;
    Ok(())
}

/// Locks the head (the single sequencer) and reads it.
async fn lock_head(
    tx: &tokio_postgres::Transaction<'_>,
) -> Result<(Head, i64), tokio_postgres::Error> {
    let row = tx.query_one(LOCK_HEAD, &[]).await?;
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
    let versions = tx.query(VERSIONS, &[&streams]).await?;
    let keys = tx.query(KEYS, &[&keys]).await?;
    Ok(PgLookup::from_rows(&versions, &keys))
}

type GroupResults = (Vec<Result<AppendOutcome, AppendError>>, Option<Head>);

/// Judges, seals and commits one group in the transaction that holds the
/// head's row lock: `chitieu_lock` reads the head, the versions and keys
/// the group needs (a fresh snapshot, under the lock); then the write with
/// COMMIT (a failed write turns the COMMIT into a rollback, and its error
/// is the one returned).
async fn commit_group(
    client: &Client,
    statements: &Statements,
    requests: &[&AppendRequest],
) -> Result<GroupResults, tokio_postgres::Error> {
    let mut streams: Vec<String> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for request in requests {
        streams.push(request.stream.0.clone());
        streams.extend(request.conditions.iter().map(|c| c.stream.0.clone()));
        keys.extend(request.idempotency_key.clone());
    }
    streams.sort_unstable();
    streams.dedup();
    let rows = client.query(&statements.lock, &[&streams, &keys]).await?;
    let mut head = (Head::default(), i64::MIN);
    let mut lookup = PgLookup {
        versions: HashMap::new(),
        keys: HashMap::new(),
    };
    for row in &rows {
        let kind: i16 = row.get(0);
        let (a, b, c): (Option<i64>, i64, i64) = (row.get(2), row.get(3), row.get(4));
        let bytes: Option<&[u8]> = row.get(5);
        let bytes32 = bytes
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .unwrap_or([0; 32]);
        match kind {
            0 => {
                let position = a.map_or(0, pos);
                head = (
                    Head {
                        position,
                        hash: bytes32,
                    },
                    c,
                );
            }
            1 => {
                lookup.versions.insert(row.get(1), a.map_or(0, pos));
            }
            _ => {
                let outcome = AppendOutcome {
                    first_position: a.map_or(0, pos),
                    last_position: pos(b),
                    stream_version: pos(c),
                    replayed: true,
                };
                lookup.keys.insert(row.get(1), (bytes32, outcome));
            }
        }
    }
    let (head, last_micros) = head;
    let mut group = Sequencer::new(head, last_micros, chrono::Utc::now().timestamp_micros());
    let results: Vec<_> = requests
        .iter()
        .map(|request| group.append(&mut lookup, request))
        .collect();
    if group.is_empty() {
        client.batch_execute("ROLLBACK").await?;
        return Ok((results, None));
    }
    let rows = Rows::of(&group);
    let params = rows.params();
    let (_, _) = tokio::try_join!(
        client.query_one(&statements.write, &params),
        client.batch_execute("COMMIT"),
    )?;
    Ok((results, Some(group.head)))
}

const PULL: &str = "SELECT position, record, idem_key, idem_fingerprint, idem_first \
                    FROM chitieu_events WHERE position > $1 ORDER BY position LIMIT $2";

/// Pulls committed records after `after` from the shared log.
async fn pull(
    client: &Client,
    statement: &tokio_postgres::Statement,
    after: u64,
) -> Result<Vec<RawRecord>, StoreError> {
    let rows = client
        .query(statement, &[&int(after), &PULL_PAGE])
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
        let listening = client.batch_execute("LISTEN chitieu_log").await;
        let statement = match listening {
            Ok(()) => client.prepare(PULL).await,
            Err(error) => Err(error),
        };
        let statement = match statement {
            Ok(statement) => statement,
            Err(error) => {
                tracing::warn!(%error, "the log follower could not start following; retrying");
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        pause = Duration::from_millis(100);
        loop {
            if *stop.borrow() {
                return;
            }
            let records = match pull(&client, &statement, local.head().position).await {
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

    fn visit_records(
        &self,
        from: u64,
        limit: usize,
        visit: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<usize, StoreError> {
        self.local.visit_records(from, limit, visit)
    }

    fn read_all(&self, from: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.local.read_all(from, limit)
    }

    fn read_stream(
        &self,
        stream: &StreamName,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.local.read_stream(stream, from_version, limit)
    }

    fn stream_positions(
        &self,
        stream: &StreamName,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        self.local.stream_positions(stream, from_version, limit)
    }

    fn stream_version(&self, stream: &StreamName) -> Result<u64, StoreError> {
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
    fn verify_from(
        &self,
        from: Head,
        progress: Progress,
    ) -> BoxFuture<'_, Result<VerifyReport, StoreError>> {
        Box::pin(async move {
            let client = connect(&self.url, None).await?;
            let mut walker = ChainWalker::from(from, progress);
            let mut after = i64::try_from(from.position).unwrap_or(i64::MAX);
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
            if mine.position > from.position && theirs_at_mine != Some(mine) {
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
            flush_micros: self.stats.commit_micros.load(Ordering::Relaxed),
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
