#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <random>

#include "io/safetensors.h"
#include "io/torch_pickle.h"
#include "io/zip_reader.h"
#include "io/zip_writer.h"
#include "prune/mask_io.h"
#include "testdata.h"
#include "util/error.h"
#include "util/fileio.h"

namespace {

using tltest::str;

const tl::ParamShapes kParams = {{"bert.encoder.layer.0.attention.self.query.weight", {24, 16}},
                                 {"bert.encoder.layer.0.intermediate.dense.weight", {40, 16}},
                                 {"bert.encoder.layer.0.output.dense.bias", {9}},
                                 {"bert.pooler.dense.weight", {16, 16}},
                                 {"empty.weight", {0, 4}}};

// Roughly 40% pruned, different per tensor, from a fixed seed.
tl::MaskSet makeMask(const tl::ParamShapes &params = kParams, uint32_t seed = 1)
{
    std::mt19937 rng(seed);
    tl::MaskSet m;
    for (const auto &[name, shape] : params) {
        tl::MaskTensor t;
        t.name = name;
        t.shape = shape;
        t.keep.resize(size_t(t.numel()));
        for (uint8_t &k : t.keep)
            k = rng() % 10 < 6 ? 1 : 0;
        m.tensors.push_back(t);
    }
    return m;
}

// Same tensors by name (order may differ: readers sort where the format does not keep one).
bool sameTensors(const tl::MaskSet &a, const tl::MaskSet &b)
{
    if (a.tensors.size() != b.tensors.size())
        return false;
    for (const tl::MaskTensor &x : a.tensors) {
        const tl::MaskTensor *y = b.find(x.name);
        if (!y || y->shape != x.shape || y->keep != x.keep)
            return false;
    }
    return true;
}

void writeBytes(const QString &path, const std::vector<char> &bytes)
{
    tl::writeFileAtomic(str(path), bytes.data(), bytes.size());
}

std::vector<char> npyF32(const std::vector<int64_t> &shape, const std::vector<float> &values)
{
    std::string dims;
    for (int64_t d : shape)
        dims += std::to_string(d) + ",";
    std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    dict.append(64 - (10 + dict.size()) % 64 - 1, ' ');
    dict.push_back('\n');
    std::string out("\x93NUMPY\x01\x00", 8);
    out.push_back(char(dict.size() & 0xff));
    out.push_back(char(dict.size() >> 8));
    out += dict;
    out.append(reinterpret_cast<const char *>(values.data()), values.size() * sizeof(float));
    return std::vector<char>(out.begin(), out.end());
}

// Checks our .pt and .npz in real PyTorch / NumPy, then writes the files Python makes:
// a BERT-Tickets mask.pt (plain dict of "_mask" float tensors, saved as if from CUDA),
// an npz from numpy.savez (bool arrays) and a .pt holding a 0.5.
const char *kPythonScript = R"PY(
import collections, inspect, json, sys, zipfile
import numpy as np, torch, torch.nn.utils.prune
import torch.serialization as ser
d = sys.argv[1]
meta = json.load(open(d + '/expected.json'))
raw = np.fromfile(d + '/expected.bin', dtype=np.uint8)
kw = {'weights_only': True} if 'weights_only' in inspect.signature(torch.load).parameters else {}
for f in ('mask.pt', 'mask.npz'):
    assert zipfile.ZipFile(d + '/' + f).testzip() is None, f  # every CRC-32 right
sd = torch.load(d + '/mask.pt', **kw)
assert isinstance(sd, collections.OrderedDict), type(sd)
assert list(sd.keys()) == [n + '_mask' for n, _ in meta], list(sd.keys())
npz = np.load(d + '/mask.npz')
assert sorted(npz.files) == sorted(n for n, _ in meta), npz.files
off, applied, bt, npsaved = 0, 0, {}, {}
for name, shape in meta:
    n = int(np.prod(shape))
    want = raw[off:off + n].reshape(shape); off += n
    m = sd[name + '_mask']
    assert m.dtype == torch.float32 and list(m.shape) == shape and m.is_contiguous(), name
    assert torch.equal(m, torch.from_numpy(want.astype(np.float32))), name
    a = npz[name]
    assert a.dtype == np.uint8 and list(a.shape) == shape and np.array_equal(a, want), name
    bt[name + '_mask'] = m.clone()
    npsaved[name] = want.astype(bool)
    if n == 0 or len(shape) > 2:
        continue
    lin = torch.nn.Linear(shape[1] if len(shape) == 2 else 1, shape[0])
    param = 'weight' if len(shape) == 2 else 'bias'
    with torch.no_grad():
        getattr(lin, param).uniform_(0.5, 1.0)
    orig = getattr(lin, param).detach().clone()
    torch.nn.utils.prune.custom_from_mask(lin, param, m)
    w = getattr(lin, param)
    assert torch.equal(w == 0, m == 0), name
    assert torch.equal(w[m == 1], orig[m == 1]), name
    applied += 1
ser.location_tag = lambda storage: 'cuda:0'
torch.save(bt, d + '/bt_mask.pt')
assert b'cuda:0' in zipfile.ZipFile(d + '/bt_mask.pt').read('bt_mask/data.pkl')
np.savez(d + '/np_saved.npz', **npsaved)
bad = dict(bt); bad[meta[0][0] + '_mask'] = torch.full(meta[0][1], 0.5)
torch.save(bad, d + '/half.pt')
print('OK', applied)
)PY";

} // namespace

