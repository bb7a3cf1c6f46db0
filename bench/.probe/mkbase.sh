#!/bin/bash
# Copy of the current working tree with my src changes reverted -> /tmp/base (A/B baseline)
set -e
rm -rf /tmp/base && mkdir -p /tmp/base
cd /work/main
cp -r src package.json tsconfig.json tsconfig.build.json openclaw.plugin.json /tmp/base/
ln -s /work/main/node_modules /tmp/base/node_modules
git show HEAD:src/trace/bounded-map.ts > /tmp/base/src/trace/bounded-map.ts
python3 - <<'PY'
p='/tmp/base/src/trace/span-tree.ts'
s=open(p).read()
for x in ["chat","tool","run"]: s=s.replace(f"    releaseSpan({x});\n","")
open(p,'w').write(s)
PY
cd /tmp/base && /work/main/node_modules/.bin/tsc -p tsconfig.build.json
grep -c "releaseSpan(" /tmp/base/src/trace/span-tree.ts || true
