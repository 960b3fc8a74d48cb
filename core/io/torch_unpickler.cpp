#include "io/torch_unpickler.h"

#include <cstring>
#include <utility>

#include "util/error.h"

namespace tl {

namespace {

using Kind = PickleValue::Kind;

constexpr size_t kMaxObjects = size_t(1) << 20;

// clang-format off
enum Opcode : unsigned char {
    MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', BINFLOAT = 'G', BININT = 'J',
    BININT1 = 'K', BININT2 = 'M', NONE = 'N', BINPERSID = 'Q', REDUCE = 'R', BINSTRING = 'T',
    SHORT_BINSTRING = 'U', BINUNICODE = 'X', APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd',
    EMPTY_DICT = '}', APPENDS = 'e', BINGET = 'h', LONG_BINGET = 'j', LIST = 'l', EMPTY_LIST = ']',
    BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', EMPTY_TUPLE = ')', SETITEMS = 'u',
    BINBYTES = 'B', SHORT_BINBYTES = 'C', PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85,
    TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a,
    SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, NEWOBJ_EX = 0x92,
    STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
};
// clang-format on

// Length-prefixed strings and bytes: the opcode fixes the width of the length and the type.
struct SizedOp
{
    unsigned char op;
    int width;
    Kind kind;
};
constexpr SizedOp kSizedOps[] = {
    {SHORT_BINUNICODE, 1, Kind::Str}, {BINUNICODE, 4, Kind::Str},       {BINUNICODE8, 8, Kind::Str},
    {SHORT_BINSTRING, 1, Kind::Str},  {SHORT_BINBYTES, 1, Kind::Bytes}, {BINBYTES, 4, Kind::Bytes},
    {BINBYTES8, 8, Kind::Bytes},
};

struct StorageType
{
    const char *name;
    DType dtype;
};
constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", DType::F32},  {"HalfStorage", DType::F16}, {"BFloat16Storage", DType::BF16},
    {"DoubleStorage", DType::F64}, {"LongStorage", DType::I64}, {"IntStorage", DType::I32},
    {"ShortStorage", DType::I16},  {"CharStorage", DType::I8},  {"ByteStorage", DType::U8},
    {"BoolStorage", DType::Bool},
};

const StorageType *storageType(const PickleValue &g)
{
    if (g.kind != Kind::Global || g.s != "torch")
        return nullptr;
    for (const StorageType &t : kStorageTypes) {
        if (g.s2 == t.name)
            return &t;
    }
    return nullptr;
}

bool isGlobal(const PickleValue &v, const char *module, const char *name)
{
    return v.kind == Kind::Global && v.s == module && v.s2 == name;
}

} // namespace

const char *pickleKindName(Kind kind)
{
    static const char *names[] = {"None",  "bool", "int",  "float",  "str",     "bytes",
                                  "tuple", "list", "dict", "global", "storage", "tensor"};
    return names[static_cast<int>(kind)];
}

TorchUnpickler::TorchUnpickler(const char *data, size_t size, std::string context)
    : m_data(data), m_size(size), m_context(std::move(context))
{
}

void TorchUnpickler::fail(const std::string &what) const
{
    throw Error(m_context + ": " + what + " (at byte " + std::to_string(m_opStart) + ")");
}

const char *TorchUnpickler::take(uint64_t n)
{
    if (n > m_size - m_pos)
        fail("truncated pickle");
    const char *p = m_data + m_pos;
    m_pos += n;
    return p;
}

uint64_t TorchUnpickler::readLE(int n)
{
    const char *p = take(n);
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; --k)
        v = (v << 8) | static_cast<unsigned char>(p[k]);
    return v;
}

std::string TorchUnpickler::readLine()
{
    const void *nl = std::memchr(m_data + m_pos, '\n', m_size - m_pos);
    if (!nl)
        fail("truncated pickle (unterminated GLOBAL name)");
    const size_t len = static_cast<const char *>(nl) - (m_data + m_pos);
    std::string line(take(len), len);
    take(1);
    return line;
}

PickleValue *TorchUnpickler::make(Kind kind)
{
    // About 20 objects per tensor: this allows some 50k tensors yet bounds what a corrupt
    // pickle of one-byte opcodes can make us allocate (about 200 MB at worst).
    if (m_arena.size() >= kMaxObjects)
        fail("pickle has more than " + std::to_string(kMaxObjects) + " objects; not a state dict");
    m_arena.emplace_back();
    m_arena.back().kind = kind;
    return &m_arena.back();
}

PickleValue *TorchUnpickler::makeInt(Kind kind, int64_t v)
{
    PickleValue *p = make(kind);
    p->i = v;
    return p;
}

