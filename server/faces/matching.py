"""The decision rule of a 1:N search, pure: candidates in, a Decision out (no database, no engine, no state).

    decide(candidates, threshold, margin)          one frame
    decide_frames(per_frame, threshold, margin)    every frame must recognize the same user
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Candidate:
    user_id: int
    score: float
    template_id: int


@dataclass(frozen=True)
class Decision:
    user_id: int | None  # None = unknown
    score: float | None  # best identity's score
    runner_up: float | None  # best *other* identity's score
    threshold: float
    margin: float
    reason: str  # recognized | below_threshold | ambiguous | empty_gallery | frames_disagree
    candidates: list[Candidate] = field(default_factory=list)
    point: object | None = None  # server.faces.operating.OperatingPoint the decision was taken at

    @property
    def recognized(self) -> bool:
        return self.user_id is not None


def decide(candidates: Sequence[Candidate], threshold: float, margin: float) -> Decision:
    """Recognized only if the best identity passes the threshold AND beats the runner-up by margin."""
    cands = sorted(candidates, key=lambda c: c.score, reverse=True)
    if not cands:
        return Decision(None, None, None, threshold, margin, "empty_gallery", [])
    best = cands[0]
    runner = next((c.score for c in cands[1:] if c.user_id != best.user_id), None)
    if best.score < threshold:
        return Decision(None, best.score, runner, threshold, margin, "below_threshold", cands)
    if runner is not None and best.score - runner < margin:
        return Decision(None, best.score, runner, threshold, margin, "ambiguous", cands)
    return Decision(best.user_id, best.score, runner, threshold, margin, "recognized", cands)


def decide_frames(per_frame: Sequence[Sequence[Candidate]], threshold: float, margin: float) -> Decision:
    """Multi-frame decision: every frame must recognize the same user, else unknown."""
    decisions = [decide(c, threshold, margin) for c in per_frame]
    if not decisions:
        return Decision(None, None, None, threshold, margin, "empty_gallery", [])
    worst = min(decisions, key=lambda d: -1.0 if d.score is None else d.score)
    if not all(d.recognized for d in decisions):
        return next(d for d in decisions if not d.recognized)
    if len({d.user_id for d in decisions}) > 1:
        return Decision(None, worst.score, worst.runner_up, threshold, margin, "frames_disagree", worst.candidates)
    return worst  # recognized by all frames: report the weakest frame's figures
