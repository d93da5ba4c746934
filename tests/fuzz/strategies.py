"""Shared hypothesis strategies: JSON values and mutations of valid documents."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
Path = tuple[Any, ...]


def paths(doc: Any, prefix: Path = ()) -> list[Path]:
    """Every path to a value inside ``doc`` (dict keys and list indexes)."""
    out: list[Path] = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            out += paths(value, (*prefix, index))
    return out


@st.composite
def mutated(draw: st.DrawFn, doc: Any, max_mutations: int = 3) -> Any:
    """``doc`` with up to ``max_mutations`` values deleted, nulled, replaced or extended."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(min_value=1, max_value=max_mutations))):
        candidates = paths(doc)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        action = draw(st.sampled_from(["delete", "null", "replace", "extra"]))
        if action == "delete":
            del parent[key]
        elif action == "null":
            parent[key] = None
        elif action == "replace":
            parent[key] = draw(json_values)
        elif isinstance(parent[key], dict):
            parent[key][draw(st.text(min_size=1, max_size=8))] = draw(json_values)
        elif isinstance(parent[key], list):
            parent[key].append(draw(json_values))
        else:
            parent[key] = draw(json_values)
    return doc
