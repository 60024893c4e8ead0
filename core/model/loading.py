"""Loading DNA language models: DNABERT checkpoints (local folder or Hugging Face id) and the shipped demo model.

* Classification checkpoints load as ``AutoModelForSequenceClassification``; pre-trained-only checkpoints
  (``BertForMaskedLM``/``BertModel``) load as the bare encoder: attention works, predictions are absent.
* How attention is read (hooks on the fused SDPA kernels, ALiBi recomputation, or eager) is decided here, once;
  the loaded model is never changed afterwards (:mod:`core.model.attention_paths`).
* The tokenizer is loaded with ``do_lower_case=False``; the tokenizer family (k-mer, non-overlapping, BPE) and k are
  detected from the vocabulary and can be overridden.
* No network: hub ids are resolved from the local Hugging Face cache only, unless ``allow_download=True``.
* ``trust_remote_code`` is off unless asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DnalensError, InputError, ModelError
from ..io.files import check_regular_file
from ..paths import DEMO_MLM_DIR, DEMO_MODEL_DIR, MODELS_DIR
from .tokenization import DNABERT_VOCAB_K, KmerTokenizer, NonOverlappingTokenizer, OffsetsTokenizer, TokenizerFamily

DTYPES = ("float32", "float16", "bfloat16")
_KMER_RE = re.compile(r"^[ACGT]+$")
_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class LoadedModel:
    """A model ready for inference, with its tokenizer family and facts the UI shows (the model card).

    Immutable after :func:`load_model`: the torch module is in eval mode with frozen parameters, its attention
    path is fixed, and every call keeps its own state, so one loaded model can serve several threads.
    """

    model: object  # torch.nn.Module
    tokenizer: TokenizerFamily
    hf_tokenizer: object
    name: str
    path: str
    family: str
    k: int | None
    n_layers: int
    n_heads: int
    max_tokens: int
    num_labels: int | None  # None: no classification head
    id2label: dict = field(default_factory=dict)
    device: str = "cpu"
    dtype: str = "float32"
    config_hash: str = ""
    metrics: dict = field(default_factory=dict)
    remote_code: bool = False  # the checkpoint's own Python code runs (the user allowed it)
    attention_path: str = "eager"  # see core.model.attention_paths
    is_masked_lm: bool = False  # has a masked-LM head (BertForMaskedLM): the mlm lens works

    @property
    def has_classifier(self) -> bool:
        return self.num_labels is not None

    @property
    def label_names(self) -> list[str]:
        if not self.has_classifier:
            return []
        return [str(self.id2label.get(i, i)) for i in range(self.num_labels)]

    def card(self) -> dict:
        """Plain facts for display and provenance."""
        from .attention_paths import describe_path

        return {
            "name": self.name,
            "path": self.path,
            "family": self.family,
            "k": self.k,
            "layers": self.n_layers,
            "heads": self.n_heads,
            "max_tokens": self.max_tokens,
            "vocab_size": getattr(self.model.config, "vocab_size", None),
            "hidden_size": getattr(self.model.config, "hidden_size", None),
            "architecture": type(self.model).__name__,
            "labels": self.label_names if self.has_classifier else None,
            "device": self.device,
            "dtype": self.dtype,
            "config_hash": self.config_hash,
            "metrics": self.metrics or None,
            "remote_code": self.remote_code,
            "attention": describe_path(self.attention_path),
            "masked_lm": self.is_masked_lm,
        }


def resolve_device(device: str = "auto") -> str:
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(
            f"device '{device}' was asked for but no CUDA GPU is available; choose cpu (device cpu in the "
            "dashboard's model picker, --device cpu on the command line)"
        )
    if device not in ("cpu",) and not device.startswith("cuda") and device != "mps":
        raise ModelError(f"unknown device '{device}' (use auto, cpu or cuda)")
    return device


def _config_hash(path: Path) -> str:
    cfg = path / "config.json"
    if not cfg.exists():
        return ""
    data = json.loads(cfg.read_text())
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _resolve_path(name_or_path: str | None, allow_download: bool, cache_dir: str | None = None) -> tuple[str, Path]:
    """Local folder for a model argument: None/'demo' -> shipped demo classifier, 'demo-mlm' -> shipped demo masked
    LM; folder; or a hub id in the local cache."""
    if name_or_path in (None, "", "demo"):
        if not (DEMO_MODEL_DIR / "config.json").exists():
            raise ModelError(f"the demo model is missing from {DEMO_MODEL_DIR}; rebuild it with `dnalens train-demo`")
        return "demo", DEMO_MODEL_DIR
    if name_or_path == "demo-mlm":
        if not (DEMO_MLM_DIR / "config.json").exists():
            raise ModelError(f"the demo MLM is missing from {DEMO_MLM_DIR}; rebuild it with `dnalens pretrain-demo`")
        return "demo-mlm", DEMO_MLM_DIR
    p = Path(os.path.expanduser(str(name_or_path)))
    if p.is_dir():
        if not (p / "config.json").exists():
            raise ModelError(
                f"model folder '{p}' has no config.json; point --model at a checkpoint folder "
                "(config.json, model weights, vocab.txt or tokenizer.json)"
            )
        return p.name, p
    if p.exists() or not _HUB_ID_RE.match(str(name_or_path)):
        raise ModelError(
            f"model folder '{name_or_path}' not found (and it is not a Hugging Face id such as zhihan1996/DNA_bert_6)"
        )
    # a Hugging Face hub id such as zhihan1996/DNA_bert_6
    from huggingface_hub import snapshot_download

    try:
        local = snapshot_download(str(name_or_path), local_files_only=not allow_download, cache_dir=cache_dir)
    except Exception as exc:  # LocalEntryNotFoundError, RepositoryNotFoundError, connection errors
        raise ModelError(
            f"model '{name_or_path}' is not a local folder and is not in the local Hugging Face cache "
            f"({cache_dir or os.environ.get('HF_HUB_CACHE') or '~/.cache/huggingface/hub'}); dnalens does not download at run "
            f"time. On a machine with internet run `huggingface-cli download {name_or_path}` and copy the cache, or "
            f"save the checkpoint to a folder and pass that folder. ({type(exc).__name__})"
        ) from None
    return str(name_or_path), Path(local)


def _load_hf_tokenizer(path: Path, trust_remote_code: bool, model_type: str = "bert"):
    from transformers import AutoTokenizer, BertTokenizer

    if (path / "vocab.txt").exists() and model_type == "bert" and not (path / "tokenizer.json").exists():
        try:
            return BertTokenizer.from_pretrained(str(path), do_lower_case=False)
        except Exception:
            pass
    try:
        return AutoTokenizer.from_pretrained(
            str(path), do_lower_case=False, trust_remote_code=trust_remote_code, local_files_only=True
        )
    except Exception as exc:
        raise ModelError(
            f"cannot load a tokenizer from '{path}' ({exc}); a DNABERT checkpoint needs vocab.txt "
            "and tokenizer_config.json"
        ) from None


def detect_family(vocab: dict[str, int]) -> tuple[str, int | None]:
    """Guess the tokenizer family and k from a vocabulary: ('kmer', k), ('nonoverlap', 6) or ('bpe', None)."""
    dna = [t for t in vocab if _KMER_RE.match(t)]
    lengths = {len(t) for t in dna}
    if len(lengths) == 1 and len(dna) == 4 ** next(iter(lengths)):
        return "kmer", next(iter(lengths))
    if lengths and max(lengths) == 6 and {1, 6} <= lengths and len([t for t in dna if len(t) == 6]) == 4096:
        return "nonoverlap", 6
    return "bpe", None


def build_tokenizer(
    hf_tok, max_tokens: int, family: str | None = None, k: int | None = None, stride: int = 1
) -> tuple[TokenizerFamily, str, int | None]:
    vocab = hf_tok.get_vocab()
    fam, kk = detect_family(vocab)
    family = family or fam
    if family == "kmer":
        if k is not None and kk is not None and k != kk:
            raise ModelError(
                f"--kmer {k} does not match the model's vocabulary, which holds {kk}-mers ({len(vocab)} tokens)"
            )
        k = k or kk or DNABERT_VOCAB_K.get(len(vocab))
        if k is None:
            raise ModelError("cannot tell k from the vocabulary; pass --kmer")
        try:
            return KmerTokenizer(vocab, k, stride, max_tokens), "kmer", k
        except ValueError as exc:  # a stride outside 1..k, a vocabulary without DNABERT's special tokens
            raise ModelError(f"cannot use this k-mer vocabulary: {exc}") from None
    if family == "nonoverlap":
        cls_tok = hf_tok.cls_token or "<cls>"
        pad_tok = hf_tok.pad_token or "<pad>"
        unk_tok = hf_tok.unk_token or "<unk>"
        try:
            return NonOverlappingTokenizer(vocab, k or 6, max_tokens, cls_tok, pad_tok, unk_tok), "nonoverlap", k or 6
        except KeyError as exc:
            raise ModelError(f"the vocabulary lacks the special token {exc}") from None
    if family == "bpe":
        if not getattr(hf_tok, "is_fast", False):
            raise ModelError("BPE models need a fast tokenizer (tokenizer.json) for nucleotide offsets")
        tok = OffsetsTokenizer(hf_tok, max_tokens)
        probe = "ACGTTGCAACGGATCCTAGA" * 3
        enc = tok.encode(probe)
        unk = getattr(hf_tok, "unk_token_id", None)
        covered = np.zeros(len(probe), int)
        for a, b in enc.spans:
            if a >= 0:
                covered[a:b] += 1
        if (unk is not None and unk in enc.ids.tolist()) or not (covered == 1).all():
            raise ModelError(
                "this tokenizer does not split raw DNA into tokens with nucleotide offsets, so the "
                "'bpe' family does not fit it (for DNABERT k-mer vocabularies use 'kmer')"
            )
        return tok, "bpe", None
    raise ModelError(f"unknown tokenizer family '{family}' (use kmer, nonoverlap or bpe)")


def _check_weights(
    name: str,
    arch: str,
    info: dict,
    has_remote_code: bool,
    trust_remote_code: bool,
    may_miss: tuple[str, ...] = (".pooler.", ".contact_head."),
) -> None:
    """Refuse a model whose encoder (or classification head) was not in the checkpoint: transformers would fill
    those weights randomly and every score would be noise. Only parameters whose names contain one of ``may_miss``
    may be missing: ESM's contact head and, without a classification head, the pooler (pre-trained-only
    checkpoints have none; neither is used then); fine-tuning also starts a new head."""
    missing = [k for k in info.get("missing_keys", []) if not any(p in f".{k}" for p in may_miss)]
    if not missing:
        return
    unused = sorted(info.get("unexpected_keys", []))
    msg = (
        f"the weights of '{name}' do not fit the {arch} that was built for it: {len(missing)} parameters are "
        f"missing from the checkpoint (e.g. {sorted(missing)[0]})"
    )
    if unused:
        msg += f" and {len(unused)} in it are unused (e.g. {unused[0]})"
    if has_remote_code and not trust_remote_code:
        msg += (
            ". The checkpoint ships its own model code (auto_map in config.json; DNABERT-2 does): pass "
            "--trust-remote-code (dashboard: 'trust remote code') if you trust it"
        )
    else:
        msg += ". Check that config.json belongs to these weights"
    raise ModelError(msg)


def _materialise_alibi(model, device: str) -> None:
    """DNABERT-2's remote code keeps its ALiBi bias as a plain tensor attribute (not a buffer). transformers builds
    models on the meta device before loading weights, so that tensor is left without data and the first forward
    pass fails; rebuild it with the model's own ``rebuild_alibi_tensor`` at the size it had."""
    for module in model.modules():
        alibi = getattr(module, "alibi", None)
        if getattr(alibi, "is_meta", False) and callable(getattr(module, "rebuild_alibi_tensor", None)):
            module.rebuild_alibi_tensor(size=int(alibi.shape[-1]), device=device)