class TestMaskIO : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void formatNames();
    void roundTrip_data();
    void roundTrip();
    void ptLayout();
    void ptWithOtherMemberOrder();
    void npzLayout();
    void alignRestoresModelOrder();
    void validateMaskNamesTheKey();
    void readsPythonFiles();
    void badValuesNameTheKey();
    void notAMaskFile();
    void overwritesAtomically();
    void zipWriterManyMembers();

private:
    QTemporaryDir m_dir;
    QString path(const QString &name) const { return m_dir.filePath(name); }
};

void TestMaskIO::formatNames()
{
    QCOMPARE(tl::maskFormatFromName("SafeTensors"), tl::MaskFormat::Safetensors);
    QCOMPARE(tl::maskFormatFromName("pt"), tl::MaskFormat::Pt);
    QCOMPARE(tl::maskFormatFromName("npz"), tl::MaskFormat::Npz);
    EXPECT_ERROR(tl::maskFormatFromName("json"), "json");
    QCOMPARE(tl::maskFormatFromPath("/x/mask.safetensors"), tl::MaskFormat::Safetensors);
    QCOMPARE(tl::maskFormatFromPath("mask.PT"), tl::MaskFormat::Pt);
    QCOMPARE(tl::maskFormatFromPath("a.b/mask.npz"), tl::MaskFormat::Npz);
    EXPECT_ERROR(tl::maskFormatFromPath("mask.txt"), "mask.txt");
    for (tl::MaskFormat f : {tl::MaskFormat::Safetensors, tl::MaskFormat::Pt, tl::MaskFormat::Npz})
        QCOMPARE(tl::maskFormatFromName(tl::maskFormatName(f)), f);
}

void TestMaskIO::roundTrip_data()
{
    QTest::addColumn<int>("format");
    QTest::addColumn<QString>("file");
    QTest::newRow("safetensors") << int(tl::MaskFormat::Safetensors) << QStringLiteral("rt.safetensors");
    QTest::newRow("pt") << int(tl::MaskFormat::Pt) << QStringLiteral("rt.pt");
    QTest::newRow("npz") << int(tl::MaskFormat::Npz) << QStringLiteral("rt.npz");
    // Detection is by content, not by name.
    QTest::newRow("pt named .npz") << int(tl::MaskFormat::Pt) << QStringLiteral("pt-in-disguise.npz");
    QTest::newRow("npz named .safetensors") << int(tl::MaskFormat::Npz) << QStringLiteral("npz.safetensors");
}

