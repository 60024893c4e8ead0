"""Zero-shot variant effects from a masked language model: no classifier, only the model's own base probabilities.

For a substitution ``ref > alt`` at base ``i`` of a sequence::

    llr = log P(x_i = alt) - log P(x_i = ref)        (natural log)

where ``P(x_i = ·)`` is the masked-LM lens's distribution at ``i`` read on the **reference** sequence (every token
covering ``i`` masked, :func:`core.lenses.mlm.base_probabilities`). ``llr < 0``: the model finds the alternative
base less likely than the reference in this context (a motif-breaking change scores strongly negative).

* Multi-base substitutions (``AC > GT``): the sum of the per-base llr, each base masked alone with the reference
  context elsewhere (the "masked marginal" score, additive over the substituted bases); the note says so.
* Insertions and deletions: ``llr`` is NaN with the reason in ``llr_note``: a masked LM gives a distribution over
  the four bases at an existing position, which has no counterpart for bases added or removed.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence as SeqType

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.sequences import Sequence
from ..lenses.mlm import BASES, base_probabilities

INDEL_NOTE = "indel: a masked LM scores bases at existing positions; no likelihood ratio for added/removed bases"
LEGEND = (
    "Zero-shot (masked LM) columns: mlm_p_ref / mlm_p_alt = the masked LM's probability of the reference / "
    "alternative base at the variant, with every token covering that base masked, on the reference sequence; "
    "llr = log P(alt) - log P(ref) (natural log; < 0: the model finds the alternative less likely in this "
    "context); multi-base substitutions sum the per-base llr (masked marginals); insertions and deletions have "
    "no llr (llr_note says why). mlm_model names the masked LM.\n"
)


def _row(v, probs: np.ndarray | None) -> dict:
    row = {
        "seq_id": v.seq_id,
        "position": v.offset,
        "pos": v.offset + 1,
        "genomic": v.genomic or None,
        "variant_id": v.label or None,
        "kind": v.kind,
        "ref": v.ref or "-",
        "alt": v.alt or "-",
        "mlm_p_ref": np.nan,
        "mlm_p_alt": np.nan,
        "llr": np.nan,
        "llr_note": "",
        "line": v.source_line,
    }
    if len(v.ref) != len(v.alt) or not v.ref:
        row["llr_note"] = INDEL_NOTE
        return row
    at = np.arange(v.offset, v.offset + len(v.ref))
    p_ref = probs[at, [BASES.index(b) for b in v.ref]]
    p_alt = probs[at, [BASES.index(b) for b in v.alt]]
    with np.errstate(divide="ignore"):
        per_base = np.log(p_alt) - np.log(p_ref)
    changed = np.array([a != b for a, b in zip(v.ref, v.alt)])
    row["llr"] = float(per_base[changed].sum())
    if len(v.ref) == 1:
        row["mlm_p_ref"], row["mlm_p_alt"] = float(p_ref[0]), float(p_alt[0])
    else:
        row["llr_note"] = f"sum over {int(changed.sum())} substituted bases (masked marginals)"
    if np.isnan(row["llr"]):
        row["llr_note"] = "no usable token covers the base (an N nearby)"
    return row


def zero_shot_scores(
    lm,
    seqs: SeqType[Sequence],
    variants: SeqType,
    *,
    batch_size: int = 128,
    orientation: str = "forward",
    combine: str = "mean",
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """One row per variant (input order): seq_id, position (0-based), pos (1-based), genomic, variant_id, kind,
    ref, alt, mlm_p_ref, mlm_p_alt, llr, llr_note, line. Only the variant positions are masked (one masked copy
    per substituted base, batched per sequence)."""
    if not getattr(lm, "is_masked_lm", False):
        raise InputError(
            f"zero-shot scores need a masked-language-model head, and model '{lm.name}' has none; use a "
            "pre-trained (BertForMaskedLM) checkpoint such as the demo MLM (demo-mlm)"
        )
    by_id = {s.id: s for s in seqs}
    wanted: dict[str, set[int]] = {}
    for v in variants:
        if len(v.ref) == len(v.alt) and v.ref:
            wanted.setdefault(v.seq_id, set()).update(range(v.offset, v.offset + len(v.ref)))
    probs = {}
    for n, (sid, pos) in enumerate(wanted.items(), start=1):
        probs[sid] = base_probabilities(
            lm,
            by_id[sid].seq,
            sorted(pos),
            batch_size=batch_size,
            orientation=orientation,
            combine=combine,
        )
        if progress:
            progress(n)
    df = pd.DataFrame([_row(v, probs.get(v.seq_id)) for v in variants])
    df["mlm_model"] = lm.name
    return df
