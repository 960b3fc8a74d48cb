#include "libtorch/train/device.h"

#include <dlfcn.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

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

std::string blasCoreName()
{
    using GetCoreName = char *(*)();
    if (auto get = reinterpret_cast<GetCoreName>(::dlsym(RTLD_DEFAULT, "openblas_get_corename")))
        if (const char *name = get())
            return name;
    return {};
}

std::string betterBlasCore()
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (std::getenv("OPENBLAS_CORETYPE") || blasCoreName() != "Prescott")
        return {};
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        // avx512bf16 is not among GCC 12's __builtin_cpu_supports names: CPUID leaf 7, sub-leaf 1, EAX bit 5.
        unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
        const bool bf16 = __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax & (1u << 5));
        return bf16 ? "Cooperlake" : "SkylakeX";
    }
    if (__builtin_cpu_supports("avx2"))
        return "Haswell";
#endif
    return {};
}

void setThreads(int n)
{
    if (n <= 0)
        return;
    torch::set_num_threads(n);
    // Inter-op parallelism only adds contention for BERT-sized graphs. The BLAS is another matter:
    // Debian's LibTorch calls the system's libblas.so.3, and OpenBLAS's pthread build keeps its own
    // pool, one thread per core, which torch::set_num_threads does not reach. Left alone, "one
    // thread" meant two, and two such runs side by side (a study's --jobs 2) put four busy threads
    // on two cores, each matrix product waiting for its slower half.
    if (auto set = reinterpret_cast<void (*)(int)>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
        set(n);
}

int blasThreads()
{
    if (auto get = reinterpret_cast<int (*)()>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads")))
        return get();
    return 0;
}

} // namespace tl
