#!/usr/bin/env node
// Checks every HTTP exchange the API tests had with `onair serve` (JSON lines written by
// tests/api/harness.hpp) against the OpenAPI document, with openapi-backend (routing, parameters,
// request and response schemas by status, response headers) over Ajv with the JSON Schema dialect
// of the document's OpenAPI version.
//
//   node validate.mjs --document api/web/openapi.json --exchanges exchanges.jsonl
//   node validate.mjs --document api/web/openapi.json --self-test known.jsonl
//
// An exchange is a mismatch when its operation answers a status, a media type, a body or a header
// the document does not allow, when the server accepts (2xx/3xx) a request the document rejects,
// when it answers 2xx/3xx on a route the document does not have, or when GET /openapi.json serves
// another document than the one checked against. Exits 1 on any mismatch, and when there is nothing
// to check: a check that cannot fail proves nothing.
// --self-test reads exchanges that each carry "expect": "ok" | "mismatch" and passes only when
// every verdict is the expected one, so a validator that accepts everything fails it.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isDeepStrictEqual, parseArgs } from 'node:util';

const require = createRequire(new URL('../../../api/web/package.json', import.meta.url));
const { OpenAPIBackend } = require('openapi-backend');
const Ajv2020 = require('ajv/dist/2020').default;
const Ajv = require('ajv').default;
const addFormats = require('ajv-formats').default;

const { values: args } = parseArgs({
  options: {
    document: { type: 'string' },
    exchanges: { type: 'string' },
    'self-test': { type: 'string' },
  },
});
if (!args.document || !(args.exchanges || args['self-test'])) {
  console.error('usage: validate.mjs --document openapi.json (--exchanges FILE.jsonl | --self-test FILE.jsonl)');
  process.exit(2);
}

const served = JSON.parse(readFileSync(args.document, 'utf8'));
const checker = await make_checker(served);

const file = args.exchanges ?? args['self-test'];
if (!existsSync(file)) {
  console.log(`no exchanges at ${file}: the API tests write them with ONAIR_API_EXCHANGES set (ctest -R '^api')`);
  process.exit(1);
}
const exchanges = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l, i) => {
    try {
      return JSON.parse(l);
    } catch (e) {
      console.error(`${file}:${i + 1}: not JSON: ${e.message}`);
      process.exit(2);
    }
  });

process.exit(args['self-test'] ? self_test(exchanges) : check_all(exchanges));

// ---- the checks

async function make_checker(document) {
  const definition = structuredClone(document);
  // openapi-backend keys its validators by operationId; the document names none.
  for (const [path, item] of Object.entries(definition.paths ?? {}))
    for (const [method, op] of Object.entries(item))
      if (op && typeof op === 'object' && 'responses' in op) op.operationId ??= `${method.toUpperCase()} ${path}`;

  const json_schema_2020 = definition.openapi.startsWith('3.1');
  const api = new OpenAPIBackend({
    definition,
    strict: true, // an invalid document is an error, not a warning
    customizeAjv: (original, options) => {
      // Unknown keywords fail the compile (a misspelt constraint would otherwise check nothing),
      // except the annotations OpenAPI adds to JSON Schema.
      const opts = { ...options, strict: true, strictTypes: false, strictTuples: false, strictRequired: false };
      const ajv = json_schema_2020 ? new Ajv2020(opts) : new Ajv(opts);
      ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
      addFormats(ajv);
      for (const [name, format] of Object.entries(original.formats))
        if (!(name in ajv.formats)) ajv.addFormat(name, format);
      return ajv;
    },
  });
  await api.init();
  return { api, document };
}