void TestMaskIO::roundTrip()
{
    QFETCH(int, format);
    QFETCH(QString, file);
    const tl::MaskSet mask = makeMask();
    tl::writeMaskFile(mask, str(path(file)), tl::MaskFormat(format));
    const tl::MaskSet back = tl::readMaskFile(str(path(file)));
    QVERIFY(sameTensors(mask, back));
    QCOMPARE(back.kept(), mask.kept());
    if (tl::MaskFormat(format) == tl::MaskFormat::Npz) { // the one format that keeps the order
        for (size_t i = 0; i < mask.tensors.size(); ++i)
            QCOMPARE(back.tensors[i].name, mask.tensors[i].name);
    }
    // A BERT-base-sized tensor too, bit-exact.
    const tl::MaskSet big = makeMask({{"bert.encoder.layer.3.output.dense.weight", {768, 3072}}}, 9);
    tl::writeMaskFile(big, str(path(QStringLiteral("big-") + file)), tl::MaskFormat(format));
    QVERIFY(sameTensors(big, tl::readMaskFile(str(path(QStringLiteral("big-") + file)))));
}

void TestMaskIO::ptLayout()
{
    const tl::MaskSet mask = makeMask();
    tl::writeMaskFile(mask, str(path(QStringLiteral("layout.pt"))), tl::MaskFormat::Pt);
    const std::vector<char> bytes = tl::readFileBytes(str(path(QStringLiteral("layout.pt"))));
    const tl::ZipReader zip = tl::ZipReader::parse(bytes, "layout.pt");
    QCOMPARE(zip.entries().front().name, std::string("archive/data.pkl")); // torch names the archive by it
    const tl::ZipEntry *version = zip.find("archive/version");
    QVERIFY(version && std::string(zip.data(*version), version->size) == "3\n");
    const tl::ZipEntry *order = zip.find("archive/byteorder");
    QVERIFY(order && std::string(zip.data(*order), order->size) == "little");
    for (size_t i = 0; i < mask.tensors.size(); ++i) {
        const tl::ZipEntry *e = zip.find("archive/data/" + std::to_string(i));
        QVERIFY(e);
        QCOMPARE(e->dataOffset % 64, uint64_t(0));
        QCOMPARE(e->size, uint64_t(mask.tensors[i].numel()) * 4);
    }
    const auto sd = tl::readTorchStateDict(str(path(QStringLiteral("layout.pt"))));
    QCOMPARE(sd.size(), mask.tensors.size());
    for (const tl::MaskTensor &t : mask.tensors) {
        const auto it = sd.find(t.name + "_mask");
        QVERIFY2(it != sd.end(), t.name.c_str());
        QCOMPARE(it->second.shape, t.shape);
        for (size_t j = 0; j < t.keep.size(); ++j)
            QCOMPARE(it->second.values[j], float(t.keep[j]));
    }
    const tl::SafetensorsFile st = [&] {
        tl::writeMaskFile(mask, str(path(QStringLiteral("layout.safetensors"))), tl::MaskFormat::Safetensors);
        return tl::SafetensorsFile::read(str(path(QStringLiteral("layout.safetensors"))));
    }();
    QCOMPARE(st.info(mask.tensors[0].name + "_mask").dtype, tl::DType::F32);
}

void TestMaskIO::ptWithOtherMemberOrder()
{
    // Other zip tools may reorder members; data.pkl need not come first.
    const tl::MaskSet mask = makeMask();
    tl::writeMaskFile(mask, str(path(QStringLiteral("order.pt"))), tl::MaskFormat::Pt);
    const tl::ZipReader zip = tl::ZipReader::parse(tl::readFileBytes(str(path(QStringLiteral("order.pt")))), "o");
    tl::ZipWriter reordered;
    for (auto e = zip.entries().rbegin(); e != zip.entries().rend(); ++e)
        reordered.add(e->name, zip.data(*e), e->size);
    writeBytes(path(QStringLiteral("reordered.pt")), reordered.finish());
    QVERIFY(sameTensors(mask, tl::readMaskFile(str(path(QStringLiteral("reordered.pt"))))));
}

