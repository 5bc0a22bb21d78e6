"""The Optuna adapter of ``langgap tune``: the one module that touches Optuna's API.

A :class:`Study` wraps an Optuna study kept in a database (SQLite by default, any SQLAlchemy
URL such as ``postgresql://host/db`` so that several machines run trials of one study). It
samples a :class:`~langgap.training.space.SearchSpace` with TPE (seeded), prunes a trial whose
validation score falls below the median of earlier trials at the same step (Optuna's
``MedianPruner``, after 3 finished trials), and keeps heartbeats: a trial whose process died is
marked failed by the next worker and run again with the same settings, as is a trial
interrupted with Ctrl-C when the study is resumed. Optuna's errors go to Python's ``logging``
(the library prints nothing; a trial's end and a failure's reason are in its record).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langgap.errors import InputError
from langgap.training.space import Choice, Param, SearchSpace

# a trial's state as the records write it
STATES = {
    "COMPLETE": "complete",
    "PRUNED": "pruned",
    "FAIL": "failed",
    "RUNNING": "running",
    "WAITING": "waiting",
}
FAILED = "failed"  # user attribute: why training failed (diverged, collapsed, a guard stopped it)
INTERRUPTED = "interrupted"  # user attribute: Ctrl-C stopped the trial; a resumed study reruns it
RETRY_OF = "retry_of"  # user attribute: the trial number an enqueued rerun repeats


def _optuna() -> Any:
    try:
        import optuna
    except ModuleNotFoundError:
        raise InputError("langgap tune needs Optuna: pip install 'langgap[tune]' (or optuna)") from None
    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # trials' ends and failures are in the records
    return optuna


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the study holds it."""

    number: int
    state: str
    score: float | None
    params: dict[str, Any]  # the sampled values (choices of lists as lists)
    steps: dict[int, float]  # the scores reported during training, by step
    seconds: float | None
    note: str  # why it failed or was interrupted; empty otherwise


class Study:
    """An Optuna study of ``space`` (maximised), created or loaded from ``storage``."""

    def __init__(
        self, space: SearchSpace, storage: str, name: str, seed: int = 0, prune: bool = True
    ) -> None:
        optuna = _optuna()
        self.space, self.storage, self.name = space, storage, name
        retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)  # Optuna >= 4.9
        option = "heartbeat_stale_trial_callback" if retry else "failed_trial_callback"
        retry = retry or optuna.storages.RetryFailedTrialCallback
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # heartbeats are marked experimental
                rdb = optuna.storages.RDBStorage(
                    storage, heartbeat_interval=60, grace_period=180, **{option: retry(max_retry=1)}
                )
        except (ImportError, ValueError) as e:
            raise InputError(f"--storage {storage}: cannot open the study database ({e})") from None
        except Exception as e:  # SQLAlchemy's errors: a bad URL or an unreachable server
            raise InputError(
                f"--storage {storage}: cannot open the study database ({type(e).__name__}: {e})"
            ) from None
        pruner = optuna.pruners.MedianPruner(n_startup_trials=3) if prune else optuna.pruners.NopPruner()
        sampler = optuna.samplers.TPESampler(seed=seed)
        self.study = optuna.create_study(
            storage=rdb,
            study_name=name,
            direction="maximize",
            sampler=sampler,
            pruner=pruner,
            load_if_exists=True,
        )
        self._pruned = optuna.TrialPruned

    def requeue_interrupted(self) -> list[int]:
        """Enqueue a rerun of each trial Ctrl-C interrupted that has none yet; their numbers."""
        trials = self.study.get_trials(deepcopy=False)
        rerun = {t.user_attrs.get(RETRY_OF) for t in trials}
        again = [t for t in trials if t.user_attrs.get(INTERRUPTED) and t.number not in rerun]
        for t in again:
            self.study.enqueue_trial(t.params, user_attrs={RETRY_OF: t.number})
        return [t.number for t in again]

    def finished(self) -> int:
        """Trials that count against the budget: complete, pruned, or failed in training (not
        one interrupted, nor one whose process died: both run again)."""
        return sum(
            r.state in ("complete", "pruned") or (r.state == "failed" and r.note not in ("", INTERRUPTED))
            for r in self.records()
        )

    def run_one(
        self,
        objective: Callable[[int, dict[str, Any], Callable[[float, int], None]], float],
        failures: tuple[type[BaseException], ...],
        on_start: Callable[[int, dict[str, Any]], None] | None = None,
    ) -> int:
        """Run one trial: ``objective(number, settings, report)`` trains and returns the score;
        ``report(score, step)`` records an intermediate score and stops a trial the pruner
        stops. An exception in ``failures`` marks the trial failed (with its message). Returns
        the trial's number."""
        number = -1

        def wrapped(trial: Any) -> float:
            nonlocal number
            number = trial.number
            sampled = {name: _suggest(trial, name, p) for name, p in self.space.params.items()}
            if on_start is not None:
                on_start(trial.number, sampled)

            def report(value: float, step: int) -> None:
                trial.report(value, step)
                if trial.should_prune():
                    raise self._pruned(f"pruned at step {step} (score {value:.4f})")

            try:
                return objective(trial.number, sampled, report)
            except failures as e:
                trial.set_user_attr(FAILED, str(e))
                raise
            except KeyboardInterrupt:
                trial.set_user_attr(INTERRUPTED, True)
                raise

        self.study.optimize(wrapped, n_trials=1, catch=failures)
        return number

    def records(self) -> list[TrialRecord]:
        """Every trial of the study, in order."""
        out = []
        for t in self.study.get_trials(deepcopy=False):
            params = {
                name: (p.value(t.params[name]) if isinstance(p, Choice) else t.params[name])
                for name, p in self.space.params.items()
                if name in t.params
            }
            seconds = t.duration.total_seconds() if t.duration is not None else None
            note = str(t.user_attrs.get(FAILED) or (INTERRUPTED if t.user_attrs.get(INTERRUPTED) else ""))
            state = STATES.get(t.state.name, t.state.name.lower())
            value = t.value if state == "complete" else None  # Optuna gives a pruned trial its last report
            steps = dict(t.intermediate_values)
            out.append(TrialRecord(t.number, state, value, params, steps, seconds, note))
        return out


def _suggest(trial: Any, name: str, p: Param) -> Any:
    if isinstance(p, Choice):
        return p.value(trial.suggest_categorical(name, p.labels))
    if p.integer:
        return trial.suggest_int(name, int(p.low), int(p.high), step=int(p.step or 1), log=p.log)
    return trial.suggest_float(name, float(p.low), float(p.high), step=p.step, log=p.log)
