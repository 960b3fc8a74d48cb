#include <QElapsedTimer>
#include <QtTest>

#include "testmodel.h"
#include "testdata.h"
#include "libtorch/model/bert.h"
#include "text/tasks.h"
#include "text/tokenizer.h"
#include "libtorch/train/device.h"
#include "libtorch/train/finetune.h"
#include "libtorch/train/schedule.h"

namespace {

tl::BertConfig scratchConfig(int64_t vocabSize, const tl::TaskSpec &task)
{
    tl::BertConfig c = tltest::smallConfig(vocabSize, 128);
    c.regression = task.regression;
    c.id2label = task.labels;
    return c;
}

struct Glue
{
    tl::TaskSpec task;
    std::vector<tl::Example> train, dev;
};

Glue readGlue(const QString &dataDir, const char *name, size_t maxTrain)
{
    Glue g{tl::taskByName(name), {}, {}};
    const std::string dir = (dataDir + QStringLiteral("/glue/") + QString::fromLatin1(name)).toStdString();
    g.train = tl::readTaskFile(g.task, tl::splitPath(g.task, dir, "train"));
    if (g.train.size() > maxTrain)
        g.train.resize(maxTrain);
    g.dev = tl::readTaskFile(g.task, tl::splitPath(g.task, dir, "dev"));
    return g;
}

} // namespace