PickleValue *TorchUnpickler::makeStr(Kind kind, uint64_t len)
{
    const char *p = take(len);
    PickleValue *v = make(kind);
    v->s.assign(p, len);
    return v;
}

PickleValue *TorchUnpickler::makeSeq(Kind kind, std::vector<PickleValue *> items)
{
    PickleValue *v = make(kind);
    v->items = std::move(items);
    return v;
}

// Python keeps the items since the last MARK as the current frame; pop() never reaches below.
size_t TorchUnpickler::frameBase() const
{
    return m_marks.empty() ? 0 : m_marks.back();
}

PickleValue *TorchUnpickler::pop()
{
    PickleValue *v = top();
    m_stack.pop_back();
    return v;
}

PickleValue *TorchUnpickler::top()
{
    if (m_stack.size() <= frameBase())
        fail("pickle stack underflow");
    return m_stack.back();
}

std::vector<PickleValue *> TorchUnpickler::popMark()
{
    if (m_marks.empty())
        fail("pickle MARK missing");
    std::vector<PickleValue *> items(m_stack.begin() + m_marks.back(), m_stack.end());
    m_stack.resize(m_marks.back());
    m_marks.pop_back();
    return items;
}

PickleValue *TorchUnpickler::memoGet(uint64_t idx)
{
    const auto it = m_memo.find(idx);
    if (it == m_memo.end())
        fail("pickle memo entry " + std::to_string(idx) + " missing");
    return it->second;
}

PickleValue *TorchUnpickler::makeGlobal(std::string module, std::string name)
{
    PickleValue *g = make(Kind::Global);
    g->s = std::move(module);
    g->s2 = std::move(name);
    // Refuse anything but the few classes a state dict needs; this is also why loading an
    // untrusted file here cannot run code, unlike Python's pickle.
    const bool known = isGlobal(*g, "collections", "OrderedDict") || storageType(*g) ||
                       isGlobal(*g, "torch._utils", "_rebuild_tensor_v2") ||
                       isGlobal(*g, "torch._utils", "_rebuild_tensor") ||
                       isGlobal(*g, "torch._utils", "_rebuild_parameter");
    if (!known && g->s == "torch" && g->s2.size() > 7 && g->s2.compare(g->s2.size() - 7, 7, "Storage") == 0)
        fail("unsupported tensor storage type 'torch." + g->s2 + "' (complex and quantized tensors cannot be read)");
    if (!known)
        fail("unsupported pickle global '" + g->s + "." + g->s2 +
             "' (only tensors in a dict / OrderedDict can be read)");
    return g;
}

PickleValue *TorchUnpickler::call(PickleValue *callable, PickleValue *args)
{
    if (args->kind != Kind::Tuple)
        fail("REDUCE arguments are a " + std::string(pickleKindName(args->kind)) + ", not a tuple");
    const std::vector<PickleValue *> &a = args->items;
    if (isGlobal(*callable, "collections", "OrderedDict")) {
        if (!a.empty())
            fail("OrderedDict built from arguments is not supported");
        return make(Kind::Dict);
    }
    if (isGlobal(*callable, "torch._utils", "_rebuild_tensor_v2")) {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (a.size() != 6 && a.size() != 7)
            fail("_rebuild_tensor_v2 takes 6 or 7 arguments, got " + std::to_string(a.size()));
        return rebuildTensor(a);
    }
    if (isGlobal(*callable, "torch._utils", "_rebuild_tensor")) {
        if (a.size() != 4)
            fail("_rebuild_tensor takes 4 arguments, got " + std::to_string(a.size()));
        return rebuildTensor(a);
    }
    if (isGlobal(*callable, "torch._utils", "_rebuild_parameter")) {
        // (tensor, requires_grad, backward_hooks): a Parameter is its tensor for our purposes.
        if (a.size() != 3 || a[0]->kind != Kind::Tensor)
            fail("_rebuild_parameter expects (tensor, requires_grad, hooks)");
        return a[0];
    }
    if (callable->kind == Kind::Global)
        fail("cannot call '" + callable->s + "." + callable->s2 + "' while unpickling");
    fail("REDUCE on a " + std::string(pickleKindName(callable->kind)) + ", which is not callable");
}