void TestMaskIO::npzLayout()
{
    const tl::MaskSet mask = makeMask();
    tl::writeMaskFile(mask, str(path(QStringLiteral("layout.npz"))), tl::MaskFormat::Npz);
    const tl::ZipReader zip =
        tl::ZipReader::parse(tl::readFileBytes(str(path(QStringLiteral("layout.npz")))), "layout.npz");
    QCOMPARE(zip.entries().size(), mask.tensors.size());
    for (const tl::MaskTensor &t : mask.tensors) {
        const tl::ZipEntry *e = zip.find(t.name + ".npy");
        QVERIFY2(e, t.name.c_str());
        const char *p = zip.data(*e);
        QCOMPARE(std::string(p, 8), std::string("\x93NUMPY\x01\x00", 8));
        const size_t headerLen = size_t(uint8_t(p[8])) | size_t(uint8_t(p[9])) << 8;
        QCOMPARE((10 + headerLen) % 64, size_t(0));
        QCOMPARE((e->dataOffset + 10 + headerLen) % 64, uint64_t(0)); // aligned in the file too
        const std::string header(p + 10, headerLen);
        QVERIFY2(header.find("'descr': '|u1'") != std::string::npos, header.c_str());
        QCOMPARE(header.back(), '\n');
        QCOMPARE(e->size, 10 + headerLen + t.keep.size());
        QVERIFY(t.keep.empty() || std::memcmp(p + 10 + headerLen, t.keep.data(), t.keep.size()) == 0);
    }
}

void TestMaskIO::alignRestoresModelOrder()
{
    const tl::MaskSet mask = makeMask();
    tl::writeMaskFile(mask, str(path(QStringLiteral("order.safetensors"))), tl::MaskFormat::Safetensors);
    const tl::MaskSet read = tl::readMaskFile(str(path(QStringLiteral("order.safetensors"))));
    const tl::MaskSet aligned = tl::alignMask(read, kParams, "order.safetensors");
    for (size_t i = 0; i < mask.tensors.size(); ++i) {
        QCOMPARE(aligned.tensors[i].name, mask.tensors[i].name);
        QVERIFY(aligned.tensors[i].keep == mask.tensors[i].keep);
    }
}

void TestMaskIO::validateMaskNamesTheKey()
{
    const std::string file = str(path(QStringLiteral("v.pt")));
    tl::writeMaskFile(makeMask(), file, tl::MaskFormat::Pt);
    const tl::MaskSet mask = tl::readMaskFile(file);
    tl::validateMask(mask, kParams, file);
    QCOMPARE(mask.sparsity(), 1.0 - double(mask.kept()) / double(mask.total()));

    tl::ParamShapes wrongShape = kParams;
    wrongShape[1].second = {16, 40};
    EXPECT_ERROR(tl::validateMask(mask, wrongShape, file), kParams[1].first);
    EXPECT_ERROR(tl::validateMask(mask, wrongShape, file), file);
    tl::ParamShapes extra = kParams;
    extra.push_back({"bert.encoder.layer.1.attention.self.key.weight", {4, 4}});
    EXPECT_ERROR(tl::validateMask(mask, extra, file), "layer.1.attention.self.key.weight' is missing");
    tl::ParamShapes fewer(kParams.begin() + 1, kParams.end());
    EXPECT_ERROR(tl::validateMask(mask, fewer, file), kParams[0].first + "' is not a prunable parameter");
    tl::MaskSet twice = mask;
    twice.tensors.push_back(mask.tensors[0]);
    EXPECT_ERROR(tl::validateMask(twice, kParams, file), "twice");
    tl::MaskSet notBinary = mask;
    notBinary.tensors[2].keep[0] = 2;
    EXPECT_ERROR(tl::validateMask(notBinary, kParams, file), kParams[2].first);
}

