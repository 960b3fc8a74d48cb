// New-run dialog: validation names the field, presets, JSON round trip, saved specs.

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include <vector>

#include "dialogs/newrundialog.h"
#include "engine/run_spec.h"
#include "io/safetensors.h"
#include "model/bert_config.h"
#include "text/tasks.h"

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
        QJsonObject spec{{QStringLiteral("model"), m_model},
                         {QStringLiteral("task"), QStringLiteral("SST-2")},
                         {QStringLiteral("data_dir"), m_data}};
        QVERIFY(d.setSpec(spec));
        QVERIFY2(d.validate().isEmpty(), qPrintable(d.validate().join(QLatin1Char('\n'))));
        // What the form produces is a spec the engine accepts, with the defaults of RunSpec.
        const QJsonObject out = d.spec();
        const RunSpec parsed =
            RunSpec::fromJson(nlohmann::json::parse(QJsonDocument(out).toJson().toStdString()), "form");
        QCOMPARE(parsed.kind, tl::RunKind::Imp);
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
        QFile::copy(QDir(m_model).filePath(QStringLiteral("config.json")),
                    QDir(bad).filePath(QStringLiteral("config.json")));
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
        d.setSpec({{QStringLiteral("model"), m_model},
                   {QStringLiteral("task"), QStringLiteral("SQuADv9")},
                   {QStringLiteral("data_dir"), m_data}});
        QVERIFY(mentions(d.validate(), QStringLiteral("task:")));
        // The engine's field-level check: seeds must be distinct.
        d.setSpec({{QStringLiteral("task"), QStringLiteral("RTE")}, {QStringLiteral("seeds"), QJsonArray{1, 1}}});
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

        // An early-bird IMP spec round-trips too, and passes the engine's own check; a spec
        // without early_bird turns the form's early bird off again.
        QJsonObject eb = in;
        eb[QStringLiteral("early_bird")] = QJsonObject{{QStringLiteral("epsilon"), 0.05},
                                                       {QStringLiteral("window"), 4},
                                                       {QStringLiteral("every"), 20},
                                                       {QStringLiteral("stop"), false}};
        QVERIFY(d.setSpec(eb));
        QCOMPARE(d.spec(), eb);
        QVERIFY2(d.validate().isEmpty(), qPrintable(d.validate().join(QLatin1Char('\n'))));
        QVERIFY(d.setSpec(in));
        QVERIFY(!d.spec().contains(QStringLiteral("early_bird")));
    }

    void presets()
    {
        NewRunDialog d;
        d.setSpec({{QStringLiteral("model"), m_model},
                   {QStringLiteral("task"), QStringLiteral("RTE")},
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

    void paperPresetIsWhatBertTicketsRan()
    {
        NewRunDialog d;
        auto *preset = d.findChild<QComboBox *>(QStringLiteral("preset"));
        auto *epochs = d.findChild<QSpinBox *>(QStringLiteral("epochs"));
        QVERIFY(preset && epochs);
        // A fresh form holds the spec defaults (1 epoch per round): the preset box must not claim
        // the paper's settings for it.
        QVERIFY2(preset->currentText() != NewRunDialog::presetNames()[0] || epochs->value() == 3,
                 "the preset box shows the paper's preset over a form that is not it");
        // Choosing the preset in the box (as a user does) fills the form at once.
        d.show();
        preset->setFocus();
        QTest::keyClick(preset, Qt::Key_Down); // from "no preset" to the first: the paper's
        QCOMPARE(preset->currentText(), NewRunDialog::presetNames()[0]);
        const QJsonObject s = d.spec();
        const QJsonObject t = s[QStringLiteral("train")].toObject();
        const QJsonObject p = s[QStringLiteral("prune")].toObject();
        // BERT-Tickets' LT_glue.py: save_steps 36,813 at batch 32 on MNLI = 3 epochs per round.
        QCOMPARE(t[QStringLiteral("epochs")].toInt(), 3);
        QCOMPARE(t[QStringLiteral("lr")].toDouble(), 2e-5);
        QCOMPARE(t[QStringLiteral("batch_size")].toInt(), 32);
        QCOMPARE(t[QStringLiteral("max_seq_len")].toInt(), 128);
        QCOMPARE(t[QStringLiteral("warmup")].toDouble(), 0.0);
        QCOMPARE(t[QStringLiteral("weight_decay")].toDouble(), 0.0);
        QCOMPARE(p[QStringLiteral("method")].toString(), QStringLiteral("global_magnitude"));
        QCOMPARE(p[QStringLiteral("schedule")].toString(), QStringLiteral("linear"));
        QCOMPARE(p[QStringLiteral("step")].toDouble(), 0.1);
        QCOMPARE(p[QStringLiteral("rounds")].toInt(), 9); // 10%, ..., 90%
        QCOMPARE(s[QStringLiteral("rewind")].toString(), QStringLiteral("pretrained"));
        QCOMPARE(s[QStringLiteral("head")].toString(), QStringLiteral("keep"));
        // ... and says so where the user picks it.
        const QString tip = preset->itemData(0, Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QStringLiteral("3 epochs")) && tip.contains(QStringLiteral("BERT-Tickets")),
                 qPrintable(tip));
        // Loading a spec makes the form that spec: the box no longer names a preset.
        d.setSpec({{QStringLiteral("train"), QJsonObject{{QStringLiteral("epochs"), 1}}}});
        QVERIFY(preset->currentText() != NewRunDialog::presetNames()[0]);
    }

    void dataFolderNamesTheTask()
    {
        QCOMPARE(NewRunDialog::glueTaskOfFolder(QStringLiteral("/data/glue/RTE")), QStringLiteral("RTE"));
        QCOMPARE(NewRunDialog::glueTaskOfFolder(QStringLiteral("glue/sst-2/")), QStringLiteral("SST-2"));
        QCOMPARE(NewRunDialog::glueTaskOfFolder(QStringLiteral("x/STS-B")), QStringLiteral("STS-B"));
        QCOMPARE(NewRunDialog::glueTaskOfFolder(QStringLiteral("x/sts-b")), QStringLiteral("STS-B"));
        QCOMPARE(NewRunDialog::glueTaskOfFolder(QStringLiteral("x/mrpc")), QStringLiteral("MRPC"));
        QCOMPARE(NewRunDialog::glueTaskOfFolder(QStringLiteral("x/my-data")), QString());
        QCOMPARE(NewRunDialog::glueTaskOfFolder(QStringLiteral("x/generic")), QString());

        NewRunDialog d;
        auto *task = d.findChild<QComboBox *>(QStringLiteral("task"));
        auto *data = d.findChild<QLineEdit *>(QStringLiteral("dataDir"));
        QVERIFY(task && data);
        data->setText(m_dir.filePath(QStringLiteral("glue/RTE"))); // what the folder browser does
        QCOMPARE(task->currentText(), QStringLiteral("RTE"));
        data->setText(m_dir.filePath(QStringLiteral("glue/sts-b")));
        QCOMPARE(task->currentText(), QStringLiteral("STS-B"));
        data->setText(m_dir.filePath(QStringLiteral("glue/SST-2")));
        QCOMPARE(task->currentText(), QStringLiteral("SST-2"));
        data->setText(m_dir.filePath(QStringLiteral("mydata"))); // not a task name: the task stays
        QCOMPARE(task->currentText(), QStringLiteral("SST-2"));

        // Once the user chose the task, the folder no longer changes it.
        task->lineEdit()->selectAll();
        QTest::keyClicks(task->lineEdit(), QStringLiteral("QNLI"));
        QCOMPARE(task->currentText(), QStringLiteral("QNLI"));
        data->setText(m_dir.filePath(QStringLiteral("glue/RTE")));
        QCOMPARE(task->currentText(), QStringLiteral("QNLI"));

        // A loaded spec keeps its own task whatever its folder is called.
        NewRunDialog loaded;
        loaded.setSpec({{QStringLiteral("task"), QStringLiteral("MRPC")},
                        {QStringLiteral("data_dir"), m_dir.filePath(QStringLiteral("glue/RTE"))}});
        QCOMPARE(loaded.spec()[QStringLiteral("task")].toString(), QStringLiteral("MRPC"));
    }

    void returnInAFieldDoesNotQueue()
    {
        NewRunDialog d;
        d.setSpecFolder(m_dir.filePath(QStringLiteral("specs-return")));
        d.setSpec({{QStringLiteral("model"), m_model},
                   {QStringLiteral("task"), QStringLiteral("RTE")},
                   {QStringLiteral("data_dir"), m_data}});
        QVERIFY(d.validate().isEmpty()); // it could be queued: only Return must not do it
        d.show();
        QVERIFY(QTest::qWaitForWindowExposed(&d));
        auto *task = d.findChild<QComboBox *>(QStringLiteral("task"));
        auto *epochs = d.findChild<QSpinBox *>(QStringLiteral("epochs"));
        auto *data = d.findChild<QLineEdit *>(QStringLiteral("dataDir"));
        QVERIFY(task && epochs && data);
        QList<QWidget *> fields{task->lineEdit(), epochs, data};
        for (QWidget *field : fields) {
            field->setFocus();
            QTest::keyClick(field, Qt::Key_Return);
            QTest::keyClick(field, Qt::Key_Enter);
            QVERIFY2(d.isVisible() && d.result() != int(QDialog::Accepted), field->metaObject()->className());
            QVERIFY(d.savedSpecPath().isEmpty());
        }
        QCOMPARE(task->currentText(), QStringLiteral("RTE"));
        QCOMPARE(task->count(), int(knownTaskNames().size()) + 1); // Return added no item
        // The button still queues.
        auto *queue = d.findChild<QPushButton *>(QStringLiteral("queue"));
        QVERIFY(queue);
        QTest::mouseClick(queue, Qt::LeftButton);
        QCOMPARE(d.result(), int(QDialog::Accepted));
        QVERIFY(QFile::exists(d.savedSpecPath()));
    }

    void acceptSavesSpec()
    {
        NewRunDialog d;
        d.setSpecFolder(m_dir.filePath(QStringLiteral("specs")));
        d.setSpec({{QStringLiteral("model"), m_model},
                   {QStringLiteral("task"), QStringLiteral("RTE")},
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
