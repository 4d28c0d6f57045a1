"""Evaluation of face decisions for scripts/evaluate_faces.py: photos, error rates, open set, 1:N, FTA, DET plot."""
