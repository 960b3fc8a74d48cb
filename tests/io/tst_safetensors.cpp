#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>

#include "io/safetensors.h"
#include "testdata.h"
#include "util/error.h"

using tl::DType;

namespace {

// A safetensors file from its parts: u64 LE length, header text, data bytes.
QByteArray buildFile(const QByteArray &header, const QByteArray &data = {})
{
    QByteArray out;
    quint64 n = static_cast<quint64>(header.size());
    for (int i = 0; i < 8; ++i)
        out.append(static_cast<char>((n >> (8 * i)) & 0xff));
    return out + header + data;
}

QByteArray lengthPrefix(quint64 n)
{
    QByteArray out;
    for (int i = 0; i < 8; ++i)
        out.append(static_cast<char>((n >> (8 * i)) & 0xff));
    return out;
}

template <typename T> QByteArray rawBytes(std::initializer_list<T> values)
{
    QByteArray out;
    for (T v : values)
        out.append(reinterpret_cast<const char *>(&v), sizeof(T));
    return out;
}

bool writeBytes(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

QByteArray readBytes(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Parses and reports whether a tl::Error came out; any other exception fails the test.
bool throwsTlError(const std::vector<char> &bytes, std::string *message = nullptr)
{
    try {
        tl::SafetensorsFile::parse(bytes, "garbage.safetensors");
    } catch (const tl::Error &e) {
        if (message)
            *message = e.what();
        return true;
    }
    return false;
}

} // namespace

class TestSafetensors : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void dtypeTable();
    void roundTripDtypesAndShapes();
    void metadataRoundTrip();
    void knownTinyFileBytes();
    void readsPaddedUnalignedForeignLayout();
    void halfConversions();
    void bfloat16Conversions();
    void corruptFileThrows_data();
    void corruptFileThrows();
    void truncatedCopiesThrow();
    void randomGarbageThrows();
    void writerRejectsBadInput();
    void lookupAndIntConversion();

private:
    QTemporaryDir m_dir;
};

void TestSafetensors::dtypeTable()
{
    QCOMPARE(QByteArray(tl::dtypeName(DType::BF16)), QByteArray("BF16"));
    QCOMPARE(QByteArray(tl::dtypeName(DType::Bool)), QByteArray("BOOL"));
    QCOMPARE(tl::dtypeSize(DType::F64), size_t(8));
    QCOMPARE(tl::dtypeSize(DType::F16), size_t(2));
    QCOMPARE(tl::dtypeSize(DType::Bool), size_t(1));
}

void TestSafetensors::roundTripDtypesAndShapes()
{
    QVERIFY(m_dir.isValid());
    const float f32[6] = {1.5f, -2.0f, 0.25f, 3.0f, -0.0f, 100.0f};
    const uint16_t f16[3] = {tl::floatToHalf(1.0f), tl::floatToHalf(-2.5f), tl::floatToHalf(0.5f)};
    const uint16_t bf16[2] = {tl::floatToBfloat16(1.0f), tl::floatToBfloat16(-8.0f)};
    const double f64 = 3.25; // a scalar
    const int64_t i64[3] = {-5, 0, int64_t(1) << 40};
    const int32_t i32[2] = {-7, 70000};
    const int16_t i16[2] = {-300, 300};
    const int8_t i8[3] = {-128, 0, 127};
    const uint8_t u8[2] = {0, 255};
    const uint8_t boolean[3] = {1, 0, 1};
    const std::vector<tl::SafeTensorOut> out = {
        {"w.f32", DType::F32, {2, 3}, f32},
        {"w.f16", DType::F16, {3}, f16},
        {"w.bf16", DType::BF16, {2, 1}, bf16},
        {"scalar", DType::F64, {}, &f64},
        {"ids", DType::I64, {3}, i64},
        {"i32", DType::I32, {2}, i32},
        {"i16", DType::I16, {1, 2}, i16},
        {"i8", DType::I8, {3}, i8},
        {"u8", DType::U8, {2}, u8},
        {"mask", DType::Bool, {3}, boolean},
        {"empty", DType::F32, {0}, nullptr},
        {"empty3d", DType::I64, {2, 0, 3}, nullptr},
    };
    const std::string path = tltest::str(m_dir.filePath(QStringLiteral("roundtrip.safetensors")));
    tl::writeSafetensors(path, out);

    const tl::SafetensorsFile file = tl::SafetensorsFile::read(path);
    QCOMPARE(file.tensors().size(), out.size());
    QVERIFY(file.metadata().empty());
    for (size_t i = 1; i < file.tensors().size(); ++i)
        QVERIFY(file.tensors()[i - 1].name < file.tensors()[i].name);
    for (const tl::SafeTensorOut &t : out) {
        QVERIFY2(file.contains(t.name), t.name.c_str());
        const tl::SafeTensorInfo &info = file.info(t.name);
        QCOMPARE(info.dtype, t.dtype);
        QCOMPARE(info.shape, t.shape);
        const size_t bytes = size_t(info.numel()) * tl::dtypeSize(t.dtype);
        QCOMPARE(info.end - info.begin, bytes);
        if (bytes > 0)
            QVERIFY(std::memcmp(file.data(info), t.data, bytes) == 0);
    }
    // The writer's data section is 8-byte aligned.
    const QByteArray raw = readBytes(QString::fromStdString(path));
    quint64 headerLen = 0;
    std::memcpy(&headerLen, raw.constData(), 8);
    QCOMPARE((8 + headerLen) % 8, quint64(0));

    QCOMPARE(file.toFloat("w.f32"), std::vector<float>(f32, f32 + 6));
    QCOMPARE(file.toFloat("w.f16"), (std::vector<float>{1.0f, -2.5f, 0.5f}));
    QCOMPARE(file.toFloat("w.bf16"), (std::vector<float>{1.0f, -8.0f}));
    QCOMPARE(file.toFloat("scalar"), std::vector<float>{3.25f});
    QCOMPARE(file.info("scalar").numel(), int64_t(1));
    QCOMPARE(file.toInt64("ids"), (std::vector<int64_t>{-5, 0, int64_t(1) << 40}));
    QCOMPARE(file.toFloat("i32"), (std::vector<float>{-7.0f, 70000.0f}));
    QCOMPARE(file.toInt64("i16"), (std::vector<int64_t>{-300, 300}));
    QCOMPARE(file.toInt64("i8"), (std::vector<int64_t>{-128, 0, 127}));
    QCOMPARE(file.toFloat("u8"), (std::vector<float>{0.0f, 255.0f}));
    QCOMPARE(file.toFloat("mask"), (std::vector<float>{1.0f, 0.0f, 1.0f}));
    QCOMPARE(file.toInt64("mask"), (std::vector<int64_t>{1, 0, 1}));
    QVERIFY(file.toFloat("empty").empty());
    QCOMPARE(file.info("empty3d").numel(), int64_t(0));
    QVERIFY(file.toInt64("empty3d").empty());
}

void TestSafetensors::metadataRoundTrip()
{
    const float v[1] = {7.0f};
    const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "ünïcode \"quoted\"\n"}, {"empty", ""}};
    const std::string path = tltest::str(m_dir.filePath(QStringLiteral("meta.safetensors")));
    tl::writeSafetensors(path, {{"x", DType::F32, {1}, v}}, meta);
    const tl::SafetensorsFile file = tl::SafetensorsFile::read(path);
    QCOMPARE(file.metadata(), meta);
    QCOMPARE(file.tensors().size(), size_t(1));
    QCOMPARE(file.toFloat("x"), std::vector<float>{7.0f});
}