PickleValue *TorchUnpickler::rebuildTensor(const std::vector<PickleValue *> &a)
{
    if (a[0]->kind != Kind::Storage || a[1]->kind != Kind::Int || a[2]->kind != Kind::Tuple ||
        a[3]->kind != Kind::Tuple)
        fail("tensor rebuild arguments are not (storage, offset, size, stride)");
    if (a[2]->items.size() != a[3]->items.size())
        fail("tensor size and stride differ in length");
    // A memoized size tuple can be reused by any number of tensors; without a budget a small
    // corrupt pickle could make us copy a huge one over and over.
    m_tensorDims += a[2]->items.size();
    if (a[2]->items.size() > 64 || m_tensorDims > kMaxObjects)
        fail("tensors with too many dimensions");
    PickleValue *t = make(Kind::Tensor);
    t->storage = a[0];
    t->offset = a[1]->i;
    for (size_t d = 0; d < a[2]->items.size(); ++d) {
        const PickleValue *n = a[2]->items[d];
        const PickleValue *s = a[3]->items[d];
        if (n->kind != Kind::Int || s->kind != Kind::Int || n->i < 0)
            fail("tensor size or stride is not a non-negative int / int");
        t->shape.push_back(n->i);
        t->stride.push_back(s->i);
    }
    return t;
}

PickleValue *TorchUnpickler::persistentLoad(PickleValue *pid)
{
    // ('storage', <storage type>, key, location, numel): the bytes are data/<key> in the zip.
    const std::vector<PickleValue *> &a = pid->items;
    if (pid->kind != Kind::Tuple || a.size() != 5 || a[0]->kind != Kind::Str || a[0]->s != "storage")
        fail("persistent id is not a ('storage', type, key, location, numel) tuple");
    const StorageType *type = storageType(*a[1]);
    if (!type)
        fail("persistent id does not name a supported storage type");
    if (a[2]->kind != Kind::Str || a[2]->s.size() > 1024 || a[3]->kind != Kind::Str || a[4]->kind != Kind::Int ||
        a[4]->i < 0)
        fail("persistent id has a bad key, location or size");
    PickleValue *s = make(Kind::Storage);
    s->dtype = type->dtype;
    s->s = a[2]->s;
    s->i = a[4]->i;
    return s;
}

void TorchUnpickler::setItems(PickleValue *dict, const std::vector<PickleValue *> &kv)
{
    if (dict->kind != Kind::Dict)
        fail("SETITEM on a " + std::string(pickleKindName(dict->kind)) + ", not a dict");
    if (kv.size() % 2 != 0)
        fail("SETITEMS with an odd number of items");
    dict->items.insert(dict->items.end(), kv.begin(), kv.end());
}

const PickleValue *TorchUnpickler::run()
{
    while (!m_result) {
        m_opStart = m_pos;
        step(static_cast<unsigned char>(*take(1)));
    }
    return m_result;
}

/// Opcodes that push a scalar or string (and the protocol and frame headers); false for any other opcode.
bool TorchUnpickler::stepValue(unsigned char op)
{
    for (const SizedOp &s : kSizedOps) {
        if (op == s.op) {
            m_stack.push_back(makeStr(s.kind, readLE(s.width)));
            return true;
        }
    }
    switch (op) {
    case PROTO:
        if (readLE(1) > 5)
            fail("pickle protocol newer than 5");
        break;
    case FRAME: // frames only help streaming readers; we hold the whole pickle
        readLE(8);
        break;
    case NONE:
        m_stack.push_back(make(Kind::None));
        break;
    case NEWTRUE:
    case NEWFALSE:
        m_stack.push_back(makeInt(Kind::Bool, op == NEWTRUE));
        break;
    case BININT1:
    case BININT2: // unsigned, unlike BININT
        m_stack.push_back(makeInt(Kind::Int, int64_t(readLE(op == BININT1 ? 1 : 2))));
        break;
    case BININT:
        m_stack.push_back(makeInt(Kind::Int, int32_t(uint32_t(readLE(4)))));
        break;
    case LONG1: {
        const int n = int(readLE(1));
        if (n > 8)
            fail("integer wider than 64 bits");
        uint64_t v = n ? readLE(n) : 0;
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) // sign-extend two's complement
            v |= ~uint64_t(0) << (8 * n);
        m_stack.push_back(makeInt(Kind::Int, int64_t(v)));
        break;
    }
    case BINFLOAT: {
        const char *p = take(8);
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) // big-endian, unlike everything else in a pickle
            bits = (bits << 8) | static_cast<unsigned char>(p[k]);
        PickleValue *v = make(Kind::Float);
        std::memcpy(&v->f, &bits, 8);
        m_stack.push_back(v);
        break;
    }
    case BINSTRING: {
        const int32_t n = int32_t(uint32_t(readLE(4)));
        if (n < 0)
            fail("negative string length");
        m_stack.push_back(makeStr(Kind::Str, uint64_t(n)));
        break;
    }
    default:
        return false;
    }
    return true;
}

