// The simulator's thread for bench/stream-tick-to-order.bench.ts (TypeScript through tsx's loader).
import { register } from 'tsx/esm/api';

register();
await import('./stream-sim-worker.ts');
