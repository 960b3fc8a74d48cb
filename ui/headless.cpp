#include "headless.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QTextStream>

#include <cstdio>
#include <exception>

#include "plots/qcp.h"

#include "plots/figure.h"
#include "store/experiment_store.h"

namespace tl::ui {

namespace {

void errorLine(const QString &s) { std::fprintf(stderr, "ticketlab export-figure: %s\n", qPrintable(s)); }

} // namespace

int runExportFigure(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Writes figures of an experiment database as PDF, SVG or PNG (with the plotted numbers as CSV "
                       "beside, and a LaTeX table for tables), without a display.\n\nFigures: ")
        + figureNames().join(QStringLiteral(", ")) + QStringLiteral(", or all (with --out-dir)."));
    parser.addHelpOption();
    const QCommandLineOption db(QStringLiteral("db"), QStringLiteral("Experiment database."), QStringLiteral("FILE"));
    const QCommandLineOption figure(QStringLiteral("figure"), QStringLiteral("Figure name, or all."), QStringLiteral("NAME"));
    const QCommandLineOption runs(QStringLiteral("runs"), QStringLiteral("Run ids, comma-separated (default: chosen per figure)."),
                                  QStringLiteral("IDS"));
    const QCommandLineOption round(QStringLiteral("round"), QStringLiteral("Round (default: each run's last)."),
                                   QStringLiteral("K"));
    const QCommandLineOption threshold(QStringLiteral("threshold"),
                                       QStringLiteral("Head survival: alive above this fraction (default 0.5)."),
                                       QStringLiteral("F"), QStringLiteral("0.5"));
    const QCommandLineOption matrix(QStringLiteral("matrix"), QStringLiteral("sparsity-rounds: Q, K, V, AttnOut, FFN-in, FFN-out."),
                                    QStringLiteral("TYPE"), QStringLiteral("Q"));
    const QCommandLineOption metric(QStringLiteral("metric"), QStringLiteral("Dev metric (default main)."),
                                    QStringLiteral("NAME"), QStringLiteral("main"));
    const QCommandLineOption out(QStringLiteral("out"), QStringLiteral("Output file: .pdf, .svg or .png."), QStringLiteral("FILE"));
    const QCommandLineOption outDir(QStringLiteral("out-dir"),
                                    QStringLiteral("Output folder: every requested figure in each --format."),
                                    QStringLiteral("DIR"));
    const QCommandLineOption formats(QStringLiteral("format"), QStringLiteral("With --out-dir: pdf,svg,png (default all)."),
                                     QStringLiteral("LIST"), QStringLiteral("pdf,svg,png"));
    const QCommandLineOption dpi(QStringLiteral("dpi"), QStringLiteral("PNG resolution (default 300)."), QStringLiteral("N"),
                                 QStringLiteral("300"));
    const QCommandLineOption size(QStringLiteral("size"), QStringLiteral("Figure size in pixels at 96 dpi (default 720x480)."),
                                  QStringLiteral("WxH"));
    parser.addOptions({db, figure, runs, round, threshold, matrix, metric, out, outDir, formats, dpi, size});
    if (!parser.parse(QStringList{QStringLiteral("ticketlab export-figure")} + arguments)) {
        errorLine(parser.errorText());
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        return 0;
    }
    if (!parser.isSet(db) || !parser.isSet(figure) || parser.isSet(out) == parser.isSet(outDir)) {
        errorLine(QStringLiteral("needs --db, --figure and one of --out or --out-dir (see --help)"));
        return 2;
    }
    FigureRequest request;
    request.db = parser.value(db);
    bool ok = true;
    for (const QString &id : parser.value(runs).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        request.runs << id.trimmed().toLongLong(&ok);
        if (!ok) {
            errorLine(QStringLiteral("--runs: '%1' is not a run id").arg(id));
            return 2;
        }
    }
    if (parser.isSet(round)) {
        request.round = parser.value(round).toInt(&ok);
        if (!ok || request.round < 0) {
            errorLine(QStringLiteral("--round: '%1' is not a round (0, 1, ...)").arg(parser.value(round)));
            return 2;
        }
    }
    request.headThreshold = parser.value(threshold).toDouble(&ok);
    if (!ok || request.headThreshold < 0 || request.headThreshold >= 1) {
        errorLine(QStringLiteral("--threshold: '%1' is not a fraction in [0, 1)").arg(parser.value(threshold)));
        return 2;
    }
    request.matrixType = parser.value(matrix);
    request.metric = parser.value(metric);
    const int dpiValue = parser.value(dpi).toInt(&ok);
    if (!ok || dpiValue < 24 || dpiValue > 2400) {
        errorLine(QStringLiteral("--dpi: '%1' is not in 24..2400").arg(parser.value(dpi)));
        return 2;
    }
    int width = kFigureWidth, height = kFigureHeight;
    if (parser.isSet(size)) {
        const QStringList wh = parser.value(size).split(QLatin1Char('x'));
        bool okw = false, okh = false;
        if (wh.size() == 2) {
            width = wh[0].toInt(&okw);
            height = wh[1].toInt(&okh);
        }
        if (!okw || !okh || width < 100 || height < 100 || width > 10000 || height > 10000) {
            errorLine(QStringLiteral("--size: '%1' is not WxH in pixels (100..10000)").arg(parser.value(size)));
            return 2;
        }
    }

