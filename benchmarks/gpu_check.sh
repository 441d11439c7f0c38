#!/usr/bin/env bash
# The one-call GPU check (docs/sampler.md, "GPU check"): on a lent accelerator, from the repository root.
#   bash benchmarks/gpu_check.sh [gpu_check.py options]      e.g. --out "$OUT/gpu_check.json"
# Installs the wheels carried in .whl/ (the lent machine reaches no registry), then runs
# benchmarks/gpu_check.py on the model files carried in .gpu_check/model (config and tokenizer: random
# weights) under a 450-second limit, so the whole call stays under 8 minutes. Exit: gpu_check.py's status
# (0 every check passed or was skipped, 1 a check failed, 2 no GPU), 124 when the limit was reached.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
MODEL=${GPU_CHECK_MODEL:-.gpu_check/model}
[ -f "$MODEL/config.json" ] || { echo "gpu_check.sh: no $MODEL/config.json (see docs/sampler.md, GPU check)" >&2; exit 2; }
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
timeout 450 "$PY" benchmarks/gpu_check.py --model "$MODEL" "$@"
