#include <QTemporaryDir>
#include <QtTest>

#include "testmodel.h"
#include "testdata.h"
#include "demodata.h"
#include "libtorch/model/bert.h"
#include "text/tokenizer.h"
#include "libtorch/train/mlm.h"
#include "util/error.h"

class TestMlm : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(2); }

    void maskingFollowsBert()
    {
        tl::Vocab vocab({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "d", "e"});
        auto ids = torch::randint(5, 10, {400, 128}, torch::kLong);
        ids.select(1, 0).fill_(vocab.clsId());
        ids.select(1, 127).fill_(vocab.sepId());
        const auto original = ids.clone();
        torch::Tensor labels;
        auto gen = at::detail::createCPUGenerator(5);
        tl::maskTokens(ids, labels, vocab, 0.15, gen);
        auto chosen = labels != -100;
        const double n = static_cast<double>(chosen.sum().item<int64_t>());
        const double candidates = 400.0 * 126.0;
        QVERIFY(std::abs(n / candidates - 0.15) < 0.01);
        // Special tokens are never chosen; labels hold the original ids.
        QCOMPARE(chosen.select(1, 0).sum().item<int64_t>(), int64_t(0));
        QCOMPARE(chosen.select(1, 127).sum().item<int64_t>(), int64_t(0));
        QVERIFY(torch::equal(labels.index({chosen}), original.index({chosen})));
        // Unchosen tokens are untouched; of the chosen, 80% [MASK], ~10% random, ~10% kept.
        QVERIFY(torch::equal(ids.index({~chosen}), original.index({~chosen})));
        const double masked = (ids.index({chosen}) == vocab.maskId()).sum().item<int64_t>() / n;
        QVERIFY2(std::abs(masked - 0.8) < 0.02, qPrintable(QString::number(masked)));
        const double kept = (ids.index({chosen}) == original.index({chosen})).sum().item<int64_t>() / n;
        // 10% kept on purpose, plus random replacements that drew the same id (10% x 1/10).
        QVERIFY2(std::abs(kept - 0.11) < 0.02, qPrintable(QString::number(kept)));
    }

    void packsBlocks()
    {
        QTemporaryDir dir;
        tl::demo::DemoOptions o;
        o.outDir = dir.path().toStdString();
        o.corpusLines = 300;
        o.trainExamples = 10;
        o.devExamples = 10;
        tl::demo::writeDemoData(o);
        const tl::BertTokenizer tokenizer(tl::Vocab::load(o.outDir + "/vocab.txt"));
        const auto files = tl::corpusFiles(o.outDir + "/corpus");
        QCOMPARE(int(files.size()), 1);
        const tl::MlmCorpus c = tl::buildMlmCorpus(tokenizer, files, 32, -1, 10);
        QVERIFY(c.train.size() > 20);
        QVERIFY(!c.eval.empty());
        QCOMPARE(int64_t(c.train.size() + c.eval.size()), c.tokens / 30);
        for (const auto &block : c.train) {
            QCOMPARE(int(block.size()), 32);
            QCOMPARE(block.front(), tokenizer.vocab().clsId());
            QCOMPARE(block.back(), tokenizer.vocab().sepId());
        }
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::corpusFiles(o.outDir + "/nothing-here"));
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::buildMlmCorpus(tokenizer, files, 128, 5));
    }

    void pretrainingLowersLossOnSharedCorpus()
    {
        TL_REQUIRE_SHARED_DATA(data);
        const tl::BertTokenizer tokenizer(
            tl::Vocab::load((data + QStringLiteral("/vocab/bert-base-uncased/vocab.txt")).toStdString()));
        const auto files = tl::corpusFiles((data + QStringLiteral("/corpus/wikitext-2")).toStdString());
        const tl::MlmCorpus corpus = tl::buildMlmCorpus(tokenizer, files, 64, 150000, 20);
        const tl::BertConfig c = tltest::smallConfig(tokenizer.vocab().size(), 64);
        torch::manual_seed(0);
        tl::BertNet net(c, tl::BertHeads{true, false, true});
        tl::MlmOptions o;
        o.train.epochs = 0;
        o.train.maxSteps = 120;
        o.train.batchSize = 32;
        o.train.lr = 1e-3;
        o.train.warmup = 0.1;
        o.train.logEvery = 20;
        int reports = 0;
        const tl::MlmResult r = tl::trainMlm(net, tokenizer.vocab(), corpus, o, [&](const tl::TrainProgress &p) {
            ++reports;
            return p.tokensPerSecond > 0;
        });
        qInfo("MLM on %lld wikitext-2 tokens: held-out loss %.3f -> %.3f, masked accuracy %.3f -> %.3f (%.1f s)",
              static_cast<long long>(corpus.tokens), r.before.loss, r.after.loss, r.before.accuracy, r.after.accuracy,
              r.seconds);
        QCOMPARE(r.steps, int64_t(120));
        QCOMPARE(reports, 6);
        // Untrained: loss about ln(30522) = 10.3. Learning the unigram distribution alone gives < 8.
        QVERIFY(r.before.loss > 9.5);
        QVERIFY2(r.after.loss < r.before.loss - 2.0, qPrintable(QString::number(r.after.loss)));
        QVERIFY(r.after.accuracy > r.before.accuracy + 0.03);
        QCOMPARE(r.after.perplexity, std::exp(r.after.loss));
    }
};

QTEST_APPLESS_MAIN(TestMlm)
#include "tst_mlm.moc"
