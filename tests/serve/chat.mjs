// Chat and raw completions through the official openai client, whole and
// streamed, and greedy output identical to `dsvk run --temp 0` on the same
// prompt.
import { assert, chatFormat, client, curl, dsvkRun, post, withServer }
    from './harness.mjs';

const question = 'Who made the heaven and the earth?';
const n = 24;

await withServer(chatFormat, async (server) => {
  const openai = client(server);

  const models = await openai.models.list();
  assert.equal(models.data.length, 1);
  assert.equal(models.data[0].object, 'model');
  const health = await curl(server, '/health');
  assert.equal(health.status, 200);
  assert.equal(JSON.parse(health.body).status, 'ok');

  // Whole: the reply, its usage and why it ended.
  const whole = await openai.chat.completions.create({
    model: 'demo', messages: [{ role: 'user', content: question }],
    temperature: 0, max_tokens: n,
  });
  assert.equal(whole.object, 'chat.completion');
  assert.equal(whole.choices.length, 1);
  const reply = whole.choices[0];
  assert.equal(reply.message.role, 'assistant');
  assert.equal(reply.finish_reason, 'length');
  assert.ok(reply.message.content.length > 0);
  assert.equal(whole.usage.completion_tokens, n);
  assert.ok(whole.usage.prompt_tokens > 10);
  assert.equal(whole.usage.total_tokens,
               whole.usage.prompt_tokens + whole.usage.completion_tokens);

  // The same greedy reply as dsvk run --chat, whose text starts with the
  // space the model writes after "Assistant:", which the server leaves
  // out of the message as llama-server does.
  const ran = await dsvkRun([...chatFormat, '--chat', '-p', question, '-n',
                             String(n), '--temp', '0']);
  assert.equal(reply.message.content, ran.replace(/^ /, ''));

  // Streamed: the chunks add up to the same text, the last one with a
  // finish_reason carries it, and the usage chunk comes when asked for.
  const stream = await openai.chat.completions.create({
    model: 'demo', messages: [{ role: 'user', content: question }],
    temperature: 0, max_tokens: n, stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      assert.equal(finish, null, 'a chunk after the finish_reason');
      text += choice.delta.content ?? '';
      finish = choice.finish_reason ?? null;
    }
  }
  assert.equal(text, reply.message.content);
  assert.equal(finish, 'length');
  assert.ok(chunks > 3, `only ${chunks} chunks: not streamed`);
  assert.deepEqual(
      { prompt: usage.prompt_tokens, completion: usage.completion_tokens },
      { prompt: whole.usage.prompt_tokens, completion: n });

  // The raw events: text/event-stream, data: lines, data: [DONE] last.
  const raw = await post(server, '/v1/chat/completions', JSON.stringify({
    messages: [{ role: 'user', content: question }], temperature: 0,
    max_tokens: 4, stream: true,
  }), ['-N']);
  assert.equal(raw.status, 200);
  assert.match(raw.headers['content-type'], /^text\/event-stream/);
  const events = raw.body.split('\n\n').filter((e) => e.length > 0);
  assert.ok(events.every((e) => e.startsWith('data: ')), raw.body);
  assert.equal(events.at(-1), 'data: [DONE]');

  // Raw completions: the prompt is continued as dsvk run continues it.
  const prompt = 'In the beginning';
  const completion = await openai.completions.create({
    model: 'demo', prompt, temperature: 0, max_tokens: n,
  });
  assert.equal(completion.object, 'text_completion');
  assert.equal(completion.choices[0].finish_reason, 'length');
  assert.equal(completion.choices[0].text,
               await dsvkRun(['-p', prompt, '-n', String(n), '--temp', '0']));

  // A stop string ends the text before it, with finish_reason stop; this
  // one spans tokens.
  const full = completion.choices[0].text;
  const cut = full.indexOf(' ', 1);
  assert.ok(cut > 0, `no space to stop at in ${JSON.stringify(full)}`);
  const stop = full.slice(cut, cut + 4);
  const stopped = await openai.completions.create({
    model: 'demo', prompt, temperature: 0, max_tokens: n, stop: [stop],
  });
  assert.equal(stopped.choices[0].finish_reason, 'stop');
  assert.equal(stopped.choices[0].text, full.slice(0, full.indexOf(stop)));

  // Sampled with a seed: the same seed gives the same text.
  const sampled = (seed) => openai.completions.create({
    model: 'demo', prompt, temperature: 1.2, top_p: 0.9, top_k: 50,
    min_p: 0.01, presence_penalty: 0.5, frequency_penalty: 0.5,
    max_tokens: 16, seed,
  }).then((c) => c.choices[0].text);
  assert.equal(await sampled(42), await sampled(42));
});
console.log('serve chat: ok');