void TestMaskIO::readsPythonFiles()
{
    const QString python = tltest::pythonWithTorch();
    if (python.isEmpty())
        TL_SKIP("python3 with torch and numpy not found (apt-get install python3-torch python3-numpy): "
                "the files were not checked in real PyTorch / NumPy");
    const tl::MaskSet mask = makeMask();
    tl::writeMaskFile(mask, str(path(QStringLiteral("mask.pt"))), tl::MaskFormat::Pt);
    tl::writeMaskFile(mask, str(path(QStringLiteral("mask.npz"))), tl::MaskFormat::Npz);
    QJsonArray meta;
    std::vector<char> raw;
    for (const tl::MaskTensor &t : mask.tensors) {
        QJsonArray shape;
        for (int64_t d : t.shape)
            shape.append(qint64(d));
        meta.append(QJsonArray{QString::fromStdString(t.name), shape});
        raw.insert(raw.end(), t.keep.begin(), t.keep.end());
    }
    writeBytes(path(QStringLiteral("expected.bin")), raw);
    const QByteArray json = QJsonDocument(meta).toJson();
    writeBytes(path(QStringLiteral("expected.json")), std::vector<char>(json.begin(), json.end()));

    QProcess py;
    py.start(python, {QStringLiteral("-c"), QString::fromUtf8(kPythonScript), m_dir.path()});
    QVERIFY(py.waitForFinished(300000));
    const QByteArray out = py.readAllStandardOutput() + py.readAllStandardError();
    QVERIFY2(py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0, out.constData());
    QVERIFY2(out.startsWith("OK 4"), out.constData()); // custom_from_mask applied to all four

    QVERIFY(sameTensors(mask, tl::readMaskFile(str(path(QStringLiteral("bt_mask.pt")))))); // saved "from cuda:0"
    const tl::MaskSet npz = tl::readMaskFile(str(path(QStringLiteral("np_saved.npz"))));
    QVERIFY(sameTensors(mask, npz));
    QCOMPARE(npz.tensors.front().name, mask.tensors.front().name);
    EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("half.pt")))), kParams[0].first + "_mask'");
    EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("half.pt")))), "half.pt");
}

void TestMaskIO::badValuesNameTheKey()
{
    const std::vector<float> values = {1, 0, 0.5f, 1};
    const std::string st = str(path(QStringLiteral("half.safetensors")));
    tl::writeSafetensors(st, {{"a.weight_mask", tl::DType::F32, {2, 2}, values.data()}});
    EXPECT_ERROR(tl::readMaskFile(st), "a.weight_mask'");
    EXPECT_ERROR(tl::readMaskFile(st), "half.safetensors");

    const std::vector<uint8_t> two = {1, 2};
    tl::writeSafetensors(str(path(QStringLiteral("two.safetensors"))), {{"b_mask", tl::DType::U8, {2}, two.data()}});
    EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("two.safetensors")))), "b_mask'");

    const std::vector<uint8_t> bools = {1, 0, 0, 1};
    const std::vector<double> doubles = {1, 0, 0, 1};
    tl::writeSafetensors(
        str(path(QStringLiteral("types.safetensors"))),
        {{"c_mask", tl::DType::Bool, {4}, bools.data()}, {"d", tl::DType::F64, {2, 2}, doubles.data()}});
    const tl::MaskSet types = tl::readMaskFile(str(path(QStringLiteral("types.safetensors"))));
    QVERIFY(types.find("c") && types.find("c")->keep == bools);
    QVERIFY(types.find("d") && types.find("d")->keep == bools);

    tl::writeSafetensors(str(path(QStringLiteral("dup.safetensors"))),
                         {{"c_mask", tl::DType::Bool, {4}, bools.data()}, {"c", tl::DType::Bool, {4}, bools.data()}});
    EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("dup.safetensors")))), "'c' twice");

    tl::ZipWriter zip;
    const std::vector<char> npy = npyF32({2, 2}, values);
    zip.add("e.weight.npy", npy.data(), npy.size());
    writeBytes(path(QStringLiteral("half.npz")), zip.finish());
    EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("half.npz")))), "e.weight'");

    std::vector<char> shortNpy = npyF32({3, 2}, {1, 0, 1, 0});
    zip.add("f.npy", shortNpy.data(), shortNpy.size());
    writeBytes(path(QStringLiteral("short.npz")), zip.finish());
    EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("short.npz")))), "'f'");

    const std::vector<char> ok = npyF32({2, 2}, {1, 0, 0, 1});
    zip.add("g.npy", ok.data(), ok.size());
    writeBytes(path(QStringLiteral("f4.npz")), zip.finish());
    QVERIFY(tl::readMaskFile(str(path(QStringLiteral("f4.npz")))).find("g")->keep == bools);
}

