#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>

#include "testdata.h"
#include "io/torch_pickle.h"
#include "io/zip_reader.h"
#include "util/error.h"

namespace {

using StateDict = std::map<std::string, tl::PickledTensor>;

// Appends little-endian fields, each a (value, width in bytes) pair.
void put(QByteArray &out, std::initializer_list<std::pair<quint64, int>> fields)
{
    for (const auto &[value, width] : fields) {
        for (int i = 0; i < width; ++i)
            out.append(static_cast<char>(i < 8 ? (value >> (8 * i)) & 0xff : 0)); // wider fields: zero-extended
    }
}

struct ZipMember
{
    QByteArray name;
    QByteArray data;
    quint16 method = 0;
};

// A ZIP archive as torch.save lays it out (STORED, CRCs left zero: the reader ignores them).
// zip64 puts every size and offset in ZIP64 extra fields, with the ZIP64 end records, plus
// a padding extra field first the way PyTorch aligns its members.
QByteArray buildZip(const QList<ZipMember> &members, bool zip64)
{
    QByteArray out, central;
    const quint64 max32 = 0xffffffffu;
    for (const ZipMember &m : members) {
        const quint64 offset = out.size(), size = m.data.size();
        const quint64 size32 = zip64 ? max32 : size;
        QByteArray localExtra, extra;
        if (zip64) {
            localExtra.append("FB\x05\x00ZZZZZ", 9);
            put(localExtra, {{1, 2}, {16, 2}, {size, 8}, {size, 8}});
            put(extra, {{1, 2}, {24, 2}, {size, 8}, {size, 8}, {offset, 8}});
        }
        // signature, version, flags (sizes in the header), method, time+date+crc, sizes, lengths
        put(out, {{0x04034b50, 4}, {45, 2}, {0, 2}, {m.method, 2}, {0, 8}, {size32, 4}, {size32, 4}});
        put(out, {{quint64(m.name.size()), 2}, {quint64(localExtra.size()), 2}});
        out += m.name + localExtra + m.data;
        // ... then versions, and comment length, disk, attributes before the local offset
        put(central, {{0x02014b50, 4}, {45, 2}, {45, 2}, {0, 2}, {m.method, 2}, {0, 8}, {size32, 4}});
        put(central, {{size32, 4}, {quint64(m.name.size()), 2}, {quint64(extra.size()), 2}, {0, 10}});
        put(central, {{zip64 ? max32 : offset, 4}});
        central += m.name + extra;
    }
    const quint64 cdOffset = out.size(), cdSize = central.size(), count = members.size();
    out += central;
    if (zip64) {
        const quint64 recordOffset = out.size();
        put(out, {{0x06064b50, 4}, {44, 8}, {45, 2}, {45, 2}, {0, 8}, {count, 8}, {count, 8}});
        put(out, {{cdSize, 8}, {cdOffset, 8}});
        put(out, {{0x07064b50, 4}, {0, 4}, {recordOffset, 8}, {1, 4}});
    }
    const quint64 count16 = zip64 ? 0xffff : count;
    put(out, {{0x06054b50, 4}, {0, 4}, {count16, 2}, {count16, 2}});
    put(out, {{zip64 ? max32 : cdSize, 4}, {zip64 ? max32 : cdOffset, 4}, {0, 2}});
    return out;
}

QByteArray pickleStr(const QByteArray &s)
{
    QByteArray out("X");
    put(out, {{quint64(s.size()), 4}});
    return out + s;
}

QByteArray shortStr(const QByteArray &s)
{
    return "\x8c" + QByteArray(1, char(s.size())) + s;
}

// BININT when it fits in 32 bits, else LONG1 with 8 bytes, as pickle itself chooses.
QByteArray pickleInt(qint64 v)
{
    const bool small = v >= INT32_MIN && v <= INT32_MAX;
    QByteArray out = small ? QByteArray("J") : QByteArray("\x8a\x08", 2);
    put(out, {{static_cast<quint64>(v), small ? 4 : 8}});
    return out;
}

QByteArray pickleTuple(const QList<qint64> &values)
{
    QByteArray out("(");
    for (qint64 v : values)
        out += pickleInt(v);
    return out + "t";
}

// A protocol-2 pickle of {name: tensor}, the tensor a view on FloatStorage '0' of
// storageNumel elements, built the way torch.save writes it. global replaces the
// rebuild function to test refusal of unknown ones.
QByteArray tensorPickle(qint64 storageNumel, qint64 offset, const QList<qint64> &size, const QList<qint64> &stride,
                        const QByteArray &global = "torch._utils\n_rebuild_tensor_v2\n")
{
    QByteArray p("\x80\x02}(", 4);
    p += pickleStr("w") + "c" + global + "((";
    p += pickleStr("storage") + "ctorch\nFloatStorage\n" + pickleStr("0") + pickleStr("cpu") + pickleInt(storageNumel);
    p += "tQ" + pickleInt(offset) + pickleTuple(size) + pickleTuple(stride);
    p += "\x89}tRu.";
    return p;
}

QByteArray floats(int n)
{
    QByteArray out;
    for (int i = 0; i < n; ++i) {
        const float v = static_cast<float>(i);
        out.append(reinterpret_cast<const char *>(&v), sizeof v);
    }
    return out;
}

QList<ZipMember> tensorArchive(const QByteArray &pickle, const QByteArray &storage, const QByteArray &top = "archive")
{
    return {{top + "/data.pkl", pickle},
            {top + "/byteorder", "little"},
            {top + "/data/0", storage},
            {top + "/version", "3\n"}};
}

bool writeBytes(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

// The message of the tl::Error reading path throws; an empty string (and a test failure
// message on stderr) when it reads fine. Any other exception propagates and fails the test.
QString readError(const QString &path)
{
    try {
        tl::readTorchStateDict(path.toStdString());
    } catch (const tl::Error &e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

// Parsing bytes must either work or throw tl::Error naming the file, whatever the bytes.
bool failsCleanly(const QByteArray &bytes, QString *message = nullptr)
{
    try {
        tl::parseTorchStateDict(std::vector<char>(bytes.begin(), bytes.end()), "fuzz.bin");
    } catch (const tl::Error &e) {
        if (message)
            *message = QString::fromUtf8(e.what());
        return QString::fromUtf8(e.what()).contains(QStringLiteral("fuzz.bin"));
    }
    return true;
}

// Generates all the real torch.save() files in one python run (importing torch is slow).
const char *kPythonScript = R"PY(
import collections, io, json, struct, sys, torch
out = sys.argv[1]

def expect(sd, name):
    exp = {}
    for k, t in sd.items():
        v = t.detach().float().flatten().tolist()
        exp[k] = {'shape': list(t.shape), 'hex': struct.pack('<%df' % len(v), *v).hex()}
    with open(out + '/' + name, 'w') as f:
        json.dump(exp, f)

torch.manual_seed(0)
sd = collections.OrderedDict()
sd['f32'] = torch.randn(3, 5)
sd['f16'] = torch.tensor([0.0, -0.0, 1.5, -2.25, 65504.0, 6e-8, float('inf'), float('-inf'), 0.1], dtype=torch.float16)
sd['bf16'] = torch.randn(4, 2).to(torch.bfloat16)
sd['i64'] = torch.tensor([[-3, 0, 7], [2**40 + 1, -(2**35), 123456789]], dtype=torch.int64)
sd['f64'] = torch.randn(5, dtype=torch.float64)
sd['i32'] = torch.tensor([-5, 1 << 30], dtype=torch.int32)
sd['i16'] = torch.tensor([-300, 300], dtype=torch.int16)
sd['i8'] = torch.tensor([-128, 127], dtype=torch.int8)
sd['u8'] = torch.tensor([0, 255], dtype=torch.uint8)
sd['bool'] = torch.tensor([True, False, True])
base = torch.arange(24, dtype=torch.float32)
sd['transposed'] = base[:12].reshape(3, 4).t()
sd['slice'] = base[13:20]
sd['strided'] = base.reshape(4, 6)[1:3, ::2]
assert sd['slice'].storage_offset() == 13 and not sd['transposed'].is_contiguous()
sd['scalar'] = torch.tensor(2.5)
sd['param'] = torch.nn.Parameter(torch.randn(2, 3))
sd['grad'] = torch.randn(3).requires_grad_()
sd['empty'] = torch.zeros(0, 4)
sd['expanded'] = torch.tensor([1.0, 2.0, 3.0]).expand(4, 3)
torch.save(sd, out + '/mixed.pt')
expect(sd, 'mixed.json')

buf = io.BytesIO()
torch.save(sd, buf)
open(out + '/bytesio.pt', 'wb').write(buf.getvalue())

p4 = {'a': torch.arange(6.0).reshape(2, 3), 'b': torch.arange(4, dtype=torch.int64), 'c': torch.randn(3).half()}
torch.save(p4, out + '/protocol4.pt', _use_new_zipfile_serialization=True, pickle_protocol=4)
expect(p4, 'protocol4.json')

torch.manual_seed(1)
lin = torch.nn.Linear(3, 4).state_dict()
torch.save(lin, out + '/pytorch_model.bin')
expect(lin, 'linear.json')

torch.save(sd, out + '/legacy.pt', _use_new_zipfile_serialization=False)
)PY";

} // namespace

// A macro, not a helper: QSKIP must return from the test function itself.
#define REQUIRE_TORCH_FILES()                                                                                          \
    do {                                                                                                               \
        if (!m_pythonError.isEmpty())                                                                                  \
            TL_SKIP(m_pythonError);                                                                                    \
    } while (false)

class TestTorchPickle : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void readsHandBuiltArchive();
    void readsHandBuiltZip64();
    void readsMixedStateDict();
    void readsArchiveFromBytesIO();
    void readsProtocol4Dict();
    void readsLinearStateDict();
    void readsRealFileRepackedAsZip64();
    void rejectsLegacyFormat();
    void rejectsNotAZip();
    void rejectsTruncatedArchive();
    void rejectsZipWithoutDataPkl();
    void rejectsUnknownGlobal();
    void rejectsViewOutsideStorage();
    void rejectsBadStorages();
    void rejectsCompressedAndBigEndian();
    void rejectsNonTensorValue();
    void survivesFuzzedInput();

private:
    QString path(const char *name) const { return m_dir.filePath(QString::fromLatin1(name)); }
    void compareWithExpected(const StateDict &got, const QString &jsonName);
    QString writeArchive(const char *name, const QByteArray &bytes);
    void expectError(const char *name, const QByteArray &bytes, std::initializer_list<const char *> phrases);

    QTemporaryDir m_dir;
    QString m_pythonError; // why the real files could not be made; empty when they were
};

void TestTorchPickle::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QString python;
    for (const QString &candidate : {QStringLiteral("/usr/bin/python3"), QStringLiteral("python3")}) {
        QProcess probe;
        probe.start(candidate, {QStringLiteral("-c"), QStringLiteral("import torch")});
        if (probe.waitForFinished(120000) && probe.exitStatus() == QProcess::NormalExit && probe.exitCode() == 0) {
            python = candidate;
            break;
        }
    }
    if (python.isEmpty()) {
        m_pythonError = QStringLiteral("no python3 with torch found (apt-get install python3-torch)");
        return;
    }
    QProcess py;
    py.start(python, {QStringLiteral("-c"), QString::fromUtf8(kPythonScript), m_dir.path()});
    if (!py.waitForFinished(300000) || py.exitStatus() != QProcess::NormalExit || py.exitCode() != 0)
        QFAIL(qPrintable(QStringLiteral("torch.save script failed: ") + QString::fromUtf8(py.readAllStandardError())));
}