/// Opcodes that move values between the stack, its marks and the memo; false for any other opcode.
bool TorchUnpickler::stepStack(unsigned char op)
{
    switch (op) {
    case MARK:
        m_marks.push_back(m_stack.size());
        break;
    case STOP:
        m_result = pop();
        break;
    case POP:
        if (m_stack.size() > frameBase())
            m_stack.pop_back();
        else
            popMark();
        break;
    case POP_MARK:
        popMark();
        break;
    case DUP:
        m_stack.push_back(top());
        break;
    case BINPUT:
    case LONG_BINPUT:
    case MEMOIZE: {
        const uint64_t idx = op == MEMOIZE ? m_memo.size() : readLE(op == BINPUT ? 1 : 4);
        if (m_memo.size() >= kMaxObjects)
            fail("pickle memo has more than " + std::to_string(kMaxObjects) + " entries; not a state dict");
        m_memo[idx] = top();
        break;
    }
    case BINGET:
    case LONG_BINGET:
        m_stack.push_back(memoGet(readLE(op == BINGET ? 1 : 4)));
        break;
    default:
        return false;
    }
    return true;
}

/// Opcodes that build dicts, lists and tuples; false for any other opcode.
bool TorchUnpickler::stepContainer(unsigned char op)
{
    switch (op) {
    case EMPTY_DICT:
        m_stack.push_back(make(Kind::Dict));
        break;
    case EMPTY_LIST:
    case EMPTY_TUPLE:
        m_stack.push_back(make(op == EMPTY_LIST ? Kind::List : Kind::Tuple));
        break;
    case DICT: {
        PickleValue *d = make(Kind::Dict);
        setItems(d, popMark());
        m_stack.push_back(d);
        break;
    }
    case LIST:
    case TUPLE:
        m_stack.push_back(makeSeq(op == LIST ? Kind::List : Kind::Tuple, popMark()));
        break;
    case TUPLE1:
    case TUPLE2:
    case TUPLE3: {
        std::vector<PickleValue *> items(op - TUPLE1 + 1);
        for (size_t k = items.size(); k-- > 0;)
            items[k] = pop();
        m_stack.push_back(makeSeq(Kind::Tuple, std::move(items)));
        break;
    }
    case APPEND:
    case APPENDS: {
        std::vector<PickleValue *> items = op == APPEND ? std::vector<PickleValue *>{pop()} : popMark();
        PickleValue *list = top();
        if (list->kind != Kind::List)
            fail("APPEND to a " + std::string(pickleKindName(list->kind)) + ", not a list");
        list->items.insert(list->items.end(), items.begin(), items.end());
        break;
    }
    case SETITEM: {
        PickleValue *value = pop();
        PickleValue *key = pop();
        setItems(top(), {key, value});
        break;
    }
    case SETITEMS: {
        const std::vector<PickleValue *> kv = popMark();
        setItems(top(), kv);
        break;
    }
    default:
        return false;
    }
    return true;
}

/// Opcodes that make objects: globals, calls, BUILD, persistent ids; false for any other opcode.
bool TorchUnpickler::stepObject(unsigned char op)
{
    switch (op) {
    case GLOBAL: {
        std::string module = readLine();
        m_stack.push_back(makeGlobal(std::move(module), readLine()));
        break;
    }
    case STACK_GLOBAL: {
        PickleValue *name = pop();
        PickleValue *module = pop();
        if (name->kind != Kind::Str || module->kind != Kind::Str)
            fail("STACK_GLOBAL needs two strings");
        m_stack.push_back(makeGlobal(module->s, name->s));
        break;
    }
    case REDUCE:
    case NEWOBJ: {
        PickleValue *args = pop();
        PickleValue *callable = pop();
        m_stack.push_back(call(callable, args));
        break;
    }
    case NEWOBJ_EX: {
        PickleValue *kwargs = pop();
        PickleValue *args = pop();
        PickleValue *cls = pop();
        if (kwargs->kind != Kind::Dict || !kwargs->items.empty())
            fail("NEWOBJ_EX with keyword arguments is not supported");
        m_stack.push_back(call(cls, args));
        break;
    }
    case BUILD: {
        pop(); // the state: an OrderedDict's _metadata, which we have no use for
        const PickleValue *obj = top();
        if (obj->kind != Kind::Dict && obj->kind != Kind::Tensor)
            fail("BUILD on a " + std::string(pickleKindName(obj->kind)) + " is not supported");
        break;
    }
    case BINPERSID:
        m_stack.push_back(persistentLoad(pop()));
        break;
    default:
        return false;
    }
    return true;
}

void TorchUnpickler::step(unsigned char op)
{
    if (stepValue(op) || stepStack(op) || stepContainer(op) || stepObject(op))
        return;
    static const char hex[] = "0123456789abcdef";
    fail(std::string("unsupported pickle opcode 0x") + hex[op >> 4] + hex[op & 15]);
}

} // namespace tl
