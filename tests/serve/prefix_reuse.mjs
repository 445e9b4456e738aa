// A chat client resends the whole conversation each turn: the slot keeps
// its latent cache, so turn 2 prefills only what follows the common prefix,
// and the answer is the same as when it is prefilled whole.
import { assert, chatFormat, client, withServer } from './harness.mjs';

const n = 16;
const turn1 = [{ role: 'user', content: 'Who made the heaven and the earth?' }];

await withServer([...chatFormat, '--parallel', '1'], async (server) => {
  const openai = client(server);
  const chat = (messages) => openai.chat.completions.create({
    model: 'demo', messages, temperature: 0, max_tokens: n,
  });
  const cached = (reply) => reply.usage.prompt_tokens_details.cached_tokens;

  const first = await chat(turn1);
  assert.equal(cached(first), 0, 'a fresh slot has nothing cached');

  const turn2 = [...turn1,
                 { role: 'assistant', content: first.choices[0].message.content },
                 { role: 'user', content: 'And what did he make on the second day?' }];
  const second = await chat(turn2);
  const p1 = first.usage.prompt_tokens;
  const p2 = second.usage.prompt_tokens;
  assert.ok(p2 > p1 + n, `turn 2 has ${p2} prompt tokens, turn 1 ${p1}`);
  // All of turn 1's prompt (and its reply, as far as the text tokenizes
  // the same way again) comes from the cache.
  assert.ok(cached(second) >= p1 && cached(second) < p2,
            `turn 2: ${cached(second)} of ${p2} cached, turn 1 had ${p1}`);
  assert.equal(second.timings.prompt_n, p2 - cached(second));
  await server.waitForLine(new RegExp(
      `prompt ${p2} tokens \\(${cached(second)} cached\\)`));

  // Another conversation takes the slot over: it shares only the chat
  // format's lead-in (7 tokens with the demo model).
  const other = await chat([{ role: 'user', content: 'Sing a psalm.' }]);
  assert.ok(cached(other) < p1 / 2, `${cached(other)} tokens cached`);

  // Turn 2 again, prefilled whole this time: the same answer.
  const again = await chat(turn2);
  assert.ok(cached(again) < p1 / 2, `${cached(again)} tokens cached`);
  assert.equal(again.timings.prompt_n, p2 - cached(again));
  assert.equal(again.choices[0].message.content,
               second.choices[0].message.content);
});
console.log('serve prefix reuse: ok');
