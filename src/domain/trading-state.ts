/**
 * Trading state (DESIGN §3), separate from health: `ACTIVE` (normal), `REDUCING` (only orders that reduce
 * exposure: depeg exit, auto-cutback, funding trim, an operator's sell of what is held), `HALTED` (no new orders;
 * cancels still allowed). Governance keeps one per scope (global, venue, symbol); the rails read all three.
 */
export type TradingState = 'ACTIVE' | 'REDUCING' | 'HALTED';
