//! RabbitMQ: one AMQP connection and one confirm-mode channel per session, persistent messages
//! to a quorum queue, acknowledged by publisher confirms.
//!
//! Durability: a quorum queue confirms a message once it is written to the Raft log and fsynced
//! (on a majority; here a single node), so a confirm is as strong as the switch's ACK.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions, QueuePurgeOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};

use super::Peer;
use crate::open_loop::{Ack, Message, Session};

/// The quorum queue the bench publishes to (purged at the start of each run).
pub const QUEUE: &str = "switchyard.bench.pacs008";

struct RabbitSession {
    channel: Channel,
    /// Keeps the connection open as long as the session.
    _connection: Arc<Connection>,
}

impl Session for RabbitSession {
    fn submit(&self, message: Message) -> Ack {
        let channel = self.channel.clone();
        Box::pin(async move {
            let properties =
                BasicProperties::default().with_delivery_mode(2).with_message_id(message.id.as_str().into());
            let confirm = channel
                .basic_publish(
                    "".into(),
                    QUEUE.into(),
                    BasicPublishOptions::default(),
                    &message.body,
                    properties,
                )
                .await
                .context("AMQP basic.publish")?;
            match confirm.await.context("AMQP publisher confirm")? {
                Confirmation::Ack(None) => Ok(()),
                Confirmation::Ack(Some(_)) => anyhow::bail!("RabbitMQ returned {} as unroutable", message.id),
                other => anyhow::bail!("RabbitMQ did not confirm {}: {other:?}", message.id),
            }
        })
    }
}

/// Connects `connections` AMQP connections to `url`, declares [`QUEUE`] (durable, quorum) and
/// purges it.
pub async fn connect(
    url: &str,
    connections: usize,
    window: usize,
    timeout: Duration,
) -> anyhow::Result<Peer> {
    let mut sessions: Vec<Arc<dyn Session>> = Vec::new();
    for i in 0..connections {
        let connection =
            tokio::time::timeout(timeout, Connection::connect(url, ConnectionProperties::default()))
                .await
                .with_context(|| format!("connecting to RabbitMQ at {url} timed out"))?
                .with_context(|| format!("connecting to RabbitMQ at {url}"))?;
        let channel = connection.create_channel().await.context("opening an AMQP channel")?;
        if i == 0 {
            let mut arguments = FieldTable::default();
            arguments.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
            channel
                .queue_declare(QUEUE.into(), QueueDeclareOptions::durable(), arguments)
                .await
                .with_context(|| format!("declaring the quorum queue {QUEUE}"))?;
            channel
                .queue_purge(QUEUE.into(), QueuePurgeOptions::default())
                .await
                .with_context(|| format!("purging {QUEUE}"))?;
        }
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .context("enabling publisher confirms")?;
        sessions.push(Arc::new(RabbitSession { channel, _connection: Arc::new(connection) }));
    }
    let description = vec![
        "RabbitMQ (version: `rabbitmqctl version`, recorded by bench/peers/start.sh)".to_owned(),
        format!(
            "quorum queue {QUEUE} (durable, 1 node), persistent messages (delivery_mode 2), \
             publisher confirms: confirmed after the Raft log is fsynced"
        ),
        format!("{connections} connections, one confirm-mode channel each, up to {window} unconfirmed each"),
    ];
    Ok(Peer { description, sessions })
}
