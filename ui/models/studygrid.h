#pragma once

// A study's Table 2 and transfer matrix against a lab, as the study view shows them: each
// cell's text ("mean ± std (n=…)", from the report) and the planned runs it still waits for.
// Built from buildStudyReport() off the UI thread; no widgets.

#include <QList>
#include <QString>
#include <QStringList>

#include "study/study.h"

namespace tl::ui {

struct StudyGridCell
{
    QString text;
    QString toolTip;
    QStringList missing; ///< keys of the planned runs behind this cell that are not finished in the lab
    bool complete() const { return missing.isEmpty(); }
};

struct StudyGridRun
{
    QString key;
    QStringList dependsOn;
    PlanStatus status = PlanStatus::Todo;
};

struct StudyGrid
{
    QString studyPath, db;
    QString error; ///< the study file or the lab could not be read: nothing else is set
    QString name, criterion;
    QStringList columns;                  ///< Task, Metric, Full model, Ticket, Strict, IMP, then the baselines
    QList<QList<StudyGridCell>> rows;     ///< one per task, a cell per column
    QStringList sources, targets;         ///< the transfer matrix's rows and columns (empty: no transfer)
    QList<QList<StudyGridCell>> transfer; ///< [source][target]; source == target: a dash
    QList<StudyGridRun> plan;             ///< every planned run, dependencies first
    /// The thread count the study's runs in the lab were found with (0: the study's own). Part of
    /// each run's identity, so new runs use it too.
    int threads = 0;
    bool foundRuns = false;        ///< some of the plan's runs are finished in the lab
    bool studySetsThreads = false; ///< the study file sets threads

    int doneCount() const;
    /// --threads for the study's missing runs when `parallel` run at once: the lab's, else the
    /// study's own (0), else the cores split between the runs (as `study run --jobs`).
    int threadsForNewRuns(int parallel) const;
};

/// Reads the study file and the lab (read-only). Errors land in StudyGrid::error.
StudyGrid loadStudyGrid(const QString &studyPath, const QString &dbPath);

} // namespace tl::ui
