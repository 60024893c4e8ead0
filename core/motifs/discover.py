"""Motif discovery from attention: high-attention regions -> enrichment -> merged instances -> windows -> PWMs.

The pipeline follows DNABERT-viz's ``motif_analysis`` (``../shared/reference/dnabert-viz-spec.md`` §2):

1. **Regions**: per positive sequence, contiguous runs of high attention of at least ``min_len`` bases. Rules:
   ``dnabert-viz`` (score > mean and score > ``min_factor`` x min of that sequence, both strict), ``zscore``
   (score > mean + ``z`` SD; robust to zero-floored scores), ``quantile`` (score >= the ``quantile`` of that
   sequence and > its min). Each region's string is a candidate.
2. **Enrichment**: for each candidate, the number of positives ``x`` and of all sequences ``n`` that contain it;
   ``p = hypergeom.sf(x-1, N, K, n)`` with ``N`` all sequences and ``K`` positives; Benjamini-Hochberg; keep
   ``q < pval_cutoff``. All candidates are counted against all sequences in one vectorised pass per candidate
   length (rolling base-4 codes + binary search; exact, overlapping matches, optionally either strand).
3. **Merging**: candidates, shortest first, are aligned without internal gaps to the motifs kept so far; a candidate
   whose best alignment scores at least ``max(min_len-1, len(shorter)/2)`` joins that motif (its instances are
   projected onto the motif's span), otherwise it starts a new motif. Scores use Biopython 1.88's
   PairwiseAligner (match 1, mismatch 0, end gaps -1) through its exact closed form (spec §2.7).
4. **Windows** of ``window_size`` bases centred on each instance; motifs with at least ``min_n_motif`` instances
   are kept.

``parity=True`` reproduces ``motif_analysis`` exactly for ``find_motifs.py``'s defaults, quirks included: a window
that ends exactly at the sequence end is dropped, windows that do not fit are dropped (so sequences shorter than the
window never yield instances), forward strand only, motif named by its key (the shortest candidate of the group).

Default mode (``parity=False``) differs: windows that reach past a sequence end are kept and padded with ``N``
(never counted in the PWM), so no instance is lost at the ends and short sequences work; candidates are counted and
merged on both strands (an instance aligned through its reverse complement gets strand ``-`` and its window is
reverse-complemented); motifs are named by the consensus of their PWM's informative core.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence as SeqType
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import InputError
from .merge import consolidate, merge_candidates, window_instances
from .params import MotifParams
from .pwm import consensus, count_matrix, informative_core, probability_matrix
from .regions import collect_candidates
from .stats import enrichment_columns

# A motif has LOW SUPPORT when it rests on fewer than MIN_SUPPORT instances, or on fewer than MIN_SUPPORT distinct
# sequences, or when its matrix has no information-rich core: fewer than MIN_RICH_COLUMNS columns of at least
# RICH_BITS bits. (With 3 windows every column reaches ~0.5-1 bit by chance, so a 24-letter "core" means nothing.)
MIN_SUPPORT = 5
MIN_RICH_COLUMNS = 3
RICH_BITS = 1.0
SUPPORT_RULE = (
    f"low support: fewer than {MIN_SUPPORT} instances, or fewer than {MIN_SUPPORT} distinct sequences, or fewer "
    f"than {MIN_RICH_COLUMNS} positions of at least {RICH_BITS:g} bit (no information-rich core)"
)


INSTANCE_COLUMNS = ["seq_index", "sequence_id", "start", "end", "strand", "core_start", "core_end", "window"]
CANDIDATE_COLUMNS = ["candidate", "x", "n", "N", "K", "p", "q", "passed"]


def _columns(table) -> dict:
    """Plain ``{column: list}`` from a DataFrame (or such a dict already): discovery itself never needs pandas."""
    if isinstance(table, dict):
        return table
    return {c: table[c].tolist() for c in table.columns}


def _frame(columns: dict, names: list[str]):
    import pandas as pd  # only where a DataFrame is asked for (the dashboard, tests): the CLI path never imports it

    return pd.DataFrame({c: columns[c] for c in names if c in columns}, columns=names)


@dataclass
class Motif:
    name: str
    key: str  # DNABERT-viz's motif key: the shortest candidate of the group
    consensus: str  # of the whole window (lower case where no base reaches 0.5)
    instance_columns: dict  # INSTANCE_COLUMNS -> lists (a DataFrame given here is converted)
    counts: np.ndarray  # [W, 4] (A, C, G, T)
    p: float  # enrichment of the key
    q: float

    def __post_init__(self):
        self.instance_columns = _columns(self.instance_columns)

    @cached_property
    def instances(self):
        """The instances as a DataFrame (columns :data:`INSTANCE_COLUMNS`)."""
        return _frame(self.instance_columns, INSTANCE_COLUMNS)

    @property
    def core_consensus(self) -> str:
        """The consensus of the informative core only (low-information flanks trimmed): what tables display."""
        a, b = self.core
        return self.consensus[a:b]

    @property
    def support_issue(self) -> str | None:
        """Why the motif has low support (see :data:`SUPPORT_RULE`), or None."""
        from .pwm import information_matrix

        rich = int((information_matrix(self.ppm).sum(axis=1) >= RICH_BITS).sum())
        issues = []
        if self.n_instances < MIN_SUPPORT:
            issues.append(f"{self.n_instances} instances")
        if self.n_sequences < MIN_SUPPORT:
            issues.append(f"{self.n_sequences} sequences")
        if rich < MIN_RICH_COLUMNS:
            issues.append(f"{rich} positions of >= {RICH_BITS:g} bit")
        return ", ".join(issues) or None

    @property
    def low_support(self) -> bool:
        return self.support_issue is not None

    @property
    def n_instances(self) -> int:
        return len(self.instance_columns.get("seq_index", []))

    @property
    def n_sequences(self) -> int:
        return len(set(self.instance_columns.get("seq_index", [])))

    @property
    def ppm(self) -> np.ndarray:
        return probability_matrix(self.counts)

    @property
    def core(self) -> tuple[int, int]:
        return informative_core(self.ppm)


TABLE_COLUMNS = [
    "name",
    "consensus",
    "low_support",
    "support_issue",
    "key",
    "instances",
    "sequences",
    "width",
    "p",
    "q",
]


@dataclass
class MotifResult:
    motifs: list[Motif]
    stages: dict
    params: MotifParams
    candidate_columns: dict = field(default_factory=dict)  # CANDIDATE_COLUMNS: every tested candidate
    background: str = ""
    explanation: str = ""

    def __post_init__(self):
        self.candidate_columns = _columns(self.candidate_columns)

    @property
    def candidates(self):
        """Every tested candidate with x, n, N, K, p, q and whether it passed, as a DataFrame."""
        return _frame(self.candidate_columns, CANDIDATE_COLUMNS)

    def table_rows(self) -> list[dict]:
        """One row per motif, in discovery order: ``consensus`` is the informative core's (flanks trimmed),
        ``low_support``/``support_issue`` follow :data:`SUPPORT_RULE`."""
        return [
            {
                "name": m.name,
                "consensus": m.core_consensus,
                "low_support": m.low_support,
                "support_issue": m.support_issue or "",
                "key": m.key,
                "instances": m.n_instances,
                "sequences": m.n_sequences,
                "width": m.counts.shape[0],
                "p": m.p,
                "q": m.q,
            }
            for m in self.motifs
        ]

    def table(self):
        """:meth:`table_rows` as a DataFrame (columns :data:`TABLE_COLUMNS`)."""
        return _frame({c: [r[c] for r in self.table_rows()] for c in TABLE_COLUMNS}, TABLE_COLUMNS)

    def instance_columns(self) -> dict:
        """Every motif's instances, motif by motif: ``{column: list}`` in ``instances.csv``'s column order."""
        names = ["motif", "sequence_id", "seq_index", "start", "end", "strand", "core_start", "core_end", "window"]
        out = {c: [] for c in names}
        for m in self.motifs:
            out["motif"] += [m.name] * m.n_instances
            for c in names[1:]:
                out[c] += list(m.instance_columns[c])
        return out

    def instances(self):
        """:meth:`instance_columns` as a DataFrame."""
        cols = self.instance_columns()
        return _frame(cols, list(cols))


def _explain(stages: dict, params: MotifParams) -> str:
    if stages["regions"] == 0:
        return (
            "no high-attention region was found in any positive sequence: with the "
            f"'{params.region_rule}' rule no run of at least {params.min_len} bases passed the threshold "
            "(flat or zero-floored scores?); try region_rule='zscore' or 'quantile', or a smaller min_len"
        )
    if stages["passing_fdr"] == 0:
        return (
            f"{stages['tested']} candidate strings were tested but none is enriched in the positives at "
            f"q < {params.pval_cutoff}; more sequences, a looser cutoff or a different background may help"
        )
    if stages["kept"] == 0:
        return (
            f"{stages['merged']} motifs were formed but none has at least {params.min_n_motif} instances "
            "inside full windows" + (" (parity mode drops windows that touch a sequence end)" if params.parity else "")
        )
    return ""


def _motif_name(key: str, ppm: np.ndarray, params: MotifParams, used: dict[str, int]) -> str:
    """Parity: the key; default mode: the consensus of the informative core, numbered when repeated."""
    if params.parity:
        return key
    a, b = informative_core(ppm)
    name = (consensus(ppm[a:b]).upper() if b > a else key) or key
    used[name] = used.get(name, 0) + 1
    return name if used[name] == 1 else f"{name}_{used[name]}"


def _build_motifs(groups, pos_seqs, pos_ids, stats: dict, params: MotifParams) -> list[Motif]:
    """Windows, counts and names of every group with at least ``min_n_motif`` instances."""
    motifs: list[Motif] = []
    used: dict[str, int] = {}
    for g in groups:
        wins = window_instances(g, pos_seqs, params.window_size, params.parity)
        if len(wins) < params.min_n_motif:
            continue
        counts = count_matrix([w[4] for w in wins])
        ppm = probability_matrix(counts)
        inst = {
            "seq_index": [w[0] for w in wins],
            "sequence_id": [pos_ids[w[0]] for w in wins],
            "start": [w[1] for w in wins],
            "end": [w[2] for w in wins],
            "strand": [w[3] for w in wins],
            "core_start": [w[5][0] for w in wins],
            "core_end": [w[5][1] for w in wins],
            "window": [w[4] for w in wins],
        }
        key = g.source or g.key
        row = stats["row"][key]
        motifs.append(
            Motif(
                name=_motif_name(g.key, ppm, params, used),
                key=key,
                consensus=consensus(ppm),
                instance_columns=inst,
                counts=counts,
                p=float(stats["p"][row]),
                q=float(stats["q"][row]),
            )
        )
    return motifs


def discover_motifs(
    pos_seqs: SeqType[str],
    pos_scores: SeqType[np.ndarray],
    neg_seqs: SeqType[str],
    params: MotifParams = MotifParams(),
    pos_ids: SeqType[str] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> MotifResult:
    """Motifs the model attends to in ``pos_seqs`` (strings) given per-nucleotide ``pos_scores`` and background
    ``neg_seqs``. ``progress(stage, fraction)`` is called as stages finish."""
    pos_seqs = [s.upper() for s in pos_seqs]
    neg_seqs = [s.upper() for s in neg_seqs]
    pos_ids = list(pos_ids) if pos_ids is not None else [f"pos_{i}" for i in range(len(pos_seqs))]
    _validate(pos_seqs, pos_scores, neg_seqs, params.parity)
    step = progress or (lambda stage, frac: None)
    cands, n_regions = collect_candidates(pos_seqs, pos_scores, params)
    step("regions", 0.25)
    names = list(cands)
    enr = enrichment_columns(pos_seqs, neg_seqs, names, both_strands=params.both_strands)
    enr["passed"] = enr["q"] < params.pval_cutoff
    step("enrichment", 0.5)
    passed = {c: cands[c] for c, ok in zip(names, enr["passed"]) if ok}
    groups = merge_candidates(
        passed, params.min_len, params.end_gap_score, both_strands=params.both_strands and not params.parity
    )
    n_merged = len(groups)
    if not params.parity and groups:
        groups = consolidate(groups, pos_seqs, params)
    step("merge", 0.75)
    lookup = {"row": {c: i for i, c in enumerate(names)}, "p": enr["p"], "q": enr["q"]}
    motifs = _build_motifs(groups, pos_seqs, pos_ids, lookup, params)
    step("windows", 1.0)
    stages = {
        "positives": len(pos_seqs),
        "negatives": len(neg_seqs),
        "regions": n_regions,
        "candidates": len(cands),
        "tested": len(names),
        "passing_fdr": len(passed),
        "merged": n_merged,
        "consolidated": len(groups),
        "kept": len(motifs),
    }
    return MotifResult(motifs, stages, params, enr, explanation=_explain(stages, params))


def _validate(pos_seqs, pos_scores, neg_seqs, parity: bool = False):
    """Parity mode takes score rows as ``find_motifs.py`` does: ``score[0:len(seq)]``, so a row shorter than its
    sequence (DNABERT-viz's width T) covers only the first T bases; the default mode needs a score for every base."""
    if len(pos_seqs) == 0:
        raise InputError("no positive sequences")
    if pos_scores is None or len(pos_scores) != len(pos_seqs):
        raise InputError(
            f"{len(pos_seqs)} positive sequences but "
            f"{0 if pos_scores is None else len(pos_scores)} score rows; every positive needs its "
            "per-nucleotide scores, in the same order"
        )
    if len(neg_seqs) == 0:
        raise InputError("no background sequences: give negatives, or use shuffled positives as background")
    for i, (s, sc) in enumerate(zip(pos_seqs, pos_scores)):
        sc = np.asarray(sc)
        if sc.ndim != 1 or len(sc) == 0 or (len(sc) < len(s) and not parity):
            raise InputError(
                f"positive {i + 1} has {len(s)} bases but {sc.shape[-1] if sc.ndim else 0} scores; "
                "the scores must cover the sequence (longer rows are cut, as DNABERT-viz does; with --parity "
                "dnabert-viz a shorter row covers the first bases, as find_motifs.py reads it)"
            )
        if not np.isfinite(sc[: len(s)]).all():
            raise InputError(f"positive {i + 1} has missing (NaN) scores within its first {min(len(s), len(sc))} bases")
    if all(set(s) <= {"N"} for s in pos_seqs):
        raise InputError("every positive sequence is all N: there is nothing to find")
