// `npm run build`, second step: bundles dist/main.js (tsc's output) into dist/main.bundle.mjs, which `npm start`
// runs. Why: resolving and loading ccxt's ~1,000 ESM files took ~470 ms of a ~1.08 s start (CPU profile: module
// loading, file stats and reads); one file starts in ~0.73 s. Native and worker-thread packages stay external
// (lmdb and msgpackr load native code; pino's transports start workers by package path).
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
await build({
  absWorkingDir: root,
  entryPoints: ['dist/main.js'],
  outfile: 'dist/main.bundle.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  external: ['lmdb', 'msgpackr', 'msgpackr-extract', 'pino', 'pino-pretty', 'thread-stream'],
  alias: {
    'protobufjs/minimal.js': './scripts/protobufjs-missing.mjs',
    'protobufjs/minimal': './scripts/protobufjs-missing.mjs',
  },
  // CommonJS dependencies inside an ESM bundle still call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __bosunRequire } from 'node:module'; const require = __bosunRequire(import.meta.url);",
  },
});
