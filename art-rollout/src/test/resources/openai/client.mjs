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

// constrained decoding: response_format and forced tool calls (the Java test validates what came back)
const person = {
  type: 'object', additionalProperties: false, required: ['name', 'age', 'role'],
  properties: { name: { type: 'string', maxLength: 8 }, age: { type: 'integer' }, role: { enum: ['admin', 'user'] } },
};
const personFormat = { type: 'json_schema', json_schema: { name: 'person', schema: person, strict: true } };
out.jsonSchema = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
  const r = await client.chat.completions.create({
    model, messages: user(`person ${i}`), max_tokens: 300, seed: i, temperature: [0, 0.7, 1, 1.5][i % 4], response_format: personFormat,
  });
  return { id: r.id, content: r.choices[0].message.content, finish: r.choices[0].finish_reason };
}));
const schemaChunks = await collect(await client.chat.completions.create({
  model, messages: user('stream a person'), max_tokens: 300, seed: 5, stream: true, response_format: personFormat,
}));
out.jsonSchemaStream = {
  id: schemaChunks[0].id,
  pieces: schemaChunks.flatMap((c) => c.choices).filter((c) => c.delta.content).length,
  content: schemaChunks.flatMap((c) => c.choices).map((c) => c.delta.content ?? '').join(''),
  finish: schemaChunks.flatMap((c) => c.choices).map((c) => c.finish_reason).filter((f) => f !== null),
};
out.jsonObject = await Promise.all(Array.from({ length: 4 }, async (_, i) => {
  const r = await client.chat.completions.create({
    model, messages: user(`object ${i}`), max_tokens: 1500, seed: 100 + i, temperature: 2, top_k: 40, response_format: { type: 'json_object' },
  });
  return { content: r.choices[0].message.content, finish: r.choices[0].finish_reason };
}));
out.badSchema = await errorOf(client.chat.completions.create({
  model, messages: user('x'), response_format: { type: 'json_schema', json_schema: { name: 'p', schema: {
    type: 'object', properties: { age: { type: 'integer', minimum: 0 } } } } },
}));
const tools = [
  { type: 'function', function: { name: 'add', parameters: { type: 'object', additionalProperties: false, required: ['a', 'b'],
    properties: { a: { type: 'number' }, b: { type: 'number' } } } } },
  { type: 'function', function: { name: 'echo', parameters: { type: 'object', additionalProperties: false, required: ['text'],
    properties: { text: { type: 'string', maxLength: 5 } } } } },
];
const callOf = (r) => ({
  finish: r.choices[0].finish_reason, content: r.choices[0].message.content,
  calls: (r.choices[0].message.tool_calls ?? []).map((c) => ({ id: c.id, type: c.type, name: c.function.name, arguments: c.function.arguments })),
});
out.required = await Promise.all(Array.from({ length: 8 }, async (_, i) => callOf(await client.chat.completions.create({
  model, messages: user(`call ${i}`), max_tokens: 300, seed: i, temperature: [0, 1, 1.5][i % 3], tools, tool_choice: 'required',
}))));
out.named = await Promise.all(Array.from({ length: 4 }, async (_, i) => callOf(await client.chat.completions.create({
  model, messages: user(`echo ${i}`), max_tokens: 300, seed: i, tools, tool_choice: { type: 'function', function: { name: 'echo' } },
}))));
const callChunks = await collect(await client.chat.completions.create({
  model, messages: user('stream a call'), max_tokens: 300, seed: 9, stream: true, tools, tool_choice: 'required',
}));
const assembled = {};
for (const c of callChunks.flatMap((c) => c.choices)) {
  for (const d of c.delta.tool_calls ?? []) {
    const a = (assembled[d.index] ??= { name: '', arguments: '' });
    if (d.function?.name) a.name += d.function.name;
    if (d.function?.arguments) a.arguments += d.function.arguments;
  }
}
out.requiredStream = {
  calls: Object.values(assembled),
  content: callChunks.flatMap((c) => c.choices).map((c) => c.delta.content ?? '').join(''),
  finish: callChunks.flatMap((c) => c.choices).map((c) => c.finish_reason).filter((f) => f !== null),
};

process.stdout.write(JSON.stringify(out) + '\n');
