// The study view: Table 2 and the transfer matrix of a study file against a fixture lab (cells
// "mean ± std (n=…)", grey while runs are missing), filled in live as runs land in the lab
// through the main window's reload, and "Run missing" queueing exactly the missing runs, each
// after the runs it depends on.

#include <QFile>
#include <QJsonDocument>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <map>

#include "jobs/jobqueue.h"
#include "labfixture.h"
#include "mainwindow.h"
#include "models/studygrid.h"
#include "panels/studypanel.h"
#include "study/report.h"
#include "study/study.h"
#include "testdata.h"

using namespace tl;
using namespace tl::ui;

namespace {

// 2 tasks x 2 seeds x (IMP + full, random, reinit, shuffle) + transfer in both directions from
// round 2: 24 planned runs. Rounds use the lab fixture's masks (round k: fixtureMask(k)).
const char *const kStudy = R"({
  "name": "fixture", "model": "/models/tiny-bert",
  "tasks": {"SST-2": "/data/SST-2", "RTE": "/data/RTE"},
  "seeds": [0, 1],
  "prune": {"method": "global_magnitude", "schedule": "linear", "step": 0.1, "rounds": 3},
  "train": {"epochs": 1, "max_steps": 4},
  "threads": 1,
  "transfer": {"round": 2}
})";

/// Metrics of rounds 0, 1, ... of each planned run written to the lab. Left out: RTE/shuffle/s1
/// and SST-2->RTE/transfer/s1. Hand-computed (sample std over 2 seeds: |a - b| / sqrt 2):
/// SST-2 full 0.90, 0.92: 0.9100 ± 0.0141; within one std (>= 0.8959) IMP meets it up to round 1
/// (mean 0.90), so the ticket is round 1's sparsity, where random is 0.82 ± 0.0283, reinit
/// 0.84 ± 0.0141, shuffle 0.82 ± 0.0141. RTE full 0.61 ± 0.0141; IMP round 1 0.605 ± 0.0071
/// (>= 0.5959: the ticket), random 0.51 ± 0.0141, reinit 0.54 ± 0.0141, shuffle 0.56 (one seed).
/// Transfer RTE->SST-2 0.85, 0.87: 0.8600 ± 0.0141; SST-2->RTE 0.57 (one seed).
const std::map<std::string, std::vector<double>> kMetrics = {
    {"SST-2/imp/s0", {0.90, 0.89, 0.88, 0.70}},
    {"SST-2/imp/s1", {0.92, 0.91, 0.90, 0.72}},
    {"SST-2/full/s0", {0.90}},
    {"SST-2/full/s1", {0.92}},
    {"SST-2/random/s0", {0.90, 0.80}},
    {"SST-2/random/s1", {0.90, 0.84}},
    {"SST-2/reinit/s0", {0.90, 0.85}},
    {"SST-2/reinit/s1", {0.90, 0.83}},
    {"SST-2/shuffle/s0", {0.90, 0.81}},
    {"SST-2/shuffle/s1", {0.90, 0.83}},
    {"RTE/imp/s0", {0.60, 0.60, 0.55}},
    {"RTE/imp/s1", {0.62, 0.61, 0.57}},
    {"RTE/full/s0", {0.60}},
    {"RTE/full/s1", {0.62}},
    {"RTE/random/s0", {0.60, 0.50}},
    {"RTE/random/s1", {0.60, 0.52}},
    {"RTE/reinit/s0", {0.60, 0.53}},
    {"RTE/reinit/s1", {0.60, 0.55}},
    {"RTE/shuffle/s0", {0.60, 0.56}},
    {"RTE->SST-2/transfer/s0", {0.85}},
    {"RTE->SST-2/transfer/s1", {0.87}},
    {"SST-2->RTE/transfer/s0", {0.57}},
};

const PlannedRun &planned(const std::vector<PlannedRun> &plan, const std::string &key)
{
    for (const PlannedRun &p : plan)
        if (p.key == key)
            return p;
    throw std::runtime_error("no planned run " + key);
}

