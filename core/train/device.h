#pragma once

#include <string>

#include <torch/torch.h>

namespace tl {

/// "cpu", "cuda" or "cuda:N". Throws tl::Error when this LibTorch has no CUDA or no GPU
/// is visible, saying how to get one.
torch::Device resolveDevice(const std::string &name);

/// Sets LibTorch's intra-op thread count once (n <= 0 keeps LibTorch's default).
void setThreads(int n);

} // namespace tl
