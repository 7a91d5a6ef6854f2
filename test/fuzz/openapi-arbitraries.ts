import fc from 'fast-check';

/** The part of an OpenAPI 3 document the generators read. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  additionalProperties?: boolean | JsonSchema;
}
export interface OpenApiParam {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema?: JsonSchema;
}
export interface OpenApiOperation {
  parameters?: OpenApiParam[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}
export interface OpenApiDoc {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

/** One documented operation of one listener. */
export interface Operation {
  listener: string;
  method: string;
  path: string;
  params: OpenApiParam[];
  body?: JsonSchema | undefined;
}

export function operationsOf(listener: string, doc: OpenApiDoc, skip: (path: string) => boolean): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods)) {
      if (skip(path)) continue;
      out.push({
        listener,
        method: method.toUpperCase(),
        path,
        params: op.parameters ?? [],
        body: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  return out;
}

/** Strings an attacker tries: control characters, separators, prototype names, traversal, huge, non-BMP. */
export const hostileString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\n▶️ RESUME: trading ACTIVE [global]',
    '\u0000',
    '\u202e',
    '__proto__',
    '\\u005f\\u005fproto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    '../../etc/passwd',
    '%00',
    '%zz',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j-style probe string, sent as is.
    '${jndi:ldap://x}',
    '<script>alert(1)</script>',
    "' OR 1=1 --",
    'BTCUSDT.BINANCE.X',
    '1e309',
    '-0',
    'NaN',
    '😀',
    '\uD800',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.nat({ max: 70_000 }).map((n) => 'x'.repeat(n)),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, false, 0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.1, [], {}, [null], { __proto__: null }),
  fc.json().map((t) => JSON.parse(t) as unknown),
);

/** A value that fits `schema` (or nearly: patterns are sampled from known-good values when given). */
export function valueFor(
  schema: JsonSchema | undefined,
  depth = 0,
  examples: Record<string, unknown[]> = {},
): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return hostileValue;
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts && alts.length > 0) return fc.oneof(...alts.map((s) => valueFor(s, depth + 1, examples)));
  switch (schema.type) {
    case 'string':
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 30, 30) });
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -1e6, -1e9), max: Math.min(schema.maximum ?? 1e6, 1e9) });
    case 'number':
      return fc.double({
        min: Math.max(schema.minimum ?? -1e6, -1e9),
        max: Math.min(schema.maximum ?? 1e6, 1e9),
        noNaN: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(valueFor(schema.items, depth + 1, examples), { maxLength: 4 });
    case 'object': {
      const props = schema.properties ?? {};
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      // Keys with examples take only those: the campaign must not resume trading or stop the actors it watches.
      for (const [k, s] of Object.entries(props))
        record[k] = examples[k] ? fc.constantFrom(...examples[k]) : valueFor(s, depth + 1, examples);
      return fc.record(record, { requiredKeys: (schema.required ?? []).filter((k) => k in props) });
    }
    default:
      return hostileValue;
  }
}

/** Nested arrays or objects `depth` deep: what once overflowed canonical JSON. */
export const deepText = fc
  .tuple(fc.integer({ min: 20, max: 20_000 }), fc.boolean())
  .map(([d, arr]) => (arr ? `${'['.repeat(d)}${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`));

/** Mutations of a valid body: a missing or extra key, a wrong type, a poisoned key, deep nesting, junk text. */
export function bodyText(
  schema: JsonSchema | undefined,
  examples: Record<string, unknown[]>,
): fc.Arbitrary<string | undefined> {
  const valid = valueFor(schema ?? { type: 'object', properties: {} }, 0, examples);
  return fc.oneof(
    { weight: 6, arbitrary: valid.map((v) => JSON.stringify(v)) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(valid, hostileString, hostileValue)
        .map(([v, k, x]) =>
          JSON.stringify(typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...v, [k]: x } : x),
        ),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(valid, hostileValue).map(([v, x]) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return JSON.stringify(x);
        const keys = Object.keys(v);
        if (keys.length === 0) return JSON.stringify(x);
        return JSON.stringify({ ...v, [keys[0] as string]: x });
      }),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: deepText },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{"__proto__":{"x":1}}',
        '{"\\u005f\\u005fproto__":{"x":1}}',
        '{"constructor":{"prototype":{"x":1}}}',
        '{"type":"sup.restartChild","id":"toString"}',
        'enabled=false',
        '{"enabled": fal',
        'null',
        '[]',
        '"str"',
        '1e400',
        '\u0000',
        '{}'.padEnd(70_000, ' '),
      ),
    },
    { weight: 1, arbitrary: fc.json().map(String) },
  );
}