/// Writes planned run `key` (its spec, hash and seed) with `metrics` into the lab.
void writePlanned(const std::string &db, const std::vector<PlannedRun> &plan, const std::string &key,
                  const std::vector<double> &metrics)
{
    auto store = ExperimentStore::open(db);
    const int64_t model = store->upsertModel({0, "/models/tiny-bert", test::fixtureConfigJson(), "hash-tiny"});
    test::FixtureWriter w{*store, model, "/models/tiny-bert"};
    const PlannedRun &p = planned(plan, key);
    tltest::RunBuilder b = w.run(p.kind, p.task, 0, p.seed);
    b.spec(p.spec.toJson().dump(), p.spec.hash());
    if (p.kind != RunKind::Transfer) {
        w.finishedRun(b, metrics, p.kind != RunKind::Full);
        return;
    }
    const RunRecord source = *store->findRun(planned(plan, p.dependsOn.front()).spec.hash(), p.seed);
    w.transferRun(b, source.id, p.spec.source->round, metrics.front());
}

/// Writes every planned run that kMetrics has (dependencies first: transfers find their IMP run).
void writeFixtureLab(const std::string &db, const std::vector<PlannedRun> &plan)
{
    for (const PlannedRun &p : plan)
        if (auto it = kMetrics.find(p.key); it != kMetrics.end())
            writePlanned(db, plan, p.key, it->second);
}

QString text(const QTableWidget *t, int row, int column)
{
    return t->item(row, column) ? t->item(row, column)->text() : QString();
}
bool grey(const QTableWidget *t, int row, int column)
{
    return t->item(row, column) && t->item(row, column)->background().style() != Qt::NoBrush;
}

} // namespace