def _read_config(name: str, path: Path, trust_remote_code: bool):
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(str(path), trust_remote_code=trust_remote_code, local_files_only=True)
    except ValueError as exc:
        if "trust_remote_code" in str(exc):
            raise ModelError(
                f"model '{name}' needs custom code from its repository; pass --trust-remote-code only if you trust it"
            ) from None
        raise ModelError(f"cannot read the config of '{name}': {exc}") from None
    except Exception as exc:
        raise ModelError(f"cannot read the config of '{name}': {exc}") from None


def _head_kind(config) -> str:
    """'classifier', 'masked-lm' or 'encoder', from the checkpoint's ``architectures``."""
    archs = getattr(config, "architectures", None) or []
    if any(a.endswith("ForSequenceClassification") for a in archs):
        return "classifier"
    if any(a.endswith("ForMaskedLM") for a in archs):
        return "masked-lm"
    return "encoder"


def _load_weights(name: str, path: Path, config, head: str, dtype: str, trust_remote_code: bool):
    """The torch module with the checkpoint's weights (refused when they do not fit), in eval mode."""
    import torch
    from transformers import AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification

    auto = {"classifier": AutoModelForSequenceClassification, "masked-lm": AutoModelForMaskedLM, "encoder": AutoModel}[
        head
    ]
    kwargs = dict(
        trust_remote_code=trust_remote_code,
        local_files_only=True,
        dtype=getattr(torch, dtype),
        output_loading_info=True,
    )
    try:
        try:
            model, info = auto.from_pretrained(str(path), **kwargs)
        except (ValueError, TypeError) as exc:
            if head != "masked-lm" or "trust_remote_code" in str(exc):
                raise
            model, info = AutoModel.from_pretrained(str(path), **kwargs)  # no MLM class for this model type
    except Exception as exc:
        raise ModelError(f"cannot load the weights of '{name}': {exc}") from None
    if (
        head == "masked-lm"
        and info.get("missing_keys")
        and all(k.startswith(("cls.", "lm_head.")) for k in info["missing_keys"])
    ):
        return _load_weights(name, path, config, "encoder", dtype, trust_remote_code)  # no trained MLM head
    may_miss = (".contact_head.",) if head == "classifier" else (".pooler.", ".contact_head.")
    _check_weights(
        name,
        type(model).__name__,
        info,
        has_remote_code=bool(getattr(config, "auto_map", None)),
        trust_remote_code=trust_remote_code,
        may_miss=may_miss,
    )
    model.eval()
    model.requires_grad_(False)  # gradients flow to the inputs only (attribution lenses)
    return model


