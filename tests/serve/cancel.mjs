// A client that goes away stops its generation and frees its slot: one
// that stops reading a stream, one that gives up on a whole reply, and
// one that gives up while it waits in the queue. One slot, so that each
// next request proves the slot came free.
import { assert, chatFormat, client, withServer } from './harness.mjs';

const long = 200; // far more tokens than the test waits for
const messages = [{ role: 'user', content: 'Tell me of the kings of Israel.' }];

await withServer([...chatFormat, '--parallel', '1'], async (server) => {
  const openai = client(server);
  const done = (from) => server.waitForLine(
      /POST \/v1\/chat\/completions .*client disconnected/, { from });
  const generated = (line) => Number(line.match(/generated (\d+) tokens/)[1]);

  // A stream left after three pieces of text (the client aborts the
  // request when the loop ends early).
  let from = server.lines.length;
  const stream = await openai.chat.completions.create({
    model: 'demo', messages, temperature: 0, max_tokens: long, stream: true,
  });
  let pieces = 0;
  for await (const chunk of stream)
    if (chunk.choices[0]?.delta?.content && ++pieces === 3) break;
  let line = await done(from);
  assert.match(line, / 200 /);
  assert.ok(generated(line) < long, line);

  // A whole reply given up on after 300 ms, and while it runs, a second
  // request given up on in the queue.
  from = server.lines.length;
  const running = new AbortController();
  const queued = new AbortController();
  const ask = (controller) => openai.chat.completions.create(
      { model: 'demo', messages, temperature: 0, max_tokens: long },
      { signal: controller.signal });
  const first = ask(running);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const second = ask(queued);
  await new Promise((resolve) => setTimeout(resolve, 200));
  queued.abort();
  running.abort();
  await Promise.all([first, second].map((request) => assert.rejects(
      request, (e) => e.constructor.name === 'APIUserAbortError')));
  const ended = [await done(from)];
  ended.push(await done(server.lines.indexOf(ended[0]) + 1));
  for (const l of ended) {
    assert.match(l, / 499 /);
    if (/generated/.test(l)) assert.ok(generated(l) < long, l);
  }

  // The slot is free: a new request runs to its end.
  const reply = await openai.chat.completions.create({
    model: 'demo', messages, temperature: 0, max_tokens: 8,
  });
  assert.equal(reply.choices[0].finish_reason, 'length');
  assert.equal(reply.usage.completion_tokens, 8);
});
console.log('serve cancel: ok');