    QStringList names;
    const QString name = parser.value(figure);
    if (name == QLatin1String("all")) {
        if (!parser.isSet(outDir)) {
            errorLine(QStringLiteral("--figure all needs --out-dir"));
            return 2;
        }
        names = figureNames();
    } else if (!figureNames().contains(name)) {
        errorLine(QStringLiteral("--figure: unknown figure '%1' (%2, all)").arg(name, figureNames().join(QStringLiteral(", "))));
        return 2;
    } else {
        names << name;
    }
    // Every input is checked before anything is created: a bad --format or database leaves no
    // output folder behind, and a database error is reported once, not once per figure.
    QStringList suffixes;
    if (parser.isSet(outDir)) {
        for (const QString &s : parser.value(formats).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const QString f = s.trimmed().toLower();
            if (f != QLatin1String("pdf") && f != QLatin1String("svg") && f != QLatin1String("png")) {
                errorLine(QStringLiteral("--format: unknown format '%1' (pdf, svg, png)").arg(s));
                return 2;
            }
            suffixes << f;
        }
        if (suffixes.isEmpty()) {
            errorLine(QStringLiteral("--format: no format given (pdf, svg, png)"));
            return 2;
        }
    }
    if (!QFileInfo(request.db).isFile()) {
        errorLine(request.db + QStringLiteral(": no such experiment database"));
        return 1;
    }
    try {
        ExperimentStore::open(request.db.toStdString()); // refuses non-SQLite and newer files, writing nothing
    } catch (const std::exception &e) {
        errorLine(QString::fromUtf8(e.what()));
        return 1;
    }
    if (parser.isSet(outDir) && !QDir().mkpath(parser.value(outDir))) {
        errorLine(parser.value(outDir) + QStringLiteral(": cannot create the folder"));
        return 1;
    }

    QTextStream stdoutStream(stdout);
    int failures = 0;
    QCustomPlot plot;
    plot.resize(width, height);
    for (const QString &n : names) {
        Figure fig;
        try {
            fig = buildFigure(n, request);
        } catch (const std::exception &e) {
            errorLine(n + QStringLiteral(": ") + QString::fromUtf8(e.what()));
            ++failures;
            continue;
        }
        drawFigure(&plot, fig);
        plot.replot();
        QStringList files;
        if (parser.isSet(out))
            files << parser.value(out);
        for (const QString &s : suffixes)
            files << QDir(parser.value(outDir)).filePath(n + QLatin1Char('.') + s);
        for (const QString &file : files) {
            QString error;
            if (!exportFigure(&plot, fig, file, dpiValue, &error)) {
                errorLine(error);
                ++failures;
            } else {
                stdoutStream << file << (fig.heatmaps.empty() && fig.lines.empty() ? QStringLiteral(" (empty: ") + fig.note + QLatin1Char(')') : QString())
                             << '\n';
            }
        }
        stdoutStream.flush();
    }
    return failures ? 1 : 0;
}

} // namespace tl::ui
