"""Fine-tuning a model version on a (corrected) dataset: `python3 -m mome finetune --config job.json` (train.py).

train.py: the job file, the loop and its JSON lines; tasks.py: retrieval and NLVR2 (data loaders, evaluation);
steps.py: one training step of each task, full or fast; fast.py: the frozen layers' cached features; data.py:
judged pairs and batches; run.py: what is not about the model (signals, the app dying, devices, checkpoints)."""