void TestSafetensors::knownTinyFileBytes()
{
    const float values[2] = {1.0f, 2.0f};
    const std::string path = tltest::str(m_dir.filePath(QStringLiteral("tiny.safetensors")));
    tl::writeSafetensors(path, {{"a", DType::F32, {2}, values}});

    // 54 characters of JSON padded with 2 spaces to 56, so 8 + 56 = 64 is 8-aligned.
    const QByteArray json = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    QCOMPARE(json.size(), 54);
    QByteArray expected("\x38\x00\x00\x00\x00\x00\x00\x00", 8);
    expected += json + "  ";
    expected += QByteArray("\x00\x00\x80\x3f\x00\x00\x00\x40", 8); // 1.0f, 2.0f LE
    QCOMPARE(readBytes(QString::fromStdString(path)), expected);

    // With metadata, __metadata__ comes first as Hugging Face writes it.
    tl::writeSafetensors(path, {{"a", DType::F32, {2}, values}}, {{"k", "v"}});
    const QByteArray withMeta = R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],)"
                                R"("data_offsets":[0,8]}})";
    QCOMPARE(withMeta.size(), 79);
    QByteArray expectedMeta("\x50\x00\x00\x00\x00\x00\x00\x00", 8); // 79 + 1 space = 80
    expectedMeta += withMeta + " ";
    expectedMeta += QByteArray("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);
    QCOMPARE(readBytes(QString::fromStdString(path)), expectedMeta);
}

