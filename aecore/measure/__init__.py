"""Measurement: metrics as pure functions, the whole metrics.json of a model (evaluate), denoising
scores, model cards, and the zoo (recipe, baselines, goals, report)."""
