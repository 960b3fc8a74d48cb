// The main window on a fixture database: the browser fills, every view draws its figure,
// selecting runs re-targets the views, and writes from another connection show up.

#include <QSettings>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTreeView>
#include <QtTest>

#include "plots/qcp.h"

#include "labfixture.h"
#include "mainwindow.h"
#include "models/runtreemodel.h"
#include "panels/browserpanel.h"
#include "panels/figurepanel.h"
#include "plots/figure.h"

using namespace tl;
using namespace tl::ui;

class TestMainWindow : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_db;
    test::LabFixture m_lab;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true); // keep the user's settings out of it
        QSettings().clear();
        m_db = m_dir.filePath(QStringLiteral("lab.db"));
        m_lab = test::writeLabFixture(m_db.toStdString());
    }

    void opensAndDrawsEveryView()
    {
        MainWindow w;
        w.show();
        QList<QSignalSpy *> spies;
        for (FigurePanel *p : w.figurePanels())
            spies << new QSignalSpy(p, &FigurePanel::updated);
        QVERIFY(w.openDatabase(m_db));
        QTRY_COMPARE_WITH_TIMEOUT(w.browser()->model()->rowCount(), 1, 10000);
        QCOMPARE(w.figurePanels().size(), figureNames().size());
        for (int i = 0; i < spies.size(); ++i) {
            FigurePanel *p = w.figurePanels()[i];
            QTRY_VERIFY_WITH_TIMEOUT(spies[i]->count() > 0, 10000);
            QVERIFY2(spies[i]->last()[0].toString().isEmpty(),
                     qPrintable(p->figureName() + QStringLiteral(": ") + spies[i]->last()[0].toString()));
            QVERIFY2(!p->figure().heatmaps.empty() || !p->figure().lines.empty(), qPrintable(p->figureName()));
            QVERIFY(p->plot()->plottableCount() > 0);
        }
        qDeleteAll(spies);
        QVERIFY(w.windowTitle().contains(QStringLiteral("lab.db")));
    }

    void selectionRetargetsViews()
    {
        MainWindow w;
        w.show();
        QVERIFY(w.openDatabase(m_db));
        QTRY_COMPARE_WITH_TIMEOUT(w.browser()->model()->rowCount(), 1, 10000);
        FigurePanel *heads = nullptr;
        for (FigurePanel *p : w.figurePanels())
            if (p->figureName() == QLatin1String("head-survival"))
                heads = p;
        QVERIFY(heads);
        QSignalSpy spy(heads, &FigurePanel::updated);
        w.browser()->selectRuns({m_lab.impSst0, m_lab.impRte});
        QTRY_VERIFY_WITH_TIMEOUT(heads->figure().heatmaps.size() == 2, 10000);
    }

    void showsRunsWrittenElsewhere()
    {
        MainWindow w;
        QVERIFY(w.openDatabase(m_db));
        QTRY_COMPARE_WITH_TIMEOUT(w.browser()->model()->rowCount(), 1, 10000);
        const size_t before = w.browser()->model()->snapshot().runs.size();
        test::addBareRun(m_db.toStdString(), "full", "CoLA"); // as another process would
        QTRY_COMPARE_WITH_TIMEOUT(w.browser()->model()->snapshot().runs.size(), before + 1, 10000);
    }

    void refusesBadDatabase()
    {
        MainWindow w;
        const QString junk = m_dir.filePath(QStringLiteral("junk.db"));
        QFile f(junk);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(4096, 'x'));
        f.close();
        // A message box would block: close it as soon as it shows.
        QTimer::singleShot(200, [] {
            if (QWidget *box = QApplication::activeModalWidget())
                box->close();
        });
        QVERIFY(!w.openDatabase(junk));
        QVERIFY(w.databasePath().isEmpty());
        QFile check(junk);
        QVERIFY(check.open(QIODevice::ReadOnly));
        QCOMPARE(check.readAll(), QByteArray(4096, 'x')); // untouched
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