void TestSafetensors::readsPaddedUnalignedForeignLayout()
{
    // Key order, trailing padding, data out of name order and an odd header length (so the
    // data is unaligned) all differ from what our writer makes; a reader must accept them.
    const QByteArray header =
        R"({"b":{"data_offsets":[0,2],"shape":[1],"dtype":"F16"},)"
        R"("a":{"shape":[2],"dtype":"F32","data_offsets":[2,10]},"z":{"dtype":"I8","shape":[0],"data_offsets":[10,10]}}   )";
    QVERIFY(header.size() % 8 != 0);
    const QByteArray data = rawBytes<uint16_t>({0xC000}) + rawBytes<float>({0.5f, -1.0f});
    const QByteArray bytes = buildFile(header, data);
    const tl::SafetensorsFile file =
        tl::SafetensorsFile::parse(std::vector<char>(bytes.begin(), bytes.end()), "foreign");
    QCOMPARE(file.tensors().size(), size_t(3));
    QCOMPARE(file.tensors()[0].name, std::string("a"));
    QCOMPARE(file.toFloat("a"), (std::vector<float>{0.5f, -1.0f}));
    QCOMPARE(file.toFloat("b"), std::vector<float>{-2.0f});
    QVERIFY(file.toFloat("z").empty());
}

void TestSafetensors::halfConversions()
{
    QCOMPARE(tl::floatToHalf(1.0f), uint16_t(0x3C00));
    QCOMPARE(tl::floatToHalf(-2.0f), uint16_t(0xC000));
    QCOMPARE(tl::floatToHalf(65504.0f), uint16_t(0x7BFF));
    QCOMPARE(tl::floatToHalf(std::ldexp(1.0f, -24)), uint16_t(0x0001));
    QCOMPARE(tl::floatToHalf(std::numeric_limits<float>::infinity()), uint16_t(0x7C00));
    QCOMPARE(tl::floatToHalf(-std::numeric_limits<float>::infinity()), uint16_t(0xFC00));
    QCOMPARE(tl::floatToHalf(0.0f), uint16_t(0x0000));
    QCOMPARE(tl::floatToHalf(-0.0f), uint16_t(0x8000));
    QCOMPARE(tl::halfToFloat(0x3C00), 1.0f);
    QCOMPARE(tl::halfToFloat(0xC000), -2.0f);
    QCOMPARE(tl::halfToFloat(0x7BFF), 65504.0f);
    QCOMPARE(tl::halfToFloat(0x0001), std::ldexp(1.0f, -24));
    QVERIFY(std::fabs(tl::halfToFloat(0x0001) - 5.96e-8f) < 1e-10f);
    QCOMPARE(tl::halfToFloat(0x03FF), std::ldexp(1023.0f, -24)); // largest subnormal
    QCOMPARE(tl::halfToFloat(0x0400), std::ldexp(1.0f, -14));    // smallest normal
    QVERIFY(std::isinf(tl::halfToFloat(0x7C00)) && tl::halfToFloat(0x7C00) > 0);
    QVERIFY(std::isinf(tl::halfToFloat(0xFC00)) && tl::halfToFloat(0xFC00) < 0);
    QVERIFY(std::isnan(tl::halfToFloat(0x7E00)));
    QVERIFY(std::isnan(tl::halfToFloat(0x7C01)));
    QVERIFY(std::signbit(tl::halfToFloat(0x8000)));

    // Round to nearest even: ties go to the even mantissa, above a tie rounds up.
    QCOMPARE(tl::floatToHalf(1.0f + std::ldexp(1.0f, -11)), uint16_t(0x3C00));
    QCOMPARE(tl::floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), uint16_t(0x3C02));
    QCOMPARE(tl::floatToHalf(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), uint16_t(0x3C01));
    QCOMPARE(tl::floatToHalf(65519.0f), uint16_t(0x7BFF));
    QCOMPARE(tl::floatToHalf(65520.0f), uint16_t(0x7C00)); // overflow to inf
    QCOMPARE(tl::floatToHalf(1e10f), uint16_t(0x7C00));
    QCOMPARE(tl::floatToHalf(-1e10f), uint16_t(0xFC00));
    QCOMPARE(tl::floatToHalf(std::ldexp(1.0f, -25)), uint16_t(0x0000)); // tie to even 0
    QCOMPARE(tl::floatToHalf(std::ldexp(1.5f, -25)), uint16_t(0x0001));
    QCOMPARE(tl::floatToHalf(std::ldexp(3.0f, -25)), uint16_t(0x0002)); // 1.5 ulp tie -> 2
    QCOMPARE(tl::floatToHalf(std::ldexp(1.0f, -30)), uint16_t(0x0000));
    QCOMPARE(tl::floatToHalf(std::ldexp(2047.0f, -25)), uint16_t(0x0400)); // carry to normal
    QVERIFY((tl::floatToHalf(std::nanf("")) & 0x7FFF) > 0x7C00);

    // Every non-NaN half survives half -> float -> half unchanged.
    for (uint32_t h = 0; h <= 0xFFFF; ++h) {
        if ((h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0)
            continue;
        QCOMPARE(tl::floatToHalf(tl::halfToFloat(uint16_t(h))), uint16_t(h));
    }
}

