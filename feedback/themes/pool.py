"""What runs inside the theming process pool: load (or train) the model once, assign batches.

Why a separate module with no database or web imports: the worker starts this pool with the
``spawn`` method, so the child imports only this module and ``nlp`` (numpy, scikit-learn), keeps
one model in memory for its whole life, and never touches the event loop of the parent. All
arguments and results are plain data (dicts, lists, strings), so nothing is pickled but data.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_state: dict[str, Any] = {"model_dir": None, "model": None, "other": None}


def init(model_dir: str) -> None:
    """Pool initializer: remember where models live and load the current one (if any) once.

    Ctrl-C reaches the whole process group; the parent decides when this process stops
    (``ThemingJob.close``), so the child ignores SIGINT instead of dying mid-batch.
    """
    import signal

    from nlp.themes import load_current

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if multiprocessing.parent_process() is not None:  # a pool child, not a test calling init
        _exit_with_parent(os.getppid())

    _state["model_dir"] = model_dir
    _state["model"] = load_current(model_dir)


def _exit_with_parent(parent: int, interval_s: float = 1.0) -> None:
    """Leave when the parent is gone (killed, out of memory, crashed): a pool worker blocks on
    its task queue and would otherwise live on as an orphan holding a model in memory."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        log.warning("theming pool: parent process %s is gone, exiting", parent)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _model_dir() -> Path:
    if _state["model_dir"] is None:
        raise RuntimeError("theming pool not initialised")
    return Path(_state["model_dir"])


def _current() -> Any:
    """The current model (``current.json``), loaded once."""
    from nlp.themes import load_current

    if _state["model"] is None:
        _state["model"] = load_current(_model_dir())
    return _state["model"]


def _model(version: str | None) -> Any:
    """The model with ``version``: the current one, or (for a preview) one more kept loaded.

    Why a second slot: the retraining preview assigns every answer with the candidate model
    while new answers keep being themed with the current one; reloading on every batch would
    read the arrays from disk each time.
    """
    from nlp.themes import load_model

    current = _current()
    if version is None or (current is not None and current.version == version):
        return current
    other = _state["other"]
    if other is None or other.version != version:
        path = _model_dir() / version
        if not (path / "manifest.json").exists():
            raise RuntimeError(f"no theme model {version}")
        other = _state["other"] = load_model(path)
    return other


def _info(model: Any, digest: str | None, trained: bool) -> dict[str, Any]:
    return {
        "model_version": model.version,
        "codebook_version": model.codebook_version,
        "labels_digest": digest,
        "trained": trained,
        "pid": os.getpid(),
    }


def load_or_train(codebook: dict[str, Any], labels: list[dict[str, Any]]) -> dict[str, Any]:
    """The current model; trained (and made current) only when there is none yet (first start).

    A changed codebook or new manager labels do not retrain here: counts change only when a
    manager asks for a retraining and confirms its preview (``train_candidate``, ``make_current``).
    """
    from nlp.codebook import Codebook
    from nlp.dataset import labels_digest, load_dev
    from nlp.themes import load_model, save_current, train

    model = _current()
    if model is not None:
        return _info(model, None, False)
    fresh = train(load_dev(), Codebook.from_dict(codebook), manager_labels=labels)
    model = _state["model"] = load_model(save_current(fresh, _model_dir()))
    return _info(model, labels_digest(labels), True)


def train_candidate(codebook: dict[str, Any], labels: list[dict[str, Any]]) -> dict[str, Any]:
    """Train a model for this codebook and these labels and save it beside the current one.

    It is not made current: the preview compares it with what is stored, and only a manager's
    confirmation (``make_current``) puts it to use.
    """
    from nlp.codebook import Codebook
    from nlp.dataset import labels_digest, load_dev
    from nlp.themes import load_model, train

    fresh = train(load_dev(), Codebook.from_dict(codebook), manager_labels=labels)
    model = _state["other"] = load_model(fresh.save(_model_dir() / fresh.version))
    return _info(model, labels_digest(labels), True)


def make_current(version: str) -> dict[str, Any]:
    """Point ``current.json`` at a saved model (the confirmed candidate)."""
    from nlp.themes import save_current

    model = _model(version)
    save_current(model, _model_dir())
    _state["model"] = model
    return _info(model, model.manifest.get("manager_labels_digest"), False)


def ensure_model(
    codebook: dict[str, Any], labels: list[dict[str, Any]], force: bool = False
) -> dict[str, Any]:
    """The current model, or a new one made current now (``force``; the CLI's explicit train)."""
    if not force:
        return load_or_train(codebook, labels)
    info = train_candidate(codebook, labels)
    make_current(info["model_version"])
    return info


def assign_batch(texts: list[str], version: str | None = None) -> list[dict[str, Any]]:
    """Theme a batch; a text that fails gets ``{"error": …}`` and the others are still themed."""
    model = _model(version)
    if model is None:
        raise RuntimeError("no theme model: call load_or_train first")
    try:
        return [a.to_dict() for a in model.assign_many(texts)]
    except Exception:  # find the culprit(s) one by one
        out: list[dict[str, Any]] = []
        for text in texts:
            try:
                out.append(model.assign(text).to_dict())
            except Exception as exc:
                out.append({"error": f"{type(exc).__name__}: {exc}"})
        return out


def pid() -> int:
    return os.getpid()
