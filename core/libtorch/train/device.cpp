#include "libtorch/train/device.h"

#include <cstdlib>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "util/error.h"

namespace tl {

torch::Device resolveDevice(const std::string &name)
{
    if (name.empty() || name == "cpu")
        return torch::kCPU;
    if (name.rfind("cuda", 0) != 0)
        throw Error("device '" + name + "': expected cpu, cuda or cuda:N");
    if (!torch::cuda::is_available())
        throw Error("device '" + name +
                    "': this LibTorch build has no CUDA support or no GPU is visible; "
                    "use --device cpu, or configure TicketLab with -DTorch_DIR pointing at a CUDA LibTorch");
    try {
        torch::Device device(name);
        if (device.has_index() && device.index() >= static_cast<int>(torch::cuda::device_count()))
            throw Error("device '" + name + "': only " + std::to_string(torch::cuda::device_count()) +
                        " GPU(s) visible");
        return device;
    } catch (const c10::Error &) {
        throw Error("device '" + name + "': not a valid device name");
    }
}

void tuneAllocatorForTraining()
{
#ifdef __GLIBC__
    for (const char *var :
         {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_", "GLIBC_TUNABLES"})
        if (std::getenv(var))
            return;
    mallopt(M_MMAP_MAX, 0);             // no per-allocation mmap: big tensors come from the heap and are reused
    mallopt(M_TRIM_THRESHOLD, 1 << 30); // and the heap is not shrunk after every step
#endif
}

void setThreads(int n)
{
    if (n > 0) {
        torch::set_num_threads(n);
        // Inter-op parallelism only adds contention for BERT-sized graphs.
    }
}

} // namespace tl
