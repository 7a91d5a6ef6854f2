/**
 * Actor ids are `kind:key` and double as XState `systemId`s (DESIGN §3). Build them only here so that a
 * typo cannot create a second, unsupervised identity for the same entity.
 */
export type ActorKind =
  | 'root'
  | 'core'
  | 'config'
  | 'governance'
  | 'notifier'
  | 'heartbeat'
  | 'venue'
  | 'conn'
  | 'feed'
  | 'account'
  | 'breaker'
  | 'symbols'
  | 'sym'
  | 'guards'
  | 'guard'
  | 'stopval'
  | 'risk'
  | 'rails'
  | 'allocator'
  | 'scanner'
  | 'events'
  | 'executor';

export type VenueId = 'binance' | 'kraken';
export const VENUE_IDS: readonly VenueId[] = ['binance', 'kraken'];

export const actorId = {
  root: () => 'root',
  core: () => 'core',
  config: () => 'config',
  governance: () => 'governance',
  notifier: () => 'notifier',
  heartbeat: () => 'heartbeat',
  venue: (v: string) => `venue:${v}`,
  conn: (v: string) => `conn:${v}`,
  feed: (v: string) => `feed:${v}`,
  account: (v: string) => `account:${v}`,
  venueBreaker: (v: string) => `breaker:${v}:venue`,
  equityBreaker: () => 'breaker:equity',
  symbols: (v: string) => `symbols:${v}`,
  symbol: (v: string, symbol: string) => `sym:${v}:${symbol}`,
  guards: (v: string) => `guards:${v}`,
  guard: (name: string, v: string) => `guard:${name}:${v}`,
  stopValidator: (v: string) => `stopval:${v}`,
  risk: () => 'risk',
  rails: () => 'rails',
  allocator: () => 'allocator',
  scanner: () => 'scanner',
  externalEvents: () => 'events:external',
  executor: () => 'executor',
} as const;

/** Splits `kind:key…` into its kind and the rest; unknown kinds are returned as-is for display. */
export function parseActorId(id: string): { kind: string; key: string } {
  const i = id.indexOf(':');
  return i < 0 ? { kind: id, key: '' } : { kind: id.slice(0, i), key: id.slice(i + 1) };
}

/** Actor ids are also URL path segments and metric label values: keep them to a safe alphabet. */
export const ACTOR_ID_PATTERN = /^[a-z]+(?::[A-Za-z0-9_.-]+)*$/;
