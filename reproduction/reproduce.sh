#!/usr/bin/env bash
# The committed reproduction, continued: trains only the runs whose result JSON is
# missing from reproduction/results, then rebuilds the report and ships the best
# model of each entry that is not shipped yet. A run that dies loses nothing
# finished: run this again.
#
#   SEEDS=3 bash reproduction/reproduce.sh            # Table 1 rows of MNIST, Shapeset and Fashion-MNIST, 3 seeds
#   MNIST is read from MNIST_DIR (default ../shared/datasets/mnist beside the repository); runs
#   checkpoint every epoch under CHECKPOINT_DIR (default ~/.keras/rectifier_zoo/checkpoints).
#   SEEDS=1 ENTRIES='*' bash reproduction/reproduce.sh  # all 8 entries of each dataset, _dae included
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-3}
OUT=reproduction/results
# Models are saved beside their results (git ignores them) so that `ship` can export the best.
for dataset in mnist shapeset fashion_mnist; do
  data=(); [ "$dataset" = mnist ] && data=(--data-dir "${MNIST_DIR:-../shared/datasets/mnist}")
  rectifier-zoo reproduce --dataset "$dataset" --seeds "$SEEDS" ${ENTRIES:+--entries "$ENTRIES"} --save-models --out "$OUT" \
    --checkpoint-dir "${CHECKPOINT_DIR:-$HOME/.keras/rectifier_zoo/checkpoints}" "${data[@]}"
done
rectifier-zoo report --results "$OUT" --out reproduction
rectifier-zoo ship --results "$OUT" --export-dir exports
