//! PostgreSQL: one connection per session, one INSERT (its own transaction) per message into a
//! table with a unique index on the MsgId; requests are pipelined on each connection.
//!
//! Durability: with `synchronous_commit = on` (set by every session) and `fsync = on` (checked
//! and reported), a commit returns after its WAL record is flushed to disk; concurrent commits
//! share a WAL flush (group commit), which is how the switch's journal works too.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio_postgres::{Client, NoTls, Statement};

use super::Peer;
use crate::open_loop::{Ack, Message, Session};

/// The table the bench inserts into (emptied at the start of each run).
pub const TABLE: &str = "switchyard_bench_messages";

struct PgSession {
    client: Arc<Client>,
    insert: Statement,
}

impl Session for PgSession {
    fn submit(&self, message: Message) -> Ack {
        let client = Arc::clone(&self.client);
        let insert = self.insert.clone();
        Box::pin(async move {
            let body: &[u8] = &message.body;
            let rows = client
                .execute(&insert, &[&message.id, &message.uetr, &body])
                .await
                .with_context(|| format!("INSERT of {}", message.id))?;
            anyhow::ensure!(rows == 1, "INSERT of {} wrote {rows} rows", message.id);
            Ok(())
        })
    }
}

async fn open(config: &str, timeout: Duration) -> anyhow::Result<Client> {
    let (client, connection) = tokio::time::timeout(timeout, tokio_postgres::connect(config, NoTls))
        .await
        .with_context(|| format!("connecting to PostgreSQL ({config}) timed out"))?
        .with_context(|| format!("connecting to PostgreSQL ({config})"))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!("PostgreSQL connection ended: {e}");
        }
    });
    client.batch_execute("SET synchronous_commit = on").await.context("SET synchronous_commit = on")?;
    Ok(client)
}

async fn show(client: &Client, setting: &str) -> anyhow::Result<String> {
    let row =
        client.query_one(&format!("SHOW {setting}"), &[]).await.with_context(|| format!("SHOW {setting}"))?;
    Ok(row.get(0))
}

/// Connects `connections` sessions with the libpq-style `config` (e.g. `host=127.0.0.1
/// port=54320 user=switchyard dbname=switchyard`), creates [`TABLE`] and its unique index if
/// missing and empties it.
pub async fn connect(config: &str, connections: usize, timeout: Duration) -> anyhow::Result<Peer> {
    let mut sessions: Vec<Arc<dyn Session>> = Vec::new();
    let mut description = Vec::new();
    for i in 0..connections {
        let client = open(config, timeout).await?;
        if i == 0 {
            client
                .batch_execute(&format!(
                    "CREATE TABLE IF NOT EXISTS {TABLE} (
                         msg_id text NOT NULL,
                         uetr text NOT NULL,
                         body bytea NOT NULL,
                         received_at timestamptz NOT NULL DEFAULT now());
                     CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_msg_id ON {TABLE} (msg_id);
                     TRUNCATE {TABLE};"
                ))
                .await
                .with_context(|| format!("preparing table {TABLE}"))?;
            let version = show(&client, "server_version").await?;
            let fsync = show(&client, "fsync").await?;
            let sync = show(&client, "synchronous_commit").await?;
            let wal_sync = show(&client, "wal_sync_method").await?;
            let delay = show(&client, "commit_delay").await?;
            anyhow::ensure!(
                fsync == "on",
                "PostgreSQL runs with fsync = {fsync}: its commits are not durable"
            );
            anyhow::ensure!(sync == "on", "synchronous_commit is {sync} after SET: not durable");
            description.push(format!("PostgreSQL {version}"));
            description.push(format!(
                "table {TABLE} with a unique index on msg_id; one INSERT per message in its own \
                 transaction; synchronous_commit = {sync}, fsync = {fsync}, wal_sync_method = {wal_sync}, \
                 commit_delay = {delay}"
            ));
        }
        let insert = client
            .prepare(&format!("INSERT INTO {TABLE} (msg_id, uetr, body) VALUES ($1, $2, $3)"))
            .await
            .context("preparing the INSERT")?;
        sessions.push(Arc::new(PgSession { client: Arc::new(client), insert }));
    }
    description.push(format!("{connections} connections, INSERTs pipelined on each"));
    Ok(Peer { description, sessions })
}
