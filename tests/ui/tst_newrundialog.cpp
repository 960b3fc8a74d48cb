// New-run dialog: validation names the field, presets, JSON round trip, saved specs.

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <vector>

#include "dialogs/newrundialog.h"
#include "engine/run_spec.h"
#include "io/safetensors.h"
#include "model/bert_config.h"

using namespace tl;
using namespace tl::ui;

class TestNewRunDialog : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_model, m_data;

    static bool mentions(const QStringList &problems, const QString &field)
    {
        for (const QString &p : problems)
            if (p.contains(field))
                return true;
        return false;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_model = m_dir.filePath(QStringLiteral("model"));
        m_data = m_dir.filePath(QStringLiteral("data"));
        QVERIFY(QDir().mkpath(m_model));
        QVERIFY(QDir().mkpath(m_data));
        BertConfig::preset("tiny").save(QDir(m_model).filePath(QStringLiteral("config.json")).toStdString());
        const std::vector<float> w(16, 0.5f);
        writeSafetensors(QDir(m_model).filePath(QStringLiteral("model.safetensors")).toStdString(),
                         {{"bert.pooler.dense.weight", DType::F32, {4, 4}, w.data()}});
    }

    void emptyFormNamesFields()
    {
        NewRunDialog d;
        const QStringList problems = d.validate();
        QVERIFY(mentions(problems, QStringLiteral("model:")));
        QVERIFY(mentions(problems, QStringLiteral("data_dir:")));
    }

    void validSpecPasses()
    {
        NewRunDialog d;
        QJsonObject spec{{QStringLiteral("model"), m_model}, {QStringLiteral("task"), QStringLiteral("SST-2")},
                         {QStringLiteral("data_dir"), m_data}};
        QVERIFY(d.setSpec(spec));
        QVERIFY2(d.validate().isEmpty(), qPrintable(d.validate().join(QLatin1Char('\n'))));
        // What the form produces is a spec the engine accepts, with the defaults of RunSpec.
        const QJsonObject out = d.spec();
        const RunSpec parsed = RunSpec::fromJson(nlohmann::json::parse(QJsonDocument(out).toJson().toStdString()), "form");
        QCOMPARE(parsed.kind, std::string("imp"));
        QCOMPARE(parsed.task, std::string("SST-2"));
        QCOMPARE(parsed.train.lr, 2e-5);
        QCOMPARE(parsed.prune.numRounds(), 9);
        QCOMPARE(parsed.train.maxSteps, int64_t(-1));
    }

    void pathsAndCheckpointChecked()
    {
        NewRunDialog d;
        d.setSpec({{QStringLiteral("model"), m_dir.filePath(QStringLiteral("nope"))},
                   {QStringLiteral("task"), QStringLiteral("SST-2")},
                   {QStringLiteral("data_dir"), m_dir.filePath(QStringLiteral("nodata"))}});
        QStringList p = d.validate();
        QVERIFY(mentions(p, QStringLiteral("is not a folder")));
        QVERIFY(mentions(p, QStringLiteral("data_dir:")));

        // A folder whose weights are garbage is refused by the header check.
        const QString bad = m_dir.filePath(QStringLiteral("badmodel"));
        QVERIFY(QDir().mkpath(bad));
        QFile::copy(QDir(m_model).filePath(QStringLiteral("config.json")), QDir(bad).filePath(QStringLiteral("config.json")));
        QFile junk(QDir(bad).filePath(QStringLiteral("model.safetensors")));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("this is not a checkpoint at all");
        junk.close();
        d.setSpec({{QStringLiteral("model"), bad}, {QStringLiteral("data_dir"), m_data}});
        p = d.validate();
        QVERIFY2(mentions(p, QStringLiteral("not a safetensors file")), qPrintable(p.join(QLatin1Char('\n'))));

        // A folder without config.json.
        const QString noConfig = m_dir.filePath(QStringLiteral("noconfig"));
        QVERIFY(QDir().mkpath(noConfig));
        d.setSpec({{QStringLiteral("model"), noConfig}});
        QVERIFY(mentions(d.validate(), QStringLiteral("config.json")));
    }

    void unknownTaskAndBadValues()
    {
        NewRunDialog d;
        d.setSpec({{QStringLiteral("model"), m_model}, {QStringLiteral("task"), QStringLiteral("SQuADv9")},
                   {QStringLiteral("data_dir"), m_data}});
        QVERIFY(mentions(d.validate(), QStringLiteral("task:")));
        // The engine's field-level check: seeds must be distinct.
        d.setSpec({{QStringLiteral("task"), QStringLiteral("RTE")},
                   {QStringLiteral("seeds"), QJsonArray{1, 1}}});
        QVERIFY2(mentions(d.validate(), QStringLiteral("seeds")), qPrintable(d.validate().join(QLatin1Char('\n'))));
        // transfer needs its source run.
        d.setSpec({{QStringLiteral("seeds"), QJsonArray{0}}, {QStringLiteral("kind"), QStringLiteral("transfer")}});
        QVERIFY(mentions(d.validate(), QStringLiteral("source.run")));
        d.setSpec({{QStringLiteral("source"), QJsonObject{{QStringLiteral("run"), 3}, {QStringLiteral("round"), 2}}}});
        QVERIFY2(d.validate().isEmpty(), qPrintable(d.validate().join(QLatin1Char('\n'))));
        QCOMPARE(d.spec().value(QStringLiteral("source")).toObject().value(QStringLiteral("round")).toInt(), 2);
        QVERIFY(!d.spec().contains(QStringLiteral("prune"))); // transfer keeps the source's mask
    }

    void jsonRoundTrip()
    {
        NewRunDialog d;
        const QJsonObject in{
            {QStringLiteral("model"), m_model},
            {QStringLiteral("task"), QStringLiteral("MRPC")},
            {QStringLiteral("data_dir"), m_data},
            {QStringLiteral("kind"), QStringLiteral("imp")},
            {QStringLiteral("prune"), QJsonObject{{QStringLiteral("method"), QStringLiteral("tensor_magnitude")},
                                                  {QStringLiteral("schedule"), QStringLiteral("geometric")},
                                                  {QStringLiteral("step"), 0.2},
                                                  {QStringLiteral("target_sparsity"), 0.7},
                                                  {QStringLiteral("include_pooler"), false},
                                                  {QStringLiteral("include_embeddings"), false}}},
            {QStringLiteral("rewind"), QJsonObject{{QStringLiteral("step"), 100}}},
            {QStringLiteral("head"), QStringLiteral("reinit")},
            {QStringLiteral("train"), QJsonObject{{QStringLiteral("epochs"), 3},
                                                  {QStringLiteral("max_steps"), 50},
                                                  {QStringLiteral("lr"), 3e-5},
                                                  {QStringLiteral("batch_size"), 16},
                                                  {QStringLiteral("eval_batch_size"), 64},
                                                  {QStringLiteral("max_seq_len"), 64},
                                                  {QStringLiteral("warmup"), 0.1},
                                                  {QStringLiteral("weight_decay"), 0.0}}},
            {QStringLiteral("seeds"), QJsonArray{0, 1, 2}},
            {QStringLiteral("threads"), 2},
            {QStringLiteral("device"), QStringLiteral("cpu")},
            {QStringLiteral("criterion"), QStringLiteral("match")}};
        QVERIFY(d.setSpec(in));
        QCOMPARE(d.spec(), in);
        QVERIFY(!d.setSpec(QJsonObject{}));
    }

    void presets()
    {
        NewRunDialog d;
        d.setSpec({{QStringLiteral("model"), m_model}, {QStringLiteral("task"), QStringLiteral("RTE")},
                   {QStringLiteral("data_dir"), m_data}});
        d.applyPreset(NewRunDialog::presetNames()[0]); // the paper's
        QJsonObject s = d.spec();
        QCOMPARE(s[QStringLiteral("train")].toObject()[QStringLiteral("lr")].toDouble(), 2e-5);
        QCOMPARE(s[QStringLiteral("train")].toObject()[QStringLiteral("epochs")].toInt(), 3);
        QCOMPARE(s[QStringLiteral("prune")].toObject()[QStringLiteral("rounds")].toInt(), 9);
        QCOMPARE(s[QStringLiteral("seeds")].toArray().size(), 3);
        d.applyPreset(NewRunDialog::presetNames()[1]); // quick demo
        s = d.spec();
        QCOMPARE(s[QStringLiteral("train")].toObject()[QStringLiteral("max_steps")].toInt(), 40);
        QVERIFY(d.validate().isEmpty());
    }

    void acceptSavesSpec()
    {
        NewRunDialog d;
        d.setSpecFolder(m_dir.filePath(QStringLiteral("specs")));
        d.setSpec({{QStringLiteral("model"), m_model}, {QStringLiteral("task"), QStringLiteral("RTE")},
                   {QStringLiteral("data_dir"), m_data}});
        d.accept();
        QCOMPARE(d.result(), int(QDialog::Accepted));
        QVERIFY(QFile::exists(d.savedSpecPath()));
        const RunSpec saved = RunSpec::load(d.savedSpecPath().toStdString());
        QCOMPARE(saved.task, std::string("RTE"));
        QCOMPARE(QString::fromStdString(saved.model), QFileInfo(m_model).absoluteFilePath());
        // An invalid form is not accepted and saves nothing.
        NewRunDialog bad;
        bad.setSpecFolder(m_dir.filePath(QStringLiteral("specs2")));
        bad.accept();
        QVERIFY(bad.result() != int(QDialog::Accepted));
        QVERIFY(!QDir(m_dir.filePath(QStringLiteral("specs2"))).exists());
    }
};

QTEST_MAIN(TestNewRunDialog)
#include "tst_newrundialog.moc"
