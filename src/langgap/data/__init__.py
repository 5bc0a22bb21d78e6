"""Data: validated readers for bitext, multi-way, STS and mining files, and the built-in sample."""

from langgap.data.corpora import Bitext, MiningSet, MultiWay, Sample, STSSet
from langgap.data.readers import read_bitext, read_mining, read_multiway, read_sts
from langgap.data.sample import load_sample

__all__ = [
    "Bitext",
    "MiningSet",
    "MultiWay",
    "STSSet",
    "Sample",
    "read_bitext",
    "read_mining",
    "read_multiway",
    "read_sts",
    "load_sample",
]
