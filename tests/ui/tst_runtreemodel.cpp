// The experiment browser's model (and its filters) over a fixture database.

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <QTreeView>
#include <QtTest>

#include "labfixture.h"
#include "models/labsnapshot.h"
#include "models/runtreemodel.h"
#include "panels/browserpanel.h"

using namespace tl;
using namespace tl::ui;

class TestRunTreeModel : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_db;
    test::LabFixture m_lab;

    QModelIndex child(const QAbstractItemModel &m, const QModelIndex &parent, const QString &name)
    {
        for (int r = 0; r < m.rowCount(parent); ++r) {
            const QModelIndex i = m.index(r, 0, parent);
            if (i.data().toString().startsWith(name))
                return i;
        }
        return {};
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_db = m_dir.filePath(QStringLiteral("lab.db"));
        m_lab = test::writeLabFixture(m_db.toStdString());
    }

    void snapshotReadsEverything()
    {
        const LabSnapshot s = loadLabSnapshot(m_db.toStdString());
        QVERIFY2(s.error.empty(), s.error.c_str());
        QCOMPARE(s.runs.size(), size_t(8));
        QCOMPARE(s.runs.front().run.id, m_lab.transfer); // newest first
        QVERIFY(s.runs.front().transfer);
        QCOMPARE(s.runs.front().transfer->sourceRunId, m_lab.impSst0);
        QCOMPARE(s.runs.front().modelPath, std::string("/models/tiny-bert"));
        const LabSnapshot missing = loadLabSnapshot(m_dir.filePath(QStringLiteral("none.db")).toStdString());
        QVERIFY(!missing.error.empty());
        QVERIFY(!QFile::exists(m_dir.filePath(QStringLiteral("none.db"))));
    }

    void treeShape()
    {
        RunTreeModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(loadLabSnapshot(m_db.toStdString()));
        QCOMPARE(model.rowCount(), 1); // one model
        const QModelIndex bert = model.index(0, 0);
        QVERIFY(bert.data().toString().startsWith(QStringLiteral("tiny-bert (8 runs)")));
        QCOMPARE(bert.data(RunTreeModel::NodeTypeRole).toInt(), int(RunTreeModel::ModelNode));
        QCOMPARE(model.rowCount(bert), 2); // tasks SST-2 and RTE
        const QModelIndex sst = child(model, bert, QStringLiteral("SST-2"));
        QVERIFY(sst.isValid());
        QCOMPARE(model.rowCount(sst), 5); // imp x2, full x2, random
        const QModelIndex run = child(model, sst, QStringLiteral("run %1").arg(m_lab.impSst1));
        QVERIFY(run.isValid());
        QCOMPARE(run.data(RunTreeModel::RunIdRole).toLongLong(), m_lab.impSst1);
        QCOMPARE(model.index(run.row(), RunTreeModel::KindColumn, sst).data().toString(), QStringLiteral("imp"));
        QCOMPARE(model.index(run.row(), RunTreeModel::StatusColumn, sst).data().toString(),
                 QStringLiteral("done (4 rounds)"));
        QCOMPARE(model.index(run.row(), RunTreeModel::SeedColumn, sst).data().toULongLong(), 1ull);
        QCOMPARE(model.index(run.row(), RunTreeModel::MetricColumn, sst).data().toString(), QStringLiteral("0.7200"));
        QCOMPARE(model.rowCount(run), 4);
        const QModelIndex round2 = model.index(2, 0, run);
        QCOMPARE(round2.data(RunTreeModel::RoundRole).toInt(), 2);
        QCOMPARE(model.index(2, RunTreeModel::SparsityColumn, run).data().toString(),
                 QStringLiteral("23.5%")); // 256/1088
        QCOMPARE(model.index(2, RunTreeModel::MetricColumn, run).data().toString(), QStringLiteral("0.9000"));
        const QModelIndex rte = child(model, bert, QStringLiteral("RTE"));
        const QModelIndex transfer = child(model, rte, QStringLiteral("run %1").arg(m_lab.transfer));
        QCOMPARE(model.index(transfer.row(), RunTreeModel::KindColumn, rte).data().toString(),
                 QStringLiteral("transfer \u2190 %1").arg(m_lab.impSst0));
        // Keys find nodes again after a reload.
        const QModelIndex again = model.indexForKey(QStringLiteral("r:%1/2").arg(m_lab.impSst1));
        QCOMPARE(again, round2);
    }

    void modelsNeverMix()
    {
        // Two models, and the first model's folder retrained in place (same path, other weights):
        // three model nodes, each task node with only its own model's runs.
        QTemporaryDir dir;
        const std::string db = dir.filePath(QStringLiteral("two.db")).toStdString();
        test::writeLabFixture(db);
        const test::SecondModel base = test::addSecondModel(db);
        int64_t retrainedRun = 0;
        {
            auto store = ExperimentStore::open(db);
            const int64_t retrained =
                store->upsertModel({0, "/models/tiny-bert", test::fixtureConfigJson(), "v2-tiny-hash"});
            test::FixtureWriter w{*store, retrained, "/models/tiny-bert"};
            retrainedRun = w.finishedRun(tl::RunKind::Imp, "SST-2", 0, 0, {0.5, 0.4}, true);
        }
        RunTreeModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(loadLabSnapshot(db));
        QCOMPARE(model.rowCount(), 3);
        const QModelIndex tiny = model.index(0, 0), b = model.index(1, 0), v2 = model.index(2, 0);
        QCOMPARE(tiny.data().toString(), QStringLiteral("tiny-bert @hash-tin (8 runs)"));
        QCOMPARE(b.data().toString(), QStringLiteral("base-bert (5 runs)"));
        QCOMPARE(v2.data().toString(), QStringLiteral("tiny-bert @v2-tiny- (1 runs)"));
        QCOMPARE(tiny.data(Qt::ToolTipRole).toString(), QStringLiteral("/models/tiny-bert"));
        QVERIFY(tiny.data(RunTreeModel::KeyRole) != v2.data(RunTreeModel::KeyRole));
        QCOMPARE(model.indexForKey(v2.data(RunTreeModel::KeyRole).toString()), v2);
        const QModelIndex baseSst = child(model, b, QStringLiteral("SST-2"));
        QCOMPARE(model.rowCount(baseSst), 3); // imp, full x2
        QVERIFY(child(model, baseSst, QStringLiteral("run %1").arg(base.impSst)).isValid());
        QCOMPARE(model.rowCount(child(model, b, QStringLiteral("RTE"))), 2); // full, transfer
        QCOMPARE(model.rowCount(child(model, tiny, QStringLiteral("SST-2"))), 5);
        const QModelIndex v2Sst = child(model, v2, QStringLiteral("SST-2"));
        QCOMPARE(model.rowCount(v2Sst), 1);
        QCOMPARE(model.index(0, 0, v2Sst).data(RunTreeModel::RunIdRole).toLongLong(), retrainedRun);
    }

    void reloadSeesNewRuns()
    {
        RunTreeModel model;
        model.setSnapshot(loadLabSnapshot(m_db.toStdString()));
        test::addBareRun(m_db.toStdString(), tl::RunKind::Imp, "CoLA"); // no model: listed under "(no model)"
        model.setSnapshot(loadLabSnapshot(m_db.toStdString()));
        QCOMPARE(model.rowCount(), 2);
        QVERIFY(model.indexForKey(QStringLiteral("m:(no model)")).isValid());
    }

    void browserFilters()
    {
        BrowserPanel panel;
        panel.setSnapshot(loadLabSnapshot(m_db.toStdString()));
        QAbstractItemModel *view = panel.view()->model();
        auto countRuns = [&]() {
            int runs = 0;
            const auto visit = [&](const auto &self, const QModelIndex &parent) -> void {
                for (int r = 0; r < view->rowCount(parent); ++r) {
                    const QModelIndex i = view->index(r, 0, parent);
                    if (i.data(RunTreeModel::NodeTypeRole).toInt() == RunTreeModel::RunNode)
                        ++runs;
                    self(self, i);
                }
            };
            visit(visit, {});
            return runs;
        };
        const int all = countRuns();
        QVERIFY(all >= 8);
        auto *search = panel.findChild<QLineEdit *>();
        QVERIFY(search);
        search->setText(QStringLiteral("rte"));
        QCOMPARE(countRuns(), 3); // imp, full, transfer on RTE
        search->setText(QStringLiteral("sst-2 full"));
        QCOMPARE(countRuns(), 2); // the two full-model runs on SST-2
        search->clear();
        const auto combos = panel.findChildren<QComboBox *>();
        QCOMPARE(combos.size(), 2);
        combos[0]->setCurrentIndex(combos[0]->findData(QStringLiteral("full")));
        QCOMPARE(countRuns(), 3);
        combos[0]->setCurrentIndex(0);
        combos[1]->setCurrentIndex(combos[1]->findData(QStringLiteral("running")));
        QCOMPARE(countRuns(), all - 8); // only runs added later are still running
        combos[1]->setCurrentIndex(0);
        QCOMPARE(countRuns(), all);

        // Selecting runs reports them (rounds count as their run) with the round.
        QSignalSpy spy(&panel, &BrowserPanel::selectionChanged);
        panel.selectRuns({m_lab.impSst0, m_lab.impRte});
        QVERIFY(spy.count() >= 1);
        QCOMPARE(panel.selectedRuns().size(), 2);
        QVERIFY(panel.selectedRuns().contains(m_lab.impRte));
        // Selection and expansion survive a reload.
        panel.setSnapshot(loadLabSnapshot(m_db.toStdString()));
        QCOMPARE(panel.selectedRuns().size(), 2);
    }
};

QTEST_MAIN(TestRunTreeModel)
#include "tst_runtreemodel.moc"
