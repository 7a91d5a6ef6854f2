import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { ACTOR_ID_PATTERN } from '../../domain/ids.js';
import type { RouteContext, ZodApp } from '../route-context.js';

export const ActorParams = z.object({
  id: z.string().max(200).regex(ACTOR_ID_PATTERN, 'actor id must look like kind:key (e.g. conn:binance)'),
});

const ActorQuery = z.object({ context: z.stringbool().optional() });

/**
 * An operator event: `type` plus any fields the event carries. The allow-list is the runtime's, per actor kind;
 * XState's internal events (`xstate.*`) are refused whatever a list says, since they forge lifecycle signals.
 */
export const ActorEventBody = z.looseObject(
  { type: z.string().min(1).max(100) },
  { error: (iss) => (iss.input == null ? 'a JSON body {"type": "<event>", ...} is required' : undefined) },
);

/**
 * The live tree (engine listener). Reads are open; `POST /actors/:id/events` is an authenticated, idempotent
 * and audited command. A command to an actor that is restarting (backoff) is a 503 with Retry-After, not a
 * silent drop: the operator retries once the supervisor has it running again.
 */
export function actorsRoutes(app: ZodApp, ctx: RouteContext): void {
  const { runtime } = ctx.deps;

  app.get('/actors', async () => runtime.tree());

  app.get('/actors/:id', { schema: { params: ActorParams, querystring: ActorQuery } }, async (request) => {
    const node = runtime.actor(request.params.id, request.query.context === true);
    if (!node) throw new AppError('NOT_FOUND', `no actor '${request.params.id}'`);
    return node;
  });

  app.post(
    '/actors/:id/events',
    { schema: { params: ActorParams, body: ActorEventBody }, config: { command: 'actor.event' }, ...ctx.command },
    async (request, reply) => {
      const { id } = request.params;
      const event = request.body;
      const node = runtime.actor(id);
      if (!node) throw new AppError('NOT_FOUND', `no actor '${id}'`);
      const allowed = runtime.allowedEvents(id);
      if (event.type.startsWith('xstate.') || !allowed.includes(event.type))
        throw new AppError(
          'BAD_REQUEST',
          `event '${event.type}' is not allowed for ${id}; allowed: ${allowed.length > 0 ? allowed.join(', ') : 'none'}`,
        );
      // Refused before the audit record, audited before the effect: a command that answers an error did nothing,
      // and one that acted is always on the chain.
      const checked = runtime.check(id, event);
      if (!checked.accepted)
        throw new AppError(checked.error?.code ?? 'BAD_REQUEST', checked.error?.message ?? `'${id}' refused the event`);
      const audit = await ctx.trail.record(request, {
        action: 'actor.event',
        target: id,
        before: { liveness: node.liveness, health: node.health, reason: node.reason },
        after: event,
        result: 'ok',
      });
      const result = runtime.send(id, event);
      if (!result.accepted)
        // The actor went away between the check and the send (a restart in between): nothing was delivered.
        throw new AppError(result.error?.code ?? 'BAD_REQUEST', result.error?.message ?? `'${id}' refused the event`);
      reply.code(202);
      return { accepted: true, id, type: event.type, audit: { seq: audit.seq } };
    },
  );
}