QString TestTorchPickle::writeArchive(const char *name, const QByteArray &bytes)
{
    const QString p = path(name);
    if (!writeBytes(p, bytes))
        qFatal("cannot write %s", qPrintable(p));
    return p;
}

// Writes bytes as file name and expects a tl::Error naming that file and saying each phrase.
void TestTorchPickle::expectError(const char *name, const QByteArray &bytes,
                                  std::initializer_list<const char *> phrases)
{
    const QString msg = readError(writeArchive(name, bytes));
    QVERIFY2(msg.contains(QLatin1String(name)), qPrintable(QLatin1String(name) + QStringLiteral(": ") + msg));
    for (const char *phrase : phrases)
        QVERIFY2(msg.contains(QLatin1String(phrase)), qPrintable(QLatin1String(name) + QStringLiteral(": ") + msg));
}

// Same names, shapes and float32 bits as python's t.float().flatten().tolist().
void TestTorchPickle::compareWithExpected(const StateDict &got, const QString &jsonName)
{
    QFile f(m_dir.filePath(jsonName));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject expected = QJsonDocument::fromJson(f.readAll()).object();
    QCOMPARE(got.size(), size_t(expected.size()));
    for (auto it = expected.begin(); it != expected.end(); ++it) {
        const std::string name = it.key().toStdString();
        QVERIFY2(got.count(name), name.c_str());
        const tl::PickledTensor &t = got.at(name);
        std::vector<int64_t> shape;
        for (const QJsonValue &v : it.value().toObject().value(QStringLiteral("shape")).toArray())
            shape.push_back(v.toInteger());
        QVERIFY2(t.shape == shape, name.c_str());
        const QByteArray bits =
            QByteArray::fromHex(it.value().toObject().value(QStringLiteral("hex")).toString().toLatin1());
        QVERIFY2(bits.size() == qsizetype(t.values.size() * sizeof(float)), name.c_str());
        QVERIFY2(bits.isEmpty() || std::memcmp(bits.constData(), t.values.data(), bits.size()) == 0, name.c_str());
    }
}

