// Drives an OpenAI-compatible server with the official `openai` npm SDK, as agents written in
// JavaScript do. Usage: node client.mjs <baseURL> <model>. Prints one JSON object of what each
// call returned (the Java test checks it against the server's own records); exits 1 on a crash.
import OpenAI from 'openai';

const [baseURL, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: 'sk-node', maxRetries: 0, timeout: 120_000 });
const out = {};
const user = (text) => [{ role: 'user', content: text }];

async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return { status: e.status, code: e.code ?? null, param: e.param ?? null, type: e.type ?? null, cls: e.constructor.name };
  }
}

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

// whole chat completion
const whole = await client.chat.completions.create({ model, messages: user('hello'), max_tokens: 8, seed: 1, logprobs: true, top_logprobs: 3 });
out.whole = {
  id: whole.id, object: whole.object, content: whole.choices[0].message.content, finish: whole.choices[0].finish_reason,
  logprobs: whole.choices[0].logprobs.content.map((e) => ({ token: e.token, logprob: e.logprob, top: e.top_logprobs.length })),
  usage: whole.usage,
};

// streamed chat completion with the usage chunk
const chunks = await collect(await client.chat.completions.create({
  model, messages: user('stream me'), max_tokens: 12, stream: true, stream_options: { include_usage: true },
}));
out.stream = {
  ids: [...new Set(chunks.map((c) => c.id))],
  objects: [...new Set(chunks.map((c) => c.object))],
  firstRole: chunks[0].choices[0].delta.role,
  content: chunks.flatMap((c) => c.choices).map((c) => c.delta.content ?? '').join(''),
  finishes: chunks.flatMap((c) => c.choices).map((c) => c.finish_reason).filter((f) => f !== null),
  usage: chunks[chunks.length - 1].usage,
  lastChoices: chunks[chunks.length - 1].choices.length,
};

// the SDK's stream helper
const helper = client.chat.completions.stream({ model, messages: user('helper'), max_tokens: 6 });
const final = await helper.finalChatCompletion();
out.helper = { id: final.id, content: final.choices[0].message.content, finish: final.choices[0].finish_reason };

// 32 concurrent streams
const many = await Promise.all(Array.from({ length: 32 }, async (_, i) => {
  const cs = await collect(await client.chat.completions.create({ model, messages: user(`client ${i}`), max_tokens: 10, stream: true }));
  return {
    ids: [...new Set(cs.map((c) => c.id))].length, id: cs[0].id,
    content: cs.flatMap((c) => c.choices).map((c) => c.delta.content ?? '').join(''),
    finish: cs.flatMap((c) => c.choices).map((c) => c.finish_reason).filter((f) => f !== null),
  };
}));
out.many = many;

// streams aborted mid-way
const aborted = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
  const controller = new AbortController();
  const stream = await client.chat.completions.create(
    { model, messages: user(`abort ${i}`), max_tokens: 3000, stream: true, ignore_eos: true }, { signal: controller.signal });
  let n = 0;
  let finished = false;
  try {
    for await (const chunk of stream) {
      if (chunk.choices[0]?.finish_reason) finished = true;
      if (++n === 2) controller.abort();
    }
  } catch (e) {
    return { n, finished, error: e.constructor.name };
  }
  return { n, finished, error: null }; // the SDK ends the iteration quietly on a user abort
}));
out.aborted = aborted;
const t0 = Date.now();
await client.chat.completions.create({ model, messages: user('probe'), max_tokens: 2 });
out.probeMillis = Date.now() - t0;

// completions: token-id prompt, vLLM's extras
const ids = await client.completions.create({
  model, prompt: [10, 20, 30, 40], max_tokens: 6, logprobs: 1, seed: 3, top_k: 20, temperature: 1,
  return_tokens_as_token_ids: true, skip_special_tokens: false, stop_token_ids: [5], ignore_eos: true,
});
out.tokenIds = {
  object: ids.object, text: ids.choices[0].text, finish: ids.choices[0].finish_reason,
  tokens: ids.choices[0].logprobs.tokens, tokenLogprobs: ids.choices[0].logprobs.token_logprobs,
  top: ids.choices[0].logprobs.top_logprobs, usage: ids.usage,
};
const again = await client.completions.create({
  model, prompt: [10, 20, 30, 40], max_tokens: 6, logprobs: 1, seed: 3, top_k: 20, temperature: 1,
  return_tokens_as_token_ids: true, skip_special_tokens: false, stop_token_ids: [5], ignore_eos: true,
});
out.tokenIdsAgain = again.choices[0].logprobs.tokens;
const textStream = await collect(await client.completions.create({ model, prompt: 'Once upon', max_tokens: 8, stream: true, echo: true, n: 2 }));
out.completionStream = {
  texts: [0, 1].map((i) => textStream.flatMap((c) => c.choices).filter((c) => c.index === i).map((c) => c.text).join('')),
  finishes: textStream.flatMap((c) => c.choices).map((c) => c.finish_reason).filter((f) => f !== null),
};

// models and errors
out.models = (await client.models.list()).data.map((m) => m.id);
out.retrieved = (await client.models.retrieve(model)).id;
out.unknownModel = await errorOf(client.chat.completions.create({ model: 'gpt-unknown', messages: user('x') }));
out.badField = await errorOf(client.chat.completions.create({ model, messages: user('x'), temperature: 7 }));
out.jsonMode = await errorOf(client.chat.completions.create({ model, messages: user('x'), response_format: { type: 'json_object' } }));

process.stdout.write(JSON.stringify(out) + '\n');
