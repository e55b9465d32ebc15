// The whole filter under V8 without Envoy: loads prompt_guard.wasm, answers its proxy-wasm host
// calls from plain JavaScript maps, and drives request/reply exchanges through the same exports
// Envoy calls (context create, headers, body, done, delete). It reports what one exchange costs
// inside the VM, glue included, so that the filter's own share of Envoy's CPU per request can be
// told apart from what Envoy spends around it (`make bench-wasm`).
//
//   node filter.mjs <prompt_guard.wasm> <request.json> <reply.json> [config.json|-] [seconds] [cold|next-turn|same] [--json]
//
// prints a markdown table row (`--json`: every figure as JSON).
//
// `loadFilter` is exported for other drivers (an A/B of two builds in one process, where the
// machine's noise falls on both alike).
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';
import { argv, hrtime } from 'node:process';
import { fileURLToPath } from 'node:url';

const OK = 0, NOT_FOUND = 1;
const enc = new TextEncoder();
const dec = new TextDecoder();

/// One filter VM: configured with `config` (bytes); `exchange()` drives one request and reply.
export function loadFilter(wasmPath, requestBody, replyBody, config) {
  let instance;
  const mem = () => new Uint8Array(instance.exports.memory.buffer);
  const view = () => new DataView(instance.exports.memory.buffer);
  const str = (ptr, len) => dec.decode(mem().subarray(ptr, ptr + len));

  // Host state of the exchange being driven.
  const maps = { 0: new Map(), 2: new Map() };
  const buffers = { 0: requestBody, 1: replyBody, 7: config };
  const shared = new Map();
  let localReplies = 0;

  // Copy bytes into memory the module allocates, and write the pointer and length where it asks.
  function giveBytes(bytes, ptrOut, lenOut) {
    const ptr = instance.exports.proxy_on_memory_allocate(bytes.length);
    mem().set(bytes, ptr);
    view().setUint32(ptrOut, ptr, true);
    view().setUint32(lenOut, bytes.length, true);
    return OK;
  }

  const env = {
    // Warnings and errors go to stderr (the filter never logs payloads).
    proxy_log: (level, ptr, len) => { if (level >= 3) console.error(`[filter] ${str(ptr, len)}`); return OK; },
    proxy_get_log_level: (out) => { view().setUint32(out, 2, true); return OK; },
    proxy_get_current_time_nanoseconds: (out) => { view().setBigUint64(out, BigInt(Date.now()) * 1000000n, true); return OK; },
    proxy_set_tick_period_milliseconds: () => OK,
    proxy_define_metric: (_kind, _name, _len, idOut) => { view().setUint32(idOut, 1, true); return OK; },
    proxy_increment_metric: () => OK,
    proxy_get_buffer_bytes: (kind, start, max, ptrOut, lenOut) => {
      const b = buffers[kind];
      if (!b) return NOT_FOUND;
      // Sizes arrive as signed 32-bit values (usize::MAX is -1).
      return giveBytes(b.subarray(start >>> 0, (start >>> 0) + (max >>> 0)), ptrOut, lenOut);
    },
    proxy_set_buffer_bytes: (kind, start, size, data, dataLen) => {
      const b = buffers[kind] ?? Buffer.alloc(0);
      const fresh = Buffer.from(mem().subarray(data, data + dataLen));
      buffers[kind] = Buffer.concat([b.subarray(0, start), fresh, b.subarray(start + size)]);
      return OK;
    },
    proxy_get_header_map_value: (map, key, keyLen, ptrOut, lenOut) => {
      const v = maps[map]?.get(str(key, keyLen));
      return v === undefined ? NOT_FOUND : giveBytes(enc.encode(v), ptrOut, lenOut);
    },
    proxy_replace_header_map_value: (map, key, keyLen, value, valueLen) => {
      maps[map]?.set(str(key, keyLen), str(value, valueLen));
      return OK;
    },
    proxy_add_header_map_value: (map, key, keyLen, value, valueLen) => {
      maps[map]?.set(str(key, keyLen), str(value, valueLen));
      return OK;
    },
    proxy_remove_header_map_value: (map, key, keyLen) => { maps[map]?.delete(str(key, keyLen)); return OK; },
    proxy_send_local_response: () => { localReplies += 1; return OK; },
    proxy_get_shared_data: (key, keyLen, ptrOut, lenOut, casOut) => {
      const v = shared.get(str(key, keyLen));
      if (!v) return NOT_FOUND;
      view().setUint32(casOut, v.cas, true);
      return giveBytes(v.bytes, ptrOut, lenOut);
    },
    proxy_set_shared_data: (key, keyLen, value, valueLen) => {
      const k = str(key, keyLen);
      shared.set(k, { bytes: mem().slice(value, value + valueLen), cas: (shared.get(k)?.cas ?? 0) + 1 });
      return OK;
    },
  };

  const module = new WebAssembly.Module(readFileSync(wasmPath));
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === 'env' && !env[imp.name]) env[imp.name] = () => { throw new Error(`unexpected host call ${imp.name}`); };
  }
  const wasi = new WASI({ version: 'preview1', args: [], env: {} });
  instance = new WebAssembly.Instance(module, { ...wasi.getImportObject(), env });
  wasi.initialize(instance);
  const x = instance.exports;

  const ROOT = 1;
  x.proxy_on_context_create(ROOT, 0);
  const t0 = hrtime.bigint();
  if (!x.proxy_on_configure(ROOT, config.length)) throw new Error('the configuration was refused');
  const configureMs = Number(hrtime.bigint() - t0) / 1e6;

  let nextContext = 2;
  let lastReply = null;
  // One exchange of `body` (the fixture's request by default); returns the nanoseconds spent in
  // the filter's callbacks (building the body and the header maps is not counted).
  function exchange(body = requestBody) {
    const id = nextContext++;
    buffers[0] = body;
    buffers[1] = replyBody;
    maps[0] = new Map([[':path', '/v1/chat/completions'], [':method', 'POST'], ['content-type', 'application/json'],
      ['content-length', String(body.length)], ['authorization', 'Bearer bench-caller']]);
    maps[2] = new Map([[':status', '200'], ['content-type', 'application/json'], ['content-length', String(replyBody.length)]]);
    const t = hrtime.bigint();
    x.proxy_on_context_create(id, ROOT);
    x.proxy_on_request_headers(id, maps[0].size, 0);
    x.proxy_on_request_body(id, body.length, 1);
    x.proxy_on_response_headers(id, maps[2].size, 0);
    x.proxy_on_response_body(id, buffers[1].length, 1);
    x.proxy_on_done(id);
    x.proxy_on_delete(id);
    const spent = hrtime.bigint() - t;
    lastReply = buffers[1];
    return spent;
  }

  return { exchange, configureMs, localReplies: () => localReplies, lastReply: () => lastReply,
    memoryMiB: () => x.memory.buffer.byteLength / 1048576 };
}

