"""The live-learning loop: teacher, pair store, trainer, classifier, predictor, labels, checkpoints."""
