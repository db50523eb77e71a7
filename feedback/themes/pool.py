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

_state: dict[str, Any] = {"model_dir": None, "model": None}


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


def _current(version: str | None = None) -> Any:
    """The loaded model; reloaded only when another process made a different one current."""
    from nlp.themes import load_current, load_model

    model = _state["model"]
    if version is not None and (model is None or model.version != version):
        path = _model_dir() / version
        model = load_model(path) if (path / "manifest.json").exists() else load_current(_model_dir())
    elif model is None:
        model = load_current(_model_dir())
    _state["model"] = model
    return model


def ensure_model(
    codebook: dict[str, Any], labels: list[dict[str, Any]], force: bool = False
) -> dict[str, Any]:
    """Make sure the current model fits this codebook and these manager labels.

    Trains from the shipped data (``nlp/data``) plus the manager labels when there is no model
    (first start), when the codebook changed, when the labels changed, or when ``force``;
    saves it (manifest JSON + numpy arrays, no pickles) and makes it current.
    """
    from nlp.codebook import Codebook
    from nlp.dataset import labels_digest, load_dev
    from nlp.themes import load_model, save_current, train

    cb = Codebook.from_dict(codebook)
    digest = labels_digest(labels)
    model = _current()
    trained = False
    stale = (
        model is None
        or model.codebook_version != cb.version
        or model.manifest.get("manager_labels_digest") != digest
    )
    if force or stale:
        fresh = train(load_dev(), cb, manager_labels=labels)
        model = load_model(save_current(fresh, _model_dir()))
        _state["model"] = model
        trained = True
    return {
        "model_version": model.version,
        "codebook_version": model.codebook_version,
        "labels_digest": digest,
        "trained": trained,
        "pid": os.getpid(),
    }


def assign_batch(texts: list[str], version: str | None = None) -> list[dict[str, Any]]:
    """Theme a batch; a text that fails gets ``{"error": …}`` and the others are still themed."""
    model = _current(version)
    if model is None:
        raise RuntimeError("no theme model: call ensure_model first")
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
