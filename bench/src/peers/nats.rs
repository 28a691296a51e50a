//! NATS JetStream: one client connection per session, publishes acknowledged by a file-storage
//! stream (PubAck), deduplicated on the pacs.008 MsgId (`Nats-Msg-Id`).
//!
//! Durability: JetStream writes the message to its file store before the PubAck but, by
//! default, fsyncs only every `sync_interval` (2 minutes; see bench/peers/README.md). The
//! acknowledgement is therefore weaker than the switch's (fdatasync before ACK) unless the
//! server runs with `sync_interval: always`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::{self, message::PublishMessage, stream};

use super::Peer;
use crate::open_loop::{Ack, Message, Session};

/// The stream the bench publishes to (created afresh each run).
pub const STREAM: &str = "SWITCHYARD_BENCH";
/// The subject bound to [`STREAM`].
pub const SUBJECT: &str = "switchyard.bench.pacs008";

struct NatsSession {
    js: jetstream::Context,
}

impl Session for NatsSession {
    fn submit(&self, message: Message) -> Ack {
        let js = self.js.clone();
        Box::pin(async move {
            let publish = PublishMessage::build().payload(message.body).message_id(message.id.as_str());
            let ack = js.send_publish(SUBJECT, publish).await.context("JetStream publish")?;
            let ack = ack.await.context("JetStream PubAck")?;
            anyhow::ensure!(!ack.duplicate, "JetStream reported {} as a duplicate", message.id);
            Ok(())
        })
    }
}

/// Connects `connections` clients to `url`, recreates [`STREAM`] (file storage, one replica).
pub async fn connect(
    url: &str,
    connections: usize,
    window: usize,
    timeout: Duration,
) -> anyhow::Result<Peer> {
    let mut sessions: Vec<Arc<dyn Session>> = Vec::new();
    let mut description = Vec::new();
    for i in 0..connections {
        let client = async_nats::ConnectOptions::new()
            .name(format!("switchyard-bench-{i}"))
            .connection_timeout(timeout)
            .connect(url)
            .await
            .with_context(|| format!("connecting to NATS at {url}"))?;
        let js = jetstream::ContextBuilder::new()
            .timeout(timeout)
            .max_ack_inflight(window)
            .backpressure_on_inflight(true)
            .build(client.clone());
        if i == 0 {
            let info = client.server_info();
            anyhow::ensure!(
                info.jetstream,
                "the NATS server at {url} runs without JetStream (start it with -js)"
            );
            let _ = js.delete_stream(STREAM).await;
            let config = stream::Config {
                name: STREAM.to_owned(),
                subjects: vec![SUBJECT.to_owned()],
                storage: stream::StorageType::File,
                num_replicas: 1,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            };
            js.create_stream(config).await.context("creating the JetStream stream")?;
            description.push(format!("nats-server {} (JetStream)", info.version));
            description.push(format!(
                "stream {STREAM}: file storage, 1 replica, dedup on Nats-Msg-Id over 120 s; \
                 fsync per the server's sync_interval (default 2 min, see bench/peers/README.md)"
            ));
        }
        sessions.push(Arc::new(NatsSession { js }));
    }
    description.push(format!("{connections} client connections, up to {window} PubAcks outstanding each"));
    Ok(Peer { description, sessions })
}