void TestSafetensors::bfloat16Conversions()
{
    QCOMPARE(tl::floatToBfloat16(1.0f), uint16_t(0x3F80));
    QCOMPARE(tl::bfloat16ToFloat(0x3F80), 1.0f);
    QCOMPARE(tl::floatToBfloat16(-2.0f), uint16_t(0xC000));
    QCOMPARE(tl::bfloat16ToFloat(0xC000), -2.0f);
    QCOMPARE(tl::floatToBfloat16(1.0f + std::ldexp(1.0f, -8)), uint16_t(0x3F80)); // tie even
    QCOMPARE(tl::floatToBfloat16(1.0f + 3 * std::ldexp(1.0f, -8)), uint16_t(0x3F82));
    QCOMPARE(tl::floatToBfloat16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -12)), uint16_t(0x3F81));
    QCOMPARE(tl::floatToBfloat16(std::numeric_limits<float>::infinity()), uint16_t(0x7F80));
    QCOMPARE(tl::floatToBfloat16(std::numeric_limits<float>::max()), uint16_t(0x7F80));
    // A NaN whose payload sits only in the low bits must not truncate into inf.
    float lowNan;
    const uint32_t lowNanBits = 0x7F800001u;
    std::memcpy(&lowNan, &lowNanBits, 4);
    QVERIFY(std::isnan(tl::bfloat16ToFloat(tl::floatToBfloat16(lowNan))));
    QVERIFY(std::isnan(tl::bfloat16ToFloat(tl::floatToBfloat16(std::nanf("")))));
    QVERIFY(std::isnan(tl::bfloat16ToFloat(0x7FC0)));
}

