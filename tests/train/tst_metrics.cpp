#include <cmath>

#include <QFile>
#include <QRegularExpression>
#include <QSet>
#include <QtTest>

#include "testdata.h"
#include "train/metrics.h"
#include "util/error.h"

using IntVec = std::vector<int>;
using RealVec = std::vector<double>;

namespace {

bool near(double a, double b, double eps = 1e-9)
{
    return std::fabs(a - b) <= eps;
}

tl::Example labelled(float label, bool hasLabel = true)
{
    tl::Example ex;
    ex.hasLabel = hasLabel;
    ex.label = label;
    return ex;
}

} // namespace

class TstMetrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void classification_data()
    {
        QTest::addColumn<IntVec>("pred");
        QTest::addColumn<IntVec>("gold");
        QTest::addColumn<double>("acc");
        QTest::addColumn<double>("f1");
        QTest::addColumn<double>("mcc");
        // tp=2 fp=1 fn=1 tn=1: F1 = 4/6; MCC = (2*1 - 1*1) / sqrt(3*3*2*2) = 1/6.
        QTest::newRow("mixed") << IntVec{1, 1, 0, 0, 1} << IntVec{1, 0, 1, 0, 1} << 0.6 << 2.0 / 3.0 << 1.0 / 6.0;
        // tp=3 tn=4 fp=1 fn=2: F1 = 6/9; MCC = (12 - 2) / sqrt(4*5*5*6) = 10/sqrt(600).
        QTest::newRow("paper 10") << IntVec{1, 1, 1, 1, 0, 0, 0, 0, 0, 0} << IntVec{1, 1, 1, 0, 1, 1, 0, 0, 0, 0} << 0.7
                                  << 6.0 / 9.0 << 10.0 / std::sqrt(600.0);
        // sklearn's documented example: matthews_corrcoef([1,1,1,-1], [1,-1,1,1]) = -1/3.
        QTest::newRow("sklearn doc") << IntVec{1, -1, 1, 1} << IntVec{1, 1, 1, -1} << 0.5 << 2.0 / 3.0 << -1.0 / 3.0;
        QTest::newRow("perfect") << IntVec{0, 1, 1, 0} << IntVec{0, 1, 1, 0} << 1.0 << 1.0 << 1.0;
        QTest::newRow("inverse") << IntVec{1, 0, 0, 1} << IntVec{0, 1, 1, 0} << 0.0 << 0.0 << -1.0;
        // No positive anywhere: F1 is 0 (sklearn zero_division=0), MCC undefined -> 0.
        QTest::newRow("no positives") << IntVec{0, 0, 0} << IntVec{0, 0, 0} << 1.0 << 0.0 << 0.0;
        // Predicted positives but gold has none: precision 0, F1 0.
        QTest::newRow("no gold positives") << IntVec{1, 0, 1} << IntVec{0, 0, 0} << 1.0 / 3.0 << 0.0 << 0.0;
        // Constant prediction: MCC denominator 0 -> 0.
        QTest::newRow("constant pred") << IntVec{1, 1, 1, 1} << IntVec{1, 0, 1, 0} << 0.5 << 2.0 / 3.0 << 0.0;
        // Three classes, t = p = (2,2,2), c = 3, s = 6: (18 - 12) / sqrt(24 * 24) = 0.25;
        // class 1: tp=1 fp=1 fn=1 -> F1 0.5.
        QTest::newRow("3 classes") << IntVec{0, 1, 1, 2, 2, 0} << IntVec{0, 0, 1, 1, 2, 2} << 0.5 << 0.5 << 0.25;
        // Unbalanced 3 classes: t=(3,1,1), p=(2,2,1), c=4, s=5:
        // (20 - (6+2+1)) / sqrt((25-9)(25-11)) = 11 / sqrt(224).
        QTest::newRow("3 classes unbalanced")
            << IntVec{0, 0, 1, 1, 2} << IntVec{0, 0, 0, 1, 2} << 0.8 << 2.0 / 3.0 << 11.0 / std::sqrt(224.0);
    }

    void classification()
    {
        QFETCH(IntVec, pred);
        QFETCH(IntVec, gold);
        QFETCH(double, acc);
        QFETCH(double, f1);
        QFETCH(double, mcc);
        QVERIFY2(near(tl::accuracy(pred, gold), acc), qPrintable(QString::number(tl::accuracy(pred, gold))));
        QVERIFY2(near(tl::f1Binary(pred, gold), f1), qPrintable(QString::number(tl::f1Binary(pred, gold))));
        QVERIFY2(near(tl::matthews(pred, gold), mcc), qPrintable(QString::number(tl::matthews(pred, gold), 'g', 17)));
    }

    void correlation_data()
    {
        QTest::addColumn<RealVec>("x");
        QTest::addColumn<RealVec>("y");
        QTest::addColumn<double>("pearson");
        QTest::addColumn<double>("spearman");
        QTest::newRow("perfect") << RealVec{1, 2, 3, 4} << RealVec{2, 4, 6, 8} << 1.0 << 1.0;
        QTest::newRow("inverse") << RealVec{1, 2, 3, 4} << RealVec{8, 6, 4, 2} << -1.0 << -1.0;
        // Monotone but not linear: ranks agree perfectly, values do not.
        // x=(1,2,3), y=(1,4,9): dx=(-1,0,1), dy=(-11/3,-2/3,13/3) -> r = 8 / sqrt(2 * 294/9).
        QTest::newRow("monotone") << RealVec{1, 2, 3} << RealVec{1, 4, 9} << 8.0 / std::sqrt(2.0 * 294.0 / 9.0) << 1.0;
        // dx=(-2,-1,0,1,2), dy=(-2,0,1,0,1): r = 6 / sqrt(10*6).
        QTest::newRow("hand") << RealVec{1, 2, 3, 4, 5} << RealVec{2, 4, 5, 4, 5}
                              << 6.0 / std::sqrt(60.0)
                              // ranks y = (1, 2.5, 4.5, 2.5, 4.5): dy=(-2,-.5,1.5,-.5,1.5), sxy=7, syy=9
                              << 7.0 / std::sqrt(10.0 * 9.0);
        // Ties in x: values give 3 / sqrt(2 * 5); ranks (1, 2.5, 2.5, 4) vs (1, 3, 2, 4) give
        // 4.5 / sqrt(4.5 * 5).
        QTest::newRow("ties") << RealVec{1, 2, 2, 3} << RealVec{1, 3, 2, 4} << 3.0 / std::sqrt(10.0)
                              << 4.5 / std::sqrt(22.5);
        // scipy's documented example: spearmanr([1,2,3,4,5], [5,6,7,8,7]) = 0.8207826816681233.
        QTest::newRow("scipy doc") << RealVec{1, 2, 3, 4, 5} << RealVec{5, 6, 7, 8, 7} << 0.8320502943378437
                                   << 0.8207826816681233;
        // A constant series has no correlation: reported as 0, not NaN.
        QTest::newRow("constant") << RealVec{3, 3, 3} << RealVec{1, 2, 3} << 0.0 << 0.0;
    }

    void correlation()
    {
        QFETCH(RealVec, x);
        QFETCH(RealVec, y);
        QFETCH(double, pearson);
        QFETCH(double, spearman);
        QVERIFY2(near(tl::pearson(x, y), pearson, 1e-12), qPrintable(QString::number(tl::pearson(x, y), 'g', 17)));
        QVERIFY2(near(tl::spearman(x, y), spearman, 1e-12), qPrintable(QString::number(tl::spearman(x, y), 'g', 17)));
        QVERIFY(near(tl::pearson(y, x), pearson, 1e-12)); // symmetric
    }

    void sizeMismatchThrows()
    {
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::accuracy({1, 0}, {1}));
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::f1Binary({1}, {}));
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::matthews({1, 0, 1}, {1, 0}));
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::pearson({1.0, 2.0}, {1.0}));
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::spearman({1.0}, {1.0, 2.0}));
        QCOMPARE(tl::accuracy({}, {}), 0.0);
    }

    void taskMetricsCola()
    {
        const tl::TaskSpec cola = tl::taskByName("CoLA");
        // Rows: argmax 1, 0, tie -> first (0), 1, and a row without label that must not count.
        const std::vector<float> logits = {0.1f, 0.9f, 2.f, -1.f, 0.5f, 0.5f, -3.f, -2.f, 9.f, -9.f};
        const std::vector<tl::Example> ex = {labelled(1), labelled(0), labelled(1), labelled(1), labelled(1, false)};
        const auto m = tl::taskMetrics(cola, logits, ex);
        // pred (1,0,0,1) vs gold (1,0,1,1): tp=2 tn=1 fn=1 fp=0.
        QVERIFY(near(m.at("accuracy"), 0.75));
        QVERIFY(near(m.at("f1"), 0.8));
        QVERIFY(near(m.at("mcc"), 2.0 / std::sqrt(2.0 * 3.0 * 1.0 * 2.0))); // (2*1 - 0) / sqrt(2*3*1*2)
        QCOMPARE(m.at("main"), m.at("mcc"));
        QVERIFY(!m.count("combined"));
    }

    void taskMetricsMrpcAndMnli()
    {
        const std::vector<float> logits = {1, 0, 0, 1, 0, 1, 1, 0};
        const std::vector<tl::Example> ex = {labelled(0), labelled(1), labelled(0), labelled(1)};
        const auto m = tl::taskMetrics(tl::taskByName("MRPC"), logits, ex);
        // pred (0,1,1,0) vs gold (0,1,0,1): accuracy 0.5, tp=1 fp=1 fn=1 -> F1 0.5.
        QVERIFY(near(m.at("accuracy"), 0.5));
        QVERIFY(near(m.at("f1"), 0.5));
        QVERIFY(near(m.at("combined"), 0.5));
        QCOMPARE(m.at("main"), m.at("f1"));

        const std::vector<float> three = {0, 5, 1, 3, 2, 1, 0, 0, 7};
        const auto n = tl::taskMetrics(tl::taskByName("MNLI"), three, {labelled(1), labelled(0), labelled(1)});
        QVERIFY(near(n.at("accuracy"), 2.0 / 3.0));
        QCOMPARE(n.at("main"), n.at("accuracy"));
        QVERIFY(!n.count("f1")); // F1 of "class 1" means nothing with three classes
    }

    void taskMetricsRegression()
    {
        const std::vector<float> scores = {0.5f, 1.f, 4.f, 2.f};
        std::vector<tl::Example> ex = {labelled(1.f), labelled(2.f), labelled(4.f), labelled(3.f)};
        const auto m = tl::taskMetrics(tl::taskByName("STS-B"), scores, ex);
        const double p = tl::pearson({0.5, 1, 4, 2}, {1, 2, 4, 3});
        QVERIFY(near(m.at("pearson"), p, 1e-6));
        QVERIFY(near(m.at("spearman"), 1.0));
        QVERIFY(near(m.at("combined"), (p + 1.0) / 2.0, 1e-6));
        QCOMPARE(m.at("main"), m.at("pearson"));
    }

    void metricNamesBeforeAnyRun()
    {
        using V = std::vector<std::string>;
        QCOMPARE(tl::taskMetricNames(tl::taskByName("MRPC")), (V{"accuracy", "combined", "f1", "main", "mcc"}));
        QCOMPARE(tl::taskMetricNames(tl::taskByName("CoLA")), (V{"accuracy", "f1", "main", "mcc"}));
        QCOMPARE(tl::taskMetricNames(tl::taskByName("MNLI")), (V{"accuracy", "main", "mcc"}));
        QCOMPARE(tl::taskMetricNames(tl::taskByName("STS-B")), (V{"combined", "main", "pearson", "spearman"}));
        QVERIFY(tl::taskMetricNames(tl::taskByName("generic")).empty()); // labels come from the data
        // "main" named for what it is, wherever the task has a headline metric.
        QCOMPARE(tl::metricDisplayName("MRPC", tl::kMainMetric), std::string("f1"));
        QCOMPARE(tl::metricDisplayName("cola", tl::kMainMetric), std::string("mcc"));
        QCOMPARE(tl::metricDisplayName("STS-B", tl::kMainMetric), std::string("pearson"));
        QCOMPARE(tl::metricDisplayName("MRPC", "accuracy"), std::string("accuracy"));
        QCOMPARE(tl::metricDisplayName("mlm", tl::kMainMetric), std::string("main"));
        QCOMPARE(tl::metricDisplayName("my-task", tl::kMainMetric), std::string("main"));
    }

    void taskMetricsErrors()
    {
        const tl::TaskSpec sst = tl::taskByName("SST-2");
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::taskMetrics(sst, {0.f, 1.f, 1.f}, {labelled(1), labelled(0)}));
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::taskMetrics(sst, {0.f, 1.f}, {labelled(1, false)}));
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::taskMetrics(sst, {}, {}));
        // generic before its labels are known from the data
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::taskMetrics(tl::taskByName("generic"), {}, {}));
        tl::TaskSpec generic = tl::taskByName("generic");
        generic.labels = {"a", "b", "c"};
        const auto m = tl::taskMetrics(generic, {0, 0, 1, 1, 0, 0}, {labelled(2), labelled(1)});
        QVERIFY(near(m.at("main"), 0.5)); // argmax (2, 0)
    }

    // The README's metrics table says, task by task, what taskMetrics reports and which is main.
    void readmeMetricsTableMatchesTheCode()
    {
        QFile readme(QStringLiteral(TICKETLAB_SOURCE_DIR "/README.md"));
        QVERIFY(readme.open(QIODevice::ReadOnly | QIODevice::Text));
        const QString text = QString::fromUtf8(readme.readAll());
        const QRegularExpression row(QStringLiteral("^\\| ([A-Za-z0-9, -]+?) \\| (`[a-z0-9_]+`)[^|]*\\| ([^|]+)\\|$"),
                                     QRegularExpression::MultilineOption);
        const QRegularExpression key(QStringLiteral("`([a-z0-9_]+)`"));
        QSet<QString> documented;
        for (auto m = row.globalMatch(text); m.hasNext();) {
            const auto r = m.next();
            const QString main = key.match(r.captured(2)).captured(1);
            QSet<QString> keys{QStringLiteral("main"), main};
            for (auto k = key.globalMatch(r.captured(3)); k.hasNext();)
                keys.insert(k.next().captured(1));
            for (const QString &name : r.captured(1).split(QStringLiteral(", "))) {
                tl::TaskSpec task;
                try {
                    task = tl::taskByName(name.toStdString());
                } catch (const tl::Error &) {
                    continue; // another table (commands, figures), or mlm (masked-LM, not a TaskSpec)
                }
                if (task.name == "generic")
                    task.labels = {"a", "b"}; // f1 is reported with two labels
                const int width = task.numLabels();
                const std::vector<float> logits(size_t(width) * 2, 0.f);
                const auto metrics = tl::taskMetrics(task, logits, {labelled(0), labelled(width > 1 ? 1 : 0.5f)});
                QSet<QString> actual;
                for (const auto &[k, v] : metrics)
                    actual.insert(QString::fromStdString(k));
                QVERIFY2(actual == keys, qPrintable(name));
                QCOMPARE(QString::fromStdString(task.mainMetric), main);
                documented.insert(QString::fromStdString(task.name));
            }
        }
        for (const std::string &name : tl::knownTaskNames())
            QVERIFY2(documented.contains(QString::fromStdString(name)), name.c_str());
    }
};

QTEST_APPLESS_MAIN(TstMetrics)
#include "tst_metrics.moc"
