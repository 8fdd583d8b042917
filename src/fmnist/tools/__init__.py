"""Commands no stage runs: views of runs and experiments, the README's generated blocks,
the model card, offline plots, and predictions on images a person brings."""