// The verdict on one exchange: { scope: 'checked' | 'undocumented route' | 'not an operation', problems: [] }.
function check(exchange) {
  const { api, document } = checker;
  const problems = [];
  const method = exchange.method.toUpperCase();
  const [path, query = ''] = exchange.target.split(/\?(.*)/s);
  const status = exchange.status;
  const success = status >= 200 && status < 400;

  // CORS preflights are the browser's protocol, not operations of the API.
  if (method === 'OPTIONS') return { scope: 'not an operation', problems };

  const request = {
    method,
    path,
    query,
    headers: exchange.requestHeaders ?? {},
    body: request_body(exchange),
  };
  const operation = api.router.matchOperation(request);
  if (!operation) {
    if (success) problems.push(`${method} ${path} answered ${status} but the document has no such operation`);
    return { scope: 'undocumented route', problems };
  }

  // The request, as the document describes it.
  const request_problems = [];
  const body_type = media_type(request.headers['content-type']);
  const documented_body = operation.requestBody?.content;
  if (exchange.requestBody && documented_body && !match_media(body_type, Object.keys(documented_body)))
    request_problems.push(`request content-type '${body_type}' is not one of ${Object.keys(documented_body).join(', ')}`);
  // openapi-backend also refuses query parameters the operation does not list.
  const valid_request = api.validator.validateRequest(request, operation);
  request_problems.push(...ajv_errors(valid_request.errors, 'request'));
  if (request_problems.length && success)
    problems.push(`accepted (${status}) a request the document rejects: ${request_problems.join('; ')}`);

  // The response.
  const response = find_response(operation.responses, status);
  if (!response) {
    problems.push(`status ${status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`);
    return { scope: 'checked', problems, operation };
  }
  const headers = exchange.responseHeaders ?? {};
  const has_body = exchange.responseBytes > 0 && method !== 'HEAD' && status !== 304;
  const type = media_type(headers['content-type']);
  const documented = response.content ? Object.keys(response.content) : [];
  if (documented.length === 0) {
    if (has_body) problems.push(`status ${status} is documented without a body, got ${exchange.responseBytes} bytes of '${type}'`);
  } else if (has_body || headers['content-type']) {
    const key = match_media(type, documented);
    if (!key) {
      problems.push(`content-type '${type}' is not one of ${documented.join(', ')}`);
    } else if (has_body && is_json(key) && response.content[key].schema) {
      problems.push(...check_json_body(exchange, operation, key));
    }
  } else if (!has_body && method !== 'HEAD' && status !== 304) {
    problems.push(`status ${status} is documented with ${documented.join(', ')} but the answer has no body`);
  }
  for (const [name, header] of Object.entries(response.headers ?? {}))
    if (header.required && !(name.toLowerCase() in headers)) problems.push(`required header ${name} is missing`);
  const valid_headers = api.validator.validateResponseHeaders(headers, operation, { statusCode: status, setMatchType: 'any' });
  problems.push(...ajv_errors(valid_headers.errors, 'response'));

  // The document this build serves is the one checked against.
  if (method === 'GET' && path === '/openapi.json' && status === 200) {
    const body = parse_body(exchange);
    if (!body.ok || !isDeepStrictEqual(body.value, document))
      problems.push(`GET /openapi.json served another document than ${args.document} (rebuild, or the build embeds a stale copy)`);
  }
  return { scope: 'checked', problems, operation };
}

function check_json_body(exchange, operation, key) {
  const { api } = checker;
  const body = parse_body(exchange);
  if (!body.ok) return [`the body is not JSON: ${body.error}`];
  if (key !== 'application/json') return [`openapi-backend validates application/json bodies only, not '${key}'`];
  // openapi-backend finds the schema by status (exact, then 2XX, then default); make sure one was
  // found, since it passes silently otherwise.
  const by_status = api.validator.getStatusBasedResponseValidatorForOperation(operation.operationId) ?? {};
  if (!find_response(by_status, exchange.status))
    return [`no schema validator was built for status ${exchange.status}`];
  const result = api.validator.validateResponse(body.value, operation, exchange.status);
  return ajv_errors(result.errors, 'response body');
}

// The response object for a status: exact, else its class (2XX), else default.
function find_response(responses, status) {
  return responses?.[String(status)] ?? responses?.[`${String(status)[0]}XX`] ?? responses?.default;
}

function request_body(exchange) {
  const text = exchange.requestBody ?? '';
  if (text === '') return undefined;
  if (!is_json(media_type(exchange.requestHeaders?.['content-type']))) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text; // openapi-backend reports the parse error itself
  }
}

function parse_body(exchange) {
  if (typeof exchange.responseBody !== 'string') return { ok: false, error: 'the harness kept no body' };
  let text = exchange.responseBody;
  if (/chunked/i.test(exchange.responseHeaders?.['transfer-encoding'] ?? '')) text = dechunk(text);
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: `${e.message}: ${JSON.stringify(text.slice(0, 200))}` };
  }
}

