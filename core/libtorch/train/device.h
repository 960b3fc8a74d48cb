#pragma once

#include <string>

#include <torch/torch.h>

namespace tl {

/// "cpu", "cuda" or "cuda:N". Throws tl::Error when this LibTorch has no CUDA or no GPU
/// is visible, saying how to get one.
torch::Device resolveDevice(const std::string &name);

/// Sets LibTorch's intra-op thread count, and OpenBLAS's own pool when LibTorch runs on it, once
/// (n <= 0 keeps both defaults).
void setThreads(int n);

/// OpenBLAS's thread count when LibTorch runs on OpenBLAS, else 0.
int blasThreads();

/// Tunes glibc's allocator for training loops; call once at the start of a process that trains.
/// By default glibc hands large freed blocks back to the kernel (munmap, heap trimming), so every
/// step page-faults its activations and gradients in again: measured here, that halves training
/// throughput (2/128/2/512: 83 -> 188 seq/s with this; 4/256/4/1024: 17 -> 35). This keeps freed
/// memory in the process instead (the peak stays reserved). Does nothing when the user set any
/// MALLOC_* tunable in the environment, or on other C libraries.
void tuneAllocatorForTraining();

/// The kernel set OpenBLAS chose for this CPU ("Cooperlake", "Haswell", "Prescott"), or empty
/// when LibTorch does not run on OpenBLAS.
std::string blasCoreName();

/// The OpenBLAS kernel set this CPU should get when OpenBLAS fell back to its slowest one:
/// OpenBLAS 0.3.21 (Debian 12) does not know recent Xeons and, unless OPENBLAS_CORETYPE is set,
/// runs them on "Prescott" (SSE3) kernels. Measured here (Xeon with AVX-512, MiniLM-L6, MRPC,
/// 20 steps of batch 32 x 64 tokens, 2 threads): Prescott 87.6 s, Haswell 41.6 s, SkylakeX
/// 27.3 s, Cooperlake 27.0 s. Returns the best set the CPU supports ("Cooperlake" with
/// AVX-512 BF16, "SkylakeX" with AVX-512, "Haswell" with AVX2), or empty when OpenBLAS chose
/// something else, the CPU has no AVX2, or the user set OPENBLAS_CORETYPE.
std::string betterBlasCore();

} // namespace tl
