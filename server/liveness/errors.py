"""The liveness error codes (stable, in the issue's contract)."""
from __future__ import annotations

from server.errors import AppError


class LivenessFailed(AppError):
    status_code, code, message = 422, "liveness_failed", "The frames do not show a live head turn as asked"


class LivenessRequired(AppError):
    status_code, code, message = (422, "liveness_required", "This check needs a valid challenge_id (POST the "
                                  "challenge route first) and 2 to 5 frames")


class ChallengeUsed(AppError):
    status_code, code, message = 409, "challenge_used", "This challenge was already answered: ask for a new one"


class ChallengeExpired(AppError):
    status_code, code, message = 410, "challenge_expired", "This challenge has expired: ask for a new one"


# the OpenAPI `responses` of the routes that answer a challenge (server.errors.responses)
CHALLENGE_ERRORS = ((LivenessFailed, "with `reason`: no_turn, wrong_direction, identity_changed, same_frames"),
                    (LivenessRequired, "no valid challenge_id where one is required, or not 2-5 frames"),
                    ChallengeUsed, ChallengeExpired)
