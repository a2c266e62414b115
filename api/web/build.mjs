// Builds dist/: one minified ES module (the page's code with pkijs and
// asn1js), the minified stylesheet, the icon, and LICENSES.txt with the licence of
// every package the bundle contains (pkijs and asn1js are BSD-licensed and
// their notices must travel with the code). `make web` runs this after
// `npm ci`; the output is committed so that `go build` needs no Node.
import { build } from "esbuild";
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const result = await build({
  entryPoints: ["src/enroll.js", "src/enroll.css"],
  outdir: "dist",
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  legalComments: "none", // gathered into LICENSES.txt instead
  metafile: true,
  logLevel: "info",
});

// Package directories that contributed input files, in a stable order.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
  if (m) packages.add(m[1]);
}

let text = "Software bundled into enroll.js, with its licence notices.\n";
for (const dir of [...packages].sort()) {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const licenceFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  if (!licenceFile) throw new Error(`${pkg.name} ships no licence file`);
  text += `\n${"=".repeat(72)}\n${pkg.name} ${pkg.version} (${pkg.license})\n${"=".repeat(72)}\n\n`;
  text += readFileSync(join(dir, licenceFile), "utf8").trim() + "\n";
}
writeFileSync("dist/LICENSES.txt", text);
copyFileSync("src/favicon.svg", "dist/favicon.svg");
