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

void errorLine(const QString &s)
{
    std::fprintf(stderr, "ticketlab export-figure: %s\n", qPrintable(s));
}

/// export-figure's command line.
struct ExportFigureCli
{
    QCommandLineParser parser;
    const QCommandLineOption db{QStringLiteral("db"), QStringLiteral("Experiment database."), QStringLiteral("FILE")};
    const QCommandLineOption figure{QStringLiteral("figure"), QStringLiteral("Figure name, or all."),
                                    QStringLiteral("NAME")};
    const QCommandLineOption runs{QStringLiteral("runs"),
                                  QStringLiteral("Run ids, comma-separated (default: chosen per figure)."),
                                  QStringLiteral("IDS")};
    const QCommandLineOption round{QStringLiteral("round"), QStringLiteral("Round (default: each run's last)."),
                                   QStringLiteral("K")};
    const QCommandLineOption threshold{QStringLiteral("threshold"),
                                       QStringLiteral("Head survival: alive above this fraction (default 0.5)."),
                                       QStringLiteral("F"), QStringLiteral("0.5")};
    const QCommandLineOption matrix{
        QStringLiteral("matrix"),
        QStringLiteral("sparsity-rounds and weight-histogram: Q, K, V, AttnOut, FFN-in, FFN-out."),
        QStringLiteral("TYPE"), QStringLiteral("Q")};
    const QCommandLineOption metric{QStringLiteral("metric"), QStringLiteral("Dev metric (default main)."),
                                    QStringLiteral("NAME"), QStringLiteral("main")};
    const QCommandLineOption analysis{QStringLiteral("analysis"),
                                      QStringLiteral("sensitivity: the stored scan's id (default: the newest, of the "
                                                     "first run's task when --runs is given)."),
                                      QStringLiteral("ID")};
    const QCommandLineOption headMode{
        QStringLiteral("head-mode"),
        QStringLiteral("head-survival: fraction, relative, importance or structure (default fraction)."),
        QStringLiteral("MODE"), QStringLiteral("fraction")};
    const QCommandLineOption xAxis{QStringLiteral("x-axis"),
                                   QStringLiteral("metric-vs-sparsity: weights or heads (default weights)."),
                                   QStringLiteral("AXIS"), QStringLiteral("weights")};
    const QCommandLineOption criterion{
        QStringLiteral("criterion"),
        QStringLiteral("metric-vs-sparsity: the winning ticket's criterion, within_std or match (default within_std)."),
        QStringLiteral("NAME"), QStringLiteral("within_std")};
    const QCommandLineOption out{QStringLiteral("out"), QStringLiteral("Output file: .pdf, .svg or .png."),
                                 QStringLiteral("FILE")};
    const QCommandLineOption outDir{QStringLiteral("out-dir"),
                                    QStringLiteral("Output folder: every requested figure in each --format."),
                                    QStringLiteral("DIR")};
    const QCommandLineOption formats{QStringLiteral("format"),
                                     QStringLiteral("With --out-dir: pdf,svg,png (default all)."),
                                     QStringLiteral("LIST"), QStringLiteral("pdf,svg,png")};
    const QCommandLineOption dpi{QStringLiteral("dpi"), QStringLiteral("PNG resolution (default 300)."),
                                 QStringLiteral("N"), QStringLiteral("300")};
    const QCommandLineOption size{QStringLiteral("size"),
                                  QStringLiteral("Figure size in pixels at 96 dpi (default 720x480)."),
                                  QStringLiteral("WxH")};

    ExportFigureCli()
    {
        parser.setApplicationDescription(
            QStringLiteral("Writes figures of an experiment database as PDF, SVG or PNG (with the plotted numbers as "
                           "CSV beside, and a LaTeX table for tables), without a display.\n\nFigures: ") +
            figureNames().join(QStringLiteral(", ")) + QStringLiteral(", or all (with --out-dir)."));
        parser.addHelpOption();
        parser.addOptions({db, figure, runs, round, threshold, matrix, metric, analysis, headMode, xAxis, criterion,
                           out, outDir, formats, dpi, size});
    }
};