def _max_tokens(config, hf_tok) -> int:
    max_pos = int(getattr(config, "max_position_embeddings", 512) or 512)
    tok_max = getattr(hf_tok, "model_max_length", None)
    max_tokens = min(max_pos, tok_max) if tok_max and tok_max < 10**6 else max_pos
    model_type = getattr(config, "model_type", "")
    if model_type in ("roberta", "xlm-roberta", "camembert") or (
        model_type == "esm" and getattr(config, "position_embedding_type", "") == "absolute"
    ):
        max_tokens -= 2  # position ids start at padding_idx + 1
    return max_tokens


def _read_metrics(path: Path) -> dict:
    mfile = path / "training_metrics.json"
    if not mfile.exists():
        return {}
    try:
        metrics = _read_json(path.name, mfile)
    except ModelError:
        return {}
    return metrics if isinstance(metrics, dict) else {}


def _fix_attention_path(model) -> str:
    """Choose the attention path, switch to eager attention when that is the path, install the inert capture
    hooks. Called once, before the model is handed out."""
    from .attention_paths import choose_path, install_capture_hooks

    path = choose_path(model)
    if path == "eager" and getattr(model.config, "_attn_implementation", "eager") != "eager":
        try:
            model.set_attn_implementation("eager")
        except Exception:
            pass  # remote code without the switch: attention may be unavailable
    install_capture_hooks(model, path)
    return path


