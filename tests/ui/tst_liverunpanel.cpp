// Live run view: its axes stay readable from the first event on (sparsity 0-100 %, the dev
// metric on at least [0, 1]) instead of autoscaling around a single point.

#include <QtTest>

#include "panels/liverunpanel.h"
#include "plots/qcp.h"

using namespace tl::ui;

class TestLiveRunPanel : public QObject
{
    Q_OBJECT

    static QCPAxisRect *metricRect(LiveRunPanel &p) { return p.plot()->axisRects().at(1); }
    static QCPAxisRect *curveRect(LiveRunPanel &p) { return p.plot()->axisRects().at(0); }

    static void feedRound(LiveRunPanel &p, int round, int rounds, double sparsity, double loss)
    {
        for (int step = 1; step <= 20; ++step) {
            RunProgress e;
            e.runId = 7;
            e.round = round;
            e.rounds = rounds;
            e.sparsity = sparsity;
            e.step = step;
            e.totalSteps = 20;
            e.loss = loss - 0.01 * step;
            e.lr = 2e-5 * (1.0 - step / 20.0);
            p.onProgress(e);
        }
    }

    // Replots are throttled (100 ms): callers wait for them.
    static bool sparsityAxisIsFull(LiveRunPanel &p)
    {
        const QCPRange r = metricRect(p)->axis(QCPAxis::atBottom)->range();
        return r.lower <= 0 && r.lower >= -10 && r.upper >= 100 && r.upper <= 110;
    }

    static void verifyMetricAxis(LiveRunPanel &p, double lowest, double highest)
    {
        const QCPRange r = metricRect(p)->axis(QCPAxis::atLeft)->range();
        QVERIFY2(r.lower <= std::min(lowest, 0.0) && r.upper >= std::max(highest, 1.0),
                 qPrintable(QStringLiteral("metric axis %1..%2").arg(r.lower).arg(r.upper)));
        // ... and not much more: a sane range, not -0.25..1.25 around one point.
        QVERIFY2(r.lower >= std::min(lowest, 0.0) - 0.15 && r.upper <= std::max(highest, 1.0) + 0.15,
                 qPrintable(QStringLiteral("metric axis %1..%2").arg(r.lower).arg(r.upper)));
    }

private Q_SLOTS:
    void axesBeforeData()
    {
        LiveRunPanel p;
        p.show();
        QTRY_VERIFY(sparsityAxisIsFull(p));
        verifyMetricAxis(p, 0.0, 1.0);
    }

    void axesStayFixedAfterRounds()
    {
        LiveRunPanel p;
        p.show();
        p.runStarted(7, false);
        feedRound(p, 0, 3, 0.0, 0.7);
        p.onRoundDone(7, 0, 0.0, {{QStringLiteral("main"), 0.812}, {QStringLiteral("accuracy"), 0.812}});
        // One point: the sparsity axis must not center on 0 % (it read -75..75 %).
        QTest::qWait(250);
        QVERIFY(sparsityAxisIsFull(p));
        verifyMetricAxis(p, 0.812, 0.812);
        // The loss axis spans the losses, the step axis the steps so far.
        const QCPRange steps = curveRect(p)->axis(QCPAxis::atBottom)->range();
        QVERIFY2(steps.lower <= 1 && steps.upper >= 20,
                 qPrintable(QStringLiteral("%1..%2").arg(steps.lower).arg(steps.upper)));
        const QCPRange loss = curveRect(p)->axis(QCPAxis::atLeft)->range();
        QVERIFY(loss.lower <= 0.5 && loss.upper >= 0.69);

        feedRound(p, 1, 3, 0.1, 0.6);
        p.onRoundDone(7, 1, 0.1, {{QStringLiteral("main"), 0.79}});
        feedRound(p, 2, 3, 0.2, 0.6);
        p.onRoundDone(7, 2, 0.2, {{QStringLiteral("main"), -0.05}}); // an MCC below 0 stays in view
        QTest::qWait(250);
        QVERIFY(sparsityAxisIsFull(p));
        verifyMetricAxis(p, -0.05, 0.812);
        QCOMPARE(p.plot()->graph(2)->dataCount(), 3);
    }
};

QTEST_MAIN(TestLiveRunPanel)
#include "tst_liverunpanel.moc"
