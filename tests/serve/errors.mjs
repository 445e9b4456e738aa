// Every way a request or the command line can be wrong: each gets its
// status and an OpenAI-style JSON error (or, for the command, one line on
// stderr and exit 1), and the server goes on serving.
import { assert, chatFormat, client, curl, dsvk, model, post, startServer,
         withServer } from './harness.mjs';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const key = 'sk-test-4f1c';
const auth = ['-H', `Authorization: Bearer ${key}`];
const maxBody = 4096;
const ctx = 64;

// An OpenAI error body: {"error": {message, type, param, code}}.
function checkError(r, status, { type = 'invalid_request_error', param,
                                  code = null, message } = {}) {
  const what = `${status} expected, got ${r.status}: ${r.body}`;
  assert.equal(r.status, status, what);
  assert.match(r.headers['content-type'], /^application\/json/, what);
  const { error } = JSON.parse(r.body);
  assert.equal(typeof error.message, 'string', what);
  assert.ok(error.message.length > 0 && !error.message.includes('\n'), what);
  assert.equal(error.type, type, what);
  assert.equal(error.code, code, what);
  if (param !== undefined) assert.equal(error.param, param, what);
  if (message) assert.match(error.message, message, what);
}

const chat = (fields) => JSON.stringify({
  messages: [{ role: 'user', content: 'Hello' }], max_tokens: 2, ...fields,
});

await withServer([...chatFormat, '--api-key', key, '--max-body',
                  String(maxBody), '--ctx', String(ctx)], async (server) => {
  // The key: missing, wrong, another scheme; /health needs none.
  for (const header of [[], ['-H', 'Authorization: Bearer sk-wrong'],
                        ['-H', `Authorization: Basic ${key}`],
                        ['-H', `Authorization: Bearer ${key}x`]]) {
    checkError(await curl(server, '/v1/models', header), 401,
               { type: 'authentication_error' });
    checkError(await post(server, '/v1/chat/completions', chat(), header),
               401, { type: 'authentication_error' });
  }
  assert.equal((await curl(server, '/v1/models', auth)).status, 200);
  assert.equal((await curl(server, '/health')).status, 200);
  // The openai client sees the 401 as its AuthenticationError.
  await assert.rejects(client(server, 'sk-wrong').models.list(),
                       (e) => e.status === 401);

  // Routes and methods.
  checkError(await curl(server, '/v1/embeddings', auth), 404,
             { type: 'not_found_error' });
  checkError(await curl(server, '/', auth), 404, { type: 'not_found_error' });
  const get = await curl(server, '/v1/chat/completions', auth);
  checkError(get, 405);
  assert.equal(get.headers.allow, 'POST');
  checkError(await post(server, '/v1/models', '{}', auth), 405);
  // A browser's preflight: no key, the CORS answer.
  const preflight = await curl(server, '/v1/chat/completions',
                               ['-X', 'OPTIONS']);
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers['access-control-allow-methods'], /POST/);
  assert.equal(preflight.headers['access-control-allow-origin'], '*');

  // The body limit, with and without a Content-Length up front.
  const big = chat({ messages: [{ role: 'user',
                                  content: 'x'.repeat(maxBody) }] });
  checkError(await post(server, '/v1/chat/completions', big, auth), 413,
             { message: /--max-body/ });
  checkError(await post(server, '/v1/completions', big,
                        [...auth, '-H', 'Transfer-Encoding: chunked']), 413);

  // Bodies that are not a request.
  const bad = [
    ['', 'an empty body'],
    ['{"messages": [', 'cut-off JSON'],
    ['{"messages": []} trailing', 'text after the JSON'],
    ['[1, 2]', 'an array'],
    ['"hello"', 'a string'],
    ['{}', 'no messages'],
    ['{"messages": []}', 'no message'],
    ['{"messages": "Hello"}', 'messages not an array'],
    ['{"messages": [{"content": "Hi"}]}', 'a message without a role'],
    ['{"messages": [{"role": "wizard", "content": "Hi"}]}', 'an unknown role'],
    ['{"messages": [{"role": "user", "content": 7}]}', 'numeric content'],
    ['{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}',
     'an image part'],
    [chat({ temperature: 'hot' }), 'a string temperature'],
    [chat({ temperature: -1 }), 'a negative temperature'],
    [chat({ top_p: 1.5 }), 'top_p above 1'],
    [chat({ top_k: 2.5 }), 'a fractional top_k'],
    [chat({ max_tokens: -1 }), 'negative max_tokens'],
    [chat({ max_tokens: '10' }), 'a string max_tokens'],
    [chat({ seed: 'abc' }), 'a string seed'],
    [chat({ stream: 'yes' }), 'a string stream'],
    [chat({ stream_options: 3 }), 'stream_options not an object'],
    [chat({ stop: 5 }), 'a numeric stop'],
    [chat({ stop: ['a', 'b', 'c', 'd', 'e'] }), 'five stop strings'],
    [chat({ n: 2 }), 'two choices'],
    [chat({ tools: [{ type: 'function' }] }), 'tools'],
    [chat({ presence_penalty: 'x' }), 'a string penalty'],
  ];
  for (const [body, what] of bad) {
    const r = await post(server, '/v1/chat/completions', body, auth);
    assert.equal(r.status, 400, `${what}: ${r.status} ${r.body}`);
    checkError(r, 400);
  }
  // Invalid UTF-8 in a string: bytes curl sends from a file as they are.
  const dir = mkdtempSync(path.join(tmpdir(), 'dsvk-serve-'));
  const file = path.join(dir, 'body.json');
  writeFileSync(file, Buffer.concat([
      Buffer.from('{"messages": [{"role": "user", "content": "'),
      Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}]}')]));
  checkError(await post(server, '/v1/chat/completions', `@${file}`, auth),
             400);
  rmSync(dir, { recursive: true });
  for (const body of ['{}', '{"prompt": 5}', '{"prompt": ["a", "b"]}',
                      '{"prompt": "Hi", "logprobs": 2}'])
    checkError(await post(server, '/v1/completions', body, auth), 400);

  // Fields dsvk does not use, of any type, are left alone.
  const extra = await post(server, '/v1/chat/completions',
                           chat({ user: 'u-1', metadata: { a: 1 },
                                  store: false }), auth);
  assert.equal(extra.status, 200, extra.body);

  // A prompt longer than the context, through the openai client too.
  const long = 'In the beginning God created the heaven and the earth. '
      .repeat(8);
  checkError(await post(server, '/v1/completions',
                        JSON.stringify({ prompt: long }), auth), 400,
             { param: 'prompt', code: 'context_length_exceeded' });
  await assert.rejects(client(server, key).chat.completions.create({
    model: 'demo', messages: [{ role: 'user', content: long }],
  }), (e) => e.status === 400 && e.code === 'context_length_exceeded');

  // And after all of it, the server still answers.
  const ok = await client(server, key).chat.completions.create({
    model: 'demo', messages: [{ role: 'user', content: 'Hello' }],
    max_tokens: 4, temperature: 0,
  });
  assert.equal(ok.usage.completion_tokens, 4);
});

