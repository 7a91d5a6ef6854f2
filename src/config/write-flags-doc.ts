import { writeFile } from 'node:fs/promises';
import { ENV_EXAMPLE_URL, FLAGS_DOC_URL, renderEnvExample, renderFeatureFlagsDoc } from './flags-doc.js';

// `npm run flags`: rewrites docs/FEATURE_FLAGS.md and .env.example from the schema.

await writeFile(FLAGS_DOC_URL, renderFeatureFlagsDoc());
await writeFile(ENV_EXAMPLE_URL, renderEnvExample());
console.log(`wrote ${FLAGS_DOC_URL.pathname} and ${ENV_EXAMPLE_URL.pathname}`);