class TestStudyPanel : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_study, m_db;
    std::vector<PlannedRun> m_plan;

    int row(const QTableWidget *t, const QString &task) const
    {
        for (int r = 0; r < t->rowCount(); ++r)
            if (text(t, r, 0) == task)
                return r;
        return -1;
    }
    int column(const QTableWidget *t, const QString &title) const
    {
        for (int c = 0; c < t->columnCount(); ++c)
            if (t->horizontalHeaderItem(c)->text() == title)
                return c;
        return -1;
    }

    /// Writes text to `path`; returns the path, "" when it cannot.
    static QString writeTestFile(const QString &path, const QByteArray &text)
    {
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(text) != text.size())
            return {};
        return path;
    }

    /// The contents of `file` in the report written to `dir` ("" when it cannot be read).
    static QByteArray reportFile(const QString &dir, const QString &file)
    {
        QFile f(dir + QLatin1Char('/') + file);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
        m_study = writeTestFile(m_dir.filePath(QStringLiteral("study.json")), kStudy);
        QVERIFY(!m_study.isEmpty());
        m_plan = planStudy(StudySpec::load(m_study.toStdString()));
        QCOMPARE(m_plan.size(), size_t(24));
        m_db = m_dir.filePath(QStringLiteral("lab.db"));
        writeFixtureLab(m_db.toStdString(), m_plan);
    }

    void table2FromTheLab()
    {
        JobQueue queue;
        StudyPanel panel(&queue);
        QSignalSpy updated(&panel, &StudyPanel::updated);
        panel.setDatabase(m_db);
        panel.openStudy(m_study);
        QTRY_VERIFY_WITH_TIMEOUT(!panel.grid().plan.isEmpty(), 10000);
        QVERIFY2(panel.grid().error.isEmpty(), qPrintable(panel.grid().error));
        QCOMPARE(panel.grid().doneCount(), 22);
        const QTableWidget *t = panel.table();
        QCOMPARE(t->rowCount(), 2);
        const int sst = row(t, QStringLiteral("SST-2")), rte = row(t, QStringLiteral("RTE"));
        const int full = column(t, QStringLiteral("Full model")), imp = column(t, QStringLiteral("IMP")),
                  ticket = column(t, QStringLiteral("Ticket")), random = column(t, QStringLiteral("Random pruning")),
                  reinit = column(t, QStringLiteral("IMP mask + random init")),
                  shuffle = column(t, QStringLiteral("IMP mask + shuffled weights"));
        QVERIFY(sst >= 0 && rte >= 0 && full > 0 && imp > 0 && ticket > 0 && random > 0 && reinit > 0 && shuffle > 0);

        QCOMPARE(text(t, sst, full), QStringLiteral("0.9100 ± 0.0141 (n=2)"));
        QCOMPARE(text(t, sst, ticket), QStringLiteral("%1%").arg(100 * test::fixtureMask(1).sparsity(), 0, 'f', 1));
        QCOMPARE(text(t, sst, imp), QStringLiteral("0.9000 ± 0.0141 (n=2)"));
        QCOMPARE(text(t, sst, random), QStringLiteral("0.8200 ± 0.0283 (n=2)"));
        QCOMPARE(text(t, sst, reinit), QStringLiteral("0.8400 ± 0.0141 (n=2)"));
        QCOMPARE(text(t, sst, shuffle), QStringLiteral("0.8200 ± 0.0141 (n=2)"));
        QCOMPARE(text(t, rte, full), QStringLiteral("0.6100 ± 0.0141 (n=2)"));
        QCOMPARE(text(t, rte, imp), QStringLiteral("0.6050 ± 0.0071 (n=2)"));
        QCOMPARE(text(t, rte, random), QStringLiteral("0.5100 ± 0.0141 (n=2)"));
        QCOMPARE(text(t, rte, reinit), QStringLiteral("0.5400 ± 0.0141 (n=2)"));
        QCOMPARE(text(t, rte, shuffle), QStringLiteral("0.5600 (n=1)"));
        // Grey exactly where a run is missing: RTE's shuffle column.
        for (int r : {sst, rte})
            for (int c = 0; c < t->columnCount(); ++c)
                QVERIFY2(grey(t, r, c) == (r == rte && c == shuffle),
                         qPrintable(QStringLiteral("%1, %2").arg(r).arg(c)));
        QVERIFY(t->item(rte, shuffle)->toolTip().contains(QStringLiteral("RTE/shuffle/s1")));

        // Transfer: rows whose ticket, columns where it is fine-tuned.
        const QTableWidget *tr = panel.transferTable();
        QVERIFY(tr->isVisibleTo(&panel));
        QCOMPARE(tr->rowCount(), 2);
        QCOMPARE(tr->columnCount(), 2);
        const int trSst = tr->verticalHeaderItem(0)->text() == QLatin1String("SST-2") ? 0 : 1;
        const int trRte = 1 - trSst;
        QCOMPARE(tr->horizontalHeaderItem(trSst)->text(), QStringLiteral("SST-2"));
        QCOMPARE(text(tr, trRte, trSst).left(21), QStringLiteral("0.8600 ± 0.0141 (n=2)"));
        QVERIFY(!grey(tr, trRte, trSst));
        QCOMPARE(text(tr, trSst, trRte).left(12), QStringLiteral("0.5700 (n=1)"));
        QVERIFY(grey(tr, trSst, trRte));
        QVERIFY(tr->item(trSst, trRte)->toolTip().contains(QStringLiteral("SST-2->RTE/transfer/s1")));
        QCOMPARE(panel.runMissingButton()->text(), QStringLiteral("Run missing (2)"));

        const QString shot = qEnvironmentVariable("TICKETLAB_STUDY_SCREENSHOT");
        if (!shot.isEmpty()) {
            panel.resize(1100, 520);
            panel.show();
            QVERIFY(QTest::qWaitForWindowExposed(&panel));
            QVERIFY(panel.grab().save(shot));
        }
    }

    void reportComparesAtTheBaselineSparsities()
    {
        // The same lab written for the study with "at": [round 1's sparsity, round 3's]: the
        // baselines' cells there, whichever sparsity the ticket has; a sparsity no run reached
        // is n/a. report.md and at.csv carry them.
        const double s1 = test::fixtureMask(1).sparsity(), s3 = test::fixtureMask(3).sparsity();
        nlohmann::json j = nlohmann::json::parse(kStudy);
        j["at"] = {s1, s3};
        const QString study =
            writeTestFile(m_dir.filePath(QStringLiteral("study-at.json")), QByteArray::fromStdString(j.dump()));
        QVERIFY(!study.isEmpty());
        const std::vector<PlannedRun> plan = planStudy(StudySpec::load(study.toStdString()));
        const std::string db = m_dir.filePath(QStringLiteral("lab-at.db")).toStdString();
        writeFixtureLab(db, plan);
        auto store = ExperimentStore::open(db);
        const StudyReport r = buildStudyReport(*store, StudySpec::load(study.toStdString()));
        const Table2Row *sst = nullptr;
        for (const Table2Row &row : r.rows)
            if (row.task == "SST-2")
                sst = &row;
        QVERIFY(sst);
        QCOMPARE(sst->at.size(), size_t(2));
        QCOMPARE(cellText(sst->at[0].imp), std::string("0.9000 ± 0.0141 (n=2)"));
        QCOMPARE(sst->at[0].baselines.size(), size_t(3)); // random, reinit, shuffle
        std::map<RunKind, std::string> at1, at3;
        for (const auto &[kind, cell] : sst->at[0].baselines)
            at1[kind] = cellText(cell);
        for (const auto &[kind, cell] : sst->at[1].baselines)
            at3[kind] = cellText(cell);
        QCOMPARE(at1[RunKind::Random], std::string("0.8200 ± 0.0283 (n=2)"));
        QCOMPARE(at1[RunKind::Reinit], std::string("0.8400 ± 0.0141 (n=2)"));
        QCOMPARE(cellText(sst->at[1].imp), std::string("0.7100 ± 0.0141 (n=2)"));
        QCOMPARE(at3[RunKind::Random], std::string("n/a")); // random ran rounds 0 and 1 only
        const QString out = m_dir.filePath(QStringLiteral("report-at"));
        writeStudyReport(r, out.toStdString(), {});
        const QByteArray mdText = reportFile(out, QStringLiteral("report.md")),
                         csvText = reportFile(out, QStringLiteral("at.csv"));
        QVERIFY(!mdText.isEmpty() && !csvText.isEmpty());
        QVERIFY2(mdText.contains("## At the study's baseline sparsities"), mdText.constData());
        QVERIFY2(mdText.contains("| SST-2 | " + QByteArray::fromStdString(percentText(s1)) +
                                 " | 0.9000 ± 0.0141 (n=2) | 0.8200 ± 0.0283 (n=2) | 0.8400 ± 0.0141 (n=2) |"),
                 mdText.constData());
        QCOMPARE(csvText.count('\n'), 1 + 2 * 2); // header, 2 tasks x 2 sparsities
    }

    void reportListsEverySparsity()
    {
        // Every sparsity the runs reached, each kind's cell there (n/a where it has no round),
        // and the share of the pooler that IMP's masks pruned: none until round 3, which prunes
        // all of it (fixtureMask).
        auto store = ExperimentStore::open(m_db.toStdString());
        const StudyReport r = buildStudyReport(*store, StudySpec::load(m_study.toStdString()));
        std::map<std::string, const Table2Row *> rows;
        for (const Table2Row &row : r.rows)
            rows[row.task] = &row;
        QVERIFY(rows["SST-2"] && rows["RTE"]);
        const std::vector<SparsityRow> &sst = rows["SST-2"]->bySparsity;
        QCOMPARE(sst.size(), size_t(4)); // IMP's rounds 0..3; the baselines' rounds 0 and 1 among them
        QCOMPARE(rows["RTE"]->bySparsity.size(), size_t(3));
        for (int k = 0; k < 4; ++k)
            QCOMPARE(percentText(sst[size_t(k)].sparsity), percentText(test::fixtureMask(k).sparsity()));
        QCOMPARE(cellText(sst[1].imp), std::string("0.9000 ± 0.0141 (n=2)"));
        QCOMPARE(cellText(sst[3].imp), std::string("0.7100 ± 0.0141 (n=2)"));
        std::map<RunKind, std::string> at1, at3;
        for (const auto &[kind, cell] : sst[1].baselines)
            at1[kind] = cellText(cell);
        for (const auto &[kind, cell] : sst[3].baselines)
            at3[kind] = cellText(cell);
        QCOMPARE(at1[RunKind::Random], std::string("0.8200 ± 0.0283 (n=2)"));
        QCOMPARE(at1[RunKind::Shuffle], std::string("0.8200 ± 0.0141 (n=2)"));
        QCOMPARE(at3[RunKind::Random], std::string("n/a"));
        auto pooler = [](const SparsityRow &sr) {
            for (const auto &[type, cell] : sr.outsidePruned)
                if (type == "Pooler")
                    return cell;
            return Cell{};
        };
        QCOMPARE(pooler(sst[2]).n, 2);
        QCOMPARE(pooler(sst[2]).mean, 0.0);
        QCOMPARE(pooler(sst[3]).n, 2);
        QCOMPARE(pooler(sst[3]).mean, 1.0);

        const QString out = m_dir.filePath(QStringLiteral("report-by-sparsity"));
        writeStudyReport(r, out.toStdString(), {});
        const QByteArray mdText = reportFile(out, QStringLiteral("report.md")),
                         csvText = reportFile(out, QStringLiteral("by-sparsity.csv"));
        QVERIFY(!mdText.isEmpty() && !csvText.isEmpty());
        QVERIFY2(mdText.contains("## By sparsity"), mdText.constData());
        QVERIFY2(mdText.contains(" Pooler pruned by IMP |"), mdText.constData());
        const QByteArray pct3 = QByteArray::fromStdString(percentText(test::fixtureMask(3).sparsity()));
        QVERIFY2(mdText.contains("| SST-2 | " + pct3 + " | 0.7100 ± 0.0141 (n=2) | n/a | n/a | n/a | 100.0% |"),
                 mdText.constData());
        QCOMPARE(csvText.count('\n'), 1 + 4 + 3); // header, SST-2's four sparsities, RTE's three
        QVERIFY2(csvText.startsWith("task,metric,sparsity,imp_mean,imp_std,imp_n,random_mean,"), csvText.constData());
        QVERIFY2(csvText.contains(",imp_pooler_pruned\n"), csvText.constData());
    }

    void reportSetsTheStudyBesideItsReference()
    {
        // SST-2's reference in accuracy (the fixture stores it equal to main): its ticket and each
        // kind at the reference's sparsity (round 1's) read from the lab; RTE's in f1, which the
        // lab lacks: n/a, and no ticket.
        const double s1 = test::fixtureMask(1).sparsity();
        nlohmann::json j = nlohmann::json::parse(kStudy);
        j["reference"] = {{"label", "The paper, Table 2"},
                          {"tasks",
                           {{"SST-2",
                             {{"sparsity", s1},
                              {"metric", "accuracy"},
                              {"shuffle", 0.5},
                              {"random", 0.831},
                              {"imp", 0.919},
                              {"full", 0.932}}},
                            {"RTE", {{"sparsity", 0.6}, {"metric", "f1"}, {"imp", 0.66}}}}}};
        const QString study =
            writeTestFile(m_dir.filePath(QStringLiteral("study-ref.json")), QByteArray::fromStdString(j.dump()));
        QVERIFY(!study.isEmpty());
        auto store = ExperimentStore::open(m_db.toStdString());
        const StudyReport r = buildStudyReport(*store, StudySpec::load(study.toStdString()));
        QCOMPARE(r.referenceLabel, std::string("The paper, Table 2"));
        std::map<std::string, const Table2Row *> rows;
        for (const Table2Row &row : r.rows)
            rows[row.task] = &row;
        QVERIFY(rows["SST-2"]->reference && rows["RTE"]->reference);
        const ReferenceComparison &sst = *rows["SST-2"]->reference;
        QCOMPARE(sst.metric, std::string("accuracy"));
        QVERIFY(sst.ticketHere && std::abs(*sst.ticketHere - s1) < 1e-9); // as stored in the lab
        std::vector<std::string> got;
        for (const ReferenceComparison::Value &v : sst.values)
            got.push_back(runKindName(v.kind) + " " + std::to_string(v.reference).substr(0, 5) + " " +
                          cellText(v.here));
        QCOMPARE(got, (std::vector<std::string>{"full 0.932 0.9100 ± 0.0141 (n=2)", "imp 0.919 0.9000 ± 0.0141 (n=2)",
                                                "random 0.831 0.8200 ± 0.0283 (n=2)",
                                                "shuffle 0.500 0.8200 ± 0.0141 (n=2)"}));
        const ReferenceComparison &rte = *rows["RTE"]->reference;
        QCOMPARE(rte.metric, std::string("f1"));
        QVERIFY(!rte.ticketHere);
        QCOMPARE(rte.values.size(), size_t(1));
        QCOMPARE(rte.values[0].here.n, 0);

        // The study view shows the same comparison in its cells' tooltips.
        const StudyGrid g = loadStudyGrid(study, m_db);
        QVERIFY2(g.error.isEmpty(), qPrintable(g.error));
        const int sstRow = g.rows[0][0].text == QStringLiteral("SST-2") ? 0 : 1;
        const QString pctQ = QString::fromStdString(percentText(s1));
        auto tip = [&](const QString &column) { return g.rows[sstRow][int(g.columns.indexOf(column))].toolTip; };
        QVERIFY2(
            tip(QStringLiteral("IMP"))
                .contains(QStringLiteral(
                              "The paper, Table 2: IMP 0.9190 at %1 in accuracy; this study's: 0.9000 ± 0.0141 (n=2)")
                              .arg(pctQ)),
            qPrintable(tip(QStringLiteral("IMP"))));
        QVERIFY2(
            tip(QStringLiteral("Full model"))
                .contains(QStringLiteral("The paper, Table 2: Full model 0.9320 in accuracy; this study's: 0.9100")),
            qPrintable(tip(QStringLiteral("Full model"))));
        QVERIFY2(
            tip(QStringLiteral("Ticket"))
                .contains(QStringLiteral("The paper, Table 2: ticket at %1; this study's in accuracy: %1").arg(pctQ)),
            qPrintable(tip(QStringLiteral("Ticket"))));
        QVERIFY(!tip(QStringLiteral("IMP mask + random init")).contains(QStringLiteral("The paper"))); // no value

        const QString out = m_dir.filePath(QStringLiteral("report-ref"));
        writeStudyReport(r, out.toStdString(), {});
        const QByteArray mdText = reportFile(out, QStringLiteral("report.md")),
                         csvText = reportFile(out, QStringLiteral("reference.csv"));
        QVERIFY(!mdText.isEmpty() && !csvText.isEmpty());
        QVERIFY2(mdText.contains("## Beside the reference\n\nThe paper, Table 2, "), mdText.constData());
        const QByteArray pct = QByteArray::fromStdString(percentText(s1));
        QVERIFY2(mdText.contains("| SST-2 | accuracy | " + pct + " | " + pct +
                                 " | 0.9320 | 0.9100 ± 0.0141 (n=2) | 0.9190 | 0.9000 ± 0.0141 (n=2) | 0.8310 | "
                                 "0.8200 ± 0.0283 (n=2) | 0.5000 | 0.8200 ± 0.0141 (n=2) |"),
                 mdText.constData());
        QVERIFY2(mdText.contains("| RTE | f1 | 60.0% | none | | | 0.6600 | n/a | | | | |"), mdText.constData());
        QCOMPARE(csvText.count('\n'), 1 + 4 + 1); // header, SST-2's four values, RTE's one
        QVERIFY2(csvText.contains("RTE,f1,0.600000,none,imp,0.600000,0.660000,n/a,n/a,0\n"), csvText.constData());
        QVERIFY2(csvText.contains("SST-2,accuracy,") && csvText.contains(",full,0.000000,0.932000,0.910000,"),
                 csvText.constData());
    }

    void fillsInLiveThroughTheMainWindow()
    {
        QTemporaryDir dir;
        const QString db = dir.filePath(QStringLiteral("live.db"));
        QVERIFY(QFile::copy(m_db, db));
        MainWindow w;
        QVERIFY(w.openDatabase(db));
        StudyPanel *panel = w.studyPanel();
        QVERIFY(w.tabs()->indexOf(panel) >= 0);
        panel->openStudy(m_study);
        QTRY_COMPARE_WITH_TIMEOUT(panel->grid().doneCount(), 22, 10000);
        const int rte = row(panel->table(), QStringLiteral("RTE"));
        const int shuffle = column(panel->table(), QStringLiteral("IMP mask + shuffled weights"));
        QVERIFY(grey(panel->table(), rte, shuffle));
        // Another process finishes the missing shuffle run: the window's reload refreshes the grid.
        writePlanned(db.toStdString(), m_plan, "RTE/shuffle/s1", {0.60, 0.58});
        QTRY_COMPARE_WITH_TIMEOUT(panel->grid().doneCount(), 23, 15000);
        QCOMPARE(text(panel->table(), rte, shuffle), QStringLiteral("0.5700 ± 0.0141 (n=2)"));
        QVERIFY(!grey(panel->table(), rte, shuffle));
        QCOMPARE(panel->runMissingButton()->text(), QStringLiteral("Run missing (1)"));
    }

    void runMissingQueuesWhatIsMissingAfterItsDependencies()
    {
        QTemporaryDir dir;
        const QString db = dir.filePath(QStringLiteral("empty.db"));
        ExperimentStore::open(db.toStdString()); // an empty lab
        // A CLI that cannot start: every job fails at once, and the queue fails what depends on it.
        qputenv("TICKETLAB_CLI", dir.filePath(QStringLiteral("no-such-cli")).toUtf8());
        JobQueue queue;
        queue.setMaxParallel(2);
        StudyPanel panel(&queue);
        panel.setDatabase(db);
        panel.openStudy(m_study);
        QTRY_VERIFY_WITH_TIMEOUT(!panel.grid().plan.isEmpty(), 10000);
        QCOMPARE(panel.grid().doneCount(), 0);
        QVERIFY(panel.runMissingButton()->isEnabled());
        QCOMPARE(panel.runMissing(), 24);
        QCOMPARE(queue.rowCount(), 24);
        QTRY_VERIFY_WITH_TIMEOUT(queue.runningCount() == 0, 10000);
        std::map<QString, RunJob *> byKey;
        for (int r = 0; r < queue.rowCount(); ++r)
            byKey[queue.job(r)->studyKey()] = queue.job(r);
        QCOMPARE(byKey.size(), size_t(24));
        for (const PlannedRun &p : m_plan) {
            RunJob *job = byKey.at(QString::fromStdString(p.key));
            QCOMPARE(job->specPath(), m_study);
            QCOMPARE(job->arguments().mid(0, 9),
                     (QStringList{QStringLiteral("study"), QStringLiteral("run-one"), m_study, QStringLiteral("--key"),
                                  QString::fromStdString(p.key), QStringLiteral("--db"), db,
                                  QStringLiteral("--progress"), QStringLiteral("json")}));
            QCOMPARE(job->state(), RunJob::State::Failed);
            if (p.dependsOn.empty())
                QVERIFY2(job->errorText().contains(QStringLiteral("could not start")), qPrintable(job->errorText()));
            else // never started: held for its IMP run, then failed with it
                QCOMPARE(job->errorText(),
                         QStringLiteral("needs %1, which failed").arg(QString::fromStdString(p.dependsOn.front())));
        }
        qunsetenv("TICKETLAB_CLI");
    }

    void runMissingRunsTheStudyWithTheRealCli()
    {
        // A small study on generated data: IMP, full and reinit (which needs the IMP run), 2 at once.
        QTemporaryDir dir;
        auto cli = [](const QStringList &args) {
            const tltest::CliResult r = tltest::runCli(args, 300000);
            if (r.exitCode != 0)
                qWarning("%s", r.err.constData());
            return r.exitCode == 0;
        };
        QVERIFY(cli({QStringLiteral("demo-data"), QStringLiteral("--out"), dir.filePath(QStringLiteral("data")),
                     QStringLiteral("--train"), QStringLiteral("120"), QStringLiteral("--dev"), QStringLiteral("40"),
                     QStringLiteral("--corpus-lines"), QStringLiteral("50")}));
        QVERIFY(cli({QStringLiteral("init"), QStringLiteral("--preset"), QStringLiteral("tiny"),
                     QStringLiteral("--vocab"), dir.filePath(QStringLiteral("data/vocab.txt")), QStringLiteral("--out"),
                     dir.filePath(QStringLiteral("model"))}));
        const QString study =
            writeTestFile(dir.filePath(QStringLiteral("demo-study.json")),
                          R"({"name": "demo", "model": "model", "tasks": {"SST-2": "data/sentiment"}, "seeds": [0],
                    "prune": {"method": "global_magnitude", "schedule": "linear", "step": 0.2, "rounds": 1},
                    "train": {"epochs": 1, "max_steps": 4, "lr": 1e-3, "batch_size": 16, "max_seq_len": 32},
                    "threads": 1, "baselines": ["full", "reinit"]})");
        QVERIFY(!study.isEmpty());
        const QString db = dir.filePath(QStringLiteral("demo.db"));
        ExperimentStore::open(db.toStdString());
        qputenv("TICKETLAB_CLI", TICKETLAB_CLI);
        JobQueue queue;
        queue.setMaxParallel(2);
        StudyPanel panel(&queue);
        panel.setDatabase(db);
        panel.openStudy(study);
        QTRY_COMPARE_WITH_TIMEOUT(panel.grid().plan.size(), qsizetype(3), 10000);
        QSignalSpy finished(&queue, &JobQueue::jobFinished);
        QCOMPARE(panel.runMissing(), 3);
        QCOMPARE(queue.runningCount(), 2); // IMP and full; reinit waits for IMP
        QCOMPARE(panel.runMissing(), 0);   // all queued already
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, 240000);
        for (int r = 0; r < 3; ++r)
            QVERIFY2(queue.job(r)->state() == RunJob::State::Done,
                     qPrintable(queue.job(r)->studyKey() + QStringLiteral(": ") + queue.job(r)->errorText()));
        panel.refresh();
        QTRY_COMPARE_WITH_TIMEOUT(panel.grid().doneCount(), 3, 10000);
        const QTableWidget *t = panel.table();
        QCOMPARE(t->rowCount(), 1);
        for (int c = 0; c < t->columnCount(); ++c)
            QVERIFY2(!grey(t, 0, c) && !text(t, 0, c).isEmpty(), qPrintable(t->horizontalHeaderItem(c)->text()));
        QVERIFY(text(t, 0, column(t, QStringLiteral("IMP mask + random init"))).endsWith(QStringLiteral("(n=1)")));
        qunsetenv("TICKETLAB_CLI");
    }
};

QTEST_MAIN(TestStudyPanel)
#include "tst_studypanel.moc"