// A model without a chat template, served without --chat-format: chat
// requests get a clear 400, raw completions work.
await withServer([], async (server) => {
  checkError(await post(server, '/v1/chat/completions', chat()), 400,
             { message: /chat/ });
  const r = await post(server, '/v1/completions',
                       JSON.stringify({ prompt: 'In', max_tokens: 2 }));
  assert.equal(r.status, 200, r.body);
});

// The command line: one line on stderr, exit 1.
function serve(args) {
  return new Promise((resolve) => execFile(dsvk, ['serve', ...args],
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0,
                                          stderr })));
}
async function refused(args, pattern) {
  const r = await serve(args);
  assert.equal(r.code, 1, `dsvk serve ${args.join(' ')}: exit ${r.code}`);
  // Lines of its own, the reason last.
  const lines = r.stderr.split('\n');
  assert.equal(lines.pop(), '', r.stderr);
  assert.ok(lines.every((l) => l.startsWith('dsvk serve: ')), r.stderr);
  assert.match(lines.at(-1), new RegExp(`^dsvk serve: ${pattern}`),
               `dsvk serve ${args.join(' ')}`);
}
await refused([], 'no model');
await refused(['-m'], '-m needs a value');
await refused(['-m', model, '--port', '70000'], '--port needs');
await refused(['-m', model, '--parallel', '0'], '--parallel needs');
await refused(['-m', model, '--parallel', '65'], '--parallel needs');
await refused(['-m', model, '--ctx', 'many'], '--ctx needs');
await refused(['-m', model, '--max-body', '-5'], '--max-body needs');
await refused(['-m', model, '--cache-type', 'q2'], '--cache-type is');
await refused(['-m', model, '--chat-format', 'llama3'], '--chat-format is');
await refused(['-m', model, '--api-key', ''], '--api-key is empty');
await refused(['-m', model, '--verbose', '1'], "unknown option '--verbose'");
await refused(['-m', '/nonexistent/model.gguf'], '.*model\\.gguf');
// A port in use.
const holder = await startServer(chatFormat);
const port = new URL(holder.url).port;
await refused([...chatFormat, '-m', model, '--port', port],
              `cannot listen on 127\\.0\\.0\\.1 port ${port}`);
await holder.stop();
const help = await serve(['--help']);
assert.equal(help.code, 0);
console.log('serve errors: ok');