function dechunk(text) {
  let out = '';
  for (let at = 0; ; ) {
    const eol = text.indexOf('\r\n', at);
    if (eol < 0) return out;
    const size = parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

function media_type(header) {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

function is_json(type) {
  return type === 'application/json' || type.endsWith('+json');
}

function match_media(type, documented) {
  const [major] = type.split('/');
  return documented.find((d) => d.toLowerCase() === type) ??
    documented.find((d) => d.toLowerCase() === `${major}/*`) ??
    documented.find((d) => d === '*/*');
}

// One line per place in the instance: the branches of an anyOf that all failed read as one problem.
function ajv_errors(errors, what) {
  const by_place = new Map();
  for (const e of errors ?? []) {
    const allowed = e.params?.allowedValues ? ` (allowed: ${e.params.allowedValues.join(', ')})` : '';
    const extra = e.params?.additionalProperty ? ` '${e.params.additionalProperty}'` : '';
    const place = e.instancePath || '/';
    by_place.set(place, [...(by_place.get(place) ?? []), `${e.message}${extra}${allowed}`]);
  }
  return [...by_place].map(([place, messages]) => `${what} ${place}: ${messages.join(' | ')}`);
}

// ---- the two modes

function check_all(exchanges) {
  const counts = { checked: 0, 'undocumented route': 0, 'not an operation': 0 };
  const operations = new Set();
  const mismatches = new Map(); // one entry per distinct problem, with its first exchange and a count
  let bad = 0;
  for (const exchange of exchanges) {
    const verdict = check(exchange);
    counts[verdict.scope]++;
    if (verdict.operation) operations.add(verdict.operation.operationId);
    if (verdict.problems.length === 0) continue;
    bad++;
    for (const problem of verdict.problems) {
      const key = `${verdict.operation?.operationId ?? exchange.method + ' ' + exchange.target} ${exchange.status} ${problem}`;
      const seen = mismatches.get(key);
      if (seen) seen.count++;
      else mismatches.set(key, { exchange, problem, operation: verdict.operation, count: 1 });
    }
  }
  for (const { exchange, problem, operation, count } of mismatches.values()) {
    console.log(`MISMATCH ${exchange.method} ${exchange.target} -> ${exchange.status}` +
      (operation ? ` (operation ${operation.operationId})` : '') + (count > 1 ? ` [${count} exchanges]` : ''));
    console.log(`  ${problem}`);
    if (exchange.test) console.log(`  first seen in ${exchange.test}`);
    if (exchange.requestBody) console.log(`  request: ${exchange.requestBody.slice(0, 500)}`);
    if (exchange.responseBody !== undefined) console.log(`  response: ${exchange.responseBody.slice(0, 500)}`);
  }
  const documented = checker.api.router.getOperations().map((op) => op.operationId);
  const untested = documented.filter((id) => !operations.has(id));
  if (untested.length) console.log(`operations no exchange reached: ${untested.join(', ')}`);
  console.log(`${exchanges.length} exchanges: ${counts.checked} checked against ${args.document} ` +
    `(${operations.size} of its ${documented.length} operations), ${counts['undocumented route']} on undocumented routes, ` +
    `${counts['not an operation']} CORS preflights; ${bad} mismatched (${mismatches.size} distinct problems)`);
  if (counts.checked === 0) {
    console.log('nothing was checked: were the API tests run with ONAIR_API_EXCHANGES set?');
    return 1;
  }
  // Else the document checked against may not be the one the binary serves.
  if (!exchanges.some((e) => e.method === 'GET' && e.target === '/openapi.json' && e.status === 200)) {
    console.log('no exchange fetched GET /openapi.json: nothing shows the build serves this document');
    return 1;
  }
  return bad === 0 ? 0 : 1;
}

function self_test(exchanges) {
  let wrong = 0;
  const expected = { ok: 0, mismatch: 0 };
  for (const exchange of exchanges) {
    const verdict = check(exchange);
    const got = verdict.problems.length ? 'mismatch' : 'ok';
    expected[exchange.expect] = (expected[exchange.expect] ?? 0) + 1;
    const as_expected = got === exchange.expect &&
      (!exchange.expectProblem || verdict.problems.some((p) => p.includes(exchange.expectProblem)));
    if (!as_expected) wrong++;
    console.log(`${as_expected ? 'as expected' : 'WRONG'}: ${exchange.method} ${exchange.target} -> ${exchange.status}: ` +
      `${got}${verdict.problems.length ? ' — ' + verdict.problems.join('; ') : ''} (${exchange.why})`);
  }
  console.log(`${exchanges.length - wrong} passed, ${wrong} failed`);
  if (expected.ok === 0 || expected.mismatch === 0) {
    console.log('the self-test needs both exchanges that pass and exchanges that must not');
    return 1;
  }
  return wrong === 0 ? 0 : 1;
}