void TestTorchPickle::readsHandBuiltArchive()
{
    // A transposed view with a storage offset: storage 0..7, offset 1, size (3, 2), stride (1, 3).
    const QString p =
        writeArchive("hand.pt", buildZip(tensorArchive(tensorPickle(8, 1, {3, 2}, {1, 3}), floats(8)), false));
    const StateDict sd = tl::readTorchStateDict(p.toStdString());
    QCOMPARE(sd.size(), size_t(1));
    QCOMPARE(sd.at("w").shape, (std::vector<int64_t>{3, 2}));
    QCOMPARE(sd.at("w").values, (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

void TestTorchPickle::readsHandBuiltZip64()
{
    const QString p = writeArchive(
        "hand64.pt", buildZip(tensorArchive(tensorPickle(8, 2, {2, 3}, {3, 1}), floats(8), "pytorch_model"), true));
    const StateDict sd = tl::readTorchStateDict(p.toStdString());
    QCOMPARE(sd.at("w").values, (std::vector<float>{2, 3, 4, 5, 6, 7}));
}

void TestTorchPickle::readsMixedStateDict()
{
    REQUIRE_TORCH_FILES();
    const StateDict sd = tl::readTorchStateDict(path("mixed.pt").toStdString());
    compareWithExpected(sd, QStringLiteral("mixed.json"));
    QCOMPARE(sd.at("transposed").values[1], 4.0f);
    QCOMPARE(sd.at("slice").values.front(), 13.0f);
    QVERIFY(sd.at("scalar").shape.empty());
    QCOMPARE(sd.at("scalar").values, std::vector<float>{2.5f});
}

void TestTorchPickle::readsArchiveFromBytesIO()
{
    REQUIRE_TORCH_FILES(); // torch.save to a buffer names its top folder "archive"
    compareWithExpected(tl::readTorchStateDict(path("bytesio.pt").toStdString()), QStringLiteral("mixed.json"));
}

void TestTorchPickle::readsProtocol4Dict()
{
    REQUIRE_TORCH_FILES();
    compareWithExpected(tl::readTorchStateDict(path("protocol4.pt").toStdString()), QStringLiteral("protocol4.json"));
}

void TestTorchPickle::readsLinearStateDict()
{
    REQUIRE_TORCH_FILES(); // an OrderedDict with _metadata set by BUILD
    const StateDict sd = tl::readTorchStateDict(path("pytorch_model.bin").toStdString());
    compareWithExpected(sd, QStringLiteral("linear.json"));
    QCOMPARE(sd.at("weight").shape, (std::vector<int64_t>{4, 3}));
}

void TestTorchPickle::readsRealFileRepackedAsZip64()
{
    REQUIRE_TORCH_FILES();
    QFile f(path("mixed.pt"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    const tl::ZipReader zip = tl::ZipReader::parse(std::vector<char>(bytes.begin(), bytes.end()), "mixed.pt");
    QList<ZipMember> members;
    for (const tl::ZipEntry &e : zip.entries()) {
        const QByteArray name = QByteArray::fromStdString(e.name);
        members.append({"renamed" + name.mid(name.indexOf('/')), QByteArray(zip.data(e), qsizetype(e.size))});
    }
    const QString p = writeArchive("repacked.pt", buildZip(members, true));
    compareWithExpected(tl::readTorchStateDict(p.toStdString()), QStringLiteral("mixed.json"));
}

void TestTorchPickle::rejectsLegacyFormat()
{
    expectError("legacy_handmade.pt", QByteArray("\x80\x02\x8a\x0a", 4) + QByteArray(10, 'x'), {"legacy"});
    REQUIRE_TORCH_FILES();
    const QString msg = readError(path("legacy.pt"));
    QVERIFY2(msg.contains(QStringLiteral("legacy.pt")) && msg.contains(QStringLiteral("legacy")) &&
                 msg.contains(QStringLiteral("torch.save(torch.load(")),
             qPrintable(msg));
}

void TestTorchPickle::rejectsNotAZip()
{
    expectError("text.bin", "definitely not a zip archive, just some text", {"not a zip"});
    expectError("empty.bin", QByteArray(), {"not a zip"});
    const QString msg = readError(path("does_not_exist.bin"));
    QVERIFY2(msg.contains(QStringLiteral("does_not_exist.bin")), qPrintable(msg));
}

void TestTorchPickle::rejectsTruncatedArchive()
{
    const QByteArray pkl = tensorPickle(8, 0, {8}, {1});
    QList<QByteArray> files{buildZip(tensorArchive(pkl, floats(8)), false),
                            buildZip(tensorArchive(pkl, floats(8)), true)};
    if (m_pythonError.isEmpty()) {
        QFile f(path("mixed.pt"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        files.append(f.readAll());
    }
    for (const QByteArray &whole : files) {
        QString msg;
        QVERIFY2(failsCleanly(whole, &msg) && msg.isEmpty(), qPrintable(msg)); // the whole file reads
        for (qsizetype n = 0; n < whole.size(); ++n)
            QVERIFY2(failsCleanly(whole.left(n), &msg) && !msg.isEmpty(), qPrintable(QString::number(n)));
    }
    expectError("truncated.pt", files.front().chopped(5), {"truncated"});
}

void TestTorchPickle::rejectsZipWithoutDataPkl()
{
    expectError("nopkl.zip", buildZip({{"archive/version", "3\n"}, {"archive/data/0", floats(4)}}, false),
                {"data.pkl"});
}

void TestTorchPickle::rejectsUnknownGlobal()
{
    const QByteArray pkl = tensorPickle(8, 0, {8}, {1}, "os\nsystem\n");
    expectError("evil.pt", buildZip(tensorArchive(pkl, floats(8)), false), {"os.system", "unsupported pickle global"});
    // The same through STACK_GLOBAL (protocol 4), an unsupported storage type, an unknown opcode.
    const QByteArray stackGlobal = QByteArray("\x80\x04") + shortStr("builtins") + shortStr("eval") + "\x93.";
    expectError("evil4.pt", buildZip(tensorArchive(stackGlobal, {}), false), {"builtins.eval"});
    const QByteArray complex = tensorPickle(8, 0, {8}, {1}).replace("FloatStorage", "ComplexFloatStorage");
    expectError("complex.pt", buildZip(tensorArchive(complex, floats(8)), false), {"torch.ComplexFloatStorage"});
    expectError("opcode.pt", buildZip(tensorArchive(QByteArray("\x80\x02}I1\n.", 7), {}), false), {"opcode 0x49"});
}

void TestTorchPickle::rejectsViewOutsideStorage()
{
    struct Case
    {
        qint64 offset;
        QList<qint64> size, stride;
    };
    const QList<Case> cases{{0, {2, 3}, {3, 1}},  {3, {4}, {1}},         {-1, {2}, {1}},
                            {0, {2, 2}, {1, -1}}, {0, {2}, {1ll << 62}}, {0, {3}, {2}}};
    for (const Case &c : cases) {
        const QByteArray pkl = tensorPickle(4, c.offset, c.size, c.stride);
        expectError("small.pt", buildZip(tensorArchive(pkl, floats(4)), false), {"outside its storage"});
    }
    // Size-1 dimensions never move, so a wild stride on one is harmless, as in torch.
    const QByteArray unit = tensorPickle(4, 1, {1, 3}, {1ll << 62, 1});
    const QString ok = writeArchive("unit.pt", buildZip(tensorArchive(unit, floats(4)), false));
    QCOMPARE(tl::readTorchStateDict(ok.toStdString()).at("w").values, (std::vector<float>{1, 2, 3}));
}

void TestTorchPickle::rejectsBadStorages()
{
    const QByteArray pkl = tensorPickle(8, 0, {8}, {1});
    // The pickle claims more elements than the storage entry holds.
    expectError("short.pt", buildZip(tensorArchive(pkl, floats(4)), false), {"claims 8"});
    // The storage entry is missing.
    QList<ZipMember> members = tensorArchive(pkl, floats(8));
    members.removeAt(2);
    expectError("nostorage.pt", buildZip(members, false), {"not in the archive"});
    // A stride-0 view expanding a tiny storage into a huge allocation.
    const QByteArray expand = tensorPickle(1, 0, {1 << 30, 1 << 20}, {0, 0});
    expectError("expand.pt", buildZip(tensorArchive(expand, floats(1)), false), {"refusing"});
}

void TestTorchPickle::rejectsCompressedAndBigEndian()
{
    QList<ZipMember> members = tensorArchive(tensorPickle(8, 0, {8}, {1}), floats(8));
    members[0].method = 8;
    expectError("deflated.pt", buildZip(members, false), {"compressed"});
    members[0].method = 0;
    members[1].data = "big";
    expectError("bigendian.pt", buildZip(members, false), {"'big'", "little-endian"});
}

void TestTorchPickle::rejectsNonTensorValue()
{
    const QByteArray notTensor = QByteArray("\x80\x02}(", 4) + pickleStr("step") + pickleInt(3) + "u.";
    expectError("notensor.pt", buildZip(tensorArchive(notTensor, {}), false), {"'step'", "not a tensor"});
    const QByteArray list = QByteArray("\x80\x02]", 3) + pickleInt(1) + "a.";
    expectError("list.pt", buildZip(tensorArchive(list, {}), false), {"not a dict"});
}

void TestTorchPickle::survivesFuzzedInput()
{
    // Random damage to the whole archive, and to data.pkl inside an intact archive (so the
    // unpickler itself sees the garbage): every outcome must be a result or a tl::Error.
    QRandomGenerator rng(1234);
    QList<QByteArray> pickles{tensorPickle(8, 1, {3, 2}, {1, 3})};
    if (m_pythonError.isEmpty()) {
        QFile f(path("protocol4.pt"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        const tl::ZipReader zip = tl::ZipReader::parse(std::vector<char>(bytes.begin(), bytes.end()), "p4");
        for (const tl::ZipEntry &e : zip.entries()) {
            if (QByteArray::fromStdString(e.name).endsWith("/data.pkl"))
                pickles.append(QByteArray(zip.data(e), qsizetype(e.size)));
        }
    }
    for (const QByteArray &pkl : pickles) {
        const QByteArray storage = floats(64);
        for (qsizetype n = 0; n < pkl.size(); ++n)
            QVERIFY(failsCleanly(buildZip(tensorArchive(pkl.left(n), storage), false)));
        for (int iter = 0; iter < 3000; ++iter) {
            QByteArray bad = pkl;
            for (int k = 1 + rng.bounded(4); k > 0; --k)
                bad[rng.bounded(int(bad.size()))] = static_cast<char>(rng.bounded(256));
            QVERIFY(failsCleanly(buildZip(tensorArchive(bad, storage), false)));
        }
        const QByteArray whole = buildZip(tensorArchive(pkl, storage), true);
        for (int iter = 0; iter < 3000; ++iter) {
            QByteArray bad = whole;
            for (int k = 1 + rng.bounded(4); k > 0; --k)
                bad[rng.bounded(int(bad.size()))] = static_cast<char>(rng.bounded(256));
            QVERIFY(failsCleanly(bad));
        }
    }
}

QTEST_APPLESS_MAIN(TestTorchPickle)
#include "tst_torchpickle.moc"
