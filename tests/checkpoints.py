"""Tiny checkpoints in real on-disk layouts, built locally (model hubs are unreachable on our machines)."""

from __future__ import annotations

import json
from pathlib import Path

from core.model.tokenization import dnabert_vocab


def make_dnabert_checkpoint(
    path,
    k: int = 6,
    classifier: bool = True,
    layers: int = 2,
    hidden: int = 32,
    heads: int = 4,
    max_pos: int = 512,
    num_labels: int = 2,
    seed: int = 0,
) -> Path:
    """A randomly initialised BERT in DNABERT's layout: config.json, model.safetensors, vocab.txt (with the 6-mer
    file's trailing empty line), tokenizer_config.json with do_lower_case false, special_tokens_map.json."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=4**k + 5,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden * 4,
        max_position_embeddings=max_pos,
        num_labels=num_labels,
        architectures=["BertForSequenceClassification" if classifier else "BertForMaskedLM"],
    )
    model = (BertForSequenceClassification if classifier else BertForMaskedLM)(cfg)
    model.save_pretrained(path, safe_serialization=True)
    (path / "vocab.txt").write_text("\n".join(dnabert_vocab(k)) + "\n" + ("\n" if k == 6 else ""))
    (path / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False, "max_len": max_pos}))
    (path / "special_tokens_map.json").write_text(
        json.dumps(
            {
                "unk_token": "[UNK]",
                "sep_token": "[SEP]",
                "pad_token": "[PAD]",
                "cls_token": "[CLS]",
                "mask_token": "[MASK]",
            }
        )
    )
    return path


def make_nt_checkpoint(path, layers: int = 2, hidden: int = 32, heads: int = 4) -> Path:
    """A tiny Nucleotide-Transformer-style checkpoint: EsmForMaskedLM, EsmTokenizer vocab.txt with <unk> <pad>
    <mask> <cls> <eos> <bos>, the 4096 6-mers, then single bases (NT v1 layout, 4107 tokens), no end token."""
    import itertools

    import torch
    from transformers import EsmConfig, EsmForMaskedLM

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    vocab = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"]
    vocab += ["".join(p) for p in itertools.product("ATCG", repeat=6)] + list("ATCGN")
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    (path / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "EsmTokenizer",
                "model_max_length": 1000,
                "eos_token": None,
                "unk_token": "<unk>",
                "pad_token": "<pad>",
                "cls_token": "<cls>",
                "mask_token": "<mask>",
            }
        )
    )
    torch.manual_seed(0)
    cfg = EsmConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden * 2,
        max_position_embeddings=1002,
        pad_token_id=1,
        mask_token_id=2,
        position_embedding_type="absolute",
        architectures=["EsmForMaskedLM"],
    )
    EsmForMaskedLM(cfg).save_pretrained(path, safe_serialization=True)
    return path


def _bpe_tokenizer(path: Path, vocab_size: int):
    """DNABERT-2's tokenizer layout: a BPE model over DNA in tokenizer.json, [CLS] ... [SEP] around each text."""
    import numpy as np
    from tokenizers import Tokenizer, models, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE(unk_token="[UNK]"))
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"])
    rng = np.random.default_rng(0)
    tk.train_from_iterator(["".join(rng.choice(list("ACGT"), 300)) for _ in range(200)], trainer)
    tk.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", tk.token_to_id("[CLS]")), ("[SEP]", tk.token_to_id("[SEP]"))]
    )
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        mask_token="[MASK]",
        model_max_length=512,
    )
    hf.save_pretrained(path)
    return tk


def make_bpe_checkpoint(path, vocab_size: int = 300, layers: int = 2, hidden: int = 32, heads: int = 4) -> Path:
    """A DNABERT-2-style tokenizer (BPE over DNA in tokenizer.json, [CLS] ... [SEP]) with a plain BERT classifier."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tk = _bpe_tokenizer(path, vocab_size)
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=tk.get_vocab_size(),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden * 2,
        max_position_embeddings=512,
        pad_token_id=tk.token_to_id("[PAD]"),
        architectures=["BertForSequenceClassification"],
    )
    BertForSequenceClassification(cfg).save_pretrained(path, safe_serialization=True)
    return path


def make_alibi_checkpoint(
    path,
    vocab_size: int = 300,
    layers: int = 2,
    hidden: int = 32,
    heads: int = 4,
    alibi_size: int = 64,
    seed: int = 0,
    init_std: float = 0.3,
) -> Path:
    """A checkpoint in DNABERT-2's layout: the BPE tokenizer, config.json with ``model_type: bert`` and an
    ``auto_map`` to the model code shipped in the folder, and that code (the fixture in ``tests/remote_code``: an
    unpadded ALiBi encoder with fused Wqkv projections that returns no attention weights). ``alibi_size`` below
    the longest input makes the model grow its ALiBi table during the forward pass, as DNABERT-2 does.
    ``init_std`` is large enough that the query-key scores, not only the ALiBi bias, shape the attention."""
    import shutil

    import torch
    from remote_code.alibi_bert import AlibiBertForSequenceClassification
    from remote_code.configuration_alibibert import AlibiBertConfig

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tk = _bpe_tokenizer(path, vocab_size)
    torch.manual_seed(seed)
    cfg = AlibiBertConfig(
        vocab_size=tk.get_vocab_size(),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden * 2,
        max_position_embeddings=512,
        pad_token_id=tk.token_to_id("[PAD]"),
        alibi_starting_size=alibi_size,
        initializer_range=init_std,
        architectures=["BertForSequenceClassification"],
    )
    AlibiBertForSequenceClassification(cfg).save_pretrained(path, safe_serialization=True)
    conf = json.loads((path / "config.json").read_text())
    conf["auto_map"] = {
        "AutoConfig": "configuration_alibibert.AlibiBertConfig",
        "AutoModel": "alibi_bert.AlibiBertModel",
        "AutoModelForSequenceClassification": "alibi_bert.AlibiBertForSequenceClassification",
    }
    conf["model_type"] = "bert"
    (path / "config.json").write_text(json.dumps(conf, indent=2))
    src = Path(__file__).parent / "remote_code"
    for name in ("alibi_bert.py", "configuration_alibibert.py"):
        shutil.copy(src / name, path / name)
    return path
