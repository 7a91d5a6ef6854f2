/**
 * The runtime options the venue-actor rigs share (tests and the feed bench): trading on, a 500 ms loop-delay
 * limit, five restarts a minute, one second to shut down; the heartbeat is long enough never to fire in a test.
 */
export const VENUE_RIG_RUNTIME_OPTIONS = {
  tradingEnabled: true,
  heartbeatMs: 60_000,
  maxLoopDelayMs: 500,
  restartIntensity: 5,
  restartPeriodMs: 60_000,
  shutdownTimeoutMs: 1_000,
} as const;