def quiet_transformers() -> None:
    """transformers' own load reports and progress bars off: dnalens says what matters in its own words."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def load_model(
    name_or_path: str | None = None,
    *,
    device: str = "auto",
    dtype: str = "float32",
    trust_remote_code: bool = False,
    kmer: int | None = None,
    family: str | None = None,
    stride: int = 1,
    allow_download: bool = False,
    cache_dir: str | None = None,
) -> LoadedModel:
    """Load a checkpoint for attention, prediction and the lenses. ``None`` or ``'demo'`` loads the demo model,
    ``'demo-mlm'`` the demo masked LM (the default model of the masked-LM features)."""
    quiet_transformers()
    if dtype not in DTYPES:
        raise ModelError(f"unknown dtype '{dtype}' (use one of {', '.join(DTYPES)})")
    name, path = _resolve_path(name_or_path, allow_download, cache_dir)
    dev = resolve_device(device)
    check_model_folder(name, path, trust_remote_code)
    config = _read_config(name, path, trust_remote_code)
    head = _head_kind(config)
    hf_tok = _load_hf_tokenizer(path, trust_remote_code, getattr(config, "model_type", "bert"))
    tokenizer, fam, k = build_tokenizer(hf_tok, _max_tokens(config, hf_tok), family, kmer, stride)
    check_vocabulary(name, hf_tok, config, fam, k)
    model = _load_weights(name, path, config, head, dtype, trust_remote_code)
    model.to(dev)
    _materialise_alibi(model, dev)
    attention_path = _fix_attention_path(model)
    classifier = head == "classifier"
    id2label = {int(i): v for i, v in (getattr(config, "id2label", None) or {}).items()} if classifier else {}
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        hf_tokenizer=hf_tok,
        name=name,
        path=str(path),
        family=fam,
        k=k,
        n_layers=int(getattr(config, "num_hidden_layers", 0)),
        n_heads=int(getattr(config, "num_attention_heads", 0)),
        max_tokens=tokenizer.max_tokens,
        num_labels=int(config.num_labels) if classifier else None,
        id2label=id2label,
        device=dev,
        dtype=dtype,
        config_hash=_config_hash(path),
        metrics=_read_metrics(path),
        remote_code=bool(trust_remote_code and getattr(config, "auto_map", None)),
        attention_path=attention_path,
        is_masked_lm=head == "masked-lm"
        and hasattr(model, "get_output_embeddings")
        and model.get_output_embeddings() is not None,
    )


# --------------------------------------------------------------------------------------------------------------
# checking a checkpoint folder before use

_SMALL_FILE = 64 << 20  # config.json, vocab.txt, training_metrics.json: read whole, so size-limited
_VOCAB_FILES = ("vocab.txt", "tokenizer.json", "vocab.json")
_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")


def _small_text(name: str, file: Path) -> str:
    if file.stat().st_size > _SMALL_FILE:
        raise ModelError(f"{file.name} of '{name}' is larger than {_SMALL_FILE >> 20} MB; it is not a model file")
    return file.read_text(encoding="utf-8", errors="replace")


def _read_json(name: str, file: Path) -> dict:
    try:
        data = json.loads(_small_text(name, file))
    except ValueError as exc:
        raise ModelError(f"{file.name} of '{name}' is not valid JSON ({exc}); the file is damaged") from None
    if not isinstance(data, dict):
        raise ModelError(f"{file.name} of '{name}' must hold a JSON object, not a {type(data).__name__}")
    return data


def vocab_tokens(name: str, path: Path) -> list[str] | None:
    """The tokens of ``vocab.txt`` (None when the folder has none); an empty one is a :class:`ModelError`."""
    file = path / "vocab.txt"
    if not file.exists():
        return None
    tokens = [t.rstrip("\r") for t in _small_text(name, file).split("\n")]
    while tokens and tokens[-1] == "":
        tokens.pop()  # DNABERT's 6-mer file ends with an empty line
    if not tokens:
        raise ModelError(f"vocab.txt of '{name}' is empty; copy the vocab.txt that came with these weights")
    return tokens


def check_model_folder(name: str, path: Path, trust_remote_code: bool = False) -> dict:
    """Check a checkpoint folder before anything reads it: every file in it is a regular file (a pipe or device
    would hang or never end), ``config.json`` is a JSON object, and there is a vocabulary (``vocab.txt`` or
    ``tokenizer.json``; models that ship their own tokenizer code may have none). Returns the config as a dict."""
    named = ("config.json", "training_metrics.json", "tokenizer_config.json", "special_tokens_map.json", *_VOCAB_FILES)
    for entry in path.iterdir():
        if entry.is_dir() and entry.name not in named:
            continue
        try:
            check_regular_file(entry, "model file")
        except InputError as exc:
            raise ModelError(f"model '{name}': {exc}") from None
    cfg = _read_json(name, path / "config.json")
    tokens = vocab_tokens(name, path)
    has_vocab = tokens is not None or any((path / f).exists() for f in _VOCAB_FILES[1:])
    ships_code = bool(cfg.get("auto_map"))  # its tokenizer may be code (loading it needs trust_remote_code)
    if not has_vocab and not ships_code and not any(path.glob("*.model")):
        raise ModelError(
            f"model '{name}' has no vocabulary (vocab.txt or tokenizer.json) beside its weights; copy the tokenizer "
            "files that came with the checkpoint into the folder"
        )
    vocab_size = cfg.get("vocab_size")
    if tokens is not None and isinstance(vocab_size, int):
        _check_kmer_sizes(name, len(tokens), vocab_size)
        missing = [t for t in _SPECIALS if t not in tokens]
        if vocab_size in DNABERT_VOCAB_K and missing:
            raise ModelError(
                f"vocab.txt of '{name}' lacks DNABERT's special token(s) {', '.join(missing)} (its first lines): "
                "every token id would be shifted against the weights. Use the vocab.txt that came with them"
            )
    return cfg


def _check_kmer_sizes(name: str, n_tokens: int, vocab_size: int) -> None:
    """A DNABERT vocabulary of one k beside embeddings sized for another k (``4**k + 5`` rows)."""
    k_vocab, k_weights = DNABERT_VOCAB_K.get(n_tokens), DNABERT_VOCAB_K.get(vocab_size)
    if k_vocab and k_weights and k_vocab != k_weights:
        raise ModelError(
            f"the vocabulary of '{name}' holds {k_vocab}-mers ({n_tokens} tokens) but its weights were trained on "
            f"{k_weights}-mers (embeddings of {vocab_size} rows): every score would be nonsense. Use the vocab.txt "
            "that came with these weights"
        )
    if n_tokens > vocab_size:
        raise ModelError(
            f"the vocabulary of '{name}' has {n_tokens} tokens but the model's embeddings only {vocab_size} rows: "
            "the vocabulary does not belong to these weights"
        )


def check_vocabulary(name: str, hf_tok, config, family: str, k: int | None) -> None:
    """The tokenizer fits the weights: no token id past the embeddings, the k of a k-mer vocabulary matches the
    k the embeddings were sized for, and a k-mer vocabulary has DNABERT's special tokens."""
    vocab = hf_tok.get_vocab()
    if not vocab:
        raise ModelError(f"the vocabulary of '{name}' is empty")
    vocab_size = getattr(config, "vocab_size", None)
    if isinstance(vocab_size, int) and vocab_size > 0:
        if family == "kmer" and k is not None and DNABERT_VOCAB_K.get(vocab_size, k) != k:
            _check_kmer_sizes(name, 4**k + 5, vocab_size)
        top = max(i for t, i in vocab.items() if t)  # the empty token of DNABERT's trailing blank line is never used
        if top >= vocab_size:
            raise ModelError(
                f"the vocabulary of '{name}' has token ids up to {top} but the model's embeddings only {vocab_size} "
                "rows: the vocabulary does not belong to these weights"
            )
    if family == "kmer":
        missing = [t for t in _SPECIALS if t not in vocab]
        if missing:
            raise ModelError(f"the k-mer vocabulary of '{name}' lacks the special token(s) {', '.join(missing)}")


