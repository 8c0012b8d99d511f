"""The LaMa big-lama engine in plain PyTorch; weights/ is its torch-free part (model file checks)."""
