"""The convolution code's classic bugs: each one planted, each one caught by the probe."""

from __future__ import annotations

import json

import pytest

from backprop_book import conv
from backprop_book import conv_mutants as CM
from backprop_book import mutants as M
from bookkit.paths import ROOT


def test_the_unmutated_code_passes_the_probe():
    assert CM.probe() == []


@pytest.mark.parametrize("mutant", CM.CONV_MUTANTS, ids=lambda m: m.name)
def test_every_conv_mutant_is_caught(mutant):
    said = CM.caught_by(mutant)
    assert said, f"{mutant.name} ({mutant.bug}) survived"
    assert conv._conv2d_input_grad is CM._orig["_conv2d_input_grad"], "restored"


def test_a_harmless_patch_survives():
    same = CM.ConvMutant("harmless", "no bug", {"_maxpool2d_backward": conv._maxpool2d_backward})
    assert CM.caught_by(same) == []


CHAPTER = [m for m in M.NOTEBOOK_MUTANTS if m.notebook == "book/convolution.ipynb"]


def test_the_chapter_hook_passes_unmutated():
    assert len(CHAPTER) >= 3
    assert M.control_run("book/convolution.ipynb", ROOT) is None


@pytest.mark.parametrize("mutant", CHAPTER, ids=lambda m: m.name)
def test_the_chapters_network_bugs_are_caught(mutant):
    outcome = M.run_notebook_mutant(mutant, ROOT)
    assert outcome.caught, json.dumps(outcome.__dict__)
    assert "conv-net-check" in outcome.caught_by or "proves" in outcome.caught_by
