// Builds the panel into sidecar/static/ (or --outdir DIR):
//   panel.js, panel.css           minified, no source maps, no legal comments
//   chunks/*-HASH.js              the pages' code, split (esbuild splitting): main.js imports
//                                 only the page it draws, and each page its own modules
//   *.gz                          gzip level 9, no file name, mtime 0, beside each file
//   ../zoom_app/static/           Zoom's page scripts, bundled from ../zoom_app/static_src/
//                                (pages.js, profile.js, chunks/*-HASH.js: the Zoom SDK's own),
//                                with .gz twins; with --outdir DIR, into DIR/platforms/zoom/
//   ../jitsi_app/static/*.js.gz  the gzip twin of each platform script shipped as it is written
//                                (both served through the platform's FrontEnd, not the core's)
// Two builds of the same sources give identical bytes; tests/test_frontend_build.py checks
// that the files shipped in sidecar/static/ are exactly what this script produces.
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, constants } from "node:zlib";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

// @codemirror/commands imports @codemirror/language and @lezer/common for its syntax-aware
// commands (bracket matching, syntax moves, smart indentation), which the notes editor does not
// bind; their top-level code would still ship (~17 KB gzip on the panel, issue 15). For imports
// made by @codemirror/commands only, they resolve to a small stand-in that throws if reached.
const COMMANDS_DIR = `${sep}node_modules${sep}@codemirror${sep}commands${sep}`;
const commandsWithoutLanguage = {
  name: "commands-without-language",
  setup(build) {
    build.onResolve({ filter: /^(@codemirror\/language|@lezer\/common)$/ }, (args) =>
      args.importer.includes(COMMANDS_DIR)
        ? { path: resolve(here, "src", "notes", "commands-language-stub.js") }
        : undefined,
    );
  },
};

function parseArgs(argv) {
  const options = { outdir: resolve(here, "..", "sidecar", "static") };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === "--outdir") {
      const value = argv[i + 1];
      if (!value) throw new Error("--outdir needs a directory");
      options.outdir = resolve(value);
      i += 1;
    } else if (arg.startsWith("--outdir=")) {
      options.outdir = resolve(arg.slice("--outdir=".length));
    } else {
      throw new Error(`unknown argument: ${arg} (usage: node build.mjs [--outdir DIR])`);
    }
  }
  return options;
}

// A platform's bundled page scripts (sidecar/platforms/hookspecs.py, FrontEnd): `entries`
// (source -> name in its static folder) built from `source` into `into`. They import nothing of
// the core (the core hands them `core`); npm packages come from web/node_modules.
const PLATFORM_BUILDS = [
  {
    name: "zoom",
    source: resolve(here, "..", "zoom_app", "static_src"),
    into: resolve(here, "..", "zoom_app", "static"),
    entries: { "pages.js": "pages", "profile.js": "profile" },
  },
];

/** Refuse a platform source that imports a file outside its own folder (the core's, above all). */
function onlyItsOwnFolder(folder) {
  return {
    name: "only-its-own-folder",
    setup(build) {
      build.onResolve({ filter: /^\.{0,2}\// }, (args) => {
        if (args.kind === "entry-point") return undefined;
        const target = resolve(args.resolveDir, args.path);
        if (target === folder || target.startsWith(folder + sep)) return undefined;
        return { errors: [{ text: `${args.importer} imports ${args.path}, outside its platform's folder: take it from core` }] };
      });
    },
  };
}

// What both builds share: ES modules split into hashed chunks, minified, reproducible.
const COMMON = {
  bundle: true,
  format: "esm",
  // One chunk per page and per shared part; a content hash in every chunk's name, so the
  // output stays reproducible and a chunk can be cached for good (sidecar/web/pages.py).
  splitting: true,
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  minify: true,
  legalComments: "none",
  // Keep "\n" escaped: the minifier would otherwise turn such strings (yjs, CodeMirror and
  // lezer have many) into template literals holding raw newlines, and the output would no
  // longer be one line (tests/test_frontend_build.py checks that). Costs ~1.4 KB raw, 0 gzip.
  supported: { "template-literal": false },
  charset: "utf8",
  sourcemap: false,
  write: false,
  logLevel: "warning",
};

/** Write esbuild's output files (under `virtualRoot`) into `outdir`, each with a .gz twin. */
async function writeOutput(result, virtualRoot, outdir) {
  // Chunks of earlier builds have other hashes: drop them, or they would ship forever.
  await rm(join(outdir, "chunks"), { recursive: true, force: true });
  await mkdir(join(outdir, "chunks"), { recursive: true });
  const written = [];
  for (const file of result.outputFiles) {
    const name = relative(virtualRoot, file.path).split(sep).join("/");
    const bytes = Buffer.from(file.contents);
    // gzipSync writes a fixed header (mtime 0, no name), so the output is reproducible.
    const gz = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION });
    await writeFile(join(outdir, name), bytes);
    await writeFile(join(outdir, `${name}.gz`), gz);
    written.push(`${relative(here, join(outdir, name))} ${bytes.length} B (gzip ${gz.length} B)`);
  }
  return written.sort();
}

async function build({ outdir }) {
  const result = await esbuild.build({
    ...COMMON,
    absWorkingDir: here,
    entryPoints: [
      { in: "src/main.js", out: "panel" },
      { in: "src/styles/panel.css", out: "panel" },
    ],
    outdir: "out", // virtual: nothing is written by esbuild itself
    plugins: [commandsWithoutLanguage],
  });
  return writeOutput(result, resolve(here, "out"), outdir);
}

async function buildPlatform({ source, entries }, outdir) {
  const result = await esbuild.build({
    ...COMMON,
    absWorkingDir: source,
    entryPoints: Object.entries(entries).map(([file, out]) => ({ in: file, out })),
    nodePaths: [resolve(here, "node_modules")],
    outdir: "out", // virtual, as above
    plugins: [onlyItsOwnFolder(source)],
  });
  return writeOutput(result, resolve(source, "out"), outdir);
}

// Platform folders whose ES modules are served as written (sidecar/platforms/hookspecs.py,
// FrontEnd): each gets a gzip twin, which aiohttp sends to a browser that accepts gzip.
const PLATFORM_STATIC_DIRS = [resolve(here, "..", "jitsi_app", "static")];

async function gzipPlatformScripts() {
  const written = [];
  for (const folder of PLATFORM_STATIC_DIRS) {
    for (const name of (await readdir(folder)).filter((n) => n.endsWith(".js")).sort()) {
      const bytes = await readFile(join(folder, name));
      const gz = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION });
      await writeFile(join(folder, `${name}.gz`), gz);
      written.push(`${relative(here, join(folder, name))} ${bytes.length} B (gzip ${gz.length} B)`);
    }
  }
  return written;
}

try {
  const options = parseArgs(process.argv.slice(2));
  const intoPackage = options.outdir === resolve(here, "..", "sidecar", "static");
  // A build into another folder (the tests' fresh build) leaves the packages alone: the
  // platforms' bundles go into its platforms/<name>/ (their URL under /static/).
  const written = [...(await build(options))];
  for (const platform of PLATFORM_BUILDS) {
    const into = intoPackage ? platform.into : join(options.outdir, "platforms", platform.name);
    await mkdir(into, { recursive: true });
    written.push(...(await buildPlatform(platform, into)));
  }
  if (intoPackage) written.push(...(await gzipPlatformScripts()));
  console.log(`built into ${options.outdir}:\n  ${written.join("\n  ")}`);
} catch (error) {
  console.error(error.message ?? error);
  process.exit(1);
}
