import itertools

import numpy as np
import pytest

from core.errors import InputError
from core.model.tokenization import (
    KmerTokenizer,
    NonOverlappingTokenizer,
    OffsetsTokenizer,
    dnabert_vocab,
    kmer_text,
    plan_windows,
    seq_to_kmers,
    spread_to_nucleotides,
    stitch_windows,
)


def test_vocab_order_matches_dnabert():
    v = dnabert_vocab(3)
    assert v[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert v[5:9] == ["AAA", "AAT", "AAC", "AAG"] and v[9] == "ATA"
    assert len(dnabert_vocab(6)) == 4101
    assert v[5:] == ["".join(p) for p in itertools.product("ATCG", repeat=3)]


def test_seq_to_kmers():
    assert seq_to_kmers("ACGTAC", 3) == ["ACG", "CGT", "GTA", "TAC"]
    assert kmer_text("acgta", 4) == "ACGT CGTA"


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_ids_equal_hf_bert_tokenizer_on_kmer_text(tmp_path, k):
    """Our vectorised encoder gives exactly the ids DNABERT's tokenizer gives for the space-separated k-mers."""
    from transformers import BertTokenizer

    (tmp_path / "vocab.txt").write_text("\n".join(dnabert_vocab(k)) + "\n")
    hf = BertTokenizer.from_pretrained(str(tmp_path), do_lower_case=False)
    rng = np.random.default_rng(k)
    seq = "".join(rng.choice(list("ACGT"), 40)) + "N" + "".join(rng.choice(list("ACGT"), 10))
    ours = KmerTokenizer(hf.get_vocab(), k).encode(seq)
    theirs = hf(kmer_text(seq, k))["input_ids"]
    assert ours.ids.tolist() == theirs
    assert ours.ids[0] == 2 and ours.ids[-1] == 3
    assert (ours.ids == 1).sum() == k  # every k-mer containing the N is [UNK]


def test_spans_dnabert():
    enc = KmerTokenizer.dnabert(3).encode("ACGTA")
    assert enc.spans.tolist() == [[-1, -1], [0, 3], [1, 4], [2, 5], [-1, -1]]


def test_stride_spans_and_too_short():
    tok = KmerTokenizer.dnabert(6)
    tok3 = KmerTokenizer(tok.vocab, 6, stride=3)
    enc = tok3.encode("A" * 15)
    assert enc.spans[1:-1].tolist() == [[0, 6], [3, 9], [6, 12], [9, 15]]
    with pytest.raises(InputError, match="shorter than the k-mer size 6"):
        tok.encode("ACGTA")


def test_window_nt():
    assert KmerTokenizer.dnabert(6, max_tokens=512).window_nt() == 515  # 510 k-mers
    assert KmerTokenizer.dnabert(3, max_tokens=512).window_nt() == 512


def test_nonoverlapping_six_mers_with_single_base_fallback():
    vocab = {"<unk>": 0, "<pad>": 1, "<mask>": 2, "<cls>": 3}
    for p in itertools.product("ACGT", repeat=6):
        vocab["".join(p)] = len(vocab)
    for b in "ACGTN":
        vocab[b] = len(vocab)
    tok = NonOverlappingTokenizer(vocab)
    enc = tok.encode("AAAAAACCNCCCGGGGGGTA")
    spans = enc.spans.tolist()
    assert spans[0] == [-1, -1]
    assert spans[1] == [0, 6]  # AAAAAA
    assert spans[2:8] == [[i, i + 1] for i in range(6, 12)]  # CCNCCC has an N: single bases
    assert spans[8] == [12, 18]  # GGGGGG
    assert spans[9:] == [[18, 19], [19, 20]]  # trailing remainder
    # every base covered exactly once
    cover = np.zeros(20, int)
    for s, e in spans[1:]:
        cover[s:e] += 1
    assert (cover == 1).all()


def test_bpe_offsets_cover_every_base():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE(unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=60, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    rng = np.random.default_rng(0)
    tk.train_from_iterator(["".join(rng.choice(list("ACGT"), 200)) for _ in range(50)], trainer)
    tk.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", tk.token_to_id("[CLS]")), ("[SEP]", tk.token_to_id("[SEP]"))]
    )
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tk, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]"
    )
    seq = "".join(rng.choice(list("ACGT"), 80))
    enc = OffsetsTokenizer(hf).encode(seq)
    real = enc.spans[:, 0] >= 0
    assert not real[0] and not real[-1]
    assert "".join(seq[s:e] for s, e in enc.spans[real]) == seq  # contiguous, in order, whole sequence


def test_spread_mean_over_covering_kmers():
    # k = 3, L = 5: tokens [CLS] t0 t1 t2 [SEP]
    spans = KmerTokenizer.dnabert(3).encode("ACGTA").spans
    out = spread_to_nucleotides(np.array([9.0, 1.0, 2.0, 3.0, 9.0]), spans, 5)
    assert out.tolist() == [1.0, 1.5, 2.0, 2.5, 3.0]
    # batched leading dims
    out2 = spread_to_nucleotides(np.array([[9.0, 1.0, 2.0, 3.0, 9.0]] * 2), spans, 5)
    assert out2.shape == (2, 5) and out2[1].tolist() == [1.0, 1.5, 2.0, 2.5, 3.0]


def test_plan_windows():
    assert plan_windows(100, 515) == [(0, 100)]
    w = plan_windows(1000, 400, 100)
    assert w[0] == (0, 400) and w[-1] == (600, 1000)
    assert all(b - a == 400 for a, b in w)
    assert all(w[i + 1][0] < w[i][1] for i in range(len(w) - 1))  # windows overlap
    assert all(w[i][1] - w[i + 1][0] >= 100 for i in range(len(w) - 1))


def test_stitch_constant_and_crossfade():
    wins = [(0, 6), (4, 10)]
    # equal tracks stitch to the same values
    out = stitch_windows([np.full(6, 2.0), np.full(6, 2.0)], wins, 10)
    assert np.allclose(out, 2.0)
    # different levels: linear cross-fade in the 2-base overlap: weights 2/3,1/3 and 1/3,2/3
    out = stitch_windows([np.zeros(6), np.ones(6)], wins, 10)
    assert np.allclose(out, [0, 0, 0, 0, 1 / 3, 2 / 3, 1, 1, 1, 1])
