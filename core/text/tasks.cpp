#include "text/tasks.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/fileio.h"

namespace tl {

namespace {

// Where a GLUE task keeps its fields. Header names are checked as well as positions, so a
// file of the wrong task (or a test file) is recognised instead of being misread.
struct Column
{
    int index;        ///< -1: the row's last column (MNLI's gold_label follows a variable tail)
    const char *name; ///< header name, nullptr where the file has no header
};

struct GlueFormat
{
    bool header;
    std::vector<Column> text; ///< labelled train / dev files
    Column label;
    std::vector<Column> testText; ///< test files: same layout minus the label
};

std::string lower(std::string s)
{
    for (char &c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// "SST-2", "sst_2" and "Sst2" are the same task to a user typing a name.
std::string normalizedName(const std::string &name)
{
    std::string out;
    for (char c : lower(name))
        if (c != '-' && c != '_' && c != ' ')
            out += c;
    return out;
}

std::string trimmed(const std::string &s)
{
    const auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    size_t b = 0, e = s.size();
    while (b < e && isSpace(s[b]))
        ++b;
    while (e > b && isSpace(s[e - 1]))
        --e;
    return s.substr(b, e - b);
}

std::string joined(const std::vector<std::string> &items)
{
    std::string out;
    for (const std::string &item : items)
        out += (out.empty() ? "" : ", ") + item;
    return out;
}

[[noreturn]] void fail(const std::string &path, int line, const std::string &why)
{
    throw Error(path + ":" + std::to_string(line) + ": " + why);
}

const GlueFormat *glueFormat(const std::string &taskName)
{
    static const std::vector<std::pair<std::string, GlueFormat>> formats = {
        {"CoLA", {false, {{3, nullptr}}, {1, nullptr}, {{1, "sentence"}}}},
        {"SST-2", {true, {{0, "sentence"}}, {1, "label"}, {{1, "sentence"}}}},
        {"MRPC", {true, {{3, "#1 String"}, {4, "#2 String"}}, {0, "Quality"}, {{3, "#1 String"}, {4, "#2 String"}}}},
        {"STS-B", {true, {{7, "sentence1"}, {8, "sentence2"}}, {9, "score"}, {{7, "sentence1"}, {8, "sentence2"}}}},
        {"QQP",
         {true, {{3, "question1"}, {4, "question2"}}, {5, "is_duplicate"}, {{1, "question1"}, {2, "question2"}}}},
        {"MNLI",
         {true, {{8, "sentence1"}, {9, "sentence2"}}, {-1, "gold_label"}, {{8, "sentence1"}, {9, "sentence2"}}}},
        {"QNLI", {true, {{1, "question"}, {2, "sentence"}}, {3, "label"}, {{1, "question"}, {2, "sentence"}}}},
        {"RTE", {true, {{1, "sentence1"}, {2, "sentence2"}}, {3, "label"}, {{1, "sentence1"}, {2, "sentence2"}}}},
        {"WNLI", {true, {{1, "sentence1"}, {2, "sentence2"}}, {3, "label"}, {{1, "sentence1"}, {2, "sentence2"}}}},
    };
    const std::string name = taskName == "MNLI-MM" ? "MNLI" : taskName;
    for (const auto &[n, format] : formats)
        if (n == name)
            return &format;
    return nullptr;
}

bool fileExists(const std::string &path)
{
    std::error_code ec;
    return std::filesystem::is_regular_file(path, ec);
}

std::string joinPath(const std::string &dir, const std::string &file)
{
    if (dir.empty())
        return file;
    return dir.back() == '/' ? dir + file : dir + "/" + file;
}

bool endsWith(const std::string &s, const std::string &suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// One physical line of a file with its 1-based number.
struct Line
{
    int number;
    std::string text;
};

// Splits on '\n' only; drops a leading UTF-8 BOM, trailing '\r' and empty lines, and keeps a
// last line that has no newline.
std::vector<Line> readLines(const std::string &path)
{
    std::string data = readFileText(path);
    if (data.compare(0, 3, "\xEF\xBB\xBF") == 0)
        data.erase(0, 3);
    std::vector<Line> lines;
    size_t start = 0;
    int number = 0;
    while (start < data.size()) {
        size_t end = data.find('\n', start);
        if (end == std::string::npos)
            end = data.size();
        ++number;
        std::string text = data.substr(start, end - start);
        if (!text.empty() && text.back() == '\r')
            text.pop_back();
        if (!text.empty())
            lines.push_back({number, std::move(text)});
        start = end + 1;
    }
    return lines;
}

std::vector<std::string> splitTabs(const std::string &line)
{
    std::vector<std::string> cols;
    size_t start = 0;
    for (;;) {
        const size_t tab = line.find('\t', start);
        if (tab == std::string::npos) {
            cols.push_back(line.substr(start));
            return cols;
        }
        cols.push_back(line.substr(start, tab - start));
        start = tab + 1;
    }
}

// Locale-independent and strict: Qt applications switch the C locale to the user's, where
// strtod might expect a decimal comma.
bool parseFloat(const std::string &field, float &out)
{
    const std::string s = trimmed(field);
    double value = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(value))
        return false;
    out = static_cast<float>(value);
    return true;
}

// Sets the label of a labelled example from its text, against the spec's label set (or as
// a score for regression); an unknown label or bad number is an error at that line.
void setLabel(const TaskSpec &task, Example &ex, const std::string &field, const std::string &path)
{
    ex.hasLabel = true;
    ex.labelText = trimmed(field);
    if (task.regression) {
        if (!parseFloat(ex.labelText, ex.label))
            fail(path, ex.line, "bad score '" + ex.labelText + "' (expected a number)");
        return;
    }
    if (task.labels.empty())
        return; // generic: indexes assigned once the whole label set is known
    const auto it = std::find(task.labels.begin(), task.labels.end(), ex.labelText);
    if (it == task.labels.end())
        fail(path, ex.line, "unknown label '" + ex.labelText + "' (expected one of " + joined(task.labels) + ")");
    ex.label = static_cast<float>(it - task.labels.begin());
}

bool headerMatches(const std::vector<std::string> &header, const Column &col)
{
    const size_t i = col.index < 0 ? header.size() - 1 : static_cast<size_t>(col.index);
    return i < header.size() && lower(trimmed(header[i])) == lower(col.name);
}

std::vector<Example> readGlue(const TaskSpec &task, const GlueFormat &format, const std::string &path)
{
    const std::vector<Line> lines = readLines(path);
    if (lines.empty())
        throw Error(path + ": empty file");

    // Train/dev files name their label column in the header; test files lack it. CoLA has no
    // header at all except in its test file ("index<TAB>sentence").
    bool hasLabel = true;
    size_t first = 0;
    const std::vector<std::string> header = splitTabs(lines[0].text);
    if (format.header) {
        first = 1;
        if (!headerMatches(header, format.label)) {
            hasLabel = false;
            for (const Column &col : format.testText)
                if (!headerMatches(header, col))
                    fail(path, lines[0].number,
                         "not a " + task.name + " file: the header has neither its label column '" + format.label.name +
                             "' nor test column " + std::to_string(col.index) + " '" + col.name + "'");
        }
    } else if (header.size() >= 2 && lower(header[0]) == "index" && headerMatches(header, format.testText[0])) {
        first = 1;
        hasLabel = false;
    }

    const std::vector<Column> &textCols = hasLabel ? format.text : format.testText;
    size_t needed = 0;
    for (const Column &col : textCols)
        needed = std::max(needed, static_cast<size_t>(col.index) + 1);
    if (hasLabel)
        needed = format.label.index < 0 ? needed + 1 : std::max(needed, static_cast<size_t>(format.label.index) + 1);

    std::vector<Example> examples;
    examples.reserve(lines.size() - first);
    for (size_t i = first; i < lines.size(); ++i) {
        const std::vector<std::string> cols = splitTabs(lines[i].text);
        if (cols.size() < needed)
            fail(path, lines[i].number,
                 "too few columns: " + std::to_string(cols.size()) + ", expected at least " + std::to_string(needed) +
                     " (TAB-separated)");
        Example ex;
        ex.line = lines[i].number;
        ex.textA = cols[textCols[0].index];
        if (textCols.size() > 1)
            ex.textB = cols[textCols[1].index];
        if (hasLabel)
            setLabel(task, ex, format.label.index < 0 ? cols.back() : cols[format.label.index], path);
        examples.push_back(std::move(ex));
    }
    return examples;
}

std::vector<Example> readGenericTsv(const TaskSpec &task, const std::string &path)
{
    const std::vector<Line> lines = readLines(path);
    if (lines.empty())
        throw Error(path + ": empty file");
    int textCol = -1, pairCol = -1, labelCol = -1;
    const std::vector<std::string> header = splitTabs(lines[0].text);
    for (size_t i = 0; i < header.size(); ++i) {
        const std::string name = lower(trimmed(header[i]));
        int *slot = name == "text" ? &textCol : name == "text_pair" ? &pairCol : name == "label" ? &labelCol : nullptr;
        if (slot && *slot >= 0)
            fail(path, lines[0].number, "column '" + name + "' appears twice in the header");
        if (slot)
            *slot = static_cast<int>(i);
    }
    if (textCol < 0)
        fail(path, lines[0].number, "header has no 'text' column (expected columns text, optional text_pair, label)");
    const size_t needed = static_cast<size_t>(std::max({textCol, pairCol, labelCol})) + 1;

    std::vector<Example> examples;
    for (size_t i = 1; i < lines.size(); ++i) {
        const std::vector<std::string> cols = splitTabs(lines[i].text);
        if (cols.size() < needed)
            fail(path, lines[i].number,
                 "too few columns: " + std::to_string(cols.size()) + ", expected at least " + std::to_string(needed) +
                     " (TAB-separated)");
        Example ex;
        ex.line = lines[i].number;
        ex.textA = cols[textCol];
        if (pairCol >= 0)
            ex.textB = cols[pairCol];
        if (labelCol >= 0)
            setLabel(task, ex, cols[labelCol], path);
        examples.push_back(std::move(ex));
    }
    return examples;
}

// JSON numbers become label text the way a user would write them: 1, not 1.0.
std::string numberText(const nlohmann::json &v)
{
    if (v.is_number_integer() || v.is_number_unsigned())
        return v.dump();
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15)
        return std::to_string(static_cast<long long>(d));
    return v.dump();
}

std::vector<Example> readGenericJsonl(const TaskSpec &task, const std::string &path)
{
    std::vector<Example> examples;
    for (const Line &line : readLines(path)) {
        if (trimmed(line.text).empty())
            continue;
        nlohmann::json obj;
        try {
            obj = nlohmann::json::parse(line.text);
        } catch (const nlohmann::json::exception &e) {
            fail(path, line.number, std::string("invalid JSON: ") + e.what());
        }
        if (!obj.is_object())
            fail(path, line.number, "expected a JSON object {\"text\": ..., \"label\": ...}");
        const auto text = obj.find("text");
        if (text == obj.end() || !text->is_string())
            fail(path, line.number, "missing string field \"text\"");
        Example ex;
        ex.line = line.number;
        ex.textA = text->get<std::string>();
        const auto pair = obj.find("text_pair");
        if (pair != obj.end() && !pair->is_null()) {
            if (!pair->is_string())
                fail(path, line.number, "field \"text_pair\" must be a string");
            ex.textB = pair->get<std::string>();
        }
        const auto label = obj.find("label");
        if (label != obj.end() && !label->is_null()) {
            if (label->is_string())
                setLabel(task, ex, label->get<std::string>(), path);
            else if (label->is_number())
                setLabel(task, ex, numberText(*label), path);
            else
                fail(path, line.number, "field \"label\" must be a string or a number");
            if (task.regression && label->is_number())
                ex.label = label->get<float>(); // keep the full value, not its text form
        }
        examples.push_back(std::move(ex));
    }
    return examples;
}

bool isInteger(const std::string &s)
{
    long long v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
}

} // namespace

std::string labelMismatch(const std::vector<std::string> &modelLabels, const TaskSpec &task)
{
    if (task.labels.empty() || modelLabels.empty())
        return {};
    bool placeholders = true;
    for (size_t i = 0; i < modelLabels.size(); ++i)
        placeholders = placeholders && lower(modelLabels[i]) == "label_" + std::to_string(i);
    if (placeholders)
        return {};
    bool same = modelLabels.size() == task.labels.size();
    for (size_t i = 0; same && i < modelLabels.size(); ++i)
        same = lower(trimmed(modelLabels[i])) == lower(task.labels[i]);
    if (same)
        return {};
    return "the model's labels are (" + joined(modelLabels) + ") but " + task.name + "'s are (" + joined(task.labels) +
           "): was it fine-tuned on another task? Its class indexes mean other labels here";
}

std::vector<std::string> knownTaskNames()
{
    return {"CoLA",    "SST-2", "MRPC", "STS-B", "QQP",     "MNLI",
            "MNLI-MM", "QNLI",  "RTE",  "WNLI",  "generic", "generic-regression"};
}

TaskSpec taskByName(const std::string &name)
{
    static const std::vector<std::string> binary = {"0", "1"};
    static const std::vector<std::string> nli3 = {"contradiction", "entailment", "neutral"};
    static const std::vector<std::string> nli2 = {"entailment", "not_entailment"};
    const std::string key = normalizedName(name);
    TaskSpec spec;
    if (key == "cola") {
        spec = {"CoLA", false, false, binary, "mcc"};
    } else if (key == "sst2" || key == "sst") {
        spec = {"SST-2", false, false, binary, "accuracy"};
    } else if (key == "mrpc") {
        spec = {"MRPC", false, true, binary, "f1"};
    } else if (key == "stsb" || key == "sts") {
        spec = {"STS-B", true, true, {}, "pearson"};
    } else if (key == "qqp") {
        spec = {"QQP", false, true, binary, "f1"};
    } else if (key == "mnli" || key == "mnlim" || key == "mnlimatched") {
        spec = {"MNLI", false, true, nli3, "accuracy", "dev_matched.tsv"};
    } else if (key == "mnlimm" || key == "mnlimismatched") {
        spec = {"MNLI-MM", false, true, nli3, "accuracy", "dev_mismatched.tsv"};
    } else if (key == "qnli") {
        spec = {"QNLI", false, true, nli2, "accuracy"};
    } else if (key == "rte") {
        spec = {"RTE", false, true, nli2, "accuracy"};
    } else if (key == "wnli") {
        spec = {"WNLI", false, true, binary, "accuracy"};
    } else if (key == "generic") {
        // pair stays false: whether a generic file has text_pair is known only from its data.
        spec = {"generic", false, false, {}, "accuracy"};
    } else if (key == "genericregression") {
        spec = {"generic-regression", true, false, {}, "pearson"};
    } else {
        throw Error("unknown task '" + name + "'; known tasks: " + joined(knownTaskNames()));
    }
    return spec;
}

std::vector<Example> readTaskFile(const TaskSpec &task, const std::string &path)
{
    if (const GlueFormat *format = glueFormat(task.name))
        return readGlue(task, *format, path);
    if (task.name != "generic" && task.name != "generic-regression")
        throw Error(path + ": unknown task '" + task.name + "'; known tasks: " + joined(knownTaskNames()));

    std::vector<Example> examples = endsWith(lower(path), ".jsonl") || endsWith(lower(path), ".json")
                                        ? readGenericJsonl(task, path)
                                        : readGenericTsv(task, path);
    if (!task.regression && task.labels.empty())
        assignLabels(examples, labelsFromExamples(examples), path);
    return examples;
}

std::string splitPath(const TaskSpec &task, const std::string &dataDir, const std::string &split)
{
    std::string file;
    if (split == "train")
        file = "train.tsv";
    else if (split == "dev")
        file = task.devFile;
    else if (split == "test")
        file = task.name == "MNLI" ? "test_matched.tsv" : task.name == "MNLI-MM" ? "test_mismatched.tsv" : "test.tsv";
    else
        throw Error("unknown split '" + split + "' (expected train, dev or test)");

    const std::string path = joinPath(dataDir, file);
    if ((task.name == "generic" || task.name == "generic-regression") && !fileExists(path) && endsWith(file, ".tsv")) {
        const std::string jsonl = joinPath(dataDir, file.substr(0, file.size() - 4) + ".jsonl");
        if (fileExists(jsonl))
            return jsonl;
    }
    return path; // a missing file is reported by the reader, naming the .tsv it expected
}

std::vector<std::string> labelsFromExamples(const std::vector<Example> &examples)
{
    std::vector<std::string> labels;
    for (const Example &ex : examples)
        if (ex.hasLabel)
            labels.push_back(ex.labelText);
    std::sort(labels.begin(), labels.end());
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    // Integer labels sort by value, so "2" precedes "10" and class k keeps index k where the
    // labels are 0..n-1.
    if (std::all_of(labels.begin(), labels.end(), isInteger))
        std::stable_sort(labels.begin(), labels.end(),
                         [](const std::string &a, const std::string &b) { return std::stoll(a) < std::stoll(b); });
    return labels;
}

void assignLabels(std::vector<Example> &examples, const std::vector<std::string> &labels, const std::string &path)
{
    for (Example &ex : examples) {
        if (!ex.hasLabel)
            continue;
        const auto it = std::find(labels.begin(), labels.end(), ex.labelText);
        if (it == labels.end())
            fail(path, ex.line, "unknown label '" + ex.labelText + "' (expected one of " + joined(labels) + ")");
        ex.label = static_cast<float>(it - labels.begin());
    }
}

std::vector<Example> readLabelledExamples(TaskSpec &task, const std::string &path)
{
    std::vector<Example> examples = readTaskFile(task, path);
    if (!task.regression && task.labels.empty())
        task.labels = labelsFromExamples(examples);
    if (!task.regression)
        assignLabels(examples, task.labels, path);
    return examples;
}

} // namespace tl
