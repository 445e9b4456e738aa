// Six requests at once on two slots: four wait in the queue, and every
// answer is whole and the same greedy text `dsvk run --chat --temp 0`
// gives for its question. Half of them stream.
import { assert, chatFormat, client, dsvkRun, withServer }
    from './harness.mjs';

const questions = [
  'Who made the heaven and the earth?',
  'What did Noah build?',
  'Where was Moses born?',
  'Who was the first king of Israel?',
  'What is the bread of life?',
  'Who led the people out of Egypt?',
];
const n = 16;

await withServer([...chatFormat, '--parallel', '2'], async (server) => {
  const openai = client(server);
  const ask = async (question, i) => {
    const body = {
      model: 'demo', messages: [{ role: 'user', content: question }],
      temperature: 0, max_tokens: n,
    };
    if (i % 2 === 0) {
      const reply = await openai.chat.completions.create(body);
      assert.equal(reply.usage.completion_tokens, n);
      return { text: reply.choices[0].message.content,
               finish: reply.choices[0].finish_reason };
    }
    let text = '';
    let finish = null;
    const stream = await openai.chat.completions.create({ ...body,
                                                          stream: true });
    for await (const chunk of stream)
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? '';
        finish = choice.finish_reason ?? finish;
      }
    return { text, finish };
  };

  const answers = await Promise.all(questions.map(ask));
  for (const [i, question] of questions.entries()) {
    const ran = await dsvkRun([...chatFormat, '--chat', '-p', question, '-n',
                               String(n), '--temp', '0']);
    assert.deepEqual(answers[i], { text: ran.replace(/^ /, ''),
                                   finish: 'length' }, question);
  }
  const served = server.lines.filter((l) =>
      / POST \/v1\/chat\/completions 200 .*generated 16 tokens/.test(l));
  assert.equal(served.length, questions.length);
});
console.log('serve concurrent: ok');
