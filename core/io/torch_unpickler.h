#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/safetensors.h"

namespace tl {

/// One object of a torch.save() pickle. Values live in their unpickler's arena and point at
/// each other with raw pointers, so cyclic or deeply nested corrupt pickles can neither leak
/// nor overflow the stack when freed.
struct PickleValue
{
    enum class Kind
    {
        None,
        Bool,
        Int,
        Float,
        Str,
        Bytes,
        Tuple,
        List,
        Dict,
        Global,
        Storage,
        Tensor
    };
    Kind kind = Kind::None;
    int64_t i = 0;                    ///< Int, Bool; Storage: element count
    double f = 0;                     ///< Float
    std::string s, s2;                ///< Str/Bytes: s; Global: module, name; Storage: key
    std::vector<PickleValue *> items; ///< Tuple/List; Dict: key, value, key, value, ...
    DType dtype = DType::F32;         ///< Storage
    PickleValue *storage = nullptr;   ///< Tensor: a Storage value, then the view on it
    int64_t offset = 0;
    std::vector<int64_t> shape, stride;
};

const char *pickleKindName(PickleValue::Kind kind);

/// The pickle stack machine (protocols 2 to 5), restricted to what torch.save writes for a
/// state dict: plain values, tuples, lists, dicts, OrderedDict, tensors rebuilt by
/// torch._utils from ('storage', ...) persistent ids, and Parameters. Any other global is
/// refused by name, so an untrusted file cannot run code the way Python's pickle would.
/// Storage bytes are not touched here: a Storage value names its key in the archive.
class TorchUnpickler
{
public:
    /// context prefixes every error message (the file and the pickle's name in it).
    TorchUnpickler(const char *data, size_t size, std::string context);
    /// Runs to STOP and returns the result; owned by this unpickler. Throws tl::Error.
    const PickleValue *run();

private:
    [[noreturn]] void fail(const std::string &what) const;
    const char *take(uint64_t n);
    uint64_t readLE(int n);
    std::string readLine();
    PickleValue *make(PickleValue::Kind kind);
    PickleValue *makeInt(PickleValue::Kind kind, int64_t v);
    PickleValue *makeStr(PickleValue::Kind kind, uint64_t len);
    PickleValue *makeSeq(PickleValue::Kind kind, std::vector<PickleValue *> items);
    size_t frameBase() const;
    PickleValue *pop();
    PickleValue *top();
    std::vector<PickleValue *> popMark();
    PickleValue *memoGet(uint64_t idx);
    PickleValue *makeGlobal(std::string module, std::string name);
    PickleValue *call(PickleValue *callable, PickleValue *args);
    PickleValue *rebuildTensor(const std::vector<PickleValue *> &args);
    PickleValue *persistentLoad(PickleValue *pid);
    void setItems(PickleValue *dict, const std::vector<PickleValue *> &kv);
    void step(unsigned char op);
    bool stepValue(unsigned char op);
    bool stepStack(unsigned char op);
    bool stepContainer(unsigned char op);
    bool stepObject(unsigned char op);

    const char *m_data;
    size_t m_size;
    std::string m_context;
    size_t m_pos = 0;
    size_t m_opStart = 0;
    PickleValue *m_result = nullptr;
    size_t m_tensorDims = 0;
    std::deque<PickleValue> m_arena; // a deque: growing it never moves existing values
    std::vector<PickleValue *> m_stack;
    std::vector<size_t> m_marks; // stack sizes at each MARK
    std::unordered_map<uint64_t, PickleValue *> m_memo;
};

} // namespace tl
