// `npm run build`, second step: bundles dist/main.js (tsc's output) into dist/main.bundle.mjs, which `npm start`
// runs. Why: resolving and loading ccxt's ~1,000 ESM files took ~470 ms of a ~1.08 s start (CPU profile: module
// loading, file stats and reads); one file starts in ~0.73 s. Native and worker-thread packages stay external
// (lmdb and msgpackr load native code; pino's transports start workers by package path).
//
// ccxt's entry module imports every exchange it ships (about 110 REST, 70 pro, 9 prediction markets), so the bundle
// was 20 MB of which Bosun uses three classes per kind. `ccxtVenuesOnly` answers `import ccxt from 'ccxt'` with an
// entry of the same shape (version, Exchange, Precise, functions, errors, pro) holding only VENUE_CLASSES; every
// other exchange name is absent from it, and the build fails if Bosun's sources name one that is not listed.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The ccxt classes Bosun constructs (src/venues): spot and USDⓈ-M on Binance, spot on Kraken, REST and pro. */
const VENUE_CLASSES = ['binance', 'binanceusdm', 'kraken'];

const root = new URL('..', import.meta.url).pathname;
// ccxt's ESM entry (js/ccxt.js): the relative imports of the replacement entry resolve from its directory.
const ccxtDir = dirname(fileURLToPath(import.meta.resolve('ccxt')));

function ccxtVenuesOnly() {
  const entry = readFileSync(join(ccxtDir, 'ccxt.js'), 'utf8');
  const version = /const version = '([^']+)'/.exec(entry)?.[1];
  if (!version) throw new Error('bundle: ccxt.js no longer declares its version; update scripts/bundle.mjs');
  const lines = [
    "import { Exchange, BaseExchange } from './src/base/Exchange.js';",
    "import { Precise } from './src/base/Precise.js';",
    "import * as functions from './src/base/functions.js';",
    "import * as errors from './src/base/errors.js';",
    ...VENUE_CLASSES.flatMap((id) => [
      `import ${id} from './src/${id}.js';`,
      `import ${id}Pro from './src/pro/${id}.js';`,
    ]),
    `const version = ${JSON.stringify(version)};`,
    `const exchanges = { ${VENUE_CLASSES.join(', ')} };`,
    `const pro = { ${VENUE_CLASSES.map((id) => `${id}: ${id}Pro`).join(', ')} };`,
    'pro.exchanges = Object.keys(pro);',
    'pro.Exchange = Exchange;',
    'const ccxt = Object.assign({ version, Exchange, BaseExchange, Precise, exchanges: Object.keys(exchanges), pro }, exchanges, functions, errors);',
    "export * from './src/base/errors.js';",
    `export { version, Exchange, BaseExchange, Precise, functions, errors, pro, ${VENUE_CLASSES.join(', ')} };`,
    'export default ccxt;',
  ];
  return {
    name: 'ccxt-venues-only',
    setup(b) {
      b.onResolve({ filter: /^ccxt$/ }, () => ({ path: 'ccxt-venues', namespace: 'ccxt-venues' }));
      b.onLoad({ filter: /.*/, namespace: 'ccxt-venues' }, () => ({
        contents: lines.join('\n'),
        resolveDir: ccxtDir,
        loader: 'js',
      }));
    },
  };
}

/**
 * Every exchange class Bosun's sources name (`ccxt.<id>`, `ccxt.pro.<id>`) must be in VENUE_CLASSES, and none may be
 * looked up by a computed name: either would be undefined in the bundle while the unbundled tests pass.
 */
function checkNamedClasses() {
  const entry = readFileSync(join(ccxtDir, 'ccxt.js'), 'utf8');
  const table = entry.slice(
    entry.indexOf('const exchanges = {'),
    entry.indexOf('};', entry.indexOf('const exchanges = {')),
  );
  const ids = new Set([...table.matchAll(/'([a-z0-9]+)':/g)].map((m) => m[1]));
  if (ids.size < VENUE_CLASSES.length) throw new Error("bundle: cannot read ccxt.js's exchange table");
  const problems = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) {
        const text = readFileSync(p, 'utf8');
        for (const m of text.matchAll(/\bccxt(?:\.pro)?\.([a-z0-9]+)\b/g))
          if (ids.has(m[1]) && !VENUE_CLASSES.includes(m[1])) problems.push(`${p}: ccxt class '${m[1]}'`);
        if (/\bccxt(?:\.pro)?\[/.test(text)) problems.push(`${p}: ccxt class looked up by a computed name`);
      }
    }
  };
  walk(join(root, 'src'));
  if (problems.length)
    throw new Error(`bundle: add these to VENUE_CLASSES in scripts/bundle.mjs or drop them:\n${problems.join('\n')}`);
}

checkNamedClasses();
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
  plugins: [ccxtVenuesOnly()],
  alias: {
    'protobufjs/minimal.js': './scripts/protobufjs-missing.mjs',
    'protobufjs/minimal': './scripts/protobufjs-missing.mjs',
  },
  // CommonJS dependencies inside an ESM bundle still call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __bosunRequire } from 'node:module'; const require = __bosunRequire(import.meta.url);",
  },
});
