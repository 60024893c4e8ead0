"""Test fixture: a small MosaicBERT-style encoder written for dnalens' tests, in DNABERT-2's module layout.

Like DNABERT-2's remote code it runs on unpadded tokens (``[nnz, hidden]``), projects them with one fused
``attention.self.Wqkv`` Linear per layer, adds an ALiBi bias that the encoder keeps as the plain attribute ``alibi``
``[1, heads, S, S]``, uses a gated-linear-unit MLP, has no position embeddings, and returns no attention weights.
dnalens reads attention through exactly those names (``bert.encoder.layer[i].attention.self.Wqkv`` and
``bert.encoder.alibi``). Each self-attention module keeps its last probabilities in ``last_probs`` so that the tests
can compare dnalens' recomputed rows with the ones this model actually used.
"""
import math

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithPooling, SequenceClassifierOutput

from .configuration_alibibert import AlibiBertConfig


def alibi_slopes(n_heads: int) -> list[float]:
    """ALiBi head slopes (Press et al. 2022): a geometric series, interleaved when heads are not a power of 2."""
    def pow2(n):
        start = 2.0 ** (-8.0 / n)
        return [start ** (i + 1) for i in range(n)]

    if math.log2(n_heads).is_integer():
        return pow2(n_heads)
    lower = 2 ** math.floor(math.log2(n_heads))
    return pow2(lower) + alibi_slopes(2 * lower)[0::2][:n_heads - lower]


class Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size, padding_idx=cfg.pad_token_id)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids):
        return self.dropout(self.LayerNorm(self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)))


class UnpadSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.num_attention_heads = cfg.num_attention_heads
        self.attention_head_size = cfg.hidden_size // cfg.num_attention_heads
        self.Wqkv = nn.Linear(cfg.hidden_size, 3 * cfg.hidden_size)
        self.dropout = nn.Dropout(cfg.attention_probs_dropout_prob)
        self.last_probs = None

    def forward(self, h, idx, B, T, bias):
        qkv = self.Wqkv(h)                                                     # [nnz, 3 * hidden]
        full = qkv.new_zeros(B * T, qkv.shape[-1])
        full[idx] = qkv
        full = full.view(B, T, 3, self.num_attention_heads, self.attention_head_size)
        q, k, v = (full[:, :, i].transpose(1, 2) for i in range(3))           # [B, heads, T, d]
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.attention_head_size) + bias
        probs = torch.softmax(scores, dim=-1)
        self.last_probs = probs.detach()
        ctx = (self.dropout(probs) @ v).transpose(1, 2).reshape(B * T, -1)
        return ctx[idx]                                                        # [nnz, hidden]


class AttentionOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, ctx, h):
        return self.LayerNorm(self.dropout(self.dense(ctx)) + h)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self = UnpadSelfAttention(cfg)
        self.output = AttentionOutput(cfg)

    def forward(self, h, idx, B, T, bias):
        return self.output(self.self(h, idx, B, T, bias), h)


class GatedMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.intermediate_size = cfg.intermediate_size
        self.gated_layers = nn.Linear(cfg.hidden_size, 2 * cfg.intermediate_size, bias=False)
        self.wo = nn.Linear(cfg.intermediate_size, cfg.hidden_size)
        self.layernorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, h):
        g = self.gated_layers(h)
        x = nn.functional.gelu(g[:, :self.intermediate_size]) * g[:, self.intermediate_size:]
        return self.layernorm(self.wo(self.dropout(x)) + h)


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = Attention(cfg)
        self.mlp = GatedMLP(cfg)

    def forward(self, h, idx, B, T, bias):
        return self.mlp(self.attention(h, idx, B, T, bias))


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([Layer(cfg) for _ in range(cfg.num_hidden_layers)])
        self.num_attention_heads = cfg.num_attention_heads
        self.rebuild_alibi_tensor(int(cfg.alibi_starting_size))

    def rebuild_alibi_tensor(self, size, device=None):
        pos = torch.arange(size, device=device)
        dist = (pos[None, :] - pos[:, None]).abs()                             # [S, S]
        slopes = torch.tensor(alibi_slopes(self.num_attention_heads), device=device)
        self.alibi = (-slopes[:, None, None] * dist[None]).unsqueeze(0)        # [1, heads, S, S]

    def forward(self, x, mask):
        B, T, D = x.shape
        idx = mask.reshape(-1).nonzero().squeeze(1)
        h = x.reshape(B * T, D)[idx]
        if self.alibi.shape[-1] < T:
            self.rebuild_alibi_tensor(T, x.device)
        elif self.alibi.device != x.device:
            self.alibi = self.alibi.to(x.device)
        bias = self.alibi[:, :, :T, :T] + (1.0 - mask[:, None, None, :].float()) * -10000.0
        for layer in self.layer:
            h = layer(h, idx, B, T, bias.to(h.dtype))
        out = h.new_zeros(B * T, D)
        out[idx] = h
        return out.view(B, T, D)


class AlibiBertPreTrained(PreTrainedModel):
    config_class = AlibiBertConfig
    base_model_prefix = "bert"

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=self.config.initializer_range)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class AlibiBertModel(AlibiBertPreTrained):
    def __init__(self, config):
        super().__init__(config)
        self.embeddings = Embeddings(config)
        self.encoder = Encoder(config)
        self.pooler_dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, **kwargs):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        seq = self.encoder(self.embeddings(input_ids, token_type_ids), attention_mask)
        pooled = torch.tanh(self.pooler_dense(seq[:, 0]))
        return BaseModelOutputWithPooling(last_hidden_state=seq, pooler_output=pooled)


class AlibiBertForSequenceClassification(AlibiBertPreTrained):
    def __init__(self, config):
        super().__init__(config)
        self.bert = AlibiBertModel(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None, **kwargs):
        pooled = self.bert(input_ids, attention_mask, token_type_ids).pooler_output
        logits = self.classifier(self.dropout(pooled))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits, attentions=None)