/// The fixture's request with a tag no other request has in the content of the last user
/// message (`next-turn`: a conversation's next turn, whose history the filter saw before) or of
/// every message (`cold`: nothing was seen before); `same` sends the fixture as it is.
export function variedBody(template, mode, n) {
  if (mode === 'same') return template.raw;
  const doc = structuredClone(template.doc);
  const tag = `[ref ${n.toString(36)}] `;
  const messages = doc.messages ?? [];
  const lastUser = messages.map((m) => m.role).lastIndexOf('user');
  messages.forEach((m, i) => {
    if (typeof m.content === 'string' && (mode === 'cold' || i === lastUser)) m.content = tag + m.content;
  });
  return Buffer.from(JSON.stringify(doc));
}

function main() {
  const [wasmPath, requestPath, replyPath, configPath, secondsArg, modeArg] = argv.slice(2);
  const requestBody = readFileSync(requestPath);
  const replyBody = readFileSync(replyPath);
  const config = configPath && configPath !== '-' ? readFileSync(configPath) : Buffer.from('{}');
  const seconds = Number(secondsArg ?? 3);
  const mode = modeArg ?? 'cold';
  const filter = loadFilter(wasmPath, requestBody, replyBody, config);
  const template = { raw: requestBody, doc: JSON.parse(requestBody) };
  let n = 0;
  const next = () => filter.exchange(variedBody(template, mode, n++));
  // Warm up (the lazy DFA caches fill and V8 tiers the hot code up), then time.
  const warmEnd = Date.now() + 1000;
  while (Date.now() < warmEnd) next();
  let spent = 0n;
  let count = 0;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    for (let i = 0; i < 20; i++) spent += next();
    count += 20;
  }
  const result = {
    mode,
    request_bytes: requestBody.length,
    reply_bytes: replyBody.length,
    exchanges: count,
    us_per_exchange: Number((Number(spent) / 1e3 / count).toFixed(1)),
    configure_ms: Number(filter.configureMs.toFixed(1)),
    local_replies: filter.localReplies(),
    restored_reply_bytes: filter.lastReply().length,
    memory_mib: Number(filter.memoryMiB().toFixed(1)),
  };
  if (argv.includes('--json')) {
    console.log(JSON.stringify(result));
    return;
  }
  const fixture = requestPath.split('/').pop().replace('.request.json', '');
  console.log(`| ${fixture} | ${mode} | ${result.request_bytes} | ${result.us_per_exchange} µs | ${result.configure_ms} ms | ${result.memory_mib} MiB |`);
}

if (argv[1] === fileURLToPath(import.meta.url)) main();
