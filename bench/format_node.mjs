// Format Dockerfiles with one JS formatter, in one process, for bench/format_bench.py.
//
//     node format_node.mjs TOOL LIST.json OUT.json
//
// TOOL is dockerfmt (@reteps/dockerfmt) or dprint (@dprint/formatter with
// @dprint/dockerfile); LIST.json is a JSON array of file paths. OUT.json gets
// an array, one entry per path, in order: {"output": TEXT} or {"error":
// MESSAGE} when the formatter threw or its runtime died. The packages are
// taken from the node_modules of the working directory; nothing is printed
// (the Go runtime's output is caught, for the error messages).

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const [tool, listFile, outFile] = process.argv.slice(2);
const require = createRequire(path.join(process.cwd(), "resolve.js"));
const load = async (name) => import(pathToFileURL(require.resolve(name)).href);

// the Go runtime of dockerfmt writes its panics with console.log
let caught = "";
console.log = (...args) => { caught += args.join(" ") + "\n"; };
console.warn = console.log;

// dockerfmt's options: its CLI's defaults, but with a final line end (as the others give)
const DOCKERFMT_OPTIONS = { indent: 4, trailingNewline: true, spaceRedirects: false };

async function dockerfmt() {
  const { formatDockerfileContents } = await load("@reteps/dockerfmt");
  // The public call instantiates a new Go runtime per call (a few MB each, never
  // freed), so it is called once and the function it registers is used after;
  // a Go panic ends that runtime, and the next file starts another.
  const start = async () => {
    await formatDockerfileContents("FROM scratch\n", DOCKERFMT_OPTIONS);
    return globalThis.__dockerfmt_formatBytes;
  };
  let formatBytes = await start();
  return async (text) => {
    let output;
    try {
      output = formatBytes(text, DOCKERFMT_OPTIONS.indent, DOCKERFMT_OPTIONS.trailingNewline,
        DOCKERFMT_OPTIONS.spaceRedirects);
    } catch (error) {
      formatBytes = await start();
      throw error;
    }
    if (typeof output !== "string") { // a panic: the call returns nothing and the runtime is gone
      formatBytes = await start();
      throw new Error("the Go runtime exited");
    }
    return output;
  };
}

async function dprint() {
  const { createFromWasmModule } = await load("@dprint/formatter");
  const { getPath } = await load("@dprint/dockerfile");
  const module = new WebAssembly.Module(fs.readFileSync(getPath()));
  let formatter = createFromWasmModule(module);
  return async (text) => {
    try {
      return formatter.formatText({ filePath: "Dockerfile", fileText: text });
    } catch (error) {
      formatter = createFromWasmModule(module); // a panic may leave the instance unusable
      throw error;
    }
  };
}

const format = await { dockerfmt, dprint }[tool]();
const results = [];
for (const file of JSON.parse(fs.readFileSync(listFile, "utf8"))) {
  caught = "";
  try {
    const output = await format(fs.readFileSync(file, "utf8"));
    results.push(typeof output === "string" ? { output } : { error: `returned ${typeof output}` });
  } catch (error) {
    const lines = caught.split("\n").map((line) => line.replace(/^\d{4}\/\d\d\/\d\d [\d:]{8} /, ""));
    const why = lines.find((line) => line.startsWith("panic:")) ?? lines.find((line) => /error/i.test(line));
    results.push({ error: String(error?.message ?? error) + (why ? `: ${why}` : "") });
  }
}
fs.writeFileSync(outFile, JSON.stringify(results));
