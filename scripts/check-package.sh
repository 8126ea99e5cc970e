#!/usr/bin/env bash
# Packs rwda as npm would publish it, installs the tarball into an empty project without network access
# (dependencies come from the npm cache that `npm ci` filled), and checks what a user gets: the tarball's
# contents, `import { ClipModel } from 'rwda'` from plain Node (no tsx), the types under tsc, and the `rwda` bin.
# Run by .ci/run after the tests; by hand: `npm run check-package` (after `npm ci`). Takes well under a minute.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${RWDA_SHARED:-$root/../shared}
work=$(mktemp -d "${TMPDIR:-/tmp}/rwda-package-XXXXXX")
trap 'rm -rf "$work"' EXIT
export npm_config_offline=true npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
# Consumers skip onnxruntime-node's CUDA download this way (README, "Use as a library"); the install below runs no
# scripts at all, so this only matters if someone drops --ignore-scripts.
export ONNXRUNTIME_NODE_INSTALL=skip
fail() { echo "check-package: FAIL: $*" >&2; exit 1; }

cd "$root"
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -n 1)"
[ -f "$tarball" ] || fail "npm pack produced no tarball"
listing=$(tar -tzf "$tarball" | sed 's|^package/||' | sort)
for f in package.json README.md bin/rwda.js dist/index.js dist/index.d.ts dist/errors.d.ts dist/cli/main.js \
  dist/clip/hub/pretrained.json dist/clip/tokenizer/html_entities.json dist/clip/model_configs/ViT-B-16-plus-240.json; do
  grep -qx "$f" <<<"$listing" || fail "the tarball lacks $f"
done
if grep -E '^(src|test|bench|scripts|\.ci)/|\.ts$' <<<"$listing" | grep -v '\.d\.ts$' | head -3 | grep -q .; then
  fail "the tarball ships development files: $(grep -E '^(src|test|bench|scripts|\.ci)/|\.ts$' <<<"$listing" | grep -v '\.d\.ts$' | head -3 | tr '\n' ' ')"
fi
echo "check-package: $(wc -l <<<"$listing") files in $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB), no src/ test/ bench/"

