"""Ember methods of the evaluation, defined in ONE place.

A variant is a name plus the extra options it adds to ``ember train`` and to ``ember sample``.
Variants that share their training options share one trained model per split (so
``ember`` and ``ember-langevin`` train once). Edit :data:`VARIANTS` to change a variant;
:data:`DEFAULT` is the set a run uses unless ``--methods`` names others; add ad-hoc ones on the
command line with ``--ember-variant NAME='TRAIN ARGS|SAMPLE ARGS'`` (repeatable).
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """An Ember method: extra ``ember train`` args and extra ``ember sample`` args."""
    name: str
    train: tuple[str, ...] = ()
    sample: tuple[str, ...] = ()
    note: str = ""
    #: Also evaluate this variant's model on the tasks that do not sample (ll, ood, classify).
    #: Off for variants whose training differs only in what is stored for sampling.
    scores: bool = True

    @property
    def spec(self) -> str:
        return f"{shlex.join(self.train)}|{shlex.join(self.sample)}"


#: Every known variant; a run picks the ones named in ``--methods`` (default :data:`DEFAULT`).
VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("ember", note="the model file's defaults: no stored training rows, chains from the fitted energy"),
    # The opt-in: the file stores the training rows and synthesis starts SMOTE-style between them.
    Variant("ember-rows", train=("--keep-starting-rows",), note="trained with --keep-starting-rows", scores=False),
    Variant("ember-tabebm", sample=("--sampler", "tabebm"), note="sampled with --sampler tabebm"),
    Variant("ember-langevin", sample=("--sampler", "langevin"), note="sampled with --sampler langevin"),
    Variant("ember-mala", sample=("--sampler", "mala"), note="sampled with --sampler mala"),
)}

DEFAULT = ("ember", "ember-rows")

#: Options every `ember train` of the harness gets (tiny classes of N_real = 20 must train).
COMMON_TRAIN_ARGS = ("--min-class-rows", "1")


def parse_variant(text: str) -> Variant:
    """``NAME=TRAIN ARGS|SAMPLE ARGS`` (either side may be empty; no ``|`` = train args only)."""
    if "=" not in text:
        raise ValueError(f"--ember-variant {text!r}: expected NAME='TRAIN ARGS|SAMPLE ARGS'")
    name, spec = text.split("=", 1)
    name = name.strip()
    if not name.startswith("ember"):
        raise ValueError(f"--ember-variant {name!r}: Ember variant names start with 'ember'")
    train, _, sample = spec.partition("|")
    t, s = tuple(shlex.split(train)), tuple(shlex.split(sample))
    return Variant(name, t, s, note=f"--ember-variant {spec}", scores=bool(t))


def is_ember(method: str) -> bool:
    return method.startswith("ember")
