//! `NodeActor`: the root of the supervision tree. Spawns one `LinkActor` per clearing link and
//! one `TenantActor` per tenant, registers the links in the node context, and restarts a link
//! actor that fails (its connection adapter re-announces itself on the next reconnect).
//! A failed tenant actor is logged; its payments are safe in the journal and resume on restart.

use std::collections::HashMap;
use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};

use super::context::NodeContext;
use super::link::{LinkActor, LinkArgs, LinkMsg};
use super::tenant::{TenantActor, TenantArgs, TenantMsg};
use crate::domain::TenantId;

/// The node actor.
#[derive(Debug, Default)]
pub struct NodeActor;

/// Startup arguments.
#[derive(Debug)]
pub struct NodeArgs {
    pub ctx: Arc<NodeContext>,
    pub links: Vec<String>,
    pub tenants: Vec<TenantArgs>,
}

/// References to the node's children, for the composition root.
#[derive(Debug, Clone)]
pub struct NodeRefs {
    pub tenants: HashMap<TenantId, ActorRef<TenantMsg>>,
    pub links: HashMap<String, ActorRef<LinkMsg>>,
}

/// Node messages.
#[derive(Debug)]
pub enum NodeMsg {
    Refs(RpcReplyPort<NodeRefs>),
}

/// Node state.
#[derive(Debug)]
pub struct NodeState {
    ctx: Arc<NodeContext>,
    refs: NodeRefs,
}

impl Actor for NodeActor {
    type Msg = NodeMsg;
    type State = NodeState;
    type Arguments = NodeArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<NodeMsg>,
        args: NodeArgs,
    ) -> Result<NodeState, ActorProcessingErr> {
        let mut links = HashMap::new();
        for name in args.links {
            let link = spawn_link(&myself, &args.ctx, &name).await?;
            links.insert(name, link);
        }
        let mut tenants = HashMap::new();
        for tenant in args.tenants {
            let id = tenant.tenant.clone();
            let (actor, _) = Actor::spawn_linked(None, TenantActor, tenant, myself.get_cell()).await?;
            args.ctx
                .tenants
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(id.to_string(), actor.clone());
            tenants.insert(id, actor);
        }
        Ok(NodeState { ctx: args.ctx, refs: NodeRefs { tenants, links } })
    }

    async fn handle(
        &self,
        _myself: ActorRef<NodeMsg>,
        message: NodeMsg,
        state: &mut NodeState,
    ) -> Result<(), ActorProcessingErr> {
        let NodeMsg::Refs(reply) = message;
        let _ = reply.send(state.refs.clone());
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<NodeMsg>,
        event: SupervisionEvent,
        state: &mut NodeState,
    ) -> Result<(), ActorProcessingErr> {
        let SupervisionEvent::ActorFailed(cell, error) = event else { return Ok(()) };
        let failed =
            state.refs.links.iter().find(|(_, r)| r.get_id() == cell.get_id()).map(|(n, _)| n.clone());
        match failed {
            Some(name) => {
                tracing::error!(link = %name, %error, "link actor failed; restarting");
                let link = spawn_link(&myself, &state.ctx, &name).await?;
                state.refs.links.insert(name, link);
            }
            None => tracing::error!(actor = ?cell.get_id(), %error, "tenant actor failed"),
        }
        Ok(())
    }
}

async fn spawn_link(
    node: &ActorRef<NodeMsg>,
    ctx: &Arc<NodeContext>,
    name: &str,
) -> Result<ActorRef<LinkMsg>, ActorProcessingErr> {
    let args = LinkArgs { name: name.to_owned(), ctx: Arc::clone(ctx), breaker: ctx.limits.breaker };
    let (link, _) = Actor::spawn_linked(None, LinkActor, args, node.get_cell()).await?;
    ctx.links
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(name.to_owned(), link.clone());
    Ok(link)
}