/// What export-figure writes, read from the command line and checked in full before anything
/// is created.
struct ExportFigureJob
{
    FigureRequest request;
    QStringList names;     ///< figures
    bool toFile = false;   ///< --out: one file
    bool toFolder = false; ///< --out-dir: each figure in each format
    QString out, outDir;   ///< the file or the folder
    QStringList suffixes;  ///< formats, with --out-dir
    int dpi = 300, width = kFigureWidth, height = kFigureHeight;
};

/// The figure request (runs, round, threshold, matrix, metric); an error message or empty.
QString readRequest(const ExportFigureCli &cli, FigureRequest &request)
{
    const QCommandLineParser &parser = cli.parser;
    request.db = parser.value(cli.db);
    bool ok = true;
    for (const QString &id : parser.value(cli.runs).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        request.runs << id.trimmed().toLongLong(&ok);
        if (!ok)
            return QStringLiteral("--runs: '%1' is not a run id").arg(id);
    }
    if (parser.isSet(cli.round)) {
        request.round = parser.value(cli.round).toInt(&ok);
        if (!ok || request.round < 0)
            return QStringLiteral("--round: '%1' is not a round (0, 1, ...)").arg(parser.value(cli.round));
    }
    request.headThreshold = parser.value(cli.threshold).toDouble(&ok);
    if (!ok || request.headThreshold < 0 || request.headThreshold >= 1)
        return QStringLiteral("--threshold: '%1' is not a fraction in [0, 1)").arg(parser.value(cli.threshold));
    request.matrixType = parser.value(cli.matrix);
    request.metric = parser.value(cli.metric);
    request.headMode = parser.value(cli.headMode);
    if (!headModes().contains(request.headMode))
        return QStringLiteral("--head-mode: '%1' is not one of %2")
            .arg(request.headMode, headModes().join(QStringLiteral(", ")));
    request.xAxis = parser.value(cli.xAxis);
    if (!xAxes().contains(request.xAxis))
        return QStringLiteral("--x-axis: '%1' is not one of %2").arg(request.xAxis, xAxes().join(QStringLiteral(", ")));
    request.criterion = parser.value(cli.criterion);
    if (!ticketCriterionNames().contains(request.criterion))
        return QStringLiteral("--criterion: '%1' is not one of %2")
            .arg(request.criterion, ticketCriterionNames().join(QStringLiteral(", ")));
    if (parser.isSet(cli.analysis)) {
        request.analysis = parser.value(cli.analysis).toLongLong(&ok);
        if (!ok || request.analysis < 1)
            return QStringLiteral("--analysis: '%1' is not an analysis id").arg(parser.value(cli.analysis));
    }
    return {};
}

/// --dpi and --size; an error message or empty.
QString readImageSize(const ExportFigureCli &cli, ExportFigureJob &job)
{
    const QCommandLineParser &parser = cli.parser;
    bool ok = true;
    job.dpi = parser.value(cli.dpi).toInt(&ok);
    if (!ok || job.dpi < 24 || job.dpi > 2400)
        return QStringLiteral("--dpi: '%1' is not in 24..2400").arg(parser.value(cli.dpi));
    if (parser.isSet(cli.size)) {
        const QStringList wh = parser.value(cli.size).split(QLatin1Char('x'));
        bool okw = false, okh = false;
        if (wh.size() == 2) {
            job.width = wh[0].toInt(&okw);
            job.height = wh[1].toInt(&okh);
        }
        if (!okw || !okh || job.width < 100 || job.height < 100 || job.width > 10000 || job.height > 10000)
            return QStringLiteral("--size: '%1' is not WxH in pixels (100..10000)").arg(parser.value(cli.size));
    }
    return {};
}

