// What the serve tests share: the real `dsvk serve` on 127.0.0.1 on a port
// the system picks, the official openai client pointed at it, curl, and
// `dsvk run` for reference output. tests/serve.cmake passes the paths:
//   DSVK                    the dsvk program
//   DSVK_SERVE_MODEL        the model to serve (the demo model)
//   DSVK_SERVE_NODE_MODULES node_modules holding the openai package
import { spawn, execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import assert from 'node:assert/strict';

export { assert };
export const dsvk = need('DSVK');
export const model = need('DSVK_SERVE_MODEL');
// The demo model has no chat template of its own.
export const chatFormat = ['--chat-format', 'deepseek2'];

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (tests/serve.cmake sets it)`);
  return value;
}

// The package is installed in the build tree, not next to this file.
const requireFromBuild = createRequire(
    path.join(need('DSVK_SERVE_NODE_MODULES'), 'serve-tests.cjs'));
const OpenAI = requireFromBuild('openai').default;

// Servers a failed test leaves behind do not outlive it.
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

// A started server: its URL, its stderr lines so far, and stop().
export async function startServer(args = [], { timeoutMs = 120000 } = {}) {
  const child = spawn(dsvk, ['serve', '-m', model, '--port', '0', ...args],
                      { stdio: ['ignore', 'inherit', 'pipe'] });
  children.add(child);
  const lines = [];
  const waiters = new Set();
  let pending = '';
  let exited = null;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    process.stderr.write(text);
    pending += text;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      lines.push(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    for (const w of waiters) w.check();
  });
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    children.delete(child);
    for (const w of waiters) w.check();
    resolve(exited);
  }));

  // Resolves with the first line (from line `from` on) that matches.
  function waitForLine(pattern, { from = 0, timeout = 60000 } = {}) {
    return new Promise((resolve, reject) => {
      const w = {
        check() {
          const line = lines.slice(from).find((l) => pattern.test(l));
          if (line !== undefined) return done(() => resolve(line));
          if (exited)
            done(() => reject(new Error(
                `dsvk serve exited (${JSON.stringify(exited)}) before a ` +
                `line matching ${pattern}`)));
        },
      };
      const timer = setTimeout(() => done(() => reject(new Error(
          `no line matching ${pattern} within ${timeout} ms`))), timeout);
      function done(settle) {
        clearTimeout(timer);
        waiters.delete(w);
        settle();
      }
      waiters.add(w);
      w.check();
    });
  }

  const listening = await waitForLine(/listening on (http:\/\/\S+)/,
                                      { timeout: timeoutMs });
  const url = listening.match(/listening on (http:\/\/\S+)/)[1];
  return {
    url,
    lines,
    waitForLine,
    // SIGTERM, then exit 0: no crash, and no validation-layer message
    // (the server exits 1 on one).
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const { code, signal } = await exit;
      assert.equal(signal, null, 'dsvk serve died of a signal');
      assert.equal(code, 0, 'dsvk serve exit status');
    },
  };
}

export function client(server, apiKey = 'unused') {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0,
                      timeout: 120000 });
}

function run(program, args, input) {
  return new Promise((resolve, reject) => {
    const child = execFile(program, args, { maxBuffer: 1 << 24 },
                           (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

// `dsvk run` with the same model; its stdout is the text plus a newline.
export async function dsvkRun(args) {
  const r = await run(dsvk, ['run', '-m', model, ...args]);
  assert.equal(r.code, 0, `dsvk run failed: ${r.stderr}`);
  assert.ok(r.stdout.endsWith('\n'));
  return r.stdout.slice(0, -1);
}

// curl with the given arguments against the server; returns the status,
// the headers (lower-case names) and the body. -s: no progress; -D -: the
// headers on stdout before the body.
export async function curl(server, route, args = []) {
  const r = await run('curl', ['-s', '-S', '-D', '-', ...args,
                               `${server.url}${route}`]);
  assert.equal(r.code, 0, `curl failed: ${r.stderr}`);
  const split = r.stdout.indexOf('\r\n\r\n');
  assert.ok(split >= 0, 'no header block in curl output');
  const [statusLine, ...headerLines] = r.stdout.slice(0, split).split('\r\n');
  const headers = {};
  for (const h of headerLines) {
    const colon = h.indexOf(':');
    headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers,
           body: r.stdout.slice(split + 4) };
}

// POST a JSON body (a string, sent as it is) with curl.
export function post(server, route, body, extra = []) {
  return curl(server, route, ['-X', 'POST', '-H',
                              'Content-Type: application/json',
                              '--data-binary', body, ...extra]);
}

// A test body: runs fn with a started server and stops it, also on failure.
export async function withServer(args, fn) {
  const server = await startServer(args);
  try {
    await fn(server);
  } catch (error) {
    // The test's failure is the news; the server is stopped all the same.
    await server.stop().catch(() => {});
    throw error;
  }
  await server.stop();
}