def _card(name: str, path: Path) -> dict:
    """The picker's facts about one checkpoint folder, read from disk (no weights loaded)."""
    cfg = check_model_folder(name, path)
    metrics = {}
    if (path / "training_metrics.json").exists():
        try:
            metrics = _read_json(name, path / "training_metrics.json")
        except ModelError:
            pass
    classifier = any(str(a).endswith("ForSequenceClassification") for a in cfg.get("architectures") or [])
    id2label = cfg.get("id2label") if isinstance(cfg.get("id2label"), dict) else {}
    return {
        "name": name,
        "path": str(path),
        "architecture": (cfg.get("architectures") or ["?"])[0],
        "layers": cfg.get("num_hidden_layers"),
        "heads": cfg.get("num_attention_heads"),
        "hidden_size": cfg.get("hidden_size"),
        "vocab_size": cfg.get("vocab_size"),
        "k": DNABERT_VOCAB_K.get(cfg.get("vocab_size")) if isinstance(cfg.get("vocab_size"), int) else None,
        "labels": list(id2label.values()) if classifier else None,
        "accuracy": metrics.get("accuracy"),
        "auroc": metrics.get("auroc"),
        "error": None,
    }


def known_models(extra: list[str] | None = None) -> list[dict]:
    """Models to offer in a picker: the demo models, fine-tuned outputs under ``<project>/models/``, and ``extra``
    folders; each with its card facts read from disk (no weights loaded). A folder that cannot be used (a damaged
    config.json, a missing or mismatched vocabulary, ...) is listed with ``error`` saying why; the others are
    unaffected. Never raises."""
    out = []
    seen = set()
    candidates = [("demo", DEMO_MODEL_DIR), ("demo-mlm", DEMO_MLM_DIR)]
    try:
        if MODELS_DIR.is_dir():
            candidates += [(str(p), p) for p in sorted(MODELS_DIR.iterdir()) if (p / "config.json").exists()]
    except OSError:
        pass
    candidates += [(e, Path(os.path.expanduser(e))) for e in (extra or [])]
    for name, path in candidates:
        try:
            if name in seen or not (path / "config.json").exists():
                continue
        except OSError:
            continue
        seen.add(name)
        try:
            out.append(_card(name, path))
        except (DnalensError, OSError, ValueError) as exc:
            out.append({"name": name, "path": str(path), "error": str(exc)})
    return out


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run with ``n`` torch CPU threads (unchanged when None), restoring the previous count."""
    import torch

    old = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)