/// --figure (a name, or all with --out-dir) and the outputs; an error message or empty.
QString readOutputs(const ExportFigureCli &cli, ExportFigureJob &job)
{
    const QCommandLineParser &parser = cli.parser;
    const QString name = parser.value(cli.figure);
    if (name == QLatin1String("all")) {
        if (!parser.isSet(cli.outDir))
            return QStringLiteral("--figure all needs --out-dir");
        job.names = figureNames();
    } else if (!figureNames().contains(name)) {
        return QStringLiteral("--figure: unknown figure '%1' (%2, all)")
            .arg(name, figureNames().join(QStringLiteral(", ")));
    } else {
        job.names << name;
    }
    job.toFile = parser.isSet(cli.out);
    job.out = parser.value(cli.out);
    job.toFolder = parser.isSet(cli.outDir);
    if (!job.toFolder)
        return {};
    job.outDir = parser.value(cli.outDir);
    for (const QString &s : parser.value(cli.formats).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QString f = s.trimmed().toLower();
        if (f != QLatin1String("pdf") && f != QLatin1String("svg") && f != QLatin1String("png"))
            return QStringLiteral("--format: unknown format '%1' (pdf, svg, png)").arg(s);
        job.suffixes << f;
    }
    if (job.suffixes.isEmpty())
        return QStringLiteral("--format: no format given (pdf, svg, png)");
    return {};
}

/// Checks the database (refusing non-SQLite and newer files, writing nothing) and creates the
/// output folder; an error message or empty.
QString prepareOutputs(const ExportFigureJob &job)
{
    if (!QFileInfo(job.request.db).isFile())
        return job.request.db + QStringLiteral(": no such experiment database");
    try {
        ExperimentStore::open(job.request.db.toStdString());
    } catch (const std::exception &e) {
        return QString::fromUtf8(e.what());
    }
    if (job.toFolder && !QDir().mkpath(job.outDir))
        return job.outDir + QStringLiteral(": cannot create the folder");
    return {};
}

/// Builds, draws and writes every figure; the number of failures.
int writeFigures(const ExportFigureJob &job)
{
    QTextStream stdoutStream(stdout);
    int failures = 0;
    QCustomPlot plot;
    plot.resize(job.width, job.height);
    for (const QString &n : job.names) {
        Figure fig;
        try {
            fig = buildFigure(n, job.request);
        } catch (const std::exception &e) {
            errorLine(n + QStringLiteral(": ") + QString::fromUtf8(e.what()));
            ++failures;
            continue;
        }
        drawFigure(&plot, fig);
        plot.replot();
        QStringList files;
        if (job.toFile)
            files << job.out;
        for (const QString &s : job.suffixes)
            files << QDir(job.outDir).filePath(n + QLatin1Char('.') + s);
        for (const QString &file : files) {
            QString error;
            if (!exportFigure(&plot, fig, file, job.dpi, &error)) {
                errorLine(error);
                ++failures;
            } else {
                stdoutStream << file
                             << (fig.heatmaps.empty() && fig.lines.empty()
                                     ? QStringLiteral(" (empty: ") + fig.note + QLatin1Char(')')
                                     : QString())
                             << '\n';
            }
        }
        stdoutStream.flush();
    }
    return failures;
}

} // namespace

int runExportFigure(const QStringList &arguments)
{
    ExportFigureCli cli;
    QCommandLineParser &parser = cli.parser;
    if (!parser.parse(QStringList{QStringLiteral("ticketlab export-figure")} + arguments)) {
        errorLine(parser.errorText());
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        return 0;
    }
    if (!parser.isSet(cli.db) || !parser.isSet(cli.figure) || parser.isSet(cli.out) == parser.isSet(cli.outDir)) {
        errorLine(QStringLiteral("needs --db, --figure and one of --out or --out-dir (see --help)"));
        return 2;
    }
    // Every input is checked before anything is created: a bad --format or database leaves no
    // output folder behind, and a database error is reported once, not once per figure.
    ExportFigureJob job;
    QString error = readRequest(cli, job.request);
    if (error.isEmpty())
        error = readImageSize(cli, job);
    if (error.isEmpty())
        error = readOutputs(cli, job);
    if (!error.isEmpty()) {
        errorLine(error);
        return 2;
    }
    error = prepareOutputs(job);
    if (!error.isEmpty()) {
        errorLine(error);
        return 1;
    }
    return writeFigures(job) ? 1 : 0;
}

} // namespace tl::ui
