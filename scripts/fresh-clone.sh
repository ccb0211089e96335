#!/usr/bin/env bash
# Does what a new user does with the README, on a fresh clone of this repository, and checks the first hour's
# promises: the four CLIs work through npx straight after `npm install` (before any build), the demo runs on the
# embedded default, and `gatekeeper serve` on a port that is taken fails at once instead of lingering.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${busy:-}" ] && kill "$busy" 2>/dev/null || true' EXIT
git clone --quiet "$repo" "$work/gatekeeper"
cd "$work/gatekeeper"

echo "== npm install (the README's first step)"
npm install --no-audit --no-fund --loglevel=error

echo "== the CLIs, before any build"
for cli in gatekeeper rego ledger sandbox; do
  printf '%s --version: ' "$cli"
  npx --no-install "$cli" --version
done

echo "== the demo, unattended (npm run demo builds first)"
npm run --silent demo -- --auto approve --port 0 --dir "$work/demo" | tail -n 4

echo "== serve on a busy port must exit non-zero within 5 s"
node -e 'require("net").createServer().listen(0, "127.0.0.1", function () { console.log(this.address().port) })' > "$work/port" &
busy=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
node packages/gatekeeper/dist/cli.js ledger keygen fresh.local/ledger --json > "$work/key.json"
node -e 'const k = require(process.argv[1]); require("fs").writeFileSync(process.argv[2], k.skey)' "$work/key.json" "$work/ledger.skey"
cat > "$work/gatekeeper.yaml" <<YAML
policy: { bundle: $work/gatekeeper/policies }
ledger: { path: $work/ledger.db, signing_key_file: $work/ledger.skey, origin: fresh.local/ledger }
YAML
start=$(date +%s%N)
set +e
timeout 10 npx --no-install gatekeeper serve --config "$work/gatekeeper.yaml" --port "$port" 2> "$work/serve.err"
code=$?
set -e
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
echo "exit $code after ${elapsed} ms: $(cat "$work/serve.err")"
if [ "$code" -eq 0 ] || [ "$code" -eq 124 ] || [ "$elapsed" -gt 5000 ]; then
  echo "FAIL: serve on a busy port must exit non-zero within 5 s"
  exit 1
fi
echo "fresh clone: OK"
