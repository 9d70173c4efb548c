#!/usr/bin/env bash
# One command from a fresh clone to a trained model classifying real smear images.
# Needs Node >= 20.19 with npm, and the shared data folder beside the checkout (../shared).
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.8
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "quickstart: installing pnpm $PNPM_VERSION with npm"
  npm install -g "pnpm@$PNPM_VERSION"
fi

SHARED="${BLOODCELL_SHARED:-../shared}"
if [ ! -d "$SHARED/data/blood-cells/TRAIN" ]; then
  echo "quickstart: no training data at $SHARED/data/blood-cells/TRAIN (set BLOODCELL_SHARED)" >&2
  exit 2
fi

pnpm install --frozen-lockfile
pnpm build
node packages/pipeline/dist/cli.js train \
  --data "$SHARED/data/blood-cells/TRAIN" \
  --groups "$SHARED/data/blood-cells/groups.csv" \
  --base "$SHARED/models/mobilenet-v2-0.35-imagenet"

echo
echo "quickstart: classifying two images of each cell type with the new model (artifacts/model)"
samples=()
for cell in EOSINOPHIL LYMPHOCYTE MONOCYTE NEUTROPHIL; do
  while IFS= read -r file; do samples+=("$file"); done < <(ls "$SHARED/data/blood-cells/TRAIN/$cell"/*.jpeg | head -n 2)
done
node packages/node/dist/cli.js classify "${samples[@]}"
