// The study dialog: tasks from folders (named after GLUE folders, editable), baselines,
// transfer and seeds into a study file the study parser accepts; validation naming the field;
// Save / Load JSON round trip with relative paths and the fields the form does not show; the
// run settings edited in the new-run dialog's form.

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <vector>

#include "dialogs/newrundialog.h"
#include "dialogs/studydialog.h"
#include "io/safetensors.h"
#include "model/bert_config.h"
#include "study/study.h"

using namespace tl;
using namespace tl::ui;

namespace {

bool mentions(const QStringList &problems, const QString &field)
{
    for (const QString &p : problems)
        if (p.contains(field))
            return true;
    return false;
}

StudySpec parse(const QJsonObject &o)
{
    return StudySpec::fromJson(nlohmann::json::parse(QJsonDocument(o).toJson().toStdString()), "form");
}

} // namespace

class TestStudyDialog : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_model, m_glue;

private Q_SLOTS:
    void initTestCase()
    {
        m_model = m_dir.filePath(QStringLiteral("model"));
        m_glue = m_dir.filePath(QStringLiteral("glue"));
        QVERIFY(QDir().mkpath(m_model));
        for (const char *task : {"RTE", "MRPC", "sts-b", "notes"})
            QVERIFY(QDir().mkpath(QDir(m_glue).filePath(QString::fromLatin1(task))));
        QVERIFY(QDir().mkpath(m_dir.filePath(QStringLiteral("corpus"))));
        BertConfig::preset("tiny").save(QDir(m_model).filePath(QStringLiteral("config.json")).toStdString());
        const std::vector<float> w(16, 0.5f);
        writeSafetensors(QDir(m_model).filePath(QStringLiteral("model.safetensors")).toStdString(),
                         {{"bert.pooler.dense.weight", DType::F32, {4, 4}, w.data()}});
    }

    void tasksFromFolders()
    {
        StudyDialog d;
        // One GLUE folder names its task; a folder of GLUE folders adds each (not "notes").
        QCOMPARE(d.addTaskFolder(QDir(m_glue).filePath(QStringLiteral("RTE"))), 1);
        QCOMPARE(d.addTaskFolder(m_glue), 2); // MRPC and STS-B; RTE is there already
        QCOMPARE(d.addTaskFolder(m_glue), 0);
        QTableWidget *t = d.taskTable();
        QCOMPARE(t->rowCount(), 3);
        QStringList tasks;
        for (int r = 0; r < t->rowCount(); ++r)
            tasks << t->item(r, 0)->text();
        QCOMPARE(tasks, (QStringList{QStringLiteral("RTE"), QStringLiteral("MRPC"), QStringLiteral("STS-B")}));
        QCOMPARE(t->item(2, 1)->text(), QDir(m_glue).filePath(QStringLiteral("sts-b")));
        // Not a GLUE folder: a row whose task the user types (here: masked-LM on a corpus).
        QCOMPARE(d.addTaskFolder(m_dir.filePath(QStringLiteral("corpus"))), 1);
        QVERIFY(t->item(3, 0)->text().isEmpty());
        d.findChild<QLineEdit *>(QStringLiteral("model"))->setText(m_model);
        QVERIFY(mentions(d.validate(), QStringLiteral("tasks: name the task of")));
        t->item(3, 0)->setText(QStringLiteral("mlm"));
        QVERIFY2(d.validate().isEmpty(), qPrintable(d.validate().join(QLatin1Char('\n'))));
        const StudySpec s = parse(d.study());
        QCOMPARE(s.tasks.size(), size_t(4));
        QCOMPARE(s.seeds, (std::vector<uint64_t>{0, 1, 2}));
        QCOMPARE(s.baselines,
                 (std::vector<RunKind>{RunKind::Full, RunKind::Random, RunKind::Reinit, RunKind::Shuffle}));
        QVERIFY(!s.transfer);
        QCOMPARE(QString::fromStdString(s.model), m_model);
    }

    void formFieldsReachTheStudy()
    {
        StudyDialog d;
        d.addTaskFolder(m_glue);
        d.findChild<QLineEdit *>(QStringLiteral("name"))->setText(QStringLiteral("glue-2"));
        d.findChild<QLineEdit *>(QStringLiteral("model"))->setText(m_model);
        d.findChild<QLineEdit *>(QStringLiteral("seeds"))->setText(QStringLiteral("3, 5"));
        d.findChild<QCheckBox *>(QStringLiteral("baseline-shuffle"))->setChecked(false);
        d.findChild<QCheckBox *>(QStringLiteral("baseline-oneshot"))->setChecked(true);
        d.findChild<QComboBox *>(QStringLiteral("transfer"))->setCurrentIndex(1);
        d.findChild<QDoubleSpinBox *>(QStringLiteral("transferSparsity"))->setValue(0.5);
        d.findChild<QLineEdit *>(QStringLiteral("transferFrom"))->setText(QStringLiteral("rte"));
        d.findChild<QComboBox *>(QStringLiteral("criterion"))->setCurrentText(QStringLiteral("match"));
        d.setRunSettings(QJsonObject{
            {QStringLiteral("prune"), QJsonObject{{QStringLiteral("step"), 0.2}, {QStringLiteral("rounds"), 4}}},
            {QStringLiteral("threads"), 2},
            {QStringLiteral("model"), QStringLiteral("ignored: not a run setting")}});
        QVERIFY2(d.validate().isEmpty(), qPrintable(d.validate().join(QLatin1Char('\n'))));
        const StudySpec s = parse(d.study());
        QCOMPARE(QString::fromStdString(s.name), QStringLiteral("glue-2"));
        QCOMPARE(s.seeds, (std::vector<uint64_t>{3, 5}));
        QCOMPARE(s.baselines,
                 (std::vector<RunKind>{RunKind::Full, RunKind::Random, RunKind::Reinit, RunKind::Oneshot}));
        QVERIFY(s.transfer && s.transfer->sparsity && !s.transfer->round);
        QCOMPARE(*s.transfer->sparsity, 0.5);
        QCOMPARE(s.transfer->from, std::vector<std::string>{"RTE"});
        QCOMPARE(s.transfer->to.size(), size_t(3)); // every task
        QCOMPARE(QString::fromStdString(s.criterion), QStringLiteral("match"));
        QCOMPARE(s.shared["threads"].get<int>(), 2);
        QCOMPARE(s.shared["prune"]["rounds"].get<int>(), 4);
        QCOMPARE(planStudy(s).front().spec.prune.numRounds(), 4);
        QVERIFY(d.findChild<QLabel *>(QStringLiteral("runSettings"))->text().contains(QStringLiteral("rounds 4")));
    }

    void validationNamesTheField()
    {
        StudyDialog d;
        QStringList p = d.validate();
        QVERIFY(mentions(p, QStringLiteral("model:")));
        QVERIFY(mentions(p, QStringLiteral("tasks:")));
        d.addTaskFolder(QDir(m_glue).filePath(QStringLiteral("RTE")));
        d.addTaskFolder(QDir(m_glue).filePath(QStringLiteral("MRPC")));
        d.findChild<QLineEdit *>(QStringLiteral("model"))->setText(m_dir.filePath(QStringLiteral("no-model")));
        QVERIFY(mentions(d.validate(), QStringLiteral("model: ") + m_dir.filePath(QStringLiteral("no-model"))));
        d.findChild<QLineEdit *>(QStringLiteral("model"))->setText(m_model);
        QVERIFY2(d.validate().isEmpty(), qPrintable(d.validate().join(QLatin1Char('\n'))));
        // The study parser's messages, naming the field.
        d.findChild<QLineEdit *>(QStringLiteral("seeds"))->setText(QStringLiteral("0, x"));
        QVERIFY2(mentions(d.validate(), QStringLiteral("field 'seeds")),
                 qPrintable(d.validate().join(QLatin1Char('\n'))));
        d.findChild<QLineEdit *>(QStringLiteral("seeds"))->setText(QStringLiteral("0"));
        d.taskTable()->item(1, 0)->setText(QStringLiteral("FOO"));
        QVERIFY(mentions(d.validate(), QStringLiteral("field 'tasks.FOO'")));
        d.taskTable()->item(1, 0)->setText(QStringLiteral("rte"));
        QVERIFY(mentions(d.validate(), QStringLiteral("tasks.rte: listed twice")));
        d.taskTable()->item(1, 0)->setText(QStringLiteral("MRPC"));
        d.findChild<QComboBox *>(QStringLiteral("transfer"))->setCurrentIndex(2);
        d.findChild<QSpinBox *>(QStringLiteral("transferRound"))->setValue(12);
        QVERIFY(mentions(d.validate(), QStringLiteral("field 'transfer.round'")));
        d.findChild<QSpinBox *>(QStringLiteral("transferRound"))->setValue(2);
        d.findChild<QLineEdit *>(QStringLiteral("transferTo"))->setText(QStringLiteral("CoLA"));
        QVERIFY(mentions(d.validate(), QStringLiteral("field 'transfer.to[0]'")));
        d.findChild<QLineEdit *>(QStringLiteral("transferTo"))->clear();
        d.setRunSettings(QJsonObject{{QStringLiteral("train"), QJsonObject{{QStringLiteral("lr"), -1}}}});
        QVERIFY(mentions(d.validate(), QStringLiteral("field 'train.lr'")));
        d.setRunSettings({});
        QVERIFY(d.validate().isEmpty());
        // Saving and opening refuses a study with problems, and says why.
        d.findChild<QLineEdit *>(QStringLiteral("name"))->clear();
        d.accept();
        QCOMPARE(d.result(), int(QDialog::Rejected));
        QVERIFY(d.findChild<QLabel *>(QStringLiteral("problems"))->text().contains(QStringLiteral("name:")));
    }

    void saveAndLoadKeepTheFile()
    {
        // A file as a person writes it: relative paths, fields the form does not show.
        QTemporaryDir dir;
        QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("glue/RTE"))));
        QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("glue/MRPC"))));
        QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("models/tiny"))));
        const QString file = dir.filePath(QStringLiteral("study.json"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"name": "hand", "model": "models/tiny", "tasks": {"RTE": "glue/RTE", "MRPC": "glue/MRPC"},
                    "seeds": [1, 2], "baselines": ["full", "reinit"], "transfer": {"round": 2, "to": ["MRPC"]},
                    "prune": {"step": 0.2, "rounds": 3}, "train_per_task": {"RTE": {"epochs": 2}},
                    "metric": {"MRPC": "accuracy"}, "criterion": "match"})");
        f.close();
        StudyDialog d;
        QString error;
        QVERIFY2(d.loadStudy(file, &error), qPrintable(error));
        QCOMPARE(d.studyPath(), QFileInfo(file).absoluteFilePath());
        QVERIFY(d.findChild<QCheckBox *>(QStringLiteral("baseline-reinit"))->isChecked());
        QVERIFY(!d.findChild<QCheckBox *>(QStringLiteral("baseline-random"))->isChecked());
        QCOMPARE(d.findChild<QComboBox *>(QStringLiteral("transfer"))->currentIndex(), 2);
        QCOMPARE(d.findChild<QLineEdit *>(QStringLiteral("model"))->text(),
                 QDir(dir.path()).filePath(QStringLiteral("models/tiny")));
        QVERIFY2(d.validate().isEmpty(), qPrintable(d.validate().join(QLatin1Char('\n'))));

        const QString copy = dir.filePath(QStringLiteral("copy.json"));
        QVERIFY2(d.saveStudy(copy, &error), qPrintable(error));
        const StudySpec a = StudySpec::load(file.toStdString()), b = StudySpec::load(copy.toStdString());
        const auto pa = planStudy(a), pb = planStudy(b);
        QCOMPARE(pa.size(), pb.size());
        for (size_t i = 0; i < pa.size(); ++i) { // the same runs: same keys, same specs
            QCOMPARE(pa[i].key, pb[i].key);
            QCOMPARE(pa[i].spec.hash(), pb[i].spec.hash());
        }
        QCOMPARE(b.metric.at("MRPC"), std::string("accuracy"));
        QCOMPARE(b.trainPerTask.at("RTE")["epochs"].get<int>(), 2);
        QCOMPARE(b.transfer->to, std::vector<std::string>{"MRPC"});

        // A broken file names itself.
        QFile bad(dir.filePath(QStringLiteral("bad.json")));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("{\"name\": ");
        bad.close();
        QVERIFY(!d.loadStudy(bad.fileName(), &error));
        QVERIFY(error.startsWith(bad.fileName()));
    }

    void runSettingsInTheNewRunForm()
    {
        StudyDialog d;
        d.addTaskFolder(QDir(m_glue).filePath(QStringLiteral("RTE")));
        d.findChild<QLineEdit *>(QStringLiteral("model"))->setText(m_model);
        // The new-run form opens on the study's settings; its Quick demo preset comes back.
        bool sawForm = false;
        QTimer::singleShot(0, this, [&] {
            auto *form = qobject_cast<NewRunDialog *>(QApplication::activeModalWidget());
            QVERIFY(form);
            sawForm = true;
            QCOMPARE(form->spec().value(QLatin1String("data_dir")).toString(),
                     QDir(m_glue).filePath(QStringLiteral("RTE")));
            form->applyPreset(NewRunDialog::presetNames()[1]);
            form->accept();
        });
        d.editRunSettings();
        QVERIFY(sawForm);
        const StudySpec s = parse(d.study());
        QCOMPARE(s.shared["train"]["max_steps"].get<int>(), 40);
        QCOMPARE(s.shared["prune"]["rounds"].get<int>(), 3);
        QCOMPARE(s.shared["threads"].get<int>(), 2);
        QVERIFY(!s.shared.contains("task")); // only the shared run fields
        QVERIFY(!s.shared.contains("kind"));
    }
};

QTEST_MAIN(TestStudyDialog)
#include "tst_studydialog.moc"
