/** What the HTTP layer needs from the executor (`POST /executor/stop|start`, `GET /executor`). */
export interface ExecutorView {
  enabled: boolean;
  running: boolean;
  stopped: boolean;
  dryRun: boolean;
  health: 'OK' | 'DEGRADED' | 'HALTED';
  reason: string;
  rebalances: number;
  failures: number;
  /** Attempts made in the rebalance under way (0 between rebalances). */
  attempt: number;
  lastError: string | null;
}

export interface ExecutorPort {
  view(): ExecutorView;
  /** Parks the executor (idempotent); throws CONFLICT when it is disabled. */
  stop(actor: string): Promise<ExecutorView>;
  start(actor: string): Promise<ExecutorView>;
}
