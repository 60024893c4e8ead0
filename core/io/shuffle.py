"""Sequence shuffles that keep composition: the Altschul–Erikson dinucleotide shuffle, shared by motif backgrounds
(:mod:`core.motifs.background`) and the shuffled references of attribution lenses (:mod:`core.lenses.attribution`)."""

from __future__ import annotations

import random
from collections import defaultdict


def dinucleotide_shuffle(seq: str, rng: random.Random) -> str:
    """A random sequence with exactly the dinucleotide counts (and first and last base) of ``seq``
    (Altschul & Erikson 1985: a random Eulerian path whose last exits form a spanning arborescence)."""
    if len(seq) <= 2:
        return seq
    edges: dict[str, list[str]] = defaultdict(list)
    for a, b in zip(seq, seq[1:]):
        edges[a].append(b)
    last = seq[-1]
    verts = list(edges)
    while True:
        last_edge = {v: rng.choice(edges[v]) for v in verts if v != last}
        ok = True
        for v in verts:  # every vertex must reach `last` through last edges
            seen, u = set(), v
            while u != last:
                if u in seen or u not in last_edge:
                    ok = False
                    break
                seen.add(u)
                u = last_edge[u]
            if not ok:
                break
        if ok:
            break
    order = {}
    for v in verts:
        lst = list(edges[v])
        if v != last:
            lst.remove(last_edge[v])
            rng.shuffle(lst)
            lst.append(last_edge[v])
        else:
            rng.shuffle(lst)
        order[v] = lst
    out = [seq[0]]
    ptr = {v: 0 for v in verts}
    u = seq[0]
    for _ in range(len(seq) - 1):
        nxt = order[u][ptr[u]]
        ptr[u] += 1
        out.append(nxt)
        u = nxt
    return "".join(out)
