"""Training: batch composition, the loop on Accelerate, checkpoints.

Submodules are imported where they are used (``from langgap.train.composer import ...``);
nothing heavy is imported here.
"""
