#include <QtTest>

#include <set>

#include "libtorch/model/bert.h"
#include "testmodel.h"

namespace {

using tltest::smallConfig;

int64_t countParameters(tl::BertNet &net)
{
    int64_t n = 0;
    for (const auto &p : net->parameters())
        n += p.numel();
    return n;
}

} // namespace

class TestBertModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(2); }

    void bertBaseHasHuggingFaceNamesAndSizes()
    {
        // BertForSequenceClassification(bert-base-uncased): 109,482,240 parameters in BertModel
        // (pooler included) plus 768 * 2 + 2 in the classifier; 201 tensors.
        tl::BertNet net(tl::BertConfig::preset("base"), tl::BertHeads{true, true, false});
        QCOMPARE(countParameters(net), int64_t(109482240 + 1538));
        const auto named = net->named_parameters();
        QCOMPARE(int(named.size()), 201);
        std::set<std::string> keys;
        for (const auto &item : named)
            keys.insert(item.key());
        for (const char *k :
             {"bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
              "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
              "bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.11.attention.self.value.bias",
              "bert.encoder.layer.3.attention.output.dense.weight",
              "bert.encoder.layer.3.attention.output.LayerNorm.bias", "bert.encoder.layer.7.intermediate.dense.weight",
              "bert.encoder.layer.7.output.dense.weight", "bert.encoder.layer.7.output.LayerNorm.weight",
              "bert.pooler.dense.weight", "classifier.weight", "classifier.bias"})
            QVERIFY2(keys.count(k), k);
        QCOMPARE(net->named_parameters()["bert.encoder.layer.0.intermediate.dense.weight"].sizes().vec(),
                 (std::vector<int64_t>{3072, 768}));
    }

    void mlmHeadIsTiedToWordEmbeddings()
    {
        const tl::BertConfig c = smallConfig();
        tl::BertNet net(c, tl::BertHeads{false, false, true});
        std::set<std::string> keys;
        for (const auto &item : net->named_parameters())
            keys.insert(item.key());
        QVERIFY(keys.count("cls.predictions.transform.dense.weight"));
        QVERIFY(keys.count("cls.predictions.transform.LayerNorm.weight"));
        QVERIFY(keys.count("cls.predictions.bias"));
        QVERIFY(!keys.count("cls.predictions.decoder.weight")); // tied, not a parameter of its own
        QVERIFY(!keys.count("bert.pooler.dense.weight"));       // as HF's BertForMaskedLM
        net->eval();
        auto ids = torch::tensor({{2, 10, 4, 11, 3}}, torch::kLong);
        auto all = torch::ones_like(ids).to(torch::kBool);
        torch::NoGradGuard g;
        auto before = net->mlmLogits(ids, torch::zeros_like(ids), torch::ones_like(ids), all);
        QCOMPARE(before.sizes().vec(), (std::vector<int64_t>{5, 100}));
        // Changing a word embedding changes that word's output logit: the decoder is tied.
        // (A constant shift would vanish: the transform ends in a LayerNorm, whose output sums to 0.)
        net->bert->embeddings->word_embeddings->weight[50].add_(torch::randn({c.hiddenSize}));
        auto after = net->mlmLogits(ids, torch::zeros_like(ids), torch::ones_like(ids), all);
        QVERIFY((after.select(1, 50) - before.select(1, 50)).abs().max().item<float>() > 1e-3f);
        QCOMPARE((after.select(1, 51) - before.select(1, 51)).abs().max().item<float>(), 0.0f);
    }

    void paddingDoesNotChangeOutputs()
    {
        torch::manual_seed(1);
        tl::BertNet net(smallConfig(), tl::BertHeads{true, true, false});
        net->eval();
        torch::NoGradGuard g;
        auto shortIds = torch::tensor({{2, 17, 18, 3}}, torch::kLong);
        auto alone = net->classify(shortIds, torch::zeros_like(shortIds), torch::ones_like(shortIds));
        auto batchIds = torch::tensor({{2, 17, 18, 3, 0, 0, 0}, {2, 40, 41, 42, 43, 44, 3}}, torch::kLong);
        auto mask = torch::tensor({{1, 1, 1, 1, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1}}, torch::kLong);
        auto batched = net->classify(batchIds, torch::zeros_like(batchIds), mask);
        QVERIFY(torch::allclose(alone[0], batched[0], 1e-5, 1e-6));
    }

    void evalIsDeterministicTrainIsNot()
    {
        torch::manual_seed(2);
        tl::BertNet net(smallConfig(), tl::BertHeads{true, true, false});
        auto ids = torch::randint(5, 100, {4, 12}, torch::kLong);
        auto types = torch::zeros_like(ids), mask = torch::ones_like(ids);
        net->eval();
        auto a = net->classify(ids, types, mask), b = net->classify(ids, types, mask);
        QVERIFY(torch::equal(a, b));
        net->train(); // dropout 0.1 on
        auto c = net->classify(ids, types, mask), d = net->classify(ids, types, mask);
        QVERIFY(!torch::equal(c, d));
    }

    void mlmLogitsAtPositionsEqualFullComputation()
    {
        torch::manual_seed(3);
        tl::BertNet net(smallConfig(), tl::BertHeads{false, false, true});
        net->eval();
        torch::NoGradGuard g;
        auto ids = torch::randint(5, 100, {2, 9}, torch::kLong);
        auto types = torch::zeros_like(ids), mask = torch::ones_like(ids);
        auto all = net->mlmLogits(ids, types, mask, torch::ones_like(ids).to(torch::kBool)).view({2, 9, 100});
        auto some = torch::zeros_like(ids).to(torch::kBool);
        some[0][3] = true;
        some[1][7] = true;
        auto picked = net->mlmLogits(ids, types, mask, some);
        QVERIFY(torch::allclose(picked[0], all[0][3], 1e-5, 1e-6));
        QVERIFY(torch::allclose(picked[1], all[1][7], 1e-5, 1e-6));
    }

    void initialisationFollowsHuggingFace()
    {
        torch::manual_seed(4);
        tl::BertConfig c = tl::BertConfig::preset("mini");
        c.vocabSize = 3000;
        tl::BertNet net(c, tl::BertHeads{true, true, true});
        auto params = net->named_parameters();
        const auto w = params["bert.encoder.layer.1.intermediate.dense.weight"];
        QVERIFY(std::abs(w.std().item<double>() - 0.02) < 0.001);
        QCOMPARE(params["bert.encoder.layer.1.intermediate.dense.bias"].abs().max().item<float>(), 0.0f);
        QCOMPARE(params["bert.embeddings.LayerNorm.weight"].min().item<float>(), 1.0f);
        QCOMPARE(params["bert.embeddings.word_embeddings.weight"][0].abs().max().item<float>(), 0.0f); // [PAD] row
        QCOMPARE(params["cls.predictions.bias"].abs().max().item<float>(), 0.0f);
    }

    void activations()
    {
        auto x = torch::tensor({-1.0f, 0.0f, 2.0f});
        // gelu(x) = x * Phi(x); gelu_new uses the tanh approximation.
        auto exact = tl::applyActivation("gelu", x);
        QVERIFY(std::abs(exact[0].item<float>() - (-0.158655f)) < 1e-5f);
        QVERIFY(std::abs(exact[2].item<float>() - 1.954500f) < 1e-5f);
        auto tanhApprox = tl::applyActivation("gelu_new", x);
        QVERIFY(std::abs(tanhApprox[0].item<float>() - (-0.158808f)) < 1e-5f);
        QCOMPARE(tl::applyActivation("relu", x)[0].item<float>(), 0.0f);
    }
};

QTEST_APPLESS_MAIN(TestBertModel)
#include "tst_bertmodel.moc"
