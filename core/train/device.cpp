#include "train/device.h"

#include "util/error.h"

namespace tl {

torch::Device resolveDevice(const std::string &name)
{
    if (name.empty() || name == "cpu")
        return torch::kCPU;
    if (name.rfind("cuda", 0) != 0)
        throw Error("device '" + name + "': expected cpu, cuda or cuda:N");
    if (!torch::cuda::is_available())
        throw Error("device '" + name + "': this LibTorch build has no CUDA support or no GPU is visible; "
                    "use --device cpu, or configure TicketLab with -DTorch_DIR pointing at a CUDA LibTorch");
    try {
        torch::Device device(name);
        if (device.has_index() && device.index() >= static_cast<int>(torch::cuda::device_count()))
            throw Error("device '" + name + "': only " + std::to_string(torch::cuda::device_count())
                        + " GPU(s) visible");
        return device;
    } catch (const c10::Error &) {
        throw Error("device '" + name + "': not a valid device name");
    }
}

void setThreads(int n)
{
    if (n > 0) {
        torch::set_num_threads(n);
        // Inter-op parallelism only adds contention for BERT-sized graphs.
    }
}

} // namespace tl
