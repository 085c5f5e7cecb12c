"""GpuNodePool: GPU hosts prepared and labelled, NVIDIA GPU Operator or device plugin, GPU sharing."""