void TestSafetensors::corruptFileThrows_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QByteArray>("fragment"); // the tensor name, or a piece of the message

    const QByteArray four = rawBytes<float>({1.0f});
    auto entry = [](const char *name, const char *body) { return QByteArray("{\"") + name + "\":{" + body + "}}"; };
    QTest::newRow("empty file") << QByteArray() << QByteArray("shorter");
    QTest::newRow("7 bytes") << QByteArray("\x01\x00\x00\x00\x00\x00\x00", 7) << QByteArray("shorter");
    QTest::newRow("header beyond file") << lengthPrefix(100) + QByteArray("{}") << QByteArray("beyond");
    QTest::newRow("absurd header length")
        << lengthPrefix(quint64(1) << 62) + QByteArray("{}") << QByteArray("header length");
    QTest::newRow("zero header") << buildFile("") << QByteArray("JSON");
    QTest::newRow("invalid json") << buildFile("{\"a\":") << QByteArray("JSON");
    QTest::newRow("invalid utf8") << buildFile("{\"\xff\xfe\":{}}") << QByteArray("JSON");
    QTest::newRow("header array") << buildFile("[1,2]") << QByteArray("not a JSON object");
    QTest::newRow("entry not object") << buildFile("{\"enc.w\":5}") << QByteArray("enc.w");
    QTest::newRow("missing dtype") << buildFile(entry("enc.w", "\"shape\":[1],\"data_offsets\":[0,4]"), four)
                                   << QByteArray("enc.w");
    QTest::newRow("missing shape") << buildFile(entry("enc.w", "\"dtype\":\"F32\",\"data_offsets\":[0,4]"), four)
                                   << QByteArray("enc.w");
    QTest::newRow("missing offsets") << buildFile(entry("enc.w", "\"dtype\":\"F32\",\"shape\":[1]"), four)
                                     << QByteArray("enc.w");
    QTest::newRow("dtype not string") << buildFile(entry("enc.w", "\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]"),
                                                   four)
                                      << QByteArray("enc.w");
    QTest::newRow("shape not array") << buildFile(
                                            entry("enc.w", "\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]"),
                                            four)
                                     << QByteArray("enc.w");
    QTest::newRow("shape float") << buildFile(
                                        entry("enc.w", "\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]"),
                                        four)
                                 << QByteArray("enc.w");
    QTest::newRow("offsets one value") << buildFile(
                                              entry("enc.w", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]"),
                                              four)
                                       << QByteArray("enc.w");
    QTest::newRow("offsets negative") << buildFile(
                                             entry("enc.w", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]"),
                                             four)
                                      << QByteArray("enc.w");
    QTest::newRow("offsets string") << buildFile(
                                           entry("enc.w", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]"),
                                           four)
                                    << QByteArray("enc.w");
    QTest::newRow("negative dim") << buildFile(
                                         entry("enc.w", "\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]"),
                                         four)
                                  << QByteArray("enc.w");
    QTest::newRow("dim beyond int64") << buildFile(entry("enc.w", "\"dtype\":\"F32\",\"shape\":[18446744073709551615],"
                                                                  "\"data_offsets\":[0,4]"),
                                                   four)
                                      << QByteArray("enc.w");
    QTest::newRow("unknown dtype") << buildFile(entry("enc.w", "\"dtype\":\"F8\",\"shape\":[1],\"data_offsets\":[0,4]"),
                                                four)
                                   << QByteArray("enc.w");
    QTest::newRow("begin after end") << buildFile(
                                            entry("enc.w", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]"),
                                            four)
                                     << QByteArray("enc.w");
    QTest::newRow("end beyond data") << buildFile(
                                            entry("enc.w", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]"),
                                            four)
                                     << QByteArray("enc.w");
    QTest::newRow("huge end") << buildFile(entry("enc.w", "\"dtype\":\"F32\",\"shape\":[1],"
                                                          "\"data_offsets\":[0,18446744073709551615]"),
                                           four)
                              << QByteArray("enc.w");
    QTest::newRow("size mismatch") << buildFile(
                                          entry("enc.w", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]"),
                                          four)
                                   << QByteArray("enc.w");
    QTest::newRow("numel overflow") << buildFile(entry("enc.w", "\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],"
                                                                "\"data_offsets\":[0,4]"),
                                                 four)
                                    << QByteArray("enc.w");
    QTest::newRow("bytes overflow") << buildFile(entry("enc.w", "\"dtype\":\"F64\",\"shape\":[2305843009213693952],"
                                                                "\"data_offsets\":[0,4]"),
                                                 four)
                                    << QByteArray("enc.w");
    QTest::newRow("overlap") << buildFile(R"({"enc.a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                          R"("enc.b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                          four + four)
                             << QByteArray("enc.b");
    QTest::newRow("hole") << buildFile(R"({"enc.a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                       R"("enc.b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                                       four + four + four)
                          << QByteArray("enc.b");
    QTest::newRow("trailing uncovered data")
        << buildFile(entry("enc.w", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"), four + four)
        << QByteArray("cover");
    QTest::newRow("duplicate tensor") << buildFile(R"({"enc.d":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                                   R"("enc.d":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                                   four)
                                      << QByteArray("enc.d");
    QTest::newRow("duplicate key in entry")
        << buildFile(R"({"enc.k":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}})", four)
        << QByteArray("enc.k");
    QTest::newRow("metadata not object") << buildFile(R"({"__metadata__":[1]})") << QByteArray("__metadata__");
    QTest::newRow("metadata value not string") << buildFile(R"({"__metadata__":{"step":1}})") << QByteArray("step");
}

void TestSafetensors::corruptFileThrows()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QByteArray, fragment);
    const QString path = m_dir.filePath(
        QStringLiteral("corrupt-%1.safetensors")
            .arg(QString::fromLatin1(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('_'))));
    QVERIFY(writeBytes(path, bytes));
    try {
        tl::SafetensorsFile::read(path.toStdString());
        QFAIL("read accepted a corrupt file");
    } catch (const tl::Error &e) {
        const QByteArray message(e.what());
        QVERIFY2(message.contains(path.toUtf8()), message.constData());
        QVERIFY2(message.contains(fragment), message.constData());
    }
}

