"""The embedded tiny model, trained from scratch: `python3 -m mome train-tiny` (train.py).

train.py: the plans, the stage loop, checkpoints and export; stages.py: each stage's losses; data.py: the
synthetic datasets as tensors, cached; eval.py: retrieval recall and NLVR2 accuracy on the held-out splits."""
