"""fmnist-dvc: a DVC pipeline comparing an sklearn MLP with a LeNet-style CNN on Fashion-MNIST."""
