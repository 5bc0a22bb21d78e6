#!/usr/bin/env bash
# The 8 wiring bugs of issue 14 (plus the second variant of the first), each put in by hand, one at
# a time, against the tests that guard it; every line must say "killed". The source is restored
# after each mutant (and on Ctrl-C). About 5 minutes on 2 cores.
#
#   bash bench/wiring_mutants.sh
source "$(dirname "$0")/hand_mutants.sh"

# 1. adapt fitted on the evaluation rows (or the whole task) instead of the fit split
mutant src/langgap/measuring.py 's/fit_corpus(fit_part, emb/fit_corpus(eval_corpus, emb/' tests/test_adapt.py tests/test_measuring.py
mutant src/langgap/measuring.py 's/fit_corpus(fit_part, emb/fit_corpus(corpus, emb/' tests/test_adapt.py tests/test_measuring.py
# 2. accuracy_tgt2src computed source->target
mutant src/langgap/metrics/catalog.py 's/pair=_retrieval(_scoring, _fwd)/pair=_retrieval(_scoring, True)/' tests/test_measuring.py tests/metrics
# 3. the language-ID probe trained on every sentence, test ones included
mutant src/langgap/metrics/language.py 's/clf.fit(x\[:, train\].reshape(-1, x.shape\[-1\]), labels\[:, train\].ravel())/clf.fit(x.reshape(-1, x.shape[-1]), labels.ravel())/' tests/metrics tests/test_measuring.py
# 4. --margin never reaches the loss
mutant src/langgap/training/objective.py 's/InfoNCELoss(temperature=cfg.temperature, margin=cfg.margin, gather=cfg.gather)/InfoNCELoss(temperature=cfg.temperature, gather=cfg.gather)/' tests/training/test_objective.py tests/losses
# 5. GradCache's no_sync on the first chunk instead of the last
mutant src/langgap/losses/cached.py 's/last = k == len(jobs) - 1/last = k == 0/' tests/losses tests/training
# 6. cross-language pairs not interleaved (all first in the batch)
mutant src/langgap/training/composer.py 's/if c \* n < (t + 1) \* n_c:/if c < n_c:/' tests/training/test_composer.py
# 7. the same-language pool reuses one shuffle every pass
mutant src/langgap/training/composer.py 's/self._order(epoch, s, passes - 1)/self._order(epoch, s, 0)/' tests/training/test_composer.py
# 8. gradient-accumulation losses summed instead of averaged
mutant src/langgap/training/loop.py 's|micro_step(run, next(stream), 1.0 / cfg.grad_accum)|micro_step(run, next(stream), 1.0)|' tests/training

verdict "wiring mutants"
