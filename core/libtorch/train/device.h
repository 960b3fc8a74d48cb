#pragma once

#include <string>

#include <torch/torch.h>

namespace tl {

/// "cpu", "cuda" or "cuda:N". Throws tl::Error when this LibTorch has no CUDA or no GPU
/// is visible, saying how to get one.
torch::Device resolveDevice(const std::string &name);

/// Sets LibTorch's intra-op thread count once (n <= 0 keeps LibTorch's default).
void setThreads(int n);

/// Tunes glibc's allocator for training loops; call once at the start of a process that trains.
/// By default glibc hands large freed blocks back to the kernel (munmap, heap trimming), so every
/// step page-faults its activations and gradients in again: measured here, that halves training
/// throughput (2/128/2/512: 83 -> 188 seq/s with this; 4/256/4/1024: 17 -> 35). This keeps freed
/// memory in the process instead (the peak stays reserved). Does nothing when the user set any
/// MALLOC_* tunable in the environment, or on other C libraries.
void tuneAllocatorForTraining();

} // namespace tl