void TestSafetensors::truncatedCopiesThrow()
{
    const float v[3] = {1, 2, 3};
    const int64_t ids[2] = {4, 5};
    const std::string path = tltest::str(m_dir.filePath(QStringLiteral("whole.safetensors")));
    tl::writeSafetensors(path, {{"v", DType::F32, {3}, v}, {"ids", DType::I64, {2}, ids}}, {{"k", "v"}});
    const QByteArray whole = readBytes(QString::fromStdString(path));
    QVERIFY(whole.size() > 16);
    QVERIFY(!throwsTlError(std::vector<char>(whole.begin(), whole.end())));
    for (int len = 0; len < whole.size(); ++len) {
        std::string message;
        QVERIFY2(throwsTlError(std::vector<char>(whole.begin(), whole.begin() + len), &message),
                 qPrintable(QStringLiteral("truncated to %1 bytes").arg(len)));
        QVERIFY(message.find("garbage.safetensors") != std::string::npos);
    }
}

void TestSafetensors::randomGarbageThrows()
{
    QRandomGenerator rng(12345);
    for (int i = 0; i < 300; ++i) {
        std::vector<char> bytes(rng.bounded(200));
        for (char &c : bytes)
            c = static_cast<char>(rng.bounded(256));
        // Half the time give a plausible length so the JSON parser sees the garbage.
        if (bytes.size() >= 8 && (i & 1)) {
            const quint64 n = rng.bounded(quint32(bytes.size() - 7));
            std::memcpy(bytes.data(), &n, 8);
        }
        QVERIFY(throwsTlError(bytes));
    }

    // Flipped bytes in a valid file may leave it valid (e.g. inside the data), but must never
    // crash or throw anything other than tl::Error.
    const float v[4] = {1, 2, 3, 4};
    const std::string path = tltest::str(m_dir.filePath(QStringLiteral("flip.safetensors")));
    tl::writeSafetensors(path, {{"a", DType::F32, {2, 2}, v}, {"b", DType::F16, {0}, nullptr}});
    const QByteArray whole = readBytes(QString::fromStdString(path));
    for (int i = 0; i < 2000; ++i) {
        std::vector<char> bytes(whole.begin(), whole.end());
        for (int k = 0; k < 3; ++k)
            bytes[rng.bounded(quint32(bytes.size()))] = static_cast<char>(rng.bounded(256));
        try {
            tl::SafetensorsFile::parse(bytes, "flip");
        } catch (const tl::Error &) {
        }
    }
}

void TestSafetensors::writerRejectsBadInput()
{
    const float v[1] = {1};
    const std::string path = tltest::str(m_dir.filePath(QStringLiteral("bad-write.safetensors")));
    QVERIFY_THROWS_EXCEPTION(tl::Error,
                             tl::writeSafetensors(path, {{"x", DType::F32, {1}, v}, {"x", DType::F32, {1}, v}}));
    QVERIFY_THROWS_EXCEPTION(tl::Error, tl::writeSafetensors(path, {{"x", DType::F32, {-1}, v}}));
    QVERIFY_THROWS_EXCEPTION(tl::Error, tl::writeSafetensors(path, {{"x", DType::F32, {1}, nullptr}}));
    QVERIFY_THROWS_EXCEPTION(tl::Error, tl::writeSafetensors(path, {{"__metadata__", DType::F32, {1}, v}}));
    QVERIFY(!QFile::exists(QString::fromStdString(path)));
}

void TestSafetensors::lookupAndIntConversion()
{
    const float vals[3] = {2.9f, -2.9f, std::nanf("")};
    const std::string path = tltest::str(m_dir.filePath(QStringLiteral("lookup.safetensors")));
    tl::writeSafetensors(path, {{"ok", DType::F32, {2}, vals}, {"nan", DType::F32, {3}, vals}});
    const tl::SafetensorsFile file = tl::SafetensorsFile::read(path);
    QVERIFY(file.contains("ok"));
    QVERIFY(!file.contains("missing"));
    try {
        file.info("missing");
        QFAIL("info() accepted an absent tensor");
    } catch (const tl::Error &e) {
        QVERIFY(std::string(e.what()).find("missing") != std::string::npos);
        QVERIFY(std::string(e.what()).find(path) != std::string::npos);
    }
    QCOMPARE(file.toInt64("ok"), (std::vector<int64_t>{2, -2})); // truncation toward zero
    QVERIFY_THROWS_EXCEPTION(tl::Error, file.toInt64("nan"));
}

QTEST_APPLESS_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
