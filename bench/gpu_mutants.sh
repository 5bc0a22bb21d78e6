#!/usr/bin/env bash
# The mutants a CPU build cannot tell apart (docs/mutation-triage.md, "Needs a GPU"), put in by hand
# one at a time against tests/gpu; on the GPU machine every line must say "killed" (bench/gpu.sh
# runs it). Here, without CUDA, the tests skip and every mutant survives: that is the blind spot.
#
#   PYTHON=python3 bash bench/gpu_mutants.sh
# The two of all_gather_with_grad's shape tensor (NCCL wants it on the GPU) need two GPUs.
MARK=gpu
source "$(dirname "$0")/hand_mutants.sh"

# the tests themselves first: without CUDA they skip (say so); failing, the mutants prove nothing
if ! "$PYTHON" -m pytest -q -p no:cacheprovider -rs -m gpu tests/gpu > "$OUT" 2>&1; then
  tail -n 30 "$OUT"; echo "tests/gpu fail without a mutant" >&2; exit 2
fi
tail -n 4 "$OUT"

# GradCache does not save the CUDA generator: dropout masks differ between the two passes
mutant src/langgap/losses/cached.py \
  's/self.cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None/self.cuda = None/' tests/gpu
# InfoNCE's targets on the CPU whatever the embeddings' device
mutant src/langgap/losses/contrastive.py \
  's/targets = torch.arange(a.shape\[0\], device=a.device) + offset/targets = torch.arange(a.shape[0]) + offset/' tests/gpu
# the margin's row indices on the CPU (CUDA indexing may accept them: then it survives, equivalent)
mutant src/langgap/losses/contrastive.py \
  's/rows = torch.arange(q.shape\[0\], device=q.device)/rows = torch.arange(q.shape[0])/' tests/gpu
# the teacher's rows on the CPU, not the training device (the device dropped, or not kept)
mutant src/langgap/training/teacher.py 's/return torch.as_tensor(rows, device=self.device)/return torch.as_tensor(rows)/' tests/gpu
mutant src/langgap/training/teacher.py 's/^        self.device = device$/        self.device = None/' tests/gpu

verdict "GPU mutants"
