#!/usr/bin/env bash
# A real tour of modelreg in a throw-away git repository: register, promote, alias, roll back, pull.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# modelreg alone (typer, rich, pyyaml, fsspec), in its own venv; pip runs only when pyproject.toml changed.
"$here/.ci/setup-venv" "" .venv-demo
export PATH="$here/.venv-demo/bin:$PATH"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
git init -q -b main demo-repo && cd demo-repo
# Use the demo's own identity unless git already has one.
git config user.name >/dev/null || git config user.name "Demo User"
git config user.email >/dev/null || git config user.email "demo@example.com"
echo "# fraud detection" > README.md && git add README.md && git commit -q -m "initial"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

python -c "import os; open('$work/model-a.pkl','wb').write(os.urandom(2_000_000))"
mkdir -p "$work/model-b" && python -c "
import os
for i in range(4): open(f'$work/model-b/shard-{i}.bin','wb').write(os.urandom(500_000))
open('$work/model-b/config.json','w').write('{\"layers\": 6}')"

step modelreg init
step modelreg register fraud-detector "$work/model-a.pkl" --metric auc=0.912 --param depth=6 \
     --description "Baseline gradient boosting" --dataset s3://data/fraud@v3
step modelreg register fraud-detector "$work/model-b" --metric auc=0.931 --param depth=8 \
     --description "Sharded ensemble"
step modelreg promote fraud-detector@1 production --reason "first release"
step modelreg promote fraud-detector@2 production --reason "AUC +1.9 points"
step modelreg alias set fraud-detector@2 champion
step modelreg list
step modelreg diff fraud-detector@1 fraud-detector/production
step modelreg rollback fraud-detector --reason "latency regression in canary"
step modelreg resolve models:/fraud-detector/Production
step modelreg pull fraud-detector/production -o "$work/serving"
cmp "$work/model-a.pkl" "$work/serving/model-a.pkl" && echo "pulled bytes verified against the original"
step modelreg pull fraud-detector@champion -o "$work/canary"
step modelreg history fraud-detector
# The report outlives the demo: it is written outside the throw-away repository, kept until you remove it.
report=$(mktemp -d "${TMPDIR:-/tmp}/modelreg-demo-report.XXXXXX")
step modelreg report -o "$report"
step modelreg lint
step git log --oneline
step git tag -n1
echo
echo "Demo finished: everything above lives in git tags and .modelreg/ of $PWD (removed on exit)."
echo "The report is kept: open $report/index.html in a browser (remove it with: rm -rf $report)"
