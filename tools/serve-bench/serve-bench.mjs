// Load and latency of a running `dsvk serve`, with node's own fetch (no
// packages):
//   node tools/serve-bench/serve-bench.mjs URL [--clients N] [--requests N]
//        [--max-tokens N]
// Each of N clients sends its requests one after another (greedy
// completions of different prompts, so that every request generates
// max-tokens tokens unless the model ends it); the line printed gives
// requests/s and generated tokens/s over the whole run. Then the time to
// the first streamed token of a second chat turn, once right after the
// first turn (its slot still holds the conversation: only the new turn is
// prefilled) and once after another conversation took the slot (start the
// server with --parallel 1 for that comparison to hold).
const args = process.argv.slice(2);
const url = args[0];
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i > 0 ? Number(args[i + 1]) : fallback;
};
if (!url || url.startsWith('--')) {
  console.error('usage: serve-bench.mjs URL [--clients N] [--requests N] ' +
                '[--max-tokens N]');
  process.exit(2);
}
const clients = option('--clients', 1);
const requests = option('--requests', 8);
const maxTokens = option('--max-tokens', 64);

async function post(path, body) {
  const response = await fetch(url + path, {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response;
}

async function client(index) {
  let tokens = 0;
  for (let i = 0; i < requests; i++) {
    const response = await post('/v1/completions', {
      prompt: `Client ${index}, request ${i}: and it came to pass`,
      temperature: 0,
      max_tokens: maxTokens,
    });
    tokens += (await response.json()).usage.completion_tokens;
  }
  return tokens;
}

// Milliseconds to the first streamed chunk with text, and the reply.
async function firstToken(messages) {
  const start = performance.now();
  const response = await post('/v1/chat/completions', {
    messages,
    temperature: 0,
    max_tokens: 16,
    stream: true,
  });
  const decoder = new TextDecoder();
  let first = null, text = '', buffered = '';
  for await (const bytes of response.body) {
    buffered += decoder.decode(bytes, {stream: true});
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end).replace(/^data: /, '');
      buffered = buffered.slice(end + 2);
      if (event === '[DONE]')
        continue;
      const delta = JSON.parse(event).choices[0]?.delta?.content ?? '';
      if (delta && first === null)
        first = performance.now() - start;
      text += delta;
    }
  }
  return {ms: first, text};
}

// A first request compiles the pipelines, when the disk cache lacks them.
await post('/v1/completions', {prompt: 'Warm up', max_tokens: 4});
const start = performance.now();
const counts = await Promise.all([...Array(clients).keys()].map(client));
const seconds = (performance.now() - start) / 1000;
const total = counts.reduce((a, b) => a + b, 0);
console.log(`${clients} clients x ${requests} requests, max_tokens ` +
            `${maxTokens}: ${(clients * requests / seconds).toFixed(2)} ` +
            `requests/s, ${(total / seconds).toFixed(1)} generated ` +
            `tokens/s (${total} tokens in ${seconds.toFixed(2)} s)`);

const history = 'Tell me of the land of Egypt and of the river. '.repeat(3);
const turn1 = [{role: 'user', content: history}];
const reply = await firstToken(turn1);
const turn2 = [...turn1, {role: 'assistant', content: reply.text},
               {role: 'user', content: 'And then?'}];
const reused = await firstToken(turn2);
await firstToken([{role: 'user', content: 'Another conversation. ' + history}]);
const fresh = await firstToken(turn2);
console.log(`second chat turn, time to first token: ${reused.ms.toFixed(1)} ` +
            `ms with prefix reuse, ${fresh.ms.toFixed(1)} ms without`);
