// Writes the seed corpora of the fuzz harnesses with the project's own writers, so that every
// seed is a file TicketLab itself produces, at build time (no generated weight or mask file is
// committed):  tl-fuzz-seeds OUT_DIR STUDIES_DIR [FOUND_DIR]
// writes OUT_DIR/<harness>/<name>, the study files as study seeds, and copies every input a
// campaign found a fault with (FOUND_DIR/<harness>/found-*, committed) beside them.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

#include "engine/progress_protocol.h"
#include "engine/run_spec.h"
#include "io/safetensors.h"
#include "io/zip_reader.h"
#include "model/bert_config.h"
#include "prune/mask_io.h"
#include "prune/prune_order.h"
#include "text/vocab.h"
#include "util/fileio.h"

namespace fs = std::filesystem;

namespace {

fs::path g_out;

std::vector<char> slurp(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

void put(const std::string &harness, const std::string &name, const std::string &bytes)
{
    fs::create_directories(g_out / harness);
    std::ofstream(g_out / harness / name, std::ios::binary) << bytes;
}

void put(const std::string &harness, const std::string &name, const std::vector<char> &bytes)
{
    put(harness, name, std::string(bytes.begin(), bytes.end()));
}

tl::MaskSet smallMask()
{
    tl::MaskSet mask;
    mask.tensors.push_back(
        {"bert.encoder.layer.0.attention.self.query.weight", {4, 4}, {1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1}});
    mask.tensors.push_back({"bert.encoder.layer.0.output.dense.weight", {2, 3}, {1, 1, 0, 1, 0, 1}});
    return mask;
}

void safetensorsSeeds(const fs::path &tmp)
{
    const std::vector<float> f32 = {0.5f, -1.25f, 3.0f, 0.0f, 1e-3f, -7.5f};
    const std::vector<uint16_t> f16 = {tl::floatToHalf(1.0f), tl::floatToHalf(-2.5f), tl::floatToHalf(0.125f)};
    const std::vector<uint16_t> bf16 = {tl::floatToBfloat16(3.5f), tl::floatToBfloat16(-0.75f)};
    const std::vector<int64_t> i64 = {0, 1, 2, 101, 102};
    const std::vector<uint8_t> flags = {1, 0, 1, 1};
    const fs::path file = tmp / "weights.safetensors";
    tl::writeSafetensors(file.string(),
                         {{"bert.embeddings.word_embeddings.weight", tl::DType::F32, {2, 3}, f32.data()},
                          {"bert.pooler.dense.bias", tl::DType::F16, {3}, f16.data()},
                          {"classifier.bias", tl::DType::BF16, {2}, bf16.data()},
                          {"bert.embeddings.position_ids", tl::DType::I64, {1, 5}, i64.data()},
                          {"mask", tl::DType::Bool, {4}, flags.data()}},
                         {{"format", "pt"}});
    put("safetensors", "weights.safetensors", slurp(file));
    tl::writeSafetensors(file.string(), {});
    put("safetensors", "empty.safetensors", slurp(file));
}

void maskSeeds(const fs::path &tmp)
{
    for (const tl::MaskFormat format : {tl::MaskFormat::Safetensors, tl::MaskFormat::Pt, tl::MaskFormat::Npz}) {
        const std::string ext = tl::maskFormatName(format);
        const fs::path file = tmp / ("mask." + ext);
        tl::writeMaskFile(smallMask(), file.string(), format);
        const std::vector<char> bytes = slurp(file);
        put("mask", "mask." + ext, bytes);
        if (format == tl::MaskFormat::Pt) {
            // A torch.save archive of a state dict, and the pickle inside it.
            put("torch_zip", "mask.pt", bytes);
            const tl::ZipReader zip = tl::ZipReader::parse(bytes, file.string());
            for (const tl::ZipEntry &entry : zip.entries()) {
                if (entry.name.size() >= 8 && entry.name.compare(entry.name.size() - 8, 8, "data.pkl") == 0)
                    put("pickle", "mask-data.pkl", std::string(zip.data(entry), entry.size));
            }
        }
    }
}

void configSeeds()
{
    for (const char *preset : {"tiny", "base"})
        put("config", std::string(preset) + ".json", tl::BertConfig::preset(preset).toJson().dump(2));
    tl::BertConfig regression = tl::BertConfig::preset("mini");
    regression.setNumLabels(1);
    regression.extra["architectures"] = {"BertForSequenceClassification"};
    put("config", "regression.json", regression.toJson().dump(2));
}

void vocabSeeds(const fs::path &tmp)
{
    const tl::Vocab vocab({"[PAD]", "[unused0]", "[UNK]", "[CLS]",  "[SEP]", "[MASK]", "the", "cat",
                           "##s",   "un",        "##aff", "##able", "caf",   "##e",    "'",   "!",
                           ",",     "3",         "東",    "京",     "text",  "."});
    const fs::path file = tmp / "vocab.txt";
    vocab.save(file.string());
    put("vocab", "vocab.txt", slurp(file));
}

void taskSeeds()
{
    // First byte: the reader (index into the harness's table), then the file, in each layout.
    const auto task = [](int pick, const std::string &name, const std::string &text) {
        put("task", name, std::string(1, char(pick)) + text);
    };
    task(0, "cola.tsv", "gj04\t1\t\tThe cat sat on the mat .\ngj04\t0\t*\tCat the on sat mat .\n");
    task(1, "sst2.tsv", "sentence\tlabel\na gripping , funny film \t1\nflat and lifeless \t0\n");
    task(2, "mrpc.tsv",
         "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tHe left early .\tHe went away early .\n"
         "0\t3\t4\tIt rained .\tThe sun shone .\n");
    task(3, "stsb.tsv",
         "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
         "0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA man plays a guitar .\t"
         "A man is playing guitar .\t4.750\n");
    task(4, "rte.tsv",
         "index\tsentence1\tsentence2\tlabel\n0\tThe cat slept all day .\tThe cat slept .\tentailment\n"
         "1\tIt is raining .\tThe sky is clear .\tnot_entailment\n");
    task(5, "wnli.tsv",
         "index\tsentence1\tsentence2\tlabel\n0\tThe trophy did not fit in the case because it was too "
         "big .\tThe trophy was too big .\t1\n");
    task(6, "generic.tsv", "text\ttext_pair\tlabel\ngood movie\tfine acting\tpos\nbad plot\tdull\tneg\n");
    task(7, "generic.jsonl",
         "{\"text\": \"good movie\", \"label\": \"pos\"}\n"
         "{\"text\": \"bad\", \"text_pair\": \"dull\", \"label\": \"neg\"}\n");
}

void specSeeds()
{
    nlohmann::json spec = {{"model", "models/minilm-l6"}, {"task", "MRPC"}, {"data_dir", "glue/MRPC"}};
    const tl::RunSpec imp = tl::RunSpec::fromJson(spec, "seed");
    put("run_spec", "imp.json", imp.toJson().dump(2));
    spec["kind"] = "random";
    spec["at"] = {0.5, 0.7};
    put("run_spec", "random-at.json", tl::RunSpec::fromJson(spec, "seed").toJson().dump(2));
    const tl::RunSpec transfer = tl::transferSpec(imp, 3, 2, "RTE", "glue/RTE");
    put("run_spec", "transfer.json", transfer.toJson().dump(2));
}

void pruneOrderSeeds()
{
    tl::MaskSet dense = smallMask();
    for (tl::MaskTensor &t : dense.tensors)
        std::fill(t.keep.begin(), t.keep.end(), 1);
    tl::PruneOrder order = tl::PruneOrder::fromMask(dense);
    put("prune_order", "round0.blob", tl::encodePruneOrder(order));
    tl::MaskSet round1 = smallMask();
    order.record(round1, 1);
    round1.tensors[0].keep[0] = 0;
    round1.tensors[1].keep[0] = 0;
    order.record(round1, 2);
    put("prune_order", "round2.blob", tl::encodePruneOrder(order));
}

void progressSeeds()
{
    std::string lines;
    tl::RunEvent event;
    event.runId = 4;
    event.seed = 1;
    event.rounds = 3;
    for (const tl::RunEventType type :
         {tl::RunEventType::RunStart, tl::RunEventType::RoundStart, tl::RunEventType::Progress,
          tl::RunEventType::RoundDone, tl::RunEventType::RunDone}) {
        event.type = type;
        event.round = 1;
        event.sparsity = 0.1;
        event.step = 20;
        event.totalSteps = 115;
        event.loss = 0.61;
        event.lr = 9e-5;
        event.tokensPerSecond = 3100;
        event.etaSeconds = 95;
        event.metrics = type == tl::RunEventType::RoundDone
                            ? std::map<std::string, double>{{"accuracy", 0.73}, {"f1", 0.82}}
                            : std::map<std::string, double>{};
        event.resumed = type == tl::RunEventType::RunStart;
        lines += tl::runEventToJson(event).dump() + "\n";
    }
    tl::RunOutcome outcome;
    outcome.runIds = {4, 5};
    outcome.actions = {"new", "resumed"};
    lines += tl::runsDoneToJson(outcome).dump() + "\n";
    put("progress", "run.jsonl", lines);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        std::cerr << "usage: tl-fuzz-seeds OUT_DIR STUDIES_DIR [FOUND_DIR]\n";
        return 2;
    }
    try {
        g_out = argv[1];
        const fs::path tmp = fs::temp_directory_path() / ("tl-fuzz-seeds-" + std::to_string(::getpid()));
        fs::create_directories(tmp);
        safetensorsSeeds(tmp);
        maskSeeds(tmp);
        configSeeds();
        vocabSeeds(tmp);
        taskSeeds();
        specSeeds();
        pruneOrderSeeds();
        progressSeeds();
        for (const auto &entry : fs::directory_iterator(argv[2]))
            if (entry.path().extension() == ".json")
                put("study", entry.path().filename().string(), slurp(entry.path()));
        if (argc == 4)
            for (const auto &harness : fs::directory_iterator(argv[3]))
                if (harness.is_directory())
                    for (const auto &file : fs::directory_iterator(harness.path()))
                        put(harness.path().filename().string(), file.path().filename().string(), slurp(file.path()));
        fs::remove_all(tmp);
    } catch (const std::exception &e) {
        std::cerr << "tl-fuzz-seeds: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
