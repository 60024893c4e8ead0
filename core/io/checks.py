"""Numbers and small JSON files from users, checked: every count, position, label and setting is parsed here with
an explicit range, so ``inf``, ``NaN``, ``1e300`` or ``-3`` where a count is expected becomes a clear
:class:`InputError` (what, where, the allowed range) instead of an ``OverflowError`` deep inside a command."""

from __future__ import annotations

import json
import math
import os

from ..errors import InputError

MAX_CLASSES = 1000  # class labels are 0 .. MAX_CLASSES - 1
MAX_JSON_BYTES = 64 << 20


def _where(source, line, record) -> dict:
    return {"source": source, "line": line, "record": record}


def whole(
    text,
    what: str,
    *,
    lo: int | None = None,
    hi: int | None = None,
    source: str | None = None,
    line: int | None = None,
    record: str | None = None,
) -> int:
    """``text`` (a string or a number) as an integer in ``[lo, hi]``; ``3.0`` is 3, ``3.5``/``inf``/``nan`` are
    refused."""
    raw = str(text).strip()
    try:
        value = int(raw)
    except ValueError:
        try:
            f = float(raw)
        except ValueError:
            raise InputError(
                f"{what} must be a whole number, found {raw[:30]!r}", **_where(source, line, record)
            ) from None
        if not math.isfinite(f) or f != int(f):
            raise InputError(
                f"{what} must be a whole number, found {raw[:30]!r}", **_where(source, line, record)
            ) from None
        value = int(f)
    _check_range(value, what, lo, hi, raw, source, line, record)
    return value


def real(
    text,
    what: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    source: str | None = None,
    line: int | None = None,
    record: str | None = None,
) -> float:
    """``text`` as a finite float in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``); ``inf`` and ``nan`` are refused."""
    raw = str(text).strip()
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{what} must be a number, found {raw[:30]!r}", **_where(source, line, record)) from None
    if not math.isfinite(value):
        raise InputError(f"{what} must be a finite number, found {raw[:30]!r}", **_where(source, line, record))
    if lo_open and lo is not None and value <= lo:
        raise InputError(f"{what} must be greater than {lo}, found {raw[:30]}", **_where(source, line, record))
    _check_range(value, what, lo, hi, raw, source, line, record)
    return value


def _check_range(value, what, lo, hi, raw, source, line, record) -> None:
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        allowed = (
            f"between {lo} and {hi}"
            if lo is not None and hi is not None
            else (f"at least {lo}" if lo is not None else f"at most {hi}")
        )
        raise InputError(f"{what} must be {allowed}, found {raw[:30]}", **_where(source, line, record))


def class_label(text, *, source: str | None = None, line: int | None = None, record: str | None = None) -> int:
    """A class label: a whole number 0, 1, 2, ... below :data:`MAX_CLASSES`."""
    return whole(
        text,
        "the label (a class index 0, 1, 2, ...)",
        lo=0,
        hi=MAX_CLASSES - 1,
        source=source,
        line=line,
        record=record,
    )


def read_json_object(path: str | os.PathLike, what: str = "JSON file", max_bytes: int = MAX_JSON_BYTES) -> dict:
    """A JSON object from a regular file (at most ``max_bytes``), else an :class:`InputError` saying why."""
    from .files import read_text_file

    text = read_text_file(path, what, max_bytes=max_bytes)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"the {what} is not valid JSON ({exc})", source=os.fspath(path)) from None
    if not isinstance(data, dict):
        raise InputError(
            f"the {what} must be a JSON object ({{...}}), found a {type(data).__name__}", source=os.fspath(path)
        )
    return data


# BertConfig fields a from-scratch configuration may set, with their allowed ranges
_INT_FIELDS = {
    "num_hidden_layers": (1, 48),
    "hidden_size": (1, 8192),
    "num_attention_heads": (1, 128),
    "intermediate_size": (1, 65536),
    "max_position_embeddings": (8, 16384),
    "type_vocab_size": (1, 16),
    "vocab_size": (1, 1 << 20),
}
_PROB_FIELDS = ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout")
_OTHER_FIELDS = {"hidden_act", "layer_norm_eps", "initializer_range", "position_embedding_type", "pad_token_id"}


def check_scratch_config(cfg: dict, source: str, defaults: dict | None = None) -> dict:
    """A ``--config`` for a model built from scratch: only BertConfig fields, each of the right type and range;
    ``hidden_size`` must be a multiple of ``num_attention_heads`` (either may come from ``defaults``, the
    configuration it changes), and ``vocab_size``, when ``defaults`` has one, is fixed by the tokenizer."""
    defaults = defaults or {}
    known = set(_INT_FIELDS) | set(_PROB_FIELDS) | _OTHER_FIELDS
    unknown = sorted(k for k in cfg if k not in known)
    if unknown:
        raise InputError(
            f"unknown configuration field(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(sorted(known))}",
            source=source,
        )
    out = dict(cfg)
    for key, (lo, hi) in _INT_FIELDS.items():
        if key in cfg:
            if isinstance(cfg[key], bool) or not isinstance(cfg[key], (int, float)):
                raise InputError(f"{key} must be a whole number, found {cfg[key]!r}", source=source)
            out[key] = whole(cfg[key], key, lo=lo, hi=hi, source=source)
    for key in _PROB_FIELDS:
        if key in cfg and cfg[key] is not None:
            if isinstance(cfg[key], bool) or not isinstance(cfg[key], (int, float)):
                raise InputError(f"{key} must be a number between 0 and 1, found {cfg[key]!r}", source=source)
            out[key] = real(cfg[key], key, lo=0.0, hi=0.99, source=source)
    for key in ("layer_norm_eps", "initializer_range"):
        if key in cfg:
            if isinstance(cfg[key], bool) or not isinstance(cfg[key], (int, float)):
                raise InputError(f"{key} must be a positive number, found {cfg[key]!r}", source=source)
            out[key] = real(cfg[key], key, lo=0.0, hi=1.0, lo_open=True, source=source)
    if "hidden_act" in cfg and cfg["hidden_act"] not in ("gelu", "relu", "silu", "gelu_new", "tanh"):
        raise InputError(
            f"hidden_act must be gelu, relu, silu, gelu_new or tanh, found {cfg['hidden_act']!r}", source=source
        )
    if "vocab_size" in out and "vocab_size" in defaults and out["vocab_size"] != defaults["vocab_size"]:
        raise InputError(
            f"vocab_size is fixed by the tokenizer's vocabulary ({defaults['vocab_size']} tokens); leave it out",
            source=source,
        )
    hidden = out.get("hidden_size", defaults.get("hidden_size"))
    heads = out.get("num_attention_heads", defaults.get("num_attention_heads"))
    if hidden is not None and heads is not None and hidden % heads:
        raise InputError(f"hidden_size {hidden} must be a multiple of num_attention_heads {heads}", source=source)
    return out
