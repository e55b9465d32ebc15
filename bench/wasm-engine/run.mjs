// Runs the wasm engine benchmark under Node's WASI (V8). Usage: node run.mjs <file.wasm> [fixture filter]
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import { argv } from 'node:process';

const wasi = new WASI({ version: 'preview1', args: ['bench', ...argv.slice(3)], env: {} });
const module = await WebAssembly.compile(await readFile(argv[2]));
// The library also carries the filter's proxy-wasm glue, which imports the host ABI from `env`;
// nothing here calls it, so each import is a stub that fails if it ever is.
const env = {};
for (const imp of WebAssembly.Module.imports(module)) {
  if (imp.module === 'env') env[imp.name] = () => { throw new Error(`host call ${imp.name}`); };
}
const instance = await WebAssembly.instantiate(module, { ...wasi.getImportObject(), env });
// The glue also exports the reactor entry `_initialize`, which a command must not have for
// `wasi.start`; hide it (the command's `_start` runs the constructors itself).
const { _initialize, ...exports } = instance.exports;
wasi.start({ exports });
console.log(`| wasm linear memory at exit | ${(exports.memory.buffer.byteLength / 1048576).toFixed(1)} MiB |`);
