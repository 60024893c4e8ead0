"""How attention probabilities are read from a model, decided once when it is loaded.

Three paths (``LoadedModel.attention_path``):

``qk-hooks``
    BERT-style encoders with absolute positions (DNABERT). The model runs on its fused SDPA kernels. Forward hooks,
    installed once at load time, keep the outputs of each layer's ``query`` and ``key`` projections, and attention
    is formed as ``softmax(q.K^T / sqrt(d) + mask)``: only the [CLS] row when that is all a call asks for (no T x T
    matrix), or full matrices for rollout and head views. Equal to eager attention within 1e-5 (tests).
``alibi-qkv``
    DNABERT-2's layout (MosaicBERT remote code): each layer has one fused ``Wqkv`` projection and the encoder adds
    an ALiBi bias (``encoder.alibi``). Hooks keep each layer's ``Wqkv`` output (unpadded tokens) and attention is
    ``softmax(q.K^T / sqrt(d) + alibi)``, as the model's own code computes it.
``eager``
    Anything else (ESM / Nucleotide Transformer, unknown remote code): the model is loaded with eager attention and
    asked for ``output_attentions`` per call.

The hooks do nothing unless the calling thread is inside :func:`capturing`; what they keep goes to a box held in a
:class:`contextvars.ContextVar`, so concurrent calls on one shared model (two dashboard sessions) never see each
other's tensors, and the model itself is never changed after loading.
"""

from __future__ import annotations

import contextlib
import contextvars

PATHS = ("qk-hooks", "alibi-qkv", "eager")
_HOOK_MODEL_TYPES = ("bert", "roberta", "xlm-roberta", "camembert", "electra")
_CAPTURE: contextvars.ContextVar = contextvars.ContextVar("dnalens_attention_capture", default=None)


def self_attention_modules(model) -> list | None:
    """The per-layer self-attention modules of a BERT-style encoder (with ``query``/``key`` projections)."""
    base = getattr(model, "base_model", model)
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if layers is None:
        return None
    mods = []
    for layer in layers:
        sa = getattr(getattr(layer, "attention", None), "self", None)
        if sa is None or not hasattr(sa, "query") or not hasattr(sa, "key"):
            return None
        mods.append(sa)
    return mods


def alibi_qkv_modules(model):
    """DNABERT-2's layout: ``(self-attention modules with a fused Wqkv Linear, encoder holding .alibi)`` or None."""
    import torch

    base = getattr(model, "base_model", model)
    enc = getattr(base, "encoder", None)
    layers = getattr(enc, "layer", None)
    if layers is None or not isinstance(getattr(enc, "alibi", None), torch.Tensor):
        return None
    mods = []
    for layer in layers:
        sa = getattr(getattr(layer, "attention", None), "self", None)
        if (
            sa is None
            or not isinstance(getattr(sa, "Wqkv", None), torch.nn.Linear)
            or not hasattr(sa, "num_attention_heads")
        ):
            return None
        mods.append(sa)
    return mods, enc


def choose_path(model) -> str:
    """The attention path for a freshly built model (see the module docstring)."""
    cfg = model.config
    if alibi_qkv_modules(model) is not None:
        return "alibi-qkv"
    if (
        self_attention_modules(model) is not None
        and getattr(cfg, "model_type", "") in _HOOK_MODEL_TYPES
        and getattr(cfg, "position_embedding_type", "absolute") == "absolute"
    ):
        return "qk-hooks"
    return "eager"


def describe_path(path: str) -> str:
    """The attention path in words (model cards, provenance)."""
    return {
        "qk-hooks": "fused SDPA + attention formed from the query/key projections",
        "alibi-qkv": "recomputed from each layer's fused Wqkv projection and the encoder's ALiBi bias",
        "eager": "eager attention (output_attentions)",
    }[path]


def install_capture_hooks(model, path: str) -> None:
    """Install the permanent, inert capture hooks of ``path`` (load time only)."""
    if path == "qk-hooks":
        for li, sa in enumerate(self_attention_modules(model)):
            sa.query.register_forward_hook(_keeper(li, "q"))
            sa.key.register_forward_hook(_keeper(li, "k"))
    elif path == "alibi-qkv":
        mods, _ = alibi_qkv_modules(model)
        for li, sa in enumerate(mods):
            sa.Wqkv.register_forward_hook(_keeper(li, "qkv"))


