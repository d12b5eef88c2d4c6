/**
 * What a ClusterNode does with each envelope that arrives over one of its links: messages and
 * asks for tasks go to its router, replies settle asks, control messages go to the part of the
 * node they concern (membership, migrations, requests, replay, or the RMS).
 */
import { Env, type Envelope } from '../transport/frames.js';
import type { Link } from '../transport/link.js';
import type { ClusterNode } from './cluster-node.js';
import { RemoteReply } from './requests.js';
import { onReplayControl } from './sender-replay.js';
import { Control, type MemberInfo } from './types.js';

/** The request a member sends the RMS for a task's directory entry. */
export const DirectoryLookup = 'dir.lookup';

export function onEnvelope(node: ClusterNode, link: Link, env: Envelope): void {
  node.rms?.heard(link.peer);
  const router = node.router;
  switch (env[0]) {
    case Env.send:
      router.inbound(link, env[1], env[2], undefined);
      return;
    case Env.ask:
      router.inbound(link, env[1], env[2], new RemoteReply(node, link.peer, env[3]));
      return;
    case Env.reply:
      router.replied(env[1], env[2], env[3]);
      return;
    case Env.seq:
      router.inbound(link, env[1], env[2], undefined, { origin: env.length === 5 ? env[4] : link.peer, seq: env[3] });
      return;
    case Env.moved:
      router.moved(link, env[1], env[2], env[3]);
      return;
    case Env.control:
      onControl(node, link, env[1], env[2]);
      return;
    default:
      return;
  }
}

function onControl(node: ClusterNode, link: Link, kind: string, payload: unknown): void {
  const p = (payload ?? {}) as Record<string, unknown>;
  switch (kind) {
    case Control.members:
      node.setMembers(p['members'] as MemberInfo[]);
      return;
    case Control.nodeDown:
      node.nodeDown(String(p['node']));
      return;
    case Control.located:
      node.router.located(String(p['id']), (p['node'] as string | null) ?? null, Number(p['epoch'] ?? 0));
      return;
    case Control.spawn:
      node.host.spawnRequested(link.peer, p);
      return;
    case Control.spawnFailed:
      node.log.error({ task: p['id'], peer: link.peer, err: p['error'] }, 'remote spawn failed');
      return;
    case Control.restore:
      node.host.restoreRequested(p['tasks'] as never);
      return;
    case Control.flush:
      // Behind every straggler this node forwarded for that sender: on to the new owner.
      node.trySend(String(p['to']), [Env.control, Control.flushArrive, { task: p['task'], from: p['from'] }]);
      return;
    case Control.flushArrive:
      if (p['from'] === node.id) node.host.migrationFlushed(String(p['task']));
      else node.trySend(String(p['from']), [Env.control, Control.flushAck, { task: p['task'] }]);
      return;
    case Control.flushAck:
      node.router.switched(String(p['task']));
      return;
    case Control.migForward:
      node.host.migrationForwarded(
        String(p['mid']),
        ((p['items'] as Array<[unknown, number | null, number?, string?]>) ?? []).map(([msg, askId, seq, origin]) => ({
          msg,
          reply: askId === null ? undefined : new RemoteReply(node, link.peer, askId),
          stamp: seq === undefined ? undefined : { origin: String(origin), seq },
        })),
      );
      return;
    case Control.migRedirected:
      node.host.migrationRedirected(String(p['mid']));
      return;
    case Control.heartbeatAck:
      if (typeof p['sentAtMs'] === 'number') node.host.rttMeasured(node.clock.now() - p['sentAtMs']);
      return;
    case Control.request:
      void node.requests.answer(link, p, (kind, payload) => (kind === DirectoryLookup && node.rms ? node.lookupDirectory(String((payload as { id?: unknown } | null)?.id)) : node.host.answer(kind, payload)));
      return;
    case Control.response:
      node.requests.settle(p);
      return;
    case Control.covered:
    case Control.replaced:
    case Control.forget:
      onReplayControl(node, kind, p);
      return;
    default:
      if (node.rms) node.rms.onControl(link, kind, p);
      else node.log.warn({ peer: link.peer, kind }, 'unknown control message');
  }
}
