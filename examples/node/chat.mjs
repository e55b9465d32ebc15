// The official OpenAI and Anthropic Node SDKs through Envoy with prompt-guard. Nothing changes in
// the application but the base URL: the SDK talks to Envoy, the filter masks PII and secrets before
// the request leaves, and restores the originals in the reply (buffered, and streamed as it comes).
//
//   PROMPT_GUARD_URL=http://127.0.0.1:10000 node chat.mjs openai streamed "Mail jane@example.com"
//
// Arguments: provider (openai | anthropic), mode (buffered | streamed), the prompt (else stdin).
// Prints one JSON line: {"text": the reply text, "masked": the filter's x-prompt-guard-masked count}.
// Keys: OPENAI_API_KEY / ANTHROPIC_API_KEY as usual (the filter passes them on untouched).

import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";

const [provider, mode, argPrompt] = process.argv.slice(2);
const base = process.env.PROMPT_GUARD_URL ?? "http://127.0.0.1:10000";
const prompt = argPrompt ?? (await readStdin());

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

async function openaiChat(streamed) {
  const client = new OpenAI({
    baseURL: `${base}/v1`,
    apiKey: process.env.OPENAI_API_KEY ?? "not-a-real-key",
    maxRetries: 0,
  });
  const request = {
    model: process.env.OPENAI_MODEL ?? "gpt-4o-mini",
    messages: [{ role: "user", content: prompt }],
  };
  if (!streamed) {
    const { data, response } = await client.chat.completions.create(request).withResponse();
    return { text: data.choices[0].message.content, masked: response.headers.get("x-prompt-guard-masked") };
  }
  const { data: stream, response } = await client.chat.completions
    .create({ ...request, stream: true })
    .withResponse();
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  return { text, masked: response.headers.get("x-prompt-guard-masked") };
}

async function anthropicChat(streamed) {
  const client = new Anthropic({
    baseURL: base,
    apiKey: process.env.ANTHROPIC_API_KEY ?? "not-a-real-key",
    maxRetries: 0,
  });
  const request = {
    model: process.env.ANTHROPIC_MODEL ?? "claude-sonnet-4-5",
    max_tokens: 1024,
    messages: [{ role: "user", content: prompt }],
  };
  if (!streamed) {
    const { data, response } = await client.messages.create(request).withResponse();
    const text = data.content.filter((block) => block.type === "text").map((block) => block.text).join("");
    return { text, masked: response.headers.get("x-prompt-guard-masked") };
  }
  const stream = client.messages.stream(request);
  let text = "";
  stream.on("text", (delta) => {
    text += delta;
  });
  const final = await stream.finalMessage();
  const { response } = await stream.withResponse();
  const finalText = final.content.filter((block) => block.type === "text").map((block) => block.text).join("");
  if (finalText !== text) throw new Error("streamed text and final message differ");
  return { text, masked: response.headers.get("x-prompt-guard-masked") };
}

const calls = { openai: openaiChat, anthropic: anthropicChat };
if (!calls[provider] || !["buffered", "streamed"].includes(mode)) {
  console.error("usage: node chat.mjs openai|anthropic buffered|streamed [prompt]");
  process.exit(2);
}
console.log(JSON.stringify(await calls[provider](mode === "streamed")));
