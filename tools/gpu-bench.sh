#!/usr/bin/env bash
# GPU figures for the README: builds t5rag against ONNX Runtime's CUDA package and runs the model benchmarks with
# --device Cuda on random 270m-270m and 1b-1b checkpoints (the real architecture; no trained weights are needed for
# speed). Run it from the repository root on a machine with the .NET 10 SDK, Node/npm (the test assets), and an NVIDIA
# driver with the CUDA and cuDNN versions Microsoft.ML.OnnxRuntime.Gpu (Directory.Packages.props) is built for.
#
#   tools/gpu-bench.sh [output-dir]        # default: artifacts/gpu-bench; every command's output is kept there
#
# Each benchmark prints the machine, threads, ONNX Runtime version and its command line first. The decoder's
# bandwidth limit is measured on the host's memory, so on CUDA read its tokens/s, not its ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-artifacts/gpu-bench}"
models="$out/models"
mkdir -p "$models"

command -v nvidia-smi >/dev/null || { echo "gpu-bench: nvidia-smi not found; expected an NVIDIA driver" >&2; exit 3; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"

dotnet build -c Release -p:OnnxRuntimeGpu=true src/Cli 2>&1 | tail -3
t5rag=(dotnet src/Cli/bin/Release/net10.0/t5rag.dll)
minilm=artifacts/assets/all-MiniLM-L6-v2
corpus=(../shared/datasets/msmarco/corpus.jsonl.gz ../shared/datasets/dbpedia/corpus.jsonl.gz)

run() { # name, then the t5rag arguments; the output goes to $out/<name>.txt and the terminal
  local name="$1"; shift
  echo "== $name: t5rag $*"
  "${t5rag[@]}" "$@" 2>&1 | tee "$out/$name.txt"
}

for preset in 270m-270m 1b-1b; do
  [ -d "$models/$preset-hf" ] || "${t5rag[@]}" model create-random --preset "$preset" --seed 1 --tokenizer artifacts/assets/gemma3-tokenizer "$models/$preset-hf"
  for weights in fp32 int4; do
    [ -d "$models/$preset-$weights" ] || "${t5rag[@]}" model convert "$models/$preset-hf" "$models/$preset-$weights" --weights "$weights"
  done
  run "encoder-$preset" bench encoder --device Cuda -m "$models/$preset-fp32" "$models/$preset-int4" --shapes 8x512,1x2048,1x8192 --corpus "${corpus[0]}"
  run "decoder-$preset" bench decoder --device Cuda -m "$models/$preset-fp32" "$models/$preset-int4" --input-tokens 2048 --new-tokens 128
  run "vision-$preset" bench vision --device Cuda -m "$models/$preset-fp32" "$models/$preset-int4" --images 3 --text-tokens 2048
  run "ask-$preset" bench ask --device Cuda --generator "$models/$preset-int4" --model "$minilm" --corpus "${corpus[@]}" --passages 10000 --budget 8192 --new-tokens 128 --store "$out/ask-store"
done
run embed bench embed --device Cuda -m "$minilm" --corpus "${corpus[@]}" --passages 1000
echo "gpu-bench: figures in $out"
