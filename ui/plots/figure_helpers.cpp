// Helpers shared by the figure builders.

#include <algorithm>
#include <cmath>
#include <map>

#include "analysis/analysis.h"
#include "analysis/tickets.h"
#include "plots/figures_p.h"
#include "util/csv.h"
#include "util/error.h"

namespace tl::ui::fig {

QString runLabel(const RunRecord &run)
{
    return QString::fromStdString(tl::runLabel(run));
}

QString maskTitle(const RunRecord &run, int round, const MaskSet &mask)
{
    return fig::runLabel(run) +
           QStringLiteral(", round %1 (%2% pruned)").arg(round).arg(100.0 * mask.sparsity(), 0, 'f', 1);
}

std::vector<RunRecord> masksRuns(const ExperimentStore &store, const FigureRequest &request, int fallbackCount)
{
    std::vector<RunRecord> out;
    if (!request.runs.isEmpty()) {
        for (qint64 id : request.runs)
            out.push_back(store.requireRun(id));
        return out;
    }
    // Every kind with masks takes its turn (IMP first, then the kinds in the order of their
    // newest run), finished runs before unfinished ones, newest first within a kind.
    std::vector<RunKind> kinds = {RunKind::Imp};
    std::map<RunKind, std::vector<RunRecord>> byKind;
    for (int pass = 0; pass < 2; ++pass)
        for (const RunRecord &run : store.runs()) { // newest first
            if ((run.status == "done") != (pass == 0) || storedMaskRounds(store, run.id) <= 0)
                continue;
            if (std::find(kinds.begin(), kinds.end(), run.kind) == kinds.end())
                kinds.push_back(run.kind);
            byKind[run.kind].push_back(run);
        }
    for (size_t i = 0; int(out.size()) < fallbackCount; ++i) {
        bool any = false;
        for (RunKind kind : kinds) {
            const auto &runs = byKind[kind];
            if (i < runs.size() && int(out.size()) < fallbackCount) {
                out.push_back(runs[i]);
                any = true;
            }
        }
        if (!any)
            break;
    }
    return out;
}

int roundFor(const ExperimentStore &store, const RunRecord &run, int requested)
{
    const int last = storedMaskRounds(store, run.id);
    if (last < 0)
        throw Error(store.path() + ": run " + std::to_string(run.id) + " has no stored masks");
    if (requested < 0)
        return last;
    if (requested > last)
        throw Error("run " + std::to_string(run.id) + " has rounds 0.." + std::to_string(last) + ", not " +
                    std::to_string(requested));
    return requested;
}

QString csvRow(const QStringList &fields)
{
    std::vector<std::string> row;
    for (const QString &f : fields)
        row.push_back(f.toStdString());
    return QString::fromStdString(tl::csvRow(row));
}

QString csvNumber(double v)
{
    return std::isnan(v) ? QString() : QString::number(v, 'g', 10);
}

QString latexText(const QString &s)
{
    QString out;
    for (QChar c : s) {
        switch (c.unicode()) {
        case '\\':
            out += QLatin1String("\\textbackslash{}");
            break;
        case '&':
        case '%':
        case '$':
        case '#':
        case '_':
        case '{':
        case '}':
            out += QLatin1Char('\\');
            out += c;
            break;
        case '~':
            out += QLatin1String("\\textasciitilde{}");
            break;
        case '^':
            out += QLatin1String("\\textasciicircum{}");
            break;
        default:
            out += c;
        }
    }
    return out;
}

} // namespace tl::ui::fig
