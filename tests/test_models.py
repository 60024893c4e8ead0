import json

import numpy as np
import pytest
from checkpoints import make_dnabert_checkpoint

from core.errors import InputError, ModelError
from core.io.sequences import Sequence
from core.model.loading import detect_family, load_model
from core.model.tokenization import dnabert_vocab, kmer_text


def test_dnabert6_pretrained_layout_loads_without_classifier(tmp_path):
    """DNABERT-6's exact layout (BertForMaskedLM, vocab.txt, tokenizer_config do_lower_case false) loads through
    the public loader; attention works and predictions are absent with a clear message."""
    from core.lenses.attention import Attention, nucleotide_scores
    from core.model import inference

    path = make_dnabert_checkpoint(tmp_path / "DNA_bert_6", k=6, classifier=False)
    cfg = json.loads((path / "config.json").read_text())
    assert cfg["architectures"] == ["BertForMaskedLM"] and cfg["vocab_size"] == 4101
    assert json.loads((path / "tokenizer_config.json").read_text())["do_lower_case"] is False
    lm = load_model(str(path), device="cpu")
    assert (lm.family, lm.k, lm.has_classifier, lm.max_tokens) == ("kmer", 6, False, 512)
    assert lm.attention_path == "qk-hooks" and lm.model.config._attn_implementation == "sdpa"
    assert lm.is_masked_lm  # BertForMaskedLM: the masked-LM lens works
    assert lm.card()["labels"] is None
    seq = Sequence("s", "ACGTAGCTAGCTAGGATCGATCGATTTACGACG")
    rec = next(inference.run(lm, [seq]))
    assert rec.probs is None
    tr = nucleotide_scores(rec, Attention(), k=6)
    assert tr.shape == (len(seq.seq),) and np.isclose(np.linalg.norm(tr), 1)
    with pytest.raises(InputError, match="no classification head"):
        list(inference.predict(lm, [seq]))


@pytest.mark.parametrize("k", [3, 4, 5])
def test_kmer_sizes_and_hf_tokenizer_agree(tmp_path, k):
    path = make_dnabert_checkpoint(tmp_path / f"k{k}", k=k, layers=1, hidden=16, heads=2)
    lm = load_model(str(path), device="cpu")
    assert lm.k == k and lm.has_classifier and lm.num_labels == 2
    seq = "ACGTNACGTTTGACCA"
    assert lm.tokenizer.encode(seq).ids.tolist() == lm.hf_tokenizer(kmer_text(seq, k))["input_ids"]
    # do_lower_case is off: upper-case k-mers are real tokens, not [UNK]
    assert lm.hf_tokenizer("ACG" * 1 if k == 3 else "A" * k)["input_ids"][1] != 1


def test_kmer_override_must_match_vocab(tmp_path):
    path = make_dnabert_checkpoint(tmp_path / "k6", k=6, layers=1, hidden=16, heads=2)
    with pytest.raises(ModelError, match="--kmer 4 does not match the model's vocabulary, which holds 6-mers"):
        load_model(str(path), kmer=4)


def test_missing_and_broken_folders(tmp_path):
    with pytest.raises(ModelError, match="model folder '.*nothing' not found"):
        load_model(str(tmp_path / "nothing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="has no config.json"):
        load_model(str(tmp_path / "empty"))


def test_hub_id_not_cached_names_id_and_remedy(tmp_path):
    with pytest.raises(ModelError) as e:
        load_model("zhihan1996/DNA_bert_6", cache_dir=str(tmp_path))
    msg = str(e.value)
    assert "zhihan1996/DNA_bert_6" in msg and "not in the local Hugging Face cache" in msg
    assert "huggingface-cli download zhihan1996/DNA_bert_6" in msg


def test_hub_id_resolves_from_local_cache(tmp_path):
    """A hub id found in a (locally built) Hugging Face cache loads with no network."""
    snap = tmp_path / "models--someone--DNA_bert_3" / "snapshots" / ("a" * 40)
    make_dnabert_checkpoint(snap, k=3, layers=1, hidden=16, heads=2)
    refs = tmp_path / "models--someone--DNA_bert_3" / "refs"
    refs.mkdir(parents=True)
    (refs / "main").write_text("a" * 40)
    lm = load_model("someone/DNA_bert_3", cache_dir=str(tmp_path))
    assert lm.name == "someone/DNA_bert_3" and lm.k == 3


def test_remote_code_needs_opt_in(tmp_path):
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "model_type": "mybert_x",
                "architectures": ["MyModel"],
                "auto_map": {"AutoConfig": "configuration_x.XConfig", "AutoModel": "modeling_x.XModel"},
            }
        )
    )
    with pytest.raises(ModelError, match="needs custom code.*--trust-remote-code"):
        load_model(str(tmp_path))


def test_dtype_option(tmp_path):
    import torch

    path = make_dnabert_checkpoint(tmp_path / "m", k=6, layers=1, hidden=16, heads=2)
    lm = load_model(str(path), dtype="bfloat16")
    assert next(lm.model.parameters()).dtype == torch.bfloat16
    with pytest.raises(ModelError, match="unknown dtype"):
        load_model(str(path), dtype="float8")
    with pytest.raises(ModelError):
        load_model(str(path), device="tpu")


def test_detect_family():
    assert detect_family({t: i for i, t in enumerate(dnabert_vocab(5))}) == ("kmer", 5)
    bpe = {"[CLS]": 0, "A": 1, "ACG": 2, "TTAGC": 3}
    assert detect_family(bpe)[0] == "bpe"


def test_demo_model_card(demo_model):
    card = demo_model.card()
    assert card["family"] == "kmer" and card["k"] == 6 and card["labels"] == ["negative", "positive"]
    assert card["vocab_size"] == 4101 and card["metrics"]["accuracy"] > 0.8


def test_known_models_lists_demo_and_added_folders(tmp_path):
    from core.model.loading import known_models

    path = make_dnabert_checkpoint(tmp_path / "ft", k=5, layers=1, hidden=16, heads=2)
    cards = known_models([str(path), str(tmp_path / "nope")])
    by = {c["name"]: c for c in cards}
    assert by["demo"]["accuracy"] is not None and by["demo"]["k"] == 6 and by["demo"]["labels"]
    assert by[str(path)]["k"] == 5 and str(tmp_path / "nope") not in by


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path):
    """A config that promises a classifier over pre-trained-only weights: the head would be random noise."""
    path = make_dnabert_checkpoint(tmp_path / "mlm", k=3, classifier=False, layers=1, hidden=16, heads=2)
    assert not load_model(str(path)).has_classifier  # as saved: fine, no predictions
    conf = json.loads((path / "config.json").read_text())
    conf["architectures"] = ["BertForSequenceClassification"]
    (path / "config.json").write_text(json.dumps(conf))
    with pytest.raises(ModelError, match=r"missing from the checkpoint \(e.g. (bert.pooler|classifier)"):
        load_model(str(path))
