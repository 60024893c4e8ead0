"""Tiny checkpoints in real on-disk layouts, built locally (model hubs are unreachable on our machines)."""
from __future__ import annotations

import json
from pathlib import Path

from core.tokenization import dnabert_vocab


def make_dnabert_checkpoint(path, k: int = 6, classifier: bool = True, layers: int = 2, hidden: int = 32,
                            heads: int = 4, max_pos: int = 512, num_labels: int = 2, seed: int = 0) -> Path:
    """A randomly initialised BERT in DNABERT's layout: config.json, model.safetensors, vocab.txt (with the 6-mer
    file's trailing empty line), tokenizer_config.json with do_lower_case false, special_tokens_map.json."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=4 ** k + 5, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                     intermediate_size=hidden * 4, max_position_embeddings=max_pos, num_labels=num_labels,
                     architectures=["BertForSequenceClassification" if classifier else "BertForMaskedLM"])
    model = (BertForSequenceClassification if classifier else BertForMaskedLM)(cfg)
    model.save_pretrained(path, safe_serialization=True)
    (path / "vocab.txt").write_text("\n".join(dnabert_vocab(k)) + "\n" + ("\n" if k == 6 else ""))
    (path / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False, "max_len": max_pos}))
    (path / "special_tokens_map.json").write_text(json.dumps(
        {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
         "mask_token": "[MASK]"}))
    return path