def _keeper(layer: int, what: str):
    def hook(module, args, output):
        box = _CAPTURE.get()
        if box is None or layer not in box["layers"]:
            return
        box[(layer, what)] = output[:, :1] if (what == "q" and box["rows_only"]) else output

    return hook


@contextlib.contextmanager
def capturing(layers, rows_only: bool):
    """Within this block, the calling thread's forward passes keep the projections of ``layers`` in the yielded
    dict (``rows_only``: only the [CLS] query)."""
    box = {"layers": frozenset(layers), "rows_only": rows_only}
    token = _CAPTURE.set(box)
    try:
        yield box
    finally:
        _CAPTURE.reset(token)


def qk_attention(q, k, mask, n_heads: int, head_dim: int):
    """``softmax(q.K^T / sqrt(d))`` over the real keys. q: ``[B, nq, H]``; k: ``[B, T, H]``; mask ``[B, T]``.
    Returns ``[B, heads, nq, T]`` float32 (padding keys get exactly 0)."""
    import torch

    B, T = mask.shape
    qh = q.float().view(B, q.shape[1], n_heads, head_dim).transpose(1, 2)
    kh = k.float().view(B, T, n_heads, head_dim).transpose(1, 2)
    sc = (qh @ kh.transpose(-1, -2)) * (head_dim**-0.5)
    sc = sc.masked_fill((mask == 0)[:, None, None, :], float("-inf"))
    return torch.softmax(sc, dim=-1)


def alibi_attention(qkv, mask, alibi, n_heads: int, head_dim: int, rows_only: bool):
    """Attention of a DNABERT-2-style layer from its own ``Wqkv`` output.

    qkv: ``[nnz, 3*H]`` (unpadded tokens, row-major over the batch, as the model runs them) or ``[B, T, 3*H]``.
    mask: ``[B, T]``. alibi: the encoder's ``[1, heads, S, S]`` bias, S >= T. Returns ``[B, heads, 1 or T, T]``:
    ``softmax(q.K^T/sqrt(d) + alibi)`` over the real keys (the model's -10000 padding bias becomes an exact 0).
    """
    import torch

    B, T = mask.shape
    if qkv.dim() == 2:
        full = qkv.new_zeros(B * T, qkv.shape[-1])
        full[mask.reshape(-1).bool()] = qkv
    else:
        full = qkv.reshape(B * T, -1)
    full = full.float().view(B, T, 3, n_heads, head_dim)
    nq = 1 if rows_only else T
    q = full[:, :nq, 0].transpose(1, 2)
    k = full[:, :, 1].transpose(1, 2)
    sc = (q @ k.transpose(-1, -2)) * (head_dim**-0.5) + alibi[0, :, :nq, :T].float()
    sc = sc.masked_fill((mask == 0)[:, None, None, :], float("-inf"))
    return torch.softmax(sc, dim=-1)


def head_dim(sa) -> int:
    return int(getattr(sa, "attention_head_size", 0) or sa.Wqkv.out_features // 3 // sa.num_attention_heads)


def attention_from_capture(model, path: str, box: dict, mask, rows_only: bool) -> dict:
    """``{layer: [B, heads, 1 or T, T]}`` formed from what :func:`capturing` kept."""
    out = {}
    if path == "qk-hooks":
        mods = self_attention_modules(model)
        for li in sorted(box["layers"]):
            sa = mods[li]
            out[li] = qk_attention(box[(li, "q")], box[(li, "k")], mask, sa.num_attention_heads, sa.attention_head_size)
    else:
        mods, enc = alibi_qkv_modules(model)
        for li in sorted(box["layers"]):
            out[li] = alibi_attention(
                box[(li, "qkv")], mask, enc.alibi, mods[li].num_attention_heads, head_dim(mods[li]), rows_only
            )
    return out


def rollout_cls(atts, mask):
    """Attention rollout (Abnar & Zuidema 2020): mean over heads, + identity, row-normalised, multiplied over
    layers from the first to the last; returns the [CLS] row ``[B, T]``. atts: per layer ``[B, heads, T, T]``."""
    import torch

    B, _, T, _ = atts[0].shape
    eye = torch.eye(T, device=atts[0].device, dtype=torch.float32).expand(B, T, T)
    R = None
    for a in atts:
        A = 0.5 * a.float().mean(dim=1) + 0.5 * eye
        A = A / A.sum(dim=-1, keepdim=True)
        R = A if R is None else torch.bmm(A, R)
    return R[:, 0, :] * mask.float()