class TestFinetune : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(2); }

    void linearSchedule()
    {
        // HF get_linear_schedule_with_warmup, 10 warm-up steps of 100.
        QCOMPARE(tl::linearWarmupDecay(0, 10, 100), 0.0);
        QCOMPARE(tl::linearWarmupDecay(5, 10, 100), 0.5);
        QCOMPARE(tl::linearWarmupDecay(10, 10, 100), 1.0);
        QCOMPARE(tl::linearWarmupDecay(55, 10, 100), 0.5);
        QCOMPARE(tl::linearWarmupDecay(100, 10, 100), 0.0);
        QCOMPARE(tl::linearWarmupDecay(0, 0, 100), 1.0);
    }

    void threadsReachTheBlas()
    {
        // --threads 1 must mean one thread in the matrix products too: OpenBLAS's pthread pool is
        // not LibTorch's, and a second busy thread in each of two runs sharing two cores cost
        // each a fifth of its speed (bench/bench_threads.sh's shape).
        if (tl::blasThreads() == 0)
            QSKIP("LibTorch does not run on OpenBLAS here: no BLAS pool to check");
        tl::setThreads(1);
        QCOMPARE(torch::get_num_threads(), 1);
        QCOMPARE(tl::blasThreads(), 1);
        tl::setThreads(2);
        QCOMPARE(torch::get_num_threads(), 2);
        QCOMPARE(tl::blasThreads(), 2);
    }

    void noWeightDecayOnBiasAndLayerNorm()
    {
        auto w = torch::full({3}, 2.0f).requires_grad_();
        auto b = torch::full({3}, 2.0f).requires_grad_();
        auto ln = torch::full({3}, 2.0f).requires_grad_();
        tl::OptimConfig oc;
        oc.lr = 0.1;
        oc.weightDecay = 0.5;
        oc.totalSteps = 10;
        tl::Stepper stepper({{"layer.dense.weight", w}, {"layer.dense.bias", b}, {"layer.LayerNorm.weight", ln}}, oc);
        (w.sum() * 0 + b.sum() * 0 + ln.sum() * 0).backward(); // zero gradients: only decay can move weights
        stepper.step();
        QVERIFY(std::abs(w[0].item<float>() - 2.0f * (1.0f - 0.1f * 0.5f)) < 1e-6f); // decoupled decay
        QCOMPARE(b[0].item<float>(), 2.0f);
        QCOMPARE(ln[0].item<float>(), 2.0f);
        QVERIFY(std::abs(stepper.currentLr() - 0.1 * 0.9) < 1e-12);
    }

    void learnsRealSst2()
    {
        TL_REQUIRE_SHARED_DATA(data);
        const tl::BertTokenizer tokenizer(
            tl::Vocab::load((data + QStringLiteral("/vocab/bert-base-uncased/vocab.txt")).toStdString()));
        Glue g = readGlue(data, "SST-2", 12000);
        torch::manual_seed(0);
        tl::BertNet net(scratchConfig(tokenizer.vocab().size(), g.task), tl::BertHeads{true, true, false});
        tl::TrainOptions o;
        o.epochs = 2;
        o.lr = 1e-3; // a model trained from scratch, not a pre-trained one
        o.batchSize = 32;
        o.maxSeqLen = 64;
        o.warmup = 0.1;
        o.seed = 0;
        o.logEvery = 50;
        int reports = 0;
        QElapsedTimer timer;
        timer.start();
        const tl::FinetuneResult r =
            tl::finetune(net, tokenizer, g.task, g.train, g.dev, o, [&](const tl::TrainProgress &p) {
                ++reports;
                return std::isfinite(p.loss);
            });
        QCOMPARE(int(r.epochs.size()), 2);
        QVERIFY(!r.cancelled);
        QVERIFY(reports >= 10);
        const double acc = r.epochs.back().dev.at("accuracy");
        qInfo("SST-2 dev accuracy after 2 epochs on %zu examples, tiny BERT from scratch: %.3f (%.1f s)",
              g.train.size(), acc, timer.elapsed() / 1000.0);
        // Chance is 0.51 (the majority class of SST-2 dev); a bag of words reaches ~0.75.
        QVERIFY2(acc > 0.65, qPrintable(QString::number(acc)));
        QVERIFY(r.epochs.back().trainLoss < r.epochs.front().trainLoss);
    }

    void deterministicForASeed()
    {
        TL_REQUIRE_SHARED_DATA(data);
        const tl::BertTokenizer tokenizer(
            tl::Vocab::load((data + QStringLiteral("/vocab/bert-base-uncased/vocab.txt")).toStdString()));
        Glue g = readGlue(data, "MRPC", 320);
        g.dev.resize(64);
        auto run = [&](uint64_t seed) {
            torch::manual_seed(seed);
            tl::BertNet net(scratchConfig(tokenizer.vocab().size(), g.task), tl::BertHeads{true, true, false});
            tl::TrainOptions o;
            o.epochs = 1;
            o.lr = 5e-4;
            o.batchSize = 16;
            o.maxSeqLen = 64;
            o.seed = seed;
            o.logEvery = 1;
            std::vector<double> losses;
            tl::finetune(net, tokenizer, g.task, g.train, g.dev, o, [&](const tl::TrainProgress &p) {
                losses.push_back(p.loss);
                return true;
            });
            return std::make_pair(losses, net->classifier->weight.clone());
        };
        const auto a = run(7), b = run(7), c = run(8);
        QCOMPARE(a.first.size(), size_t(20));
        QVERIFY(a.first == b.first);
        QVERIFY(torch::equal(a.second, b.second));
        QVERIFY(a.first != c.first);
    }

    void regressionAndCancel()
    {
        TL_REQUIRE_SHARED_DATA(data);
        const tl::BertTokenizer tokenizer(
            tl::Vocab::load((data + QStringLiteral("/vocab/bert-base-uncased/vocab.txt")).toStdString()));
        Glue g = readGlue(data, "STS-B", 256);
        g.dev.resize(100);
        torch::manual_seed(0);
        tl::BertNet net(scratchConfig(tokenizer.vocab().size(), g.task), tl::BertHeads{true, true, false});
        QCOMPARE(net->config.numLabels(), 1);
        tl::TrainOptions o;
        o.epochs = 3;
        o.batchSize = 16;
        o.lr = 5e-4;
        o.maxSeqLen = 64;
        o.logEvery = 1;
        int64_t lastStep = 0;
        const tl::FinetuneResult r =
            tl::finetune(net, tokenizer, g.task, g.train, g.dev, o, [&](const tl::TrainProgress &p) {
                lastStep = p.step;
                return p.step < 5; // ask to stop
            });
        QVERIFY(r.cancelled);
        QCOMPARE(lastStep, int64_t(5));
        const auto m = tl::evaluateTask(net, tokenizer, g.task, g.dev, 64, 32, torch::kCPU);
        QVERIFY(m.count("pearson") && m.count("spearman"));
        QVERIFY(std::isfinite(m.at("pearson")));
    }

    void maxStepsCapsTraining()
    {
        TL_REQUIRE_SHARED_DATA(data);
        const tl::BertTokenizer tokenizer(
            tl::Vocab::load((data + QStringLiteral("/vocab/bert-base-uncased/vocab.txt")).toStdString()));
        Glue g = readGlue(data, "RTE", 200);
        g.dev.resize(20);
        torch::manual_seed(0);
        tl::BertNet net(scratchConfig(tokenizer.vocab().size(), g.task), tl::BertHeads{true, true, false});
        tl::TrainOptions o;
        o.epochs = 5;
        o.maxSteps = 7;
        o.batchSize = 8;
        o.maxSeqLen = 32;
        const tl::FinetuneResult r = tl::finetune(net, tokenizer, g.task, g.train, g.dev, o);
        QCOMPARE(int(r.epochs.size()), 1);
        QCOMPARE(r.epochs.back().step, int64_t(7));
    }
};

QTEST_APPLESS_MAIN(TestFinetune)
#include "tst_finetune.moc"
