"""Training: batch composition, the loop on Accelerate, checkpoints.

Submodules are imported where they are used (``from langgap.training.composer import ...``);
nothing heavy is imported here.
"""
