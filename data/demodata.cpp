#include "demodata.h"

#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "util/error.h"
#include "util/fileio.h"

namespace tl::demo {
namespace {

// SplitMix64: a few lines of plain integer arithmetic (statistically fine for a toy
// corpus), so a seed gives the same files with every compiler and standard library,
// which the std distributions do not. For the same reason, never draw twice among the
// arguments of one call (their order is unspecified); braced lists are ordered.
class Rng
{
public:
    explicit Rng(uint64_t seed) : m_state(seed) {}

    uint64_t next()
    {
        uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // The modulo bias is below 2^-56 for these tiny ranges: irrelevant here.
    int below(size_t n) { return static_cast<int>(next() % n); }
    bool chance(int percent) { return below(100) < percent; }
    template <typename T> const T &pick(const std::vector<T> &v) { return v[below(v.size())]; }
    // Another element than the ones to avoid, for "some other noun / verb / place".
    template <typename T> const T &pickOther(const std::vector<T> &v, const T &avoid, const T &avoid2 = T())
    {
        const T *p = &pick(v);
        while (*p == avoid || *p == avoid2)
            p = &pick(v);
        return *p;
    }

private:
    uint64_t m_state;
};

// One independent stream per file and split, so e.g. a different corpusLines leaves the
// task files as they were, and dev is not a replay of train.
Rng stream(uint64_t seed, uint64_t id)
{
    Rng mixer(seed ^ (id * 0xD1B54A32D192ED03ull));
    return Rng(mixer.next());
}

/// Noun: singular / plural. Verb: third person singular / base form.
struct Forms
{
    std::string one, many;
    bool operator==(const Forms &o) const { return one == o.one && many == o.many; }
    const std::string &of(bool plural) const { return plural ? many : one; }
};
using Words = std::vector<std::string>;
using List = std::vector<std::string>;

const std::vector<Forms> kAnimates = {
    {"dog", "dogs"},   {"cat", "cats"},     {"child", "children"},   {"man", "men"},          {"woman", "women"},
    {"bird", "birds"}, {"horse", "horses"}, {"teacher", "teachers"}, {"student", "students"}, {"farmer", "farmers"},
    {"king", "kings"}, {"queen", "queens"}, {"girl", "girls"},       {"boy", "boys"},         {"mouse", "mice"},
    {"fox", "foxes"},  {"baby", "babies"},  {"wolf", "wolves"},      {"doctor", "doctors"},   {"goose", "geese"}};
const std::vector<Forms> kThings = {{"ball", "balls"},     {"apple", "apples"}, {"book", "books"}, {"cake", "cakes"},
                                    {"letter", "letters"}, {"box", "boxes"},    {"key", "keys"},   {"hat", "hats"},
                                    {"toy", "toys"},       {"egg", "eggs"}};
const std::vector<Forms> kWorks = {
    {"movie", "movies"},   {"film", "films"},    {"story", "stories"},    {"song", "songs"},
    {"show", "shows"},     {"play", "plays"},    {"meal", "meals"},       {"game", "games"},
    {"trip", "trips"},     {"party", "parties"}, {"concert", "concerts"}, {"plot", "plots"},
    {"ending", "endings"}, {"novel", "novels"},  {"poem", "poems"},       {"day", "days"}};
const std::vector<Forms> kIntransitive = {
    {"runs", "run"},     {"sleeps", "sleep"}, {"sings", "sing"},   {"jumps", "jump"}, {"swims", "swim"},
    {"laughs", "laugh"}, {"waits", "wait"},   {"dances", "dance"}, {"cries", "cry"},  {"walks", "walk"}};
// Verbs with an animate object ("sam helps the teacher"), so roles can be swapped.
const std::vector<Forms> kTransitive = {
    {"sees", "see"},       {"likes", "like"},   {"finds", "find"}, {"watches", "watch"}, {"helps", "help"},
    {"follows", "follow"}, {"chases", "chase"}, {"calls", "call"}, {"meets", "meet"},    {"loves", "love"}};
const std::vector<Forms> kHandling = {
    {"wants", "want"}, {"carries", "carry"}, {"holds", "hold"}, {"drops", "drop"}, {"buys", "buy"}};

const List kPositive = {"good",      "great",  "wonderful", "happy",     "funny",    "lovely",     "nice",  "brilliant",
                        "beautiful", "clever", "pleasant",  "excellent", "charming", "delightful", "moving"};
const List kNegative = {"bad",    "terrible", "awful",    "dreadful", "boring", "dull",    "ugly",   "bland",
                        "stupid", "poor",     "horrible", "weak",     "nasty",  "painful", "tedious"};
const List kNeutral = {"big",   "small", "old",   "young", "little", "quiet", "tall",
                       "brown", "black", "white", "red",   "hungry", "tired", "lazy"};
const List kIntensifiers = {"very", "really", "quite", "truly", "extremely"};
const List kMannerAdverbs = {"quickly", "slowly", "happily", "quietly", "loudly"};
const List kFrequencyAdverbs = {"often", "always", "sometimes", "usually"};
const List kNames = {"sam", "anna", "tom", "mia", "ben", "lucy", "max", "emma", "leo", "zoe", "nina", "paul"};
const List kPlaces = {"park",  "garden", "house",   "school", "forest", "river",   "city", "kitchen",
                      "field", "market", "village", "street", "beach",  "library", "hill"};
const List kPlacePreps = {"in", "near", "behind", "by"};
const List kAttractorPreps = {"near", "behind", "with", "beside"};
const List kOneDets = {"the", "the", "the", "a", "every", "this", "that", "no"};
const List kManyDets = {"the", "the", "the", "some", "these", "those", "many", "no"};
const List kConjunctions = {"and", "but", "because", "while", "so", "or"};
// Every other word a template writes; the vocabulary is built from these tables.
const List kFunctionWords = {"the", "a", "an", "not", "never", "is", "are", "was",     "were",  "does", "do", "that",
                             "it",  "i", "he", "she", "they",  "we", "you", "thought", "found", "what", "who"};

void add(Words &w, const Words &more)
{
    w.insert(w.end(), more.begin(), more.end());
}
Words with(Words w, const Words &more)
{
    add(w, more);
    return w;
}

// Lower-case words separated by spaces, punctuation and "'s" attached as in English,
// "a" -> "an" before a vowel; empty words (optional ones left out) are skipped.
std::string join(const Words &all)
{
    Words w;
    for (const std::string &t : all)
        if (!t.empty())
            w.push_back(t);
    std::string s;
    for (size_t i = 0; i < w.size(); ++i) {
        const bool an = w[i] == "a" && i + 1 < w.size() && std::string("aeiou").find(w[i + 1][0]) != std::string::npos;
        if (i > 0 && w[i] != "." && w[i] != "," && w[i] != "!" && w[i] != "?" && w[i] != "'s")
            s += ' ';
        s += an ? "an" : w[i];
    }
    return s;
}

Words nounPhrase(Rng &r, const std::vector<Forms> &nouns, bool plural, int adjPercent, const List *dets = nullptr)
{
    Words w{r.pick(dets ? *dets : plural ? kManyDets : kOneDets)};
    if (r.chance(adjPercent))
        w.push_back(r.pick(kNeutral));
    w.push_back(r.pick(nouns).of(plural));
    return w;
}

struct Subject
{
    Words words;
    bool plural = false;
};

// A subject whose number is decided by its head, with distractors between the head and
// the verb (a prepositional phrase or a relative clause whose nouns may differ in
// number), so agreement cannot be read off the nearest noun.
Subject subject(Rng &r)
{
    const List the = {"the"};
    Subject s{{}, r.chance(50)};
    const int kind = r.below(100);
    if (kind < 10)
        return {{r.pick(kNames)}, false};
    if (kind < 18)
        return {{s.plural ? (r.chance(50) ? "they" : "we") : (r.chance(50) ? "he" : "she")}, s.plural};
    if (kind < 28) { // the dog and the cats: plural whatever the conjuncts
        s.words = with(nounPhrase(r, kAnimates, r.chance(50), 20, &the), {"and"});
        add(s.words, r.chance(30) ? Words{r.pick(kNames)} : nounPhrase(r, kAnimates, r.chance(50), 20, &the));
        return {s.words, true};
    }
    s.words = nounPhrase(r, kAnimates, s.plural, 30);
    const bool innerPlural = r.chance(65) ? !s.plural : s.plural;
    if (kind < 50)
        return s;
    if (kind < 75) { // the dogs near the cat
        s.words.push_back(r.pick(kAttractorPreps));
        add(s.words, nounPhrase(r, r.chance(70) ? kAnimates : kThings, innerPlural, 20, &the));
    } else if (kind < 88) { // the dog that sees the cats
        add(s.words, {r.chance(50) ? "that" : "who", r.pick(kTransitive).of(s.plural)});
        add(s.words, nounPhrase(r, kAnimates, innerPlural, 20, &the));
    } else { // the dog that the cats see
        add(s.words, with({"that"}, nounPhrase(r, kAnimates, innerPlural, 20, &the)));
        s.words.push_back(r.pick(kTransitive).of(innerPlural));
    }
    return s;
}

Words placePhrase(Rng &r)
{
    return {r.pick(kPlacePreps), "the", r.pick(kPlaces)};
}
// An optional word: one of list, or "" (which join skips).
std::string maybe(Rng &r, int percent, const List &list)
{
    return r.chance(percent) ? r.pick(list) : "";
}

// A verb phrase in the form of a subject of that number.
Words predicate(Rng &r, bool plural)
{
    Words w;
    switch (r.below(6)) {
    case 0: // runs quickly in the park
        w = {r.pick(kIntransitive).of(plural), maybe(r, 30, kMannerAdverbs)};
        if (r.chance(50))
            add(w, placePhrase(r));
        break;
    case 1: // often sees the cats
        w = {maybe(r, 25, kFrequencyAdverbs), r.pick(kTransitive).of(plural)};
        add(w, r.chance(20) ? Words{r.pick(kNames)} : nounPhrase(r, kAnimates, r.chance(50), 20));
        break;
    case 2: // carries the red ball
        w = {r.pick(kHandling).of(plural)};
        add(w, nounPhrase(r, kThings, r.chance(50), 30));
        break;
    case 3: // is very happy
        w = {plural ? "are" : "is", maybe(r, 25, kIntensifiers),
             r.pick(r.chance(33)   ? kPositive
                    : r.chance(50) ? kNegative
                                   : kNeutral)};
        break;
    case 4: // does not run, never runs
        w = r.chance(50) ? Words{plural ? "do" : "does", "not", r.pick(kIntransitive).many}
                         : Words{"never", r.pick(kIntransitive).of(plural)};
        break;
    default: // was in the garden
        w = with({plural ? "were" : "was"}, placePhrase(r));
        break;
    }
    return w;
}

// An adjective phrase of one polarity: "very good", "funny and clever".
Words adjectivePhrase(Rng &r, bool positive, bool allowAnd = true)
{
    const List &adjs = positive ? kPositive : kNegative;
    Words w = {maybe(r, 30, kIntensifiers), r.pick(adjs)};
    if (allowAnd && r.chance(25))
        add(w, {"and", r.pickOther(adjs, w[1])});
    return w;
}

// A review whose overall polarity is positive. Negation ("not", "never") flips the
// adjective; after "but" the last clause decides, so the task needs composition.
Words review(Rng &r, bool positive)
{
    const Forms &work = r.pick(kWorks);
    const bool plural = r.chance(25);
    const std::string det = r.pick(plural ? List{"the", "these", "those"} : List{"the", "this", "that"});
    const std::string be = plural ? (r.chance(70) ? "were" : "are") : (r.chance(70) ? "was" : "is");
    const bool negate = r.chance(45);
    const Words no = negate ? Words{"not"} : Words{};
    const Words noOrNever = negate && r.chance(25) ? Words{"never"} : no;
    const Words adjectives = adjectivePhrase(r, positive != negate); // polarity before negation
    const int kind = r.below(100);
    if (kind < 35) // the movie was (not) good
        return with({det, work.of(plural), be}, with(noOrNever, adjectives));
    if (kind < 50) // it was (not) a good movie
        return with(with({"it", "was"}, no), with(with({"a"}, adjectives), {work.one}));
    if (kind < 62) // a wonderful and funny story
        return with(with(plural ? Words{} : Words{"a"}, adjectivePhrase(r, positive)), {work.of(plural)});
    if (kind < 75) // sam thought the movie was (not) good
        return with(r.chance(50) ? Words{r.pick(kNames), "thought", "the", work.one, "was"}
                                 : Words{"i", "found", "the", work.one},
                    with(no, adjectives));
    if (kind < 87) { // the movie was not bad but great
        const Words w = {"the", work.of(plural), be, "not", r.pick(positive ? kNegative : kPositive), "but"};
        return with(w, adjectivePhrase(r, positive, false));
    }
    // the plot was dull, but the ending was not bad
    const Words first = {
        "the", work.one, "was", r.chance(30) ? "not" : "",     r.pick(r.chance(50) ? kPositive : kNegative),
        ",",   "but",    "the", r.pickOther(kWorks, work).one, "was"};
    return with(first, with(no, adjectives));
}

// A premise and a hypothesis that it entails or does not, by construction: dropping a
// conjunct, an adjective, an adverb or a place entails; another noun, verb, place or
// swapped roles, or a negation, does not.
void entailmentPair(Rng &r, bool entailed, Words &p, Words &h)
{
    const Forms &v = r.pick(kIntransitive);
    const Forms &v2 = r.pickOther(kIntransitive, v);
    const Forms &n1 = r.pick(kAnimates);
    const Forms &n2 = r.pickOther(kAnimates, n1);
    const Forms &n3 = r.pickOther(kAnimates, n1, n2);
    const Forms &n = r.chance(50) ? n1 : n2;
    const Forms &t = r.pick(kTransitive);
    const std::string &name = r.pick(kNames);
    const std::string &adj = r.pick(kNeutral);
    const std::string &place = r.pick(kPlaces);
    const std::string &prep = r.pick(kPlacePreps);
    const Words there = {prep, "the", place};
    const Words elsewhere = {prep, "the", r.pickOther(kPlaces, place)};
    const Words adverb = r.chance(40) ? Words{r.pick(kMannerAdverbs)} : Words{};
    std::vector<Words> yes, no; // the hypotheses the premise does and does not entail
    switch (r.below(5)) {
    case 0: // the dog and the cat sleep in the garden
        p = with({"the", n1.one, "and", "the", n2.one, v.many}, there);
        yes = {{"the", n.one, v.one}, with({"the", n.one, v.one}, there)};
        no = {{"the", n3.one, v.one},
              {"the", n.one, v2.one},
              with({"the", n.one, v.one}, elsewhere),
              {"the", n.one, "does", "not", v.many}};
        break;
    case 1: // the big dog runs quickly near the river
        p = with(with({"the", adj, n1.one, v.one}, adverb), there);
        yes = {{"the", n1.one, v.one}, with({"the", n1.one, v.one}, there), {"the", adj, n1.one, v.one}};
        no = {{"the", r.pickOther(kNeutral, adj), n1.one, v.one},
              with({"the", n1.one, v.one}, elsewhere),
              {"the", n1.one, "does", "not", v.many},
              {"the", n2.one, v.one}};
        break;
    case 2: // sam helps the old teacher in the school; not: the teacher helps sam
        p = with({name, t.one, "the", adj, n1.one}, there);
        yes = {{name, t.one, "the", n1.one}, {name, t.one, "the", adj, n1.one}};
        no = {{"the", n1.one, t.one, name},
              {r.pickOther(kNames, name), t.one, "the", n1.one},
              {name, r.pickOther(kTransitive, t).one, "the", n1.one},
              {name, "does", "not", t.many, "the", n1.one}};
        break;
    case 3: // the dog sleeps in the park, but the cat does not
        p = with({"the", n1.one, v.one}, with(there, {",", "but", "the", n2.one, "does", "not"}));
        yes = {{"the", n1.one, v.one}, with({"the", n2.one, "does", "not", v.many}, there)};
        no = {{"the", n2.one, v.one}, with({"the", n2.one, v.one}, there), {"the", n1.one, "does", "not", v.many}};
        break;
    default: // the dogs run slowly in the field
        p = with(with({"the", n1.many, v.many}, adverb), there);
        yes = {{"the", n1.many, v.many}, with({"the", n1.many, v.many}, adverb.empty() ? Words{} : there)};
        no = {with({"the", n1.many, v.many}, elsewhere),
              {"the", n1.many, "do", "not", v.many},
              {"the", n2.many, v.many},
              {"the", n1.many, v2.many}};
        break;
    }
    h = r.pick(entailed ? yes : no);
    p.push_back(".");
    h.push_back(".");
}

// "is the dog happy?", "do you like the cats?": the auxiliary agrees with the subject.
Words question(Rng &r)
{
    const List the = {"the"};
    const bool you = r.chance(10);
    const bool plural = you || r.chance(50);
    const Words subj = you ? Words{"you"} : nounPhrase(r, kAnimates, plural, 20, &the);
    const bool be = !you && r.chance(30);
    Words w = with({be ? (plural ? "are" : "is") : (plural ? "do" : "does")}, subj);
    if (be) {
        w.push_back(r.pick(r.chance(50) ? kPositive : kNeutral));
    } else if (r.chance(50)) {
        w.push_back(r.pick(kIntransitive).many);
        add(w, placePhrase(r));
    } else {
        w.push_back(r.pick(kTransitive).many);
        add(w, nounPhrase(r, kAnimates, r.chance(50), 20));
    }
    w.push_back("?");
    return w;
}

// A subject and a verb phrase that agrees with it, or on purpose does not.
Words clause(Rng &r, bool agree = true)
{
    const Subject s = subject(r);
    return with(s.words, predicate(r, agree ? s.plural : !s.plural));
}

// One grammatical sentence of the corpus, ending in its punctuation. The task templates
// are part of the mix, so pre-training has seen every construction the tasks use.
Words corpusSentence(Rng &r)
{
    const int kind = r.below(100);
    if (kind < 40)
        return with(clause(r), {"."});
    if (kind < 55) {
        const Words w = review(r, r.chance(50));
        return with(w, {r.chance(85) ? "." : "!"});
    }
    if (kind < 65) {
        Words p, h;
        entailmentPair(r, r.chance(50), p, h);
        return r.chance(50) ? p : h;
    }
    if (kind < 75)
        return question(r);
    if (kind < 88) { // the dog runs, and the cats sleep.
        const std::string conj = r.pick(kConjunctions);
        Words w = with(clause(r), {conj == "because" || conj == "while" ? "" : ",", conj});
        return with(w, with(clause(r), {"."}));
    }
    if (kind < 95) { // sam's dogs run.
        const bool plural = r.chance(50);
        const Words w = {r.pick(kNames), "'s", r.pick(r.chance(70) ? kAnimates : kThings).of(plural)};
        return with(w, with(predicate(r, plural), {"."}));
    }
    const Forms &work = r.pick(kWorks); // what a lovely song!
    const bool plural = r.chance(30);
    return with(with({"what", plural ? "" : "a"}, adjectivePhrase(r, r.chance(50), false)), {work.of(plural), "!"});
}

void writeText(const std::filesystem::path &path, const std::string &text)
{
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
        throw Error(path.parent_path().string() + ": cannot create folder: " + ec.message());
    writeFileAtomic(path.string(), text);
}

struct Row
{
    std::string a, b;
    bool label = false;
};

// Writes train.tsv and dev.tsv of one task. Labels come in pairs (one of each, in random
// order), so every split is balanced to within one row. A dev row that repeats a train
// row is drawn again (a bounded number of times, so a huge request still ends).
template <typename Make, typename Format>
void writeTask(const DemoOptions &o, uint64_t id, const std::string &task, const std::string &header, Make make,
               Format format)
{
    std::set<std::string> trainKeys;
    for (const bool isTrain : {true, false}) {
        Rng r = stream(o.seed, id + (isTrain ? 0 : 1));
        std::string text = header;
        bool label = false;
        for (int i = 0, n = isTrain ? o.trainExamples : o.devExamples; i < n; ++i) {
            label = i % 2 == 0 ? r.chance(50) : !label;
            Row row = make(r, label);
            for (int tries = 0; !isTrain && tries < 200 && trainKeys.count(row.a + '\t' + row.b); ++tries)
                row = make(r, label);
            if (isTrain)
                trainKeys.insert(row.a + '\t' + row.b);
            text += format(i, row) + '\n';
        }
        writeText(std::filesystem::path(o.outDir) / task / (isTrain ? "train.tsv" : "dev.tsv"), text);
    }
}

std::string vocabText()
{
    std::set<std::string> words(kFunctionWords.begin(), kFunctionWords.end());
    for (const auto *forms : {&kAnimates, &kThings, &kWorks, &kIntransitive, &kTransitive, &kHandling})
        for (const Forms &f : *forms)
            words.insert({f.one, f.many});
    for (const List *list : {&kPositive, &kNegative, &kNeutral, &kIntensifiers, &kMannerAdverbs, &kFrequencyAdverbs,
                             &kNames, &kPlaces, &kPlacePreps, &kAttractorPreps, &kOneDets, &kManyDets, &kConjunctions})
        words.insert(list->begin(), list->end());
    std::string text = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n.\n,\n!\n?\n'\n";
    for (const std::string &w : words)
        text += w + '\n';
    // Characters last, so any unknown lower-case word can still be spelled by WordPiece.
    for (char c = 'a'; c <= 'z'; ++c)
        if (!words.count(std::string(1, c)))
            text += std::string(1, c) + '\n';
    for (char c = '0'; c <= '9'; ++c)
        text += std::string(1, c) + '\n';
    for (char c = 'a'; c <= 'z'; ++c)
        text += std::string("##") + c + '\n';
    return text;
}

} // namespace

void writeDemoData(const DemoOptions &options)
{
    if (options.outDir.empty())
        throw Error("demo data: no output folder given");
    if (options.corpusLines < 0 || options.trainExamples < 0 || options.devExamples < 0)
        throw Error("demo data: corpusLines, trainExamples and devExamples must not be negative");
    const std::filesystem::path out(options.outDir);

    writeText(out / "vocab.txt", vocabText());

    Rng cr = stream(options.seed, 1);
    std::string corpus;
    for (int i = 0; i < options.corpusLines; ++i) {
        const int sentences = 1 + cr.below(4);
        for (int k = 0; k < sentences; ++k)
            corpus += (k ? " " : "") + join(corpusSentence(cr));
        corpus += '\n';
    }
    writeText(out / "corpus" / "toy.txt", corpus);

    writeTask(
        options, 10, "sentiment", "sentence\tlabel\n",
        [](Rng &r, bool label) {
            return Row{join(review(r, label)), {}, label};
        },
        [](int, const Row &row) { return row.a + '\t' + (row.label ? "1" : "0"); });
    writeTask(
        options, 20, "agreement", "",
        [](Rng &r, bool label) {
            return Row{join(with(clause(r, label), {"."})), {}, label};
        },
        [](int, const Row &row) { return std::string("toy\t") + (row.label ? "1\t\t" : "0\t*\t") + row.a; });
    writeTask(
        options, 30, "entailment", "index\tsentence1\tsentence2\tlabel\n",
        [](Rng &r, bool label) {
            Words p, h;
            entailmentPair(r, label, p, h);
            return Row{join(p), join(h), label};
        },
        [](int i, const Row &row) {
            return std::to_string(i) + '\t' + row.a + '\t' + row.b + '\t' +
                   (row.label ? "entailment" : "not_entailment");
        });
}

} // namespace tl::demo
