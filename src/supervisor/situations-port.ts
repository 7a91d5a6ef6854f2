/** One active incident as `GET /situations` shows it. */
export interface Situation {
  /** The actor (`breaker:binance:venue`) or trading scope (`trading:global`, `trading:venue:binance`). */
  id: string;
  kind: string;
  state: string;
  reason: string;
  /** Epoch ms of the transition into this state (as observed; see the tracker). */
  since: number;
  whatToDo: string;
}

export interface SituationsPort {
  list(): Situation[];
}