app="$work/app"
mkdir "$app" && cd "$app"
# Offline, npm can install only what a lockfile pins (the cache holds tarballs by integrity, not the registry's
# version lists), so the consumer's lockfile is the checkout's runtime part (no dev entries) plus the tarball.
node - "$root/package-lock.json" "$tarball" <<'EOF'
const { readFileSync, writeFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const [lockPath, tarball] = process.argv.slice(2);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const self = lock.packages[''];
const spec = `file:${tarball}`;
const packages = { '': { name: 'rwda-consumer', dependencies: { rwda: spec } } };
packages['node_modules/rwda'] = {
  version: self.version, resolved: spec, integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
  dependencies: self.dependencies, bin: self.bin, engines: self.engines,
};
for (const [k, v] of Object.entries(lock.packages)) if (k !== '' && !v.dev) packages[k] = v;
writeFileSync('package.json', JSON.stringify({ name: 'rwda-consumer', private: true, type: 'module', dependencies: { rwda: spec } }, null, 2));
writeFileSync('package-lock.json', JSON.stringify({ name: 'rwda-consumer', lockfileVersion: 3, requires: true, packages }, null, 2));
EOF
# --ignore-scripts: better-sqlite3 would otherwise compile SQLite for minutes; its addon is taken from the checkout's
# own build below (same version, same Node), and the other dependencies ship their native code prebuilt.
npm ci --ignore-scripts >/dev/null || fail "npm ci of the tarball failed offline (is the npm cache filled by npm ci?)"
want=$(node -p "require('$root/node_modules/better-sqlite3/package.json').version")
got=$(node -p "require('./node_modules/better-sqlite3/package.json').version")
if [ "$want" = "$got" ] && [ -d "$root/node_modules/better-sqlite3/build/Release" ]; then
  mkdir -p node_modules/better-sqlite3/build && cp -r "$root/node_modules/better-sqlite3/build/Release" node_modules/better-sqlite3/build/
else
  npm rebuild better-sqlite3 >/dev/null  # compiles SQLite: minutes
fi
node -e "const d = require('./node_modules/rwda/package.json').dependencies; if ('tsx' in d) { console.error('tsx is a runtime dependency'); process.exit(1); }" \
  || fail "tsx must be a devDependency only"
[ ! -e node_modules/tsx ] || fail "tsx was installed into the consumer project"

# Plain Node, no loader: the library's entry, an error code, and (with the shared fixtures) a real text embedding.
model=""
if [ -d "$shared/fixtures/openclip/tiny-gelu" ]; then
  model="$work/tiny-gelu"
  mkdir "$model"
  cp "$shared/fixtures/openclip/tiny-gelu/open_clip_config.json" "$shared/fixtures/openclip/tiny-gelu/open_clip_model.safetensors" "$model/"
  cp "$shared/fixtures/openclip/hf-tokenizer/vocab.json" "$shared/fixtures/openclip/hf-tokenizer/merges.txt" "$model/"
fi
cat > use.mjs <<'EOF'
import { ClipModel, RwdaError, Detector, trainDetector } from 'rwda';
const [model] = process.argv.slice(2);
if (typeof ClipModel.load !== 'function' || typeof Detector.load !== 'function' || typeof trainDetector !== 'function') throw new Error('exports missing');
try {
  await ClipModel.load('/nonexistent/model');
  throw new Error('loading a missing model did not fail');
} catch (err) {
  if (!(err instanceof RwdaError) || err.code !== 'not_found') throw err;
}
if (model) {
  const clip = await ClipModel.load(model);
  const [e] = await clip.encodeText(['a photo of a damaged bottle'], { normalize: true });
  const norm = Math.hypot(...e);
  if (e.length !== clip.config.embedDim || Math.abs(norm - 1) > 1e-5) throw new Error(`bad embedding: ${e.length} values, norm ${norm}`);
  await clip.dispose();
  console.log(`check-package: plain Node imported rwda and embedded a text (${e.length}-d)`);
} else {
  console.log('check-package: plain Node imported rwda (no shared fixtures: embedding skipped)');
}
EOF
RWDA_HOME="$work/home" node use.mjs "$model" || fail "import { ClipModel } from 'rwda' in plain Node"

# Types: a consumer's strict NodeNext project, library checking on, resolves rwda's .d.ts.
cat > use.ts <<'EOF'
import { ClipModel, RwdaError, type RwdaErrorCode, type Scores } from 'rwda';
export async function embed(dir: string): Promise<Float32Array | RwdaErrorCode> {
  try {
    const model: ClipModel = await ClipModel.load(dir);
    const [e] = await model.encodeText(['a photo of a bottle']);
    return e!;
  } catch (err) {
    if (err instanceof RwdaError) return err.code;
    throw err;
  }
}
export type S = Scores;
EOF
printf '{ "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext", "target": "ES2022", "strict": true, "noEmit": true, "skipLibCheck": false, "types": ["node"] }, "files": ["use.ts"] }\n' > tsconfig.json
node "$root/node_modules/typescript/bin/tsc" -p tsconfig.json || fail "tsc on a consumer of rwda's types"
echo "check-package: tsc (strict, NodeNext, skipLibCheck off) accepts a consumer of rwda's types"

# The bin, through npx, from dist/ (the tarball has no src/ and no tsx).
npx --no-install rwda --help | grep -q '^Usage: rwda' || fail "npx rwda --help"
[ "$(npx --no-install rwda --version)" = "$(node -p "require('$root/package.json').version")" ] || fail "npx rwda --version"
if [ -n "$model" ]; then
  ids=$(npx --no-install rwda tokenize --model "$model" 'a photo' | head -c 200)
  grep -q '"ids"' <<<"$ids" || fail "npx rwda tokenize: $ids"
fi
set +e
err=$(npx --no-install rwda tokenize --model /nonexistent/model x 2>&1 >/dev/null)
status=$?
set -e
[ "$status" = 1 ] && grep -q '^rwda: ' <<<"$err" || fail "a CLI error should exit 1 with 'rwda: ...' and no stack (got $status: $err)"
echo "check-package: npx rwda --help/--version/tokenize run from dist/; errors exit 1 without a stack"
echo "check-package: OK"
