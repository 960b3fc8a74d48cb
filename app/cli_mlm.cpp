// The "mlm" task of finetune, evaluate and tokenize: masked-LM on a folder of plain text.

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli_common.h"
#include "libtorch/io/checkpoint.h"
#include "libtorch/train/device.h"
#include "util/error.h"
#include "util/fileio.h"

namespace fs = std::filesystem;

namespace tl::cli {

bool isMlmTask(const std::string &name)
{
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return lower == "mlm";
}

nlohmann::json toJson(const MlmMetrics &m)
{
    return {
        {"loss", m.loss}, {"accuracy", m.accuracy}, {"perplexity", m.perplexity}, {"masked_tokens", m.maskedTokens}};
}

void runMlmFinetune(const std::string &model, const std::string &dataDir, const std::string &out,
                    const TrainFlags &flags)
{
    const BertTokenizer tokenizer = loadTokenizer(model);
    const MlmCorpus corpus = readMlmFolder(tokenizer, dataDir, flags.options.maxSeqLen);
    torch::manual_seed(flags.options.seed);
    LoadReport report;
    BertNet net = loadBert(model, BertHeads{true, false, true}, &report);
    std::fprintf(stderr, "mlm: %zu training / %zu held-out blocks of %d tokens; %s", corpus.train.size(),
                 corpus.eval.size(), flags.options.maxSeqLen, describe(report).c_str());
    MlmOptions options;
    options.train = flags.options;
    const bool json = flags.progress == "json";
    const MlmResult r = trainMlm(net, tokenizer.vocab(), corpus, options,
                                 flags.progress == "none" ? ProgressFn{} : progressPrinter(json, "finetune"));
    const nlohmann::json summary = {{"task", "mlm"},
                                    {"model", model},
                                    {"steps", r.steps},
                                    {"before", toJson(r.before)},
                                    {"final", toJson(r.after)},
                                    {"cancelled", r.cancelled},
                                    {"seconds", r.seconds},
                                    {"seed", flags.options.seed}};
    if (json)
        printJsonLine({{"event", "done"}, {"metrics", summary}});
    else
        std::printf("masked-token accuracy %.4f -> %.4f  perplexity %.2f -> %.2f  (%lld steps, %.1f s)\n",
                    r.before.accuracy, r.after.accuracy, r.before.perplexity, r.after.perplexity,
                    static_cast<long long>(r.steps), r.seconds);
    saveBert(net, out, vocabPath(model));
    writeFileAtomic((fs::path(out) / "metrics.json").string(), summary.dump(2) + "\n");
}

void runMlmEvaluate(const std::string &model, const std::string &dataDir, int maxSeqLen, int batchSize,
                    const std::string &device)
{
    const BertTokenizer tokenizer = loadTokenizer(model);
    const MlmCorpus corpus = readMlmFolder(tokenizer, dataDir, maxSeqLen);
    BertNet net = loadBert(model, BertHeads{false, false, true});
    MlmOptions options;
    options.train.evalBatchSize = batchSize;
    options.train.device = device;
    printJsonLine({{"task", "mlm"},
                   {"split", dataDir},
                   {"blocks", corpus.eval.size()},
                   {"metrics", toJson(evaluateMlm(net, tokenizer.vocab(), corpus.eval, options))}});
}

void runMlmTokenize(const BertTokenizer &tokenizer, const std::string &file, int maxSeqLen)
{
    std::ifstream in(file);
    if (!in)
        throw Error(file + ": cannot open");
    std::string line;
    while (std::getline(in, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        const Encoding enc = tokenizer.encode(line, maxSeqLen);
        printJsonLine({{"input_ids", enc.inputIds}, {"token_type_ids", enc.tokenTypeIds}});
    }
}

} // namespace tl::cli
