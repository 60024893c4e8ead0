"""A lens over every loaded sequence, as the Attention page shows it: a costly lens (anything but attention: many
model calls per sequence) starts only when its button is clicked, runs in small slices (the progress bar counts
sequences and Stop is checked between slices) and, stopped or not yet asked for, leaves the tracks shown before on
the page, labelled with their own lens (:class:`Shown`)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import streamlit as st

from dashboard import jobs, state

SLOT = "tracks"


@dataclass
class Shown:
    """What the page shows for the set: ``scores`` (one array per loaded sequence, or None) under ``lens`` (the lens
    they were computed with, which may differ from the sidebar's); ``pending``: the sidebar's lens is not computed
    for the set (its button is on the page)."""

    scores: list[np.ndarray] | None
    lens: object
    pending: bool = False


def costly(lens) -> bool:
    """Many model calls per sequence: asked for with a button, never started by the lens picker alone."""
    return lens.name != "attention"


def model_calls(lens, length: int) -> int:
    """Rough forward (and backward) passes per sequence of ``length`` bases under ``lens``."""
    per = {
        "ism": 3 * length + 1,
        "grad-input": 1,
        "ig": getattr(lens, "n_steps", 32) + 1,
        "expected-gradients": getattr(lens, "shuffles", 8) * (getattr(lens, "n_steps", 16) + 1) + 1,
        "mlm": length,
    }.get(lens.name, 1)
    return per * (2 if getattr(lens, "orientation", "forward") == "both" else 1)


def slice_size(lens) -> int:
    """Sequences per slice of a run: one slice is a few seconds at most, so Stop acts soon and the bar moves."""
    return max(1, min(16, 256 // model_calls(lens, 100)))


@st.cache_data(show_spinner=False, max_entries=512)
def _slice(mkey: tuple, key: tuple, lens):
    from core.lenses import tracks

    return tracks(state.load_model_cached(*mkey), state.from_key(key), lens)


def sliced(mkey: tuple, key: tuple, lens, progress):
    """Every sequence's :class:`core.lenses.Tracks` computed a slice at a time (each slice cached: a run stopped and
    run again goes on where it stopped); ``progress(n)`` after each slice, from 0."""
    from core.lenses.base import Tracks, provenance

    out = []
    progress(0)
    step = slice_size(lens)
    for a in range(0, len(key), step):
        out.extend(_slice(mkey, key[a : a + step], lens))
        progress(len(out))
    return Tracks(tuple(out), lens, provenance(state.load_model_cached(*mkey), lens))


@st.cache_data(show_spinner=False, max_entries=64)
def _one(mkey: tuple, key: tuple, lens):
    from core.lenses import tracks

    t0 = time.perf_counter()
    out = tracks(state.load_model_cached(*mkey), state.from_key(key), lens)
    return out.scores[0], time.perf_counter() - t0


def one_track(lens, seq) -> tuple[np.ndarray, float]:
    """(scores, seconds it took) of one sequence under ``lens``, computed at once (cached)."""
    with st.spinner(f"{lens.describe()} on {seq.id} ..."):
        return _one(state.model_key(), state.seq_key([seq]), lens)


def _confirmed() -> set:
    return st.session_state.setdefault("_lens_confirmed", set())


def _ask(lens, items, seq, slot: str = SLOT) -> bool:
    """The cost of ``lens`` over ``items`` and the button that starts it; True when it was clicked."""
    n, length = len(items), int(np.mean([len(s.seq) for s in items]))
    calls = model_calls(lens, length)
    seconds = None
    if seq is not None:
        try:
            seconds = one_track(lens, seq)[1]
        except Exception:  # the page's own call shows the error
            seconds = None
    when = f"; roughly {seconds * n / 60:.0f} min here ({seconds:.1f} s for {seq.id})" if seconds else ""
    c1, c2 = st.columns([3, 1])
    c1.warning(
        f"**{lens.describe()}** over the whole set: {n} sequences × about {calls:,} model call{'s' * (calls != 1)} each "
        f"({n * calls:,} in all){when}. Not started: the set below shows what was computed before."
    )
    return c2.button(f"Compute {lens.name} for {n} sequences", key=f"lens_compute_{slot}", type="primary")


def _previous(mkey: tuple, key: tuple, slot: str = SLOT) -> Shown | None:
    kept = jobs.kept(slot)
    if kept is None or kept[0][0] != mkey or (slot == SLOT and kept[0][1] != key):
        return None
    return Shown(kept[1], kept[0][2])


def _scores(trs, slot: str):
    return trs.scores if slot == SLOT else trs


def set_tracks(lens, seq=None, items=None, slot: str = SLOT) -> Shown:
    """Every loaded sequence's scores under ``lens`` (``seq``: the selected sequence, whose track is computed at
    once to time the set). A costly lens not yet asked for shows its cost and button; stopped, the note and "Run
    again"; both leave the set shown before (:class:`Shown` says under which lens). ``items`` and ``slot``: another
    page's set (its ``scores`` are then the :class:`core.lenses.Tracks`, which may hold other sequences after Stop)."""
    ss = st.session_state
    items = state.seqs() if items is None else items
    mkey, key = state.model_key(), state.seq_key(items)
    saved = ss.get("restored")
    if slot == SLOT and saved and saved["model"] == mkey and saved["lens"] == lens and saved["seq_key"] == key:
        return Shown(state.tracks_for(lens), lens)
    sig, job = (mkey, key, lens), jobs.current(slot)
    if job is not None and job.stopped and job.signature != sig:
        _confirmed().discard(job.signature)  # asked for something else since: stopped runs are asked for again
    if costly(lens) and sig not in _confirmed() and (job is None or job.signature != sig):
        if not _ask(lens, items, seq, slot):
            prev = _previous(mkey, key, slot) or Shown(None, lens)
            prev.pending = True
            return prev
        _confirmed().add(sig)
    try:
        out = jobs.run(
            slot,
            sig,
            lambda progress: _scores(state.lens_tracks(mkey, key, lens, lambda n: progress(n, len(key))), slot),
            f"{lens.describe()} on {len(items)} sequences",
            keep=True,
        )
    except Exception as exc:
        state.show_error(exc)
        st.stop()
    if jobs.current(slot) is not None and jobs.current(slot).stopped:
        return _previous(mkey, key, slot) or st.stop()
    if slot != SLOT:
        return Shown(out, lens)
    ss.shown = {"model": mkey, "seq_key": key, "lens": lens, "tracks": out}  # what a saved session redraws
    return Shown(out, lens)