void TestMaskIO::notAMaskFile()
{
    writeBytes(path(QStringLiteral("text.txt")), {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!'});
    EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("text.txt")))), "text.txt: not a mask file");
    writeBytes(path(QStringLiteral("empty.bin")), {});
    EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("empty.bin")))), "empty.bin");
    EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("absent.pt")))), "absent.pt");
    writeBytes(path(QStringLiteral("legacy.pt")), {'\x80', '\x02', '}', 'q', '\x00', '.'});
    EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("legacy.pt")))), "legacy");

    tl::ZipWriter zip;
    zip.add("readme.txt", std::string("hi"));
    writeBytes(path(QStringLiteral("other.zip")), zip.finish());
    EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("other.zip")))), "other.zip: a zip archive but neither");

    tl::writeMaskFile(makeMask(), str(path(QStringLiteral("cut.pt"))), tl::MaskFormat::Pt);
    std::vector<char> bytes = tl::readFileBytes(str(path(QStringLiteral("cut.pt"))));
    for (size_t n : {bytes.size() - 1, bytes.size() / 2, size_t(10)}) {
        writeBytes(path(QStringLiteral("cut2.pt")),
                   std::vector<char>(bytes.begin(), bytes.begin() + std::ptrdiff_t(n)));
        EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("cut2.pt")))), "cut2.pt");
    }
    tl::writeMaskFile(makeMask(), str(path(QStringLiteral("cut.npz"))), tl::MaskFormat::Npz);
    bytes = tl::readFileBytes(str(path(QStringLiteral("cut.npz"))));
    writeBytes(path(QStringLiteral("cut2.npz")), std::vector<char>(bytes.begin(), bytes.end() - 30));
    EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("cut2.npz")))), "cut2.npz");

    // A model checkpoint is not a mask: its weights are not 0 or 1.
    const std::vector<float> weights = {0.25f, -1.5f};
    tl::writeSafetensors(str(path(QStringLiteral("model.safetensors"))),
                         {{"bert.pooler.dense.bias", tl::DType::F32, {2}, weights.data()}});
    EXPECT_ERROR(tl::readMaskFile(str(path(QStringLiteral("model.safetensors")))), "bert.pooler.dense.bias'");

    tl::MaskSet bad = makeMask();
    bad.tensors[0].keep.pop_back();
    EXPECT_ERROR(tl::writeMaskFile(bad, str(path(QStringLiteral("bad.pt"))), tl::MaskFormat::Pt), kParams[0].first);
    QVERIFY(!QFile::exists(path(QStringLiteral("bad.pt"))));
}

void TestMaskIO::overwritesAtomically()
{
    const QString file = path(QStringLiteral("atomic/m.safetensors"));
    QVERIFY(QDir().mkpath(path(QStringLiteral("atomic"))));
    tl::writeMaskFile(makeMask(kParams, 1), str(file), tl::MaskFormat::Safetensors);
    const tl::MaskSet second = makeMask(kParams, 2);
    tl::writeMaskFile(second, str(file), tl::MaskFormat::Safetensors);
    QVERIFY(sameTensors(second, tl::readMaskFile(str(file))));
    QCOMPARE(QDir(path(QStringLiteral("atomic"))).entryList(QDir::Files),
             QStringList{QStringLiteral("m.safetensors")}); // no temporaries
}

void TestMaskIO::zipWriterManyMembers()
{
    // 70000 members overflow the 16-bit count: the writer must switch to ZIP64 end records.
    tl::ZipWriter zip(1);
    for (int i = 0; i < 70000; ++i)
        zip.add("m" + std::to_string(i), std::to_string(i * 7));
    const std::vector<char> bytes = zip.finish();
    const tl::ZipReader back = tl::ZipReader::parse(bytes, "many.zip");
    QCOMPARE(back.entries().size(), size_t(70000));
    const tl::ZipEntry *e = back.find("m69999");
    QVERIFY(e && std::string(back.data(*e), e->size) == std::to_string(69999 * 7));
    QCOMPARE(tl::crc32("123456789", 9), 0xCBF43926u); // the standard check value
}

QTEST_APPLESS_MAIN(TestMaskIO)
#include "tst_maskio.moc"
